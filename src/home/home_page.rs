//! The overview page.

use super::{get_overview, Overview, PortalCustomer};
use crate::ui::{format_time, DailyBars, Loaded, PageHeader, Series};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview"/>
        <Loaded resource=overview view=|overview| view! { <OverviewView overview/> }/>
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
            {overview.shows_companies.then(|| view! {
                <div class="stat-card">
                    <span class="stat-label">"Companies"</span>
                    <span class="stat-value">{overview.company_count}</span>
                    <span class="stat-note">"Your company and the distributors and installers under it"</span>
                </div>
            })}
            {overview.shows_staff.then(|| view! {
                <div class="stat-card">
                    <span class="stat-label">"Staff users"</span>
                    <span class="stat-value">{overview.staff_count}</span>
                    <span class="stat-note">"People who sign in to manage your companies"</span>
                </div>
            })}
            {overview.customer_count.map(|customers| view! {
                <a class="stat-card stat-link" href="/customers">
                    <span class="stat-label">"Customers"</span>
                    <span class="stat-value">{customers}</span>
                    <span class="stat-note">"Everyone your companies serve"</span>
                </a>
            })}
            {overview.queued_mail.map(|queued| view! {
                <a class="stat-card stat-link" href="/outbox">
                    <span class="stat-label">"Mail waiting to be sent"</span>
                    <span class="stat-value">{queued}</span>
                    <span class="stat-note">"Open the outbox"</span>
                </a>
            })}
        </section>
        {overview.activity.map(|days| {
            let labels = days.iter().map(|d| d.day.format("%-d %b").to_string()).collect();
            let series = vec![
                Series { name: "New customers", class: "series-b", values: days.iter().map(|d| d.customers_created).collect() },
                Series { name: "Sign-ins", class: "series-c", values: days.iter().map(|d| d.sign_ins).collect() },
                Series { name: "E-mails", class: "series-a", values: days.iter().map(|d| d.emails).collect() },
            ];
            view! {
                <section class="card overview-activity">
                    <DailyBars title="New customers, sign-ins and e-mails, last 30 days" labels series/>
                </section>
            }
        })}
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
