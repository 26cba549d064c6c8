//! The default 25,000-contact limit and a full sync at that size.

use std::time::Instant;

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, CONTACTS_SCOPE};
use reqwest::blocking::Client;
use serde_json::{json, Value};

#[test]
fn default_limit_is_25000_contacts_and_a_full_sync_lists_them_all() {
    let cfg = FakeGoogleConfig {
        read_quota_per_minute: 10_000,
        ..FakeGoogleConfig::default()
    };
    assert_eq!(cfg.max_contacts_per_account, 25_000);
    let g = FakeGoogle::start("127.0.0.1:0", cfg).expect("start");
    let t0 = Instant::now();
    for i in 0..25_000 {
        g.create_contact(
            "alice@example.com",
            &json!({"names": [{"givenName": format!("P{i}")}]}),
        )
        .expect("create");
    }
    eprintln!("seeded in {:?}", t0.elapsed());
    let token = g
        .issue_tokens("alice@example.com", &[CONTACTS_SCOPE])
        .expect("t")
        .access_token;
    let http = Client::new();
    let over = http
        .post(format!("{}/v1/people:createContact", g.base_url()))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .expect("send");
    assert_eq!(over.status().as_u16(), 400);
    let v: Value = over.json().expect("json");
    assert_eq!(v["error"]["status"], "FAILED_PRECONDITION");

    let t0 = Instant::now();
    let mut seen = 0;
    let mut page_token = String::new();
    loop {
        let url = format!(
            "{}/v1/people/me/connections?personFields=names&pageSize=1000&requestSyncToken=true&pageToken={page_token}",
            g.base_url()
        );
        let page: Value = http
            .get(url)
            .bearer_auth(&token)
            .send()
            .expect("list")
            .json()
            .expect("json");
        seen += page["connections"].as_array().map_or(0, Vec::len);
        match page["nextPageToken"].as_str() {
            Some(t) => page_token = t.to_string(),
            None => {
                assert!(page["nextSyncToken"].is_string());
                break;
            }
        }
    }
    eprintln!("listed in {:?}", t0.elapsed());
    assert_eq!(seen, 25_000);
}
