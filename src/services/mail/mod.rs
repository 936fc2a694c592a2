//! Mail: queued in the outbox in the caller's transaction, delivered by the worker over SMTP
//! (SPEC 6). The message's secret (a link, a temporary password) is kept apart so that no
//! screen shows it.

#[cfg(feature = "ssr")]
pub mod templates;
#[cfg(feature = "ssr")]
mod ssr;
#[cfg(feature = "ssr")]
pub use ssr::{enqueue, worker, CHANNEL};

use serde::{Deserialize, Serialize};

/// Where a message stands. Stored in `outbox.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxStatus {
    /// Waiting for its next attempt (none made yet, or the last one failed).
    Queued,
    Sent,
    /// Gave up after the last automatic attempt.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [OutboxStatus::Queued, OutboxStatus::Sent, OutboxStatus::Failed].into_iter().find(|s| s.as_str() == value)
    }
}
