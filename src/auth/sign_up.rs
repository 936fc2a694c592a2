//! Sign-up of a business account (SPEC 1.1) and registration of a personal account (SPEC 1.5),
//! both confirmed by an e-mailed link. The form answers the same for every address, with the
//! same work (one hash, one queued message): a new address gets the link, an address that is
//! already used gets a notice instead. Nothing is created, and no address is held, until the
//! link is used.

use super::LinkState;
#[cfg(feature = "ssr")]
use super::validate_sign_up;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    error::FieldErrors,
    validation::{confirm_matches, required_text, Email, Password, NAME_MAX_CHARS},
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How long a sign-up or registration link works.
pub const CONFIRMATION_LINK_HOURS: i64 = 24;

/// What the sign-up and registration forms answer, whatever the address. Only with development
/// mail (no SMTP server, a local server) does a new address's link come back as well, so it can
/// be opened at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfirmationSent {
    pub email: String,
    pub dev_link: Option<String>,
}

/// What the confirmation page shows about its link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfirmationView {
    pub state: LinkState,
    /// The business account the link creates; none for a personal account.
    pub account_name: Option<String>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::CONFIRMATION_LINK_HOURS;
    use crate::{
        error::AppError,
        outbox::ssr::{enqueue, templates::Mail},
        server::{state::AppState, tokens},
        validation::Email,
    };
    use chrono::Duration;
    use sqlx::PgConnection;

    /// What a confirmed link creates.
    pub enum Request<'a> {
        Account { account_name: &'a str },
        Personal,
    }

    /// Queues the confirmation link for a new address, or a notice for one already in use, and
    /// returns the link when one was made. The caller has hashed the password either way.
    pub async fn request(
        conn: &mut PgConnection,
        state: &AppState,
        request: Request<'_>,
        display_name: &str,
        email: &Email,
        password_hash: &str,
    ) -> Result<Option<String>, AppError> {
        let now = state.clock.now();
        let base = state.config.base_url();
        let taken = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = $1 AND status <> 'removed') AS "taken!""#,
            email.normalized()
        )
        .fetch_one(&mut *conn)
        .await?;
        if taken {
            let mail = Mail::AlreadyRegistered {
                sign_in_link: &format!("{base}/sign-in"),
                reset_link: &format!("{base}/forgot-password"),
            };
            enqueue(conn, state, None, email.as_str(), mail).await?;
            return Ok(None);
        }
        let (token, token_hash) = tokens::generate();
        let (kind, account_name) = match request {
            Request::Account { account_name } => ("account", Some(account_name)),
            Request::Personal => ("personal", None),
        };
        sqlx::query!(
            "INSERT INTO sign_up_requests (token_hash, kind, email, display_name, account_name, password_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            token_hash,
            kind,
            email.as_str(),
            display_name,
            account_name,
            password_hash,
            now,
            now + Duration::hours(CONFIRMATION_LINK_HOURS)
        )
        .execute(&mut *conn)
        .await?;
        let link = format!("{base}/confirm-email?token={token}");
        let mail = match account_name {
            Some(account) => Mail::SignUpConfirmation { name: display_name, account, link: &link, valid_hours: CONFIRMATION_LINK_HOURS },
            None => Mail::EmailConfirmation { name: display_name, link: &link, valid_hours: CONFIRMATION_LINK_HOURS },
        };
        enqueue(conn, state, None, email.as_str(), mail).await?;
        Ok(Some(link))
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
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    let input = validate_sign_up(&account_name, &display_name, &email, &password, &password_confirm)
        .map_err(AppError::Validation)?;
    let hash = state.passwords.hash(&input.password).await?;
    let mut tx = state.db.begin().await?;
    let link = ssr::request(
        &mut tx,
        &state,
        ssr::Request::Account { account_name: &input.account_name },
        &input.display_name,
        &input.email,
        &hash,
    )
    .await?;
    tx.commit().await?;
    redirect_plain_form("/sign-up?sent=1");
    Ok(ConfirmationSent { email: input.email.as_str().to_owned(), dev_link: link.filter(|_| state.config.dev_mail()) })
}

/// SPEC 1.5: a person registers a personal account, confirmed by an e-mailed link.
#[server(prefix = "/api", endpoint = "register")]
pub async fn register(
    display_name: String,
    email: String,
    password: String,
    password_confirm: String,
) -> Result<ConfirmationSent, AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    let mut errors = FieldErrors::default();
    let name = errors.take("display_name", required_text(&display_name, "your name", NAME_MAX_CHARS));
    let parsed_email = errors.take("email", Email::parse(&email));
    let parsed = errors.take("password", Password::parse(&password, Some(&email)));
    errors.take("password_confirm", confirm_matches(&password, &password_confirm));
    let (Some(name), Some(email), Some(password)) = (name, parsed_email, parsed) else {
        return Err(AppError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = state.passwords.hash(&password).await?;
    let mut tx = state.db.begin().await?;
    let link = ssr::request(&mut tx, &state, ssr::Request::Personal, &name, &email, &hash).await?;
    tx.commit().await?;
    redirect_plain_form("/register?sent=1");
    Ok(ConfirmationSent { email: email.as_str().to_owned(), dev_link: link.filter(|_| state.config.dev_mail()) })
}

#[server(prefix = "/api", endpoint = "confirmation")]
pub async fn check_confirmation(token: String) -> Result<ConfirmationView, AppError> {
    use crate::server::{state::app_state, tokens};
    let state = app_state()?;
    let row = sqlx::query!(
        "SELECT account_name, expires_at, used_at FROM sign_up_requests WHERE token_hash = $1",
        tokens::hash(&token)
    )
    .fetch_optional(&state.db)
    .await?;
    Ok(match row {
        None => ConfirmationView { state: LinkState::Unknown, account_name: None },
        Some(r) => ConfirmationView {
            state: if r.used_at.is_some() {
                LinkState::Used
            } else if r.expires_at <= state.clock.now() {
                LinkState::Expired
            } else {
                LinkState::Valid
            },
            account_name: r.account_name,
        },
    })
}

/// Uses a confirmation link: creates the business account and its first Administrator, or the
/// personal account, and signs the person in. A button on the link's page calls it, so mail
/// scanners that open links confirm nothing.
#[server(prefix = "/api", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    use super::ssr::{
        accounts::{insert_account, NewAccount},
        sessions,
    };
    use crate::{
        audit::ssr as audit,
        server::{http::redirect_plain_form, state::app_state, tokens},
    };
    const ALREADY: &str = "This address already has a Roster account. Sign in instead, or reset your password.";
    let state = app_state()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let request = sqlx::query!(
        "SELECT id, kind, email, display_name, account_name, password_hash, expires_at, used_at
           FROM sign_up_requests WHERE token_hash = $1 FOR UPDATE",
        tokens::hash(&token)
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Refused("This confirmation link is not valid. Sign up again to get a new one.".into()))?;
    if request.used_at.is_some() {
        return Err(AppError::Refused("This link has already been used. Sign in instead.".into()));
    }
    if request.expires_at <= now {
        return Err(AppError::Refused("This confirmation link has expired. Sign up again to get a new one.".into()));
    }
    let email = Email::parse(&request.email).map_err(crate::server::errors::internal)?;
    // Someone else may have taken the address since the link was sent.
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = $1 AND status <> 'removed') AS "taken!""#,
        email.normalized()
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Err(AppError::Refused(ALREADY.into()));
    }
    sqlx::query!("UPDATE sign_up_requests SET used_at = $2 WHERE id = $1", request.id, now).execute(&mut *tx).await?;
    let already = |e: AppError| match e {
        AppError::Validation(_) => AppError::Refused(ALREADY.into()),
        other => other,
    };
    let (user_id, account_id, via) = match request.account_name {
        Some(account_name) => {
            let new = NewAccount {
                account_name,
                display_name: request.display_name,
                email: email.clone(),
                must_change_password: false,
            };
            let created = insert_account(&mut tx, &state, &new, &request.password_hash).await.map_err(already)?;
            (created.user_id, Some(created.account_id), "sign-up")
        }
        None => {
            let user_id = sqlx::query_scalar!(
                "INSERT INTO users (kind, email, display_name, status, password_hash, password_changed_at, created_at, updated_at)
                 VALUES ('registered', $1, $2, 'active', $3, $4, $4, $4) RETURNING id",
                email.as_str(),
                request.display_name,
                request.password_hash,
                now
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| already(crate::server::errors::db_error(e, &[super::ssr::accounts::EMAIL_TAKEN])))?;
            audit::record(
                &mut tx,
                now,
                audit::Event {
                    account_id: None,
                    actor_id: Some(user_id),
                    actor_label: email.as_str(),
                    action: "user.registered",
                    record_type: "user",
                    record_id: Some(user_id),
                    changes: serde_json::json!({}),
                },
            )
            .await?;
            (user_id, None, "registration")
        }
    };
    sessions::end_current(&mut tx, &state).await?;
    sessions::start(&mut tx, &state, user_id, account_id).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id,
            actor_id: Some(user_id),
            actor_label: email.as_str(),
            action: "session.signed_in",
            record_type: "user",
            record_id: Some(user_id),
            changes: serde_json::json!({ "via": via }),
        },
    )
    .await?;
    tx.commit().await?;
    redirect_plain_form("/");
    Ok("/".into())
}
