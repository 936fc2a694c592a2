//! Webhooks (issue 12): events are written in the change's transaction, one per subscribed
//! endpoint of the account; the worker signs them (HMAC-SHA256 over "timestamp.body"), retries a
//! failing receiver with back-off and logs each attempt; "send again" queues one anew; a host
//! that resolves to loopback is refused at delivery without the operator's setting; redirects
//! are not followed; a rotated secret signs from then on.

use crate::{
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use axum::{body::Bytes, extract::State, http::{HeaderMap, StatusCode}, routing::post, Router};
use roster::{
    error::AppError,
    services::webhooks::ssr::{deliver_due, signature},
    webhooks::{WebhookSecret, Webhooks},
};
use serde_json::Value;
use sqlx::PgPool;
use std::sync::{Arc, Mutex};

/// A receiver on loopback: answers the first `failures` requests with 500, then 200 (or a
/// redirect when `redirect` is set), and keeps what it was sent.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    failures: Arc<Mutex<usize>>,
    redirect: bool,
}

impl Receiver {
    async fn start(failures: usize, redirect: bool) -> (Receiver, u16) {
        let receiver = Receiver { failures: Arc::new(Mutex::new(failures)), redirect, ..Default::default() };
        let app = Router::new()
            .route("/hook", post(take))
            .route("/elsewhere", post(take))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, port)
    }

    fn received(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().unwrap().clone()
    }
}

async fn take(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    r.got.lock().unwrap().push((headers, body));
    let mut failures = r.failures.lock().unwrap();
    if *failures > 0 {
        *failures -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    if r.redirect {
        return (StatusCode::FOUND, [("location", "/elsewhere")]).into_response();
    }
    StatusCode::OK.into_response()
}

async fn add_hook(admin: &mut Client<'_>, url: &str, events: &[&str]) -> WebhookSecret {
    let mut form = vec![("url", url)];
    for e in events {
        form.push(("events[]", e));
    }
    let res = admin.call("create_webhook", &form).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = headers.get("roster-signature").unwrap().to_str().unwrap();
    let t: i64 = header.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    signature(secret, t, body) == header
}

async fn create_customer(client: &mut Client<'_>, world: &World<'_>, title: &str) -> StatusCode {
    crate::customers::create(client, world, title, "", Place::InScope).await.status
}

#[sqlx::test]
async fn deliveries_are_signed_retried_with_back_off_logged_and_sent_again(db: PgPool) {
    let app = TestApp::with_config(db, |c| c.webhook_allow_private_targets = true);
    let (world, mut actors) = World::build(&app).await.split();
    let (receiver, port) = Receiver::start(2, false).await;
    let hook = add_hook(actors.admin(), &format!("http://127.0.0.1:{port}/hook"), &["customer.created"]).await;
    assert!(hook.secret.starts_with("whsec_"));
    let audited: String = sqlx::query_scalar("SELECT changes::text FROM audit_events WHERE action = 'webhook.created'").fetch_one(app.db()).await.unwrap();
    assert!(!audited.contains("/hook") && !audited.contains(&hook.secret), "the log keeps the host only: {audited}");
    let listing = actors.admin().call("webhooks", &[]).await;
    assert!(!listing.text().contains(&hook.secret), "the list never shows the secret");

    // A refused change sends nothing; a change sends one event, written with it.
    let _ = create_customer(actors.admin(), &world, "").await;
    assert_eq!(app.count("SELECT count(*) FROM webhook_deliveries").await, 0);
    assert_eq!(create_customer(actors.admin(), &world, "Hooked Farm").await, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'").await, 1);

    // Two failures, each retried later; then delivered.
    assert_eq!(deliver_due(&app.state, 10).await.unwrap(), 1);
    assert_eq!(deliver_due(&app.state, 10).await.unwrap(), 0, "not due again until its back-off has passed");
    app.advance(chrono::Duration::seconds(31));
    assert_eq!(deliver_due(&app.state, 10).await.unwrap(), 1);
    let log: Webhooks = actors.admin().call("webhooks", &[]).await.json();
    assert_eq!((log.deliveries[0].status.as_str(), log.deliveries[0].attempts, log.deliveries[0].response_code), ("pending", 2, Some(500)));
    app.advance(chrono::Duration::seconds(61));
    assert_eq!(deliver_due(&app.state, 10).await.unwrap(), 1);
    let log: Webhooks = actors.admin().call("webhooks", &[]).await.json();
    assert_eq!((log.deliveries[0].status.as_str(), log.deliveries[0].attempts, log.deliveries[0].response_code), ("delivered", 3, Some(200)));

    let received = receiver.received();
    assert_eq!(received.len(), 3);
    for (headers, body) in &received {
        assert!(verify(&hook.secret, headers, body), "signed with the endpoint's secret");
        assert_eq!(headers.get("roster-event").unwrap(), "customer.created");
    }
    let event: Value = serde_json::from_slice(&received[2].1).unwrap();
    assert_eq!(event["type"], "customer.created");
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    let id: i64 = sqlx::query_scalar("SELECT id FROM customers WHERE title = 'Hooked Farm'").fetch_one(app.db()).await.unwrap();
    assert_eq!(event["data"]["record_id"], id);

    // Send again: refused while a worker holds it, then one more delivery of the same event.
    sqlx::query("UPDATE webhook_deliveries SET claim = 1").execute(app.db()).await.unwrap();
    let busy = actors.admin().call("redeliver_webhook", &[("id", &log.deliveries[0].id.to_string())]).await;
    assert!(matches!(busy.error(), AppError::Refused(_)));
    sqlx::query("UPDATE webhook_deliveries SET claim = NULL").execute(app.db()).await.unwrap();
    let delivery = log.deliveries[0].id.to_string();
    assert_eq!(actors.admin().call("redeliver_webhook", &[("id", &delivery)]).await.status, StatusCode::OK);
    assert_eq!(deliver_due(&app.state, 10).await.unwrap(), 1);
    assert_eq!(receiver.received().len(), 4);
    let again: Value = serde_json::from_slice(&receiver.received()[3].1).unwrap();
    assert_eq!(again["id"], event["id"], "the same event, so the receiver can tell it already has it");

    // A new secret signs from now on; the old one no longer verifies.
    let id = hook.id.to_string();
    let rotated: WebhookSecret = actors.admin().call("rotate_webhook_secret", &[("id", &id)]).await.json();
    assert_ne!(rotated.secret, hook.secret);
    assert_eq!(create_customer(actors.admin(), &world, "Second Farm").await, StatusCode::OK);
    deliver_due(&app.state, 10).await.unwrap();
    let (headers, body) = receiver.received().pop().unwrap();
    assert!(verify(&rotated.secret, &headers, &body) && !verify(&hook.secret, &headers, &body));
}

#[sqlx::test]
async fn events_go_only_to_subscribed_endpoints_of_the_same_account(db: PgPool) {
    let app = TestApp::with_config(db, |c| c.webhook_allow_private_targets = true);
    let (world, mut actors) = World::build(&app).await.split();
    let (_receiver, port) = Receiver::start(0, false).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    add_hook(actors.admin(), &url, &["customer.created", "customer.deleted"]).await;
    add_hook(actors.admin(), &url, &["user.invited"]).await;
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    add_hook(&mut b_admin, &url, &["customer.created"]).await;
    assert_eq!(create_customer(actors.admin(), &world, "Only A").await, StatusCode::OK);
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT d.event_type, w.account_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(rows, vec![("customer.created".to_owned(), world.a)]);

    // Only Administrators manage webhooks; another account's ids are not found.
    let manager = actors.get(roster::permissions::BuiltinRole::CommonManager);
    assert_eq!(manager.call("webhooks", &[]).await.error(), AppError::Forbidden);
    let a_hook: i64 = sqlx::query_scalar("SELECT id FROM webhooks WHERE account_id = $1 ORDER BY id LIMIT 1").bind(world.a).fetch_one(app.db()).await.unwrap();
    let before = world.fingerprint().await;
    for endpoint in ["rotate_webhook_secret", "delete_webhook"] {
        assert_eq!(b_admin.call(endpoint, &[("id", &a_hook.to_string())]).await.error(), AppError::NotFound);
    }
    let a_delivery: i64 = sqlx::query_scalar("SELECT id FROM webhook_deliveries LIMIT 1").fetch_one(app.db()).await.unwrap();
    assert_eq!(b_admin.call("redeliver_webhook", &[("id", &a_delivery.to_string())]).await.error(), AppError::NotFound);
    assert_eq!(world.fingerprint().await, before);
    assert_eq!(app.count("SELECT count(*) FROM webhooks").await, 3);

    // Only http(s) URLs with a host are saved.
    for bad in ["ftp://x.example/", "https://user:pw@x.example/", "not a url"] {
        let res = actors.admin().call("create_webhook", &[("url", bad), ("events[]", "customer.created")]).await;
        assert!(matches!(res.error(), AppError::Validation(e) if e.get("url").is_some()), "{bad}");
    }
}

#[sqlx::test]
async fn a_host_resolving_to_loopback_is_refused_at_delivery_without_the_setting(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let (receiver, port) = Receiver::start(0, false).await;
    add_hook(actors.admin(), &format!("http://localhost:{port}/hook"), &["customer.created"]).await;
    assert_eq!(create_customer(actors.admin(), &world, "Probe").await, StatusCode::OK);
    assert_eq!(deliver_due(&app.state, 10).await.unwrap(), 1);
    assert!(receiver.received().is_empty(), "nothing reached the loopback receiver");
    let (status, error): (String, Option<String>) = sqlx::query_as("SELECT status, last_error FROM webhook_deliveries").fetch_one(app.db()).await.unwrap();
    assert_eq!(status, "pending");
    assert!(error.unwrap().contains("loopback, private or link-local"));
}

#[sqlx::test]
async fn redirects_are_not_followed(db: PgPool) {
    let app = TestApp::with_config(db, |c| c.webhook_allow_private_targets = true);
    let (world, mut actors) = World::build(&app).await.split();
    let (receiver, port) = Receiver::start(0, true).await;
    add_hook(actors.admin(), &format!("http://127.0.0.1:{port}/hook"), &["customer.created"]).await;
    assert_eq!(create_customer(actors.admin(), &world, "Bounce").await, StatusCode::OK);
    deliver_due(&app.state, 10).await.unwrap();
    assert_eq!(receiver.received().len(), 1, "the redirect's target was not asked");
    let (status, code): (String, Option<i32>) = sqlx::query_as("SELECT status, response_code FROM webhook_deliveries").fetch_one(app.db()).await.unwrap();
    assert_eq!((status.as_str(), code), ("pending", Some(302)));
}

#[sqlx::test]
async fn workers_running_at_once_send_each_delivery_once(db: PgPool) {
    let app = TestApp::with_config(db, |c| c.webhook_allow_private_targets = true);
    let (world, mut actors) = World::build(&app).await.split();
    let (receiver, port) = Receiver::start(0, false).await;
    add_hook(actors.admin(), &format!("http://127.0.0.1:{port}/hook"), &["customer.created"]).await;
    for n in 0..12 {
        assert_eq!(create_customer(actors.admin(), &world, &format!("Burst {n}")).await, StatusCode::OK);
    }
    let sent = futures::future::join_all((0..6).map(|_| deliver_due(&app.state, 3))).await;
    let total: usize = sent.into_iter().map(Result::unwrap).sum();
    while deliver_due(&app.state, 3).await.unwrap() > 0 {}
    assert!(total <= 12);
    assert_eq!(receiver.received().len(), 12, "every delivery sent exactly once");
    assert_eq!(app.count("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'").await, 12);
}
