//! The CRM's clock: real time (plus any offset tests add), or fully manual for tests.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use abi::Millis;

pub struct Clock {
    manual: AtomicBool,
    /// Manual mode: the current time. Real mode: the offset added to the system clock.
    value: AtomicI64,
}

impl Clock {
    /// Follows the system clock.
    pub fn real() -> Self {
        Clock {
            manual: AtomicBool::new(false),
            value: AtomicI64::new(0),
        }
    }

    /// Stands still at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: Millis) -> Self {
        Clock {
            manual: AtomicBool::new(true),
            value: AtomicI64::new(start.0),
        }
    }

    pub fn is_manual(&self) -> bool {
        self.manual.load(Ordering::SeqCst)
    }

    pub fn now(&self) -> Millis {
        let value = self.value.load(Ordering::SeqCst);
        if self.is_manual() {
            Millis(value)
        } else {
            Millis(chrono::Utc::now().timestamp_millis() + value)
        }
    }

    /// Moves time forward by `ms` (both modes).
    pub fn advance(&self, ms: i64) {
        self.value.fetch_add(ms.max(0), Ordering::SeqCst);
    }
}
