//! SPEC 2.3 both ways: a role is given only by someone of at least its rank who holds every
//! permission it carries, and the same holds for acting on a person who holds a role. Nobody
//! changes their own role, and editing the role you hold counts as changing it.

use crate::{
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use roster::{error::AppError, permissions::BuiltinRole, users::UserChoices};
use sqlx::PgPool;

/// A custom role of rank 5 that carries Account settings: the review's escalation.
async fn settings_role(world: &World<'_>) -> i64 {
    let id: i64 = sqlx::query_scalar("INSERT INTO roles (account_id, name, rank) VALUES ($1, 'Settings helper', 5) RETURNING id")
        .bind(world.a)
        .fetch_one(world.app.db())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO role_permissions (account_id, role_id, permission)
         SELECT $1, $2, unnest(ARRAY['customers.view', 'account_settings.manage'])",
    )
    .bind(world.a)
    .bind(id)
    .execute(world.app.db())
    .await
    .unwrap();
    id
}

async fn role_of(app: &TestApp, user: i64) -> i64 {
    sqlx::query_scalar("SELECT role_id FROM users WHERE id = $1").bind(user).fetch_one(app.db()).await.unwrap()
}

async fn version_of(app: &TestApp, user: i64) -> String {
    sqlx::query_scalar::<_, i32>("SELECT version FROM users WHERE id = $1").bind(user).fetch_one(app.db()).await.unwrap().to_string()
}

#[sqlx::test]
async fn nobody_gives_a_role_holding_permissions_they_lack(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let role = settings_role(&world).await.to_string();
    let company = world.companies["I"].to_string();
    let engineer_id = world.actor_ids["operations_engineer"];
    for actor in [BuiltinRole::OperationsEngineer, BuiltinRole::CommonManager] {
        let target = world.fresh_user(Place::InScope, "active").await;
        let client = actors.get(actor);
        let before = world.fingerprint().await;
        let me = world.actor_ids[match actor {
            BuiltinRole::OperationsEngineer => "operations_engineer",
            _ => "common_manager",
        }];
        let own = client.call("set_user_role", &[("id", &me.to_string()), ("role_id", &role), ("version", &version_of(&app, me).await)]).await;
        assert!(!own.status.is_success(), "{actor:?} gave themself the role");
        let other = client.call("set_user_role", &[("id", &target.to_string()), ("role_id", &role), ("version", "1")]).await;
        let message = other.error().field_message("role_id").unwrap_or_default();
        assert!(message.contains("Account settings – Manage"), "{actor:?}: {message}");
        let created = client
            .call("create_user", &[
                ("display_name", "Climber"), ("email", "climber@people.test"), ("phone", ""), ("region", ""), ("description", ""),
                ("company_id", &company), ("password_setup", "invite"), ("role_id", &role),
            ])
            .await;
        assert!(created.error().field_message("role_id").is_some(), "{actor:?}");
        let invited = client.call("invite_users", &[("emails", "climber2@people.test"), ("role_id", &role), ("company_id", &company)]).await;
        assert!(invited.error().field_message("role_id").is_some(), "{actor:?}");
        let options: UserChoices = client.call("user_form_options", &[]).await.json();
        assert!(options.roles.iter().all(|(id, _)| id.to_string() != role), "{actor:?} is offered the role");
        assert_eq!(before, world.fingerprint().await, "{actor:?}: refused, nothing changed");
    }
    assert_ne!(role_of(&app, engineer_id).await.to_string(), role);
    // An Administrator holds every permission and may give it.
    let target = world.fresh_user(Place::InScope, "active").await;
    let res = actors.admin().call("set_user_role", &[("id", &target.to_string()), ("role_id", &role), ("version", "1")]).await;
    assert!(res.status.is_success(), "{}", res.text());
}

#[sqlx::test]
async fn nobody_changes_their_own_role(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let lower = world.builtin_role(world.a, "owner").await.to_string();
    for (actor, key) in [(BuiltinRole::Administrator, "administrator"), (BuiltinRole::CommonManager, "common_manager")] {
        let me = world.actor_ids[key];
        let res = actors.get(actor).call("set_user_role", &[("id", &me.to_string()), ("role_id", &lower), ("version", &version_of(&app, me).await)]).await;
        assert!(matches!(res.error(), AppError::Refused(m) if m.contains("your own role")), "{actor:?}");
        assert_ne!(role_of(&app, me).await.to_string(), lower);
    }
}

#[sqlx::test]
async fn editing_the_role_you_hold_counts_as_changing_your_own(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    let lead: i64 = sqlx::query_scalar("INSERT INTO roles (account_id, name, rank) VALUES ($1, 'Lead', 1) RETURNING id")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO role_permissions (account_id, role_id, permission)
         SELECT $1, $2, unnest(ARRAY['users.view', 'users.manage', 'customers.view', 'customers.create'])",
    )
    .bind(world.a)
    .bind(lead)
    .execute(app.db())
    .await
    .unwrap();
    let id = world.user(world.a, world.companies["D"], "owner", "lead@a.test", "active").await;
    sqlx::query("UPDATE users SET role_id = $2 WHERE id = $1").bind(id).bind(lead).execute(app.db()).await.unwrap();
    let mut lead_client = app.client();
    lead_client.sign_in("lead@a.test", PASSWORD).await;
    let before = world.fingerprint().await;
    let res = lead_client
        .call("save_role", &[
            ("id", &lead.to_string()), ("name", "Lead"), ("rank", "1"), ("permissions[]", "users.view"),
            ("permissions[]", "users.manage"), ("permissions[]", "customers.view"), ("version", "1"),
        ])
        .await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("role you hold")), "{}", res.text());
    assert_eq!(before, world.fingerprint().await);
    let roles: roster::roles::RoleList = lead_client.call("roles", &[]).await.json();
    assert!(!roles.roles.iter().find(|r| r.id == lead).unwrap().editable, "the editor offers it");
}

/// Each change a Common Manager might make to a person holding the settings role.
async fn actions_on(client: &mut Client<'_>, world: &World<'_>, target: i64) -> Vec<(&'static str, crate::support::Response)> {
    let id = target.to_string();
    let company = world.companies["I"].to_string();
    let mut out = Vec::new();
    out.push(("reset_user_password", client.call("reset_user_password", &[("id", &id), ("mode", "manual"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")]).await));
    out.push(("reset_user_password (generate)", client.call("reset_user_password", &[("id", &id), ("mode", "generate")]).await));
    out.push((
        "update_user",
        client
            .call("update_user", &[
                ("id", &id), ("display_name", "Changed"), ("email", "changed@people.test"), ("phone", ""), ("region", ""),
                ("description", ""), ("company_id", &company), ("version", "1"),
            ])
            .await,
    ));
    for change in ["disable", "remove", "delete"] {
        out.push(("change_membership", client.call("change_membership", &[("id", &id), ("change", change)]).await));
    }
    let owner = world.builtin_role(world.a, "owner").await.to_string();
    out.push(("set_user_role", client.call("set_user_role", &[("id", &id), ("role_id", &owner), ("version", "1")]).await));
    out
}

#[sqlx::test]
async fn acting_on_a_person_needs_every_permission_of_their_role(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let role = settings_role(&world).await;
    let target = world.fresh_user(Place::InScope, "active").await;
    sqlx::query("UPDATE users SET role_id = $2 WHERE id = $1").bind(target).bind(role).execute(app.db()).await.unwrap();
    let manager = actors.get(BuiltinRole::CommonManager);
    let before = world.fingerprint().await;
    for (what, res) in actions_on(manager, &world, target).await {
        assert!(matches!(res.error(), AppError::Refused(ref m) if m.contains("Account settings – Manage")), "{what}: {}", res.text());
    }
    assert_eq!(before, world.fingerprint().await, "refused, nothing changed");
    let detail: roster::users::UserDetail = manager.call("user", &[("id", &target.to_string())]).await.json();
    assert!(!detail.can_manage);
    // The Administrator may.
    let res = actors.admin().call("reset_user_password", &[("id", &target.to_string()), ("mode", "generate")]).await;
    assert!(res.status.is_success(), "{}", res.text());
}
