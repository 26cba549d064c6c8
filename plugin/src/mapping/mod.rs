//! CRM contact ⇄ Google Person, pure functions (no I/O).
//!
//! Both sides are reduced to one normalized, side-independent record, [`Fields`], which the sync
//! planner compares and merges against the synced base; the results are written back with
//! [`fields_to_contact`] and [`fields_to_person`], which only touch mapped fields.
//!
//! - [`normalize`]: the comparison forms (whitespace, e-mail case, phone E.164, type spelling).
//! - [`fields`]: the [`Fields`] record and [`changed_person_fields`].
//! - `crm`: [`crm_fields`], [`fields_to_contact`]; `from_google`: [`google_fields`];
//!   `to_google`: [`fields_to_person`].
//!
//! Default field table (see the design): name → `names`, emails → `emailAddresses`, phones →
//! `phoneNumbers`, gender → `genders`, birthday → `birthdays`, notes → `biographies`
//! (`TEXT_PLAIN`), position/company → title/name of the main `organizations` item, addresses →
//! `addresses`, websites → `urls`, VKontakte/Facebook → `urls` typed `VKontakte`/`Facebook`,
//! messengers → `imClients` (protocol as Google spells it, other messengers as custom protocols),
//! selected custom fields → `userDefined` with **key = the CRM field key** (stable, unlike labels,
//! which users rename), CRM id → `clientData` `crm_contact_id` (our marker).

mod crm;
pub mod fields;
mod from_google;
mod items;
pub mod normalize;
mod to_google;

#[cfg(test)]
mod tests;

use abi::{Contact, ContactId};
use serde::{Deserialize, Serialize};

use crate::google::person::{ClientData, Person};

pub use crm::{crm_fields, fields_to_contact};
pub use fields::{
    changed_person_fields, key, person_field_of, person_fields_of, FieldKey, FieldValue, Fields, Item,
};
pub use from_google::google_fields;
pub(crate) use items::is_contact_source;
pub use to_google::fields_to_person;

/// The `clientData` key of our marker: its value is the CRM contact id, so we find our contacts
/// again (dedupe on re-enable, recovery after a lost link).
pub const CRM_ID_KEY: &str = "crm_contact_id";

/// Which fields a binding maps; stored in the binding's options.
///
/// All default fields are mapped unless disabled; custom CRM fields only when selected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldMapping {
    /// Keys of the CRM custom fields to sync, each to the Google `userDefined` entry of the same key.
    pub custom_fields: Vec<String>,
    /// Default fields the user turned off, by [`key`] (e.g. `"gender"`): never read nor written.
    pub disabled: Vec<String>,
}

impl FieldMapping {
    /// Whether a [`Fields`] key is synced by this mapping.
    pub fn maps(&self, field_key: &str) -> bool {
        match field_key.strip_prefix(key::CUSTOM_PREFIX) {
            Some(custom) => self.custom_fields.iter().any(|k| k == custom),
            None => key::DEFAULTS.contains(&field_key) && !self.disabled.iter().any(|k| k == field_key),
        }
    }
}

/// The person to create in Google for a CRM contact: its mapped fields plus our `clientData`
/// marker (when the contact has an id). Primary values come first, so Google makes them primary.
/// Memberships are left to the caller.
pub fn contact_to_person(contact: &Contact, mapping: &FieldMapping) -> Person {
    let mut person = fields_to_person(&crm_fields(contact, mapping), &Person::default(), mapping);
    if contact.id != ContactId(0) {
        set_crm_id(&mut person, contact.id);
    }
    person
}

/// The CRM contact for a Google person: its mapped fields, and the id from our marker (0 when
/// absent, meaning "new": the host assigns one on create).
pub fn person_to_contact(person: &Person, mapping: &FieldMapping) -> Contact {
    let base = Contact {
        id: crm_id_of(person).unwrap_or_default(),
        ..Contact::default()
    };
    fields_to_contact(&google_fields(person, mapping), &base, mapping)
}

/// The CRM id in our `clientData` marker, if any.
pub fn crm_id_of(person: &Person) -> Option<ContactId> {
    person
        .client_data
        .iter()
        .filter(|d| d.key == CRM_ID_KEY)
        .find_map(|d| d.value.trim().parse::<u64>().ok())
        .map(ContactId)
}

/// Sets our marker to `id`, keeping other `clientData` (other applications' data). Returns
/// whether the person changed, i.e. whether `clientData` must be written.
pub fn set_crm_id(person: &mut Person, id: ContactId) -> bool {
    let value = id.0.to_string();
    let ours = |d: &ClientData| d.key == CRM_ID_KEY;
    if person
        .client_data
        .iter()
        .filter(|d| ours(d))
        .map(|d| d.value.as_str())
        .eq([value.as_str()])
    {
        return false;
    }
    person.client_data.retain(|d| !ours(d));
    person.client_data.push(ClientData {
        key: CRM_ID_KEY.to_string(),
        value,
        ..ClientData::default()
    });
    true
}
