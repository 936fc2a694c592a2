//! Customers (SPEC 4.2–4.6): create, edit, sub-customers to any depth, groups, delete with what
//! goes named first, the list that stays fast at ten million rows, bulk actions, and adding a
//! self-registered person as a customer. Every function checks permission, scope (the owner
//! company is within the caller's) and account.

mod detail;
mod form;
mod list;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use detail::CustomerPage;
pub use form::{contact_fields, AddByAccountPage, NewCustomerPage};
pub use list::CustomersPage;

use crate::{
    error::{AppError, FieldErrors},
    validation::{optional_long_text, optional_phone, optional_text, required_text, Email, DESCRIPTION_MAX_CHARS},
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const TITLE_MAX_CHARS: usize = 120;
pub const PAGE_SIZES: [i64; 4] = [10, 25, 50, 100];
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

impl CustomerForm {
    pub fn validate(&self, errors: &mut FieldErrors) -> Option<CustomerFields> {
        let title = errors.take("title", validate_title(&self.title));
        let company_name = errors.take("company_name", optional_text(&self.company_name, 120));
        let email = errors.take("email", optional_email(&self.email));
        let phone = errors.take("phone", optional_phone(&self.phone));
        let country = errors.take("country", optional_text(&self.country, 60));
        let state = errors.take("state", optional_text(&self.state, 60));
        let city = errors.take("city", optional_text(&self.city, 60));
        let address = errors.take("address", optional_text(&self.address, 200));
        let address2 = errors.take("address2", optional_text(&self.address2, 200));
        let zip = errors.take("zip", optional_zip(&self.zip));
        let description = errors.take("description", optional_long_text(&self.description, DESCRIPTION_MAX_CHARS));
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

#[cfg(feature = "ssr")]
fn parse_ids(raw: &[String]) -> Result<Vec<i64>, AppError> {
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

// ---------------------------------------------------------------------------------------------
// Server functions
// ---------------------------------------------------------------------------------------------

#[server(prefix = "/api", endpoint = "customers")]
pub async fn list_customers(query: CustomerQuery) -> Result<CustomerList, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersView)?;
    let mut conn = state.db.acquire().await?;
    let mut list = ssr::list::list(&mut conn, &staff, &query).await?;
    list.can_create = staff.user.permissions.contains(&Permission::CustomersCreate);
    list.can_edit = staff.user.permissions.contains(&Permission::CustomersEdit);
    list.can_delete = staff.user.permissions.contains(&Permission::CustomersDelete);
    Ok(list)
}

#[server(prefix = "/api", endpoint = "customer")]
pub async fn get_customer(id: i64) -> Result<CustomerDetail, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersView)?;
    let mut conn = state.db.acquire().await?;
    let customer = ssr::customer_in_scope(&mut conn, &staff, id).await?;
    let row = sqlx::query!(
        r#"SELECT c.title, c.company_name, c.email, c.phone, c.country, c.state, c.city, c.address, c.address2, c.zip,
                  c.description, c.customer_type_id, t.name AS type_name, c.owner_company_id, o.name AS owner_name,
                  c.parent_id, p.title AS "parent_title?", c.group_ids, c.created_at, c.version,
                  (SELECT count(*) FROM customers s WHERE s.account_id = c.account_id AND s.parent_id = c.id) AS "children!",
                  (SELECT count(*) FROM users u WHERE u.account_id = c.account_id AND u.customer_id = c.id) AS "users!"
             FROM customers c
             JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
             JOIN companies o ON o.account_id = c.account_id AND o.id = c.owner_company_id
             LEFT JOIN customers p ON p.account_id = c.account_id AND p.id = c.parent_id
            WHERE c.account_id = $1 AND c.id = $2"#,
        staff.account_id,
        customer.id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(CustomerDetail {
        id,
        title: row.title,
        company_name: row.company_name,
        email: row.email,
        phone: row.phone,
        country: row.country,
        state: row.state,
        city: row.city,
        address: row.address,
        address2: row.address2,
        zip: row.zip,
        description: row.description,
        customer_type_id: row.customer_type_id,
        type_name: row.type_name,
        owner_company_id: row.owner_company_id,
        owner_company: row.owner_name,
        parent: row.parent_id.zip(row.parent_title),
        group_ids: row.group_ids,
        sub_customers: row.children,
        customer_users: row.users,
        created_at: row.created_at,
        version: row.version,
        can_edit: staff.user.permissions.contains(&Permission::CustomersEdit),
        can_delete: staff.user.permissions.contains(&Permission::CustomersDelete),
        can_view_audit: staff.user.permissions.contains(&Permission::AuditView),
        can_view_users: staff.user.permissions.contains(&Permission::CustomerUsersView),
    })
}

#[server(prefix = "/api", endpoint = "customer_choices")]
pub async fn load_customer_choices() -> Result<CustomerChoices, AppError> {
    use crate::{auth::ssr::sessions::require_staff, companies::ssr::scope_root, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersView)?;
    let mut conn = state.db.acquire().await?;
    let types = sqlx::query!(
        "SELECT id, name, is_default FROM customer_types WHERE account_id = $1 ORDER BY is_default DESC, lower(name)",
        staff.account_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let top = scope_root(&mut conn, &staff).await?;
    let companies = sqlx::query!(
        r#"SELECT id, name, cardinality(path) AS "depth!" FROM companies
            WHERE account_id = $1 AND path @> ARRAY[$2::bigint] ORDER BY path"#,
        staff.account_id,
        top
    )
    .fetch_all(&mut *conn)
    .await?;
    let base = companies.first().map(|c| c.depth).unwrap_or(1);
    let groups = sqlx::query!("SELECT id, name FROM customer_groups WHERE account_id = $1 ORDER BY lower(name)", staff.account_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(CustomerChoices {
        default_type: types.iter().find(|t| t.is_default).map(|t| t.id),
        types: types.into_iter().map(|t| (t.id, t.name)).collect(),
        companies: companies
            .into_iter()
            .map(|c| (c.id, format!("{}{}", "— ".repeat((c.depth - base).max(0) as usize), c.name)))
            .collect(),
        groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
    })
}

/// Creates a customer. `parent` is the title of the parent customer, if any.
#[server(prefix = "/api", endpoint = "create_customer")]
pub async fn create_customer(
    form: CustomerForm,
    customer_type_id: String,
    owner_company_id: String,
    #[server(default)] parent: String,
) -> Result<i64, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersCreate)?;
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let type_id = errors.take("customer_type_id", customer_type_id.trim().parse::<i64>().map_err(|_| "Choose a customer type.".to_owned()));
    let owner_id = errors.take("owner_company_id", owner_company_id.trim().parse::<i64>().map_err(|_| "Choose a company.".to_owned()));
    let (Some(fields), Some(type_id), Some(owner_id)) = (fields, type_id, owner_id) else {
        return Err(AppError::Validation(errors));
    };
    let mut tx = state.db.begin().await?;
    let id = ssr::insert_customer(&mut tx, &state, &staff, &fields, type_id, owner_id, &parent).await?;
    tx.commit().await?;
    Ok(id)
}

#[server(prefix = "/api", endpoint = "update_customer")]
pub async fn update_customer(
    id: i64,
    form: CustomerForm,
    customer_type_id: String,
    owner_company_id: String,
    #[server(default)] parent: String,
    version: i32,
) -> Result<i32, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersEdit)?;
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let type_id = errors.take("customer_type_id", customer_type_id.trim().parse::<i64>().map_err(|_| "Choose a customer type.".to_owned()));
    let owner_id = errors.take("owner_company_id", owner_company_id.trim().parse::<i64>().map_err(|_| "Choose a company.".to_owned()));
    let (Some(fields), Some(type_id), Some(owner_id)) = (fields, type_id, owner_id) else {
        return Err(AppError::Validation(errors));
    };
    let mut tx = state.db.begin().await?;
    let version = ssr::update_customer(&mut tx, &state, &staff, id, version, &fields, type_id, owner_id, &parent).await?;
    tx.commit().await?;
    Ok(version)
}

#[server(prefix = "/api", endpoint = "customer_deletion")]
pub async fn preview_customer_deletion(#[server(default)] ids: Vec<String>) -> Result<DeletionPreview, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersDelete)?;
    let ids = parse_ids(&ids)?;
    let mut conn = state.db.acquire().await?;
    ssr::deletion_preview(&mut conn, &staff, &ids).await
}

/// Deletes customers with their sub-customers and customer users, all or nothing.
#[server(prefix = "/api", endpoint = "delete_customers")]
pub async fn delete_customers(#[server(default)] ids: Vec<String>) -> Result<BulkResult, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersDelete)?;
    let ids = parse_ids(&ids)?;
    let mut tx = state.db.begin().await?;
    let result = ssr::delete_customers(&mut tx, &state, &staff, &ids).await?;
    tx.commit().await?;
    Ok(result)
}

/// Gives the selected customers another type, all or nothing.
#[server(prefix = "/api", endpoint = "change_customer_type")]
pub async fn change_customer_type(#[server(default)] ids: Vec<String>, customer_type_id: String) -> Result<BulkResult, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersEdit)?;
    let ids = parse_ids(&ids)?;
    let type_id: i64 = customer_type_id.trim().parse().map_err(|_| AppError::field("customer_type_id", "Choose a customer type."))?;
    let mut tx = state.db.begin().await?;
    let result = ssr::change_type(&mut tx, &state, &staff, &ids, type_id).await?;
    tx.commit().await?;
    Ok(result)
}

/// Adds the selected customers to a group, all or nothing.
#[server(prefix = "/api", endpoint = "add_customers_to_group")]
pub async fn add_customers_to_group(#[server(default)] ids: Vec<String>, group_id: String) -> Result<BulkResult, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersEdit)?;
    let ids = parse_ids(&ids)?;
    let group_id: i64 = group_id.trim().parse().map_err(|_| AppError::field("group_id", "Choose a group."))?;
    let mut tx = state.db.begin().await?;
    let result = ssr::add_to_group(&mut tx, &state, &staff, &ids, group_id).await?;
    tx.commit().await?;
    Ok(result)
}

/// Sets which named groups one customer belongs to.
#[server(prefix = "/api", endpoint = "set_customer_groups")]
pub async fn set_customer_groups(id: i64, #[server(default)] groups: Vec<String>, version: i32) -> Result<i32, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersEdit)?;
    let groups: Vec<i64> = groups
        .iter()
        .map(|g| g.trim().parse::<i64>().map_err(|_| AppError::field("groups", "Choose groups from the list.")))
        .collect::<Result<_, _>>()?;
    let mut tx = state.db.begin().await?;
    let version = ssr::set_groups(&mut tx, &state, &staff, id, &groups, version).await?;
    tx.commit().await?;
    Ok(version)
}

/// SPEC 4.4: makes a person who registered themselves the first customer user of a new
/// customer. Any address that is not a free, confirmed self-registration gets the same answer.
#[server(prefix = "/api", endpoint = "add_customer_by_account")]
pub async fn add_customer_by_account(
    email: String,
    customer_type_id: String,
    #[server(default)] company_name: String,
    owner_company_id: String,
) -> Result<i64, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersCreate)?;
    let mut errors = FieldErrors::default();
    let email = errors.take("email", Email::parse(&email));
    let company_name = errors.take("company_name", optional_text(&company_name, 120));
    let type_id = errors.take("customer_type_id", customer_type_id.trim().parse::<i64>().map_err(|_| "Choose a customer type.".to_owned()));
    let owner_id = errors.take("owner_company_id", owner_company_id.trim().parse::<i64>().map_err(|_| "Choose a company.".to_owned()));
    let (Some(email), Some(company_name), Some(type_id), Some(owner_id)) = (email, company_name, type_id, owner_id) else {
        return Err(AppError::Validation(errors));
    };
    crate::auth::ssr::addresses::guard(&state, staff.user.user_id).await?;
    let mut tx = state.db.begin().await?;
    match ssr::add_by_account(&mut tx, &state, &staff, &email, company_name, type_id, owner_id).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(id)
        }
        Err(error) => {
            drop(tx);
            // Each address that could not be added counts, as elsewhere (who is registered is
            // not to be harvested through this form either).
            if error.field_message("email").as_deref() == Some(NO_REGISTERED_ACCOUNT) {
                crate::auth::ssr::addresses::count_refusals(&state, staff.user.user_id, 1).await?;
            }
            Err(error)
        }
    }
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
