//! Person JSON: field masks, input sanitizing, and rendering with the server-computed fields.

use serde_json::{json, Map, Value};

use super::clock::rfc3339;
use super::error::{ApiError, ApiResult};
use super::normalize;
use super::schema;
use super::store::{Contact, PersonData, Version};

/// Fields that createContact/updateContact accept (`updatePersonFields` valid values).
pub const UPDATABLE_FIELDS: &[&str] = &[
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
    "memberships",
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

/// `personFields` / `readMask` valid values.
pub const READABLE_FIELDS: &[&str] = &[
    "addresses",
    "ageRanges",
    "biographies",
    "birthdays",
    "calendarUrls",
    "clientData",
    "coverPhotos",
    "emailAddresses",
    "events",
    "externalIds",
    "genders",
    "imClients",
    "interests",
    "locales",
    "locations",
    "memberships",
    "metadata",
    "miscKeywords",
    "names",
    "nicknames",
    "occupations",
    "organizations",
    "phoneNumbers",
    "photos",
    "relations",
    "sipAddresses",
    "skills",
    "urls",
    "userDefined",
];

/// Contact sources accept at most one item in these.
pub const SINGLETON_FIELDS: &[&str] = &["names", "genders", "birthdays", "biographies"];

/// Parses a comma-separated field mask. `param` names it in errors (`personFields`, `readMask`…)
/// and `doc` is the reference page Google points to.
pub fn parse_mask(
    raw: Option<&str>,
    valid: &[&str],
    param: &str,
    required: bool,
    doc: &str,
) -> ApiResult<Vec<String>> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        if required {
            let msg = format!(
                "{param} mask is required. Please specify one or more valid paths. \
                 Valid paths are documented at https://developers.google.com/people/api/rest/v1/{doc}."
            );
            return Err(ApiError::bad_field(param, &msg));
        }
        return Ok(Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = part.strip_prefix("person.").unwrap_or(part);
        let name = schema::snake_to_camel(name);
        if !valid.contains(&name.as_str()) {
            let msg = format!(
                "Invalid {param} mask path: \"{part}\". Valid paths are documented at \
                 https://developers.google.com/people/api/rest/v1/{doc}."
            );
            return Err(ApiError::bad_field(param, &msg));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// The updatable content of a request Person.
pub struct PersonInput {
    pub fields: Map<String, Value>,
    /// Group resource names given in `memberships`; `None` when the body had none.
    pub memberships: Option<Vec<String>>,
}

/// Validates a request Person and extracts the given updatable fields (read-only parts and
/// per-field metadata dropped). Memberships are returned separately as group resource names;
/// `None` means the body had no memberships at all.
pub fn parse_input(person: &Value, fields: &[&str], path: &str) -> ApiResult<PersonInput> {
    schema::validate(person, "Person", path)?;
    let person = schema::canonical_keys(person);
    let mut out = Map::new();
    let mut memberships = None;
    for field in fields {
        let items = match person.get(*field) {
            Some(Value::Array(items)) if !items.is_empty() => items,
            _ => continue,
        };
        if SINGLETON_FIELDS.contains(field) && items.len() > 1 {
            return Err(ApiError::invalid_argument(&format!(
                "Cannot have more than one person.{field} per source."
            )));
        }
        if *field == "memberships" {
            let mut groups = Vec::new();
            for m in items {
                let cgm = &m["contactGroupMembership"];
                let rn = cgm["contactGroupResourceName"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| {
                        cgm["contactGroupId"]
                            .as_str()
                            .map(|id| format!("contactGroups/{id}"))
                    });
                if let Some(rn) = rn {
                    groups.push(rn);
                }
            }
            memberships = Some(groups);
            continue;
        }
        let item_schema = schema::item_schema("Person", field).unwrap_or("");
        let read_only = schema::read_only_props(item_schema);
        let cleaned: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut m = item.as_object().cloned().unwrap_or_default();
                m.remove("metadata");
                for ro in &read_only {
                    // Google derives addresses[].formattedValue from the parts, but keeps a
                    // client-provided one when no parts are given.
                    if !(*field == "addresses" && *ro == "formattedValue") {
                        m.remove(*ro);
                    }
                }
                Value::Object(m)
            })
            .collect();
        out.insert((*field).to_string(), Value::Array(cleaned));
    }
    Ok(PersonInput {
        fields: out,
        memberships,
    })
}

/// Renders a contact version the way people.get / connections.list return it.
pub fn render(contact: &Contact, v: &Version, mask: &[String]) -> Value {
    let mut out = Map::new();
    // A listing that lags behind a rename still shows the name this version had.
    out.insert("resourceName".into(), json!(format!("people/{}", v.id)));
    out.insert("etag".into(), json!(v.etag));
    let source = json!({"type": "CONTACT", "id": source_id(&v.id)});
    let Some(data) = &v.data else {
        out.insert("metadata".into(), metadata(contact, v, true));
        return Value::Object(out);
    };
    for field in mask {
        match field.as_str() {
            "metadata" => {
                out.insert("metadata".into(), metadata(contact, v, false));
            }
            "memberships" => {
                let items: Vec<Value> = data
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| {
                        json!({
                            "metadata": field_metadata(i, &source),
                            "contactGroupMembership": {
                                "contactGroupId": g,
                                "contactGroupResourceName": format!("contactGroups/{g}"),
                            },
                        })
                    })
                    .collect();
                if !items.is_empty() {
                    out.insert("memberships".into(), Value::Array(items));
                }
            }
            f => {
                let Some(Value::Array(items)) = data.fields.get(f) else {
                    continue;
                };
                let rendered: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| render_item(f, i, item, &source))
                    .collect();
                if !rendered.is_empty() {
                    out.insert(f.to_string(), Value::Array(rendered));
                }
            }
        }
    }
    Value::Object(out)
}

fn metadata(_contact: &Contact, v: &Version, deleted: bool) -> Value {
    let mut m = json!({
        "sources": [{
            "type": "CONTACT",
            "id": source_id(&v.id),
            "etag": v.source_etag,
            "updateTime": rfc3339(v.update_ms),
        }],
        "objectType": "PERSON",
    });
    if deleted {
        m["deleted"] = json!(true);
    }
    m
}

/// `connections.list` shows at most this many e-mail addresses and phone numbers per person
/// (discovery document, `Person.emailAddresses` / `Person.phoneNumbers`).
pub const LISTED_ITEMS_CAP: usize = 100;

/// Renders a contact version as `connections.list` shows it: e-mails and phones cut to
/// [`LISTED_ITEMS_CAP`], and in sync-token listings the former resource names in
/// `metadata.previousResourceNames` (Google populates them there only).
pub fn render_listed(contact: &Contact, v: &Version, mask: &[String], with_sync_token: bool) -> Value {
    let mut out = render(contact, v, mask);
    for field in ["emailAddresses", "phoneNumbers"] {
        if let Some(Value::Array(items)) = out.get_mut(field) {
            items.truncate(LISTED_ITEMS_CAP);
        }
    }
    let previous = contact.previous_ids(v);
    if with_sync_token && !previous.is_empty() {
        if let Some(Value::Object(meta)) = out.get_mut("metadata") {
            let names: Vec<String> = previous.iter().map(|id| format!("people/{id}")).collect();
            meta.insert("previousResourceNames".into(), json!(names));
        }
    }
    out
}

/// Google's CONTACT source id is the hex form of the decimal number in `people/c…`.
pub fn source_id(contact_id: &str) -> String {
    contact_id
        .trim_start_matches('c')
        .parse::<u64>()
        .map(|n| format!("{n:x}"))
        .unwrap_or_else(|_| contact_id.to_string())
}

fn field_metadata(index: usize, source: &Value) -> Value {
    if index == 0 {
        json!({"primary": true, "sourcePrimary": true, "source": source})
    } else {
        json!({"source": source})
    }
}

fn render_item(field: &str, index: usize, item: &Value, source: &Value) -> Value {
    let mut m = item.as_object().cloned().unwrap_or_default();
    let str_of = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    match field {
        "names" => normalize::complete_name(&mut m),
        "phoneNumbers" => {
            if let Some(c) = str_of(&m, "value").and_then(|v| normalize::canonical_phone(&v)) {
                m.insert("canonicalForm".into(), json!(c));
            }
        }
        "addresses" => {
            if let Some(f) = normalize::formatted_address(&m) {
                m.insert("formattedValue".into(), json!(f));
            }
        }
        "genders" => {
            if let Some(v) = str_of(&m, "value") {
                m.insert("formattedValue".into(), json!(normalize::formatted_gender(&v)));
            }
        }
        "imClients" => {
            if let Some(p) = str_of(&m, "protocol") {
                m.insert(
                    "formattedProtocol".into(),
                    json!(normalize::formatted_protocol(&p)),
                );
            }
        }
        _ => {}
    }
    let has_formatted_type = schema::item_schema("Person", field)
        .and_then(schema::schema)
        .is_some_and(|s| s.contains_key("formattedType"));
    if has_formatted_type {
        if let Some(t) = str_of(&m, "type") {
            m.insert("formattedType".into(), json!(normalize::formatted_type(&t)));
        }
    }
    m.insert("metadata".into(), field_metadata(index, source));
    prune_defaults(Value::Object(m))
}

/// proto3 JSON omits default values: empty strings and arrays, `false`, and `0`.
pub fn prune_defaults(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune_defaults(v)))
                .filter(|(_, v)| !is_default(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune_defaults).collect()),
        other => other,
    }
}

fn is_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Object(_) => false,
    }
}

/// Replaces the masked fields of `data` with the corresponding input (absent → cleared).
pub fn apply_update(data: &mut PersonData, input: &Map<String, Value>, mask: &[String]) {
    for field in mask {
        if field == "memberships" {
            continue; // handled by the caller, it needs the account's groups
        }
        match input.get(field) {
            Some(v) => {
                data.fields.insert(field.clone(), v.clone());
            }
            None => {
                data.fields.remove(field);
            }
        }
    }
}
