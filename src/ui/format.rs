//! How values read on screen.

use chrono::{DateTime, Utc};

/// A timestamp as the UI shows it (UTC, to the minute).
pub fn format_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
