//! Passwords a person sets themself (SPEC 1.3, 1.4): a reset by e-mailed single-use link, and a
//! change with the current password. Either way every session ends, the throttle forgets the
//! address, and the person is told by mail, with when and from where.

use super::throttle;
use crate::{
    auth::{validate_new_password, CURRENT_PASSWORD, RESET_LINK_MINUTES},
    error::{AppError, FieldErrors},
    server::{
        http::request_client_ip,
        limits::{self, Limit},
        session::{self, SignedIn},
        state::AppState,
    },
    services::{
        audit::{Action, Actor, Changes, Record},
        links::{self, Holder, LinkState, Purpose},
        mail::{
            enqueue,
            templates::{Mail, Occasion},
        },
    },
    validation::Email,
};
use chrono::Duration;

/// How many reset links one client address may ask for in an hour.
pub const RESET_REQUESTS_PER_HOUR: i32 = 30;

/// A reset request is answered no sooner than this, whether a link was sent or not, so its
/// timing does not tell who has an account (sending takes a few milliseconds more).
pub const RESET_ANSWER_AFTER: std::time::Duration = std::time::Duration::from_millis(150);

/// Sends a reset link if the address belongs to an active user, at most one a minute per user
/// and [`RESET_REQUESTS_PER_HOUR`] an hour per client address. Answers the same either way (the
/// caller shows "if an account uses this address…", no sooner for one than the other).
pub async fn request_reset(state: &AppState, email: &Email) -> Result<(), AppError> {
    let now = state.clock.now();
    if let Some(ip) = request_client_ip() {
        let limit = Limit { hits: RESET_REQUESTS_PER_HOUR, window: Duration::hours(1) };
        if limits::hit(&state.db, &format!("reset_requests:ip:{ip}"), 1, limit, now).await? > limit.hits {
            return Ok(());
        }
    }
    let Some(user) = sqlx::query!(
        "SELECT id, account_id, email, display_name FROM users WHERE lower(email) = lower($1) AND status = 'active'",
        email.as_str()
    )
    .fetch_optional(&state.db)
    .await?
    else {
        return Ok(());
    };
    // One message a minute per user is enough; more would only flood their inbox.
    if links::last_issued(&state.db, Purpose::PasswordReset, user.id).await?.is_some_and(|at| at > now - Duration::minutes(1)) {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let link = links::issue(
        &mut tx,
        state,
        Purpose::PasswordReset,
        Holder::User(user.id),
        user.account_id,
        None,
        Duration::minutes(RESET_LINK_MINUTES),
    )
    .await?;
    let mail = Mail::PasswordReset { name: &user.display_name, link: &link, valid_minutes: RESET_LINK_MINUTES };
    enqueue(&mut tx, state, user.account_id, &user.email, mail).await?;
    Actor::anonymous(user.account_id, &user.email, now)
        .audit(&mut tx, Action::UserPasswordResetRequested, Record::user(user.id), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What a reset link is now: it works only for an active user.
pub async fn reset_link_state(state: &AppState, token: &str) -> Result<LinkState, AppError> {
    let Some(link) = links::inspect(&state.db, state, Purpose::PasswordReset, token).await? else {
        return Ok(LinkState::Unknown);
    };
    let Holder::User(user_id) = link.holder else {
        return Ok(LinkState::Unknown);
    };
    let active = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND status = 'active' AND account_id IS NOT DISTINCT FROM $2) AS "active!""#,
        user_id,
        link.account_id
    )
    .fetch_one(&state.db)
    .await?;
    // A withdrawn reset link (a newer one was sent, or another was used) reads as used: the
    // page says the same for both, and asks for a new link.
    Ok(match link.state {
        _ if !active => LinkState::Unknown,
        LinkState::Revoked => LinkState::Used,
        other => other,
    })
}

/// Sets the new password chosen through a reset link.
pub async fn reset_password(state: &AppState, token: &str, password: &str, password_confirm: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let link = match links::redeem(&mut tx, state, Purpose::PasswordReset, token).await? {
        Ok(link) => link,
        Err(LinkState::Used | LinkState::Revoked) => {
            return Err(AppError::Refused("This link has already been used. Ask for a new one.".into()))
        }
        Err(LinkState::Expired) => return Err(AppError::Refused("This link has expired. Ask for a new one.".into())),
        Err(_) => return Err(AppError::Refused("This link is not valid. Ask for a new one.".into())),
    };
    let not_valid = || AppError::Refused("This link is not valid. Ask for a new one.".into());
    let Holder::User(user_id) = link.holder else {
        return Err(not_valid());
    };
    let user = sqlx::query!(
        "SELECT email, display_name, account_id FROM users
          WHERE id = $1 AND status = 'active' AND account_id IS NOT DISTINCT FROM $2
          FOR NO KEY UPDATE",
        user_id,
        link.account_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(not_valid)?;
    let password = validate_new_password(password, password_confirm, &user.email).map_err(AppError::Validation)?;
    let hash = state.passwords.hash(&password).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, password_changed_at = $4, must_change_password = false,
                          password_expires_at = NULL, updated_at = $4
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user_id,
        user.account_id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    // This link is spent, and so is every other reset link the user still holds.
    links::revoke(&mut tx, Purpose::PasswordReset, Holder::User(user_id), now).await?;
    let ended = session::end_all(&mut tx, user_id).await?;
    Actor::person(user.account_id, user_id, &user.email, now)
        .audit(&mut tx, Action::UserPasswordReset, Record::user(user_id), Changes::default().secret("password"))
        .await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = Mail::PasswordChanged { name: &user.display_name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
    enqueue(&mut tx, state, user.account_id, &user.email, mail).await?;
    tx.commit().await?;
    // A new password by link lifts any lock-out of the address's sign-in.
    throttle::clear(&state.db, &throttle::email_key(&super::addresses::fold(&state.db, &user.email).await?)).await?;
    tracing::info!(user_id, sessions_ended = ended, "password reset by link");
    Ok(())
}

/// Changes the signed-in user's password, the current one required; guesses of it count
/// towards the same limits as sign-in guesses. Every session ends; this one goes on afresh.
pub async fn change_password(
    state: &AppState,
    user: &SignedIn,
    current_password: &str,
    password: &str,
    password_confirm: &str,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let stored = sqlx::query_scalar!(
        "SELECT password_hash FROM users WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id(),
        user.account_id()
    )
    .fetch_one(&state.db)
    .await?;
    let mut errors = FieldErrors::default();
    if current_password.is_empty() {
        errors.add(CURRENT_PASSWORD, "Enter your current password.");
    }
    let new_password = match validate_new_password(password, password_confirm, user.email()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.0.extend(e.0);
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email_key = throttle::email_key(&super::addresses::fold(&state.db, user.email()).await?);
    let address_key = request_client_ip().map(|ip| throttle::address_key(&ip));
    let keys: Vec<_> = std::iter::once(email_key.clone()).chain(address_key.clone()).collect();
    let allowed = throttle::reserve(&state.db, &keys, now).await?;
    let matched = state.passwords.verify(current_password, if allowed { stored.as_deref() } else { None }).await?;
    if !allowed {
        return Err(AppError::Refused("Too many attempts with a wrong password. Wait a few minutes, then try again.".into()));
    }
    if !matched {
        return Err(AppError::field(CURRENT_PASSWORD, "This is not your current password."));
    }
    throttle::succeeded(&state.db, &email_key, address_key.as_ref()).await?;
    let new_password = new_password.expect("validated above");
    if new_password.expose() == current_password {
        return Err(AppError::field(crate::ui::PASSWORD_FIELD, "Choose a password different from the current one."));
    }
    let hash = state.passwords.hash(&new_password).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, password_changed_at = $4, must_change_password = false,
                          password_expires_at = NULL, updated_at = $4
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2",
        user.user_id(),
        user.account_id(),
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    // Every session ends, this one included (the user continues in a fresh one), and so do
    // reset links asked for before: they were for the old password.
    links::revoke(&mut tx, Purpose::PasswordReset, Holder::User(user.user_id()), now).await?;
    session::end_all(&mut tx, user.user_id()).await?;
    session::start(&mut tx, state, user.user_id(), user.account_id()).await?;
    Actor::signed_in(user, now)
        .audit(&mut tx, Action::UserPasswordChanged, Record::user(user.user_id()), Changes::default().secret("password"))
        .await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = Mail::PasswordChanged { name: user.display_name(), sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
    enqueue(&mut tx, state, user.account_id(), user.email(), mail).await?;
    tx.commit().await?;
    Ok(())
}

/// How long a temporary password set by the operator works.
pub const OPERATOR_TEMPORARY_HOURS: i64 = 24;

/// The operator's reset from the command line (SPEC 8.3): `password` becomes the user's, to be
/// changed at the next sign-in when `temporary`; every session and open reset link ends, the
/// person is told by mail, and the audit log says the operator did it. `None` when no user
/// (not removed) has the address.
pub async fn reset_by_operator(state: &AppState, email: &Email, password: &crate::validation::Password, temporary: bool) -> Result<Option<i64>, AppError> {
    let now = state.clock.now();
    let hash = state.passwords.hash(password).await?;
    let mut tx = state.db.begin().await?;
    let Some(user) = sqlx::query!(
        "SELECT id, account_id, email, display_name FROM users
          WHERE lower(email) = lower($1) AND status <> 'removed' FOR UPDATE",
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!(
        "UPDATE users SET password_hash = $2, must_change_password = $3, password_expires_at = $4,
                          password_changed_at = $5, updated_at = $5
          WHERE id = $1 AND account_id IS NOT DISTINCT FROM $6",
        user.id,
        hash,
        temporary,
        temporary.then(|| now + Duration::hours(OPERATOR_TEMPORARY_HOURS)),
        now,
        user.account_id
    )
    .execute(&mut *tx)
    .await?;
    links::revoke(&mut tx, Purpose::PasswordReset, Holder::User(user.id), now).await?;
    session::end_all(&mut tx, user.id).await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = Mail::PasswordChanged { name: &user.display_name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
    enqueue(&mut tx, state, user.account_id, &user.email, mail).await?;
    let changes = Changes::default().secret("password").value("temporary", &temporary);
    Actor::anonymous(user.account_id, "operator (command line)", now)
        .audit(&mut tx, Action::UserPasswordResetByOperator, Record::user(user.id), changes)
        .await?;
    tx.commit().await?;
    // Like a reset by link, it lifts any lock-out of the address's sign-in.
    throttle::clear(&state.db, &throttle::email_key(&super::addresses::fold(&state.db, &user.email).await?)).await?;
    Ok(Some(user.id))
}
