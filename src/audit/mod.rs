//! The audit log (SPEC 7): who did what to which record, when and from where. Every change
//! writes its row inside the change's own transaction. The viewer comes with a later issue.

#[cfg(feature = "ssr")]
pub mod ssr;
