//! Server-only half of accounts and signing in: every query of the feature, and the rules the
//! server functions call.

pub mod accounts;
pub mod addresses;
pub mod passwords;
pub mod profile;
pub mod sign_in;
pub mod sign_up;
pub mod throttle;
