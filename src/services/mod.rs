//! The services every feature uses and that know no feature: the audit trail, written through
//! the actor; single-use links by purpose; mail queued in the change's transaction and
//! delivered by the worker; the plan usage each change counts; webhook deliveries written from
//! the audit row and sent by their worker. They stand on the platform (`server`, `ui`) and the ground floor.

pub mod audit;
pub mod links;
pub mod mail;
pub mod usage;
pub mod webhooks;
