/// The fewest characters a password may have (SPEC 1.7).
pub const PASSWORD_MIN_CHARS: usize = 12;
/// The most characters a password may have; far above the 64 the policy promises, low enough
/// to keep hashing cost bounded.
pub const PASSWORD_MAX_CHARS: usize = 128;
