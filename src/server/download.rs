//! Files streamed to the browser as they are made (issue 13): the first rows leave at once and
//! memory stays flat however long the file. A producer writes chunks into a small channel; the
//! response body reads them. When the browser goes away the producer's next send fails and it
//! stops; when the producer fails half-way the body ends with an error, so the download is
//! reported as failed rather than looking complete.

use super::{http::same_origin, state::AppState};
use crate::error::AppError;
use axum::{body::Body, extract::Request, response::{IntoResponse, Response}};
use bytes::Bytes;
use futures::{channel::mpsc, SinkExt};
use http::{header, HeaderValue, StatusCode};
use leptos::{prelude::*, reactive::{computed::ScopedFuture, owner::Owner}};
use std::future::Future;

/// Chunks waiting between the producer and the socket: a little read-ahead, never the file.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Where a producer writes a download's bytes. The file ends when every clone is dropped.
#[derive(Clone)]
pub struct Sink {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

/// The browser stopped reading.
#[derive(Debug)]
pub struct Gone;

/// Why a file was not written to its end.
#[derive(Debug)]
pub enum Stopped {
    /// The browser went away.
    Gone,
    Failed(AppError),
}

impl From<Gone> for Stopped {
    fn from(_: Gone) -> Self {
        Stopped::Gone
    }
}

impl From<AppError> for Stopped {
    fn from(error: AppError) -> Self {
        Stopped::Failed(error)
    }
}

impl From<sqlx::Error> for Stopped {
    fn from(error: sqlx::Error) -> Self {
        Stopped::Failed(error.into())
    }
}

/// Writes the file in the background once its answer has started (`work` holds its own clone
/// of `sink`), and notes how it ended; a failure ends the file as failed.
pub fn write_in_background<Fut>(what: &'static str, sink: Sink, work: Fut)
where
    Fut: Future<Output = Result<u64, Stopped>> + Send + 'static,
{
    tokio::spawn(async move {
        match work.await {
            Ok(rows) => tracing::info!(what, rows, "exported"),
            Err(Stopped::Gone) => tracing::info!(what, "export stopped: the browser went away"),
            Err(Stopped::Failed(error)) => {
                tracing::error!(what, error = %error, "export failed");
                sink.fail("the export failed").await;
            }
        }
    });
}

impl Sink {
    pub async fn send(&mut self, chunk: Bytes) -> Result<(), Gone> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.tx.send(Ok(chunk)).await.map_err(|_| Gone)
    }

    /// Ends the download as failed.
    pub async fn fail(mut self, why: &str) {
        let _ = self.tx.send(Err(std::io::Error::other(why.to_owned()))).await;
    }
}

/// A download named `file_name` of `content_type`, and the sink that fills it.
pub fn streamed(file_name: &str, content_type: &'static str) -> (Sink, Response) {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let mut response = Response::new(Body::from_stream(rx));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let safe: String = file_name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    (Sink { tx }, response)
}

/// A read-only transaction on one snapshot, for a file read in batches: a row changed meanwhile
/// is neither lost nor repeated.
pub async fn snapshot(db: &sqlx::PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    Ok(tx)
}

/// The answer for the CSV file `name`, which `write` fills in the background (see
/// [`write_in_background`]).
pub fn csv_file<F, Fut>(name: &str, what: &'static str, write: F) -> Response
where
    F: FnOnce(Sink) -> Fut,
    Fut: Future<Output = Result<u64, Stopped>> + Send + 'static,
{
    let (sink, response) = streamed(name, CSV);
    write_in_background(what, sink.clone(), write(sink));
    response
}

/// The content type of every CSV download.
pub const CSV: &str = "text/csv; charset=utf-8";

/// Answers a download link as a page's server function would run: refused when it comes from
/// another site, with the request and the state as context so the session and capabilities
/// work as everywhere else. `make` checks who asks before anything streams, so a refusal is
/// an ordinary answer (401, 403, 404) and not a broken file.
pub async fn answer<F, Fut>(state: AppState, req: Request, make: F) -> Response
where
    F: FnOnce(AppState, http::request::Parts) -> Fut,
    Fut: Future<Output = Result<Response, AppError>>,
{
    if !same_origin(req.headers(), &state.config.public_url()) {
        return refused(&AppError::CrossSite);
    }
    let (parts, _) = req.into_parts();
    let owner = Owner::new();
    owner
        .with(|| {
            ScopedFuture::new(async move {
                provide_context(state.clone());
                provide_context(parts.clone());
                match make(state, parts).await {
                    Ok(response) => response,
                    Err(error) => refused(&error),
                }
            })
        })
        .await
}

/// A refusal a person reads in the browser's tab.
pub fn refused(error: &AppError) -> Response {
    (error.status(), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], error.to_string()).into_response()
}

/// The value of `key` in the request's query string.
pub fn query_value(parts: &http::request::Parts, key: &str) -> Option<String> {
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}
