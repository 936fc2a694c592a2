//! The customer portal's *Manage customer users*: refused without the type's permission, limited
//! to the user's own customer and its sub-customers with it, and "not found" for everyone else's.

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use roster::{
    customer_users::{Issued, PortalUserList},
    customers::{PortalCustomerProfile, PortalSubCustomerList},
    error::AppError,
};
use sqlx::PgPool;

const CUSTOMER_PASSWORD: &str = "amber-lantern-quietly";

/// Adds an activated customer user to `customer` (as the account's Administrator) and returns
/// their signed-in client.
pub(crate) async fn customer_user<'a>(app: &'a TestApp, admin: &mut Client<'_>, customer: i64, email: &str) -> Client<'a> {
    let customer = customer.to_string();
    let issued: Issued = admin
        .call(
            "add_customer_user",
            &[("customer_id", customer.as_str()), ("form[email]", email), ("form[first_name]", "Pat"), ("form[last_name]", "Doe"), ("method", "show")],
        )
        .await
        .json();
    let token = issued.link.unwrap().split("token=").nth(1).unwrap().to_owned();
    let mut client = app.client();
    let response = client.call("activate", &[("token", &token), ("password", CUSTOMER_PASSWORD), ("password_confirm", CUSTOMER_PASSWORD)]).await;
    assert!(response.status.is_success(), "{}", response.text());
    client
}

pub(crate) async fn add(client: &mut Client<'_>, customer: i64, email: &str) -> Result<Issued, AppError> {
    let customer = customer.to_string();
    let response = client
        .call(
            "portal_add_user",
            &[("customer_id", customer.as_str()), ("form[email]", email), ("form[first_name]", "New"), ("form[last_name]", "Colleague"), ("method", "email")],
        )
        .await;
    if response.status.is_success() { Ok(response.json()) } else { Err(response.error()) }
}

async fn user_id(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(app.db()).await.unwrap().to_string()
}

#[sqlx::test]
async fn managing_customer_users_needs_the_type_permission_and_stays_in_the_subtree(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    for (title, parent) in [("Parent", ""), ("Child", "Parent"), ("Sibling", "")] {
        create(actors.admin(), &world, title, parent, Place::InScope).await;
    }
    let mut other_admin = app.client();
    other_admin.sign_in("admin@b.test", PASSWORD).await;
    create(&mut other_admin, &world, "Foreign", "", Place::OtherAccount).await;
    let (parent, child, sibling, foreign) = (
        customer_id(&app, "Parent").await,
        customer_id(&app, "Child").await,
        customer_id(&app, "Sibling").await,
        customer_id(&app, "Foreign").await,
    );
    let mut pat = customer_user(&app, actors.admin(), parent, "pat@parent.test").await;
    customer_user(&app, actors.admin(), child, "kid@child.test").await;
    customer_user(&app, actors.admin(), sibling, "sib@sibling.test").await;
    customer_user(&app, &mut other_admin, foreign, "far@foreign.test").await;
    let (kid, sib, far) = (user_id(&app, "kid@child.test").await, user_id(&app, "sib@sibling.test").await, user_id(&app, "far@foreign.test").await);

    // Without the permission (the default type grants none), every gated function is refused.
    let before = world.fingerprint().await;
    assert_eq!(pat.call("portal_users", &[]).await.error(), AppError::Forbidden);
    assert_eq!(add(&mut pat, parent, "x@parent.test").await.unwrap_err(), AppError::Forbidden);
    assert_eq!(pat.call("portal_set_user_enabled", &[("id", &kid), ("enabled", "false")]).await.error(), AppError::Forbidden);
    assert_eq!(pat.call("portal_delete_user", &[("id", &kid)]).await.error(), AppError::Forbidden);
    assert_eq!(world.fingerprint().await, before);

    // With it: their customer and its sub-customer, nobody else.
    sqlx::query("UPDATE customer_types SET features = ARRAY['manage_customer_users'] WHERE is_default")
        .execute(app.db())
        .await
        .unwrap();
    let listed: PortalUserList = pat.call("portal_users", &[]).await.json();
    let mut emails: Vec<&str> = listed.rows.iter().map(|r| r.email.as_str()).collect();
    emails.sort();
    assert_eq!(emails, ["kid@child.test", "pat@parent.test"]);
    assert_eq!(listed.customers.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [parent, child]);
    let before = world.fingerprint().await;
    assert_eq!(add(&mut pat, sibling, "x@sibling.test").await.unwrap_err(), AppError::NotFound);
    assert_eq!(add(&mut pat, foreign, "x@foreign.test").await.unwrap_err(), AppError::NotFound);
    for id in [&sib, &far] {
        assert_eq!(pat.call("portal_set_user_enabled", &[("id", id), ("enabled", "false")]).await.error(), AppError::NotFound);
        assert_eq!(pat.call("portal_delete_user", &[("id", id)]).await.error(), AppError::NotFound);
    }
    let me = user_id(&app, "pat@parent.test").await;
    assert!(matches!(pat.call("portal_delete_user", &[("id", &me)]).await.error(), AppError::Refused(_)));
    assert_eq!(world.fingerprint().await, before, "nothing changed");

    // Inside the subtree it works: a colleague for the child, the child's user disabled.
    assert!(add(&mut pat, child, "new@child.test").await.unwrap().link.is_none());
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'activation' AND to_address = 'new@child.test'").await, 1);
    assert!(pat.call("portal_set_user_enabled", &[("id", &kid), ("enabled", "false")]).await.status.is_success());
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'kid@child.test' AND status = 'disabled'").await, 1);
    // Staff screens stay closed to them.
    assert_eq!(pat.call("customer_users", &[("customer_id", &parent.to_string())]).await.error(), AppError::Forbidden);
}

#[sqlx::test]
async fn sub_customers_and_the_customer_profile_need_their_permissions_and_stay_in_the_subtree(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    for (title, parent) in [("Parent", ""), ("Child", "Parent"), ("Sibling", "")] {
        create(actors.admin(), &world, title, parent, Place::InScope).await;
    }
    let mut other_admin = app.client();
    other_admin.sign_in("admin@b.test", PASSWORD).await;
    create(&mut other_admin, &world, "Foreign", "", Place::OtherAccount).await;
    let (parent, child, sibling, foreign) = (
        customer_id(&app, "Parent").await.to_string(),
        customer_id(&app, "Child").await.to_string(),
        customer_id(&app, "Sibling").await.to_string(),
        customer_id(&app, "Foreign").await.to_string(),
    );
    let mut pat = customer_user(&app, actors.admin(), parent.parse().unwrap(), "pat@parent.test").await;
    let profile: PortalCustomerProfile = {
        // Without the permissions every one of these is refused and nothing changes.
        let before = world.fingerprint().await;
        assert_eq!(pat.call("portal_customer", &[]).await.error(), AppError::Forbidden);
        assert_eq!(pat.call("portal_update_customer", &[("version", "1"), ("form[title]", "Renamed")]).await.error(), AppError::Forbidden);
        assert_eq!(pat.call("portal_sub_customers", &[]).await.error(), AppError::Forbidden);
        assert_eq!(pat.call("portal_add_sub_customer", &[("parent_id", &parent), ("form[title]", "New")]).await.error(), AppError::Forbidden);
        assert_eq!(world.fingerprint().await, before);
        sqlx::query("UPDATE customer_types SET features = ARRAY['manage_sub_customers', 'edit_customer_profile'] WHERE is_default")
            .execute(app.db())
            .await
            .unwrap();
        pat.call("portal_customer", &[]).await.json()
    };
    assert_eq!(profile.form.title, "Parent");

    // The profile edit changes only their own customer, with a version check and a unique title:
    // a title another customer has gets a number, so the portal learns nothing of other titles.
    let version = profile.version.to_string();
    let renamed = pat.call("portal_update_customer", &[("version", &version), ("form[title]", "Sibling")]).await;
    assert!(renamed.status.is_success(), "{}", renamed.text());
    assert_eq!(app.count("SELECT count(*) FROM customers WHERE title = 'Sibling (2)'").await, 1);
    let version: String = renamed.json::<i32>().to_string();
    let saved = pat.call("portal_update_customer", &[("version", &version), ("form[title]", "Parent Ltd"), ("form[city]", "Delft")]).await;
    assert!(saved.status.is_success(), "{}", saved.text());
    assert_eq!(pat.call("portal_update_customer", &[("version", &version), ("form[title]", "Parent Again")]).await.error(), AppError::Conflict);
    assert_eq!(app.count("SELECT count(*) FROM customers WHERE title = 'Parent Ltd' AND city = 'Delft'").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM customers WHERE title = 'Sibling' AND city IS NULL").await, 1);

    // Sub-customers: below their own customer only.
    let listed: PortalSubCustomerList = pat.call("portal_sub_customers", &[]).await.json();
    assert_eq!(listed.rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["Child"]);
    let before = world.fingerprint().await;
    for outside in [&sibling, &foreign] {
        assert_eq!(
            pat.call("portal_add_sub_customer", &[("parent_id", outside), ("form[title]", "Intruder")]).await.error(),
            AppError::NotFound
        );
    }
    assert_eq!(world.fingerprint().await, before);
    let added = pat.call("portal_add_sub_customer", &[("parent_id", &child), ("form[title]", "Grandchild")]).await;
    assert!(added.status.is_success(), "{}", added.text());
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM customers g JOIN customers c ON c.id = g.parent_id
              WHERE g.title = 'Grandchild' AND c.id = {child} AND g.owner_company_id = c.owner_company_id"
        ))
        .await,
        1
    );
}
