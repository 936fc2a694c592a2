//! Account settings for Administrators: the account's name, how long invitation and activation
//! links stay valid, and session lifetimes (empty means the server's defaults).

mod api;
mod settings_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use settings_page::AccountSettingsPage;

use crate::{
    error::FieldErrors,
    validation::{required_text, Field, NAME_MAX_CHARS},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub name: String,
    pub invitation_valid_days: i32,
    pub session_idle_minutes: Option<i32>,
    pub session_absolute_hours: Option<i32>,
    pub default_idle_minutes: u32,
    pub default_absolute_hours: u32,
    pub version: i32,
}

#[derive(Debug)]
pub struct SettingsInput {
    pub name: String,
    pub invitation_valid_days: i32,
    pub session_idle_minutes: Option<i32>,
    pub session_absolute_hours: Option<i32>,
}

fn number_in(raw: &str, range: std::ops::RangeInclusive<i32>, unit: &str) -> Result<i32, String> {
    match raw.trim().parse::<i32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!("Enter a whole number of {unit} from {} to {}.", range.start(), range.end())),
    }
}

fn optional_number_in(raw: &str, range: std::ops::RangeInclusive<i32>, unit: &str) -> Result<Option<i32>, String> {
    if raw.trim().is_empty() { Ok(None) } else { number_in(raw, range, unit).map(Some) }
}

// The fields of the settings form, each declared once for the browser and the server.
pub const NAME: Field<String> = Field::new("name", |raw| required_text(raw, "the account name", NAME_MAX_CHARS));
pub const INVITATION_VALID_DAYS: Field<i32> = Field::new("invitation_valid_days", |raw| number_in(raw, 1..=30, "days"));
pub const SESSION_IDLE_MINUTES: Field<Option<i32>> = Field::new("session_idle_minutes", |raw| optional_number_in(raw, 5..=1440, "minutes"));
pub const SESSION_ABSOLUTE_HOURS: Field<Option<i32>> = Field::new("session_absolute_hours", |raw| optional_number_in(raw, 1..=720, "hours"));

pub fn validate_settings(name: &str, invitation_valid_days: &str, idle: &str, absolute: &str) -> Result<SettingsInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = NAME.take(&mut errors, name);
    let days = INVITATION_VALID_DAYS.take(&mut errors, invitation_valid_days);
    let idle = SESSION_IDLE_MINUTES.take(&mut errors, idle);
    let absolute = SESSION_ABSOLUTE_HOURS.take(&mut errors, absolute);
    match (name, days, idle, absolute) {
        (Some(name), Some(invitation_valid_days), Some(session_idle_minutes), Some(session_absolute_hours)) => {
            Ok(SettingsInput { name, invitation_valid_days, session_idle_minutes, session_absolute_hours })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_validity_is_one_to_thirty_days_and_sessions_may_use_defaults() {
        let ok = validate_settings("Acme", "7", "", "").unwrap();
        assert_eq!((ok.invitation_valid_days, ok.session_idle_minutes, ok.session_absolute_hours), (7, None, None));
        let errors = validate_settings("", "31", "2", "0").unwrap_err();
        for field in ["name", "invitation_valid_days", "session_idle_minutes", "session_absolute_hours"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert!(validate_settings("Acme", "0", "", "").is_err());
        assert_eq!(validate_settings("Acme", "30", "60", "24").unwrap().session_absolute_hours, Some(24));
    }
}
