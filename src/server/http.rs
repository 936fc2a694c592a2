//! The HTTP layer around the application: request ids and client addresses, the guard in front
//! of server functions (same-origin only, bounded bodies, status codes from typed errors), and
//! security headers.

use super::state::AppState;
use crate::error::AppError;
use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{net::SocketAddr, time::Instant};
use tracing::Instrument;

/// The largest request body a server function accepts.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// The address a request came from, as far as this server can tell.
#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

pub async fn request_context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let request_id = crate::error::new_request_id();
    let client_ip = client_ip(&req, state.config.trust_proxy);
    req.extensions_mut().insert(crate::error::RequestId(request_id.clone()));
    req.extensions_mut().insert(ClientIp(client_ip));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
    );
    let site_file = req.uri().path().split('/').nth(1) == Some(super::SITE_PKG_DIR);
    let started = Instant::now();
    let mut res = next.run(req).instrument(span.clone()).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = res.status();
    span.in_scope(|| {
        if status.is_server_error() || (site_file && status == StatusCode::NOT_FOUND) {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "served");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, "served");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert("x-request-id", value);
    }
    res
}

fn client_ip(req: &Request, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// Guards every server function: refuses cross-site requests and oversize bodies with a typed
/// error, and gives typed errors their proper HTTP status.
pub async fn api_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The REST API (`/api/v1`) has its own guard: API keys, no cookies, its own body limit.
    let path = req.uri().path();
    if !path.starts_with("/api/") || path == "/api/v1" || path.starts_with("/api/v1/") {
        return next.run(req).await;
    }
    if !same_origin(req.headers(), &state.config.public_url()) {
        tracing::warn!(origin = ?req.headers().get(header::ORIGIN), "cross-site server function call refused");
        return error_response(&AppError::CrossSite);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > API_BODY_LIMIT) {
        return error_response(&AppError::TooLarge);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, API_BODY_LIMIT).await else {
        return error_response(&AppError::TooLarge);
    };
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    with_error_status(res).await
}

/// Same-origin requests only: `Sec-Fetch-Site` must not say otherwise, and an `Origin`, when
/// sent, must be the public URL's or the one the request was addressed to.
pub fn same_origin(headers: &HeaderMap, public_url: &url::Url) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if origin == public_url.origin().ascii_serialization() {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (url::Url::parse(origin), host) {
        (Ok(origin), Some(host)) => {
            let authority = match origin.port() {
                Some(port) => format!("{}:{port}", origin.host_str().unwrap_or_default()),
                None => origin.host_str().unwrap_or_default().to_owned(),
            };
            authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

pub fn error_response(error: &AppError) -> Response {
    let body = serde_json::to_vec(error).unwrap_or_default();
    (error.status(), [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Server functions answer every error with 500; read the typed error back and use its status.
async fn with_error_status(res: Response) -> Response {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, API_BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Headers every response carries.
pub fn security_headers() -> [(header::HeaderName, HeaderValue); 4] {
    [
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"),
        ),
    ]
}

/// Whether a site file's name carries the hash cargo-leptos gives it (`roster.<22 characters of
/// base64url MD5>.wasm`): such a file's content never changes under that name.
pub fn is_hashed_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && matches!(parts[parts.len() - 1], "js" | "wasm" | "css")
        && parts[parts.len() - 2].len() == 22
        && parts[parts.len() - 2].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn only_names_with_a_build_hash_count_as_hashed() {
        assert!(is_hashed_name("roster.Ab3_-xYz0123456789abcd.wasm"));
        assert!(is_hashed_name("roster.Ab3_-xYz0123456789abcd.css"));
        // The modules and loader of the split build (`--split`).
        assert!(is_hashed_name("chunk_12.Ayv6zyCplCXx0BBe9RzuDw.wasm"));
        assert!(is_hashed_name("split_public_pages_12367973434629326801.TqDh4mqkUlBKLpD2Dol6lw.wasm"));
        assert!(is_hashed_name("__wasm_split.W2Z0pslqoPV9z08zOQWZGg.js"));
        assert!(!is_hashed_name("roster.wasm"));
        assert!(!is_hashed_name("roster_bg.wasm"));
        assert!(!is_hashed_name("roster.short.js"));
        assert!(!is_hashed_name("roster.Ab3_-xYz0123456789abcd.txt"));
        assert!(!is_hashed_name("roster.Ab3_-xYz0123456789ab!d.js"));
    }

    #[test]
    fn same_origin_accepts_own_origin_and_plain_clients() {
        let public = url::Url::parse("https://roster.example.com").unwrap();
        assert!(same_origin(&headers(&[]), &public));
        assert!(same_origin(&headers(&[("origin", "https://roster.example.com")]), &public));
        assert!(same_origin(
            &headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]),
            &public
        ));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), &public));
    }

    #[test]
    fn same_origin_refuses_foreign_sites() {
        let public = url::Url::parse("http://127.0.0.1:3000").unwrap();
        assert!(!same_origin(&headers(&[("origin", "https://evil.example")]), &public));
        assert!(!same_origin(
            &headers(&[("origin", "http://127.0.0.1:3001"), ("host", "127.0.0.1:3000")]),
            &public
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), &public));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")]), &public));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")]), &public));
    }
}

/// The client address of the request being served (None outside a request, e.g. the CLI).
pub fn request_client_ip() -> Option<String> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientIp>().and_then(|ip| ip.0.clone()))
}

/// After a plain form post (no WebAssembly yet), sends the browser on to `path`. Calls from the
/// running app get the path in the result instead and move on themselves.
pub fn redirect_plain_form(path: &str) {
    let accepts_html = leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if accepts_html {
        leptos_axum::redirect(path);
    }
}
