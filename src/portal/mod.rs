//! The customer portal's screens beyond its home (SPEC 5.1). A customer user whose customer type
//! grants *Manage customer users* manages the users of their own customer and its sub-customers.
//! Every server function here checks the signed-in customer user, the type's permission and the
//! customer subtree on the server, whatever the navigation shows.

#[cfg(feature = "ssr")]
use crate::{customer_users::ActivationMethod, error::FieldErrors};
use crate::{
    customer_users::{CustomerUserForm, CustomerUserStatus, Issued},
    error::AppError,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

mod customer;
mod users;
pub use customer::{AddedSubCustomer, PortalCustomerPage, PortalCustomerProfile, PortalSubCustomerList, PortalSubCustomersPage};
pub use users::PortalUsersPage;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalUserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub customer: String,
    pub status: CustomerUserStatus,
    /// The signed-in user themself: they cannot disable or delete their own account here.
    pub is_self: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalUserList {
    pub rows: Vec<PortalUserRow>,
    /// The customers a new user may be added to: the user's own and its sub-customers.
    pub customers: Vec<(i64, String)>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::{
        auth::{ssr::sessions::{require_user, SignedIn}, UserKind},
        error::AppError,
        permissions::CustomerFeature,
    };
    use sqlx::PgConnection;

    /// A signed-in customer user with their customer and what its type grants.
    pub struct PortalUser {
        pub user: SignedIn,
        pub account_id: i64,
        pub customer_id: i64,
        pub features: Vec<CustomerFeature>,
    }

    impl PortalUser {
        pub fn require(&self, feature: CustomerFeature) -> Result<&Self, AppError> {
            if self.features.contains(&feature) { Ok(self) } else { Err(AppError::Forbidden) }
        }
    }

    /// Loads the session and the customer from the pool: call it before opening a transaction,
    /// so a request never waits for a second connection while it holds one.
    pub async fn require_portal(db: &sqlx::PgPool) -> Result<PortalUser, AppError> {
        let user = require_user().await?;
        let (UserKind::Customer, Some(account_id)) = (user.kind, user.account_id) else {
            return Err(AppError::Forbidden);
        };
        let row = sqlx::query!(
            r#"SELECT u.customer_id AS "customer_id!", t.features
                 FROM users u
                 JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                 JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
                WHERE u.account_id = $1 AND u.id = $2 AND u.kind = 'customer'"#,
            account_id,
            user.user_id
        )
        .fetch_one(db)
        .await?;
        let features = row.features.iter().filter_map(|k| CustomerFeature::from_key(k)).collect();
        Ok(PortalUser { user, account_id, customer_id: row.customer_id, features })
    }

    /// The user's customer and every customer below it, with titles, the customer first.
    pub async fn subtree(conn: &mut PgConnection, portal: &PortalUser) -> Result<Vec<(i64, String)>, AppError> {
        let rows = sqlx::query!(
            r#"WITH RECURSIVE tree AS (
                   SELECT id, title, 0 AS depth FROM customers WHERE account_id = $1 AND id = $2
                   UNION ALL
                   SELECT c.id, c.title, t.depth + 1 FROM customers c JOIN tree t ON c.parent_id = t.id
                    WHERE c.account_id = $1 AND t.depth < 50
               )
               SELECT id AS "id!", title AS "title!" FROM tree ORDER BY depth, lower(title)"#,
            portal.account_id,
            portal.customer_id
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
    }

    /// A customer user of the portal user's subtree, locked; "not found" for anyone else.
    pub async fn user_in_subtree(
        conn: &mut PgConnection,
        portal: &PortalUser,
        id: i64,
    ) -> Result<(String, bool, String), AppError> {
        let tree: Vec<i64> = subtree(&mut *conn, portal).await?.into_iter().map(|(id, _)| id).collect();
        let row = sqlx::query!(
            r#"SELECT email, password_hash IS NOT NULL AS "activated!", status FROM users
                WHERE account_id = $1 AND id = $2 AND kind = 'customer' AND customer_id = ANY($3)
                FOR NO KEY UPDATE"#,
            portal.account_id,
            id,
            &tree
        )
        .fetch_optional(conn)
        .await?
        .ok_or(AppError::NotFound)?;
        Ok((row.email, row.activated, row.status))
    }
}

#[server(prefix = "/api", endpoint = "portal_users")]
pub async fn portal_users() -> Result<PortalUserList, AppError> {
    use crate::{permissions::CustomerFeature, server::state::app_state};
    let state = app_state()?;
    let portal = ssr::require_portal(&state.db).await?;
    let mut conn = state.db.acquire().await?;
    portal.require(CustomerFeature::ManageCustomerUsers)?;
    let customers = ssr::subtree(&mut conn, &portal).await?;
    let ids: Vec<i64> = customers.iter().map(|(id, _)| *id).collect();
    let rows = sqlx::query!(
        r#"SELECT u.id, u.display_name, u.email, u.status, u.password_hash IS NOT NULL AS "activated!", c.title
             FROM users u JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
            WHERE u.account_id = $1 AND u.kind = 'customer' AND u.customer_id = ANY($2)
            ORDER BY lower(c.title), lower(u.display_name), u.id"#,
        portal.account_id,
        &ids
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| PortalUserRow {
        id: r.id,
        name: r.display_name,
        email: r.email,
        customer: r.title,
        status: CustomerUserStatus::of(&r.status, r.activated),
        is_self: r.id == portal.user.user_id,
    })
    .collect();
    Ok(PortalUserList { rows, customers })
}

/// Adds a colleague to the user's customer or one of its sub-customers.
#[server(prefix = "/api", endpoint = "portal_add_user")]
pub async fn portal_add_user(customer_id: i64, form: CustomerUserForm, method: String) -> Result<Issued, AppError> {
    use crate::{
        audit::ssr as audit,
        customer_users::ssr::{insert_customer_user, issue_activation},
        permissions::CustomerFeature,
        server::state::app_state,
    };
    let state = app_state()?;
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let method = errors.take("method", ActivationMethod::parse(&method));
    let portal = ssr::require_portal(&state.db).await?;
    portal.require(CustomerFeature::ManageCustomerUsers)?;
    let (Some(fields), Some(method)) = (fields, method) else {
        return Err(AppError::Validation(errors));
    };
    crate::customer_users::ssr::ensure_address_free(&state, portal.user.user_id, &fields, None).await?;
    let mut tx = state.db.begin().await?;
    let customer = ssr::subtree(&mut tx, &portal)
        .await?
        .into_iter()
        .find(|(id, _)| *id == customer_id)
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let id = insert_customer_user(&mut tx, &state, portal.account_id, customer.0, &fields).await?;
    let issued = issue_activation(
        &mut tx,
        &state,
        portal.account_id,
        portal.user.user_id,
        id,
        &fields.email,
        &fields.display_name(),
        &customer.1,
        method,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(portal.account_id),
            actor_id: Some(portal.user.user_id),
            actor_label: &portal.user.email,
            action: "customer_user.created",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({
                "email": fields.email,
                "name": fields.display_name(),
                "customer": customer.1,
                "activation": if method == ActivationMethod::Email { "e-mailed" } else { "link shown" },
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

/// Disables (ending their sessions) or enables a colleague; never oneself.
#[server(prefix = "/api", endpoint = "portal_set_user_enabled")]
pub async fn portal_set_user_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, customer_users::ssr::set_enabled, permissions::CustomerFeature, server::state::app_state};
    let state = app_state()?;
    let portal = ssr::require_portal(&state.db).await?;
    let mut tx = state.db.begin().await?;
    portal.require(CustomerFeature::ManageCustomerUsers)?;
    let (email, activated, before) = ssr::user_in_subtree(&mut tx, &portal, id).await?;
    if id == portal.user.user_id {
        return Err(AppError::Refused("You cannot disable your own account.".into()));
    }
    let now = state.clock.now();
    let status = set_enabled(&mut tx, portal.account_id, id, enabled, activated, now).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(portal.account_id),
            actor_id: Some(portal.user.user_id),
            actor_label: &portal.user.email,
            action: if enabled { "customer_user.enabled" } else { "customer_user.disabled" },
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "email": email, "status": { "from": before, "to": status } }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "portal_delete_user")]
pub async fn portal_delete_user(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, permissions::CustomerFeature, server::state::app_state};
    let state = app_state()?;
    let portal = ssr::require_portal(&state.db).await?;
    let mut tx = state.db.begin().await?;
    portal.require(CustomerFeature::ManageCustomerUsers)?;
    let (email, _, _) = ssr::user_in_subtree(&mut tx, &portal, id).await?;
    if id == portal.user.user_id {
        return Err(AppError::Refused("You cannot delete your own account.".into()));
    }
    audit::record(
        &mut tx,
        state.clock.now(),
        audit::Event {
            account_id: Some(portal.account_id),
            actor_id: Some(portal.user.user_id),
            actor_label: &portal.user.email,
            action: "customer_user.deleted",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "email": email }),
        },
    )
    .await?;
    sqlx::query!("DELETE FROM users WHERE account_id = $1 AND id = $2", portal.account_id, id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
