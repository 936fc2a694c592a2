//! Signing in and out (SPEC 1.2, 1.6, 1.8), and what the browser is told about the session.

use super::throttle;
use crate::{
    auth::{SessionView, SIGN_IN_FAILED},
    error::AppError,
    permissions::{CustomerFeature, UserKind},
    server::{
        http::request_client_ip,
        session::{self, SignedIn},
        state::AppState,
    },
    services::audit::{Action, Actor, Record},
    validation::Email,
};

/// Checks the password under the brute-force limits and, when it matches, starts a session.
/// Every failure gets the one message [`SIGN_IN_FAILED`], after one hash verification, whether
/// the address exists, the password is wrong, or the address is locked.
pub async fn sign_in(state: &AppState, email: &Email, password: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    let normalized = super::addresses::fold(&state.db, email.as_str()).await?;
    let email_key = throttle::email_key(&normalized);
    let address_key = request_client_ip().as_deref().map(throttle::address_key);
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
    let matched = state.passwords.verify(password, stored).await?;

    let mut tx = state.db.begin().await?;
    let user = match user {
        Some(user) if matched => user,
        user => {
            Actor::anonymous(user.as_ref().and_then(|u| u.account_id), email.as_str(), now)
                .audit(
                    &mut tx,
                    Action::SessionSignInFailed,
                    Record { kind: crate::services::audit::RecordType::User, id: user.as_ref().map(|u| u.id) },
                    serde_json::json!({}),
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
        return Err(AppError::Refused("Your temporary password has expired. Ask your administrator for a new one.".into()));
    }
    session::end_current(&mut tx, state).await?;
    session::start(&mut tx, state, user.id, user.account_id).await?;
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = $2 WHERE id = $1 AND account_id IS NOT DISTINCT FROM $3",
        user.id,
        now,
        user.account_id
    )
    .execute(&mut *tx)
    .await?;
    if let Some(account_id) = user.account_id {
        crate::services::usage::ssr::add_sign_in(&mut tx, account_id, now).await?;
    }
    Actor::person(user.account_id, user.id, email.as_str(), now)
        .audit(&mut tx, Action::SessionSignedIn, Record::user(user.id), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the request's session on the server and tells the browser to forget its cookie.
pub async fn sign_out(state: &AppState, user: Option<SignedIn>) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    session::end_current(&mut tx, state).await?;
    session::clear_cookie(state);
    if let Some(user) = user {
        Actor::signed_in(&user, state.clock.now())
            .audit(&mut tx, Action::SessionSignedOut, Record::user(user.user_id()), serde_json::json!({}))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What the browser is told about `user`: enough to draw the shell and hide what they may not
/// use.
pub async fn session_view(state: &AppState, user: SignedIn) -> Result<SessionView, AppError> {
    let customer_features = match (user.kind(), user.account_id()) {
        (UserKind::Customer, Some(account_id)) => sqlx::query_scalar!(
            r#"SELECT t.features FROM users u
                 JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                 JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
                WHERE u.account_id = $1 AND u.id = $2"#,
            account_id,
            user.user_id()
        )
        .fetch_optional(&state.db)
        .await?
        .unwrap_or_default()
        .iter()
        .filter_map(|k| CustomerFeature::from_key(k))
        .collect(),
        _ => Vec::new(),
    };
    Ok(SessionView {
        customer_features,
        user_id: user.user_id(),
        is_administrator: user.is_administrator(),
        display_name: user.display_name().to_owned(),
        email: user.email().to_owned(),
        kind: user.kind(),
        account_name: user.account_name().map(str::to_owned),
        role_name: user.role().map(|r| r.name().to_owned()),
        permissions: user.permissions().iter().copied().collect(),
        must_change_password: user.must_change_password(),
        dev_mail: state.config.dev_mail(),
    })
}
