//! The mail that touches the database: queueing a message in the caller's transaction, and the
//! worker that delivers the queue.

mod queue;
pub mod worker;

pub use queue::{enqueue, CHANNEL};
