//! The read-only lists: customer types, companies and audit events, each through the
//! capability and the function its page uses.

use super::{problem::Problem, ApiQuery};
use crate::{
    audit::{ssr::page as audit_page, AuditQuery},
    companies::ssr::tree,
    customer_types::ssr::list as types_list,
    error::AppError,
    permissions::grant::{AuditView, CompaniesView, CustomerTypesView},
    server::{capability::require_staff, state::app_state},
};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerType {
    pub id: i64,
    #[schema(example = "Residential")]
    pub name: String,
    pub description: Option<String>,
    /// What its customer users may do in the portal.
    #[schema(example = json!(["manage_customer_users"]))]
    pub features: Vec<String>,
    /// New customers get it unless told otherwise.
    pub is_default: bool,
    pub customer_count: i64,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Company {
    pub id: i64,
    /// Absent for the account's own company, the top of the tree.
    pub parent_id: Option<i64>,
    #[schema(example = "Sunrise Installers")]
    pub name: String,
    /// `root`, `distributor` or `installer`.
    #[schema(example = "installer")]
    pub kind: String,
    /// 0 for the top of what the key may see.
    pub depth: i64,
    pub user_count: i64,
    pub version: i32,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Part of the actor's e-mail address.
    #[param(pattern = "^[^\\x00]*$")]
    pub actor: Option<String>,
    /// An action key, such as `customer.created`.
    #[param(pattern = "^[^\\x00]*$")]
    pub action: Option<String>,
    /// A record type, such as `customer`.
    #[param(pattern = "^[^\\x00]*$")]
    pub record_type: Option<String>,
    #[param(pattern = "^[^\\x00]*$")]
    pub record_id: Option<String>,
    /// First day included (UTC), YYYY-MM-DD.
    #[param(pattern = "^[^\\x00]*$")]
    pub from: Option<String>,
    /// Last day included (UTC), YYYY-MM-DD.
    #[param(pattern = "^[^\\x00]*$")]
    pub to: Option<String>,
    /// 1-based; 50 events a page, newest first.
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedField {
    pub field: String,
    pub from: Option<String>,
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    /// Who did it; a change made through an API key names the key.
    #[schema(example = "ops@example.com (API key “CRM sync”)")]
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub client_ip: Option<String>,
    pub changes: Vec<ChangedField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventPage {
    pub data: Vec<AuditEvent>,
    pub page: i64,
    pub has_next: bool,
}

/// List customer types
///
/// Needs Customer types – View.
#[utoipa::path(get, path = "/customer-types", tag = "Customer types",
    responses((status = 200, description = "The account's customer types", body = Vec<CustomerType>), super::Errors))]
pub async fn customer_types() -> Result<Json<Vec<CustomerType>>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerTypesView>()?;
    let mut conn = state.db.acquire().await?;
    let list = types_list(&mut conn, &allowed).await?;
    Ok(Json(
        list.types
            .into_iter()
            .map(|t| CustomerType {
                id: t.id,
                name: t.name,
                description: t.description,
                features: t.features.iter().map(|f| f.key().to_owned()).collect(),
                is_default: t.is_default,
                customer_count: t.customer_count,
                version: t.version,
            })
            .collect(),
    ))
}

/// List companies
///
/// Needs Companies – View. The key's company and every company below it, depth first.
#[utoipa::path(get, path = "/companies", tag = "Companies",
    responses((status = 200, description = "The companies the key may see", body = Vec<Company>), super::Errors))]
pub async fn companies() -> Result<Json<Vec<Company>>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CompaniesView>()?;
    let mut conn = state.db.acquire().await?;
    let tree = tree(&mut conn, &allowed).await?;
    Ok(Json(
        tree.nodes
            .into_iter()
            .map(|n| Company {
                id: n.id,
                parent_id: n.parent_id,
                name: n.name,
                kind: n.kind.as_str().to_owned(),
                depth: n.depth as i64,
                user_count: n.user_count,
                version: n.version,
            })
            .collect(),
    ))
}

/// List audit events
///
/// Needs Audit log – View. Events of the key's company subtree; events of the account as a
/// whole need Account settings – Manage as well.
#[utoipa::path(get, path = "/audit-events", tag = "Audit log", params(AuditParams),
    responses((status = 200, description = "One page of events, newest first", body = AuditEventPage), super::Errors))]
pub async fn audit_events(ApiQuery(params): ApiQuery<AuditParams>) -> Result<Json<AuditEventPage>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<AuditView>()?;
    let page = params.page.unwrap_or(1);
    if !(1..=10_000).contains(&page) {
        return Err(AppError::field("page", "Use a page from 1 to 10,000.").into());
    }
    let query = AuditQuery {
        actor: params.actor.unwrap_or_default(),
        action: params.action.unwrap_or_default(),
        record_type: params.record_type.unwrap_or_default(),
        record_id: params.record_id.unwrap_or_default(),
        from: params.from.unwrap_or_default(),
        to: params.to.unwrap_or_default(),
        before: None,
    };
    let (from, to) = query.dates().map_err(|message| AppError::field("from", message))?;
    let mut conn = state.db.acquire().await?;
    let found = audit_page(&mut conn, &allowed, &query, from, to, (page - 1) * crate::audit::PAGE_SIZE).await?;
    Ok(Json(AuditEventPage {
        data: found
            .entries
            .into_iter()
            .map(|e| AuditEvent {
                id: e.id,
                occurred_at: e.occurred_at,
                actor: e.actor,
                action: e.action,
                record_type: e.record_type,
                record_id: e.record_id,
                client_ip: e.client_ip,
                changes: e.changes.into_iter().map(|c| ChangedField { field: c.field, from: c.from, to: c.to }).collect(),
            })
            .collect(),
        page,
        has_next: found.next.is_some(),
    }))
}
