use base64::Engine;
use serde_json::json;
use sha2::Digest;

use super::stub::{ok, Reply, Seen, Stub};
use super::{config_for, harness_with, Harness, NOW};
use crate::google::auth::STATE_TTL_MS;
use crate::google::{
    GoogleAccounts, GoogleError, MemorySecretStore, OAuthCallback, SecretStore, StoredTokens,
};

const REDIRECT: &str = "http://127.0.0.1:7000/integrations/google/callback";
const CRM_USER: u64 = 42;
const CONTACTS: &str = "https://www.googleapis.com/auth/contacts";

fn google(scope: &'static str, email: &'static str) -> Stub {
    Stub::start(move |req: &Seen| match req.path() {
        "/token" => {
            let form = req.form();
            assert_eq!(
                form.get("grant_type").map(String::as_str),
                Some("authorization_code")
            );
            assert_eq!(form.get("code").map(String::as_str), Some("CODE-1"));
            assert_eq!(form.get("redirect_uri").map(String::as_str), Some(REDIRECT));
            assert_eq!(
                form.get("client_secret").map(String::as_str),
                Some("CLIENT-SECRET-789")
            );
            assert!(form.contains_key("code_verifier"));
            ok(
                json!({"access_token": "ya29.NEW-ACCESS", "expires_in": 3599, "refresh_token": "1//NEW-REFRESH",
                "scope": scope, "token_type": "Bearer", "id_token": "x.y.z"}),
            )
        }
        "/oauth2/v2/userinfo" => {
            assert_eq!(req.bearer(), Some("ya29.NEW-ACCESS"));
            ok(json!({"id": "1", "email": email, "verified_email": true}))
        }
        "/revoke" => Reply::Json(200, json!({})),
        other => panic!("unexpected {other}"),
    })
}

fn callback(state: &str) -> OAuthCallback {
    OAuthCallback {
        code: Some("CODE-1".into()),
        state: Some(state.into()),
        error: None,
    }
}

fn params(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

#[test]
fn authorization_url_has_pkce_offline_consent_and_scopes() {
    let stub = google(CONTACTS, "alice@example.com");
    let h = harness_with(config_for(&stub));
    let start = h.google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    assert!(start.url.starts_with(&format!("{}/o/oauth2/v2/auth?", stub.base)));
    assert_eq!(start.expires_at_ms, NOW + 10 * 60 * 1000);
    let p = params(&start.url);
    assert_eq!(p["response_type"], "code");
    assert_eq!(p["client_id"], "client-123.apps.googleusercontent.com");
    assert_eq!(p["redirect_uri"], REDIRECT);
    assert_eq!(p["state"], start.state);
    assert_eq!(p["access_type"], "offline");
    assert_eq!(p["prompt"], "consent");
    assert_eq!(p["include_granted_scopes"], "true");
    assert_eq!(p["code_challenge_method"], "S256");
    let scopes: Vec<&str> = p["scope"].split(' ').collect();
    assert!(scopes.contains(&CONTACTS) && scopes.contains(&"https://www.googleapis.com/auth/userinfo.email"));
    assert!(start.state.len() >= 32, "state has enough entropy");

    // The pending state is in the secret store, and its verifier matches the challenge.
    let pending: serde_json::Value = serde_json::from_str(
        &h.store
            .get(&format!("oauth_pending/{}", start.state))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pending["crm_user"], CRM_USER);
    let verifier = pending["verifier"].as_str().unwrap();
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(p["code_challenge"], challenge);
    assert!(
        !start.url.contains(verifier),
        "the verifier never leaves the plugin"
    );

    // Two starts never share a state.
    assert_ne!(
        h.google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap().state,
        start.state
    );
}

#[test]
fn abandoned_sign_ins_do_not_pile_up_in_the_secret_store() {
    let stub = google(CONTACTS, "alice@example.com");
    let Harness { google, store, .. } = harness_with(config_for(&stub));
    let pending = |store: &MemorySecretStore| {
        store
            .keys()
            .iter()
            .filter(|k| k.starts_with("oauth_pending/"))
            .count()
    };
    let first = google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    for _ in 0..9 {
        google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    }
    assert_eq!(pending(&store), 3, "only the newest three sign-ins stay open");
    assert!(store
        .get(&format!("oauth_pending/{}", first.state))
        .unwrap()
        .is_none());
    // Another user's sign-ins are not touched; expired ones go at the next start.
    google.begin_connect(CRM_USER + 1, REDIRECT, NOW).unwrap();
    assert_eq!(pending(&store), 4);
    let later = google
        .begin_connect(CRM_USER, REDIRECT, NOW + 11 * 60 * 1000)
        .unwrap();
    assert_eq!(pending(&store), 2, "the user's expired sign-ins were dropped");
    assert!(store
        .get(&format!("oauth_pending/{}", later.state))
        .unwrap()
        .is_some());
}

#[test]
fn callback_connects_and_survives_a_restart() {
    let stub = google(
        "https://www.googleapis.com/auth/contacts https://www.googleapis.com/auth/userinfo.email openid",
        "Alice@Example.com",
    );
    let h = harness_with(config_for(&stub));
    let start = h.google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    let pending: serde_json::Value = serde_json::from_str(
        &h.store
            .get(&format!("oauth_pending/{}", start.state))
            .unwrap()
            .unwrap(),
    )
    .unwrap();

    // "Restart": a new registry over the same secret store.
    let google = GoogleAccounts::new(
        config_for(&stub),
        h.store.clone(),
        h.clock.clone(),
        h.sleeper.clone(),
    )
    .unwrap();
    let account = google
        .finish_connect(&callback(&start.state), CRM_USER, NOW + 60_000)
        .unwrap();
    assert_eq!(account.email, "alice@example.com");
    assert!(account.scopes.iter().any(|s| s == CONTACTS));
    let exchange = &stub.seen_at("/token")[0];
    assert_eq!(
        exchange.form()["code_verifier"],
        pending["verifier"].as_str().unwrap()
    );

    let tokens = StoredTokens::load(&*h.store, "alice@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(tokens.access_token, "ya29.NEW-ACCESS");
    assert_eq!(tokens.refresh_token, "1//NEW-REFRESH");
    assert_eq!(tokens.expires_at_ms, NOW + 60_000 + 3_599_000);
    assert!(h
        .store
        .keys()
        .contains(&"google_tokens/alice@example.com".to_string()));
    assert!(
        !h.store.keys().iter().any(|k| k.starts_with("oauth_pending/")),
        "state consumed"
    );

    // Single use.
    let error = google
        .finish_connect(&callback(&start.state), CRM_USER, NOW + 60_000)
        .unwrap_err();
    assert!(matches!(error, GoogleError::OAuthStateUnknown), "{error:?}");
    // And the account works right away.
    assert!(google.people("alice@example.com").is_ok());
}

#[test]
fn callback_checks_user_expiry_denial_and_state_format() {
    let stub = google(CONTACTS, "alice@example.com");
    let Harness { google, store, .. } = harness_with(config_for(&stub));

    let start = google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    let error = google
        .finish_connect(&callback(&start.state), CRM_USER + 1, NOW)
        .unwrap_err();
    assert!(matches!(error, GoogleError::OAuthStateWrongUser), "{error:?}");
    assert!(
        store
            .get(&format!("oauth_pending/{}", start.state))
            .unwrap()
            .is_some(),
        "not consumed by another user"
    );

    let error = google
        .finish_connect(&callback(&start.state), CRM_USER, NOW + STATE_TTL_MS + 1)
        .unwrap_err();
    assert!(matches!(error, GoogleError::OAuthStateExpired), "{error:?}");
    assert!(store
        .get(&format!("oauth_pending/{}", start.state))
        .unwrap()
        .is_none());

    let start = google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    let denied = OAuthCallback {
        code: None,
        state: Some(start.state.clone()),
        error: Some("access_denied".into()),
    };
    let error = google.finish_connect(&denied, CRM_USER, NOW).unwrap_err();
    assert!(
        matches!(&error, GoogleError::ConsentDenied { error } if error == "access_denied"),
        "{error:?}"
    );

    for state in [
        "",
        "short",
        "../google_tokens/alice@example.com",
        &"x".repeat(200),
    ] {
        let error = google
            .finish_connect(&callback(state), CRM_USER, NOW)
            .unwrap_err();
        assert!(
            matches!(error, GoogleError::OAuthStateUnknown),
            "{state}: {error:?}"
        );
    }
    assert!(
        stub.seen_at("/token").is_empty(),
        "no exchange for a refused callback"
    );
}

#[test]
fn unticked_contacts_scope_is_refused_clearly() {
    let stub = google(
        "https://www.googleapis.com/auth/userinfo.email openid",
        "alice@example.com",
    );
    let h = harness_with(config_for(&stub));
    let start = h.google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap();
    let error = h
        .google
        .finish_connect(&callback(&start.state), CRM_USER, NOW)
        .unwrap_err();
    assert!(
        matches!(&error, GoogleError::ContactsScopeMissing { email } if email == "alice@example.com"),
        "{error:?}"
    );
    assert!(error.to_string().contains("contacts"), "{error}");
    assert!(h.store.keys().is_empty(), "nothing stored: {:?}", h.store.keys());
}

#[test]
fn missing_client_id_names_the_setting() {
    let stub = google(CONTACTS, "alice@example.com");
    let mut config = config_for(&stub);
    config.client_id = None;
    let h = harness_with(config);
    let error = h.google.begin_connect(CRM_USER, REDIRECT, NOW).unwrap_err();
    assert!(error.to_string().contains("google.client_id"), "{error}");
}

#[test]
fn disconnect_revokes_best_effort_and_deletes_tokens() {
    let stub = google(CONTACTS, "alice@example.com");
    let h = harness_with(config_for(&stub));
    super::store_tokens(&*h.store, NOW + 3_600_000);
    h.google.disconnect("Alice@example.com").unwrap();
    let revoke = &stub.seen_at("/revoke")[0];
    assert_eq!(revoke.form()["token"], super::REFRESH);
    assert!(h.store.keys().is_empty());
    assert!(matches!(
        h.google.people("alice@example.com"),
        Err(GoogleError::NotConnected { .. })
    ));

    // Google down: still disconnected locally.
    let down = Stub::start(|_| Reply::Json(503, json!({})));
    let h = harness_with(config_for(&down));
    super::store_tokens(&*h.store, NOW + 3_600_000);
    h.google.disconnect("alice@example.com").unwrap();
    assert!(h.store.keys().is_empty());
    assert_eq!(down.seen_at("/revoke").len(), 1);
}
