//! The activation page: a customer user opens their link, sees whose account it is and for which
//! customer, chooses a password (SPEC 1.7, checked as they type) and lands in the portal.

use crate::{
    auth::{LinkState, PasswordChecklist},
    error::AppError,
    ui::{action_error, load_page, on_success, server_field, AuthLayout, FormAlert, SubmitButton, TextField},
    validation::{confirm_matches, Password},
};
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationView {
    pub state: LinkState,
    pub email: Option<String>,
    pub name: Option<String>,
    pub customer: Option<String>,
    pub account_name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[server(prefix = "/api", endpoint = "activation")]
pub async fn check_activation(token: String) -> Result<ActivationView, AppError> {
    use crate::server::{state::app_state, tokens};
    let state = app_state()?;
    let row = sqlx::query!(
        r#"SELECT t.expires_at, t.used_at, t.revoked_at, u.email, u.display_name, u.status,
                  c.title AS customer, a.name AS account_name
             FROM one_time_tokens t
             JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
             JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
             JOIN accounts a ON a.id = t.account_id
            WHERE t.token_hash = $1 AND t.purpose = 'activation'"#,
        tokens::hash(&token)
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Ok(ActivationView { state: LinkState::Unknown, email: None, name: None, customer: None, account_name: None, expires_at: None });
    };
    let link_state = if row.used_at.is_some() {
        LinkState::Used
    } else if row.revoked_at.is_some() || row.status == "disabled" {
        LinkState::Revoked
    } else if row.expires_at <= state.clock.now() {
        LinkState::Expired
    } else {
        LinkState::Valid
    };
    Ok(ActivationView {
        state: link_state,
        email: Some(row.email),
        name: Some(row.display_name),
        customer: Some(row.customer),
        account_name: Some(row.account_name),
        expires_at: Some(row.expires_at),
    })
}

/// Sets the password, makes the user active, uses up the link and signs them in.
#[server(prefix = "/api", endpoint = "activate")]
pub async fn activate(token: String, password: String, password_confirm: String) -> Result<String, AppError> {
    use crate::{
        audit::ssr as audit,
        auth::ssr::sessions,
        server::{http::redirect_plain_form, state::app_state, tokens},
    };
    let state = app_state()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let link = sqlx::query!(
        r#"SELECT t.id, t.user_id, t.account_id AS "account_id!", t.expires_at, t.used_at, t.revoked_at, u.email, u.status
             FROM one_time_tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
            WHERE t.token_hash = $1 AND t.purpose = 'activation' AND u.kind = 'customer'
            FOR NO KEY UPDATE OF t, u"#,
        tokens::hash(&token)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Refused("This activation link is not valid.".into()))?;
    if link.used_at.is_some() {
        return Err(AppError::Refused("This account has already been activated. Sign in instead.".into()));
    }
    if link.revoked_at.is_some() || link.status == "disabled" {
        return Err(AppError::Refused("This activation link no longer works. Ask for a new one.".into()));
    }
    if link.expires_at <= now {
        return Err(AppError::Refused("This activation link has expired. Ask for a new one.".into()));
    }
    let mut errors = FieldErrors::default();
    let parsed = errors.take("password", Password::parse(&password, Some(&link.email)));
    errors.take("password_confirm", confirm_matches(&password, &password_confirm));
    let Some(password) = parsed.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let hash = state.passwords.hash(&password).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, status = 'active', password_changed_at = $4, last_sign_in_at = $4,
                          updated_at = $4, version = version + 1
          WHERE account_id = $1 AND id = $2",
        link.account_id,
        link.user_id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("UPDATE one_time_tokens SET used_at = $2 WHERE id = $1", link.id, now)
        .execute(&mut *tx)
        .await?;
    sessions::end_current(&mut tx, &state).await?;
    sessions::start(&mut tx, &state, link.user_id, Some(link.account_id)).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(link.account_id),
            actor_id: Some(link.user_id),
            actor_label: &link.email,
            action: "customer_user.activated",
            record_type: "user",
            record_id: Some(link.user_id),
            changes: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    redirect_plain_form("/");
    Ok("/".into())
}

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
                    Err(e) => view! {
                        <AuthLayout title="We could not check this link">
                            <p class="auth-text" role="alert">{e.to_string()}</p>
                        </AuthLayout>
                    }.into_any(),
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
    let problem = |title: &'static str, text: String| {
        view! {
            <AuthLayout title=title>
                <p class="auth-text">{text}</p>
                <a class="btn btn-secondary btn-block" href="/sign-in">"Go to sign in"</a>
            </AuthLayout>
        }
        .into_any()
    };
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
                <TextField label="Password" name="password" input_type="password" autocomplete="new-password" value=password
                    rule=Signal::derive(move || Password::parse(&password.get(), Some(&email_signal.get())).err())
                    server_error=server_field(value, "password") required=true/>
                <PasswordChecklist password=password email=email_signal/>
                <TextField label="Repeat password" name="password_confirm" input_type="password" autocomplete="new-password" value=password_confirm
                    rule=Signal::derive(move || confirm_matches(&password.get(), &password_confirm.get()).err())
                    server_error=server_field(value, "password_confirm") required=true/>
                <SubmitButton label="Activate and sign in" pending=action.pending() pending_label="Activating…" class="btn btn-primary btn-block"/>
            </ActionForm>
        </AuthLayout>
    }
}
