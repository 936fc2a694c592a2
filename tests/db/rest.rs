//! The REST API v1 (issue 12) and its API keys: a key is shown once and kept as a hash; it acts
//! for its creator within its company and the permissions both hold now; ids of another
//! account or branch are "not found" and change nothing; a key without the permission is 403;
//! expired, revoked, disabled-creator and removed-creator keys are 401; stale versions 409;
//! oversize bodies 413; unreadable ones 400 problem details; the per-key limit holds under a
//! burst; cookies never authenticate the API; the OpenAPI document describes every answer.

use crate::{
    fixture::{Place, World},
    support::{Client, Response, TestApp, PASSWORD},
};
use axum::http::StatusCode;
use futures::future::join_all;
use roster::{api_keys::{ApiKeys, CreatedKey}, error::AppError};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Makes a key through the API page's server function and returns its secret.
async fn make_key(client: &mut Client<'_>, name: &str, company: i64, permissions: &[&str]) -> Response {
    let company = company.to_string();
    let mut form = vec![("name", name), ("expires_in_days", "30"), ("company_id", company.as_str())];
    for p in permissions {
        form.push(("permissions[]", p));
    }
    client.call("create_api_key", &form).await
}

async fn key(client: &mut Client<'_>, name: &str, company: i64, permissions: &[&str]) -> String {
    let res = make_key(client, name, company, permissions).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json::<CreatedKey>().secret
}

const ALL_CUSTOMERS: [&str; 4] = ["customers.view", "customers.create", "customers.edit", "customers.delete"];

async fn default_type(app: &TestApp, account: i64) -> i64 {
    sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1 AND is_default").bind(account).fetch_one(app.db()).await.unwrap()
}

fn problem(res: &Response, status: StatusCode) -> Value {
    assert_eq!(res.status, status, "{}", res.text());
    assert_eq!(res.headers.get("content-type").unwrap(), "application/problem+json", "{}", res.text());
    let body: Value = res.json();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().unwrap().starts_with("urn:roster:problem:"));
    assert!(!body["request_id"].as_str().unwrap().is_empty());
    body
}

#[sqlx::test]
async fn a_key_is_shown_once_kept_as_its_hash_and_its_changes_name_it(db: PgPool) {
    let app = TestApp::new(db);
    let mut admin = app.sign_up("Alpha", "admin@a.test").await;
    let account = crate::support::account_id_of(&app, "admin@a.test").await;
    let root: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1").bind(account).fetch_one(app.db()).await.unwrap();
    let secret = key(&mut admin, "CRM sync", root, &ALL_CUSTOMERS).await;
    assert!(secret.starts_with("roster_") && secret.len() > 40);

    // Only the hash is stored; the list shows the prefix and never the secret.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE token_hash = sha256($1::bytea) AND prefix = left($1, 12)")
        .bind(&secret)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 1);
    assert_eq!(app.count(&format!("SELECT count(*) FROM api_keys WHERE prefix = '{secret}' OR name = '{secret}'")).await, 0);
    let listing = admin.call("api_keys", &[]).await;
    assert!(!listing.text().contains(&secret), "the list never carries a secret");
    let keys: ApiKeys = listing.json();
    assert_eq!(keys.keys[0].last_used_at, None);

    // Create through the API: 201, Location, the customer, and an audit row naming the key.
    let kind = default_type(&app, account).await;
    let res = app.rest("POST", "/customers", Some(&secret), Some(json!({
        "title": "Solar Farm North", "email": "ops@farm.example", "city": "Cape Town",
        "customer_type_id": kind, "owner_company_id": root
    }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created: Value = res.json();
    let location = res.headers.get("location").unwrap().to_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/customers/{}", created["id"]));
    assert_eq!(created["version"], 1);
    assert_eq!(created["owner_company"]["id"], root);
    let fetched = app.rest("GET", location.trim_start_matches("/api/v1"), Some(&secret), None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json::<Value>()["title"], "Solar Farm North");
    let actor: String = sqlx::query_scalar("SELECT actor_label FROM audit_events WHERE action = 'customer.created'").fetch_one(app.db()).await.unwrap();
    assert_eq!(actor, "admin@a.test (API key “CRM sync”)");
    let created_row: i64 = app.count("SELECT count(*) FROM audit_events WHERE action = 'api_key.created'").await;
    assert_eq!(created_row, 1);
    let keys: ApiKeys = admin.call("api_keys", &[]).await.json();
    assert!(keys.keys[0].last_used_at.is_some(), "the list shows when the key was last used");

    // No key, a wrong key: 401 with the Bearer challenge.
    for key in [None, Some("roster_not-a-key"), Some("something-else")] {
        let res = app.rest("GET", "/customers", key, None).await;
        problem(&res, StatusCode::UNAUTHORIZED);
        assert!(res.headers.get("www-authenticate").unwrap().to_str().unwrap().starts_with("Bearer"));
    }
}

#[sqlx::test]
async fn ids_of_another_account_or_branch_are_not_found_and_change_nothing(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let in_scope = world.fresh_customer(Place::InScope).await;
    let beside = world.fresh_customer(Place::OutOfScope).await;
    let elsewhere = world.fresh_customer(Place::OtherAccount).await;
    // A key of account A's Administrator limited to company D: I is below it, S beside it.
    let d_key = key(actors.admin(), "Branch D", world.companies["D"], &ALL_CUSTOMERS).await;
    // A key of account B's Administrator, whole account.
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    let b_key = key(&mut b_admin, "Beta", world.companies["B"], &ALL_CUSTOMERS).await;

    let kind_a = default_type(&app, world.a).await;
    assert_eq!(app.rest("GET", &format!("/customers/{in_scope}"), Some(&d_key), None).await.status, StatusCode::OK);
    for (key, target) in [(&d_key, beside), (&d_key, elsewhere), (&b_key, in_scope), (&b_key, beside)] {
        let before = world.fingerprint().await;
        let update = json!({"title": "Taken over", "customer_type_id": kind_a, "owner_company_id": world.companies["D"], "version": 1});
        for (method, path, body) in [
            ("GET", format!("/customers/{target}"), None),
            ("PUT", format!("/customers/{target}"), Some(update.clone())),
            ("DELETE", format!("/customers/{target}"), None),
            ("POST", "/customers/bulk-delete".to_owned(), Some(json!({"ids": [target]}))),
        ] {
            let res = app.rest(method, &path, Some(key), body).await;
            problem(&res, StatusCode::NOT_FOUND);
        }
        // A parent or owner from elsewhere is refused as a field, and nothing is made.
        let res = app.rest("POST", "/customers", Some(key), Some(json!({
            "title": world.unique("Sneaky "), "customer_type_id": kind_a, "owner_company_id": world.companies["S"], "parent_id": target
        }))).await;
        assert!(matches!(res.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND), "{}", res.text());
        assert_eq!(world.fingerprint().await, before, "a refused request changed nothing");
    }
    // The lists show only what the key may see.
    let listed: Value = app.rest("GET", "/customers?limit=100", Some(&d_key), None).await.json();
    let ids: Vec<i64> = listed["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&in_scope) && !ids.contains(&beside) && !ids.contains(&elsewhere), "{ids:?}");
    let companies: Value = app.rest("GET", "/companies", Some(&key(actors.admin(), "Tree", world.companies["D"], &["companies.view"]).await), None).await.json();
    let names: Vec<&str> = companies.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["D", "I"]);
}

#[sqlx::test]
async fn a_key_acts_with_what_both_it_and_its_creator_hold_now(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let target = world.fresh_customer(Place::InScope).await;
    let root = world.companies["A"];

    // Without the permission: 403, and nothing changes.
    let view_only = key(actors.admin(), "Viewer", root, &["customers.view"]).await;
    let before = world.fingerprint().await;
    problem(&app.rest("DELETE", &format!("/customers/{target}"), Some(&view_only), None).await, StatusCode::FORBIDDEN);
    problem(&app.rest("GET", "/companies", Some(&view_only), None).await, StatusCode::FORBIDDEN);
    problem(&app.rest("GET", "/audit-events", Some(&view_only), None).await, StatusCode::FORBIDDEN);
    assert_eq!(world.fingerprint().await, before);

    // Nobody gives a key what they do not hold, nor a company outside their reach; only
    // holders of "API keys – Manage" make keys at all.
    let lead_role: i64 = sqlx::query_scalar(
        "INSERT INTO roles (account_id, name, rank) VALUES ($1, 'Integrator', 1) RETURNING id",
    )
    .bind(world.a)
    .fetch_one(app.db())
    .await
    .unwrap();
    for p in ["api_keys.manage", "customers.view", "customers.delete"] {
        sqlx::query("INSERT INTO role_permissions (account_id, role_id, permission) VALUES ($1, $2, $3)")
            .bind(world.a).bind(lead_role).bind(p).execute(app.db()).await.unwrap();
    }
    let lead = world.user(world.a, world.companies["D"], "owner", "lead@a.test", "active").await;
    sqlx::query("UPDATE users SET role_id = $2 WHERE id = $1").bind(lead).bind(lead_role).execute(app.db()).await.unwrap();
    let mut lead_client = app.client();
    assert!(lead_client.sign_in("lead@a.test", PASSWORD).await.status.is_success());
    let more = make_key(&mut lead_client, "Too much", world.companies["D"], &["customers.view", "customers.edit"]).await;
    assert!(matches!(more.error(), AppError::Validation(e) if e.get("permissions").is_some()));
    let outside = make_key(&mut lead_client, "Elsewhere", world.companies["S"], &["customers.view"]).await;
    assert!(matches!(outside.error(), AppError::Validation(e) if e.get("company_id").is_some()));
    let res = make_key(actors.get(roster::permissions::BuiltinRole::CommonManager), "Manager", root, &["customers.view"]).await;
    assert_eq!(res.error(), AppError::Forbidden, "built in, only Administrators hold API keys – Manage");

    // The creator loses the permission: the key loses it too.
    let lead_key = key(&mut lead_client, "Cleaner", world.companies["D"], &["customers.view", "customers.delete"]).await;
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1 AND permission = 'customers.delete'").bind(lead_role).execute(app.db()).await.unwrap();
    let before = world.fingerprint().await;
    problem(&app.rest("DELETE", &format!("/customers/{target}"), Some(&lead_key), None).await, StatusCode::FORBIDDEN);
    assert_eq!(world.fingerprint().await, before);
    assert_eq!(app.rest("GET", &format!("/customers/{target}"), Some(&lead_key), None).await.status, StatusCode::OK);

    // The creator moves to a branch beside the key's company: the key stops.
    sqlx::query("UPDATE users SET company_id = $2 WHERE id = $1").bind(lead).bind(world.companies["S"]).execute(app.db()).await.unwrap();
    problem(&app.rest("GET", "/customers", Some(&lead_key), None).await, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn revoked_expired_and_orphaned_keys_are_refused(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let root = world.companies["A"];
    let get = |key: String| {
        let app = &app;
        async move { app.rest("GET", "/customers", Some(&key), None).await.status }
    };

    let revoked = key(actors.admin(), "Old", root, &["customers.view"]).await;
    assert_eq!(get(revoked.clone()).await, StatusCode::OK);
    let keys: ApiKeys = actors.admin().call("api_keys", &[]).await.json();
    let id = keys.keys.iter().find(|k| k.name == "Old").unwrap().id.to_string();
    // Twenty revocations at once: all succeed, one audit row.
    let mut clients: Vec<Client> = Vec::new();
    for _ in 0..20 {
        let mut c = app.client();
        assert!(c.sign_in("administrator@a.test", PASSWORD).await.status.is_success());
        clients.push(c);
    }
    let form = [("id", id.as_str())];
    let results = join_all(clients.iter_mut().map(|c| c.call("revoke_api_key", &form))).await;
    assert!(results.iter().all(|r| r.status == StatusCode::OK), "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'api_key.revoked'").await, 1);
    assert_eq!(get(revoked).await, StatusCode::UNAUTHORIZED);

    // Another account's key id is not found.
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    assert_eq!(b_admin.call("revoke_api_key", &[("id", id.as_str())]).await.error(), AppError::NotFound);

    let expiring = key(actors.admin(), "Short", root, &["customers.view"]).await;
    app.advance(chrono::Duration::days(30) + chrono::Duration::seconds(1));
    assert_eq!(get(expiring).await, StatusCode::UNAUTHORIZED);

    // (The month passed ended the sessions too: sign in again.)
    let mut admin = app.client();
    assert!(admin.sign_in("administrator@a.test", PASSWORD).await.status.is_success());
    let by_disabled = key(&mut admin, "Disabled creator", root, &["customers.view"]).await;
    let by_removed = key(&mut admin, "Removed creator", root, &["customers.view"]).await;
    assert_eq!(get(by_disabled.clone()).await, StatusCode::OK);
    let creator = world.actor_ids["administrator"];
    sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1").bind(creator).execute(app.db()).await.unwrap();
    assert_eq!(get(by_disabled).await, StatusCode::UNAUTHORIZED);
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(creator).execute(app.db()).await.unwrap();
    sqlx::query("DELETE FROM users WHERE id = $1").bind(creator).execute(app.db()).await.unwrap();
    assert_eq!(get(by_removed).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count(&format!("SELECT count(*) FROM api_keys WHERE created_by = {creator}")).await, 0);
}

#[sqlx::test]
async fn versions_bodies_and_paths_answer_as_rest_clients_expect(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let root = world.companies["A"];
    let key = key(actors.admin(), "Editor", root, &ALL_CUSTOMERS).await;
    let target = world.fresh_customer(Place::InScope).await;
    let kind = default_type(&app, world.a).await;
    let update = |title: &str, version: i32| json!({"title": title, "customer_type_id": kind, "owner_company_id": world.companies["I"], "version": version});

    let res = app.rest("PUT", &format!("/customers/{target}"), Some(&key), Some(update("Renamed once", 1))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json::<Value>()["version"], 2);
    let stale = app.rest("PUT", &format!("/customers/{target}"), Some(&key), Some(update("Renamed twice", 1))).await;
    problem(&stale, StatusCode::CONFLICT);
    let title: String = sqlx::query_scalar("SELECT title FROM customers WHERE id = $1").bind(target).fetch_one(app.db()).await.unwrap();
    assert_eq!(title, "Renamed once");

    // Validation: 422 with the fields named as the API names them.
    let res = app.rest("POST", "/customers", Some(&key), Some(json!({"title": "", "email": "not-mail", "customer_type_id": kind, "owner_company_id": root}))).await;
    let body = problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"title") && fields.contains(&"email"), "{fields:?}");
    problem(&app.rest("GET", "/customers?limit=7", Some(&key), None).await, StatusCode::UNPROCESSABLE_ENTITY);

    // Unreadable: 400 problem details, whatever is wrong.
    let auth = format!("Bearer {key}");
    for (method, path, body) in [
        ("POST", "/customers", b"{\"title\": ".to_vec()),
        ("POST", "/customers", b"[1, 2]".to_vec()),
        ("POST", "/customers", b"{\"title\": 5, \"customer_type_id\": 1, \"owner_company_id\": 1}".to_vec()),
        ("GET", "/customers/not-a-number", Vec::new()),
        ("GET", "/customers?sort=sideways", Vec::new()),
    ] {
        let res = app.rest_raw(method, path, &[("authorization", &auth), ("content-type", "application/json")], body).await;
        problem(&res, StatusCode::BAD_REQUEST);
    }
    // A body over the limit: 413, read no further; an unknown path: a 404 problem.
    let big = vec![b' '; 300 * 1024];
    let res = app.rest_raw("POST", "/customers", &[("authorization", &auth), ("content-type", "application/json")], big).await;
    problem(&res, StatusCode::PAYLOAD_TOO_LARGE);
    problem(&app.rest("GET", "/nothing-here", Some(&key), None).await, StatusCode::NOT_FOUND);

    // Cursor paging walks the whole list once.
    for n in 0..23 {
        let res = app.rest("POST", "/customers", Some(&key), Some(json!({"title": format!("Paged {n:02}"), "customer_type_id": kind, "owner_company_id": root}))).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    }
    let mut seen = Vec::new();
    let mut path = "/customers?q=Paged&limit=10".to_owned();
    loop {
        let page: Value = app.rest("GET", &path, Some(&key), None).await.json();
        seen.extend(page["data"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/customers?q=Paged&limit=10&after={}", url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|n| format!("Paged {n:02}")).collect();
    assert_eq!(seen, expected);
}

#[sqlx::test]
async fn cookies_never_authenticate_the_api_and_keys_never_reach_server_functions(db: PgPool) {
    let app = TestApp::new(db);
    let mut admin = app.sign_up("Alpha", "admin@a.test").await;
    let cookie = admin.cookie.clone().unwrap();
    let res = app.rest_raw("GET", "/customers", &[("cookie", &cookie)], Vec::new()).await;
    problem(&res, StatusCode::UNAUTHORIZED);
    let account = crate::support::account_id_of(&app, "admin@a.test").await;
    let root: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1").bind(account).fetch_one(app.db()).await.unwrap();
    let secret = key(&mut admin, "K", root, &["customers.view"]).await;
    // From another site, with a key: fine (no cookie, so nothing to forge).
    let auth = format!("Bearer {secret}");
    let res = app.rest_raw("GET", "/customers", &[("authorization", &auth), ("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")], Vec::new()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // A server function ignores the key.
    let mut anonymous = app.client().with_header("authorization", &auth);
    assert_eq!(anonymous.call("customers", &[("query[q]", "")]).await.error(), AppError::Unauthenticated);
}

#[sqlx::test]
async fn the_per_key_limit_holds_under_a_burst(db: PgPool) {
    let app = TestApp::with_config(db, |config| config.api_requests_per_key_per_minute = 10);
    let mut admin = app.sign_up("Alpha", "admin@a.test").await;
    let account = crate::support::account_id_of(&app, "admin@a.test").await;
    let root: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1").bind(account).fetch_one(app.db()).await.unwrap();
    let secret = key(&mut admin, "Busy", root, &["customers.view"]).await;
    let other = key(&mut admin, "Quiet", root, &["customers.view"]).await;
    let results = join_all((0..30).map(|_| app.rest("GET", "/customers", Some(&secret), None))).await;
    let ok = results.iter().filter(|r| r.status == StatusCode::OK).count();
    let limited: Vec<&Response> = results.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!((ok, limited.len()), (10, 20), "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    for res in &limited {
        let retry: i64 = res.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        problem(res, StatusCode::TOO_MANY_REQUESTS);
    }
    // Another key has its own limit; a minute later the first may go on.
    assert_eq!(app.rest("GET", "/customers", Some(&other), None).await.status, StatusCode::OK);
    app.advance(chrono::Duration::seconds(61));
    assert_eq!(app.rest("GET", "/customers", Some(&secret), None).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn thirty_creates_of_one_title_at_once_make_one_customer_and_no_server_error(db: PgPool) {
    let app = TestApp::new(db);
    let mut admin = app.sign_up("Alpha", "admin@a.test").await;
    let account = crate::support::account_id_of(&app, "admin@a.test").await;
    let root: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1").bind(account).fetch_one(app.db()).await.unwrap();
    let secret = key(&mut admin, "Racer", root, &ALL_CUSTOMERS).await;
    let kind = default_type(&app, account).await;
    let body = json!({"title": "Only once", "customer_type_id": kind, "owner_company_id": root});
    let results = join_all((0..30).map(|_| app.rest("POST", "/customers", Some(&secret), Some(body.clone())))).await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| !s.is_server_error()), "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM customers WHERE title = 'Only once'").await, 1);
}

#[sqlx::test]
async fn the_openapi_document_describes_every_operation_and_answer(db: PgPool) {
    let app = TestApp::new(db);
    let res = app.rest("GET", "/openapi.json", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let doc: Value = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            assert!(!op["summary"].as_str().unwrap_or_default().is_empty(), "{name} has a summary");
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403", "404", "422", "429"] {
                assert!(responses.contains_key(status), "{name} documents {status}");
            }
            for (status, response) in responses {
                if status == "204" {
                    continue;
                }
                let content = response["content"].as_object().unwrap_or_else(|| panic!("{name} {status}: no content"));
                for (media, body) in content {
                    let schema = &body["schema"];
                    assert!(schema.as_object().is_some_and(|s| !s.is_empty()), "{name} {status} {media}: empty schema");
                    if let Some(reference) = schema["$ref"].as_str() {
                        let target = reference.trim_start_matches("#/components/schemas/");
                        assert!(schemas[target].as_object().is_some_and(|s| !s.is_empty()), "{name} {status}: {target} is empty");
                    }
                }
            }
            if let Some(body) = op.get("requestBody") {
                assert!(body["content"]["application/json"]["schema"].as_object().is_some_and(|s| !s.is_empty()), "{name} request");
            }
        }
    }
    assert!(operations >= 8, "{operations} operations");
}

#[sqlx::test]
async fn groups_customer_users_and_staff_follow_the_same_rules_as_the_screens(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let root = world.companies["A"];
    let all = [
        "customers.view", "customers.edit", "customer_users.view", "customer_users.manage", "users.view", "users.manage",
    ];
    let people_key = key(actors.admin(), "People", root, &all).await;
    let key = people_key.as_str();
    let customer = world.fresh_customer(Place::InScope).await;
    let elsewhere = world.fresh_customer(Place::OtherAccount).await;

    // Groups and membership, with versions.
    let res = app.rest("POST", "/customer-groups", Some(key), Some(json!({"name": "VIP"}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let group: Value = res.json();
    assert_eq!(res.headers.get("location").unwrap().to_str().unwrap(), format!("/api/v1/customer-groups/{}", group["id"]));
    let gid = group["id"].as_i64().unwrap();
    problem(&app.rest("POST", "/customer-groups", Some(key), Some(json!({"name": "All"}))).await, StatusCode::UNPROCESSABLE_ENTITY);
    let renamed = app.rest("PUT", &format!("/customer-groups/{gid}"), Some(key), Some(json!({"name": "Very important", "version": 1}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    problem(&app.rest("PUT", &format!("/customer-groups/{gid}"), Some(key), Some(json!({"name": "Again", "version": 1}))).await, StatusCode::CONFLICT);
    let set = app.rest("PUT", &format!("/customers/{customer}/groups"), Some(key), Some(json!({"group_ids": [gid], "version": 1}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json::<Value>()["version"], 2);
    problem(&app.rest("PUT", &format!("/customers/{elsewhere}/groups"), Some(key), Some(json!({"group_ids": [gid], "version": 1}))).await, StatusCode::NOT_FOUND);

    // A customer user gets an activation e-mail; the answer carries no link.
    let res = app.rest("POST", &format!("/customers/{customer}/users"), Some(key), Some(json!({
        "email": "thandi@farm.test", "first_name": "Thandi", "last_name": "Mokoena"
    }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert!(!res.text().contains("token"), "{}", res.text());
    let user: Value = res.json();
    assert_eq!(user["status"], "awaiting_activation");
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address = 'thandi@farm.test'").await, 1);
    let uid = user["id"].as_i64().unwrap();
    assert_eq!(app.rest("POST", &format!("/customer-users/{uid}/disable"), Some(key), None).await.status, StatusCode::NO_CONTENT);
    let status: String = sqlx::query_scalar("SELECT status FROM users WHERE id = $1").bind(uid).fetch_one(app.db()).await.unwrap();
    assert_eq!(status, "disabled");
    problem(&app.rest("POST", &format!("/customers/{elsewhere}/users"), Some(key), Some(json!({
        "email": "x@farm.test", "first_name": "X", "last_name": "Y"
    }))).await, StatusCode::NOT_FOUND);

    // Staff: listed within scope; acting on someone who holds more than the key is refused
    // (the key's permissions, not its creator's, are what it acts with).
    let listed: Value = app.rest("GET", "/users?limit=100", Some(key), None).await.json();
    assert!(listed["data"].as_array().unwrap().iter().any(|u| u["email"] == "operations_engineer@a.test"));
    let manager = world.actor_ids["common_manager"];
    let before = world.fingerprint().await;
    problem(&app.rest("POST", &format!("/users/{manager}/disable"), Some(key), None).await, StatusCode::CONFLICT);
    assert_eq!(world.fingerprint().await, before);
    let b_admin: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@b.test'").fetch_one(app.db()).await.unwrap();
    problem(&app.rest("POST", &format!("/users/{b_admin}/disable"), Some(key), None).await, StatusCode::NOT_FOUND);
    problem(&app.rest("GET", &format!("/users/{b_admin}"), Some(key), None).await, StatusCode::NOT_FOUND);

    // Invitations: the key may give only a role it covers; the answer carries no link.
    let owner_role = world.builtin_role(world.a, "owner").await;
    let engineer_role = world.builtin_role(world.a, "operations_engineer").await;
    let refused = app.rest("POST", "/invitations", Some(key), Some(json!({"emails": ["eng@a.test"], "role_id": engineer_role, "company_id": world.companies["D"]}))).await;
    assert!(matches!(refused.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::FORBIDDEN), "{}", refused.text());
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'eng@a.test'").await, 0);
    let owner_key = self::key(actors.admin(), "Owner maker", root, &["users.view", "users.manage", "customers.view", "companies.view"]).await;
    let invited = app.rest("POST", "/invitations", Some(&owner_key), Some(json!({"emails": ["new.owner@a.test"], "role_id": owner_role, "company_id": world.companies["D"]}))).await;
    assert_eq!(invited.status, StatusCode::ACCEPTED, "{}", invited.text());
    assert_eq!(invited.json::<Value>()["invited"], 1);
    assert!(!invited.text().contains("token"));

    // NUL never reaches the database: refused in the address, and by each text field's rule.
    problem(&app.rest("GET", "/customers?q=a%00b", Some(key), None).await, StatusCode::BAD_REQUEST);
    let res = app.rest_raw("POST", "/customer-groups", &[("authorization", &format!("Bearer {key}")), ("content-type", "application/json")],
        b"{\"name\": \"a\\u0000b\"}".to_vec()).await;
    let body = problem(&res, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "name");
}

#[sqlx::test]
async fn no_key_gives_restores_or_takes_away_an_administrator(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let root = world.companies["A"];
    let every: Vec<&str> = roster::permissions::Permission::ALL.iter().map(|p| p.key()).collect();
    let key = key(actors.admin(), "Everything", root, &every).await;
    let admin_role = world.builtin_role(world.a, "administrator").await;
    let before = world.fingerprint().await;
    let res = app.rest("POST", "/invitations", Some(&key), Some(json!({"emails": ["boss@a.test"], "role_id": admin_role, "company_id": root}))).await;
    assert!(!res.status.is_success(), "{}", res.text());
    assert!(!res.status.is_server_error());
    let other_admin = world.actor_ids["administrator"];
    problem(&app.rest("POST", &format!("/users/{other_admin}/disable"), Some(&key), None).await, StatusCode::CONFLICT);
    let disabled_admin = world.user(world.a, root, "administrator", "resting@a.test", "disabled").await;
    let before_enable = world.fingerprint().await;
    problem(&app.rest("POST", &format!("/users/{disabled_admin}/enable"), Some(&key), None).await, StatusCode::CONFLICT);
    assert_eq!(world.fingerprint().await, before_enable);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'boss@a.test'").await, 0);
    let _ = before;
    // Short of that, such a key may act on lower ranks as its maker could.
    let owner = world.fresh_user(Place::InScope, "active").await;
    assert_eq!(app.rest("POST", &format!("/users/{owner}/disable"), Some(&key), None).await.status, StatusCode::NO_CONTENT);
}

#[sqlx::test]
async fn a_reset_pauses_keys_and_only_someone_over_the_maker_revokes_their_key(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let root = world.companies["A"];
    let admin_key = key(actors.admin(), "Admin's", root, &["customers.view"]).await;
    // A manager given "API keys – Manage" sees the key in their branch's list but may not
    // revoke an Administrator's key.
    let manager_role = world.builtin_role(world.a, "common_manager").await;
    sqlx::query("INSERT INTO role_permissions (account_id, role_id, permission) VALUES ($1, $2, 'api_keys.manage')")
        .bind(world.a).bind(manager_role).execute(app.db()).await.unwrap();
    let mut manager = app.client();
    assert!(manager.sign_in("common_manager@a.test", PASSWORD).await.status.is_success());
    let d_key = key(actors.admin(), "Branch", world.companies["D"], &["customers.view"]).await;
    let keys: ApiKeys = manager.call("api_keys", &[]).await.json();
    let branch = keys.keys.iter().find(|k| k.name == "Branch").expect("the manager lists keys of their branch");
    assert!(keys.keys.iter().all(|k| k.name != "Admin's"), "a key of the root company is outside the manager's branch");
    let res = manager.call("revoke_api_key", &[("id", &branch.id.to_string())]).await;
    assert!(matches!(res.error(), AppError::Refused(_)));
    assert_eq!(app.rest("GET", "/customers", Some(&d_key), None).await.status, StatusCode::OK);
    // Their own key, they may.
    let own = key(&mut manager, "Mine", world.companies["D"], &["customers.view"]).await;
    let keys: ApiKeys = manager.call("api_keys", &[]).await.json();
    let mine = keys.keys.iter().find(|k| k.name == "Mine").unwrap().id.to_string();
    assert_eq!(manager.call("revoke_api_key", &[("id", &mine)]).await.status, StatusCode::OK);
    assert_eq!(app.rest("GET", "/customers", Some(&own), None).await.status, StatusCode::UNAUTHORIZED);

    // Someone else reset the maker's password: the keys stop until the maker chooses one.
    let maker = world.actor_ids["administrator"];
    sqlx::query("UPDATE users SET must_change_password = true WHERE id = $1").bind(maker).execute(app.db()).await.unwrap();
    assert_eq!(app.rest("GET", "/customers", Some(&admin_key), None).await.status, StatusCode::UNAUTHORIZED);
    sqlx::query("UPDATE users SET must_change_password = false WHERE id = $1").bind(maker).execute(app.db()).await.unwrap();
    assert_eq!(app.rest("GET", "/customers", Some(&admin_key), None).await.status, StatusCode::OK);
}

/// Every operation that names a record, with ids of another account: 404 and nothing changes;
/// filters naming them find nothing. The same operations with a key lacking their permission:
/// 403 and nothing changes.
#[sqlx::test]
async fn every_operation_refuses_another_accounts_ids_and_a_key_without_its_permission(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let root = world.companies["A"];
    let every: Vec<&str> = roster::permissions::Permission::ALL.iter().map(|p| p.key()).collect();
    let full = key(actors.admin(), "Everything", root, &every).await;
    let customer = world.fresh_customer(Place::OtherAccount).await;
    let group = world.fresh_group(Place::OtherAccount).await;
    let customer_user = world.fresh_customer_user(Place::OtherAccount).await;
    let user = world.fresh_user(Place::OtherAccount, "active").await;
    let invited = world.fresh_user(Place::OtherAccount, "invited").await;
    let (b, b_company) = world.company_at(Place::OtherAccount);
    let b_type = default_type(&app, b).await;
    let b_role = world.builtin_role(b, "owner").await;
    let kind = default_type(&app, world.a).await;
    let fields = json!({"title": "Elsewhere", "customer_type_id": kind, "owner_company_id": root, "version": 1});
    let person = json!({"email": "someone@else.test", "first_name": "Some", "last_name": "One"});
    let operations: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/customers/{customer}"), None),
        ("PUT", format!("/customers/{customer}"), Some(fields.clone())),
        ("DELETE", format!("/customers/{customer}"), None),
        ("POST", "/customers/bulk-delete".into(), Some(json!({"ids": [customer]}))),
        ("PUT", format!("/customers/{customer}/groups"), Some(json!({"group_ids": [], "version": 1}))),
        ("GET", format!("/customers/{customer}/users"), None),
        ("POST", format!("/customers/{customer}/users"), Some(person.clone())),
        ("PUT", format!("/customer-groups/{group}"), Some(json!({"name": "Taken", "version": 1}))),
        ("DELETE", format!("/customer-groups/{group}"), None),
        ("POST", format!("/customer-users/{customer_user}/disable"), None),
        ("POST", format!("/customer-users/{customer_user}/enable"), None),
        ("DELETE", format!("/customer-users/{customer_user}"), None),
        ("GET", format!("/users/{user}"), None),
        ("POST", format!("/users/{user}/disable"), None),
        ("POST", format!("/users/{user}/enable"), None),
        ("DELETE", format!("/invitations/{invited}"), None),
    ];
    let before = world.fingerprint().await;
    for (method, path, body) in &operations {
        let res = app.rest(method, path, Some(&full), body.clone()).await;
        problem(&res, StatusCode::NOT_FOUND);
    }
    // Another account's type, company, role or parent as a field: refused, nothing made.
    for (path, body) in [
        ("/customers", json!({"title": "Sneaky", "customer_type_id": b_type, "owner_company_id": root})),
        ("/customers", json!({"title": "Sneaky", "customer_type_id": kind, "owner_company_id": b_company})),
        ("/customers", json!({"title": "Sneaky", "customer_type_id": kind, "owner_company_id": root, "parent_id": customer})),
        ("/invitations", json!({"emails": ["sneaky@a.test"], "role_id": b_role, "company_id": root})),
        ("/invitations", json!({"emails": ["sneaky@a.test"], "role_id": world.builtin_role(world.a, "owner").await, "company_id": b_company})),
    ] {
        let res = app.rest("POST", path, Some(&full), Some(body)).await;
        assert!(matches!(res.status, StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY), "{path}: {}", res.text());
    }
    // Filters naming another account's records find nothing.
    for query in [format!("group_id={group}"), format!("owner_company_id={b_company}"), format!("parent_id={customer}"), format!("customer_type_id={b_type}")] {
        let page: Value = app.rest("GET", &format!("/customers?{query}"), Some(&full), None).await.json();
        assert_eq!(page["data"].as_array().unwrap().len(), 0, "{query}");
    }
    let users: Value = app.rest("GET", &format!("/users?company_id={b_company}"), Some(&full), None).await.json();
    assert_eq!(users["data"].as_array().unwrap().len(), 0);
    assert_eq!(world.fingerprint().await, before, "nothing of the other account changed");

    // A key holding only Companies – View: every other operation is 403, on the key's own
    // account's records, and changes nothing.
    let narrow = key(actors.admin(), "Narrow", root, &["companies.view"]).await;
    let own_customer = world.fresh_customer(Place::InScope).await;
    let own_group = world.fresh_group(Place::InScope).await;
    let own_customer_user = world.fresh_customer_user(Place::InScope).await;
    let own_user = world.fresh_user(Place::InScope, "active").await;
    let own_invited = world.fresh_user(Place::InScope, "invited").await;
    let before = world.fingerprint().await;
    let mut own: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/customers".into(), None),
        ("POST", "/customers".into(), Some(json!({"title": "New", "customer_type_id": kind, "owner_company_id": root}))),
        ("GET", "/customer-types".into(), None),
        ("GET", "/customer-groups".into(), None),
        ("POST", "/customer-groups".into(), Some(json!({"name": "New"}))),
        ("GET", "/users".into(), None),
        ("POST", "/invitations".into(), Some(json!({"emails": ["x@a.test"], "role_id": b_role, "company_id": root}))),
        ("GET", "/audit-events".into(), None),
    ];
    for (method, path, body) in &operations {
        let path = path
            .replace(&format!("/customers/{customer}"), &format!("/customers/{own_customer}"))
            .replace(&format!("/customer-groups/{group}"), &format!("/customer-groups/{own_group}"))
            .replace(&format!("/customer-users/{customer_user}"), &format!("/customer-users/{own_customer_user}"))
            .replace(&format!("/users/{user}"), &format!("/users/{own_user}"))
            .replace(&format!("/invitations/{invited}"), &format!("/invitations/{own_invited}"));
        own.push((method, path, body.clone()));
    }
    for (method, path, body) in &own {
        let res = app.rest(method, path, Some(&narrow), body.clone()).await;
        problem(&res, StatusCode::FORBIDDEN);
    }
    assert_eq!(world.fingerprint().await, before);
    assert_eq!(app.rest("GET", "/companies", Some(&narrow), None).await.status, StatusCode::OK);
}

/// A key at the account's top company lists as an Administrator does (every customer of the
/// account, totals from the counters), a key below it only its branch, with or without a
/// group filter; a key of another account sees none of them.
#[sqlx::test]
async fn a_top_company_key_lists_the_whole_account_and_a_branch_key_only_its_branch(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = default_type(&app, world.a).await;
    let top = key(actors.admin(), "Top", world.companies["A"], &ALL_CUSTOMERS).await;
    let branch = key(actors.admin(), "Branch", world.companies["D"], &["customers.view"]).await;
    let group: Value = app.rest("POST", "/customer-groups", Some(&top), Some(json!({"name": world.unique("Group ")}))).await.json();
    let mut made = Vec::new();
    for (i, owner) in ["A", "D", "I", "S", "D"].into_iter().enumerate() {
        let res = app.rest("POST", "/customers", Some(&top), Some(json!({
            "title": world.unique(&format!("Listed {owner} ")), "customer_type_id": kind, "owner_company_id": world.companies[owner]
        }))).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let customer: Value = res.json();
        if i % 2 == 0 {
            let res = app.rest("PUT", &format!("/customers/{}/groups", customer["id"]), Some(&top),
                Some(json!({"group_ids": [group["id"]], "version": customer["version"]}))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        }
        made.push((owner, customer["id"].as_i64().unwrap(), i % 2 == 0));
    }
    let in_account = |filter: &str| {
        let sql = format!("SELECT id FROM customers WHERE account_id = $1 {filter} ORDER BY id");
        let db = app.db().clone();
        let account = world.a;
        async move { sqlx::query_scalar::<_, i64>(&sql).bind(account).fetch_all(&db).await.unwrap() }
    };
    let listed = |secret: String, query: String| {
        let app = &app;
        async move {
            let page: Value = app.rest("GET", &format!("/customers?limit=100{query}"), Some(&secret), None).await.json();
            let mut ids: Vec<i64> = page["data"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
            ids.sort();
            (ids, page["total"]["value"].as_i64().unwrap())
        }
    };
    let everyone = in_account("").await;
    assert_eq!(listed(top.clone(), String::new()).await, (everyone.clone(), everyone.len() as i64));
    let group_id = group["id"].as_i64().unwrap();
    let members = in_account(&format!("AND group_ids @> ARRAY[{group_id}::bigint]")).await;
    assert_eq!(members.len(), 3);
    assert_eq!(listed(top.clone(), format!("&group_id={group_id}")).await, (members.clone(), 3));

    let branch_ids: Vec<i64> = {
        let mut ids: Vec<i64> = made.iter().filter(|(o, ..)| matches!(*o, "D" | "I")).map(|(_, id, _)| *id).collect();
        ids.extend(in_account(&format!("AND owner_company_id IN ({}, {})", world.companies["D"], world.companies["I"])).await);
        ids.sort();
        ids.dedup();
        ids
    };
    assert_eq!(listed(branch.clone(), String::new()).await, (branch_ids.clone(), branch_ids.len() as i64));
    let branch_members: Vec<i64> = made.iter().filter(|(o, _, m)| *m && matches!(*o, "D" | "I")).map(|(_, id, _)| *id).collect();
    assert_eq!(branch_members.len(), 2);
    assert_eq!(listed(branch, format!("&group_id={group_id}")).await, (branch_members, 2));

    // Account B's top key sees none of A's customers.
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    let b_top = key(&mut b_admin, "Beta top", world.companies["B"], &["customers.view"]).await;
    let (b_ids, _) = listed(b_top, String::new()).await;
    assert!(b_ids.iter().all(|id| !everyone.contains(id)), "{b_ids:?}");
}

/// Two instances on one database count one key's requests together.
#[sqlx::test]
async fn the_per_key_limit_holds_across_two_instances(db: PgPool) {
    let one = TestApp::with_config(db.clone(), |config| config.api_requests_per_key_per_minute = 12);
    let two = crate::instances::second_instance(&db, |config| config.api_requests_per_key_per_minute = 12).await;
    let mut admin = one.sign_up("Alpha", "admin@a.test").await;
    let account = crate::support::account_id_of(&one, "admin@a.test").await;
    let root: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1").bind(account).fetch_one(one.db()).await.unwrap();
    let secret = key(&mut admin, "Shared", root, &["customers.view"]).await;
    let results = join_all((0..40).map(|i| {
        let app = if i % 2 == 0 { &one } else { &two };
        app.rest("GET", "/customers", Some(&secret), None)
    }))
    .await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((ok, limited), (12, 28), "{statuses:?}");
}
