//! The background workers of a serving instance: mail delivery, the billing contacts' usage
//! warnings, and the clean-up of what has expired. Any number of instances may run them at once on one database.

use crate::server::state::AppState;

/// Starts the workers on the current runtime.
pub fn spawn(state: &AppState) {
    crate::services::mail::worker::spawn(state.clone());
    let warnings = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(error) = crate::billing::ssr::send_usage_warnings(&warnings).await {
                tracing::warn!(%error, "usage warnings failed");
            }
        }
    });
    let state = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(error) = clean_up(&state).await {
                tracing::warn!(%error, "clean-up of expired records failed");
            }
        }
    });
}

/// Deletes what has expired, each by the module that owns it: sessions at once, sign-in
/// counters after a day, single-use links a month after they stopped working (until then
/// their page can still say why), sign-up requests and rate counters after a day.
pub async fn clean_up(state: &AppState) -> Result<(), crate::error::AppError> {
    let now = state.clock.now();
    crate::server::session::clean_up(state, now).await?;
    crate::server::limits::clean_up(&state.db, now).await?;
    crate::auth::ssr::throttle::clean_up(&state.db, now).await?;
    crate::services::links::clean_up(&state.db, now).await?;
    Ok(())
}
