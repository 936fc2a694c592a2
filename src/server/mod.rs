//! The platform every feature stands on: configuration, application state, the database pool,
//! the clock, secrets (tokens and password hashes), the HTTP helpers, error mapping, rate
//! counters and locks, and who is signed in with what they may do (sessions, capabilities). It
//! names no feature and not the app (that is `boot`'s job). Compiled only with `ssr`.

pub mod api_keys;
pub mod capability;
pub mod clock;
pub mod config;
pub mod csv;
pub mod download;
pub mod errors;
pub mod http;
pub mod limits;
pub mod locks;
pub mod passwords;
pub mod session;
pub mod state;
pub mod tokens;

use sqlx::{postgres::PgPoolOptions, PgPool};
use std::time::Duration;

/// The folder under the site root, and the URL path, of the built JavaScript, WebAssembly and CSS.
pub const SITE_PKG_DIR: &str = "pkg";

/// A pool that fails fast when PostgreSQL is away and reconnects by itself when it returns.
pub fn pool(database_url: &str) -> Result<PgPool, sqlx::Error> {
    Ok(PgPoolOptions::new()
        .max_connections(16)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(database_url)?)
}
