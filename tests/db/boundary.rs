//! The server-function boundary: cross-site refusal, body limits, typed errors that never carry
//! database text, fast failure when PostgreSQL is away, and the pages' HTTP behaviour.

use crate::support::{TestApp, PASSWORD};
use axum::http::StatusCode;
use roster::error::AppError;
use sqlx::PgPool;

fn sign_up_form(email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("account_name", "Acme".into()),
        ("display_name", "Ada".into()),
        ("email", email.into()),
        ("password", PASSWORD.into()),
        ("password_confirm", PASSWORD.into()),
    ]
}

async fn sign_up_with(client: &mut crate::support::Client<'_>, email: &str) -> crate::support::Response {
    let form = sign_up_form(email);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.call("sign_up", &pairs).await
}

#[sqlx::test]
async fn a_foreign_origin_is_refused_and_nothing_is_written(db: PgPool) {
    let app = TestApp::new(db);
    let mut evil = app.client().with_header("origin", "https://evil.example");
    let res = sign_up_with(&mut evil, "ada@acme.test").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.error(), AppError::CrossSite);

    let mut cross = app.client().with_header("sec-fetch-site", "cross-site");
    assert_eq!(sign_up_with(&mut cross, "ada@acme.test").await.error(), AppError::CrossSite);
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 0);

    let mut own = app.client().with_header("origin", "http://roster.test").with_header("sec-fetch-site", "same-origin");
    assert_eq!(sign_up_with(&mut own, "ada@acme.test").await.status, StatusCode::OK);
}

#[sqlx::test]
async fn an_oversize_body_is_refused_with_a_typed_error(db: PgPool) {
    let app = TestApp::new(db);
    let big_name = "x".repeat(70 * 1024);
    let res = app
        .client()
        .call("sign_up", &[("account_name", &big_name), ("display_name", "Ada"), ("email", "ada@acme.test"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.error(), AppError::TooLarge);
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 0);

    // Under the limit but over the field's length: a field message, not a crash.
    let long = "x".repeat(5000);
    let res = app
        .client()
        .call("sign_up", &[("account_name", &long), ("display_name", "Ada"), ("email", "ada@acme.test"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    assert_eq!(res.error().field_message("account_name").as_deref(), Some("Use at most 100 characters."));
}

#[sqlx::test]
async fn missing_arguments_are_a_bad_request_not_a_crash(db: PgPool) {
    let app = TestApp::new(db);
    let res = app.client().call("sign_in", &[("email", "ada@acme.test")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(matches!(res.error(), AppError::BadRequest(_)));
}

#[sqlx::test]
async fn internal_errors_show_a_request_id_and_no_database_text(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    sqlx::query("ALTER TABLE users RENAME COLUMN region TO region_gone").execute(app.db()).await.unwrap();
    let res = ada.call("profile", &[]).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = res.headers.get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert_eq!(res.error(), AppError::Internal { request_id });
    let text = res.text();
    assert!(!text.contains("region"), "{text}");
    assert!(!text.contains("column"), "{text}");
}

#[sqlx::test]
async fn requests_fail_fast_as_temporarily_unavailable_without_the_database(db: PgPool) {
    let app = TestApp::new(db);
    app.state.db.close().await;
    let started = std::time::Instant::now();
    let res = app.client().sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.error(), AppError::Unavailable);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// The WebAssembly, JavaScript and CSS: revalidated by the browser on every load, resumable, and
/// a missing one is a plain 404 rather than an HTML page that the browser would try to run.
#[sqlx::test]
async fn site_files_are_revalidated_and_a_missing_one_is_never_a_page(db: PgPool) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let site = std::env::temp_dir().join(format!("roster-site-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let wasm = b"\0asm\x01\0\0\0".to_vec();
    std::fs::write(site.join("pkg/roster.wasm"), &wasm).unwrap();
    let root = site.to_str().unwrap().to_owned();
    let app = TestApp::with_config(db, |config| config.site_root = root);

    let file = app.client().get_page("/pkg/roster.wasm").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, wasm);
    assert_eq!(file.headers.get("content-type").unwrap(), "application/wasm");
    assert_eq!(file.headers.get("cache-control").unwrap(), "no-cache", "unhashed names: always revalidate");
    let modified = file.headers.get("last-modified").unwrap().to_str().unwrap().to_owned();

    let unchanged = app.client().with_header("if-modified-since", &modified).get_page("/pkg/roster.wasm").await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());

    let rest = app.client().with_header("range", "bytes=4-").get_page("/pkg/roster.wasm").await;
    assert_eq!(rest.status, StatusCode::PARTIAL_CONTENT, "an interrupted download can resume");
    assert_eq!(rest.body, wasm[4..]);

    let missing = app.client().get_page("/pkg/roster_bg.wasm").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(!missing.text().contains("<!DOCTYPE"), "a missing site file is not the HTML not-found page");
    std::fs::remove_dir_all(&site).unwrap();
}

#[sqlx::test]
async fn pages_redirect_visitors_to_sign_in_and_render_without_javascript(db: PgPool) {
    let app = TestApp::new(db);
    let home = app.client().get_page("/profile").await;
    assert_eq!(home.status, StatusCode::FOUND);
    assert_eq!(home.headers.get("location").unwrap(), "/sign-in?next=/profile");

    let sign_in = app.client().get_page("/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    let html = sign_in.text();
    assert!(html.contains(r#"<label for="field-email""#), "a visible label");
    assert!(html.contains(r#"action="/api/sign_in""#), "a plain form that posts without WebAssembly");
    assert_eq!(sign_in.headers.get("x-frame-options").unwrap(), "DENY");

    let missing = app.client().get_page("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    let page = ada.get_page("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Welcome, Ada"));
    let sign_in_again = ada.get_page("/sign-in").await;
    assert_eq!(sign_in_again.status, StatusCode::FOUND, "signed-in users skip the sign-in page");
}
