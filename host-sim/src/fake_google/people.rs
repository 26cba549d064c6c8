//! people.people.*: get, batchGet, create/update/delete and their batch forms.

use serde_json::{json, Map, Value};

use super::error::{ApiError, ApiResult};
use super::http::Request;
use super::person::{self, parse_mask, READABLE_FIELDS, UPDATABLE_FIELDS};
use super::server::{json_body, Api};
use super::store::{Account, PersonData};

const GET_DOC: &str = "people/get";
const MAX_BATCH_GET: usize = 200;
const MAX_BATCH_WRITE: usize = 200;
const MAX_BATCH_DELETE: usize = 500;

/// `people/c123` → `c123`; anything else is a 400 as Google answers for malformed names.
pub fn contact_id(resource_name: &str) -> ApiResult<&str> {
    let id = resource_name.strip_prefix("people/").unwrap_or("");
    let valid = id.len() > 1 && id.starts_with('c') && id[1..].bytes().all(|b| b.is_ascii_digit());
    if valid {
        Ok(id)
    } else {
        Err(ApiError::invalid_argument(&format!(
            "Resource name \"{resource_name}\" is not valid. It must be in the form people/{{person_id}}."
        )))
    }
}

fn read_mask(req: &Request, param: &str, required: bool) -> ApiResult<Vec<String>> {
    parse_mask(req.query_one(param), READABLE_FIELDS, param, required, GET_DOC)
}

/// Renders the newest version of a live contact, or 404.
pub fn render_live(acct: &Account, id: &str, mask: &[String]) -> ApiResult<Value> {
    let c = acct
        .contacts
        .get(id)
        .filter(|c| c.live().is_some())
        .ok_or_else(ApiError::not_found)?;
    Ok(person::render(c, c.latest(), mask))
}

/// The authenticated user's own profile (`people/me`): a PROFILE source built from the account.
fn render_me(acct: &Account, mask: &[String]) -> Value {
    let source = json!({"type": "PROFILE", "id": acct.user_id});
    let first_meta = json!({"primary": true, "source": source});
    let local = acct.email.split('@').next().unwrap_or("");
    let mut out = json!({
        "resourceName": format!("people/{}", acct.user_id),
        "etag": format!("%EgUBAi43PRoEAQIFByIM{}", acct.user_id),
    });
    for f in mask {
        match f.as_str() {
            "names" => {
                out["names"] = json!([{
                    "metadata": first_meta,
                    "displayName": local,
                    "givenName": local,
                    "displayNameLastFirst": local,
                    "unstructuredName": local,
                }]);
            }
            "emailAddresses" => {
                out["emailAddresses"] = json!([{"metadata": first_meta, "value": acct.email}]);
            }
            "metadata" => {
                out["metadata"] = json!({"sources": [source], "objectType": "PERSON"});
            }
            _ => {}
        }
    }
    out
}

pub fn get(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    let mask = read_mask(req, "personFields", true)?;
    let id = params.first().map(String::as_str).unwrap_or("");
    if id == "me" {
        return Ok(render_me(api.acct, &mask));
    }
    let id = contact_id(&format!("people/{id}"))?.to_string();
    render_live(api.acct, &id, &mask)
}

pub fn batch_get(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let mask = read_mask(req, "personFields", true)?;
    let names = req.query_all("resourceNames");
    if names.is_empty() {
        return Err(ApiError::bad_field(
            "resourceNames",
            "Request must specify at least one resource name.",
        ));
    }
    if names.len() > MAX_BATCH_GET {
        return Err(ApiError::bad_field(
            "resourceNames",
            &format!(
                "Too many resource names: {} (maximum is {MAX_BATCH_GET}).",
                names.len()
            ),
        ));
    }
    let mut responses = Vec::new();
    for rn in names {
        let result = if rn == "people/me" {
            Ok(render_me(api.acct, &mask))
        } else {
            contact_id(rn).and_then(|id| render_live(api.acct, id, &mask))
        };
        responses.push(person_response(Some(rn), result));
    }
    Ok(json!({ "responses": responses }))
}

/// A `PersonResponse` for batch methods; `person` may be `Value::Null` (no read mask).
fn person_response(requested: Option<&str>, result: ApiResult<Value>) -> Value {
    let mut out = match result {
        Ok(p) => {
            let mut o = json!({"httpStatusCode": 200, "status": {}});
            if !p.is_null() {
                o["person"] = p;
            }
            o
        }
        Err(e) => json!({"httpStatusCode": e.code, "status": e.to_status()}),
    };
    if let Some(rn) = requested {
        out["requestedResourceName"] = json!(rn);
    }
    out
}

/// Resolves membership resource names to group ids that accept members.
pub fn resolve_groups(acct: &Account, names: &[String]) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for rn in names {
        let id = rn.strip_prefix("contactGroups/").unwrap_or(rn);
        match acct.live_group(id) {
            Some(g) if g.accepts_members() => {
                if !out.iter().any(|x| x == id) {
                    out.push(id.to_string());
                }
            }
            Some(_) => {
                return Err(ApiError::failed_precondition(&format!(
                    "Cannot add contacts to system contact group \"{rn}\"."
                )))
            }
            None => {
                return Err(ApiError::invalid_argument(&format!(
                    "Contact group \"{rn}\" does not exist."
                )))
            }
        }
    }
    Ok(out)
}

/// Validates a Person for creation; `path` is the JSON location for error messages.
pub fn prepare_create(acct: &Account, body: &Value, path: &str) -> ApiResult<PersonData> {
    let input = person::parse_input(body, UPDATABLE_FIELDS, path)?;
    let fields = input.fields;
    let groups = match input.memberships {
        Some(m) if !m.is_empty() => resolve_groups(acct, &m)?,
        // Google puts a contact created without memberships into myContacts.
        _ => vec!["myContacts".to_string()],
    };
    Ok(PersonData { fields, groups })
}

/// Refuses a contact larger than `max` bytes (its updatable fields as JSON): Google announced a
/// 128 KB limit per contact (see FAKE_GOOGLE.md).
pub fn check_contact_size(data: &PersonData, max: usize) -> ApiResult<()> {
    let size = serde_json::to_vec(&data.fields).map(|v| v.len()).unwrap_or(0);
    if size > max {
        return Err(ApiError::invalid_argument(&format!(
            "Contact is too large: {size} bytes. A contact can hold at most {max} bytes."
        )));
    }
    Ok(())
}

pub fn check_capacity(acct: &Account, adding: usize, max: usize) -> ApiResult<()> {
    if acct.live_contact_count() + adding > max {
        return Err(ApiError::failed_precondition(&format!(
            "Contacts limit reached. An account can have at most {max} contacts."
        ))
        .with_error_info(
            "MAX_CONTACTS_LIMIT_EXCEEDED",
            "people.googleapis.com",
            Value::Null,
        ));
    }
    Ok(())
}

pub fn create_contact(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let mask = parse_mask(
        req.query_one("personFields"),
        READABLE_FIELDS,
        "personFields",
        false,
        GET_DOC,
    )?;
    // Google defaults personFields to all fields for createContact.
    let mask = if mask.is_empty() {
        READABLE_FIELDS.iter().map(|s| s.to_string()).collect()
    } else {
        mask
    };
    let body = json_body(req)?;
    check_capacity(api.acct, 1, api.cfg.max_contacts_per_account)?;
    let data = prepare_create(api.acct, &body, "person")?;
    check_contact_size(&data, api.cfg.max_contact_bytes)?;
    let id = api.acct.insert_contact(data, api.now_ms, api.lag());
    render_live(api.acct, &id, &mask)
}

/// The etag a client sent: top-level `etag`, or the CONTACT source's `metadata.sources[].etag`.
fn request_etags(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = body["etag"].as_str() {
        out.push(e.to_string());
    }
    if let Some(sources) = body["metadata"]["sources"].as_array() {
        for s in sources {
            if s["type"].as_str().is_none_or(|t| t == "CONTACT") {
                if let Some(e) = s["etag"].as_str() {
                    out.push(e.to_string());
                }
            }
        }
    }
    out
}

/// Validates an update of contact `id` and returns its new data. `check_etag` is false only for
/// edits made through the control API (a user in Google's UI has no etag to send).
pub fn prepare_update(
    acct: &Account,
    id: &str,
    body: &Value,
    mask: &[String],
    path: &str,
    check_etag: bool,
) -> ApiResult<PersonData> {
    let (contact, live) = acct.live(id).ok_or_else(ApiError::not_found)?;
    if let Some(rn) = body["resourceName"].as_str() {
        if rn != contact.resource_name() {
            return Err(ApiError::invalid_argument(&format!(
                "Resource name in the request body (\"{rn}\") does not match the request URL."
            )));
        }
    }
    if check_etag {
        let sent = request_etags(body);
        if sent.is_empty() {
            return Err(ApiError::invalid_argument(
                "Request must set person.etag or person.metadata.sources.etag for the source that is being updated.",
            ));
        }
        let v = contact.latest();
        if !sent.iter().any(|e| *e == v.etag || *e == v.source_etag) {
            return Err(ApiError::stale_etag());
        }
    }
    let fields: Vec<&str> = mask.iter().map(String::as_str).collect();
    let input = person::parse_input(body, &fields, path)?;
    let mut data = live.clone();
    person::apply_update(&mut data, &input.fields, mask);
    if mask.iter().any(|f| f == "memberships") {
        let names = input.memberships.unwrap_or_default();
        if names.is_empty() {
            return Err(ApiError::invalid_argument(
                "Request must specify at least one contact group membership when updating memberships.",
            ));
        }
        data.groups = resolve_groups(acct, &names)?;
    }
    Ok(data)
}

fn update_mask(raw: Option<&str>, param: &str) -> ApiResult<Vec<String>> {
    parse_mask(raw, UPDATABLE_FIELDS, param, true, "people/updateContact")
}

pub fn update_contact(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    let id = contact_id(&format!(
        "people/{}",
        params.first().map(String::as_str).unwrap_or("")
    ))?
    .to_string();
    let mask = update_mask(req.query_one("updatePersonFields"), "updatePersonFields")?;
    let read = parse_mask(
        req.query_one("personFields"),
        READABLE_FIELDS,
        "personFields",
        false,
        GET_DOC,
    )?;
    let read = if read.is_empty() {
        READABLE_FIELDS.iter().map(|s| s.to_string()).collect()
    } else {
        read
    };
    let body = json_body(req)?;
    let data = prepare_update(api.acct, &id, &body, &mask, "person", true)?;
    check_contact_size(&data, api.cfg.max_contact_bytes)?;
    api.acct.write_contact(&id, Some(data), api.now_ms, api.lag());
    render_live(api.acct, &id, &read)
}

pub fn delete_contact(api: &mut Api, _req: &Request, params: &[String]) -> ApiResult<Value> {
    let id = contact_id(&format!(
        "people/{}",
        params.first().map(String::as_str).unwrap_or("")
    ))?
    .to_string();
    if api.acct.live(&id).is_none() {
        return Err(ApiError::not_found());
    }
    api.acct.write_contact(&id, None, api.now_ms, api.lag());
    Ok(json!({}))
}

fn batch_read_mask(body: &Value) -> ApiResult<Vec<String>> {
    parse_mask(
        body["readMask"].as_str(),
        READABLE_FIELDS,
        "readMask",
        false,
        GET_DOC,
    )
}

fn check_batch_size(n: usize, max: usize, field: &str) -> ApiResult<()> {
    if n == 0 {
        return Err(ApiError::bad_field(field, &format!("{field} must not be empty.")));
    }
    if n > max {
        return Err(ApiError::bad_field(
            field,
            &format!("Too many {field}: {n} (maximum is {max})."),
        ));
    }
    Ok(())
}

/// All-or-nothing: every contact is validated before any is created.
pub fn batch_create(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let body = json_body(req)?;
    super::schema::validate(&body, "BatchCreateContactsRequest", "")?;
    let read = batch_read_mask(&body)?;
    let contacts = body["contacts"].as_array().cloned().unwrap_or_default();
    check_batch_size(contacts.len(), MAX_BATCH_WRITE, "contacts")?;
    check_capacity(api.acct, contacts.len(), api.cfg.max_contacts_per_account)?;
    let mut prepared = Vec::new();
    for (i, c) in contacts.iter().enumerate() {
        let person = c.get("contactPerson").cloned().unwrap_or_else(|| json!({}));
        let data = prepare_create(api.acct, &person, &format!("contacts[{i}].contact_person"))?;
        check_contact_size(&data, api.cfg.max_contact_bytes)?;
        prepared.push(data);
    }
    let mut created = Vec::new();
    for data in prepared {
        let id = api.acct.insert_contact(data, api.now_ms, api.lag());
        let person = if read.is_empty() {
            Value::Null
        } else {
            render_live(api.acct, &id, &read)?
        };
        created.push(person_response(None, Ok(person)));
    }
    Ok(json!({ "createdPeople": created }))
}

/// All-or-nothing, like Google: one bad contact (stale etag, unknown name) fails the call.
pub fn batch_update(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let body = json_body(req)?;
    super::schema::validate(&body, "BatchUpdateContactsRequest", "")?;
    let read = batch_read_mask(&body)?;
    let mask = update_mask(body["updateMask"].as_str(), "updateMask")?;
    let contacts: Map<String, Value> = body["contacts"].as_object().cloned().unwrap_or_default();
    check_batch_size(contacts.len(), MAX_BATCH_WRITE, "contacts")?;
    let mut prepared = Vec::new();
    for (rn, person) in &contacts {
        let id = contact_id(rn)?.to_string();
        let data = prepare_update(api.acct, &id, person, &mask, &format!("contacts[{rn}]"), true)?;
        check_contact_size(&data, api.cfg.max_contact_bytes)?;
        prepared.push((rn.clone(), id, data));
    }
    let mut results = Map::new();
    for (rn, id, data) in prepared {
        api.acct.write_contact(&id, Some(data), api.now_ms, api.lag());
        let person = if read.is_empty() {
            Value::Null
        } else {
            render_live(api.acct, &id, &read)?
        };
        results.insert(rn, person_response(None, Ok(person)));
    }
    Ok(json!({ "updateResult": results }))
}

pub fn batch_delete(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let body = json_body(req)?;
    super::schema::validate(&body, "BatchDeleteContactsRequest", "")?;
    let names: Vec<String> = body["resourceNames"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    check_batch_size(names.len(), MAX_BATCH_DELETE, "resourceNames")?;
    let mut ids = Vec::new();
    for rn in &names {
        let id = contact_id(rn)?.to_string();
        if api.acct.live(&id).is_none() {
            return Err(ApiError::not_found());
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    for id in ids {
        api.acct.write_contact(&id, None, api.now_ms, api.lag());
    }
    Ok(json!({}))
}
