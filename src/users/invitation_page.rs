//! The page an invitation link opens: name and password, then signed in; or why the link no
//! longer works and whom to ask for a new one.

use super::{check_invitation, AcceptInvitation, InvitationView, INVITED_NAME};
use crate::{
    services::links::LinkState,
    ui::{action_error, load_page, on_success, rule_of, server_field, AuthLayout, FormAlert, LinkProblem, NewPasswordFields, SubmitButton, TextField},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let invitation = Resource::new(token, check_invitation);
    view! {
        <Title text="Accept your invitation"/>
        <Suspense fallback=|| view! { <p class="loading">"Checking your invitation…"</p> }>
            {move || Suspend::new(async move {
                match invitation.await {
                    Ok(view) => render_invitation(view, token()),
                    Err(e) => view! { <LinkProblem title="We could not check this invitation" text=e.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn render_invitation(view: InvitationView, token: String) -> AnyView {
    let ask = view
        .inviter
        .clone()
        .map(|who| format!("Ask {who} to send you a new one."))
        .unwrap_or_else(|| "Ask an administrator of the account to send you a new one.".into());
    match view.state {
        LinkState::Valid => view! { <AcceptForm view token/> }.into_any(),
        LinkState::Expired => {
            view! { <LinkProblem title="This invitation has expired" text=format!("Invitations work for a limited time. {ask}")/> }.into_any()
        }
        LinkState::Used => view! {
            <LinkProblem title="This invitation has already been accepted" text="Sign in with the e-mail address and password you chose."/>
        }
        .into_any(),
        LinkState::Revoked => view! { <LinkProblem title="This invitation was withdrawn" text=format!("It no longer works. {ask}")/> }.into_any(),
        LinkState::Unknown => view! {
            <LinkProblem title="This invitation link is not valid"
                text="Check that you opened the whole link from the e-mail. If it still does not work, ask the person who invited you for a new one."/>
        }
        .into_any(),
    }
}

#[component]
fn AcceptForm(view: InvitationView, token: String) -> impl IntoView {
    let action = ServerAction::<AcceptInvitation>::new();
    on_success(action.value(), |home: &String| load_page(home));
    let value = action.value();
    let email = view.email.clone().unwrap_or_default();
    let subtitle = format!(
        "{} invited you to {} on Roster. Choose the name your colleagues will see and your password.",
        view.inviter.clone().unwrap_or_else(|| "An administrator".into()),
        view.account_name.clone().unwrap_or_default()
    );
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    let email_signal = Signal::derive({
        let email = email.clone();
        move || email.clone()
    });
    view! {
        <AuthLayout title="Join your team" subtitle=subtitle>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="token" value=token/>
                <div class="field">
                    <span class="field-label" id="invited-email-label">"E-mail"</span>
                    <p class="field-static" aria-labelledby="invited-email-label">{email}</p>
                </div>
                <TextField label="Your name" name=INVITED_NAME.name autocomplete="name" value=name rule=rule_of(&INVITED_NAME, name)
                    server_error=server_field(value, INVITED_NAME.name) required=true/>
                <NewPasswordFields password password_confirm email=email_signal answer=action_error(value) required=true/>
                <SubmitButton label="Accept and sign in" pending=action.pending() pending_label="Joining…" class="btn btn-primary btn-block"/>
            </ActionForm>
        </AuthLayout>
    }
}
