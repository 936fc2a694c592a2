//! Single-use links (zero2prod's `store_token`), owned once for every purpose: a password reset,
//! an e-mail confirmation, a staff invitation, a customer user's activation. A link is 256
//! random bits in the URL; only its SHA-256 is stored. Issuing one revokes the holder's earlier
//! open links of that purpose; [`inspect`] says what a link is without using it; [`redeem`]
//! uses it inside the caller's transaction (a rollback gives it back); [`revoke`] ends them.

use serde::{Deserialize, Serialize};

/// What a single-use link turns out to be when opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    Valid,
    Expired,
    Used,
    /// Withdrawn: replaced by a newer link, revoked, or its holder's access ended.
    Revoked,
    Unknown,
}

/// What a link is for: each purpose has its own page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    PasswordReset,
    Confirmation,
    Invitation,
    Activation,
}

impl Purpose {
    /// Stored in `one_time_tokens.purpose`.
    pub fn key(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password_reset",
            Purpose::Confirmation => "email_confirmation",
            Purpose::Invitation => "invitation",
            Purpose::Activation => "activation",
        }
    }

    /// The page the link opens.
    pub fn path(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "/reset-password",
            Purpose::Confirmation => "/confirm-email",
            Purpose::Invitation => "/invitation",
            Purpose::Activation => "/activate",
        }
    }
}

#[cfg(feature = "ssr")]
pub use self::ssr::*;

#[cfg(feature = "ssr")]
mod ssr;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn a_link_is_used_before_revoked_before_expired() {
        let now = Utc::now();
        let later = now + Duration::hours(1);
        let earlier = now - Duration::seconds(1);
        assert_eq!(state_of(None, None, later, now), LinkState::Valid);
        assert_eq!(state_of(None, None, now, now), LinkState::Expired, "the last instant is already past");
        assert_eq!(state_of(None, Some(earlier), later, now), LinkState::Revoked);
        assert_eq!(state_of(Some(earlier), Some(earlier), earlier, now), LinkState::Used);
    }
}
