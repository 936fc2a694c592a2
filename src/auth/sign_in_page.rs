//! The sign-in page: a plain form posting to its server function, so it works before the
//! WebAssembly has loaded; once it has, the same form validates as the user types.

use super::{SignIn, EMAIL};
use crate::ui::{action_error, load_page, on_success, rule_of, server_field, AuthLayout, FormAlert, SubmitButton, TextField, PASSWORD_FIELD};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    on_success(action.value(), |next: &String| load_page(next));
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next"));
    let reset_done = move || query.with(|q| q.get("reset").as_deref() == Some("done"));
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let value = action.value();
    view! {
        <Title text="Sign in"/>
        <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to manage your customers and team.">
            <Show when=reset_done>
                <div class="alert alert-success" role="status">
                    "Your password has been changed. Sign in with your new password."
                </div>
            </Show>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next/>
                <TextField label="E-mail" name=EMAIL.name input_type="email" autocomplete="email" value=email
                    rule=rule_of(&EMAIL, email) server_error=server_field(value, EMAIL.name) required=true autofocus=true/>
                <TextField label="Password" name=PASSWORD_FIELD input_type="password" autocomplete="current-password"
                    value=password server_error=server_field(value, PASSWORD_FIELD) required=true/>
                <div class="form-row-end">
                    <a href="/forgot-password">"Forgot your password?"</a>
                </div>
                <SubmitButton label="Sign in" pending=action.pending() pending_label="Signing in…" class="btn btn-primary btn-block"/>
            </ActionForm>
            <p class="auth-switch">"New to Roster? " <a href="/sign-up">"Set up your business"</a></p>
            <p class="auth-switch auth-switch-tight">"A customer of a business on Roster? " <a href="/register">"Create a personal account"</a></p>
        </AuthLayout>
    }
}
