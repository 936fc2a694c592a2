//! The whole application on a fresh database, driven over HTTP requests (no socket: the axum
//! router is called directly), with a cookie jar per client and an adjustable clock.

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use roster::{
    error::AppError,
    boot::{leptos_options, router},
    server::{config::Config, state::AppState},
};
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use std::net::SocketAddr;
use tower::ServiceExt;

pub const PASSWORD: &str = "violet-kettle-onward";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
}

impl TestApp {
    pub fn new(db: PgPool) -> Self {
        Self::with_config(db, |_| {})
    }

    pub fn with_config(db: PgPool, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_tests("postgres://unused");
        adjust(&mut config);
        let state = AppState::new(config.clone(), db, leptos_options(&config));
        Self { router: router(state.clone()), state }
    }

    pub fn db(&self) -> &PgPool {
        &self.state.db
    }

    pub fn client(&self) -> Client<'_> {
        self.client_from("203.0.113.10")
    }

    pub fn client_from(&self, ip: &str) -> Client<'_> {
        Client { app: self, cookie: None, ip: format!("{ip}:40000").parse().unwrap(), headers: Vec::new() }
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.state.clock.advance(by);
    }

    /// Signs up a new account, confirms it with the e-mailed link and returns its signed-in
    /// Administrator.
    pub async fn sign_up(&self, business: &str, email: &str) -> Client<'_> {
        let mut client = self.client();
        let res = client
            .call(
                "sign_up",
                &[
                    ("account_name", business),
                    ("display_name", "Ada Admin"),
                    ("email", email),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert!(res.status.is_success(), "sign-up failed: {} {}", res.status, res.text());
        assert!(client.cookie.is_none(), "nobody is signed in before the address is confirmed");
        let token = self.link_token(email, "sign_up_confirmation").await;
        let res = client.call("confirm_email", &[("token", &token)]).await;
        assert!(res.status.is_success(), "confirmation failed: {} {}", res.status, res.text());
        // Its link was opened, so the mail was delivered: it no longer waits in the outbox.
        sqlx::query("UPDATE outbox SET status = 'sent', sent_at = now(), attempts = 1, secret = NULL WHERE kind = 'sign_up_confirmation' AND lower(to_address) = lower($1)")
            .bind(email)
            .execute(self.db())
            .await
            .unwrap();
        client
    }

    /// The token of the newest link of `kind` mailed to `to`, as its recipient reads it.
    pub async fn link_token(&self, to: &str, kind: &str) -> String {
        let link = self.mailed_secret(to, kind).await;
        link.split("token=").nth(1).unwrap_or_else(|| panic!("no token in {link}")).to_owned()
    }

    /// The secret (link or temporary password) of the newest message of `kind` to `to`.
    pub async fn mailed_secret(&self, to: &str, kind: &str) -> String {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT secret FROM outbox WHERE lower(to_address) = lower($1) AND kind = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(to)
        .bind(kind)
        .fetch_one(self.db())
        .await
        .unwrap_or_else(|e| panic!("no {kind} mail to {to}: {e}"))
        .unwrap_or_else(|| panic!("the {kind} mail to {to} carries no secret"))
    }

    /// Calls the REST API at `path` (below `/api/v1`) as an integrator does: JSON, the key as
    /// a bearer token, no cookie.
    pub async fn rest(&self, method: &str, path: &str, key: Option<&str>, body: Option<serde_json::Value>) -> Response {
        let mut headers = vec![("accept", "application/json".to_owned())];
        if let Some(key) = key {
            headers.push(("authorization", format!("Bearer {key}")));
        }
        let body = match body {
            Some(value) => {
                headers.push(("content-type", "application/json".to_owned()));
                serde_json::to_vec(&value).unwrap()
            }
            None => Vec::new(),
        };
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.rest_raw(method, path, &headers, body).await
    }

    /// A REST request with exactly these headers and body bytes.
    pub async fn rest_raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Response {
        let mut request = Request::builder().method(method).uri(format!("/api/v1{path}")).header(header::HOST, "roster.test");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request.body(Body::from(body)).unwrap();
        request.extensions_mut().insert(ConnectInfo::<SocketAddr>("198.51.100.7:40000".parse().unwrap()));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
        Response { status, headers, body }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(self.db()).await.unwrap()
    }
}

pub struct Client<'a> {
    app: &'a TestApp,
    pub cookie: Option<String>,
    ip: SocketAddr,
    headers: Vec<(String, String)>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.text()))
    }

    pub fn error(&self) -> AppError {
        assert!(!self.status.is_success(), "expected an error, got {} {}", self.status, self.text());
        self.json()
    }

    pub fn set_cookie(&self) -> Option<String> {
        self.headers.get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned())
    }
}

impl<'a> Client<'a> {
    /// Adds a header to every later request of this client.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Calls the server function at `/api/{endpoint}` the way the browser does.
    pub async fn call(&mut self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.post_raw(endpoint, body.into_bytes()).await
    }

    pub async fn post_raw(&mut self, endpoint: &str, body: Vec<u8>) -> Response {
        let request = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::HOST, "roster.test");
        let response = self.send(request, Body::from(body)).await;
        for value in response.headers.get_all(header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        response
    }

    /// Sends `request` with this client's cookie, headers and address, and reads the answer.
    async fn send(&self, mut request: axum::http::request::Builder, body: Body) -> Response {
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut request = request.body(body).unwrap();
        request.extensions_mut().insert(ConnectInfo(self.ip));
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
        Response { status, headers, body }
    }

    pub async fn session(&mut self) -> Option<roster::auth::SessionView> {
        let res = self.call("session", &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Response {
        self.call("sign_in", &[("email", email), ("password", password)]).await
    }

    /// Posts a form with one file, `file`, as a browser's upload form sends it.
    pub async fn upload(&mut self, path: &str, file_name: &str, content: &[u8]) -> Response {
        let boundary = "roster-test-boundary-7f3a";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::HOST, "roster.test");
        self.send(request, Body::from(body)).await
    }

    /// Another client with this one's session (the same person in another tab).
    pub fn same_session(&self) -> Client<'a> {
        Client { app: self.app, cookie: self.cookie.clone(), ip: self.ip, headers: self.headers.clone() }
    }

    pub async fn get_page(&mut self, path: &str) -> Response {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut request = request.body(Body::empty()).unwrap();
        request.extensions_mut().insert(ConnectInfo(self.ip));
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
        Response { status, headers, body }
    }
}

/// Inserts a staff user with the built-in role `role_key` into the account, with the test password.
pub async fn add_staff(app: &TestApp, account_id: i64, email: &str, role_key: &str) -> i64 {
    let hash = app
        .state
        .passwords
        .hash(&roster::validation::Password::parse(PASSWORD, None).unwrap())
        .await
        .unwrap();
    sqlx::query_scalar(
        "INSERT INTO users (account_id, kind, email, display_name, company_id, role_id, status, password_hash)
         SELECT $1, 'staff', $2, 'Staff Member', c.id, r.id, 'active', $4
           FROM companies c, roles r
          WHERE c.account_id = $1 AND c.parent_id IS NULL AND r.account_id = $1 AND r.builtin = $3
         RETURNING id",
    )
    .bind(account_id)
    .bind(email)
    .bind(role_key)
    .bind(hash)
    .fetch_one(app.db())
    .await
    .unwrap()
}

pub async fn account_id_of(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT account_id FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(app.db())
        .await
        .unwrap()
}
