//! Accounts and signing in (SPEC 1.1–1.4, 1.6–1.8): sign-up, sign-in, sign-out, password reset
//! by e-mailed link, change of own password, own profile. The server functions here are the only
//! way the browser reaches these records.

mod pages;
mod profile;
mod sign_up;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use pages::{ConfirmEmailPage, ForgotPasswordPage, PasswordChecklist, RegisterPage, ResetPasswordPage, SignInPage, SignUpPage};
pub use profile::{ChangePasswordPage, ProfilePage};
pub use sign_up::{
    check_confirmation, confirm_email, register, sign_up, ConfirmEmail, ConfirmationSent, ConfirmationView, Register, SignUp,
    CONFIRMATION_LINK_HOURS,
};
#[cfg(feature = "ssr")]
pub use sign_up::ssr as sign_up_ssr;

use crate::{
    error::{AppError, FieldErrors},
    permissions::{Module, Permission},
    validation::{
        confirm_matches, language, optional_phone, optional_region, required_text, Email, Password,
        NAME_MAX_CHARS,
    },
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserKind {
    /// Staff of an account (administrators, managers, engineers, owners).
    Staff,
    /// Signs in on behalf of a customer.
    Customer,
    /// Registered themselves and belongs to no account yet.
    Registered,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Staff => "staff",
            UserKind::Customer => "customer",
            UserKind::Registered => "registered",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [UserKind::Staff, UserKind::Customer, UserKind::Registered].into_iter().find(|k| k.as_str() == value)
    }
}

/// What the browser knows about the signed-in user: enough to draw the shell and hide what they
/// may not use. The server checks again on every call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub kind: UserKind,
    pub account_name: Option<String>,
    pub role_name: Option<String>,
    pub is_administrator: bool,
    pub permissions: Vec<Permission>,
    pub must_change_password: bool,
    /// No SMTP server is configured: mail waits in the outbox for an Administrator to read.
    pub dev_mail: bool,
    /// For a customer user: what their customer's type grants in the portal.
    pub customer_features: Vec<crate::permissions::CustomerFeature>,
}

impl SessionView {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn sees(&self, module: Module) -> bool {
        self.can(module.entry_permission())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub language: String,
}

/// What a single-use link can turn out to be when opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    Valid,
    Expired,
    Used,
    /// Withdrawn by whoever sent it (an invitation revoked or replaced by a newer one).
    Revoked,
    Unknown,
}

/// The one message for every failed sign-in, whatever the reason (SPEC 1.2, 1.8).
pub const SIGN_IN_FAILED: &str =
    "The e-mail or password is incorrect, or sign-in is paused after repeated failures. \
     Check them and try again in a few minutes, or reset your password.";

/// How long a password-reset link works.
pub const RESET_LINK_MINUTES: i64 = 60;

/// The validated sign-up form.
#[derive(Debug)]
pub struct SignUpInput {
    pub account_name: String,
    pub display_name: String,
    pub email: Email,
    pub password: Password,
}

pub fn validate_sign_up(
    account_name: &str,
    display_name: &str,
    email: &str,
    password: &str,
    password_confirm: &str,
) -> Result<SignUpInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let account_name = errors.take("account_name", required_text(account_name, "your business name", NAME_MAX_CHARS));
    let display_name = errors.take("display_name", required_text(display_name, "your name", NAME_MAX_CHARS));
    let email = errors.take("email", Email::parse(email));
    let parsed_password = errors.take("password", Password::parse(password, email.as_ref().map(Email::as_str)));
    errors.take("password_confirm", confirm_matches(password, password_confirm));
    match (account_name, display_name, email, parsed_password) {
        (Some(account_name), Some(display_name), Some(email), Some(password)) if errors.is_empty() => {
            Ok(SignUpInput { account_name, display_name, email, password })
        }
        _ => Err(errors),
    }
}

/// A new password and its confirmation, checked together.
pub fn validate_new_password(
    password: &str,
    password_confirm: &str,
    email: &str,
) -> Result<Password, FieldErrors> {
    let mut errors = FieldErrors::default();
    let parsed = errors.take("password", Password::parse(password, Some(email)));
    errors.take("password_confirm", confirm_matches(password, password_confirm));
    match parsed {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(errors),
    }
}

/// The validated profile form.
#[derive(Debug)]
pub struct ProfileInput {
    pub display_name: String,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub language: String,
}

pub fn validate_profile(display_name: &str, phone: &str, region: &str, lang: &str) -> Result<ProfileInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let display_name = errors.take("display_name", required_text(display_name, "your name", NAME_MAX_CHARS));
    let phone = errors.take("phone", optional_phone(phone));
    let region = errors.take("region", optional_region(region));
    let language = errors.take("language", language(lang));
    match (display_name, phone, region, language) {
        (Some(display_name), Some(phone), Some(region), Some(language)) => {
            Ok(ProfileInput { display_name, phone, region, language })
        }
        _ => Err(errors),
    }
}

/// Where to go after signing in: only a path on this site, never another host. The value is
/// resolved as a URL relative to the public base URL, the way a browser would (which drops tabs
/// and line breaks and reads a backslash as a slash), and kept only if it stays on that origin.
#[cfg(feature = "ssr")]
pub fn safe_next(next: Option<&str>, public_url: &url::Url) -> String {
    let Some(raw) = next.filter(|n| n.starts_with('/')) else {
        return "/".to_owned();
    };
    if raw.chars().any(|c| c.is_control() || c == '\\') {
        return "/".to_owned();
    }
    match public_url.join(raw) {
        Ok(target) if target.origin() == public_url.origin() => {
            let mut local = target.path().to_owned();
            if let Some(query) = target.query() {
                local.push('?');
                local.push_str(query);
            }
            if let Some(fragment) = target.fragment() {
                local.push('#');
                local.push_str(fragment);
            }
            local
        }
        _ => "/".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Server functions
// ---------------------------------------------------------------------------------------------

#[server(prefix = "/api", endpoint = "session")]
pub async fn get_session() -> Result<Option<SessionView>, AppError> {
    use crate::server::state::app_state;
    let state = app_state()?;
    let Some(user) = ssr::sessions::signed_in().await? else {
        return Ok(None);
    };
    let customer_features = match (user.kind, user.account_id) {
        (UserKind::Customer, Some(account_id)) => sqlx::query_scalar!(
            r#"SELECT t.features FROM users u
                 JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                 JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
                WHERE u.account_id = $1 AND u.id = $2"#,
            account_id,
            user.user_id
        )
        .fetch_optional(&state.db)
        .await?
        .unwrap_or_default()
        .iter()
        .filter_map(|k| crate::permissions::CustomerFeature::from_key(k))
        .collect(),
        _ => Vec::new(),
    };
    Ok(Some(SessionView {
        customer_features,
        user_id: user.user_id,
        is_administrator: user.is_administrator(),
        display_name: user.display_name,
        email: user.email,
        kind: user.kind,
        account_name: user.account_name,
        role_name: user.role.map(|r| r.name),
        permissions: user.permissions.into_iter().collect(),
        must_change_password: user.must_change_password,
        dev_mail: state.config.dev_mail(),
    }))
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<String, AppError> {
    use self::ssr::{sessions, throttle};
    use crate::{
        audit::ssr as audit,
        server::{http::{redirect_plain_form, request_client_ip}, state::app_state},
    };

    let state = app_state()?;
    let now = state.clock.now();
    let email = Email::parse(&email).map_err(|m| AppError::field("email", m))?;
    if password.is_empty() {
        return Err(AppError::field("password", "Enter your password."));
    }
    let normalized = email.normalized();
    let client_ip = request_client_ip();
    let email_key = throttle::email_key(&normalized);
    let address_key = client_ip.as_deref().map(throttle::address_key);
    let keys: Vec<throttle::Key> = std::iter::once(email_key.clone()).chain(address_key.clone()).collect();
    // Counted before the password is checked, so a burst of guesses cannot outrun the limit.
    let allowed = throttle::reserve(&state.db, &keys, now).await?;

    let user = sqlx::query!(
        "SELECT id, account_id, status, password_hash, password_expires_at FROM users
          WHERE lower(email) = $1 AND status <> 'removed'",
        normalized
    )
    .fetch_optional(&state.db)
    .await?;
    // Always one hash verification, whether or not the user exists or is locked out; only an
    // attempt the counters allowed is checked against the real hash.
    let stored = if allowed { user.as_ref().and_then(|u| u.password_hash.as_deref()) } else { None };
    let matched = state.passwords.verify(&password, stored).await?;

    let mut tx = state.db.begin().await?;
    let user = match user {
        Some(user) if matched => user,
        user => {
            audit::record(
                &mut tx,
                now,
                audit::Event {
                    account_id: user.as_ref().and_then(|u| u.account_id),
                    actor_id: None,
                    actor_label: email.as_str(),
                    action: "session.sign_in_failed",
                    record_type: "user",
                    record_id: user.as_ref().map(|u| u.id),
                    changes: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::Refused(SIGN_IN_FAILED.into()));
        }
    };
    throttle::succeeded(&state.db, &email_key, address_key.as_ref()).await?;
    if user.status != "active" {
        return Err(AppError::Refused("This user is disabled. Ask your administrator to enable it.".into()));
    }
    if user.password_expires_at.is_some_and(|expires| expires <= now) {
        return Err(AppError::Refused(
            "Your temporary password has expired. Ask your administrator for a new one.".into(),
        ));
    }
    sessions::end_current(&mut tx, &state).await?;
    sessions::start(&mut tx, &state, user.id, user.account_id).await?;
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = $2 WHERE id = $1 AND account_id IS NOT DISTINCT FROM $3",
        user.id,
        now,
        user.account_id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: user.account_id,
            actor_id: Some(user.id),
            actor_label: email.as_str(),
            action: "session.signed_in",
            record_type: "user",
            record_id: Some(user.id),
            changes: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    let next = safe_next(next.as_deref(), &state.config.public_url());
    redirect_plain_form(&next);
    Ok(next)
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<String, AppError> {
    use self::ssr::sessions;
    use crate::{audit::ssr as audit, server::{http::redirect_plain_form, state::app_state}};

    let state = app_state()?;
    let user = sessions::signed_in().await?;
    let mut tx = state.db.begin().await?;
    sessions::end_current(&mut tx, &state).await?;
    sessions::clear_cookie(&state);
    if let Some(user) = user {
        audit::record(
            &mut tx,
            state.clock.now(),
            audit::Event {
                account_id: user.account_id,
                actor_id: Some(user.user_id),
                actor_label: &user.email,
                action: "session.signed_out",
                record_type: "user",
                record_id: Some(user.user_id),
                changes: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    redirect_plain_form("/sign-in");
    Ok("/sign-in".into())
}

/// Sends a reset link if the address belongs to an active user; answers the same either way.
#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::{
        audit::ssr as audit,
        outbox::ssr::{enqueue, templates::Mail},
        server::{state::app_state, tokens},
    };
    use chrono::Duration;

    let state = app_state()?;
    let now = state.clock.now();
    let email = Email::parse(&email).map_err(|m| AppError::field("email", m))?;
    let queued: Result<(), AppError> = async {
        let Some(user) = sqlx::query!(
            "SELECT id, account_id, email, display_name FROM users WHERE lower(email) = $1 AND status = 'active'",
            email.normalized()
        )
        .fetch_optional(&state.db)
        .await?
        else {
            return Ok(());
        };
        // One message a minute per user is enough; more would only flood their inbox.
        let recent = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM one_time_tokens
                               WHERE user_id = $1 AND purpose = 'password_reset' AND created_at > $2) AS "recent!""#,
            user.id,
            now - Duration::minutes(1)
        )
        .fetch_one(&state.db)
        .await?;
        if recent {
            return Ok(());
        }
        let (token, token_hash) = tokens::generate();
        let mut tx = state.db.begin().await?;
        sqlx::query!(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, account_id, created_at, expires_at)
             VALUES ($1, 'password_reset', $2, $3, $4, $5)",
            token_hash,
            user.id,
            user.account_id,
            now,
            now + Duration::minutes(RESET_LINK_MINUTES)
        )
        .execute(&mut *tx)
        .await?;
        let link = format!("{}/reset-password?token={token}", state.config.base_url());
        enqueue(
            &mut tx,
            &state,
            user.account_id,
            &user.email,
            Mail::PasswordReset { name: &user.display_name, link: &link, valid_minutes: RESET_LINK_MINUTES },
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            audit::Event {
                account_id: user.account_id,
                actor_id: None,
                actor_label: &user.email,
                action: "user.password_reset_requested",
                record_type: "user",
                record_id: Some(user.id),
                changes: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
    Ok(())
    }
    .await;
    queued?;
    // A page address that says the link was sent, so a plain form post shows it too.
    crate::server::http::redirect_plain_form("/forgot-password?sent=1");
    Ok(())
}

#[server(prefix = "/api", endpoint = "reset_link")]
pub async fn check_reset_link(token: String) -> Result<LinkState, AppError> {
    use crate::server::{state::app_state, tokens};
    let state = app_state()?;
    let row = sqlx::query!(
        "SELECT t.expires_at, t.used_at, t.revoked_at, u.status
           FROM one_time_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = $1 AND t.purpose = 'password_reset'
            AND t.account_id IS NOT DISTINCT FROM u.account_id",
        tokens::hash(&token)
    )
    .fetch_optional(&state.db)
    .await?;
    Ok(match row {
        None => LinkState::Unknown,
        Some(r) if r.status != "active" => LinkState::Unknown,
        Some(r) if r.used_at.is_some() || r.revoked_at.is_some() => LinkState::Used,
        Some(r) if r.expires_at <= state.clock.now() => LinkState::Expired,
        Some(_) => LinkState::Valid,
    })
}

#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String, password_confirm: String) -> Result<(), AppError> {
    use self::ssr::sessions;
    use crate::{
        audit::ssr::{self as audit, Changes},
        outbox::ssr::{enqueue, templates::{Mail, Occasion}},
        server::{state::app_state, tokens},
    };

    let state = app_state()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let link = sqlx::query!(
        "SELECT t.id, t.user_id, t.expires_at, t.used_at, t.revoked_at, u.email, u.display_name, u.account_id, u.status
           FROM one_time_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = $1 AND t.purpose = 'password_reset'
            AND t.account_id IS NOT DISTINCT FROM u.account_id
          FOR UPDATE OF t",
        tokens::hash(&token)
    )
    .fetch_optional(&mut *tx)
    .await?;
    let link = match link {
        Some(l) if l.status == "active" => l,
        _ => return Err(AppError::Refused("This link is not valid. Ask for a new one.".into())),
    };
    if link.used_at.is_some() || link.revoked_at.is_some() {
        return Err(AppError::Refused("This link has already been used. Ask for a new one.".into()));
    }
    if link.expires_at <= now {
        return Err(AppError::Refused("This link has expired. Ask for a new one.".into()));
    }
    let password = validate_new_password(&password, &password_confirm, &link.email).map_err(AppError::Validation)?;
    let hash = state.passwords.hash(&password).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, password_changed_at = $4, must_change_password = false,
                          password_expires_at = NULL, updated_at = $4
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        link.user_id,
        link.account_id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    // This link is spent, and so is every other reset link the user still holds.
    sqlx::query!(
        "UPDATE one_time_tokens SET used_at = CASE WHEN id = $2 THEN $3 ELSE used_at END,
                                    revoked_at = CASE WHEN id = $2 THEN revoked_at ELSE $3 END
          WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL AND revoked_at IS NULL",
        link.user_id,
        link.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    let ended = sessions::end_all(&mut tx, link.user_id).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: link.account_id,
            actor_id: Some(link.user_id),
            actor_label: &link.email,
            action: "user.password_reset",
            record_type: "user",
            record_id: Some(link.user_id),
            changes: Changes::default().secret("password").into_value(),
        },
    )
    .await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = Mail::PasswordChanged { name: &link.display_name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
    enqueue(&mut tx, &state, link.account_id, &link.email, mail).await?;
    tx.commit().await?;
    // A new password by link lifts any lock-out of the address's sign-in.
    ssr::throttle::clear(&state.db, &ssr::throttle::email_key(&link.email.to_lowercase())).await?;
    tracing::info!(user_id = link.user_id, sessions_ended = ended, "password reset by link");
    crate::server::http::redirect_plain_form("/sign-in?reset=done");
    Ok(())
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<String, AppError> {
    use self::ssr::sessions;
    use crate::{
        audit::ssr::{self as audit, Changes},
        outbox::ssr::{enqueue, templates::{Mail, Occasion}},
        server::{http::redirect_plain_form, state::app_state},
    };

    let state = app_state()?;
    let user = sessions::require_signed_in().await?;
    let now = state.clock.now();
    let stored = sqlx::query_scalar!(
        "SELECT password_hash FROM users WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id,
        user.account_id
    )
    .fetch_one(&state.db)
    .await?;
    let mut errors = FieldErrors::default();
    if current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    }
    let new_password = match validate_new_password(&password, &password_confirm, &user.email) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // Guesses of the current password count towards the same limits as sign-in guesses.
    let email_key = ssr::throttle::email_key(&user.email.to_lowercase());
    let address_key = crate::server::http::request_client_ip().map(|ip| ssr::throttle::address_key(&ip));
    let keys: Vec<_> = std::iter::once(email_key.clone()).chain(address_key.clone()).collect();
    let allowed = ssr::throttle::reserve(&state.db, &keys, now).await?;
    let matched = state.passwords.verify(&current_password, if allowed { stored.as_deref() } else { None }).await?;
    if !allowed {
        return Err(AppError::Refused(
            "Too many attempts with a wrong password. Wait a few minutes, then try again.".into(),
        ));
    }
    if !matched {
        return Err(AppError::field("current_password", "This is not your current password."));
    }
    ssr::throttle::succeeded(&state.db, &email_key, address_key.as_ref()).await?;
    let new_password = new_password.expect("validated above");
    if new_password.expose() == current_password {
        return Err(AppError::field("password", "Choose a password different from the current one."));
    }
    let hash = state.passwords.hash(&new_password).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, password_changed_at = $4, must_change_password = false,
                          password_expires_at = NULL, updated_at = $4
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id,
        user.account_id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    // Every session ends, this one included; the user continues in a fresh one.
    sessions::end_all(&mut tx, user.user_id).await?;
    sessions::start(&mut tx, &state, user.user_id, user.account_id).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: user.account_id,
            actor_id: Some(user.user_id),
            actor_label: &user.email,
            action: "user.password_changed",
            record_type: "user",
            record_id: Some(user.user_id),
            changes: Changes::default().secret("password").into_value(),
        },
    )
    .await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = Mail::PasswordChanged { name: &user.display_name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
    enqueue(&mut tx, &state, user.account_id, &user.email, mail).await?;
    tx.commit().await?;
    let next = if user.must_change_password { "/" } else { "/profile/password?changed=1" };
    redirect_plain_form(next);
    Ok(next.into())
}

#[server(prefix = "/api", endpoint = "profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    use crate::server::state::app_state;
    let state = app_state()?;
    let user = ssr::sessions::require_user().await?;
    let row = sqlx::query!(
        "SELECT email, display_name, phone, region, language FROM users
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id,
        user.account_id
    )
    .fetch_one(&state.db)
    .await?;
    Ok(Profile {
        email: row.email,
        display_name: row.display_name,
        phone: row.phone,
        region: row.region,
        language: row.language,
    })
}

#[server(prefix = "/api", endpoint = "update_profile")]
pub async fn update_profile(
    display_name: String,
    phone: String,
    region: String,
    language: String,
) -> Result<(), AppError> {
    use crate::{audit::ssr::{self as audit, Changes}, server::state::app_state};

    let state = app_state()?;
    let user = ssr::sessions::require_user().await?;
    let input = validate_profile(&display_name, &phone, &region, &language).map_err(AppError::Validation)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let before = sqlx::query!(
        "SELECT display_name, phone, region, language FROM users
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2 FOR NO KEY UPDATE",
        user.user_id,
        user.account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let changes = Changes::default()
        .field("display_name", &before.display_name, &input.display_name)
        .field("phone", &before.phone, &input.phone)
        .field("region", &before.region, &input.region)
        .field("language", &before.language, &input.language);
    if changes.is_empty() {
        crate::server::http::redirect_plain_form("/profile?saved=1");
        return Ok(());
    }
    sqlx::query!(
        "UPDATE users SET display_name = $3, phone = $4, region = $5, language = $6, updated_at = $7,
                          version = version + 1
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id,
        user.account_id,
        input.display_name,
        input.phone,
        input.region,
        input.language,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: user.account_id,
            actor_id: Some(user.user_id),
            actor_label: &user.email,
            action: "user.profile_updated",
            record_type: "user",
            record_id: Some(user.user_id),
            changes: changes.into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    crate::server::http::redirect_plain_form("/profile?saved=1");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Client state
// ---------------------------------------------------------------------------------------------

/// The signed-in session as the browser knows it, loaded with the page and refreshed after
/// changes that alter it (a new display name, say). Changes of identity (sign-in, sign-out)
/// load a new page instead, so nothing of one user's state survives into the next.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub session: Resource<Result<Option<SessionView>, AppError>>,
    refreshes: RwSignal<u32>,
}

impl AuthContext {
    pub fn provide() -> Self {
        let refreshes = RwSignal::new(0);
        let session = Resource::new(move || refreshes.get(), |_| get_session());
        let context = Self { session, refreshes };
        provide_context(context);
        context
    }

    /// Loads the session again from the server.
    pub fn refresh(&self) {
        self.refreshes.update(|n| *n += 1);
    }

    /// The loaded session, if signed in.
    pub fn current(&self) -> Option<SessionView> {
        self.session.get().and_then(|r| r.ok().flatten())
    }
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_up_reports_every_bad_field_at_once() {
        let Err(errors) = validate_sign_up("", &"x".repeat(101), "not-an-email", "short", "other") else {
            panic!("invalid input accepted");
        };
        assert_eq!(errors.get("account_name"), Some("Enter your business name."));
        assert_eq!(errors.get("display_name"), Some("Use at most 100 characters."));
        assert!(errors.get("email").unwrap().starts_with("Enter a valid e-mail"));
        assert!(errors.get("password").unwrap().starts_with("Use at least 12"));
        assert_eq!(errors.get("password_confirm"), Some("The two passwords do not match."));
    }

    #[test]
    fn sign_up_accepts_a_good_form() {
        let input = validate_sign_up(" Acme Solar ", "Ada", "ada@acme.test", "violet-kettle-onward", "violet-kettle-onward")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(input.account_name, "Acme Solar");
        assert_eq!(input.email.as_str(), "ada@acme.test");
    }

    #[test]
    fn new_password_refuses_common_and_own_email_and_mismatch() {
        assert!(validate_new_password("qwerty123456", "qwerty123456", "a@b.test").unwrap_err().get("password").is_some());
        assert!(validate_new_password("ada@acme.test", "ada@acme.test", "ada@acme.test").is_err());
        let errors = validate_new_password("violet-kettle-onward", "violet-kettle-0nward", "a@b.test").unwrap_err();
        assert_eq!(errors.get("password"), None);
        assert!(errors.get("password_confirm").is_some());
    }

    #[test]
    fn profile_validation_uses_the_shared_rules() {
        let ok = validate_profile("Ada", "+44 20 7946 0958", "Europe", "en").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.phone.as_deref(), Some("+442079460958"));
        let errors = validate_profile(" ", "12", "Mars", "xx").unwrap_err();
        for field in ["display_name", "phone", "region", "language"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn next_is_kept_only_for_local_paths() {
        let base = url::Url::parse("https://roster.example.com").unwrap();
        let next = |n: &str| safe_next(Some(n), &base);
        assert_eq!(next("/profile"), "/profile");
        assert_eq!(next("/customers?q=acme&page=2#top"), "/customers?q=acme&page=2#top");
        assert_eq!(next("//evil.example"), "/");
        assert_eq!(next("https://evil.example"), "/");
        assert_eq!(next("/\\evil.example"), "/");
        // Browsers strip tabs and line breaks: "/\t/evil.example" would become "//evil.example".
        assert_eq!(next("/\t/evil.example"), "/");
        assert_eq!(next("/\n/evil.example"), "/");
        assert_eq!(next("/\r\n/evil.example/x"), "/");
        assert_eq!(next("/%09/evil.example"), "/%09/evil.example", "an encoded tab stays a path on this site");
        assert_eq!(next("profile"), "/");
        assert_eq!(safe_next(None, &base), "/");
    }
}
