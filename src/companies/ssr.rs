//! Scope (SPEC 2.4): a staff member acts on their company and the companies below it; an
//! Administrator on the whole account. Every lookup here is by account and scope at once, so a
//! company outside either is simply "not found".

use crate::{auth::ssr::sessions::Staff, error::AppError};
use sqlx::PgConnection;

/// A company as the server checks it.
#[derive(Clone, Debug)]
pub struct CompanyRef {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: String,
    pub path: Vec<i64>,
    pub version: i32,
}

impl CompanyRef {
    /// Whether `other` is this company or below it.
    pub fn contains(&self, other: &CompanyRef) -> bool {
        other.path.contains(&self.id)
    }
}

/// The company at the top of what `staff` may act on.
pub async fn scope_root(conn: &mut PgConnection, staff: &Staff) -> Result<i64, AppError> {
    if staff.user.is_administrator() {
        let root = sqlx::query_scalar!(
            "SELECT id FROM companies WHERE account_id = $1 AND parent_id IS NULL",
            staff.account_id
        )
        .fetch_one(conn)
        .await?;
        Ok(root)
    } else {
        Ok(staff.company_id)
    }
}

/// The company `id` if it is in the caller's account and scope; "not found" otherwise.
pub async fn company_in_scope(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<CompanyRef, AppError> {
    let root = scope_root(&mut *conn, staff).await?;
    sqlx::query_as!(
        CompanyRef,
        "SELECT id, parent_id, name, kind, path, version FROM companies
          WHERE account_id = $1 AND id = $2 AND path @> ARRAY[$3::bigint]",
        staff.account_id,
        id,
        root
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Like [`company_in_scope`], locking the row for the rest of the transaction.
pub async fn company_in_scope_for_update(
    conn: &mut PgConnection,
    staff: &Staff,
    id: i64,
) -> Result<CompanyRef, AppError> {
    let root = scope_root(&mut *conn, staff).await?;
    sqlx::query_as!(
        CompanyRef,
        "SELECT id, parent_id, name, kind, path, version FROM companies
          WHERE account_id = $1 AND id = $2 AND path @> ARRAY[$3::bigint]
          FOR NO KEY UPDATE",
        staff.account_id,
        id,
        root
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}
