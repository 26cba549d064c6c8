use std::time::Duration;

use crate::google::endpoints::{check_endpoint, Endpoints, KEY_PEOPLE_URL, KEY_TOKEN_URL};
use crate::google::{GoogleConfig, GoogleError};

#[test]
fn https_everywhere_and_http_only_for_loopback() {
    for ok in [
        "https://people.googleapis.com",
        "https://proxy.example.com:8443/google",
        "http://127.0.0.1:8080",
        "http://127.9.8.7/x",
        "http://[::1]:9000",
        "http://localhost:1234/token",
        "http://LOCALHOST",
    ] {
        assert!(
            check_endpoint(KEY_PEOPLE_URL, ok).is_ok(),
            "{ok} should be accepted"
        );
    }
    for bad in [
        "http://people.googleapis.com",
        "http://10.0.0.1",
        "http://128.0.0.1",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
        "http://[::2]",
        "ftp://localhost/x",
        "people.googleapis.com",
        "https://user:pw@example.com",
    ] {
        let error = check_endpoint(KEY_TOKEN_URL, bad).expect_err(bad);
        let message = error.to_string();
        assert!(matches!(error, GoogleError::Config { .. }), "{bad}: {error:?}");
        assert!(
            message.contains("google.token_url"),
            "{bad}: message names the key: {message}"
        );
        assert!(!message.contains("pw@"), "no password echoed: {message}");
    }
}

#[test]
fn config_from_lookup_checks_every_endpoint_key() {
    for key in [
        "google.people_url",
        "google.auth_url",
        "google.token_url",
        "google.revoke_url",
        "google.userinfo_url",
    ] {
        let error = GoogleConfig::from_lookup(|k| (k == key).then(|| "http://example.com/x".to_string()))
            .expect_err(key);
        assert!(error.to_string().contains(key), "{error}");
    }
}

#[test]
fn config_defaults_and_overrides() {
    let config = GoogleConfig::from_lookup(|_| None).unwrap();
    assert_eq!(config.endpoints, Endpoints::default());
    assert_eq!(config.endpoints.people.as_str(), "https://people.googleapis.com/");
    assert_eq!(
        config.endpoints.userinfo.as_str(),
        "https://www.googleapis.com/oauth2/v2/userinfo"
    );
    assert_eq!(
        (config.read_quota_per_minute, config.write_quota_per_minute),
        (90, 60)
    );
    assert_eq!(config.connect_timeout, Duration::from_secs(10));
    assert_eq!(config.request_timeout, Duration::from_secs(30));
    assert_eq!(config.client_id, None);

    let config = GoogleConfig::from_lookup(|key| {
        Some(
            match key {
                "google.people_url" => "http://127.0.0.1:4000/proxy/",
                "google.client_id" => "cid",
                "google.client_secret" => "SHHH",
                "google.read_quota_per_minute" => "120",
                "google.write_quota_per_minute" => "180",
                "google.timeout_ms" => "2500",
                _ => return None,
            }
            .to_string(),
        )
    })
    .unwrap();
    assert_eq!(
        config.endpoints.people_url("people:batchGet").as_str(),
        "http://127.0.0.1:4000/proxy/v1/people:batchGet"
    );
    assert_eq!(config.client_id.as_deref(), Some("cid"));
    assert_eq!(
        (config.read_quota_per_minute, config.write_quota_per_minute),
        (120, 180)
    );
    assert_eq!(config.request_timeout, Duration::from_millis(2500));
    assert!(
        !format!("{config:?}").contains("SHHH"),
        "client secret redacted in Debug"
    );

    let error =
        GoogleConfig::from_lookup(|k| (k == "google.read_quota_per_minute").then(|| "0".into())).unwrap_err();
    assert!(error.to_string().contains("google.read_quota_per_minute"));
}
