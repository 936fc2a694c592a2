//! Links that could outlive what they were for: a change of address, a disable, a removal ends
//! the person's open links and sessions; unconfirmed registrations expire and hold nothing.

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use chrono::Duration;
use roster::{services::links::LinkState, customer_users::Issued, error::AppError, users::InvitationView};
use sqlx::PgPool;

async fn invitation_state(app: &TestApp, token: &str) -> LinkState {
    let view: InvitationView = app.client().call("invitation", &[("token", token)]).await.json();
    view.state
}

async fn reset_state(app: &TestApp, token: &str) -> LinkState {
    app.client().call("reset_link", &[("token", token)]).await.json()
}

fn user_form<'a>(id: &'a str, email: &'a str, company: &'a str, version: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("id", id), ("display_name", "Moved Person"), ("email", email), ("phone", ""), ("region", ""),
        ("description", ""), ("company_id", company), ("version", version),
    ]
}

#[sqlx::test]
async fn a_new_address_for_an_invited_person_ends_the_old_link_and_invites_the_new_one(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let (owner, company) = (world.owner_role(Place::InScope).await.to_string(), world.companies["I"].to_string());
    let admin = actors.admin();
    assert!(admin.call("invite_users", &[("emails", "first@new.test"), ("role_id", &owner), ("company_id", &company)]).await.status.is_success());
    let old = app.link_token("first@new.test", "invitation").await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'first@new.test'").fetch_one(app.db()).await.unwrap();
    let res = admin.call("update_user", &user_form(&id.to_string(), "second@new.test", &company, "1")).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(invitation_state(&app, &old).await, LinkState::Revoked);
    assert!(!accept(&app, &old).await.status.is_success(), "whoever got the old address cannot join");
    let new = app.link_token("second@new.test", "invitation").await;
    assert_eq!(invitation_state(&app, &new).await, LinkState::Valid);
    assert!(accept(&app, &new).await.status.is_success());
}

async fn accept(app: &TestApp, token: &str) -> crate::support::Response {
    app.client()
        .call("accept_invitation", &[("token", token), ("display_name", "Someone"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await
}

#[sqlx::test]
async fn a_new_address_for_a_staff_member_ends_their_sessions_and_reset_links(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let company = world.companies["I"].to_string();
    let id = world.fresh_user(Place::InScope, "active").await;
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(id).fetch_one(app.db()).await.unwrap();
    let mut person = app.client();
    assert!(person.sign_in(&email, PASSWORD).await.status.is_success());
    app.client().call("forgot_password", &[("email", &email)]).await;
    let reset = app.link_token(&email, "password_reset").await;
    let res = actors.admin().call("update_user", &user_form(&id.to_string(), "elsewhere@new.test", &company, "1")).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert!(person.session().await.is_none(), "the session of the old address ended");
    assert_ne!(reset_state(&app, &reset).await, LinkState::Valid);
    let res = app.client().call("reset_password", &[("token", &reset), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")]).await;
    assert!(!res.status.is_success());
    assert!(app.client().sign_in("elsewhere@new.test", PASSWORD).await.status.is_success());
}

async fn add_customer_user(client: &mut Client<'_>, customer: i64, email: &str) -> Issued {
    let customer = customer.to_string();
    let res = client
        .call("add_customer_user", &[("customer_id", &customer), ("form[email]", email), ("form[first_name]", "Lena"), ("form[last_name]", "Berg"), ("method", "show")])
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    res.json()
}

async fn activation_state(app: &TestApp, token: &str) -> LinkState {
    let view: roster::customer_users::ActivationView = app.client().call("activation", &[("token", token)]).await.json();
    view.state
}

#[sqlx::test]
async fn a_new_address_for_a_customer_user_ends_their_activation_link_and_sessions(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    create(admin, &world, "Sunfield", "", Place::InScope).await;
    let sunfield = customer_id(&app, "Sunfield").await;
    let issued = add_customer_user(admin, sunfield, "lena@sunfield.test").await;
    let token = issued.link.unwrap().split("token=").nth(1).unwrap().to_owned();
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'lena@sunfield.test'").fetch_one(app.db()).await.unwrap();
    let pairs = vec![("id", id.to_string()), ("version", "1".to_owned()), ("form[email]", "lena.new@sunfield.test".to_owned()), ("form[first_name]", "Lena".into()), ("form[last_name]", "Berg".into())];
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(admin.call("update_customer_user", &pairs).await.status.is_success());
    assert_ne!(activation_state(&app, &token).await, LinkState::Valid);
    let res = app.client().call("activate", &[("token", &token), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")]).await;
    assert!(!res.status.is_success(), "whoever got the old address cannot activate");
    // An activated customer user's sessions end with their old address too.
    let other = world.customer_user_in(world.a, sunfield, "omar@sunfield.test").await;
    let mut omar = app.client();
    assert!(omar.sign_in("omar@sunfield.test", PASSWORD).await.status.is_success());
    let pairs = vec![("id", other.to_string()), ("version", "1".to_owned()), ("form[email]", "omar.new@sunfield.test".into()), ("form[first_name]", "Omar".into()), ("form[last_name]", "Haddad".into())];
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(admin.call("update_customer_user", &pairs).await.status.is_success());
    assert!(omar.session().await.is_none());
}

#[sqlx::test]
async fn a_disable_ends_open_links_for_good(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let id = world.fresh_user(Place::InScope, "active").await.to_string();
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1::bigint").bind(&id).fetch_one(app.db()).await.unwrap();
    app.client().call("forgot_password", &[("email", &email)]).await;
    let reset = app.link_token(&email, "password_reset").await;
    let admin = actors.admin();
    assert!(admin.call("change_membership", &[("id", &id), ("change", "disable")]).await.status.is_success());
    assert!(admin.call("change_membership", &[("id", &id), ("change", "enable")]).await.status.is_success());
    assert_ne!(reset_state(&app, &reset).await, LinkState::Valid, "enabling again does not revive the old link");
    // The same for a customer user's activation link.
    create(admin, &world, "Sunfield", "", Place::InScope).await;
    let issued = add_customer_user(admin, customer_id(&app, "Sunfield").await, "lena@sunfield.test").await;
    let token = issued.link.unwrap().split("token=").nth(1).unwrap().to_owned();
    let lena: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'lena@sunfield.test'").fetch_one(app.db()).await.unwrap();
    for enabled in ["false", "true"] {
        assert!(admin.call("set_customer_user_enabled", &[("id", &lena.to_string()), ("enabled", enabled)]).await.status.is_success());
    }
    assert_ne!(activation_state(&app, &token).await, LinkState::Valid);
}

async fn register(app: &TestApp, email: &str) -> crate::support::Response {
    app.client()
        .call("register", &[("display_name", "Reggie"), ("email", email), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await
}

#[sqlx::test]
async fn unconfirmed_registrations_expire_and_hold_no_address(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    // Until it is confirmed the address is anybody's: staff may invite someone with it.
    assert!(register(&app, "reggie@home.test").await.status.is_success());
    let (company, owner) = (world.companies["I"].to_string(), world.owner_role(Place::InScope).await.to_string());
    let res = actors.admin().call("invite_users", &[("emails", "reggie@home.test"), ("role_id", &owner), ("company_id", &company)]).await;
    assert!(res.status.is_success(), "{}", res.text());
    let unused = app.link_token("reggie@home.test", "email_confirmation").await;
    let res = app.client().call("confirm_email", &[("token", &unused)]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("already has a Roster account")));
    // A day later an unused link has expired; registering again gives a new one that works.
    assert!(register(&app, "rita@home.test").await.status.is_success());
    let first = app.link_token("rita@home.test", "email_confirmation").await;
    app.advance(Duration::hours(24) + Duration::seconds(1));
    let res = app.client().call("confirm_email", &[("token", &first)]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("expired")));
    assert!(register(&app, "rita@home.test").await.status.is_success());
    let second = app.link_token("rita@home.test", "email_confirmation").await;
    assert_ne!(first, second);
    let mut rita = app.client();
    assert!(rita.call("confirm_email", &[("token", &second)]).await.status.is_success());
    assert!(rita.session().await.is_some());
}
