//! The holes a second adversarial review found in the trust release, each closed: addresses
//! folded as the database folds them, answers past the hour's allowance, mail floods through
//! sign-up and password resets, reset links outliving a password change, deleting a company
//! that still owns customers, changing what people outside one's companies hold, counts and
//! link pages telling more than they should.

use crate::{
    fixture::{Place, World},
    support::{add_staff, TestApp, PASSWORD},
};
use roster::{
    customer_users::ActivationView, error::AppError, home::Overview, permissions::BuiltinRole, services::links::LinkState,
    users::InvitationView,
};
use sqlx::PgPool;

fn sign_up_form<'a>(account: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("account_name", account), ("display_name", "Someone"), ("email", email), ("password", PASSWORD), ("password_confirm", PASSWORD)]
}

#[sqlx::test]
async fn an_address_with_a_dotted_capital_i_signs_in_and_stays_one_address(db: PgPool) {
    let app = TestApp::new(db);
    // PostgreSQL folds İ to i here; Rust's lower-casing gives i + a combining dot. The
    // database's folding decides, or this person could never sign in.
    app.sign_up("Istanbul Solar", "İnci@istanbul.test").await;
    for typed in ["İnci@istanbul.test", "inci@istanbul.test", "INCI@istanbul.test"] {
        let res = app.client().sign_in(typed, PASSWORD).await;
        assert!(res.status.is_success(), "{typed}: {}", res.text());
    }
    // Nobody else can take the address in another spelling.
    let res = app.client().call("sign_up", &sign_up_form("Copy", "inci@istanbul.test")).await;
    assert!(res.status.is_success());
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'already_registered'").await, 1);
}

#[sqlx::test]
async fn refusals_past_the_hours_allowance_name_no_address(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let mut taken = Vec::new();
    for i in 0..25 {
        let email = format!("taken{i}@elsewhere.test");
        add_staff(&app, world.b, &email, "owner").await;
        taken.push(email);
    }
    let (owner, company) = (world.owner_role(Place::InScope).await.to_string(), world.companies["I"].to_string());
    let emails = taken.join(", ");
    let res = actors.admin().call("invite_users", &[("emails", &emails), ("role_id", &owner), ("company_id", &company)]).await;
    match res.error() {
        AppError::TooMany(message) => assert!(!message.contains("@"), "{message}"),
        other => panic!("25 taken addresses with 20 refusals allowed answered {other:?}"),
    }
    // The allowance is spent: the next address gets no answer about itself either.
    let res = actors.admin().call("invite_users", &[("emails", "taken0@elsewhere.test"), ("role_id", &owner), ("company_id", &company)]).await;
    assert!(matches!(res.error(), AppError::TooMany(_)));
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'invitation'").await, 0);
}

#[sqlx::test]
async fn sign_ups_cannot_flood_an_inbox(db: PgPool) {
    let app = TestApp::with_config(db, |config| config.sign_ups_per_client_per_hour = 5);
    // One address: three confirmation mails an hour, whoever asks.
    for i in 0..6 {
        let mut client = app.client_from(&format!("198.51.100.{i}"));
        let res = client.call("sign_up", &sign_up_form(&format!("Flood {i}"), "victim@inbox.test")).await;
        assert!(res.status.is_success(), "{}", res.text());
    }
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address = 'victim@inbox.test'").await, 3);
    // One client: five an hour, whatever the addresses; the answer stays the same.
    let mut client = app.client_from("203.0.113.9");
    for i in 0..8 {
        let res = client.call("sign_up", &sign_up_form("Spray", &format!("target{i}@inbox.test"))).await;
        assert!(res.status.is_success(), "{}", res.text());
    }
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address LIKE 'target%@inbox.test'").await, 5);
    app.advance(chrono::Duration::minutes(61));
    let res = client.call("sign_up", &sign_up_form("Spray", "later@inbox.test")).await;
    assert!(res.status.is_success());
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address = 'later@inbox.test'").await, 1, "an hour later it works again");
}

#[sqlx::test]
async fn reset_requests_from_one_client_are_limited(db: PgPool) {
    let app = TestApp::with_config(db, |config| config.sign_ups_per_client_per_hour = 1000);
    for i in 0..31 {
        app.sign_up(&format!("Shop {i}"), &format!("owner{i}@shop.test")).await;
    }
    let before = app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'").await;
    let mut client = app.client_from("192.0.2.77");
    for i in 0..31 {
        let res = client.call("forgot_password", &[("email", &format!("owner{i}@shop.test"))]).await;
        assert!(res.status.is_success(), "the answer never changes: {}", res.text());
    }
    let sent = app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset'").await - before;
    assert_eq!(sent, i64::from(roster::auth::ssr::passwords::RESET_REQUESTS_PER_HOUR));
}

#[sqlx::test]
async fn changing_the_password_ends_the_reset_links_asked_for_before(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    let token = app.link_token("ada@acme.test", "password_reset").await;
    let res = ada
        .call("change_password", &[("current_password", PASSWORD), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let state: LinkState = app.client().call("reset_link", &[("token", &token)]).await.json();
    assert_ne!(state, LinkState::Valid);
    let res = app
        .client()
        .call("reset_password", &[("token", &token), ("password", "copper-tidal-lantern"), ("password_confirm", "copper-tidal-lantern")])
        .await;
    assert!(matches!(res.error(), AppError::Refused(_)));
    assert!(app.client().sign_in("ada@acme.test", "amber-piano-harbour").await.status.is_success());
}

#[sqlx::test]
async fn a_company_that_owns_customers_is_not_deleted(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let company = world.fresh_company(Place::InScope).await;
    let type_id = world.default_type(Place::InScope).await;
    world.customer_in(world.a, company, type_id, None, "Owned Customer").await;
    let id = company.to_string();
    let preview = actors.admin().call("company_deletion", &[("id", &id)]).await;
    assert!(preview.status.is_success(), "{}", preview.text());
    let before = world.fingerprint().await;
    let res = actors.admin().call("delete_company", &[("id", &id), ("expected_companies", "1")]).await;
    assert!(matches!(res.error(), AppError::Refused(_)), "refused in words, never a server error");
    assert_eq!(world.fingerprint().await, before);
}

#[sqlx::test]
async fn a_role_held_outside_ones_companies_is_not_theirs_to_change(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let role = world.fresh_role(Place::InScope).await;
    let outsider = world.fresh_user(Place::OutOfScope, "active").await;
    sqlx::query("UPDATE users SET role_id = $1 WHERE id = $2").bind(role).bind(outsider).execute(app.db()).await.unwrap();
    let before = world.fingerprint().await;
    let manager = actors.get(BuiltinRole::CommonManager);
    let form = [("id", role.to_string()), ("name", "Renamed".into()), ("rank", "3".into()), ("permissions[]", "customers.delete".into()), ("version", "1".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(matches!(manager.call("save_role", &form).await.error(), AppError::Refused(_)));
    assert!(matches!(manager.call("delete_role", &[("id", &role.to_string())]).await.error(), AppError::Refused(_)));
    assert_eq!(world.fingerprint().await, before);
    // An Administrator manages every company: for them it is an ordinary change.
    assert!(actors.admin().call("save_role", &form).await.status.is_success());
}

#[sqlx::test]
async fn a_customer_type_used_outside_ones_companies_is_not_theirs_to_change(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let type_id = world.fresh_customer_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["S"], type_id, None, "Elsewhere Customer").await;
    let before = world.fingerprint().await;
    let manager = actors.get(BuiltinRole::CommonManager);
    let id = type_id.to_string();
    let form = [("id", id.as_str()), ("name", "Everything"), ("features[]", "delete_inverter"), ("version", "1")];
    assert!(matches!(manager.call("save_customer_type", &form).await.error(), AppError::Refused(_)));
    assert!(matches!(manager.call("delete_customer_type", &[("id", &id)]).await.error(), AppError::Refused(_)));
    assert_eq!(world.fingerprint().await, before);
    let list: roster::customer_types::CustomerTypeList = manager.call("customer_types", &[]).await.json();
    let listed = list.types.iter().find(|t| t.id == type_id).unwrap();
    assert!(!listed.editable, "the page offers no edit");
    assert_eq!(listed.customer_count, 0, "customers outside their companies are not counted for them");
}

#[sqlx::test]
async fn the_overview_counts_only_the_callers_companies(db: PgPool) {
    let app = TestApp::new(db);
    let (_world, mut actors) = World::build(&app).await.split();
    let manager: Overview = actors.get(BuiltinRole::CommonManager).call("overview", &[]).await.json();
    // D and I are theirs; A and S are not. Staff: the four actors in D.
    assert_eq!((manager.company_count, manager.staff_count), (2, 4));
    let admin: Overview = actors.admin().call("overview", &[]).await.json();
    assert_eq!(admin.company_count, 4);
    // Without Users – View there is no staff figure at all.
    let owner: Overview = actors.get(BuiltinRole::Owner).call("overview", &[]).await.json();
    assert!(!owner.shows_staff && owner.shows_companies);
}

#[sqlx::test]
async fn a_dead_link_names_nobody(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let (owner, company) = (world.owner_role(Place::InScope).await.to_string(), world.companies["I"].to_string());
    sqlx::query("UPDATE users SET display_name = 'Alma Admin' WHERE email = 'administrator@a.test'").execute(app.db()).await.unwrap();
    let admin = actors.admin();
    assert!(admin.call("invite_users", &[("emails", "gone@new.test"), ("role_id", &owner), ("company_id", &company)]).await.status.is_success());
    let token = app.link_token("gone@new.test", "invitation").await;
    let live: InvitationView = app.client().call("invitation", &[("token", &token)]).await.json();
    assert_eq!((live.state, live.email.as_deref()), (LinkState::Valid, Some("gone@new.test")));
    assert_eq!(live.inviter.as_deref(), Some("Alma Admin (administrator@a.test)"));
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'gone@new.test'").fetch_one(app.db()).await.unwrap();
    assert!(admin.call("revoke_invitation", &[("id", &id.to_string())]).await.status.is_success());
    let dead: InvitationView = app.client().call("invitation", &[("token", &token)]).await.json();
    assert_eq!(dead.state, LinkState::Revoked);
    assert_eq!((dead.email, dead.account_name, dead.expires_at), (None, None, None));
    assert_eq!(dead.inviter.as_deref(), Some("Alma Admin"), "whom to ask, by name only");

    let customer = world.fresh_customer(Place::InScope).await.to_string();
    let form = [
        ("customer_id", customer.as_str()),
        ("method", "email"),
        ("form[email]", "lena@customer.test"),
        ("form[first_name]", "Lena"),
        ("form[last_name]", "Berg"),
    ];
    assert!(admin.call("add_customer_user", &form).await.status.is_success());
    let token = app.link_token("lena@customer.test", "activation").await;
    app.advance(chrono::Duration::days(8));
    let expired: ActivationView = app.client().call("activation", &[("token", &token)]).await.json();
    assert_eq!(expired.state, LinkState::Expired);
    assert_eq!((expired.email, expired.name, expired.customer), (None, None, None));
    assert_eq!(expired.account_name.as_deref(), Some("Alpha"), "the business to ask for a new one");
}
