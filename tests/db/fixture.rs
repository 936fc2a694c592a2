//! A small world for authorization tests. Account A: root company "A" with distributor "D"
//! below it, installer "I" below D, and a sibling distributor "S" beside D. Account B: root "B"
//! with distributor "BD". One signed-in actor per built-in role, placed in D (so D and I are in
//! their scope, S is not). Rows are inserted directly with one shared password hash, so
//! building fresh targets for every case is cheap.

use crate::support::{Client, TestApp, PASSWORD};
use roster::permissions::BuiltinRole;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In the actor's company or below it.
    InScope,
    /// In the actor's account, beside their branch.
    OutOfScope,
    /// In another account.
    OtherAccount,
}

pub const PLACES: [Place; 3] = [Place::InScope, Place::OutOfScope, Place::OtherAccount];

pub struct World<'a> {
    pub app: &'a TestApp,
    pub a: i64,
    pub b: i64,
    pub companies: HashMap<&'static str, i64>,
    pub actors: Vec<(BuiltinRole, Client<'a>)>,
    pub actor_ids: HashMap<&'static str, i64>,
    hash: String,
    counter: std::sync::atomic::AtomicUsize,
}

impl<'a> World<'a> {
    pub async fn build(app: &'a TestApp) -> World<'a> {
        let hash = app.state.passwords.hash(&roster::validation::Password::parse(PASSWORD, None).unwrap()).await.unwrap();
        app.sign_up("Alpha", "admin@a.test").await;
        app.sign_up("Beta", "admin@b.test").await;
        let a = crate::support::account_id_of(app, "admin@a.test").await;
        let b = crate::support::account_id_of(app, "admin@b.test").await;
        let mut world = World {
            app,
            a,
            b,
            companies: HashMap::new(),
            actors: Vec::new(),
            actor_ids: HashMap::new(),
            hash,
            counter: Default::default(),
        };
        let root_a = world.root(a).await;
        let root_b = world.root(b).await;
        world.companies.insert("A", root_a);
        world.companies.insert("B", root_b);
        let d = world.company(a, root_a, "D", "distributor").await;
        world.companies.insert("D", d);
        world.companies.insert("I", world.company(a, d, "I", "installer").await);
        world.companies.insert("S", world.company(a, root_a, "S", "distributor").await);
        world.companies.insert("BD", world.company(b, root_b, "BD", "distributor").await);
        for role in BuiltinRole::ALL {
            let email = format!("{}@a.test", role.key());
            let id = world.user(a, d, role.key(), &email, "active").await;
            world.actor_ids.insert(role.key(), id);
            let mut client = app.client();
            let res = client.sign_in(&email, PASSWORD).await;
            assert!(res.status.is_success(), "{}", res.text());
            world.actors.push((role, client));
        }
        world
    }

    async fn root(&self, account: i64) -> i64 {
        sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1 AND parent_id IS NULL")
            .bind(account)
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// Inserts a company under `parent` (path maintained as the app does).
    pub async fn company(&self, account: i64, parent: i64, name: &str, kind: &str) -> i64 {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO companies (account_id, parent_id, name, kind, path)
             SELECT $1, $2, $3, $4, p.path FROM companies p WHERE p.id = $2 RETURNING id",
        )
        .bind(account)
        .bind(parent)
        .bind(name)
        .bind(kind)
        .fetch_one(self.app.db())
        .await
        .unwrap();
        sqlx::query("UPDATE companies SET path = path || id WHERE id = $1").bind(id).execute(self.app.db()).await.unwrap();
        id
    }

    /// Inserts a staff user with a built-in role (by key) in `company`.
    pub async fn user(&self, account: i64, company: i64, role_key: &str, email: &str, status: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO users (account_id, kind, email, display_name, company_id, role_id, status, password_hash)
             SELECT $1, 'staff', $2, $2, $3, r.id, $5, $6 FROM roles r WHERE r.account_id = $1 AND r.builtin = $4
             RETURNING id",
        )
        .bind(account)
        .bind(email)
        .bind(company)
        .bind(role_key)
        .bind(status)
        .bind(&self.hash)
        .fetch_one(self.app.db())
        .await
        .unwrap()
    }

    /// Separates the signed-in actors from the world, so both can be used at once.
    pub fn split(mut self) -> (World<'a>, Actors<'a>) {
        let actors = Actors(std::mem::take(&mut self.actors));
        (self, actors)
    }

    pub fn unique(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{n}")
    }

    /// The company a target of `place` lives in, for an actor placed in D.
    pub fn company_at(&self, place: Place) -> (i64, i64) {
        match place {
            Place::InScope => (self.a, self.companies["I"]),
            Place::OutOfScope => (self.a, self.companies["S"]),
            Place::OtherAccount => (self.b, self.companies["BD"]),
        }
    }

    /// A fresh installer under the company of `place`.
    pub async fn fresh_company(&self, place: Place) -> i64 {
        let (account, parent) = self.company_at(place);
        let name = self.unique("Target company ");
        self.company(account, parent, &name, "installer").await
    }

    /// A fresh Owner with the given status in the company of `place`.
    pub async fn fresh_user(&self, place: Place, status: &str) -> i64 {
        let (account, company) = self.company_at(place);
        let email = format!("{}@target.test", self.unique("target"));
        let id = self.user(account, company, "owner", &email, status).await;
        if status == "invited" {
            let hash = roster::server::tokens::hash(&self.unique("token"));
            sqlx::query(
                "INSERT INTO one_time_tokens (token_hash, purpose, user_id, account_id, created_at, expires_at)
                 VALUES ($1, 'invitation', $2, $3, now(), now() + interval '7 days')",
            )
            .bind(hash)
            .bind(id)
            .bind(account)
            .execute(self.app.db())
            .await
            .unwrap();
        }
        id
    }

    /// A fresh custom role of rank 3 in the account of `place`.
    pub async fn fresh_role(&self, place: Place) -> i64 {
        let account = self.company_at(place).0;
        sqlx::query_scalar("INSERT INTO roles (account_id, name, rank) VALUES ($1, $2, 3) RETURNING id")
            .bind(account)
            .bind(self.unique("Custom role "))
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// The Owner role id of the account of `place`.
    pub async fn owner_role(&self, place: Place) -> i64 {
        self.builtin_role(self.company_at(place).0, "owner").await
    }

    pub async fn builtin_role(&self, account: i64, key: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM roles WHERE account_id = $1 AND builtin = $2")
            .bind(account)
            .bind(key)
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// The default customer type of the account of `place`.
    pub async fn default_type(&self, place: Place) -> i64 {
        sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1 AND is_default")
            .bind(self.company_at(place).0)
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// A fresh customer owned by the company of `place`, of its account's default type.
    pub async fn fresh_customer(&self, place: Place) -> i64 {
        let (account, company) = self.company_at(place);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO customers (account_id, title, customer_type_id, owner_company_id)
             SELECT $1, $2, t.id, $3 FROM customer_types t WHERE t.account_id = $1 AND t.is_default RETURNING id",
        )
        .bind(account)
        .bind(self.unique("Target customer "))
        .bind(company)
        .fetch_one(self.app.db())
        .await
        .unwrap();
        sqlx::query("UPDATE accounts SET customer_count = customer_count + 1 WHERE id = $1")
            .bind(account)
            .execute(self.app.db())
            .await
            .unwrap();
        id
    }

    /// A fresh, unused customer type in the account of `place`.
    pub async fn fresh_customer_type(&self, place: Place) -> i64 {
        sqlx::query_scalar("INSERT INTO customer_types (account_id, name) VALUES ($1, $2) RETURNING id")
            .bind(self.company_at(place).0)
            .bind(self.unique("Target type "))
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// A fresh, empty customer group in the account of `place`.
    pub async fn fresh_group(&self, place: Place) -> i64 {
        sqlx::query_scalar("INSERT INTO customer_groups (account_id, name) VALUES ($1, $2) RETURNING id")
            .bind(self.company_at(place).0)
            .bind(self.unique("Target group "))
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// A customer in `account` of `type_id`, owned by `company`, below `parent` if given.
    pub async fn customer_in(&self, account: i64, company: i64, type_id: i64, parent: Option<i64>, title: &str) -> i64 {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO customers (account_id, title, customer_type_id, owner_company_id, parent_id)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(account)
        .bind(title)
        .bind(type_id)
        .bind(company)
        .bind(parent)
        .fetch_one(self.app.db())
        .await
        .unwrap();
        sqlx::query("UPDATE accounts SET customer_count = customer_count + 1 WHERE id = $1")
            .bind(account)
            .execute(self.app.db())
            .await
            .unwrap();
        id
    }

    /// An active customer user of `customer`, with the test password.
    pub async fn customer_user_in(&self, account: i64, customer: i64, email: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO users (account_id, kind, email, display_name, first_name, last_name, customer_id, status, password_hash)
             VALUES ($1, 'customer', $2, 'Portal Person', 'Portal', 'Person', $3, 'active', $4) RETURNING id",
        )
        .bind(account)
        .bind(email)
        .bind(customer)
        .bind(&self.hash)
        .fetch_one(self.app.db())
        .await
        .unwrap()
    }

    /// A fresh customer user, awaiting activation, of a fresh customer of `place`.
    pub async fn fresh_customer_user(&self, place: Place) -> i64 {
        let account = self.company_at(place).0;
        let customer = self.fresh_customer(place).await;
        sqlx::query_scalar(
            "INSERT INTO users (account_id, kind, email, display_name, first_name, last_name, customer_id, status)
             VALUES ($1, 'customer', $2, 'Target Person', 'Target', 'Person', $3, 'invited') RETURNING id",
        )
        .bind(account)
        .bind(format!("{}@customer.test", self.unique("cu")))
        .bind(customer)
        .fetch_one(self.app.db())
        .await
        .unwrap()
    }

    /// The address of a fresh confirmed self-registration that no account has taken yet.
    pub async fn fresh_registered_person(&self) -> String {
        let email = format!("{}@home.test", self.unique("person"));
        sqlx::query(
            "INSERT INTO users (kind, email, display_name, status, password_hash) VALUES ('registered', $1, $2, 'active', $3)",
        )
        .bind(&email)
        .bind(self.unique("Registered Person "))
        .bind(&self.hash)
        .execute(self.app.db())
        .await
        .unwrap();
        email
    }

    /// A fresh queued message in the outbox of the account of `place`.
    pub async fn fresh_outbox_message(&self, place: Place) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO outbox (account_id, kind, to_address, subject, body_text, body_html, next_attempt_at, created_at, status, attempts)
             VALUES ($1, 'notice', 'someone@target.test', 'Hello', 'Hello', '<p>Hello</p>', now() + interval '1 hour', now(), 'failed', 8)
             RETURNING id",
        )
        .bind(self.company_at(place).0)
        .fetch_one(self.app.db())
        .await
        .unwrap()
    }

    /// A digest of every row a change could touch (not sessions, which record activity).
    pub async fn fingerprint(&self) -> String {
        sqlx::query_scalar(
            "SELECT concat_ws('|',
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM accounts t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM companies t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM roles t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM role_permissions t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))
                  FROM (SELECT id, account_id, email, display_name, phone, region, description, company_id, role_id,
                               status, password_hash, must_change_password, version FROM users) t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM one_time_tokens t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM outbox t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM customers t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM customer_types t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM customer_groups t),
               (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM audit_events t))",
        )
        .fetch_one(self.app.db())
        .await
        .unwrap()
    }
}


/// One signed-in client per built-in role.
pub struct Actors<'a>(pub Vec<(BuiltinRole, Client<'a>)>);

impl<'a> Actors<'a> {
    pub fn get(&mut self, role: BuiltinRole) -> &mut Client<'a> {
        &mut self.0.iter_mut().find(|(r, _)| *r == role).expect("an actor per built-in role").1
    }

    pub fn admin(&mut self) -> &mut Client<'a> {
        self.get(BuiltinRole::Administrator)
    }
}
