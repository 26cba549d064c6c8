//! The sync's two sides, implemented over the host's services and the People client.

use abi::{Contact, ContactId, FilterId, Host, UserId};
use abi_stable::std_types::ROption;

use crate::google::person::{Person, MAPPED_PERSON_FIELDS};
use crate::google::{GoogleError, PeopleClient};
use crate::sync::sides::{CrmSide, GoogleSide, GroupChange, ItemError, ItemResult, SideError};

pub struct HostCrm<'a>(pub &'a Host);

impl CrmSide for HostCrm<'_> {
    fn filter_page(&self, filter: u64, user: u64, after: u64, limit: u32) -> Result<Vec<Contact>, String> {
        let page = self
            .0
            .filter_contacts(FilterId(filter), UserId(user), ContactId(after), limit);
        page.into_result()
            .map(|v| v.into_vec())
            .map_err(|e| e.to_string())
    }

    fn includes(&self, filter: u64, user: u64, contact: u64) -> Result<bool, String> {
        self.0
            .filter_includes(FilterId(filter), UserId(user), ContactId(contact))
            .into_result()
            .map_err(|e| e.to_string())
    }

    fn get(&self, user: u64, contact: u64) -> Result<Option<Contact>, String> {
        self.0
            .get_contact(UserId(user), ContactId(contact))
            .into_result()
            .map(ROption::into_option)
            .map_err(|e| e.to_string())
    }

    fn create(&self, user: u64, contact: &Contact, filter: u64) -> Result<Contact, String> {
        self.0
            .create_contact(UserId(user), contact, ROption::RSome(FilterId(filter)))
            .into_result()
            .map_err(|e| e.to_string())
    }

    fn update(&self, user: u64, contact: &Contact) -> Result<Contact, String> {
        self.0
            .update_contact(UserId(user), contact)
            .into_result()
            .map_err(|e| e.to_string())
    }

    fn filter_name(&self, filter: u64) -> Result<Option<String>, String> {
        let f = self
            .0
            .filter(FilterId(filter))
            .into_result()
            .map_err(|e| e.to_string())?;
        Ok(f.into_option().map(|f| f.name.into_string()))
    }
}

pub struct PeopleSide(pub PeopleClient);

pub fn side_error(e: GoogleError) -> SideError {
    match e {
        GoogleError::SyncTokenExpired => SideError::ExpiredSyncToken,
        e if e.needs_reconnect() => SideError::ReconnectNeeded(e.to_string()),
        e => SideError::Failed(e.to_string()),
    }
}

fn item_error(e: crate::google::ItemError) -> ItemError {
    ItemError {
        stale: e.is_etag_conflict(),
        gone: e.http_status == 404,
        reason: e.message,
    }
}

impl GoogleSide for PeopleSide {
    fn list(
        &self,
        sync_token: Option<&str>,
        on_page: &mut dyn FnMut(Vec<Person>),
    ) -> Result<String, SideError> {
        let summary = self
            .0
            .for_each_connections_page(MAPPED_PERSON_FIELDS, sync_token, |page| {
                on_page(page);
                Ok::<(), GoogleError>(())
            })
            .map_err(side_error)?;
        summary
            .next_sync_token
            .ok_or_else(|| SideError::Failed("Google's contact listing ended without a sync token.".into()))
    }

    fn get_many(&self, resource_names: &[String]) -> Result<Vec<Person>, SideError> {
        let items = self
            .0
            .batch_get(resource_names, MAPPED_PERSON_FIELDS)
            .map_err(side_error)?;
        Ok(items
            .into_iter()
            .filter_map(|i| i.outcome.ok().flatten())
            .collect())
    }

    fn create_many(&self, persons: Vec<Person>) -> Result<Vec<ItemResult>, SideError> {
        let items = self
            .0
            .batch_create(&persons, MAPPED_PERSON_FIELDS)
            .into_result()
            .map_err(side_error)?;
        let mut results: Vec<ItemResult> = (0..persons.len())
            .map(|_| {
                Err(ItemError {
                    reason: "no answer".into(),
                    stale: false,
                    gone: false,
                })
            })
            .collect();
        for item in items {
            if let Some(slot) = results.get_mut(item.index) {
                *slot = match item.outcome {
                    Ok(Some(person)) => Ok(person),
                    Ok(None) => Err(ItemError {
                        reason: "Google returned no contact".into(),
                        stale: false,
                        gone: false,
                    }),
                    Err(e) => Err(item_error(e)),
                };
            }
        }
        Ok(results)
    }

    fn update_many(
        &self,
        persons: Vec<Person>,
        mask: &[&str],
    ) -> Result<Vec<(String, ItemResult)>, SideError> {
        let mask = mask.join(",");
        let items = self
            .0
            .batch_update(&persons, &mask, MAPPED_PERSON_FIELDS)
            .into_result()
            .map_err(side_error)?;
        Ok(items
            .into_iter()
            .map(|item| {
                let rn = persons
                    .get(item.index)
                    .map(|p| p.resource_name.clone())
                    .unwrap_or(item.resource_name);
                let result = match item.outcome {
                    Ok(Some(person)) => Ok(person),
                    Ok(None) => Err(ItemError {
                        reason: "Google returned no contact".into(),
                        stale: false,
                        gone: false,
                    }),
                    Err(e) => Err(item_error(e)),
                };
                (rn, result)
            })
            .collect())
    }

    fn delete_many(&self, resource_names: &[String]) -> Result<(), SideError> {
        let items = self
            .0
            .batch_delete(resource_names)
            .into_result()
            .map_err(side_error)?;
        // A contact already gone is as good as deleted.
        match items
            .into_iter()
            .find_map(|i| i.outcome.err().filter(|e| !e.is_not_found()))
        {
            Some(e) => Err(SideError::Failed(e.to_string())),
            None => Ok(()),
        }
    }

    fn modify_group(&self, group: &str, add: &[String], remove: &[String]) -> Result<GroupChange, SideError> {
        let m = self
            .0
            .modify_group_members(group, add, remove)
            .map_err(side_error)?;
        Ok(GroupChange {
            not_found: m.not_found,
            last_group: m.cannot_remove_last_group,
        })
    }

    fn ensure_group(&self, name: &str) -> Result<String, SideError> {
        if let Some(group) = self.0.find_contact_group(name).map_err(side_error)? {
            return Ok(group.resource_name);
        }
        Ok(self
            .0
            .create_contact_group(name)
            .map_err(side_error)?
            .resource_name)
    }

    fn rename_group(&self, group: &str, name: &str) -> Result<(), SideError> {
        self.0
            .rename_contact_group(group, name)
            .map(|_| ())
            .map_err(side_error)
    }
}
