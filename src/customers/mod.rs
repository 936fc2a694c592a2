//! Customers (SPEC 4.2–4.6): create, edit, sub-customers to any depth, groups, delete with what
//! goes named first, the list that stays fast at ten million rows, bulk actions, and adding a
//! self-registered person as a customer. Every function checks permission, scope (the owner
//! company is within the caller's) and account.

mod api;
mod customer_form;
mod customer_page;
mod customers_page;
mod delete_customer_dialog;
mod row_options;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use customer_form::{contact_fields, AddByAccountPage, NewCustomerPage};
pub use customer_page::CustomerPage;
pub use customers_page::CustomersPage;

use crate::{
    error::{AppError, FieldErrors},
    validation::{optional_long_text, optional_phone, optional_text, required_text, Email, Field, DESCRIPTION_MAX_CHARS},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX_CHARS: usize = 120;
/// Counting stops here; beyond it the list says "more than".
pub const COUNT_CAP: i64 = 10_000;

/// The validated fields of a customer.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerFields {
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub zip: Option<String>,
    pub description: Option<String>,
}

/// The customer form as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerForm {
    pub title: String,
    #[serde(default)]
    pub company_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub address2: String,
    #[serde(default)]
    pub zip: String,
    #[serde(default)]
    pub description: String,
}

pub fn validate_title(raw: &str) -> Result<String, String> {
    required_text(raw, "a title", TITLE_MAX_CHARS)
}

pub fn optional_email(raw: &str) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        Email::parse(raw).map(|e| Some(e.as_str().to_owned()))
    }
}

pub fn optional_zip(raw: &str) -> Result<Option<String>, String> {
    let value = optional_text(raw, 20)?;
    match &value {
        Some(zip) if !zip.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') => {
            Err("Use letters, digits, spaces and dashes only.".into())
        }
        _ => Ok(value),
    }
}

// The fields of the customer forms, each declared once for the browser and the server. The
// contact fields post inside `form` (`form[title]`); their messages are keyed by the bare name.
pub const TITLE: Field<String> = Field::new("title", validate_title);
pub const COMPANY_NAME: Field<Option<String>> = Field::new("company_name", |raw| optional_text(raw, 120));
pub const EMAIL: Field<Option<String>> = Field::new("email", optional_email);
pub const PHONE: Field<Option<String>> = Field::new("phone", optional_phone);
pub const COUNTRY: Field<Option<String>> = Field::new("country", |raw| optional_text(raw, 60));
pub const STATE: Field<Option<String>> = Field::new("state", |raw| optional_text(raw, 60));
pub const CITY: Field<Option<String>> = Field::new("city", |raw| optional_text(raw, 60));
pub const ADDRESS: Field<Option<String>> = Field::new("address", |raw| optional_text(raw, 200));
pub const ADDRESS2: Field<Option<String>> = Field::new("address2", |raw| optional_text(raw, 200));
pub const ZIP: Field<Option<String>> = Field::new("zip", optional_zip);
pub const DESCRIPTION: Field<Option<String>> = Field::new("description", |raw| optional_long_text(raw, DESCRIPTION_MAX_CHARS));
pub const CUSTOMER_TYPE: Field<i64> = Field::new("customer_type_id", |raw| raw.trim().parse().map_err(|_| "Choose a customer type.".to_owned()));
pub const OWNER_COMPANY: Field<i64> = Field::new("owner_company_id", |raw| raw.trim().parse().map_err(|_| "Choose a company.".to_owned()));
pub const PARENT: &str = "parent";
pub const GROUP: Field<i64> = Field::new("group_id", |raw| raw.trim().parse().map_err(|_| "Choose a group.".to_owned()));
pub const GROUPS: &str = "groups";
/// The address of a self-registered person to add as a customer (SPEC 4.4).
pub const ACCOUNT_EMAIL: Field<Email> = Field::new("email", Email::parse);

impl CustomerForm {
    pub fn validate(&self, errors: &mut FieldErrors) -> Option<CustomerFields> {
        let title = TITLE.take(errors, &self.title);
        let company_name = COMPANY_NAME.take(errors, &self.company_name);
        let email = EMAIL.take(errors, &self.email);
        let phone = PHONE.take(errors, &self.phone);
        let country = COUNTRY.take(errors, &self.country);
        let state = STATE.take(errors, &self.state);
        let city = CITY.take(errors, &self.city);
        let address = ADDRESS.take(errors, &self.address);
        let address2 = ADDRESS2.take(errors, &self.address2);
        let zip = ZIP.take(errors, &self.zip);
        let description = DESCRIPTION.take(errors, &self.description);
        Some(CustomerFields {
            title: title?,
            company_name: company_name?,
            email: email?,
            phone: phone?,
            country: country?,
            state: state?,
            city: city?,
            address: address?,
            address2: address2?,
            zip: zip?,
            description: description?,
        })
    }

    pub fn from_detail(c: &CustomerDetail) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            title: c.title.clone(),
            company_name: s(&c.company_name),
            email: s(&c.email),
            phone: s(&c.phone),
            country: s(&c.country),
            state: s(&c.state),
            city: s(&c.city),
            address: s(&c.address),
            address2: s(&c.address2),
            zip: s(&c.zip),
            description: s(&c.description),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Title,
    Created,
    Email,
    Country,
    City,
}

impl SortKey {
    pub fn parse(value: &str) -> Self {
        match value {
            "created" => Self::Created,
            "email" => Self::Email,
            "country" => Self::Country,
            "city" => Self::City,
            _ => Self::Title,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Created => "created",
            Self::Email => "email",
            Self::Country => "country",
            Self::City => "city",
        }
    }
}

/// The list's state, as it appears in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerQuery {
    #[serde(default)]
    pub q: String,
    pub customer_type: Option<i64>,
    pub group: Option<i64>,
    /// That company and the companies below it.
    pub owner: Option<i64>,
    /// Only the direct sub-customers of this customer.
    pub parent: Option<i64>,
    #[serde(default)]
    pub sort: SortKey,
    #[serde(default)]
    pub desc: bool,
    /// None: the size the user chose last time.
    pub size: Option<i64>,
    /// Page number shown to the user (1-based). Without a cursor it is reached directly.
    #[serde(default)]
    pub page: i64,
    /// Rows after this cursor (the next page) or before it (the previous page).
    pub after: Option<String>,
    pub before: Option<String>,
    /// The last page.
    #[serde(default)]
    pub last: bool,
}

impl CustomerQuery {
    /// The list's state from its address's query (`q`, `type`, `group`, `owner`, `parent`,
    /// `sort`, `dir`, `size`, `page`, `after`, `before`, `last`).
    pub fn from_pairs(get: impl Fn(&str) -> Option<String>) -> Self {
        CustomerQuery {
            q: get("q").unwrap_or_default(),
            customer_type: get("type").and_then(|v| v.parse().ok()),
            group: get("group").and_then(|v| v.parse().ok()),
            owner: get("owner").and_then(|v| v.parse().ok()),
            parent: get("parent").and_then(|v| v.parse().ok()),
            sort: SortKey::parse(&get("sort").unwrap_or_default()),
            desc: get("dir").as_deref() == Some("desc"),
            size: get("size").and_then(|v| v.parse().ok()),
            page: get("page").and_then(|v| v.parse().ok()).unwrap_or(1),
            after: get("after"),
            before: get("before"),
            last: get("last").is_some(),
        }
    }
}

/// How many customers a list has: exact, at least (past the counting cap) or an estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Total {
    Exact(i64),
    AtLeast(i64),
    About(i64),
}

impl Total {
    pub fn describe(self) -> String {
        fn n(v: i64) -> String {
            let digits = v.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        }
        match self {
            Total::Exact(1) => "1 customer".into(),
            Total::Exact(v) => format!("{} customers", n(v)),
            Total::AtLeast(v) => format!("more than {} customers", n(v)),
            Total::About(v) => format!("about {} customers (estimated)", n(v)),
        }
    }

    pub fn exact(self) -> Option<i64> {
        match self {
            Total::Exact(v) => Some(v),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: i64,
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub type_name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerList {
    pub rows: Vec<CustomerRow>,
    pub total: Total,
    pub page: i64,
    pub page_size: i64,
    /// Cursors for the neighbouring pages, when there are any.
    pub next: Option<String>,
    pub previous: Option<String>,
    pub can_create: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    /// Whether each row offers "Manage customer users" (Customer users – View).
    pub can_view_users: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub id: i64,
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub zip: Option<String>,
    pub description: Option<String>,
    pub customer_type_id: i64,
    pub type_name: String,
    pub owner_company_id: i64,
    pub owner_company: String,
    pub parent: Option<(i64, String)>,
    pub group_ids: Vec<i64>,
    pub sub_customers: i64,
    pub customer_users: i64,
    pub created_at: DateTime<Utc>,
    pub version: i32,
    pub can_edit: bool,
    pub can_delete: bool,
    /// The caller may read the audit log (the Audit tab).
    pub can_view_audit: bool,
    /// The caller may see the customer's users (the Users tab).
    pub can_view_users: bool,
}

/// What the customer forms offer: types (the default first), companies in scope, groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerChoices {
    pub types: Vec<(i64, String)>,
    pub default_type: Option<i64>,
    pub companies: Vec<(i64, String)>,
    pub groups: Vec<(i64, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletionPreview {
    pub titles: Vec<String>,
    pub sub_customers: i64,
    pub customer_users: i64,
}

/// The result of a bulk action, for the message the list shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkResult {
    pub message: String,
}

/// The portal's *Edit customer profile*: the customer user's own customer as a form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalCustomerProfile {
    pub form: CustomerForm,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalSubCustomer {
    pub id: i64,
    pub title: String,
    pub parent: String,
    pub city: Option<String>,
}

/// The portal's *Manage sub-customers*: the customers below the user's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalSubCustomerList {
    pub rows: Vec<PortalSubCustomer>,
    /// Where a new sub-customer may go: the user's customer and everything below it.
    pub parents: Vec<(i64, String)>,
}

/// A sub-customer added from the portal, with the title it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddedSubCustomer {
    pub id: i64,
    pub title: String,
}

/// The customers a bulk action is for: distinct, 1 to 100 of them.
pub fn parse_ids(raw: &[String]) -> Result<Vec<i64>, AppError> {
    let mut ids: Vec<i64> = raw
        .iter()
        .map(|s| s.trim().parse::<i64>().map_err(|_| AppError::BadRequest("customer ids must be numbers".into())))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::Refused("Select at least one customer.".into()));
    }
    if ids.len() > 100 {
        return Err(AppError::Refused("Select at most 100 customers at once.".into()));
    }
    Ok(ids)
}

/// The one answer for every address that cannot be added by account (SPEC 4.4).
pub const NO_REGISTERED_ACCOUNT: &str = "No registered account is available for this e-mail, or the title it would give \
     (the person's name) is already a customer's. Check the address, or enter a company name to use as the title.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_customer_field_has_a_rule() {
        let form = CustomerForm {
            title: " ".into(),
            company_name: "x".repeat(121),
            email: "nope".into(),
            phone: "12".into(),
            country: "x".repeat(61),
            state: "x".repeat(61),
            city: "x".repeat(61),
            address: "x".repeat(201),
            address2: "x".repeat(201),
            zip: "12<34".into(),
            description: "x".repeat(1001),
        };
        let mut errors = FieldErrors::default();
        assert!(form.validate(&mut errors).is_none());
        for field in ["title", "company_name", "email", "phone", "country", "state", "city", "address", "address2", "zip", "description"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        let ok = CustomerForm { title: "Acme Solar".into(), email: "Ops@Acme.test".into(), zip: "SW1A 1AA".into(), ..Default::default() };
        let mut errors = FieldErrors::default();
        let fields = ok.validate(&mut errors).unwrap();
        assert_eq!(fields.email.as_deref(), Some("Ops@Acme.test"));
        assert_eq!(fields.city, None);
    }

    #[test]
    fn totals_say_whether_they_are_exact() {
        assert_eq!(Total::Exact(1).describe(), "1 customer");
        assert_eq!(Total::Exact(1_234_567).describe(), "1,234,567 customers");
        assert_eq!(Total::AtLeast(10_000).describe(), "more than 10,000 customers");
        assert_eq!(Total::About(52_300).describe(), "about 52,300 customers (estimated)");
    }

    #[test]
    fn bulk_selections_are_bounded() {
        assert!(parse_ids(&[]).is_err());
        assert_eq!(parse_ids(&["3".into(), "1".into(), "3".into()]).unwrap(), [1, 3]);
        assert!(parse_ids(&["x".into()]).is_err());
        let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        assert!(parse_ids(&many).is_err());
    }
}
