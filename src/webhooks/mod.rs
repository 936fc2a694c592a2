//! The API page's webhooks (issue 12; Administrators, since an endpoint hears of the whole
//! account): endpoints with their URL and events, the signing secret shown once when made or
//! rotated, and the delivery log with "Send again". Signing and sending are
//! `services::webhooks`.

mod api;
mod webhooks_section;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use webhooks_section::WebhooksSection;

use crate::{error::FieldErrors, services::webhooks::{check_url, Event}, validation::Field};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const URL: Field<String> = Field::new("url", check_url);
pub const EVENTS: &str = "events";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: Vec<Event>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub url: String,
    pub event_type: String,
    pub event_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub response_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Webhooks {
    pub hooks: Vec<WebhookRow>,
    /// The newest deliveries first.
    pub deliveries: Vec<DeliveryRow>,
}

/// A signing secret just made: shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookSecret {
    pub id: i64,
    pub url: String,
    pub secret: String,
}

pub fn validate_webhook(url: &str, events: &[String]) -> Result<(String, Vec<Event>), FieldErrors> {
    let mut errors = FieldErrors::default();
    let url = URL.take(&mut errors, url);
    let mut chosen = Vec::new();
    for key in events {
        match Event::from_key(key) {
            Some(e) if !chosen.contains(&e) => chosen.push(e),
            Some(_) => {}
            None => errors.add(EVENTS, "Choose events from the list."),
        }
    }
    if chosen.is_empty() && errors.get(EVENTS).is_none() {
        errors.add(EVENTS, "Choose at least one event.");
    }
    chosen.sort();
    match url {
        Some(url) if errors.is_empty() => Ok((url, chosen)),
        _ => Err(errors),
    }
}
