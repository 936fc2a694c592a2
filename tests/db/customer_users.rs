//! Customer users: activation links (expiry boundary with the injected clock, single use, a new
//! link kills the old one), disable ending sessions, who may manage whom, and the portal home.

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use chrono::Duration;
use roster::{
    services::links::LinkState,
    customer_users::{CustomerUsers, Issued},
    error::AppError,
    home::Overview,
    permissions::BuiltinRole,
};
use sqlx::PgPool;

const OTHER_PASSWORD: &str = "amber-lantern-quietly";

async fn add_user(client: &mut Client<'_>, customer: i64, email: &str, method: &str) -> Result<Issued, AppError> {
    let customer = customer.to_string();
    let response = client
        .call(
            "add_customer_user",
            &[
                ("customer_id", customer.as_str()),
                ("form[email]", email),
                ("form[first_name]", "Lena"),
                ("form[last_name]", "Berg"),
                ("form[phone]", "+49 30 1234567"),
                ("method", method),
            ],
        )
        .await;
    if response.status.is_success() { Ok(response.json()) } else { Err(response.error()) }
}

fn token_of(issued: &Issued) -> String {
    issued.link.as_deref().expect("a link to show").split("token=").nth(1).unwrap().to_owned()
}

async fn link_state(client: &mut Client<'_>, token: &str) -> LinkState {
    let view: roster::customer_users::ActivationView = client.call("activation", &[("token", token)]).await.json();
    view.state
}

async fn activate(client: &mut Client<'_>, token: &str) -> crate::support::Response {
    client.call("activate", &[("token", token), ("password", OTHER_PASSWORD), ("password_confirm", OTHER_PASSWORD)]).await
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(app.db()).await.unwrap()
}

#[sqlx::test]
async fn an_activation_link_works_until_its_last_second_and_only_once(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Sunfield", "", Place::InScope).await;
    let customer = customer_id(&app, "Sunfield").await;

    let early = add_user(actors.admin(), customer, "lena@sunfield.test", "show").await.unwrap();
    let late = add_user(actors.admin(), customer, "omar@sunfield.test", "show").await.unwrap();
    let fresh = add_user(actors.admin(), customer, "ida@sunfield.test", "show").await.unwrap();
    let mut visitor = app.client();
    // Seven days (the account's default) minus a second: still valid, and it activates.
    app.advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(link_state(&mut visitor, &token_of(&early)).await, LinkState::Valid);
    let response = activate(&mut visitor, &token_of(&early)).await;
    assert!(response.status.is_success(), "{}", response.text());
    let session = visitor.session().await.expect("signed in after activation");
    assert_eq!(session.email, "lena@sunfield.test");
    // Used once: a second use is refused and changes nothing.
    let mut second = app.client();
    assert_eq!(link_state(&mut second, &token_of(&early)).await, LinkState::Used);
    assert!(matches!(activate(&mut second, &token_of(&early)).await.error(), AppError::Refused(_)));
    assert!(second.session().await.is_none());
    // At exactly seven days the other link has expired.
    app.advance(Duration::seconds(1));
    assert_eq!(link_state(&mut second, &token_of(&late)).await, LinkState::Expired);
    assert!(matches!(activate(&mut second, &token_of(&late)).await.error(), AppError::Refused(_)));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'omar@sunfield.test' AND password_hash IS NULL").await, 1);
    // A link made later is still valid; a password equal to the e-mail is refused with a field message and
    // leaves it unused.
    app.advance(-Duration::days(1));
    let mut third = app.client();
    let weak = third.call("activate", &[("token", &token_of(&fresh)), ("password", "ida@sunfield.test"), ("password_confirm", "ida@sunfield.test")]).await;
    assert!(weak.error().field_message("password").is_some());
    assert_eq!(link_state(&mut third, &token_of(&fresh)).await, LinkState::Valid);
}

#[sqlx::test]
async fn a_new_link_kills_the_old_one_and_mail_goes_through_the_outbox(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Sunfield", "", Place::InScope).await;
    let customer = customer_id(&app, "Sunfield").await;
    let mailed = add_user(actors.admin(), customer, "lena@sunfield.test", "email").await.unwrap();
    assert!(mailed.link.is_none(), "an e-mailed link is not shown");
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'activation' AND to_address = 'lena@sunfield.test' AND body_text LIKE '%/activate?token=%'").await,
        1
    );
    let id = user_id(&app, "lena@sunfield.test").await.to_string();
    let first = Issued { email: String::new(), link: Some(resend(actors.admin(), &id).await) };
    let second = Issued { email: String::new(), link: Some(resend(actors.admin(), &id).await) };
    let mut visitor = app.client();
    assert_eq!(link_state(&mut visitor, &token_of(&first)).await, LinkState::Revoked);
    assert!(matches!(activate(&mut visitor, &token_of(&first)).await.error(), AppError::Refused(_)));
    assert!(activate(&mut visitor, &token_of(&second)).await.status.is_success());
    // Once active, no new link can be made.
    let again = actors.admin().call("resend_activation", &[("id", &id), ("method", "show")]).await;
    assert!(matches!(again.error(), AppError::Refused(_)));
}

async fn resend(client: &mut Client<'_>, id: &str) -> String {
    let response = client.call("resend_activation", &[("id", id), ("method", "show")]).await;
    assert!(response.status.is_success(), "{}", response.text());
    response.json::<Issued>().link.unwrap()
}

#[sqlx::test]
async fn disabling_ends_the_session_and_enabling_lets_them_back_in(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Sunfield", "", Place::InScope).await;
    let customer = customer_id(&app, "Sunfield").await;
    let issued = add_user(actors.admin(), customer, "lena@sunfield.test", "show").await.unwrap();
    let mut lena = app.client();
    assert!(activate(&mut lena, &token_of(&issued)).await.status.is_success());
    let id = user_id(&app, "lena@sunfield.test").await.to_string();

    let off = actors.admin().call("set_customer_user_enabled", &[("id", &id), ("enabled", "false")]).await;
    assert!(off.status.is_success(), "{}", off.text());
    assert!(lena.session().await.is_none(), "the session ended");
    assert!(!lena.sign_in("lena@sunfield.test", OTHER_PASSWORD).await.status.is_success());
    let on = actors.admin().call("set_customer_user_enabled", &[("id", &id), ("enabled", "true")]).await;
    assert!(on.status.is_success());
    assert!(lena.sign_in("lena@sunfield.test", OTHER_PASSWORD).await.status.is_success());
    let list: CustomerUsers = actors.admin().call("customer_users", &[("customer_id", &customer.to_string())]).await.json();
    assert_eq!(list.rows.len(), 1);
    assert_eq!(list.rows[0].status, roster::customer_users::CustomerUserStatus::Active);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action IN ('customer_user.created', 'customer_user.activated', 'customer_user.disabled', 'customer_user.enabled')").await,
        4
    );
}

#[sqlx::test]
async fn only_staff_with_the_permission_and_scope_manage_customer_users(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Mine", "", Place::InScope).await;
    create(actors.admin(), &world, "Elsewhere", "", Place::OutOfScope).await;
    let mut other = app.client();
    other.sign_in("admin@b.test", PASSWORD).await;
    create(&mut other, &world, "Theirs", "", Place::OtherAccount).await;
    let mine = customer_id(&app, "Mine").await;
    let elsewhere = customer_id(&app, "Elsewhere").await;
    add_user(actors.admin(), mine, "in@mine.test", "show").await.unwrap();
    add_user(actors.admin(), elsewhere, "out@else.test", "show").await.unwrap();
    let inside = user_id(&app, "in@mine.test").await.to_string();
    let outside = user_id(&app, "out@else.test").await.to_string();
    let before = world.fingerprint().await;

    // The Owner role may not manage customer users at all.
    let owner = actors.get(BuiltinRole::Owner);
    assert_eq!(add_user(owner, mine, "x@mine.test", "show").await.unwrap_err(), AppError::Forbidden);
    assert_eq!(owner.call("delete_customer_user", &[("id", &inside)]).await.error(), AppError::Forbidden);
    // An engineer in company D manages users of customers owned at D and below, nobody else's.
    let engineer = actors.get(BuiltinRole::OperationsEngineer);
    assert_eq!(engineer.call("delete_customer_user", &[("id", &outside)]).await.error(), AppError::NotFound);
    assert_eq!(engineer.call("set_customer_user_enabled", &[("id", &outside), ("enabled", "false")]).await.error(), AppError::NotFound);
    assert_eq!(engineer.call("customer_users", &[("customer_id", &elsewhere.to_string())]).await.error(), AppError::NotFound);
    assert_eq!(add_user(engineer, elsewhere, "y@else.test", "show").await.unwrap_err(), AppError::NotFound);
    // Another account's administrator gets "not found" for every one of these ids.
    for endpoint in ["delete_customer_user", "resend_activation"] {
        assert_eq!(other.call(endpoint, &[("id", &inside), ("method", "show")]).await.error(), AppError::NotFound, "{endpoint}");
    }
    assert_eq!(add_user(&mut other, mine, "z@mine.test", "show").await.unwrap_err(), AppError::NotFound);
    assert_eq!(world.fingerprint().await, before, "nothing changed");

    // Within scope it works, and a taken address is a field error.
    assert_eq!(
        add_user(engineer, mine, "IN@mine.test", "show").await.unwrap_err().field_message("email").as_deref(),
        Some("This e-mail cannot be used here.")
    );
    assert!(engineer.call("delete_customer_user", &[("id", &inside)]).await.status.is_success());
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'in@mine.test'").await, 0);
}

#[sqlx::test]
async fn a_customer_user_sees_their_customer_and_no_staff_screen(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Sunfield", "", Place::InScope).await;
    let customer = customer_id(&app, "Sunfield").await;
    sqlx::query("UPDATE customer_types SET features = ARRAY['create_plant', 'manage_customer_users'] WHERE is_default")
        .execute(app.db())
        .await
        .unwrap();
    let issued = add_user(actors.admin(), customer, "lena@sunfield.test", "show").await.unwrap();
    let mut lena = app.client();
    assert!(activate(&mut lena, &token_of(&issued)).await.status.is_success());

    let overview: Overview = lena.call("overview", &[]).await.json();
    let portal = overview.portal.expect("the portal home");
    assert_eq!(portal.title, "Sunfield");
    assert_eq!(portal.features, ["Create plant", "Manage customer users"]);
    assert_eq!((overview.company_count, overview.staff_count, overview.queued_mail), (0, 0, None), "no staff figures");
    for endpoint in ["customers", "companies", "users", "audit", "outbox"] {
        let response = lena.call(endpoint, &[]).await;
        assert!(!response.status.is_success(), "{endpoint} must be refused");
    }
    assert_eq!(lena.call("customer_users", &[("customer_id", &customer.to_string())]).await.error(), AppError::Forbidden);
}
