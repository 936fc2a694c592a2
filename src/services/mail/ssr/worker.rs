//! Delivers queued mail over SMTP. Woken by `pg_notify` when a queueing transaction commits and
//! every few seconds otherwise; a failed delivery is retried with exponential back-off, and after
//! [`MAX_ATTEMPTS`] the message is marked failed (its last SMTP error kept for Administrators).
//!
//! This is the one reader of the outbox across accounts: it is a system process acting for all
//! of them, and it only moves messages, never shows them.

use super::{
    super::templates::{redact, REMOVED},
    CHANNEL,
};
use crate::server::state::AppState;
use chrono::{DateTime, Duration, Utc};
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sqlx::postgres::PgListener;
use std::time::Duration as StdDuration;

pub const MAX_ATTEMPTS: i32 = 8;
const POLL: StdDuration = StdDuration::from_secs(5);

/// The wait before attempt `attempts + 1`, after `attempts` failures: 15 s, 30 s, 1 min, ...,
/// capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = (attempts.max(1) - 1).min(12) as u32;
    Duration::seconds((15_i64 << exponent).min(3600))
}

pub fn spawn(state: AppState) {
    let Some(url) = state.config.smtp_url.clone() else {
        return;
    };
    let transport = match AsyncSmtpTransport::<Tokio1Executor>::from_url(&url) {
        Ok(builder) => builder.timeout(Some(StdDuration::from_secs(15))).build(),
        Err(error) => {
            tracing::error!(%error, "SMTP_URL is not usable; mail stays in the outbox");
            return;
        }
    };
    tokio::spawn(async move {
        let mut listener = None;
        loop {
            if listener.is_none() {
                listener = listen(&state).await;
            }
            while let Ok(true) = deliver_next(&state, &transport).await {}
            match listener.as_mut() {
                Some(l) => match tokio::time::timeout(POLL, l.recv()).await {
                    Ok(Err(_)) => listener = None,
                    _ => {}
                },
                None => tokio::time::sleep(POLL).await,
            }
        }
    });
}

async fn listen(state: &AppState) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(&state.db).await.ok()?;
    listener.listen(CHANNEL).await.ok()?;
    Some(listener)
}

/// Sends the oldest due message, if any. Returns whether one was handled.
pub async fn deliver_next(
    state: &AppState,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
) -> Result<bool, sqlx::Error> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let Some(row) = sqlx::query!(
        "SELECT id, to_address, subject, body_text, body_html, secret, attempts
           FROM outbox
          WHERE status = 'queued' AND next_attempt_at <= $1
          ORDER BY next_attempt_at, id
          LIMIT 1
          FOR UPDATE SKIP LOCKED",
        now,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    let result = match build(&state.config.mail_from, &row.to_address, &row.subject, &row.body_text, &row.body_html) {
        Ok(message) => transport.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let now = state.clock.now();
    let attempts = row.attempts + 1;
    match result {
        Ok(()) => {
            // A delivered secret does not stay at rest in the outbox.
            let secret = row.secret.as_deref();
            sqlx::query!(
                "UPDATE outbox SET status = 'sent', attempts = $2, sent_at = $3, last_error = NULL,
                        body_text = $4, body_html = $5, secret = NULL
                  WHERE id = $1",
                row.id,
                attempts,
                now,
                redact(&row.body_text, secret, REMOVED),
                redact(&row.body_html, secret, REMOVED),
            )
            .execute(&mut *tx)
            .await?;
            tracing::info!(id = row.id, "mail sent");
        }
        Err(error) => {
            let status = if attempts >= MAX_ATTEMPTS { "failed" } else { "queued" };
            let next: DateTime<Utc> = now + backoff(attempts);
            sqlx::query!(
                "UPDATE outbox SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1",
                row.id,
                status,
                attempts,
                error,
                next,
            )
            .execute(&mut *tx)
            .await?;
            tracing::warn!(id = row.id, attempts, %error, "mail delivery failed");
        }
    }
    tx.commit().await?;
    Ok(true)
}

fn build(from: &str, to: &str, subject: &str, text: &str, html: &str) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("sender address: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("recipient address: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text.to_owned()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.to_owned())),
        )
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_fifteen_seconds_and_caps_at_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(15));
        assert_eq!(backoff(2), Duration::seconds(30));
        assert_eq!(backoff(3), Duration::seconds(60));
        assert_eq!(backoff(9), Duration::seconds(3600));
        assert_eq!(backoff(40), Duration::seconds(3600));
    }

    #[test]
    fn messages_have_text_and_html_parts() {
        let message = build("Roster <no-reply@roster.test>", "ada@example.com", "Hi", "plain", "<p>html</p>").unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain"));
        assert!(raw.contains("text/html"));
        assert!(build("Roster <x@y.z>", "not an address", "Hi", "a", "b").is_err());
    }
}
