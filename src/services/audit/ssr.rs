use super::{Action, Record};
use crate::{
    error::AppError,
    server::{
        capability::{PortalUser, Staff},
        http::request_client_ip,
        session::SignedIn,
    },
};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sqlx::PgConnection;

/// Who made a change, and when: every audit row is written through one.
pub struct Actor {
    account_id: Option<i64>,
    user_id: Option<i64>,
    label: String,
    at: DateTime<Utc>,
}

impl Actor {
    /// Someone acting outside any session: a failed sign-in, a password reset request, a
    /// link used (`label` is the address they gave or were given).
    pub fn anonymous(account_id: Option<i64>, label: &str, at: DateTime<Utc>) -> Self {
        Self { account_id, user_id: None, label: label.to_owned(), at }
    }

    /// A person acting on their own behalf (signing in, using their link), known by id.
    pub fn person(account_id: Option<i64>, user_id: i64, label: &str, at: DateTime<Utc>) -> Self {
        Self { account_id, user_id: Some(user_id), label: label.to_owned(), at }
    }

    /// A staff member, or an API key acting for one: the row names the key.
    pub fn staff(staff: &Staff, at: DateTime<Utc>) -> Self {
        match staff.user().api_key() {
            Some(key) => {
                let label = format!("{} (API key “{}”)", staff.email(), key.name());
                Self::person(Some(staff.account_id()), staff.user_id(), &label, at)
            }
            None => Self::person(Some(staff.account_id()), staff.user_id(), staff.email(), at),
        }
    }

    pub fn portal(portal: &PortalUser, at: DateTime<Utc>) -> Self {
        Self::person(Some(portal.account_id()), portal.user_id(), portal.email(), at)
    }

    pub fn signed_in(user: &SignedIn, at: DateTime<Utc>) -> Self {
        Self::person(user.account_id(), user.user_id(), user.email(), at)
    }

    /// The same person in another account (an account they just created).
    pub fn in_account(mut self, account_id: i64) -> Self {
        self.account_id = Some(account_id);
        self
    }

    /// Writes the row, noting the company its record and its actor belong to now (a staff
    /// user's company, a customer's owner, a customer user's customer's owner), so each
    /// staff member sees the history of their own branch. Write it before deleting the
    /// record it is about.
    pub async fn audit(&self, conn: &mut PgConnection, action: Action, record: Record, changes: impl Into<Value>) -> Result<(), AppError> {
        let row = sqlx::query!(
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
                       WHERE u.account_id = $1 AND u.id = $3))
             RETURNING id, changes",
            self.account_id,
            self.at,
            self.user_id,
            self.label,
            action.key(),
            record.kind.key(),
            record.id,
            request_client_ip(),
            changes.into(),
        )
        .fetch_one(&mut *conn)
        .await?;
        if let (Some(event), Some(account_id)) = (action.webhook_event(), self.account_id) {
            let data = json!({
                "record_type": record.kind.key(),
                "record_id": record.id,
                "actor": self.label,
                "changes": row.changes,
            });
            crate::services::webhooks::ssr::emit(conn, account_id, event, row.id, self.at, data).await?;
        }
        Ok(())
    }
}

impl Actor {
    /// Writes one row of `action` for each customer in `rows` (its id and what changed), with
    /// the webhook deliveries [`Actor::audit`] would write for each, in two statements however
    /// many rows there are: an import writes thousands at once.
    pub async fn audit_customers(&self, conn: &mut PgConnection, action: Action, rows: &[(i64, Value)]) -> Result<(), AppError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (ids, changes): (Vec<i64>, Vec<Value>) = rows.iter().cloned().unzip();
        let event = action.webhook_event().map(|e| e.key());
        // The payload's time as serde writes it, so these deliveries read as the others do.
        let occurred_at = serde_json::to_value(self.at).map_err(crate::error::internal)?;
        sqlx::query!(
            r#"WITH written AS (
                 INSERT INTO audit_events
                   (account_id, occurred_at, actor_id, actor_label, action, record_type, record_id, client_ip, changes,
                    record_company_id, actor_company_id)
                 SELECT $1, $2, $3, $4, $5, 'customer', r.id::text, $8, r.changes, c.owner_company_id,
                        (SELECT coalesce(u.company_id, uc.owner_company_id) FROM users u
                           LEFT JOIN customers uc ON uc.account_id = u.account_id AND uc.id = u.customer_id
                          WHERE u.account_id = $1 AND u.id = $3)
                   FROM unnest($6::bigint[], $7::jsonb[]) WITH ORDINALITY AS r(id, changes, n)
                   LEFT JOIN customers c ON c.account_id = $1 AND c.id = r.id
                  ORDER BY r.n
                 RETURNING id, record_id, changes
               )
               INSERT INTO webhook_deliveries (account_id, webhook_id, event_id, event_type, payload, next_attempt_at, created_at)
               SELECT w.account_id, w.id, 'evt_' || e.id, $9,
                      jsonb_build_object('id', 'evt_' || e.id, 'type', $9::text, 'occurred_at', $10::jsonb,
                                         'data', jsonb_build_object('record_type', 'customer', 'record_id', e.record_id::bigint,
                                                                    'actor', $4::text, 'changes', e.changes)),
                      $2, $2
                 FROM written e
                 JOIN webhooks w ON w.account_id = $1 AND w.enabled AND $9 = ANY(w.events)
                WHERE $9::text IS NOT NULL"#,
            self.account_id,
            self.at,
            self.user_id,
            self.label,
            action.key(),
            &ids,
            &changes,
            request_client_ip(),
            event,
            occurred_at,
        )
        .execute(conn)
        .await?;
        Ok(())
    }
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

    /// Records a value as it now is (no earlier one).
    pub fn value<T: serde::Serialize>(mut self, name: &str, value: &T) -> Self {
        self.0.insert(name.to_owned(), json!(value));
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
}

impl From<Changes> for Value {
    fn from(changes: Changes) -> Self {
        Value::Object(changes.0)
    }
}
