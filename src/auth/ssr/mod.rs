//! Server-only half of accounts and sessions.

pub mod accounts;
pub mod addresses;
pub mod passwords;
pub mod sessions;
pub mod throttle;
