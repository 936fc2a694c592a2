//! The server functions of customer types: parse, capability, one call of `ssr` in one
//! transaction.

use super::CustomerTypeList;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "customer_types")]
pub async fn list_customer_types() -> Result<CustomerTypeList, AppError> {
    use crate::{permissions::grant::CustomerTypesView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerTypesView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::list(&mut conn, &allowed).await
}

/// Creates a type (`id` empty) or changes one; `make_default` moves the default to it.
#[server(prefix = "/api", endpoint = "save_customer_type")]
pub async fn save_customer_type(
    id: Option<i64>,
    name: String,
    #[server(default)] description: String,
    #[server(default)] features: Vec<String>,
    #[server(default)] make_default: Option<String>,
    version: Option<i32>,
) -> Result<i64, AppError> {
    use crate::{permissions::grant::CustomerTypesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerTypesManage>()?;
    let input = super::validate_customer_type(&name, &description, &features).map_err(AppError::Validation)?;
    let mut tx = state.db.begin().await?;
    let type_id = super::ssr::save(&mut tx, &state, &allowed, id, &input, make_default.is_some(), version).await?;
    tx.commit().await?;
    Ok(type_id)
}

#[server(prefix = "/api", endpoint = "delete_customer_type")]
pub async fn delete_customer_type(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::CustomerTypesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerTypesManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
