//! Customers, customer types, groups, bulk actions, add by account, self-registration, and the
//! list engine checked against plain SQL.

use crate::{
    fixture::{Place, World},
    support::{account_id_of, Client, TestApp, PASSWORD},
};
use axum::http::StatusCode;
use roster::{
    customers::{CustomerDetail, CustomerList, DeletionPreview, Total, NO_REGISTERED_ACCOUNT},
    error::AppError,
    permissions::BuiltinRole,
};
use sqlx::PgPool;

pub(crate) fn form(title: &str) -> Vec<(String, String)> {
    vec![("form[title]".into(), title.into())]
}

pub(crate) async fn create(client: &mut Client<'_>, world: &World<'_>, title: &str, parent: &str, place: Place) -> crate::support::Response {
    let (account, company) = world.company_at(place);
    let kind: i64 = sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1 AND is_default")
        .bind(account)
        .fetch_one(world.app.db())
        .await
        .unwrap();
    let mut fields = form(title);
    fields.push(("customer_type_id".into(), kind.to_string()));
    fields.push(("owner_company_id".into(), company.to_string()));
    fields.push(("parent".into(), parent.into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client.call("create_customer", &pairs).await
}

pub(crate) async fn customer_id(app: &TestApp, title: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM customers WHERE title = $1").bind(title).fetch_one(app.db()).await.unwrap()
}

fn list_form(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> =
        if extra.iter().any(|(k, _)| *k == "q") { Vec::new() } else { vec![("query[q]".into(), String::new())] };
    for (k, v) in extra {
        fields.push((format!("query[{k}]"), (*v).to_owned()));
    }
    fields
}

async fn list(client: &mut Client<'_>, extra: &[(&str, &str)]) -> CustomerList {
    let fields = list_form(extra);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = client.call("customers", &pairs).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

#[sqlx::test]
async fn titles_are_unique_per_account_case_insensitively(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    assert_eq!(create(actors.admin(), &world, "Acme Solar", "", Place::InScope).await.status, StatusCode::OK);
    let dup = create(actors.admin(), &world, "ACME solar", "", Place::InScope).await;
    assert_eq!(dup.error().field_message("title").as_deref(), Some("A customer with this title already exists."));
    // Another account may use the same title.
    let mut other = app.client();
    other.sign_in("admin@b.test", PASSWORD).await;
    assert_eq!(create(&mut other, &world, "Acme Solar", "", Place::OtherAccount).await.status, StatusCode::OK);
    assert_eq!(app.count("SELECT customer_count FROM accounts WHERE name = 'Alpha'").await, 1);
}

#[sqlx::test]
async fn sub_customers_nest_to_any_depth_without_cycles(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    for (title, parent) in [("Top", ""), ("Middle", "top"), ("Bottom", "Middle"), ("Deepest", "bottom")] {
        let res = create(admin, &world, title, parent, Place::InScope).await;
        assert_eq!(res.status, StatusCode::OK, "{title}: {}", res.text());
    }
    let top = customer_id(&app, "Top").await;
    let detail: CustomerDetail = admin.call("customer", &[("id", &top.to_string())]).await.json();
    // Moving Top under its own grandchild is refused.
    let mut fields = form("Top");
    fields.push(("customer_type_id".into(), detail.customer_type_id.to_string()));
    fields.push(("owner_company_id".into(), detail.owner_company_id.to_string()));
    fields.push(("parent".into(), "Deepest".into()));
    fields.push(("id".into(), top.to_string()));
    fields.push(("version".into(), detail.version.to_string()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = admin.call("update_customer", &pairs).await;
    assert!(res.error().field_message("parent").unwrap().contains("under itself"));
    let missing = create(admin, &world, "Orphan", "No Such Customer", Place::InScope).await;
    assert!(missing.error().field_message("parent").is_some());
}

#[sqlx::test]
async fn deleting_a_customer_takes_its_sub_customers_and_users_after_saying_how_many(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    for (title, parent) in [("Parent Co", ""), ("Child One", "Parent Co"), ("Child Two", "Parent Co"), ("Grandchild", "Child One"), ("Bystander", "")] {
        create(admin, &world, title, parent, Place::InScope).await;
    }
    let parent = customer_id(&app, "Parent Co").await;
    let grandchild = customer_id(&app, "Grandchild").await;
    let group: i64 = admin.call("save_customer_group", &[("name", "VIP")]).await.json();
    admin.call("add_customers_to_group", &[("ids[]", &grandchild.to_string()), ("ids[]", &parent.to_string()), ("group_id", &group.to_string())]).await;
    for (email, customer) in [("u1@c.test", parent), ("u2@c.test", grandchild)] {
        sqlx::query("INSERT INTO users (account_id, kind, email, display_name, status, customer_id) VALUES ($1, 'customer', $2, $2, 'active', $3)")
            .bind(world.a)
            .bind(email)
            .bind(customer)
            .execute(app.db())
            .await
            .unwrap();
    }
    let preview: DeletionPreview = admin.call("customer_deletion", &[("ids[]", &parent.to_string())]).await.json();
    assert_eq!((preview.sub_customers, preview.customer_users), (3, 2));
    let res = admin.call("delete_customers", &[("ids[]", &parent.to_string())]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM customers ORDER BY title").fetch_all(app.db()).await.unwrap();
    assert_eq!(titles, ["Bystander"]);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE kind = 'customer'").await, 0);
    assert_eq!(app.count("SELECT customer_count FROM accounts WHERE name = 'Alpha'").await, 1);
    assert_eq!(app.count("SELECT member_count FROM customer_groups WHERE name = 'VIP'").await, 0);
    let audit: serde_json::Value = sqlx::query_scalar("SELECT changes FROM audit_events WHERE action = 'customer.deleted'")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(audit["sub_customers"], 3);
    assert_eq!(audit["customer_users"], 2);
}

#[sqlx::test]
async fn bulk_actions_are_all_or_nothing(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    for t in ["One", "Two", "Three"] {
        create(actors.admin(), &world, t, "", Place::InScope).await;
    }
    let mut other = app.client();
    other.sign_in("admin@b.test", PASSWORD).await;
    create(&mut other, &world, "Foreign", "", Place::OtherAccount).await;
    let ids: Vec<String> = futures_ids(&app, &["One", "Two", "Foreign"]).await;
    let before = world.fingerprint().await;
    let group: i64 = actors.admin().call("save_customer_group", &[("name", "Batch")]).await.json();
    let before_bulk = world.fingerprint().await;
    assert_ne!(before, before_bulk);
    let types: Vec<i64> = sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1").bind(world.a).fetch_all(app.db()).await.unwrap();
    let new_type: i64 = actors.admin().call("save_customer_type", &[("name", "Premium")]).await.json();
    let _ = types;
    let before_bulk = world.fingerprint().await;
    let with = |action: &str, extra: (&'static str, String)| {
        let mut pairs: Vec<(String, String)> = ids.iter().map(|id| ("ids[]".to_owned(), id.clone())).collect();
        pairs.push((extra.0.to_owned(), extra.1));
        (action.to_owned(), pairs)
    };
    for (action, pairs) in [
        with("delete_customers", ("unused", String::new())),
        with("change_customer_type", ("customer_type_id", new_type.to_string())),
        with("add_customers_to_group", ("group_id", group.to_string())),
    ] {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = actors.admin().call(&action, &pairs).await;
        assert_eq!(res.error(), AppError::NotFound, "{action}");
        assert_eq!(world.fingerprint().await, before_bulk, "{action}: one bad id changes nothing");
    }
    // The same actions on the account's own customers succeed, each reporting what it did.
    let own = futures_ids(&app, &["One", "Two", "Three"]).await;
    let pairs: Vec<(&str, &str)> = own.iter().map(|id| ("ids[]", id.as_str())).chain([("group_id", "")]).collect();
    let mut pairs = pairs;
    let group_s = group.to_string();
    pairs.pop();
    pairs.push(("group_id", &group_s));
    let res = actors.admin().call("add_customers_to_group", &pairs).await;
    assert_eq!(res.json::<roster::customers::BulkResult>().message, "3 customers were added to Batch.");
    assert_eq!(app.count("SELECT member_count FROM customer_groups WHERE name = 'Batch'").await, 3);
    let again = actors.admin().call("add_customers_to_group", &pairs).await;
    assert!(again.json::<roster::customers::BulkResult>().message.contains("3 already belonged"));
}

async fn futures_ids(app: &TestApp, titles: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for t in titles {
        ids.push(customer_id(app, t).await.to_string());
    }
    ids
}

#[sqlx::test]
async fn a_type_in_use_cannot_be_deleted_and_the_default_moves(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    let premium: i64 = admin
        .call("save_customer_type", &[("name", "Premium"), ("description", ""), ("features[]", "create_plant"), ("features[]", "manage_customer_users")])
        .await
        .json();
    let features: Vec<String> = sqlx::query_scalar("SELECT unnest(features) FROM customer_types WHERE id = $1").bind(premium).fetch_all(app.db()).await.unwrap();
    assert_eq!(features, ["create_plant", "manage_customer_users"]);
    create(admin, &world, "Uses Premium", "", Place::InScope).await;
    let id = customer_id(&app, "Uses Premium").await.to_string();
    admin.call("change_customer_type", &[("ids[]", &id), ("customer_type_id", &premium.to_string())]).await;
    let res = admin.call("delete_customer_type", &[("id", &premium.to_string())]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("1 customer has the type Premium")));
    let standard: i64 = sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1 AND is_default").bind(world.a).fetch_one(app.db()).await.unwrap();
    let res = admin.call("delete_customer_type", &[("id", &standard.to_string())]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("default")));
    // Make Premium the default; Standard (unused) can then go.
    let res = admin
        .call("save_customer_type", &[("id", &premium.to_string()), ("name", "Premium"), ("description", ""), ("make_default", "on"), ("version", "1")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let stale = admin.call("save_customer_type", &[("id", &premium.to_string()), ("name", "Premium 2"), ("description", ""), ("version", "1")]).await;
    assert_eq!(stale.error(), AppError::Conflict);
    assert_eq!(admin.call("delete_customer_type", &[("id", &standard.to_string())]).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn another_accounts_customers_are_not_found_and_unchanged(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let mut other = app.client();
    other.sign_in("admin@b.test", PASSWORD).await;
    create(&mut other, &world, "Theirs", "", Place::OtherAccount).await;
    let theirs = customer_id(&app, "Theirs").await.to_string();
    let before = world.fingerprint().await;
    let admin = actors.admin();
    assert_eq!(admin.call("customer", &[("id", &theirs)]).await.error(), AppError::NotFound);
    assert_eq!(admin.call("customer_deletion", &[("ids[]", &theirs)]).await.error(), AppError::NotFound);
    assert_eq!(admin.call("set_customer_groups", &[("id", &theirs), ("version", "1")]).await.error(), AppError::NotFound);
    let mut fields = form("Mine now");
    fields.extend([("id".to_owned(), theirs.clone()), ("version".into(), "1".into())]);
    fields.push(("customer_type_id".into(), "1".into()));
    fields.push(("owner_company_id".into(), world.companies["A"].to_string()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(!admin.call("update_customer", &pairs).await.status.is_success());
    assert_eq!(world.fingerprint().await, before);
    let listed = list(admin, &[("size", "100")]).await;
    assert!(listed.rows.iter().all(|r| r.title != "Theirs"));
}

#[sqlx::test]
async fn an_installer_scoped_user_sees_and_changes_only_customers_owned_there(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Installer's", "", Place::InScope).await;
    create(actors.admin(), &world, "Sibling's", "", Place::OutOfScope).await;
    let installer = world.companies["I"];
    world.user(world.a, installer, "common_manager", "scoped@a.test", "active").await;
    let mut scoped = app.client();
    scoped.sign_in("scoped@a.test", PASSWORD).await;
    let listed = list(&mut scoped, &[]).await;
    assert_eq!(listed.rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["Installer's"]);
    assert_eq!(listed.total, Total::Exact(1));
    let sibling = customer_id(&app, "Sibling's").await.to_string();
    let before = world.fingerprint().await;
    assert_eq!(scoped.call("customer", &[("id", &sibling)]).await.error(), AppError::NotFound);
    assert_eq!(scoped.call("delete_customers", &[("ids[]", &sibling)]).await.error(), AppError::NotFound);
    // Nor can they create customers owned outside their branch.
    let res = create(&mut scoped, &world, "Sneaky", "", Place::OutOfScope).await;
    assert!(res.error().field_message("owner_company_id").is_some());
    assert_eq!(world.fingerprint().await, before);
}

#[sqlx::test]
async fn viewing_roles_cannot_change_customers(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Look Only", "", Place::InScope).await;
    let id = customer_id(&app, "Look Only").await.to_string();
    let owner = actors.get(BuiltinRole::Owner);
    assert_eq!(list(owner, &[]).await.rows.len(), 1);
    let before = world.fingerprint().await;
    assert_eq!(create(owner, &world, "Nope", "", Place::InScope).await.error(), AppError::Forbidden);
    assert_eq!(owner.call("delete_customers", &[("ids[]", &id)]).await.error(), AppError::Forbidden);
    assert_eq!(owner.call("save_customer_type", &[("name", "X"), ("description", "")]).await.error(), AppError::Forbidden);
    assert_eq!(world.fingerprint().await, before);
}

#[sqlx::test]
async fn concurrent_edits_of_a_customer_conflict(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Shared", "", Place::InScope).await;
    let id = customer_id(&app, "Shared").await;
    let detail: CustomerDetail = actors.admin().call("customer", &[("id", &id.to_string())]).await.json();
    let edit = |title: &str| {
        let mut fields = form(title);
        fields.extend([
            ("id".to_owned(), id.to_string()),
            ("version".into(), detail.version.to_string()),
            ("customer_type_id".into(), detail.customer_type_id.to_string()),
            ("owner_company_id".into(), detail.owner_company_id.to_string()),
            ("form[email]".into(), "ops@shared.test".into()),
        ]);
        fields
    };
    let first = edit("Shared (first)");
    let pairs: Vec<(&str, &str)> = first.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(actors.admin().call("update_customer", &pairs).await.status, StatusCode::OK);
    let second = edit("Shared (second)");
    let pairs: Vec<(&str, &str)> = second.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(actors.get(BuiltinRole::CommonManager).call("update_customer", &pairs).await.error(), AppError::Conflict);
    let title: String = sqlx::query_scalar("SELECT title FROM customers WHERE id = $1").bind(id).fetch_one(app.db()).await.unwrap();
    assert_eq!(title, "Shared (first)");
}

async fn register(app: &TestApp, email: &str) -> crate::support::Response {
    app.client()
        .call("register", &[("display_name", "Reggie Person"), ("email", email), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await
}

async fn confirmation_token(app: &TestApp, email: &str) -> String {
    let body: String = sqlx::query_scalar("SELECT body_text FROM outbox WHERE to_address = $1 AND kind = 'email_confirmation'")
        .bind(email)
        .fetch_one(app.db())
        .await
        .unwrap();
    body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
}

#[sqlx::test]
async fn people_register_confirm_by_email_and_sign_in_to_no_account(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    assert_eq!(register(&app, "reggie@home.test").await.status, StatusCode::OK);
    // Until the link is used there is no account to sign in to.
    let unconfirmed = app.client().sign_in("reggie@home.test", PASSWORD).await;
    assert_eq!(unconfirmed.error(), AppError::Refused(roster::auth::SIGN_IN_FAILED.into()));
    // Registering a taken address answers the same, and tells the owner instead.
    let taken = register(&app, "ada@acme.test").await;
    assert_eq!(taken.status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address = 'ada@acme.test' AND kind = 'already_registered'").await, 1);
    let token = confirmation_token(&app, "reggie@home.test").await;
    let mut reggie = app.client();
    assert_eq!(reggie.call("confirm_email", &[("token", &token)]).await.status, StatusCode::OK);
    let session = reggie.session().await.unwrap();
    assert_eq!(session.account_name, None);
    assert!(session.permissions.is_empty());
    let again = app.client().call("confirm_email", &[("token", &token)]).await;
    assert!(matches!(again.error(), AppError::Refused(m) if m.contains("already been used")));
    assert_eq!(app.client().sign_in("reggie@home.test", PASSWORD).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn add_by_account_gives_one_neutral_answer_for_every_unavailable_address(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind: i64 = sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1").bind(world.a).fetch_one(app.db()).await.unwrap();
    let owner = world.companies["I"].to_string();
    register(&app, "free@home.test").await;
    let token = confirmation_token(&app, "free@home.test").await;
    app.client().call("confirm_email", &[("token", &token)]).await;
    register(&app, "unconfirmed@home.test").await;
    let add = |email: &'static str| vec![("email", email), ("customer_type_id", ""), ("company_name", ""), ("owner_company_id", "")];
    let before = world.fingerprint().await;
    for email in ["nobody@home.test", "unconfirmed@home.test", "administrator@a.test", "admin@b.test"] {
        let mut fields = add(email);
        let (k, o) = (kind.to_string(), owner.clone());
        fields[1].1 = &k;
        fields[3].1 = &o;
        let res = actors.admin().call("add_customer_by_account", &fields).await;
        assert_eq!(res.error().field_message("email").as_deref(), Some(NO_REGISTERED_ACCOUNT), "{email}");
    }
    assert_eq!(world.fingerprint().await, before);
    let (k, o) = (kind.to_string(), owner.clone());
    let res = actors.admin().call("add_customer_by_account", &[("email", "free@home.test"), ("customer_type_id", &k), ("company_name", "Free Energy"), ("owner_company_id", &o)]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let (kind_now, account): (String, i64) = sqlx::query_as("SELECT kind, account_id FROM users WHERE email = 'free@home.test'").fetch_one(app.db()).await.unwrap();
    assert_eq!((kind_now.as_str(), account), ("customer", world.a));
    // Already attached: the same neutral answer.
    let res = actors.admin().call("add_customer_by_account", &[("email", "free@home.test"), ("customer_type_id", &k), ("company_name", "Again"), ("owner_company_id", &o)]).await;
    assert_eq!(res.error().field_message("email").as_deref(), Some(NO_REGISTERED_ACCOUNT));
    let _ = account_id_of;
}

/// The list engine against plain SQL, on enough rows to exercise every path: keyset pages
/// forward and back, typed page numbers, the last page, searches common and rare, groups, sorts.
#[sqlx::test]
async fn the_list_engine_returns_exactly_what_plain_sql_does(db: PgPool) {
    let app = TestApp::new(db);
    let mut admin = app.sign_up("Acme", "ada@acme.test").await;
    let account = account_id_of(&app, "ada@acme.test").await;
    roster::customers::ssr::seed::seed(app.db(), account, 12_000, |_| {}).await.unwrap();
    let titles = |sql: &'static str| {
        let db = app.db().clone();
        async move { sqlx::query_scalar::<_, String>(sql).fetch_all(&db).await.unwrap() }
    };
    let shown = |list: &CustomerList| list.rows.iter().map(|r| r.title.clone()).collect::<Vec<_>>();

    // First page, then next pages by cursor, then back.
    let all: Vec<String> = titles("SELECT title FROM customers ORDER BY title_sort").await;
    let first = list(&mut admin, &[("size", "25")]).await;
    assert_eq!(shown(&first), all[..25]);
    assert_eq!(first.total, Total::Exact(12_000));
    let second = list(&mut admin, &[("after", first.next.as_deref().unwrap()), ("page", "2")]).await;
    assert_eq!(shown(&second), all[25..50], "the size is remembered");
    let back = list(&mut admin, &[("before", second.previous.as_deref().unwrap()), ("page", "1")]).await;
    assert_eq!(shown(&back), all[..25]);
    let typed = list(&mut admin, &[("page", "101")]).await;
    assert_eq!(shown(&typed), all[2500..2525]);
    let last = list(&mut admin, &[("last", "true")]).await;
    assert_eq!(shown(&last), all[11_975..]);
    assert_eq!(last.page, 480);
    assert!(last.next.is_none());
    let descending = list(&mut admin, &[("desc", "true")]).await;
    assert_eq!(shown(&descending)[0], all[all.len() - 1]);

    // A common term walks; a rare one takes the trigram index. Both match plain SQL.
    let berlin: Vec<String> = titles("SELECT title FROM customers WHERE search LIKE '%berlin%' ORDER BY title_sort").await;
    let common = list(&mut admin, &[("q", "Berlin")]).await;
    assert_eq!(shown(&common), berlin[..25]);
    let next = list(&mut admin, &[("q", "Berlin"), ("after", common.next.as_deref().unwrap()), ("page", "2")]).await;
    assert_eq!(shown(&next), berlin[25..50]);
    let rare_term: String = sqlx::query_scalar("SELECT split_part(email, '@', 1) FROM customers ORDER BY id DESC LIMIT 1").fetch_one(app.db()).await.unwrap();
    let rare = list(&mut admin, &[("q", &rare_term)]).await;
    let expected: Vec<String> = sqlx::query_scalar("SELECT title FROM customers WHERE search LIKE '%' || $1 || '%' ORDER BY title_sort LIMIT 25")
        .bind(&rare_term)
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(shown(&rare), expected);
    assert!(matches!(rare.total, Total::Exact(n) if n as usize == expected.len() || n >= expected.len() as i64));

    // A group, sorts by city and creation.
    let group: i64 = sqlx::query_scalar("SELECT id FROM customer_groups ORDER BY name LIMIT 1").fetch_one(app.db()).await.unwrap();
    let members: Vec<String> = sqlx::query_scalar("SELECT title FROM customers WHERE group_ids @> ARRAY[$1::bigint] ORDER BY title_sort LIMIT 25")
        .bind(group)
        .fetch_all(app.db())
        .await
        .unwrap();
    let grouped = list(&mut admin, &[("group", &group.to_string())]).await;
    assert_eq!(shown(&grouped), members);
    let member_count: i64 = sqlx::query_scalar("SELECT count(*) FROM customers WHERE group_ids @> ARRAY[$1::bigint]").bind(group).fetch_one(app.db()).await.unwrap();
    assert_eq!(grouped.total, Total::Exact(member_count));
    let by_city: Vec<String> = titles("SELECT title FROM customers ORDER BY coalesce(city, ''), title_sort LIMIT 50").await;
    let city = list(&mut admin, &[("sort", "City")]).await;
    assert_eq!(shown(&city), by_city[..25]);
    let city2 = list(&mut admin, &[("sort", "City"), ("after", city.next.as_deref().unwrap()), ("page", "2")]).await;
    assert_eq!(shown(&city2), by_city[25..50]);
    let created: Vec<String> = titles("SELECT title FROM customers ORDER BY created_at, id LIMIT 25").await;
    assert_eq!(shown(&list(&mut admin, &[("sort", "Created")]).await), created);
    // The chosen page size stays with the user.
    list(&mut admin, &[("size", "50")]).await;
    assert_eq!(list(&mut admin, &[]).await.rows.len(), 50);
}

#[sqlx::test]
async fn removing_a_customer_gives_a_self_registered_person_their_own_account_back(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind: i64 = sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1 AND is_default").bind(world.a).fetch_one(app.db()).await.unwrap();
    let (k, o) = (kind.to_string(), world.companies["I"].to_string());
    register(&app, "own@home.test").await;
    let token = confirmation_token(&app, "own@home.test").await;
    app.client().call("confirm_email", &[("token", &token)]).await;
    let add = [("email", "own@home.test"), ("customer_type_id", k.as_str()), ("company_name", "Own Energy"), ("owner_company_id", o.as_str())];
    let res = actors.admin().call("add_customer_by_account", &add).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let customer: i64 = sqlx::query_scalar("SELECT customer_id FROM users WHERE email = 'own@home.test'").fetch_one(app.db()).await.unwrap();
    let customer = customer.to_string();
    // A colleague the staff made for the same customer.
    let made = actors
        .admin()
        .call("add_customer_user", &[("customer_id", customer.as_str()), ("form[email]", "made@own.test"), ("form[first_name]", "Made"), ("form[last_name]", "Here"), ("method", "show")])
        .await;
    assert!(made.status.is_success(), "{}", made.text());
    let mut own = app.client();
    assert!(own.sign_in("own@home.test", PASSWORD).await.status.is_success());
    assert_eq!(own.session().await.unwrap().account_name.as_deref(), Some("Alpha"));

    // Only with Customers – Delete, and never from elsewhere.
    let owner = actors.get(BuiltinRole::Owner);
    assert_eq!(owner.call("remove_customer", &[("id", &customer)]).await.error(), AppError::Forbidden);
    let mut other = app.client();
    other.sign_in("admin@b.test", PASSWORD).await;
    assert_eq!(other.call("remove_customer", &[("id", &customer)]).await.error(), AppError::NotFound);

    let res = actors.admin().call("remove_customer", &[("id", &customer)]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let message: roster::customers::BulkResult = res.json();
    assert_eq!(message.message, "Own Energy was removed from your customers. The person who registered on their own keeps their login.");

    // The person is a free registered account again: signed out of the portal, in again without it.
    assert!(own.session().await.is_none(), "their portal session ended");
    let (kind_now, account, placed): (String, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT kind, account_id, customer_id FROM users WHERE email = 'own@home.test'").fetch_one(app.db()).await.unwrap();
    assert_eq!((kind_now.as_str(), account, placed), ("registered", None, None));
    let mut again = app.client();
    assert!(again.sign_in("own@home.test", PASSWORD).await.status.is_success());
    assert_eq!(again.session().await.unwrap().account_name, None);
    // The staff-made colleague and the customer went; the counters agree.
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'made@own.test'").await, 0);
    assert_eq!(app.count(&format!("SELECT count(*) FROM customers WHERE id = {customer}")).await, 0);
    let (kept, real): (i64, i64) = sqlx::query_as(
        "SELECT customer_user_count, (SELECT count(*) FROM users WHERE account_id = $1 AND kind = 'customer') FROM accounts WHERE id = $1",
    )
    .bind(world.a)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(kept, real);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'customer.removed'").await, 1);
    // And they can be added again by account.
    let res = actors.admin().call("add_customer_by_account", &add).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

#[sqlx::test]
async fn renaming_a_customers_company_changes_that_alone(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Renamed Farm", "", Place::InScope).await;
    let id = customer_id(&app, "Renamed Farm").await.to_string();
    let res = actors.admin().call("rename_customer_company", &[("id", &id), ("company_name", "Farm Holdings")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let (title, company, version): (String, Option<String>, i32) =
        sqlx::query_as("SELECT title, company_name, version FROM customers WHERE id = $1::bigint").bind(&id).fetch_one(app.db()).await.unwrap();
    assert_eq!((title.as_str(), company.as_deref(), version), ("Renamed Farm", Some("Farm Holdings"), 2));
    let long = "x".repeat(121);
    let res = actors.admin().call("rename_customer_company", &[("id", &id), ("company_name", &long)]).await;
    assert!(res.error().field_message("company_name").is_some());
    let res = actors.admin().call("rename_customer_company", &[("id", &id), ("company_name", "")]).await;
    assert_eq!(res.status, StatusCode::OK);
    let company: Option<String> = sqlx::query_scalar("SELECT company_name FROM customers WHERE id = $1::bigint").bind(&id).fetch_one(app.db()).await.unwrap();
    assert_eq!(company, None);
    let mut other = app.client();
    other.sign_in("admin@b.test", PASSWORD).await;
    assert_eq!(other.call("rename_customer_company", &[("id", &id), ("company_name", "Taken")]).await.error(), AppError::NotFound);
}
