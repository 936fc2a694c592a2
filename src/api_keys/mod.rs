//! API keys (issue 12): made by holders of "API keys – Manage" (built in: Administrators), each
//! with a name, an expiry, a company and a subset of its creator's permissions; the secret is
//! shown once and stored as its hash; a key can be revoked and shows when it was last used. How
//! a key signs a request in is `server::api_keys`; what it may call is the REST API (`rest`).

mod api;
mod api_keys_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use api_keys_page::ApiKeysSection;

use crate::{error::FieldErrors, permissions::Permission, validation::Field};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The lifetimes a key may be given, in days; the first is the default.
pub const EXPIRY_CHOICES: [i64; 4] = [90, 30, 180, 365];

pub const NAME: Field<String> = Field::new("name", |raw| {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err("Enter a name for the key, such as what will use it.".into()),
        n if n > 60 => Err("Use at most 60 characters.".into()),
        _ if name.chars().any(char::is_control) => Err("Remove the control characters.".into()),
        _ => Ok(name.to_owned()),
    }
});
pub const EXPIRES_IN_DAYS: Field<i64> = Field::new("expires_in_days", |raw| match raw.trim().parse::<i64>() {
    Ok(days) if EXPIRY_CHOICES.contains(&days) => Ok(days),
    _ => Err("Choose when the key expires.".into()),
});
pub const COMPANY: Field<i64> = Field::new("company_id", |raw| raw.trim().parse().map_err(|_| "Choose a company.".to_owned()));
pub const PERMISSIONS: &str = "permissions";

/// A key as the list shows it: never its secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub shown: String,
    pub created_by: String,
    pub company: String,
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRow {
    /// "Active", "Revoked" or "Expired" at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "Revoked"
        } else if self.expires_at <= now {
            "Expired"
        } else {
            "Active"
        }
    }
}

/// The API page's data: the keys in the caller's scope and what a new key may be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeys {
    pub keys: Vec<ApiKeyRow>,
    pub companies: Vec<(i64, String)>,
    /// The caller's own permissions: a key may get any of these and nothing else.
    pub grantable: Vec<Permission>,
    pub now: DateTime<Utc>,
}

/// A key just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub id: i64,
    pub name: String,
    pub secret: String,
}

/// A new key's name, lifetime, company and permissions, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewKeyInput {
    pub name: String,
    pub expires_in_days: i64,
    pub company_id: i64,
    pub permissions: Vec<Permission>,
}

pub fn validate_new_key(name: &str, expires_in_days: &str, company_id: &str, permissions: &[String]) -> Result<NewKeyInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = NAME.take(&mut errors, name);
    let expires_in_days = EXPIRES_IN_DAYS.take(&mut errors, expires_in_days);
    let company_id = COMPANY.take(&mut errors, company_id);
    let mut chosen = Vec::new();
    for key in permissions {
        match Permission::from_key(key) {
            Some(p) if !chosen.contains(&p) => chosen.push(p),
            Some(_) => {}
            None => errors.add(PERMISSIONS, "Choose permissions from the list."),
        }
    }
    if chosen.is_empty() && errors.get(PERMISSIONS).is_none() {
        errors.add(PERMISSIONS, "Choose at least one permission for the key.");
    }
    match (name, expires_in_days, company_id) {
        (Some(name), Some(expires_in_days), Some(company_id)) if errors.is_empty() => {
            chosen.sort();
            Ok(NewKeyInput { name, expires_in_days, company_id, permissions: chosen })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_needs_a_name_a_listed_lifetime_a_company_and_known_permissions() {
        let ok = validate_new_key(" CRM sync ", "90", "4", &["customers.view".into(), "customers.view".into()]).unwrap();
        assert_eq!(ok, NewKeyInput { name: "CRM sync".into(), expires_in_days: 90, company_id: 4, permissions: vec![Permission::CustomersView] });
        let errors = validate_new_key("", "7", "x", &[]).unwrap_err();
        for field in ["name", "expires_in_days", "company_id", "permissions"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert!(validate_new_key("a\0b", "30", "1", &["customers.view".into()]).unwrap_err().get("name").is_some());
        let unknown = validate_new_key("k", "30", "1", &["root.everything".into()]).unwrap_err();
        assert_eq!(unknown.get(PERMISSIONS), Some("Choose permissions from the list."));
    }
}
