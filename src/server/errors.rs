//! Turning database failures into [`AppError`] without leaking their text: unique violations
//! become field messages by constraint name, an unreachable database "temporarily unavailable",
//! anything else an internal error whose cause goes to the log with the request id.

use crate::error::{current_request_id, internal, AppError, FieldErrors, Limit, PlanLimit};

/// The SQLSTATE the database raises for an addition the account's plan has no room for; its
/// message is "limit allowed used" (migration `billing`).
const PLAN_LIMIT_STATE: &str = "RL001";

fn plan_limit(message: &str) -> Option<PlanLimit> {
    let mut words = message.split(' ');
    let limit = Limit::from_key(words.next()?)?;
    let allowed = words.next()?.parse().ok()?;
    let used = words.next()?.parse().ok()?;
    Some(PlanLimit { limit, allowed, used, adding: 1 })
}

/// A unique constraint and the field message it stands for.
pub struct Unique {
    pub constraint: &'static str,
    pub field: &'static str,
    pub message: &'static str,
}

/// Maps a database error: a listed unique violation becomes a field error, an unreachable
/// database becomes "temporarily unavailable", anything else an internal error.
pub fn db_error(error: sqlx::Error, uniques: &[Unique]) -> AppError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() {
            if let Some(unique) = uniques.iter().find(|u| Some(u.constraint) == db.constraint()) {
                return AppError::Validation(FieldErrors::single(unique.field, unique.message));
            }
        }
    }
    if let sqlx::Error::Database(db) = &error {
        if db.code().as_deref() == Some(PLAN_LIMIT_STATE) {
            if let Some(limit) = plan_limit(db.message()) {
                return AppError::PlanLimit(limit);
            }
        }
    }
    // Two changes that collided: the later one is refused as changed by someone else. Locks
    // are taken in one order, so this is a safety net, never the normal path.
    if let sqlx::Error::Database(db) = &error {
        if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
            tracing::warn!(request_id = %current_request_id(), error = %error, "concurrent change refused");
            return AppError::Conflict;
        }
    }
    if is_unavailable(&error) {
        tracing::warn!(request_id = %current_request_id(), error = %error, "database unavailable");
        return AppError::Unavailable;
    }
    internal(error)
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) => true,
        // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 08xxx connection.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        db_error(error, &[])
    }
}
