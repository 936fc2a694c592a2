//! The customer portal's screens beyond its home (SPEC 5.1): the customer's profile, its
//! sub-customers, and — where the customer type grants *Manage customer users* — the users of
//! the customer and its sub-customers. Every server function takes the capability its feature
//! grants; the work itself is the customers' and the customer users' own.

mod api;
mod customer_pages;
mod users_page;

pub use api::*;
pub use customer_pages::{PortalCustomerPage, PortalSubCustomersPage};
pub use users_page::PortalUsersPage;
