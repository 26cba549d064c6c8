//! connections.list sync semantics of the fake Google: pages, sync tokens, tombstones, expiry,
//! propagation delay.

use std::time::Duration;

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, CONTACTS_SCOPE};
use reqwest::blocking::Client;
use serde_json::{json, Value};

const ALICE: &str = "alice@example.com";
const EXPIRED_MSG: &str = "Sync token is expired. Clear local cache and retry call without the sync token.";

struct Fake {
    g: FakeGoogle,
    http: Client,
    token: String,
}

impl Fake {
    fn with(cfg: FakeGoogleConfig) -> Fake {
        let g = FakeGoogle::start("127.0.0.1:0", cfg).expect("start fake google");
        let token = g
            .issue_tokens(ALICE, &[CONTACTS_SCOPE])
            .expect("tokens")
            .access_token;
        Fake {
            g,
            http: Client::new(),
            token,
        }
    }

    fn new() -> Fake {
        Fake::with(FakeGoogleConfig::default())
    }

    fn list(&self, query: &str) -> (u16, Value) {
        let url = format!("{}/v1/people/me/connections?{query}", self.g.base_url());
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .expect("request");
        (resp.status().as_u16(), resp.json().expect("json"))
    }

    fn ok(&self, query: &str) -> Value {
        let (s, v) = self.list(query);
        assert_eq!(s, 200, "{v}");
        v
    }

    /// Walks all pages; returns the connections and the final sync token.
    fn walk(&self, query: &str) -> (Vec<Value>, Option<String>) {
        let mut all = Vec::new();
        let mut page = self.ok(query);
        loop {
            all.extend(page["connections"].as_array().cloned().unwrap_or_default());
            match page["nextPageToken"].as_str() {
                Some(t) => {
                    assert!(
                        page.get("nextSyncToken").is_none(),
                        "sync token only on the last page"
                    );
                    page = self.ok(&format!("{query}&pageToken={t}"));
                }
                None => return (all, page["nextSyncToken"].as_str().map(str::to_string)),
            }
        }
    }

    fn seed(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let p = self
                    .g
                    .create_contact(ALICE, &json!({"names": [{"givenName": format!("N{i:03}")}]}))
                    .expect("create");
                p["resourceName"].as_str().expect("rn").to_string()
            })
            .collect()
    }
}

fn names_of(people: &[Value]) -> Vec<String> {
    people
        .iter()
        .map(|p| p["resourceName"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn full_sync_pages_and_token_on_last_page() {
    let f = Fake::new();
    let created = f.seed(7);
    let first = f.ok("personFields=names&pageSize=3&requestSyncToken=true");
    assert_eq!(first["totalItems"], 7);
    assert_eq!(first["connections"].as_array().expect("c").len(), 3);
    let (all, token) = f.walk("personFields=names&pageSize=3&requestSyncToken=true");
    assert_eq!(names_of(&all), created, "LAST_MODIFIED_ASCENDING by default");
    assert!(token.is_some());
    // Without requestSyncToken: no token.
    let (_, token) = f.walk("personFields=names&pageSize=3");
    assert!(token.is_none());
    // Only requested fields.
    assert!(all[0].get("metadata").is_none() && all[0]["names"].is_array());
    // Validation.
    let (s, v) = f.list("pageSize=3");
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let (s, _) = f.list("personFields=names&pageSize=1001");
    assert_eq!(s, 400);
    let (s, _) = f.list("personFields=names&sortOrder=SIDEWAYS");
    assert_eq!(s, 400);
    let (s, v) = f.list("personFields=names&pageToken=garbage");
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    // Default page size is 100.
    f.seed(95);
    assert_eq!(
        f.ok("personFields=names")["connections"]
            .as_array()
            .expect("c")
            .len(),
        100
    );
}

#[test]
fn sort_orders() {
    let f = Fake::new();
    for (g, fam) in [("Cy", "Alpha"), ("Al", "Charlie"), ("Bo", "Bravo")] {
        f.g.create_contact(ALICE, &json!({"names": [{"givenName": g, "familyName": fam}]}))
            .expect("create");
    }
    let given = |q: &str| -> Vec<String> {
        f.ok(&format!("personFields=names&{q}"))["connections"]
            .as_array()
            .expect("c")
            .iter()
            .map(|p| p["names"][0]["givenName"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(given("sortOrder=FIRST_NAME_ASCENDING"), ["Al", "Bo", "Cy"]);
    assert_eq!(given("sortOrder=LAST_NAME_ASCENDING"), ["Cy", "Bo", "Al"]);
    assert_eq!(given("sortOrder=LAST_MODIFIED_DESCENDING"), ["Bo", "Al", "Cy"]);
}

#[test]
fn deltas_quiet_updates_and_tombstones() {
    let f = Fake::new();
    let rns = f.seed(3);
    let (_, token) = f.walk("personFields=names,emailAddresses&requestSyncToken=true");
    let token = token.expect("token");

    let quiet = f.ok(&format!(
        "personFields=names,emailAddresses&requestSyncToken=true&syncToken={token}"
    ));
    let obj = quiet.as_object().expect("object");
    assert_eq!(
        obj.len(),
        1,
        "a quiet delta is exactly {{nextSyncToken}}: {quiet}"
    );
    let token = quiet["nextSyncToken"].as_str().expect("token").to_string();

    f.g.edit_contact(
        ALICE,
        &rns[0],
        &json!({"emailAddresses": [{"value": "n0@example.com"}]}),
    )
    .expect("edit");
    f.g.delete_contact(ALICE, &rns[1]).expect("delete");
    let new = f.seed(1);
    let delta = f.ok(&format!(
        "personFields=names,emailAddresses&requestSyncToken=true&syncToken={token}"
    ));
    let conns = delta["connections"].as_array().expect("connections");
    assert_eq!(names_of(conns), [rns[0].clone(), rns[1].clone(), new[0].clone()]);
    assert_eq!(conns[0]["emailAddresses"][0]["value"], "n0@example.com");
    let tomb = &conns[1];
    let mut keys: Vec<&String> = tomb.as_object().expect("tomb").keys().collect();
    keys.sort();
    assert_eq!(keys, ["etag", "metadata", "resourceName"]);
    assert_eq!(tomb["metadata"]["deleted"], true);
    assert_eq!(tomb["metadata"]["sources"][0]["type"], "CONTACT");
    assert!(tomb.get("names").is_none());
    assert_eq!(delta["totalItems"], 3);
    let token = delta["nextSyncToken"].as_str().expect("token").to_string();

    // Membership changes show up in deltas too.
    let grp = f.g.create_group(ALICE, "G").expect("group");
    f.g.modify_group_members(ALICE, grp["resourceName"].as_str().expect("rn"), &[&rns[2]], &[])
        .expect("modify");
    let delta = f.ok(&format!(
        "personFields=names,emailAddresses&requestSyncToken=true&syncToken={token}"
    ));
    assert_eq!(
        names_of(delta["connections"].as_array().expect("c")),
        [rns[2].clone()]
    );

    // Parameters must match the call that produced the token.
    let token = delta["nextSyncToken"].as_str().expect("token");
    let (s, v) = f.list(&format!(
        "personFields=names&requestSyncToken=true&syncToken={token}"
    ));
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
}

#[test]
fn delta_pages_and_snapshot_stability() {
    let f = Fake::new();
    let rns = f.seed(5);
    let first = f.ok("personFields=names&pageSize=2&requestSyncToken=true");
    // A write between pages neither shifts pages nor shows up in this listing...
    f.g.edit_contact(ALICE, &rns[0], &json!({"names": [{"givenName": "Changed"}]}))
        .expect("edit");
    let mut all = first["connections"].as_array().expect("c").clone();
    let mut page = first;
    while let Some(t) = page["nextPageToken"].as_str().map(str::to_string) {
        page = f.ok(&format!(
            "personFields=names&pageSize=2&requestSyncToken=true&pageToken={t}"
        ));
        all.extend(page["connections"].as_array().cloned().unwrap_or_default());
    }
    assert_eq!(names_of(&all), rns);
    // ...but is in the next delta.
    let token = page["nextSyncToken"].as_str().expect("token");
    let delta = f.ok(&format!(
        "personFields=names&pageSize=2&requestSyncToken=true&syncToken={token}"
    ));
    assert_eq!(
        names_of(delta["connections"].as_array().expect("c")),
        [rns[0].clone()]
    );
    assert_eq!(delta["connections"][0]["names"][0]["givenName"], "Changed");
}

#[test]
fn sync_tokens_expire() {
    let f = Fake::with(FakeGoogleConfig {
        sync_token_max_age_secs: 3600,
        ..FakeGoogleConfig::default()
    });
    f.seed(1);
    let (_, token) = f.walk("personFields=names&requestSyncToken=true");
    let token = token.expect("token");
    f.g.advance_clock(Duration::from_secs(3601));
    // The access token lives 3599 s; get a fresh one after moving the clock.
    let f = Fake {
        token: f
            .g
            .issue_tokens(ALICE, &[CONTACTS_SCOPE])
            .expect("tokens")
            .access_token,
        ..f
    };
    let (s, v) = f.list(&format!(
        "personFields=names&requestSyncToken=true&syncToken={token}"
    ));
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["status"], "FAILED_PRECONDITION");
    assert_eq!(v["error"]["message"], EXPIRED_MSG);
    assert_eq!(
        v["error"]["details"][0]["@type"],
        "type.googleapis.com/google.rpc.ErrorInfo"
    );
    assert_eq!(v["error"]["details"][0]["reason"], "EXPIRED_SYNC_TOKEN");

    // Forced expiry through the control API.
    let (_, token) = f.walk("personFields=names&requestSyncToken=true");
    let token = token.expect("token");
    f.g.expire_sync_tokens(Some(ALICE));
    let (s, v) = f.list(&format!(
        "personFields=names&requestSyncToken=true&syncToken={token}"
    ));
    assert_eq!(
        (s, v["error"]["details"][0]["reason"].as_str()),
        (400, Some("EXPIRED_SYNC_TOKEN"))
    );

    // Malformed is not expired.
    let (s, v) = f.list("personFields=names&requestSyncToken=true&syncToken=not-a-token");
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    // Another user's token is not valid either.
    let bob =
        f.g.issue_tokens("bob@example.com", &[CONTACTS_SCOPE])
            .expect("bob")
            .access_token;
    let (_, token) = f.walk("personFields=names&requestSyncToken=true");
    let url = format!(
        "{}/v1/people/me/connections?personFields=names&syncToken={}",
        f.g.base_url(),
        token.expect("t")
    );
    let resp = f.http.get(url).bearer_auth(bob).send().expect("send");
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn propagation_delay_hides_writes_from_listings() {
    let f = Fake::with(FakeGoogleConfig {
        propagation_delay_ms: 5_000,
        ..FakeGoogleConfig::default()
    });
    let (_, token) = f.walk("personFields=names&requestSyncToken=true");
    let token = token.expect("token");
    let created =
        f.g.create_contact(ALICE, &json!({"names": [{"givenName": "Late"}]}))
            .expect("create");
    let rn = created["resourceName"].as_str().expect("rn");
    // A direct get sees it at once...
    let url = format!("{}/v1/{rn}?personFields=names", f.g.base_url());
    assert_eq!(
        f.http
            .get(url)
            .bearer_auth(&f.token)
            .send()
            .expect("get")
            .status()
            .as_u16(),
        200
    );
    // ...listings do not.
    let delta = f.ok(&format!(
        "personFields=names&requestSyncToken=true&syncToken={token}"
    ));
    assert!(delta.get("connections").is_none(), "{delta}");
    let (all, _) = f.walk("personFields=names");
    assert!(all.is_empty());
    f.g.advance_clock(Duration::from_millis(5_000));
    let delta = f.ok(&format!(
        "personFields=names&requestSyncToken=true&syncToken={token}"
    ));
    assert_eq!(
        names_of(delta["connections"].as_array().expect("c")),
        [rn.to_string()]
    );
    // An update is also delayed: the listing still shows the old version.
    let next = delta["nextSyncToken"].as_str().expect("token").to_string();
    f.g.edit_contact(ALICE, rn, &json!({"names": [{"givenName": "Later"}]}))
        .expect("edit");
    let (all, _) = f.walk("personFields=names");
    assert_eq!(all[0]["names"][0]["givenName"], "Late");
    assert_eq!(
        f.ok(&format!(
            "personFields=names&requestSyncToken=true&syncToken={next}"
        ))
        .as_object()
        .map(|o| o.len()),
        Some(1)
    );
    f.g.advance_clock(Duration::from_millis(5_000));
    let delta = f.ok(&format!(
        "personFields=names&requestSyncToken=true&syncToken={next}"
    ));
    assert_eq!(delta["connections"][0]["names"][0]["givenName"], "Later");
}

#[test]
fn contact_groups_sync_token() {
    let f = Fake::new();
    let url = |q: &str| format!("{}/v1/contactGroups?{q}", f.g.base_url());
    let first: Value = f
        .http
        .get(url(""))
        .bearer_auth(&f.token)
        .send()
        .expect("list")
        .json()
        .expect("json");
    let token = first["nextSyncToken"].as_str().expect("token");
    let g = f.g.create_group(ALICE, "Fresh").expect("group");
    let delta: Value = f
        .http
        .get(url(&format!("syncToken={token}")))
        .bearer_auth(&f.token)
        .send()
        .expect("list")
        .json()
        .expect("json");
    let groups = delta["contactGroups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["resourceName"], g["resourceName"]);
    let token = delta["nextSyncToken"].as_str().expect("token");
    f.g.delete_group(ALICE, g["resourceName"].as_str().expect("rn"), false)
        .expect("delete");
    let delta: Value = f
        .http
        .get(url(&format!("syncToken={token}")))
        .bearer_auth(&f.token)
        .send()
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(delta["contactGroups"][0]["metadata"]["deleted"], true);
}
