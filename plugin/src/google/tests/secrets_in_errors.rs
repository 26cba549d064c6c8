//! No token value may appear in any error (Display or Debug) or log line.

use serde_json::json;

use super::stub::{captured_logs, google_error, ok, start_log_capture, Reply, Stub};
use super::{config_for, connected, harness_with, store_tokens, ACCESS, EMAIL, NOW, REFRESH};
use crate::google::GoogleError;

const SECRETS: &[&str] = &[
    ACCESS,
    REFRESH,
    "SECRET-TOKEN-123",
    "REFRESH-SECRET-456",
    "CLIENT-SECRET-789",
    "ya29.LEAK",
];

fn assert_clean(error: &GoogleError) {
    for text in [error.to_string(), format!("{error:?}")] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "error leaks {secret}: {text}");
        }
    }
}

#[test]
fn tokens_never_appear_in_errors_or_logs() {
    let capturing = start_log_capture();
    // Google (or a proxy) echoing the token back in error messages, then refusing everything.
    let stub = Stub::start(|req| match req.path() {
        "/token" => Reply::Json(
            400,
            json!({"error": "invalid_grant", "error_description": format!("bad token {REFRESH}")}),
        ),
        p if p.ends_with(":updateContact") => google_error(
            400,
            "INVALID_ARGUMENT",
            &format!("Invalid credentials Bearer {ACCESS}"),
            None,
        ),
        p if p.starts_with("/v1/contactGroups") => {
            Reply::Raw(500, vec![], format!("<html>token={ACCESS}</html>"))
        }
        _ => google_error(
            401,
            "UNAUTHENTICATED",
            &format!("Token {ACCESS} is invalid"),
            None,
        ),
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    let mut errors = vec![client.list_connections("names", None).unwrap_err()];
    let person = crate::google::person::Person {
        resource_name: "people/c1".into(),
        ..Default::default()
    };
    errors.push(client.update_contact(&person, "names", "names").unwrap_err());
    errors.push(client.list_contact_groups().unwrap_err());
    assert!(
        matches!(errors[0], GoogleError::ReconnectNeeded { .. }),
        "{:?}",
        errors[0]
    );

    // A token endpoint answering garbage that contains a token.
    let garbage = Stub::start(|req| match req.path() {
        "/token" => Reply::Raw(
            200,
            vec![("Content-Type", "application/json".into())],
            "{\"access_token\": \"ya29.LEAK\", \"expires_in\": \"soon\"".into(),
        ),
        _ => ok(json!({})),
    });
    let h = harness_with(config_for(&garbage));
    store_tokens(&*h.store, NOW); // expired: forces a refresh
    errors.push(
        h.google
            .people(EMAIL)
            .unwrap()
            .list_connections("names", None)
            .unwrap_err(),
    );

    for error in &errors {
        assert_clean(error);
    }
    let debug = format!(
        "{:?}",
        crate::google::StoredTokens::load(&*h.store, EMAIL).unwrap()
    );
    assert!(!debug.contains("SECRET"), "{debug}");
    if capturing {
        let logs = captured_logs();
        assert!(
            logs.iter().any(|l| l.contains("google:")),
            "the logger saw our lines: {logs:?}"
        );
        for line in logs {
            for secret in SECRETS {
                assert!(!line.contains(secret), "log leaks {secret}: {line}");
            }
        }
    }
}
