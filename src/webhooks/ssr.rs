//! The queries of webhooks, every one filtered on the caller's account.

use super::{DeliveryRow, WebhookRow, WebhookSecret, Webhooks};
use crate::{
    error::AppError,
    permissions::grant::Administrator,
    server::{capability::Allowed, state::AppState},
    services::{
        audit::{Action, Actor, Record},
        webhooks::{ssr::generate_secret, Event},
    },
};
use serde_json::json;
use sqlx::PgConnection;

/// The URL as the audit log keeps it: scheme and host only, since paths and queries of
/// webhook URLs often carry a credential of the receiver.
fn audited(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or_default()),
        Err(_) => "(unreadable URL)".into(),
    }
}

/// How many endpoints an account may have.
pub const MAX_WEBHOOKS: i64 = 20;

pub async fn list(conn: &mut PgConnection, allowed: &Allowed<'_, Administrator>) -> Result<Webhooks, AppError> {
    let account_id = allowed.account_id();
    let hooks = sqlx::query!(
        "SELECT id, url, events, created_at, version FROM webhooks WHERE account_id = $1 ORDER BY created_at, id",
        account_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| WebhookRow {
        id: r.id,
        url: r.url,
        events: r.events.iter().filter_map(|k| Event::from_key(k)).collect(),
        created_at: r.created_at,
        version: r.version,
    })
    .collect();
    let deliveries = sqlx::query!(
        "SELECT d.id, w.url, d.event_type, d.event_id, d.status, d.attempts, d.response_code, d.last_error,
                d.created_at, d.last_attempt_at, d.next_attempt_at
           FROM webhook_deliveries d JOIN webhooks w ON w.account_id = d.account_id AND w.id = d.webhook_id
          WHERE d.account_id = $1
          ORDER BY d.created_at DESC, d.id DESC LIMIT 50",
        account_id
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| DeliveryRow {
        id: r.id,
        url: r.url,
        event_type: r.event_type,
        event_id: r.event_id,
        next_attempt_at: (r.status == "pending").then_some(r.next_attempt_at),
        status: r.status,
        attempts: r.attempts,
        response_code: r.response_code,
        last_error: r.last_error,
        created_at: r.created_at,
        last_attempt_at: r.last_attempt_at,
    })
    .collect();
    Ok(Webhooks { hooks, deliveries })
}

pub async fn create(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, Administrator>, url: &str, events: &[Event]) -> Result<WebhookSecret, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    // One count at a time per account, so a burst cannot pass the cap.
    sqlx::query!("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", staff.account_id()).fetch_one(&mut *conn).await?;
    let existing = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM webhooks WHERE account_id = $1"#, staff.account_id())
        .fetch_one(&mut *conn)
        .await?;
    if existing >= MAX_WEBHOOKS {
        return Err(AppError::Refused(format!("An account can have at most {MAX_WEBHOOKS} webhooks. Delete one first.")));
    }
    let secret = generate_secret();
    let keys: Vec<String> = events.iter().map(|e| e.key().to_owned()).collect();
    let id = sqlx::query_scalar!(
        "INSERT INTO webhooks (account_id, url, secret, events, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        staff.account_id(),
        url,
        secret,
        &keys,
        staff.user_id(),
        now,
    )
    .fetch_one(&mut *conn)
    .await?;
    Actor::staff(staff, now).audit(conn, Action::WebhookCreated, Record::webhook(id), json!({ "url": audited(url), "events": keys })).await?;
    Ok(WebhookSecret { id, url: url.to_owned(), secret })
}

pub async fn rotate(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, Administrator>, id: i64) -> Result<WebhookSecret, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let secret = generate_secret();
    let url = sqlx::query_scalar!(
        "UPDATE webhooks SET secret = $3, version = version + 1 WHERE account_id = $1 AND id = $2 RETURNING url",
        staff.account_id(),
        id,
        secret,
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Actor::staff(staff, now).audit(conn, Action::WebhookSecretRotated, Record::webhook(id), json!({ "url": audited(&url), "secret": "changed" })).await?;
    Ok(WebhookSecret { id, url, secret })
}

pub async fn delete(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, Administrator>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let url = sqlx::query_scalar!("DELETE FROM webhooks WHERE account_id = $1 AND id = $2 RETURNING url", staff.account_id(), id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Actor::staff(staff, now).audit(conn, Action::WebhookDeleted, Record::webhook(id), json!({ "url": audited(&url) })).await
}

pub async fn redeliver(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, Administrator>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let row = sqlx::query!(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3
          WHERE account_id = $1 AND id = $2 AND claim IS NULL
        RETURNING webhook_id, event_id",
        staff.account_id(),
        id,
        now,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        // Being sent right now, or not this account's.
        let sending = sqlx::query_scalar!(
            r#"SELECT 1 AS "one!" FROM webhook_deliveries WHERE account_id = $1 AND id = $2"#,
            staff.account_id(),
            id
        )
        .fetch_optional(&mut *conn)
        .await?;
        return match sending {
            Some(_) => Err(AppError::Refused("This delivery is being sent right now. Look again in a minute.".into())),
            None => Err(AppError::NotFound),
        };
    };
    Actor::staff(staff, now)
        .audit(conn, Action::WebhookRedelivered, Record::webhook(row.webhook_id), json!({ "event": row.event_id }))
        .await
}
