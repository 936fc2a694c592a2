//! The audit log viewer: entries with their changed fields, every filter, paging, and who may
//! read which account's log.

use crate::{
    customers::{create, customer_id, form},
    fixture::{Place, World},
    support::{Client, TestApp},
};
use chrono::Duration;
use roster::{
    audit::{AuditPage, ChangeLine, PAGE_SIZE},
    customers::CustomerDetail,
    error::AppError,
    permissions::BuiltinRole,
};
use sqlx::PgPool;

async fn audit(client: &mut Client<'_>, filters: &[(&str, &str)]) -> Result<AuditPage, AppError> {
    let mut fields: Vec<(String, String)> = filters.iter().map(|(k, v)| (format!("query[{k}]"), (*v).to_owned())).collect();
    if fields.is_empty() {
        fields.push(("query[actor]".into(), String::new()));
    }
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = client.call("audit", &pairs).await;
    if response.status.is_success() { Ok(response.json()) } else { Err(response.error()) }
}

#[sqlx::test]
async fn a_customer_s_history_shows_who_changed_which_fields(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Zephyr", "", Place::InScope).await;
    let id = customer_id(&app, "Zephyr").await;
    let id_text = id.to_string();
    let detail: CustomerDetail = actors.admin().call("customer", &[("id", &id_text)]).await.json();
    let mut fields = form("Zephyr");
    fields.extend([
        ("id".to_owned(), id_text.clone()),
        ("version".into(), detail.version.to_string()),
        ("customer_type_id".into(), detail.customer_type_id.to_string()),
        ("owner_company_id".into(), detail.owner_company_id.to_string()),
        ("form[city]".into(), "Bath".into()),
    ]);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(actors.admin().call("update_customer", &pairs).await.status.is_success());

    let page = audit(actors.admin(), &[("record_type", "customer"), ("record_id", &id_text)]).await.unwrap();
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["customer.updated", "customer.created"], "newest first");
    let update = &page.entries[0];
    assert!(update.actor.contains('@'), "the actor is named: {}", update.actor);
    assert!(update.changes.contains(&ChangeLine { field: "city".into(), from: Some("—".into()), to: "Bath".into() }), "{:?}", update.changes);
    assert!(page.actions.contains(&"customer.updated".to_owned()) && page.record_types.contains(&"customer".to_owned()));

    // Each filter narrows: by action, by actor, by date.
    let created = audit(actors.admin(), &[("action", "customer.created")]).await.unwrap();
    assert!(!created.entries.is_empty() && created.entries.iter().all(|e| e.action == "customer.created"));
    let nobody = audit(actors.admin(), &[("actor", "nobody-at-all")]).await.unwrap();
    assert!(nobody.entries.is_empty());
    let today = app.state.clock.now().date_naive().to_string();
    let tomorrow = (app.state.clock.now() + Duration::days(1)).date_naive().to_string();
    assert_eq!(audit(actors.admin(), &[("record_type", "customer"), ("record_id", &id_text), ("from", &today), ("to", &today)]).await.unwrap().entries.len(), 2);
    assert!(audit(actors.admin(), &[("record_type", "customer"), ("record_id", &id_text), ("from", &tomorrow)]).await.unwrap().entries.is_empty());
    assert!(matches!(audit(actors.admin(), &[("from", "2026-02-30")]).await, Err(AppError::Validation(_))));

    // Someone without the permission is refused; another account sees nothing of this one.
    assert_eq!(audit(actors.get(BuiltinRole::Owner), &[]).await.unwrap_err(), AppError::Forbidden);
    let mut other = app.sign_up("Elsewhere", "eve@elsewhere.test").await;
    let foreign = audit(&mut other, &[("record_type", "customer"), ("record_id", &id_text)]).await.unwrap();
    assert!(foreign.entries.is_empty());
    assert!(audit(&mut other, &[]).await.unwrap().entries.iter().all(|e| e.record_type != "customer"));
}

#[sqlx::test]
async fn the_log_pages_newest_first_without_gaps_or_repeats(db: PgPool) {
    let app = TestApp::new(db);
    let mut admin = app.sign_up("Acme", "ada@acme.test").await;
    let account: i64 = sqlx::query_scalar("SELECT id FROM accounts").fetch_one(app.db()).await.unwrap();
    sqlx::query(
        "INSERT INTO audit_events (account_id, occurred_at, actor_label, action, record_type, record_id)
         SELECT $1, now() - make_interval(mins => n), 'ada@acme.test', 'test.event', 'thing', n::text
           FROM generate_series(1, 120) n",
    )
    .bind(account)
    .execute(app.db())
    .await
    .unwrap();
    // Entries at the same instant are ordered by id, so none falls between two pages.
    sqlx::query(
        "INSERT INTO audit_events (account_id, occurred_at, actor_label, action, record_type, record_id)
         SELECT $1, now() - interval '200 minutes', 'ada@acme.test', 'test.event', 'thing', (200 + n)::text
           FROM generate_series(1, 30) n",
    )
    .bind(account)
    .execute(app.db())
    .await
    .unwrap();
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut form = vec![("action", "test.event".to_owned())];
        form.extend(before.clone().map(|b| ("before", b)));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = audit(&mut admin, &pairs).await.unwrap();
        assert!(page.entries.len() as i64 <= PAGE_SIZE);
        assert_eq!(page.continued, before.is_some());
        seen.extend(page.entries.iter().map(|e| e.record_id.clone().unwrap().parse::<i64>().unwrap()));
        // Entries written meanwhile (newer) do not shift the pages that follow.
        sqlx::query("INSERT INTO audit_events (account_id, occurred_at, actor_label, action, record_type, record_id) VALUES ($1, now(), 'x', 'test.event', 'thing', '0')")
            .bind(account)
            .execute(app.db())
            .await
            .unwrap();
        match page.next {
            Some(next) => before = Some(next.to_string()),
            None => break,
        }
    }
    let mut expected: Vec<i64> = (1..=120).collect();
    expected.extend((201..=230).rev());
    assert_eq!(seen, expected, "minutes ago ascending = newest first; ties newest id first");
    // A cursor from another account is not found.
    let mut other = app.sign_up("Globex", "gil@globex.test").await;
    let foreign = sqlx::query_scalar::<_, i64>("SELECT max(id) FROM audit_events WHERE account_id = $1").bind(account).fetch_one(app.db()).await.unwrap();
    assert_eq!(audit(&mut other, &[("before", &foreign.to_string())]).await.unwrap_err(), roster::error::AppError::NotFound);
}
