//! The signed-in user's own pages: profile (name, phone, region, language) and password.

use super::{get_profile, use_auth, ChangePassword, Profile, UpdateProfile, CURRENT_PASSWORD, DISPLAY_NAME, LANGUAGE, PHONE, REGION};
use crate::{
    ui::{
        action_error, action_succeeded, load_page, on_success, rule_of, server_field, FormAlert, Loaded, NewPasswordFields,
        PageHeader, SelectField, SubmitButton, TextField,
    },
    validation::{LANGUAGES, REGIONS},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let profile = Resource::new(|| (), |_| get_profile());
    view! {
        <Title text="Your profile"/>
        <PageHeader title="Your profile" description="How you appear to your colleagues, and how to reach you."/>
        <Loaded resource=profile loading="Loading your profile…" view=|profile| view! { <ProfileForm profile/> }/>
    }
}

#[component]
fn ProfileForm(profile: Profile) -> impl IntoView {
    let auth = use_auth();
    let action = ServerAction::<UpdateProfile>::new();
    let value = action.value();
    // The top bar shows the name: reload the session after a save.
    on_success(value, move |_: &()| auth.refresh());
    let query = use_query_map();
    let succeeded = action_succeeded(value);
    let saved = move || {
        succeeded.get() || (query.with(|q| q.get("saved").is_some()) && value.with(Option::is_none))
    };
    let display_name = RwSignal::new(profile.display_name);
    let phone = RwSignal::new(profile.phone.unwrap_or_default());
    let region = RwSignal::new(profile.region.unwrap_or_default());
    let language = RwSignal::new(profile.language);
    let regions = std::iter::once((String::new(), "Not set".to_owned()))
        .chain(REGIONS.iter().map(|r| (r.to_string(), r.to_string())))
        .collect();
    let languages = LANGUAGES.iter().map(|(code, name)| (code.to_string(), name.to_string())).collect();
    view! {
        <section class="card form-card">
            <div role="status">
                <Show when=saved>
                    <div class="alert alert-success">"Your profile has been saved."</div>
                </Show>
            </div>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <div class="field">
                    <span class="field-label" id="email-label">"E-mail"</span>
                    <p class="field-static" aria-labelledby="email-label">{profile.email}</p>
                    <p class="field-hint">"Your sign-in name. An administrator can change it."</p>
                </div>
                <TextField label="Name" name=DISPLAY_NAME.name autocomplete="name" value=display_name
                    rule=rule_of(&DISPLAY_NAME, display_name) server_error=server_field(value, DISPLAY_NAME.name) required=true/>
                <TextField label="Mobile phone" name=PHONE.name input_type="tel" autocomplete="tel" value=phone
                    rule=rule_of(&PHONE, phone) server_error=server_field(value, PHONE.name)
                    hint="Optional. International form, like +44 20 7946 0958."/>
                <div class="field-grid">
                    <SelectField label="Region" name=REGION.name value=region options=regions server_error=server_field(value, REGION.name)/>
                    <SelectField label="Language" name=LANGUAGE.name value=language options=languages server_error=server_field(value, LANGUAGE.name)/>
                </div>
                <div class="form-actions">
                    <SubmitButton label="Save profile" pending=action.pending() pending_label="Saving…"/>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="Change password"/>
        <PageHeader title="Change password" description="A new password signs you out on every other device."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.session.await {
                    Ok(Some(session)) => view! {
                        <ChangePasswordForm email=session.email must_change=session.must_change_password/>
                    }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChangePasswordForm(email: String, must_change: bool) -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let value = action.value();
    // Replacing a temporary password unlocks the whole application: start it afresh.
    on_success(value, |next: &String| {
        if next == "/" {
            load_page(next);
        }
    });
    let query = use_query_map();
    let succeeded = action_succeeded(value);
    let changed = move || {
        succeeded.get() || (query.with(|q| q.get("changed").is_some()) && value.with(Option::is_none))
    };
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    let email = Signal::derive(move || email.clone());
    view! {
        <section class="card form-card">
            {must_change.then(|| view! {
                <div class="alert alert-warning">
                    "You signed in with a temporary password. Choose your own password to continue."
                </div>
            })}
            <div role="status">
                <Show when=changed>
                    <div class="alert alert-success">"Your password has been changed. Your other sessions have been signed out."</div>
                </Show>
            </div>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <TextField label="Current password" name=CURRENT_PASSWORD input_type="password" autocomplete="current-password"
                    value=current server_error=server_field(value, CURRENT_PASSWORD) required=true/>
                <NewPasswordFields password password_confirm email=email answer=action_error(value) new=true required=true/>
                <div class="form-actions">
                    <SubmitButton label="Change password" pending=action.pending() pending_label="Changing…"/>
                </div>
            </ActionForm>
        </section>
    }
}
