use super::{LinkState, Purpose};
use crate::{
    error::AppError,
    server::{session, state::AppState, tokens},
};
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

/// Whom a link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    User(i64),
    /// A sign-up waiting for its confirmation.
    SignUp(i64),
}

/// A link as it is stored.
#[derive(Clone, Debug)]
pub struct Link {
    pub holder: Holder,
    pub account_id: Option<i64>,
    /// Who sent it (whom to ask for a new one).
    pub created_by: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub state: LinkState,
}

/// A fresh link for `holder`: the URL to send, and when it stops working. Earlier open
/// links of the same purpose and holder stop working now.
pub async fn issue(
    conn: &mut PgConnection,
    state: &AppState,
    purpose: Purpose,
    holder: Holder,
    account_id: Option<i64>,
    created_by: Option<i64>,
    valid_for: Duration,
) -> Result<String, AppError> {
    let now = state.clock.now();
    revoke(&mut *conn, purpose, holder, now).await?;
    let (token, token_hash) = tokens::generate();
    let (user_id, sign_up_id) = match holder {
        Holder::User(id) => (Some(id), None),
        Holder::SignUp(id) => (None, Some(id)),
    };
    sqlx::query!(
        "INSERT INTO one_time_tokens (token_hash, purpose, user_id, sign_up_request_id, account_id, created_at, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        token_hash,
        purpose.key(),
        user_id,
        sign_up_id,
        account_id,
        now,
        now + valid_for,
        created_by
    )
    .execute(conn)
    .await?;
    Ok(format!("{}{}?token={token}", state.config.base_url(), purpose.path()))
}

/// What the link `token` of `purpose` is now, without using it; `None` for a link that
/// does not exist.
pub async fn inspect(db: &PgPool, state: &AppState, purpose: Purpose, token: &str) -> Result<Option<Link>, AppError> {
    let row = sqlx::query!(
        "SELECT user_id, sign_up_request_id, account_id, created_by, expires_at, used_at, revoked_at
           FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2",
        tokens::hash(token),
        purpose.key()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let holder = match (r.user_id, r.sign_up_request_id) {
            (Some(id), _) => Holder::User(id),
            (None, id) => Holder::SignUp(id.unwrap_or_default()),
        };
        Link {
            holder,
            account_id: r.account_id,
            created_by: r.created_by,
            expires_at: r.expires_at,
            state: state_of(r.used_at, r.revoked_at, r.expires_at, state.clock.now()),
        }
    }))
}

/// A link's state from its record: used, else revoked, else expired, else valid.
pub fn state_of(
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> LinkState {
    if used_at.is_some() {
        LinkState::Used
    } else if revoked_at.is_some() {
        LinkState::Revoked
    } else if expires_at <= now {
        LinkState::Expired
    } else {
        LinkState::Valid
    }
}

/// Uses the link inside the caller's transaction: locked, checked and marked used, or the
/// reason it does not work. The caller's rollback (a form error, say) leaves it unused.
pub async fn redeem(conn: &mut PgConnection, state: &AppState, purpose: Purpose, token: &str) -> Result<Result<Link, LinkState>, AppError> {
    let now = state.clock.now();
    let Some(r) = sqlx::query!(
        "SELECT id, user_id, sign_up_request_id, account_id, created_by, expires_at, used_at, revoked_at
           FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2
           FOR NO KEY UPDATE",
        tokens::hash(token),
        purpose.key()
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(Err(LinkState::Unknown));
    };
    let link_state = state_of(r.used_at, r.revoked_at, r.expires_at, now);
    if link_state != LinkState::Valid {
        return Ok(Err(link_state));
    }
    sqlx::query!("UPDATE one_time_tokens SET used_at = $2 WHERE id = $1", r.id, now).execute(&mut *conn).await?;
    let holder = match (r.user_id, r.sign_up_request_id) {
        (Some(id), _) => Holder::User(id),
        (None, id) => Holder::SignUp(id.unwrap_or_default()),
    };
    Ok(Ok(Link {
        holder,
        account_id: r.account_id,
        created_by: r.created_by,
        expires_at: r.expires_at,
        state: LinkState::Valid,
    }))
}

/// Ends the open links of `purpose` that `holder` has.
pub async fn revoke(conn: &mut PgConnection, purpose: Purpose, holder: Holder, now: DateTime<Utc>) -> Result<u64, AppError> {
    let (user_id, sign_up_id) = match holder {
        Holder::User(id) => (Some(id), None),
        Holder::SignUp(id) => (None, Some(id)),
    };
    Ok(sqlx::query!(
        "UPDATE one_time_tokens SET revoked_at = $4
          WHERE purpose = $1 AND (user_id = $2 OR sign_up_request_id = $3) AND used_at IS NULL AND revoked_at IS NULL",
        purpose.key(),
        user_id,
        sign_up_id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Ends what a user holds open: every unused link of every purpose, and every session. For
/// a change of address, a disable, a removal, or a password set by someone else.
pub async fn end_access(conn: &mut PgConnection, user_id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE one_time_tokens SET revoked_at = $2 WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
        user_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    session::end_all(conn, user_id).await?;
    Ok(())
}

/// When the holder last got a link of `purpose` (for "one a minute" limits).
pub async fn last_issued(db: &PgPool, purpose: Purpose, user_id: i64) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT max(created_at) FROM one_time_tokens WHERE user_id = $1 AND purpose = $2",
        user_id,
        purpose.key()
    )
    .fetch_one(db)
    .await?)
}

/// The newest open link of `purpose` that a user holds: when it expires.
pub async fn open_until(conn: &mut PgConnection, purpose: Purpose, user_id: i64) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT max(expires_at) FROM one_time_tokens
          WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL",
        user_id,
        purpose.key()
    )
    .fetch_one(conn)
    .await?)
}

/// Deletes links a month after they stopped working (until then their page can still say
/// why), and sign-up requests whose links are all gone.
pub async fn clean_up(db: &PgPool, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM one_time_tokens WHERE expires_at < $1", now - Duration::days(30)).execute(db).await?;
    sqlx::query!(
        "DELETE FROM sign_up_requests r WHERE NOT EXISTS (SELECT 1 FROM one_time_tokens t WHERE t.sign_up_request_id = r.id)
           AND r.created_at < $1",
        now - Duration::days(1)
    )
    .execute(db)
    .await?;
    Ok(())
}
