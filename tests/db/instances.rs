//! Two app instances on one database share nothing else: a session made on one works on the
//! other, and with both outbox workers running each message is delivered exactly once.

use crate::support::{TestApp, PASSWORD};
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::time::Duration;

/// A second instance: its own pool, clock, hasher and state, on the same database.
pub async fn second_instance(db: &PgPool, adjust: impl FnOnce(&mut roster::server::config::Config)) -> TestApp {
    let options = db.connect_options().as_ref().clone();
    let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
    TestApp::with_config(pool, adjust)
}

/// The messages maildev holds for `to`, as raw text (plain body, subject and all).
pub async fn maildev_messages(base: &str, to: &str) -> Vec<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = url::Url::parse(base).unwrap();
    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(80));
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(format!("GET /api/email HTTP/1.0\r\nHost: {}\r\nAccept: application/json\r\n\r\n", url.host_str().unwrap()).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let all: Vec<serde_json::Value> = serde_json::from_str(body).unwrap_or_else(|e| panic!("maildev answered {e}: {body}"));
    all.into_iter()
        .filter(|m| {
            m["to"].as_array().is_some_and(|list| list.iter().any(|t| t["address"].as_str().is_some_and(|a| a.eq_ignore_ascii_case(to))))
        })
        .map(|m| m.to_string())
        .collect()
}

#[sqlx::test]
async fn a_session_made_on_one_instance_works_on_the_other(db: PgPool) {
    let one = TestApp::new(db.clone());
    let two = second_instance(&db, |_| {}).await;
    one.sign_up("Acme", "ada@acme.test").await;
    let mut on_one = one.client();
    assert!(on_one.sign_in("ada@acme.test", PASSWORD).await.status.is_success());
    let mut on_two = two.client();
    on_two.cookie = on_one.cookie.clone();
    let session = on_two.session().await.expect("the session is known to the second instance");
    assert_eq!(session.email, "ada@acme.test");
    // Signing out on the second ends it on the first.
    assert!(on_two.call("sign_out", &[]).await.status.is_success());
    assert!(on_one.session().await.is_none());
}

#[sqlx::test]
async fn with_two_outbox_workers_an_invitation_is_delivered_exactly_once(db: PgPool) {
    let (Ok(smtp), Ok(maildev)) = (std::env::var("ROSTER_TEST_SMTP_URL"), std::env::var("ROSTER_TEST_MAILDEV_URL")) else {
        panic!("ROSTER_TEST_SMTP_URL and ROSTER_TEST_MAILDEV_URL must point at maildev (.dev/test starts it)");
    };
    let one = TestApp::with_config(db.clone(), |c| c.smtp_url = Some(smtp.clone()));
    let two = second_instance(&db, |c| c.smtp_url = Some(smtp.clone())).await;
    let mut ada = one.sign_up("Acme", "ada-two-workers@acme.test").await;
    roster::services::mail::worker::spawn(one.state.clone());
    roster::services::mail::worker::spawn(two.state.clone());
    let owner: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE builtin = 'owner'").fetch_one(one.db()).await.unwrap();
    let company: i64 = sqlx::query_scalar("SELECT id FROM companies").fetch_one(one.db()).await.unwrap();
    let invitee = format!("once-{}@new.test", std::process::id());
    let res = ada
        .call("invite_users", &[("emails", &invitee), ("role_id", &owner.to_string()), ("company_id", &company.to_string())])
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let mut sent = false;
    for _ in 0..100 {
        let status: String = sqlx::query_scalar("SELECT status FROM outbox WHERE to_address = $1")
            .bind(&invitee)
            .fetch_one(one.db())
            .await
            .unwrap();
        if status == "sent" {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent, "the invitation was delivered");
    // Both workers had every chance to send it again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM outbox WHERE to_address = $1")
        .bind(&invitee)
        .fetch_one(one.db())
        .await
        .unwrap();
    assert_eq!(attempts, 1);
    let received = maildev_messages(&maildev, &invitee).await;
    assert_eq!(received.len(), 1, "{received:?}");
}
