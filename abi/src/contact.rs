//! A CRM contact as it crosses the boundary.

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

/// A CRM contact's id, unique and never reused within one CRM.
#[repr(transparent)]
#[derive(
    StableAbi, Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct ContactId(pub u64);

/// A contact with every field the plugin can sync.
///
/// Empty strings and empty lists mean "no value". `id` is ignored by
/// [`HostServices::create_contact`](crate::HostServices::create_contact), which assigns one.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub name: PersonName,
    /// E-mail addresses; at most one has `primary` set.
    pub emails: RVec<TypedValue>,
    /// Phone numbers as the user typed them; at most one has `primary` set.
    pub phones: RVec<TypedValue>,
    /// `"male"`, `"female"`, `"unspecified"`, any other text for a custom gender, or empty.
    pub gender: RString,
    pub birthday: ROption<Birthday>,
    /// Free text ("additional info").
    pub notes: RString,
    /// Job title at `company`.
    pub position: RString,
    pub company: RString,
    pub addresses: RVec<Address>,
    /// Web sites; `kind` is e.g. `"work"`, `"home"`, `"blog"`.
    pub websites: RVec<TypedValue>,
    /// Profile URL or handle on VKontakte.
    pub vkontakte: RString,
    /// Profile URL or handle on Facebook.
    pub facebook: RString,
    /// Skype and other messengers.
    pub messengers: RVec<Messenger>,
    /// The CRM's custom fields, by field key.
    pub custom_fields: RVec<CustomField>,
    /// Last modification time in the CRM, milliseconds since the Unix epoch.
    pub updated_at_ms: i64,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub prefix: RString,
    pub given: RString,
    pub middle: RString,
    pub family: RString,
    pub suffix: RString,
}

/// One value of a multi-valued field, with its type (`"work"`, `"home"`, `"mobile"`, …).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedValue {
    pub value: RString,
    pub kind: RString,
    pub primary: bool,
}

/// A birthday; `year` is `None` when the year is not known.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birthday {
    pub year: ROption<u16>,
    pub month: u8,
    pub day: u8,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// `"home"`, `"work"`, `"other"` or custom text.
    pub kind: RString,
    pub street: RString,
    pub extended: RString,
    pub po_box: RString,
    pub city: RString,
    pub region: RString,
    pub postal_code: RString,
    pub country: RString,
    /// ISO 3166-1 alpha-2.
    pub country_code: RString,
    pub primary: bool,
}

/// An instant-messenger account.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messenger {
    /// `"skype"`, `"telegram"`, `"whatsapp"`, `"jabber"`, …
    pub protocol: RString,
    pub username: RString,
    pub primary: bool,
}

/// A custom CRM field, e.g. key `"lead_source"`, value `"fair 2026"`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    pub key: RString,
    /// The label users see in the CRM.
    pub label: RString,
    pub value: RString,
}
