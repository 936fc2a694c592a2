//! Webhooks (issue 12): the events an account's endpoints may subscribe to, and, on the server,
//! the deliveries written in the change's own transaction (from the audit row, so every change
//! that is audited can be an event) and sent by the worker, signed with HMAC-SHA256, retried
//! with back-off, to targets checked when they are resolved.

#[cfg(feature = "ssr")]
pub mod ssr;

use serde::{Deserialize, Serialize};

macro_rules! events {
    ($($variant:ident = $key:literal, $label:literal;)*) => {
        /// What an endpoint can be told about. The key is the event's `type`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Event { $($variant,)* }

        impl Event {
            pub const ALL: [Event; [$(Event::$variant,)*].len()] = [$(Event::$variant,)*];

            pub fn key(self) -> &'static str {
                match self { $(Event::$variant => $key,)* }
            }

            pub fn label(self) -> &'static str {
                match self { $(Event::$variant => $label,)* }
            }
        }
    };
}

events! {
    CustomerCreated = "customer.created", "Customer created";
    CustomerUpdated = "customer.updated", "Customer updated";
    CustomerDeleted = "customer.deleted", "Customer deleted";
    CustomerUserCreated = "customer_user.created", "Customer user created";
    CustomerUserActivated = "customer_user.activated", "Customer user activated";
    CustomerUserDisabled = "customer_user.disabled", "Customer user disabled";
    CustomerUserDeleted = "customer_user.deleted", "Customer user deleted";
    UserInvited = "user.invited", "User invited";
    UserInvitationAccepted = "user.invitation_accepted", "Invitation accepted";
    UserDisabled = "user.disabled", "User disabled";
    UserRemoved = "user.removed", "User removed";
}

impl Event {
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.key() == key)
    }
}

/// Whether a target URL may be saved: http or https, a host, no user name or password in it.
/// Where it points is checked again at every delivery, after resolving the host.
pub fn check_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the URL that receives the events.".into());
    }
    if raw.len() > 2000 {
        return Err("Use a URL of at most 2,000 characters.".into());
    }
    let lower = raw.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        rest
    } else {
        return Err("Use an http:// or https:// URL.".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') {
        return Err("Enter a URL with a host name.".into());
    }
    if authority.contains('@') {
        return Err("Leave user names and passwords out of the URL.".into());
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("Remove spaces from the URL.".into());
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_unique_and_read_back() {
        for e in Event::ALL {
            assert_eq!(Event::from_key(e.key()), Some(e));
        }
        let mut keys: Vec<_> = Event::ALL.iter().map(|e| e.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Event::ALL.len());
    }

    #[test]
    fn only_plain_http_and_https_urls_with_a_host_are_saved() {
        assert!(check_url("https://crm.example/hooks/roster").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok(), "where it points is checked at delivery");
        for bad in ["", "ftp://x.example", "file:///etc/passwd", "https://", "https://:80/x", "https://user:pw@x.example/", "https://x .example", "javascript:alert(1)"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
