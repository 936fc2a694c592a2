//! The top floor: the only module that knows the app, the features and the workers together. It
//! builds the router (pages, server functions, site files), serves it, runs the CLI and starts
//! the background workers.

pub mod cli;
pub mod workers;

use crate::{
    app::{shell, App},
    server::{
        config::{Config, LogFormat},
        http, pool,
        state::AppState,
        SITE_PKG_DIR,
    },
};
use axum::{middleware, routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use std::time::Duration;
use tower_http::{compression::CompressionLayer, services::ServeDir, set_header::SetResponseHeaderLayer};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The file cargo-leptos writes beside the server binary when it gives the site files hashed
/// names (`hash-files` in `Cargo.toml`).
const HASH_FILE: &str = "hash.txt";

/// The Leptos options the server renders with; the site files come from `config.site_root`,
/// under their hashed names when the build left its hash file beside the binary.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let hashed = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE).exists())).unwrap_or(false);
    LeptosOptions::builder()
        .output_name(env!("CARGO_PKG_NAME"))
        .site_root(config.site_root.as_str())
        .site_pkg_dir(SITE_PKG_DIR)
        .site_addr(config.bind)
        .env(leptos::config::Env::PROD)
        .hash_files(hashed)
        .hash_file(HASH_FILE.into())
        .build()
}

/// Accepts connections with `TCP_NODELAY` set: a response's last small segment goes out at once
/// instead of waiting for the client's delayed acknowledgement of the one before (Nagle's
/// algorithm), which held every static file ~40 ms on a kept-alive connection.
pub async fn listen(addr: std::net::SocketAddr) -> std::io::Result<Listener> {
    use axum::serve::ListenerExt;
    Ok(tokio::net::TcpListener::bind(addr).await?.tap_io(no_delay as fn(&mut tokio::net::TcpStream)))
}

/// What [`listen`] accepts connections with.
pub type Listener = axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)>;

fn no_delay(tcp: &mut tokio::net::TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::warn!(%error, "could not set TCP_NODELAY on an accepted connection");
    }
}

/// The whole application: pages, server functions, static files, and the HTTP layers.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let mut app = Router::new()
        .route("/healthz", get(health))
        .route("/export/customers.csv", get(crate::customers::ssr::export::download))
        .route("/export/audit.csv", get(crate::audit::ssr::download))
        .route("/export/users.csv", get(crate::users::ssr::people::download))
        .route("/export/customer-users.csv", get(crate::customer_users::ssr::download))
        .route(
            "/import/customers",
            axum::routing::post(crate::imports::ssr::upload_customers_route)
                .layer(axum::extract::DefaultBodyLimit::max(crate::imports::UPLOAD_LIMIT)),
        )
        .route(
            "/import/customer-users",
            axum::routing::post(crate::imports::ssr::upload_customer_users_route)
                .layer(axum::extract::DefaultBodyLimit::max(crate::imports::UPLOAD_LIMIT)),
        )
        .route("/import/{id}/errors.csv", get(crate::imports::ssr::errors_route))
        .merge(crate::rest::ssr::router(&state))
        .merge(site_files(&state.leptos_options.site_root))
        .leptos_routes_with_context(&state, routes, context.clone(), render)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(middleware::from_fn_with_state(state.clone(), http::api_guard))
        .layer(middleware::map_response(revalidate_pages))
        .layer(CompressionLayer::new());
    for (name, value) in http::security_headers() {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    if state.config.secure_cookies() {
        // Served over HTTPS: browsers must never come back over plain HTTP.
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        ));
    }
    app.layer(middleware::from_fn_with_state(state.clone(), http::request_context))
        .with_state(state)
}

/// A page is the signed-in person's own and changes with every change: no shared cache keeps it,
/// and the browser asks again each time.
async fn revalidate_pages(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let html = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if html && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    }
    response
}

/// The built JavaScript, WebAssembly and CSS under `/pkg`, served on their own: conditional and
/// range requests get 304 and 206, a missing file is a plain 404, never an HTML page the browser
/// would try to run, and the brotli or gzip copy a release build wrote beside a file is sent to
/// a browser that takes it. Names with the build's hash are kept for a year; others revalidate.
fn site_files(site_root: &str) -> Router<AppState> {
    let dir = std::path::Path::new(site_root).join(SITE_PKG_DIR);
    Router::new()
        .nest_service(&format!("/{SITE_PKG_DIR}"), ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(middleware::map_response(cache_site_file))
}

/// A site file whose name carries its content's hash never changes: browsers keep it a year
/// without asking. Any other is asked for again each time (and answered 304 when unchanged).
async fn cache_site_file(uri: axum::http::Uri, mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{header::CACHE_CONTROL, HeaderValue};
    let name = uri.path().rsplit('/').next().unwrap_or_default();
    let value = if http::is_hashed_name(name) { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> axum::http::StatusCode {
    match sqlx::query_scalar!("SELECT 1 AS \"one!\"").fetch_one(&state.db).await {
        Ok(_) => axum::http::StatusCode::OK,
        Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
    }
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Applies pending migrations, waiting up to a minute for PostgreSQL to accept connections.
pub async fn migrate(db: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut attempts = 0;
    loop {
        match MIGRATOR.run(db).await {
            Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)))
                if attempts < 20 =>
            {
                attempts += 1;
                tracing::warn!("waiting for PostgreSQL ({attempts})");
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            other => return other,
        }
    }
}

/// Runs the web server until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow_like::Result<()> {
    let database_url = config.database_url.clone().ok_or("DATABASE_URL is not set")?;
    let db = pool(&database_url)?;
    migrate(&db).await?;
    let state = AppState::new(config.clone(), db, leptos_options(&config));
    workers::spawn(&state);

    let listener = listen(config.bind).await?;
    let mail = if !config.mail_undelivered() {
        ""
    } else if config.dev_mail() {
        "; development mail: no SMTP_URL, so mail stays in the Outbox page, links shown"
    } else {
        "; no SMTP_URL: mail is not delivered, and its links stay hidden (set SMTP_URL, or ROSTER_DEV_MAIL=true for a local trial)"
    };
    tracing::info!("Roster is serving on {} (public URL {}){mail}", axum::serve::Listener::local_addr(&listener)?, config.public_url());
    println!("Roster is ready at {}", config.public_url().as_str().trim_end_matches('/'));
    axum::serve(listener, router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// A boxed error for the command-line entry points, where any failure ends the process with its
/// message.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}
