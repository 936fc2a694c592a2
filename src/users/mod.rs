//! Staff users (SPEC 3.2–3.7): the list, add (with the three ways to set a first password),
//! edit, role, password reset, disable / enable / remove / delete, and invitations. Every
//! function checks permission, scope (the target's company is within the caller's), authority
//! (the target's rank is at or below the caller's) and account.

mod add_user_page;
mod api;
mod invitation_page;
mod user_page;
mod users_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use add_user_page::AddUserPage;
pub use api::*;
pub use invitation_page::AcceptInvitationPage;
pub use user_page::UserPage;
pub use users_page::UsersPage;

use crate::{
    error::FieldErrors,
    services::links::LinkState,
    ui::{page_size_or_default, PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD},
    validation::{
        confirm_matches, optional_long_text, optional_phone, optional_region, required_text, Email, Field, Password,
        DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS,
    },
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a person stands in their account. Stored in `users.status` (for staff and customer
/// users alike; a customer user is `Invited` until they activate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserStatus {
    Invited,
    Active,
    Disabled,
    /// Out of the account: no sign-in, no listing, history kept, address free again.
    Removed,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
            UserStatus::Removed => "removed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [UserStatus::Invited, UserStatus::Active, UserStatus::Disabled, UserStatus::Removed].into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            UserStatus::Invited => "Invited",
            UserStatus::Active => "Active",
            UserStatus::Disabled => "Disabled",
            UserStatus::Removed => "Removed",
        }
    }
}

/// What the accept page shows about an invitation link (whose it is only while it works).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    pub state: LinkState,
    pub email: Option<String>,
    pub account_name: Option<String>,
    /// Who sent it: whom to ask for a new one.
    pub inviter: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How a new user gets their first password (SPEC 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordSetup {
    /// An invitation link; they choose their own password (the default).
    Invite,
    /// A generated temporary password, e-mailed, valid 24 hours, changed at first sign-in.
    Generate,
    /// Typed by the administrator, changed at first sign-in.
    Custom,
}

impl PasswordSetup {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "invite" => Some(Self::Invite),
            "generate" => Some(Self::Generate),
            "custom" => Some(Self::Custom),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Generate => "generate",
            Self::Custom => "custom",
        }
    }
}

/// How long a generated temporary password works.
pub const TEMPORARY_PASSWORD_HOURS: i64 = 24;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserListItem {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    pub role_name: String,
    pub company_name: String,
    pub region: Option<String>,
    pub status: UserStatus,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub invitation_expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserListItem>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    /// Cursors of the pages before and after this one (a user shown first or last here).
    pub previous: Option<i64>,
    pub next: Option<i64>,
    pub can_manage: bool,
    /// Choices for the filters: the account's roles and the companies in the caller's scope.
    pub roles: Vec<(i64, String)>,
    pub companies: Vec<(i64, String)>,
}

/// The list's state, as it appears in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Search in name and e-mail.
    pub q: String,
    /// "" (active and invited), "active", "invited" or "disabled".
    pub status: String,
    pub role: Option<i64>,
    /// That company and the companies below it.
    pub company: Option<i64>,
    /// name, email, role, company, status or last_sign_in.
    pub sort: String,
    pub desc: bool,
    /// The page shown, for its number; which users it holds comes from `after` or `before`.
    pub page: i64,
    pub size: i64,
    /// The page starts after this user (the last of the page before) ...
    #[serde(default)]
    pub after: Option<i64>,
    /// ... or ends before this one (the first of the page after).
    #[serde(default)]
    pub before: Option<i64>,
}

impl UserQuery {
    /// The list's state from its address's query (`q`, `status`, `role`, `company`, `sort`,
    /// `dir`, `page`, `size`, `after`, `before`).
    pub fn from_pairs(get: impl Fn(&str) -> Option<String>) -> Self {
        UserQuery {
            q: get("q").unwrap_or_default(),
            status: get("status").unwrap_or_default(),
            role: get("role").and_then(|v| v.parse().ok()),
            company: get("company").and_then(|v| v.parse().ok()),
            sort: get("sort").unwrap_or_default(),
            desc: get("dir").as_deref() == Some("desc"),
            page: get("page").and_then(|v| v.parse().ok()).unwrap_or(1),
            size: get("size").and_then(|v| v.parse().ok()).unwrap_or(25),
            after: get("after").and_then(|v| v.parse().ok()),
            before: get("before").and_then(|v| v.parse().ok()),
        }
    }

    pub fn page_size(&self) -> i64 {
        page_size_or_default(self.size)
    }

    pub fn sort_key(&self) -> &str {
        match self.sort.as_str() {
            key @ ("email" | "role" | "company" | "status" | "last_sign_in") => key,
            _ => "name",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
    pub company_id: i64,
    pub company_name: String,
    pub role_id: i64,
    pub role_name: String,
    pub status: UserStatus,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub invitation_expires_at: Option<DateTime<Utc>>,
    pub must_change_password: bool,
    pub version: i32,
    /// The caller may change this user (permission, scope and authority).
    pub can_manage: bool,
    pub is_self: bool,
    /// The caller may read the audit log (the Audit tab).
    pub can_view_audit: bool,
}

/// The companies and roles the caller may choose from in the user forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserChoices {
    /// `(id, name indented by depth)`.
    pub companies: Vec<(i64, String)>,
    /// Roles the caller may assign (SPEC 2.3), most authority first.
    pub roles: Vec<(i64, String)>,
}

// The fields of the user forms, each declared once for the browser and the server.
pub const DISPLAY_NAME: Field<String> = Field::new("display_name", |raw| required_text(raw, "a username", NAME_MAX_CHARS));
pub const EMAIL: Field<Email> = Field::new("email", Email::parse);
pub const PHONE: Field<Option<String>> = Field::new("phone", optional_phone);
pub const REGION: Field<Option<String>> = Field::new("region", optional_region);
pub const DESCRIPTION: Field<Option<String>> = Field::new("description", |raw| optional_long_text(raw, DESCRIPTION_MAX_CHARS));
pub const INVITED_NAME: Field<String> = Field::new("display_name", |raw| required_text(raw, "your name", NAME_MAX_CHARS));
pub const EMAILS: Field<Vec<Email>> = Field::new("emails", parse_invitation_addresses);
pub const COMPANY: Field<i64> = Field::new("company_id", |raw| raw.trim().parse().map_err(|_| "Choose a company.".to_owned()));
pub const ROLE: Field<i64> = Field::new("role_id", |raw| raw.trim().parse().map_err(|_| "Choose a role.".to_owned()));
pub const PASSWORD_SETUP: &str = "password_setup";

/// The validated basic information of a user.
#[derive(Debug)]
pub struct BasicInput {
    pub display_name: String,
    pub email: Email,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
}

pub fn validate_basic(
    errors: &mut FieldErrors,
    display_name: &str,
    email: &str,
    phone: &str,
    region: &str,
    description: &str,
) -> Option<BasicInput> {
    let display_name = DISPLAY_NAME.take(errors, display_name);
    let email = EMAIL.take(errors, email);
    let phone = PHONE.take(errors, phone);
    let region = REGION.take(errors, region);
    let description = DESCRIPTION.take(errors, description);
    Some(BasicInput { display_name: display_name?, email: email?, phone: phone?, region: region?, description: description? })
}

/// The first password of a new user, as chosen in the form.
#[derive(Debug)]
pub enum FirstPassword {
    Invite,
    Generate,
    Custom(Password),
}

pub fn validate_password_setup(
    errors: &mut FieldErrors,
    setup: &str,
    password: &str,
    password_confirm: &str,
    email: &str,
) -> Option<FirstPassword> {
    match PasswordSetup::parse(setup) {
        Some(PasswordSetup::Invite) => Some(FirstPassword::Invite),
        Some(PasswordSetup::Generate) => Some(FirstPassword::Generate),
        Some(PasswordSetup::Custom) => {
            let parsed = errors.take(PASSWORD_FIELD, Password::parse(password, Some(email)));
            let confirmed = errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(password, password_confirm));
            Some(FirstPassword::Custom(parsed?)).filter(|_| confirmed.is_some())
        }
        None => {
            errors.add(PASSWORD_SETUP, "Choose how the user gets a password.");
            None
        }
    }
}

/// Splits what was typed into the invitation box (commas, spaces, semicolons or new lines) into
/// distinct addresses, in order, reporting the malformed ones.
pub fn parse_invitation_addresses(raw: &str) -> Result<Vec<Email>, String> {
    let mut addresses: Vec<Email> = Vec::new();
    let mut bad = Vec::new();
    for piece in raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        match Email::parse(piece) {
            Ok(email) if !addresses.iter().any(|a| a.normalized() == email.normalized()) => addresses.push(email),
            Ok(_) => {}
            Err(_) => bad.push(piece.to_owned()),
        }
    }
    if !bad.is_empty() {
        return Err(format!("Not valid e-mail addresses: {}.", bad.join(", ")));
    }
    if addresses.is_empty() {
        return Err("Enter at least one e-mail address.".into());
    }
    if addresses.len() > MAX_INVITATIONS {
        return Err(format!("Invite at most {MAX_INVITATIONS} people at once."));
    }
    Ok(addresses)
}

pub const MAX_INVITATIONS: usize = 50;


/// What can be done to a user's membership (SPEC 3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembershipChange {
    Disable,
    Enable,
    /// Out of the account; history kept; may be invited again.
    Remove,
    /// Erased.
    Delete,
}

impl MembershipChange {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "disable" => Some(Self::Disable),
            "enable" => Some(Self::Enable),
            "remove" => Some(Self::Remove),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::Remove => "remove",
            Self::Delete => "delete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_addresses_split_on_commas_spaces_and_lines() {
        let list = parse_invitation_addresses("a@x.test, b@x.test\nc@x.test;d@x.test  A@X.test").unwrap();
        let emails: Vec<&str> = list.iter().map(Email::as_str).collect();
        assert_eq!(emails, ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]);
        assert_eq!(parse_invitation_addresses(" , ").unwrap_err(), "Enter at least one e-mail address.");
        assert_eq!(parse_invitation_addresses("a@x.test, nope").unwrap_err(), "Not valid e-mail addresses: nope.");
        let many: String = (0..51).map(|i| format!("u{i}@x.test ")).collect();
        assert!(parse_invitation_addresses(&many).is_err());
    }

    #[test]
    fn a_custom_first_password_follows_the_policy_and_is_typed_twice() {
        let mut errors = FieldErrors::default();
        assert!(matches!(validate_password_setup(&mut errors, "invite", "", "", "a@x.test"), Some(FirstPassword::Invite)));
        assert!(validate_password_setup(&mut errors, "custom", "violet-kettle-onward", "violet-kettle-onwarD", "a@x.test").is_none());
        assert!(errors.get("password_confirm").is_some());
        let mut errors = FieldErrors::default();
        assert!(validate_password_setup(&mut errors, "custom", "qwerty123456", "qwerty123456", "a@x.test").is_none());
        assert!(errors.get("password").is_some());
        let mut errors = FieldErrors::default();
        assert!(validate_password_setup(&mut errors, "guess", "", "", "a@x.test").is_none());
        assert!(errors.get("password_setup").is_some());
    }

    #[test]
    fn the_list_falls_back_to_safe_sorting_and_page_sizes() {
        let query = UserQuery { sort: "password_hash".into(), size: 7, ..Default::default() };
        assert_eq!(query.sort_key(), "name");
        assert_eq!(query.page_size(), 25);
        assert_eq!(UserQuery { size: 100, ..Default::default() }.page_size(), 100);
    }
}
