//! The Billing page (roles with Billing – View): the plan, the usage of each limit as a bar, a
//! 30-day chart; with Billing – Manage, the billing contact and the usage warnings.

use super::{get_billing, Billing, UpdateBilling, CHART_DAYS, CONTACT_EMAIL};
use crate::ui::{
    action_error, action_succeeded, on_success, rule_of, server_field, DailyBars, FormAlert, Loaded, PageHeader, Series,
    SubmitButton, TextField, UsageBar,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BillingPage() -> impl IntoView {
    let billing = Resource::new(|| (), |_| get_billing());
    view! {
        <Title text="Billing"/>
        <PageHeader title="Billing" description="Your plan, what of it is used, and who hears about it."/>
        <Loaded resource=billing view=|billing| view! { <BillingView billing/> }/>
    }
}

#[component]
fn BillingView(billing: Billing) -> impl IntoView {
    let bars: Vec<_> = billing
        .usage
        .iter()
        .map(|u| view! { <UsageBar label=u.limit.label().to_owned() summary=u.summary() percent=u.percent()/> })
        .collect();
    let labels = billing.days.iter().map(|d| d.day.format("%-d %b").to_string()).collect();
    let series = vec![
        Series { name: "E-mails", class: "series-a", values: billing.days.iter().map(|d| d.emails).collect() },
        Series { name: "New customers", class: "series-b", values: billing.days.iter().map(|d| d.customers_created).collect() },
    ];
    let title = if CHART_DAYS == 30 { "E-mails and new customers, last 30 days" } else { "E-mails and new customers" };
    view! {
        <section class="card" aria-labelledby="plan-heading">
            <h2 id="plan-heading" class="card-title">"Plan: "{billing.plan_name.clone()}</h2>
            <p class="muted">"Limits are set by the operator of this Roster installation. E-mails count per calendar month (UTC)."</p>
            <div class="usage-grid">{bars}</div>
        </section>
        <section class="card">
            <DailyBars title labels series/>
        </section>
        <ContactForm billing/>
    }
}

#[component]
fn ContactForm(billing: Billing) -> impl IntoView {
    let save = ServerAction::<UpdateBilling>::new();
    let value = save.value();
    let version = RwSignal::new(billing.version);
    on_success(value, move |new_version: &i32| version.set(*new_version));
    let query = use_query_map();
    let succeeded = action_succeeded(value);
    let saved = Signal::derive(move || succeeded.get() || (query.with(|q| q.get("saved").is_some()) && value.with(Option::is_none)));
    let contact = RwSignal::new(billing.contact_email.clone().unwrap_or_default());
    let can_manage = billing.can_manage;
    view! {
        <section class="card form-card" aria-labelledby="contact-heading">
            <h2 id="contact-heading" class="card-title">"Billing contact"</h2>
            <div role="status">
                <Show when=move || saved.get()>
                    <div class="alert alert-success">"The billing contact has been saved."</div>
                </Show>
            </div>
            <Show when=move || can_manage fallback=move || {
                let contact = billing.contact_email.clone().unwrap_or_else(|| "Nobody yet".into());
                let warnings = if billing.usage_warnings { "on" } else { "off" };
                view! {
                    <p>"Contact: "{contact}</p>
                    <p>"Usage warnings at 80% and 100% of a limit: "{warnings}</p>
                }
            }>
                <FormAlert error=action_error(value)/>
                <ActionForm action=save attr:class="form" attr:novalidate=true>
                    <input type="hidden" name="version" prop:value=move || version.get().to_string() value=billing.version/>
                    <TextField label="Billing contact e-mail" name=CONTACT_EMAIL.name input_type="email" value=contact
                        rule=rule_of(&CONTACT_EMAIL, contact) autocomplete="email"
                        hint="Usage warnings go to this address. Empty: nobody is told."
                        server_error=server_field(value, CONTACT_EMAIL.name)/>
                    <label class="checkbox">
                        <input type="checkbox" name="usage_warnings" value="on" checked=billing.usage_warnings/>
                        " E-mail the contact when a limit is 80% and 100% used"
                    </label>
                    <div class="form-actions">
                        <SubmitButton label="Save billing contact" pending=save.pending() pending_label="Saving…"/>
                    </div>
                </ActionForm>
            </Show>
        </section>
    }
}
