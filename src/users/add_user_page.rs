//! Add user (SPEC 3.3): step one collects the basic information and how the first password is
//! set, step two the role. Both steps are one form; the second shows only roles the caller may
//! assign, and the server checks every field again.

use super::{user_form_options, CreateUser, PasswordSetup, UserChoices, COMPANY, DESCRIPTION, DISPLAY_NAME, EMAIL, PASSWORD_SETUP, PHONE, REGION, ROLE};
use crate::{
    error::AppError,
    ui::{
        action_error, on_success, rule_of, server_field, FormAlert, Loaded, NewPasswordFields, PageHeader, SelectField, SubmitButton,
        TextAreaField, TextField, PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD,
    },
    validation::{confirm_matches, Password, REGIONS},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

const STEP_ONE_FIELDS: [&str; 9] = [
    DISPLAY_NAME.name,
    EMAIL.name,
    PHONE.name,
    REGION.name,
    DESCRIPTION.name,
    COMPANY.name,
    PASSWORD_SETUP,
    PASSWORD_FIELD,
    PASSWORD_CONFIRM_FIELD,
];

#[component]
pub fn AddUserPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| user_form_options());
    view! {
        <Title text="Add user"/>
        <PageHeader title="Add user" description="Create someone's account in one of your companies, then choose their role."/>
        <Loaded resource=options view=|options| view! { <AddUserForm options/> }/>
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
    // Opened from a company's users (`?company=`), that company is chosen; else the first.
    let preset = use_query_map().with_untracked(|q| q.get("company")).filter(|c| options.companies.iter().any(|(id, _)| id.to_string() == *c));
    let company = RwSignal::new(preset.unwrap_or_else(|| options.companies.first().map(|(id, _)| id.to_string()).unwrap_or_default()));
    let setup = RwSignal::new(PasswordSetup::Invite);
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    let role = RwSignal::new(options.roles.last().map(|(id, _)| id.to_string()).unwrap_or_default());

    let rules = (
        rule_of(&DISPLAY_NAME, display_name),
        rule_of(&EMAIL, email),
        rule_of(&PHONE, phone),
        rule_of(&DESCRIPTION, description),
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
                <input type="radio" name=PASSWORD_SETUP value=choice.as_str()
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
                    <TextField label="Username" name=DISPLAY_NAME.name autocomplete="off" value=display_name rule=rules.0 reveal=tried_next
                        hint="The name colleagues see." server_error=server_field(value, DISPLAY_NAME.name) required=true/>
                    <TextField label="E-mail" name=EMAIL.name input_type="email" autocomplete="off" value=email rule=rules.1 reveal=tried_next
                        hint="Their sign-in name." server_error=server_field(value, EMAIL.name) required=true/>
                    <div class="field-grid">
                        <TextField label="Mobile phone" name=PHONE.name input_type="tel" value=phone rule=rules.2 reveal=tried_next
                            hint="Optional, international form." server_error=server_field(value, PHONE.name)/>
                        <SelectField label="Region" name=REGION.name value=region options=regions server_error=server_field(value, REGION.name)/>
                    </div>
                    <SelectField label="Parent company" name=COMPANY.name value=company options=companies
                        server_error=server_field(value, COMPANY.name)/>
                    <fieldset class="choices">
                        <legend>"Password setup"</legend>
                        {setup_choice(PasswordSetup::Invite, "Send an invitation", "They get a link and choose their own password.")}
                        {setup_choice(PasswordSetup::Generate, "Auto-generate a password", "A temporary password is e-mailed; it works for 24 hours and must be changed at first sign-in.")}
                        {setup_choice(PasswordSetup::Custom, "Set a password", "You type it; they must change it at first sign-in.")}
                        {move || server_field(value, PASSWORD_SETUP).get().map(|m| view! { <p class="field-error">{m}</p> })}
                    </fieldset>
                    <div hidden=move || setup.get() != PasswordSetup::Custom>
                        <NewPasswordFields password password_confirm email=Signal::derive(move || email.get())
                            answer=action_error(value) reveal=tried_next/>
                    </div>
                    <TextAreaField label="Description" name=DESCRIPTION.name value=description rule=rules.3 reveal=tried_next
                        hint="Optional." server_error=server_field(value, DESCRIPTION.name)/>
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
                                    <input type="radio" name=ROLE.name value=id checked=checked on:change=move |_| role.set(pick.clone())/>
                                    <span><strong>{name}</strong></span>
                                </label>
                            }
                        }).collect_view()}
                        {move || server_field(value, ROLE.name).get().map(|m| view! { <p class="field-error">{m}</p> })}
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
