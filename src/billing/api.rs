//! The server functions of Billing: parse, capability, one call of `ssr`.

use super::Billing;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "billing")]
pub async fn get_billing() -> Result<Billing, AppError> {
    use crate::{permissions::grant::BillingView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<BillingView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::billing(&mut conn, &state, &allowed).await
}

/// Saves the billing contact and the usage warnings; answers the new version.
#[server(prefix = "/api", endpoint = "update_billing")]
pub async fn update_billing(contact_email: String, #[server(default)] usage_warnings: Option<String>, version: i32) -> Result<i32, AppError> {
    use crate::{permissions::grant::BillingManage, server::{capability::require_staff, http::redirect_plain_form, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<BillingManage>()?;
    let input = super::validate_billing(&contact_email, usage_warnings.is_some()).map_err(AppError::Validation)?;
    let mut tx = state.db.begin().await?;
    let version = super::ssr::update(&mut tx, &state, &allowed, &input, version).await?;
    tx.commit().await?;
    redirect_plain_form("/billing?saved=1");
    Ok(version)
}
