//! The authorization matrix of the companies-and-staff functions: every server function × each
//! built-in role × a target in scope, beside the actor's branch, and in another account. The
//! expected answer follows from the role's permissions (SPEC 2.2), scope (SPEC 2.4) and account;
//! every refusal must leave every table as it was.

use crate::fixture::{Place, World, PLACES};
use roster::permissions::{BuiltinRole, Permission};
use sqlx::PgPool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// Acts on the account as a whole: only one row of the matrix (no target).
    Account,
    /// Acts on something that belongs to a company: scope applies.
    Scoped,
    /// Acts on something account-wide (a role): another account is refused, scope is not involved.
    AccountWide,
}

struct Op {
    endpoint: &'static str,
    needs: Permission,
    reach: Reach,
    writes: bool,
}

const OPS: &[Op] = &[
    Op { endpoint: "companies", needs: Permission::CompaniesView, reach: Reach::Account, writes: false },
    Op { endpoint: "create_company", needs: Permission::CompaniesManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "rename_company", needs: Permission::CompaniesManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "move_company", needs: Permission::CompaniesManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "company_deletion", needs: Permission::CompaniesManage, reach: Reach::Scoped, writes: false },
    Op { endpoint: "delete_company", needs: Permission::CompaniesManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "roles", needs: Permission::UsersView, reach: Reach::Account, writes: false },
    Op { endpoint: "save_role", needs: Permission::UsersManage, reach: Reach::Account, writes: true },
    Op { endpoint: "save_role (existing)", needs: Permission::UsersManage, reach: Reach::AccountWide, writes: true },
    Op { endpoint: "delete_role", needs: Permission::UsersManage, reach: Reach::AccountWide, writes: true },
    Op { endpoint: "users", needs: Permission::UsersView, reach: Reach::Account, writes: false },
    Op { endpoint: "user", needs: Permission::UsersView, reach: Reach::Scoped, writes: false },
    Op { endpoint: "user_form_options", needs: Permission::UsersManage, reach: Reach::Account, writes: false },
    Op { endpoint: "create_user", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "update_user", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "set_user_role", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "reset_user_password", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "change_membership", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "invite_users", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "resend_invitation", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "revoke_invitation", needs: Permission::UsersManage, reach: Reach::Scoped, writes: true },
    Op { endpoint: "account_settings", needs: Permission::AccountSettingsManage, reach: Reach::Account, writes: false },
    Op { endpoint: "update_account_settings", needs: Permission::AccountSettingsManage, reach: Reach::Account, writes: true },
];

fn expected(role: BuiltinRole, op: &Op, place: Place) -> bool {
    if !role.default_permissions().contains(&op.needs) {
        return false;
    }
    match (op.reach, place) {
        (_, Place::OtherAccount) => false,
        (Reach::Scoped, Place::OutOfScope) => role == BuiltinRole::Administrator,
        _ => true,
    }
}

/// The request for `op` against fresh targets at `place`.
async fn request(world: &World<'_>, op: &Op, place: Place, n: usize) -> (String, Vec<(String, String)>) {
    let (_, company) = world.company_at(place);
    let s = |v: i64| v.to_string();
    let form: Vec<(&str, String)> = match op.endpoint {
        "companies" | "roles" | "user_form_options" | "account_settings" => vec![],
        "create_company" => vec![("parent_id", s(company)), ("name", format!("New {n}")), ("kind", "installer".into())],
        "rename_company" => vec![("id", s(world.fresh_company(place).await)), ("name", format!("Renamed {n}")), ("version", "1".into())],
        "move_company" => {
            let target = world.fresh_company(place).await;
            let to = match place {
                Place::InScope => world.companies["D"],
                Place::OutOfScope => world.companies["A"],
                Place::OtherAccount => world.companies["B"],
            };
            vec![("id", s(target)), ("parent_id", s(to)), ("version", "1".into())]
        }
        "company_deletion" => vec![("id", s(world.fresh_company(place).await))],
        "delete_company" => vec![("id", s(world.fresh_company(place).await)), ("expected_companies", "1".into())],
        "save_role" => vec![("name", format!("Role {n}")), ("rank", "3".into()), ("permissions[]", "customers.view".into())],
        "save_role (existing)" => vec![
            ("id", s(world.fresh_role(place).await)),
            ("name", format!("Role {n}")),
            ("rank", "3".into()),
            ("permissions[]", "customers.view".into()),
            ("version", "1".into()),
        ],
        "delete_role" => vec![("id", s(world.fresh_role(place).await))],
        "users" => vec![("query[q]", String::new()), ("query[status]", String::new()), ("query[sort]", String::new()),
                        ("query[desc]", "false".into()), ("query[page]", "1".into()), ("query[size]", "25".into())],
        "user" => vec![("id", s(world.fresh_user(place, "active").await))],
        "create_user" => vec![
            ("display_name", format!("New person {n}")),
            ("email", format!("new{n}@people.test")),
            ("phone", String::new()),
            ("region", String::new()),
            ("description", String::new()),
            ("company_id", s(company)),
            ("password_setup", "invite".into()),
            ("role_id", s(world.owner_role(place).await)),
        ],
        "update_user" => vec![
            ("id", s(world.fresh_user(place, "active").await)),
            ("display_name", format!("Changed {n}")),
            ("email", format!("changed{n}@people.test")),
            ("phone", String::new()),
            ("region", "Europe".into()),
            ("description", String::new()),
            ("company_id", s(company)),
            ("version", "1".into()),
        ],
        "set_user_role" => {
            let account = world.company_at(place).0;
            vec![
                ("id", s(world.fresh_user(place, "active").await)),
                ("role_id", s(world.builtin_role(account, "operations_engineer").await)),
                ("version", "1".into()),
            ]
        }
        "reset_user_password" => vec![("id", s(world.fresh_user(place, "active").await)), ("mode", "generate".into())],
        "change_membership" => vec![("id", s(world.fresh_user(place, "active").await)), ("change", "disable".into())],
        "invite_users" => vec![
            ("emails", format!("invitee{n}a@people.test, invitee{n}b@people.test")),
            ("role_id", s(world.owner_role(place).await)),
            ("company_id", s(company)),
        ],
        "resend_invitation" | "revoke_invitation" => vec![("id", s(world.fresh_user(place, "invited").await))],
        "update_account_settings" => {
            let version: i32 = sqlx::query_scalar("SELECT version FROM accounts WHERE id = $1")
                .bind(world.a)
                .fetch_one(world.app.db())
                .await
                .unwrap();
            vec![
                ("name", "Alpha".into()),
                ("invitation_valid_days", "7".into()),
                ("session_idle_minutes", String::new()),
                ("session_absolute_hours", String::new()),
                ("version", version.to_string()),
            ]
        }
        other => panic!("no request for {other}"),
    };
    let endpoint = op.endpoint.split(' ').next().unwrap().to_owned();
    (endpoint, form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[sqlx::test]
async fn every_function_allows_and_refuses_by_permission_scope_and_account(db: PgPool) {
    let app = crate::support::TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let mut failures = Vec::new();
    let mut n = 0;
    for op in OPS {
        for (role, client) in actors.0.iter_mut() {
            for place in PLACES {
                if op.reach == Reach::Account && place != Place::InScope {
                    continue;
                }
                n += 1;
                let (endpoint, form) = request(&world, op, place, n).await;
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let before = world.fingerprint().await;
                let res = client.call(&endpoint, &pairs).await;
                let after = world.fingerprint().await;
                let want = expected(*role, op, place);
                let got = res.status.is_success();
                if want != got {
                    failures.push(format!(
                        "{} as {:?} on {:?}: expected {}, got {} {}",
                        op.endpoint, role, place, if want { "allowed" } else { "refused" }, res.status, res.text()
                    ));
                } else if !got && before != after {
                    failures.push(format!("{} as {:?} on {:?}: refused but rows changed", op.endpoint, role, place));
                } else if got && op.writes && before == after {
                    failures.push(format!("{} as {:?} on {:?}: allowed but nothing changed", op.endpoint, role, place));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
    assert!(n > 150, "the matrix ran {n} cases");
}

#[sqlx::test]
async fn lists_show_only_the_callers_branch(db: PgPool) {
    let app = crate::support::TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let outside = world.fresh_user(Place::OutOfScope, "active").await;
    let inside = world.fresh_user(Place::InScope, "active").await;
    let other_account = world.fresh_user(Place::OtherAccount, "active").await;
    let query = [("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "100")];
    for (role, client) in actors.0.iter_mut() {
        if !role.default_permissions().contains(&Permission::UsersView) {
            continue;
        }
        let list: roster::users::UserList = client.call("users", &query).await.json();
        let ids: Vec<i64> = list.users.iter().map(|u| u.id).collect();
        assert!(ids.contains(&inside), "{role:?}");
        assert_eq!(ids.contains(&outside), *role == BuiltinRole::Administrator, "{role:?}");
        assert!(!ids.contains(&other_account), "{role:?}");
    }
    for (role, client) in actors.0.iter_mut() {
        let tree: roster::companies::CompanyTree = client.call("companies", &[]).await.json();
        let names: Vec<&str> = tree.nodes.iter().map(|n| n.name.as_str()).collect();
        assert!(names.contains(&"I"), "{role:?}");
        assert_eq!(names.contains(&"S"), *role == BuiltinRole::Administrator, "{role:?}: {names:?}");
        assert!(!names.contains(&"BD"), "{role:?}");
    }
}

#[sqlx::test]
async fn an_installers_manager_cannot_see_the_distributors_users(db: PgPool) {
    let app = crate::support::TestApp::new(db);
    let world = World::build(&app).await;
    let installer = world.companies["I"];
    let manager = world.user(world.a, installer, "common_manager", "im@a.test", "active").await;
    let _ = manager;
    let distributor_user = world.user(world.a, world.companies["D"], "owner", "du@a.test", "active").await;
    let mut client = app.client();
    client.sign_in("im@a.test", crate::support::PASSWORD).await;
    let list: roster::users::UserList = client
        .call("users", &[("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "100")])
        .await
        .json();
    assert!(list.users.iter().all(|u| u.company_name == "I"), "{:?}", list.users);
    let res = client.call("user", &[("id", &distributor_user.to_string())]).await;
    assert_eq!(res.error(), roster::error::AppError::NotFound);
}

#[sqlx::test]
async fn nobody_assigns_a_role_above_their_own(db: PgPool) {
    let app = crate::support::TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin_role = world.builtin_role(world.a, "administrator").await;
    let manager_role = world.builtin_role(world.a, "common_manager").await;
    let target = world.fresh_user(Place::InScope, "active").await;
    let company = world.companies["I"].to_string();
    let cases = [
        (BuiltinRole::CommonManager, admin_role, "Administrator"),
        (BuiltinRole::OperationsEngineer, manager_role, "Common Manager"),
    ];
    for (actor, role_id, role_name) in cases {
        let client = actors.get(actor);
        let before = world_fingerprint(&app).await;
        let create = client
            .call("create_user", &[
                ("display_name", "Climber"), ("email", "climber@people.test"), ("phone", ""), ("region", ""),
                ("description", ""), ("company_id", &company), ("password_setup", "invite"), ("role_id", &role_id.to_string()),
            ])
            .await;
        let message = create.error().field_message("role_id").unwrap_or_default();
        assert!(message.contains(role_name), "{actor:?}: {message}");
        let promote = client.call("set_user_role", &[("id", &target.to_string()), ("role_id", &role_id.to_string()), ("version", "1")]).await;
        assert!(promote.error().field_message("role_id").unwrap_or_default().contains(role_name));
        let invite = client
            .call("invite_users", &[("emails", "climber2@people.test"), ("role_id", &role_id.to_string()), ("company_id", &company)])
            .await;
        assert!(invite.error().field_message("role_id").is_some());
        assert_eq!(before, world_fingerprint(&app).await, "{actor:?}: refused, nothing changed");
    }
    // The forms offer only allowed roles.
    for (actor, lowest) in [(BuiltinRole::CommonManager, "Common Manager"), (BuiltinRole::OperationsEngineer, "Operations Engineer")] {
        let client = actors.get(actor);
        let options: roster::users::UserChoices = client.call("user_form_options", &[]).await.json();
        let names: Vec<&str> = options.roles.iter().map(|(_, n)| n.as_str()).collect();
        assert!(!names.contains(&"Administrator"), "{actor:?}");
        assert_eq!(names.first(), Some(&lowest), "{actor:?}: {names:?}");
    }
}

#[sqlx::test]
async fn forged_ids_from_another_account_are_refused_and_account_ids_in_payloads_are_ignored(db: PgPool) {
    let app = crate::support::TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let b_owner = world.owner_role(Place::OtherAccount).await;
    let b_company = world.companies["BD"];
    let a_company = world.companies["I"];
    let admin = actors.admin();
    let before = world_fingerprint(&app).await;
    let res = admin
        .call("create_user", &[
            ("display_name", "Forged"), ("email", "forged@people.test"), ("phone", ""), ("region", ""), ("description", ""),
            ("company_id", &a_company.to_string()), ("password_setup", "invite"), ("role_id", &b_owner.to_string()),
        ])
        .await;
    assert!(res.error().field_message("role_id").is_some());
    let res = admin.call("create_company", &[("parent_id", &b_company.to_string()), ("name", "Forged"), ("kind", "installer")]).await;
    assert_eq!(res.error(), roster::error::AppError::NotFound);
    assert_eq!(before, world_fingerprint(&app).await);
    // An account_id smuggled into the payload changes nothing about where the company goes.
    let res = admin
        .call("create_company", &[("parent_id", &a_company.to_string()), ("name", "Mine"), ("kind", "installer"), ("account_id", &world.b.to_string())])
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let account: i64 = sqlx::query_scalar("SELECT account_id FROM companies WHERE name = 'Mine'").fetch_one(app.db()).await.unwrap();
    assert_eq!(account, world.a);
}

async fn world_fingerprint(app: &crate::support::TestApp) -> String {
    sqlx::query_scalar(
        "SELECT md5(concat_ws('|', (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM companies t),
                (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM (SELECT id, email, role_id, company_id, status, version FROM users) t),
                (SELECT count(*) FROM one_time_tokens), (SELECT count(*) FROM outbox), (SELECT count(*) FROM audit_events)))",
    )
    .fetch_one(app.db())
    .await
    .unwrap()
}
