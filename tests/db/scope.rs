//! Smaller holes: the audit log keeps to the reader's branch, a group with members elsewhere is
//! not deleted from below, list pages are bounded, HTTPS cookies are host-bound with HSTS, and
//! a portal sub-customer takes its parent's type.

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{TestApp, PASSWORD},
};
use axum::http::StatusCode;
use roster::{audit::AuditPage, error::AppError, permissions::BuiltinRole};
use sqlx::PgPool;

async fn audit_records(client: &mut crate::support::Client<'_>) -> Vec<(String, Option<String>)> {
    let res = client.call("audit", &[("query[actor]", ""), ("query[page]", "1")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    let page: AuditPage = res.json();
    page.entries.into_iter().map(|e| (e.action, e.record_id)).collect()
}

#[sqlx::test]
async fn the_audit_log_shows_a_staff_member_their_own_branch(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    // The account's first Administrator, at the root company (the world's actors sit in D).
    let mut root_admin = app.client();
    root_admin.sign_in("admin@a.test", PASSWORD).await;
    let admin = &mut root_admin;
    create(admin, &world, "Inside", "", Place::InScope).await;
    create(admin, &world, "Outside", "", Place::OutOfScope).await;
    let res = admin.call("save_role", &[("name", "Auditor"), ("rank", "3"), ("permissions[]", "audit.view")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    let (inside, outside) = (customer_id(&app, "Inside").await.to_string(), customer_id(&app, "Outside").await.to_string());
    let everything = audit_records(admin).await;
    assert!(everything.iter().any(|(a, r)| a == "customer.created" && r.as_deref() == Some(&outside)));
    assert!(everything.iter().any(|(a, _)| a == "role.created"));

    // A Common Manager in D sees D's branch: not the sibling's customer, not the account's roles.
    let manager = actors.get(BuiltinRole::CommonManager);
    let seen = audit_records(manager).await;
    assert!(seen.iter().any(|(a, r)| a == "customer.created" && r.as_deref() == Some(&inside)), "{seen:?}");
    assert!(!seen.iter().any(|(_, r)| r.as_deref() == Some(&outside)), "{seen:?}");
    assert!(!seen.iter().any(|(a, _)| a.starts_with("role.")), "{seen:?}");
    assert!(!seen.iter().any(|(a, _)| a == "account.created"), "{seen:?}");
    let res = manager.call("audit", &[("query[record_type]", "customer"), ("query[record_id]", &outside), ("query[page]", "1")]).await;
    assert!(res.json::<AuditPage>().entries.is_empty(), "asking for it by id does not help");
    let page: AuditPage = manager.call("audit", &[("query[page]", "1")]).await.json();
    assert!(!page.actions.iter().any(|a| a.starts_with("role.")), "the filter list holds only what they may see");

    // With Account settings the account-level events show too.
    sqlx::query("INSERT INTO role_permissions (account_id, role_id, permission) SELECT $1, id, 'account_settings.manage' FROM roles WHERE account_id = $1 AND builtin = 'common_manager'")
        .bind(world.a)
        .execute(app.db())
        .await
        .unwrap();
    let seen = audit_records(actors.get(BuiltinRole::CommonManager)).await;
    assert!(seen.iter().any(|(a, _)| a == "role.created"), "{seen:?}");
    assert!(!seen.iter().any(|(_, r)| r.as_deref() == Some(&outside)));
}

#[sqlx::test]
async fn a_group_with_members_outside_the_callers_companies_is_not_deleted_from_below(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let group = world.fresh_group(Place::InScope).await;
    let inside = world.fresh_customer(Place::InScope).await;
    let outside = world.fresh_customer(Place::OutOfScope).await;
    sqlx::query("UPDATE customers SET group_ids = ARRAY[$1::bigint] WHERE id = ANY($2)")
        .bind(group)
        .bind(vec![inside, outside])
        .execute(app.db())
        .await
        .unwrap();
    let before = world.fingerprint().await;
    let res = actors.get(BuiltinRole::CommonManager).call("delete_customer_group", &[("id", &group.to_string())]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.starts_with("1 customer in this group belongs to companies you do not manage")));
    assert_eq!(before, world.fingerprint().await);
    let res = actors.admin().call("delete_customer_group", &[("id", &group.to_string())]).await;
    assert!(res.status.is_success(), "{}", res.text());
}

#[sqlx::test]
async fn list_pages_are_bounded(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    let far = i64::MAX.to_string();
    let users = ada
        .call("users", &[("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", &far), ("query[size]", "25")])
        .await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text());
    assert_eq!(users.json::<roster::users::UserList>().page, roster::ui::MAX_PAGE);
    let outbox = ada.call("outbox", &[("page", &far)]).await;
    assert_eq!(outbox.status, StatusCode::OK, "{}", outbox.text());
    let negative = ada.call("outbox", &[("page", &i64::MIN.to_string())]).await;
    assert_eq!(negative.json::<roster::outbox::OutboxList>().page, 1);
}

#[sqlx::test]
async fn over_https_the_cookie_is_host_bound_and_browsers_are_told_to_stay_on_https(db: PgPool) {
    let secure = TestApp::with_config(db.clone(), |c| c.public_url = Some(url::Url::parse("https://roster.example.com").unwrap()));
    secure.sign_up("Acme", "ada@acme.test").await;
    let res = secure.client().sign_in("ada@acme.test", PASSWORD).await;
    let cookie = res.set_cookie().unwrap();
    assert!(cookie.starts_with("__Host-roster_session="), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    assert_eq!(res.headers.get("strict-transport-security").and_then(|v| v.to_str().ok()), Some("max-age=31536000"));
    let page = secure.client().get_page("/sign-in").await;
    assert!(page.headers.contains_key("strict-transport-security"));
    // The session works with the prefixed cookie.
    let mut ada = secure.client();
    ada.sign_in("ada@acme.test", PASSWORD).await;
    assert!(ada.session().await.is_some());

    let plain = TestApp::new(db);
    let res = plain.client().sign_in("ada@acme.test", PASSWORD).await;
    assert!(res.set_cookie().unwrap().starts_with("roster_session="));
    assert!(!res.headers.contains_key("strict-transport-security"));
}

#[sqlx::test]
async fn a_portal_sub_customer_takes_its_parents_type(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let premium: i64 = sqlx::query_scalar(
        "INSERT INTO customer_types (account_id, name, features) VALUES ($1, 'Premium', ARRAY['manage_sub_customers']) RETURNING id",
    )
    .bind(world.a)
    .fetch_one(app.db())
    .await
    .unwrap();
    let home = world.customer_in(world.a, world.companies["I"], premium, None, "Home").await;
    world.customer_user_in(world.a, home, "pat@home.test").await;
    let mut pat = app.client();
    pat.sign_in("pat@home.test", PASSWORD).await;
    let res = pat.call("portal_add_sub_customer", &[("parent_id", &home.to_string()), ("form[title]", "Barn")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    let kind: i64 = sqlx::query_scalar("SELECT customer_type_id FROM customers WHERE title = 'Barn'").fetch_one(app.db()).await.unwrap();
    assert_eq!(kind, premium, "not the account's default type");
    let _ = &mut actors;
}
