//! Password reset by e-mailed single-use link.

use crate::support::{TestApp, PASSWORD};
use axum::http::StatusCode;
use chrono::Duration;
use roster::{services::links::LinkState, error::AppError, server::tokens};
use sqlx::PgPool;

/// The link from the newest reset e-mail to `to`.
async fn reset_link(app: &TestApp, to: &str) -> String {
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE to_address = $1 AND kind = 'password_reset' ORDER BY id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_one(app.db())
    .await
    .unwrap();
    let start = body.find("http://roster.test/reset-password?token=").expect("link in the mail");
    body[start..].split_whitespace().next().unwrap().to_owned()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

#[sqlx::test]
async fn forgot_password_answers_the_same_for_known_and_unknown_addresses(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    let known = app.client().call("forgot_password", &[("email", "ADA@acme.test")]).await;
    let unknown = app.client().call("forgot_password", &[("email", "nobody@acme.test")]).await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'").await, 1);
    let malformed = app.client().call("forgot_password", &[("email", "nope")]).await;
    assert!(malformed.error().field_message("email").is_some());
}

#[sqlx::test]
async fn reset_tokens_are_stored_only_as_a_hash(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    let token = token_of(&reset_link(&app, "ada@acme.test").await);
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM one_time_tokens WHERE purpose = 'password_reset'").fetch_one(app.db()).await.unwrap();
    assert_eq!(stored, tokens::hash(&token));
    assert_ne!(stored, token.as_bytes());
    let dump: String = sqlx::query_scalar("SELECT row_to_json(t)::text FROM one_time_tokens t WHERE purpose = 'password_reset'").fetch_one(app.db()).await.unwrap();
    assert!(!dump.contains(&token));
}

#[sqlx::test]
async fn a_reset_link_works_until_one_hour_and_not_a_second_later(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;

    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    let early = token_of(&reset_link(&app, "ada@acme.test").await);
    app.advance(Duration::minutes(60) - Duration::seconds(1));
    let state: LinkState = app.client().call("reset_link", &[("token", &early)]).await.json();
    assert_eq!(state, LinkState::Valid);
    let res = app
        .client()
        .call("reset_password", &[("token", &early), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());

    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    let late = token_of(&reset_link(&app, "ada@acme.test").await);
    app.advance(Duration::minutes(60) + Duration::seconds(1));
    let state: LinkState = app.client().call("reset_link", &[("token", &late)]).await.json();
    assert_eq!(state, LinkState::Expired);
    let res = app
        .client()
        .call("reset_password", &[("token", &late), ("password", "tidal-lantern-copper"), ("password_confirm", "tidal-lantern-copper")])
        .await;
    assert_eq!(res.error(), AppError::Refused("This link has expired. Ask for a new one.".into()));
    assert_eq!(app.client().sign_in("ada@acme.test", "amber-piano-harbour").await.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_reset_link_works_once_ends_every_session_and_spends_other_links(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    let first = token_of(&reset_link(&app, "ada@acme.test").await);
    app.advance(Duration::minutes(2));
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    let second = token_of(&reset_link(&app, "ada@acme.test").await);
    assert_ne!(first, second);

    let weak = app
        .client()
        .call("reset_password", &[("token", &second), ("password", "ada@acme.test"), ("password_confirm", "ada@acme.test")])
        .await;
    assert!(weak.error().field_message("password").unwrap().contains("e-mail"));

    let ok = app
        .client()
        .call("reset_password", &[("token", &second), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(ada.session().await.is_none(), "sessions end when the password is reset");

    for token in [&second, &first] {
        let state: LinkState = app.client().call("reset_link", &[("token", token)]).await.json();
        assert_eq!(state, LinkState::Used);
        let again = app
            .client()
            .call("reset_password", &[("token", token), ("password", "tidal-lantern-copper"), ("password_confirm", "tidal-lantern-copper")])
            .await;
        assert_eq!(again.error(), AppError::Refused("This link has already been used. Ask for a new one.".into()));
    }
    assert_eq!(app.client().sign_in("ada@acme.test", PASSWORD).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.client().sign_in("ada@acme.test", "amber-piano-harbour").await.status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'user.password_reset'").await, 1);
}

#[sqlx::test]
async fn unknown_links_are_refused(db: PgPool) {
    let app = TestApp::new(db);
    let state: LinkState = app.client().call("reset_link", &[("token", "made-up")]).await.json();
    assert_eq!(state, LinkState::Unknown);
    let res = app
        .client()
        .call("reset_password", &[("token", "made-up"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(res.error(), AppError::Refused("This link is not valid. Ask for a new one.".into()));
}

#[sqlx::test]
async fn reset_requests_are_limited_to_one_a_minute(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    for _ in 0..3 {
        app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'").await, 1);
    app.advance(Duration::seconds(61));
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'").await, 2);
}
