//! The account's plan usage (SPEC 2.2), counted in the same transaction as what it counts: a
//! customer created, an e-mail queued, a sign-in. Staff and customer users are counted by the
//! database itself (the `users_plan_usage` trigger), because so many changes add and remove
//! them. Each counter refuses what the plan has no room for with [`crate::error::PlanLimit`].

#[cfg(feature = "ssr")]
pub mod ssr;
