//! Sign-in addresses are unique across the whole installation, so refusing one tells whoever
//! typed it that someone somewhere uses it. Signed-in people adding or changing users get one
//! answer for every such address, "This e-mail cannot be used here", whichever account uses
//! it; and each refusal counts, so after [`REFUSALS_PER_HOUR`] of them in an hour the person
//! can add no address at all until the hour has passed (no more answers to learn from).

use crate::{
    error::{AppError, FieldErrors},
    server::{
        errors::Unique,
        limits::{self, Limit},
        state::AppState,
    },
    validation::Email,
};
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

pub const CANNOT_USE: &str = "This e-mail cannot be used here.";
pub const REFUSALS_PER_HOUR: i32 = 20;

/// The unique index on sign-in addresses, answered with the one message (for the rare insert
/// that races past [`ensure_free`]).
pub fn taken(field: &'static str) -> Unique {
    Unique { constraint: "users_email_key", field, message: CANNOT_USE }
}

fn limit() -> Limit {
    Limit { hits: REFUSALS_PER_HOUR, window: Duration::hours(1) }
}

fn key(actor_id: i64) -> String {
    format!("address_refusals:user:{actor_id}")
}

/// How PostgreSQL folds an address (`lower()`, as the unique index does): the key of every
/// look-up and every counter of that address. Rust's lower-casing can differ from it (a dotted
/// capital İ, say), so the database decides.
pub async fn fold(db: &PgPool, email: &str) -> Result<String, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT lower($1) AS "folded!""#, email).fetch_one(db).await?)
}

/// Refuses at once when `actor_id` has used up their refusals for the hour, whatever address
/// they try now.
pub async fn guard(state: &AppState, actor_id: i64) -> Result<(), AppError> {
    if limits::exhausted(&state.db, &key(actor_id), limit(), state.clock.now()).await? {
        return Err(AppError::TooMany(
            "Too many of the addresses you entered could not be used. Try again in an hour.".into(),
        ));
    }
    Ok(())
}

/// Counts `n` refusals of `actor_id` (in their own statement, so they stay counted although the
/// request fails).
pub async fn count_refusals(state: &AppState, actor_id: i64, n: usize) -> Result<(), AppError> {
    limits::hit(&state.db, &key(actor_id), n as i32, limit(), state.clock.now()).await?;
    Ok(())
}

/// How many more addresses that cannot be used `actor_id` may be told this hour, with their
/// counter held by `conn`'s transaction until it ends: whatever the transaction then tells (and
/// counts with [`count_answers`]) is decided from this value, and a request that runs beside it
/// waits for it and decides from what it left. A failed transaction has told and counted
/// nothing.
pub async fn hold_answers(conn: &mut PgConnection, actor_id: i64, now: DateTime<Utc>) -> Result<usize, AppError> {
    let used = limits::hit(conn, &key(actor_id), 0, limit(), now).await?;
    Ok((REFUSALS_PER_HOUR - used).max(0) as usize)
}

/// Counts `n` addresses told to `actor_id` in the transaction that holds their counter (see
/// [`hold_answers`]).
pub async fn count_answers(conn: &mut PgConnection, actor_id: i64, n: usize, now: DateTime<Utc>) -> Result<(), AppError> {
    if n > 0 {
        limits::hit(conn, &key(actor_id), n as i32, limit(), now).await?;
    }
    Ok(())
}

/// Refuses the addresses that anybody uses already (except the user `except`, who keeps their
/// own), with the one message under `field`, counting each refusal against `actor_id`. Call it
/// before opening the change's transaction (it reads and counts on the pool, and a request
/// never waits for a second connection while it holds one); the unique index answers the same
/// for an address taken in between.
pub async fn ensure_free(
    state: &AppState,
    actor_id: i64,
    field: &str,
    emails: &[&Email],
    except: Option<i64>,
) -> Result<(), AppError> {
    guard(state, actor_id).await?;
    let raw: Vec<String> = emails.iter().map(|e| e.as_str().to_owned()).collect();
    let taken = sqlx::query_scalar!(
        r#"SELECT e AS "email!" FROM unnest($1::text[]) AS e
            WHERE EXISTS (SELECT 1 FROM users u
                           WHERE lower(u.email) = lower(e) AND u.status <> 'removed' AND u.id IS DISTINCT FROM $2)"#,
        &raw,
        except
    )
    .fetch_all(&state.db)
    .await?;
    if taken.is_empty() {
        return Ok(());
    }
    // Never more answers than the hour allows: past the limit, not even which ones. The count
    // is raised before deciding, and the decision made from what this request raised it to, so
    // requests at once never share one remaining answer.
    let after = limits::hit(&state.db, &key(actor_id), taken.len() as i32, limit(), state.clock.now()).await?;
    if after > REFUSALS_PER_HOUR {
        return Err(AppError::TooMany(
            "Too many of the addresses you entered could not be used. Try again in an hour.".into(),
        ));
    }
    let message = if emails.len() == 1 {
        CANNOT_USE.to_owned()
    } else {
        format!("These addresses cannot be used here: {}.", taken.join(", "))
    };
    Err(AppError::Validation(FieldErrors::single(field, message)))
}
