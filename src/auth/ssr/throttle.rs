//! Brute-force protection (SPEC 1.8): failed sign-ins are counted per e-mail and per client
//! address in PostgreSQL, so every app instance sees the same counts. Past the limit within the
//! window, the key is locked for a growing interval, capped.

use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

pub const WINDOW_MINUTES: i64 = 15;
pub const EMAIL_LIMIT: i32 = 5;
/// Many people can share one address (an office, a NAT), so the address limit is higher.
pub const ADDRESS_LIMIT: i32 = 50;
const FIRST_LOCK_SECONDS: i64 = 30;
const MAX_LOCK_MINUTES: i64 = 15;

pub fn email_key(normalized_email: &str) -> String {
    format!("email:{normalized_email}")
}

pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// How long a key stays locked after its `failures`-th failure in the window, if at all:
/// 30 s at the limit, doubling with each further failure, at most 15 minutes.
pub fn lock_for(failures: i32, limit: i32) -> Option<Duration> {
    if failures < limit {
        return None;
    }
    let doublings = (failures - limit).min(10) as u32;
    Some(Duration::seconds(FIRST_LOCK_SECONDS << doublings).min(Duration::minutes(MAX_LOCK_MINUTES)))
}

/// Whether any of the keys is locked at `now`.
pub async fn locked(db: &PgPool, keys: &[String], now: DateTime<Utc>) -> Result<bool, AppError> {
    let locked = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM sign_in_throttle WHERE key = ANY($1) AND locked_until > $2) AS \"locked!\"",
        keys,
        now,
    )
    .fetch_one(db)
    .await?;
    Ok(locked)
}

/// Counts one failure for `key`, starting a new window when the last one has passed and no
/// lock is running, and locks the key once the count reaches `limit`.
pub async fn record_failure(
    conn: &mut PgConnection,
    key: &str,
    limit: i32,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let failures = sqlx::query_scalar!(
        "INSERT INTO sign_in_throttle AS t (key, failures, window_started_at, last_failure_at)
         VALUES ($1, 1, $2, $2)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_started_at < $3 AND (t.locked_until IS NULL OR t.locked_until <= $2)
                           THEN 1 ELSE t.failures + 1 END,
           window_started_at = CASE WHEN t.window_started_at < $3 AND (t.locked_until IS NULL OR t.locked_until <= $2)
                           THEN $2 ELSE t.window_started_at END,
           last_failure_at = $2
         RETURNING failures",
        key,
        now,
        window_start,
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(lock) = lock_for(failures, limit) {
        sqlx::query!("UPDATE sign_in_throttle SET locked_until = $2 WHERE key = $1", key, now + lock)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A successful sign-in clears the e-mail's count (not the address's).
pub async fn clear(conn: &mut PgConnection, key: &str) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sign_in_throttle WHERE key = $1", key).execute(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_lock_below_the_limit_then_growing_and_capped() {
        assert_eq!(lock_for(4, 5), None);
        assert_eq!(lock_for(5, 5), Some(Duration::seconds(30)));
        assert_eq!(lock_for(6, 5), Some(Duration::seconds(60)));
        assert_eq!(lock_for(7, 5), Some(Duration::seconds(120)));
        assert_eq!(lock_for(9, 5), Some(Duration::seconds(480)));
        assert_eq!(lock_for(10, 5), Some(Duration::minutes(15)));
        assert_eq!(lock_for(500, 5), Some(Duration::minutes(15)));
    }
}
