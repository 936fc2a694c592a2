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

/// Writes the row, noting the company its record and its actor belong to now (a staff user's
/// company, a customer's owner, a customer user's customer's owner), so each staff member sees
/// the history of their own branch. Write it before deleting the record it is about.
pub async fn record(conn: &mut PgConnection, at: DateTime<Utc>, event: Event<'_>) -> Result<(), AppError> {
    let client_ip = request_client_ip();
    sqlx::query!(
        "INSERT INTO audit_events
           (account_id, occurred_at, actor_id, actor_label, action, record_type, record_id, client_ip, changes,
            record_company_id, actor_company_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7::bigint::text, $8, $9,
                 CASE $6
                   WHEN 'company' THEN (SELECT c.id FROM companies c WHERE c.account_id = $1 AND c.id = $7)
                   WHEN 'customer' THEN (SELECT c.owner_company_id FROM customers c WHERE c.account_id = $1 AND c.id = $7)
                   WHEN 'user' THEN (SELECT coalesce(u.company_id, c.owner_company_id) FROM users u
                                       LEFT JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                                      WHERE u.account_id = $1 AND u.id = $7)
                 END,
                 (SELECT coalesce(u.company_id, c.owner_company_id) FROM users u
                    LEFT JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                   WHERE u.account_id = $1 AND u.id = $3))",
        event.account_id,
        at,
        event.actor_id,
        event.actor_label,
        event.action,
        event.record_type,
        event.record_id,
        client_ip,
        event.changes,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Record types whose events concern the account as a whole (its roles, its settings, its
/// mail): shown only to Administrators and to holders of Account settings.
pub const ACCOUNT_LEVEL: [&str; 3] = ["role", "account", "email"];

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
