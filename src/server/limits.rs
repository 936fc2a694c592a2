//! Counters for rate limits kept in PostgreSQL, so every app instance sees the same counts:
//! a fixed window per key that starts again once it has passed.

use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

/// A limit: at most `hits` within `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub hits: i32,
    pub window: Duration,
}

/// Hits counted for `key` in its current window (0 when it has passed).
pub async fn current(db: impl sqlx::PgExecutor<'_>, key: &str, limit: Limit, now: DateTime<Utc>) -> Result<i32, AppError> {
    let hits = sqlx::query_scalar!(
        "SELECT hits FROM rate_counters WHERE key = $1 AND window_started_at > $2",
        key,
        now - limit.window
    )
    .fetch_optional(db)
    .await?;
    Ok(hits.unwrap_or(0))
}

/// Whether `key` has used up its limit.
pub async fn exhausted(db: &PgPool, key: &str, limit: Limit, now: DateTime<Utc>) -> Result<bool, AppError> {
    Ok(current(db, key, limit, now).await? >= limit.hits)
}

/// Counts `n` hits for `key` and returns the count in the window. On the pool, in its own
/// committed statement (so they stay counted when the request that caused them fails); in a
/// transaction, together with what the hits were for.
pub async fn hit(db: impl sqlx::PgExecutor<'_>, key: &str, n: i32, limit: Limit, now: DateTime<Utc>) -> Result<i32, AppError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO rate_counters AS c (key, window_started_at, hits) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN c.window_started_at <= $4 THEN $3 ELSE c.hits + $3 END,
           window_started_at = CASE WHEN c.window_started_at <= $4 THEN $2 ELSE c.window_started_at END
         RETURNING hits",
        key,
        now,
        n,
        now - limit.window
    )
    .fetch_one(db)
    .await?)
}

/// Deletes counters a day after their window began.
pub async fn clean_up(db: &PgPool, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM rate_counters WHERE window_started_at < $1", now - Duration::days(1)).execute(db).await?;
    Ok(())
}
