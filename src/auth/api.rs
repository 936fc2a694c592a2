//! The server functions of accounts and signing in: each parses its input, asks for who is
//! signed in where it needs to, and calls one function of `ssr`.

use super::{ConfirmationSent, ConfirmationView, Profile, SessionView};
#[cfg(feature = "ssr")]
use super::{safe_next, validate_profile, validate_registration, validate_sign_up, EMAIL};
use crate::{error::AppError, services::links::LinkState};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "session")]
pub async fn get_session() -> Result<Option<SessionView>, AppError> {
    use crate::server::{session::signed_in, state::app_state};
    let state = app_state()?;
    match signed_in().await? {
        Some(user) => Ok(Some(super::ssr::sign_in::session_view(&state, user).await?)),
        None => Ok(None),
    }
}

#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(
    account_name: String,
    display_name: String,
    email: String,
    password: String,
    password_confirm: String,
) -> Result<ConfirmationSent, AppError> {
    use super::ssr::sign_up::{request, Request};
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    let input = validate_sign_up(&account_name, &display_name, &email, &password, &password_confirm).map_err(AppError::Validation)?;
    let hash = state.passwords.hash(&input.password).await?;
    let mut tx = state.db.begin().await?;
    let account = Request::Account { account_name: &input.account_name };
    let link = request(&mut tx, &state, account, &input.display_name, &input.email, &hash).await?;
    tx.commit().await?;
    redirect_plain_form("/sign-up?sent=1");
    Ok(ConfirmationSent { email: input.email.as_str().to_owned(), dev_link: link.filter(|_| state.config.dev_mail()) })
}

/// SPEC 1.5: a person registers a personal account, confirmed by an e-mailed link.
#[server(prefix = "/api", endpoint = "register")]
pub async fn register(display_name: String, email: String, password: String, password_confirm: String) -> Result<ConfirmationSent, AppError> {
    use super::ssr::sign_up::{request, Request};
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    let input = validate_registration(&display_name, &email, &password, &password_confirm).map_err(AppError::Validation)?;
    let hash = state.passwords.hash(&input.password).await?;
    let mut tx = state.db.begin().await?;
    let link = request(&mut tx, &state, Request::Personal, &input.display_name, &input.email, &hash).await?;
    tx.commit().await?;
    redirect_plain_form("/register?sent=1");
    Ok(ConfirmationSent { email: input.email.as_str().to_owned(), dev_link: link.filter(|_| state.config.dev_mail()) })
}

#[server(prefix = "/api", endpoint = "confirmation")]
pub async fn check_confirmation(token: String) -> Result<ConfirmationView, AppError> {
    let state = crate::server::state::app_state()?;
    super::ssr::sign_up::confirmation_view(&state, &token).await
}

/// Uses a confirmation link and signs the person in (a button on the link's page calls it, so
/// mail scanners that open links confirm nothing).
#[server(prefix = "/api", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    super::ssr::sign_up::confirm(&state, &token).await?;
    redirect_plain_form("/");
    Ok("/".into())
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<String, AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    let email = EMAIL.check(&email).map_err(|m| AppError::field(EMAIL.name, m))?;
    if password.is_empty() {
        return Err(AppError::field(crate::ui::PASSWORD_FIELD, "Enter your password."));
    }
    super::ssr::sign_in::sign_in(&state, &email, &password).await?;
    let next = safe_next(next.as_deref(), &state.config.public_url());
    redirect_plain_form(&next);
    Ok(next)
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<String, AppError> {
    use crate::server::{http::redirect_plain_form, session::signed_in, state::app_state};
    let state = app_state()?;
    let user = signed_in().await?;
    super::ssr::sign_in::sign_out(&state, user).await?;
    redirect_plain_form("/sign-in");
    Ok("/sign-in".into())
}

/// Sends a reset link if the address belongs to an active user; answers the same either way.
#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    let started = tokio::time::Instant::now();
    let email = EMAIL.check(&email).map_err(|m| AppError::field(EMAIL.name, m))?;
    super::ssr::passwords::request_reset(&state, &email).await?;
    // Sending a link takes longer than finding no one to send it to: answer no sooner either way.
    tokio::time::sleep_until(started + super::ssr::passwords::RESET_ANSWER_AFTER).await;
    // A page address that says the link was sent, so a plain form post shows it too.
    redirect_plain_form("/forgot-password?sent=1");
    Ok(())
}

#[server(prefix = "/api", endpoint = "reset_link")]
pub async fn check_reset_link(token: String) -> Result<LinkState, AppError> {
    let state = crate::server::state::app_state()?;
    super::ssr::passwords::reset_link_state(&state, &token).await
}

#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String, password_confirm: String) -> Result<(), AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    super::ssr::passwords::reset_password(&state, &token, &password, &password_confirm).await?;
    redirect_plain_form("/sign-in?reset=done");
    Ok(())
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current_password: String, password: String, password_confirm: String) -> Result<String, AppError> {
    use crate::server::{http::redirect_plain_form, session::require_signed_in, state::app_state};
    let state = app_state()?;
    let user = require_signed_in().await?;
    super::ssr::passwords::change_password(&state, &user, &current_password, &password, &password_confirm).await?;
    let next = if user.must_change_password() { "/" } else { "/profile/password?changed=1" };
    redirect_plain_form(next);
    Ok(next.into())
}

#[server(prefix = "/api", endpoint = "profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    use crate::server::{session::require_user, state::app_state};
    let state = app_state()?;
    let user = require_user().await?;
    super::ssr::profile::profile(&state.db, &user).await
}

#[server(prefix = "/api", endpoint = "update_profile")]
pub async fn update_profile(display_name: String, phone: String, region: String, language: String) -> Result<(), AppError> {
    use crate::server::{http::redirect_plain_form, session::require_user, state::app_state};
    let state = app_state()?;
    let user = require_user().await?;
    let input = validate_profile(&display_name, &phone, &region, &language).map_err(AppError::Validation)?;
    super::ssr::profile::update_profile(&state, &user, &input).await?;
    redirect_plain_form("/profile?saved=1");
    Ok(())
}
