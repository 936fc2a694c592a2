//! The same requests sent many times at once: never an internal error, and every rule holds —
//! the last Administrator, single-use links, version checks, trees without cycles.

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{Client, Response, TestApp, PASSWORD},
};
use futures::future::join_all;
use roster::error::AppError;
use sqlx::PgPool;

/// Signed-in clients for `email`, `n` of them (each its own session).
async fn sessions<'a>(app: &'a TestApp, email: &str, n: usize) -> Vec<Client<'a>> {
    let mut first = app.client();
    let res = first.sign_in(email, PASSWORD).await;
    assert!(res.status.is_success(), "{}", res.text());
    (0..n)
        .map(|_| {
            let mut c = app.client();
            c.cookie = first.cookie.clone();
            c
        })
        .collect()
}

fn no_server_errors(responses: &[Response], what: &str) {
    for res in responses {
        assert!(!res.status.is_server_error(), "{what}: {} {}", res.status, res.text());
    }
}

async fn active_administrators(app: &TestApp, account: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id WHERE u.account_id = $1 AND u.status = 'active' AND r.rank = 0",
    )
    .bind(account)
    .fetch_one(app.db())
    .await
    .unwrap()
}

#[sqlx::test]
async fn administrators_demoting_each_other_at_once_leave_one_and_no_errors(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    // Two Administrators: the one who signed up and the world's.
    let first: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@a.test'").fetch_one(app.db()).await.unwrap();
    let second = world.actor_ids["administrator"];
    let owner = world.owner_role(Place::InScope).await.to_string();
    let mut a = sessions(&app, "admin@a.test", 25).await;
    let mut b = sessions(&app, "administrator@a.test", 25).await;
    let (first, second) = (first.to_string(), second.to_string());
    let mut calls = Vec::new();
    for (client, target) in a.iter_mut().map(|c| (c, &second)).chain(b.iter_mut().map(|c| (c, &first))) {
        let owner = owner.clone();
        calls.push(async move { client.call("set_user_role", &[("id", target.as_str()), ("role_id", &owner), ("version", "1")]).await });
    }
    let responses = join_all(calls).await;
    no_server_errors(&responses, "set_user_role");
    let succeeded = responses.iter().filter(|r| r.status.is_success()).count();
    assert_eq!(succeeded, 1, "exactly one demotion wins");
    assert_eq!(active_administrators(&app, world.a).await, 1);
    for res in responses.iter().filter(|r| !r.status.is_success()) {
        assert!(matches!(res.error(), AppError::Conflict | AppError::Refused(_) | AppError::Forbidden), "{}", res.text());
    }
}

#[sqlx::test]
async fn many_administrators_changing_roles_and_access_at_once_never_lose_the_last(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let mut admins = vec!["admin@a.test".to_owned(), "administrator@a.test".to_owned()];
    for i in 0..3 {
        let email = format!("extra-admin{i}@a.test");
        world.user(world.a, world.companies["A"], "administrator", &email, "active").await;
        admins.push(email);
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id WHERE u.account_id = $1 AND r.rank = 0 ORDER BY u.id")
        .bind(world.a)
        .fetch_all(app.db())
        .await
        .unwrap();
    let owner = world.owner_role(Place::InScope).await.to_string();
    let mut clients = Vec::new();
    for email in &admins {
        clients.extend(sessions(&app, email, 10).await);
    }
    // Fifty requests: each client demotes, disables or removes another Administrator.
    let calls = clients.iter_mut().enumerate().map(|(i, client)| {
        let target = ids[(i + 1 + i / 10) % ids.len()].to_string();
        let owner = owner.clone();
        async move {
            match i % 3 {
                0 => client.call("set_user_role", &[("id", &target), ("role_id", &owner), ("version", "1")]).await,
                1 => client.call("change_membership", &[("id", &target), ("change", "disable")]).await,
                _ => client.call("change_membership", &[("id", &target), ("change", "remove")]).await,
            }
        }
    });
    let responses = join_all(calls).await;
    assert_eq!(responses.len(), 50);
    no_server_errors(&responses, "role and access changes");
    assert!(active_administrators(&app, world.a).await >= 1, "the account kept an Administrator");
}

#[sqlx::test]
async fn a_single_use_link_used_twenty_times_at_once_works_once(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let (owner, company) = (world.owner_role(Place::InScope).await.to_string(), world.companies["I"].to_string());
    actors.admin().call("invite_users", &[("emails", "once@new.test"), ("role_id", &owner), ("company_id", &company)]).await;
    let token = app.link_token("once@new.test", "invitation").await;
    let mut clients: Vec<Client<'_>> = (0..20).map(|_| app.client()).collect();
    let responses = join_all(clients.iter_mut().map(|c| {
        let token = token.clone();
        async move {
            c.call("accept_invitation", &[("token", &token), ("display_name", "Once"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
                .await
        }
    }))
    .await;
    no_server_errors(&responses, "accept_invitation");
    assert_eq!(responses.iter().filter(|r| r.status.is_success()).count(), 1);
    assert_eq!(clients.iter().filter(|c| c.cookie.is_some()).count(), 1, "one session was started");

    app.client().call("forgot_password", &[("email", "owner@a.test")]).await;
    let token = app.link_token("owner@a.test", "password_reset").await;
    let responses = join_all(clients.iter_mut().enumerate().map(|(i, c)| {
        let (token, password) = (token.clone(), format!("amber-piano-harbour-{i}"));
        async move { c.call("reset_password", &[("token", &token), ("password", &password), ("password_confirm", &password)]).await }
    }))
    .await;
    no_server_errors(&responses, "reset_password");
    assert_eq!(responses.iter().filter(|r| r.status.is_success()).count(), 1);

    let mut lone = app.client();
    lone.call("sign_up", &[("account_name", "Gamma"), ("display_name", "Gus"), ("email", "gus@gamma.test"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    let token = app.link_token("gus@gamma.test", "sign_up_confirmation").await;
    let responses = join_all(clients.iter_mut().map(|c| {
        let token = token.clone();
        async move { c.call("confirm_email", &[("token", &token)]).await }
    }))
    .await;
    no_server_errors(&responses, "confirm_email");
    assert_eq!(responses.iter().filter(|r| r.status.is_success()).count(), 1);
    assert_eq!(app.count("SELECT count(*) FROM accounts WHERE name = 'Gamma'").await, 1);
}

#[sqlx::test]
async fn twenty_saves_of_one_version_give_one_success_and_nineteen_conflicts(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Shared", "", Place::InScope).await;
    let id = customer_id(&app, "Shared").await.to_string();
    let (kind, owner) = (world.default_type(Place::InScope).await.to_string(), world.companies["I"].to_string());
    let mut clients = sessions(&app, "admin@a.test", 20).await;
    let responses = join_all(clients.iter_mut().enumerate().map(|(i, c)| {
        let (id, kind, owner, title) = (id.clone(), kind.clone(), owner.clone(), format!("Shared {i}"));
        async move {
            c.call("update_customer", &[("id", &id), ("form[title]", &title), ("customer_type_id", &kind), ("owner_company_id", &owner), ("version", "1")])
                .await
        }
    }))
    .await;
    no_server_errors(&responses, "update_customer");
    assert_eq!(responses.iter().filter(|r| r.status.is_success()).count(), 1);
    assert_eq!(responses.iter().filter(|r| !r.status.is_success() && r.error() == AppError::Conflict).count(), 19);

    let target = world.fresh_user(Place::InScope, "active").await.to_string();
    let responses = join_all(clients.iter_mut().enumerate().map(|(i, c)| {
        let (target, owner_company, email) = (target.clone(), owner.clone(), format!("burst{i}@people.test"));
        async move {
            c.call("update_user", &[
                ("id", &target), ("display_name", "Burst"), ("email", &email), ("phone", ""), ("region", ""),
                ("description", ""), ("company_id", &owner_company), ("version", "1"),
            ])
            .await
        }
    }))
    .await;
    no_server_errors(&responses, "update_user");
    assert_eq!(responses.iter().filter(|r| r.status.is_success()).count(), 1);
}

#[sqlx::test]
async fn moving_two_things_under_each_other_at_once_never_makes_a_cycle(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let x = world.company(world.a, world.companies["A"], "X", "distributor").await.to_string();
    let y = world.company(world.a, world.companies["A"], "Y", "distributor").await.to_string();
    let mut clients = sessions(&app, "admin@a.test", 20).await;
    let responses = join_all(clients.iter_mut().enumerate().map(|(i, c)| {
        let (id, parent) = if i % 2 == 0 { (x.clone(), y.clone()) } else { (y.clone(), x.clone()) };
        async move { c.call("move_company", &[("id", &id), ("parent_id", &parent), ("version", "1")]).await }
    }))
    .await;
    no_server_errors(&responses, "move_company");
    let cycles: i64 = app
        .count("SELECT count(*) FROM companies a JOIN companies b ON a.parent_id = b.id AND b.parent_id = a.id")
        .await;
    assert_eq!(cycles, 0);
    let paths: Vec<Vec<i64>> = sqlx::query_scalar("SELECT path FROM companies WHERE name IN ('X', 'Y')").fetch_all(app.db()).await.unwrap();
    for path in paths {
        let mut sorted = path.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), path.len(), "a path repeats a company: {path:?}");
    }

    let admin = actors.admin();
    create(admin, &world, "P", "", Place::InScope).await;
    create(admin, &world, "Q", "", Place::InScope).await;
    let (p, q) = (customer_id(&app, "P").await.to_string(), customer_id(&app, "Q").await.to_string());
    let (kind, owner) = (world.default_type(Place::InScope).await.to_string(), world.companies["I"].to_string());
    let responses = join_all(clients.iter_mut().enumerate().map(|(i, c)| {
        let (id, title, parent) = if i % 2 == 0 { (p.clone(), "P", "Q") } else { (q.clone(), "Q", "P") };
        let (kind, owner) = (kind.clone(), owner.clone());
        async move {
            c.call("update_customer", &[
                ("id", &id), ("form[title]", title), ("customer_type_id", &kind), ("owner_company_id", &owner),
                ("parent", parent), ("version", "1"),
            ])
            .await
        }
    }))
    .await;
    no_server_errors(&responses, "update_customer");
    let cycles = app.count("SELECT count(*) FROM customers a JOIN customers b ON a.parent_id = b.id AND b.parent_id = a.id").await;
    assert_eq!(cycles, 0);
}

#[sqlx::test]
async fn customer_users_disabling_each_other_at_once_get_no_errors(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    create(actors.admin(), &world, "Sunfield", "", Place::InScope).await;
    let sunfield = customer_id(&app, "Sunfield").await;
    sqlx::query("UPDATE customer_types SET features = ARRAY['manage_customer_users'] WHERE id = (SELECT customer_type_id FROM customers WHERE id = $1)")
        .bind(sunfield)
        .execute(app.db())
        .await
        .unwrap();
    let pat = world.customer_user_in(world.a, sunfield, "pat@sunfield.test").await.to_string();
    let sam = world.customer_user_in(world.a, sunfield, "sam@sunfield.test").await.to_string();
    let mut pats = sessions(&app, "pat@sunfield.test", 10).await;
    let mut sams = sessions(&app, "sam@sunfield.test", 10).await;
    let mut calls = Vec::new();
    for (client, target) in pats.iter_mut().map(|c| (c, &sam)).chain(sams.iter_mut().map(|c| (c, &pat))) {
        calls.push(async move { client.call("portal_set_user_enabled", &[("id", target.as_str()), ("enabled", "false")]).await });
    }
    let responses = join_all(calls).await;
    no_server_errors(&responses, "portal_set_user_enabled");
    assert!(responses.iter().any(|r| r.status.is_success()));
}
