//! The two sides the sync works between, as the engine sees them. The plugin implements them
//! over the host's services and the People client (`integration`); tests implement them in
//! memory.

use abi::{Contact, HostError};

use super::remote::{NewContact, Remote, Update};
use crate::mapping::FieldMapping;

/// An error from either side, as the sync needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SideError {
    /// Google no longer accepts the sync token: list everything again.
    #[error("Google's change token expired; a full listing is needed.")]
    ExpiredSyncToken,
    /// Google refused the account's refresh token.
    #[error("{0}")]
    ReconnectNeeded(String),
    /// Anything else, as a sentence for the user.
    #[error("{0}")]
    Failed(String),
}

/// Why the provider refused one contact of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    pub reason: String,
    /// The etag was stale: the contact changed in Google meanwhile.
    pub stale: bool,
    /// Google no longer has the contact (404): it was deleted there.
    pub gone: bool,
}

/// The result of one contact of a batch write: the contact as written.
pub type ItemResult = Result<Remote, ItemError>;

/// What `members:modify` could not do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChange {
    pub not_found: Vec<String>,
    pub last_group: Vec<String>,
}

/// The account's contacts in the contact provider (Google). Batches are cut to the provider's
/// limits by the caller, except updates, which the provider also groups by what they write.
pub trait RemoteSide {
    /// Lists every contact (`sync_token` `None`) or the changes since the token, page by page;
    /// returns the token for next time.
    fn list(
        &self,
        sync_token: Option<&str>,
        on_page: &mut dyn FnMut(Vec<Remote>),
    ) -> Result<String, SideError>;
    /// Reads contacts by id (current, unlike listings); those it no longer finds are left out.
    fn get_many(&self, ids: &[String]) -> Result<Vec<Remote>, SideError>;
    /// Creates contacts; one result per contact, in order.
    fn create_many(&self, new: Vec<NewContact>, mapping: &FieldMapping)
        -> Result<Vec<ItemResult>, SideError>;
    /// Updates contacts (each refused if its version is stale); results by id.
    fn update_many(
        &self,
        updates: Vec<Update>,
        mapping: &FieldMapping,
    ) -> Result<Vec<(String, ItemResult)>, SideError>;
    fn delete_many(&self, resource_names: &[String]) -> Result<(), SideError>;
    fn modify_group(&self, group: &str, add: &[String], remove: &[String]) -> Result<GroupChange, SideError>;
    /// The resource name of the user group called `name`, if there is one.
    fn find_group(&self, name: &str) -> Result<Option<String>, SideError>;
    /// The resource name of the user group called `name`, created if missing.
    fn ensure_group(&self, name: &str) -> Result<String, SideError>;
    fn rename_group(&self, group: &str, name: &str) -> Result<(), SideError>;
    /// The contact a record from [`RemoteContact::record`] stands for; `None` if it no longer
    /// reads (kept by an older version of the plugin, say).
    ///
    /// [`RemoteContact::record`]: super::remote::RemoteContact::record
    fn restore(&self, _record: &str) -> Option<Remote> {
        None
    }
}

/// The CRM, as the binding's user.
pub trait CrmSide {
    fn filter_page(&self, filter: u64, user: u64, after: u64, limit: u32) -> Result<Vec<Contact>, HostError>;
    fn includes(&self, filter: u64, user: u64, contact: u64) -> Result<bool, HostError>;
    fn get(&self, user: u64, contact: u64) -> Result<Option<Contact>, HostError>;
    /// Creates a contact into `filter`, once per `key`: called again with the same key, the CRM
    /// answers the contact the first call made. `Ok(None)`: this CRM does not offer idempotent
    /// creates (nothing was created).
    fn create_once(
        &self,
        user: u64,
        key: &str,
        contact: &Contact,
        filter: u64,
    ) -> Result<Option<Contact>, HostError>;
    /// Creates a contact into `filter`, for CRMs without idempotent creates.
    fn create(&self, user: u64, contact: &Contact, filter: u64) -> Result<Contact, HostError>;
    fn update(&self, user: u64, contact: &Contact) -> Result<Contact, HostError>;
    /// The filter's name, `None` when the filter is gone.
    fn filter_name(&self, filter: u64) -> Result<Option<String>, HostError>;
}
