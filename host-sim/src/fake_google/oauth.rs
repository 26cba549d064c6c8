//! OAuth 2.0: consent page, authorization codes with PKCE, token endpoint, revocation, userinfo,
//! and bearer-token authentication for the People API.

use std::collections::HashMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use super::http::{Request, Response};
use super::store::random_b64;
use super::{FakeGoogleConfig, State};

const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
const USERINFO_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
const USERINFO_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";

struct PendingAuth {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    state: Option<String>,
    offline: bool,
    challenge: Option<(String, String)>,
}

struct AuthCode {
    client_id: String,
    redirect_uri: String,
    account: String,
    scopes: Vec<String>,
    offline: bool,
    challenge: Option<(String, String)>,
    expires_ms: i64,
    used: bool,
}

/// One user's consent to one client: access and refresh tokens hang off it, and revoking any
/// of them revokes the grant (as Google does).
struct Grant {
    account: String,
    client_id: String,
    scopes: Vec<String>,
    revoked: bool,
}

struct AccessToken {
    grant: String,
    expires_ms: i64,
}

#[derive(Default)]
pub struct OAuthState {
    pending: HashMap<String, PendingAuth>,
    codes: HashMap<String, AuthCode>,
    grants: HashMap<String, Grant>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, String>,
}

/// Tokens minted directly through the control API (skipping the consent page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub scope: String,
}

/// The caller of a People API method.
pub struct Authed {
    pub account: String,
    pub scopes: Vec<String>,
}

impl Authed {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

impl OAuthState {
    fn new_grant(&mut self, account: &str, client_id: &str, scopes: Vec<String>) -> String {
        let id = random_b64(12);
        self.grants.insert(
            id.clone(),
            Grant {
                account: account.into(),
                client_id: client_id.into(),
                scopes,
                revoked: false,
            },
        );
        id
    }

    fn new_access(&mut self, grant: &str, now_ms: i64, lifetime_secs: u64) -> String {
        let token = format!("ya29.{}", random_b64(60));
        let lifetime = i64::try_from(lifetime_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 4);
        self.access.insert(
            token.clone(),
            AccessToken {
                grant: grant.into(),
                expires_ms: now_ms + lifetime,
            },
        );
        token
    }

    fn new_refresh(&mut self, grant: &str) -> String {
        let token = format!("1//{}", random_b64(72));
        self.refresh.insert(token.clone(), grant.into());
        token
    }

    /// Mints tokens for `account` without the consent page.
    pub fn issue(
        &mut self,
        cfg: &FakeGoogleConfig,
        account: &str,
        scopes: &[&str],
        now_ms: i64,
    ) -> IssuedTokens {
        let scopes: Vec<String> = scopes.iter().map(|s| normalize_scope(s)).collect();
        let grant = self.new_grant(account, &cfg.client_id, scopes.clone());
        IssuedTokens {
            access_token: self.new_access(&grant, now_ms, cfg.access_token_lifetime_secs),
            refresh_token: self.new_refresh(&grant),
            expires_in: cfg.access_token_lifetime_secs,
            scope: scopes.join(" "),
        }
    }

    /// Revokes every grant of an account (or the grant behind one token). Returns how many.
    pub fn revoke_account(&mut self, account: &str) -> usize {
        let mut n = 0;
        for g in self
            .grants
            .values_mut()
            .filter(|g| g.account == account && !g.revoked)
        {
            g.revoked = true;
            n += 1;
        }
        n
    }

    fn grant_of_token(&self, token: &str) -> Option<String> {
        self.access
            .get(token)
            .map(|a| a.grant.clone())
            .or_else(|| self.refresh.get(token).cloned())
    }

    /// Revokes the grant behind an access or refresh token; false if unknown or already revoked.
    pub fn revoke_token(&mut self, token: &str) -> bool {
        let Some(grant) = self.grant_of_token(token) else {
            return false;
        };
        match self.grants.get_mut(&grant) {
            Some(g) if !g.revoked => {
                g.revoked = true;
                true
            }
            _ => false,
        }
    }

    /// Makes current access tokens (of one account, or all) expire now.
    pub fn expire_access_tokens(&mut self, account: Option<&str>, now_ms: i64) -> usize {
        let mut n = 0;
        for t in self.access.values_mut() {
            let owner = self.grants.get(&t.grant).map(|g| g.account.as_str());
            if account.is_none() || owner == account {
                if t.expires_ms > now_ms {
                    n += 1;
                }
                t.expires_ms = t.expires_ms.min(now_ms);
            }
        }
        n
    }
}

/// `email`/`profile` are aliases Google expands in the granted `scope`.
fn normalize_scope(s: &str) -> String {
    match s {
        "email" => USERINFO_EMAIL.into(),
        "profile" => USERINFO_PROFILE.into(),
        other => other.into(),
    }
}

fn scope_label(s: &str) -> &str {
    match s {
        super::CONTACTS_SCOPE => "See, edit, download, and permanently delete your contacts",
        super::CONTACTS_READONLY_SCOPE => "See and download your contacts",
        USERINFO_EMAIL => "See your primary Google Account email address",
        USERINFO_PROFILE => {
            "See your personal info, including any personal info you've made publicly available"
        }
        "openid" => "Associate you with your personal info on Google",
        other => other,
    }
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn error_page(status: u16, title: &str, detail: &str) -> Response {
    Response::html(
        status,
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Error</title></head><body>\n\
             <h1 id=\"error-title\">{}</h1>\n<p id=\"error-detail\">{}</p>\n</body></html>\n",
            html_escape(title),
            html_escape(detail)
        ),
    )
}

fn redirect_allowed(cfg: &FakeGoogleConfig, uri: &str) -> bool {
    if !cfg.redirect_uris.is_empty() {
        return cfg.redirect_uris.iter().any(|u| u == uri);
    }
    // Desktop-app rule: any port on a loopback host, http only.
    url::Url::parse(uri).is_ok_and(|u| {
        u.scheme() == "http"
            && matches!(
                u.host_str(),
                Some("127.0.0.1") | Some("localhost") | Some("[::1]")
            )
            && u.fragment().is_none()
    })
}

fn valid_scope(s: &str) -> bool {
    matches!(s, "openid" | "email" | "profile") || s.starts_with("https://www.googleapis.com/auth/")
}

/// `GET /o/oauth2/v2/auth`: validates the request and shows the consent page.
pub fn authorize_page(state: &State, req: &Request) -> Response {
    let cfg = state.cfg();
    let q = |k: &str| req.query_one(k).unwrap_or("").to_string();
    let client_id = q("client_id");
    if client_id.is_empty() {
        return error_page(
            400,
            "Error 400: invalid_request",
            "Missing required parameter: client_id",
        );
    }
    if client_id != cfg.client_id {
        return error_page(
            401,
            "Error 401: invalid_client",
            "The OAuth client was not found.",
        );
    }
    let redirect_uri = q("redirect_uri");
    if redirect_uri.is_empty() {
        return error_page(
            400,
            "Error 400: invalid_request",
            "Missing required parameter: redirect_uri",
        );
    }
    if !redirect_allowed(&cfg, &redirect_uri) {
        return error_page(
            400,
            "Error 400: redirect_uri_mismatch",
            &format!("You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri={redirect_uri}"),
        );
    }
    if q("response_type") != "code" {
        return error_page(
            400,
            "Error 400: invalid_request",
            "Invalid response_type: only \"code\" is supported.",
        );
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in q("scope").split_whitespace() {
        if !valid_scope(s) {
            return error_page(
                400,
                "Error 400: invalid_scope",
                &format!("Some requested scopes were invalid. {{invalid=[{s}]}}"),
            );
        }
        let s = normalize_scope(s);
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.is_empty() {
        return error_page(
            400,
            "Error 400: invalid_request",
            "Missing required parameter: scope",
        );
    }
    let challenge = match (q("code_challenge"), q("code_challenge_method")) {
        (c, _) if c.is_empty() => None,
        (c, m) if m == "S256" || m == "plain" => Some((c, m)),
        (c, m) if m.is_empty() => Some((c, "plain".to_string())),
        (_, m) => {
            return error_page(
                400,
                "Error 400: invalid_request",
                &format!("Invalid code_challenge_method: {m}"),
            )
        }
    };
    let pending = PendingAuth {
        client_id,
        redirect_uri,
        scopes: scopes.clone(),
        state: req.query_one("state").map(str::to_string),
        offline: q("access_type") == "offline",
        challenge,
    };
    let request_id = random_b64(24);
    state
        .oauth
        .lock()
        .expect("oauth mutex")
        .pending
        .insert(request_id.clone(), pending);

    let mut accounts_html = String::new();
    // `login_hint` preselects an account, as Google's account chooser does.
    let hint = req
        .query_one("login_hint")
        .filter(|h| cfg.accounts.iter().any(|a| a == h));
    for (i, email) in cfg.accounts.iter().enumerate() {
        let e = html_escape(email);
        let selected = match hint {
            Some(h) => h == email,
            None => i == 0,
        };
        let checked = if selected { " checked" } else { "" };
        accounts_html.push_str(&format!(
            "<label><input type=\"radio\" id=\"account-{e}\" name=\"account\" value=\"{e}\"{checked}> {e}</label><br>\n"
        ));
    }
    let mut scopes_html = String::new();
    for (i, s) in scopes.iter().enumerate() {
        scopes_html.push_str(&format!(
            "<label><input type=\"checkbox\" id=\"scope-{i}\" name=\"scope\" value=\"{}\" checked> {}</label><br>\n",
            html_escape(s),
            html_escape(scope_label(s))
        ));
    }
    let client = html_escape(&cfg.client_id);
    Response::html(
        200,
        format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Sign in - Google Accounts</title></head><body>\n\
             <h1>Sign in with Google</h1>\n<p><b id=\"client\">{client}</b> wants to access your Google Account</p>\n\
             <form id=\"consent\" method=\"post\" action=\"/o/oauth2/v2/auth/decide\">\n\
             <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\n\
             <fieldset id=\"accounts\"><legend>Choose an account</legend>\n{accounts_html}</fieldset>\n\
             <fieldset id=\"scopes\"><legend>Select what {client} can access</legend>\n{scopes_html}</fieldset>\n\
             <button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\n\
             <button type=\"submit\" id=\"allow\" name=\"decision\" value=\"allow\">Allow</button>\n\
             </form>\n</body></html>\n",
            rid = html_escape(&request_id),
        ),
    )
}

fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

fn form_one<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
    f.iter()
        .rev()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut qp = u.query_pairs_mut();
                for (k, v) in params {
                    qp.append_pair(k, v);
                }
            }
            Response::redirect(u.as_str())
        }
        Err(_) => error_page(400, "Error 400: redirect_uri_mismatch", "Invalid redirect_uri."),
    }
}

/// `POST /o/oauth2/v2/auth/decide`: the consent form's submission.
pub fn decide(state: &State, req: &Request) -> Response {
    let cfg = state.cfg();
    let f = form(req);
    let mut oauth = state.oauth.lock().expect("oauth mutex");
    let Some(p) = form_one(&f, "request_id").and_then(|id| oauth.pending.remove(id)) else {
        return error_page(
            400,
            "Error 400: invalid_request",
            "This sign-in request is unknown or was already used.",
        );
    };
    let mut params: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = &p.state {
        params.push(("state", s));
    }
    let granted: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .filter(|s| p.scopes.contains(s))
        .collect();
    if form_one(&f, "decision") != Some("allow") || granted.is_empty() {
        params.insert(0, ("error", "access_denied"));
        return redirect_with(&p.redirect_uri, &params);
    }
    let account = form_one(&f, "account").unwrap_or("").to_string();
    if !cfg.accounts.contains(&account) {
        return error_page(400, "Error 400: invalid_request", "Unknown account.");
    }
    let code = format!("4/0{}", random_b64(48));
    let scope = granted.join(" ");
    oauth.codes.insert(
        code.clone(),
        AuthCode {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            account,
            scopes: granted,
            offline: p.offline,
            challenge: p.challenge.clone(),
            expires_ms: state.clock.now_ms() + CODE_LIFETIME_MS,
            used: false,
        },
    );
    params.push(("code", &code));
    params.push(("scope", &scope));
    redirect_with(&p.redirect_uri, &params)
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(status, &json!({"error": error, "error_description": description}))
}

fn basic_auth(req: &Request) -> Option<(String, String)> {
    let raw = req.header("authorization")?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| {
        url::form_urlencoded::parse(format!("x={x}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

fn pkce_ok(challenge: &(String, String), verifier: &str) -> bool {
    let (expected, method) = challenge;
    let computed = if method == "S256" {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    } else {
        verifier.to_string()
    };
    computed == *expected
}

/// `POST /token`.
pub fn token(state: &State, req: &Request) -> Response {
    let cfg = state.cfg();
    let f = form(req);
    let (client_id, secret) = match basic_auth(req) {
        Some((id, s)) => (Some(id), Some(s)),
        None => (
            form_one(&f, "client_id").map(str::to_string),
            form_one(&f, "client_secret").map(str::to_string),
        ),
    };
    let Some(client_id) = client_id else {
        return oauth_error(
            400,
            "invalid_request",
            "Could not determine client ID from request.",
        );
    };
    if client_id != cfg.client_id {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    }
    match secret {
        None => return oauth_error(400, "invalid_request", "client_secret is missing."),
        Some(s) if s != cfg.client_secret => return oauth_error(401, "invalid_client", "Unauthorized"),
        Some(_) => {}
    }
    let now = state.clock.now_ms();
    let mut oauth = state.oauth.lock().expect("oauth mutex");
    match form_one(&f, "grant_type") {
        None => oauth_error(
            400,
            "invalid_request",
            "Required parameter is missing: grant_type",
        ),
        Some("authorization_code") => {
            let Some(code) = form_one(&f, "code") else {
                return oauth_error(400, "invalid_request", "Missing required parameter: code");
            };
            let Some(c) = oauth.codes.get_mut(code) else {
                return oauth_error(400, "invalid_grant", "Malformed auth code.");
            };
            // A code is burnt by its first redemption attempt, successful or not.
            let was_used = std::mem::replace(&mut c.used, true);
            if was_used || c.expires_ms < now || c.client_id != client_id {
                return oauth_error(400, "invalid_grant", "Bad Request");
            }
            if form_one(&f, "redirect_uri") != Some(c.redirect_uri.as_str()) {
                return oauth_error(400, "redirect_uri_mismatch", "Bad Request");
            }
            if let Some(ch) = &c.challenge {
                match form_one(&f, "code_verifier") {
                    None => return oauth_error(400, "invalid_grant", "Missing code verifier."),
                    Some(v) if !pkce_ok(ch, v) => {
                        return oauth_error(400, "invalid_grant", "Invalid code verifier.")
                    }
                    Some(_) => {}
                }
            }
            let (account, scopes, offline) = (c.account.clone(), c.scopes.clone(), c.offline);
            let grant = oauth.new_grant(&account, &client_id, scopes.clone());
            let access = oauth.new_access(&grant, now, cfg.access_token_lifetime_secs);
            let mut body = json!({
                "access_token": access,
                "expires_in": cfg.access_token_lifetime_secs,
                "scope": scopes.join(" "),
                "token_type": "Bearer",
            });
            if offline {
                body["refresh_token"] = json!(oauth.new_refresh(&grant));
            }
            if scopes.iter().any(|s| s == "openid") {
                body["id_token"] = json!(id_token(state, &cfg, &account, &scopes, now));
            }
            Response::json(200, &body)
        }
        Some("refresh_token") => {
            let Some(rt) = form_one(&f, "refresh_token") else {
                return oauth_error(
                    400,
                    "invalid_request",
                    "Missing required parameter: refresh_token",
                );
            };
            let grant_id = oauth.refresh.get(rt).cloned();
            let Some((grant_id, g)) = grant_id.and_then(|id| oauth.grants.get(&id).map(|g| (id, g))) else {
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
            };
            if g.revoked {
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
            }
            if g.client_id != client_id {
                return oauth_error(400, "unauthorized_client", "Unauthorized");
            }
            let (account, scopes) = (g.account.clone(), g.scopes.clone());
            let access = oauth.new_access(&grant_id, now, cfg.access_token_lifetime_secs);
            let mut body = json!({
                "access_token": access,
                "expires_in": cfg.access_token_lifetime_secs,
                "scope": scopes.join(" "),
                "token_type": "Bearer",
            });
            if scopes.iter().any(|s| s == "openid") {
                body["id_token"] = json!(id_token(state, &cfg, &account, &scopes, now));
            }
            Response::json(200, &body)
        }
        Some(other) => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

/// An unsigned-in-spirit JWT: correct claims, but the signature is a hash, not RS256.
fn id_token(state: &State, cfg: &FakeGoogleConfig, account: &str, scopes: &[String], now_ms: i64) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let sub = state
        .accounts()
        .get(account)
        .map(|a| a.user_id.clone())
        .unwrap_or_default();
    let mut claims = json!({
        "iss": "https://accounts.google.com",
        "azp": cfg.client_id,
        "aud": cfg.client_id,
        "sub": sub,
        "iat": now_ms / 1000,
        "exp": now_ms / 1000 + 3600,
    });
    if scopes.iter().any(|s| s == USERINFO_EMAIL) {
        claims["email"] = json!(account);
        claims["email_verified"] = json!(true);
    }
    let signing_input = format!(
        "{}.{}",
        b64(&json!({"alg": "RS256", "kid": "fake-google", "typ": "JWT"})),
        b64(&claims)
    );
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{signing_input}{}", cfg.client_secret).as_bytes(),
    ));
    format!("{signing_input}.{sig}")
}

/// `POST /revoke` (token in the form body or the query string).
pub fn revoke(state: &State, req: &Request) -> Response {
    let f = form(req);
    let token = form_one(&f, "token")
        .map(str::to_string)
        .or_else(|| req.query_one("token").map(str::to_string));
    let Some(token) = token else {
        return oauth_error(400, "invalid_request", "Bad Request");
    };
    let now = state.clock.now_ms();
    let mut oauth = state.oauth.lock().expect("oauth mutex");
    let expired_access = oauth.access.get(&token).is_some_and(|a| a.expires_ms <= now);
    if expired_access || !oauth.revoke_token(&token) {
        return oauth_error(400, "invalid_token", "Token expired or revoked");
    }
    Response::json(200, &json!({}))
}

pub fn invalid_credentials() -> ApiError {
    ApiError::new(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )
    .with_error_info("ACCESS_TOKEN_EXPIRED", "googleapis.com", json!({"service": "people.googleapis.com"}))
    .with_header("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"".into())
}

/// Resolves the bearer token of a request (header, or `access_token` query parameter).
pub fn authenticate(state: &State, req: &Request) -> ApiResult<Authed> {
    let header = req.header("authorization").unwrap_or("");
    let token = match header.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => Some(t.trim().to_string()),
        _ => req.query_one("access_token").map(str::to_string),
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ApiError::new(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
        .with_error_info("CREDENTIALS_MISSING", "googleapis.com", json!({"service": "people.googleapis.com"}))
        .with_header("WWW-Authenticate", "Bearer realm=\"https://accounts.google.com/\"".into()));
    };
    let now = state.clock.now_ms();
    let oauth = state.oauth.lock().expect("oauth mutex");
    let a = oauth
        .access
        .get(&token)
        .filter(|a| a.expires_ms > now)
        .ok_or_else(invalid_credentials)?;
    let g = oauth
        .grants
        .get(&a.grant)
        .filter(|g| !g.revoked)
        .ok_or_else(invalid_credentials)?;
    Ok(Authed {
        account: g.account.clone(),
        scopes: g.scopes.clone(),
    })
}

/// `GET /oauth2/v2/userinfo`.
pub fn userinfo(state: &State, req: &Request) -> Response {
    let who = match authenticate(state, req) {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let user_id = state
        .accounts()
        .get(&who.account)
        .map(|a| a.user_id.clone())
        .unwrap_or_default();
    let mut body = json!({
        "id": user_id,
        "picture": "https://lh3.googleusercontent.com/a/default-user=s96-c",
    });
    if who.has_scope(USERINFO_EMAIL) {
        body["email"] = json!(who.account);
        body["verified_email"] = json!(true);
    }
    Response::json(200, &body)
}
