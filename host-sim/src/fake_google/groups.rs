//! people.contactGroups.*: list, get, batchGet, create, update, delete, members.modify.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::clock::rfc3339;
use super::error::{ApiError, ApiResult};
use super::http::Request;
use super::people::contact_id;
use super::person::prune_defaults;
use super::schema;
use super::server::{int_param, json_body, Api};
use super::store::{new_group_etag, random_hex, Account, Group, GroupType, Lag, PersonData};
use super::sync::{decode_token, encode_token, page_size};

const GROUP_FIELDS: &[&str] = &["clientData", "groupType", "memberCount", "metadata", "name"];
const DEFAULT_FIELDS: &[&str] = &["metadata", "groupType", "memberCount", "name"];
const DEFAULT_WRITE_READ_FIELDS: &[&str] = &["metadata", "groupType", "name"];
const MAX_BATCH_GET: usize = 200;
const MAX_MODIFY: usize = 1000;

fn group_mask(raw: Option<&str>, param: &str, default: &[&str]) -> ApiResult<Vec<String>> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return Ok(default.iter().map(|s| s.to_string()).collect());
    }
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = schema::snake_to_camel(part.strip_prefix("contactGroup.").unwrap_or(part));
        if !GROUP_FIELDS.contains(&name.as_str()) {
            return Err(ApiError::bad_field(
                param,
                &format!("Invalid {param} mask path: \"{part}\". Valid paths are: clientData, groupType, memberCount, metadata, name."),
            ));
        }
        out.push(name);
    }
    Ok(out)
}

/// Renders a group; `max_members` > 0 adds up to that many `memberResourceNames`.
pub fn render_group(acct: &Account, g: &Group, mask: &[String], max_members: usize) -> Value {
    let mut out = json!({"resourceName": g.resource_name(), "etag": g.etag});
    if g.deleted {
        out["metadata"] = json!({"updateTime": rfc3339(g.update_ms), "deleted": true});
        return out;
    }
    let members = acct.members_of(&g.id);
    for f in mask {
        match f.as_str() {
            "name" => {
                out["name"] = json!(g.name);
                out["formattedName"] = json!(g.formatted_name());
            }
            "groupType" => {
                out["groupType"] = json!(match g.group_type {
                    GroupType::User => "USER_CONTACT_GROUP",
                    GroupType::System => "SYSTEM_CONTACT_GROUP",
                })
            }
            "memberCount" => out["memberCount"] = json!(members.len()),
            "metadata" => out["metadata"] = json!({"updateTime": rfc3339(g.update_ms)}),
            "clientData" => out["clientData"] = json!(g.client_data),
            _ => {}
        }
    }
    if max_members > 0 {
        let names: Vec<String> = members
            .iter()
            .take(max_members)
            .map(|id| format!("people/{id}"))
            .collect();
        out["memberResourceNames"] = json!(names);
    }
    prune_defaults(out)
}

fn group_id(param: Option<&String>) -> ApiResult<String> {
    let id = param.map(String::as_str).unwrap_or("");
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid_argument(&format!(
            "Resource name \"contactGroups/{id}\" is not valid. It must be in the form contactGroups/{{contact_group_id}}."
        )));
    }
    Ok(id.to_string())
}

fn max_members(req: &Request) -> ApiResult<usize> {
    Ok(int_param(req, "maxMembers")?.unwrap_or(0).max(0) as usize)
}

#[derive(Serialize, Deserialize)]
struct GroupPageToken {
    user: String,
    seq: u64,
    offset: usize,
}

#[derive(Serialize, Deserialize)]
struct GroupSyncToken {
    user: String,
    seq: u64,
    issued_ms: i64,
}

pub fn list(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let mask = group_mask(req.query_one("groupFields"), "groupFields", DEFAULT_FIELDS)?;
    let size = page_size(req, 30)?;
    let acct = &*api.acct;
    let since = match req.query_one("syncToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(raw) => {
            let t: GroupSyncToken = decode_token("g", raw)
                .filter(|t: &GroupSyncToken| t.user == acct.user_id)
                .ok_or_else(|| ApiError::bad_field("syncToken", "Sync token is invalid."))?;
            let max_age =
                i64::try_from(api.cfg.sync_token_max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            if api.now_ms.saturating_sub(t.issued_ms) > max_age
                || t.issued_ms < acct.sync_tokens_valid_from_ms
            {
                return Err(ApiError::expired_sync_token());
            }
            Some(t.seq)
        }
    };
    let offset = match req.query_one("pageToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(raw) => {
            let t: GroupPageToken = decode_token("q", raw)
                .filter(|t: &GroupPageToken| t.user == acct.user_id)
                .ok_or_else(|| ApiError::bad_field("pageToken", "Page token is invalid."))?;
            t.offset
        }
    };
    let mut groups: Vec<&Group> = acct
        .groups
        .values()
        .filter(|g| match since {
            None => !g.deleted,
            Some(s) => g.seq > s,
        })
        .collect();
    // System groups first, then user groups by name, for a stable order.
    groups.sort_by_key(|g| {
        (
            g.group_type == GroupType::User,
            g.name.to_lowercase(),
            g.id.clone(),
        )
    });
    let total = groups.len();
    let page: Vec<Value> = groups
        .iter()
        .skip(offset)
        .take(size)
        .map(|g| render_group(acct, g, &mask, 0))
        .collect();
    let mut out = json!({});
    if !page.is_empty() {
        out["contactGroups"] = json!(page);
    }
    if offset + size < total {
        let t = GroupPageToken {
            user: acct.user_id.clone(),
            seq: acct.seq,
            offset: offset + size,
        };
        out["nextPageToken"] = json!(encode_token("q", &t));
    } else {
        let t = GroupSyncToken {
            user: acct.user_id.clone(),
            seq: acct.seq,
            issued_ms: api.now_ms,
        };
        out["nextSyncToken"] = json!(encode_token("g", &t));
    }
    if total > 0 {
        out["totalItems"] = json!(total);
    }
    Ok(out)
}

pub fn get(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    let id = group_id(params.first())?;
    let mask = group_mask(req.query_one("groupFields"), "groupFields", DEFAULT_FIELDS)?;
    let max = max_members(req)?;
    let g = api.acct.live_group(&id).ok_or_else(ApiError::not_found)?;
    Ok(render_group(api.acct, g, &mask, max))
}

pub fn batch_get(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let mask = group_mask(req.query_one("groupFields"), "groupFields", DEFAULT_FIELDS)?;
    let max = max_members(req)?;
    let names = req.query_all("resourceNames");
    if names.is_empty() || names.len() > MAX_BATCH_GET {
        return Err(ApiError::bad_field(
            "resourceNames",
            &format!(
                "Between 1 and {MAX_BATCH_GET} resource names must be given, got {}.",
                names.len()
            ),
        ));
    }
    let responses: Vec<Value> = names
        .iter()
        .map(|rn| {
            let id = rn.strip_prefix("contactGroups/").unwrap_or("");
            match api.acct.live_group(id) {
                Some(g) => json!({"requestedResourceName": rn, "contactGroup": render_group(api.acct, g, &mask, max), "status": {}}),
                None => json!({"requestedResourceName": rn, "status": ApiError::not_found().to_status()}),
            }
        })
        .collect();
    Ok(json!({ "responses": responses }))
}

fn check_name(acct: &Account, name: &str, except: Option<&str>) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_field(
            "contact_group.name",
            "Contact group name must not be empty.",
        ));
    }
    let taken = acct.groups.values().any(|g| {
        !g.deleted
            && Some(g.id.as_str()) != except
            && (g.name.eq_ignore_ascii_case(name) || g.formatted_name().eq_ignore_ascii_case(name))
    });
    if taken {
        return Err(ApiError::new(
            409,
            "ALREADY_EXISTS",
            "Contact group name already exists.",
        ));
    }
    Ok(name.to_string())
}

/// Creates a user group; shared with the control API.
pub fn create_group(
    acct: &mut Account,
    name: &str,
    client_data: Vec<Value>,
    now_ms: i64,
) -> ApiResult<String> {
    let name = check_name(acct, name, None)?;
    let id = loop {
        let candidate = random_hex(8);
        if !acct.groups.contains_key(&candidate) {
            break candidate;
        }
    };
    let seq = acct.next_seq();
    acct.groups.insert(
        id.clone(),
        Group {
            id: id.clone(),
            name,
            group_type: GroupType::User,
            client_data,
            etag: new_group_etag(),
            update_ms: now_ms,
            seq,
            deleted: false,
        },
    );
    Ok(id)
}

pub fn create(api: &mut Api, req: &Request, _: &[String]) -> ApiResult<Value> {
    let body = json_body(req)?;
    schema::validate(&body, "CreateContactGroupRequest", "")?;
    let mask = group_mask(
        body["readGroupFields"].as_str(),
        "readGroupFields",
        DEFAULT_WRITE_READ_FIELDS,
    )?;
    let cg = &body["contactGroup"];
    let client_data = cg["clientData"].as_array().cloned().unwrap_or_default();
    let id = create_group(
        api.acct,
        cg["name"].as_str().unwrap_or(""),
        client_data,
        api.now_ms,
    )?;
    let g = api.acct.live_group(&id).ok_or_else(ApiError::internal)?;
    Ok(render_group(api.acct, g, &mask, 0))
}

pub fn update(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    let id = group_id(params.first())?;
    let body = json_body(req)?;
    schema::validate(&body, "UpdateContactGroupRequest", "")?;
    let read = group_mask(
        body["readGroupFields"].as_str(),
        "readGroupFields",
        DEFAULT_WRITE_READ_FIELDS,
    )?;
    let update_fields = group_mask(body["updateGroupFields"].as_str(), "updateGroupFields", &["name"])?;
    if update_fields.iter().any(|f| f != "name" && f != "clientData") {
        return Err(ApiError::bad_field(
            "updateGroupFields",
            "Valid updateGroupFields paths are: clientData, name.",
        ));
    }
    let cg = &body["contactGroup"];
    let g = api.acct.live_group(&id).ok_or_else(ApiError::not_found)?;
    if g.group_type == GroupType::System {
        return Err(ApiError::invalid_argument(
            "Cannot update a system contact group.",
        ));
    }
    match cg["etag"].as_str() {
        Some(e) if e == g.etag => {}
        Some(_) => {
            return Err(ApiError::failed_precondition(
                "Request contactGroup.etag is different than the current contactGroup.etag. Clear local cache and get the latest contact group.",
            ))
        }
        None => return Err(ApiError::bad_field("contact_group.etag", "Request must set contactGroup.etag.")),
    }
    let new_name = if update_fields.iter().any(|f| f == "name") {
        Some(check_name(
            api.acct,
            cg["name"].as_str().unwrap_or(""),
            Some(&id),
        )?)
    } else {
        None
    };
    let new_client_data = update_fields
        .iter()
        .any(|f| f == "clientData")
        .then(|| cg["clientData"].as_array().cloned().unwrap_or_default());
    api.acct.touch_group(&id, api.now_ms);
    if let Some(g) = api.acct.groups.get_mut(&id) {
        if let Some(n) = new_name {
            g.name = n;
        }
        if let Some(cd) = new_client_data {
            g.client_data = cd;
        }
    }
    let g = api.acct.live_group(&id).ok_or_else(ApiError::internal)?;
    Ok(render_group(api.acct, g, &read, 0))
}

/// Deletes a user group. Its members are deleted too with `delete_contacts`; otherwise they
/// lose the membership (a contact left with none goes back to myContacts, keeping Google's
/// "at least one membership" invariant). Shared with the control API.
pub fn delete_group(
    acct: &mut Account,
    id: &str,
    delete_contacts: bool,
    now_ms: i64,
    lag: Lag,
) -> ApiResult<()> {
    let g = acct.live_group(id).ok_or_else(ApiError::not_found)?;
    if g.group_type == GroupType::System {
        return Err(ApiError::invalid_argument(
            "Cannot delete a system contact group.",
        ));
    }
    for member in acct.members_of(id) {
        let new = if delete_contacts {
            None
        } else {
            acct.live(&member).map(|(_, d)| {
                let mut d = d.clone();
                d.groups.retain(|g| g != id);
                if d.groups.is_empty() {
                    d.groups.push("myContacts".into());
                }
                d
            })
        };
        acct.write_contact(&member, new, now_ms, lag);
    }
    acct.touch_group(id, now_ms);
    if let Some(g) = acct.groups.get_mut(id) {
        g.deleted = true;
    }
    Ok(())
}

pub fn delete(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    let id = group_id(params.first())?;
    let delete_contacts = super::server::bool_param(req, "deleteContacts")?;
    let delay = api.lag();
    delete_group(api.acct, &id, delete_contacts, api.now_ms, delay)?;
    Ok(json!({}))
}

/// Adds and removes members; shared with the control API. Returns Google's response body.
pub fn modify(
    acct: &mut Account,
    group: &str,
    add: &[String],
    remove: &[String],
    now_ms: i64,
    lag: Lag,
) -> ApiResult<Value> {
    if add.len() + remove.len() > MAX_MODIFY {
        return Err(ApiError::invalid_argument(&format!(
            "Too many resource names: at most {MAX_MODIFY} may be added and removed in one request."
        )));
    }
    let g = acct.live_group(group).ok_or_else(ApiError::not_found)?;
    if !add.is_empty() && !g.accepts_members() {
        return Err(ApiError::failed_precondition(&format!(
            "Cannot add contacts to system contact group \"{}\".",
            g.resource_name()
        )));
    }
    let mut not_found = Vec::new();
    let mut cannot_remove = Vec::new();
    // The new state of every touched contact; a contact named twice sees its earlier change.
    let mut changed: BTreeMap<String, PersonData> = BTreeMap::new();
    let lookup = |rn: &str, changed: &BTreeMap<String, PersonData>| -> Option<(String, PersonData)> {
        let id = contact_id(rn).ok()?;
        let data = changed
            .get(id)
            .cloned()
            .or_else(|| acct.live(id).map(|(_, d)| d.clone()))?;
        Some((id.to_string(), data))
    };
    for rn in add {
        let Some((id, mut d)) = lookup(rn, &changed) else {
            not_found.push(rn.clone());
            continue;
        };
        if !d.groups.iter().any(|x| x == group) {
            d.groups.push(group.to_string());
            changed.insert(id, d);
        }
    }
    for rn in remove {
        let Some((id, mut d)) = lookup(rn, &changed) else {
            not_found.push(rn.clone());
            continue;
        };
        if !d.groups.iter().any(|x| x == group) {
            continue;
        }
        if d.groups.len() == 1 {
            cannot_remove.push(rn.clone());
            continue;
        }
        d.groups.retain(|x| x != group);
        changed.insert(id, d);
    }
    // One new version (etag, updateTime, sync delta entry) per touched contact.
    let touched = !changed.is_empty();
    for (id, d) in changed {
        acct.write_contact(&id, Some(d), now_ms, lag);
    }
    if touched {
        acct.touch_group(group, now_ms);
    }
    let mut out = json!({});
    if !not_found.is_empty() {
        out["notFoundResourceNames"] = json!(not_found);
    }
    if !cannot_remove.is_empty() {
        out["canNotRemoveLastContactGroupResourceNames"] = json!(cannot_remove);
    }
    Ok(out)
}

pub fn modify_members(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    let id = group_id(params.first())?;
    let body = json_body(req)?;
    schema::validate(&body, "ModifyContactGroupMembersRequest", "")?;
    let strings = |k: &str| -> Vec<String> {
        body[k]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let delay = api.lag();
    modify(
        api.acct,
        &id,
        &strings("resourceNamesToAdd"),
        &strings("resourceNamesToRemove"),
        api.now_ms,
        delay,
    )
}
