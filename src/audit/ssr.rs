use crate::{error::AppError, server::http::request_client_ip};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

/// One audit row. `account_id` is `None` only for events outside any account.
pub struct Event<'a> {
    pub account_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub record_type: &'a str,
    pub record_id: Option<i64>,
    pub changes: Value,
}

pub async fn record(conn: &mut PgConnection, at: DateTime<Utc>, event: Event<'_>) -> Result<(), AppError> {
    let client_ip = request_client_ip();
    sqlx::query!(
        "INSERT INTO audit_events
           (account_id, occurred_at, actor_id, actor_label, action, record_type, record_id, client_ip, changes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        event.account_id,
        at,
        event.actor_id,
        event.actor_label,
        event.action,
        event.record_type,
        event.record_id.map(|id| id.to_string()),
        client_ip,
        event.changes,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Collects `{"field": {"from": old, "to": new}}` for the fields that changed.
#[derive(Default)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn field<T: PartialEq + serde::Serialize>(mut self, name: &str, from: &T, to: &T) -> Self {
        if from != to {
            self.0.insert(name.to_owned(), json!({ "from": from, "to": to }));
        }
        self
    }

    /// Records that a secret changed without recording it.
    pub fn secret(mut self, name: &str) -> Self {
        self.0.insert(name.to_owned(), json!("changed"));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_keep_only_fields_that_changed_and_hide_secrets() {
        let changes = Changes::default()
            .field("name", &"Ada", &"Ada L.")
            .field("phone", &None::<String>, &None::<String>)
            .secret("password")
            .into_value();
        assert_eq!(changes, json!({"name": {"from": "Ada", "to": "Ada L."}, "password": "changed"}));
    }
}
