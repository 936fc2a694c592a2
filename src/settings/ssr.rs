//! Every query of account settings.

use super::{AccountSettings, SettingsInput};
use crate::{
    error::AppError,
    permissions::grant::AccountSettingsManage,
    server::{capability::Allowed, state::AppState},
    services::audit::{Action, Actor, Changes, Record},
};
use sqlx::PgConnection;

pub async fn settings(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, AccountSettingsManage>) -> Result<AccountSettings, AppError> {
    let row = sqlx::query!(
        "SELECT name, invitation_valid_days, session_idle_minutes, session_absolute_hours, version
           FROM accounts WHERE id = $1",
        allowed.account_id()
    )
    .fetch_one(conn)
    .await?;
    Ok(AccountSettings {
        name: row.name,
        invitation_valid_days: row.invitation_valid_days,
        session_idle_minutes: row.session_idle_minutes,
        session_absolute_hours: row.session_absolute_hours,
        default_idle_minutes: state.config.session_idle_minutes,
        default_absolute_hours: state.config.session_absolute_hours,
        version: row.version,
    })
}

/// Saves the settings when nobody saved them since `version` was read; the new version.
pub async fn update(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, AccountSettingsManage>,
    input: &SettingsInput,
    version: i32,
) -> Result<i32, AppError> {
    let account_id = allowed.account_id();
    let before = sqlx::query!(
        "SELECT name, invitation_valid_days, session_idle_minutes, session_absolute_hours, version
           FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
        account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if before.version != version {
        return Err(AppError::Conflict);
    }
    sqlx::query!(
        "UPDATE accounts SET name = $2, invitation_valid_days = $3, session_idle_minutes = $4,
                             session_absolute_hours = $5, version = version + 1
          WHERE id = $1",
        account_id,
        input.name,
        input.invitation_valid_days,
        input.session_idle_minutes,
        input.session_absolute_hours
    )
    .execute(&mut *conn)
    .await?;
    let changes = Changes::default()
        .field("name", &before.name, &input.name)
        .field("invitation_valid_days", &before.invitation_valid_days, &input.invitation_valid_days)
        .field("session_idle_minutes", &before.session_idle_minutes, &input.session_idle_minutes)
        .field("session_absolute_hours", &before.session_absolute_hours, &input.session_absolute_hours);
    Actor::staff(allowed.staff(), state.clock.now())
        .audit(conn, Action::AccountSettingsUpdated, Record::account(account_id), changes)
        .await?;
    Ok(version + 1)
}
