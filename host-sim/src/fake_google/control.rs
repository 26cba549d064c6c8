//! The control surface: the same operations as Rust methods ([`FakeGoogleControl`]) and as a JSON
//! HTTP API under `/control/...` (documented in `host-sim/FAKE_GOOGLE.md`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::faults::FaultRule;
use super::http::{Request, Response};
use super::oauth::IssuedTokens;
use super::people::{self, contact_id, prepare_create, prepare_update};
use super::person::{self, READABLE_FIELDS, UPDATABLE_FIELDS};
use super::server::{json_body, Stats};
use super::store::Account;
use super::{groups, FakeGoogleConfig, State};

/// A cloneable handle on a running fake's controls. Contact and group edits here act like a
/// person using Google's web UI: no auth or quota, but real Google writes (new etags and update
/// times, sync deltas, tombstones, propagation delay).
#[derive(Clone)]
pub struct FakeGoogleControl {
    state: Arc<State>,
    base_url: String,
}

fn all_fields() -> Vec<String> {
    READABLE_FIELDS.iter().map(|s| s.to_string()).collect()
}

fn unknown_account(email: &str) -> ApiError {
    ApiError::new(404, "NOT_FOUND", format!("Unknown account: {email}"))
}

fn group_id(resource_name: &str) -> &str {
    resource_name
        .strip_prefix("contactGroups/")
        .unwrap_or(resource_name)
}

impl FakeGoogleControl {
    pub(crate) fn new(state: Arc<State>, base_url: String) -> FakeGoogleControl {
        FakeGoogleControl { state, base_url }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn config(&self) -> FakeGoogleConfig {
        self.state.cfg()
    }

    /// Replaces the configuration. New account emails get empty accounts; none are removed.
    pub fn set_config(&self, cfg: FakeGoogleConfig) {
        let now = self.state.clock.now_ms();
        {
            let mut accounts = self.state.accounts();
            for email in &cfg.accounts {
                accounts
                    .entry(email.clone())
                    .or_insert_with(|| Account::new(email, now));
            }
        }
        *self.state.config.lock().expect("config mutex") = cfg;
    }

    pub fn update_config(&self, f: impl FnOnce(&mut FakeGoogleConfig)) {
        let mut cfg = self.config();
        f(&mut cfg);
        self.set_config(cfg);
    }

    /// The fake's current time (real time plus the offset added by [`Self::advance_clock`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    pub fn advance_clock(&self, by: Duration) {
        self.state
            .clock
            .advance_ms(i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4));
    }

    pub fn stats(&self) -> Stats {
        self.state.stats.lock().expect("stats mutex").clone()
    }

    pub fn reset_stats(&self) {
        *self.state.stats.lock().expect("stats mutex") = Stats::default();
    }

    /// Forgets the requests counted against this minute's quotas.
    pub fn reset_quotas(&self) {
        self.state.quota.lock().expect("quota mutex").reset();
    }

    pub fn add_fault(&self, rule: FaultRule) -> Result<(), String> {
        rule.validate()?;
        self.state.faults.lock().expect("faults mutex").rules.push(rule);
        Ok(())
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        self.state.faults.lock().expect("faults mutex").rules.clone()
    }

    pub fn clear_faults(&self) {
        self.state.faults.lock().expect("faults mutex").rules.clear();
    }

    /// Every sync token issued so far (for one account, or all) is expired from now on.
    pub fn expire_sync_tokens(&self, account: Option<&str>) {
        let now = self.state.clock.now_ms();
        for (email, acct) in self.state.accounts().iter_mut() {
            if account.is_none_or(|a| a == email) {
                acct.sync_tokens_valid_from_ms = now + 1;
            }
        }
    }

    /// Mints an access + refresh token pair without the consent page.
    pub fn issue_tokens(&self, account: &str, scopes: &[&str]) -> ApiResult<IssuedTokens> {
        if !self.state.accounts().contains_key(account) {
            return Err(unknown_account(account));
        }
        let cfg = self.config();
        let now = self.state.clock.now_ms();
        Ok(self
            .state
            .oauth
            .lock()
            .expect("oauth mutex")
            .issue(&cfg, account, scopes, now))
    }

    /// Revokes all of an account's grants (as "Remove access" in the Google account page).
    pub fn revoke_tokens(&self, account: &str) -> usize {
        self.state
            .oauth
            .lock()
            .expect("oauth mutex")
            .revoke_account(account)
    }

    /// Revokes the grant behind one access or refresh token.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.state.oauth.lock().expect("oauth mutex").revoke_token(token)
    }

    /// Makes current access tokens expire now (refresh tokens stay valid).
    pub fn expire_access_tokens(&self, account: Option<&str>) -> usize {
        let now = self.state.clock.now_ms();
        self.state
            .oauth
            .lock()
            .expect("oauth mutex")
            .expire_access_tokens(account, now)
    }

    pub fn accounts(&self) -> Vec<String> {
        self.state.accounts().keys().cloned().collect()
    }

    fn with_account<T>(
        &self,
        email: &str,
        f: impl FnOnce(&mut Account, i64, &FakeGoogleConfig) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let cfg = self.config();
        let now = self.state.clock.now_ms();
        let mut accounts = self.state.accounts();
        let acct = accounts.get_mut(email).ok_or_else(|| unknown_account(email))?;
        f(acct, now, &cfg)
    }

    /// Live contacts with all fields, newest state (ignores propagation delay), by update time.
    pub fn contacts(&self, account: &str) -> ApiResult<Vec<Value>> {
        self.with_account(account, |acct, _, _| {
            let mut live: Vec<_> = acct.contacts.values().filter(|c| c.live().is_some()).collect();
            live.sort_by_key(|c| (c.latest().update_ms, c.latest().seq));
            Ok(live
                .iter()
                .map(|c| person::render(c, c.latest(), &all_fields()))
                .collect())
        })
    }

    /// Deleted contacts as the tombstones sync deltas carry.
    pub fn tombstones(&self, account: &str) -> ApiResult<Vec<Value>> {
        self.with_account(account, |acct, _, _| {
            let mut dead: Vec<_> = acct.contacts.values().filter(|c| c.live().is_none()).collect();
            dead.sort_by_key(|c| c.latest().seq);
            Ok(dead.iter().map(|c| person::render(c, c.latest(), &[])).collect())
        })
    }

    pub fn contact(&self, account: &str, resource_name: &str) -> ApiResult<Value> {
        self.with_account(account, |acct, _, _| {
            people::render_live(acct, contact_id(resource_name)?, &all_fields())
        })
    }

    /// Creates a contact (a Person JSON, memberships optional) as the user would in the web UI.
    pub fn create_contact(&self, account: &str, person: &Value) -> ApiResult<Value> {
        self.with_account(account, |acct, now, cfg| {
            people::check_capacity(acct, 1, cfg.max_contacts_per_account)?;
            let data = prepare_create(acct, person, "person")?;
            people::check_contact_size(&data, cfg.max_contact_bytes)?;
            let id = acct.insert_contact(data, now, cfg.lag());
            people::render_live(acct, &id, &all_fields())
        })
    }

    /// Replaces the updatable fields present in `person` (memberships included); no etag needed.
    pub fn edit_contact(&self, account: &str, resource_name: &str, person: &Value) -> ApiResult<Value> {
        self.edit_contact_with(account, resource_name, |_| person.clone())
            .map(|(_, saved)| saved)
    }

    /// Edits a contact from what Google holds at that instant, as a user saving it in the web UI
    /// does: `edit` gets the contact and gives the Person to write (as [`Self::edit_contact`]),
    /// and no other write lands in between. Returns the contact before and after the edit.
    pub fn edit_contact_with(
        &self,
        account: &str,
        resource_name: &str,
        edit: impl FnOnce(&Value) -> Value,
    ) -> ApiResult<(Value, Value)> {
        self.with_account(account, |acct, now, cfg| {
            let id = contact_id(resource_name)?.to_string();
            let before = people::render_live(acct, &id, &all_fields())?;
            let person = edit(&before);
            let mask: Vec<String> = person
                .as_object()
                .map(|m| {
                    m.keys()
                        .filter(|k| UPDATABLE_FIELDS.contains(&k.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let data = prepare_update(acct, &id, &person, &mask, "person", false)?;
            people::check_contact_size(&data, cfg.max_contact_bytes)?;
            acct.write_contact(&id, Some(data), now, cfg.lag());
            Ok((before, people::render_live(acct, &id, &all_fields())?))
        })
    }

    /// Gives a live contact a new resource name, as Google does when a verified e-mail, phone
    /// or profile gets linked to it (`PersonMetadata.previousResourceNames`). Returns the new
    /// resource name; the old one answers 404 from now on.
    pub fn rename_contact(&self, account: &str, resource_name: &str) -> ApiResult<String> {
        self.with_account(account, |acct, now, cfg| {
            let id = contact_id(resource_name)?.to_string();
            let new_id = acct
                .rename_contact(&id, now, cfg.lag())
                .ok_or_else(ApiError::not_found)?;
            Ok(format!("people/{new_id}"))
        })
    }

    pub fn delete_contact(&self, account: &str, resource_name: &str) -> ApiResult<()> {
        self.with_account(account, |acct, now, cfg| {
            let id = contact_id(resource_name)?.to_string();
            if acct.live(&id).is_none() {
                return Err(ApiError::not_found());
            }
            acct.write_contact(&id, None, now, cfg.lag());
            Ok(())
        })
    }

    /// All live groups with every field and all member resource names.
    pub fn groups(&self, account: &str) -> ApiResult<Vec<Value>> {
        self.with_account(account, |acct, _, _| {
            let mask: Vec<String> = ["clientData", "groupType", "memberCount", "metadata", "name"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            Ok(acct
                .groups
                .values()
                .filter(|g| !g.deleted)
                .map(|g| groups::render_group(acct, g, &mask, usize::MAX))
                .collect())
        })
    }

    pub fn create_group(&self, account: &str, name: &str) -> ApiResult<Value> {
        self.with_account(account, |acct, now, _| {
            let id = groups::create_group(acct, name, Vec::new(), now)?;
            let mask = vec!["name".to_string(), "groupType".into(), "metadata".into()];
            let g = acct.live_group(&id).ok_or_else(ApiError::internal)?;
            Ok(groups::render_group(acct, g, &mask, 0))
        })
    }

    pub fn delete_group(&self, account: &str, resource_name: &str, delete_contacts: bool) -> ApiResult<()> {
        self.with_account(account, |acct, now, cfg| {
            groups::delete_group(acct, group_id(resource_name), delete_contacts, now, cfg.lag())
        })
    }

    /// Adds/removes contacts (resource names) to/from a group; returns Google's modify response.
    pub fn modify_group_members(
        &self,
        account: &str,
        group: &str,
        add: &[&str],
        remove: &[&str],
    ) -> ApiResult<Value> {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        self.with_account(account, |acct, now, cfg| {
            groups::modify(acct, group_id(group), &own(add), &own(remove), now, cfg.lag())
        })
    }
}

fn ok(v: Value) -> ApiResult<Value> {
    Ok(v)
}

fn str_list(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn bad_request(msg: &str) -> ApiError {
    ApiError::invalid_argument(msg)
}

/// `/control/...` router.
pub fn handle(state: &Arc<State>, req: &Request) -> Response {
    let ctl = FakeGoogleControl::new(state.clone(), String::new());
    match route(&ctl, req) {
        Ok(v) => Response::json(200, &v),
        Err(e) => e.into_response(),
    }
}

fn route(ctl: &FakeGoogleControl, req: &Request) -> ApiResult<Value> {
    let segs: Vec<&str> = req
        .path
        .trim_start_matches("/control")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let body = || json_body(req);
    let account_of = |b: &Value| b["account"].as_str().map(str::to_string);
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", ["health"]) => ok(json!({"ok": true})),
        ("GET", ["config"]) => ok(json!(ctl.config())),
        ("PATCH", ["config"]) | ("POST", ["config"]) => {
            let mut merged = json!(ctl.config());
            let patch = body()?;
            let (Some(m), Some(p)) = (merged.as_object_mut(), patch.as_object()) else {
                return Err(bad_request("Expected a JSON object."));
            };
            for (k, v) in p {
                if !m.contains_key(k) {
                    return Err(bad_request(&format!("Unknown config field \"{k}\".")));
                }
                m.insert(k.clone(), v.clone());
            }
            let cfg: FakeGoogleConfig =
                serde_json::from_value(merged).map_err(|e| bad_request(&format!("Invalid config: {e}")))?;
            ctl.set_config(cfg);
            ok(json!(ctl.config()))
        }
        ("GET", ["clock"]) => {
            ok(json!({"now": ctl.now().to_rfc3339(), "offsetMs": ctl.state.clock.offset_ms()}))
        }
        ("POST", ["clock", "advance"]) => {
            let b = body()?;
            let ms = b["ms"].as_u64().unwrap_or(0) + b["secs"].as_u64().unwrap_or(0) * 1000;
            ctl.advance_clock(Duration::from_millis(ms));
            ok(json!({"now": ctl.now().to_rfc3339(), "offsetMs": ctl.state.clock.offset_ms()}))
        }
        ("GET", ["stats"]) => ok(json!(ctl.stats())),
        ("POST", ["stats", "reset"]) => {
            ctl.reset_stats();
            ok(json!({}))
        }
        ("POST", ["quota", "reset"]) => {
            ctl.reset_quotas();
            ok(json!({}))
        }
        ("GET", ["faults"]) => ok(json!(ctl.faults())),
        ("POST", ["faults"]) => {
            let rule: FaultRule = serde_json::from_value(body()?)
                .map_err(|e| bad_request(&format!("Invalid fault rule: {e}")))?;
            ctl.add_fault(rule).map_err(|e| bad_request(&e))?;
            ok(json!(ctl.faults()))
        }
        ("DELETE", ["faults"]) => {
            ctl.clear_faults();
            ok(json!([]))
        }
        ("POST", ["sync-tokens", "expire"]) => {
            ctl.expire_sync_tokens(account_of(&body()?).as_deref());
            ok(json!({}))
        }
        ("POST", ["tokens", "issue"]) => {
            let b = body()?;
            let account = account_of(&b).ok_or_else(|| bad_request("\"account\" is required."))?;
            let scopes = str_list(&b["scopes"]);
            let scopes = if scopes.is_empty() {
                vec![super::CONTACTS_SCOPE]
            } else {
                scopes
            };
            ok(json!(ctl.issue_tokens(&account, &scopes)?))
        }
        ("POST", ["tokens", "revoke"]) => {
            let b = body()?;
            if let Some(t) = b["token"].as_str() {
                return ok(json!({"revoked": usize::from(ctl.revoke_token(t))}));
            }
            let account = account_of(&b).ok_or_else(|| bad_request("Give \"account\" or \"token\"."))?;
            ok(json!({"revoked": ctl.revoke_tokens(&account)}))
        }
        ("POST", ["tokens", "expire"]) => {
            ok(json!({"expired": ctl.expire_access_tokens(account_of(&body()?).as_deref())}))
        }
        ("GET", ["accounts"]) => ok(json!(ctl.accounts())),
        ("GET", ["accounts", a, "contacts"]) => ok(json!(ctl.contacts(a)?)),
        ("POST", ["accounts", a, "contacts"]) => ctl.create_contact(a, &body()?),
        ("GET", ["accounts", a, "contacts", id]) => ctl.contact(a, &format!("people/{id}")),
        ("PATCH", ["accounts", a, "contacts", id]) => ctl.edit_contact(a, &format!("people/{id}"), &body()?),
        ("DELETE", ["accounts", a, "contacts", id]) => {
            ctl.delete_contact(a, &format!("people/{id}")).map(|_| json!({}))
        }
        ("POST", ["accounts", a, "contacts", id, "rename"]) => {
            let rn = ctl.rename_contact(a, &format!("people/{id}"))?;
            ok(json!({ "resourceName": rn }))
        }
        ("GET", ["accounts", a, "tombstones"]) => ok(json!(ctl.tombstones(a)?)),
        ("GET", ["accounts", a, "groups"]) => ok(json!(ctl.groups(a)?)),
        ("POST", ["accounts", a, "groups"]) => {
            let b = body()?;
            ctl.create_group(a, b["name"].as_str().unwrap_or(""))
        }
        ("DELETE", ["accounts", a, "groups", id]) => {
            let delete_contacts = matches!(req.query_one("deleteContacts"), Some("true") | Some("1"));
            ctl.delete_group(a, id, delete_contacts).map(|_| json!({}))
        }
        ("POST", ["accounts", a, "groups", id, "members"]) => {
            let b = body()?;
            ctl.modify_group_members(a, id, &str_list(&b["add"]), &str_list(&b["remove"]))
        }
        _ => Err(ApiError::new(
            404,
            "NOT_FOUND",
            format!("Unknown control route: {} {}", req.method, req.path),
        )),
    }
}
