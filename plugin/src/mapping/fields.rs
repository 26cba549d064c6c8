//! The canonical, side-independent field set that the sync planner compares and merges.
//!
//! Both a CRM contact ([`crm_fields`](super::crm_fields)) and a Google person
//! ([`google_fields`](super::google_fields)) are reduced to [`Fields`]; equal `Fields` mean
//! "nothing to sync". The synced base of a link is stored as `Fields` too (serde).
//!
//! Shape of the data, per field key (absent data keys mean empty):
//!
//! | key | value | item key | item data |
//! |---|---|---|---|
//! | `name` | One | empty | `prefix`, `given`, `middle`, `family`, `suffix` |
//! | `emails` | Many | lowercased address | `value`, `type`, `primary` |
//! | `phones` | Many | E.164 form ([`phone_key`](super::normalize::phone_key)) | `value`, `type`, `primary` |
//! | `gender` | One | empty | `value` |
//! | `birthday` | One | empty | `year` (absent when unknown), `month`, `day` |
//! | `notes`, `position`, `company`, `vkontakte`, `facebook`, `custom:<key>` | One | empty | `value` |
//! | `addresses` | Many | JSON array of the normalized parts | `type`, `street`, `extended`, `po_box`, `city`, `region`, `postal_code`, `country`, `country_code`, `primary` |
//! | `websites` | Many | URL without trailing `/` | `value`, `type`, `primary` |
//! | `messengers` | Many | `protocol:username`, lowercased | `protocol`, `username`, `primary` |
//!
//! In a non-empty Many value exactly one item has `primary = "true"`: the one marked primary, or
//! else the first one, because Google makes the first item primary when none is marked.

use std::collections::BTreeMap;

use litemap::LiteMap;
use serde::{Deserialize, Serialize};

/// A key of [`Fields`]: one of the constants in [`key`], or `custom:<CRM field key>`.
pub type FieldKey = String;

/// The keys of [`Fields`].
pub mod key {
    pub const NAME: &str = "name";
    pub const EMAILS: &str = "emails";
    pub const PHONES: &str = "phones";
    pub const GENDER: &str = "gender";
    pub const BIRTHDAY: &str = "birthday";
    pub const NOTES: &str = "notes";
    pub const POSITION: &str = "position";
    pub const COMPANY: &str = "company";
    pub const ADDRESSES: &str = "addresses";
    pub const WEBSITES: &str = "websites";
    pub const VKONTAKTE: &str = "vkontakte";
    pub const FACEBOOK: &str = "facebook";
    pub const MESSENGERS: &str = "messengers";
    /// Prefix of the keys of custom CRM fields: `custom:<CRM field key>`.
    pub const CUSTOM_PREFIX: &str = "custom:";

    /// Every default (non-custom) key.
    pub const DEFAULTS: &[&str] = &[
        NAME, EMAILS, PHONES, GENDER, BIRTHDAY, NOTES, POSITION, COMPANY, ADDRESSES, WEBSITES, VKONTAKTE,
        FACEBOOK, MESSENGERS,
    ];

    /// The key of a custom CRM field.
    pub fn custom(crm_field_key: &str) -> String {
        format!("{CUSTOM_PREFIX}{crm_field_key}")
    }
}

/// Every mapped field of one contact, normalized so that equal means "nothing to sync".
///
/// A sorted vector rather than a `BTreeMap`, for the reason [`Parts`] is one: a contact has a
/// handful of fields, and a B-tree's first node takes some 800 bytes. A run holds a field set
/// per contact (every link's base, every merge): 12 MB of a 25,000-contact run (bench, dedupe).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Fields(pub LiteMap<FieldKey, FieldValue>);

impl<'de> Deserialize<'de> for Fields {
    /// Read without spare room: the mapping file's bases are read by the thousand.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Fields(LiteMap::deserialize(deserializer)?);
        fields.shrink_to_fit();
        Ok(fields)
    }
}

/// A field's value. Absent or empty fields are not in [`Fields`] at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldValue {
    /// A single-valued field.
    One(Item),
    /// A multi-valued field: sorted by [`Item::key`], no duplicate keys, never empty.
    Many(Vec<Item>),
}

impl FieldValue {
    /// The items: one for `One`, all for `Many`.
    pub fn items(&self) -> &[Item] {
        match self {
            FieldValue::One(item) => std::slice::from_ref(item),
            FieldValue::Many(items) => items,
        }
    }
}

/// One normalized value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Normalized identity, used to merge multi-valued fields element by element; empty for
    /// single-valued fields.
    pub key: String,
    /// The normalized value's parts; empty parts are absent, `primary` is present only as
    /// `"true"`.
    pub data: Parts,
}

/// The parts of an [`Item`] by name, in name order; stored as a map is (a JSON object).
///
/// A sorted list rather than a `BTreeMap`: an item has two to five parts, and a map takes a
/// 544-byte node for its first one. A run keeps a `Fields` per contact (every link's base, every
/// planned merge): with 25,000 contacts that node alone was over 40 MB (bench, heaptrack).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parts(Vec<(String, String)>);

impl Parts {
    pub fn new() -> Self {
        Parts(Vec::new())
    }

    /// Sets a part; returns the value it had.
    pub fn insert(&mut self, name: String, value: String) -> Option<String> {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (name, value));
                None
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.0.remove(i).1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parts in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(n, v)| (n, v))
    }

    fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl Serialize for Parts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Parts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through a map: the same keys in the same order as before, duplicates resolved alike.
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(Parts(map.into_iter().collect()))
    }
}

impl Item {
    pub fn new(key: impl Into<String>) -> Self {
        Item {
            key: key.into(),
            data: Parts::new(),
        }
    }

    /// Adds a part, unless it is empty.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.data.insert(name.to_string(), value);
        }
        self
    }

    /// A part, or `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.data.get(name).map_or("", String::as_str)
    }

    pub fn is_primary(&self) -> bool {
        self.get(PRIMARY) == "true"
    }
}

/// The data key of the primary flag.
pub const PRIMARY: &str = "primary";

impl Fields {
    /// Gives back the spare room a built field set holds: a list grows to room for four
    /// entries on its first, and most of a contact's fields and items hold two or three. A run
    /// keeps a field set per contact it plans (25,000 in the bench's dedupe scenario), so this
    /// is called on every set that is kept: a merge, a side's view of a contact, a stored base.
    pub fn shrink_to_fit(&mut self) {
        let mut entries = std::mem::take(&mut self.0).into_tuple_vec();
        entries.shrink_to_fit();
        for (_, value) in &mut entries {
            match value {
                FieldValue::One(item) => item.data.shrink_to_fit(),
                FieldValue::Many(items) => {
                    items.shrink_to_fit();
                    items.iter_mut().for_each(|i| i.data.shrink_to_fit());
                }
            }
        }
        self.0 = LiteMap::from_sorted_store_unchecked(entries);
    }

    pub fn get(&self, key: &str) -> Option<&FieldValue> {
        self.0.get(key)
    }

    /// The primary item of a field (the first if none is marked).
    pub fn primary(&self, key: &str) -> Option<&Item> {
        let items = self.items(key);
        items.iter().find(|i| i.is_primary()).or(items.first())
    }

    /// The item of a single-valued field.
    pub fn one(&self, key: &str) -> Option<&Item> {
        self.get(key).and_then(|v| v.items().first())
    }

    /// A part of a single-valued field, or `""`.
    pub fn one_value(&self, key: &str, part: &str) -> &str {
        self.one(key).map_or("", |item| item.get(part))
    }

    /// The items of a field, empty when absent.
    pub fn items(&self, key: &str) -> &[Item] {
        self.get(key).map_or(&[], FieldValue::items)
    }

    /// Sets a single-valued field; an item without data means "empty" and removes the field.
    pub(crate) fn set_one(&mut self, key: &str, item: Item) {
        if item.data.is_empty() {
            self.0.remove(key);
        } else {
            self.0.insert(key.to_string(), FieldValue::One(item));
        }
    }

    /// Sets a multi-valued field from items in their source order, each with whether the source
    /// marked it primary. Normalizes as documented on the module: items with an empty key are
    /// dropped, duplicates keep their first occurrence, exactly one item is primary, sorted by key.
    pub(crate) fn set_many(&mut self, key: &str, items: Vec<(Item, bool)>) {
        let items: Vec<(Item, bool)> = items
            .into_iter()
            .filter(|(item, _)| !item.key.is_empty())
            .collect();
        let primary_key = items
            .iter()
            .find(|(_, primary)| *primary)
            .or_else(|| items.first())
            .map(|(item, _)| item.key.clone());
        let mut by_key: BTreeMap<String, Item> = BTreeMap::new();
        for (mut item, _) in items {
            item.data.remove(PRIMARY);
            if Some(&item.key) == primary_key.as_ref() {
                item.data.insert(PRIMARY.to_string(), "true".to_string());
            }
            by_key.entry(item.key.clone()).or_insert(item);
        }
        if by_key.is_empty() {
            self.0.remove(key);
        } else {
            self.0
                .insert(key.to_string(), FieldValue::Many(by_key.into_values().collect()));
        }
    }
}

/// The People API field that holds a [`Fields`] key (several keys may share one).
pub fn person_field_of(field_key: &str) -> Option<&'static str> {
    Some(match field_key {
        key::NAME => "names",
        key::EMAILS => "emailAddresses",
        key::PHONES => "phoneNumbers",
        key::GENDER => "genders",
        key::BIRTHDAY => "birthdays",
        key::NOTES => "biographies",
        key::POSITION | key::COMPANY => "organizations",
        key::ADDRESSES => "addresses",
        key::WEBSITES | key::VKONTAKTE | key::FACEBOOK => "urls",
        key::MESSENGERS => "imClients",
        k if k.starts_with(key::CUSTOM_PREFIX) => "userDefined",
        _ => return None,
    })
}

/// The People API fields to put in `updatePersonFields` to turn `old` into `new` on Google.
///
/// Google replaces every masked field wholesale, so the person sent must carry all the values of
/// each masked field, not only the changed key's: [`fields_to_person`](super::fields_to_person)
/// does, writing every mapped key and keeping Google's data of unmapped ones. The result is
/// deduplicated and in a fixed order; empty means "no update needed".
pub fn changed_person_fields(old: &Fields, new: &Fields) -> Vec<&'static str> {
    let changed = old
        .0
        .keys()
        .chain(new.0.keys())
        .filter(|k| old.get(k) != new.get(k));
    person_fields_of(changed.map(String::as_str))
}

/// The People API fields that hold `field_keys`, deduplicated and in a fixed order.
pub fn person_fields_of<'a>(field_keys: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let changed: Vec<&'static str> = field_keys.into_iter().filter_map(person_field_of).collect();
    crate::google::person::UPDATABLE_PERSON_FIELDS
        .iter()
        .copied()
        .filter(|f| changed.contains(f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> FieldValue {
        FieldValue::One(Item::new("").with("value", value))
    }

    #[test]
    fn changed_fields_map_shared_google_fields_once() {
        let mut old = Fields::default();
        old.0.insert(key::POSITION.into(), one("CTO"));
        old.0.insert(key::VKONTAKTE.into(), one("vk.com/a"));
        old.0.insert(key::NOTES.into(), one("same"));
        let mut new = old.clone();
        new.0.insert(key::POSITION.into(), one("CEO"));
        new.0.insert(key::COMPANY.into(), one("Acme"));
        new.0.remove(key::VKONTAKTE);
        new.0.insert(key::FACEBOOK.into(), one("fb.com/a"));
        new.0.insert(key::custom("lead_source"), one("fair"));
        assert_eq!(
            changed_person_fields(&old, &new),
            vec!["organizations", "urls", "userDefined"]
        );
        assert!(changed_person_fields(&new, &new).is_empty());
    }

    #[test]
    fn many_values_have_exactly_one_primary_and_no_duplicates() {
        let item = |k: &str| Item::new(k).with("value", k);
        let mut f = Fields::default();
        f.set_many(
            "emails",
            vec![
                (item("b"), false),
                (item("a"), false),
                (item("b"), true),
                (item(""), true),
            ],
        );
        let items = f.items("emails");
        assert_eq!(
            items.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(items.iter().filter(|i| i.is_primary()).count(), 1);
        assert!(items[1].is_primary(), "the marked item wins over the first one");
        f.set_many("emails", vec![]);
        assert!(f.get("emails").is_none());
    }
}
