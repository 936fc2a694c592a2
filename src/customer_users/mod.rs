//! Customer users (SPEC 4.7): the people who sign in for a customer. Staff add them from the
//! customer's Users tab with an activation link they either copy from a dialog or have e-mailed;
//! links are single-use, valid for the account's setting, and a new link kills the old one.
//! Edit, disable (which ends their sessions), enable, delete.

mod activation;
mod tab;

pub use activation::{ActivationPage, ActivationView};
pub use tab::CustomerUsersTab;
pub(crate) use tab::{method_choice, user_fields, ActivationLinkDialog};

use crate::{
    error::{AppError, FieldErrors},
    validation::{optional_long_text, optional_phone, required_text, Email, DESCRIPTION_MAX_CHARS},
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const NAME_PART_MAX_CHARS: usize = 60;

/// How the new user gets their activation link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationMethod {
    /// The link is shown to the staff member, who passes it on.
    ShowLink,
    /// The link is e-mailed to the user.
    Email,
}

impl ActivationMethod {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "show" => Ok(ActivationMethod::ShowLink),
            "email" => Ok(ActivationMethod::Email),
            _ => Err("Choose how the activation link reaches the user.".into()),
        }
    }
}

/// The fields of a customer user as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerUserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub description: String,
}

/// The fields once valid.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerUserFields {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub description: Option<String>,
}

impl CustomerUserFields {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

pub fn validate_first_name(raw: &str) -> Result<String, String> {
    required_text(raw, "a first name", NAME_PART_MAX_CHARS)
}

pub fn validate_last_name(raw: &str) -> Result<String, String> {
    required_text(raw, "a last name", NAME_PART_MAX_CHARS)
}

impl CustomerUserForm {
    /// The same rules the browser shows as you type.
    pub fn validate(&self, errors: &mut FieldErrors) -> Option<CustomerUserFields> {
        let email = errors.take("form[email]", Email::parse(&self.email));
        let first_name = errors.take("form[first_name]", validate_first_name(&self.first_name));
        let last_name = errors.take("form[last_name]", validate_last_name(&self.last_name));
        let phone = errors.take("form[phone]", optional_phone(&self.phone));
        let description = errors.take("form[description]", optional_long_text(&self.description, DESCRIPTION_MAX_CHARS));
        Some(CustomerUserFields {
            email: email?.as_str().to_owned(),
            first_name: first_name?,
            last_name: last_name?,
            phone: phone?,
            description: description?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerUserStatus {
    /// Added, has not set a password yet.
    AwaitingActivation,
    Active,
    Disabled,
}

impl CustomerUserStatus {
    /// From the stored status and whether a password has been set.
    pub fn of(status: &str, activated: bool) -> Self {
        match (status, activated) {
            ("disabled", _) => CustomerUserStatus::Disabled,
            (_, false) => CustomerUserStatus::AwaitingActivation,
            _ => CustomerUserStatus::Active,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerUserRow {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub status: CustomerUserStatus,
    pub activation_expires_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerUsers {
    pub rows: Vec<CustomerUserRow>,
    pub can_manage: bool,
}

/// The result of adding a user or issuing a new link: the link itself when it is to be shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Issued {
    pub email: String,
    pub link: Option<String>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{ActivationMethod, CustomerUserFields, Issued};
    use crate::{auth::ssr::addresses, server::errors::db_error};
    use chrono::{DateTime, Utc};

    /// The form field of the address, where its messages go.
    pub const EMAIL_FIELD: &str = "form[email]";
    use crate::{
        auth::ssr::sessions::Staff,
        error::AppError,
        outbox::ssr::{enqueue, templates::Mail},
        server::{state::AppState, tokens},
    };
    use chrono::Duration;
    use sqlx::PgConnection;

    /// A customer user of the caller's account whose customer is in the caller's scope, locked;
    /// "not found" for anyone else.
    pub struct Target {
        pub id: i64,
        pub email: String,
        pub display_name: String,
        pub status: String,
        pub activated: bool,
        pub customer_title: String,
    }

    pub async fn target(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<Target, AppError> {
        let row = sqlx::query!(
            "SELECT id, email, display_name, status, password_hash IS NOT NULL AS \"activated!\", customer_id AS \"customer_id!\"
               FROM users WHERE account_id = $1 AND id = $2 AND kind = 'customer'
               FOR NO KEY UPDATE",
            staff.account_id,
            id
        )
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
        let customer = crate::customers::ssr::customer_in_scope(conn, staff, row.customer_id).await?;
        Ok(Target {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            status: row.status,
            activated: row.activated,
            customer_title: customer.title,
        })
    }

    /// Disables a customer user (ending their sessions) or enables them again, back to active or,
    /// without a password yet, to awaiting activation. Returns the new status.
    pub async fn set_enabled(
        conn: &mut PgConnection,
        account_id: i64,
        id: i64,
        enabled: bool,
        activated: bool,
        now: DateTime<Utc>,
    ) -> Result<&'static str, AppError> {
        let status = match (enabled, activated) {
            (false, _) => "disabled",
            (true, true) => "active",
            (true, false) => "invited",
        };
        sqlx::query!(
            "UPDATE users SET status = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
            account_id,
            id,
            status,
            now
        )
        .execute(&mut *conn)
        .await?;
        if !enabled {
            // A disabled user's open links and sessions end with their access.
            crate::users::ssr::end_access(conn, id, now).await?;
        }
        Ok(status)
    }

    /// Before the transaction: an address anybody uses is refused with the one message, and
    /// counted against `actor_id` (see [`addresses::ensure_free`]).
    pub async fn ensure_address_free(state: &AppState, actor_id: i64, fields: &CustomerUserFields, except: Option<i64>) -> Result<(), AppError> {
        let email = crate::validation::Email::parse(&fields.email).map_err(crate::server::errors::internal)?;
        addresses::ensure_free(state, actor_id, EMAIL_FIELD, &[&email], except).await
    }

    /// Inserts a customer user awaiting activation (after [`ensure_address_free`]).
    pub async fn insert_customer_user(
        conn: &mut PgConnection,
        state: &AppState,
        account_id: i64,
        customer_id: i64,
        fields: &CustomerUserFields,
    ) -> Result<i64, AppError> {
        let now = state.clock.now();
        sqlx::query_scalar!(
            "INSERT INTO users (account_id, kind, email, display_name, first_name, last_name, phone, description,
                                customer_id, status, created_at, updated_at)
             VALUES ($1, 'customer', $2, $3, $4, $5, $6, $7, $8, 'invited', $9, $9)
             RETURNING id",
            account_id,
            fields.email,
            fields.display_name(),
            fields.first_name,
            fields.last_name,
            fields.phone,
            fields.description,
            customer_id,
            now
        )
        .fetch_one(conn)
        .await
        .map_err(|e| db_error(e, &[addresses::taken(EMAIL_FIELD)]))
    }

    /// Revokes any earlier activation link of `user_id`, creates a new one valid for the
    /// account's number of days, and e-mails it or hands it back to be shown.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_activation(
        conn: &mut PgConnection,
        state: &AppState,
        account_id: i64,
        created_by: i64,
        user_id: i64,
        email: &str,
        name: &str,
        customer_title: &str,
        method: ActivationMethod,
    ) -> Result<Issued, AppError> {
        let now = state.clock.now();
        let account = sqlx::query!("SELECT name, invitation_valid_days FROM accounts WHERE id = $1", account_id)
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query!(
            "UPDATE one_time_tokens SET revoked_at = $3
              WHERE account_id = $1 AND user_id = $2 AND purpose = 'activation' AND used_at IS NULL AND revoked_at IS NULL",
            account_id,
            user_id,
            now
        )
        .execute(&mut *conn)
        .await?;
        let (token, token_hash) = tokens::generate();
        sqlx::query!(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, account_id, created_at, expires_at, created_by)
             VALUES ($1, 'activation', $2, $3, $4, $5, $6)",
            token_hash,
            user_id,
            account_id,
            now,
            now + Duration::days(account.invitation_valid_days.into()),
            created_by
        )
        .execute(&mut *conn)
        .await?;
        let link = format!("{}/activate?token={token}", state.config.base_url());
        match method {
            ActivationMethod::Email => {
                enqueue(
                    conn,
                    state,
                    Some(account_id),
                    email,
                    Mail::Activation {
                        name,
                        account: &account.name,
                        customer: customer_title,
                        link: &link,
                        valid_days: account.invitation_valid_days,
                    },
                )
                .await?;
                Ok(Issued { email: email.to_owned(), link: None })
            }
            ActivationMethod::ShowLink => Ok(Issued { email: email.to_owned(), link: Some(link) }),
        }
    }
}

#[server(prefix = "/api", endpoint = "customer_users")]
pub async fn list_customer_users(customer_id: i64) -> Result<CustomerUsers, AppError> {
    use crate::{auth::ssr::sessions::require_staff, customers::ssr::customer_in_scope, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerUsersView)?;
    let mut tx = state.db.begin().await?;
    customer_in_scope(&mut tx, &staff, customer_id).await?;
    let now = state.clock.now();
    let rows = sqlx::query!(
        r#"SELECT u.id, u.email, u.display_name, u.first_name, u.last_name, u.phone, u.description, u.status,
                  u.password_hash IS NOT NULL AS "activated!", u.last_sign_in_at, u.version,
                  (SELECT max(t.expires_at) FROM one_time_tokens t
                    WHERE t.account_id = u.account_id AND t.user_id = u.id AND t.purpose = 'activation'
                      AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $3) AS link_expires_at
             FROM users u
            WHERE u.account_id = $1 AND u.customer_id = $2 AND u.kind = 'customer'
            ORDER BY lower(u.display_name), u.id"#,
        staff.account_id,
        customer_id,
        now
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            // People added by account (SPEC 4.4) have a single display name.
            let (first, last) = match (r.first_name, r.last_name) {
                (Some(f), Some(l)) => (f, l),
                _ => match r.display_name.split_once(' ') {
                    Some((f, l)) => (f.to_owned(), l.to_owned()),
                    None => (r.display_name.clone(), String::new()),
                },
            };
            CustomerUserRow {
                id: r.id,
                email: r.email,
                first_name: first,
                last_name: last,
                phone: r.phone,
                description: r.description,
                status: CustomerUserStatus::of(&r.status, r.activated),
                activation_expires_at: r.link_expires_at,
                last_sign_in_at: r.last_sign_in_at,
                version: r.version,
            }
        })
        .collect();
    Ok(CustomerUsers { rows, can_manage: staff.user.permissions.contains(&Permission::CustomerUsersManage) })
}

#[server(prefix = "/api", endpoint = "add_customer_user")]
pub async fn add_customer_user(customer_id: i64, form: CustomerUserForm, method: String) -> Result<Issued, AppError> {
    use crate::{
        audit::ssr as audit,
        auth::ssr::sessions::require_staff,
        customers::ssr::customer_in_scope,
        permissions::Permission,
        server::state::app_state,
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerUsersManage)?;
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let method = errors.take("method", ActivationMethod::parse(&method));
    let (Some(fields), Some(method)) = (fields, method) else {
        return Err(AppError::Validation(errors));
    };
    let now = state.clock.now();
    ssr::ensure_address_free(&state, staff.user.user_id, &fields, None).await?;
    let mut tx = state.db.begin().await?;
    let customer = customer_in_scope(&mut tx, &staff, customer_id).await?;
    let id = ssr::insert_customer_user(&mut tx, &state, staff.account_id, customer.id, &fields).await?;
    let issued = ssr::issue_activation(
        &mut tx,
        &state,
        staff.account_id,
        staff.user.user_id,
        id,
        &fields.email,
        &fields.display_name(),
        &customer.title,
        method,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer_user.created",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({
                "email": fields.email,
                "name": fields.display_name(),
                "customer": customer.title,
                "activation": if method == ActivationMethod::Email { "e-mailed" } else { "link shown" },
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

/// A new activation link for a user who has not activated yet; the previous link stops working.
#[server(prefix = "/api", endpoint = "resend_activation")]
pub async fn resend_activation(id: i64, method: String) -> Result<Issued, AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerUsersManage)?;
    let method = ActivationMethod::parse(&method).map_err(|m| AppError::field("method", m))?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let target = ssr::target(&mut tx, &staff, id).await?;
    if target.activated {
        return Err(AppError::Refused("This user has already activated their account.".into()));
    }
    if target.status == "disabled" {
        return Err(AppError::Refused("Enable this user before sending a new activation link.".into()));
    }
    let issued = ssr::issue_activation(
        &mut tx,
        &state,
        staff.account_id,
        staff.user.user_id,
        id,
        &target.email,
        &target.display_name,
        &target.customer_title,
        method,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer_user.activation_resent",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "activation": if method == ActivationMethod::Email { "e-mailed" } else { "link shown" } }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

#[server(prefix = "/api", endpoint = "update_customer_user")]
pub async fn update_customer_user(id: i64, version: i32, form: CustomerUserForm) -> Result<i32, AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        auth::ssr::{addresses, sessions::require_staff},
        outbox::ssr::{enqueue, templates::{Mail, Occasion}},
        permissions::Permission,
        server::{errors::db_error, state::app_state},
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerUsersManage)?;
    let mut errors = FieldErrors::default();
    let Some(fields) = form.validate(&mut errors) else {
        return Err(AppError::Validation(errors));
    };
    let now = state.clock.now();
    // The user's own address is theirs to keep; any other one must be free.
    ssr::ensure_address_free(&state, staff.user.user_id, &fields, Some(id)).await?;
    let mut tx = state.db.begin().await?;
    let target = ssr::target(&mut tx, &staff, id).await?;
    let before = sqlx::query!(
        "SELECT email, first_name, last_name, phone, description, version FROM users WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if before.version != version {
        return Err(AppError::Conflict);
    }
    let email_changed = before.email.to_lowercase() != fields.email.to_lowercase();
    let new_version = sqlx::query_scalar!(
        "UPDATE users SET email = $3, display_name = $4, first_name = $5, last_name = $6, phone = $7, description = $8,
                          updated_at = $9, version = version + 1
          WHERE account_id = $1 AND id = $2
          RETURNING version",
        staff.account_id,
        id,
        fields.email,
        fields.display_name(),
        fields.first_name,
        fields.last_name,
        fields.phone,
        fields.description,
        now
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[addresses::taken(ssr::EMAIL_FIELD)]))?;
    if email_changed {
        // The activation link and the sessions belonged to the old address: they end with it.
        crate::users::ssr::end_access(&mut tx, id, now).await?;
        if target.activated {
            let name = fields.display_name();
            let sign_in_link = format!("{}/sign-in", state.config.base_url());
            enqueue(&mut tx, &state, Some(staff.account_id), &before.email, Mail::EmailChangedAway { name: &name, occasion: Occasion::now(now) })
                .await?;
            let here = Mail::EmailChangedHere { name: &name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
            enqueue(&mut tx, &state, Some(staff.account_id), &fields.email, here).await?;
        }
    }
    let changes = Changes::default()
        .field("email", &before.email, &fields.email)
        .field("first_name", &before.first_name, &Some(fields.first_name.clone()))
        .field("last_name", &before.last_name, &Some(fields.last_name.clone()))
        .field("phone", &before.phone, &fields.phone)
        .field("description", &before.description, &fields.description);
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer_user.updated",
            record_type: "user",
            record_id: Some(id),
            changes: changes.into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(new_version)
}

/// Disables a user (their sessions end at once) or enables them again.
#[server(prefix = "/api", endpoint = "set_customer_user_enabled")]
pub async fn set_customer_user_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerUsersManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let target = ssr::target(&mut tx, &staff, id).await?;
    let status = ssr::set_enabled(&mut tx, staff.account_id, id, enabled, target.activated, now).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: if enabled { "customer_user.enabled" } else { "customer_user.disabled" },
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "status": { "from": target.status, "to": status } }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_customer_user")]
pub async fn delete_customer_user(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerUsersManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let target = ssr::target(&mut tx, &staff, id).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer_user.deleted",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "email": target.email, "customer": target.customer_title }),
        },
    )
    .await?;
    sqlx::query!("DELETE FROM users WHERE account_id = $1 AND id = $2", staff.account_id, id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reports_every_bad_field_under_its_name() {
        let form = CustomerUserForm { email: "nope".into(), first_name: " ".into(), phone: "12".into(), ..Default::default() };
        let mut errors = FieldErrors::default();
        assert!(form.validate(&mut errors).is_none());
        for field in ["form[email]", "form[first_name]", "form[last_name]", "form[phone]"] {
            assert!(AppError::Validation(errors.clone()).field_message(field).is_some(), "{field}");
        }
        let good = CustomerUserForm {
            email: "Lena@Example.com".into(),
            first_name: "Lena".into(),
            last_name: "Berg".into(),
            phone: "+49 30 1234567".into(),
            description: String::new(),
        };
        let fields = good.validate(&mut FieldErrors::default()).unwrap();
        assert_eq!(fields.display_name(), "Lena Berg");
        assert_eq!(fields.phone.as_deref(), Some("+49301234567"));
    }

    #[test]
    fn only_the_two_methods_are_accepted() {
        assert_eq!(ActivationMethod::parse("show"), Ok(ActivationMethod::ShowLink));
        assert_eq!(ActivationMethod::parse("email"), Ok(ActivationMethod::Email));
        assert!(ActivationMethod::parse("").is_err());
    }
}
