//! The fake Google is as harsh as Google's documentation: listings cut e-mails and phones at
//! 100, writes reach listings late and out of order, 429s carry no `Retry-After`, overlapping
//! mutate requests of one user fail, sync tokens age from their chain's full listing, contacts
//! get new resource names, and an oversized contact is refused.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, CONTACTS_SCOPE};
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

struct Fake {
    g: FakeGoogle,
    token: String,
}

impl Fake {
    fn with(cfg: FakeGoogleConfig) -> Fake {
        let g = FakeGoogle::start("127.0.0.1:0", cfg).expect("start fake google");
        let token = g
            .issue_tokens(ALICE, &[CONTACTS_SCOPE])
            .expect("tokens")
            .access_token;
        Fake { g, token }
    }

    fn refresh_token(&mut self) {
        self.token = self
            .g
            .issue_tokens(ALICE, &[CONTACTS_SCOPE])
            .expect("tokens")
            .access_token;
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        call(&self.g.base_url(), &self.token, method, path, body)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let (s, v, _) = self.call(Method::GET, path, None);
        (s, v)
    }

    /// Walks every page of a listing; returns the persons and the sync token.
    fn walk(&self, query: &str) -> (Vec<Value>, Option<String>) {
        let mut all = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let q = match &page_token {
                Some(t) => format!("{query}&pageToken={t}"),
                None => query.to_string(),
            };
            let (s, page) = self.get(&format!("/v1/people/me/connections?{q}"));
            assert_eq!(s, 200, "{page}");
            all.extend(page["connections"].as_array().cloned().unwrap_or_default());
            match page["nextPageToken"].as_str() {
                Some(t) => page_token = Some(t.to_string()),
                None => return (all, page["nextSyncToken"].as_str().map(str::to_string)),
            }
        }
    }

    fn create(&self, person: Value) -> String {
        let p = self.g.create_contact(ALICE, &person).expect("create");
        p["resourceName"].as_str().expect("rn").to_string()
    }
}

fn call(
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut rb = Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().expect("send");
    let (s, h) = (resp.status().as_u16(), resp.headers().clone());
    (s, resp.json().unwrap_or(Value::Null), h)
}

fn names(persons: &[Value]) -> Vec<String> {
    persons
        .iter()
        .map(|p| p["resourceName"].as_str().unwrap_or("").to_string())
        .collect()
}

fn many(field: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| match field {
            "emailAddresses" => json!({"value": format!("a{i}@example.com")}),
            _ => json!({"value": format!("+1555{i:07}")}),
        })
        .collect()
}

#[test]
fn listings_show_at_most_100_emails_and_phones_while_get_and_batch_get_show_all() {
    let f = Fake::with(FakeGoogleConfig::default());
    let rn = f.create(json!({
        "emailAddresses": many("emailAddresses", 150),
        "phoneNumbers": many("phoneNumbers", 120),
    }));
    let fields = "personFields=emailAddresses,phoneNumbers,metadata";
    let (listed, token) = f.walk(&format!("{fields}&requestSyncToken=true"));
    assert_eq!(listed[0]["emailAddresses"].as_array().map(Vec::len), Some(100));
    assert_eq!(listed[0]["phoneNumbers"].as_array().map(Vec::len), Some(100));
    assert_eq!(
        listed[0]["emailAddresses"][99]["value"], "a99@example.com",
        "the first 100 are shown"
    );
    // A sync-token listing cuts them too.
    f.g.edit_contact(ALICE, &rn, &json!({"names": [{"givenName": "Many"}]}))
        .expect("edit");
    let (delta, _) = f.walk(&format!("{fields}&syncToken={}", token.expect("token")));
    assert_eq!(delta[0]["emailAddresses"].as_array().map(Vec::len), Some(100));
    // "the entire set can be obtained by calling GetPeople"
    let (s, got) = f.get(&format!("/v1/{rn}?{fields}"));
    assert_eq!(s, 200);
    assert_eq!(got["emailAddresses"].as_array().map(Vec::len), Some(150));
    assert_eq!(got["phoneNumbers"].as_array().map(Vec::len), Some(120));
    let (s, batch) = f.get(&format!("/v1/people:batchGet?resourceNames={rn}&{fields}"));
    assert_eq!(s, 200);
    let person = &batch["responses"][0]["person"];
    assert_eq!(person["emailAddresses"].as_array().map(Vec::len), Some(150));
    assert_eq!(person["phoneNumbers"].as_array().map(Vec::len), Some(120));
}

#[test]
fn writes_reach_listings_late_and_out_of_order_while_reads_by_name_see_them_at_once() {
    let f = Fake::with(FakeGoogleConfig {
        propagation_delay_ms: 0,
        propagation_delay_max_ms: 10_000,
        ..FakeGoogleConfig::default()
    });
    let (_, token) = f.walk("personFields=names&requestSyncToken=true");
    let token = token.expect("token");
    let written: Vec<String> = (0..40)
        .map(|i| f.create(json!({"names": [{"givenName": format!("W{i:02}")}]})))
        .collect();
    for rn in &written {
        assert_eq!(
            f.get(&format!("/v1/{rn}?personFields=names")).0,
            200,
            "get sees {rn} at once"
        );
    }
    // Step through the delay range: some later write shows before some earlier one.
    let mut out_of_order = false;
    for _ in 0..10 {
        f.g.advance_clock(Duration::from_millis(1_000));
        let (delta, _) = f.walk(&format!("personFields=names&syncToken={token}"));
        let shown = names(&delta);
        let positions: Vec<bool> = written.iter().map(|rn| shown.contains(rn)).collect();
        // A write missing while a later one is shown.
        out_of_order |= positions.windows(2).any(|w| !w[0] && w[1]);
    }
    assert!(
        out_of_order,
        "40 writes with delays drawn from 0..10 s all arrived in order"
    );
    f.g.advance_clock(Duration::from_millis(1_000));
    let (delta, _) = f.walk(&format!("personFields=names&syncToken={token}"));
    assert_eq!(
        delta.len(),
        40,
        "every write is listed once the largest delay passed"
    );
}

#[test]
fn a_delay_longer_than_a_tick_keeps_a_write_out_of_the_next_listings() {
    let f = Fake::with(FakeGoogleConfig {
        propagation_delay_ms: 6 * 60_000,
        propagation_delay_max_ms: 6 * 60_000,
        ..FakeGoogleConfig::default()
    });
    let rn = f.create(json!({"names": [{"givenName": "Slow"}]}));
    f.g.advance_clock(Duration::from_secs(5 * 60));
    assert!(
        f.walk("personFields=names").0.is_empty(),
        "not listed after one 5-minute tick"
    );
    f.g.advance_clock(Duration::from_secs(60));
    assert_eq!(names(&f.walk("personFields=names").0), [rn]);
}

#[test]
fn a_429_carries_no_retry_after_unless_configured() {
    let f = Fake::with(FakeGoogleConfig {
        read_quota_per_minute: 1,
        ..FakeGoogleConfig::default()
    });
    // Align to a fresh fake minute so the window cannot roll over mid-test.
    let into = (f.g.now().timestamp_millis() % 60_000) as u64;
    f.g.advance_clock(Duration::from_millis(60_000 - into));
    assert_eq!(f.get("/v1/people/me/connections?personFields=names").0, 200);
    let (s, v, h) = f.call(Method::GET, "/v1/people/me/connections?personFields=names", None);
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (429, Some("RESOURCE_EXHAUSTED"))
    );
    assert!(h.get("retry-after").is_none(), "Google documents no Retry-After");
    f.g.update_config(|c| c.send_retry_after = true);
    let (s, _, h) = f.call(Method::GET, "/v1/people/me/connections?personFields=names", None);
    assert_eq!(s, 429);
    assert!(h.get("retry-after").is_some(), "configured to send it");
    let defaults = FakeGoogleConfig::default();
    assert_eq!(
        (
            defaults.read_quota_per_minute,
            defaults.write_quota_per_minute,
            defaults.send_retry_after
        ),
        (90, 60, false)
    );
}

#[test]
fn overlapping_mutate_requests_of_one_user_fail_with_409_aborted_and_are_counted() {
    let f = Fake::with(FakeGoogleConfig {
        latency_ms: 400,
        ..FakeGoogleConfig::default()
    });
    let bob =
        f.g.issue_tokens(BOB, &[CONTACTS_SCOPE])
            .expect("bob")
            .access_token;
    let base = f.g.base_url();
    let create = |token: String, barrier: Arc<Barrier>| {
        let base = base.clone();
        thread::spawn(move || {
            barrier.wait();
            call(
                &base,
                &token,
                Method::POST,
                "/v1/people:createContact",
                Some(json!({})),
            )
            .0
        })
    };
    // Two of Alice's at once: one passes, the other is refused.
    let barrier = Arc::new(Barrier::new(2));
    let a = create(f.token.clone(), barrier.clone());
    thread::sleep(Duration::from_millis(50));
    let b = create(f.token.clone(), barrier);
    let mut codes = vec![a.join().expect("a"), b.join().expect("b")];
    codes.sort();
    assert_eq!(codes, [200, 409]);
    assert_eq!(f.g.stats().overlapping_mutates, 1);
    let (s, v, _) = {
        let barrier = Arc::new(Barrier::new(1));
        let slow = create(f.token.clone(), barrier);
        thread::sleep(Duration::from_millis(150));
        let answer = f.call(Method::POST, "/v1/people:createContact", Some(json!({})));
        slow.join().expect("slow");
        answer
    };
    assert_eq!((s, v["error"]["status"].as_str()), (409, Some("ABORTED")));
    assert_eq!(f.g.stats().overlapping_mutates, 2);
    // Reads may overlap a mutate, other users' mutates too, and sequential mutates never fail.
    let barrier = Arc::new(Barrier::new(1));
    let slow = create(f.token.clone(), barrier.clone());
    thread::sleep(Duration::from_millis(150));
    assert_eq!(f.get("/v1/people/me/connections?personFields=names").0, 200);
    assert_eq!(create(bob, barrier.clone()).join().expect("bob"), 200);
    assert_eq!(slow.join().expect("slow"), 200);
    for _ in 0..3 {
        assert_eq!(
            f.call(Method::POST, "/v1/people:createContact", Some(json!({})))
                .0,
            200
        );
    }
    assert_eq!(f.g.stats().overlapping_mutates, 2);
}

#[test]
fn a_sync_tokens_age_counts_from_the_full_listing_that_began_its_chain() {
    let mut f = Fake::with(FakeGoogleConfig::default());
    let day = Duration::from_secs(24 * 3600);
    let (_, first) = f.walk("personFields=names&requestSyncToken=true");
    f.g.advance_clock(day * 4);
    f.refresh_token();
    let (_, second) = f.walk(&format!("personFields=names&syncToken={}", first.expect("first")));
    let second = second.expect("second");
    f.g.advance_clock(day * 4);
    f.refresh_token();
    // Issued 4 days ago, but its chain began 8 days ago: "Sync tokens expire 7 days after the
    // full sync".
    let (s, v) = f.get(&format!(
        "/v1/people/me/connections?personFields=names&syncToken={second}"
    ));
    assert_eq!(
        (s, v["error"]["details"][0]["reason"].as_str()),
        (400, Some("EXPIRED_SYNC_TOKEN"))
    );
    // A new full listing begins a new chain.
    let (_, fresh) = f.walk("personFields=names&requestSyncToken=true");
    f.g.advance_clock(day * 6);
    f.refresh_token();
    let (s, _) = f.get(&format!(
        "/v1/people/me/connections?personFields=names&syncToken={}",
        fresh.expect("fresh")
    ));
    assert_eq!(s, 200);
}

#[test]
fn a_renamed_contact_lives_on_under_its_new_name_and_its_old_name_no_longer_resolves() {
    let f = Fake::with(FakeGoogleConfig::default());
    let fields = "personFields=names,clientData,metadata";
    let old = f.create(json!({
        "names": [{"givenName": "Renamed"}],
        "clientData": [{"key": "crm", "value": "7"}],
    }));
    let (_, token) = f.walk(&format!("{fields}&requestSyncToken=true"));
    let new = f.g.rename_contact(ALICE, &old).expect("rename");
    assert_ne!(new, old);
    // The old name answers 404 everywhere; batchGet reports it per name.
    assert_eq!(f.get(&format!("/v1/{old}?{fields}")).0, 404);
    let (s, batch) = f.get(&format!(
        "/v1/people:batchGet?resourceNames={old}&resourceNames={new}&{fields}"
    ));
    assert_eq!(s, 200);
    assert_eq!(
        batch["responses"][0]["status"]["code"], 5,
        "NOT_FOUND for the old name: {batch}"
    );
    assert_eq!(
        batch["responses"][1]["person"]["names"][0]["givenName"],
        "Renamed"
    );
    let update = json!({"etag": "x", "names": [{"givenName": "No"}]});
    let (s, _, _) = f.call(
        Method::PATCH,
        &format!("/v1/{old}:updateContact?updatePersonFields=names"),
        Some(update),
    );
    assert_eq!(s, 404);
    assert_eq!(
        f.call(Method::DELETE, &format!("/v1/{old}:deleteContact"), None)
            .0,
        404
    );
    // The contact lives on under its new name, data kept.
    let (s, got) = f.get(&format!("/v1/{new}?{fields}"));
    assert_eq!(s, 200);
    assert_eq!(got["clientData"][0]["value"], "7");
    assert!(
        got["metadata"].get("previousResourceNames").is_none(),
        "only sync-token listings show them"
    );
    // A sync-token listing shows the new name with its former one; no tombstone for the old.
    let (delta, _) = f.walk(&format!("{fields}&syncToken={}", token.expect("token")));
    assert_eq!(names(&delta), vec![new.clone()]);
    assert_eq!(
        delta[0]["metadata"]["previousResourceNames"],
        json!([old.clone()])
    );
    // A full listing shows the new name only, without former names.
    let (full, _) = f.walk(fields);
    assert_eq!(names(&full), vec![new.clone()]);
    assert!(full[0]["metadata"].get("previousResourceNames").is_none());
    // The HTTP control API renames too, and former names accumulate.
    let id = new.trim_start_matches("people/");
    let resp: Value = Client::new()
        .post(format!(
            "{}/control/accounts/{ALICE}/contacts/{id}/rename",
            f.g.base_url()
        ))
        .send()
        .expect("rename")
        .json()
        .expect("json");
    let third = resp["resourceName"].as_str().expect("rn").to_string();
    let (_, token) = f.walk(&format!("{fields}&requestSyncToken=true"));
    f.g.edit_contact(ALICE, &third, &json!({"names": [{"givenName": "Again"}]}))
        .expect("edit");
    let (delta, _) = f.walk(&format!("{fields}&syncToken={}", token.expect("token")));
    assert_eq!(delta[0]["metadata"]["previousResourceNames"], json!([old, new]));
    assert!(
        f.g.rename_contact(ALICE, "people/c123").is_err(),
        "unknown names cannot be renamed"
    );
}

#[test]
fn a_rename_reaches_listings_with_the_propagation_delay() {
    let f = Fake::with(FakeGoogleConfig {
        propagation_delay_ms: 5_000,
        ..FakeGoogleConfig::default()
    });
    let old = f.create(json!({"names": [{"givenName": "Lagging"}]}));
    f.g.advance_clock(Duration::from_millis(5_000));
    let new = f.g.rename_contact(ALICE, &old).expect("rename");
    // Listings still show the old name, which no longer resolves by name.
    assert_eq!(names(&f.walk("personFields=names").0), vec![old.clone()]);
    assert_eq!(f.get(&format!("/v1/{old}?personFields=names")).0, 404);
    f.g.advance_clock(Duration::from_millis(5_000));
    assert_eq!(names(&f.walk("personFields=names").0), [new]);
}

#[test]
fn a_contact_larger_than_128_kb_is_refused() {
    let f = Fake::with(FakeGoogleConfig::default());
    let big = "x".repeat(130 * 1024);
    let person = json!({"names": [{"givenName": "Big"}], "biographies": [{"value": big}]});
    let (s, v, _) = f.call(Method::POST, "/v1/people:createContact", Some(person.clone()));
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "{v}"
    );
    let batch = json!({"contacts": [{"contactPerson": {}}, {"contactPerson": person}], "readMask": "names"});
    let (s, _, _) = f.call(Method::POST, "/v1/people:batchCreateContacts", Some(batch));
    assert_eq!(s, 400, "a batch is refused whole");
    // Just under the limit is fine; growing it past the limit by an update is refused.
    let fits = json!({"biographies": [{"value": "y".repeat(120 * 1024)}]});
    let (s, created, _) = f.call(
        Method::POST,
        "/v1/people:createContact?personFields=names",
        Some(fits),
    );
    assert_eq!(s, 200);
    let rn = created["resourceName"].as_str().expect("rn");
    let grow = json!({"etag": created["etag"], "names": [{"givenName": "z".repeat(20 * 1024)}]});
    let (s, _, _) = f.call(
        Method::PATCH,
        &format!("/v1/{rn}:updateContact?updatePersonFields=names"),
        Some(grow),
    );
    assert_eq!(s, 400);
    assert!(
        f.g.create_contact(ALICE, &person).is_err(),
        "the web UI cannot store it either"
    );
}

#[test]
fn the_harsh_settings_and_counters_are_reachable_over_the_http_control_api() {
    let f = Fake::with(FakeGoogleConfig::default());
    let patched: Value = Client::new()
        .patch(format!("{}/control/config", f.g.base_url()))
        .json(&json!({
            "propagation_delay_ms": 1000,
            "propagation_delay_max_ms": 90000,
            "send_retry_after": true,
            "max_contact_bytes": 4096,
        }))
        .send()
        .expect("patch")
        .json()
        .expect("json");
    assert_eq!(patched["propagation_delay_max_ms"], 90000);
    let cfg = f.g.config();
    assert_eq!(
        (
            cfg.propagation_delay_ms,
            cfg.propagation_delay_max_ms,
            cfg.send_retry_after,
            cfg.max_contact_bytes
        ),
        (1000, 90000, true, 4096)
    );
    let stats: Value = Client::new()
        .get(format!("{}/control/stats", f.g.base_url()))
        .send()
        .expect("stats")
        .json()
        .expect("json");
    assert_eq!(stats["overlapping_mutates"], 0);
}
