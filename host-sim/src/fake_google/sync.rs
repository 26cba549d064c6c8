//! people.connections.list: snapshot pagination, sync tokens, tombstones, propagation delay.

use base64::Engine as _;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::http::Request;
use super::person::{self, parse_mask, READABLE_FIELDS};
use super::server::{bool_param, int_param, Api};
use super::store::{Account, Contact, Snapshot, Version};

const LIST_DOC: &str = "people.connections/list";

/// What a sync token remembers: whose it is, the snapshot it closes, when it was issued, when
/// the full listing that began its chain started (its age counts from there: "Sync tokens
/// expire 7 days after the full sync"), and a fingerprint of the request parameters that must
/// stay the same.
#[derive(Debug, Serialize, Deserialize)]
struct SyncToken {
    user: String,
    snap: Snapshot,
    issued_ms: i64,
    chain_ms: i64,
    params: String,
}

/// A page token pins the listing to the snapshot of its first page so pages never shift.
#[derive(Debug, Serialize, Deserialize)]
struct PageToken {
    user: String,
    snap: Snapshot,
    since: Option<Snapshot>,
    offset: usize,
    params: String,
    want_sync_token: bool,
    /// The start of the sync chain (the full listing's first page) the next sync token carries.
    chain_ms: i64,
}

pub fn encode_token<T: Serialize>(prefix: &str, t: &T) -> String {
    let raw = serde_json::to_vec(t).unwrap_or_default();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

pub fn decode_token<T: DeserializeOwned>(prefix: &str, s: &str) -> Option<T> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.strip_prefix(prefix)?)
        .ok()?;
    serde_json::from_slice(&raw).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortOrder {
    LastModifiedAsc,
    LastModifiedDesc,
    FirstNameAsc,
    LastNameAsc,
}

fn sort_order(req: &Request) -> ApiResult<SortOrder> {
    Ok(match req.query_one("sortOrder").unwrap_or("") {
        "" | "LAST_MODIFIED_ASCENDING" => SortOrder::LastModifiedAsc,
        "LAST_MODIFIED_DESCENDING" => SortOrder::LastModifiedDesc,
        "FIRST_NAME_ASCENDING" => SortOrder::FirstNameAsc,
        "LAST_NAME_ASCENDING" => SortOrder::LastNameAsc,
        other => {
            return Err(ApiError::bad_field(
                "sortOrder",
                &format!("Invalid value at 'sort_order' (type.googleapis.com/google.people.v1.ListConnectionsRequest.SortOrder), \"{other}\""),
            ))
        }
    })
}

fn name_key(v: &Version, part: &str) -> String {
    v.data
        .as_ref()
        .and_then(|d| d.fields.get("names"))
        .and_then(|n| n[0][part].as_str())
        .unwrap_or("\u{10FFFF}") // nameless contacts sort last
        .to_lowercase()
}

/// Page size: 1..=1000, 0 or absent → `default`.
pub fn page_size(req: &Request, default: usize) -> ApiResult<usize> {
    match int_param(req, "pageSize")? {
        None | Some(0) => Ok(default),
        Some(n) if (1..=1000).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::bad_field(
            "pageSize",
            &format!("Invalid pageSize: {n}. pageSize must be between 1 and 1000, inclusive."),
        )),
    }
}

pub fn list_connections(api: &mut Api, req: &Request, params: &[String]) -> ApiResult<Value> {
    if params.first().map(String::as_str) != Some("me") {
        return Err(ApiError::invalid_argument(
            "Only people/me is valid for people.connections.list.",
        ));
    }
    let mask = parse_mask(
        req.query_one("personFields"),
        READABLE_FIELDS,
        "personFields",
        true,
        LIST_DOC,
    )?;
    let size = page_size(req, 100)?;
    let order = sort_order(req)?;
    let want_sync_token = bool_param(req, "requestSyncToken")?;
    let mut sorted_mask = mask.clone();
    sorted_mask.sort();
    let mut sources: Vec<&str> = req.query_all("sources");
    const SOURCES: &[&str] = &[
        "READ_SOURCE_TYPE_UNSPECIFIED",
        "READ_SOURCE_TYPE_PROFILE",
        "READ_SOURCE_TYPE_CONTACT",
        "READ_SOURCE_TYPE_DOMAIN_CONTACT",
        "READ_SOURCE_TYPE_OTHER_CONTACT",
    ];
    if let Some(bad) = sources.iter().find(|s| !SOURCES.contains(s)) {
        return Err(ApiError::bad_field(
            "sources",
            &format!(
                "Invalid value at 'sources' (type.googleapis.com/google.people.v1.ReadSourceType), \"{bad}\""
            ),
        ));
    }
    sources.sort();
    // Page and sync tokens only work with the parameters of the call that produced them.
    let fingerprint = format!("{}|{}|{order:?}", sorted_mask.join(","), sources.join(","));
    let acct = &*api.acct;

    // Where this page starts: a page token pins everything; else a sync token gives `since`.
    let (snap, since, offset, want_sync_token, chain_ms) = match req
        .query_one("pageToken")
        .filter(|t| !t.is_empty())
    {
        Some(raw) => {
            let t: PageToken = decode_token("p", raw)
                .filter(|t: &PageToken| t.user == acct.user_id)
                .ok_or_else(|| ApiError::bad_field("pageToken", "Page token is invalid."))?;
            if t.params != fingerprint {
                return Err(ApiError::bad_field(
                    "pageToken",
                    "Parameters provided to people.connections.list must match the first call that provided the page token.",
                ));
            }
            (t.snap, t.since, t.offset, t.want_sync_token, t.chain_ms)
        }
        None => {
            let previous = match req.query_one("syncToken").filter(|t| !t.is_empty()) {
                Some(raw) => Some(check_sync_token(
                    acct,
                    raw,
                    &fingerprint,
                    api.now_ms,
                    api.cfg.sync_token_max_age_secs,
                )?),
                None => None,
            };
            let since = previous.as_ref().map(|t| t.snap);
            // A full listing begins a new chain; a delta continues its token's chain.
            let chain_ms = previous.as_ref().map_or(api.now_ms, |t| t.chain_ms);
            (
                acct.snapshot(api.now_ms),
                since,
                0,
                want_sync_token || since.is_some(),
                chain_ms,
            )
        }
    };

    let mut items: Vec<(&Contact, &Version)> = acct
        .contacts
        .values()
        .filter_map(|c| c.at(snap).map(|v| (c, v)))
        .filter(|(_, v)| match since {
            // Full listing: live contacts only.
            None => v.data.is_some(),
            // Delta: whatever changed since the previous snapshot, tombstones included.
            Some(s) => !(v.seq <= s.seq && v.visible_at_ms <= s.time_ms),
        })
        .collect();
    match order {
        SortOrder::LastModifiedAsc => items.sort_by_key(|(_, v)| (v.update_ms, v.seq)),
        SortOrder::LastModifiedDesc => items.sort_by_key(|(_, v)| std::cmp::Reverse((v.update_ms, v.seq))),
        SortOrder::FirstNameAsc => items.sort_by_key(|(c, v)| (name_key(v, "givenName"), c.id.clone())),
        SortOrder::LastNameAsc => items.sort_by_key(|(c, v)| (name_key(v, "familyName"), c.id.clone())),
    }
    let total = items.len();
    let page: Vec<Value> = items
        .iter()
        .skip(offset)
        .take(size)
        .map(|(c, v)| person::render_listed(c, v, &mask, since.is_some()))
        .collect();
    let mut out = json!({});
    if !page.is_empty() {
        out["connections"] = Value::Array(page);
    }
    let next = offset + size;
    if next < total {
        let t = PageToken {
            user: acct.user_id.clone(),
            snap,
            since,
            offset: next,
            params: fingerprint,
            want_sync_token,
            chain_ms,
        };
        out["nextPageToken"] = json!(encode_token("p", &t));
    } else if want_sync_token {
        let t = SyncToken {
            user: acct.user_id.clone(),
            snap,
            issued_ms: snap.time_ms,
            chain_ms,
            params: fingerprint,
        };
        out["nextSyncToken"] = json!(encode_token("s", &t));
    }
    if total > 0 {
        out["totalItems"] = json!(total);
        out["totalPeople"] = json!(total);
    }
    Ok(out)
}

fn check_sync_token(
    acct: &Account,
    raw: &str,
    fingerprint: &str,
    now_ms: i64,
    max_age_secs: u64,
) -> ApiResult<SyncToken> {
    let t: SyncToken = decode_token("s", raw)
        .filter(|t: &SyncToken| t.user == acct.user_id)
        .ok_or_else(|| ApiError::bad_field("syncToken", "Sync token is invalid."))?;
    let max_age_ms = i64::try_from(max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if now_ms.saturating_sub(t.chain_ms) > max_age_ms || t.issued_ms < acct.sync_tokens_valid_from_ms {
        return Err(ApiError::expired_sync_token());
    }
    if t.params != fingerprint {
        return Err(ApiError::bad_field(
            "syncToken",
            "Parameters provided to people.connections.list must match the first call that provided the sync token.",
        ));
    }
    Ok(t)
}
