//! The REST layer: its routes with their OpenAPI document (utoipa), and the guard in front of
//! them — a bounded body, the API key (cookies are dropped, so there is no CSRF to check), the
//! key's rate limit, and the request's context for the handlers (the same context a server
//! function runs in, with the key's user as the signed-in user).

mod catalog;
mod customers;
mod people;
pub mod problem;

use self::problem::{Problem, ProblemDetails};
use crate::{
    error::AppError,
    server::{
        api_keys::{authenticate, ApiCaller, Refusal},
        state::AppState,
    },
};
use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, Request, State},
    http::{header, HeaderValue},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use leptos::prelude::provide_context;
use leptos::reactive::{computed::ScopedFuture, owner::Owner};
use std::sync::Arc;
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The largest request body the REST API accepts (a bulk request of 1,000 ids fits easily).
pub const REST_BODY_LIMIT: usize = 256 * 1024;

/// A JSON body; one that cannot be read is a 400 problem.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct ApiJson<T>(pub T);

/// Path parameters; one that cannot be read is a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct ApiPath<T>(pub T);

/// Query parameters; one that cannot be read is a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct ApiQuery<T>(pub T);

/// Integers as JSON Schema counts them: `5` and `5.0` alike (generators and some languages
/// send the latter), nothing with a fraction, nothing out of range.
pub mod int {
    use serde::{de::Error, Deserialize, Deserializer};

    fn whole<'de, D: Deserializer<'de>>(value: serde_json::Value) -> Result<i64, D::Error> {
        match value {
            serde_json::Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64).map(|f| f as i64))
                .ok_or_else(|| D::Error::custom(format!("expected a whole number, found {n}"))),
            other => Err(D::Error::custom(format!("expected a whole number, found {other}"))),
        }
    }

    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        whole::<D>(serde_json::Value::deserialize(d)?)
    }

    pub fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        let n = whole::<D>(serde_json::Value::deserialize(d)?)?;
        i32::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range")))
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<serde_json::Value>::deserialize(d)? {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => whole::<D>(v).map(Some),
        }
    }

    pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        Vec::<serde_json::Value>::deserialize(d)?.into_iter().map(whole::<D>).collect()
    }
}

/// The page sizes a list offers, as the schema of its `limit`.
pub fn page_sizes() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(crate::ui::PAGE_SIZES))
        .description(Some("Rows per page: 10, 25, 50 or 100 (default 25)."))
        .build()
}

/// The error answers every operation may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// The body or a parameter could not be read.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(ProblemDetails),
    /// No API key, or one that is revoked, expired or whose creator is disabled or removed.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(ProblemDetails),
    /// The key lacks the permission (or the plan has no room).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemDetails),
    /// Not in the key's account or company.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(ProblemDetails),
    /// The version sent is not the current one, or a request the rules refuse.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(ProblemDetails),
    /// The body is over the limit.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemDetails),
    /// Fields that break a rule; `errors` names each.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(ProblemDetails),
    /// The key's requests for this minute are used up; see `Retry-After`.
    #[response(status = 429, content_type = "application/problem+json")]
    TooMany(ProblemDetails),
}

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from the API page: `Authorization: Bearer roster_…`"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Roster API", version = "1.0.0",
         description = "Customers, their groups and users, customer types, companies, staff users and invitations, \
                        and the audit log of one Roster account. \
                        Every request carries an API key; it acts for the person who made it, within the key's \
                        company and permissions. Errors are problem details (RFC 9457)."),
    servers((url = "/api/v1")),
    modifiers(&BearerKey),
    components(schemas(ProblemDetails, problem::FieldProblem)),
    security(("api_key" = [])),
    tags((name = "Customers"), (name = "Customer groups"), (name = "Customer users"), (name = "Customer types"),
         (name = "Companies"), (name = "Users"), (name = "Audit log"))
)]
struct ApiDoc;

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update, customers::delete))
        .routes(routes!(customers::bulk_delete))
        .routes(routes!(catalog::customer_types))
        .routes(routes!(catalog::companies))
        .routes(routes!(catalog::audit_events))
        .routes(routes!(people::list_groups, people::create_group))
        .routes(routes!(people::rename_group, people::delete_group))
        .routes(routes!(people::set_membership))
        .routes(routes!(people::list_customer_users, people::add_customer_user))
        .routes(routes!(people::disable_customer_user))
        .routes(routes!(people::enable_customer_user))
        .routes(routes!(people::delete_customer_user))
        .routes(routes!(people::list_users))
        .routes(routes!(people::get_user))
        .routes(routes!(people::disable_user))
        .routes(routes!(people::enable_user))
        .routes(routes!(people::invite))
        .routes(routes!(people::revoke_invitation))
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The operations of the document, in the order of its paths, for the API page.
pub fn operations() -> Vec<super::Operation> {
    let doc = openapi();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, op) in methods {
            if let Some(op) = op {
                out.push(super::Operation {
                    method: method.to_owned(),
                    path: format!("{}{path}", super::BASE_PATH),
                    summary: op.summary.clone().unwrap_or_default(),
                    description: op.description.clone().unwrap_or_default(),
                });
            }
        }
    }
    out
}

/// `/api/v1`: the operations behind the guard, and the document itself (open to all: it holds
/// nothing of any account).
pub fn router(state: &AppState) -> Router<AppState> {
    let (routes, doc) = api().split_for_parts();
    let doc = Arc::new(doc.to_json().unwrap_or_default());
    let spec = get(move || {
        let doc = doc.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned()) }
    });
    Router::new()
        .route(&format!("{}/openapi.json", super::BASE_PATH), spec)
        .nest(super::BASE_PATH, routes.fallback(not_found).layer(middleware::from_fn_with_state(state.clone(), guard)))
}

async fn not_found() -> Problem {
    Problem(AppError::NotFound)
}

/// In front of every operation: body limit, API key, rate limit, context.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > REST_BODY_LIMIT) {
        return in_request(&req, Problem(AppError::TooLarge));
    }
    // PostgreSQL text cannot hold NUL: refuse it in the address before anything reads it (in
    // a body, every text field is checked by its rule, which refuses control characters).
    if has_nul(req.uri().path()) || req.uri().query().is_some_and(has_nul) {
        return in_request(&req, Problem(AppError::BadRequest("text may not contain NUL characters".into())));
    }
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let user = match authenticate(&state, authorization.as_deref()).await {
        Ok(user) => user,
        Err(Refusal::Unauthenticated) => return in_request(&req, Problem(AppError::Unauthenticated)),
        Err(Refusal::TooMany { retry_after_seconds }) => {
            let message = format!("This key made too many requests. Try again in {retry_after_seconds} seconds.");
            let mut res = in_request(&req, Problem(AppError::TooMany(message)));
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return res;
        }
        Err(Refusal::Failed(error)) => return in_request(&req, Problem(error)),
    };
    let (mut parts, body) = req.into_parts();
    // A browser's cookies never reach the API: the key alone says who is asking.
    parts.headers.remove(header::COOKIE);
    let Ok(bytes) = axum::body::to_bytes(body, REST_BODY_LIMIT).await else {
        return in_parts(parts, Problem(AppError::TooLarge));
    };
    let context = parts.clone();
    let req = Request::from_parts(parts, Body::from(bytes));
    let owner = Owner::new();
    owner
        .with(|| {
            ScopedFuture::new(async move {
                provide_context(state.clone());
                provide_context(context);
                provide_context(ApiCaller(user));
                next.run(req).await
            })
        })
        .await
}

fn has_nul(text: &str) -> bool {
    text.contains('\0') || text.to_ascii_lowercase().contains("%00")
}

/// A problem answered before the handler, with the request's id.
fn in_request(req: &Request, problem: Problem) -> Response {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.extensions = req.extensions().clone();
    in_parts(parts, problem)
}

fn in_parts(parts: axum::http::request::Parts, problem: Problem) -> Response {
    let owner = Owner::new();
    owner.with(|| {
        provide_context(parts);
        problem.into_response()
    })
}
