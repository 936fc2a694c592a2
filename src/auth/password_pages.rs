//! Forgot password (the address to send a link to) and the reset page the link opens.

use super::{check_reset_link, RequestPasswordReset, ResetPassword, EMAIL, RESET_LINK_MINUTES};
use crate::{
    services::links::LinkState,
    ui::{action_error, on_success, rule_of, server_field, AuthLayout, FormAlert, LinkProblem, NewPasswordFields, SubmitButton, TextField},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let value = action.value();
    let query = use_query_map();
    let sent = move || query.with(|q| q.get("sent").is_some()) || matches!(value.get(), Some(Ok(())));
    let email = RwSignal::new(String::new());
    view! {
        <Title text="Reset your password"/>
        <AuthLayout title="Reset your password" subtitle="Enter the e-mail you sign in with and we will send you a link to choose a new password.">
            <div role="status">
                <Show when=sent>
                    <div class="alert alert-success">
                        {format!(
                            "If an account uses this address, a reset link is on its way. It works once, for {RESET_LINK_MINUTES} minutes."
                        )}
                    </div>
                </Show>
            </div>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <TextField label="E-mail" name=EMAIL.name input_type="email" autocomplete="email" value=email
                    rule=rule_of(&EMAIL, email) server_error=server_field(value, EMAIL.name) required=true autofocus=true/>
                <SubmitButton label="Send reset link" pending=action.pending() pending_label="Sending…" class="btn btn-primary btn-block"/>
            </ActionForm>
            <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
        </AuthLayout>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let state = Resource::new(token, check_reset_link);
    let ask = Some(("Ask for a new link", "/forgot-password"));
    view! {
        <Title text="Choose a new password"/>
        <Suspense fallback=|| view! { <p class="loading">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(LinkState::Valid) => view! { <ResetPasswordForm token=token()/> }.into_any(),
                    Ok(LinkState::Expired) => view! {
                        <LinkProblem title="This link has expired" action=ask
                            text=format!("Reset links work for {RESET_LINK_MINUTES} minutes. Ask for a new one and use it within the hour.")/>
                    }.into_any(),
                    Ok(LinkState::Used | LinkState::Revoked) => view! {
                        <LinkProblem title="This link has already been used" action=ask
                            text="Each reset link works once. If you still need to change your password, ask for a new link."/>
                    }.into_any(),
                    Ok(LinkState::Unknown) => view! {
                        <LinkProblem title="This link is not valid" action=ask
                            text="Check that you opened the whole link from the e-mail, or ask for a new one."/>
                    }.into_any(),
                    Err(e) => view! { <LinkProblem title="We could not check this link" action=ask text=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ResetPasswordForm(token: String) -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let navigate = use_navigate();
    on_success(action.value(), move |_: &()| navigate("/sign-in?reset=done", Default::default()));
    let value = action.value();
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    view! {
        <AuthLayout title="Choose a new password" subtitle="Your new password replaces the old one and signs you out everywhere.">
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="token" value=token/>
                <NewPasswordFields password password_confirm email=Signal::derive(String::new) answer=action_error(value)
                    new=true required=true autofocus=true/>
                <SubmitButton label="Save new password" pending=action.pending() pending_label="Saving…" class="btn btn-primary btn-block"/>
            </ActionForm>
        </AuthLayout>
    }
}
