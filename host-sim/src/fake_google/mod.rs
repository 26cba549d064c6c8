//! A fake Google People API v1 + OAuth 2.0 server, faithful enough that a sync client passing its
//! tests against it has a fair chance against the real thing.
//!
//! One base URL serves People (`/v1/...`), OAuth (`/o/oauth2/v2/auth`, `/token`, `/revoke`,
//! `/oauth2/v2/userinfo`) and a JSON control API (`/control/...`, see `host-sim/FAKE_GOOGLE.md`).
//! [`FakeGoogle`] derefs to [`FakeGoogleControl`], which offers the same controls in-process.

mod clock;
mod control;
mod error;
mod faults;
mod groups;
mod http;
mod normalize;
mod oauth;
mod people;
mod person;
mod quota;
mod schema;
mod server;
mod store;
mod sync;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

pub use control::FakeGoogleControl;
pub use error::ApiError;
pub use faults::{Fault, FaultRule};
pub use oauth::IssuedTokens;
pub use server::{Stats, SERVED_METHODS};

/// The scope the People API contact methods require.
pub const CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts";
/// Also accepted by the read methods.
pub const CONTACTS_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/contacts.readonly";

/// Runtime-changeable settings (see `PATCH /control/config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeGoogleConfig {
    /// Test accounts (emails) offered on the consent page, each with its own contacts.
    pub accounts: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    /// Allowed redirect URIs. Empty = any loopback URI (`http://127.0.0.1:*`, `http://localhost:*`,
    /// `http://[::1]:*`), which is how Google treats desktop-app clients.
    pub redirect_uris: Vec<String>,
    pub access_token_lifetime_secs: u64,
    pub read_quota_per_minute: u32,
    pub write_quota_per_minute: u32,
    /// How long a write takes to show up in connections.list (full listings and sync deltas):
    /// drawn per write from `propagation_delay_ms..=propagation_delay_max_ms`, so writes reach
    /// listings out of order. A max below the min means a fixed delay of the min.
    pub propagation_delay_ms: u64,
    pub propagation_delay_max_ms: u64,
    /// Whether a 429 carries `Retry-After`. Google documents none, so by default it does not.
    pub send_retry_after: bool,
    /// The largest contact (its updatable fields as JSON, in bytes) a write may leave behind.
    pub max_contact_bytes: usize,
    /// Added to every People API call (for benchmarks).
    pub latency_ms: u64,
    pub max_contacts_per_account: usize,
    pub sync_token_max_age_secs: u64,
}

impl Default for FakeGoogleConfig {
    fn default() -> Self {
        FakeGoogleConfig {
            accounts: vec!["alice@example.com".into(), "bob@example.com".into()],
            client_id: "crm-sync-client".into(),
            client_secret: "crm-sync-secret".into(),
            redirect_uris: Vec::new(),
            access_token_lifetime_secs: 3599,
            read_quota_per_minute: 90,
            write_quota_per_minute: 60,
            propagation_delay_ms: 0,
            propagation_delay_max_ms: 0,
            send_retry_after: false,
            max_contact_bytes: 128 * 1024,
            latency_ms: 0,
            max_contacts_per_account: 25_000,
            sync_token_max_age_secs: 7 * 24 * 3600,
        }
    }
}

impl FakeGoogleConfig {
    /// The propagation delay range of this configuration.
    pub fn lag(&self) -> store::Lag {
        let min = i64::try_from(self.propagation_delay_ms).unwrap_or(i64::MAX / 4);
        let max = i64::try_from(self.propagation_delay_max_ms).unwrap_or(i64::MAX / 4);
        store::Lag {
            min_ms: min,
            max_ms: max.max(min),
        }
    }
}

/// Everything the server threads share.
pub(crate) struct State {
    pub clock: clock::FakeClock,
    pub config: Mutex<FakeGoogleConfig>,
    pub accounts: Mutex<BTreeMap<String, store::Account>>,
    pub oauth: Mutex<oauth::OAuthState>,
    pub stats: Mutex<Stats>,
    pub faults: Mutex<faults::Faults>,
    pub quota: Mutex<quota::QuotaBook>,
    /// Users with a mutate request in progress (Google asks for one at a time per user).
    pub mutating: Mutex<std::collections::HashSet<String>>,
}

impl State {
    fn new(cfg: FakeGoogleConfig) -> State {
        let clock = clock::FakeClock::default();
        let now = clock.now_ms();
        let accounts = cfg
            .accounts
            .iter()
            .map(|e| (e.clone(), store::Account::new(e, now)))
            .collect();
        State {
            clock,
            config: Mutex::new(cfg),
            accounts: Mutex::new(accounts),
            oauth: Mutex::default(),
            stats: Mutex::default(),
            faults: Mutex::default(),
            quota: Mutex::default(),
            mutating: Mutex::default(),
        }
    }

    pub fn cfg(&self) -> FakeGoogleConfig {
        self.config.lock().expect("config mutex").clone()
    }

    pub fn accounts(&self) -> MutexGuard<'_, BTreeMap<String, store::Account>> {
        self.accounts.lock().expect("accounts mutex")
    }
}

/// A running fake Google. Stops on drop or [`FakeGoogle::shutdown`].
pub struct FakeGoogle {
    control: FakeGoogleControl,
    server: http::Server,
}

impl FakeGoogle {
    /// Binds `listen` (e.g. `"127.0.0.1:0"`) and serves each connection on its own thread.
    pub fn start(listen: &str, cfg: FakeGoogleConfig) -> std::io::Result<FakeGoogle> {
        let state = Arc::new(State::new(cfg));
        let handler_state = state.clone();
        let server = http::Server::start(listen, Arc::new(move |req| server::handle(&handler_state, req)))?;
        let base_url = format!("http://{}", server.addr());
        Ok(FakeGoogle {
            control: FakeGoogleControl::new(state, base_url),
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.control.base_url().to_string()
    }

    /// A cloneable handle to the controls, for code that outlives a borrow of `self`.
    pub fn control(&self) -> FakeGoogleControl {
        self.control.clone()
    }

    pub fn shutdown(&mut self) {
        self.server.stop();
    }
}

impl std::ops::Deref for FakeGoogle {
    type Target = FakeGoogleControl;
    fn deref(&self) -> &FakeGoogleControl {
        &self.control
    }
}
