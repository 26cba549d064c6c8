//! Per-Google-user request pacing, so we stay under the People API's per-minute quotas instead
//! of discovering them through 429s.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::time::Sleeper;

/// Which per-user quota a request draws from. A batch call counts as one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    /// "Critical read requests (Contact and Profile Reads)".
    Read,
    /// "Critical write requests (Contact Creates and Updates)".
    Write,
}

/// A token bucket refilled continuously at `per_minute / 60` per second.
///
/// The burst is a third of the minute's allowance rather than all of it: Google's window is not
/// documented, and a full-minute burst followed by steady refill could put close to twice the
/// limit into one sliding minute.
pub struct TokenBucket {
    state: Mutex<BucketState>,
    sleeper: Arc<dyn Sleeper>,
    capacity: f64,
    per_second: f64,
}

struct BucketState {
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    pub fn new(per_minute: u32, sleeper: Arc<dyn Sleeper>) -> Self {
        let per_minute = f64::from(per_minute.max(1));
        let capacity = (per_minute / 3.0).max(1.0).floor();
        let last = sleeper.monotonic();
        TokenBucket {
            state: Mutex::new(BucketState {
                tokens: capacity,
                last,
            }),
            sleeper,
            capacity,
            per_second: per_minute / 60.0,
        }
    }

    /// Takes one token, sleeping (through the injected sleeper) until one is available.
    /// Returns how long it waited.
    pub fn acquire(&self) -> Duration {
        let mut waited = Duration::ZERO;
        loop {
            let wait = {
                // The state is two numbers updated together; a poisoned lock still holds valid ones.
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = self.sleeper.monotonic();
                let elapsed = now.saturating_sub(state.last).as_secs_f64();
                state.tokens = (state.tokens + elapsed * self.per_second).min(self.capacity);
                state.last = now;
                if state.tokens >= 1.0 {
                    state.tokens -= 1.0;
                    return waited;
                }
                Duration::from_secs_f64((1.0 - state.tokens) / self.per_second)
            };
            // Sleep outside the lock so other threads can compute their own wait.
            self.sleeper.sleep(wait);
            waited += wait;
        }
    }
}

/// The read and write buckets of one Google user.
pub struct AccountQuota {
    read: TokenBucket,
    write: TokenBucket,
}

impl AccountQuota {
    pub fn new(read_per_minute: u32, write_per_minute: u32, sleeper: Arc<dyn Sleeper>) -> Self {
        AccountQuota {
            read: TokenBucket::new(read_per_minute, sleeper.clone()),
            write: TokenBucket::new(write_per_minute, sleeper),
        }
    }

    pub fn acquire(&self, kind: QuotaKind) -> Duration {
        match kind {
            QuotaKind::Read => self.read.acquire(),
            QuotaKind::Write => self.write.acquire(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::google::tests::stub::FakeSleeper;

    #[test]
    fn bucket_allows_a_burst_then_paces_at_the_rate() {
        let sleeper = Arc::new(FakeSleeper::default());
        let bucket = TokenBucket::new(60, sleeper.clone());
        // Burst of 20 (a third of a minute), then one per second.
        for _ in 0..20 {
            assert_eq!(bucket.acquire(), Duration::ZERO);
        }
        for _ in 0..40 {
            bucket.acquire();
        }
        let elapsed = sleeper.monotonic().as_secs_f64();
        assert!(
            (39.0..=41.0).contains(&elapsed),
            "60 requests at 60/min took {elapsed}s of virtual time"
        );
    }
}
