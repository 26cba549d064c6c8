//! Errors of the Google client and OAuth flow.
//!
//! Every message is a sentence a user can act on. No variant ever holds a token value: token
//! endpoint bodies and serde messages about them are dropped rather than quoted.

/// What went wrong talking to Google.
#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// A `google.*` setting is missing or not acceptable.
    #[error("The setting {key} is not valid: {reason}. Fix it in the plugin configuration.")]
    Config { key: String, reason: String },

    /// No tokens are stored for this Google account.
    #[error("The Google account {email} is not connected. Connect it in the integration settings.")]
    NotConnected { email: String },

    /// The refresh token was refused (`invalid_grant`), or freshly refreshed access tokens were
    /// refused on every attempt of a request (one refused fresh token only means it expired early).
    #[error(
        "Google refused the sign-in for {email} (the access was revoked or expired). \
         Reconnect the account in the integration settings."
    )]
    ReconnectNeeded { email: String },

    /// The user unticked the contacts permission on Google's consent screen.
    #[error(
        "Google did not grant access to the contacts of {email}. Connect the account again and \
         leave \"See, edit, download and permanently delete your contacts\" ticked."
    )]
    ContactsScopeMissing { email: String },

    /// The user clicked "Cancel" on Google's consent screen, or Google reported an OAuth error.
    #[error("Google did not connect the account ({error}). Try connecting again and allow access.")]
    ConsentDenied { error: String },

    /// The OAuth callback carried an unknown, used or malformed `state`.
    #[error("This Google sign-in link is unknown or was already used. Start connecting the account again.")]
    OAuthStateUnknown,

    /// The OAuth callback came after the pending state expired.
    #[error("The Google sign-in took too long and expired. Start connecting the account again.")]
    OAuthStateExpired,

    /// The OAuth callback was opened by another CRM user than the one who started it.
    #[error("This Google sign-in was started by another CRM user. Start connecting the account yourself.")]
    OAuthStateWrongUser,

    /// The token endpoint refused a request for another reason than `invalid_grant`.
    #[error(
        "Google's sign-in service refused the request ({code}). Check google.client_id and \
         google.client_secret in the plugin configuration, then connect the account again."
    )]
    TokenRefused { code: String },

    /// Google answered 403 `ACCESS_TOKEN_SCOPE_INSUFFICIENT`.
    #[error(
        "The connection to {email} lacks the contacts permission. Reconnect the account in the \
         integration settings and allow access to contacts."
    )]
    ScopeInsufficient { email: String },

    /// `connections.list` with a sync token that Google no longer accepts: do a full listing.
    #[error("Google's change token expired; a full resynchronisation is needed.")]
    SyncTokenExpired,

    /// Google kept answering 429 after all retries.
    #[error(
        "Google's rate limit for {email} is still exceeded after {attempts} attempts ({message}). \
         The sync will try again later."
    )]
    RateLimited {
        email: String,
        attempts: u32,
        message: String,
    },

    /// Google kept failing (5xx, timeouts, dropped connections) after all retries.
    #[error(
        "Google could not be reached or kept failing after {attempts} attempts ({detail}). \
         The sync will try again later."
    )]
    Unavailable { attempts: u32, detail: String },

    /// Any other 4xx answer, keeping Google's own description.
    #[error("Google refused the request: {message} (HTTP {http_status}{}{}).",
        status.as_deref().map(|s| format!(", {s}")).unwrap_or_default(),
        reason.as_deref().map(|r| format!(", {r}")).unwrap_or_default())]
    Api {
        http_status: u16,
        status: Option<String>,
        reason: Option<String>,
        message: String,
    },

    /// Google answered something this client cannot read.
    #[error("Google sent an answer this plugin cannot read ({detail}). Report this to the plugin vendor.")]
    InvalidResponse { detail: String },

    /// The plugin itself asked for something Google cannot accept (a bug, not a user mistake).
    #[error("The plugin built an invalid Google request ({detail}). Report this to the plugin vendor.")]
    InvalidRequest { detail: String },

    /// The host's secret store failed.
    #[error("The CRM's secret store failed: {0}")]
    SecretStore(String),
}

impl GoogleError {
    /// Worth retrying later without user action (quota, outage).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GoogleError::RateLimited { .. } | GoogleError::Unavailable { .. }
        )
    }

    /// The user must reconnect the Google account before anything else works.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            GoogleError::ReconnectNeeded { .. }
                | GoogleError::NotConnected { .. }
                | GoogleError::ScopeInsufficient { .. }
        )
    }

    /// A write was refused because the etag is stale: refetch, re-merge, retry.
    pub fn is_etag_conflict(&self) -> bool {
        match self {
            GoogleError::Api {
                http_status,
                status,
                message,
                ..
            } => is_etag_conflict(*http_status, status.as_deref(), message),
            _ => false,
        }
    }

    /// The resource does not exist (any more).
    pub fn is_not_found(&self) -> bool {
        matches!(self, GoogleError::Api { http_status: 404, .. })
    }
}

/// Google signals a stale etag with 400 FAILED_PRECONDITION and a message naming the etag.
pub(crate) fn is_etag_conflict(http_status: u16, status: Option<&str>, message: &str) -> bool {
    (http_status == 400 || http_status == 412)
        && (status == Some("FAILED_PRECONDITION") || message.contains("etag"))
        && message.to_ascii_lowercase().contains("etag")
}

/// The error of one person inside a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// HTTP-like status (the batch's own HTTP status, or a `google.rpc.Code` mapped to HTTP).
    pub http_status: u16,
    /// Google's canonical status name, e.g. `FAILED_PRECONDITION`, when known.
    pub status: Option<String>,
    /// The `ErrorInfo` reason, when Google gave one.
    pub reason: Option<String>,
    /// Google's message.
    pub message: String,
}

impl ItemError {
    pub fn is_etag_conflict(&self) -> bool {
        is_etag_conflict(self.http_status, self.status.as_deref(), &self.message)
    }

    pub fn is_not_found(&self) -> bool {
        self.http_status == 404
    }
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Google refused this contact: {} (HTTP {}",
            self.message, self.http_status
        )?;
        if let Some(status) = &self.status {
            write!(f, ", {status}")?;
        }
        if let Some(reason) = &self.reason {
            write!(f, ", {reason}")?;
        }
        write!(f, ")")
    }
}

impl From<GoogleError> for ItemError {
    fn from(error: GoogleError) -> Self {
        match error {
            GoogleError::Api {
                http_status,
                status,
                reason,
                message,
            } => ItemError {
                http_status,
                status,
                reason,
                message,
            },
            other => ItemError {
                http_status: 0,
                status: None,
                reason: None,
                message: other.to_string(),
            },
        }
    }
}

/// `text` with the access token taken out: Google's answers are quoted in errors the user sees.
pub(crate) fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_string()
    } else {
        text.replace(token, "<redacted>")
    }
}
