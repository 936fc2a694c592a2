//! The e-mail outbox (SPEC 6): every message waits here until the worker delivers it. With no
//! SMTP server configured (development), Administrators read messages here to copy their links.

mod api;
mod outbox_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use outbox_page::OutboxPage;

use crate::services::mail::OutboxStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 25;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How this server handles mail, which decides what the Outbox page may show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailMode {
    /// An SMTP server delivers it; links and temporary passwords are never shown here.
    Smtp,
    /// Development mail (no SMTP, loopback or ROSTER_DEV_MAIL): shown whole, links included.
    Development,
    /// No SMTP server and not development mail: nothing is delivered and secrets stay hidden.
    Held,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxList {
    pub messages: Vec<OutboxMessage>,
    pub total: i64,
    pub page: i64,
    pub mode: MailMode,
}
