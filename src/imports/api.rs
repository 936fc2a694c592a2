//! The import's server functions: each asks for *Customers – Create* and acts only on the
//! caller's own jobs.

use super::{ImportSummary, ImportView, RowPage};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "import_job")]
pub async fn load_import(id: i64) -> Result<ImportView, AppError> {
    use crate::{permissions::grant::CustomersCreate, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::view(&mut conn, &allowed, id, state.clock.now()).await
}

#[server(prefix = "/api", endpoint = "import_rows")]
pub async fn load_import_rows(id: i64, #[server(default)] filter: String, #[server(default)] after: i32) -> Result<RowPage, AppError> {
    use crate::{permissions::grant::CustomersCreate, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::rows(&mut conn, &allowed, id, &filter, after, state.clock.now()).await
}

#[server(prefix = "/api", endpoint = "recent_imports")]
pub async fn recent_imports() -> Result<Vec<ImportSummary>, AppError> {
    use crate::{permissions::grant::CustomersCreate, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::recent(&mut conn, &allowed).await
}

/// The dry run with these settings: `columns` gives, for each field in order, the column that
/// fills it (empty: none).
#[server(prefix = "/api", endpoint = "check_import")]
pub async fn check_import(
    id: i64,
    #[server(default)] columns: Vec<String>,
    customer_type_id: String,
    owner_company_id: String,
    #[server(default)] group_id: String,
    #[server(default)] existing: String,
    #[server(default)] mode: String,
) -> Result<(), AppError> {
    use super::{Existing, ImportSettings, Mode};
    use crate::{
        customers::{CUSTOMER_TYPE, OWNER_COMPANY},
        error::FieldErrors,
        permissions::grant::CustomersCreate,
        server::{capability::require_staff, state::app_state},
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let mut errors = FieldErrors::default();
    let columns: Vec<Option<u32>> = columns
        .iter()
        .map(|c| match c.trim() {
            "" => Some(None),
            n => n.parse::<u32>().ok().map(Some),
        })
        .collect::<Option<_>>()
        .unwrap_or_else(|| {
            errors.add("columns", "Choose columns of this file.");
            Vec::new()
        });
    let type_id = CUSTOMER_TYPE.take(&mut errors, &customer_type_id);
    let owner_id = OWNER_COMPANY.take(&mut errors, &owner_company_id);
    let group_id = match group_id.trim() {
        "" => None,
        g => g.parse::<i64>().ok().or_else(|| {
            errors.add("group_id", "Choose a group from the list.");
            None
        }),
    };
    let (Some(customer_type_id), Some(owner_company_id), true) = (type_id, owner_id, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let settings = ImportSettings {
        columns,
        customer_type_id,
        owner_company_id,
        group_id,
        existing: if existing == "update" { Existing::Update } else { Existing::Skip },
        mode: if mode == "valid_only" { Mode::ValidOnly } else { Mode::AllOrNothing },
    };
    let mut tx = state.db.begin().await?;
    super::ssr::check(&mut tx, &allowed, id, &settings, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a checked import; it runs on after the answer, its progress on the job.
#[server(prefix = "/api", endpoint = "start_import")]
pub async fn start_import(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::CustomersCreate, server::{capability::require_staff, state::app_state}};
    use leptos::reactive::owner::Owner;
    let state = app_state()?;
    let staff = require_staff().await?;
    {
        let allowed = staff.allow::<CustomersCreate>()?;
        let mut tx = state.db.begin().await?;
        super::ssr::start(&mut tx, &allowed, id, state.clock.now()).await?;
        tx.commit().await?;
    }
    // The job outlives the request; its audit rows still name the request's client.
    let parts = use_context::<axum::http::request::Parts>();
    tokio::spawn(async move {
        let owner = Owner::new();
        owner
            .with(|| {
                leptos::reactive::computed::ScopedFuture::new(async move {
                    if let Some(parts) = parts {
                        provide_context(parts);
                    }
                    super::ssr::run(state, staff, id).await
                })
            })
            .await
    });
    Ok(())
}
