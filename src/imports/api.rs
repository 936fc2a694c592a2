//! The import's server functions: each acts only on the caller's own jobs, and asks for the
//! permission the job's kind needs (*Customers – Create*, *Customer users – Manage*).

use super::{ImportSummary, ImportView, RowPage};
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "import_job")]
pub async fn load_import(id: i64) -> Result<ImportView, AppError> {
    use super::ssr::Importer;
    use crate::server::{capability::require_staff, state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    let mut conn = state.db.acquire().await?;
    let importer = Importer::of_job(&mut conn, &staff, id).await?;
    super::ssr::view(&mut conn, &importer, id, state.clock.now()).await
}

#[server(prefix = "/api", endpoint = "import_rows")]
pub async fn load_import_rows(id: i64, #[server(default)] filter: String, #[server(default)] after: i32) -> Result<RowPage, AppError> {
    use super::ssr::Importer;
    use crate::server::{capability::require_staff, state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    let mut conn = state.db.acquire().await?;
    let importer = Importer::of_job(&mut conn, &staff, id).await?;
    super::ssr::rows(&mut conn, &importer, id, &filter, after, state.clock.now()).await
}

/// The caller's recent imports of one kind (`customers`, `customer_users`).
#[server(prefix = "/api", endpoint = "recent_imports")]
pub async fn recent_imports(#[server(default)] kind: String) -> Result<Vec<ImportSummary>, AppError> {
    use super::{ssr::Importer, ImportKind};
    use crate::server::{capability::require_staff, state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    let kind = if kind.is_empty() { ImportKind::Customers } else { ImportKind::from_key(&kind).ok_or(AppError::NotFound)? };
    let importer = Importer::new(&staff, kind)?;
    let mut conn = state.db.acquire().await?;
    super::ssr::recent(&mut conn, &importer).await
}

/// The dry run with these settings: `columns` gives, for each field of the file's kind in
/// order, the column that fills it (empty: none). A customer file names the type, owner and
/// group of new customers; a customer user file whether activation links are e-mailed.
#[server(prefix = "/api", endpoint = "check_import")]
pub async fn check_import(
    id: i64,
    #[server(default)] columns: Vec<String>,
    #[server(default)] customer_type_id: String,
    #[server(default)] owner_company_id: String,
    #[server(default)] group_id: String,
    #[server(default)] existing: String,
    #[server(default)] mode: String,
    #[server(default)] send_activation: String,
) -> Result<(), AppError> {
    use super::{ssr::Importer, Existing, ImportKind, ImportSettings, Mode};
    use crate::{
        customers::{CUSTOMER_TYPE, OWNER_COMPANY},
        error::FieldErrors,
        server::{capability::require_staff, state::app_state},
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    let mut tx = state.db.begin().await?;
    let importer = Importer::of_job(&mut tx, &staff, id).await?;
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
    let mut settings = ImportSettings {
        kind: importer.kind(),
        columns,
        existing: if existing == "update" { Existing::Update } else { Existing::Skip },
        mode: if mode == "valid_only" { Mode::ValidOnly } else { Mode::AllOrNothing },
        send_activation: matches!(send_activation.as_str(), "on" | "true" | "yes"),
        ..Default::default()
    };
    if importer.kind() == ImportKind::Customers {
        let type_id = CUSTOMER_TYPE.take(&mut errors, &customer_type_id);
        let owner_id = OWNER_COMPANY.take(&mut errors, &owner_company_id);
        settings.group_id = match group_id.trim() {
            "" => None,
            g => g.parse::<i64>().ok().or_else(|| {
                errors.add("group_id", "Choose a group from the list.");
                None
            }),
        };
        settings.customer_type_id = type_id.unwrap_or_default();
        settings.owner_company_id = owner_id.unwrap_or_default();
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    super::ssr::check(&mut tx, &state, &importer, id, &settings).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a checked import; it runs on after the answer, its progress on the job.
#[server(prefix = "/api", endpoint = "start_import")]
pub async fn start_import(id: i64) -> Result<(), AppError> {
    use super::ssr::Importer;
    use crate::server::{capability::require_staff, state::app_state};
    use leptos::reactive::owner::Owner;
    let state = app_state()?;
    let staff = require_staff().await?;
    let kind = {
        let mut tx = state.db.begin().await?;
        let importer = Importer::of_job(&mut tx, &staff, id).await?;
        super::ssr::start(&mut tx, &importer, id, state.clock.now()).await?;
        tx.commit().await?;
        importer.kind()
    };
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
                    super::ssr::run(state, staff, kind, id).await
                })
            })
            .await
    });
    Ok(())
}
