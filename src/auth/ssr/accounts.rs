//! Creating an account: the account, its root company, the four built-in roles with their
//! default permissions, and the first Administrator, in the caller's transaction.

use crate::{
    error::AppError,
    permissions::BuiltinRole,
    server::{errors::{db_error, Unique}, state::AppState},
    services::audit::{Action, Actor, Record},
    validation::{Email, Password},
};
use serde_json::json;
use sqlx::PgConnection;

pub struct NewAccount {
    pub account_name: String,
    pub display_name: String,
    pub email: Email,
    /// Set when the password was generated for the user (the CLI): they must replace it.
    pub must_change_password: bool,
}

pub struct CreatedAccount {
    pub account_id: i64,
    pub user_id: i64,
}

pub const EMAIL_TAKEN: Unique = Unique {
    constraint: "users_email_key",
    field: "email",
    message: "This e-mail is already used.",
};

/// Creates the account in its own transaction (used by the CLI).
pub async fn create_account(state: &AppState, new: NewAccount, password: &Password) -> Result<CreatedAccount, AppError> {
    let hash = state.passwords.hash(password).await?;
    let mut tx = state.db.begin().await?;
    let created = insert_account(&mut tx, state, &new, &hash).await?;
    tx.commit().await?;
    Ok(created)
}

/// Inserts the account and its first Administrator; `password_hash` is `new.password` hashed.
pub async fn insert_account(
    conn: &mut PgConnection,
    state: &AppState,
    new: &NewAccount,
    password_hash: &str,
) -> Result<CreatedAccount, AppError> {
    let now = state.clock.now();
    let account_id = sqlx::query_scalar!(
        "INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id",
        new.account_name,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let company_id = sqlx::query_scalar!(
        "INSERT INTO companies (account_id, name, kind, created_at, path) VALUES ($1, $2, 'root', $3, '{}')
         RETURNING id",
        account_id,
        new.account_name,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!("UPDATE companies SET path = ARRAY[id] WHERE account_id = $1 AND id = $2", account_id, company_id)
        .execute(&mut *conn)
        .await?;

    sqlx::query!(
        "INSERT INTO customer_types (account_id, name, description, is_default, created_at)
         VALUES ($1, 'Standard', 'The type new customers get unless you choose another.', true, $2)",
        account_id,
        now
    )
    .execute(&mut *conn)
    .await?;

    let mut administrator_role = None;
    for role in BuiltinRole::ALL {
        let role_id = sqlx::query_scalar!(
            "INSERT INTO roles (account_id, name, rank, builtin, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            account_id,
            role.name(),
            role.rank(),
            role.key(),
            now
        )
        .fetch_one(&mut *conn)
        .await?;
        let keys: Vec<String> = role.default_permissions().iter().map(|p| p.key().to_owned()).collect();
        sqlx::query!(
            "INSERT INTO role_permissions (account_id, role_id, permission) SELECT $1, $2, unnest($3::text[])",
            account_id,
            role_id,
            &keys
        )
        .execute(&mut *conn)
        .await?;
        if role == BuiltinRole::Administrator {
            administrator_role = Some(role_id);
        }
    }

    let user_id = sqlx::query_scalar!(
        "INSERT INTO users (account_id, kind, email, display_name, company_id, role_id, status, password_hash,
                            must_change_password, password_changed_at, created_at, updated_at)
         VALUES ($1, 'staff', $2, $3, $4, $5, 'active', $6, $7, $8, $8, $8)
         RETURNING id",
        account_id,
        new.email.as_str(),
        new.display_name,
        company_id,
        administrator_role,
        password_hash,
        new.must_change_password,
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[EMAIL_TAKEN]))?;

    Actor::person(Some(account_id), user_id, new.email.as_str(), now)
        .audit(
            conn,
            Action::AccountCreated,
            Record::account(account_id),
            json!({ "name": new.account_name, "administrator": new.email.as_str() }),
        )
        .await?;
    Ok(CreatedAccount { account_id, user_id })
}
