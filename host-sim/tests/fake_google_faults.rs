//! Auth errors, quotas, injected faults, latency, stats and the HTTP control API of the fake.

use std::time::{Duration, Instant};

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, Fault, FaultRule, CONTACTS_SCOPE};
use reqwest::blocking::Client;
use serde_json::{json, Value};

const ALICE: &str = "alice@example.com";
const LIST: &str = "/v1/people/me/connections?personFields=names";

fn start(cfg: FakeGoogleConfig) -> (FakeGoogle, String) {
    let g = FakeGoogle::start("127.0.0.1:0", cfg).expect("start");
    let t = g
        .issue_tokens(ALICE, &[CONTACTS_SCOPE])
        .expect("tokens")
        .access_token;
    (g, t)
}

fn get(g: &FakeGoogle, path: &str, token: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut rb = Client::new().get(format!("{}{path}", g.base_url()));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().expect("send");
    let (s, h) = (resp.status().as_u16(), resp.headers().clone());
    (s, resp.json().unwrap_or(Value::Null), h)
}

fn control(g: &FakeGoogle, method: reqwest::Method, path: &str, body: Value) -> Value {
    let resp = Client::new()
        .request(method, format!("{}/control{path}", g.base_url()))
        .json(&body)
        .send()
        .expect("control");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.json().expect("json")
}

#[test]
fn auth_errors_use_google_envelope() {
    let (g, token) = start(FakeGoogleConfig::default());
    let (s, v, h) = get(&g, LIST, None);
    assert_eq!((s, v["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")));
    assert_eq!(v["error"]["code"], 401);
    assert!(h.get("www-authenticate").is_some());
    let (s, _, _) = get(&g, LIST, Some("ya29.unknown"));
    assert_eq!(s, 401);
    let readonly = g
        .issue_tokens(ALICE, &["https://www.googleapis.com/auth/contacts.readonly"])
        .expect("t")
        .access_token;
    assert_eq!(get(&g, LIST, Some(&readonly)).0, 200, "readonly scope may read");
    let resp = Client::new()
        .post(format!("{}/v1/people:createContact", g.base_url()))
        .bearer_auth(&readonly)
        .json(&json!({}))
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 403);
    let v: Value = resp.json().expect("json");
    assert_eq!(v["error"]["status"], "PERMISSION_DENIED");
    assert_eq!(
        v["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );
    g.expire_access_tokens(Some(ALICE));
    assert_eq!(get(&g, LIST, Some(&token)).0, 401);
    // Unknown routes and bad JSON still get the envelope.
    let (s, v, _) = get(&g, "/v1/nothing/here", Some(&token));
    assert_eq!((s, v["error"]["status"].as_str()), (404, Some("NOT_FOUND")));
}

#[test]
fn read_and_write_quotas_per_minute() {
    let (g, token) = start(FakeGoogleConfig {
        read_quota_per_minute: 3,
        write_quota_per_minute: 2,
        // Google documents no Retry-After; this test reads the optional one to find the next minute.
        send_retry_after: true,
        ..FakeGoogleConfig::default()
    });
    // Align to the start of a fake minute so the window cannot roll over mid-test.
    let ms_into_minute = (g.now().timestamp_millis() % 60_000) as u64;
    g.advance_clock(Duration::from_millis(60_000 - ms_into_minute));
    for _ in 0..3 {
        assert_eq!(get(&g, LIST, Some(&token)).0, 200);
    }
    let (s, v, h) = get(&g, LIST, Some(&token));
    assert_eq!(s, 429);
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert!(v["error"]["message"]
        .as_str()
        .expect("m")
        .starts_with("Quota exceeded for quota metric"));
    let info = &v["error"]["details"][0];
    assert_eq!(info["reason"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(info["domain"], "googleapis.com");
    assert!(info["metadata"]["quota_limit"].is_string() && info["metadata"]["quota_metric"].is_string());
    let retry: u64 = h["retry-after"].to_str().expect("hdr").parse().expect("secs");
    assert!((1..=60).contains(&retry), "{retry}");

    // Writes have their own bucket; a batch counts once.
    let post = |path: &str, body: Value| {
        Client::new()
            .post(format!("{}{path}", g.base_url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .expect("send")
            .status()
            .as_u16()
    };
    let batch = json!({"contacts": (0..50).map(|_| json!({"contactPerson": {}})).collect::<Vec<_>>(), "readMask": "names"});
    assert_eq!(post("/v1/people:batchCreateContacts", batch), 200);
    assert_eq!(post("/v1/people:createContact", json!({})), 200);
    assert_eq!(post("/v1/people:createContact", json!({})), 429);

    g.advance_clock(Duration::from_secs(retry));
    assert_eq!(get(&g, LIST, Some(&token)).0, 200, "next minute, fresh quota");
    assert_eq!(post("/v1/people:createContact", json!({})), 200);
    // Quotas are per user.
    let bob = g
        .issue_tokens("bob@example.com", &[CONTACTS_SCOPE])
        .expect("t")
        .access_token;
    assert_eq!(get(&g, LIST, Some(&bob)).0, 200);
}

#[test]
fn scripted_faults_filtered_by_method() {
    let (g, token) = start(FakeGoogleConfig::default());
    g.add_fault(FaultRule::script(
        Some("people.people.connections.list"),
        vec![
            Fault::Internal,
            Fault::Unavailable,
            Fault::RateLimit {
                retry_after_secs: Some(7),
            },
            Fault::Ok,
        ],
    ))
    .expect("fault");
    // Other methods are unaffected.
    assert_eq!(get(&g, "/v1/contactGroups", Some(&token)).0, 200);
    let (s, v, _) = get(&g, LIST, Some(&token));
    assert_eq!((s, v["error"]["status"].as_str()), (500, Some("INTERNAL")));
    let (s, v, _) = get(&g, LIST, Some(&token));
    assert_eq!((s, v["error"]["status"].as_str()), (503, Some("UNAVAILABLE")));
    let (s, v, h) = get(&g, LIST, Some(&token));
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (429, Some("RESOURCE_EXHAUSTED"))
    );
    assert_eq!(h["retry-after"], "7");
    assert_eq!(get(&g, LIST, Some(&token)).0, 200, "Ok step");
    assert_eq!(get(&g, LIST, Some(&token)).0, 200, "script used up");
    assert!(g.faults().is_empty());
    let stats = g.stats();
    assert_eq!(stats.count("people.people.connections.list"), 5);
    assert_eq!(stats.count("people.contactGroups.list"), 1);
    assert_eq!(stats.reads, 6);
    assert_eq!(stats.writes, 0);
    g.reset_stats();
    assert_eq!(g.stats().total, 0);

    // A rate rule with rate 1.0 always fires; rate 0.0 never.
    g.add_fault(FaultRule::with_rate(
        Some("people.contactGroups.list"),
        0.0,
        Fault::Internal,
    ))
    .expect("fault");
    assert_eq!(get(&g, "/v1/contactGroups", Some(&token)).0, 200);
    g.clear_faults();
    g.add_fault(FaultRule::with_rate(None, 1.0, Fault::Unavailable))
        .expect("fault");
    assert_eq!(get(&g, "/v1/contactGroups", Some(&token)).0, 503);
    assert_eq!(
        get(&g, "/oauth2/v2/userinfo", Some(&token)).0,
        200,
        "unfiltered rules hit People methods only"
    );
    g.clear_faults();
    assert!(g
        .add_fault(FaultRule::with_rate(None, 2.0, Fault::Internal))
        .is_err());
}

#[test]
fn hang_times_out_client_without_blocking_others() {
    let (g, token) = start(FakeGoogleConfig::default());
    g.add_fault(FaultRule::script(
        Some("people.people.connections.list"),
        vec![Fault::Hang { ms: 1_500 }],
    ))
    .expect("fault");
    let base = g.base_url();
    let hung = {
        let token = token.clone();
        std::thread::spawn(move || {
            let c = Client::builder()
                .timeout(Duration::from_millis(400))
                .build()
                .expect("client");
            c.get(format!("{base}{LIST}")).bearer_auth(token).send()
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    assert_eq!(get(&g, "/v1/contactGroups", Some(&token)).0, 200);
    assert!(
        t0.elapsed() < Duration::from_millis(300),
        "served while another request hangs"
    );
    let err = hung.join().expect("join").expect_err("must time out");
    assert!(err.is_timeout(), "{err}");
}

#[test]
fn hang_then_close_gives_no_response() {
    let (g, token) = start(FakeGoogleConfig::default());
    g.add_fault(FaultRule::script(None, vec![Fault::Hang { ms: 200 }]))
        .expect("fault");
    let err = Client::new()
        .get(format!("{}{LIST}", g.base_url()))
        .bearer_auth(&token)
        .send()
        .expect_err("closed");
    assert!(!err.is_status(), "{err}");
}

#[test]
fn dropped_connection_after_the_write_happened() {
    let (g, token) = start(FakeGoogleConfig::default());
    g.add_fault(FaultRule::script(
        Some("people.people.createContact"),
        vec![Fault::Drop],
    ))
    .expect("fault");
    let result = Client::new()
        .post(format!(
            "{}/v1/people:createContact?personFields=names",
            g.base_url()
        ))
        .bearer_auth(&token)
        .json(&json!({"names": [{"givenName": "Dropped"}]}))
        .send()
        .and_then(|r| r.text());
    assert!(
        result.is_err(),
        "the client must see a broken response: {result:?}"
    );
    let contacts = g.contacts(ALICE).expect("contacts");
    assert_eq!(contacts.len(), 1, "the write itself went through");
    assert_eq!(contacts[0]["names"][0]["givenName"], "Dropped");
    assert_eq!(
        g.control().stats().lost_answers,
        vec![contacts[0]["resourceName"].as_str().unwrap().to_string()],
        "the control API names the contact whose answer was lost"
    );
}

#[test]
fn latency_is_added_to_people_calls() {
    let (g, token) = start(FakeGoogleConfig {
        latency_ms: 150,
        ..FakeGoogleConfig::default()
    });
    let t0 = Instant::now();
    assert_eq!(get(&g, LIST, Some(&token)).0, 200);
    assert!(t0.elapsed() >= Duration::from_millis(150));
    g.update_config(|c| c.latency_ms = 0);
    let t0 = Instant::now();
    get(&g, LIST, Some(&token));
    assert!(t0.elapsed() < Duration::from_millis(150));
}

#[test]
fn http_control_api() {
    let (g, _) = start(FakeGoogleConfig::default());
    use reqwest::Method;
    assert_eq!(
        control(&g, Method::GET, "/health", json!(null)),
        json!({"ok": true})
    );
    let cfg = control(
        &g,
        Method::PATCH,
        "/config",
        json!({"read_quota_per_minute": 5, "propagation_delay_ms": 0}),
    );
    assert_eq!(cfg["read_quota_per_minute"], 5);
    assert_eq!(g.config().read_quota_per_minute, 5);
    let resp = Client::new()
        .patch(format!("{}/control/config", g.base_url()))
        .json(&json!({"nope": 1}))
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);

    let before = g.now();
    control(&g, Method::POST, "/clock/advance", json!({"secs": 3600}));
    assert!((g.now() - before).num_seconds() >= 3600);

    // Contacts as a user in Google's web UI.
    let p = control(
        &g,
        Method::POST,
        "/accounts/alice@example.com/contacts",
        json!({"names": [{"givenName": "Ui"}]}),
    );
    let rn = p["resourceName"].as_str().expect("rn").to_string();
    let id = rn.trim_start_matches("people/");
    let edited = control(
        &g,
        Method::PATCH,
        &format!("/accounts/alice@example.com/contacts/{id}"),
        json!({"names": [{"givenName": "Ui2"}]}),
    );
    assert_eq!(edited["names"][0]["givenName"], "Ui2");
    assert_ne!(edited["etag"], p["etag"]);
    let grp = control(
        &g,
        Method::POST,
        "/accounts/alice@example.com/groups",
        json!({"name": "UI group"}),
    );
    let gid = grp["resourceName"]
        .as_str()
        .expect("rn")
        .trim_start_matches("contactGroups/")
        .to_string();
    let r = control(
        &g,
        Method::POST,
        &format!("/accounts/alice@example.com/groups/{gid}/members"),
        json!({"add": [rn]}),
    );
    assert_eq!(r, json!({}));
    let groups = control(&g, Method::GET, "/accounts/alice@example.com/groups", json!(null));
    let ui = groups
        .as_array()
        .expect("groups")
        .iter()
        .find(|x| x["name"] == "UI group")
        .expect("group")
        .clone();
    assert_eq!(ui["memberResourceNames"], json!([rn]));
    let list = control(
        &g,
        Method::GET,
        "/accounts/alice@example.com/contacts",
        json!(null),
    );
    assert_eq!(list.as_array().expect("list").len(), 1);
    control(
        &g,
        Method::DELETE,
        &format!("/accounts/alice@example.com/contacts/{id}"),
        json!(null),
    );
    let tombs = control(
        &g,
        Method::GET,
        "/accounts/alice@example.com/tombstones",
        json!(null),
    );
    assert_eq!(tombs[0]["resourceName"], rn.as_str());
    control(
        &g,
        Method::DELETE,
        &format!("/accounts/alice@example.com/groups/{gid}"),
        json!(null),
    );

    // Faults and stats over HTTP.
    control(
        &g,
        Method::POST,
        "/faults",
        json!({"method": "people.contactGroups.list", "script": [{"type": "unavailable"}]}),
    );
    let t = control(&g, Method::POST, "/tokens/issue", json!({"account": ALICE}));
    let access = t["access_token"].as_str().expect("access").to_string();
    assert_eq!(get(&g, "/v1/contactGroups", Some(&access)).0, 503);
    let stats = control(&g, Method::GET, "/stats", json!(null));
    assert_eq!(stats["methods"]["people.contactGroups.list"], 1);
    control(&g, Method::POST, "/stats/reset", json!({}));
    assert_eq!(control(&g, Method::GET, "/stats", json!(null))["total"], 0);
    control(&g, Method::DELETE, "/faults", json!(null));

    // Tokens.
    let revoked = control(&g, Method::POST, "/tokens/revoke", json!({"account": ALICE}));
    assert!(revoked["revoked"].as_u64().expect("n") >= 1);
    assert_eq!(get(&g, "/v1/contactGroups", Some(&access)).0, 401);
    let t = control(&g, Method::POST, "/tokens/issue", json!({"account": ALICE}));
    let access = t["access_token"].as_str().expect("access").to_string();
    control(&g, Method::POST, "/tokens/expire", json!({"account": ALICE}));
    assert_eq!(get(&g, "/v1/contactGroups", Some(&access)).0, 401);
    control(&g, Method::POST, "/sync-tokens/expire", json!({}));
    let resp = Client::new()
        .get(format!("{}/control/bogus", g.base_url()))
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 404);
}

#[test]
fn malformed_requests_get_400_and_the_server_survives() {
    use std::io::{Read, Write};
    let (g, token) = start(FakeGoogleConfig::default());
    let addr = g.base_url().trim_start_matches("http://").to_string();
    for raw in [
        "GARBAGE\r\n\r\n".to_string(),
        "POST /v1/people:createContact HTTP/1.1\r\nContent-Length: nope\r\n\r\n".to_string(),
        "GET /v1/people/%ZZ%?personFields=names HTTP/1.1\r\nNo-Colon-Header\r\n\r\n".to_string(),
        format!("POST /v1/people:createContact HTTP/1.1\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"),
    ] {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        s.write_all(raw.as_bytes()).expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        assert!(out.starts_with("HTTP/1.1 400"), "{raw:?} -> {out:?}");
        assert!(out.contains("INVALID_ARGUMENT"));
    }
    let bodies = [
        json!([1, 2]),
        json!("x"),
        json!({"names": [[]]}),
        json!({"names": [{"givenName": 5}]}),
        json!({"birthdays": [{"date": {"year": "abc"}}]}),
    ];
    for body in bodies {
        let resp = Client::new()
            .post(format!("{}/v1/people:createContact", g.base_url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{body}");
    }
    for path in [
        "/v1/people:batchUpdateContacts",
        "/v1/people:batchCreateContacts",
        "/v1/people:batchDeleteContacts",
        "/v1/contactGroups",
        "/v1/contactGroups/abc/members:modify",
    ] {
        for body in [
            json!(null),
            json!([]),
            json!({"contacts": 5}),
            json!({"resourceNames": "x", "contactGroup": 1, "resourceNamesToAdd": {}}),
        ] {
            let resp = Client::new()
                .post(format!("{}{path}", g.base_url()))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .expect("send");
            let status = resp.status().as_u16();
            assert!((400..500).contains(&status), "{path} {body} -> {status}");
        }
    }
    assert_eq!(get(&g, LIST, Some(&token)).0, 200, "still serving");
}
