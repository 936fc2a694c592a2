//! Add user (SPEC 3.3): step one collects the basic information and how the first password is
//! set, step two the role. Both steps are one form; the second shows only roles the caller may
//! assign, and the server checks every field again.

use super::{user_form_options, CreateUser, PasswordSetup, UserChoices};
use crate::{
    auth::PasswordChecklist,
    error::AppError,
    ui::{action_error, on_success, server_field, FormAlert, PageHeader, SelectField, SubmitButton, TextAreaField, TextField},
    validation::{
        confirm_matches, optional_long_text, optional_phone, required_text, Email, Password, DESCRIPTION_MAX_CHARS,
        NAME_MAX_CHARS, REGIONS,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

const STEP_ONE_FIELDS: [&str; 9] =
    ["display_name", "email", "phone", "region", "description", "company_id", "password_setup", "password", "password_confirm"];

#[component]
pub fn AddUserPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| user_form_options());
    view! {
        <Title text="Add user"/>
        <PageHeader title="Add user" description="Create someone's account in one of your companies, then choose their role."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! { <AddUserForm options/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AddUserForm(options: UserChoices) -> impl IntoView {
    let action = ServerAction::<CreateUser>::new();
    let value = action.value();
    let navigate = use_navigate();
    on_success(value, move |id: &i64| navigate(&format!("/users/{id}?created=1"), Default::default()));
    let step = RwSignal::new(1);
    // A server error about a first-step field brings the user back to that step.
    Effect::new(move |_| {
        value.with(|v| {
            if let Some(Err(AppError::Validation(errors))) = v {
                if errors.0.iter().any(|e| STEP_ONE_FIELDS.contains(&e.field.as_str())) {
                    step.set(1);
                }
            }
        })
    });

    let display_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let company = RwSignal::new(options.companies.first().map(|(id, _)| id.to_string()).unwrap_or_default());
    let setup = RwSignal::new(PasswordSetup::Invite);
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    let role = RwSignal::new(options.roles.last().map(|(id, _)| id.to_string()).unwrap_or_default());

    let rules = (
        Signal::derive(move || required_text(&display_name.get(), "a username", NAME_MAX_CHARS).err()),
        Signal::derive(move || Email::parse(&email.get()).err()),
        Signal::derive(move || optional_phone(&phone.get()).err()),
        Signal::derive(move || optional_long_text(&description.get(), DESCRIPTION_MAX_CHARS).err()),
        Signal::derive(move || {
            (setup.get() == PasswordSetup::Custom).then(|| Password::parse(&password.get(), Some(&email.get())).err()).flatten()
        }),
        Signal::derive(move || {
            (setup.get() == PasswordSetup::Custom).then(|| confirm_matches(&password.get(), &password_confirm.get()).err()).flatten()
        }),
    );
    let step_one_problem = move || {
        let (name, mail, tel, desc, pw, confirm) = rules;
        [name.get(), mail.get(), tel.get(), desc.get(), pw.get(), confirm.get()].into_iter().flatten().next()
    };
    let tried_next = RwSignal::new(false);
    let next = move |_| {
        tried_next.set(true);
        if step_one_problem().is_none() {
            step.set(2);
        }
    };
    let regions: Vec<(String, String)> = std::iter::once((String::new(), "Not set".to_owned()))
        .chain(REGIONS.iter().map(|r| (r.to_string(), r.to_string())))
        .collect();
    let companies: Vec<(String, String)> = options.companies.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let role_choices = options.roles.clone();
    let setup_choice = move |choice: PasswordSetup, label: &'static str, hint: &'static str| {
        view! {
            <label class="choice">
                <input type="radio" name="password_setup" value=choice.as_str()
                    checked=move || setup.get() == choice
                    on:change=move |_| setup.set(choice)/>
                <span>
                    <strong>{label}</strong>
                    <span class="choice-hint">{hint}</span>
                </span>
            </label>
        }
    };
    view! {
        <section class="card form-card">
            <ol class="steps" aria-label="Steps">
                <li aria-current=move || (step.get() == 1).then_some("step")>"1. Basic information"</li>
                <li aria-current=move || (step.get() == 2).then_some("step")>"2. Assign role"</li>
            </ol>
            <FormAlert error=action_error(value)/>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <fieldset class="step" hidden=move || step.get() != 1>
                    <legend class="step-title">"Basic information"</legend>
                    <Show when=move || tried_next.get() && step_one_problem().is_some()>
                        <div class="alert alert-error" role="alert">"Please correct the highlighted fields."</div>
                    </Show>
                    <TextField label="Username" name="display_name" autocomplete="off" value=display_name rule=rules.0 reveal=tried_next
                        hint="The name colleagues see." server_error=server_field(value, "display_name") required=true/>
                    <TextField label="E-mail" name="email" input_type="email" autocomplete="off" value=email rule=rules.1 reveal=tried_next
                        hint="Their sign-in name." server_error=server_field(value, "email") required=true/>
                    <div class="field-grid">
                        <TextField label="Mobile phone" name="phone" input_type="tel" value=phone rule=rules.2 reveal=tried_next
                            hint="Optional, international form." server_error=server_field(value, "phone")/>
                        <SelectField label="Region" name="region" value=region options=regions server_error=server_field(value, "region")/>
                    </div>
                    <SelectField label="Parent company" name="company_id" value=company options=companies
                        server_error=server_field(value, "company_id")/>
                    <fieldset class="choices">
                        <legend>"Password setup"</legend>
                        {setup_choice(PasswordSetup::Invite, "Send an invitation", "They get a link and choose their own password.")}
                        {setup_choice(PasswordSetup::Generate, "Auto-generate a password", "A temporary password is e-mailed; it works for 24 hours and must be changed at first sign-in.")}
                        {setup_choice(PasswordSetup::Custom, "Set a password", "You type it; they must change it at first sign-in.")}
                        {move || server_field(value, "password_setup").get().map(|m| view! { <p class="field-error">{m}</p> })}
                    </fieldset>
                    <div hidden=move || setup.get() != PasswordSetup::Custom>
                        <TextField label="Password" name="password" input_type="password" autocomplete="new-password" value=password
                            rule=rules.4 reveal=tried_next server_error=server_field(value, "password")/>
                        <PasswordChecklist password=password email=Signal::derive(move || email.get())/>
                        <TextField label="Repeat password" name="password_confirm" input_type="password" autocomplete="new-password"
                            value=password_confirm rule=rules.5 reveal=tried_next server_error=server_field(value, "password_confirm")/>
                    </div>
                    <TextAreaField label="Description" name="description" value=description rule=rules.3 reveal=tried_next
                        hint="Optional." server_error=server_field(value, "description")/>
                    <div class="form-actions">
                        <a class="btn btn-secondary" href="/users">"Cancel"</a>
                        <button type="button" class="btn btn-primary" on:click=next>"Next: assign role"</button>
                    </div>
                </fieldset>
                <fieldset class="step" hidden=move || step.get() != 2>
                    <legend class="step-title">"Assign role"</legend>
                    <p class="field-hint">"You can give roles at your own rank or below."</p>
                    <div class="choices">
                        {role_choices.into_iter().map(|(id, name)| {
                            let id = id.to_string();
                            let checked = {
                                let id = id.clone();
                                move || role.get() == id
                            };
                            let pick = id.clone();
                            view! {
                                <label class="choice">
                                    <input type="radio" name="role_id" value=id checked=checked on:change=move |_| role.set(pick.clone())/>
                                    <span><strong>{name}</strong></span>
                                </label>
                            }
                        }).collect_view()}
                        {move || server_field(value, "role_id").get().map(|m| view! { <p class="field-error">{m}</p> })}
                    </div>
                    <div class="form-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| step.set(1)>"Back"</button>
                        <SubmitButton label="Create user" pending=action.pending() pending_label="Creating…"/>
                    </div>
                </fieldset>
            </ActionForm>
        </section>
    }
}
