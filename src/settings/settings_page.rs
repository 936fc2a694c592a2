//! The account settings page (Administrators and holders of Account settings).

use super::{get_account_settings, AccountSettings, UpdateAccountSettings, INVITATION_VALID_DAYS, NAME, SESSION_ABSOLUTE_HOURS, SESSION_IDLE_MINUTES};
use crate::{
    auth::use_auth,
    ui::{action_error, action_succeeded, on_success, rule_of, server_field, FormAlert, Loaded, PageHeader, SubmitButton, TextField},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_account_settings());
    view! {
        <Title text="Account settings"/>
        <PageHeader title="Account settings" description="Settings that apply to everyone in this account."/>
        <Loaded resource=settings view=|settings| view! { <SettingsForm settings/> }/>
    }
}

#[component]
fn SettingsForm(settings: AccountSettings) -> impl IntoView {
    let auth = use_auth();
    let save = ServerAction::<UpdateAccountSettings>::new();
    let value = save.value();
    let version = RwSignal::new(settings.version);
    // The form stays as typed; the next save needs the new version, and the top bar the name.
    on_success(value, move |new_version: &i32| {
        version.set(*new_version);
        auth.refresh();
    });
    let query = use_query_map();
    let succeeded = action_succeeded(value);
    let saved = Signal::derive(move || {
        succeeded.get() || (query.with(|q| q.get("saved").is_some()) && value.with(Option::is_none))
    });
    let name = RwSignal::new(settings.name.clone());
    let days = RwSignal::new(settings.invitation_valid_days.to_string());
    let idle = RwSignal::new(settings.session_idle_minutes.map(|n| n.to_string()).unwrap_or_default());
    let absolute = RwSignal::new(settings.session_absolute_hours.map(|n| n.to_string()).unwrap_or_default());
    view! {
        <section class="card form-card">
            <div role="status">
                <Show when=move || saved.get()>
                    <div class="alert alert-success">"The settings have been saved."</div>
                </Show>
            </div>
            <FormAlert error=action_error(value)/>
            <ActionForm action=save attr:class="form" attr:novalidate=true>
                <input type="hidden" name="version" prop:value=move || version.get().to_string() value=settings.version/>
                <TextField label="Account name" name=NAME.name value=name rule=rule_of(&NAME, name)
                    server_error=server_field(value, NAME.name) required=true/>
                <TextField label="Invitation links stay valid for (days)" name=INVITATION_VALID_DAYS.name input_type="number" value=days
                    rule=rule_of(&INVITATION_VALID_DAYS, days)
                    hint="From 1 to 30 days. Links already sent keep the validity they were sent with."
                    server_error=server_field(value, INVITATION_VALID_DAYS.name) required=true/>
                <div class="field-grid">
                    <TextField label="Sign out after inactivity (minutes)" name=SESSION_IDLE_MINUTES.name input_type="number" value=idle
                        rule=rule_of(&SESSION_IDLE_MINUTES, idle)
                        hint=format!("Empty: the server's default, {} minutes.", settings.default_idle_minutes)
                        server_error=server_field(value, SESSION_IDLE_MINUTES.name)/>
                    <TextField label="Sign out after (hours), active or not" name=SESSION_ABSOLUTE_HOURS.name input_type="number" value=absolute
                        rule=rule_of(&SESSION_ABSOLUTE_HOURS, absolute)
                        hint=format!("Empty: the server's default, {} hours.", settings.default_absolute_hours)
                        server_error=server_field(value, SESSION_ABSOLUTE_HOURS.name)/>
                </div>
                <div class="form-actions">
                    <SubmitButton label="Save settings" pending=save.pending() pending_label="Saving…"/>
                </div>
            </ActionForm>
        </section>
    }
}
