//! Fault injection: by rate or as a scripted sequence, optionally for one method id.

use std::collections::VecDeque;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// What to do instead of (or to) a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fault {
    /// Script step: let this request through untouched.
    Ok,
    /// 429 RESOURCE_EXHAUSTED with Google's quota details and `Retry-After` (default: seconds to
    /// the next minute of the fake clock).
    RateLimit {
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// 500 INTERNAL.
    Internal,
    /// 503 UNAVAILABLE.
    Unavailable,
    /// Hold the request `ms` milliseconds, then close the connection without answering. The
    /// request is not processed.
    Hang { ms: u64 },
    /// Process the request (its effects happen), then send the status line, headers and half the
    /// body, and close the connection: the client sees a broken response to a write that worked.
    Drop,
    /// Every access token reaches its end of life just before this request, as the hour of an
    /// access token passing mid-work would: the request itself is then refused with 401.
    ExpireAccessTokens,
}

/// A fault rule. Exactly one of `fault` (fired with probability `rate`, default 1.0) or `script`
/// (one step consumed per matching request; the rule disappears when the script is used up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FaultRule {
    /// A discovery method id (`people.people.connections.list`, `oauth2.token`…). `None` matches
    /// every People API method (ids starting with `people.`).
    pub method: Option<String>,
    pub rate: Option<f64>,
    pub fault: Option<Fault>,
    pub script: VecDeque<Fault>,
}

impl FaultRule {
    /// Always `fault` on every matching request.
    pub fn always(method: Option<&str>, fault: Fault) -> FaultRule {
        FaultRule {
            method: method.map(str::to_string),
            fault: Some(fault),
            ..FaultRule::default()
        }
    }

    /// `fault` with probability `rate` (0.0–1.0).
    pub fn with_rate(method: Option<&str>, rate: f64, fault: Fault) -> FaultRule {
        FaultRule {
            rate: Some(rate),
            ..FaultRule::always(method, fault)
        }
    }

    /// One step per matching request, in order; `Fault::Ok` lets a request through.
    pub fn script(method: Option<&str>, steps: Vec<Fault>) -> FaultRule {
        FaultRule {
            method: method.map(str::to_string),
            script: steps.into(),
            ..FaultRule::default()
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        match (&self.fault, self.script.is_empty()) {
            (Some(_), false) => Err("give either `fault` or `script`, not both".into()),
            (None, true) => Err("give `fault` (with optional `rate`) or a non-empty `script`".into()),
            _ => match self.rate {
                Some(r) if !(0.0..=1.0).contains(&r) => Err("`rate` must be within 0.0..=1.0".into()),
                _ => Ok(()),
            },
        }
    }

    fn matches(&self, method_id: &str) -> bool {
        match &self.method {
            Some(m) => m == method_id,
            None => method_id.starts_with("people."),
        }
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
}

impl Faults {
    /// The fault to apply to this request, if any. Scripts consume a step even for `Ok`.
    pub fn next(&mut self, method_id: &str) -> Option<Fault> {
        let mut chosen = None;
        let mut exhausted = None;
        for (i, rule) in self.rules.iter_mut().enumerate() {
            if !rule.matches(method_id) {
                continue;
            }
            if let Some(step) = rule.script.pop_front() {
                if rule.script.is_empty() {
                    exhausted = Some(i);
                }
                chosen = Some(step);
                break;
            }
            if let Some(f) = &rule.fault {
                let rate = rule.rate.unwrap_or(1.0);
                if rand::thread_rng().gen_bool(rate.clamp(0.0, 1.0)) {
                    chosen = Some(f.clone());
                    break;
                }
            }
        }
        if let Some(i) = exhausted {
            self.rules.remove(i);
        }
        chosen.filter(|f| *f != Fault::Ok)
    }
}
