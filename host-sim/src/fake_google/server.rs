//! Request routing and the per-call pipeline: count → fault → latency → auth → quota → handler.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::faults::Fault;
use super::http::{Outcome, Request, Response};
use super::quota::{self, Bucket};
use super::store::Account;
use super::{control, groups, oauth, people, sync, FakeGoogleConfig, State};
use super::{CONTACTS_READONLY_SCOPE, CONTACTS_SCOPE};

/// Request counts per discovery method id, plus read/write totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub methods: BTreeMap<String, u64>,
    /// People API read calls (a batch counts once).
    pub reads: u64,
    /// People API write calls (a batch counts once).
    pub writes: u64,
    /// Every request except control calls.
    pub total: u64,
    /// Resource names in answers that a `Drop` fault cut: the call took effect, the caller never
    /// learned of it (a test's model needs to know which contacts those were).
    #[serde(default)]
    pub lost_answers: Vec<String>,
}

impl Stats {
    pub fn count(&self, method_id: &str) -> u64 {
        self.methods.get(method_id).copied().unwrap_or(0)
    }
}

/// What a People API handler works on: one account, locked for the duration of the call.
pub struct Api<'a> {
    pub acct: &'a mut Account,
    pub now_ms: i64,
    pub cfg: &'a FakeGoogleConfig,
}

impl Api<'_> {
    pub fn delay_ms(&self) -> i64 {
        i64::try_from(self.cfg.propagation_delay_ms).unwrap_or(i64::MAX / 4)
    }
}

type PeopleHandler = fn(&mut Api, &Request, &[String]) -> ApiResult<Value>;
type OAuthHandler = fn(&State, &Request) -> Response;

enum Target {
    People {
        bucket: Bucket,
        rpc: &'static str,
        handler: PeopleHandler,
        params: Vec<String>,
    },
    OAuth(OAuthHandler),
}

struct Route {
    id: &'static str,
    target: Target,
}

fn people_route(
    id: &'static str,
    bucket: Bucket,
    rpc: &'static str,
    handler: PeopleHandler,
    params: Vec<String>,
) -> Option<Route> {
    Some(Route {
        id,
        target: Target::People {
            bucket,
            rpc,
            handler,
            params,
        },
    })
}

/// Every method the fake serves: (discovery method id, HTTP method, discovery `flatPath`).
/// A unit test below checks that `route` agrees with this table.
pub const SERVED_METHODS: &[(&str, &str, &str)] = &[
    (
        "people.people.connections.list",
        "GET",
        "v1/people/{peopleId}/connections",
    ),
    ("people.people.get", "GET", "v1/people/{peopleId}"),
    ("people.people.getBatchGet", "GET", "v1/people:batchGet"),
    ("people.people.createContact", "POST", "v1/people:createContact"),
    (
        "people.people.updateContact",
        "PATCH",
        "v1/people/{peopleId}:updateContact",
    ),
    (
        "people.people.deleteContact",
        "DELETE",
        "v1/people/{peopleId}:deleteContact",
    ),
    (
        "people.people.batchCreateContacts",
        "POST",
        "v1/people:batchCreateContacts",
    ),
    (
        "people.people.batchUpdateContacts",
        "POST",
        "v1/people:batchUpdateContacts",
    ),
    (
        "people.people.batchDeleteContacts",
        "POST",
        "v1/people:batchDeleteContacts",
    ),
    ("people.contactGroups.list", "GET", "v1/contactGroups"),
    ("people.contactGroups.create", "POST", "v1/contactGroups"),
    (
        "people.contactGroups.batchGet",
        "GET",
        "v1/contactGroups:batchGet",
    ),
    (
        "people.contactGroups.get",
        "GET",
        "v1/contactGroups/{contactGroupsId}",
    ),
    (
        "people.contactGroups.update",
        "PUT",
        "v1/contactGroups/{contactGroupsId}",
    ),
    (
        "people.contactGroups.delete",
        "DELETE",
        "v1/contactGroups/{contactGroupsId}",
    ),
    (
        "people.contactGroups.members.modify",
        "POST",
        "v1/contactGroups/{contactGroupsId}/members:modify",
    ),
    ("oauth2.userinfo.get", "GET", "oauth2/v2/userinfo"),
];

/// Maps method + path to a discovery method id and its handler.
fn route(method: &str, path: &str) -> Option<Route> {
    use Bucket::{Read, Write};
    if let Some(rest) = path.strip_prefix("/v1/") {
        let segs: Vec<&str> = rest.split('/').collect();
        return match (method, segs.as_slice()) {
            ("GET", ["people", who, "connections"]) => people_route(
                "people.people.connections.list",
                Read,
                "google.people.v1.PeopleService.ListConnections",
                sync::list_connections,
                vec![(*who).to_string()],
            ),
            ("GET", ["people:batchGet"]) => people_route(
                "people.people.getBatchGet",
                Read,
                "google.people.v1.PeopleService.GetPeople",
                people::batch_get,
                vec![],
            ),
            ("POST", ["people:createContact"]) => people_route(
                "people.people.createContact",
                Write,
                "google.people.v1.PeopleService.CreateContact",
                people::create_contact,
                vec![],
            ),
            ("POST", ["people:batchCreateContacts"]) => people_route(
                "people.people.batchCreateContacts",
                Write,
                "google.people.v1.PeopleService.BatchCreateContacts",
                people::batch_create,
                vec![],
            ),
            ("POST", ["people:batchUpdateContacts"]) => people_route(
                "people.people.batchUpdateContacts",
                Write,
                "google.people.v1.PeopleService.BatchUpdateContacts",
                people::batch_update,
                vec![],
            ),
            ("POST", ["people:batchDeleteContacts"]) => people_route(
                "people.people.batchDeleteContacts",
                Write,
                "google.people.v1.PeopleService.BatchDeleteContacts",
                people::batch_delete,
                vec![],
            ),
            ("PATCH", ["people", id]) if id.ends_with(":updateContact") => people_route(
                "people.people.updateContact",
                Write,
                "google.people.v1.PeopleService.UpdateContact",
                people::update_contact,
                vec![id.trim_end_matches(":updateContact").to_string()],
            ),
            ("DELETE", ["people", id]) if id.ends_with(":deleteContact") => people_route(
                "people.people.deleteContact",
                Write,
                "google.people.v1.PeopleService.DeleteContact",
                people::delete_contact,
                vec![id.trim_end_matches(":deleteContact").to_string()],
            ),
            ("GET", ["people", id]) if !id.contains(':') => people_route(
                "people.people.get",
                Read,
                "google.people.v1.PeopleService.GetPerson",
                people::get,
                vec![(*id).to_string()],
            ),
            ("GET", ["contactGroups"]) => people_route(
                "people.contactGroups.list",
                Read,
                "google.people.v1.ContactGroupService.ListContactGroups",
                groups::list,
                vec![],
            ),
            ("POST", ["contactGroups"]) => people_route(
                "people.contactGroups.create",
                Write,
                "google.people.v1.ContactGroupService.CreateContactGroup",
                groups::create,
                vec![],
            ),
            ("GET", ["contactGroups:batchGet"]) => people_route(
                "people.contactGroups.batchGet",
                Read,
                "google.people.v1.ContactGroupService.BatchGetContactGroups",
                groups::batch_get,
                vec![],
            ),
            ("GET", ["contactGroups", id]) if !id.contains(':') => people_route(
                "people.contactGroups.get",
                Read,
                "google.people.v1.ContactGroupService.GetContactGroup",
                groups::get,
                vec![(*id).to_string()],
            ),
            ("PUT", ["contactGroups", id]) => people_route(
                "people.contactGroups.update",
                Write,
                "google.people.v1.ContactGroupService.UpdateContactGroup",
                groups::update,
                vec![(*id).to_string()],
            ),
            ("DELETE", ["contactGroups", id]) => people_route(
                "people.contactGroups.delete",
                Write,
                "google.people.v1.ContactGroupService.DeleteContactGroup",
                groups::delete,
                vec![(*id).to_string()],
            ),
            ("POST", ["contactGroups", id, "members:modify"]) => people_route(
                "people.contactGroups.members.modify",
                Write,
                "google.people.v1.ContactGroupService.ModifyContactGroupMembers",
                groups::modify_members,
                vec![(*id).to_string()],
            ),
            _ => None,
        };
    }
    let (id, handler): (&'static str, OAuthHandler) = match (method, path) {
        ("GET", "/o/oauth2/v2/auth") => ("oauth2.authorize", oauth::authorize_page),
        ("POST", "/o/oauth2/v2/auth/decide") => ("oauth2.authorize.decide", oauth::decide),
        ("POST", "/token") => ("oauth2.token", oauth::token),
        ("POST", "/revoke") => ("oauth2.revoke", oauth::revoke),
        ("GET", "/oauth2/v2/userinfo") => ("oauth2.userinfo.get", oauth::userinfo),
        _ => return None,
    };
    Some(Route {
        id,
        target: Target::OAuth(handler),
    })
}

/// The entry point for every request.
pub fn handle(state: &Arc<State>, req: Request) -> Outcome {
    if req.path == "/control" || req.path.starts_with("/control/") {
        return Outcome::Respond(control::handle(state, &req));
    }
    let Some(route) = route(&req.method, &req.path) else {
        let msg = format!("Method not found: {} {}", req.method, req.path);
        return Outcome::Respond(ApiError::new(404, "NOT_FOUND", msg).into_response());
    };
    let bucket = match &route.target {
        Target::People { bucket, .. } => Some(*bucket),
        Target::OAuth(_) => None,
    };
    log::debug!("fake google: {} {} -> {}", req.method, req.path, route.id);
    record(state, route.id, bucket);

    let fault = state.faults.lock().expect("faults mutex").next(route.id);
    let mut drop_after = false;
    match fault {
        None | Some(Fault::Ok) => {}
        Some(Fault::Hang { ms }) => return Outcome::Hang(Duration::from_millis(ms)),
        Some(Fault::Drop) => drop_after = true,
        Some(Fault::ExpireAccessTokens) => {
            let now = state.clock.now_ms();
            state
                .oauth
                .lock()
                .expect("oauth mutex")
                .expire_access_tokens(None, now);
        }
        Some(Fault::Internal) => return Outcome::Respond(ApiError::internal().into_response()),
        Some(Fault::Unavailable) => return Outcome::Respond(ApiError::unavailable().into_response()),
        Some(Fault::RateLimit { retry_after_secs }) => {
            let cfg = state.cfg();
            let (b, limit) = match bucket {
                Some(Bucket::Write) => (Bucket::Write, cfg.write_quota_per_minute),
                _ => (Bucket::Read, cfg.read_quota_per_minute),
            };
            let err = quota::rate_limit_error(b, limit, retry_after_secs, state.clock.now_ms());
            return Outcome::Respond(err.into_response());
        }
    }

    let response = match route.target {
        Target::OAuth(handler) => handler(state, &req),
        Target::People {
            bucket,
            rpc,
            handler,
            params,
        } => match people_call(state, &req, route.id, bucket, rpc, handler, &params) {
            // Google's system parameter `prettyPrint=false` gives one-line JSON.
            Ok(v) if req.query_one("prettyPrint") == Some("false") => Response::json_compact(200, &v),
            Ok(v) => Response::json(200, &v),
            Err(e) => e.into_response(),
        },
    };
    if drop_after {
        if let Ok(body) = serde_json::from_slice::<Value>(&response.body) {
            let mut stats = state.stats.lock().expect("stats mutex");
            collect_resource_names(&body, &mut stats.lost_answers);
        }
        Outcome::Drop(response)
    } else {
        Outcome::Respond(response)
    }
}

fn collect_resource_names(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(rn) if key == "resourceName" => out.push(rn.clone()),
                    _ => collect_resource_names(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_resource_names(v, out)),
        _ => {}
    }
}

fn record(state: &State, id: &str, bucket: Option<Bucket>) {
    let mut stats = state.stats.lock().expect("stats mutex");
    *stats.methods.entry(id.to_string()).or_default() += 1;
    stats.total += 1;
    match bucket {
        Some(Bucket::Read) => stats.reads += 1,
        Some(Bucket::Write) => stats.writes += 1,
        None => {}
    }
}

fn people_call(
    state: &State,
    req: &Request,
    method_id: &str,
    bucket: Bucket,
    rpc: &str,
    handler: PeopleHandler,
    params: &[String],
) -> ApiResult<Value> {
    let cfg = state.cfg();
    if cfg.latency_ms > 0 {
        thread::sleep(Duration::from_millis(cfg.latency_ms));
    }
    let grant = oauth::authenticate(state, req)?;
    let allowed = match bucket {
        Bucket::Write => grant.has_scope(CONTACTS_SCOPE),
        Bucket::Read => grant.has_scope(CONTACTS_SCOPE) || grant.has_scope(CONTACTS_READONLY_SCOPE),
    };
    if !allowed {
        return Err(ApiError::new(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
        )
        .with_error_info(
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "googleapis.com",
            json!({"service": "people.googleapis.com", "method": rpc}),
        ));
    }
    super::schema::check_query_params(method_id, &req.query)?;
    let now_ms = state.clock.now_ms();
    let limit = match bucket {
        Bucket::Read => cfg.read_quota_per_minute,
        Bucket::Write => cfg.write_quota_per_minute,
    };
    state
        .quota
        .lock()
        .expect("quota mutex")
        .take(&grant.account, bucket, limit, now_ms)?;
    let mut accounts = state.accounts();
    let Some(acct) = accounts.get_mut(&grant.account) else {
        return Err(oauth::invalid_credentials());
    };
    let mut api = Api {
        acct,
        now_ms,
        cfg: &cfg,
    };
    handler(&mut api, req, params)
}

/// Parses a JSON request body; an empty body is `{}` (Google accepts that for optional bodies).
pub fn json_body(req: &Request) -> ApiResult<Value> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::invalid_argument(&format!("Invalid JSON payload received. {e}")))
}

/// Parses an optional integer query parameter.
pub fn int_param(req: &Request, name: &str) -> ApiResult<Option<i64>> {
    match req.query_one(name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            ApiError::bad_field(
                name,
                &format!(
                    "Invalid value at '{}' (TYPE_INT32), \"{v}\"",
                    super::schema::camel_to_snake(name)
                ),
            )
        }),
    }
}

/// Parses an optional boolean query parameter.
pub fn bool_param(req: &Request, name: &str) -> ApiResult<bool> {
    match req.query_one(name) {
        None | Some("") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(v) => Err(ApiError::bad_field(
            name,
            &format!(
                "Invalid value at '{}' (TYPE_BOOL), \"{v}\"",
                super::schema::camel_to_snake(name)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_matches_router() {
        for (id, method, flat) in SERVED_METHODS {
            let path = format!(
                "/{}",
                flat.replace("{peopleId}", "c1")
                    .replace("{contactGroupsId}", "abc")
            );
            let path = if *id == "people.people.connections.list" {
                path.replace("c1", "me")
            } else {
                path
            };
            let r = route(method, &path).map(|r| r.id);
            assert_eq!(r, Some(*id), "{method} {path}");
        }
    }
}
