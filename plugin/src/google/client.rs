//! The People API v1 client of one Google account.
//!
//! Every request goes through [`PeopleClient::send`]: quota bucket → access token → HTTP →
//! retry (429, 5xx, timeouts, dropped connections; exponential backoff with jitter, honouring
//! `Retry-After`) → 401 refresh-once → typed errors. Mutations hold the account's mutation lock
//! for the whole call including its retries, because Google asks for sequential mutations.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::accounts::AccountState;
use super::endpoints::GoogleConfig;
use super::error::{redact, GoogleError, ItemError};
use super::oauth::without_url;
use super::person::{ContactGroup, Person};
use super::quota::QuotaKind;
use super::retry::{parse_retry_after, RetryPolicy};
use super::time::Sleeper;
use super::wire;

/// Google's limits per call.
pub const CONNECTIONS_PAGE_SIZE: u32 = 1000;
pub const BATCH_GET_LIMIT: usize = 200;
pub const BATCH_CREATE_LIMIT: usize = 200;
pub const BATCH_UPDATE_LIMIT: usize = 200;
pub const BATCH_DELETE_LIMIT: usize = 500;
pub const MEMBERS_MODIFY_LIMIT: usize = 1000;
/// Group fields we read.
pub const GROUP_FIELDS: &str = "clientData,groupType,memberCount,metadata,name";

/// Extra requests a batch call may spend splitting a refused chunk to find the bad contacts.
const BISECT_BUDGET: usize = 32;

/// Result of a full or incremental `connections.list` walk.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    /// All persons of all pages (tombstones included on incremental listings).
    pub people: Vec<Person>,
    /// Token for the next incremental listing.
    pub next_sync_token: Option<String>,
}

/// Summary of a page-at-a-time listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSummary {
    pub next_sync_token: Option<String>,
    /// Google's `totalItems` of the first page, when given.
    pub total_items: Option<i64>,
    pub pages: usize,
    pub people: usize,
}

/// The outcome for one input of a batch call.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// Position of the input in the caller's slice.
    pub index: usize,
    /// The requested resource name (empty for creates).
    pub resource_name: String,
    /// The person Google returned (`None` for deletes), or why this one failed.
    pub outcome: Result<Option<Person>, ItemError>,
}

/// Per-input results of a chunked batch mutation.
#[derive(Debug)]
pub struct BatchOutcome {
    /// Settled inputs in input order; inputs after an abort are absent.
    pub items: Vec<BatchItem>,
    /// Why the call stopped early (quota, outage, reconnect needed…). The chunk in flight may
    /// or may not have been applied by Google; the sync's dedupe copes with either.
    pub aborted: Option<GoogleError>,
}

impl BatchOutcome {
    /// All items if the call was not aborted.
    pub fn into_result(self) -> Result<Vec<BatchItem>, GoogleError> {
        match self.aborted {
            Some(error) => Err(error),
            None => Ok(self.items),
        }
    }
}

/// What `members:modify` could not do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembersModified {
    pub not_found: Vec<String>,
    /// Contacts whose only group this is (add them to `contactGroups/myContacts` first).
    pub cannot_remove_last_group: Vec<String>,
}

/// People API client of one Google account; clone freely.
#[derive(Clone)]
pub struct PeopleClient {
    account: Arc<AccountState>,
    config: Arc<GoogleConfig>,
    retry: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
}

impl PeopleClient {
    /// The sign-in this client's account used (see `GoogleAccounts::sign_in_id`).
    pub fn sign_in_id(&self) -> Option<u64> {
        self.account.credentials.sign_in_id()
    }
}

impl std::fmt::Debug for PeopleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeopleClient")
            .field("email", &self.account.email)
            .finish_non_exhaustive()
    }
}

/// One logical API call, replayed by the retry loop.
struct Call<'a> {
    what: &'a str,
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
    kind: QuotaKind,
}

impl Call<'_> {
    /// Whether sending the call twice does no harm. A create is not: if its answer is lost
    /// (timeout, connection dropped after sending), Google may have applied it, and a replay
    /// would make a second contact. Such a call fails instead, and the sync finds the created
    /// contact by the CRM id it carries.
    fn replayable(&self) -> bool {
        !self.what.starts_with("create")
    }
}

enum Attempt<T> {
    Done(Result<T, GoogleError>),
    Unauthorized {
        token: String,
    },
    Retry {
        retry_after: Option<Duration>,
        rate_limited: bool,
        detail: String,
    },
}

impl PeopleClient {
    pub(crate) fn new(
        account: Arc<AccountState>,
        config: Arc<GoogleConfig>,
        retry: RetryPolicy,
        sleeper: Arc<dyn Sleeper>,
    ) -> Self {
        PeopleClient {
            account,
            config,
            retry,
            sleeper,
        }
    }

    /// The Google account this client acts for (lowercase).
    pub fn email(&self) -> &str {
        &self.account.email
    }

    // ----- connections -------------------------------------------------------------------

    /// Walks `people.connections.list` page by page (1000 per page), handing each page to
    /// `on_page` as it arrives, so 25,000 contacts never sit in memory twice. Without
    /// `sync_token` this is a full listing; with it, the changes since that token. An expired
    /// token gives [`GoogleError::SyncTokenExpired`]: discard what `on_page` saw, list in full.
    pub fn for_each_connections_page<E, F>(
        &self,
        person_fields: &str,
        sync_token: Option<&str>,
        mut on_page: F,
    ) -> Result<ListSummary, E>
    where
        F: FnMut(Vec<Person>) -> Result<(), E>,
        E: From<GoogleError>,
    {
        let mut summary = ListSummary::default();
        let mut page_token: Option<String> = None;
        loop {
            let mut url = self.config.endpoints.people_url("people/me/connections");
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("personFields", person_fields)
                    .append_pair("pageSize", &CONNECTIONS_PAGE_SIZE.to_string())
                    .append_pair("requestSyncToken", "true");
                if let Some(token) = sync_token {
                    query.append_pair("syncToken", token);
                }
                if let Some(token) = &page_token {
                    query.append_pair("pageToken", token);
                }
            }
            let call = Call {
                what: "list contacts",
                method: Method::GET,
                url,
                body: None,
                kind: QuotaKind::Read,
            };
            let page: wire::ListConnectionsResponse = self.send(&call).map_err(expired_sync_token)?;
            if summary.pages == 0 {
                summary.total_items = page.total_items;
            }
            summary.pages += 1;
            summary.people += page.connections.len();
            if page.next_sync_token.is_some() {
                summary.next_sync_token = page.next_sync_token;
            }
            on_page(page.connections)?;
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => {
                    check_paging("list contacts", summary.pages, page_token.as_deref(), &next)?;
                    page_token = Some(next);
                }
                None => return Ok(summary),
            }
        }
    }

    /// All pages of `connections.list` at once (see [`Self::for_each_connections_page`]).
    pub fn list_connections(
        &self,
        person_fields: &str,
        sync_token: Option<&str>,
    ) -> Result<Connections, GoogleError> {
        let mut people = Vec::new();
        let summary = self.for_each_connections_page(person_fields, sync_token, |page| {
            people.extend(page);
            Ok::<(), GoogleError>(())
        })?;
        Ok(Connections {
            people,
            next_sync_token: summary.next_sync_token,
        })
    }

    // ----- people --------------------------------------------------------------------------

    /// One person by resource name.
    pub fn get_person(&self, resource_name: &str, person_fields: &str) -> Result<Person, GoogleError> {
        check_resource_name(resource_name, "people/")?;
        let mut url = self.config.endpoints.people_url(resource_name);
        url.query_pairs_mut().append_pair("personFields", person_fields);
        self.send(&Call {
            what: "read a contact",
            method: Method::GET,
            url,
            body: None,
            kind: QuotaKind::Read,
        })
    }

    /// `people.getBatchGet` in chunks of 200; one item per input, in input order (a contact
    /// that no longer exists is an item error with status 404).
    pub fn batch_get(
        &self,
        resource_names: &[String],
        person_fields: &str,
    ) -> Result<Vec<BatchItem>, GoogleError> {
        let mut items = Vec::with_capacity(resource_names.len());
        for (chunk_no, chunk) in resource_names.chunks(BATCH_GET_LIMIT).enumerate() {
            let offset = chunk_no * BATCH_GET_LIMIT;
            let mut valid = Vec::new();
            for (i, name) in chunk.iter().enumerate() {
                match check_resource_name(name, "people/") {
                    Ok(()) => valid.push(name.as_str()),
                    Err(e) => items.push(BatchItem {
                        index: offset + i,
                        resource_name: name.clone(),
                        outcome: Err(e.into()),
                    }),
                }
            }
            if valid.is_empty() {
                continue;
            }
            let mut url = self.config.endpoints.people_url("people:batchGet");
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("personFields", person_fields);
                for name in &valid {
                    query.append_pair("resourceNames", name);
                }
            }
            let call = Call {
                what: "read contacts",
                method: Method::GET,
                url,
                body: None,
                kind: QuotaKind::Read,
            };
            let answer: wire::GetPeopleResponse = self.send(&call)?;
            let mut by_name: HashMap<String, wire::PersonResponse> = answer
                .responses
                .into_iter()
                .filter_map(|r| Some((r.requested_resource_name.clone()?, r)))
                .collect();
            for (i, name) in chunk.iter().enumerate() {
                if check_resource_name(name, "people/").is_err() {
                    continue; // already reported above
                }
                let outcome = match by_name.remove(name) {
                    Some(response) => person_outcome(response),
                    None => Err(not_reported()),
                };
                items.push(BatchItem {
                    index: offset + i,
                    resource_name: name.clone(),
                    outcome,
                });
            }
        }
        items.sort_by_key(|item| item.index);
        Ok(items)
    }

    /// `people.createContact`.
    pub fn create_contact(&self, person: &Person, person_fields: &str) -> Result<Person, GoogleError> {
        let mut url = self.config.endpoints.people_url("people:createContact");
        url.query_pairs_mut().append_pair("personFields", person_fields);
        self.send(&Call {
            what: "create a contact",
            method: Method::POST,
            url,
            body: Some(json(person)?),
            kind: QuotaKind::Write,
        })
    }

    /// `people.updateContact`: replaces the fields named in `update_person_fields` (absent ones
    /// are cleared). `person` carries `resource_name` and the current `etag`; a stale etag gives
    /// an `Api` error for which [`GoogleError::is_etag_conflict`] is true.
    pub fn update_contact(
        &self,
        person: &Person,
        update_person_fields: &str,
        person_fields: &str,
    ) -> Result<Person, GoogleError> {
        check_resource_name(&person.resource_name, "people/")?;
        if update_person_fields.is_empty() {
            return Err(GoogleError::InvalidRequest {
                detail: "update with an empty field mask".into(),
            });
        }
        let mut url = self
            .config
            .endpoints
            .people_url(&format!("{}:updateContact", person.resource_name));
        url.query_pairs_mut()
            .append_pair("updatePersonFields", update_person_fields)
            .append_pair("personFields", person_fields);
        self.send(&Call {
            what: "update a contact",
            method: Method::PATCH,
            url,
            body: Some(json(person)?),
            kind: QuotaKind::Write,
        })
    }

    /// `people.deleteContact`.
    pub fn delete_contact(&self, resource_name: &str) -> Result<(), GoogleError> {
        check_resource_name(resource_name, "people/")?;
        let url = self
            .config
            .endpoints
            .people_url(&format!("{resource_name}:deleteContact"));
        let _: serde_json::Value = self.send(&Call {
            what: "delete a contact",
            method: Method::DELETE,
            url,
            body: None,
            kind: QuotaKind::Write,
        })?;
        Ok(())
    }

    /// `people.batchCreateContacts` in chunks of 200. `read_mask` chooses the returned fields
    /// (at least `metadata` is used, so each item carries its new resource name and etag).
    /// A chunk Google refuses as a whole (400) is split until the bad contacts are isolated,
    /// so each gets its own error and the others are still created.
    pub fn batch_create(&self, contacts: &[Person], read_mask: &str) -> BatchOutcome {
        let read_mask = if read_mask.is_empty() {
            "metadata"
        } else {
            read_mask
        };
        let indexed: Vec<(usize, &Person)> = contacts.iter().enumerate().collect();
        self.run_batch(&indexed, BATCH_CREATE_LIMIT, |chunk| {
            let request = wire::BatchCreateContactsRequest {
                contacts: chunk
                    .iter()
                    .map(|(_, p)| wire::ContactToCreate { contact_person: p })
                    .collect(),
                read_mask,
            };
            let url = self.config.endpoints.people_url("people:batchCreateContacts");
            let call = Call {
                what: "create contacts",
                method: Method::POST,
                url,
                body: Some(json(&request)?),
                kind: QuotaKind::Write,
            };
            let answer: wire::BatchCreateContactsResponse = self.send(&call)?;
            let mut answers = answer.created_people.into_iter();
            // Google answers in request order.
            Ok(chunk
                .iter()
                .map(|(index, _)| BatchItem {
                    index: *index,
                    resource_name: String::new(),
                    outcome: answers
                        .next()
                        .map(person_outcome)
                        .unwrap_or_else(|| Err(not_reported())),
                })
                .collect())
        })
    }

    /// `people.batchUpdateContacts` in chunks of 200. Each person carries `resource_name` and
    /// current `etag`; `update_mask` names the replaced fields.
    pub fn batch_update(&self, contacts: &[Person], update_mask: &str, read_mask: &str) -> BatchOutcome {
        let read_mask = if read_mask.is_empty() {
            "metadata"
        } else {
            read_mask
        };
        let mut items = Vec::new();
        let mut valid = Vec::new();
        let mut seen = HashSet::new();
        for (index, person) in contacts.iter().enumerate() {
            let problem = match check_resource_name(&person.resource_name, "people/") {
                Err(e) => Some(ItemError::from(e)),
                Ok(()) if !seen.insert(person.resource_name.as_str()) => {
                    Some(invalid_item("the contact is listed twice"))
                }
                Ok(()) if update_mask.is_empty() => Some(invalid_item("update with an empty field mask")),
                Ok(()) => None,
            };
            match problem {
                Some(error) => items.push(BatchItem {
                    index,
                    resource_name: person.resource_name.clone(),
                    outcome: Err(error),
                }),
                None => valid.push((index, person)),
            }
        }
        let mut outcome = self.run_batch(&valid, BATCH_UPDATE_LIMIT, |chunk| {
            let request = wire::BatchUpdateContactsRequest {
                contacts: chunk
                    .iter()
                    .map(|(_, p)| (p.resource_name.as_str(), *p))
                    .collect(),
                update_mask,
                read_mask,
            };
            let url = self.config.endpoints.people_url("people:batchUpdateContacts");
            let call = Call {
                what: "update contacts",
                method: Method::POST,
                url,
                body: Some(json(&request)?),
                kind: QuotaKind::Write,
            };
            let mut answer: wire::BatchUpdateContactsResponse = self.send(&call)?;
            Ok(chunk
                .iter()
                .map(|(index, person)| BatchItem {
                    index: *index,
                    resource_name: person.resource_name.clone(),
                    outcome: answer
                        .update_result
                        .remove(&person.resource_name)
                        .map(person_outcome)
                        .unwrap_or_else(|| Err(not_reported())),
                })
                .collect())
        });
        outcome.items.extend(items);
        outcome.items.sort_by_key(|item| item.index);
        outcome
    }

    /// `people.batchDeleteContacts` in chunks of 500.
    pub fn batch_delete(&self, resource_names: &[String]) -> BatchOutcome {
        let mut items = Vec::new();
        let mut valid = Vec::new();
        for (index, name) in resource_names.iter().enumerate() {
            match check_resource_name(name, "people/") {
                Ok(()) => valid.push((index, name)),
                Err(e) => items.push(BatchItem {
                    index,
                    resource_name: name.clone(),
                    outcome: Err(e.into()),
                }),
            }
        }
        let mut outcome = self.run_batch(&valid, BATCH_DELETE_LIMIT, |chunk| {
            let names: Vec<String> = chunk.iter().map(|(_, n)| (*n).clone()).collect();
            let request = wire::BatchDeleteContactsRequest {
                resource_names: &names,
            };
            let url = self.config.endpoints.people_url("people:batchDeleteContacts");
            let call = Call {
                what: "delete contacts",
                method: Method::POST,
                url,
                body: Some(json(&request)?),
                kind: QuotaKind::Write,
            };
            let _: serde_json::Value = self.send(&call)?;
            Ok(chunk
                .iter()
                .map(|(index, name)| BatchItem {
                    index: *index,
                    resource_name: (*name).clone(),
                    outcome: Ok(None),
                })
                .collect())
        });
        outcome.items.extend(items);
        outcome.items.sort_by_key(|item| item.index);
        outcome
    }

    /// Runs `send_chunk` over `inputs` in chunks of `limit`, splitting refused chunks (400/404/409)
    /// to isolate bad inputs within [`BISECT_BUDGET`] extra calls; stops at the first error that
    /// is not about the contacts themselves (quota, outage, auth).
    fn run_batch<T>(
        &self,
        inputs: &[(usize, T)],
        limit: usize,
        send_chunk: impl Fn(&[(usize, T)]) -> Result<Vec<BatchItem>, GoogleError>,
    ) -> BatchOutcome
    where
        T: BatchInput,
    {
        let mut outcome = BatchOutcome {
            items: Vec::with_capacity(inputs.len()),
            aborted: None,
        };
        let mut budget = BISECT_BUDGET;
        // A stack of pending chunks, processed in input order.
        let mut pending: Vec<&[(usize, T)]> = inputs.chunks(limit.max(1)).rev().collect();
        while let Some(chunk) = pending.pop() {
            match send_chunk(chunk) {
                Ok(items) => outcome.items.extend(items),
                Err(error) if is_about_contacts(&error) => {
                    if chunk.len() > 1 && budget >= 2 {
                        budget -= 2;
                        let (left, right) = chunk.split_at(chunk.len() / 2);
                        pending.push(right);
                        pending.push(left);
                    } else {
                        let item_error = ItemError::from(error);
                        outcome.items.extend(chunk.iter().map(|(index, input)| BatchItem {
                            index: *index,
                            resource_name: input.resource_name(),
                            outcome: Err(item_error.clone()),
                        }));
                    }
                }
                Err(error) => {
                    outcome.aborted = Some(error);
                    break;
                }
            }
        }
        outcome
    }

    // ----- contact groups ------------------------------------------------------------------

    /// All contact groups (user and system) without members.
    pub fn list_contact_groups(&self) -> Result<Vec<ContactGroup>, GoogleError> {
        let mut groups = Vec::new();
        let mut page_token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut url = self.config.endpoints.people_url("contactGroups");
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("pageSize", "1000")
                    .append_pair("groupFields", GROUP_FIELDS);
                if let Some(token) = &page_token {
                    query.append_pair("pageToken", token);
                }
            }
            let call = Call {
                what: "list contact groups",
                method: Method::GET,
                url,
                body: None,
                kind: QuotaKind::Read,
            };
            let page: wire::ListContactGroupsResponse = self.send(&call)?;
            groups.extend(page.contact_groups);
            pages += 1;
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => {
                    check_paging("list contact groups", pages, page_token.as_deref(), &next)?;
                    page_token = Some(next);
                }
                None => return Ok(groups),
            }
        }
    }

    /// The group called `name` (user groups first; exact name, then ignoring case), if any.
    pub fn find_contact_group(&self, name: &str) -> Result<Option<ContactGroup>, GoogleError> {
        let name = name.trim();
        let groups: Vec<ContactGroup> = self
            .list_contact_groups()?
            .into_iter()
            .filter(|g| !g.metadata.as_ref().is_some_and(|m| m.deleted))
            .collect();
        let is_user = |g: &ContactGroup| g.group_type.as_deref() != Some("SYSTEM_CONTACT_GROUP");
        let exact = |g: &ContactGroup| g.name == name || g.formatted_name.as_deref() == Some(name);
        let loose = |g: &ContactGroup| {
            g.name.eq_ignore_ascii_case(name)
                || g.formatted_name
                    .as_deref()
                    .is_some_and(|f| f.eq_ignore_ascii_case(name))
        };
        // Only user groups: a filter called "Starred" gets a group of its own, it does not star
        // its contacts in Google's system group.
        let pick = |matches: &dyn Fn(&ContactGroup) -> bool| {
            groups.iter().find(|g| is_user(g) && matches(g)).cloned()
        };
        Ok(pick(&exact).or_else(|| pick(&loose)))
    }

    /// `contactGroups.create`. A duplicate name is an `Api` error with HTTP 409.
    pub fn create_contact_group(&self, name: &str) -> Result<ContactGroup, GoogleError> {
        let request = wire::CreateContactGroupRequest {
            contact_group: wire::GroupWrite { name, etag: None },
            read_group_fields: GROUP_FIELDS,
        };
        let url = self.config.endpoints.people_url("contactGroups");
        self.send(&Call {
            what: "create a contact group",
            method: Method::POST,
            url,
            body: Some(json(&request)?),
            kind: QuotaKind::Write,
        })
    }

    /// `contactGroups.get` with up to `max_members` member resource names.
    pub fn get_contact_group(
        &self,
        resource_name: &str,
        max_members: u32,
    ) -> Result<ContactGroup, GoogleError> {
        check_resource_name(resource_name, "contactGroups/")?;
        let mut url = self.config.endpoints.people_url(resource_name);
        url.query_pairs_mut()
            .append_pair("maxMembers", &max_members.to_string())
            .append_pair("groupFields", GROUP_FIELDS);
        self.send(&Call {
            what: "read a contact group",
            method: Method::GET,
            url,
            body: None,
            kind: QuotaKind::Read,
        })
    }

    /// Renames a user group (reads its current etag first).
    pub fn rename_contact_group(
        &self,
        resource_name: &str,
        new_name: &str,
    ) -> Result<ContactGroup, GoogleError> {
        let current = self.get_contact_group(resource_name, 0)?;
        let request = wire::UpdateContactGroupRequest {
            contact_group: wire::GroupWrite {
                name: new_name,
                etag: Some(current.etag.as_str()).filter(|e| !e.is_empty()),
            },
            update_group_fields: "name",
            read_group_fields: GROUP_FIELDS,
        };
        let url = self.config.endpoints.people_url(resource_name);
        self.send(&Call {
            what: "rename a contact group",
            method: Method::PUT,
            url,
            body: Some(json(&request)?),
            kind: QuotaKind::Write,
        })
    }

    /// `contactGroups.delete`; with `delete_contacts` its contacts go too.
    pub fn delete_contact_group(
        &self,
        resource_name: &str,
        delete_contacts: bool,
    ) -> Result<(), GoogleError> {
        check_resource_name(resource_name, "contactGroups/")?;
        let mut url = self.config.endpoints.people_url(resource_name);
        url.query_pairs_mut()
            .append_pair("deleteContacts", if delete_contacts { "true" } else { "false" });
        let _: serde_json::Value = self.send(&Call {
            what: "delete a contact group",
            method: Method::DELETE,
            url,
            body: None,
            kind: QuotaKind::Write,
        })?;
        Ok(())
    }

    /// `contactGroups.members.modify`, in calls of at most 1000 names (adds first). Stops at
    /// the first failing call; earlier calls stay applied.
    pub fn modify_group_members(
        &self,
        group_resource_name: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<MembersModified, GoogleError> {
        check_resource_name(group_resource_name, "contactGroups/")?;
        let mut result = MembersModified::default();
        let url = self
            .config
            .endpoints
            .people_url(&format!("{group_resource_name}/members:modify"));
        let batches = add
            .chunks(MEMBERS_MODIFY_LIMIT)
            .map(|c| (c, &[][..]))
            .chain(remove.chunks(MEMBERS_MODIFY_LIMIT).map(|c| (&[][..], c)));
        for (to_add, to_remove) in batches {
            let request = wire::ModifyMembersRequest {
                resource_names_to_add: to_add,
                resource_names_to_remove: to_remove,
            };
            let call = Call {
                what: "change group members",
                method: Method::POST,
                url: url.clone(),
                body: Some(json(&request)?),
                kind: QuotaKind::Write,
            };
            let answer: wire::ModifyMembersResponse = self.send(&call)?;
            result.not_found.extend(answer.not_found_resource_names);
            result
                .cannot_remove_last_group
                .extend(answer.can_not_remove_last_contact_group_resource_names);
        }
        Ok(result)
    }

    // ----- transport -------------------------------------------------------------------------

    /// Sends `call` with quota pacing, retries and one token refresh on 401.
    fn send<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, GoogleError> {
        // Held across retries: a retried mutation must not overtake another one.
        let _sequential = match call.kind {
            QuotaKind::Write => Some(self.account.mutation.lock().unwrap_or_else(|e| e.into_inner())),
            QuotaKind::Read => None,
        };
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            attempt += 1;
            self.account.quota.acquire(call.kind);
            // `refused`: a 401 although the token endpoint had just given a token.
            let (retry_after, rate_limited, detail, refused) = match self.attempt::<T>(call) {
                Attempt::Done(result) => return result,
                Attempt::Unauthorized { token } => {
                    // An access token can expire early, even one just refreshed (Google, or a
                    // token-wide expiry, can end it while the refresh is in flight). Only the
                    // token endpoint says the sign-in itself is gone (`invalid_grant`), so a
                    // refused access token is refreshed again: the first time without counting
                    // a failed attempt, afterwards as a failed attempt with backoff.
                    match self.account.credentials.refresh_after_rejection(&token) {
                        Ok(_) if !refreshed => {
                            refreshed = true;
                            attempt -= 1;
                            continue;
                        }
                        Ok(_) => (
                            None,
                            false,
                            "a refreshed access token was refused (401)".to_string(),
                            true,
                        ),
                        // The token endpoint is down: a failed attempt like any outage.
                        Err(GoogleError::Unavailable { detail, .. }) => (None, false, detail, false),
                        Err(other) => return Err(other),
                    }
                }
                Attempt::Retry {
                    retry_after,
                    rate_limited,
                    detail,
                } => (retry_after, rate_limited, detail, false),
            };
            if attempt >= max_attempts {
                if refused {
                    // Fresh tokens kept being refused for the whole retry budget.
                    return Err(GoogleError::ReconnectNeeded {
                        email: self.account.email.clone(),
                    });
                }
                log::warn!(
                    "google: {} for {} gave up after {attempt} attempts: {detail}",
                    call.what,
                    self.account.email
                );
                return Err(if rate_limited {
                    GoogleError::RateLimited {
                        email: self.account.email.clone(),
                        attempts: attempt,
                        message: detail,
                    }
                } else {
                    GoogleError::Unavailable {
                        attempts: attempt,
                        detail,
                    }
                });
            }
            let delay = self.retry.delay(attempt, retry_after);
            log::warn!(
                "google: {} for {} failed ({detail}); attempt {attempt}/{max_attempts}, retrying in {} ms",
                call.what,
                self.account.email,
                delay.as_millis()
            );
            self.sleeper.sleep(delay);
        }
    }

    fn attempt<T: DeserializeOwned>(&self, call: &Call<'_>) -> Attempt<T> {
        let token = match self.account.credentials.access_token() {
            Ok(token) => token,
            // The token endpoint being down is as transient as the People API being down.
            Err(GoogleError::Unavailable { detail, .. }) => {
                return Attempt::Retry {
                    retry_after: None,
                    rate_limited: false,
                    detail,
                }
            }
            Err(other) => return Attempt::Done(Err(other)),
        };
        let mut request = self
            .account
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(&token)
            .header(ACCEPT, "application/json");
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = match request.send() {
            Ok(response) => response,
            Err(e) if e.is_builder() => {
                return Attempt::Done(Err(GoogleError::InvalidRequest {
                    detail: without_url(&e),
                }))
            }
            Err(e) if !call.replayable() && !e.is_connect() => return Attempt::Done(Err(lost_answer(&e))),
            Err(e) => {
                return Attempt::Retry {
                    retry_after: None,
                    rate_limited: false,
                    detail: transport_detail(&e),
                }
            }
        };
        let status = response.status().as_u16();
        let retry_after =
            parse_retry_after(response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()));
        let body = match response.text() {
            Ok(body) => body,
            // The answer was cut (timeout or dropped connection mid-body).
            Err(e) if !call.replayable() => return Attempt::Done(Err(lost_answer(&e))),
            Err(e) => {
                return Attempt::Retry {
                    retry_after: None,
                    rate_limited: false,
                    detail: transport_detail(&e),
                }
            }
        };
        log::debug!(
            "google: {} for {} -> HTTP {status}",
            call.what,
            self.account.email
        );
        if (200..300).contains(&status) {
            let body = if body.trim().is_empty() {
                "{}"
            } else {
                body.as_str()
            };
            return Attempt::Done(
                // serde quotes the text it could not read, which is Google's and could be anything.
                serde_json::from_str(body).map_err(|e| GoogleError::InvalidResponse {
                    detail: redact(&format!("{}: {e}", call.what), &token),
                }),
            );
        }
        if status == 401 {
            return Attempt::Unauthorized { token };
        }
        let error = parse_error(status, &body, &token);
        let reason = error.reason.as_deref();
        let rate_limited = status == 429
            || (status == 403
                && matches!(
                    reason,
                    Some("RATE_LIMIT_EXCEEDED" | "rateLimitExceeded" | "userRateLimitExceeded")
                ));
        // 409 ABORTED is a concurrency failure (Google: overlapping mutate requests of one user
        // cause "increased latency and failures"); another attempt may pass. 409 ALREADY_EXISTS
        // (a duplicate group name) will not.
        let aborted = status == 409 && error.status.as_deref() == Some("ABORTED");
        if rate_limited || aborted || (500..600).contains(&status) || status == 408 {
            let detail = format!(
                "HTTP {status}{}: {}",
                error
                    .status
                    .as_deref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default(),
                error.message
            );
            return Attempt::Retry {
                retry_after,
                rate_limited,
                detail,
            };
        }
        if status == 403 && reason == Some("ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
            return Attempt::Done(Err(GoogleError::ScopeInsufficient {
                email: self.account.email.clone(),
            }));
        }
        Attempt::Done(Err(GoogleError::Api {
            http_status: status,
            status: error.status,
            reason: error.reason,
            message: error.message,
        }))
    }
}

/// Inputs of batch calls, so split chunks can still name their items.
trait BatchInput {
    fn resource_name(&self) -> String;
}

impl BatchInput for &Person {
    fn resource_name(&self) -> String {
        self.resource_name.clone()
    }
}

impl BatchInput for &String {
    fn resource_name(&self) -> String {
        (*self).clone()
    }
}

/// A listing never needs this many pages: an account holds at most 25,000 contacts (25 pages
/// of 1,000), and a sync delta's tombstones are bounded by the same order.
const MAX_PAGES: usize = 1_000;

/// Stops a listing that would never end: a server repeating its page token, or paging without
/// bound, would otherwise keep a worker (and the account's quota) busy forever.
fn check_paging(what: &str, pages: usize, current: Option<&str>, next: &str) -> Result<(), GoogleError> {
    if current == Some(next) {
        return Err(GoogleError::InvalidResponse {
            detail: format!("{what}: Google sent the same page token twice"),
        });
    }
    if pages >= MAX_PAGES {
        return Err(GoogleError::InvalidResponse {
            detail: format!("{what}: more than {MAX_PAGES} pages"),
        });
    }
    Ok(())
}

/// Errors caused by the contacts in a batch rather than by the call: worth isolating per item.
fn is_about_contacts(error: &GoogleError) -> bool {
    matches!(
        error,
        GoogleError::Api {
            http_status: 400 | 404 | 409,
            ..
        } | GoogleError::InvalidRequest { .. }
    )
}

/// Google's error envelope, read defensively (a proxy may answer with HTML).
fn parse_error(status: u16, body: &str, token: &str) -> ItemError {
    let scrub = |text: &str| redact(text, token);
    match serde_json::from_str::<wire::ErrorEnvelope>(body) {
        Ok(envelope) if !envelope.error.message.is_empty() || envelope.error.status.is_some() => ItemError {
            http_status: status,
            status: envelope.error.status,
            reason: wire::first_reason(&envelope.error.details),
            message: scrub(&envelope.error.message),
        },
        _ => {
            let snippet: String = body.chars().take(200).collect();
            let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
            ItemError {
                http_status: status,
                status: None,
                reason: None,
                message: if snippet.is_empty() {
                    format!("HTTP {status}")
                } else {
                    scrub(&snippet)
                },
            }
        }
    }
}

/// 410 (older docs) or 400 with reason `EXPIRED_SYNC_TOKEN` (current behaviour).
fn expired_sync_token(error: GoogleError) -> GoogleError {
    match &error {
        GoogleError::Api { http_status: 410, .. } => GoogleError::SyncTokenExpired,
        GoogleError::Api {
            reason: Some(reason), ..
        } if reason == "EXPIRED_SYNC_TOKEN" => GoogleError::SyncTokenExpired,
        _ => error,
    }
}

fn person_outcome(response: wire::PersonResponse) -> Result<Option<Person>, ItemError> {
    let code = response.status.as_ref().map(|s| s.code).unwrap_or(0);
    let http = response.http_status_code.unwrap_or(200);
    if code == 0 && (200..300).contains(&http) {
        return Ok(response.person);
    }
    let (http_status, status) = if code != 0 {
        wire::rpc_code_to_http(code)
    } else {
        (http as u16, "")
    };
    let (message, reason) = match response.status {
        Some(s) => (s.message, wire::first_reason(&s.details)),
        None => (String::new(), None),
    };
    Err(ItemError {
        http_status,
        status: Some(status.to_string()).filter(|s| !s.is_empty()),
        reason,
        message: if message.is_empty() {
            format!("HTTP {http_status}")
        } else {
            message
        },
    })
}

fn not_reported() -> ItemError {
    ItemError {
        http_status: 0,
        status: None,
        reason: None,
        message: "Google did not report on this contact".into(),
    }
}

fn invalid_item(detail: &str) -> ItemError {
    ItemError::from(GoogleError::InvalidRequest {
        detail: detail.to_string(),
    })
}

/// Resource names go into URL paths: accept only `prefix` + one plain segment.
fn check_resource_name(name: &str, prefix: &str) -> Result<(), GoogleError> {
    let ok = name.strip_prefix(prefix).is_some_and(|id| {
        !id.is_empty()
            && id.len() <= 256
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    }) && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(GoogleError::InvalidRequest {
            detail: format!("\"{name}\" is not a {prefix}… resource name"),
        })
    }
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, GoogleError> {
    serde_json::to_vec(value).map_err(|e| GoogleError::InvalidRequest {
        detail: format!("cannot encode the request: {e}"),
    })
}

fn transport_detail(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    format!("{kind}: {}", without_url(error))
}

/// The error of a create whose answer was lost: it may have been applied.
fn lost_answer(error: &reqwest::Error) -> GoogleError {
    GoogleError::Unavailable {
        attempts: 1,
        detail: format!(
            "{}; the answer was lost, so Google may have made the contact: it is looked for, not created again",
            transport_detail(error)
        ),
    }
}
