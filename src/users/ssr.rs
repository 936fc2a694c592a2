//! Finding the staff user a request is about, within the caller's account and scope, and the
//! rules that protect the account's last Administrator.

use super::UserStatus;
use crate::{
    auth::ssr::sessions::Staff,
    companies::ssr::scope_root,
    error::AppError,
    permissions::{may_assign, ADMINISTRATOR_RANK},
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
    pub company_id: i64,
    pub version: i32,
}

impl TargetUser {
    pub fn is_self(&self, staff: &Staff) -> bool {
        self.id == staff.user.user_id
    }
}

/// A staff user of the caller's account in the caller's scope, locked for the transaction;
/// "not found" for anyone else (another account, another branch, removed).
pub async fn visible_user(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<TargetUser, AppError> {
    let top = scope_root(&mut *conn, staff).await?;
    let row = sqlx::query!(
        "SELECT u.id, u.email, u.display_name, u.region, u.status, u.role_id AS \"role_id!\", r.rank,
                u.company_id AS \"company_id!\", u.version
           FROM users u
           JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
           JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
          WHERE u.account_id = $1 AND u.id = $2 AND u.kind = 'staff' AND u.status <> 'removed'
            AND c.path @> ARRAY[$3::bigint]
          FOR UPDATE OF u",
        staff.account_id,
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
        company_id: row.company_id,
        version: row.version,
    })
}

/// A user the caller may change: visible, and with no more authority than the caller.
pub async fn manageable_user(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<TargetUser, AppError> {
    let target = visible_user(conn, staff, id).await?;
    if !may_assign(staff.role.rank, target.role_rank) {
        return Err(AppError::Refused(format!(
            "{} has more authority than you; only someone at their rank or above can change them.",
            target.display_name
        )));
    }
    Ok(target)
}

/// Refuses when `user_id` is the account's only active Administrator.
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
