//! The outbox page: every message of the account, its state, a retry for what failed, and —
//! in development mail only — the whole message with its links.

use super::{list_outbox, MailMode, OutboxList, OutboxMessage, RetryMessage, PAGE_SIZE};
use crate::{
    services::mail::OutboxStatus,
    ui::{format_time, LoadError, Loaded, PageHeader, Pagination},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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
            Err(error) => view! { <LoadError error/> }.into_any(),
        })}
        <Loaded resource=list view=move |list| view! { <OutboxTable list retry/> }/>
    }
}

fn status_badge(message: &OutboxMessage) -> impl IntoView {
    let (class, text) = match (message.status, message.attempts) {
        (OutboxStatus::Sent, _) => ("badge badge-success", "Sent".to_owned()),
        (OutboxStatus::Failed, _) => ("badge badge-danger", "Failed".to_owned()),
        (OutboxStatus::Queued, 0) => ("badge badge-neutral", "Queued".to_owned()),
        (OutboxStatus::Queued, n) => ("badge badge-warning", format!("Retrying (attempt {n} failed)")),
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
                                let waiting = m.status == OutboxStatus::Queued && m.attempts > 0;
                                let retryable = m.status == OutboxStatus::Failed || waiting;
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
        <Pagination page=page page_size=PAGE_SIZE total=list.total noun=("message", "messages")/>
    }
}
