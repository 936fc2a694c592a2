//! Sessions in PostgreSQL (SPEC 1.6): the cookie holds 256 random bits, the table only their
//! hash. A session ends when idle too long, at its absolute lifetime, at sign-out, or when the
//! user is disabled, removed or gets a new password. Every server function that needs a user
//! starts from [`signed_in`] / [`require_user`] / [`require_staff`].

use crate::{
    auth::UserKind,
    error::AppError,
    permissions::{Authority, Permission, ADMINISTRATOR_RANK},
    server::{errors::internal, http::request_client_ip, state::{app_state, AppState}, tokens},
};
use chrono::{DateTime, Duration, Utc};
use http::{header, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sqlx::PgConnection;
use std::collections::BTreeSet;

/// Sessions are touched at most this often, not on every request.
const TOUCH_EVERY_SECONDS: i64 = 60;

#[derive(Clone, Debug)]
pub struct RoleRef {
    pub id: i64,
    pub name: String,
    pub rank: i32,
}

/// The signed-in user of the current request, with what they may do.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user_id: i64,
    pub account_id: Option<i64>,
    pub kind: UserKind,
    pub email: String,
    pub display_name: String,
    pub account_name: Option<String>,
    pub company_id: Option<i64>,
    pub role: Option<RoleRef>,
    pub permissions: BTreeSet<Permission>,
    pub must_change_password: bool,
    pub token_hash: Vec<u8>,
}

impl SignedIn {
    pub fn is_administrator(&self) -> bool {
        self.kind == UserKind::Staff && self.role.as_ref().is_some_and(|r| r.rank == ADMINISTRATOR_RANK)
    }

    /// The rank and permissions the user acts with (none for anyone but staff).
    pub fn authority(&self) -> Option<Authority> {
        self.role.as_ref().map(|role| Authority::new(role.rank, self.permissions.iter().copied()))
    }

    /// The staff capability: only staff of an account get one.
    pub fn staff(self) -> Result<Staff, AppError> {
        match (self.kind, self.account_id, self.company_id, self.role.clone()) {
            (UserKind::Staff, Some(account_id), Some(company_id), Some(role)) => {
                Ok(Staff { account_id, company_id, role, user: self })
            }
            _ => Err(AppError::Forbidden),
        }
    }
}

/// A signed-in staff member: the account, company and role every staff check starts from.
#[derive(Clone, Debug)]
pub struct Staff {
    pub user: SignedIn,
    pub account_id: i64,
    pub company_id: i64,
    pub role: RoleRef,
}

impl Staff {
    /// Refuses unless the role grants `permission` (Administrators hold them all).
    pub fn require(&self, permission: Permission) -> Result<&Self, AppError> {
        if self.user.permissions.contains(&permission) {
            Ok(self)
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn require_administrator(&self) -> Result<&Self, AppError> {
        if self.user.is_administrator() {
            Ok(self)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The rank and permissions this staff member acts with.
    pub fn authority(&self) -> Authority {
        Authority::new(self.role.rank, self.user.permissions.iter().copied())
    }

    /// Reads the caller's own row again inside the transaction, after a lock that orders the
    /// change with other changes of authority: if their role, its permissions or their status
    /// changed since the request began, the change is refused as a conflict (reload and see).
    /// The row stays share-locked, so the caller cannot be deleted under the change.
    pub async fn recheck(&self, conn: &mut PgConnection) -> Result<(), AppError> {
        let row = sqlx::query!(
            r#"SELECT u.status, u.role_id, r.rank AS "rank?",
                      COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                                 WHERE p.account_id = u.account_id AND p.role_id = u.role_id), '{}') AS "permissions!"
                 FROM users u LEFT JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
                WHERE u.account_id = $1 AND u.id = $2
                FOR KEY SHARE OF u"#,
            self.account_id,
            self.user.user_id
        )
        .fetch_optional(conn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
        let current = row.rank.map(|rank| Authority::from_keys(rank, &row.permissions));
        if row.status != "active" || row.role_id != Some(self.role.id) || current.as_ref() != Some(&self.authority()) {
            return Err(AppError::Conflict);
        }
        Ok(())
    }
}

/// The current session's user, or `None` when the request carries no live session.
pub async fn signed_in() -> Result<Option<SignedIn>, AppError> {
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
        token_hash,
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

/// A signed-in staff member of an account.
pub async fn require_staff() -> Result<Staff, AppError> {
    require_user().await?.staff()
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

/// Deletes what has expired: sessions at once, throttle counters after a day, single-use links
/// a month after they stopped working (until then their page can still say why).
pub async fn clean_up(state: &AppState, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE idle_expires_at < $1 OR absolute_expires_at < $1", now)
        .execute(&state.db)
        .await?;
    sqlx::query!(
        "DELETE FROM sign_in_throttle WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        now - Duration::days(1),
        now,
    )
    .execute(&state.db)
    .await?;
    sqlx::query!("DELETE FROM one_time_tokens WHERE expires_at < $1", now - Duration::days(30))
        .execute(&state.db)
        .await?;
    sqlx::query!("DELETE FROM sign_up_requests WHERE expires_at < $1", now - Duration::days(1))
        .execute(&state.db)
        .await?;
    sqlx::query!("DELETE FROM rate_counters WHERE window_started_at < $1", now - Duration::days(1))
        .execute(&state.db)
        .await?;
    Ok(())
}

pub fn spawn_cleanup(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = clean_up(&state, state.clock.now()).await {
                tracing::warn!(%error, "clean-up of expired sessions failed");
            }
        }
    });
}
