//! The outbox's queries.

use super::{MailMode, OutboxList, OutboxMessage, PAGE_SIZE};
use crate::{
    error::AppError,
    permissions::grant::Administrator,
    server::{capability::Allowed, state::AppState},
    ui::MAX_PAGE,
    services::{
        audit::{Action, Actor, Record},
        mail::{
            templates::{redact, HIDDEN},
            OutboxStatus,
        },
    },
};
use sqlx::PgConnection;

/// One page of the account's messages, newest first. What a message carries for its
/// recipient alone is shown only in development mail.
pub async fn page(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, Administrator>, page: i64) -> Result<OutboxList, AppError> {
    let account_id = allowed.account_id();
    let page = page.clamp(1, MAX_PAGE);
    let total = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM outbox WHERE account_id = $1"#, account_id)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query!(
        "SELECT id, to_address, subject, body_text, secret, status, attempts, last_error, next_attempt_at, created_at, sent_at
           FROM outbox WHERE account_id = $1
          ORDER BY id DESC LIMIT $2 OFFSET $3",
        account_id,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE
    )
    .fetch_all(conn)
    .await?;
    let mode = if !state.config.mail_undelivered() {
        MailMode::Smtp
    } else if state.config.dev_mail() {
        MailMode::Development
    } else {
        MailMode::Held
    };
    let messages = rows
        .into_iter()
        .map(|r| OutboxMessage {
            body_text: if mode == MailMode::Development { r.body_text } else { redact(&r.body_text, r.secret.as_deref(), HIDDEN) },
            id: r.id,
            to_address: r.to_address,
            subject: r.subject,
            status: OutboxStatus::parse(&r.status).unwrap_or(OutboxStatus::Queued),
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
        .collect();
    Ok(OutboxList { messages, total, page, mode })
}

/// Puts a message that is not sent back in the queue, due now. One that fails once more after
/// its last automatic attempt is marked failed again.
pub async fn retry(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, Administrator>, id: i64) -> Result<(), AppError> {
    let now = state.clock.now();
    let row = sqlx::query!(
        "UPDATE outbox SET status = 'queued', next_attempt_at = $3
          WHERE account_id = $1 AND id = $2 AND status <> 'sent'
          RETURNING to_address, subject, attempts",
        allowed.account_id(),
        id,
        now
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let changes = serde_json::json!({ "to": row.to_address, "subject": row.subject, "attempts": row.attempts });
    Actor::staff(allowed.staff(), now).audit(conn, Action::EmailRetried, Record::email(id), changes).await
}
