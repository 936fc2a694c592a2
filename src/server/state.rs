//! What every request handler and server function can reach: provided as Leptos context (for
//! server functions and rendering) and as axum state (for plain handlers). No globals, so each
//! test runs the whole application on its own database.

use super::{clock::Clock, config::Config};
use super::passwords::PasswordHasher;
use crate::error::AppError;
use axum::extract::FromRef;
use leptos::prelude::*;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: PgPool,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub passwords: PasswordHasher,
}

impl AppState {
    pub fn new(config: Config, db: PgPool, leptos_options: LeptosOptions) -> Self {
        let passwords = PasswordHasher::new(config.hash_concurrency);
        Self {
            leptos_options,
            db,
            config: Arc::new(config),
            clock: Clock::default(),
            passwords,
        }
    }
}

/// The application state inside a server function or while rendering.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>()
        .ok_or_else(|| crate::error::internal("application state missing from context"))
}
