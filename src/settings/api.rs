//! The server functions of account settings: parse, capability, one call of `ssr`.

use super::AccountSettings;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "account_settings")]
pub async fn get_account_settings() -> Result<AccountSettings, AppError> {
    use crate::{permissions::grant::AccountSettingsManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<AccountSettingsManage>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::settings(&mut conn, &state, &allowed).await
}

/// Saves the settings; answers the new version, for the next save from the same form.
#[server(prefix = "/api", endpoint = "update_account_settings")]
pub async fn update_account_settings(
    name: String,
    invitation_valid_days: String,
    session_idle_minutes: String,
    session_absolute_hours: String,
    version: i32,
) -> Result<i32, AppError> {
    use crate::{permissions::grant::AccountSettingsManage, server::{capability::require_staff, http::redirect_plain_form, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<AccountSettingsManage>()?;
    let input = super::validate_settings(&name, &invitation_valid_days, &session_idle_minutes, &session_absolute_hours)
        .map_err(AppError::Validation)?;
    let mut tx = state.db.begin().await?;
    let version = super::ssr::update(&mut tx, &state, &allowed, &input, version).await?;
    tx.commit().await?;
    redirect_plain_form("/settings?saved=1");
    Ok(version)
}
