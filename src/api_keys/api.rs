//! The server functions of API keys: parse, capability, one call of `ssr`.

use super::{ApiKeys, CreatedKey};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "api_keys")]
pub async fn list_api_keys() -> Result<ApiKeys, AppError> {
    use crate::{permissions::grant::ApiKeysManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<ApiKeysManage>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::list(&mut conn, &state, &allowed).await
}

/// Makes a key; its secret is in the answer and nowhere else, ever.
#[server(prefix = "/api", endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    expires_in_days: String,
    company_id: String,
    #[server(default)] permissions: Vec<String>,
) -> Result<CreatedKey, AppError> {
    use crate::{permissions::grant::ApiKeysManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<ApiKeysManage>()?;
    let input = super::validate_new_key(&name, &expires_in_days, &company_id, &permissions).map_err(AppError::Validation)?;
    let mut tx = state.db.begin().await?;
    let created = super::ssr::create(&mut tx, &state, &allowed, &input).await?;
    tx.commit().await?;
    Ok(created)
}

#[server(prefix = "/api", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::ApiKeysManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<ApiKeysManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::revoke(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
