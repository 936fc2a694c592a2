//! A customer user managing the users of their own customer and its sub-customers in the
//! portal (SPEC 5.1): the same insert, links and status change as the staff's, scoped to the
//! customer subtree instead of the staff's companies.

use super::{activation_word, ensure_address_free, insert, issue_activation, set_status, Activation};
use crate::{
    auth::ssr::addresses,
    customer_users::{ActivationMethod, CustomerUserFields, CustomerUserStatus, Issued, PortalUserList, PortalUserRow, EMAIL},
    customers::ssr::portal::subtree,
    error::AppError,
    permissions::feature::ManageCustomerUsers,
    server::{capability::PortalAllowed, state::AppState},
    services::audit::{Action, Actor, Record},
};
use sqlx::PgConnection;

/// A customer user of the portal user's subtree, locked; "not found" for anyone else.
struct Colleague {
    email: String,
    activated: bool,
    status: String,
}

async fn colleague(conn: &mut PgConnection, allowed: &PortalAllowed<'_, ManageCustomerUsers>, id: i64) -> Result<Colleague, AppError> {
    let tree: Vec<i64> = subtree(&mut *conn, allowed.portal()).await?.into_iter().map(|(id, _)| id).collect();
    let row = sqlx::query!(
        r#"SELECT email, password_hash IS NOT NULL AS "activated!", status FROM users
            WHERE account_id = $1 AND id = $2 AND kind = 'customer' AND customer_id = ANY($3)
            FOR NO KEY UPDATE"#,
        allowed.account_id(),
        id,
        &tree
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Colleague { email: row.email, activated: row.activated, status: row.status })
}

pub async fn list(conn: &mut PgConnection, allowed: &PortalAllowed<'_, ManageCustomerUsers>) -> Result<PortalUserList, AppError> {
    let customers = subtree(&mut *conn, allowed.portal()).await?;
    let ids: Vec<i64> = customers.iter().map(|(id, _)| *id).collect();
    let me = allowed.portal().user_id();
    let rows = sqlx::query!(
        r#"SELECT u.id, u.display_name, u.email, u.status, u.password_hash IS NOT NULL AS "activated!", c.title
             FROM users u JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
            WHERE u.account_id = $1 AND u.kind = 'customer' AND u.customer_id = ANY($2)
            ORDER BY lower(c.title), lower(u.display_name), u.id"#,
        allowed.account_id(),
        &ids
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| PortalUserRow {
        id: r.id,
        name: r.display_name,
        email: r.email,
        customer: r.title,
        status: CustomerUserStatus::of(&r.status, r.activated),
        is_self: r.id == me,
    })
    .collect();
    Ok(PortalUserList { rows, customers })
}

/// Adds a colleague to the user's customer or one of its sub-customers.
pub async fn create(
    state: &AppState,
    allowed: &PortalAllowed<'_, ManageCustomerUsers>,
    customer_id: i64,
    fields: &CustomerUserFields,
    method: ActivationMethod,
) -> Result<Issued, AppError> {
    let portal = allowed.portal();
    ensure_address_free(state, portal.user_id(), fields, None).await?;
    let mut tx = state.db.begin().await?;
    let (customer_id, customer_title) =
        subtree(&mut tx, portal).await?.into_iter().find(|(id, _)| *id == customer_id).ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    // The plan is the provider's business: a portal user hears only that there is no room.
    let id = insert(&mut tx, state, allowed.account_id(), customer_id, fields)
        .await
        .map_err(AppError::for_portal)?
        .ok_or_else(|| AppError::field(EMAIL.name, addresses::CANNOT_USE))?;
    let name = fields.display_name();
    let to = Activation {
        account_id: allowed.account_id(),
        created_by: portal.user_id(),
        user_id: id,
        email: &fields.email,
        name: &name,
        customer_title: &customer_title,
    };
    let issued = issue_activation(&mut tx, state, &to, method).await.map_err(AppError::for_portal)?;
    let changes = serde_json::json!({
        "email": fields.email, "name": name, "customer": customer_title, "activation": activation_word(method),
    });
    Actor::portal(portal, now).audit(&mut tx, Action::CustomerUserCreated, Record::user(id), changes).await?;
    tx.commit().await?;
    Ok(issued)
}

/// Disables (ending their sessions) or enables a colleague; never oneself.
pub async fn set_enabled(conn: &mut PgConnection, state: &AppState, allowed: &PortalAllowed<'_, ManageCustomerUsers>, id: i64, enabled: bool) -> Result<(), AppError> {
    let target = colleague(&mut *conn, allowed, id).await?;
    if id == allowed.portal().user_id() {
        return Err(AppError::Refused("You cannot disable your own account.".into()));
    }
    let now = state.clock.now();
    let status = set_status(&mut *conn, allowed.account_id(), id, enabled, target.activated, now).await?;
    let action = if enabled { Action::CustomerUserEnabled } else { Action::CustomerUserDisabled };
    let changes = serde_json::json!({ "email": target.email, "status": { "from": target.status, "to": status } });
    Actor::portal(allowed.portal(), now).audit(conn, action, Record::user(id), changes).await
}

pub async fn delete(conn: &mut PgConnection, state: &AppState, allowed: &PortalAllowed<'_, ManageCustomerUsers>, id: i64) -> Result<(), AppError> {
    let target = colleague(&mut *conn, allowed, id).await?;
    if id == allowed.portal().user_id() {
        return Err(AppError::Refused("You cannot delete your own account.".into()));
    }
    Actor::portal(allowed.portal(), state.clock.now())
        .audit(&mut *conn, Action::CustomerUserDeleted, Record::user(id), serde_json::json!({ "email": target.email }))
        .await?;
    sqlx::query!("DELETE FROM users WHERE account_id = $1 AND id = $2", allowed.account_id(), id).execute(conn).await?;
    Ok(())
}
