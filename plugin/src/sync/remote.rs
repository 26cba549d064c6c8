//! Remote contacts: what the sync knows of a contact in the provider (Google's People API is the
//! one provider today; CardDAV and Microsoft 365 are next). The sync reads a remote contact only
//! through [`RemoteContact`] and writes it only through [`NewContact`] and [`Update`], so no
//! provider's wire type appears in `sync/`; the People adapter lives in `integration::people`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::mapping::{FieldMapping, Fields};

/// A contact as the provider showed it (listed, read by id, or answered to a write).
pub trait RemoteContact: fmt::Debug + Send + Sync {
    /// The provider's name for the contact (Google: its resource name).
    fn id(&self) -> &str;
    /// Its version: a write that names an older one is refused as stale (Google: the etag).
    fn version(&self) -> &str;
    /// When the contact itself last changed in the provider (ms since the epoch), if it says.
    fn updated_ms(&self) -> Option<i64>;
    /// A tombstone: the provider reports the contact deleted.
    fn deleted(&self) -> bool;
    /// Names the contact had before the provider renamed it (Google names them in deltas only).
    fn former_ids(&self) -> &[String];
    /// The groups (Google: contact groups) the contact belongs to.
    fn groups(&self) -> Vec<String>;
    fn in_group(&self, group: &str) -> bool;
    /// The CRM contact id we marked it with when we created or joined it.
    fn crm_id(&self) -> Option<u64>;
    /// The mapped fields, normalized; the mapping decides how the provider's items are read.
    fn fields(&self, mapping: &FieldMapping) -> Fields;
    /// The primary (or first) e-mail address and phone number, as the provider spells them.
    fn primary_email(&self) -> Option<String>;
    fn primary_phone(&self) -> Option<String>;
    /// Whether a listing showed only part of the contact's lists (Google lists at most 100
    /// e-mail addresses and 100 phone numbers): it is read whole by id before it is merged.
    fn cut_by_listing(&self) -> bool;
    /// For the provider's adapter: its own record, which a write starts from.
    fn as_any(&self) -> &dyn Any;
    /// That record as text, to keep in the mapping file and give back through
    /// [`RemoteSide::restore`](super::sides::RemoteSide::restore): a later write to the contact
    /// is built on it without reading the contact again. `None` when this copy is not whole (a
    /// listing cut its lists) or the provider keeps no records.
    fn record(&self) -> Option<String> {
        None
    }
}

/// A remote contact as the sync holds it: shared by the view of a run and the writes planned
/// from it.
pub type Remote = Arc<dyn RemoteContact>;

/// Two remote contacts are equal when they are one version of one contact.
impl PartialEq for dyn RemoteContact {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id() && self.version() == other.version()
    }
}

/// A contact to create in the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub fields: Fields,
    /// Our mark: how the contact is found again if the create's answer is lost.
    pub crm_id: u64,
    pub group: String,
}

/// A write to an existing remote contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub id: String,
    /// The version the write was planned from: the provider refuses it if the contact changed.
    pub version: String,
    /// The contact as this run saw it, if it did: the write keeps what the mapping does not
    /// cover (other items, other applications' data).
    pub current: Option<Remote>,
    /// The mapped fields to hold after the write.
    pub fields: Fields,
    /// The field keys whose values change: only those are written.
    pub changed: Vec<String>,
    /// Sets our CRM id mark to this contact id.
    pub mark: Option<u64>,
}

/// A contact kept in memory: the planner's unit tests and the fuzz target use it, and it is
/// what any provider's contact reduces to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryContact {
    pub id: String,
    pub version: String,
    pub updated_ms: Option<i64>,
    pub deleted: bool,
    pub former_ids: Vec<String>,
    pub groups: Vec<String>,
    pub crm_id: Option<u64>,
    /// Every field it holds; a mapping reads those it maps.
    pub fields: Fields,
}

impl RemoteContact for MemoryContact {
    fn id(&self) -> &str {
        &self.id
    }
    fn version(&self) -> &str {
        &self.version
    }
    fn updated_ms(&self) -> Option<i64> {
        self.updated_ms
    }
    fn deleted(&self) -> bool {
        self.deleted
    }
    fn former_ids(&self) -> &[String] {
        &self.former_ids
    }
    fn groups(&self) -> Vec<String> {
        self.groups.clone()
    }
    fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
    fn crm_id(&self) -> Option<u64> {
        self.crm_id
    }
    fn fields(&self, mapping: &FieldMapping) -> Fields {
        Fields(
            self.fields
                .0
                .iter()
                .filter(|(k, _)| mapping.maps(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
    fn primary_email(&self) -> Option<String> {
        Some(self.fields.primary(crate::mapping::key::EMAILS)?.key.clone())
    }
    fn primary_phone(&self) -> Option<String> {
        Some(self.fields.primary(crate::mapping::key::PHONES)?.key.clone())
    }
    fn cut_by_listing(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
