//! People API behaviour of the fake Google over real HTTP: contacts, groups, memberships.

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, CONTACTS_SCOPE};
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

const ALICE: &str = "alice@example.com";
const ALL: &str = "names,emailAddresses,phoneNumbers,addresses,genders,birthdays,biographies,organizations,urls,imClients,memberships,metadata,userDefined,clientData,events,relations,nicknames";

struct Fake {
    g: FakeGoogle,
    http: Client,
    token: String,
}

impl Fake {
    fn new() -> Fake {
        Fake::with(FakeGoogleConfig::default())
    }

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

    fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.g.base_url()))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body))
    }

    fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(method, path, body);
        assert_eq!(s, 200, "{path}: {v}");
        v
    }

    fn create(&self, person: Value) -> Value {
        self.ok(
            Method::POST,
            &format!("/v1/people:createContact?personFields={ALL}"),
            Some(person),
        )
    }
}

fn assert_error(resp: &(u16, Value), code: u16, status: &str) {
    assert_eq!(resp.0, code, "{}", resp.1);
    assert_eq!(resp.1["error"]["code"], code);
    assert_eq!(resp.1["error"]["status"], status, "{}", resp.1);
    assert!(resp.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn full_person() -> Value {
    json!({
        "names": [{"givenName": "Ada", "familyName": "Lovelace", "honorificPrefix": "Lady"}],
        "emailAddresses": [{"value": "ada@example.com", "type": "work"}, {"value": "ada@home.example", "type": "home"}],
        "phoneNumbers": [{"value": "(555) 123-4567", "type": "mobile"}, {"value": "+44 20 7946 0958", "type": "workFax"}],
        "addresses": [{"streetAddress": "1 Main St", "city": "Springfield", "region": "IL", "postalCode": "62701", "country": "USA", "type": "home"}],
        "genders": [{"value": "female"}],
        "birthdays": [{"date": {"year": 1815, "month": 12, "day": 10}}],
        "biographies": [{"value": "Analyst", "contentType": "TEXT_PLAIN"}],
        "organizations": [{"name": "Analytical Engines", "title": "Programmer", "type": "work", "current": true}],
        "urls": [{"value": "https://ada.example", "type": "blog"}],
        "imClients": [{"username": "ada", "protocol": "skype", "type": "home"}],
        "userDefined": [{"key": "crm-id", "value": "42"}],
        "clientData": [{"key": "sync", "value": "v1"}],
        "events": [{"date": {"month": 7, "day": 1}, "type": "anniversary"}],
        "relations": [{"person": "Charles", "type": "friend"}],
        "nicknames": [{"value": "Countess"}],
    })
}

#[test]
fn create_renders_computed_read_only_fields() {
    let f = Fake::new();
    let p = f.create(full_person());
    let rn = p["resourceName"].as_str().expect("resourceName");
    assert!(rn.starts_with("people/c"), "{rn}");
    assert!(p["etag"].as_str().is_some_and(|e| !e.is_empty()));
    let name = &p["names"][0];
    assert_eq!(name["displayName"], "Lady Ada Lovelace");
    assert_eq!(name["displayNameLastFirst"], "Lovelace, Lady Ada");
    assert_eq!(name["metadata"]["primary"], true);
    assert_eq!(name["metadata"]["source"]["type"], "CONTACT");
    assert_eq!(p["phoneNumbers"][0]["canonicalForm"], "+15551234567");
    assert_eq!(p["phoneNumbers"][0]["formattedType"], "Mobile");
    assert_eq!(p["phoneNumbers"][1]["canonicalForm"], "+442079460958");
    assert_eq!(p["phoneNumbers"][1]["formattedType"], "Work Fax");
    assert_eq!(p["emailAddresses"][0]["formattedType"], "Work");
    assert_eq!(
        p["addresses"][0]["formattedValue"],
        "1 Main St\nSpringfield, IL 62701\nUSA"
    );
    assert_eq!(p["addresses"][0]["formattedType"], "Home");
    assert_eq!(p["genders"][0]["formattedValue"], "Female");
    assert_eq!(p["imClients"][0]["formattedProtocol"], "Skype");
    assert_eq!(p["organizations"][0]["current"], true);
    // Created without memberships → myContacts.
    assert_eq!(
        p["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"],
        "contactGroups/myContacts"
    );
    let src = &p["metadata"]["sources"][0];
    assert_eq!(src["type"], "CONTACT");
    assert!(src["etag"].is_string() && src["updateTime"].is_string() && src["id"].is_string());
    // proto3 JSON: no empty arrays, no false, no empty strings.
    assert!(p.get("photos").is_none());
    assert!(p["events"][0]["date"].get("year").is_none());
}

#[test]
fn get_renders_only_requested_fields() {
    let f = Fake::new();
    let p = f.create(full_person());
    let rn = p["resourceName"].as_str().expect("rn");
    let got = f.ok(Method::GET, &format!("/v1/{rn}?personFields=names"), None);
    let mut keys: Vec<&String> = got.as_object().expect("obj").keys().collect();
    keys.sort();
    assert_eq!(keys, ["etag", "names", "resourceName"]);
    assert_eq!(got["etag"], p["etag"]);
    assert_error(&f.get(&format!("/v1/{rn}")), 400, "INVALID_ARGUMENT");
    assert_error(
        &f.get(&format!("/v1/{rn}?personFields=bogus")),
        400,
        "INVALID_ARGUMENT",
    );
    assert_error(
        &f.get("/v1/people/c123456789?personFields=names"),
        404,
        "NOT_FOUND",
    );
    assert_error(
        &f.get("/v1/people/xyz?personFields=names"),
        400,
        "INVALID_ARGUMENT",
    );
    let me = f.ok(Method::GET, "/v1/people/me?personFields=emailAddresses", None);
    assert_eq!(me["emailAddresses"][0]["value"], ALICE);
}

#[test]
fn input_validation_matches_google() {
    let f = Fake::new();
    let path = "/v1/people:createContact?personFields=names";
    let two_names = f.post(path, json!({"names": [{"givenName": "A"}, {"givenName": "B"}]}));
    assert_error(&two_names, 400, "INVALID_ARGUMENT");
    assert_eq!(
        two_names.1["error"]["message"],
        "Cannot have more than one person.names per source."
    );
    for field in ["genders", "birthdays", "biographies"] {
        let r = f.post(path, json!({ field: [{}, {}] }));
        assert_error(&r, 400, "INVALID_ARGUMENT");
    }
    let unknown = f.post(path, json!({"emails": [{"value": "x@y"}]}));
    assert_error(&unknown, 400, "INVALID_ARGUMENT");
    assert!(unknown.1["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("Unknown name \"emails\""));
    let wrong_type = f.post(path, json!({"names": {"givenName": "A"}}));
    assert_error(&wrong_type, 400, "INVALID_ARGUMENT");
    let bad_enum = f.post(
        path,
        json!({"biographies": [{"value": "x", "contentType": "TEXT_RTF"}]}),
    );
    assert_error(&bad_enum, 400, "INVALID_ARGUMENT");
    let resp = f
        .http
        .post(format!("{}{path}", f.g.base_url()))
        .bearer_auth(&f.token)
        .body("{not json")
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().expect("json");
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
    // Read-only input is ignored, as Google does.
    let p = f.create(json!({"names": [{"givenName": "Bo", "displayName": "ignored"}]}));
    assert_eq!(p["names"][0]["displayName"], "Bo");
}

#[test]
fn update_replaces_masked_fields_and_checks_etag() {
    let f = Fake::new();
    let p = f.create(full_person());
    let rn = p["resourceName"].as_str().expect("rn").to_string();
    let etag = p["etag"].as_str().expect("etag").to_string();
    let url = format!("/v1/{rn}:updateContact?updatePersonFields=names,phoneNumbers,urls&personFields={ALL}");
    let body = json!({"etag": etag, "names": [{"givenName": "Augusta"}], "phoneNumbers": [{"value": "555-000-1111"}]});
    let u = f.ok(Method::PATCH, &url, Some(body.clone()));
    assert_eq!(u["names"][0]["displayName"], "Augusta");
    assert_eq!(u["phoneNumbers"].as_array().expect("phones").len(), 1);
    assert_eq!(u["phoneNumbers"][0]["canonicalForm"], "+15550001111");
    assert!(u.get("urls").is_none(), "masked but absent → cleared");
    assert_eq!(
        u["emailAddresses"], p["emailAddresses"],
        "unmasked fields untouched"
    );
    assert_ne!(u["etag"], p["etag"]);
    assert_ne!(
        u["metadata"]["sources"][0]["etag"],
        p["metadata"]["sources"][0]["etag"]
    );

    let stale = f.call(Method::PATCH, &url, Some(body));
    assert_error(&stale, 400, "FAILED_PRECONDITION");
    assert_eq!(
        stale.1["error"]["message"],
        "Request person.etag is different than the current person.etag. Clear local cache and get the latest person."
    );
    // The source etag is accepted too.
    let by_source = json!({"metadata": {"sources": [{"type": "CONTACT", "etag": u["metadata"]["sources"][0]["etag"]}]}, "names": [{"givenName": "Ada"}]});
    f.ok(
        Method::PATCH,
        &format!("/v1/{rn}:updateContact?updatePersonFields=names"),
        Some(by_source),
    );
    let no_etag = f.call(
        Method::PATCH,
        &format!("/v1/{rn}:updateContact?updatePersonFields=names"),
        Some(json!({"names": []})),
    );
    assert_error(&no_etag, 400, "INVALID_ARGUMENT");
    let no_mask = f.call(
        Method::PATCH,
        &format!("/v1/{rn}:updateContact"),
        Some(json!({"etag": "x"})),
    );
    assert_error(&no_mask, 400, "INVALID_ARGUMENT");
    let bad_mask = f.call(
        Method::PATCH,
        &format!("/v1/{rn}:updateContact?updatePersonFields=photos"),
        Some(json!({"etag": "x"})),
    );
    assert_error(&bad_mask, 400, "INVALID_ARGUMENT");
    let cur = f.ok(Method::GET, &format!("/v1/{rn}?personFields=names"), None);
    let empty_memberships = f.call(
        Method::PATCH,
        &format!("/v1/{rn}:updateContact?updatePersonFields=memberships"),
        Some(json!({"etag": cur["etag"], "memberships": []})),
    );
    assert_error(&empty_memberships, 400, "INVALID_ARGUMENT");
}

#[test]
fn delete_contact_then_not_found() {
    let f = Fake::new();
    let p = f.create(json!({"names": [{"givenName": "Gone"}]}));
    let rn = p["resourceName"].as_str().expect("rn");
    assert_eq!(
        f.ok(Method::DELETE, &format!("/v1/{rn}:deleteContact"), None),
        json!({})
    );
    assert_error(&f.get(&format!("/v1/{rn}?personFields=names")), 404, "NOT_FOUND");
    assert_error(
        &f.call(Method::DELETE, &format!("/v1/{rn}:deleteContact"), None),
        404,
        "NOT_FOUND",
    );
    let tomb = f.g.tombstones(ALICE).expect("tombstones");
    assert_eq!(tomb[0]["resourceName"], rn);
    assert_eq!(tomb[0]["metadata"]["deleted"], true);
}

#[test]
fn batch_methods_shapes_and_limits() {
    let f = Fake::new();
    let contacts: Vec<Value> = (0..3)
        .map(|i| json!({"contactPerson": {"names": [{"givenName": format!("P{i}")}]}}))
        .collect();
    let created = f.ok(
        Method::POST,
        "/v1/people:batchCreateContacts",
        Some(json!({"contacts": contacts, "readMask": "names,metadata"})),
    );
    let created = created["createdPeople"]
        .as_array()
        .expect("createdPeople")
        .clone();
    assert_eq!(created.len(), 3);
    for c in &created {
        assert_eq!(c["httpStatusCode"], 200);
        assert_eq!(c["status"], json!({}));
        assert!(c["person"]["names"][0]["displayName"].is_string());
    }
    // Empty readMask: no person data echoed.
    let quiet = f.ok(
        Method::POST,
        "/v1/people:batchCreateContacts",
        Some(json!({"contacts": [{"contactPerson": {}}]})),
    );
    assert!(quiet["createdPeople"][0].get("person").is_none());
    let too_many: Vec<Value> = (0..201).map(|_| json!({"contactPerson": {}})).collect();
    assert_error(
        &f.post(
            "/v1/people:batchCreateContacts",
            json!({"contacts": too_many, "readMask": "names"}),
        ),
        400,
        "INVALID_ARGUMENT",
    );

    let mut map = serde_json::Map::new();
    for c in &created {
        let p = &c["person"];
        map.insert(
            p["resourceName"].as_str().expect("rn").into(),
            json!({"etag": p["etag"], "names": [{"givenName": "Renamed"}]}),
        );
    }
    let updated = f.ok(
        Method::POST,
        "/v1/people:batchUpdateContacts",
        Some(json!({"contacts": map.clone(), "updateMask": "names", "readMask": "names"})),
    );
    let results = updated["updateResult"].as_object().expect("updateResult");
    assert_eq!(results.len(), 3);
    for (rn, r) in results {
        assert_eq!(r["httpStatusCode"], 200);
        assert_eq!(r["person"]["resourceName"], rn.as_str());
        assert_eq!(r["person"]["names"][0]["givenName"], "Renamed");
    }
    // Same etags again: stale, and nothing is applied.
    let stale = f.post(
        "/v1/people:batchUpdateContacts",
        json!({"contacts": map, "updateMask": "names", "readMask": "names"}),
    );
    assert_error(&stale, 400, "FAILED_PRECONDITION");
    assert_error(
        &f.post(
            "/v1/people:batchUpdateContacts",
            json!({"contacts": {}, "updateMask": "names"}),
        ),
        400,
        "INVALID_ARGUMENT",
    );

    let names: Vec<String> = results.keys().cloned().collect();
    let mut query: String = names.iter().map(|n| format!("resourceNames={n}&")).collect();
    query.push_str("resourceNames=people/c999&personFields=names");
    let got = f.ok(Method::GET, &format!("/v1/people:batchGet?{query}"), None);
    let responses = got["responses"].as_array().expect("responses");
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0]["requestedResourceName"], names[0].as_str());
    assert_eq!(responses[0]["person"]["names"][0]["givenName"], "Renamed");
    assert_eq!(responses[3]["status"]["code"], 5);
    let too_many: String = (0..201).map(|i| format!("resourceNames=people/c{i}&")).collect();
    assert_error(
        &f.get(&format!("/v1/people:batchGet?{too_many}personFields=names")),
        400,
        "INVALID_ARGUMENT",
    );

    assert_eq!(
        f.ok(
            Method::POST,
            "/v1/people:batchDeleteContacts",
            Some(json!({"resourceNames": names}))
        ),
        json!({})
    );
    assert_eq!(f.g.contacts(ALICE).expect("contacts").len(), 1);
    let too_many: Vec<String> = (0..501).map(|i| format!("people/c{i}")).collect();
    assert_error(
        &f.post(
            "/v1/people:batchDeleteContacts",
            json!({"resourceNames": too_many}),
        ),
        400,
        "INVALID_ARGUMENT",
    );
}

#[test]
fn contact_limit_per_account() {
    let f = Fake::with(FakeGoogleConfig {
        max_contacts_per_account: 2,
        ..FakeGoogleConfig::default()
    });
    f.create(json!({}));
    f.create(json!({}));
    let third = f.post("/v1/people:createContact?personFields=names", json!({}));
    assert_error(&third, 400, "FAILED_PRECONDITION");
    assert!(third.1["error"]["message"].as_str().expect("msg").contains("2"));
    let batch = f.post(
        "/v1/people:batchCreateContacts",
        json!({"contacts": [{"contactPerson": {}}], "readMask": "names"}),
    );
    assert_error(&batch, 400, "FAILED_PRECONDITION");
}

#[test]
fn groups_crud_and_system_groups() {
    let f = Fake::new();
    let list = f.ok(Method::GET, "/v1/contactGroups", None);
    let groups = list["contactGroups"].as_array().expect("groups");
    let my = groups
        .iter()
        .find(|g| g["resourceName"] == "contactGroups/myContacts")
        .expect("myContacts");
    assert_eq!(my["groupType"], "SYSTEM_CONTACT_GROUP");
    assert_eq!(my["formattedName"], "My Contacts");
    let starred = groups
        .iter()
        .find(|g| g["resourceName"] == "contactGroups/starred")
        .expect("starred");
    assert_eq!(starred["formattedName"], "Starred");
    assert!(list["nextSyncToken"].is_string());
    assert_eq!(list["totalItems"], groups.len());

    let created = f.ok(
        Method::POST,
        "/v1/contactGroups",
        Some(json!({"contactGroup": {"name": "CRM"}})),
    );
    assert_eq!(created["groupType"], "USER_CONTACT_GROUP");
    assert_eq!(created["formattedName"], "CRM");
    let grn = created["resourceName"].as_str().expect("rn").to_string();
    let dup = f.post("/v1/contactGroups", json!({"contactGroup": {"name": "crm"}}));
    assert_error(&dup, 409, "ALREADY_EXISTS");

    let renamed = f.ok(
        Method::PUT,
        &format!("/v1/{grn}"),
        Some(json!({"contactGroup": {"name": "CRM sync", "etag": created["etag"]}})),
    );
    assert_eq!(renamed["name"], "CRM sync");
    assert_ne!(renamed["etag"], created["etag"]);
    let stale = f.call(
        Method::PUT,
        &format!("/v1/{grn}"),
        Some(json!({"contactGroup": {"name": "X", "etag": created["etag"]}})),
    );
    assert_error(&stale, 400, "FAILED_PRECONDITION");

    // Paging.
    let page = f.ok(Method::GET, "/v1/contactGroups?pageSize=3", None);
    assert_eq!(page["contactGroups"].as_array().expect("page").len(), 3);
    assert!(page["nextPageToken"].is_string() && page.get("nextSyncToken").is_none());

    let p = f.create(json!({"memberships": [{"contactGroupMembership": {"contactGroupResourceName": grn}}]}));
    let memberships = p["memberships"].as_array().expect("memberships");
    assert_eq!(memberships.len(), 1, "in the user group only: {p}");
    let got = f.ok(Method::GET, &format!("/v1/{grn}"), None);
    assert!(got.get("memberResourceNames").is_none());
    assert_eq!(got["memberCount"], 1);
    let got = f.ok(Method::GET, &format!("/v1/{grn}?maxMembers=10"), None);
    assert_eq!(got["memberResourceNames"], json!([p["resourceName"]]));

    let bg = f.ok(
        Method::GET,
        &format!("/v1/contactGroups:batchGet?resourceNames={grn}&resourceNames=contactGroups/nope"),
        None,
    );
    assert_eq!(bg["responses"][0]["contactGroup"]["name"], "CRM sync");
    assert_eq!(bg["responses"][1]["status"]["code"], 5);

    assert_error(
        &f.call(Method::DELETE, "/v1/contactGroups/myContacts", None),
        400,
        "INVALID_ARGUMENT",
    );
    f.ok(Method::DELETE, &format!("/v1/{grn}?deleteContacts=true"), None);
    assert_error(&f.get(&format!("/v1/{grn}")), 404, "NOT_FOUND");
    let rn = p["resourceName"].as_str().expect("rn");
    assert_error(&f.get(&format!("/v1/{rn}?personFields=names")), 404, "NOT_FOUND");
}

#[test]
fn members_modify_rules() {
    let f = Fake::new();
    let grp = f.ok(
        Method::POST,
        "/v1/contactGroups",
        Some(json!({"contactGroup": {"name": "Sync"}})),
    );
    let grn = grp["resourceName"].as_str().expect("rn").to_string();
    let p = f.create(json!({"names": [{"givenName": "M"}]}));
    let rn = p["resourceName"].as_str().expect("rn").to_string();

    let r = f.ok(
        Method::POST,
        &format!("/v1/{grn}/members:modify"),
        Some(json!({"resourceNamesToAdd": [rn, "people/c12345"]})),
    );
    assert_eq!(r, json!({"notFoundResourceNames": ["people/c12345"]}));
    let after_add = f.ok(
        Method::GET,
        &format!("/v1/{rn}?personFields=memberships,metadata"),
        None,
    );
    assert_ne!(after_add["etag"], p["etag"], "membership changes change the etag");
    assert_ne!(after_add["metadata"]["sources"][0]["updateTime"], json!(null));
    assert_eq!(after_add["memberships"].as_array().expect("m").len(), 2);

    // Remove from myContacts: fine, still in Sync. Then removing from Sync is refused.
    let r = f.ok(
        Method::POST,
        "/v1/contactGroups/myContacts/members:modify",
        Some(json!({"resourceNamesToRemove": [rn]})),
    );
    assert_eq!(r, json!({}));
    let r = f.ok(
        Method::POST,
        &format!("/v1/{grn}/members:modify"),
        Some(json!({"resourceNamesToRemove": [rn]})),
    );
    assert_eq!(r, json!({"canNotRemoveLastContactGroupResourceNames": [rn]}));
    // Google's recipe: add to myContacts first, then remove.
    f.ok(
        Method::POST,
        "/v1/contactGroups/myContacts/members:modify",
        Some(json!({"resourceNamesToAdd": [rn]})),
    );
    assert_eq!(
        f.ok(
            Method::POST,
            &format!("/v1/{grn}/members:modify"),
            Some(json!({"resourceNamesToRemove": [rn]}))
        ),
        json!({})
    );

    let too_many: Vec<String> = (0..1001).map(|i| format!("people/c{i}")).collect();
    assert_error(
        &f.post(
            &format!("/v1/{grn}/members:modify"),
            json!({"resourceNamesToAdd": too_many}),
        ),
        400,
        "INVALID_ARGUMENT",
    );
    assert_error(
        &f.post(
            "/v1/contactGroups/friends/members:modify",
            json!({"resourceNamesToAdd": [rn]}),
        ),
        400,
        "FAILED_PRECONDITION",
    );
    assert_error(
        &f.post(
            "/v1/contactGroups/abcdef/members:modify",
            json!({"resourceNamesToAdd": [rn]}),
        ),
        404,
        "NOT_FOUND",
    );

    // Starred is addable; the contact can be updated into groups via memberships too.
    f.ok(
        Method::POST,
        "/v1/contactGroups/starred/members:modify",
        Some(json!({"resourceNamesToAdd": [rn]})),
    );
    let cur = f.ok(Method::GET, &format!("/v1/{rn}?personFields=memberships"), None);
    let groups: Vec<&str> = cur["memberships"]
        .as_array()
        .expect("m")
        .iter()
        .filter_map(|m| m["contactGroupMembership"]["contactGroupResourceName"].as_str())
        .collect();
    assert_eq!(groups, ["contactGroups/myContacts", "contactGroups/starred"]);
}

#[test]
fn memberships_via_update_and_group_deletion() {
    let f = Fake::new();
    let a = f.ok(
        Method::POST,
        "/v1/contactGroups",
        Some(json!({"contactGroup": {"name": "A"}})),
    );
    let arn = a["resourceName"].as_str().expect("rn").to_string();
    let p = f.create(json!({"names": [{"givenName": "U"}]}));
    let rn = p["resourceName"].as_str().expect("rn").to_string();
    let url = format!("/v1/{rn}:updateContact?updatePersonFields=memberships&personFields=memberships");
    let m = |g: &str| json!({"contactGroupMembership": {"contactGroupResourceName": g}});
    let u = f.ok(
        Method::PATCH,
        &url,
        Some(json!({"etag": p["etag"], "memberships": [m(&arn)]})),
    );
    assert_eq!(
        u["memberships"].as_array().expect("m").len(),
        1,
        "memberships are replaced: {u}"
    );
    assert_eq!(
        u["memberships"][0]["contactGroupMembership"]["contactGroupId"],
        arn.trim_start_matches("contactGroups/")
    );
    let missing = f.call(
        Method::PATCH,
        &url,
        Some(json!({"etag": u["etag"], "memberships": [m("contactGroups/nope")]})),
    );
    assert_error(&missing, 400, "INVALID_ARGUMENT");
    let system = f.call(
        Method::PATCH,
        &url,
        Some(json!({"etag": u["etag"], "memberships": [m("contactGroups/family")]})),
    );
    assert_error(&system, 400, "FAILED_PRECONDITION");

    // Deleting the group without its contacts keeps the contact, back in myContacts.
    f.ok(Method::DELETE, &format!("/v1/{arn}"), None);
    let after = f.ok(Method::GET, &format!("/v1/{rn}?personFields=memberships"), None);
    assert_eq!(
        after["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"],
        "contactGroups/myContacts"
    );
    assert_ne!(after["etag"], u["etag"]);
}

#[test]
fn group_validation() {
    let f = Fake::new();
    assert_error(
        &f.post("/v1/contactGroups", json!({"contactGroup": {"name": "  "}})),
        400,
        "INVALID_ARGUMENT",
    );
    assert_error(
        &f.post(
            "/v1/contactGroups",
            json!({"contactGroup": {"name": "My Contacts"}}),
        ),
        409,
        "ALREADY_EXISTS",
    );
    let my = f.ok(Method::GET, "/v1/contactGroups/myContacts", None);
    let rename = f.call(
        Method::PUT,
        "/v1/contactGroups/myContacts",
        Some(json!({"contactGroup": {"name": "Mine", "etag": my["etag"]}})),
    );
    assert_error(&rename, 400, "INVALID_ARGUMENT");
    let g = f.ok(
        Method::POST,
        "/v1/contactGroups",
        Some(json!({"contactGroup": {"name": "CD", "clientData": [{"key": "k", "value": "1"}]}, "readGroupFields": "clientData,name"})),
    );
    assert_eq!(g["clientData"][0]["value"], "1");
    let u = f.ok(
        Method::PUT,
        &format!("/v1/{}", g["resourceName"].as_str().expect("rn")),
        Some(json!({"contactGroup": {"etag": g["etag"], "clientData": [{"key": "k", "value": "2"}]}, "updateGroupFields": "clientData", "readGroupFields": "clientData,name"})),
    );
    assert_eq!(
        (u["name"].as_str(), u["clientData"][0]["value"].as_str()),
        (Some("CD"), Some("2"))
    );
    assert_error(
        &f.get("/v1/contactGroups?groupFields=bogus"),
        400,
        "INVALID_ARGUMENT",
    );
    assert_error(&f.get("/v1/contactGroups/abc"), 404, "NOT_FOUND");
    let me = f.ok(
        Method::GET,
        "/v1/people:batchGet?resourceNames=people/me&personFields=names",
        None,
    );
    assert_eq!(me["responses"][0]["httpStatusCode"], 200);
}

#[test]
fn unknown_query_parameters_are_rejected_like_google() {
    let f = Fake::new();
    let r = f.get("/v1/people/me/connections?personfields=names");
    assert_error(&r, 400, "INVALID_ARGUMENT");
    assert!(r.1["error"]["message"]
        .as_str()
        .expect("msg")
        .contains("Cannot bind query parameter"));
    // System parameters are fine everywhere; prettyPrint=false gives one-line JSON.
    let url = format!(
        "{}/v1/contactGroups?alt=json&prettyPrint=false&fields=contactGroups",
        f.g.base_url()
    );
    let text = f
        .http
        .get(url)
        .bearer_auth(&f.token)
        .send()
        .expect("send")
        .text()
        .expect("text");
    assert!(!text.trim_end().contains('\n'), "{text}");
}
