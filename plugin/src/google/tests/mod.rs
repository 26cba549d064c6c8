//! Unit tests of the Google client and OAuth flow against a local canned-HTTP stub.

mod auth;
mod client;
mod endpoints;
mod secrets_in_errors;
pub mod stub;

use std::sync::Arc;
use std::time::Duration;

use crate::google::endpoints::check_endpoint;
use crate::google::{GoogleAccounts, GoogleConfig, MemorySecretStore, SecretStore, StoredTokens};
use stub::{FakeSleeper, FixedClock, Stub};

pub const EMAIL: &str = "alice@example.com";
/// Recognisable secrets that must never show up in errors or logs.
pub const ACCESS: &str = "ya29.SECRET-TOKEN-123";
pub const REFRESH: &str = "1//REFRESH-SECRET-456";
pub const NOW: i64 = 1_800_000_000_000;

pub struct Harness {
    pub google: GoogleAccounts,
    pub store: Arc<MemorySecretStore>,
    pub sleeper: Arc<FakeSleeper>,
    pub clock: Arc<FixedClock>,
}

pub fn config_for(stub: &Stub) -> GoogleConfig {
    let url = |path: &str| check_endpoint("test", &format!("{}{path}", stub.base)).unwrap();
    let mut config = GoogleConfig::default();
    config.endpoints.people = url("");
    config.endpoints.auth = url("/o/oauth2/v2/auth");
    config.endpoints.token = url("/token");
    config.endpoints.revoke = url("/revoke");
    config.endpoints.userinfo = url("/oauth2/v2/userinfo");
    config.client_id = Some("client-123.apps.googleusercontent.com".into());
    config.client_secret = Some("CLIENT-SECRET-789".into());
    // Large quotas: pacing is tested on its own.
    config.read_quota_per_minute = 60_000;
    config.write_quota_per_minute = 60_000;
    config.request_timeout = Duration::from_secs(5);
    config
}

pub fn harness_with(config: GoogleConfig) -> Harness {
    let store = Arc::new(MemorySecretStore::new());
    let sleeper = Arc::new(FakeSleeper::default());
    let clock = Arc::new(FixedClock::new(NOW));
    let google = GoogleAccounts::new(config, store.clone(), clock.clone(), sleeper.clone()).unwrap();
    Harness {
        google,
        store,
        sleeper,
        clock,
    }
}

/// A harness for `stub` with tokens of [`EMAIL`] valid for an hour.
pub fn connected(stub: &Stub) -> Harness {
    let harness = harness_with(config_for(stub));
    store_tokens(&*harness.store, NOW + 3_600_000);
    harness
}

pub fn store_tokens(store: &dyn SecretStore, expires_at_ms: i64) {
    let tokens = StoredTokens {
        access_token: ACCESS.into(),
        expires_at_ms,
        refresh_token: REFRESH.into(),
        scopes: vec!["https://www.googleapis.com/auth/contacts".into()],
    };
    tokens.save(store, EMAIL).unwrap();
}
