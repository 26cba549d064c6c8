//! When and how long to wait before trying a Google request again.

use std::time::Duration;

use rand::Rng;

/// Bounded exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts including the first one.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub base_delay: Duration,
    /// Upper bound of one computed wait.
    pub max_delay: Duration,
    /// Upper bound of a `Retry-After` we honour; longer asks are cut so a worker is not parked
    /// for ages (the next tick retries anyway).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 1+2+4+8+16 s ≈ 31 s of waiting over 6 attempts (plus jitter): long enough to ride out a
        // per-minute quota window being half used, short enough for a worker thread.
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(32),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after attempt `attempt` (1-based) failed.
    /// A `Retry-After` from Google wins over the computed backoff (plus a little jitter so
    /// several workers do not come back in the same millisecond).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let mut rng = rand::thread_rng();
        if let Some(asked) = retry_after {
            let asked = asked.min(self.max_retry_after);
            let jitter_ms = rng.gen_range(0..=(asked.as_millis() as u64 / 10).max(50));
            return asked + Duration::from_millis(jitter_ms);
        }
        let exp = attempt.saturating_sub(1).min(20);
        let full = self.base_delay.saturating_mul(1u32 << exp).min(self.max_delay);
        // "Equal jitter": half fixed, half random, so waits still grow but clients spread out.
        let half = full / 2;
        let spread = half.as_millis() as u64;
        half + Duration::from_millis(if spread == 0 { 0 } else { rng.gen_range(0..=spread) })
    }
}

/// Parses a `Retry-After` header given in seconds (Google's form). HTTP dates are ignored: the
/// computed backoff is used then.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let seconds: f64 = value?.trim().parse().ok()?;
    if seconds.is_finite() && seconds >= 0.0 {
        Some(Duration::from_millis((seconds * 1000.0) as u64))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let policy = RetryPolicy::default();
        for attempt in 1..=10 {
            let d = policy.delay(attempt, None);
            let full = Duration::from_secs(1u64 << (attempt - 1).min(5)).min(policy.max_delay);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let d = policy.delay(1, Some(Duration::from_secs(7)));
        assert!(d >= Duration::from_secs(7) && d <= Duration::from_millis(7700));
        let d = policy.delay(1, Some(Duration::from_secs(3600)));
        assert!(d <= Duration::from_secs(133));
        assert_eq!(parse_retry_after(Some(" 12 ")), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
