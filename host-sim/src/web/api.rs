//! The JSON API under `/api/` (see `host-sim/API.md`). Every answer is JSON; errors are
//! `{"error": "..."}` with 400 for bad input, 404 for unknown ids, 403 for CRM refusals.

use std::time::Duration;

use abi::{
    Contact, ContactId, Criterion, FilterId, Millis, PluginErrorKind, SavedFilter, SettingsPage, UserId,
};
use serde_json::{json, Value};

use super::routes::{parse_id, parse_page};
use super::{json as j, Ctx, Req, Resp};
use crate::crm::CrmError;

/// The longest `wait-idle` may block one request thread.
const MAX_WAIT_MS: u64 = 600_000;

/// An API error: a status and a sentence.
struct ApiError(u16, String);

/// What the API answers: JSON, or a file a plugin handed the user (an export).
enum Answer {
    Json(u16, Value),
    File(abi::Download),
}

type ApiResult = Result<Answer, ApiError>;

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(400, msg.into())
}

fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError(404, msg.into())
}

impl From<CrmError> for ApiError {
    fn from(e: CrmError) -> Self {
        let status = match e {
            CrmError::NoUser(_) | CrmError::NoContact(_) | CrmError::NoFilter(_) => 404,
            CrmError::Forbidden { .. } | CrmError::ReadOnly(_) => 403,
            CrmError::Journal(_) => 500,
        };
        ApiError(status, e.to_string())
    }
}

fn ok(v: Value) -> ApiResult {
    Ok(Answer::Json(200, v))
}

fn created_json(v: Value) -> ApiResult {
    Ok(Answer::Json(201, v))
}

pub(crate) fn handle(ctx: &Ctx, req: &Req, segs: &[&str]) -> Resp {
    match route(ctx, req, segs) {
        Ok(Answer::Json(status, v)) => Resp::json(status, &v),
        Ok(Answer::File(file)) => Resp::attachment(file),
        Err(ApiError(status, message)) => Resp::json(status, &json!({ "error": message })),
    }
}

fn body(req: &Req) -> Result<Value, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|e| bad(format!("The body is not valid JSON: {e}")))
}

fn id(s: &str, what: &str) -> Result<u64, ApiError> {
    parse_id(s).ok_or_else(|| bad(format!("\"{s}\" is not a {what} id (a positive integer).")))
}

fn user_id(ctx: &Ctx, s: &str) -> Result<UserId, ApiError> {
    let uid = UserId(id(s, "user")?);
    ctx.sim
        .crm()
        .user(uid)
        .map(|_| uid)
        .ok_or_else(|| not_found(format!("There is no user {}.", uid.0)))
}

/// A required unsigned integer member of a JSON body.
fn u64_field(b: &Value, name: &str) -> Result<u64, ApiError> {
    b.get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| bad(format!("\"{name}\" (a non-negative integer) is required.")))
}

fn str_list(b: &Value, name: &str) -> Result<Vec<String>, ApiError> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("\"{name}\" must be a list of strings.")))
            })
            .collect(),
        Some(_) => Err(bad(format!("\"{name}\" must be a list of strings."))),
    }
}

fn route(ctx: &Ctx, req: &Req, segs: &[&str]) -> ApiResult {
    let sim = &ctx.sim;
    match (req.method.as_str(), segs) {
        ("GET", ["health"]) => ok(json!({"ok": true, "plugins": sim.plugin_names()})),
        ("GET", ["plugins"]) => ok(json!(sim.plugin_names())),

        ("GET", ["users"]) => ok(Value::Array(sim.crm().users().iter().map(j::user).collect())),
        ("POST", ["users"]) => create_user(ctx, &body(req)?),
        ("GET", ["users", uid]) => {
            let uid = user_id(ctx, uid)?;
            sim.crm()
                .user(uid)
                .map(|u| Answer::Json(200, j::user(&u)))
                .ok_or_else(|| not_found("No such user."))
        }
        ("GET", ["users", uid, "filters", fid, "contacts"]) => filter_contacts(ctx, req, uid, fid),
        ("GET", ["users", uid, "locale"]) => {
            let uid = user_id(ctx, uid)?;
            ok(json!(sim.shared().locales.of(uid)))
        }
        ("PUT", ["users", uid, "locale"]) | ("POST", ["users", uid, "locale"]) => {
            let uid = user_id(ctx, uid)?;
            let b = body(req)?;
            let text = |name: &str| {
                b.get(name)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("\"{name}\" must be a string.")))
            };
            let locale = sim
                .shared()
                .locales
                .set(uid, &text("language")?, &text("time_zone")?)
                .map_err(|e| bad(e.to_string()))?;
            ok(json!(locale))
        }
        ("GET", ["users", uid, "notices"]) => {
            let uid = user_id(ctx, uid)?;
            ok(json!(sim.shared().notices.of_user(uid)))
        }
        ("GET", ["notices", "history"]) => ok(json!(sim.shared().notices.history())),
        ("GET", ["users", uid, "plugins", plugin, "settings"]) => {
            let (uid, plugin, page) = settings_target(ctx, req, uid, plugin)?;
            let view = sim.render_settings(&plugin, uid, page).map_err(plugin_error)?;
            ok(j::view(&view))
        }
        ("POST", ["users", uid, "plugins", plugin, "actions"]) => {
            let (uid, plugin, page) = settings_target(ctx, req, uid, plugin)?;
            let action = j::parse_action(&body(req)?).map_err(bad)?;
            if let Some(file) = sim.download(&plugin, uid, page, &action).map_err(plugin_error)? {
                return Ok(Answer::File(file));
            }
            let outcome = sim
                .settings_action(&plugin, uid, page, action)
                .map_err(plugin_error)?;
            ok(j::outcome(&outcome))
        }

        ("GET", ["users", uid, "plugins", plugin, "contacts", cid]) => {
            let (uid, plugin, _) = settings_target(ctx, req, uid, plugin)?;
            let cid = ContactId(id(cid, "contact")?);
            let panel = sim
                .render_contact_panel(&plugin, uid, cid)
                .map_err(plugin_error)?;
            ok(json!({ "panel": panel.as_ref().map(j::view) }))
        }

        ("GET", ["contacts"]) => ok(Value::Array(
            sim.crm().all_contacts().iter().map(j::record).collect(),
        )),
        ("POST", ["contacts"]) => create_contact(ctx, &body(req)?),
        ("GET", ["contacts", cid]) => get_contact(ctx, req, cid),
        ("PATCH", ["contacts", cid]) | ("PUT", ["contacts", cid]) => update_contact(ctx, req, cid),
        ("DELETE", ["contacts", cid]) => {
            let cid = ContactId(id(cid, "contact")?);
            let by = match req.query("by") {
                Some(u) => Some(user_id(ctx, u)?),
                None => None,
            };
            sim.delete_contact(cid, by)?;
            ok(json!({"deleted": cid.0}))
        }
        ("PUT", ["contacts", cid, "access"]) | ("POST", ["contacts", cid, "access"]) => {
            let cid = ContactId(id(cid, "contact")?);
            let b = body(req)?;
            let owner = UserId(u64_field(&b, "owner")?);
            if sim.crm().user(owner).is_none() {
                return Err(not_found(format!("There is no user {}.", owner.0)));
            }
            let visibility = j::parse_visibility(b.get("visibility").unwrap_or(&Value::Null)).map_err(bad)?;
            sim.set_access(cid, owner, visibility)?;
            let record = sim
                .crm()
                .contact(cid)
                .ok_or_else(|| not_found("The contact is gone."))?;
            ok(j::record(&record))
        }

        ("GET", ["filters"]) => ok(Value::Array(
            sim.crm().filters().iter().map(filter_json).collect(),
        )),
        ("POST", ["filters"]) => {
            let b = body(req)?;
            let base = SavedFilter {
                id: FilterId(0),
                name: "".into(),
                author: UserId(0),
                saved: true,
                criteria: Default::default(),
            };
            if b.get("author").is_none() {
                return Err(bad("\"author\" (a user id) is required."));
            }
            let saved = sim.save_filter(filter_over(base, &b)?)?;
            created_json(filter_json(&saved))
        }
        ("GET", ["filters", fid]) => {
            let fid = FilterId(id(fid, "filter")?);
            sim.crm()
                .filter(fid)
                .map(|f| Answer::Json(200, filter_json(&f)))
                .ok_or_else(|| not_found(format!("There is no filter {}.", fid.0)))
        }
        ("PUT", ["filters", fid]) | ("PATCH", ["filters", fid]) => {
            let fid = FilterId(id(fid, "filter")?);
            let base = sim
                .crm()
                .filter(fid)
                .ok_or_else(|| not_found(format!("There is no filter {}.", fid.0)))?;
            let saved = sim.save_filter(filter_over(base, &body(req)?)?)?;
            ok(filter_json(&saved))
        }

        ("GET", ["clock"]) => ok(json!({"now_ms": sim.clock().now().0, "manual": sim.clock().is_manual()})),
        ("POST", ["clock", "advance"]) => {
            let b = body(req)?;
            let ms = u64_field(&b, "ms")?;
            let ms = i64::try_from(ms).map_err(|_| bad("\"ms\" is too large."))?;
            sim.advance(ms);
            ok(json!({"now_ms": sim.clock().now().0}))
        }
        ("POST", ["ticks"]) => {
            let at: Millis = sim.clock().now();
            sim.tick(at);
            ok(json!({"at_ms": at.0}))
        }
        ("POST", ["wait-idle"]) => {
            let b = body(req)?;
            let timeout_ms = b.get("timeout_ms").map_or(Some(30_000), Value::as_u64);
            let timeout_ms =
                timeout_ms.ok_or_else(|| bad("\"timeout_ms\" must be a non-negative integer."))?;
            let idle = sim.wait_idle(Duration::from_millis(timeout_ms.min(MAX_WAIT_MS)));
            if idle {
                ok(json!({"idle": true}))
            } else {
                Err(ApiError(
                    503,
                    format!(
                        "Plugin jobs were still running after {timeout_ms} ms ({} pending).",
                        sim.pending_jobs()
                    ),
                ))
            }
        }
        ("GET", ["log"]) => {
            let contains = req.query("contains").unwrap_or("");
            let lines: Vec<Value> = sim
                .logbook()
                .grep(contains)
                .iter()
                .map(|l| {
                    json!({"level": format!("{:?}", l.level).to_lowercase(), "target": l.target, "thread": l.thread, "message": l.message})
                })
                .collect();
            ok(Value::Array(lines))
        }
        ("GET", ["hook-errors"]) => ok(json!(sim.hook_errors())),
        _ => Err(not_found(format!(
            "There is no API route {} {}.",
            req.method, req.path
        ))),
    }
}

fn create_user(ctx: &Ctx, b: &Value) -> ApiResult {
    let name = b
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty());
    let name = name.ok_or_else(|| bad("\"name\" (a non-empty string) is required."))?;
    let features = str_list(b, "features")?;
    let roles = str_list(b, "roles")?;
    let permission = match b.get("contacts_permission") {
        None => abi::ContactsPermission::Edit,
        Some(Value::String(s)) => j::parse_permission(s).map_err(bad)?,
        Some(_) => {
            return Err(bad(
                "\"contacts_permission\" must be \"none\", \"view\" or \"edit\".",
            ))
        }
    };
    let f: Vec<&str> = features.iter().map(String::as_str).collect();
    let r: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut user = ctx.sim.crm().add_user(name, &f, permission, &r)?;
    let mut changed = false;
    if let Some(plan) = b.get("plan").and_then(Value::as_str) {
        user.plan.name = plan.into();
        changed = true;
    }
    if let Some(email) = b.get("email").and_then(Value::as_str) {
        user.email = email.into();
        changed = true;
    }
    if changed {
        ctx.sim.crm().put_user_record(user.clone())?;
    }
    created_json(j::user(&user))
}

fn create_contact(ctx: &Ctx, b: &Value) -> ApiResult {
    let owner = UserId(u64_field(b, "owner")?);
    let visibility = match b.get("visibility") {
        None => crate::crm::Visibility::Everyone,
        Some(v) => j::parse_visibility(v).map_err(bad)?,
    };
    let contact =
        j::contact_over(&Contact::default(), b.get("contact").unwrap_or(&json!({}))).map_err(bad)?;
    let created = ctx.sim.create_contact(owner, contact, visibility)?;
    let record = ctx
        .sim
        .crm()
        .contact(created.id)
        .ok_or_else(|| not_found("The contact is gone."))?;
    created_json(j::record(&record))
}

fn get_contact(ctx: &Ctx, req: &Req, cid: &str) -> ApiResult {
    let cid = ContactId(id(cid, "contact")?);
    let record = ctx
        .sim
        .crm()
        .contact(cid)
        .ok_or_else(|| not_found(format!("There is no contact {}.", cid.0)))?;
    if let Some(u) = req.query("as_user") {
        let uid = user_id(ctx, u)?;
        return match ctx.sim.crm().contact_as(uid, cid)? {
            Some(c) => ok(j::contact(&c)),
            None => Err(ApiError(
                403,
                format!("User {} may not see contact {}.", uid.0, cid.0),
            )),
        };
    }
    ok(j::record(&record))
}

/// `{"as_user": uid, "contact": {fields to change}}`: the fields given replace the stored ones.
fn update_contact(ctx: &Ctx, req: &Req, cid: &str) -> ApiResult {
    let cid = ContactId(id(cid, "contact")?);
    let b = body(req)?;
    let uid = UserId(u64_field(&b, "as_user")?);
    let record = ctx
        .sim
        .crm()
        .contact(cid)
        .ok_or_else(|| not_found(format!("There is no contact {}.", cid.0)))?;
    let mut contact =
        j::contact_over(&record.contact, b.get("contact").unwrap_or(&json!({}))).map_err(bad)?;
    contact.id = cid;
    let updated = ctx.sim.update_contact(uid, contact)?;
    let record = ctx
        .sim
        .crm()
        .contact(updated.id)
        .ok_or_else(|| not_found("The contact is gone."))?;
    ok(j::record(&record))
}

fn filter_contacts(ctx: &Ctx, req: &Req, uid: &str, fid: &str) -> ApiResult {
    let uid = user_id(ctx, uid)?;
    let fid = FilterId(id(fid, "filter")?);
    let after = match req.query("after") {
        Some(a) => ContactId(id(a, "contact")?),
        None => ContactId(0),
    };
    let limit = match req.query("limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| bad("\"limit\" must be a non-negative integer."))?,
        None => 1000,
    };
    let contacts = ctx.sim.crm().filter_contacts(fid, uid, after, limit)?;
    ok(Value::Array(contacts.iter().map(j::contact).collect()))
}

/// The user, plugin and page a settings call is for; `?page=` defaults to the integration page.
fn settings_target(
    ctx: &Ctx,
    req: &Req,
    uid: &str,
    plugin: &str,
) -> Result<(UserId, String, SettingsPage), ApiError> {
    let uid = user_id(ctx, uid)?;
    if !ctx.sim.plugin_names().iter().any(|p| p == plugin) {
        return Err(not_found(format!("No plugin named \"{plugin}\" is loaded.")));
    }
    let page = match req.query("page") {
        None => SettingsPage::Integration,
        Some(p) => parse_page(p)
            .ok_or_else(|| bad(format!("Unknown page \"{p}\"; use integration or filter:<id>.")))?,
    };
    if let SettingsPage::Filter(fid) = page {
        if ctx.sim.crm().filter(fid).is_none() {
            return Err(not_found(format!("There is no filter {}.", fid.0)));
        }
    }
    Ok((uid, plugin.to_string(), page))
}

fn plugin_error(e: abi::PluginError) -> ApiError {
    let status = match e.kind {
        PluginErrorKind::Rejected => 400,
        PluginErrorKind::Failed | PluginErrorKind::Panicked => 500,
    };
    ApiError(status, e.message.to_string())
}

fn filter_json(f: &SavedFilter) -> Value {
    json!({
        "id": f.id.0,
        "name": f.name.as_str(),
        "author": f.author.0,
        "saved": f.saved,
        "criteria": f.criteria.iter().map(|c| json!({"field": c.field.as_str(), "op": c.op.as_str(), "value": c.value.as_str()})).collect::<Vec<_>>(),
    })
}

/// `{name, author, saved, criteria: [{field, op, value}]}` over `base`; members left out keep
/// `base`'s values.
fn filter_over(mut f: SavedFilter, b: &Value) -> Result<SavedFilter, ApiError> {
    if !b.is_object() {
        return Err(bad("The filter must be a JSON object."));
    }
    if let Some(v) = b.get("name") {
        f.name = v
            .as_str()
            .ok_or_else(|| bad("\"name\" must be a string."))?
            .into();
    }
    if b.get("author").is_some() {
        f.author = UserId(u64_field(b, "author")?);
    }
    if let Some(v) = b.get("saved") {
        f.saved = v
            .as_bool()
            .ok_or_else(|| bad("\"saved\" must be true or false."))?;
    }
    if let Some(v) = b.get("criteria") {
        let items = v.as_array().ok_or_else(|| bad("\"criteria\" must be a list."))?;
        let mut criteria = Vec::new();
        for c in items {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            if s("field").is_empty() || s("op").is_empty() {
                return Err(bad(
                    "Each criterion needs \"field\" and \"op\" (and \"value\" unless op is not_empty).",
                ));
            }
            if !["equals", "contains", "not_empty"].contains(&s("op").as_str()) {
                return Err(bad(format!(
                    "Unknown criterion op \"{}\"; use equals, contains or not_empty.",
                    s("op")
                )));
            }
            criteria.push(Criterion {
                field: s("field").into(),
                op: s("op").into(),
                value: s("value").into(),
            });
        }
        f.criteria = criteria.into();
    }
    Ok(f)
}
