//! Stored OAuth tokens and the per-account [`Credentials`] that hand out valid access tokens.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::error::GoogleError;
use super::oauth::OAuthApp;
use super::secrets::SecretStore;
use super::time::Clock;

/// Refresh this long before Google's expiry, so a token does not expire in flight (a request
/// takes at most `google.timeout_ms`, 30 s by default). Kept short so a server with short-lived
/// tokens is not asked for a new one on every call; a 401 still triggers a refresh.
const REFRESH_AHEAD_MS: i64 = 60 * 1000;
/// Assumed lifetime when Google omits `expires_in` (it normally says 3599 s).
const DEFAULT_LIFETIME_MS: i64 = 3_000 * 1000;

/// The secret-store key of an account's tokens.
pub fn tokens_key(email: &str) -> String {
    format!("google_tokens/{}", normalize_email(email))
}

pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// Identifies a sign-in by its refresh token, without keeping the token: reconnecting gives a
/// new refresh token, refreshing the access token keeps it.
pub(crate) fn sign_in_hash(refresh_token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    refresh_token.hash(&mut hasher);
    hasher.finish()
}

/// Tokens of one Google account, stored as JSON under [`tokens_key`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub access_token: String,
    /// Unix ms after which the access token is no longer accepted.
    pub expires_at_ms: i64,
    pub refresh_token: String,
    /// Scopes Google granted.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_token", &"<redacted>")
            .field("expires_at_ms", &self.expires_at_ms)
            .field("refresh_token", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl StoredTokens {
    pub(crate) fn expires_at(now_ms: i64, expires_in_s: Option<u64>) -> i64 {
        let lifetime = expires_in_s.map(|s| (s.min(i64::MAX as u64 / 2000) as i64) * 1000);
        now_ms.saturating_add(lifetime.unwrap_or(DEFAULT_LIFETIME_MS))
    }

    pub(crate) fn load(store: &dyn SecretStore, email: &str) -> Result<Option<StoredTokens>, GoogleError> {
        let Some(json) = store.get(&tokens_key(email)).map_err(GoogleError::SecretStore)? else {
            return Ok(None);
        };
        // The serde message could quote a token, so only say what is wrong in general terms.
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|_| GoogleError::ReconnectNeeded {
                email: email.to_string(),
            })
    }

    pub(crate) fn save(&self, store: &dyn SecretStore, email: &str) -> Result<(), GoogleError> {
        let json = serde_json::to_string(self)
            .map_err(|_| GoogleError::SecretStore("the tokens could not be encoded".to_string()))?;
        store
            .set(&tokens_key(email), &json)
            .map_err(GoogleError::SecretStore)
    }
}

/// Valid access tokens for one Google account, refreshed ahead of expiry. Shared by all clients
/// of the account, so concurrent callers wait for one refresh instead of racing.
pub struct Credentials {
    email: String,
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    oauth: OAuthApp,
    cache: Mutex<Option<StoredTokens>>,
}

impl Credentials {
    pub(crate) fn new(
        email: &str,
        store: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
        oauth: OAuthApp,
    ) -> Self {
        Credentials {
            email: normalize_email(email),
            store,
            clock,
            oauth,
            cache: Mutex::new(None),
        }
    }

    /// The account's email, lowercase.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// An access token valid for at least a few minutes, refreshing it if needed.
    pub fn access_token(&self) -> Result<String, GoogleError> {
        let mut cache = self.lock();
        let tokens = self.loaded(&mut cache)?;
        if tokens.expires_at_ms - self.clock.now_ms() > REFRESH_AHEAD_MS {
            return Ok(tokens.access_token.clone());
        }
        self.refresh_locked(&mut cache)
    }

    /// Called after Google answered 401 to `rejected`: refreshes, unless another thread already
    /// replaced that token, in which case the newer one is returned.
    pub fn refresh_after_rejection(&self, rejected: &str) -> Result<String, GoogleError> {
        let mut cache = self.lock();
        let tokens = self.loaded(&mut cache)?;
        if tokens.access_token != rejected {
            return Ok(tokens.access_token.clone());
        }
        self.refresh_locked(&mut cache)
    }

    /// Identifies the sign-in these credentials used (see [`sign_in_hash`]); `None` before use.
    pub fn sign_in_id(&self) -> Option<u64> {
        self.lock().as_ref().map(|t| sign_in_hash(&t.refresh_token))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<StoredTokens>> {
        // The cache is replaced whole; a poisoned lock still holds a consistent value.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn loaded<'a>(&self, cache: &'a mut Option<StoredTokens>) -> Result<&'a StoredTokens, GoogleError> {
        if cache.is_none() {
            *cache = StoredTokens::load(self.store.as_ref(), &self.email)?;
        }
        cache.as_ref().ok_or_else(|| GoogleError::NotConnected {
            email: self.email.clone(),
        })
    }

    fn refresh_locked(&self, cache: &mut Option<StoredTokens>) -> Result<String, GoogleError> {
        let current = self.loaded(cache)?.clone();
        let grant = self.oauth.refresh(&self.email, &current.refresh_token)?;
        let refreshed = StoredTokens {
            access_token: grant.access_token,
            expires_at_ms: StoredTokens::expires_at(self.clock.now_ms(), grant.expires_in_s),
            // Google keeps the refresh token unless it sends a new one.
            refresh_token: grant.refresh_token.unwrap_or(current.refresh_token),
            scopes: grant.scopes.unwrap_or(current.scopes),
        };
        refreshed.save(self.store.as_ref(), &self.email)?;
        log::debug!("google: refreshed the access token of {}", self.email);
        let token = refreshed.access_token.clone();
        *cache = Some(refreshed);
        Ok(token)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}
