//! Transaction-scoped advisory locks for rules that span several rows, so concurrent changes
//! that could break such a rule take their turn instead of both passing their checks (two
//! Administrators demoting each other; two customers each moved under the other). Each lock is
//! taken first in its transaction, before any row lock, so they always come in one order.

use crate::error::AppError;
use sqlx::PgConnection;

/// What a lock protects, within one account.
#[derive(Clone, Copy, Debug)]
pub enum Guarded {
    /// Who holds which role and who is active: the last-Administrator rule and authority checks.
    Authority,
    /// The company tree (no cycles).
    CompanyTree,
    /// The customer tree (no cycles).
    CustomerTree,
}

impl Guarded {
    fn name(self) -> &'static str {
        match self {
            Guarded::Authority => "authority",
            Guarded::CompanyTree => "company_tree",
            Guarded::CustomerTree => "customer_tree",
        }
    }
}

/// Waits for, then holds until the transaction ends, the lock on `what` in `account_id`.
pub async fn lock(conn: &mut PgConnection, what: Guarded, account_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        r#"SELECT 1 AS "locked!" FROM pg_advisory_xact_lock(hashtextextended($1 || ':' || $2::bigint::text, 0))"#,
        what.name(),
        account_id
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}
