//! The REST API v1 (issue 12) for integrators: JSON over `/api/v1`, authenticated by API keys
//! (`Authorization: Bearer …`, never cookies), described by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json`, with problem details (RFC 9457) for every error. Its handlers ask
//! for the same capabilities and call the same feature functions as the server functions; the
//! API page lists the operations from the same document, beside the account's API keys.

mod api;
mod api_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use api_page::ApiPage;

use serde::{Deserialize, Serialize};

/// Where the API is served, below the public URL.
pub const BASE_PATH: &str = "/api/v1";

/// One operation of the API as the reference lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
}

/// The API reference: the operations of the OpenAPI document, in its order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiReference {
    pub base_url: String,
    pub operations: Vec<Operation>,
    /// Whether the caller manages webhooks (Administrators).
    pub webhooks: bool,
}
