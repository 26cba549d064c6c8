//! The registry of connected Google accounts: one HTTP connection pool, one token cache, one
//! pair of quota buckets and one mutation lock per Google user, shared by every client of that
//! account in the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::blocking::Client;

use super::client::PeopleClient;
use super::endpoints::GoogleConfig;
use super::error::GoogleError;
use super::oauth::OAuthApp;
use super::quota::AccountQuota;
use super::retry::RetryPolicy;
use super::secrets::SecretStore;
use super::time::{Clock, Sleeper};
use super::tokens::{normalize_email, Credentials};

/// Shared state of one Google account.
pub(crate) struct AccountState {
    pub(crate) email: String,
    pub(crate) http: Client,
    pub(crate) credentials: Credentials,
    pub(crate) quota: AccountQuota,
    /// Google asks for mutations of one user to be sent sequentially; held for each mutation.
    pub(crate) mutation: Mutex<()>,
}

/// Entry point of the Google side of the plugin: owns configuration, the secret store, time
/// sources and the per-account registry. The plugin keeps one for its lifetime (or rebuilds it
/// when the `google.*` configuration changes).
pub struct GoogleAccounts {
    pub(crate) config: Arc<GoogleConfig>,
    pub(crate) store: Arc<dyn SecretStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) retry: RetryPolicy,
    /// The one HTTP client of the plugin: the OAuth flow and every account. A blocking client
    /// keeps a pool and a background thread of its own, so one per account was a thousand
    /// threads to wake in an idle round of a thousand accounts.
    pub(crate) http: Client,
    accounts: Mutex<HashMap<String, Arc<AccountState>>>,
}

impl GoogleAccounts {
    /// Builds the registry. Fails only if the HTTP client cannot be created (TLS setup).
    pub fn new(
        config: GoogleConfig,
        store: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, GoogleError> {
        let http = build_http(&config)?;
        Ok(GoogleAccounts {
            config: Arc::new(config),
            store,
            clock,
            sleeper,
            retry: RetryPolicy::default(),
            http,
            accounts: Mutex::new(HashMap::new()),
        })
    }

    /// Replaces the retry policy (tests use short delays or fewer attempts).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn config(&self) -> &GoogleConfig {
        &self.config
    }

    /// A People API client for `email`. Cheap: clients of one account share its token cache,
    /// quota and mutation lock (and all accounts the HTTP pool). Fails with `NotConnected` when no tokens are stored.
    pub fn people(&self, email: &str) -> Result<PeopleClient, GoogleError> {
        let email = normalize_email(email);
        let existing = self.lock().get(&email).cloned();
        let account = match existing {
            Some(account) => account,
            None => {
                if self
                    .store
                    .get(&super::tokens::tokens_key(&email))
                    .map_err(GoogleError::SecretStore)?
                    .is_none()
                {
                    return Err(GoogleError::NotConnected { email });
                }
                let http = self.http.clone();
                let oauth = OAuthApp::new(self.config.clone(), http.clone());
                let state = Arc::new(AccountState {
                    credentials: Credentials::new(&email, self.store.clone(), self.clock.clone(), oauth),
                    quota: AccountQuota::new(
                        self.config.read_quota_per_minute,
                        self.config.write_quota_per_minute,
                        self.sleeper.clone(),
                    ),
                    mutation: Mutex::new(()),
                    http,
                    email: email.clone(),
                });
                // Another thread may have raced us: keep the first so all share one state.
                self.lock().entry(email).or_insert(state).clone()
            }
        };
        Ok(PeopleClient::new(
            account,
            self.config.clone(),
            self.retry.clone(),
            self.sleeper.clone(),
        ))
    }

    /// Drops the cached state of `email` (after reconnecting or disconnecting), so the next
    /// client reads the stored tokens again. Clients already handed out keep the old state.
    pub fn forget(&self, email: &str) {
        self.lock().remove(&normalize_email(email));
    }

    /// Identifies the sign-in stored for `email` now: reconnecting changes it. A run that failed
    /// on revoked tokens compares it with the one its client used, so the old sign-in's failure
    /// does not mark a freshly reconnected account.
    pub fn sign_in_id(&self, email: &str) -> Option<u64> {
        let tokens = super::tokens::StoredTokens::load(self.store.as_ref(), email).ok()??;
        Some(super::tokens::sign_in_hash(&tokens.refresh_token))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AccountState>>> {
        // Entries are inserted or removed whole; a poisoned map is still consistent.
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for GoogleAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let accounts: Vec<String> = self.lock().keys().cloned().collect();
        f.debug_struct("GoogleAccounts")
            .field("config", &self.config)
            .field("accounts", &accounts)
            .finish()
    }
}

/// One blocking client: no redirects (OAuth SSRF advice, and Google APIs never redirect),
/// connect and whole-request timeouts from configuration.
pub(crate) fn build_http(config: &GoogleConfig) -> Result<Client, GoogleError> {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .user_agent(concat!("crm-google-contacts/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| GoogleError::Unavailable {
            attempts: 0,
            detail: format!("HTTP client setup failed: {e}"),
        })
}
