//! The background workers of a serving instance: mail delivery, webhook delivery, the billing
//! contacts' usage warnings, and the clean-up of what has expired. Any number of instances may run them at once on one database.

use crate::server::state::AppState;

/// How often due webhook deliveries are looked for, and how many are sent per query.
const WEBHOOK_POLL_SECONDS: u64 = 5;
// At most 15 s an attempt (5 s to resolve, 10 s to answer): a batch ends well inside the
// five-minute claim.
const WEBHOOK_BATCH: i64 = 10;

/// Starts the workers on the current runtime.
pub fn spawn(state: &AppState) {
    crate::services::mail::worker::spawn(state.clone());
    let hooks = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(WEBHOOK_POLL_SECONDS));
        loop {
            every.tick().await;
            // Drain what is due in batches, then wait for the next tick.
            loop {
                match crate::services::webhooks::ssr::deliver_due(&hooks, WEBHOOK_BATCH).await {
                    Ok(n) if n as i64 == WEBHOOK_BATCH => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "webhook delivery failed");
                        break;
                    }
                }
            }
        }
    });
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
/// their page can still say why), sign-up requests and rate counters after a day, import
/// jobs and their files after a month.
pub async fn clean_up(state: &AppState) -> Result<(), crate::error::AppError> {
    let now = state.clock.now();
    crate::server::session::clean_up(state, now).await?;
    crate::server::limits::clean_up(&state.db, now).await?;
    crate::auth::ssr::throttle::clean_up(&state.db, now).await?;
    crate::services::links::clean_up(&state.db, now).await?;
    crate::services::webhooks::ssr::clean_up(&state.db, now).await?;
    crate::imports::ssr::clean_up(&state.db, now).await?;
    Ok(())
}
