//! The authorization matrix of the remaining staff functions (customers, customer types,
//! groups, customer users, audit log, outbox, overview): every function × each built-in role ×
//! a target in the actor's scope, beside their branch, and in another account. With
//! `matrix.rs` it covers every staff server function. The expected answer follows from the
//! role's permissions (SPEC 2.2), scope (SPEC 2.4) and account; every refusal must leave every
//! table as it was, and every allowed write must change something.

use crate::fixture::{Place, World, PLACES};
use roster::permissions::{BuiltinRole, Permission};
use sqlx::PgPool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// Acts on the account as a whole: only one row of the matrix (no target).
    Account,
    /// Acts on something that belongs to a company: scope applies.
    Scoped,
    /// Acts on something account-wide (a type, a group, a message): another account is refused.
    AccountWide,
}

#[derive(Clone, Copy, Debug)]
enum Needs {
    Permission(Permission),
    Administrator,
    /// Any signed-in staff member.
    Staff,
}

struct Op {
    endpoint: &'static str,
    needs: Needs,
    reach: Reach,
    writes: bool,
}

use Needs::{Administrator, Permission as P, Staff};
use Permission::*;

const OPS: &[Op] = &[
    Op { endpoint: "customers", needs: P(CustomersView), reach: Reach::Account, writes: false },
    Op { endpoint: "customer", needs: P(CustomersView), reach: Reach::Scoped, writes: false },
    Op { endpoint: "customer_choices", needs: P(CustomersView), reach: Reach::Account, writes: false },
    Op { endpoint: "create_customer", needs: P(CustomersCreate), reach: Reach::Scoped, writes: true },
    Op { endpoint: "update_customer", needs: P(CustomersEdit), reach: Reach::Scoped, writes: true },
    Op { endpoint: "customer_deletion", needs: P(CustomersDelete), reach: Reach::Scoped, writes: false },
    Op { endpoint: "delete_customers", needs: P(CustomersDelete), reach: Reach::Scoped, writes: true },
    Op { endpoint: "remove_customer", needs: P(CustomersDelete), reach: Reach::Scoped, writes: true },
    Op { endpoint: "change_customer_type", needs: P(CustomersEdit), reach: Reach::Scoped, writes: true },
    Op { endpoint: "rename_customer_company", needs: P(CustomersEdit), reach: Reach::Scoped, writes: true },
    Op { endpoint: "add_customers_to_group", needs: P(CustomersEdit), reach: Reach::Scoped, writes: true },
    Op { endpoint: "set_customer_groups", needs: P(CustomersEdit), reach: Reach::Scoped, writes: true },
    Op { endpoint: "add_customer_by_account", needs: P(CustomersCreate), reach: Reach::Scoped, writes: true },
    Op { endpoint: "customer_types", needs: P(CustomerTypesView), reach: Reach::Account, writes: false },
    Op { endpoint: "save_customer_type", needs: P(CustomerTypesManage), reach: Reach::Account, writes: true },
    Op { endpoint: "save_customer_type (existing)", needs: P(CustomerTypesManage), reach: Reach::AccountWide, writes: true },
    Op { endpoint: "delete_customer_type", needs: P(CustomerTypesManage), reach: Reach::AccountWide, writes: true },
    Op { endpoint: "customer_groups", needs: P(CustomersView), reach: Reach::Account, writes: false },
    Op { endpoint: "save_customer_group", needs: P(CustomersEdit), reach: Reach::Account, writes: true },
    Op { endpoint: "save_customer_group (existing)", needs: P(CustomersEdit), reach: Reach::AccountWide, writes: true },
    Op { endpoint: "delete_customer_group", needs: P(CustomersEdit), reach: Reach::AccountWide, writes: true },
    Op { endpoint: "customer_users", needs: P(CustomerUsersView), reach: Reach::Scoped, writes: false },
    Op { endpoint: "add_customer_user", needs: P(CustomerUsersManage), reach: Reach::Scoped, writes: true },
    Op { endpoint: "resend_activation", needs: P(CustomerUsersManage), reach: Reach::Scoped, writes: true },
    Op { endpoint: "update_customer_user", needs: P(CustomerUsersManage), reach: Reach::Scoped, writes: true },
    Op { endpoint: "set_customer_user_enabled", needs: P(CustomerUsersManage), reach: Reach::Scoped, writes: true },
    Op { endpoint: "delete_customer_user", needs: P(CustomerUsersManage), reach: Reach::Scoped, writes: true },
    Op { endpoint: "audit", needs: P(AuditView), reach: Reach::Account, writes: false },
    Op { endpoint: "outbox", needs: Administrator, reach: Reach::Account, writes: false },
    Op { endpoint: "retry_outbox", needs: Administrator, reach: Reach::AccountWide, writes: true },
    Op { endpoint: "overview", needs: Staff, reach: Reach::Account, writes: false },
    Op { endpoint: "billing", needs: P(BillingView), reach: Reach::Account, writes: false },
    Op { endpoint: "update_billing", needs: P(BillingManage), reach: Reach::Account, writes: true },
];

/// Every staff server function this file covers (the rest are in `matrix.rs`).
pub const ENDPOINTS: usize = 31;

fn expected(role: BuiltinRole, op: &Op, place: Place) -> bool {
    let holds = match op.needs {
        P(permission) => role.default_permissions().contains(&permission),
        Administrator => role == BuiltinRole::Administrator,
        Staff => true,
    };
    if !holds {
        return false;
    }
    match (op.reach, place) {
        (_, Place::OtherAccount) => false,
        (Reach::Scoped, Place::OutOfScope) => role == BuiltinRole::Administrator,
        _ => true,
    }
}

fn customer_form(title: &str) -> Vec<(&'static str, String)> {
    vec![("form[title]", title.to_owned()), ("form[city]", "Lyon".into())]
}

async fn request(world: &World<'_>, op: &Op, place: Place, n: usize) -> (String, Vec<(String, String)>) {
    let (_, company) = world.company_at(place);
    let s = |v: i64| v.to_string();
    let mut form: Vec<(&str, String)> = match op.endpoint {
        "customers" => vec![("query[q]", String::new())],
        "customer_choices" | "customer_types" | "customer_groups" | "overview" => vec![],
        "customer" => vec![("id", s(world.fresh_customer(place).await))],
        "create_customer" => {
            let mut form = customer_form(&format!("Created {n}"));
            form.extend([
                ("customer_type_id", s(world.default_type(place).await)),
                ("owner_company_id", s(company)),
            ]);
            form
        }
        "update_customer" => {
            let mut form = customer_form(&format!("Updated {n}"));
            form.extend([
                ("id", s(world.fresh_customer(place).await)),
                ("customer_type_id", s(world.default_type(place).await)),
                ("owner_company_id", s(company)),
                ("version", "1".into()),
            ]);
            form
        }
        "customer_deletion" | "delete_customers" => vec![("ids[]", s(world.fresh_customer(place).await))],
        "remove_customer" => vec![("id", s(world.fresh_customer(place).await))],
        "rename_customer_company" => vec![("id", s(world.fresh_customer(place).await)), ("company_name", format!("Renamed {n}"))],
        "billing" => vec![],
        "update_billing" => {
            let version: i32 = sqlx::query_scalar("SELECT billing_version FROM accounts WHERE id = $1")
                .bind(world.company_at(place).0)
                .fetch_one(world.app.db())
                .await
                .unwrap();
            vec![("contact_email", format!("pay{n}@a.test")), ("usage_warnings", "on".into()), ("version", version.to_string())]
        }
        "change_customer_type" => vec![
            ("ids[]", s(world.fresh_customer(place).await)),
            ("customer_type_id", s(world.fresh_customer_type(place).await)),
        ],
        "add_customers_to_group" => {
            vec![("ids[]", s(world.fresh_customer(place).await)), ("group_id", s(world.fresh_group(place).await))]
        }
        "set_customer_groups" => vec![
            ("id", s(world.fresh_customer(place).await)),
            ("groups[]", s(world.fresh_group(place).await)),
            ("version", "1".into()),
        ],
        "add_customer_by_account" => vec![
            ("email", world.fresh_registered_person().await),
            ("customer_type_id", s(world.default_type(place).await)),
            ("company_name", format!("By account {n}")),
            ("owner_company_id", s(company)),
        ],
        "save_customer_type" => vec![("name", format!("Type {n}")), ("features[]", "create_plant".into())],
        "save_customer_type (existing)" => vec![
            ("id", s(world.fresh_customer_type(place).await)),
            ("name", format!("Type {n}")),
            ("features[]", "create_plant".into()),
            ("version", "1".into()),
        ],
        "delete_customer_type" => vec![("id", s(world.fresh_customer_type(place).await))],
        "save_customer_group" => vec![("name", format!("Group {n}"))],
        "save_customer_group (existing)" => vec![
            ("id", s(world.fresh_group(place).await)),
            ("name", format!("Group {n}")),
            ("version", "1".into()),
        ],
        "delete_customer_group" => vec![("id", s(world.fresh_group(place).await))],
        "customer_users" => vec![("customer_id", s(world.fresh_customer(place).await))],
        "add_customer_user" => vec![
            ("customer_id", s(world.fresh_customer(place).await)),
            ("form[email]", format!("added{n}@customer.test")),
            ("form[first_name]", "Added".into()),
            ("form[last_name]", "Person".into()),
            ("method", "show".into()),
        ],
        "resend_activation" => vec![("id", s(world.fresh_customer_user(place).await)), ("method", "show".into())],
        "update_customer_user" => vec![
            ("id", s(world.fresh_customer_user(place).await)),
            ("version", "1".into()),
            ("form[email]", format!("changed{n}@customer.test")),
            ("form[first_name]", "Changed".into()),
            ("form[last_name]", "Person".into()),
        ],
        "set_customer_user_enabled" => vec![("id", s(world.fresh_customer_user(place).await)), ("enabled", "false".into())],
        "delete_customer_user" => vec![("id", s(world.fresh_customer_user(place).await))],
        "audit" => vec![("query[actor]", String::new()), ("query[page]", "1".into())],
        "outbox" => vec![("page", "1".into())],
        "retry_outbox" => vec![("id", s(world.fresh_outbox_message(place).await))],
        other => panic!("no request for {other}"),
    };
    form.retain(|(k, v)| !(k.is_empty() && v.is_empty()));
    let endpoint = op.endpoint.split(' ').next().unwrap().to_owned();
    (endpoint, form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[sqlx::test]
async fn every_customer_function_allows_and_refuses_by_permission_scope_and_account(db: PgPool) {
    let app = crate::support::TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let mut failures = Vec::new();
    let mut n = 0;
    let endpoints: std::collections::BTreeSet<&str> = OPS.iter().map(|op| op.endpoint.split(' ').next().unwrap()).collect();
    assert_eq!(endpoints.len(), ENDPOINTS);
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
                if res.status.is_server_error() {
                    failures.push(format!("{} as {:?} on {:?}: {} {}", op.endpoint, role, place, res.status, res.text()));
                } else if want != got {
                    failures.push(format!(
                        "{} as {:?} on {:?}: expected {}, got {} {}",
                        op.endpoint, role, place, if want { "allowed" } else { "refused" }, res.status, res.text()
                    ));
                } else if !got && before != after {
                    failures.push(format!("{} as {:?} on {:?}: refused but rows changed", op.endpoint, role, place));
                } else if got && op.writes && before == after {
                    failures.push(format!("{} as {:?} on {:?}: allowed but nothing changed", op.endpoint, role, place));
                }
                // A refusal of something from elsewhere must not say it exists.
                if !got && place == Place::OtherAccount && expected(*role, op, Place::InScope) {
                    let error = res.error();
                    let neutral = matches!(error, roster::error::AppError::NotFound | roster::error::AppError::Validation(_));
                    if !neutral {
                        failures.push(format!("{} as {:?} on another account's ids: {error:?}", op.endpoint, role));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
    assert!(n > 200, "the matrix ran {n} cases");
}
