//! The e-mail outbox (SPEC 6): every message waits here until the worker delivers it. With no
//! SMTP server configured (development), Administrators read messages here to copy their links.

#[cfg(feature = "ssr")]
pub mod ssr;

use crate::{error::AppError, home::format_time, ui::PageHeader};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 25;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How this server handles mail, which decides what the Outbox page may show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailMode {
    /// An SMTP server delivers it; links and temporary passwords are never shown here.
    Smtp,
    /// Development mail (no SMTP, loopback or ROSTER_DEV_MAIL): shown whole, links included.
    Development,
    /// No SMTP server and not development mail: nothing is delivered and secrets stay hidden.
    Held,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxList {
    pub messages: Vec<OutboxMessage>,
    pub total: i64,
    pub page: i64,
    pub mode: MailMode,
}

/// The last page a list may be asked for; deeper requests get the last one allowed.
pub const MAX_PAGE: i64 = 10_000;

#[server(prefix = "/api", endpoint = "outbox")]
pub async fn list_outbox(page: i64) -> Result<OutboxList, AppError> {
    use crate::{auth::ssr::sessions::require_staff, server::state::app_state};
    use ssr::templates::{redact, HIDDEN};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require_administrator()?;
    let page = page.clamp(1, MAX_PAGE);
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM outbox WHERE account_id = $1"#,
        staff.account_id
    )
    .fetch_one(&state.db)
    .await?;
    let rows = sqlx::query!(
        "SELECT id, to_address, subject, body_text, secret, status, attempts, last_error, next_attempt_at, created_at, sent_at
           FROM outbox WHERE account_id = $1
          ORDER BY id DESC LIMIT $2 OFFSET $3",
        staff.account_id,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE
    )
    .fetch_all(&state.db)
    .await?;
    let mode = if !state.config.mail_undelivered() {
        MailMode::Smtp
    } else if state.config.dev_mail() {
        MailMode::Development
    } else {
        MailMode::Held
    };
    // What a message carries for its recipient alone is shown only in development mail.
    let messages = rows
        .into_iter()
        .map(|r| OutboxMessage {
            body_text: if mode == MailMode::Development { r.body_text } else { redact(&r.body_text, r.secret.as_deref(), HIDDEN) },
            id: r.id,
            to_address: r.to_address,
            subject: r.subject,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
        .collect();
    Ok(OutboxList { messages, total, page, mode })
}

/// Sends a failed (or waiting) message again now: it goes back to the queue, due immediately. A
/// message that fails once more after its last automatic attempt is marked failed again.
#[server(prefix = "/api", endpoint = "retry_outbox")]
pub async fn retry_message(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require_administrator()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let row = sqlx::query!(
        "UPDATE outbox SET status = 'queued', next_attempt_at = $3
          WHERE account_id = $1 AND id = $2 AND status <> 'sent'
          RETURNING to_address, subject, attempts",
        staff.account_id,
        id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "email.retried",
            record_type: "email",
            record_id: Some(id),
            changes: serde_json::json!({ "to": row.to_address, "subject": row.subject, "attempts": row.attempts }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || query.with(|q| q.get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1));
    let retry = ServerAction::<RetryMessage>::new();
    let list = Resource::new(move || (page(), retry.version().get()), |(page, _)| list_outbox(page));
    view! {
        <Title text="Outbox"/>
        <PageHeader title="Outbox" description="Every e-mail Roster sends for this account, newest first."/>
        {move || retry.value().get().map(|result| match result {
            Ok(()) => view! { <div class="alert alert-success" role="status">"The message is queued and will be sent within a few seconds."</div> }.into_any(),
            Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <OutboxTable list retry/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn status_badge(message: &OutboxMessage) -> impl IntoView {
    let (class, text) = match (message.status.as_str(), message.attempts) {
        ("sent", _) => ("badge badge-success", "Sent".to_owned()),
        ("failed", _) => ("badge badge-danger", "Failed".to_owned()),
        (_, 0) => ("badge badge-neutral", "Queued".to_owned()),
        (_, n) => ("badge badge-warning", format!("Retrying (attempt {n} failed)")),
    };
    view! { <span class=class>{text}</span> }
}

/// The plain-text body with its links made clickable.
fn linked_text(text: &str) -> impl IntoView {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                let rest = word[trimmed.len()..].to_owned();
                view! { <a href=trimmed.to_owned()>{trimmed.to_owned()}</a>{rest} }.into_any()
            } else {
                word.to_owned().into_any()
            }
        })
        .collect_view()
}

#[component]
fn OutboxTable(list: OutboxList, retry: ServerAction<RetryMessage>) -> impl IntoView {
    let pages = ((list.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = list.page;
    view! {
        {match list.mode {
            MailMode::Development => Some(view! {
                <div class="alert alert-info">
                    <strong>"Development mail. "</strong>
                    "No SMTP server is configured (SMTP_URL) and this server runs for development, so messages are not delivered "
                    "and are shown whole here, links included. Open one to read it and copy its link."
                </div>
            }.into_any()),
            MailMode::Held => Some(view! {
                <div class="alert alert-warning">
                    <strong>"Mail is not being delivered. "</strong>
                    "No SMTP server is configured (SMTP_URL). Links and temporary passwords stay hidden here because they are "
                    "meant for their recipients only. Configure SMTP_URL to deliver them."
                </div>
            }.into_any()),
            MailMode::Smtp => None,
        }}
        <section class="card card-flush">
            {if list.messages.is_empty() {
                view! { <p class="empty">"No e-mail has been sent for this account yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <caption class="visually-hidden">"Outgoing e-mail"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Created"</th>
                                <th scope="col">"To"</th>
                                <th scope="col">"Subject"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Message"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.messages.into_iter().map(|m| {
                                let badge = status_badge(&m);
                                let error = m.last_error.clone();
                                let id = m.id;
                                let waiting = m.status == "queued" && m.attempts > 0;
                                let retryable = m.status == "failed" || waiting;
                                let next = waiting.then(|| format!("Next attempt {}", format_time(&m.next_attempt_at)));
                                let attempts = (m.attempts > 0).then(|| format!("{} {}", m.attempts, if m.attempts == 1 { "attempt" } else { "attempts" }));
                                let subject = m.subject.clone();
                                view! {
                                    <tr>
                                        <td class="nowrap">{format_time(&m.created_at)}</td>
                                        <td>{m.to_address.clone()}</td>
                                        <td>{m.subject.clone()}</td>
                                        <td>
                                            {badge}
                                            {error.map(|e| view! { <div class="cell-note">{e}</div> })}
                                            {attempts.map(|a| view! { <div class="cell-note">{a}</div> })}
                                            {next.map(|n| view! { <div class="cell-note">{n}</div> })}
                                            {retryable.then(|| view! {
                                                <ActionForm action=retry attr:class="inline-form">
                                                    <input type="hidden" name="id" value=id/>
                                                    <button type="submit" class="btn btn-secondary btn-small" aria-label=format!("Retry now: {subject}")
                                                        disabled=move || retry.pending().get()>"Retry now"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                        <td>
                                            <details class="message-details">
                                                <summary>"Read message"</summary>
                                                <pre class="message-body">{linked_text(&m.body_text)}</pre>
                                            </details>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <nav class="pagination" aria-label="Pages">
            <span>{format!("Page {page} of {pages} · {} {}", list.total, if list.total == 1 { "message" } else { "messages" })}</span>
            {(page > 1).then(|| view! { <a class="btn btn-secondary" href=format!("/outbox?page={}", page - 1)>"Previous page"</a> })}
            {(page < pages).then(|| view! { <a class="btn btn-secondary" href=format!("/outbox?page={}", page + 1)>"Next page"</a> })}
        </nav>
    }
}
