//! Setting up a business account and creating a personal account, each confirmed from an
//! e-mailed link, and the confirmation page that link opens.

use super::{check_confirmation, ConfirmEmail, ConfirmationSent, Register, SignUp, ACCOUNT_NAME, CONFIRMATION_LINK_HOURS, DISPLAY_NAME, EMAIL};
use crate::{
    services::links::LinkState,
    ui::{
        action_error, load_page, on_success, rule_of, server_field, AuthLayout, FormAlert, LinkProblem, NewPasswordFields,
        SubmitButton, TextField,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The answer to a sign-up or registration, the same for every address: check your inbox.
#[component]
fn ConfirmationSentNotice(#[prop(into)] sent: Signal<Option<ConfirmationSent>>) -> impl IntoView {
    view! {
        <div class="alert alert-success" role="status">
            {move || match sent.get() {
                Some(sent) => format!(
                    "Check your inbox: if {} can be used, we sent it a link to confirm the address. It works for {CONFIRMATION_LINK_HOURS} hours.",
                    sent.email
                ),
                None => format!("Check your inbox: we sent a link to confirm the address. It works for {CONFIRMATION_LINK_HOURS} hours."),
            }}
        </div>
        {move || sent.get().and_then(|s| s.dev_link).map(|link| view! {
            <div class="alert alert-info">
                <strong>"Development mail. "</strong>
                "No SMTP server is configured, so nothing is sent: "
                <a href=link>"open the confirmation link"</a>
            </div>
        })}
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = action.value();
    let query = use_query_map();
    let sent_by_form = move || query.with(|q| q.get("sent").is_some());
    let result = Signal::derive(move || value.get().and_then(|r| r.ok()));
    let sent = move || sent_by_form() || result.get().is_some();
    let account_name = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    view! {
        <Title text="Create your account"/>
        <AuthLayout title="Create your account" subtitle="Set up Roster for your business. You will be its first Administrator.">
            <Show when=sent fallback=move || view! {
                <FormAlert error=action_error(value)/>
                <ActionForm action=action attr:class="form" attr:novalidate=true>
                    <TextField label="Business name" name=ACCOUNT_NAME.name autocomplete="organization" value=account_name
                        rule=rule_of(&ACCOUNT_NAME, account_name) server_error=server_field(value, ACCOUNT_NAME.name)
                        required=true autofocus=true/>
                    <TextField label="Your name" name=DISPLAY_NAME.name autocomplete="name" value=display_name
                        rule=rule_of(&DISPLAY_NAME, display_name) server_error=server_field(value, DISPLAY_NAME.name) required=true/>
                    <TextField label="Work e-mail" name=EMAIL.name input_type="email" autocomplete="email" value=email
                        rule=rule_of(&EMAIL, email) server_error=server_field(value, EMAIL.name)
                        hint="You will sign in with this address. We send it a link to confirm it is yours." required=true/>
                    <NewPasswordFields password password_confirm email=email answer=action_error(value) required=true/>
                    <SubmitButton label="Create account" pending=action.pending() pending_label="Creating your account…" class="btn btn-primary btn-block"/>
                </ActionForm>
            }>
                <ConfirmationSentNotice sent=result/>
            </Show>
            <p class="auth-switch">"Already have an account? " <a href="/sign-in">"Sign in"</a></p>
        </AuthLayout>
    }
}

/// SPEC 1.5: a person creates a personal account, confirmed by e-mail.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let value = action.value();
    let query = use_query_map();
    let result = Signal::derive(move || value.get().and_then(|r| r.ok()));
    let sent = move || query.with(|q| q.get("sent").is_some()) || result.get().is_some();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    view! {
        <Title text="Create a personal account"/>
        <AuthLayout title="Create a personal account"
            subtitle="For customers of businesses that use Roster. Once you have an account, a business you work with can add you as its customer.">
            <Show when=sent fallback=move || view! {
                <FormAlert error=action_error(value)/>
                <ActionForm action=action attr:class="form" attr:novalidate=true>
                    <TextField label="Your name" name=DISPLAY_NAME.name autocomplete="name" value=name
                        rule=rule_of(&DISPLAY_NAME, name) server_error=server_field(value, DISPLAY_NAME.name) required=true autofocus=true/>
                    <TextField label="E-mail" name=EMAIL.name input_type="email" autocomplete="email" value=email
                        rule=rule_of(&EMAIL, email) server_error=server_field(value, EMAIL.name) required=true/>
                    <NewPasswordFields password password_confirm email=email answer=action_error(value) required=true/>
                    <SubmitButton label="Create personal account" pending=action.pending() pending_label="Creating…" class="btn btn-primary btn-block"/>
                </ActionForm>
            }>
                <ConfirmationSentNotice sent=result/>
            </Show>
            <p class="auth-switch">"Already registered? " <a href="/sign-in">"Sign in"</a></p>
        </AuthLayout>
    }
}

/// The page a sign-up or registration link opens: it says what the link creates, or why it no
/// longer works, and a button (not the visit itself) confirms.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let link = Resource::new(token, check_confirmation);
    view! {
        <Title text="Confirm your e-mail address"/>
        <Suspense fallback=|| view! { <p class="loading">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                let again = Some(("Sign up again", "/sign-up"));
                let problem = move |title: &'static str, text: String| view! { <LinkProblem title text action=again/> }.into_any();
                match link.await {
                    Ok(view) if view.state == LinkState::Valid => view! { <ConfirmForm token=token() account_name=view.account_name/> }.into_any(),
                    Ok(view) if view.state == LinkState::Expired => problem(
                        "This link has expired",
                        format!("Confirmation links work for {CONFIRMATION_LINK_HOURS} hours. Sign up again to get a new one."),
                    ),
                    Ok(view) if matches!(view.state, LinkState::Used | LinkState::Revoked) => problem(
                        "This link has already been used",
                        "The address is confirmed. Sign in with it, or reset your password if you forgot it.".into(),
                    ),
                    Ok(_) => problem("This link is not valid", "Check that you opened the whole link from the e-mail, or sign up again.".into()),
                    Err(e) => problem("We could not check this link", e.to_string()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConfirmForm(token: String, account_name: Option<String>) -> impl IntoView {
    let action = ServerAction::<ConfirmEmail>::new();
    on_success(action.value(), |home: &String| load_page(home));
    let subtitle = match &account_name {
        Some(name) => format!("One click creates {name} on Roster, with you as its first Administrator."),
        None => "One click and your personal account is ready.".to_owned(),
    };
    view! {
        <AuthLayout title="Confirm your e-mail address" subtitle=subtitle>
            <FormAlert error=action_error(action.value())/>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="token" value=token/>
                <SubmitButton label="Confirm my e-mail address" pending=action.pending() pending_label="Confirming…" class="btn btn-primary btn-block"/>
            </ActionForm>
            <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
        </AuthLayout>
    }
}
