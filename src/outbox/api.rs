//! The outbox's server functions (Administrators only: it shows every message of the account).

use super::OutboxList;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "outbox")]
pub async fn list_outbox(page: i64) -> Result<OutboxList, AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::page(&mut conn, &state, &allowed, page).await
}

/// Sends a failed (or waiting) message again now: it goes back to the queue, due immediately.
#[server(prefix = "/api", endpoint = "retry_outbox")]
pub async fn retry_message(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::Administrator, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<Administrator>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::retry(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
