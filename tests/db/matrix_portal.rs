//! The authorization matrix of the customer portal: every portal server function × a customer
//! user whose type grants every feature and one whose type grants none × a target in their own
//! customer's subtree, at another customer of the same account, and in another account. Only
//! the first is ever allowed, and only with the feature; every refusal leaves every table as
//! it was. And the two worlds stay apart: staff get "forbidden" from every portal function,
//! customer users from every staff function.

use crate::{
    fixture::{Place, World, PLACES},
    support::{Client, TestApp, PASSWORD},
};
use roster::{error::AppError, permissions::CustomerFeature};
use sqlx::PgPool;

struct Op {
    endpoint: &'static str,
    needs: CustomerFeature,
    /// Names a customer or a user: the place of the target matters.
    targeted: bool,
    writes: bool,
}

const OPS: &[Op] = &[
    Op { endpoint: "portal_users", needs: CustomerFeature::ManageCustomerUsers, targeted: false, writes: false },
    Op { endpoint: "portal_add_user", needs: CustomerFeature::ManageCustomerUsers, targeted: true, writes: true },
    Op { endpoint: "portal_set_user_enabled", needs: CustomerFeature::ManageCustomerUsers, targeted: true, writes: true },
    Op { endpoint: "portal_delete_user", needs: CustomerFeature::ManageCustomerUsers, targeted: true, writes: true },
    Op { endpoint: "portal_customer", needs: CustomerFeature::EditCustomerProfile, targeted: false, writes: false },
    Op { endpoint: "portal_update_customer", needs: CustomerFeature::EditCustomerProfile, targeted: false, writes: true },
    Op { endpoint: "portal_sub_customers", needs: CustomerFeature::ManageSubCustomers, targeted: false, writes: false },
    Op { endpoint: "portal_add_sub_customer", needs: CustomerFeature::ManageSubCustomers, targeted: true, writes: true },
];

/// A portal actor: their customer, and what its type grants.
struct Actor<'a> {
    client: Client<'a>,
    customer: i64,
    features: Vec<CustomerFeature>,
}

struct Places {
    /// Another customer of the same account, beside the actors' customers.
    neighbour: i64,
    /// A customer of another account.
    foreign: i64,
    account_b: i64,
}

async fn type_with(world: &World<'_>, account: i64, name: &str, features: &[&str]) -> i64 {
    let features: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
    sqlx::query_scalar("INSERT INTO customer_types (account_id, name, features) VALUES ($1, $2, $3) RETURNING id")
        .bind(account)
        .bind(name)
        .bind(&features)
        .fetch_one(world.app.db())
        .await
        .unwrap()
}

/// The customer a target of `place` belongs to, for `actor`: a fresh child of their own
/// customer, the neighbour, or the foreign customer.
async fn target_customer(world: &World<'_>, places: &Places, actor: &Actor<'_>, place: Place) -> (i64, i64) {
    match place {
        Place::InScope => {
            let title = world.unique("Child ");
            let kind = world.default_type(Place::InScope).await;
            (world.a, world.customer_in(world.a, world.companies["I"], kind, Some(actor.customer), &title).await)
        }
        Place::OutOfScope => (world.a, places.neighbour),
        Place::OtherAccount => (places.account_b, places.foreign),
    }
}

async fn request(world: &World<'_>, places: &Places, actor: &Actor<'_>, op: &Op, place: Place, n: usize) -> Vec<(String, String)> {
    let s = |v: i64| v.to_string();
    let form: Vec<(&str, String)> = match op.endpoint {
        "portal_users" | "portal_customer" | "portal_sub_customers" => vec![],
        "portal_add_user" => vec![
            ("customer_id", s(target_customer(world, places, actor, place).await.1)),
            ("form[email]", format!("colleague{n}@portal.test")),
            ("form[first_name]", "New".into()),
            ("form[last_name]", "Colleague".into()),
            ("method", "show".into()),
        ],
        "portal_set_user_enabled" | "portal_delete_user" => {
            let (account, customer) = target_customer(world, places, actor, place).await;
            let user = world.customer_user_in(account, customer, &format!("target{n}@portal.test")).await;
            let mut form = vec![("id", s(user))];
            if op.endpoint == "portal_set_user_enabled" {
                form.push(("enabled", "false".into()));
            }
            form
        }
        "portal_update_customer" => {
            let version: i32 = sqlx::query_scalar("SELECT version FROM customers WHERE id = $1")
                .bind(actor.customer)
                .fetch_one(world.app.db())
                .await
                .unwrap();
            vec![("version", s(version.into())), ("form[title]", format!("Renamed by portal {n}"))]
        }
        "portal_add_sub_customer" => vec![
            ("parent_id", s(target_customer(world, places, actor, place).await.1)),
            ("form[title]", format!("Portal child {n}")),
        ],
        other => panic!("no request for {other}"),
    };
    form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[sqlx::test]
async fn every_portal_function_needs_the_feature_and_stays_in_the_users_subtree(db: PgPool) {
    let app = TestApp::new(db);
    let world = World::build(&app).await;
    use CustomerFeature::{EditCustomerProfile, ManageCustomerUsers, ManageSubCustomers};
    let installer = world.companies["I"];
    let mut actors = Vec::new();
    let mut full_type = 0;
    // Every feature, none, and each of the three the portal's screens need on its own.
    let grants: [Vec<CustomerFeature>; 5] = [
        CustomerFeature::ALL.to_vec(),
        Vec::new(),
        vec![ManageCustomerUsers],
        vec![EditCustomerProfile],
        vec![ManageSubCustomers],
    ];
    for (i, features) in grants.into_iter().enumerate() {
        let keys: Vec<&str> = features.iter().map(|f| f.key()).collect();
        let kind = type_with(&world, world.a, &format!("Grants {i}"), &keys).await;
        if i == 0 {
            full_type = kind;
        }
        let customer = world.customer_in(world.a, installer, kind, None, &format!("Home {i}")).await;
        let email = format!("home{i}@portal.test");
        world.customer_user_in(world.a, customer, &email).await;
        let mut client = app.client();
        let res = client.sign_in(&email, PASSWORD).await;
        assert!(res.status.is_success(), "{}", res.text());
        actors.push(Actor { client, customer, features });
    }
    let b_type = world.default_type(Place::OtherAccount).await;
    let places = Places {
        neighbour: world.customer_in(world.a, installer, full_type, None, "Neighbour").await,
        foreign: world.customer_in(world.b, world.companies["BD"], b_type, None, "Foreign").await,
        account_b: world.b,
    };
    let mut failures = Vec::new();
    let mut n = 0;
    for op in OPS {
        for actor in actors.iter_mut() {
            for place in PLACES {
                if !op.targeted && place != Place::InScope {
                    continue;
                }
                n += 1;
                let form = request(&world, &places, actor, op, place, n).await;
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let before = world.fingerprint().await;
                let res = actor.client.call(op.endpoint, &pairs).await;
                let after = world.fingerprint().await;
                let granted = actor.features.contains(&op.needs);
                let want = granted && place == Place::InScope;
                let got = res.status.is_success();
                let who = format!("a type granting {:?}", actor.features);
                if res.status.is_server_error() {
                    failures.push(format!("{} with {who} on {place:?}: {} {}", op.endpoint, res.status, res.text()));
                } else if want != got {
                    failures.push(format!(
                        "{} with {who} on {place:?}: expected {}, got {} {}",
                        op.endpoint, if want { "allowed" } else { "refused" }, res.status, res.text()
                    ));
                } else if !got && before != after {
                    failures.push(format!("{} with {who} on {place:?}: refused but rows changed", op.endpoint));
                } else if got && op.writes && before == after {
                    failures.push(format!("{} with {who} on {place:?}: allowed but nothing changed", op.endpoint));
                }
                if !got && granted && place != Place::InScope && res.error() != AppError::NotFound {
                    failures.push(format!("{} on {place:?}: {:?} instead of not found", op.endpoint, res.error()));
                }
                if !got && !granted && res.error() != AppError::Forbidden {
                    failures.push(format!("{} without the feature: {:?} instead of forbidden", op.endpoint, res.error()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} cases wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(OPS.len(), 8, "every portal function");

    // Staff never reach the portal's functions, and customer users never reach staff ones.
    let mut admin = app.client();
    admin.sign_in("admin@a.test", PASSWORD).await;
    for op in OPS {
        let every_argument = [
            ("id", "1"), ("customer_id", "1"), ("parent_id", "1"), ("version", "1"), ("enabled", "false"), ("method", "show"),
            ("form[title]", "Staff"), ("form[email]", "staff@portal.test"), ("form[first_name]", "S"), ("form[last_name]", "T"),
        ];
        let res = admin.call(op.endpoint, &every_argument).await;
        assert_eq!(res.error(), AppError::Forbidden, "{} as staff", op.endpoint);
    }
    let portal = &mut actors[0].client;
    let before = world.fingerprint().await;
    for endpoint in STAFF_ENDPOINTS {
        let res = portal.call(endpoint, &[("id", "1"), ("customer_id", "1"), ("page", "1"), ("query[q]", "")]).await;
        assert!(
            matches!(res.status.as_u16(), 403 | 422),
            "{endpoint} as a customer user: {} {}",
            res.status,
            res.text()
        );
        if res.status.as_u16() == 403 {
            assert_eq!(res.error(), AppError::Forbidden, "{endpoint}");
        }
    }
    assert_eq!(before, world.fingerprint().await, "a customer user changed something through a staff function");
}

/// Every staff server function's endpoint.
const STAFF_ENDPOINTS: &[&str] = &[
    "companies", "create_company", "rename_company", "move_company", "company_deletion", "delete_company",
    "roles", "save_role", "delete_role", "users", "user", "user_form_options", "create_user", "update_user",
    "set_user_role", "reset_user_password", "change_membership", "invite_users", "resend_invitation",
    "revoke_invitation", "account_settings", "update_account_settings", "customers", "customer", "customer_choices",
    "create_customer", "update_customer", "customer_deletion", "delete_customers", "change_customer_type",
    "add_customers_to_group", "set_customer_groups", "add_customer_by_account", "customer_types",
    "save_customer_type", "delete_customer_type", "customer_groups", "save_customer_group",
    "delete_customer_group", "customer_users", "add_customer_user", "resend_activation", "update_customer_user",
    "set_customer_user_enabled", "delete_customer_user", "audit", "outbox", "retry_outbox",
    "remove_customer", "rename_customer_company", "billing", "update_billing",
];
