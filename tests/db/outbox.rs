//! Mail delivery: retries with back-off while SMTP is unreachable, then gives up; delivery to a
//! real SMTP server (maildev, started by `.dev/test`, at ROSTER_TEST_SMTP_URL).

use crate::support::{account_id_of, add_staff, TestApp, PASSWORD};
use roster::error::AppError;
use chrono::Duration;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use roster::services::mail::worker::{deliver_next, MAX_ATTEMPTS};
use sqlx::PgPool;

fn transport(url: &str) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .unwrap()
        .timeout(Some(std::time::Duration::from_secs(5)))
        .build()
}

async fn queue_reset_mail(app: &TestApp) {
    app.sign_up("Acme", "ada@acme.test").await;
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
}

#[sqlx::test]
async fn unreachable_smtp_is_retried_with_back_off_then_marked_failed(db: PgPool) {
    let app = TestApp::new(db);
    queue_reset_mail(&app).await;
    // A closed port on this machine: a real refused connection.
    let unreachable = transport("smtp://127.0.0.1:9");

    assert!(deliver_next(&app.state, &unreachable).await.unwrap());
    let (status, attempts, error, wait): (String, i32, Option<String>, f64) = sqlx::query_as(
        "SELECT status, attempts, last_error, extract(epoch FROM next_attempt_at - created_at)::float8 FROM outbox WHERE kind = 'password_reset'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert!(error.is_some());
    assert!((14.0..17.0).contains(&wait), "first retry after 15 s, got {wait}");
    assert!(!deliver_next(&app.state, &unreachable).await.unwrap(), "not due yet");

    for attempt in 2..=MAX_ATTEMPTS {
        app.advance(Duration::hours(1));
        assert!(deliver_next(&app.state, &unreachable).await.unwrap(), "attempt {attempt}");
    }
    let (status, attempts): (String, i32) = sqlx::query_as("SELECT status, attempts FROM outbox WHERE kind = 'password_reset'").fetch_one(app.db()).await.unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", MAX_ATTEMPTS));
    app.advance(Duration::hours(2));
    assert!(!deliver_next(&app.state, &unreachable).await.unwrap(), "failed mail is not retried by itself");
}

#[sqlx::test]
async fn mail_is_delivered_once_the_smtp_server_answers(db: PgPool) {
    let smtp = std::env::var("ROSTER_TEST_SMTP_URL")
        .expect("ROSTER_TEST_SMTP_URL must point at a running SMTP server (.dev/test starts maildev)");
    let app = TestApp::new(db);
    queue_reset_mail(&app).await;
    assert!(deliver_next(&app.state, &transport("smtp://127.0.0.1:9")).await.unwrap());
    app.advance(Duration::seconds(16));
    assert!(deliver_next(&app.state, &transport(&smtp)).await.unwrap());
    let (status, attempts, sent): (String, i32, bool) =
        sqlx::query_as("SELECT status, attempts, sent_at IS NOT NULL FROM outbox WHERE kind = 'password_reset'").fetch_one(app.db()).await.unwrap();
    assert_eq!((status.as_str(), attempts, sent), ("sent", 2, true));
}

/// An Administrator retries a message that gave up; it is delivered once SMTP answers. Nobody
/// else can retry it: another account's Administrator gets "not found", a manager "forbidden",
/// and a message already sent cannot be sent twice.
#[sqlx::test]
async fn an_administrator_retries_a_failed_message_and_it_is_delivered(db: PgPool) {
    let smtp = std::env::var("ROSTER_TEST_SMTP_URL")
        .expect("ROSTER_TEST_SMTP_URL must point at a running SMTP server (.dev/test starts maildev)");
    let app = TestApp::new(db);
    let mut admin = app.sign_up("Acme", "ada@acme.test").await;
    admin.call("forgot_password", &[("email", "ada@acme.test")]).await;
    let unreachable = transport("smtp://127.0.0.1:9");
    for _ in 0..MAX_ATTEMPTS {
        assert!(deliver_next(&app.state, &unreachable).await.unwrap());
        app.advance(Duration::hours(1));
    }
    let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE status = 'failed'").fetch_one(app.db()).await.unwrap();
    // Hours went by: the Administrator signs in again.
    admin.sign_in("ada@acme.test", PASSWORD).await;
    let id_text = id.to_string();

    let mut other = app.sign_up("Other", "olga@other.test").await;
    assert_eq!(other.call("retry_outbox", &[("id", &id_text)]).await.error(), AppError::NotFound);
    let account = account_id_of(&app, "ada@acme.test").await;
    add_staff(&app, account, "max@acme.test", "common_manager").await;
    let mut manager = app.client();
    manager.sign_in("max@acme.test", PASSWORD).await;
    assert_eq!(manager.call("retry_outbox", &[("id", &id_text)]).await.error(), AppError::Forbidden);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE status = 'failed'").await, 1);

    let response = admin.call("retry_outbox", &[("id", &id_text)]).await;
    assert!(response.status.is_success(), "{}", response.text());
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'email.retried'").await, 1);
    assert!(deliver_next(&app.state, &transport(&smtp)).await.unwrap(), "due at once");
    let (status, attempts): (String, i32) = sqlx::query_as("SELECT status, attempts FROM outbox WHERE kind = 'password_reset'").fetch_one(app.db()).await.unwrap();
    assert_eq!((status.as_str(), attempts), ("sent", MAX_ATTEMPTS + 1));
    assert_eq!(admin.call("retry_outbox", &[("id", &id_text)]).await.error(), AppError::NotFound, "sent mail is not sent twice");
}
