//! Billing (SPEC 2.2): the plan's four limits refused at their boundary, all or nothing and
//! once under concurrent creates; the counters right after every kind of change; the page
//! refused without Billing – View; the chart's days; the usage warnings.

use crate::{
    customers::create,
    fixture::{Place, World},
    portal::{add as portal_add, customer_user},
    support::{Client, Response, TestApp, PASSWORD},
};
use chrono::Duration;
use futures::future::join_all;
use roster::{
    billing::{ssr::LimitsChange, Billing},
    error::{AppError, Limit, PlanLimit, PLAN_LIMIT_FOR_PORTAL},
    permissions::{BuiltinRole, Permission},
};
use sqlx::PgPool;

async fn set_limit(app: &TestApp, account: i64, limit: Limit, value: Option<i64>) {
    let mut conn = app.db().acquire().await.unwrap();
    let change = LimitsChange { plan_name: None, limits: vec![(limit, value)] };
    roster::billing::ssr::set_limits(&mut conn, account, &change, app.state.clock.now()).await.unwrap();
}

/// `n` clients sharing the session of `email`.
async fn sessions<'a>(app: &'a TestApp, email: &str, n: usize) -> Vec<Client<'a>> {
    let mut first = app.client();
    assert!(first.sign_in(email, PASSWORD).await.status.is_success());
    (0..n)
        .map(|_| {
            let mut c = app.client();
            c.cookie = first.cookie.clone();
            c
        })
        .collect()
}

/// The counters of `account` and what they count, counted the slow way.
async fn counters(app: &TestApp, account: i64) -> [(i64, i64); 3] {
    let row: (i64, i64, i64) = sqlx::query_as("SELECT customer_count, staff_user_count, customer_user_count FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(app.db())
        .await
        .unwrap();
    let real: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM customers WHERE account_id = $1),
                (SELECT count(*) FROM users WHERE account_id = $1 AND kind = 'staff' AND status <> 'removed'),
                (SELECT count(*) FROM users WHERE account_id = $1 AND kind = 'customer')",
    )
    .bind(account)
    .fetch_one(app.db())
    .await
    .unwrap();
    [(row.0, real.0), (row.1, real.1), (row.2, real.2)]
}

fn assert_counters_true(counters: [(i64, i64); 3]) {
    for (what, (kept, real)) in ["customers", "staff users", "customer users"].iter().zip(counters) {
        assert_eq!(kept, real, "the {what} counter");
    }
}

fn successes(responses: &[Response], what: &str) -> usize {
    for res in responses {
        assert!(!res.status.is_server_error(), "{what}: {} {}", res.status, res.text());
        if !res.status.is_success() {
            assert!(matches!(res.error(), AppError::PlanLimit(_)), "{what}: {}", res.text());
        }
    }
    responses.iter().filter(|r| r.status.is_success()).count()
}

async fn emails_this_month(app: &TestApp, account: i64) -> i64 {
    sqlx::query_scalar("SELECT email_month_count FROM accounts WHERE id = $1").bind(account).fetch_one(app.db()).await.unwrap()
}

#[sqlx::test]
async fn each_limit_holds_at_its_boundary_and_under_ten_concurrent_creates(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let account = world.a;
    let (_, company) = world.company_at(Place::InScope);
    let owner = world.owner_role(Place::InScope).await.to_string();
    let company = company.to_string();
    let mut admins = sessions(&app, "admin@a.test", 10).await;

    // Customers: one place left, ten ask for it.
    let used = counters(&app, account).await[0].0;
    set_limit(&app, account, Limit::Customers, Some(used + 1)).await;
    let responses = join_all(admins.iter_mut().enumerate().map(|(i, c)| {
        let world = &world;
        async move { create(c, world, &format!("Race {i}"), "", Place::InScope).await }
    }))
    .await;
    assert_eq!(successes(&responses, "create_customer"), 1);
    let refused = create(&mut admins[0], &world, "One more", "", Place::InScope).await.error();
    assert_eq!(refused, AppError::PlanLimit(PlanLimit { limit: Limit::Customers, allowed: used + 1, used: used + 1, adding: 1 }));
    assert_eq!(refused.to_string(), format!("Your plan allows {}; you have {}.", Limit::Customers.count_of(used + 1), used + 1));
    assert_counters_true(counters(&app, account).await);
    let customer: i64 = sqlx::query_scalar("SELECT id FROM customers WHERE account_id = $1 AND title LIKE 'Race %'")
        .bind(account)
        .fetch_one(app.db())
        .await
        .unwrap();
    let customer = customer.to_string();

    // Staff users (invited count).
    let used = counters(&app, account).await[1].0;
    set_limit(&app, account, Limit::StaffUsers, Some(used + 1)).await;
    let responses = join_all(admins.iter_mut().enumerate().map(|(i, c)| {
        let (owner, company) = (owner.clone(), company.clone());
        async move {
            let email = format!("invitee{i}@new.test");
            c.call("invite_users", &[("emails", email.as_str()), ("role_id", &owner), ("company_id", &company)]).await
        }
    }))
    .await;
    assert_eq!(successes(&responses, "invite_users"), 1);
    assert_counters_true(counters(&app, account).await);
    assert_eq!(counters(&app, account).await[1].0, used + 1);

    // Customer users.
    let used = counters(&app, account).await[2].0;
    set_limit(&app, account, Limit::CustomerUsers, Some(used + 1)).await;
    let responses = join_all(admins.iter_mut().enumerate().map(|(i, c)| {
        let customer = customer.clone();
        async move {
            let email = format!("colleague{i}@race.test");
            c.call(
                "add_customer_user",
                &[("customer_id", customer.as_str()), ("form[email]", &email), ("form[first_name]", "Pat"), ("form[last_name]", "Race"), ("method", "show")],
            )
            .await
        }
    }))
    .await;
    assert_eq!(successes(&responses, "add_customer_user"), 1);
    assert_counters_true(counters(&app, account).await);
    assert_eq!(counters(&app, account).await[2].0, used + 1);
    set_limit(&app, account, Limit::CustomerUsers, None).await;

    // E-mails this month: an activation mail each; only one fits, and no user is added without it.
    let sent = emails_this_month(&app, account).await;
    let users_before = counters(&app, account).await[2].0;
    set_limit(&app, account, Limit::EmailsPerMonth, Some(sent + 1)).await;
    let responses = join_all(admins.iter_mut().enumerate().map(|(i, c)| {
        let customer = customer.clone();
        async move {
            let email = format!("mailed{i}@race.test");
            c.call(
                "add_customer_user",
                &[("customer_id", customer.as_str()), ("form[email]", &email), ("form[first_name]", "Pat"), ("form[last_name]", "Mail"), ("method", "email")],
            )
            .await
        }
    }))
    .await;
    assert_eq!(successes(&responses, "add_customer_user by e-mail"), 1);
    assert_eq!(emails_this_month(&app, account).await, sent + 1);
    assert_eq!(counters(&app, account).await[2].0, users_before + 1, "a refused mail takes its change with it");
    let queued: i64 = app.count("SELECT count(*) FROM outbox WHERE kind = 'activation' AND to_address LIKE 'mailed%'").await;
    assert_eq!(queued, 1);

    // Security mail is counted past the limit, never refused.
    let res = app.client().call("forgot_password", &[("email", "owner@a.test")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'password_reset' AND to_address = 'owner@a.test'").await, 1);
    assert_eq!(emails_this_month(&app, account).await, sent + 2);

    // Another account is untouched by all of it.
    let other: (Option<i64>, Option<i64>) = sqlx::query_as("SELECT customer_limit, email_month_limit FROM accounts WHERE id = $1")
        .bind(world.b)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(other, (None, None));
}

#[sqlx::test]
async fn an_invitation_of_several_that_does_not_fit_says_how_many_would_and_invites_nobody(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let (account, company) = world.company_at(Place::InScope);
    let owner = world.owner_role(Place::InScope).await.to_string();
    let used = counters(&app, account).await[1].0;
    set_limit(&app, account, Limit::StaffUsers, Some(used + 2)).await;
    let mut admin = sessions(&app, "admin@a.test", 1).await.remove(0);
    let emails = "one@five.test, two@five.test, three@five.test, four@five.test, five@five.test";
    let res = admin.call("invite_users", &[("emails", emails), ("role_id", &owner), ("company_id", &company.to_string())]).await;
    let error = res.error();
    assert_eq!(error.to_string(), format!("Your plan allows {} staff users; you have {used}. 2 of these 5 would fit.", used + 2));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email LIKE '%@five.test'").await, 0);
    assert_eq!(counters(&app, account).await[1].0, used);
    // Two fit.
    let res = admin.call("invite_users", &[("emails", "one@five.test, two@five.test"), ("role_id", &owner), ("company_id", &company.to_string())]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_counters_true(counters(&app, account).await);
}

#[sqlx::test]
async fn the_counters_follow_creates_deletes_removals_and_bulk_changes(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let (account, company) = world.company_at(Place::InScope);
    let owner = world.owner_role(Place::InScope).await.to_string();
    let mut admin = sessions(&app, "admin@a.test", 1).await.remove(0);
    assert_counters_true(counters(&app, account).await);
    for title in ["Keep", "Bulk one", "Bulk two"] {
        assert!(create(&mut admin, &world, title, "", Place::InScope).await.status.is_success());
    }
    let keep = crate::customers::customer_id(&app, "Keep").await;
    let bulk = [crate::customers::customer_id(&app, "Bulk one").await, crate::customers::customer_id(&app, "Bulk two").await];
    customer_user(&app, &mut admin, bulk[0], "in-bulk@one.test").await;
    customer_user(&app, &mut admin, keep, "kept@keep.test").await;
    assert_counters_true(counters(&app, account).await);

    // A bulk delete takes its customers and their users off both counters.
    let (one, two) = (bulk[0].to_string(), bulk[1].to_string());
    let res = admin.call("delete_customers", &[("ids[]", one.as_str()), ("ids[]", two.as_str())]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_counters_true(counters(&app, account).await);

    // Staff: invited counts, disabled counts, revoked (removed) does not.
    let staff_before = counters(&app, account).await[1].0;
    let res = admin.call("invite_users", &[("emails", "a@inv.test, b@inv.test"), ("role_id", &owner), ("company_id", &company.to_string())]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(counters(&app, account).await[1].0, staff_before + 2);
    let invited: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'a@inv.test'").fetch_one(app.db()).await.unwrap();
    let res = admin.call("revoke_invitation", &[("id", &invited.to_string())]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(counters(&app, account).await[1].0, staff_before + 1);
    let owner_id = world.actor_ids["owner"].to_string();
    let res = admin.call("change_membership", &[("id", owner_id.as_str()), ("change", "disable")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(counters(&app, account).await[1].0, staff_before + 1, "disabled still counts");
    let res = admin.call("change_membership", &[("id", owner_id.as_str()), ("change", "remove")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(counters(&app, account).await[1].0, staff_before, "removed does not");
    assert_counters_true(counters(&app, account).await);

    // A customer user deleted on their own.
    let kept: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'kept@keep.test'").fetch_one(app.db()).await.unwrap();
    let res = admin.call("delete_customer_user", &[("id", &kept.to_string())]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_counters_true(counters(&app, account).await);
    assert_eq!(counters(&app, account).await[2].0, 0);
}

#[sqlx::test]
async fn billing_is_refused_without_its_permissions_and_managed_only_with_manage(db: PgPool) {
    let app = TestApp::new(db);
    let (_world, mut actors) = World::build(&app).await.split();
    for role in BuiltinRole::ALL {
        let client = actors.get(role);
        let session = client.session().await.unwrap();
        let res = client.call("billing", &[]).await;
        if session.permissions.contains(&Permission::BillingView) {
            assert!(res.status.is_success(), "{role:?}: {}", res.text());
        } else {
            assert_eq!(res.error(), AppError::Forbidden, "{role:?}");
        }
        let res = client.call("update_billing", &[("contact_email", "pay@a.test"), ("usage_warnings", "on"), ("version", "1")]).await;
        if session.permissions.contains(&Permission::BillingManage) {
            assert!(res.status.is_success(), "{role:?}: {}", res.text());
        } else {
            assert_eq!(res.error(), AppError::Forbidden, "{role:?}");
        }
    }
    // Nobody but the Administrator holds Billing among the built-in roles.
    assert!(!BuiltinRole::Owner.default_permissions().contains(&Permission::BillingView));
    let billing: Billing = actors.admin().call("billing", &[]).await.json();
    assert_eq!(billing.contact_email.as_deref(), Some("pay@a.test"));
    assert!(billing.usage_warnings && billing.can_manage);
    // A stale version is a conflict, an invalid address a field error.
    let res = actors.admin().call("update_billing", &[("contact_email", "pay2@a.test"), ("version", "1")]).await;
    assert_eq!(res.error(), AppError::Conflict);
    let res = actors.admin().call("update_billing", &[("contact_email", "nope"), ("version", &billing.version.to_string())]).await;
    assert!(res.error().field_message("contact_email").is_some());
}

#[sqlx::test]
async fn the_chart_counts_each_day_and_the_page_shows_every_limit(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let mut admin = sessions(&app, "admin@a.test", 1).await.remove(0);
    for title in ["Day one A", "Day one B"] {
        assert!(create(&mut admin, &world, title, "", Place::InScope).await.status.is_success());
    }
    app.advance(Duration::days(1));
    let mut admin = sessions(&app, "admin@a.test", 1).await.remove(0);
    assert!(create(&mut admin, &world, "Day two", "", Place::InScope).await.status.is_success());
    set_limit(&app, world.a, Limit::Customers, Some(4)).await;
    let billing: Billing = admin.call("billing", &[]).await.json();
    assert_eq!(billing.days.len(), 30);
    let today = app.state.clock.now().date_naive();
    assert_eq!(billing.days.last().unwrap().day, today);
    let created: Vec<i64> = billing.days.iter().rev().take(2).map(|d| d.customers_created).collect();
    assert_eq!(created, [1, 2]);
    // Every way in counts as a sign-in: the confirmed sign-up, each password sign-in.
    let first_day = &billing.days[billing.days.len() - 2];
    assert!(first_day.sign_ins >= 2, "sign-up confirmation and sign-in on day one: {}", first_day.sign_ins);
    assert_eq!(billing.days.last().unwrap().sign_ins, 1);
    let per_day: Vec<(chrono::NaiveDate, i32, i32)> =
        sqlx::query_as("SELECT day, customers_created, emails FROM account_daily_usage WHERE account_id = $1 ORDER BY day")
            .bind(world.a)
            .fetch_all(app.db())
            .await
            .unwrap();
    for (day, customers, emails) in per_day {
        let shown = billing.days.iter().find(|d| d.day == day).unwrap();
        assert_eq!((shown.customers_created, shown.emails), (customers.into(), emails.into()));
    }
    let limits: Vec<Limit> = billing.usage.iter().map(|u| u.limit).collect();
    assert_eq!(limits, Limit::ALL);
    let customers = &billing.usage[0];
    assert_eq!((customers.used, customers.allowed, customers.percent()), (3, Some(4), Some(75)));
    assert_eq!(billing.usage[1].allowed, None, "unlimited until the operator says otherwise");
}

#[sqlx::test]
async fn the_billing_contact_is_warned_once_at_eighty_and_once_at_a_hundred_percent(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let mut admin = sessions(&app, "admin@a.test", 1).await.remove(0);
    let res = admin.call("update_billing", &[("contact_email", "pay@a.test"), ("usage_warnings", "on"), ("version", "1")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    set_limit(&app, world.a, Limit::Customers, Some(5)).await;
    let warnings = || async { app.count("SELECT count(*) FROM outbox WHERE kind = 'usage_warning' AND to_address = 'pay@a.test'").await };
    for i in 0..3 {
        create(&mut admin, &world, &format!("W{i}"), "", Place::InScope).await;
    }
    assert_eq!(roster::billing::ssr::send_usage_warnings(&app.state).await.unwrap(), 0, "3 of 5 is 60%");
    create(&mut admin, &world, "W3", "", Place::InScope).await;
    assert_eq!(roster::billing::ssr::send_usage_warnings(&app.state).await.unwrap(), 1);
    assert_eq!(roster::billing::ssr::send_usage_warnings(&app.state).await.unwrap(), 0, "once per level");
    assert_eq!(warnings().await, 1);
    create(&mut admin, &world, "W4", "", Place::InScope).await;
    assert_eq!(roster::billing::ssr::send_usage_warnings(&app.state).await.unwrap(), 1);
    assert_eq!(warnings().await, 2);
    let subject: String = sqlx::query_scalar("SELECT subject FROM outbox WHERE kind = 'usage_warning' ORDER BY id DESC LIMIT 1")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(subject, "Alpha has reached a limit of its Roster plan");
    // Turned off, nobody is told.
    let version = admin.call("billing", &[]).await.json::<Billing>().version.to_string();
    admin.call("update_billing", &[("contact_email", "pay@a.test"), ("version", version.as_str())]).await;
    set_limit(&app, world.a, Limit::StaffUsers, Some(1)).await;
    assert_eq!(roster::billing::ssr::send_usage_warnings(&app.state).await.unwrap(), 0);
}

#[sqlx::test]
async fn a_portal_user_hears_only_that_the_provider_has_no_room(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Portal parent", "", Place::InScope).await;
    let parent = crate::customers::customer_id(&app, "Portal parent").await;
    let mut pat = customer_user(&app, actors.admin(), parent, "pat@portal.test").await;
    sqlx::query("UPDATE customer_types SET features = ARRAY['manage_customer_users', 'manage_sub_customers'] WHERE is_default")
        .execute(app.db())
        .await
        .unwrap();
    let used = counters(&app, world.a).await[2].0;
    set_limit(&app, world.a, Limit::CustomerUsers, Some(used)).await;
    let error = portal_add(&mut pat, parent, "colleague@portal.test").await.unwrap_err();
    assert_eq!(error, AppError::Refused(PLAN_LIMIT_FOR_PORTAL.into()));
    let customers = counters(&app, world.a).await[0].0;
    set_limit(&app, world.a, Limit::Customers, Some(customers)).await;
    let res = pat.call("portal_add_sub_customer", &[("parent_id", &parent.to_string()), ("form[title]", "Below")]).await;
    assert_eq!(res.error(), AppError::Refused(PLAN_LIMIT_FOR_PORTAL.into()));
    assert!(!res.text().contains("allows"), "no numbers of the plan: {}", res.text());
    assert_counters_true(counters(&app, world.a).await);
}
