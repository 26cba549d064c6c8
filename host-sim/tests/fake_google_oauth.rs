//! OAuth 2.0 end to end against the fake Google over HTTP: consent page, code + PKCE, token
//! endpoint, refresh, revoke, userinfo.

use base64::Engine as _;
use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, CONTACTS_SCOPE};
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9rW-verifier-long-enough-43chars";
const SCOPES: &str = "openid email https://www.googleapis.com/auth/contacts";

fn client() -> Client {
    Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn auth_url(base: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{base}/o/oauth2/v2/auth")).expect("url");
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", "crm-sync-client")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", SCOPES)
            .append_pair("state", "st-123")
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("code_challenge", &challenge(VERIFIER))
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

fn hidden_request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("request_id field") + marker.len();
    html[start..].split('"').next().expect("value").to_string()
}

/// Opens the consent page and submits it; returns the redirect's query pairs.
fn consent(
    g: &FakeGoogle,
    account: &str,
    scopes: &[&str],
    decision: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let http = client();
    let page = http
        .get(auth_url(&g.base_url(), extra))
        .send()
        .expect("auth page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().expect("html");
    let rid = hidden_request_id(&html);
    let mut form = vec![
        ("request_id", rid.as_str()),
        ("account", account),
        ("decision", decision),
    ];
    for s in scopes {
        form.push(("scope", s));
    }
    let resp = http
        .post(format!("{}/o/oauth2/v2/auth/decide", g.base_url()))
        .form(&form)
        .send()
        .expect("decide");
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().expect("location").to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .expect("location url")
        .query_pairs()
        .into_owned()
        .collect()
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

fn token(g: &FakeGoogle, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/token", g.base_url()))
        .form(form)
        .send()
        .expect("token");
    (resp.status().as_u16(), resp.json().expect("json"))
}

fn exchange(g: &FakeGoogle, code: &str, verifier: &str) -> (u16, Value) {
    token(
        g,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "crm-sync-client"),
            ("client_secret", "crm-sync-secret"),
            ("code_verifier", verifier),
        ],
    )
}

fn refresh(g: &FakeGoogle, rt: &str) -> (u16, Value) {
    token(
        g,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", "crm-sync-client"),
            ("client_secret", "crm-sync-secret"),
        ],
    )
}

fn start() -> FakeGoogle {
    FakeGoogle::start("127.0.0.1:0", FakeGoogleConfig::default()).expect("start")
}

fn get_with(g: &FakeGoogle, path: &str, access: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}{path}", g.base_url()))
        .bearer_auth(access)
        .send()
        .expect("get");
    (resp.status().as_u16(), resp.json().expect("json"))
}

#[test]
fn consent_page_has_stable_ids() {
    let g = start();
    let html = client()
        .get(auth_url(&g.base_url(), &[]))
        .send()
        .expect("page")
        .text()
        .expect("html");
    for id in [
        "account-alice@example.com",
        "account-bob@example.com",
        "scope-0",
        "scope-1",
        "scope-2",
        "allow",
        "deny",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing #{id}");
    }
    assert!(
        html.contains("https://www.googleapis.com/auth/userinfo.email"),
        "email is expanded"
    );
}

#[test]
fn happy_path_tokens_userinfo_and_people() {
    let g = start();
    let q = consent(
        &g,
        "bob@example.com",
        &[
            "openid",
            "https://www.googleapis.com/auth/userinfo.email",
            CONTACTS_SCOPE,
        ],
        "allow",
        &[],
    );
    assert_eq!(param(&q, "state"), Some("st-123"), "state passed back unchanged");
    let code = param(&q, "code").expect("code");
    let (s, t) = exchange(&g, code, VERIFIER);
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3599);
    assert!(t["refresh_token"].is_string(), "access_type=offline");
    assert!(t["id_token"].as_str().is_some_and(|j| j.split('.').count() == 3));
    let scope = t["scope"].as_str().expect("scope");
    assert!(scope.split(' ').any(|s| s == CONTACTS_SCOPE), "{scope}");
    let access = t["access_token"].as_str().expect("access");

    let (s, info) = get_with(&g, "/oauth2/v2/userinfo", access);
    assert_eq!(s, 200);
    assert_eq!(info["email"], "bob@example.com");
    assert_eq!(info["verified_email"], true);
    assert!(info["id"].is_string());
    let (s, _) = get_with(&g, "/v1/people/me/connections?personFields=names", access);
    assert_eq!(s, 200);

    let (s, r) = refresh(&g, t["refresh_token"].as_str().expect("rt"));
    assert_eq!(s, 200, "{r}");
    assert!(r.get("refresh_token").is_none());
    assert_ne!(r["access_token"], t["access_token"]);
}

#[test]
fn wrong_state_is_detectable_and_deny_redirects_with_error() {
    let g = start();
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    // The fake never rewrites state: a client expecting another state must notice the mismatch.
    assert_ne!(param(&q, "state"), Some("another-state"));
    assert_eq!(param(&q, "state"), Some("st-123"));
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "deny", &[]);
    assert_eq!(param(&q, "error"), Some("access_denied"));
    assert_eq!(param(&q, "state"), Some("st-123"));
    assert_eq!(param(&q, "code"), None);
}

#[test]
fn pkce_mismatch_and_code_reuse_fail_with_invalid_grant() {
    let g = start();
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let (s, e) = exchange(
        &g,
        param(&q, "code").expect("code"),
        "a-wrong-verifier-that-is-long-enough-000000000",
    );
    assert_eq!(s, 400);
    assert_eq!(e["error"], "invalid_grant");
    assert!(e["error_description"].is_string());

    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let code = param(&q, "code").expect("code");
    assert_eq!(exchange(&g, code, VERIFIER).0, 200);
    let (s, e) = exchange(&g, code, VERIFIER);
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));

    let (s, e) = exchange(&g, "4/0not-a-code", VERIFIER);
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
}

#[test]
fn revoked_refresh_token_and_its_access_tokens_fail() {
    let g = start();
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let (_, t) = exchange(&g, param(&q, "code").expect("code"), VERIFIER);
    let rt = t["refresh_token"].as_str().expect("rt");
    let access = t["access_token"].as_str().expect("access");
    let resp = client()
        .post(format!("{}/revoke", g.base_url()))
        .form(&[("token", rt)])
        .send()
        .expect("revoke");
    assert_eq!(resp.status().as_u16(), 200);
    let (s, e) = refresh(&g, rt);
    assert_eq!(s, 400);
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(e["error_description"], "Token has been expired or revoked.");
    let (s, e) = get_with(&g, "/v1/people/me/connections?personFields=names", access);
    assert_eq!((s, e["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")));
    // Revoking again, or an unknown token: invalid_token.
    let resp = client()
        .post(format!("{}/revoke", g.base_url()))
        .form(&[("token", rt)])
        .send()
        .expect("revoke");
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().expect("json");
    assert_eq!(v["error"], "invalid_token");
}

#[test]
fn access_tokens_expire_and_refresh_works() {
    let g = FakeGoogle::start(
        "127.0.0.1:0",
        FakeGoogleConfig {
            access_token_lifetime_secs: 60,
            ..FakeGoogleConfig::default()
        },
    )
    .expect("start");
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let (_, t) = exchange(&g, param(&q, "code").expect("code"), VERIFIER);
    assert_eq!(t["expires_in"], 60);
    let access = t["access_token"].as_str().expect("access");
    g.advance_clock(std::time::Duration::from_secs(61));
    let (s, e) = get_with(&g, "/v1/people/me/connections?personFields=names", access);
    assert_eq!((s, e["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (_, r) = refresh(&g, t["refresh_token"].as_str().expect("rt"));
    let (s, _) = get_with(
        &g,
        "/v1/people/me/connections?personFields=names",
        r["access_token"].as_str().expect("a"),
    );
    assert_eq!(s, 200);
}

#[test]
fn unticked_scope_is_not_granted() {
    let g = start();
    let q = consent(
        &g,
        "alice@example.com",
        &["openid", "https://www.googleapis.com/auth/userinfo.email"],
        "allow",
        &[],
    );
    let (_, t) = exchange(&g, param(&q, "code").expect("code"), VERIFIER);
    let scope = t["scope"].as_str().expect("scope");
    assert!(!scope.contains(CONTACTS_SCOPE), "{scope}");
    let (s, e) = get_with(
        &g,
        "/v1/people/me/connections?personFields=names",
        t["access_token"].as_str().expect("a"),
    );
    assert_eq!(s, 403);
    assert_eq!(e["error"]["status"], "PERMISSION_DENIED");
    assert_eq!(
        e["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );
}

#[test]
fn online_access_has_no_refresh_token() {
    let g = start();
    let http = client();
    let url = auth_url(&g.base_url(), &[]).replace("access_type=offline", "access_type=online");
    let html = http.get(url).send().expect("page").text().expect("html");
    let rid = hidden_request_id(&html);
    let resp = http
        .post(format!("{}/o/oauth2/v2/auth/decide", g.base_url()))
        .form(&[
            ("request_id", rid.as_str()),
            ("account", "alice@example.com"),
            ("decision", "allow"),
            ("scope", CONTACTS_SCOPE),
        ])
        .send()
        .expect("decide");
    let loc = url::Url::parse(resp.headers()["location"].to_str().expect("loc")).expect("url");
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let (s, t) = exchange(&g, &code, VERIFIER);
    assert_eq!(s, 200);
    assert!(t.get("refresh_token").is_none());
}

#[test]
fn bad_client_or_redirect_shows_error_page_without_redirect() {
    let g = start();
    for (k, v) in [
        ("client_id", "evil-client"),
        ("redirect_uri", "https://evil.example/cb"),
    ] {
        let url = auth_url(&g.base_url(), &[]).replace(
            &format!(
                "{k}={}",
                url::form_urlencoded::byte_serialize(if k == "client_id" {
                    b"crm-sync-client"
                } else {
                    REDIRECT.as_bytes()
                })
                .collect::<String>()
            ),
            &format!(
                "{k}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            ),
        );
        let resp = client().get(url).send().expect("page");
        assert!(resp.status().is_client_error(), "{k}");
        assert!(resp.headers().get("location").is_none());
        let html = resp.text().expect("html");
        assert!(html.contains("Error 40"), "{html}");
    }
}

#[test]
fn token_endpoint_client_errors() {
    let g = start();
    let (s, e) = token(
        &g,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "crm-sync-client"),
            ("client_secret", "nope"),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    let (s, e) = token(
        &g,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "other"),
            ("client_secret", "crm-sync-secret"),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    let (s, e) = refresh(&g, "1//unknown");
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let (s, e) = token(
        &g,
        &[
            ("grant_type", "password"),
            ("client_id", "crm-sync-client"),
            ("client_secret", "crm-sync-secret"),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (400, Some("unsupported_grant_type")));
}

#[test]
fn consent_page_escapes_html() {
    let cfg = FakeGoogleConfig {
        accounts: vec!["a&b<script>@example.com".into()],
        client_id: "c\"<x>".into(),
        ..FakeGoogleConfig::default()
    };
    let g = FakeGoogle::start("127.0.0.1:0", cfg).expect("start");
    let url = auth_url(&g.base_url(), &[]).replace("client_id=crm-sync-client", "client_id=c%22%3Cx%3E");
    let html = client().get(url).send().expect("page").text().expect("html");
    assert!(html.contains("a&amp;b&lt;script&gt;@example.com"), "{html}");
    assert!(!html.contains("<script>"));
    assert!(html.contains("c&quot;&lt;x&gt;"));
}

#[test]
fn token_endpoint_details() {
    let g = start();
    // HTTP Basic client authentication, and redirect_uri must match the authorization request.
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let code = param(&q, "code").expect("code").to_string();
    let resp = client()
        .post(format!("{}/token", g.base_url()))
        .basic_auth("crm-sync-client", Some("crm-sync-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:1/other"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .expect("token");
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().expect("json");
    assert_eq!(v["error"], "redirect_uri_mismatch");

    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let resp = client()
        .post(format!("{}/token", g.base_url()))
        .basic_auth("crm-sync-client", Some("crm-sync-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", param(&q, "code").expect("code")),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .expect("token");
    assert_eq!(resp.status().as_u16(), 200);
    let t: Value = resp.json().expect("json");

    // Revoking the access token revokes the grant, refresh token included.
    let resp = client()
        .post(format!(
            "{}/revoke?token={}",
            g.base_url(),
            t["access_token"].as_str().expect("a")
        ))
        .send()
        .expect("revoke");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        refresh(&g, t["refresh_token"].as_str().expect("rt")).1["error"],
        "invalid_grant"
    );

    // Codes expire after 10 minutes.
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    g.advance_clock(std::time::Duration::from_secs(601));
    let (s, e) = exchange(&g, param(&q, "code").expect("code"), VERIFIER);
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));

    // Missing verifier when a challenge was sent.
    let q = consent(&g, "alice@example.com", &[CONTACTS_SCOPE], "allow", &[]);
    let (s, e) = token(
        &g,
        &[
            ("grant_type", "authorization_code"),
            ("code", param(&q, "code").expect("code")),
            ("redirect_uri", REDIRECT),
            ("client_id", "crm-sync-client"),
            ("client_secret", "crm-sync-secret"),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let (s, e) = token(
        &g,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "crm-sync-client"),
        ],
    );
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")));
}

#[test]
fn invalid_scope_and_response_type_show_error_pages() {
    let g = start();
    let bad_scope = auth_url(&g.base_url(), &[]).replace("scope=openid", "scope=bogus+openid");
    let resp = client().get(bad_scope).send().expect("page");
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().expect("html").contains("invalid_scope"));
    let bad_type = auth_url(&g.base_url(), &[]).replace("response_type=code", "response_type=token");
    assert_eq!(
        client().get(bad_type).send().expect("page").status().as_u16(),
        400
    );
    // A consent form can only be submitted once.
    let html = client()
        .get(auth_url(&g.base_url(), &[]))
        .send()
        .expect("page")
        .text()
        .expect("html");
    let rid = hidden_request_id(&html);
    let form = [
        ("request_id", rid.as_str()),
        ("account", "alice@example.com"),
        ("decision", "allow"),
        ("scope", CONTACTS_SCOPE),
    ];
    let first = client()
        .post(format!("{}/o/oauth2/v2/auth/decide", g.base_url()))
        .form(&form)
        .send()
        .expect("decide");
    assert_eq!(first.status().as_u16(), 302);
    let again = client()
        .post(format!("{}/o/oauth2/v2/auth/decide", g.base_url()))
        .form(&form)
        .send()
        .expect("decide");
    assert_eq!(again.status().as_u16(), 400);
}

#[test]
fn login_hint_preselects_the_account() {
    let g = start();
    let html = client()
        .get(auth_url(&g.base_url(), &[("login_hint", "bob@example.com")]))
        .send()
        .expect("page")
        .text()
        .expect("html");
    assert!(
        html.contains("id=\"account-bob@example.com\" name=\"account\" value=\"bob@example.com\" checked"),
        "{html}"
    );
    assert!(!html.contains("value=\"alice@example.com\" checked"));
}
