//! The overview's server function.

use super::Overview;
use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use crate::server::{session::require_user, state::app_state};
    let state = app_state()?;
    let user = require_user().await?;
    let mut conn = state.db.acquire().await?;
    super::ssr::overview(&mut conn, user, state.clock.now()).await
}
