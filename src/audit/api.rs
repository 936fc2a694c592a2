//! The audit log's server function.

use super::{AuditPage, AuditQuery};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "audit")]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::{permissions::grant::AuditView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<AuditView>()?;
    let (from, to) = query.dates().map_err(|message| {
        let mut errors = FieldErrors::default();
        errors.add("from", message);
        AppError::Validation(errors)
    })?;
    let mut conn = state.db.acquire().await?;
    super::ssr::page(&mut conn, &allowed, &query, from, to, 0).await
}
