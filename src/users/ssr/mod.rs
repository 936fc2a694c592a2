//! Every query of staff users. Here: finding the user a request is about, within the caller's
//! account and scope; the rule that nobody acts on someone holding more authority than they do
//! (SPEC 2.3); and the rule that protects the account's last Administrator. The reads of the
//! list and the page are in `people`, the changes in `changes`, invitations in `invitations`.

pub mod changes;
pub mod invitations;
pub mod people;

use super::UserStatus;
use crate::{
    companies::ssr::scope_root,
    error::AppError,
    permissions::{describe, Authority, ADMINISTRATOR_RANK},
    server::capability::Staff,
};
use sqlx::PgConnection;

#[derive(Clone, Debug)]
pub struct TargetUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub region: Option<String>,
    pub status: UserStatus,
    pub role_id: i64,
    pub role_rank: i32,
    /// The rank and permissions of the user's role.
    pub authority: Authority,
    pub company_id: i64,
    pub version: i32,
}

impl TargetUser {
    pub fn is_self(&self, staff: &Staff) -> bool {
        self.id == staff.user_id()
    }
}

/// A staff user of the caller's account in the caller's scope, locked for the transaction;
/// "not found" for anyone else (another account, another branch, removed). The lock leaves
/// key-share locks free, so rows that merely refer to the user (audit rows, sessions) can be
/// written meanwhile without deadlocks.
pub async fn visible_user(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<TargetUser, AppError> {
    let top = scope_root(&mut *conn, staff).await?;
    let row = sqlx::query!(
        r#"SELECT u.id, u.email, u.display_name, u.region, u.status, u.role_id AS "role_id!", r.rank,
                  u.company_id AS "company_id!", u.version,
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = r.account_id AND p.role_id = r.id), '{}') AS "permissions!"
             FROM users u
             JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
             JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
            WHERE u.account_id = $1 AND u.id = $2 AND u.kind = 'staff' AND u.status <> 'removed'
              AND c.path @> ARRAY[$3::bigint]
            FOR NO KEY UPDATE OF u"#,
        staff.account_id(),
        id,
        top
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(TargetUser {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        region: row.region,
        status: UserStatus::parse(&row.status).ok_or(AppError::NotFound)?,
        role_id: row.role_id,
        role_rank: row.rank,
        authority: Authority::from_keys(row.rank, &row.permissions),
        company_id: row.company_id,
        version: row.version,
    })
}

/// Why `staff` may not act on (or give) `other`, in words for them; `None` when they may.
pub fn refusal(staff: &Staff, whom: &str, other: &Authority) -> Option<String> {
    let own = staff.authority();
    if own.covers(other) {
        return None;
    }
    if other.rank < own.rank {
        return Some(format!("{whom} has more authority than you; only someone at their rank or above can do this."));
    }
    Some(format!(
        "{whom} holds permissions you do not have ({}); only someone who holds them can do this.",
        describe(&own.missing(other))
    ))
}

/// A user the caller may change: visible, with a role of no better rank than the caller's and
/// no permission the caller lacks (SPEC 2.3). Editing, resetting the password, disabling,
/// removing, deleting and invitations all go through here.
pub async fn manageable_user(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<TargetUser, AppError> {
    let target = visible_user(conn, staff, id).await?;
    if let Some(message) = refusal(staff, &target.display_name, &target.authority) {
        return Err(AppError::Refused(message));
    }
    Ok(target)
}

/// Whether the caller may act on a user holding `authority` (for what the UI offers).
pub fn may_manage(staff: &Staff, authority: &Authority) -> bool {
    staff.authority().covers(authority)
}

/// Refuses when `user_id` is the account's only active Administrator. Run under the
/// account's authority lock, so two such changes cannot both see another Administrator.
pub async fn ensure_another_administrator(
    conn: &mut PgConnection,
    account_id: i64,
    user_id: i64,
    name: &str,
) -> Result<(), AppError> {
    let others = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users u JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
            WHERE u.account_id = $1 AND u.id <> $2 AND u.status = 'active' AND r.rank = $3"#,
        account_id,
        user_id,
        ADMINISTRATOR_RANK
    )
    .fetch_one(conn)
    .await?;
    if others == 0 {
        return Err(AppError::Refused(format!(
            "{name} is the last Administrator of this account. Make someone else an Administrator first."
        )));
    }
    Ok(())
}

pub async fn account_name(conn: &mut PgConnection, account_id: i64) -> Result<String, AppError> {
    Ok(sqlx::query_scalar!("SELECT name FROM accounts WHERE id = $1", account_id).fetch_one(conn).await?)
}
