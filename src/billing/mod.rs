//! Billing (SPEC 2.2): the account's plan, its usage against each limit, a 30-day chart of
//! e-mails and new customers, and (with Billing – Manage) the billing contact and whether they
//! are warned at 80% and 100% of a limit. The operator sets the plan and limits from the
//! command line; the counters themselves are `services::usage`.

mod api;
mod billing_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use billing_page::BillingPage;

use crate::{
    error::{FieldErrors, Limit},
    validation::{Email, Field},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How many days the charts show, today included.
pub const CHART_DAYS: i64 = 30;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Billing {
    pub plan_name: String,
    pub usage: Vec<LimitUsage>,
    /// The last [`CHART_DAYS`] days, oldest first, every day present.
    pub days: Vec<DayUsage>,
    pub contact_email: Option<String>,
    pub usage_warnings: bool,
    /// Whether the caller may change the contact and the warnings (Billing – Manage).
    pub can_manage: bool,
    pub version: i32,
}

/// One limit of the plan and how much of it is used; `allowed` is `None` when unlimited.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitUsage {
    pub limit: Limit,
    pub used: i64,
    pub allowed: Option<i64>,
}

impl LimitUsage {
    /// How full the limit is, 0 to 100 (past a lowered limit, still 100); `None` when unlimited.
    pub fn percent(&self) -> Option<u32> {
        self.allowed.map(|allowed| {
            if allowed <= 0 {
                100
            } else {
                ((self.used.max(0) as f64 / allowed as f64) * 100.0).floor().min(100.0) as u32
            }
        })
    }

    /// "412 of 500", or "412 (unlimited)".
    pub fn summary(&self) -> String {
        match self.allowed {
            Some(allowed) => format!("{} of {allowed}", self.used),
            None => format!("{} (unlimited)", self.used),
        }
    }
}

/// What one day counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayUsage {
    pub day: NaiveDate,
    pub emails: i64,
    pub customers_created: i64,
    pub sign_ins: i64,
}

/// The billing contact and warnings, as saved.
#[derive(Debug)]
pub struct BillingInput {
    pub contact_email: Option<Email>,
    pub usage_warnings: bool,
}

fn optional_email(raw: &str) -> Result<Option<Email>, String> {
    if raw.trim().is_empty() { Ok(None) } else { Email::parse(raw).map(Some) }
}

pub const CONTACT_EMAIL: Field<Option<Email>> = Field::new("contact_email", optional_email);

pub fn validate_billing(contact_email: &str, usage_warnings: bool) -> Result<BillingInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    match CONTACT_EMAIL.take(&mut errors, contact_email) {
        Some(contact_email) => Ok(BillingInput { contact_email, usage_warnings }),
        None => Err(errors),
    }
}

/// The percentages at which the billing contact hears about a limit.
pub const WARNING_PERCENTS: [i32; 2] = [80, 100];

/// The highest warning level `used` of `allowed` has reached, if any.
pub fn warning_level(used: i64, allowed: Option<i64>) -> Option<i32> {
    let allowed = allowed?;
    WARNING_PERCENTS.into_iter().rev().find(|percent| used * 100 >= allowed * i64::from(*percent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_as_a_share_and_unlimited_has_none() {
        let half = LimitUsage { limit: Limit::Customers, used: 250, allowed: Some(500) };
        assert_eq!((half.percent(), half.summary().as_str()), (Some(50), "250 of 500"));
        let over = LimitUsage { limit: Limit::Customers, used: 9, allowed: Some(5) };
        assert_eq!(over.percent(), Some(100));
        let zero = LimitUsage { limit: Limit::StaffUsers, used: 0, allowed: Some(0) };
        assert_eq!(zero.percent(), Some(100));
        let free = LimitUsage { limit: Limit::EmailsPerMonth, used: 12, allowed: None };
        assert_eq!((free.percent(), free.summary().as_str()), (None, "12 (unlimited)"));
    }

    #[test]
    fn warnings_start_at_eighty_and_a_hundred_percent() {
        assert_eq!(warning_level(79, Some(100)), None);
        assert_eq!(warning_level(80, Some(100)), Some(80));
        assert_eq!(warning_level(99, Some(100)), Some(80));
        assert_eq!(warning_level(100, Some(100)), Some(100));
        assert_eq!(warning_level(4, Some(5)), Some(80));
        assert_eq!(warning_level(1_000_000, None), None);
    }

    #[test]
    fn the_contact_may_be_empty_but_not_invalid() {
        assert!(validate_billing("", true).unwrap().contact_email.is_none());
        assert_eq!(validate_billing(" Pay@Acme.test ", false).unwrap().contact_email.unwrap().as_str(), "Pay@Acme.test");
        assert!(validate_billing("nope", true).unwrap_err().get("contact_email").is_some());
    }
}
