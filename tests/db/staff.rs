//! Companies, roles, staff users and invitations: the rules of SPEC 3, one behaviour per test.

use crate::{
    fixture::{Place, World},
    support::{account_id_of, Client, TestApp, PASSWORD},
};
use axum::http::StatusCode;
use chrono::Duration;
use roster::{
    services::links::LinkState,
    error::AppError,
    permissions::BuiltinRole,
    server::tokens,
    users::{InvitationView, UserList, UserStatus},
};
use sqlx::PgPool;

/// The newest invitation link sent to `to`, read from the outbox.
async fn invitation_link(app: &TestApp, to: &str) -> String {
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE to_address = $1 AND kind = 'invitation' ORDER BY id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_one(app.db())
    .await
    .unwrap();
    let start = body.find("http://roster.test/invitation?token=").expect("a link in the invitation");
    body[start..].split_whitespace().next().unwrap().split("token=").nth(1).unwrap().to_owned()
}

async fn invite(client: &mut Client<'_>, world: &World<'_>, emails: &str) -> crate::support::Response {
    let role = world.owner_role(Place::InScope).await.to_string();
    let company = world.companies["I"].to_string();
    client.call("invite_users", &[("emails", emails), ("role_id", &role), ("company_id", &company)]).await
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1) AND status <> 'removed'")
        .bind(email)
        .fetch_one(app.db())
        .await
        .unwrap()
}

async fn accept<'a>(app: &'a TestApp, token: &str) -> (Client<'a>, crate::support::Response) {
    let mut client = app.client();
    let res = client
        .call("accept_invitation", &[("token", token), ("display_name", "New Colleague"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    (client, res)
}

#[sqlx::test]
async fn many_addresses_are_invited_at_once_each_with_its_own_link(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let res = invite(actors.admin(), &world, "one@new.test, two@new.test\nthree@new.test").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let count: usize = res.json();
    assert_eq!(count, 3);
    let links = [
        invitation_link(&app, "one@new.test").await,
        invitation_link(&app, "two@new.test").await,
        invitation_link(&app, "three@new.test").await,
    ];
    assert!(links[0] != links[1] && links[1] != links[2]);
    let invited: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE status = 'invited' AND email LIKE '%@new.test'")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(invited, 3);
    // An address already in use stops the whole batch.
    let res = invite(actors.admin(), &world, "four@new.test, two@new.test").await;
    assert_eq!(res.error().field_message("emails").as_deref(), Some("These addresses cannot be used here: two@new.test."));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'four@new.test'").await, 0);
}

#[sqlx::test]
async fn an_invitation_works_until_its_last_second_once_and_only_as_a_hash(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    invite(actors.admin(), &world, "early@new.test, late@new.test").await;
    let early = invitation_link(&app, "early@new.test").await;
    let late = invitation_link(&app, "late@new.test").await;
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM one_time_tokens WHERE purpose = 'invitation'")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert!(stored.contains(&tokens::hash(&early)));
    assert!(stored.iter().all(|h| h.as_slice() != early.as_bytes()));

    app.advance(Duration::days(7) - Duration::seconds(1));
    let view: InvitationView = app.client().call("invitation", &[("token", &early)]).await.json();
    assert_eq!(view.state, LinkState::Valid);
    assert_eq!(view.account_name.as_deref(), Some("Alpha"));
    assert!(view.inviter.unwrap().contains("administrator@a.test"));
    let (mut colleague, res) = accept(&app, &early).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let session = colleague.session().await.expect("signed in after accepting");
    assert_eq!(session.display_name, "New Colleague");
    assert_eq!(session.role_name.as_deref(), Some("Owner"));

    let view: InvitationView = app.client().call("invitation", &[("token", &early)]).await.json();
    assert_eq!(view.state, LinkState::Used);
    let (_, again) = accept(&app, &early).await;
    assert!(matches!(again.error(), AppError::Refused(m) if m.contains("already been accepted")));

    // Both were sent at the same moment; two seconds later the second is past its seven days.
    app.advance(Duration::seconds(2));
    let view: InvitationView = app.client().call("invitation", &[("token", &late)]).await.json();
    assert_eq!(view.state, LinkState::Expired);
    let (_, res) = accept(&app, &late).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("expired")));
}

#[sqlx::test]
async fn invitations_last_as_many_days_as_the_account_says(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    sqlx::query("UPDATE accounts SET invitation_valid_days = 3 WHERE id = $1").bind(world.a).execute(app.db()).await.unwrap();
    invite(actors.admin(), &world, "short@new.test").await;
    let token = invitation_link(&app, "short@new.test").await;
    app.advance(Duration::days(3) + Duration::seconds(1));
    let view: InvitationView = app.client().call("invitation", &[("token", &token)]).await.json();
    assert_eq!(view.state, LinkState::Expired);
}

#[sqlx::test]
async fn resend_kills_the_old_link_and_revoke_frees_the_address(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    invite(actors.admin(), &world, "again@new.test").await;
    let first = invitation_link(&app, "again@new.test").await;
    let id = user_id(&app, "again@new.test").await.to_string();
    assert_eq!(actors.admin().call("resend_invitation", &[("id", &id)]).await.status, StatusCode::OK);
    let second = invitation_link(&app, "again@new.test").await;
    assert_ne!(first, second);
    let old: InvitationView = app.client().call("invitation", &[("token", &first)]).await.json();
    assert_eq!(old.state, LinkState::Revoked);
    let (_, res) = accept(&app, &first).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("withdrawn")));

    assert_eq!(actors.admin().call("revoke_invitation", &[("id", &id)]).await.status, StatusCode::OK);
    let view: InvitationView = app.client().call("invitation", &[("token", &second)]).await.json();
    assert_eq!(view.state, LinkState::Revoked);
    // The address can be invited again.
    let res = invite(actors.admin(), &world, "again@new.test").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let third = invitation_link(&app, "again@new.test").await;
    let (_, res) = accept(&app, &third).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

#[sqlx::test]
async fn a_removed_user_keeps_their_history_and_can_be_invited_again(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let owner_email = "owner@a.test";
    let owner_id = world.actor_ids["owner"].to_string();
    let res = actors.admin().call("change_membership", &[("id", &owner_id), ("change", "remove")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let owner = actors.get(BuiltinRole::Owner);
    assert!(owner.session().await.is_none(), "removal ends their session at once");
    assert_eq!(app.client().sign_in(owner_email, PASSWORD).await.status, StatusCode::BAD_REQUEST);
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE actor_id = $1")
        .bind(world.actor_ids["owner"])
        .fetch_one(app.db())
        .await
        .unwrap();
    assert!(history > 0, "their sign-ins stay in the audit log, still linked to them");
    let res = invite(actors.admin(), &world, owner_email).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let token = invitation_link(&app, owner_email).await;
    let (_, res) = accept(&app, &token).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[sqlx::test]
async fn disabling_removing_and_resetting_a_password_end_the_users_sessions(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    for (change, email) in [("disable", "d1@a.test"), ("remove", "d2@a.test"), ("reset", "d3@a.test"), ("delete", "d4@a.test")] {
        let id = world.user(world.a, world.companies["I"], "owner", email, "active").await.to_string();
        let mut victim = app.client();
        victim.sign_in(email, PASSWORD).await;
        assert!(victim.session().await.is_some());
        let res = if change == "reset" {
            actors.admin().call("reset_user_password", &[("id", &id), ("mode", "generate")]).await
        } else {
            actors.admin().call("change_membership", &[("id", &id), ("change", change)]).await
        };
        assert_eq!(res.status, StatusCode::OK, "{change}: {}", res.text());
        assert!(victim.session().await.is_none(), "{change} signs them out on their next request");
    }
    // The reset e-mailed a temporary password that must be changed at first sign-in.
    let mail: String = sqlx::query_scalar("SELECT body_text FROM outbox WHERE to_address = 'd3@a.test' AND kind = 'temporary_password'")
        .fetch_one(app.db())
        .await
        .unwrap();
    let temp = mail.split("temporary password for you: ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let mut user = app.client();
    assert_eq!(user.sign_in("d3@a.test", &temp).await.status, StatusCode::OK);
    assert!(user.session().await.unwrap().must_change_password);
    // Enabling gives a disabled user access back.
    let id = user_id(&app, "d1@a.test").await.to_string();
    assert_eq!(actors.admin().call("change_membership", &[("id", &id), ("change", "enable")]).await.status, StatusCode::OK);
    assert_eq!(app.client().sign_in("d1@a.test", PASSWORD).await.status, StatusCode::OK);
    // Delete erased the row.
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'd4@a.test'").await, 0);
}

#[sqlx::test]
async fn nobody_disables_removes_or_deletes_themselves_or_the_last_administrator(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin_a: i64 = user_id(&app, "admin@a.test").await;
    let second_admin = world.actor_ids["administrator"];
    for change in ["disable", "remove", "delete"] {
        let res = actors.admin().call("change_membership", &[("id", &second_admin.to_string()), ("change", change)]).await;
        assert!(matches!(res.error(), AppError::Refused(m) if m.contains("yourself")), "{change}");
    }
    // Two Administrators: one may demote the other, but not the last one.
    let admin_role = world.builtin_role(world.a, "administrator").await;
    let owner_role = world.owner_role(Place::InScope).await;
    let res = actors.admin().call("set_user_role", &[("id", &admin_a.to_string()), ("role_id", &owner_role.to_string()), ("version", "1")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    // The last Administrator cannot demote themself (nobody changes their own role, SPEC 2.3).
    let res = actors.admin().call("set_user_role", &[("id", &second_admin.to_string()), ("role_id", &owner_role.to_string()), ("version", "1")]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("your own role")));
    assert_eq!(app.count("SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id WHERE r.rank = 0 AND u.account_id = (SELECT account_id FROM users WHERE email = 'admin@a.test')").await, 1);
    let _ = admin_role;
    // A Common Manager cannot act on an Administrator at all.
    let manager = actors.get(BuiltinRole::CommonManager);
    let res = manager.call("change_membership", &[("id", &second_admin.to_string()), ("change", "disable")]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("more authority")));
}

#[sqlx::test]
async fn adding_a_user_with_each_password_setup(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let company = world.companies["I"].to_string();
    let role = world.owner_role(Place::InScope).await.to_string();
    let base = |email: &'static str, setup: &'static str| {
        vec![
            ("display_name", "Pat Person"), ("email", email), ("phone", "+44 20 7946 0958"), ("region", "Europe"),
            ("description", "Night shift"), ("password_setup", setup),
        ]
    };
    for (email, setup, extra) in [
        ("invited@people.test", "invite", vec![]),
        ("generated@people.test", "generate", vec![]),
        ("custom@people.test", "custom", vec![("password", "tidal-lantern-copper"), ("password_confirm", "tidal-lantern-copper")]),
    ] {
        let mut form = base(email, setup);
        form.extend(extra);
        form.push(("company_id", &company));
        form.push(("role_id", &role));
        let res = actors.admin().call("create_user", &form).await;
        assert_eq!(res.status, StatusCode::OK, "{setup}: {}", res.text());
    }
    let rows: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT email, status, must_change_password, password_expires_at IS NOT NULL FROM users
          WHERE email LIKE '%@people.test' ORDER BY email",
    )
    .fetch_all(app.db())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("custom@people.test".into(), "active".into(), true, false),
            ("generated@people.test".into(), "active".into(), true, true),
            ("invited@people.test".into(), "invited".into(), false, false),
        ]
    );
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM outbox WHERE to_address LIKE '%@people.test' ORDER BY to_address")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(kinds, ["account_created", "temporary_password", "invitation"]);
    let mut custom = app.client();
    assert_eq!(custom.sign_in("custom@people.test", "tidal-lantern-copper").await.status, StatusCode::OK);
    assert!(custom.session().await.unwrap().must_change_password);
    // Bad input comes back per field.
    let res = actors.admin()
        .call("create_user", &[
            ("display_name", ""), ("email", "nope"), ("phone", "123"), ("region", "Mars"), ("description", ""),
            ("password_setup", "custom"), ("password", "short"), ("password_confirm", "other"),
            ("company_id", &company), ("role_id", &role),
        ])
        .await;
    let error = res.error();
    for field in ["display_name", "email", "phone", "region", "password", "password_confirm"] {
        assert!(error.field_message(field).is_some(), "{field}: {error:?}");
    }
    // The generated password stops working after 24 hours.
    let mail: String = sqlx::query_scalar("SELECT body_text FROM outbox WHERE kind = 'temporary_password'").fetch_one(app.db()).await.unwrap();
    let temp = mail.split("temporary password for you: ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    app.advance(Duration::hours(24) + Duration::seconds(1));
    assert!(matches!(app.client().sign_in("generated@people.test", &temp).await.error(), AppError::Refused(m) if m.contains("expired")));
}

#[sqlx::test]
async fn editing_a_user_checks_the_email_stays_unique_and_concurrent_edits_conflict(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let id = world.fresh_user(Place::InScope, "active").await.to_string();
    let company = world.companies["I"].to_string();
    let form = |email: &'static str, version: &'static str| {
        vec![
            ("id", id.clone()), ("display_name", "Renamed".to_owned()), ("email", email.to_owned()), ("phone", String::new()),
            ("region", String::new()), ("description", String::new()), ("company_id", company.clone()), ("version", version.to_owned()),
        ]
    };
    let call = |f: Vec<(&'static str, String)>| f;
    let taken = call(form("admin@b.test", "1"));
    let pairs: Vec<(&str, &str)> = taken.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = actors.admin().call("update_user", &pairs).await;
    assert_eq!(res.error().field_message("email").as_deref(), Some("This e-mail cannot be used here."));
    let ok = form("renamed@people.test", "1");
    let pairs: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(actors.admin().call("update_user", &pairs).await.status, StatusCode::OK);
    let stale = form("again@people.test", "1");
    let pairs: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(actors.admin().call("update_user", &pairs).await.error(), AppError::Conflict);
}

#[sqlx::test]
async fn companies_move_without_cycles_and_scope_follows_the_tree(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let (d, i, s) = (world.companies["D"], world.companies["I"], world.companies["S"]);
    let res = actors.admin().call("move_company", &[("id", &d.to_string()), ("parent_id", &i.to_string()), ("version", "1")]).await;
    assert!(res.error().field_message("parent_id").unwrap().contains("under itself"));
    let res = actors.admin().call("move_company", &[("id", &d.to_string()), ("parent_id", &d.to_string()), ("version", "1")]).await;
    assert!(res.error().field_message("parent_id").is_some());

    let target = world.user(world.a, i, "owner", "moved@a.test", "active").await;
    let manager = actors.get(BuiltinRole::CommonManager);
    assert_eq!(manager.call("user", &[("id", &target.to_string())]).await.status, StatusCode::OK);
    let res = actors.admin().call("move_company", &[("id", &i.to_string()), ("parent_id", &s.to_string()), ("version", "1")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let path: Vec<i64> = sqlx::query_scalar("SELECT path FROM companies WHERE id = $1").bind(i).fetch_one(app.db()).await.unwrap();
    assert_eq!(path, [world.companies["A"], s, i]);
    let manager = actors.get(BuiltinRole::CommonManager);
    assert_eq!(manager.call("user", &[("id", &target.to_string())]).await.error(), AppError::NotFound, "I left D's branch");
}

#[sqlx::test]
async fn deleting_a_company_names_what_goes_and_refuses_while_people_remain(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let s = world.companies["S"];
    let below = world.company(world.a, s, "S-1", "installer").await;
    world.company(world.a, below, "S-1-a", "installer").await;
    let preview: roster::companies::DeletionPreview = actors.admin().call("company_deletion", &[("id", &s.to_string())]).await.json();
    assert_eq!(preview.companies, ["S", "S-1", "S-1-a"]);
    assert_eq!(preview.users, 0);
    let stale = actors.admin().call("delete_company", &[("id", &s.to_string()), ("expected_companies", "2")]).await;
    assert_eq!(stale.error(), AppError::Conflict, "the confirmation named a different set");
    let person = world.user(world.a, below, "owner", "stays@a.test", "active").await;
    let refused = actors.admin().call("delete_company", &[("id", &s.to_string()), ("expected_companies", "3")]).await;
    assert!(matches!(refused.error(), AppError::Refused(m) if m.contains("1 person")));
    sqlx::query("DELETE FROM users WHERE id = $1").bind(person).execute(app.db()).await.unwrap();
    let ok = actors.admin().call("delete_company", &[("id", &s.to_string()), ("expected_companies", "3")]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(app.count("SELECT count(*) FROM companies WHERE name LIKE 'S%'").await, 0);
    let root = world.companies["A"].to_string();
    let res = actors.admin().call("delete_company", &[("id", &root), ("expected_companies", "1")]).await;
    assert!(matches!(res.error(), AppError::Refused(_)), "the account's own company stays");
    let dup = actors.admin().call("create_company", &[("parent_id", &root), ("name", "d"), ("kind", "installer")]).await;
    assert!(dup.error().field_message("name").unwrap().contains("already exists"));
}

#[sqlx::test]
async fn custom_roles_grant_only_what_their_author_holds_and_go_only_when_unused(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let engineer = actors.get(BuiltinRole::OperationsEngineer);
    let res = engineer
        .call("save_role", &[("name", "Grabber"), ("rank", "2"), ("permissions[]", "customers.view"), ("permissions[]", "companies.manage")])
        .await;
    assert!(res.error().field_message("permissions").unwrap().contains("do not hold"));
    let res = engineer.call("save_role", &[("name", "Boss"), ("rank", "1"), ("permissions[]", "customers.view")]).await;
    assert!(res.error().field_message("rank").is_some());
    let res = engineer
        .call("save_role", &[("name", "Support"), ("rank", "4"), ("permissions[]", "customers.view"), ("permissions[]", "customer_users.view")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let role_id: i64 = res.json();
    let stored: Vec<String> = sqlx::query_scalar("SELECT permission FROM role_permissions WHERE role_id = $1 ORDER BY 1")
        .bind(role_id)
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(stored, ["customer_users.view", "customers.view"]);
    let person = world.user(world.a, world.companies["I"], "owner", "support@a.test", "active").await;
    sqlx::query("UPDATE users SET role_id = $1 WHERE id = $2").bind(role_id).bind(person).execute(app.db()).await.unwrap();
    let mut support = app.client();
    support.sign_in("support@a.test", PASSWORD).await;
    let session = support.session().await.unwrap();
    assert!(session.sees(roster::permissions::Module::Customers));
    assert!(!session.sees(roster::permissions::Module::Users));
    let query = [("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "25")];
    assert_eq!(support.call("users", &query).await.error(), AppError::Forbidden, "Users is refused on the server too");
    let res = actors.admin().call("delete_role", &[("id", &role_id.to_string())]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("1 person has")));
    let builtin = world.owner_role(Place::InScope).await.to_string();
    let res = actors.admin().call("delete_role", &[("id", &builtin)]).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("Built-in")));
}

#[sqlx::test]
async fn the_users_list_searches_filters_sorts_and_pages(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let i = world.companies["I"];
    for n in 0..30 {
        world.user(world.a, i, "owner", &format!("person{n:02}@list.test"), if n % 10 == 0 { "disabled" } else { "active" }).await;
    }
    let list = |q: &'static str, status: &'static str, sort: &'static str, desc: &'static str, page: &'static str, size: &'static str| {
        vec![("query[q]", q), ("query[status]", status), ("query[sort]", sort), ("query[desc]", desc), ("query[page]", page), ("query[size]", size)]
    };
    let page1: UserList = actors.admin().call("users", &list("list.test", "", "email", "false", "1", "10")).await.json();
    assert_eq!(page1.total, 27, "disabled people are listed separately");
    assert_eq!(page1.users.len(), 10);
    assert_eq!(page1.users[0].email, "person01@list.test");
    let page3: UserList = actors.admin().call("users", &list("list.test", "", "email", "false", "3", "10")).await.json();
    assert_eq!(page3.users.len(), 7);
    let desc: UserList = actors.admin().call("users", &list("list.test", "", "email", "true", "1", "10")).await.json();
    assert_eq!(desc.users[0].email, "person29@list.test");
    let disabled: UserList = actors.admin().call("users", &list("", "disabled", "", "false", "1", "25")).await.json();
    assert_eq!(disabled.users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["person00@list.test", "person10@list.test", "person20@list.test"]);
    assert!(disabled.users.iter().all(|u| u.status == UserStatus::Disabled));
    let one: UserList = actors.admin().call("users", &list("PERSON07", "", "", "false", "1", "25")).await.json();
    assert_eq!(one.total, 1);
    let role = world.builtin_role(world.a, "common_manager").await.to_string();
    let filtered: UserList = actors.admin()
        .call("users", &[("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "25"), ("query[role]", &role)])
        .await
        .json();
    assert_eq!(filtered.users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["common_manager@a.test"]);
    let company = world.companies["D"].to_string();
    let in_d: UserList = actors.admin()
        .call("users", &[("query[q]", "list.test"), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "100"), ("query[company]", &company)])
        .await
        .json();
    assert_eq!(in_d.total, 27, "a company's list includes the companies below it");
}

#[sqlx::test]
async fn account_settings_are_validated_and_apply_to_new_sessions(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    let version: i32 = sqlx::query_scalar("SELECT version FROM accounts").fetch_one(app.db()).await.unwrap();
    let bad = ada
        .call("update_account_settings", &[("name", ""), ("invitation_valid_days", "45"), ("session_idle_minutes", "1"), ("session_absolute_hours", ""), ("version", &version.to_string())])
        .await;
    let error = bad.error();
    for field in ["name", "invitation_valid_days", "session_idle_minutes"] {
        assert!(error.field_message(field).is_some(), "{field}");
    }
    let ok = ada
        .call("update_account_settings", &[("name", "Acme Solar"), ("invitation_valid_days", "14"), ("session_idle_minutes", "10"), ("session_absolute_hours", ""), ("version", &version.to_string())])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let stale = ada
        .call("update_account_settings", &[("name", "Acme"), ("invitation_valid_days", "14"), ("session_idle_minutes", ""), ("session_absolute_hours", ""), ("version", &version.to_string())])
        .await;
    assert_eq!(stale.error(), AppError::Conflict);
    let mut fresh = app.client();
    fresh.sign_in("ada@acme.test", PASSWORD).await;
    app.advance(Duration::minutes(11));
    assert!(fresh.session().await.is_none(), "the account's 10-minute idle limit applies");
    let _ = account_id_of(&app, "ada@acme.test").await;
}
