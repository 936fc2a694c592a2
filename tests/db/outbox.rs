//! Mail delivery: retries with back-off while SMTP is unreachable, then gives up; delivery to a
//! real SMTP server (maildev, started by `.dev/test`, at ROSTER_TEST_SMTP_URL).

use crate::support::TestApp;
use chrono::Duration;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use roster::outbox::ssr::worker::{deliver_next, MAX_ATTEMPTS};
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
        "SELECT status, attempts, last_error, extract(epoch FROM next_attempt_at - created_at)::float8 FROM outbox",
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
    let (status, attempts): (String, i32) = sqlx::query_as("SELECT status, attempts FROM outbox").fetch_one(app.db()).await.unwrap();
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
        sqlx::query_as("SELECT status, attempts, sent_at IS NOT NULL FROM outbox").fetch_one(app.db()).await.unwrap();
    assert_eq!((status.as_str(), attempts, sent), ("sent", 2, true));
}
