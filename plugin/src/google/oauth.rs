//! The wire side of Google's OAuth 2.0: authorization URL, code exchange, refresh, revocation
//! and userinfo. Built on the `oauth2` crate with the same blocking `reqwest` client as the
//! People calls.
//!
//! Token values only travel in request bodies and headers; none of the errors built here quotes
//! a response body, because token endpoint bodies contain tokens.

use std::borrow::Cow;
use std::sync::Arc;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse,
    TokenUrl,
};
use reqwest::blocking::Client;

use super::endpoints::GoogleConfig;
use super::error::GoogleError;
use super::wire::UserInfo;

/// The contacts scope the plugin cannot work without.
pub const SCOPE_CONTACTS: &str = "https://www.googleapis.com/auth/contacts";
/// Lets us read the account's email address to name the connection.
pub const SCOPE_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
/// Everything requested on the consent screen.
pub const REQUESTED_SCOPES: &[&str] = &[SCOPE_CONTACTS, SCOPE_EMAIL, "openid"];

type GoogleOAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// What the token endpoint gave us (exchange or refresh).
pub(crate) struct Grant {
    pub access_token: String,
    /// Seconds until the access token expires, when Google said.
    pub expires_in_s: Option<u64>,
    pub refresh_token: Option<String>,
    /// Granted scopes; `None` when Google omitted them (RFC 6749: then as requested).
    pub scopes: Option<Vec<String>>,
}

/// Google's OAuth endpoints for this plugin's OAuth client, over one HTTP client.
#[derive(Clone)]
pub(crate) struct OAuthApp {
    config: Arc<GoogleConfig>,
    http: Client,
}

impl OAuthApp {
    pub(crate) fn new(config: Arc<GoogleConfig>, http: Client) -> Self {
        OAuthApp { config, http }
    }

    fn client(&self, redirect_uri: Option<&str>) -> Result<GoogleOAuthClient, GoogleError> {
        let endpoints = &self.config.endpoints;
        let bad = |key: &str, e: url::ParseError| GoogleError::Config {
            key: key.to_string(),
            reason: e.to_string(),
        };
        let mut client = BasicClient::new(ClientId::new(self.config.require_client_id()?.to_string()))
            // Google documents client credentials in the form body; the fake server does the same.
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(
                AuthUrl::new(endpoints.auth.to_string())
                    .map_err(|e| bad(super::endpoints::KEY_AUTH_URL, e))?,
            )
            .set_token_uri(
                TokenUrl::new(endpoints.token.to_string())
                    .map_err(|e| bad(super::endpoints::KEY_TOKEN_URL, e))?,
            );
        if let Some(secret) = &self.config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.clone()));
        }
        if let Some(redirect) = redirect_uri {
            let redirect = RedirectUrl::new(redirect.to_string()).map_err(|e| GoogleError::Config {
                key: "redirect URI".to_string(),
                reason: format!("\"{redirect}\" is not a URL ({e})"),
            })?;
            client = client.set_redirect_uri(redirect);
        }
        Ok(client)
    }

    /// The consent page URL for `state`, with the PKCE challenge derived from `verifier`.
    pub(crate) fn authorize_url(
        &self,
        redirect_uri: &str,
        state: &str,
        verifier: &str,
    ) -> Result<String, GoogleError> {
        let client = self.client(Some(redirect_uri))?;
        let challenge =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_string()));
        let state = state.to_string();
        let (url, _) = client
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(REQUESTED_SCOPES.iter().map(|s| Scope::new(s.to_string())))
            .set_pkce_challenge(challenge)
            // A refresh token, every time (Google only sends one on a forced consent).
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .add_extra_param("include_granted_scopes", "true")
            .url();
        Ok(url.to_string())
    }

    /// Trades an authorization code (plus the PKCE verifier) for tokens.
    pub(crate) fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<Grant, GoogleError> {
        let client = self.client(Some(redirect_uri))?;
        let redirect = client.redirect_uri().cloned();
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        if let Some(redirect) = redirect {
            request = request.set_redirect_uri(Cow::Owned(redirect));
        }
        let response = request.request(&self.http).map_err(|e| token_error(e, None))?;
        Ok(grant_of(&response))
    }

    /// A fresh access token for `refresh_token`. `invalid_grant` → `ReconnectNeeded { email }`.
    pub(crate) fn refresh(&self, email: &str, refresh_token: &str) -> Result<Grant, GoogleError> {
        let client = self.client(None)?;
        let refresh_token = RefreshToken::new(refresh_token.to_string());
        let response = client
            .exchange_refresh_token(&refresh_token)
            .request(&self.http)
            .map_err(|e| token_error(e, Some(email)))?;
        Ok(grant_of(&response))
    }

    /// Revokes `token` at Google (it revokes the whole grant of a refresh token).
    pub(crate) fn revoke(&self, token: &str) -> Result<(), GoogleError> {
        let response = self
            .http
            .post(self.config.endpoints.revoke.clone())
            .form(&[("token", token)])
            .send()
            .map_err(|e| network_error("revoke", &e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            // The body is `{"error":"invalid_token"}` at most; still not quoted (it could echo input).
            Err(GoogleError::TokenRefused {
                code: format!("revocation answered HTTP {}", status.as_u16()),
            })
        }
    }

    /// The account's email address (lowercase), read with a fresh access token.
    pub(crate) fn userinfo_email(&self, access_token: &str) -> Result<String, GoogleError> {
        let response = self
            .http
            .get(self.config.endpoints.userinfo.clone())
            .bearer_auth(access_token)
            .send()
            .map_err(|e| network_error("userinfo", &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(GoogleError::Api {
                http_status: status.as_u16(),
                status: None,
                reason: None,
                message: "Google did not tell which account was connected (userinfo request failed)".into(),
            });
        }
        let info: UserInfo = response.json().map_err(|e| GoogleError::InvalidResponse {
            detail: super::error::redact(&format!("userinfo: {}", without_url(&e)), access_token),
        })?;
        info.email
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| e.contains('@'))
            .ok_or_else(|| GoogleError::InvalidResponse {
                detail: "userinfo has no email address".into(),
            })
    }
}

fn grant_of(response: &oauth2::basic::BasicTokenResponse) -> Grant {
    Grant {
        access_token: response.access_token().secret().clone(),
        expires_in_s: response.expires_in().map(|d| d.as_secs()),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect()),
    }
}

/// Maps an `oauth2` error without quoting anything that could hold a token: the parse variant
/// carries the raw body (tokens!) and serde messages can quote values, so neither is used.
fn token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
    email: Option<&str>,
) -> GoogleError {
    match error {
        RequestTokenError::ServerResponse(response) => match (response.error(), email) {
            (BasicErrorResponseType::InvalidGrant, Some(email)) => GoogleError::ReconnectNeeded {
                email: email.to_string(),
            },
            (BasicErrorResponseType::InvalidGrant, None) => GoogleError::ConsentDenied {
                error: "the sign-in code was refused or already used".to_string(),
            },
            (other, _) => GoogleError::TokenRefused {
                code: other.to_string(),
            },
        },
        RequestTokenError::Request(e) => GoogleError::Unavailable {
            attempts: 1,
            detail: format!("the sign-in service could not be reached: {}", source_chain(&e)),
        },
        RequestTokenError::Parse(_, _) => GoogleError::Unavailable {
            attempts: 1,
            detail: "the sign-in service sent an unreadable answer".to_string(),
        },
        RequestTokenError::Other(_) => GoogleError::Unavailable {
            attempts: 1,
            detail: "the sign-in service sent an unexpected answer".to_string(),
        },
    }
}

/// "error: cause: cause" for transport errors (these never contain request bodies).
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(crate) fn without_url(error: &reqwest::Error) -> String {
    // URLs of our requests carry no tokens, but shorter messages read better.
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text
            .replace(&format!(" ({url})"), "")
            .replace(&format!(" for url ({url})"), "");
    }
    text
}

pub(crate) fn network_error(what: &str, error: &reqwest::Error) -> GoogleError {
    GoogleError::Unavailable {
        attempts: 1,
        detail: format!("{what}: {}", source_chain(error)),
    }
}
