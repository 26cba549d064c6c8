//! Where the Google code gets its time from.
//!
//! Two separate sources on purpose: wall-clock milliseconds from the host (token and OAuth state
//! expiry must follow the CRM's clock, which tests and the simulator control), and a monotonic
//! clock paired with sleeping (retry backoff and quota pacing), so tests can skip the waits.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall-clock time in Unix milliseconds.
pub trait Clock: Send + Sync {
    /// Current Unix time in milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system clock, for production when the host offers no clock of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Sleeping and the monotonic time it advances; retries and quota pacing only go through this.
pub trait Sleeper: Send + Sync {
    /// Time since an arbitrary fixed origin; never goes backwards.
    fn monotonic(&self) -> Duration;
    /// Blocks the calling thread for `duration`.
    fn sleep(&self, duration: Duration);
}

/// Real sleeping with `std::thread::sleep`.
#[derive(Debug, Clone, Copy)]
pub struct ThreadSleeper {
    origin: Instant,
}

impl ThreadSleeper {
    pub fn new() -> Self {
        ThreadSleeper {
            origin: Instant::now(),
        }
    }
}

impl Default for ThreadSleeper {
    fn default() -> Self {
        Self::new()
    }
}

impl Sleeper for ThreadSleeper {
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}
