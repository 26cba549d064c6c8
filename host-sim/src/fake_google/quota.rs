//! Per-user, per-minute read and write quotas on the fake clock.

use std::collections::HashMap;

use serde_json::json;

use super::error::ApiError;

const PROJECT_NUMBER: &str = "123456789012";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Read,
    Write,
}

#[derive(Debug, Default)]
pub struct QuotaBook {
    minute: i64,
    used: HashMap<(String, Bucket), u32>,
}

impl QuotaBook {
    /// Counts one request against the user's bucket, or answers Google's 429.
    pub fn take(
        &mut self,
        user: &str,
        bucket: Bucket,
        limit: u32,
        now_ms: i64,
        retry_after: RetryAfter,
    ) -> Result<(), ApiError> {
        let minute = now_ms.div_euclid(60_000);
        if minute != self.minute {
            self.minute = minute;
            self.used.clear();
        }
        let used = self.used.entry((user.to_string(), bucket)).or_default();
        if *used >= limit {
            return Err(rate_limit_error(bucket, limit, retry_after, now_ms));
        }
        *used += 1;
        Ok(())
    }

    pub fn reset(&mut self) {
        self.used.clear();
    }
}

/// Seconds until the next minute of the fake clock (at least 1).
pub fn secs_to_next_minute(now_ms: i64) -> u64 {
    let rem_ms = 60_000 - now_ms.rem_euclid(60_000);
    (rem_ms as u64).div_ceil(1000).max(1)
}

/// Whether a 429 carries `Retry-After`. Google documents no such header on the People API, so
/// the fake sends none unless configured (`send_retry_after`) or a fault asks for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    None,
    ToNextMinute,
    Secs(u64),
}

/// Google's 429 for the per-minute per-user quotas.
pub fn rate_limit_error(bucket: Bucket, limit: u32, retry_after: RetryAfter, now_ms: i64) -> ApiError {
    let (metric_name, metric, quota_limit) = match bucket {
        Bucket::Read => (
            "Critical read requests (Contact and Profile Reads)",
            "people.googleapis.com/read_requests",
            "ReadRequestsPerMinutePerUser",
        ),
        Bucket::Write => (
            "Critical write requests",
            "people.googleapis.com/critical_write_requests",
            "CriticalWritesPerMinutePerProjectPerUser",
        ),
    };
    let message = format!(
        "Quota exceeded for quota metric '{metric_name}' and limit '{metric_name} per minute per user' \
         of service 'people.googleapis.com' for consumer 'project_number:{PROJECT_NUMBER}'."
    );
    let err = ApiError::new(429, "RESOURCE_EXHAUSTED", message)
        .with_error_info(
            "RATE_LIMIT_EXCEEDED",
            "googleapis.com",
            json!({
                "quota_limit": quota_limit,
                "quota_metric": metric,
                "quota_limit_value": limit.to_string(),
                "quota_location": "global",
                "service": "people.googleapis.com",
                "consumer": format!("projects/{PROJECT_NUMBER}"),
            }),
        )
        .with_detail(json!({
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{
                "description": "Request a higher quota limit.",
                "url": "https://cloud.google.com/docs/quotas/help/request_increase",
            }],
        }));
    match retry_after {
        RetryAfter::None => err,
        RetryAfter::ToNextMinute => err.with_header("Retry-After", secs_to_next_minute(now_ms).to_string()),
        RetryAfter::Secs(s) => err.with_header("Retry-After", s.to_string()),
    }
}
