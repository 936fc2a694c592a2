//! Brute-force protection (SPEC 1.8): password guesses are counted per e-mail and per client
//! address in PostgreSQL, so every app instance sees the same counts. An attempt is counted
//! *before* its password is checked, under the counters' row locks, and only an attempt the
//! counters allowed is checked against the real hash: however many guesses arrive at once, at
//! most the limit of them reach the hash before the key locks. Past the limit within the
//! window the key is locked for a growing interval, capped.

use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

pub const WINDOW_MINUTES: i64 = 15;
pub const EMAIL_LIMIT: i32 = 5;
/// Many people can share one address (an office, a NAT), so the address limit is higher.
pub const ADDRESS_LIMIT: i32 = 50;
const FIRST_LOCK_SECONDS: i64 = 30;
const MAX_LOCK_MINUTES: i64 = 15;

/// One counter an attempt is charged to, with its limit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub key: String,
    pub limit: i32,
}

pub fn email_key(normalized_email: &str) -> Key {
    Key { key: format!("email:{normalized_email}"), limit: EMAIL_LIMIT }
}

pub fn address_key(ip: &str) -> Key {
    Key { key: format!("ip:{ip}"), limit: ADDRESS_LIMIT }
}

/// How long a key stays locked after its `attempts`-th counted attempt in the window, if at
/// all: 30 s at the limit, doubling with each further attempt, at most 15 minutes.
pub fn lock_for(attempts: i32, limit: i32) -> Option<Duration> {
    if attempts < limit {
        return None;
    }
    let doublings = (attempts - limit).min(10) as u32;
    Some(Duration::seconds(FIRST_LOCK_SECONDS << doublings).min(Duration::minutes(MAX_LOCK_MINUTES)))
}

/// Counts one attempt against every key, atomically across instances, and says whether the
/// attempt may be checked against the real password hash: only when no key was locked when it
/// arrived. Runs in its own transaction, committed before the hash is checked, so concurrent
/// attempts are each counted once and in order. Keys are locked in one order (no deadlocks).
pub async fn reserve(db: &PgPool, keys: &[Key], now: DateTime<Utc>) -> Result<bool, AppError> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let names: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let mut tx = db.begin().await?;
    sqlx::query!(
        "INSERT INTO sign_in_throttle (key, failures, window_started_at, last_failure_at)
         SELECT k, 0, $2, $2 FROM unnest($1::text[]) AS k
         ON CONFLICT (key) DO NOTHING",
        &names,
        now
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query!(
        "SELECT key, failures, window_started_at, locked_until FROM sign_in_throttle
          WHERE key = ANY($1) ORDER BY key FOR UPDATE",
        &names
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut allowed = true;
    for row in rows {
        let limit = keys.iter().find(|k| k.key == row.key).map(|k| k.limit).unwrap_or(EMAIL_LIMIT);
        let locked = row.locked_until.is_some_and(|until| until > now);
        allowed &= !locked;
        // A window that has passed starts again, unless a lock is still running.
        let fresh = row.window_started_at < window_start && !locked;
        let attempts = if fresh { 1 } else { row.failures + 1 };
        let locked_until = match lock_for(attempts, limit) {
            Some(lock) => Some(now + lock),
            None if fresh => None,
            None => row.locked_until,
        };
        sqlx::query!(
            "UPDATE sign_in_throttle SET failures = $2, window_started_at = $3, last_failure_at = $4, locked_until = $5
              WHERE key = $1",
            row.key,
            attempts,
            if fresh { now } else { row.window_started_at },
            now,
            locked_until
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(allowed)
}

/// A correct password: the e-mail's count is cleared, and the attempt no longer counts against
/// the address (whose lock, if this attempt set it, is lifted).
pub async fn succeeded(db: &PgPool, email: &Key, address: Option<&Key>) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    sqlx::query!("DELETE FROM sign_in_throttle WHERE key = $1", email.key).execute(&mut *tx).await?;
    if let Some(address) = address {
        sqlx::query!(
            "UPDATE sign_in_throttle SET failures = greatest(failures - 1, 0),
                    locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END
              WHERE key = $1",
            address.key,
            address.limit
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes counters a day after their last attempt, unless still locked.
pub async fn clean_up(db: &PgPool, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM sign_in_throttle WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        now - Duration::days(1),
        now,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Lifts every count and lock of an e-mail (a successful password reset).
pub async fn clear(db: &PgPool, email: &Key) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sign_in_throttle WHERE key = $1", email.key).execute(db).await?;
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

    #[test]
    fn keys_sort_in_one_order_whatever_the_caller_passes() {
        let mut keys = vec![email_key("b@x.test"), address_key("10.0.0.1"), email_key("a@x.test")];
        keys.sort();
        let names: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(names, ["email:a@x.test", "email:b@x.test", "ip:10.0.0.1"]);
    }
}
