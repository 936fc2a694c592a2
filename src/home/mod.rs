//! The overview page: the account at a glance (what the user may see of it, in the companies
//! they look after) and the user's own recent sign-ins; for a customer user, their customer.

mod api;
mod home_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use home_page::HomePage;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub display_name: String,
    pub account_name: Option<String>,
    pub role_name: Option<String>,
    /// Companies in the caller's scope (with Companies – View; else 0 and not shown).
    pub company_count: i64,
    /// Staff users in the caller's scope (with Users – View; else 0 and not shown).
    pub staff_count: i64,
    pub shows_companies: bool,
    pub shows_staff: bool,
    pub queued_mail: Option<i64>,
    /// For Administrators: the account's customers, and its last 30 days of new customers,
    /// sign-ins and e-mails (the whole account is theirs to see).
    pub customer_count: Option<i64>,
    pub activity: Option<Vec<crate::billing::DayUsage>>,
    pub recent_sign_ins: Vec<SignInEvent>,
    /// For a customer user: the customer they act for (the portal, SPEC 5).
    pub portal: Option<PortalCustomer>,
}

/// What a customer user sees of their own customer: its details and what its type allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalCustomer {
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Address lines, city line and country, without the empty ones.
    pub address: Vec<String>,
    pub type_name: String,
    /// Labels of the customer-feature permissions the type grants, in catalogue order.
    pub features: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInEvent {
    pub at: DateTime<Utc>,
    pub succeeded: bool,
    pub client_ip: Option<String>,
}

