//! The activation page: a customer user opens their link, sees whose account it is and for which
//! customer, chooses a password (SPEC 1.7, checked as they type) and lands in the portal.

use super::{check_activation, Activate, ActivationView};
use crate::{
    services::links::LinkState,
    ui::{action_error, load_page, on_success, AuthLayout, FormAlert, LinkProblem, NewPasswordFields, SubmitButton},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ActivationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let activation = Resource::new(token, check_activation);
    view! {
        <Title text="Activate your account"/>
        <Suspense fallback=|| view! { <p class="loading">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                match activation.await {
                    Ok(view) => render(view, token()),
                    Err(e) => view! { <LinkProblem title="We could not check this link" text=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn render(view: ActivationView, token: String) -> AnyView {
    let ask = match &view.account_name {
        Some(account) => format!("Ask your contact at {account} to send you a new one."),
        None => "Ask the business that added you for a new one.".into(),
    };
    let problem = |title: &'static str, text: String| view! { <LinkProblem title text/> }.into_any();
    match view.state {
        LinkState::Valid => view! { <ActivateForm view token/> }.into_any(),
        LinkState::Expired => problem("This activation link has expired", format!("Activation links work for a limited time. {ask}")),
        LinkState::Used => problem("This account is already active", "Sign in with your e-mail address and the password you chose.".into()),
        LinkState::Revoked => problem("This activation link no longer works", format!("A newer link was sent, or the account was disabled. {ask}")),
        LinkState::Unknown => problem("This activation link is not valid", "Check that you opened the whole link. If it still does not work, ask the business that added you for a new one.".into()),
    }
}

#[component]
fn ActivateForm(view: ActivationView, token: String) -> impl IntoView {
    let action = ServerAction::<Activate>::new();
    on_success(action.value(), |home: &String| load_page(home));
    let value = action.value();
    let email = view.email.clone().unwrap_or_default();
    let subtitle = format!(
        "{} added you as a user of {} on Roster. Choose your password to activate your account.",
        view.account_name.clone().unwrap_or_default(),
        view.customer.clone().unwrap_or_default()
    );
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    let email_signal = Signal::derive({
        let email = email.clone();
        move || email.clone()
    });
    view! {
        <AuthLayout title=format!("Welcome, {}", view.name.clone().unwrap_or_default()) subtitle=subtitle>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="token" value=token/>
                <dl class="facts facts-stacked">
                    <div><dt>"E-mail"</dt><dd>{email}</dd></div>
                    <div><dt>"Customer"</dt><dd>{view.customer.clone().unwrap_or_default()}</dd></div>
                </dl>
                <NewPasswordFields password password_confirm email=email_signal answer=action_error(value) required=true/>
                <SubmitButton label="Activate and sign in" pending=action.pending() pending_label="Activating…" class="btn btn-primary btn-block"/>
            </ActionForm>
        </AuthLayout>
    }
}
