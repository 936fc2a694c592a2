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
            Self::Forbidden | Self::CrossSite | Self::PasswordChangeRequired => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::Conflict => S::CONFLICT,
            Self::TooLarge => S::PAYLOAD_TOO_LARGE,
            Self::TooMany(_) => S::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Network => S::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => S::INTERNAL_SERVER_ERROR,
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
    fn internal_errors_show_only_the_reference() {
        let text = AppError::Internal { request_id: "abc123".into() }.to_string();
        assert_eq!(text, "Something went wrong on our side. Reference: abc123.");
    }
}
