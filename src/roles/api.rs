//! The server functions of roles: parse, capability, one call of `ssr` in one transaction.

use super::RoleList;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "roles")]
pub async fn list_roles() -> Result<RoleList, AppError> {
    use crate::{permissions::grant::UsersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::list(&mut conn, &allowed).await
}

/// Creates a custom role (`id` empty) or changes one.
#[server(prefix = "/api", endpoint = "save_role")]
pub async fn save_role(
    id: Option<i64>,
    name: String,
    rank: String,
    #[server(default)] permissions: Vec<String>,
    version: Option<i32>,
) -> Result<i64, AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let own: Vec<_> = staff.user().permissions().iter().copied().collect();
    let input = super::validate_role(&name, &rank, &permissions, staff.role().rank(), &own).map_err(AppError::Validation)?;
    let mut tx = state.db.begin().await?;
    let role_id = super::ssr::save(&mut tx, &state, &allowed, id, &input, version).await?;
    tx.commit().await?;
    Ok(role_id)
}

#[server(prefix = "/api", endpoint = "delete_role")]
pub async fn delete_role(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
