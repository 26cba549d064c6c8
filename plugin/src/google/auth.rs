//! "Connect Google account": the OAuth 2.0 authorization-code flow with PKCE, its callback,
//! and disconnecting.
//!
//! The pending state (PKCE verifier, CRM user, expiry) is kept in the secret store under
//! `oauth_pending/<state>`, so a plugin restart between the redirect to Google and the callback
//! does not break the flow. Time is the caller's `now_ms` (the host's clock).

use oauth2::{CsrfToken, PkceCodeChallenge};
use serde::{Deserialize, Serialize};

use super::accounts::GoogleAccounts;
use super::error::GoogleError;
use super::oauth::{OAuthApp, REQUESTED_SCOPES, SCOPE_CONTACTS};
use super::tokens::{normalize_email, StoredTokens};

/// How long a started connection may wait for its callback.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;

/// Where to send the user to connect an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationStart {
    /// Google's consent page URL (open it in the user's browser).
    pub url: String,
    /// The random `state` in that URL.
    pub state: String,
    /// Unix ms after which the callback is refused.
    pub expires_at_ms: i64,
}

/// The query parameters Google put on the redirect back to the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthCallback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set instead of `code` when the user refused (`access_denied`) or Google failed.
    pub error: Option<String>,
}

/// A connected Google account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedAccount {
    /// Lowercase email of the Google account.
    pub email: String,
    /// Scopes Google granted.
    pub scopes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct PendingConnect {
    crm_user: u64,
    verifier: String,
    expires_at_ms: i64,
    redirect_uri: String,
}

fn pending_key(state: &str) -> String {
    format!("oauth_pending/{state}")
}

/// The states a CRM user started, oldest first: the secret store cannot list its keys, so this
/// index is what lets abandoned sign-ins (the user closed Google's page) be cleaned up.
fn user_index_key(crm_user: u64) -> String {
    format!("oauth_pending_of_user/{crm_user}")
}

/// A user may have this many sign-ins under way at once (say, two tabs); older ones are dropped.
const PENDING_PER_USER: usize = 3;

/// States are ours (base64url); anything else from the query string is refused before it can
/// become part of a secret-store key.
fn is_well_formed_state(state: &str) -> bool {
    (16..=128).contains(&state.len())
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl GoogleAccounts {
    /// Starts connecting a Google account for `crm_user`: returns the consent URL (PKCE S256,
    /// offline access, forced consent, incremental scopes) and stores the pending state.
    /// `redirect_uri` is the host's OAuth callback URL, registered with the OAuth client.
    pub fn begin_connect(
        &self,
        crm_user: u64,
        redirect_uri: &str,
        now_ms: i64,
    ) -> Result<AuthorizationStart, GoogleError> {
        let state = CsrfToken::new_random_len(24).secret().clone();
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        let verifier = verifier.secret().clone();
        let url = OAuthApp::new(self.config.clone(), self.http.clone()).authorize_url(
            redirect_uri,
            &state,
            &verifier,
        )?;
        let expires_at_ms = now_ms.saturating_add(STATE_TTL_MS);
        let pending = PendingConnect {
            crm_user,
            verifier,
            expires_at_ms,
            redirect_uri: redirect_uri.to_string(),
        };
        let json = serde_json::to_string(&pending)
            .map_err(|_| GoogleError::SecretStore("the sign-in state could not be encoded".to_string()))?;
        self.store
            .set(&pending_key(&state), &json)
            .map_err(GoogleError::SecretStore)?;
        self.index_pending(crm_user, &state, now_ms)?;
        log::info!("google: CRM user {crm_user} started connecting a Google account");
        Ok(AuthorizationStart {
            url,
            state,
            expires_at_ms,
        })
    }

    /// Adds `state` to the user's index and drops the sign-ins that are finished, expired, or
    /// beyond the newest [`PENDING_PER_USER`].
    fn index_pending(&self, crm_user: u64, state: &str, now_ms: i64) -> Result<(), GoogleError> {
        let mut states = self.pending_index(crm_user)?;
        states.push(state.to_string());
        let mut kept = Vec::new();
        for (i, s) in states.iter().enumerate() {
            let live = self
                .store
                .get(&pending_key(s))
                .map_err(GoogleError::SecretStore)?
                .and_then(|json| serde_json::from_str::<PendingConnect>(&json).ok())
                .is_some_and(|p| now_ms <= p.expires_at_ms);
            if live && states.len() - i <= PENDING_PER_USER {
                kept.push(s.clone());
            } else {
                self.store
                    .delete(&pending_key(s))
                    .map_err(GoogleError::SecretStore)?;
            }
        }
        self.save_pending_index(crm_user, &kept)
    }

    fn unindex_pending(&self, crm_user: u64, state: &str) -> Result<(), GoogleError> {
        let mut states = self.pending_index(crm_user)?;
        states.retain(|s| s != state);
        self.save_pending_index(crm_user, &states)
    }

    /// The user's pending states, oldest first (an unreadable index reads as empty).
    fn pending_index(&self, crm_user: u64) -> Result<Vec<String>, GoogleError> {
        let stored = self
            .store
            .get(&user_index_key(crm_user))
            .map_err(GoogleError::SecretStore)?;
        Ok(stored
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    /// Stores the user's index; an empty one leaves no key behind.
    fn save_pending_index(&self, crm_user: u64, states: &[String]) -> Result<(), GoogleError> {
        let key = user_index_key(crm_user);
        if states.is_empty() {
            return self.store.delete(&key).map_err(GoogleError::SecretStore);
        }
        let json = serde_json::to_string(states)
            .map_err(|_| GoogleError::SecretStore("the sign-in index could not be encoded".to_string()))?;
        self.store.set(&key, &json).map_err(GoogleError::SecretStore)
    }

    /// Finishes connecting after Google redirected back: checks the state (known, same CRM user,
    /// not expired; consumed), exchanges the code, checks the contacts scope was granted, reads
    /// the account's email and stores the tokens.
    pub fn finish_connect(
        &self,
        callback: &OAuthCallback,
        crm_user: u64,
        now_ms: i64,
    ) -> Result<ConnectedAccount, GoogleError> {
        let state = callback.state.as_deref().unwrap_or_default();
        if !is_well_formed_state(state) {
            return Err(GoogleError::OAuthStateUnknown);
        }
        let key = pending_key(state);
        let Some(json) = self.store.get(&key).map_err(GoogleError::SecretStore)? else {
            return Err(GoogleError::OAuthStateUnknown);
        };
        let Ok(pending) = serde_json::from_str::<PendingConnect>(&json) else {
            self.store.delete(&key).map_err(GoogleError::SecretStore)?;
            return Err(GoogleError::OAuthStateUnknown);
        };
        if pending.crm_user != crm_user {
            // Not consumed: the user who started it can still finish.
            log::warn!("google: CRM user {crm_user} opened a sign-in callback started by another user");
            return Err(GoogleError::OAuthStateWrongUser);
        }
        // Single use, whatever happens next.
        self.store.delete(&key).map_err(GoogleError::SecretStore)?;
        if let Err(e) = self.unindex_pending(crm_user, state) {
            // Bookkeeping only: the sign-in itself is valid, and the index heals at the next start.
            log::warn!("google: the pending sign-in index could not be updated: {e}");
        }
        if now_ms > pending.expires_at_ms {
            return Err(GoogleError::OAuthStateExpired);
        }
        if let Some(error) = callback.error.as_deref().filter(|e| !e.is_empty()) {
            // Google's error codes are short identifiers; keep only that much of the input.
            let error: String = error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            return Err(GoogleError::ConsentDenied { error });
        }
        let Some(code) = callback.code.as_deref().filter(|c| !c.is_empty()) else {
            return Err(GoogleError::ConsentDenied {
                error: "no authorization code".to_string(),
            });
        };

        let oauth = OAuthApp::new(self.config.clone(), self.http.clone());
        let grant = oauth.exchange_code(code, &pending.verifier, &pending.redirect_uri)?;
        let scopes: Vec<String> = grant
            .scopes
            .clone()
            .unwrap_or_else(|| REQUESTED_SCOPES.iter().map(|s| s.to_string()).collect());
        let has_contacts = scopes.iter().any(|s| s == SCOPE_CONTACTS);
        let email = match oauth.userinfo_email(&grant.access_token) {
            Ok(email) => email,
            Err(_) if !has_contacts => "your Google account".to_string(),
            Err(GoogleError::Api { http_status, .. }) => {
                return Err(GoogleError::Api {
                    http_status,
                    status: None,
                    reason: None,
                    message: "Google did not tell which account was connected; connect again and allow \
                              the plugin to see your email address"
                        .to_string(),
                })
            }
            Err(other) => return Err(other),
        };
        if !has_contacts {
            log::warn!("google: {email} was connected without the contacts scope; not stored");
            return Err(GoogleError::ContactsScopeMissing { email });
        }
        let existing = StoredTokens::load(self.store.as_ref(), &email).ok().flatten();
        let refresh_token = match grant.refresh_token.or(existing.map(|t| t.refresh_token)) {
            Some(token) => token,
            None => {
                return Err(GoogleError::ConsentDenied {
                    error: "Google sent no refresh token; remove the app's access at \
                            https://myaccount.google.com/permissions"
                        .to_string(),
                })
            }
        };
        let tokens = StoredTokens {
            access_token: grant.access_token,
            expires_at_ms: StoredTokens::expires_at(now_ms, grant.expires_in_s),
            refresh_token,
            scopes: scopes.clone(),
        };
        tokens.save(self.store.as_ref(), &email)?;
        self.forget(&email);
        log::info!("google: CRM user {crm_user} connected {email}");
        Ok(ConnectedAccount { email, scopes })
    }

    /// Disconnects `email`: revokes the refresh token at Google (best effort: a failure is
    /// logged, not returned) and deletes the stored tokens.
    pub fn disconnect(&self, email: &str) -> Result<(), GoogleError> {
        let email = normalize_email(email);
        // Unreadable stored tokens are deleted all the same.
        if let Ok(Some(tokens)) = StoredTokens::load(self.store.as_ref(), &email) {
            let oauth = OAuthApp::new(self.config.clone(), self.http.clone());
            match oauth.revoke(&tokens.refresh_token) {
                Ok(()) => log::info!("google: revoked the access of {email}"),
                Err(e) => {
                    log::warn!("google: could not revoke the access of {email} ({e}); deleting it anyway")
                }
            }
        }
        self.store
            .delete(&super::tokens::tokens_key(&email))
            .map_err(GoogleError::SecretStore)?;
        self.forget(&email);
        Ok(())
    }
}
