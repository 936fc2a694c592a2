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
    /// For a customer user: the customer they act for (the portal, SPEC 5).
    pub portal: Option<PortalCustomer>,
}

/// What a customer user sees of their own customer: its details and what its type allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalCustomer {
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Address lines, city line and country, without the empty ones.
    pub address: Vec<String>,
    pub type_name: String,
    /// Labels of the customer-feature permissions the type grants, in catalogue order.
    pub features: Vec<String>,
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
    // Only staff see figures about the account; customer users see their own customer instead.
    let staff_account = user.account_id.filter(|_| user.kind == crate::auth::UserKind::Staff);
    let (company_count, staff_count, queued_mail) = match staff_account {
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
            AND action IN ('session.signed_in', 'session.sign_in_failed', 'customer_user.activated', 'user.invitation_accepted')
          ORDER BY occurred_at DESC, id DESC LIMIT 5",
        user.account_id,
        user.user_id.to_string()
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| SignInEvent { at: r.occurred_at, succeeded: r.action != "session.sign_in_failed", client_ip: r.client_ip })
    .collect();
    let portal = match (user.kind, user.account_id) {
        (crate::auth::UserKind::Customer, Some(account_id)) => {
            let c = sqlx::query!(
                "SELECT c.title, c.company_name, c.email, c.phone, c.address, c.address2, c.zip, c.city, c.state, c.country,
                        t.name AS type_name, t.features
                   FROM users u
                   JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                   JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
                  WHERE u.account_id = $1 AND u.id = $2",
                account_id,
                user.user_id
            )
            .fetch_one(&state.db)
            .await?;
            let city_line = [c.zip, c.city, c.state].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            let address = [c.address, c.address2, Some(city_line), c.country].into_iter().flatten().filter(|s| !s.is_empty()).collect();
            let features = crate::permissions::CustomerFeature::ALL
                .into_iter()
                .filter(|f| c.features.iter().any(|k| k == f.key()))
                .map(|f| f.label().to_owned())
                .collect();
            Some(PortalCustomer {
                title: c.title,
                company_name: c.company_name,
                email: c.email,
                phone: c.phone,
                address,
                type_name: c.type_name,
                features,
            })
        }
        _ => None,
    };
    Ok(Overview {
        portal,
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
    let in_account = overview.account_name.is_some() && overview.portal.is_none();
    let description = match (&overview.portal, &overview.account_name) {
        (Some(customer), Some(account)) => format!("You are signed in for {} with {account}.", customer.title),
        _ => description,
    };
    view! {
        <PageHeader title=format!("Welcome, {first_name}") description=description/>
        {overview.portal.map(|customer| view! { <PortalCard customer/> })}
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

/// The customer portal's home card: the customer's details and the type's permissions.
#[component]
fn PortalCard(customer: PortalCustomer) -> impl IntoView {
    let none = || view! { <span class="cell-note">"Not given"</span> };
    view! {
        <div class="portal-grid">
            <section class="card" aria-labelledby="portal-customer">
                <h2 id="portal-customer">"Your customer"</h2>
                <dl class="facts facts-stacked">
                    <div><dt>"Title"</dt><dd>{customer.title}</dd></div>
                    <div><dt>"Company name"</dt><dd>{customer.company_name.map(|v| v.into_any()).unwrap_or_else(|| none().into_any())}</dd></div>
                    <div><dt>"E-mail"</dt><dd>{customer.email.map(|v| v.into_any()).unwrap_or_else(|| none().into_any())}</dd></div>
                    <div><dt>"Phone"</dt><dd>{customer.phone.map(|v| v.into_any()).unwrap_or_else(|| none().into_any())}</dd></div>
                    <div>
                        <dt>"Address"</dt>
                        <dd>{if customer.address.is_empty() {
                            none().into_any()
                        } else {
                            view! { <address>{customer.address.into_iter().map(|line| view! { {line}<br/> }).collect_view()}</address> }.into_any()
                        }}</dd>
                    </div>
                </dl>
            </section>
            <section class="card" aria-labelledby="portal-permissions">
                <h2 id="portal-permissions">"What you can do"</h2>
                <p class="cell-note">{format!("Granted by the customer type {}.", customer.type_name)}</p>
                {if customer.features.is_empty() {
                    view! { <p class="empty">"Your customer type grants no permissions yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="feature-list">
                            {customer.features.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
    }
}
