//! Queueing mail in the caller's transaction.

use super::super::templates::Mail;
use crate::{error::AppError, server::state::AppState};
use sqlx::PgConnection;

/// The notification channel the worker listens on; `pg_notify` fires only when the queueing
/// transaction commits.
pub const CHANNEL: &str = "roster_outbox";

/// Writes `mail` to the outbox as part of the caller's transaction, counted in the account's
/// e-mails this month: past the plan's limit it is refused (and with it the change), unless it
/// is security mail.
pub async fn enqueue(
    conn: &mut PgConnection,
    state: &AppState,
    account_id: Option<i64>,
    to: &str,
    mail: Mail<'_>,
) -> Result<i64, AppError> {
    let rendered = mail.render();
    let now = state.clock.now();
    if let Some(account_id) = account_id {
        crate::services::usage::ssr::add_email(&mut *conn, account_id, now, mail.is_security()).await?;
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO outbox (account_id, kind, to_address, subject, body_text, body_html, secret, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         RETURNING id",
        account_id,
        rendered.kind,
        to,
        rendered.subject,
        rendered.text,
        rendered.html,
        rendered.secret,
        now,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, id.to_string())
        .execute(&mut *conn)
        .await?;
    if state.config.mail_undelivered() {
        tracing::info!(outbox_id = id, subject = %rendered.subject, "mail queued; no SMTP_URL, so it stays in the outbox");
    }
    Ok(id)
}
