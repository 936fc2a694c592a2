//! Who a REST API request acts as (issue 12): `Authorization: Bearer <key>` names an API key,
//! and the key acts for the staff user who made it, with the permissions both hold now, the
//! creator's rank (never the Administrator's), and the key's company as its scope. A revoked or
//! expired key, or one whose creator is disabled, removed, no longer over the key's company, or
//! has had the password reset by someone else (until they choose a new one), is refused (401). Each key
//! has a request limit per minute counted in PostgreSQL, so it holds across instances.

use super::{
    limits,
    session::{KeyRef, RoleRef, SignedIn},
    state::AppState,
    tokens,
};
use crate::{
    error::AppError,
    permissions::{Permission, ADMINISTRATOR_RANK},
};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// What every API key starts with, so a leaked one is recognisable (secret scanners, logs).
pub const KEY_PREFIX: &str = "roster_";

/// How many characters of a key the list shows to tell keys apart.
pub const SHOWN_CHARS: usize = 12;

/// The user a REST request acts as, provided as context for the request's handler.
#[derive(Clone, Debug)]
pub struct ApiCaller(pub SignedIn);

/// A new key: the secret to show once, the hash to store and the prefix to list.
pub struct NewKey {
    pub secret: String,
    pub hash: Vec<u8>,
    pub shown: String,
}

pub fn generate() -> NewKey {
    let (token, _) = tokens::generate();
    let secret = format!("{KEY_PREFIX}{token}");
    let hash = tokens::hash(&secret);
    let shown = secret.chars().take(SHOWN_CHARS).collect();
    NewKey { secret, hash, shown }
}

/// Why a request may not go on: no usable key, or the key's limit for this minute is used up.
#[derive(Debug)]
pub enum Refusal {
    Unauthenticated,
    TooMany { retry_after_seconds: i64 },
    Failed(AppError),
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        Refusal::Failed(error)
    }
}

/// The key's user for the request's `Authorization` header value, counted against its limit.
pub async fn authenticate(state: &AppState, authorization: Option<&str>) -> Result<SignedIn, Refusal> {
    let Some(secret) = authorization.and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
        return Err(Refusal::Unauthenticated);
    };
    if !secret.starts_with(KEY_PREFIX) || secret.len() > 100 {
        return Err(Refusal::Unauthenticated);
    }
    let now = state.clock.now();
    let limit = limits::Limit { hits: state.config.api_requests_per_key_per_minute, window: Duration::minutes(1) };
    // One statement, one round trip: the key, its creator as they are now, and the request
    // counted against the key's limit (the window rule of `limits::hit`, committed
    // without waiting for the disk: a crash may forget the last moment's hits, never grant a
    // request its own count refused).
    let row = sqlx::query!(
        r#"WITH unsynced AS (SELECT set_config('synchronous_commit', 'off', true)),
           found AS (
             SELECT k.id, k.name, k.account_id, k.company_id, k.permissions AS key_permissions, k.last_used_at,
                    u.id AS user_id, u.email, u.display_name, u.company_id AS user_company_id,
                    r.id AS role_id, r.name AS role_name, r.rank,
                    EXISTS (SELECT 1 FROM companies c
                             WHERE c.account_id = k.account_id AND c.id = k.company_id
                               AND c.path @> ARRAY[u.company_id]) AS in_scope,
                    COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                               WHERE p.account_id = u.account_id AND p.role_id = u.role_id), '{}') AS permissions
               FROM api_keys k
               JOIN users u ON u.account_id = k.account_id AND u.id = k.created_by
               JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
              WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND k.expires_at > $2
                AND u.kind = 'staff' AND u.status = 'active' AND NOT u.must_change_password),
           hit AS (
             INSERT INTO rate_counters AS c (key, window_started_at, hits)
             SELECT 'api-key:' || found.id, $2, 1 FROM found, unsynced
             ON CONFLICT (key) DO UPDATE SET
               hits = CASE WHEN c.window_started_at <= $3 THEN 1 ELSE c.hits + 1 END,
               window_started_at = CASE WHEN c.window_started_at <= $3 THEN $2 ELSE c.window_started_at END
             RETURNING hits, window_started_at)
           SELECT found.id AS "id!", found.name AS "name!", found.account_id AS "account_id!", found.company_id AS "company_id!",
                  found.key_permissions AS "key_permissions!", found.last_used_at, found.user_id AS "user_id!",
                  found.email AS "email!", found.display_name AS "display_name!", found.role_id AS "role_id!",
                  found.role_name AS "role_name!", found.rank AS "rank!", found.in_scope AS "in_scope!",
                  found.permissions AS "permissions!: Vec<String>", hit.hits AS "hits!", hit.window_started_at AS "window_started_at!"
             FROM found CROSS JOIN hit"#,
        tokens::hash(secret),
        now,
        now - limit.window,
    )
    .fetch_optional(&state.db)
    .await
    .map_err(AppError::from)?
    .ok_or(Refusal::Unauthenticated)?;
    // The key's company must still be within its creator's reach.
    if row.rank != ADMINISTRATOR_RANK && !row.in_scope {
        return Err(Refusal::Unauthenticated);
    }
    if row.hits > limit.hits {
        let retry = (row.window_started_at + limit.window - now).num_seconds().max(1);
        return Err(Refusal::TooMany { retry_after_seconds: retry });
    }
    touch(state, row.id, row.last_used_at, now).await?;
    let creator: BTreeSet<Permission> = if row.rank == ADMINISTRATOR_RANK {
        Permission::ALL.into_iter().collect()
    } else {
        row.permissions.iter().filter_map(|k| Permission::from_key(k)).collect()
    };
    let permissions = row
        .key_permissions
        .iter()
        .filter_map(|k| Permission::from_key(k))
        .filter(|p| creator.contains(p))
        .collect();
    Ok(SignedIn::through_key(
        KeyRef::new(row.id, row.name),
        row.user_id,
        row.account_id,
        row.email,
        row.display_name,
        row.company_id,
        RoleRef::new(row.role_id, row.role_name, row.rank),
        permissions,
    ))
}

/// Notes when the key was last used, at most once a minute.
async fn touch(state: &AppState, id: i64, last_used: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), AppError> {
    if last_used.is_some_and(|at| now - at < Duration::minutes(1)) {
        return Ok(());
    }
    sqlx::query!("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", id, now).execute(&state.db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_recognisable_random_and_stored_as_their_hash() {
        let a = generate();
        let b = generate();
        assert!(a.secret.starts_with(KEY_PREFIX));
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, tokens::hash(&a.secret));
        assert!(a.secret.starts_with(&a.shown));
        assert_eq!(a.shown.chars().count(), SHOWN_CHARS);
    }
}
