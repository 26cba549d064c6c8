//! Conformance of the fake Google with the discovery documents: every method it serves exists
//! there with the same HTTP method and path, every field of every response it produces exists in
//! the named schema with the right JSON type, and every writable Person field is accepted and
//! round-trips.

use std::collections::BTreeSet;

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, CONTACTS_SCOPE, SERVED_METHODS};
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Map, Value};

const ALICE: &str = "alice@example.com";

fn discovery(name: &str) -> Value {
    let path = format!("{}/discovery/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("discovery doc")).expect("json")
}

fn all_methods(doc: &Value, out: &mut Vec<Value>) {
    if let Some(m) = doc["methods"].as_object() {
        out.extend(m.values().cloned());
    }
    if let Some(r) = doc["resources"].as_object() {
        for sub in r.values() {
            all_methods(sub, out);
        }
    }
}

/// Checks `v` against schema `name`; collects problems as strings.
fn check(doc: &Value, v: &Value, name: &str, path: &str, errs: &mut Vec<String>) {
    let Some(props) = doc["schemas"][name]["properties"].as_object() else {
        if name != "Empty" || v != &json!({}) {
            errs.push(format!("{path}: unknown schema {name}"));
        }
        return;
    };
    let Some(obj) = v.as_object() else {
        errs.push(format!("{path}: expected an object for {name}, got {v}"));
        return;
    };
    for (k, val) in obj {
        match props.get(k) {
            None => errs.push(format!("{path}.{k}: not a field of {name}")),
            Some(p) => check_prop(doc, val, p, &format!("{path}.{k}"), errs),
        }
    }
}

fn check_prop(doc: &Value, v: &Value, p: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(r) = p["$ref"].as_str() {
        return check(doc, v, r, path, errs);
    }
    let ty = p["type"].as_str().unwrap_or("any");
    let ok = match ty {
        "string" => v.as_str().is_some_and(|s| !s.is_empty()),
        "integer" if p["format"] == "int64" || p["format"] == "uint64" => v.is_string() || v.is_i64(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => match v.as_array() {
            Some(items) if !items.is_empty() => {
                for (i, item) in items.iter().enumerate() {
                    check_prop(doc, item, &p["items"], &format!("{path}[{i}]"), errs);
                }
                true
            }
            _ => false, // empty arrays must be omitted
        },
        "object" => match (v.as_object(), p.get("additionalProperties")) {
            (Some(m), Some(ap)) => {
                for (k, item) in m {
                    check_prop(doc, item, ap, &format!("{path}[{k}]"), errs);
                }
                true
            }
            (Some(_), None) => true,
            (None, _) => false,
        },
        _ => true,
    };
    if !ok {
        errs.push(format!("{path}: {v} is not a valid {ty}"));
    }
    if let (Some(s), Some(allowed)) = (v.as_str(), p["enum"].as_array()) {
        if !allowed.iter().any(|a| a == s) {
            errs.push(format!("{path}: {s} not in enum"));
        }
    }
}

/// A sample value for every writable property of a schema (read-only ones and metadata skipped).
fn sample(doc: &Value, name: &str, depth: usize) -> Value {
    let mut out = Map::new();
    let props = doc["schemas"][name]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, p) in props {
        if p["readOnly"] == true
            || k == "metadata"
            || p["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("**DEPRECATED**"))
        {
            continue;
        }
        let v = if let Some(r) = p["$ref"].as_str() {
            if depth == 0 {
                continue;
            }
            sample(doc, r, depth - 1)
        } else {
            match p["type"].as_str().unwrap_or("") {
                "string" => match p["enum"].as_array() {
                    Some(e) => e
                        .iter()
                        .find(|x| !x.as_str().unwrap_or("").ends_with("UNSPECIFIED"))
                        .cloned()
                        .unwrap_or(json!("")),
                    None => json!(format!("{k}-value")),
                },
                "integer" => json!(3),
                "boolean" => json!(true),
                _ => continue,
            }
        };
        out.insert(k, v);
    }
    Value::Object(out)
}

struct Fake {
    g: FakeGoogle,
    http: Client,
    token: String,
    doc: Value,
    errs: Vec<String>,
}

impl Fake {
    /// Calls a method and checks its response against the discovery schema `schema`.
    fn call(&mut self, method: Method, path: &str, body: Option<Value>, schema: &str) -> Value {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.g.base_url()))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().expect("send");
        let status = resp.status().as_u16();
        let v: Value = resp.json().expect("json");
        assert_eq!(status, 200, "{path}: {v}");
        let mut errs = Vec::new();
        check(&self.doc, &v, schema, schema, &mut errs);
        self.errs.extend(errs.into_iter().map(|e| format!("{path}: {e}")));
        v
    }
}

#[test]
fn served_methods_exist_in_discovery() {
    let people = discovery("people-v1-discovery.json");
    let oauth2 = discovery("oauth2-v2-discovery.json");
    let mut methods = Vec::new();
    all_methods(&people, &mut methods);
    all_methods(&oauth2, &mut methods);
    for (id, http, flat) in SERVED_METHODS {
        let m = methods
            .iter()
            .find(|m| m["id"] == *id)
            .unwrap_or_else(|| panic!("{id} not in discovery"));
        assert_eq!(m["httpMethod"], *http, "{id}");
        let disc_path = m["flatPath"].as_str().or(m["path"].as_str()).expect("path");
        assert_eq!(disc_path, *flat, "{id}");
    }
}

#[test]
fn responses_and_inputs_conform_to_discovery() {
    let doc = discovery("people-v1-discovery.json");
    let g = FakeGoogle::start("127.0.0.1:0", FakeGoogleConfig::default()).expect("start");
    let token = g
        .issue_tokens(ALICE, &[CONTACTS_SCOPE, "openid", "email"])
        .expect("tokens")
        .access_token;
    let mut f = Fake {
        g,
        http: Client::new(),
        token,
        doc: doc.clone(),
        errs: Vec::new(),
    };

    // A person with every writable field of every updatable Person field, generated from the doc.
    let updatable = [
        "addresses",
        "biographies",
        "birthdays",
        "calendarUrls",
        "clientData",
        "emailAddresses",
        "events",
        "externalIds",
        "genders",
        "imClients",
        "interests",
        "locales",
        "locations",
        "miscKeywords",
        "names",
        "nicknames",
        "occupations",
        "organizations",
        "phoneNumbers",
        "relations",
        "sipAddresses",
        "urls",
        "userDefined",
    ];
    let mut person = Map::new();
    for field in updatable {
        let item = doc["schemas"]["Person"]["properties"][field]["items"]["$ref"]
            .as_str()
            .expect("item schema");
        person.insert(field.to_string(), json!([sample(&doc, item, 2)]));
    }
    person.insert(
        "phoneNumbers".into(),
        json!([{"value": "+1 (555) 010-9999", "type": "mobile"}]),
    );
    let person = Value::Object(person);
    let all_fields = "addresses,ageRanges,biographies,birthdays,calendarUrls,clientData,coverPhotos,emailAddresses,events,externalIds,genders,imClients,interests,locales,locations,memberships,metadata,miscKeywords,names,nicknames,occupations,organizations,phoneNumbers,photos,relations,sipAddresses,skills,urls,userDefined";

    let created = f.call(
        Method::POST,
        &format!("/v1/people:createContact?personFields={all_fields}"),
        Some(person.clone()),
        "Person",
    );
    // Round trip: every field we sent comes back with the value we sent.
    for field in updatable {
        let sent = person[field][0].as_object().expect("item");
        let got = &created[field][0];
        for (k, v) in sent {
            if field == "addresses" && k == "formattedValue" {
                continue; // recomputed from the parts
            }
            assert_eq!(&got[k], v, "{field}.{k} round trip");
        }
    }
    assert!(
        created["names"][0].as_object().expect("name").len() > 10,
        "the sample sets every Name field"
    );
    let rn = created["resourceName"].as_str().expect("rn").to_string();
    f.call(
        Method::GET,
        &format!("/v1/{rn}?personFields={all_fields}"),
        None,
        "Person",
    );
    f.call(
        Method::GET,
        "/v1/people/me?personFields=names,emailAddresses,metadata",
        None,
        "Person",
    );
    let sync = f.call(
        Method::GET,
        &format!("/v1/people/me/connections?personFields={all_fields}&requestSyncToken=true"),
        None,
        "ListConnectionsResponse",
    );
    let token = sync["nextSyncToken"].as_str().expect("token").to_string();
    let mut upd = person.clone();
    upd["etag"] = created["etag"].clone();
    let updated = f.call(
        Method::PATCH,
        &format!(
            "/v1/{rn}:updateContact?updatePersonFields={}&personFields={all_fields}",
            updatable.join(",")
        ),
        Some(upd),
        "Person",
    );

    let batch = f.call(
        Method::POST,
        "/v1/people:batchCreateContacts",
        Some(json!({"contacts": [{"contactPerson": person.clone()}, {"contactPerson": {"names": [{"givenName": "B"}]}}], "readMask": all_fields})),
        "BatchCreateContactsResponse",
    );
    let b0 = batch["createdPeople"][0]["person"].clone();
    let b1 = batch["createdPeople"][1]["person"].clone();
    let b0rn = b0["resourceName"].as_str().expect("rn").to_string();
    let b1rn = b1["resourceName"].as_str().expect("rn").to_string();
    f.call(
        Method::POST,
        "/v1/people:batchUpdateContacts",
        Some(json!({"contacts": {b0rn.clone(): {"etag": b0["etag"], "names": [{"givenName": "Z"}]}}, "updateMask": "names", "readMask": all_fields})),
        "BatchUpdateContactsResponse",
    );
    f.call(
        Method::GET,
        &format!("/v1/people:batchGet?resourceNames={rn}&resourceNames={b0rn}&resourceNames=people/c1&personFields={all_fields}"),
        None,
        "GetPeopleResponse",
    );

    // Groups.
    let group = f.call(
        Method::POST,
        "/v1/contactGroups",
        Some(json!({"contactGroup": {"name": "Conformance", "clientData": [{"key": "k", "value": "v"}]}, "readGroupFields": "clientData,groupType,metadata,name"})),
        "ContactGroup",
    );
    let grn = group["resourceName"].as_str().expect("rn").to_string();
    f.call(
        Method::POST,
        &format!("/v1/{grn}/members:modify"),
        Some(json!({"resourceNamesToAdd": [rn, "people/c42"], "resourceNamesToRemove": [b1rn]})),
        "ModifyContactGroupMembersResponse",
    );
    f.call(
        Method::POST,
        &format!("/v1/{grn}/members:modify"),
        Some(json!({"resourceNamesToRemove": [b1rn]})),
        "ModifyContactGroupMembersResponse",
    );
    // Membership changes change the group's etag too: use the current one.
    let group = f.call(
        Method::GET,
        &format!("/v1/{grn}?maxMembers=5&groupFields=clientData,groupType,memberCount,metadata,name"),
        None,
        "ContactGroup",
    );
    f.call(
        Method::GET,
        "/v1/contactGroups?groupFields=clientData,groupType,memberCount,metadata,name",
        None,
        "ListContactGroupsResponse",
    );
    f.call(
        Method::GET,
        &format!(
            "/v1/contactGroups:batchGet?resourceNames={grn}&resourceNames=contactGroups/zz&maxMembers=2"
        ),
        None,
        "BatchGetContactGroupsResponse",
    );
    let g2 = f.call(
        Method::PUT,
        &format!("/v1/{grn}"),
        Some(json!({"contactGroup": {"name": "Renamed", "etag": group["etag"], "clientData": []}, "updateGroupFields": "name,clientData", "readGroupFields": "clientData,groupType,memberCount,metadata,name"})),
        "ContactGroup",
    );
    assert_eq!(g2["name"], "Renamed");

    // Deletes, then a delta with tombstones (and a deleted group in the group delta).
    f.call(
        Method::DELETE,
        &format!("/v1/{b0rn}:deleteContact"),
        None,
        "Empty",
    );
    f.call(
        Method::POST,
        "/v1/people:batchDeleteContacts",
        Some(json!({"resourceNames": [b1rn]})),
        "Empty",
    );
    let groups_sync = f.call(
        Method::GET,
        "/v1/contactGroups",
        None,
        "ListContactGroupsResponse",
    );
    let gtoken = groups_sync["nextSyncToken"].as_str().expect("token").to_string();
    f.call(
        Method::DELETE,
        &format!("/v1/{grn}?deleteContacts=false"),
        None,
        "Empty",
    );
    f.call(
        Method::GET,
        &format!("/v1/contactGroups?syncToken={gtoken}"),
        None,
        "ListContactGroupsResponse",
    );
    let delta = f.call(
        Method::GET,
        &format!(
            "/v1/people/me/connections?personFields={all_fields}&requestSyncToken=true&syncToken={token}"
        ),
        None,
        "ListConnectionsResponse",
    );
    let deleted = delta["connections"]
        .as_array()
        .expect("c")
        .iter()
        .filter(|p| p["metadata"]["deleted"] == true)
        .count();
    assert_eq!(deleted, 2);
    assert_ne!(updated["etag"], created["etag"]);

    // userinfo against the oauth2 discovery doc.
    let oauth2 = discovery("oauth2-v2-discovery.json");
    let info: Value = f
        .http
        .get(format!("{}/oauth2/v2/userinfo", f.g.base_url()))
        .bearer_auth(&f.token)
        .send()
        .expect("userinfo")
        .json()
        .expect("json");
    check(&oauth2, &info, "Userinfo", "Userinfo", &mut f.errs);
    assert_eq!(info["email"], ALICE);

    assert!(f.errs.is_empty(), "non-conforming output:\n{}", f.errs.join("\n"));

    // Every served method was exercised and counted under its discovery id.
    let stats = f.g.stats();
    let served: BTreeSet<&str> = SERVED_METHODS.iter().map(|(id, _, _)| *id).collect();
    for id in &served {
        assert!(stats.count(id) > 0, "{id} not exercised");
    }
    for id in stats.methods.keys() {
        assert!(
            served.contains(id.as_str()),
            "{id} counted but not listed as served"
        );
    }
}
