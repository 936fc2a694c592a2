//! Problem details (RFC 9457): the one shape of every REST error, made from the application's
//! typed error, with the request id and the field errors of a validation failure.

use crate::error::{current_request_id, AppError};
use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A REST error: answered as `application/problem+json`.
#[derive(Debug)]
pub struct Problem(pub AppError);

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        Problem(error)
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Self {
        Problem(AppError::from(error))
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(_) => Problem(AppError::TooLarge),
            other => Problem(AppError::BadRequest(other.body_text())),
        }
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Self {
        Problem(AppError::BadRequest(rejection.body_text()))
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem(AppError::BadRequest(rejection.body_text()))
    }
}

/// One field's problem in a 422 answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The JSON property the message is about.
    #[schema(example = "title")]
    pub field: String,
    #[schema(example = "Enter a title.")]
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:roster:problem:not-found", "title": "Not found", "status": 404,
    "detail": "This was not found. It may have been deleted.", "errors": [], "request_id": "3f9a0c1d2e4b5a69"
}))]
pub struct ProblemDetails {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For 422: each field's message.
    pub errors: Vec<FieldProblem>,
    /// Quote it when asking for help: it finds the server's log lines of the request.
    pub request_id: String,
}

impl Problem {
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            // A body or parameter that could not be read at all: 400, as REST clients expect;
            // readable values that break a rule are 422.
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            // What the rules refuse in the present state (the last Administrator, someone of
            // more authority, an invitation already accepted): a conflict, not a bad request.
            AppError::Refused(_) => StatusCode::CONFLICT,
            other => other.status(),
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match &self.0 {
            AppError::Validation(_) => ("validation", "Invalid fields"),
            AppError::Refused(_) => ("refused", "Refused"),
            AppError::Unauthenticated => ("unauthenticated", "Missing or invalid API key"),
            AppError::PasswordChangeRequired | AppError::Forbidden | AppError::CrossSite => ("forbidden", "Forbidden"),
            AppError::NotFound => ("not-found", "Not found"),
            AppError::Conflict => ("conflict", "Changed by someone else"),
            AppError::TooLarge => ("too-large", "Request too large"),
            AppError::TooMany(_) => ("rate-limited", "Too many requests"),
            AppError::PlanLimit(_) => ("plan-limit", "Plan limit reached"),
            AppError::BadRequest(_) => ("bad-request", "Malformed request"),
            AppError::Unavailable | AppError::Network => ("unavailable", "Service unavailable"),
            AppError::Internal { .. } => ("internal", "Internal error"),
        }
    }

    pub fn details(&self) -> ProblemDetails {
        let (slug, title) = self.slug_and_title();
        let errors = match &self.0 {
            AppError::Validation(errors) => {
                errors.0.iter().map(|e| FieldProblem { field: e.field.clone(), message: e.message.clone() }).collect()
            }
            _ => Vec::new(),
        };
        let request_id = match &self.0 {
            AppError::Internal { request_id } => request_id.clone(),
            _ => current_request_id(),
        };
        ProblemDetails {
            kind: format!("urn:roster:problem:{slug}"),
            title: title.to_owned(),
            status: self.status().as_u16(),
            detail: self.0.to_string(),
            errors,
            request_id,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut res = (status, Json(self.details())).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"roster\""));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldErrors;

    #[test]
    fn problems_carry_status_kind_fields_and_never_the_cause() {
        let p = Problem(AppError::Validation(FieldErrors::single("title", "Enter a title."))).details();
        assert_eq!((p.status, p.kind.as_str()), (422, "urn:roster:problem:validation"));
        assert_eq!(p.errors[0].field, "title");
        assert_eq!(Problem(AppError::BadRequest("expected value at line 1".into())).status(), StatusCode::BAD_REQUEST);
        let internal = Problem(AppError::Internal { request_id: "abc".into() }).details();
        assert_eq!((internal.status, internal.request_id.as_str()), (500, "abc"));
        assert_eq!(internal.detail, "Something went wrong on our side. Reference: abc.");
    }
}
