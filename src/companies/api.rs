//! The server functions of the company tree: each parses its input, asks for its capability,
//! and calls one function of `ssr` inside one transaction.

use super::{CompanyTree, DeletionPreview};
#[cfg(feature = "ssr")]
use super::{KIND, NAME};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "companies")]
pub async fn list_companies() -> Result<CompanyTree, AppError> {
    use crate::{permissions::grant::CompaniesView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::tree(&mut conn, &allowed).await
}

#[server(prefix = "/api", endpoint = "create_company")]
pub async fn create_company(parent_id: i64, name: String, kind: String) -> Result<i64, AppError> {
    use crate::{permissions::grant::CompaniesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesManage>()?;
    let mut errors = FieldErrors::default();
    let name = NAME.take(&mut errors, &name);
    let kind = KIND.take(&mut errors, &kind);
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(AppError::Validation(errors));
    };
    let mut tx = state.db.begin().await?;
    let id = super::ssr::create(&mut tx, &state, &allowed, parent_id, &name, kind).await?;
    tx.commit().await?;
    Ok(id)
}

#[server(prefix = "/api", endpoint = "rename_company")]
pub async fn rename_company(id: i64, name: String, version: i32) -> Result<(), AppError> {
    use crate::{permissions::grant::CompaniesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesManage>()?;
    let name = NAME.check(&name).map_err(|m| AppError::field(NAME.name, m))?;
    let mut tx = state.db.begin().await?;
    super::ssr::rename(&mut tx, &state, &allowed, id, &name, version).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "move_company")]
pub async fn move_company(id: i64, parent_id: i64, version: i32) -> Result<(), AppError> {
    use crate::{permissions::grant::CompaniesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::relocate(&mut tx, &state, &allowed, id, parent_id, version).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "company_deletion")]
pub async fn preview_company_deletion(id: i64) -> Result<DeletionPreview, AppError> {
    use crate::{permissions::grant::CompaniesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesManage>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::deletion_preview(&mut conn, &allowed, id).await
}

/// Deletes the company and the companies below it; `expected_companies` is how many the user
/// was shown would go.
#[server(prefix = "/api", endpoint = "delete_company")]
pub async fn delete_company(id: i64, expected_companies: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::CompaniesManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::delete(&mut tx, &state, &allowed, id, expected_companies).await?;
    tx.commit().await?;
    Ok(())
}
