//! Per-Google-user request pacing, so we stay under the People API's per-minute quotas instead
//! of discovering them through 429s.

use std::collections::VecDeque;
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

/// A token bucket refilled continuously at `per_minute / 60` per second, that also never lets
/// more than `per_minute` requests into any window of [`WINDOW`].
///
/// The burst is a third of the minute's allowance rather than all of it, and the window is
/// what keeps burst plus refill under the limit: Google does not document where its minute
/// starts, and a bucket alone put a third more than the limit into one calendar minute (the
/// bench's four accounts met 30 429s that way).
pub struct TokenBucket {
    state: Mutex<BucketState>,
    sleeper: Arc<dyn Sleeper>,
    capacity: f64,
    per_second: f64,
    per_window: usize,
}

/// A minute and a margin: a request is counted when it reaches Google, a little after it left.
pub const WINDOW: Duration = Duration::from_secs(61);

struct BucketState {
    tokens: f64,
    last: Duration,
    /// When each request of the last [`WINDOW`] left, oldest first.
    sent: VecDeque<Duration>,
}

impl BucketState {
    /// How long until the window has room, given the time now.
    fn window_wait(&mut self, now: Duration, per_window: usize) -> Duration {
        while self.sent.front().is_some_and(|&t| t + WINDOW <= now) {
            self.sent.pop_front();
        }
        match self.sent.front() {
            Some(&oldest) if self.sent.len() >= per_window => oldest + WINDOW - now,
            _ => Duration::ZERO,
        }
    }
}

impl TokenBucket {
    pub fn new(per_minute: u32, sleeper: Arc<dyn Sleeper>) -> Self {
        let per_window = per_minute.max(1) as usize;
        let per_minute = f64::from(per_minute.max(1));
        let capacity = (per_minute / 3.0).max(1.0).floor();
        let last = sleeper.monotonic();
        TokenBucket {
            state: Mutex::new(BucketState {
                tokens: capacity,
                last,
                sent: VecDeque::new(),
            }),
            sleeper,
            capacity,
            per_second: per_minute / 60.0,
            per_window,
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
                let window = state.window_wait(now, self.per_window);
                if state.tokens >= 1.0 && window.is_zero() {
                    state.tokens -= 1.0;
                    state.sent.push_back(now);
                    return waited;
                }
                let refill = Duration::from_secs_f64((1.0 - state.tokens).max(0.0) / self.per_second);
                // At least a millisecond: a refill a rounding error short must not spin.
                refill.max(window).max(Duration::from_millis(1))
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

    #[test]
    fn no_window_of_a_minute_holds_more_requests_than_the_limit() {
        let sleeper = Arc::new(FakeSleeper::default());
        let bucket = TokenBucket::new(90, sleeper.clone());
        let sent: Vec<Duration> = (0..400)
            .map(|_| {
                bucket.acquire();
                sleeper.monotonic()
            })
            .collect();
        for (i, &start) in sent.iter().enumerate() {
            let in_window = sent[i..].iter().take_while(|&&t| t < start + WINDOW).count();
            assert!(
                in_window <= 90,
                "{in_window} requests in the window from {start:?}"
            );
        }
        // Still close to the limit over a long run: 400 requests in about 4.4 minutes.
        let minutes = sent[399].as_secs_f64() / 60.0;
        assert!(minutes < 4.6, "400 requests at 90/min took {minutes:.2} minutes");
    }
}
