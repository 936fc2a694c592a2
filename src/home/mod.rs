//! The overview page: the account at a glance and the user's own recent sign-ins.

use crate::{error::AppError, ui::PageHeader};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub display_name: String,
    pub account_name: Option<String>,
    pub role_name: Option<String>,
    pub company_count: i64,
    pub staff_count: i64,
    pub queued_mail: Option<i64>,
    pub recent_sign_ins: Vec<SignInEvent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInEvent {
    pub at: DateTime<Utc>,
    pub succeeded: bool,
    pub client_ip: Option<String>,
}

#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use crate::{auth::ssr::sessions::require_user, server::state::app_state};
    let state = app_state()?;
    let user = require_user().await?;
    let (company_count, staff_count, queued_mail) = match user.account_id {
        Some(account_id) => {
            let counts = sqlx::query!(
                r#"SELECT (SELECT count(*) FROM companies WHERE account_id = $1) AS "companies!",
                          (SELECT count(*) FROM users WHERE account_id = $1 AND kind = 'staff') AS "staff!",
                          (SELECT count(*) FROM outbox WHERE account_id = $1 AND status = 'queued') AS "queued!""#,
                account_id
            )
            .fetch_one(&state.db)
            .await?;
            (counts.companies, counts.staff, user.is_administrator().then_some(counts.queued))
        }
        None => (0, 0, None),
    };
    let recent_sign_ins = sqlx::query!(
        "SELECT occurred_at, action, client_ip FROM audit_events
          WHERE account_id IS NOT DISTINCT FROM $1 AND record_type = 'user' AND record_id = $2
            AND action IN ('session.signed_in', 'session.sign_in_failed')
          ORDER BY occurred_at DESC, id DESC LIMIT 5",
        user.account_id,
        user.user_id.to_string()
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| SignInEvent { at: r.occurred_at, succeeded: r.action == "session.signed_in", client_ip: r.client_ip })
    .collect();
    Ok(Overview {
        display_name: user.display_name,
        account_name: user.account_name,
        role_name: user.role.map(|r| r.name),
        company_count,
        staff_count,
        queued_mail,
        recent_sign_ins,
    })
}

/// A timestamp as the UI shows it (UTC, to the minute).
pub fn format_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <OverviewView overview=o/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewView(overview: Overview) -> impl IntoView {
    let first_name = overview.display_name.split_whitespace().next().unwrap_or_default().to_owned();
    let description = match (&overview.account_name, &overview.role_name) {
        (Some(account), Some(role)) => format!("You are signed in to {account} as {role}."),
        (Some(account), None) => format!("You are signed in to {account}."),
        _ => "Your personal account is not part of any business yet. A business that serves you can add you as a customer.".into(),
    };
    let sign_ins = overview.recent_sign_ins;
    let in_account = overview.account_name.is_some();
    view! {
        <PageHeader title=format!("Welcome, {first_name}") description=description/>
        <section class="stat-grid" aria-label="Account at a glance" hidden=!in_account>
            <div class="stat-card">
                <span class="stat-label">"Companies"</span>
                <span class="stat-value">{overview.company_count}</span>
                <span class="stat-note">"Your business and the distributors and installers under it"</span>
            </div>
            <div class="stat-card">
                <span class="stat-label">"Staff users"</span>
                <span class="stat-value">{overview.staff_count}</span>
                <span class="stat-note">"People who sign in to manage this account"</span>
            </div>
            {overview.queued_mail.map(|queued| view! {
                <a class="stat-card stat-link" href="/outbox">
                    <span class="stat-label">"Mail waiting to be sent"</span>
                    <span class="stat-value">{queued}</span>
                    <span class="stat-note">"Open the outbox"</span>
                </a>
            })}
        </section>
        <section class="card">
            <h2>"Your recent sign-ins"</h2>
            {if sign_ins.is_empty() {
                view! { <p class="empty">"No sign-ins recorded yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead>
                            <tr><th scope="col">"When"</th><th scope="col">"Result"</th><th scope="col">"From address"</th></tr>
                        </thead>
                        <tbody>
                            {sign_ins.into_iter().map(|e| view! {
                                <tr>
                                    <td>{format_time(&e.at)}</td>
                                    <td>{if e.succeeded {
                                        view! { <span class="badge badge-success">"Signed in"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge badge-danger">"Failed attempt"</span> }.into_any()
                                    }}</td>
                                    <td>{e.client_ip.unwrap_or_else(|| "unknown".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
