//! The one error type every server function returns, and how it crosses the wire.
//!
//! What reaches the browser is always one of these variants with a short human message; the
//! cause of an internal error stays in the server log under the request id the user sees.

use serde::{Deserialize, Serialize};
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// A message attached to one form field, by the field's `name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Field-level validation results. Collects every problem so the form can show them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Keeps the value when valid; records the message under `field` when not.
    pub fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; each message belongs to a field.
    #[error("Please correct the highlighted fields.")]
    Validation(FieldErrors),
    /// A request the rules refuse, with a message written for the user (wrong password, a
    /// disabled user, an expired link...).
    #[error("{0}")]
    Refused(String),
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("Change your temporary password before you continue.")]
    PasswordChangeRequired,
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("This was not found. It may have been deleted.")]
    NotFound,
    #[error("This was changed by someone else. Reload to see the latest version.")]
    Conflict,
    #[error("The request was refused because it came from another site.")]
    CrossSite,
    #[error("The request is too large.")]
    TooLarge,
    /// A limit on how often something may be done was reached; the message says when to retry.
    #[error("{0}")]
    TooMany(String),
    /// A change the account's plan has no room for (SPEC 2.2), with the limit and the usage.
    #[error("{0}")]
    PlanLimit(PlanLimit),
    #[error("The request could not be understood: {0}")]
    BadRequest(String),
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
    #[error("Something went wrong on our side. Reference: {request_id}.")]
    Internal { request_id: String },
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::single(field, message))
    }

    /// The message for one field, when this is a validation error that names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Validation(errors) => errors.get(field).map(str::to_owned),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::Validation(_) | Self::BadRequest(_) => S::UNPROCESSABLE_ENTITY,
            Self::Refused(_) => S::BAD_REQUEST,
            Self::Unauthenticated => S::UNAUTHORIZED,
            Self::Forbidden | Self::CrossSite | Self::PasswordChangeRequired | Self::PlanLimit(_) => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::Conflict => S::CONFLICT,
            Self::TooLarge => S::PAYLOAD_TOO_LARGE,
            Self::TooMany(_) => S::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Network => S::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => S::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What a plan limits (SPEC 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    Customers,
    StaffUsers,
    CustomerUsers,
    EmailsPerMonth,
}

impl Limit {
    pub const ALL: [Limit; 4] = [Limit::Customers, Limit::StaffUsers, Limit::CustomerUsers, Limit::EmailsPerMonth];

    /// The name used in the database, the CLI and the API.
    pub fn key(self) -> &'static str {
        match self {
            Limit::Customers => "customers",
            Limit::StaffUsers => "staff_users",
            Limit::CustomerUsers => "customer_users",
            Limit::EmailsPerMonth => "emails_per_month",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.key() == key)
    }

    /// The thing counted, for sentences: "500 customers", "1 staff user".
    pub fn count_of(self, n: i64) -> String {
        let (one, many) = match self {
            Limit::Customers => ("customer", "customers"),
            Limit::StaffUsers => ("staff user", "staff users"),
            Limit::CustomerUsers => ("customer user", "customer users"),
            Limit::EmailsPerMonth => ("e-mail", "e-mails"),
        };
        format!("{n} {}", if n == 1 { one } else { many })
    }

    /// The heading of the limit on the Billing page.
    pub fn label(self) -> &'static str {
        match self {
            Limit::Customers => "Customers",
            Limit::StaffUsers => "Staff users",
            Limit::CustomerUsers => "Customer users",
            Limit::EmailsPerMonth => "E-mails this month",
        }
    }
}

/// A change refused by the plan: `adding` more would pass `allowed` with `used` already taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLimit {
    pub limit: Limit,
    pub allowed: i64,
    pub used: i64,
    pub adding: i64,
}

/// What a customer's portal user reads instead: their provider's plan is none of their business.
pub const PLAN_LIMIT_FOR_PORTAL: &str = "Your provider's plan does not allow more — ask them.";

impl std::fmt::Display for PlanLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let month = if self.limit == Limit::EmailsPerMonth { " a month" } else { "" };
        write!(f, "Your plan allows {}{month}; you have {}.", self.limit.count_of(self.allowed), self.used)?;
        if self.adding > 1 {
            let room = (self.allowed - self.used).max(0);
            write!(f, " {room} of these {} would fit.", self.adding)?;
        }
        Ok(())
    }
}

impl AppError {
    /// The error as a customer's portal user may read it: a plan limit without its numbers.
    pub fn for_portal(self) -> Self {
        match self {
            Self::PlanLimit(_) => Self::Refused(PLAN_LIMIT_FOR_PORTAL.into()),
            other => other,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => Self::Network,
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::Deserialization(message) => Self::BadRequest(message),
            ServerFnErrorErr::Response(_) | ServerFnErrorErr::Serialization(_) => {
                Self::BadRequest("the server's answer could not be read".into())
            }
            // Registration, method and middleware problems, or an unexpected server error:
            // nothing in them is meant for the user.
            other => {
                #[cfg(feature = "ssr")]
                return internal(other);
                #[cfg(not(feature = "ssr"))]
                {
                    let _ = other;
                    Self::Internal { request_id: "unknown".into() }
                }
            }
        }
    }
}

/// The id of the request being served, as the HTTP layer puts it in the request's extensions.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// A short random id for log correlation.
#[cfg(feature = "ssr")]
pub fn new_request_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of the request being served (a fresh one outside any request).
#[cfg(feature = "ssr")]
pub fn current_request_id() -> String {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestId>().map(|id| id.0.clone()))
        .unwrap_or_else(new_request_id)
}

/// Logs `cause` with the request id and returns the opaque error the user sees: the id, never
/// the cause.
#[cfg(feature = "ssr")]
pub fn internal(cause: impl std::fmt::Display) -> AppError {
    let request_id = current_request_id();
    tracing::error!(%request_id, error = %cause, "internal error");
    AppError::Internal { request_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_collect_every_problem() {
        let mut errors = FieldErrors::default();
        let kept: Option<u8> = errors.take("a", Ok(1));
        let lost: Option<u8> = errors.take("b", Err("bad b".into()));
        errors.add("c", "bad c");
        assert_eq!((kept, lost), (Some(1), None));
        assert_eq!(errors.get("b"), Some("bad b"));
        assert_eq!(AppError::Validation(errors).field_message("c").as_deref(), Some("bad c"));
    }

    #[test]
    fn errors_round_trip_through_the_wire_encoding() {
        for error in [
            AppError::field("email", "This e-mail is already used."),
            AppError::Internal { request_id: "r-1".into() },
            AppError::Refused("No.".into()),
        ] {
            let bytes = error.ser();
            assert_eq!(AppError::de(bytes), error);
        }
    }

    #[test]
    fn a_plan_limit_names_the_limit_and_the_usage_for_staff_and_no_numbers_for_the_portal() {
        let full = PlanLimit { limit: Limit::Customers, allowed: 500, used: 500, adding: 1 };
        assert_eq!(AppError::PlanLimit(full.clone()).to_string(), "Your plan allows 500 customers; you have 500.");
        let invite = PlanLimit { limit: Limit::StaffUsers, allowed: 10, used: 8, adding: 5 };
        assert_eq!(invite.to_string(), "Your plan allows 10 staff users; you have 8. 2 of these 5 would fit.");
        let mail = PlanLimit { limit: Limit::EmailsPerMonth, allowed: 1, used: 1, adding: 1 };
        assert_eq!(mail.to_string(), "Your plan allows 1 e-mail a month; you have 1.");
        let portal = AppError::PlanLimit(full).for_portal().to_string();
        assert_eq!(portal, PLAN_LIMIT_FOR_PORTAL);
        assert!(!portal.chars().any(|c| c.is_ascii_digit()));
        for limit in Limit::ALL {
            assert_eq!(Limit::from_key(limit.key()), Some(limit));
        }
    }

    #[test]
    fn internal_errors_show_only_the_reference() {
        let text = AppError::Internal { request_id: "abc123".into() }.to_string();
        assert_eq!(text, "Something went wrong on our side. Reference: abc123.");
    }
}
