//! Importing customers, or customer users, from a CSV file (issue 13): upload, map the columns,
//! a dry run that says per row what will happen, then the import itself as a job whose state is
//! in PostgreSQL (a progress bar that survives a reload and shows from any instance). Rows go in
//! through the records' own validation, scope and plan limits, each with its audit row.

mod api;
mod import_page;
#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use import_page::{ImportJobPage, ImportPage};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest file the upload route takes (the server functions keep their 64 KiB).
pub const UPLOAD_LIMIT: usize = 50 * 1024 * 1024;
/// Rows of the dry run shown per page.
pub const ROWS_PER_PAGE: i64 = 50;

/// What a file holds: customers, or the people who sign in for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportKind {
    #[default]
    Customers,
    CustomerUsers,
}

impl ImportKind {
    pub fn key(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::CustomerUsers => "customer_users",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Self::Customers, Self::CustomerUsers].into_iter().find(|k| k.key() == key)
    }

    /// The fields a column can fill, in the order [`ImportSettings::columns`] follows.
    pub fn fields(self) -> &'static [ImportField] {
        match self {
            Self::Customers => &ImportField::ALL,
            Self::CustomerUsers => &ImportField::USER_FIELDS,
        }
    }

    /// What the page calls one row's record.
    pub fn record_label(self) -> &'static str {
        match self {
            Self::Customers => "Title",
            Self::CustomerUsers => "E-mail",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Customers => "Import customers",
            Self::CustomerUsers => "Import customer users",
        }
    }

    /// The page that uploads files of this kind.
    pub fn page_path(self) -> &'static str {
        match self {
            Self::Customers => "/customers/import",
            Self::CustomerUsers => "/customers/import?kind=customer-users",
        }
    }

    /// The kind the import page's `kind` parameter names (customers without one).
    pub fn from_page(kind: &str) -> Self {
        if kind == "customer-users" { Self::CustomerUsers } else { Self::Customers }
    }

    /// What the import button and the result count.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::CustomerUsers => "users",
        }
    }

    /// The upload route.
    pub fn upload_path(self) -> &'static str {
        match self {
            Self::Customers => "/import/customers",
            Self::CustomerUsers => "/import/customer-users",
        }
    }
}

/// What a column of the file can fill: the customer's fields and placement, as the customer
/// export names them (so an exported file maps itself), and a customer user's, as their export
/// names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportField {
    Title,
    CompanyName,
    Email,
    Phone,
    Country,
    State,
    City,
    Address,
    Address2,
    Zip,
    Description,
    CustomerType,
    OwnerCompany,
    ParentCustomer,
    Groups,
    /// The title of a customer user's customer.
    Customer,
    FirstName,
    LastName,
}

impl ImportField {
    pub const ALL: [ImportField; 15] = [
        Self::Title,
        Self::CompanyName,
        Self::Email,
        Self::Phone,
        Self::Country,
        Self::State,
        Self::City,
        Self::Address,
        Self::Address2,
        Self::Zip,
        Self::Description,
        Self::CustomerType,
        Self::OwnerCompany,
        Self::ParentCustomer,
        Self::Groups,
    ];

    /// A customer user's fields, in the order of their export.
    pub const USER_FIELDS: [ImportField; 6] = [Self::Customer, Self::FirstName, Self::LastName, Self::Email, Self::Phone, Self::Description];

    /// The field's name, as the export's header and the form's labels say it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Title => "Title",
            Self::CompanyName => "Company name",
            Self::Email => "E-mail",
            Self::Phone => "Phone",
            Self::Country => "Country",
            Self::State => "State",
            Self::City => "City",
            Self::Address => "Address",
            Self::Address2 => "Address line 2",
            Self::Zip => "ZIP",
            Self::Description => "Description",
            Self::CustomerType => "Customer type",
            Self::OwnerCompany => "Owner company",
            Self::ParentCustomer => "Parent customer",
            Self::Groups => "Groups",
            Self::Customer => "Customer",
            Self::FirstName => "First name",
            Self::LastName => "Last name",
        }
    }

    /// Other headers spreadsheets use for the field, compared without case, spaces and marks.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Title => &["title", "name", "customer", "customername", "customertitle"],
            Self::CompanyName => &["companyname", "company", "organisation", "organization"],
            Self::Email => &["email", "emailaddress", "mail"],
            Self::Phone => &["phone", "phonenumber", "telephone", "tel", "mobile"],
            Self::Country => &["country"],
            Self::State => &["state", "region", "province", "county"],
            Self::City => &["city", "town"],
            Self::Address => &["address", "street", "address1", "addressline1"],
            Self::Address2 => &["address2", "addressline2"],
            Self::Zip => &["zip", "zipcode", "postcode", "postalcode"],
            Self::Description => &["description", "notes", "note", "comment", "comments"],
            Self::CustomerType => &["customertype", "type"],
            Self::OwnerCompany => &["ownercompany", "owner"],
            Self::ParentCustomer => &["parentcustomer", "parent"],
            Self::Groups => &["groups", "group", "customergroups"],
            Self::Customer => &["customer", "customertitle", "customername", "title"],
            Self::FirstName => &["firstname", "givenname", "forename", "first"],
            Self::LastName => &["lastname", "surname", "familyname", "last"],
        }
    }

    /// For each field of `kind`, the first column whose header names it.
    pub fn match_headers(kind: ImportKind, headers: &[String]) -> Vec<Option<u32>> {
        let normal: Vec<String> = headers.iter().map(|h| h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()).collect();
        kind.fields()
            .iter()
            .map(|field| normal.iter().position(|h| field.aliases().contains(&h.as_str())).map(|i| i as u32))
            .collect()
    }
}

/// What happens to a row whose title a customer already has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Existing {
    #[default]
    Skip,
    Update,
}

/// Whether one bad row stops the import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    #[default]
    AllOrNothing,
    ValidOnly,
}

/// How the file is read: which column fills which field (in the order of the kind's
/// [`ImportKind::fields`]), what new customers get where the file says nothing, and whether new
/// customer users are e-mailed their activation links.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportSettings {
    #[serde(default)]
    pub kind: ImportKind,
    pub columns: Vec<Option<u32>>,
    pub customer_type_id: i64,
    pub owner_company_id: i64,
    pub group_id: Option<i64>,
    pub existing: Existing,
    pub mode: Mode,
    #[serde(default)]
    pub send_activation: bool,
}

impl ImportSettings {
    pub fn column(&self, field: ImportField) -> Option<u32> {
        let index = self.kind.fields().iter().position(|f| *f == field)?;
        self.columns.get(index).copied().flatten()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportStatus {
    /// The file could not be read; the message says which line and why.
    Unreadable,
    Uploaded,
    Checked,
    Running,
    Done,
    /// Refused at the start (all or nothing with error rows) or stopped by an error: nothing was written.
    Failed,
    /// The server stopped while importing: the transaction was rolled back, nothing was written.
    Interrupted,
}

impl ImportStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::Uploaded => "uploaded",
            Self::Checked => "checked",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn from_key(key: &str) -> Self {
        match key {
            "unreadable" => Self::Unreadable,
            "uploaded" => Self::Uploaded,
            "checked" => Self::Checked,
            "running" => Self::Running,
            "done" => Self::Done,
            "interrupted" => Self::Interrupted,
            _ => Self::Failed,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Unreadable => "Could not be read",
            Self::Uploaded => "Uploaded",
            Self::Checked => "Checked",
            Self::Running => "Importing",
            Self::Done => "Imported",
            Self::Failed => "Not imported",
            Self::Interrupted => "Interrupted",
        }
    }

    /// Whether the settings may still be changed and the file checked again.
    pub fn can_check(self) -> bool {
        matches!(self, Self::Uploaded | Self::Checked | Self::Failed | Self::Interrupted)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Create,
    Update,
    Skip,
    Error,
}

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Skip => "skip",
            Self::Error => "error",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Self::Create, Self::Update, Self::Skip, Self::Error].into_iter().find(|o| o.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Skip => "Skip",
            Self::Error => "Error",
        }
    }
}

/// How many rows go each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub create: i64,
    pub update: i64,
    pub skip: i64,
    pub error: i64,
}

/// An import as its page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportView {
    pub id: i64,
    pub file_name: String,
    pub status: ImportStatus,
    pub message: Option<String>,
    pub headers: Vec<String>,
    pub rows: i64,
    pub settings: ImportSettings,
    pub totals: Totals,
    /// Rows written so far, of `total` to write.
    pub done: i64,
    pub total: i64,
    /// Rows whose outcome at the import differed from the dry run's.
    pub changed: i64,
    pub can_update: bool,
    pub types: Vec<(i64, String)>,
    pub companies: Vec<(i64, String)>,
    pub groups: Vec<(i64, String)>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One row of the dry run (or of the import, once it ran).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowView {
    pub line: i32,
    pub title: String,
    pub outcome: Outcome,
    pub field: Option<String>,
    pub message: Option<String>,
    pub changed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowPage {
    pub rows: Vec<RowView>,
    /// The line to continue after, when there are more.
    pub next: Option<i32>,
}

/// A line of the caller's recent imports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: i64,
    pub kind: ImportKind,
    pub file_name: String,
    pub status: ImportStatus,
    pub rows: i64,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exported_header_maps_every_field_and_common_names_map_too() {
        let exported: Vec<String> = ImportField::ALL.iter().map(|f| f.label().to_owned()).chain(["Created".to_owned()]).collect();
        let columns = ImportField::match_headers(ImportKind::Customers, &exported);
        assert_eq!(columns, (0..15).map(Some).collect::<Vec<_>>());
        let sheet: Vec<String> = ["Customer Name", "E-Mail Address", "Post code", "Notes", "Whatever"].map(String::from).to_vec();
        let columns = ImportField::match_headers(ImportKind::Customers, &sheet);
        let settings = ImportSettings { columns, ..Default::default() };
        assert_eq!(settings.column(ImportField::Title), Some(0));
        assert_eq!(settings.column(ImportField::Email), Some(1));
        assert_eq!(settings.column(ImportField::Zip), Some(2));
        assert_eq!(settings.column(ImportField::Description), Some(3));
        assert_eq!(settings.column(ImportField::City), None);
    }

    #[test]
    fn a_customer_user_export_maps_every_user_field_and_names_do_not_cross_kinds() {
        let exported: Vec<String> =
            ["Customer", "First name", "Last name", "E-mail", "Phone", "Description", "Status", "Last sign-in"].map(String::from).to_vec();
        let columns = ImportField::match_headers(ImportKind::CustomerUsers, &exported);
        assert_eq!(columns, (0..6).map(Some).collect::<Vec<_>>());
        let settings = ImportSettings { kind: ImportKind::CustomerUsers, columns, ..Default::default() };
        assert_eq!(settings.column(ImportField::Email), Some(3));
        // A customer field is no column of a customer user file, and the other way round.
        assert_eq!(settings.column(ImportField::Title), None);
        let sheet: Vec<String> = ["Surname", "Given name", "Mail", "Customer"].map(String::from).to_vec();
        let columns = ImportField::match_headers(ImportKind::CustomerUsers, &sheet);
        assert_eq!(columns, vec![Some(3), Some(1), Some(0), Some(2), None, None]);
        let customers = ImportSettings { columns: ImportField::match_headers(ImportKind::Customers, &sheet), ..Default::default() };
        assert_eq!(customers.column(ImportField::FirstName), None);
        assert_eq!(customers.column(ImportField::Title), Some(3));
    }
}
