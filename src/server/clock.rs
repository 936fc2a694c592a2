//! The time the application believes it is. Production reads the system clock; tests move it
//! forward to cross expiry boundaries without waiting.

use chrono::{DateTime, Duration, Utc};
use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
