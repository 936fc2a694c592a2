//! What an answer reveals about who is registered: sign-up answers the same, with the same
//! work, for every address; signed-in people get one message for an address used anywhere,
//! and only so many of them an hour; adding by account has one answer for every failure; a
//! portal user's sub-customer never runs into another customer's title.

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use axum::http::StatusCode;
use chrono::Duration;
use roster::{customers::NO_REGISTERED_ACCOUNT, error::AppError};
use sqlx::PgPool;

const CANNOT_USE: &str = "This e-mail cannot be used here.";

async fn sign_up_form(client: &mut Client<'_>, email: &str) -> crate::support::Response {
    client
        .call("sign_up", &[("account_name", "Other Co"), ("display_name", "Bob"), ("email", email), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await
}

#[sqlx::test]
async fn sign_up_answers_the_same_with_the_same_work_for_any_address(db: PgPool) {
    let app = TestApp::with_config(db, |c| c.smtp_url = Some("smtp://127.0.0.1:9".into()));
    app.sign_up("Acme Solar", "ada@acme.test").await;
    let mut answers = Vec::new();
    for email in ["ADA@acme.test", "new-person@acme.test"] {
        let (hashes, outbox) = (app.state.passwords.hashes(), app.count("SELECT count(*) FROM outbox").await);
        let mut client = app.client();
        let res = sign_up_form(&mut client, email).await;
        assert_eq!(res.status, StatusCode::OK, "{email}: {}", res.text());
        assert!(client.cookie.is_none(), "nobody is signed in before confirming");
        assert_eq!(app.state.passwords.hashes() - hashes, 1, "one hash for {email}");
        assert_eq!(app.count("SELECT count(*) FROM outbox").await - outbox, 1, "one message for {email}");
        answers.push(res.text().replace(email, "<address>"));
    }
    assert_eq!(answers[0], answers[1]);
    // Nothing was created for either until a link is used; the owner got a notice, not a link.
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 1);
    let notice: String = sqlx::query_scalar("SELECT kind FROM outbox WHERE to_address = 'ADA@acme.test'").fetch_one(app.db()).await.unwrap();
    assert_eq!(notice, "already_registered");
    let mut bob = app.client();
    let token = app.link_token("new-person@acme.test", "sign_up_confirmation").await;
    assert!(bob.call("confirm_email", &[("token", &token)]).await.status.is_success());
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 2);
    assert!(bob.session().await.unwrap().is_administrator);
}

/// A customer user of `customer` whose type lets them manage customer users.
async fn portal_manager<'a>(app: &'a TestApp, world: &World<'_>, customer: i64, email: &str) -> Client<'a> {
    sqlx::query(
        "UPDATE customer_types SET features = ARRAY['manage_customer_users']
          WHERE id = (SELECT customer_type_id FROM customers WHERE id = $1)",
    )
    .bind(customer)
    .execute(app.db())
    .await
    .unwrap();
    world.customer_user_in(world.a, customer, email).await;
    let mut client = app.client();
    assert!(client.sign_in(email, PASSWORD).await.status.is_success());
    client
}

#[sqlx::test]
async fn signed_in_people_get_one_answer_for_an_address_used_anywhere(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let registered = world.fresh_registered_person().await;
    create(actors.admin(), &world, "Sunfield", "", Place::InScope).await;
    let sunfield = customer_id(&app, "Sunfield").await;
    let mut portal = portal_manager(&app, &world, sunfield, "pat@sunfield.test").await;
    let staff_target = world.fresh_user(Place::InScope, "active").await.to_string();
    let customer_target = world.fresh_customer_user(Place::InScope).await.to_string();
    let (company, owner, customer) = (world.companies["I"].to_string(), world.owner_role(Place::InScope).await.to_string(), sunfield.to_string());
    // In this account, in another account, and a registered person of no account.
    for taken in ["owner@a.test", "admin@b.test", registered.as_str()] {
        let admin = actors.admin();
        let mut answers: Vec<(&str, AppError)> = Vec::new();
        let res = admin
            .call("create_user", &[
                ("display_name", "New"), ("email", taken), ("phone", ""), ("region", ""), ("description", ""),
                ("company_id", &company), ("password_setup", "invite"), ("role_id", &owner),
            ])
            .await;
        answers.push(("create_user", res.error()));
        let res = admin
            .call("update_user", &[
                ("id", &staff_target), ("display_name", "Target"), ("email", taken), ("phone", ""), ("region", ""),
                ("description", ""), ("company_id", &company), ("version", "1"),
            ])
            .await;
        answers.push(("update_user", res.error()));
        let res = admin.call("invite_users", &[("emails", taken), ("role_id", &owner), ("company_id", &company)]).await;
        answers.push(("invite_users", res.error()));
        let person = [("form[email]", taken), ("form[first_name]", "New"), ("form[last_name]", "Person")];
        let mut form = vec![("customer_id", customer.as_str()), ("method", "show")];
        form.extend(person);
        answers.push(("add_customer_user", admin.call("add_customer_user", &form).await.error()));
        let mut form = vec![("id", customer_target.as_str()), ("version", "1")];
        form.extend(person);
        answers.push(("update_customer_user", admin.call("update_customer_user", &form).await.error()));
        let mut form = vec![("customer_id", customer.as_str()), ("method", "email")];
        form.extend(person);
        answers.push(("portal_add_user", portal.call("portal_add_user", &form).await.error()));
        for (what, error) in answers {
            let field = if what == "invite_users" { "emails" } else { "email" };
            assert_eq!(error.field_message(field).as_deref(), Some(CANNOT_USE), "{what} with {taken}: {error:?}");
        }
    }
}

async fn create_user(client: &mut Client<'_>, world: &World<'_>, email: &str) -> crate::support::Response {
    let (company, owner) = (world.companies["I"].to_string(), world.owner_role(Place::InScope).await.to_string());
    client
        .call("create_user", &[
            ("display_name", "Harvest"), ("email", email), ("phone", ""), ("region", ""), ("description", ""),
            ("company_id", &company), ("password_setup", "invite"), ("role_id", &owner),
        ])
        .await
}

#[sqlx::test]
async fn refused_addresses_are_limited_to_twenty_an_hour(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let (company, owner) = (world.companies["I"].to_string(), world.owner_role(Place::InScope).await.to_string());
    let manager = actors.get(roster::permissions::BuiltinRole::CommonManager);
    for i in 0..20 {
        let taken = ["admin@b.test", "owner@a.test", "admin@b.test", "administrator@a.test"][i % 4];
        let res = create_user(manager, &world, taken).await;
        assert_eq!(res.error().field_message("email").as_deref(), Some(CANNOT_USE), "refusal {i}");
    }
    // The 21st attempt is refused whatever the address, so nothing more can be learnt.
    let res = create_user(manager, &world, "free-one@new.test").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    let res = manager.call("invite_users", &[("emails", "free-two@new.test"), ("role_id", &owner), ("company_id", &company)]).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email LIKE 'free-%'").await, 0);
    // Someone else is not held back, and an hour later the manager is not either.
    assert!(create_user(actors.admin(), &world, "free-three@new.test").await.status.is_success());
    app.advance(Duration::minutes(61));
    let mut manager = app.client();
    assert!(manager.sign_in("common_manager@a.test", PASSWORD).await.status.is_success());
    assert!(create_user(&mut manager, &world, "free-one@new.test").await.status.is_success());
}

async fn add_by_account(client: &mut Client<'_>, world: &World<'_>, email: &str, company_name: &str) -> crate::support::Response {
    let (kind, owner) = (world.default_type(Place::InScope).await.to_string(), world.companies["I"].to_string());
    client
        .call("add_customer_by_account", &[("email", email), ("customer_type_id", &kind), ("company_name", company_name), ("owner_company_id", &owner)])
        .await
}

#[sqlx::test]
async fn adding_by_account_answers_the_same_whatever_the_cause(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let registered = world.fresh_registered_person().await;
    let name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE email = $1").bind(&registered).fetch_one(app.db()).await.unwrap();
    let admin = actors.admin();
    create(admin, &world, &name, "", Place::InScope).await;
    create(admin, &world, "Existing Co", "", Place::InScope).await;
    // The person's name is already a customer's title: the same answer as for nobody at all.
    let clash = add_by_account(admin, &world, &registered, "").await;
    let nobody = add_by_account(admin, &world, "nobody@home.test", "").await;
    assert_eq!(clash.error().field_message("email").as_deref(), Some(NO_REGISTERED_ACCOUNT));
    assert_eq!(clash.status, nobody.status);
    assert_eq!(clash.body, nobody.body);
    // A company name that is taken is said so whoever the address is.
    let registered_taken = add_by_account(admin, &world, &registered, "Existing Co").await;
    let nobody_taken = add_by_account(admin, &world, "nobody@home.test", "Existing Co").await;
    assert_eq!(registered_taken.status, nobody_taken.status);
    assert_eq!(registered_taken.body, nobody_taken.body);
    assert!(registered_taken.error().field_message("company_name").is_some());
    // With a free company name the person is added.
    assert!(add_by_account(admin, &world, &registered, "Fresh Co").await.status.is_success());
}

#[sqlx::test]
async fn a_portal_sub_customer_with_a_taken_title_gets_a_number(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    create(admin, &world, "Home", "", Place::InScope).await;
    create(admin, &world, "Acme", "", Place::OutOfScope).await;
    let home = customer_id(&app, "Home").await;
    sqlx::query(
        "UPDATE customer_types SET features = ARRAY['manage_sub_customers']
          WHERE id = (SELECT customer_type_id FROM customers WHERE id = $1)",
    )
    .bind(home)
    .execute(app.db())
    .await
    .unwrap();
    world.customer_user_in(world.a, home, "pat@home.test").await;
    let mut pat = app.client();
    pat.sign_in("pat@home.test", PASSWORD).await;
    let mut titles = Vec::new();
    for _ in 0..2 {
        let res = pat.call("portal_add_sub_customer", &[("parent_id", &home.to_string()), ("form[title]", "acme")]).await;
        assert!(res.status.is_success(), "{}", res.text());
        titles.push(res.json::<roster::customers::AddedSubCustomer>().title);
    }
    assert_eq!(titles, ["acme (2)", "acme (3)"]);
    // Staff still hear that the title is taken.
    let res = create(admin, &world, "ACME", "", Place::InScope).await;
    assert!(res.error().field_message("title").is_some());
}
