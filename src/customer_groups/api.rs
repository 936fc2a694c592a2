//! The server functions of customer groups: parse, capability, one call of `ssr` in one
//! transaction.

use super::GroupList;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "customer_groups")]
pub async fn list_groups() -> Result<GroupList, AppError> {
    use crate::{permissions::grant::CustomersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::list(&mut conn, &allowed).await
}

/// Creates a group (`id` empty) or renames one.
#[server(prefix = "/api", endpoint = "save_customer_group")]
pub async fn save_group(id: Option<i64>, name: String, version: Option<i32>) -> Result<i64, AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let name = super::NAME.check(&name).map_err(|m| AppError::field(super::NAME.name, m))?;
    let mut tx = state.db.begin().await?;
    let group_id = super::ssr::save(&mut tx, &state, &allowed, id, &name, version).await?;
    tx.commit().await?;
    Ok(group_id)
}

/// Deletes a group; its customers stay, they just leave the group.
#[server(prefix = "/api", endpoint = "delete_customer_group")]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
