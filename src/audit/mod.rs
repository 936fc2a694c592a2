//! The audit log (SPEC 7): who did what to which record, when and from where. Every change
//! writes its row inside the change's own transaction. People with the "Audit log: View"
//! permission browse it at `/audit` with filters and paging, and on the Audit tab of a customer
//! or a user.

mod api;
mod audit_log_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use audit_log_page::{AuditLogPage, AuditTable, RecordAudit};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 50;

/// The filters of the audit log, as they appear in the address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Part of the actor's e-mail address.
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub record_type: String,
    #[serde(default)]
    pub record_id: String,
    /// First and last day included (UTC), `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The entry the page continues after (older than it): the last one of the page before.
    #[serde(default)]
    pub before: Option<i64>,
}

impl AuditQuery {
    pub fn from_pairs(get: impl Fn(&str) -> Option<String>) -> Self {
        AuditQuery {
            actor: get("actor").unwrap_or_default(),
            action: get("action").unwrap_or_default(),
            record_type: get("type").unwrap_or_default(),
            record_id: get("record").unwrap_or_default(),
            from: get("from").unwrap_or_default(),
            to: get("to").unwrap_or_default(),
            before: get("before").and_then(|p| p.parse().ok()),
        }
    }

    /// The date range, refusing what is not a date rather than ignoring it.
    pub fn dates(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), String> {
        let parse = |text: &str, what: &str| -> Result<Option<NaiveDate>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("Enter the {what} date as YYYY-MM-DD."))?;
            // Years the log can hold (and PostgreSQL's timestamps and the day after can reach).
            if !(1970..=9999).contains(&chrono::Datelike::year(&date)) {
                return Err(format!("Enter the {what} date between 1970 and 9999."));
            }
            Ok(Some(date))
        };
        let from = parse(&self.from, "first")?;
        let to = parse(&self.to, "last")?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err("The first date must not be after the last date.".into());
            }
        }
        Ok((from, to))
    }
}

/// One changed field of an entry: `from` is absent when only the new value was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeLine {
    pub field: String,
    pub from: Option<String>,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub client_ip: Option<String>,
    pub changes: Vec<ChangeLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Whether this page continues an earlier one.
    pub continued: bool,
    /// The cursor of the next (older) page, when there is one.
    pub next: Option<i64>,
    /// The actions and record types the caller may see, for the filter lists.
    pub actions: Vec<String>,
    pub record_types: Vec<String>,
}

/// Readable text for a recorded value: strings without quotes, lists joined, nothing as "—".
fn value_text(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "—".into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "—".into(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Turns the stored `changes` object into lines: `{"f": {"from": a, "to": b}}` becomes a change
/// from a to b, any other `{"f": v}` a recorded value.
pub fn change_lines(changes: &serde_json::Value) -> Vec<ChangeLine> {
    let Some(map) = changes.as_object() else { return Vec::new() };
    map.iter()
        .map(|(field, value)| match value.as_object() {
            Some(pair) if pair.len() == 2 && pair.contains_key("from") && pair.contains_key("to") => ChangeLine {
                field: field.clone(),
                from: Some(value_text(&pair["from"])),
                to: value_text(&pair["to"]),
            },
            _ => ChangeLine { field: field.clone(), from: None, to: value_text(value) },
        })
        .collect()
}

/// `customer.created` reads "Customer created"; a record type's key reads the same way.
pub fn action_label(key: &str) -> String {
    crate::services::audit::label_of(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_real_and_in_order() {
        let q = |from: &str, to: &str| AuditQuery { from: from.into(), to: to.into(), ..Default::default() };
        assert_eq!(q("", "").dates(), Ok((None, None)));
        assert_eq!(q("2026-11-01", "2026-11-30").dates().unwrap().0, NaiveDate::from_ymd_opt(2026, 11, 1));
        assert!(q("2026-02-30", "").dates().is_err());
        assert!(q("yesterday", "").dates().is_err());
        assert!(q("2026-11-30", "2026-11-01").dates().is_err());
        assert!(q("-5000-01-01", "").dates().is_err());
        assert!(q("", "+262142-12-31").dates().is_err(), "no date the day after cannot follow");
    }

    #[test]
    fn action_labels_read_as_words() {
        assert_eq!(action_label("customer.created"), "Customer created");
        assert_eq!(action_label("user.invitation_accepted"), "User invitation accepted");
    }

    #[test]
    fn changes_become_lines_with_and_without_a_previous_value() {
        let lines = change_lines(&serde_json::json!({
            "city": { "from": "Bristol", "to": "Bath" },
            "title": "Zephyr",
            "groups": ["Key accounts", "North"],
            "phone": { "from": null, "to": "+4420" },
        }));
        assert!(lines.contains(&ChangeLine { field: "city".into(), from: Some("Bristol".into()), to: "Bath".into() }));
        assert!(lines.contains(&ChangeLine { field: "title".into(), from: None, to: "Zephyr".into() }));
        assert!(lines.contains(&ChangeLine { field: "groups".into(), from: None, to: "Key accounts, North".into() }));
        assert!(lines.contains(&ChangeLine { field: "phone".into(), from: Some("—".into()), to: "+4420".into() }));
    }
}
