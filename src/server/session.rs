//! Sessions in PostgreSQL (SPEC 1.6): the cookie holds 256 random bits, the table only their
//! hash. A session ends when idle too long, at its absolute lifetime, at sign-out, or when the
//! user is disabled, removed or gets a new password. Every server function that needs a user
//! starts from [`signed_in`] / [`require_user`], and staff or customer users from
//! [`super::capability`].

use crate::{
    error::{internal, AppError},
    permissions::{Authority, Permission, UserKind, ADMINISTRATOR_RANK},
    server::{http::request_client_ip, state::{app_state, AppState}, tokens},
};
use chrono::{DateTime, Duration, Utc};
use http::{header, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sqlx::PgConnection;
use std::collections::BTreeSet;

/// Sessions are touched at most this often, not on every request.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A staff member's role as the session found it.
#[derive(Clone, Debug)]
pub struct RoleRef {
    id: i64,
    name: String,
    rank: i32,
}

impl RoleRef {
    pub(super) fn new(id: i64, name: String, rank: i32) -> Self {
        Self { id, name, rank }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn rank(&self) -> i32 {
        self.rank
    }
}

/// The API key a request authenticated with (issue 12): it acts for its creator.
#[derive(Clone, Debug)]
pub struct KeyRef {
    id: i64,
    name: String,
}

impl KeyRef {
    pub(super) fn new(id: i64, name: String) -> Self {
        Self { id, name }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The signed-in user of the current request, with what they may do. Read-only: only the
/// session lookup and the API-key lookup (`super::api_keys`) make one.
#[derive(Clone, Debug)]
pub struct SignedIn {
    user_id: i64,
    account_id: Option<i64>,
    kind: UserKind,
    email: String,
    display_name: String,
    account_name: Option<String>,
    company_id: Option<i64>,
    role: Option<RoleRef>,
    permissions: BTreeSet<Permission>,
    must_change_password: bool,
    via_key: Option<KeyRef>,
}

impl SignedIn {
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn account_id(&self) -> Option<i64> {
        self.account_id
    }

    pub fn kind(&self) -> UserKind {
        self.kind
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    pub fn account_name(&self) -> Option<&str> {
        self.account_name.as_deref()
    }

    pub fn company_id(&self) -> Option<i64> {
        self.company_id
    }

    pub fn role(&self) -> Option<&RoleRef> {
        self.role.as_ref()
    }

    pub fn permissions(&self) -> &BTreeSet<Permission> {
        &self.permissions
    }

    pub fn holds(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// Whether the user acts as an Administrator: never through an API key, which holds only
    /// the permissions it was given (within its company), whatever its creator's role.
    pub fn is_administrator(&self) -> bool {
        self.via_key.is_none()
            && self.kind == UserKind::Staff
            && self.role.as_ref().is_some_and(|r| r.rank == ADMINISTRATOR_RANK)
    }

    /// The API key the request came with, if it did.
    pub fn api_key(&self) -> Option<&KeyRef> {
        self.via_key.as_ref()
    }

    /// The creator of an API key as the key acts: the creator's rank, the permissions both the
    /// key and the creator hold now, and the key's company for scope.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn through_key(
        key: KeyRef,
        user_id: i64,
        account_id: i64,
        email: String,
        display_name: String,
        company_id: i64,
        role: RoleRef,
        permissions: BTreeSet<Permission>,
    ) -> Self {
        Self {
            user_id,
            account_id: Some(account_id),
            kind: UserKind::Staff,
            email,
            display_name,
            account_name: None,
            company_id: Some(company_id),
            role: Some(role),
            permissions,
            must_change_password: false,
            via_key: Some(key),
        }
    }

    /// The rank and permissions the user acts with (none for anyone but staff).
    pub fn authority(&self) -> Option<Authority> {
        self.role.as_ref().map(|role| match self.via_key {
            None => Authority::new(role.rank, self.permissions.iter().copied()),
            Some(_) => Authority::limited(role.rank, self.permissions.iter().copied()),
        })
    }
}

/// The current session's user, or `None` when the request carries no live session. A request
/// of the REST API carries its key's user instead (and never a cookie session).
pub async fn signed_in() -> Result<Option<SignedIn>, AppError> {
    if let Some(super::api_keys::ApiCaller(user)) = use_context::<super::api_keys::ApiCaller>() {
        return Ok(Some(user));
    }
    let state = app_state()?;
    let Some(token) = request_cookie(state.config.session_cookie_name()) else {
        return Ok(None);
    };
    let token_hash = tokens::hash(&token);
    let now = state.clock.now();
    let Some(row) = sqlx::query!(
        r#"SELECT s.user_id, s.last_seen_at, s.idle_seconds, s.idle_expires_at, s.absolute_expires_at,
                  u.account_id, u.kind, u.email, u.display_name, u.status, u.must_change_password,
                  u.company_id, u.role_id, a.name AS "account_name?", r.name AS "role_name?", r.rank AS "role_rank?",
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = u.account_id AND p.role_id = u.role_id), '{}') AS "permissions!"
             FROM sessions s
             JOIN users u ON u.id = s.user_id
             LEFT JOIN accounts a ON a.id = u.account_id
             LEFT JOIN roles r ON r.id = u.role_id AND r.account_id = u.account_id
            WHERE s.token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(&state.db)
    .await?
    else {
        clear_cookie(&state);
        return Ok(None);
    };
    if now >= row.idle_expires_at || now >= row.absolute_expires_at || row.status != "active" {
        sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash).execute(&state.db).await?;
        clear_cookie(&state);
        return Ok(None);
    }
    if now - row.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECONDS) {
        let idle_expires = (now + Duration::seconds(row.idle_seconds.into())).min(row.absolute_expires_at);
        sqlx::query!(
            "UPDATE sessions SET last_seen_at = $2, idle_expires_at = $3 WHERE token_hash = $1",
            token_hash,
            now,
            idle_expires,
        )
        .execute(&state.db)
        .await?;
    }
    let role = match (row.role_id, row.role_name, row.role_rank) {
        (Some(id), Some(name), Some(rank)) => Some(RoleRef { id, name, rank }),
        _ => None,
    };
    let permissions = match &role {
        Some(role) if role.rank == ADMINISTRATOR_RANK => Permission::ALL.into_iter().collect(),
        _ => row.permissions.iter().filter_map(|key| Permission::from_key(key)).collect(),
    };
    Ok(Some(SignedIn {
        user_id: row.user_id,
        account_id: row.account_id,
        kind: UserKind::parse(&row.kind).ok_or_else(|| internal(format!("unknown user kind {}", row.kind)))?,
        email: row.email,
        display_name: row.display_name,
        account_name: row.account_name,
        company_id: row.company_id,
        role,
        permissions,
        must_change_password: row.must_change_password,
        via_key: None,
    }))
}

/// The signed-in user, even one who still has to replace a temporary password.
pub async fn require_signed_in() -> Result<SignedIn, AppError> {
    signed_in().await?.ok_or(AppError::Unauthenticated)
}

/// The signed-in user, who must have replaced any temporary password first.
pub async fn require_user() -> Result<SignedIn, AppError> {
    let user = require_signed_in().await?;
    if user.must_change_password {
        return Err(AppError::PasswordChangeRequired);
    }
    Ok(user)
}

/// Starts a session for `user_id` inside the caller's transaction and sets the cookie. The
/// lifetimes come from the account's settings, else the server configuration.
pub async fn start(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: i64,
    account_id: Option<i64>,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let (idle, absolute) = lifetimes(conn, state, account_id).await?;
    let (token, token_hash) = tokens::generate();
    let user_agent = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| p.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(300).collect::<String>()));
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, account_id, created_at, last_seen_at, idle_seconds,
                               idle_expires_at, absolute_expires_at, client_ip, user_agent)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)",
        token_hash,
        user_id,
        account_id,
        now,
        idle.num_seconds() as i32,
        (now + idle).min(now + absolute),
        now + absolute,
        request_client_ip(),
        user_agent,
    )
    .execute(conn)
    .await?;
    set_cookie(state, &format!("{}={token}; Path=/; HttpOnly; SameSite=Lax", state.config.session_cookie_name()));
    Ok(())
}

async fn lifetimes(
    conn: &mut PgConnection,
    state: &AppState,
    account_id: Option<i64>,
) -> Result<(Duration, Duration), AppError> {
    let mut idle = Duration::from_std(state.config.session_idle()).map_err(internal)?;
    let mut absolute = Duration::from_std(state.config.session_absolute()).map_err(internal)?;
    if let Some(account_id) = account_id {
        let row = sqlx::query!(
            "SELECT session_idle_minutes, session_absolute_hours FROM accounts WHERE id = $1",
            account_id
        )
        .fetch_one(conn)
        .await?;
        if let Some(minutes) = row.session_idle_minutes {
            idle = Duration::minutes(minutes.into());
        }
        if let Some(hours) = row.session_absolute_hours {
            absolute = Duration::hours(hours.into());
        }
    }
    Ok((idle, absolute))
}

/// Ends the session the request carries, if any. The caller either starts a new one (whose
/// cookie replaces the old) or clears the cookie with [`clear_cookie`].
pub async fn end_current(conn: &mut PgConnection, state: &AppState) -> Result<(), AppError> {
    if let Some(token) = request_cookie(state.config.session_cookie_name()) {
        sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", tokens::hash(&token))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Ends every session of `user_id` (password reset, disable, remove).
pub async fn end_all(conn: &mut PgConnection, user_id: i64) -> Result<u64, AppError> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id).execute(conn).await?.rows_affected())
}

fn request_cookie(name: &str) -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn set_cookie(state: &AppState, cookie: &str) {
    let cookie = if state.config.secure_cookies() { format!("{cookie}; Secure") } else { cookie.to_owned() };
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie)) {
        response.append_header(header::SET_COOKIE, value);
    }
}

pub fn clear_cookie(state: &AppState) {
    set_cookie(state, &format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0", state.config.session_cookie_name()));
}

/// Deletes the sessions that have expired (run now and then by the clean-up worker).
pub async fn clean_up(state: &AppState, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM sessions WHERE idle_expires_at < $1 OR absolute_expires_at < $1", now)
        .execute(&state.db)
        .await?;
    Ok(())
}
