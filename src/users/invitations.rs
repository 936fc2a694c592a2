//! Invitations (SPEC 3.6): many addresses at once with one role and company; each gets a
//! single-use link valid for the account's setting; resend replaces the link, revoke withdraws
//! it. The accept page sets name and password and signs the person in.

#[cfg(feature = "ssr")]
use super::{parse_invitation_addresses, UserStatus};
#[cfg(feature = "ssr")]
use crate::{error::FieldErrors, permissions::Permission};
use crate::{
    auth::{LinkState, PasswordChecklist},
    error::AppError,
    ui::{action_error, load_page, on_success, server_field, AuthLayout, FormAlert, SubmitButton, TextField},
    validation::{confirm_matches, required_text, Password, NAME_MAX_CHARS},
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// What the accept page shows about a link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    pub state: LinkState,
    pub email: Option<String>,
    pub account_name: Option<String>,
    /// Who sent it: whom to ask for a new one.
    pub inviter: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::{
        auth::ssr::sessions::Staff,
        error::AppError,
        outbox::ssr::{enqueue, templates::Mail},
        server::{state::AppState, tokens},
    };
    use chrono::Duration;
    use sqlx::PgConnection;

    /// Creates a fresh invitation link for `user_id` (revoking any earlier one) and queues the
    /// e-mail, valid for the account's number of days.
    pub async fn send_invitation(
        conn: &mut PgConnection,
        state: &AppState,
        staff: &Staff,
        user_id: i64,
        email: &str,
    ) -> Result<(), AppError> {
        let now = state.clock.now();
        let account = sqlx::query!("SELECT name, invitation_valid_days FROM accounts WHERE id = $1", staff.account_id)
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query!(
            "UPDATE one_time_tokens SET revoked_at = $2
              WHERE user_id = $1 AND purpose = 'invitation' AND used_at IS NULL AND revoked_at IS NULL",
            user_id,
            now
        )
        .execute(&mut *conn)
        .await?;
        let (token, token_hash) = tokens::generate();
        sqlx::query!(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, account_id, created_at, expires_at, created_by)
             VALUES ($1, 'invitation', $2, $3, $4, $5, $6)",
            token_hash,
            user_id,
            staff.account_id,
            now,
            now + Duration::days(account.invitation_valid_days.into()),
            staff.user.user_id
        )
        .execute(&mut *conn)
        .await?;
        let link = format!("{}/invitation?token={token}", state.config.base_url());
        enqueue(
            conn,
            state,
            Some(staff.account_id),
            email,
            Mail::Invitation {
                inviter: &staff.user.display_name,
                account: &account.name,
                link: &link,
                valid_days: account.invitation_valid_days,
            },
        )
        .await?;
        Ok(())
    }
}

#[server(prefix = "/api", endpoint = "invite_users")]
pub async fn invite_users(emails: String, role_id: String, company_id: String) -> Result<usize, AppError> {
    use crate::{
        audit::ssr as audit,
        auth::ssr::sessions::require_staff,
        companies::ssr::company_in_scope,
        roles::ssr::assignable_role,
        server::state::app_state,
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let mut errors = FieldErrors::default();
    let addresses = errors.take("emails", parse_invitation_addresses(&emails));
    let role_id = errors.take("role_id", role_id.trim().parse::<i64>().map_err(|_| "Choose a role.".to_owned()));
    let company_id = errors.take("company_id", company_id.trim().parse::<i64>().map_err(|_| "Choose a company.".to_owned()));
    let (Some(addresses), Some(role_id), Some(company_id)) = (addresses, role_id, company_id) else {
        return Err(AppError::Validation(errors));
    };
    let now = state.clock.now();
    let listed: Vec<&crate::validation::Email> = addresses.iter().collect();
    crate::auth::ssr::addresses::ensure_free(&state, staff.user.user_id, "emails", &listed, None).await?;
    let mut tx = state.db.begin().await?;
    let company = company_in_scope(&mut tx, &staff, company_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("company_id", "Choose a company you manage."),
        other => other,
    })?;
    let role = assignable_role(&mut tx, &staff, role_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("role_id", "Choose a role from the list."),
        other => other,
    })?;
    for address in &addresses {
        let placeholder_name: String = address.as_str().split('@').next().unwrap_or("Invited").chars().take(NAME_MAX_CHARS).collect();
        let id = sqlx::query_scalar!(
            "INSERT INTO users (account_id, kind, email, display_name, company_id, role_id, status, created_at, updated_at)
             VALUES ($1, 'staff', $2, $3, $4, $5, 'invited', $6, $6) RETURNING id",
            staff.account_id,
            address.as_str(),
            placeholder_name,
            company.id,
            role.id,
            now
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::server::errors::db_error(e, &[crate::auth::ssr::addresses::taken("emails")]))?;
        ssr::send_invitation(&mut tx, &state, &staff, id, address.as_str()).await?;
        audit::record(
            &mut tx,
            now,
            audit::Event {
                account_id: Some(staff.account_id),
                actor_id: Some(staff.user.user_id),
                actor_label: &staff.user.email,
                action: "user.invited",
                record_type: "user",
                record_id: Some(id),
                changes: serde_json::json!({ "email": address.as_str(), "role": role.name, "company": company.name }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(addresses.len())
}

/// A new link for an invited user; the old one stops working.
#[server(prefix = "/api", endpoint = "resend_invitation")]
pub async fn resend_invitation(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let target = super::ssr::manageable_user(&mut tx, &staff, id).await?;
    if target.status != UserStatus::Invited {
        return Err(AppError::Refused(format!("{} has already accepted.", target.display_name)));
    }
    ssr::send_invitation(&mut tx, &state, &staff, id, &target.email).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "user.invitation_resent",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "email": target.email }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Withdraws an invitation: the link stops working and the address is free again.
#[server(prefix = "/api", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let target = super::ssr::manageable_user(&mut tx, &staff, id).await?;
    if target.status != UserStatus::Invited {
        return Err(AppError::Refused(format!("{} has already accepted.", target.display_name)));
    }
    sqlx::query!(
        "UPDATE one_time_tokens SET revoked_at = $2
          WHERE user_id = $1 AND purpose = 'invitation' AND used_at IS NULL AND revoked_at IS NULL",
        id,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET status = 'removed', removed_at = $3, updated_at = $3, version = version + 1
          WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "user.invitation_revoked",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "email": target.email }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "invitation")]
pub async fn check_invitation(token: String) -> Result<InvitationView, AppError> {
    use crate::server::{state::app_state, tokens};
    let state = app_state()?;
    let row = sqlx::query!(
        r#"SELECT t.expires_at, t.used_at, t.revoked_at, u.email, a.name AS account_name,
                  i.display_name AS "inviter_name?", i.email AS "inviter_email?"
             FROM one_time_tokens t
             JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
             JOIN accounts a ON a.id = t.account_id
             LEFT JOIN users i ON i.id = t.created_by AND i.account_id = t.account_id
            WHERE t.token_hash = $1 AND t.purpose = 'invitation'"#,
        tokens::hash(&token)
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Ok(InvitationView { state: LinkState::Unknown, email: None, account_name: None, inviter: None, expires_at: None });
    };
    let link_state = if row.used_at.is_some() {
        LinkState::Used
    } else if row.revoked_at.is_some() {
        LinkState::Revoked
    } else if row.expires_at <= state.clock.now() {
        LinkState::Expired
    } else {
        LinkState::Valid
    };
    let inviter = match (row.inviter_name, row.inviter_email) {
        (Some(name), Some(email)) => Some(format!("{name} ({email})")),
        _ => None,
    };
    Ok(InvitationView {
        state: link_state,
        email: Some(row.email),
        account_name: Some(row.account_name),
        inviter,
        expires_at: Some(row.expires_at),
    })
}

/// Accepts an invitation: sets name and password, makes the user active, signs them in.
#[server(prefix = "/api", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<String, AppError> {
    use crate::{
        audit::ssr as audit,
        auth::ssr::sessions,
        server::{http::redirect_plain_form, state::app_state, tokens},
    };
    let state = app_state()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let link = sqlx::query!(
        "SELECT t.id, t.user_id, t.account_id AS \"account_id!\", t.expires_at, t.used_at, t.revoked_at, u.email, u.status
           FROM one_time_tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
          WHERE t.token_hash = $1 AND t.purpose = 'invitation'
          FOR NO KEY UPDATE OF t, u",
        tokens::hash(&token)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Refused("This invitation link is not valid.".into()))?;
    if link.used_at.is_some() || link.status != "invited" {
        return Err(AppError::Refused("This invitation has already been accepted. Sign in instead.".into()));
    }
    if link.revoked_at.is_some() {
        return Err(AppError::Refused("This invitation was withdrawn. Ask for a new one.".into()));
    }
    if link.expires_at <= now {
        return Err(AppError::Refused("This invitation has expired. Ask for a new one.".into()));
    }
    let mut errors = FieldErrors::default();
    let name = errors.take("display_name", required_text(&display_name, "your name", NAME_MAX_CHARS));
    let parsed = errors.take("password", Password::parse(&password, Some(&link.email)));
    errors.take("password_confirm", confirm_matches(&password, &password_confirm));
    let (Some(name), Some(password)) = (name, parsed) else {
        return Err(AppError::Validation(errors));
    };
    let hash = state.passwords.hash(&password).await?;
    sqlx::query!(
        "UPDATE users SET display_name = $3, password_hash = $4, status = 'active', password_changed_at = $5,
                          last_sign_in_at = $5, updated_at = $5, version = version + 1
          WHERE account_id = $1 AND id = $2",
        link.account_id,
        link.user_id,
        name,
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
            action: "user.invitation_accepted",
            record_type: "user",
            record_id: Some(link.user_id),
            changes: serde_json::json!({ "display_name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    redirect_plain_form("/");
    Ok("/".into())
}

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
                    Err(e) => view! {
                        <AuthLayout title="We could not check this invitation">
                            <p class="auth-text" role="alert">{e.to_string()}</p>
                        </AuthLayout>
                    }.into_any(),
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
        LinkState::Valid => view! { <AcceptForm view token/> }.into_any(),
        LinkState::Expired => problem("This invitation has expired", format!("Invitations work for a limited time. {ask}")),
        LinkState::Used => problem("This invitation has already been accepted", "Sign in with the e-mail address and password you chose.".into()),
        LinkState::Revoked => problem("This invitation was withdrawn", format!("It no longer works. {ask}")),
        LinkState::Unknown => problem("This invitation link is not valid", "Check that you opened the whole link from the e-mail. If it still does not work, ask the person who invited you for a new one.".into()),
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
                <TextField label="Your name" name="display_name" autocomplete="name" value=name
                    rule=Signal::derive(move || required_text(&name.get(), "your name", NAME_MAX_CHARS).err())
                    server_error=server_field(value, "display_name") required=true/>
                <TextField label="Password" name="password" input_type="password" autocomplete="new-password" value=password
                    rule=Signal::derive(move || Password::parse(&password.get(), Some(&email_signal.get())).err())
                    server_error=server_field(value, "password") required=true/>
                <PasswordChecklist password=password email=email_signal/>
                <TextField label="Repeat password" name="password_confirm" input_type="password" autocomplete="new-password" value=password_confirm
                    rule=Signal::derive(move || confirm_matches(&password.get(), &password_confirm.get()).err())
                    server_error=server_field(value, "password_confirm") required=true/>
                <SubmitButton label="Accept and sign in" pending=action.pending() pending_label="Joining…" class="btn btn-primary btn-block"/>
            </ActionForm>
        </AuthLayout>
    }
}
