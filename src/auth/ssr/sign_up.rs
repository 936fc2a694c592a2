//! Sign-up of a business account (SPEC 1.1) and registration of a personal account (SPEC 1.5),
//! both confirmed by an e-mailed link. The request answers the same for every address, with the
//! same work (one hash, one queued message): a new address gets the link, an address already in
//! use a notice. Nothing is created, and no address is held, until the link is used.

use super::accounts::{insert_account, NewAccount, EMAIL_TAKEN};
use crate::{
    auth::{ConfirmationView, CONFIRMATION_LINK_HOURS},
    error::{internal, AppError},
    server::{
        errors::db_error,
        http::request_client_ip,
        limits::{self, Limit},
        session,
        state::AppState,
    },
    services::{
        audit::{Action, Actor, Record},
        links::{self, Holder, LinkState, Purpose},
        mail::{enqueue, templates::Mail},
    },
    validation::Email,
};
use chrono::Duration;
use sqlx::PgConnection;

/// What a confirmed link creates.
pub enum Request<'a> {
    Account { account_name: &'a str },
    Personal,
}

const ALREADY: &str = "This address already has a Roster account. Sign in instead, or reset your password.";

async fn address_taken(conn: &mut PgConnection, email: &Email) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) AND status <> 'removed') AS "taken!""#,
        email.as_str()
    )
    .fetch_one(conn)
    .await?)
}

/// How many sign-ups may name one address in an hour (and, by the server's configuration, come
/// from one client address): past either, the answer is the same but no mail goes out, so
/// nobody can flood an inbox from here.
pub const SIGN_UPS_PER_ADDRESS_PER_HOUR: i32 = 3;

async fn within_limits(state: &AppState, email: &Email) -> Result<bool, AppError> {
    let now = state.clock.now();
    let folded = crate::auth::ssr::addresses::fold(&state.db, email.as_str()).await?;
    let per_address = Limit { hits: SIGN_UPS_PER_ADDRESS_PER_HOUR, window: Duration::hours(1) };
    let mut within = limits::hit(&state.db, &format!("sign_ups:address:{folded}"), 1, per_address, now).await? <= per_address.hits;
    if let Some(ip) = request_client_ip() {
        let per_client = Limit { hits: state.config.sign_ups_per_client_per_hour, window: Duration::hours(1) };
        within &= limits::hit(&state.db, &format!("sign_ups:ip:{ip}"), 1, per_client, now).await? <= per_client.hits;
    }
    Ok(within)
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
    if !within_limits(state, email).await? {
        return Ok(None);
    }
    if address_taken(&mut *conn, email).await? {
        let mail = Mail::AlreadyRegistered { sign_in_link: &format!("{base}/sign-in"), reset_link: &format!("{base}/forgot-password") };
        enqueue(conn, state, None, email.as_str(), mail).await?;
        return Ok(None);
    }
    let (kind, account_name) = match request {
        Request::Account { account_name } => ("account", Some(account_name)),
        Request::Personal => ("personal", None),
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO sign_up_requests (kind, email, display_name, account_name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        kind,
        email.as_str(),
        display_name,
        account_name,
        password_hash,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let link = links::issue(
        &mut *conn,
        state,
        Purpose::Confirmation,
        Holder::SignUp(id),
        None,
        None,
        Duration::hours(CONFIRMATION_LINK_HOURS),
    )
    .await?;
    let mail = match account_name {
        Some(account) => Mail::SignUpConfirmation { name: display_name, account, link: &link, valid_hours: CONFIRMATION_LINK_HOURS },
        None => Mail::EmailConfirmation { name: display_name, link: &link, valid_hours: CONFIRMATION_LINK_HOURS },
    };
    enqueue(conn, state, None, email.as_str(), mail).await?;
    Ok(Some(link))
}

/// What a confirmation link is now, and the account it would create.
pub async fn confirmation_view(state: &AppState, token: &str) -> Result<ConfirmationView, AppError> {
    let Some(link) = links::inspect(&state.db, state, Purpose::Confirmation, token).await? else {
        return Ok(ConfirmationView { state: LinkState::Unknown, account_name: None });
    };
    let Holder::SignUp(id) = link.holder else {
        return Ok(ConfirmationView { state: LinkState::Unknown, account_name: None });
    };
    let account_name = sqlx::query_scalar!("SELECT account_name FROM sign_up_requests WHERE id = $1", id)
        .fetch_optional(&state.db)
        .await?
        .flatten();
    Ok(ConfirmationView { state: link.state, account_name })
}

/// Uses a confirmation link: creates the business account and its first Administrator, or the
/// personal account, and signs the person in.
pub async fn confirm(state: &AppState, token: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let link = match links::redeem(&mut tx, state, Purpose::Confirmation, token).await? {
        Ok(link) => link,
        Err(LinkState::Used | LinkState::Revoked) => {
            return Err(AppError::Refused("This link has already been used. Sign in instead.".into()))
        }
        Err(LinkState::Expired) => {
            return Err(AppError::Refused("This confirmation link has expired. Sign up again to get a new one.".into()))
        }
        Err(_) => return Err(AppError::Refused("This confirmation link is not valid. Sign up again to get a new one.".into())),
    };
    let Holder::SignUp(request_id) = link.holder else {
        return Err(internal("a confirmation link held by a user"));
    };
    let request = sqlx::query!(
        "SELECT email, display_name, account_name, password_hash FROM sign_up_requests WHERE id = $1",
        request_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let email = Email::parse(&request.email).map_err(internal)?;
    // Someone else may have taken the address since the link was sent.
    if address_taken(&mut tx, &email).await? {
        return Err(AppError::Refused(ALREADY.into()));
    }
    let already = |e: AppError| match e {
        AppError::Validation(_) => AppError::Refused(ALREADY.into()),
        other => other,
    };
    let (user_id, account_id, via) = match request.account_name {
        Some(account_name) => {
            let new = NewAccount { account_name, display_name: request.display_name, email: email.clone(), must_change_password: false };
            let created = insert_account(&mut tx, state, &new, &request.password_hash).await.map_err(already)?;
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
            .map_err(|e| already(db_error(e, &[EMAIL_TAKEN])))?;
            Actor::person(None, user_id, email.as_str(), now)
                .audit(&mut tx, Action::UserRegistered, Record::user(user_id), serde_json::json!({}))
                .await?;
            (user_id, None, "registration")
        }
    };
    session::end_current(&mut tx, state).await?;
    session::start(&mut tx, state, user_id, account_id).await?;
    if let Some(account_id) = account_id {
        crate::services::usage::ssr::add_sign_in(&mut tx, account_id, now).await?;
    }
    Actor::person(account_id, user_id, email.as_str(), now)
        .audit(&mut tx, Action::SessionSignedIn, Record::user(user_id), serde_json::json!({ "via": via }))
        .await?;
    tx.commit().await?;
    Ok(())
}
