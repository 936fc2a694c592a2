//! The API page's server function: the operations of the OpenAPI document.

use super::ApiReference;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "api_reference")]
pub async fn get_api_reference() -> Result<ApiReference, AppError> {
    use crate::{permissions::grant::ApiKeysManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let _allowed = staff.allow::<ApiKeysManage>()?;
    let base_url = format!("{}{}", state.config.public_url().as_str().trim_end_matches('/'), super::BASE_PATH);
    Ok(ApiReference { base_url, operations: super::ssr::operations(), webhooks: staff.is_administrator() })
}
