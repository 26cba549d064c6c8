use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::stub::{google_error, ok, Reply, Stub};
use super::{config_for, connected, harness_with, store_tokens, Harness, ACCESS, EMAIL, NOW};
use crate::google::person::{Name, Person};
use crate::google::{GoogleError, RetryPolicy};

fn page(names: &[&str], next_page: Option<&str>, sync: Option<&str>) -> Reply {
    let people: Vec<_> = names
        .iter()
        .map(|n| json!({"resourceName": n, "etag": "e"}))
        .collect();
    let mut body = json!({ "connections": people, "totalItems": 3 });
    if let Some(t) = next_page {
        body["nextPageToken"] = json!(t);
    }
    if let Some(t) = sync {
        body["nextSyncToken"] = json!(t);
    }
    ok(body)
}

/// Answers `replies[n]` to the n-th request, then the last one forever.
fn script(replies: Vec<Box<dyn Fn() -> Reply + Send + Sync>>) -> Stub {
    let n = AtomicUsize::new(0);
    Stub::start(move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
        replies[i]()
    })
}

fn one_page() -> Box<dyn Fn() -> Reply + Send + Sync> {
    Box::new(|| page(&["people/c1"], None, Some("SYNC-1")))
}

/// Lists Alice's contacts (names only) through the harness's client.
fn list_names(h: &Harness) -> Result<crate::google::Connections, GoogleError> {
    h.google.people(EMAIL).unwrap().list_connections("names", None)
}

#[test]
fn lists_all_pages_with_sync_token_parameters() {
    let stub = Stub::start(|req| match req.param("pageToken").as_deref() {
        None => page(&["people/c1", "people/c2"], Some("P2"), None),
        Some("P2") => page(&["people/c3"], Some("P3"), None),
        _ => page(&[], None, Some("SYNC-NEXT")),
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    let mut pages = Vec::new();
    let summary = client
        .for_each_connections_page("names,metadata", Some("SYNC-OLD"), |people| {
            pages.push(people.len());
            Ok::<(), GoogleError>(())
        })
        .unwrap();
    assert_eq!(pages, vec![2, 1, 0]);
    assert_eq!(summary.next_sync_token.as_deref(), Some("SYNC-NEXT"));
    assert_eq!(
        (summary.pages, summary.people, summary.total_items),
        (3, 3, Some(3))
    );
    let seen = stub.seen();
    assert_eq!(seen[0].path(), "/v1/people/me/connections");
    assert_eq!(seen[0].bearer(), Some(ACCESS));
    for req in &seen {
        assert_eq!(req.param("personFields").as_deref(), Some("names,metadata"));
        assert_eq!(req.param("pageSize").as_deref(), Some("1000"));
        assert_eq!(req.param("requestSyncToken").as_deref(), Some("true"));
        assert_eq!(req.param("syncToken").as_deref(), Some("SYNC-OLD"));
    }
    assert_eq!(seen[1].param("pageToken").as_deref(), Some("P2"));

    let all = client.list_connections("names", None).unwrap();
    assert_eq!(all.people.len(), 3);
    assert_eq!(all.people[2].resource_name, "people/c3");
    assert_eq!(stub.seen().last().unwrap().param("syncToken"), None);
}

/// The error a full listing against `stub` ends with.
fn listing_error(stub: &Stub) -> GoogleError {
    let h = connected(stub);
    let client = h.google.people(EMAIL).unwrap();
    client
        .for_each_connections_page("names", None, |_| Ok::<(), GoogleError>(()))
        .unwrap_err()
}

#[test]
fn a_listing_whose_page_token_repeats_stops_with_an_error() {
    let stub = Stub::start(|_| page(&["people/c1"], Some("SAME"), None));
    let error = listing_error(&stub);
    assert!(
        matches!(&error, GoogleError::InvalidResponse { detail } if detail.contains("same page token")),
        "{error:?}"
    );
    let listings = stub
        .seen()
        .iter()
        .filter(|s| s.path().contains("connections"))
        .count();
    assert_eq!(listings, 2, "stopped at the first repeat");
}

#[test]
fn a_listing_that_pages_without_end_stops_with_an_error() {
    let n = AtomicUsize::new(0);
    let stub = Stub::start(move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        page(&[], Some(&format!("P{i}")), None)
    });
    let error = listing_error(&stub);
    assert!(
        matches!(&error, GoogleError::InvalidResponse { detail } if detail.contains("more than 1000 pages")),
        "{error:?}"
    );
}

#[test]
fn expired_sync_token_has_its_own_error() {
    let expired = google_error(
        400,
        "FAILED_PRECONDITION",
        "Sync token is expired. Clear local cache and retry call without the sync token.",
        Some("EXPIRED_SYNC_TOKEN"),
    );
    let replies = std::sync::Mutex::new(vec![expired]);
    let stub = Stub::start(move |req| match req.param("pageToken") {
        // The first page works, the second says the token expired: the caller must discard it.
        None => page(&["people/c1"], Some("P2"), None),
        Some(_) => replies
            .lock()
            .unwrap()
            .pop()
            .unwrap_or(Reply::Json(410, json!({}))),
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    let error = client.list_connections("names", Some("OLD")).unwrap_err();
    assert!(matches!(error, GoogleError::SyncTokenExpired), "{error:?}");
    // Older docs: HTTP 410.
    let error = client.list_connections("names", Some("OLD")).unwrap_err();
    assert!(matches!(error, GoogleError::SyncTokenExpired), "{error:?}");

    // A malformed token is not an expiry.
    let stub = Stub::start(|_| {
        google_error(
            400,
            "INVALID_ARGUMENT",
            "Request contains an invalid argument.",
            None,
        )
    });
    let h = connected(&stub);
    let error = h
        .google
        .people(EMAIL)
        .unwrap()
        .list_connections("names", Some("garbage"))
        .unwrap_err();
    assert!(
        matches!(error, GoogleError::Api { http_status: 400, .. }),
        "{error:?}"
    );
}

#[test]
fn retries_429_honouring_retry_after() {
    let stub = script(vec![
        Box::new(|| {
            let body = json!({"error": {"code": 429, "message": "Quota exceeded for quota metric 'Critical read requests'",
                "status": "RESOURCE_EXHAUSTED", "details": [{"reason": "RATE_LIMIT_EXCEEDED"}]}});
            Reply::Raw(
                429,
                vec![
                    ("Retry-After", "7".into()),
                    ("Content-Type", "application/json".into()),
                ],
                body.to_string(),
            )
        }),
        one_page(),
    ]);
    let h = connected(&stub);
    let result = list_names(&h).unwrap();
    assert_eq!(result.next_sync_token.as_deref(), Some("SYNC-1"));
    assert_eq!(stub.seen().len(), 2);
    let sleeps = h.sleeper.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!(
        sleeps[0] >= Duration::from_secs(7) && sleeps[0] < Duration::from_secs(8),
        "{sleeps:?}"
    );
}

#[test]
fn real_retry_after_of_one_second_is_waited() {
    let stub = script(vec![
        Box::new(|| Reply::Raw(429, vec![("Retry-After", "1".into())], String::new())),
        one_page(),
    ]);
    let store = Arc::new(crate::google::MemorySecretStore::new());
    store_tokens(&*store, NOW + 3_600_000);
    let google = crate::google::GoogleAccounts::new(
        config_for(&stub),
        store,
        Arc::new(super::stub::FixedClock::new(NOW)),
        Arc::new(crate::google::ThreadSleeper::new()),
    )
    .unwrap();
    let started = Instant::now();
    google
        .people(EMAIL)
        .unwrap()
        .list_connections("names", None)
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
}

#[test]
fn survives_a_burst_of_503_with_growing_backoff() {
    let stub = script(vec![
        Box::new(|| google_error(503, "UNAVAILABLE", "The service is currently unavailable.", None)),
        Box::new(|| google_error(503, "UNAVAILABLE", "The service is currently unavailable.", None)),
        Box::new(|| Reply::Raw(502, vec![], "<html>Bad gateway</html>".into())),
        Box::new(|| google_error(500, "INTERNAL", "Internal error encountered.", None)),
        one_page(),
    ]);
    let h = connected(&stub);
    list_names(&h).unwrap();
    assert_eq!(stub.seen().len(), 5);
    let sleeps = h.sleeper.sleeps();
    assert_eq!(sleeps.len(), 4);
    // Equal jitter: attempt n waits between 2^(n-2) and 2^(n-1) seconds.
    for (i, d) in sleeps.iter().enumerate() {
        let full = Duration::from_secs(1 << i);
        assert!(*d >= full / 2 && *d <= full, "sleep {i}: {d:?}");
    }
}

#[test]
fn gives_up_after_bounded_attempts_with_typed_errors() {
    let stub = Stub::start(|_| google_error(503, "UNAVAILABLE", "down", None));
    let h = connected(&stub);
    let error = list_names(&h).unwrap_err();
    assert!(
        matches!(error, GoogleError::Unavailable { attempts: 6, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(stub.seen().len(), 6);

    let stub = Stub::start(|_| {
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded",
            Some("RATE_LIMIT_EXCEEDED"),
        )
    });
    let h = connected(&stub);
    let error = list_names(&h).unwrap_err();
    assert!(
        matches!(&error, GoogleError::RateLimited { attempts: 6, email, .. } if email == EMAIL),
        "{error:?}"
    );
    assert!(error.to_string().contains("Quota exceeded"), "{error}");
}

#[test]
fn a_429_without_retry_after_backs_off_exponentially_with_jitter_then_gives_up() {
    // Google documents no Retry-After on its 429s.
    let stub = Stub::start(|_| {
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Critical write requests'",
            Some("RATE_LIMIT_EXCEEDED"),
        )
    });
    let h = connected(&stub);
    let error = h
        .google
        .people(EMAIL)
        .unwrap()
        .delete_contact("people/c1")
        .unwrap_err();
    assert!(
        matches!(error, GoogleError::RateLimited { attempts: 6, .. }),
        "{error:?}"
    );
    let sleeps = h.sleeper.sleeps();
    assert_eq!(sleeps.len(), 5, "{sleeps:?}");
    for (i, d) in sleeps.iter().enumerate() {
        let full = Duration::from_secs(1 << i);
        assert!(*d >= full / 2 && *d <= full, "sleep {i}: {d:?}");
    }
    let distinct: std::collections::BTreeSet<Duration> = sleeps.iter().copied().collect();
    assert!(distinct.len() > 1, "no jitter: {sleeps:?}");
}

#[test]
fn a_409_aborted_is_retried_and_a_409_already_exists_is_not() {
    let stub = script(vec![
        Box::new(|| google_error(409, "ABORTED", "The operation was aborted.", None)),
        Box::new(|| Reply::Json(200, json!({}))),
    ]);
    let h = connected(&stub);
    h.google
        .people(EMAIL)
        .unwrap()
        .delete_contact("people/c1")
        .expect("retried after ABORTED");
    assert_eq!(stub.seen().len(), 2);

    let stub =
        Stub::start(|_| google_error(409, "ALREADY_EXISTS", "Contact group name already exists.", None));
    let h = connected(&stub);
    let error = h
        .google
        .people(EMAIL)
        .unwrap()
        .create_contact_group("VIP")
        .unwrap_err();
    assert!(
        matches!(error, GoogleError::Api { http_status: 409, .. }),
        "{error:?}"
    );
    assert_eq!(stub.seen().len(), 1, "a duplicate name is not retried");
}

#[test]
fn a_hang_is_cut_by_the_timeout_and_retried() {
    let stub = script(vec![
        Box::new(|| Reply::Hang(Duration::from_secs(5))),
        Box::new(|| Reply::Drop),
        one_page(),
    ]);
    let mut config = config_for(&stub);
    config.request_timeout = Duration::from_millis(300);
    let h = harness_with(config);
    store_tokens(&*h.store, NOW + 3_600_000);
    let started = Instant::now();
    let result = list_names(&h).unwrap();
    assert_eq!(result.people.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(stub.seen().len(), 3, "hang, dropped connection, success");
    assert_eq!(h.sleeper.sleeps().len(), 2);
}

/// Google's answer to a request whose access token it refuses.
fn unauthenticated() -> Reply {
    google_error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials.",
        None,
    )
}

#[test]
fn unauthorized_refreshes_once_and_retries() {
    let stub = Stub::start(|req| match req.path() {
        "/token" => {
            let form = req.form();
            assert_eq!(form.get("grant_type").map(String::as_str), Some("refresh_token"));
            assert_eq!(
                form.get("refresh_token").map(String::as_str),
                Some(super::REFRESH)
            );
            assert_eq!(
                form.get("client_id").map(String::as_str),
                Some("client-123.apps.googleusercontent.com")
            );
            ok(
                json!({"access_token": "ya29.FRESH", "expires_in": 3599, "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/contacts"}),
            )
        }
        _ if req.bearer() == Some("ya29.FRESH") => page(&["people/c1"], None, Some("S")),
        _ => unauthenticated(),
    });
    let h = connected(&stub);
    list_names(&h).unwrap();
    assert_eq!(stub.seen_at("/token").len(), 1);
    assert_eq!(stub.seen_at("/v1/").len(), 2);
    let stored = crate::google::StoredTokens::load(&*h.store, EMAIL)
        .unwrap()
        .unwrap();
    assert_eq!(stored.access_token, "ya29.FRESH");
    assert_eq!(
        stored.refresh_token,
        super::REFRESH,
        "kept when Google sends none"
    );
    assert_eq!(stored.expires_at_ms, NOW + 3_599_000);
    assert!(h.sleeper.sleeps().is_empty(), "a 401 is not a backoff case");
}

/// Simulation seed 7844: an access token can expire while its refresh is in flight. A second
/// refresh that Google accepts is an early expiry, not a revoked sign-in: the call goes on.
#[test]
fn a_fresh_token_refused_once_is_refreshed_again_not_a_reconnect() {
    let refreshes = std::sync::atomic::AtomicUsize::new(0);
    let stub = Stub::start(move |req| match req.path() {
        "/token" => {
            let n = refreshes.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            ok(json!({"access_token": format!("ya29.FRESH{n}"), "expires_in": 3599, "token_type": "Bearer"}))
        }
        _ if req.bearer() == Some("ya29.FRESH2") => page(&["people/c1"], None, Some("S")),
        _ => unauthenticated(),
    });
    let h = connected(&stub);
    list_names(&h).unwrap();
    assert_eq!(stub.seen_at("/token").len(), 2);
}

#[test]
fn unauthorized_after_refresh_asks_to_reconnect() {
    let stub = Stub::start(|req| match req.path() {
        "/token" => ok(json!({"access_token": "ya29.FRESH", "expires_in": 3599, "token_type": "Bearer"})),
        _ => unauthenticated(),
    });
    let h = connected(&stub);
    let error = list_names(&h).unwrap_err();
    assert!(
        matches!(&error, GoogleError::ReconnectNeeded { email } if email == EMAIL),
        "{error:?}"
    );
    assert!(error.needs_reconnect());
    // One free refresh, then one per counted attempt: a single refused fresh token is an
    // early expiry, not a revoked sign-in.
    assert_eq!(stub.seen_at("/token").len(), 1 + 6);
    assert_eq!(
        error.to_string(),
        "Google refused the sign-in for alice@example.com (the access was revoked or expired). \
         Reconnect the account in the integration settings."
    );
}

#[test]
fn expiring_token_is_refreshed_ahead_and_invalid_grant_means_reconnect() {
    let stub = Stub::start(|req| match req.path() {
        "/token" => Reply::Json(
            400,
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
        ),
        _ => page(&[], None, Some("S")),
    });
    let h = harness_with(config_for(&stub));
    // Expires in one minute: inside the refresh-ahead window.
    store_tokens(&*h.store, NOW + 60_000);
    let error = list_names(&h).unwrap_err();
    assert!(
        matches!(&error, GoogleError::ReconnectNeeded { email } if email == EMAIL),
        "{error:?}"
    );
    assert!(
        stub.seen_at("/v1/").is_empty(),
        "no API call with an expiring token"
    );
}

#[test]
fn token_is_refreshed_when_the_host_clock_passes_expiry() {
    let stub = Stub::start(|req| match req.path() {
        "/token" => ok(json!({"access_token": "ya29.FRESH", "expires_in": 3599, "token_type": "Bearer"})),
        _ => page(&[], None, Some("S")),
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    client.list_connections("names", None).unwrap();
    assert!(stub.seen_at("/token").is_empty());
    h.clock.set(NOW + 3_600_000 - 60_000);
    client.list_connections("names", None).unwrap();
    assert_eq!(stub.seen_at("/token").len(), 1);
    assert_eq!(stub.seen().last().unwrap().bearer(), Some("ya29.FRESH"));
}

#[test]
fn not_connected_account_is_a_clear_error() {
    let stub = Stub::start(|_| page(&[], None, None));
    let h = harness_with(config_for(&stub));
    let error = h.google.people("Bob@Example.com").unwrap_err();
    assert!(
        matches!(&error, GoogleError::NotConnected { email } if email == "bob@example.com"),
        "{error:?}"
    );
}

#[test]
fn other_4xx_keep_googles_message_status_and_reason() {
    let stub = Stub::start(|req| {
        match req.path() {
        p if p.ends_with(":updateContact") => google_error(
            400,
            "FAILED_PRECONDITION",
            "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.",
            Some("failedPrecondition"),
        ),
        _ => google_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", Some("ACCESS_TOKEN_SCOPE_INSUFFICIENT")),
    }
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    let person = Person {
        resource_name: "people/c42".into(),
        etag: "old".into(),
        ..Person::default()
    };
    let error = client
        .update_contact(&person, "names", "names,metadata")
        .unwrap_err();
    match &error {
        GoogleError::Api {
            http_status,
            status,
            reason,
            message,
        } => {
            assert_eq!(*http_status, 400);
            assert_eq!(status.as_deref(), Some("FAILED_PRECONDITION"));
            assert_eq!(reason.as_deref(), Some("failedPrecondition"));
            assert!(message.starts_with("Request person.etag is different"));
        }
        other => panic!("{other:?}"),
    }
    assert!(error.is_etag_conflict());
    let req = &stub.seen()[0];
    assert_eq!(
        (req.method.as_str(), req.path()),
        ("PATCH", "/v1/people/c42:updateContact")
    );
    assert_eq!(req.param("updatePersonFields").as_deref(), Some("names"));
    assert_eq!(req.json()["etag"], "old");
    assert_eq!(stub.seen().len(), 1, "4xx are not retried");

    let error = client.list_contact_groups().unwrap_err();
    assert!(
        matches!(error, GoogleError::ScopeInsufficient { .. }),
        "{error:?}"
    );
}

fn named(given: &str) -> Person {
    Person {
        names: vec![Name {
            given_name: given.into(),
            ..Name::default()
        }],
        ..Person::default()
    }
}

#[test]
fn batch_create_chunks_and_reports_per_contact() {
    // Google refuses a whole batch when one contact is invalid; the client splits the chunk
    // until the bad one is alone. Per-person statuses are passed on as they are.
    let stub = Stub::start(|req| {
        let body = req.json();
        let contacts = body["contacts"].as_array().unwrap();
        assert!(contacts.len() <= 200);
        assert_eq!(body["readMask"], "names,metadata");
        let names: Vec<&str> = contacts
            .iter()
            .map(|c| c["contactPerson"]["names"][0]["givenName"].as_str().unwrap())
            .collect();
        if names.contains(&"BAD") {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Invalid names: only one name allowed",
                None,
            );
        }
        let created: Vec<_> = names
            .iter()
            .map(|n| {
                if *n == "QUOTA" {
                    json!({"status": {"code": 8, "message": "Daily contact writes exceeded"}})
                } else {
                    json!({"person": {"resourceName": format!("people/{n}"), "etag": "new"}, "status": {}})
                }
            })
            .collect();
        ok(json!({ "createdPeople": created }))
    });
    let h = connected(&stub);
    let mut contacts: Vec<Person> = (0..450).map(|i| named(&format!("c{i}"))).collect();
    contacts[300] = named("BAD");
    contacts[10] = named("QUOTA");
    let outcome = h
        .google
        .people(EMAIL)
        .unwrap()
        .batch_create(&contacts, "names,metadata");
    assert!(outcome.aborted.is_none(), "{:?}", outcome.aborted);
    assert_eq!(outcome.items.len(), 450);
    for (i, item) in outcome.items.iter().enumerate() {
        assert_eq!(item.index, i);
        match i {
            300 => {
                let error = item.outcome.as_ref().unwrap_err();
                assert_eq!(
                    (error.http_status, error.status.as_deref()),
                    (400, Some("INVALID_ARGUMENT"))
                );
                assert!(error.message.contains("only one name"));
            }
            10 => assert_eq!(item.outcome.as_ref().unwrap_err().http_status, 429),
            _ => {
                let person = item.outcome.as_ref().unwrap().as_ref().unwrap();
                assert_eq!(person.resource_name, format!("people/c{i}"));
            }
        }
    }
    let calls = stub.seen_at("/v1/people:batchCreateContacts");
    // 3 chunks (200, 200, 50); the second is split 7 times (200→100→50→25→12→6→3→1), 2 calls each.
    assert_eq!(calls.len(), 3 + 2 * 7, "{}", calls.len());
}

#[test]
fn batch_update_and_delete_chunk_by_googles_limits() {
    let stub = Stub::start(|req| match req.path() {
        "/v1/people:batchUpdateContacts" => {
            let body = req.json();
            let contacts = body["contacts"].as_object().unwrap();
            assert!(contacts.len() <= 200);
            assert_eq!(body["updateMask"], "names");
            let result: serde_json::Map<String, serde_json::Value> = contacts
                .keys()
                .map(|rn| (rn.clone(), json!({"person": {"resourceName": rn, "etag": "e2"}})))
                .collect();
            ok(json!({ "updateResult": result }))
        }
        "/v1/people:batchDeleteContacts" => {
            assert!(req.json()["resourceNames"].as_array().unwrap().len() <= 500);
            ok(json!({}))
        }
        other => panic!("unexpected {other}"),
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    let mut people: Vec<Person> = (0..402)
        .map(|i| Person {
            resource_name: format!("people/c{i}"),
            etag: "e".into(),
            ..Person::default()
        })
        .collect();
    people[5].resource_name = "people/../../evil".into();
    let items = client
        .batch_update(&people, "names", "metadata")
        .into_result()
        .unwrap();
    assert_eq!(items.len(), 402);
    assert!(items[5].outcome.is_err(), "invalid resource name refused locally");
    assert_eq!(items[401].outcome.as_ref().unwrap().as_ref().unwrap().etag, "e2");
    assert_eq!(stub.seen_at("/v1/people:batchUpdateContacts").len(), 3);

    let names: Vec<String> = (0..1200).map(|i| format!("people/c{i}")).collect();
    let items = client.batch_delete(&names).into_result().unwrap();
    assert_eq!(items.len(), 1200);
    assert!(items.iter().all(|i| i.outcome == Ok(None)));
    assert_eq!(stub.seen_at("/v1/people:batchDeleteContacts").len(), 3);
}

#[test]
fn batch_aborts_on_errors_not_about_contacts_and_keeps_earlier_results() {
    let n = AtomicUsize::new(0);
    let stub = Stub::start(move |_| {
        if n.fetch_add(1, Ordering::SeqCst) == 0 {
            ok(json!({}))
        } else {
            google_error(503, "UNAVAILABLE", "down", None)
        }
    });
    let h = connected(&stub);
    let names: Vec<String> = (0..700).map(|i| format!("people/c{i}")).collect();
    let outcome = h.google.people(EMAIL).unwrap().batch_delete(&names);
    assert_eq!(outcome.items.len(), 500, "first chunk settled");
    assert!(matches!(outcome.aborted, Some(GoogleError::Unavailable { .. })));
}

#[test]
fn batch_get_maps_answers_to_inputs() {
    let stub = Stub::start(|req| {
        let names: Vec<String> = req
            .query()
            .into_iter()
            .filter(|(k, _)| k == "resourceNames")
            .map(|(_, v)| v)
            .collect();
        assert!(names.len() <= 200);
        let responses: Vec<_> = names
            .iter()
            .rev()
            .map(|n| {
                if n == "people/c7" {
                    json!({"requestedResourceName": n, "status": {"code": 5, "message": "Not found"}})
                } else {
                    json!({"requestedResourceName": n, "person": {"resourceName": n}, "status": {}})
                }
            })
            .collect();
        ok(json!({ "responses": responses }))
    });
    let h = connected(&stub);
    let names: Vec<String> = (0..250).map(|i| format!("people/c{i}")).collect();
    let items = h
        .google
        .people(EMAIL)
        .unwrap()
        .batch_get(&names, "names")
        .unwrap();
    assert_eq!(items.len(), 250);
    assert_eq!(
        items[3].outcome.as_ref().unwrap().as_ref().unwrap().resource_name,
        "people/c3"
    );
    assert!(items[7].outcome.as_ref().unwrap_err().is_not_found());
    assert_eq!(stub.seen().len(), 2);
}

#[test]
fn contact_groups_list_find_create_rename_get_and_modify_members() {
    let stub = Stub::start(|req| match (req.method.as_str(), req.path()) {
        ("GET", "/v1/contactGroups") => match req.param("pageToken") {
            None => ok(json!({"contactGroups": [
                {"resourceName": "contactGroups/myContacts", "groupType": "SYSTEM_CONTACT_GROUP", "name": "myContacts", "formattedName": "My Contacts"},
                {"resourceName": "contactGroups/old", "groupType": "USER_CONTACT_GROUP", "name": "Clients", "metadata": {"deleted": true}}],
                "nextPageToken": "G2"})),
            Some(_) => ok(json!({"contactGroups": [
                {"resourceName": "contactGroups/abc", "groupType": "USER_CONTACT_GROUP", "name": "Clients", "etag": "g1"}]})),
        },
        ("POST", "/v1/contactGroups") => {
            assert_eq!(req.json()["contactGroup"]["name"], "VIP");
            ok(json!({"resourceName": "contactGroups/new", "name": "VIP", "etag": "n1"}))
        }
        ("GET", "/v1/contactGroups/abc") => ok(
            json!({"resourceName": "contactGroups/abc", "name": "Clients", "etag": "g1",
            "memberResourceNames": ["people/c1", "people/c2"], "memberCount": 2}),
        ),
        ("PUT", "/v1/contactGroups/abc") => {
            let body = req.json();
            assert_eq!(body["contactGroup"]["etag"], "g1");
            assert_eq!(body["updateGroupFields"], "name");
            ok(
                json!({"resourceName": "contactGroups/abc", "name": body["contactGroup"]["name"], "etag": "g2"}),
            )
        }
        ("POST", "/v1/contactGroups/abc/members:modify") => {
            let body = req.json();
            let adds = body["resourceNamesToAdd"].as_array().map(Vec::len).unwrap_or(0);
            let removes = body["resourceNamesToRemove"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            assert!(adds + removes <= 1000);
            if removes > 0 {
                ok(json!({"canNotRemoveLastContactGroupResourceNames": ["people/c1"]}))
            } else {
                ok(json!({"notFoundResourceNames": ["people/zz"]}))
            }
        }
        other => panic!("unexpected {other:?}"),
    });
    let h = connected(&stub);
    let client = h.google.people(EMAIL).unwrap();
    assert_eq!(client.list_contact_groups().unwrap().len(), 3);
    let found = client.find_contact_group("Clients").unwrap().unwrap();
    assert_eq!(found.resource_name, "contactGroups/abc", "deleted group skipped");
    assert_eq!(
        client
            .find_contact_group("clients")
            .unwrap()
            .unwrap()
            .resource_name,
        "contactGroups/abc"
    );
    // System groups are never found by name: a filter called "My Contacts" or "Starred" gets
    // a user group of its own.
    assert!(client.find_contact_group("My Contacts").unwrap().is_none());
    assert!(client.find_contact_group("Nope").unwrap().is_none());
    assert_eq!(
        client.create_contact_group("VIP").unwrap().resource_name,
        "contactGroups/new"
    );
    let group = client.get_contact_group("contactGroups/abc", 25_000).unwrap();
    assert_eq!(group.member_resource_names.len(), 2);
    assert_eq!(
        stub.seen_at("/v1/contactGroups/abc")
            .last()
            .unwrap()
            .param("maxMembers")
            .as_deref(),
        Some("25000")
    );
    assert_eq!(
        client
            .rename_contact_group("contactGroups/abc", "Customers")
            .unwrap()
            .name,
        "Customers"
    );

    let add: Vec<String> = (0..2500).map(|i| format!("people/c{i}")).collect();
    let remove = vec!["people/c1".to_string()];
    let modified = client
        .modify_group_members("contactGroups/abc", &add, &remove)
        .unwrap();
    assert_eq!(stub.seen_at("/v1/contactGroups/abc/members:modify").len(), 4);
    assert_eq!(modified.not_found.len(), 3);
    assert_eq!(modified.cannot_remove_last_group, vec!["people/c1".to_string()]);
}

#[test]
fn mutations_of_one_account_are_never_concurrent_and_share_quota() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (inf, max) = (in_flight.clone(), max_seen.clone());
    let stub = Stub::start(move |_| {
        let now = inf.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        inf.fetch_sub(1, Ordering::SeqCst);
        ok(json!({}))
    });
    let h = connected(&stub);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            // A fresh client per thread: the lock lives with the account, not the client.
            let client = h.google.people(EMAIL).unwrap();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    client.delete_contact("people/c1").unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(stub.seen().len(), 12);
    assert_eq!(max_seen.load(Ordering::SeqCst), 1, "mutations overlapped");

    // Quota: 3 reads/minute => burst 1, then one every 20 s, across clients of the account.
    let mut config = config_for(&stub);
    config.read_quota_per_minute = 3;
    let h = harness_with(config);
    store_tokens(&*h.store, NOW + 3_600_000);
    let (a, b) = (
        h.google.people(EMAIL).unwrap(),
        h.google.people("ALICE@example.com").unwrap(),
    );
    a.get_contact_group("contactGroups/x", 0).unwrap();
    b.get_contact_group("contactGroups/x", 0).unwrap();
    a.get_contact_group("contactGroups/x", 0).unwrap();
    let waited: Duration = h.sleeper.sleeps().iter().sum();
    assert!((39..=41).contains(&waited.as_secs()), "waited {waited:?}");
}

#[test]
fn retry_policy_can_be_tightened() {
    let stub = Stub::start(|_| google_error(500, "INTERNAL", "boom", None));
    let h = connected(&stub);
    let google = h.google.with_retry_policy(RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    });
    let error = google
        .people(EMAIL)
        .unwrap()
        .delete_contact("people/c1")
        .unwrap_err();
    assert!(
        matches!(error, GoogleError::Unavailable { attempts: 2, .. }),
        "{error:?}"
    );
}
