//! Google endpoints and client settings, read from the host's configuration.
//!
//! Endpoints are overridable so tests and proxies can point the plugin at another
//! People-API-compatible server; plain `http` is only accepted for loopback hosts so a typo in the
//! configuration can never send tokens in clear text over a network.

use std::net::Ipv6Addr;
use std::time::Duration;

use url::{Host, Url};

use super::error::GoogleError;

pub const KEY_PEOPLE_URL: &str = "google.people_url";
pub const KEY_AUTH_URL: &str = "google.auth_url";
pub const KEY_TOKEN_URL: &str = "google.token_url";
pub const KEY_REVOKE_URL: &str = "google.revoke_url";
pub const KEY_USERINFO_URL: &str = "google.userinfo_url";
pub const KEY_CLIENT_ID: &str = "google.client_id";
pub const KEY_CLIENT_SECRET: &str = "google.client_secret";
pub const KEY_READ_QUOTA: &str = "google.read_quota_per_minute";
pub const KEY_WRITE_QUOTA: &str = "google.write_quota_per_minute";
pub const KEY_TIMEOUT_MS: &str = "google.timeout_ms";
pub const KEY_CONNECT_TIMEOUT_MS: &str = "google.connect_timeout_ms";

/// Where each Google service lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// People API base, without `/v1` (e.g. `https://people.googleapis.com`).
    pub people: Url,
    pub auth: Url,
    pub token: Url,
    pub revoke: Url,
    pub userinfo: Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        let parse = |s: &str| Url::parse(s).expect("built-in Google URL is valid");
        Endpoints {
            people: parse("https://people.googleapis.com"),
            auth: parse("https://accounts.google.com/o/oauth2/v2/auth"),
            token: parse("https://oauth2.googleapis.com/token"),
            revoke: parse("https://oauth2.googleapis.com/revoke"),
            userinfo: parse("https://www.googleapis.com/oauth2/v2/userinfo"),
        }
    }
}

impl Endpoints {
    /// The endpoints from configuration, each checked by [`check_endpoint`].
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, GoogleError> {
        let defaults = Endpoints::default();
        let pick = |key: &str, default: Url| -> Result<Url, GoogleError> {
            match lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
            {
                Some(value) => check_endpoint(key, &value),
                None => Ok(default),
            }
        };
        Ok(Endpoints {
            people: pick(KEY_PEOPLE_URL, defaults.people)?,
            auth: pick(KEY_AUTH_URL, defaults.auth)?,
            token: pick(KEY_TOKEN_URL, defaults.token)?,
            revoke: pick(KEY_REVOKE_URL, defaults.revoke)?,
            userinfo: pick(KEY_USERINFO_URL, defaults.userinfo)?,
        })
    }

    /// `{people}/v1/{path}`, keeping any path prefix of the configured base (proxies).
    pub(crate) fn people_url(&self, path: &str) -> Url {
        let mut url = self.people.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}/v1/{path}"));
        url.set_query(None);
        url
    }
}

/// Parses `value` (the setting `key`) and accepts it only if it is `https`, or `http` to a
/// loopback host (127.0.0.0/8, ::1, localhost).
pub fn check_endpoint(key: &str, value: &str) -> Result<Url, GoogleError> {
    let invalid = |reason: String| GoogleError::Config {
        key: key.to_string(),
        reason,
    };
    let url = Url::parse(value).map_err(|e| invalid(format!("\"{value}\" is not a URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url.host()) => {}
        "http" => {
            return Err(invalid(format!(
            "\"{value}\" uses plain http; only https is allowed (http only for 127.0.0.1, ::1 or localhost)"
        )))
        }
        other => return Err(invalid(format!("\"{value}\" uses the scheme {other}; use https"))),
    }
    if url.host().is_none() {
        return Err(invalid(format!("\"{value}\" has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs; Google never needs them.
        return Err(invalid(format!(
            "\"{}\" must not contain a user name or password",
            redact_userinfo(&url)
        )));
    }
    Ok(url)
}

fn redact_userinfo(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(), // 127.0.0.0/8
        Some(Host::Ipv6(ip)) => {
            ip == Ipv6Addr::LOCALHOST || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// Everything the Google code reads from configuration.
#[derive(Clone)]
pub struct GoogleConfig {
    pub endpoints: Endpoints,
    /// OAuth client id; `None` until the admin configures it (connecting then fails clearly).
    pub client_id: Option<String>,
    /// OAuth client secret (a secret: never logged, redacted in `Debug`).
    pub client_secret: Option<String>,
    /// Critical reads per minute per Google user.
    pub read_quota_per_minute: u32,
    /// Critical writes per minute per Google user.
    pub write_quota_per_minute: u32,
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect + send + read the answer).
    pub request_timeout: Duration,
}

impl Default for GoogleConfig {
    fn default() -> Self {
        GoogleConfig {
            endpoints: Endpoints::default(),
            client_id: None,
            client_secret: None,
            // Field reports: reads 90/min/user, writes 60 (sometimes 180)/min/user; take the safe side.
            read_quota_per_minute: 90,
            write_quota_per_minute: 60,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("endpoints", &self.endpoints)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("read_quota_per_minute", &self.read_quota_per_minute)
            .field("write_quota_per_minute", &self.write_quota_per_minute)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl GoogleConfig {
    /// Reads the `google.*` keys through `lookup` (the host's config), with defaults for
    /// everything but the OAuth client credentials.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GoogleError> {
        let lookup = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let defaults = GoogleConfig::default();
        let number = |key: &str, default: u64, min: u64| -> Result<u64, GoogleError> {
            match lookup(key) {
                None => Ok(default),
                Some(text) => match text.parse::<u64>() {
                    Ok(n) if n >= min => Ok(n),
                    _ => Err(GoogleError::Config {
                        key: key.to_string(),
                        reason: format!("\"{text}\" is not a whole number of at least {min}"),
                    }),
                },
            }
        };
        let quota = |key: &str, default: u32| -> Result<u32, GoogleError> {
            Ok(number(key, u64::from(default), 1)?.min(u64::from(u32::MAX)) as u32)
        };
        Ok(GoogleConfig {
            endpoints: Endpoints::from_lookup(&lookup)?,
            client_id: lookup(KEY_CLIENT_ID),
            client_secret: lookup(KEY_CLIENT_SECRET),
            read_quota_per_minute: quota(KEY_READ_QUOTA, defaults.read_quota_per_minute)?,
            write_quota_per_minute: quota(KEY_WRITE_QUOTA, defaults.write_quota_per_minute)?,
            request_timeout: Duration::from_millis(number(
                KEY_TIMEOUT_MS,
                defaults.request_timeout.as_millis() as u64,
                1,
            )?),
            connect_timeout: Duration::from_millis(number(
                KEY_CONNECT_TIMEOUT_MS,
                defaults.connect_timeout.as_millis() as u64,
                1,
            )?),
        })
    }

    /// The OAuth client id, or a configuration error naming the key.
    pub(crate) fn require_client_id(&self) -> Result<&str, GoogleError> {
        self.client_id.as_deref().ok_or_else(|| GoogleError::Config {
            key: KEY_CLIENT_ID.to_string(),
            reason: "it is not set (create an OAuth client in the Google Cloud console)".to_string(),
        })
    }
}
