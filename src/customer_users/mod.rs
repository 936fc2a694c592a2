//! Customer users (SPEC 4.7): the people who sign in for a customer. Staff add them from the
//! customer's Users tab with an activation link they either copy from a dialog or have e-mailed;
//! links are single-use, valid for the account's setting, and a new link kills the old one.
//! Edit, disable (which ends their sessions), enable, delete.

mod activation_page;
mod api;
mod customer_users_tab;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use activation_page::ActivationPage;
pub use api::*;
pub use customer_users_tab::{method_choice, user_fields, ActivationLinkDialog, CustomerUsersTab};

use crate::{
    error::FieldErrors,
    services::links::LinkState,
    validation::{optional_long_text, optional_phone, required_text, Email, Field, DESCRIPTION_MAX_CHARS},
};
use chrono::{DateTime, Utc};
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

// The fields of the customer user forms, each declared once for the browser and the server.
// They post inside `form` (`form[email]`); their messages are keyed by the bare name.
pub const EMAIL: Field<Email> = Field::new("email", Email::parse);
pub const FIRST_NAME: Field<String> = Field::new("first_name", validate_first_name);
pub const LAST_NAME: Field<String> = Field::new("last_name", validate_last_name);
pub const PHONE: Field<Option<String>> = Field::new("phone", optional_phone);
pub const DESCRIPTION: Field<Option<String>> = Field::new("description", |raw| optional_long_text(raw, DESCRIPTION_MAX_CHARS));
pub const METHOD: Field<ActivationMethod> = Field::new("method", ActivationMethod::parse);

impl CustomerUserForm {
    /// The same rules the browser shows as you type.
    pub fn validate(&self, errors: &mut FieldErrors) -> Option<CustomerUserFields> {
        let email = EMAIL.take(errors, &self.email);
        let first_name = FIRST_NAME.take(errors, &self.first_name);
        let last_name = LAST_NAME.take(errors, &self.last_name);
        let phone = PHONE.take(errors, &self.phone);
        let description = DESCRIPTION.take(errors, &self.description);
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

/// What the activation page shows about a link: whose account it opens only while it works;
/// a dead link names only the business to ask for a new one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationView {
    pub state: LinkState,
    pub email: Option<String>,
    pub name: Option<String>,
    pub customer: Option<String>,
    pub account_name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A customer user as the portal's *Manage customer users* lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalUserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub customer: String,
    pub status: CustomerUserStatus,
    /// The signed-in user themself: they cannot disable or delete their own account here.
    pub is_self: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalUserList {
    pub rows: Vec<PortalUserRow>,
    /// The customers a new user may be added to: the user's own and its sub-customers.
    pub customers: Vec<(i64, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reports_every_bad_field_under_its_name() {
        let form = CustomerUserForm { email: "nope".into(), first_name: " ".into(), phone: "12".into(), ..Default::default() };
        let mut errors = FieldErrors::default();
        assert!(form.validate(&mut errors).is_none());
        for field in [EMAIL.name, FIRST_NAME.name, LAST_NAME.name, PHONE.name] {
            assert!(crate::error::AppError::Validation(errors.clone()).field_message(field).is_some(), "{field}");
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
