//! The server functions of webhooks: parse, capability (Administrators), one call of `ssr`.

use super::{WebhookSecret, Webhooks};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "webhooks")]
pub async fn list_webhooks() -> Result<Webhooks, AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::list(&mut conn, &allowed).await
}

#[server(prefix = "/api", endpoint = "create_webhook")]
pub async fn create_webhook(url: String, #[server(default)] events: Vec<String>) -> Result<WebhookSecret, AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let (url, events) = super::validate_webhook(&url, &events).map_err(AppError::Validation)?;
    let mut tx = state.db.begin().await?;
    let created = super::ssr::create(&mut tx, &state, &allowed, &url, &events).await?;
    tx.commit().await?;
    Ok(created)
}

/// Gives the endpoint a new signing secret; the old one stops at once.
#[server(prefix = "/api", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: i64) -> Result<WebhookSecret, AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let mut tx = state.db.begin().await?;
    let rotated = super::ssr::rotate(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(rotated)
}

#[server(prefix = "/api", endpoint = "delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Queues a delivery to be sent again now.
#[server(prefix = "/api", endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::redeliver(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
