//! People API v1 resource types: `Person`, its field items, and `ContactGroup`.
//!
//! These mirror the schemas of the discovery document (`shared/google/people-v1-discovery.json`,
//! revision 20251117), limited to what the plugin reads or writes. Rust names are the snake_case
//! of the JSON names, except the JSON `type`, which is `kind` in Rust (serialized as `"type"`).
//!
//! Conventions:
//! - Writable strings are `String`, empty meaning "not set"; they are omitted when empty, as
//!   Google omits them. Writable lists are omitted when empty.
//! - Output-only fields (`displayName`, `formattedType`, `canonicalForm`, `formattedValue`,
//!   `formattedProtocol`, `primary`, …) are `Option`s: we read them but never need to send them
//!   (Google ignores them on writes).
//! - Unknown JSON fields are dropped on purpose (no catch-all map): we never echo data we do not
//!   understand back to Google. Fields we do not map survive updates because updates only mask
//!   the fields we write (see [`update_person_fields`]).

use serde::{Deserialize, Serialize};

/// The `personFields` mask the plugin reads: every mapped field plus what sync needs
/// (`clientData` for our marker, `memberships` for the group, `metadata` for sources/deletion).
pub const MAPPED_PERSON_FIELDS: &str = "names,emailAddresses,phoneNumbers,genders,birthdays,biographies,\
organizations,addresses,urls,imClients,clientData,userDefined,memberships,metadata";

/// Fields accepted in `updatePersonFields`, in the discovery document's order.
pub const UPDATABLE_PERSON_FIELDS: &[&str] = &[
    "addresses",
    "biographies",
    "birthdays",
    "calendarUrls",
    "clientData",
    "emailAddresses",
    "events",
    "externalIds",
    "genders",
    "imClients",
    "interests",
    "locales",
    "locations",
    "memberships",
    "miscKeywords",
    "names",
    "nicknames",
    "occupations",
    "organizations",
    "phoneNumbers",
    "relations",
    "sipAddresses",
    "urls",
    "userDefined",
];

/// Builds an `updatePersonFields` mask from People API field names (`"names"`, `"urls"`, …).
///
/// Duplicates are removed and the order is fixed (the discovery document's), so equal sets give
/// equal masks. Names that cannot be updated are dropped: Google rejects the whole request
/// otherwise. Returns an empty string when nothing is left; callers must then skip the update.
pub fn update_person_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let wanted: Vec<&str> = fields.into_iter().collect();
    UPDATABLE_PERSON_FIELDS
        .iter()
        .filter(|f| wanted.contains(f))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// A contact (`Person` schema).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Person {
    /// `people/c…`; empty before creation.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_name: String,
    /// Required on update; changes on every mutation, including group membership changes.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub etag: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PersonMetadata>,
    /// Singleton on contacts: at most one item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<Name>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Singleton on contacts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub genders: Vec<Gender>,
    /// Singleton on contacts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub birthdays: Vec<Birthday>,
    /// Singleton on contacts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub biographies: Vec<Biography>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<Organization>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<Url>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub im_clients: Vec<ImClient>,
    /// Application data; keys may repeat.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_data: Vec<ClientData>,
    /// The user's own key/value fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_defined: Vec<UserDefined>,
    /// A contact keeps at least one membership.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub memberships: Vec<Membership>,
}

impl Person {
    /// Whether a sync delta reports this person as deleted (a tombstone).
    pub fn is_deleted(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| m.deleted)
    }

    /// Whether the person belongs to the contact group `group_resource_name`.
    pub fn is_member_of(&self, group_resource_name: &str) -> bool {
        self.memberships.iter().any(|m| {
            m.contact_group_membership
                .as_ref()
                .is_some_and(|g| g.contact_group_resource_name == group_resource_name)
        })
    }
}

/// Output-only metadata about a person (`PersonMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PersonMetadata {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// Only set in sync deltas.
    #[serde(skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// Only set in sync deltas.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub previous_resource_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub linked_people_resource_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_type: Option<String>,
}

/// Where a piece of data comes from (`Source`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Source {
    /// `CONTACT`, `PROFILE`, `ACCOUNT`, `DOMAIN_PROFILE`, `OTHER_CONTACT`, `DOMAIN_CONTACT`.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub etag: String,
    /// Output only, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
}

/// Metadata of one field item (`FieldMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldMetadata {
    /// Output only: the person's primary value of this field across sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// Primary within its source; writable.
    #[serde(skip_serializing_if = "is_false")]
    pub source_primary: bool,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Boxed: most items a listing keeps have their source dropped (see the People adapter's
    /// `compact`), and an inline one took 96 bytes of every item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<Source>>,
}

impl FieldMetadata {
    /// Whether Google (or, on items we built, we) marked the item primary.
    pub fn is_primary(meta: &Option<FieldMetadata>) -> bool {
        meta.as_ref()
            .is_some_and(|m| m.primary == Some(true) || m.source_primary)
    }
}

/// An item of one of a Person's fields: each carries its own metadata (primary, source).
pub trait FieldItem {
    fn metadata(&self) -> &Option<FieldMetadata>;
    fn metadata_mut(&mut self) -> &mut Option<FieldMetadata>;
}

macro_rules! field_items {
    ($($t:ty),*) => {$(
        impl FieldItem for $t {
            fn metadata(&self) -> &Option<FieldMetadata> {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut Option<FieldMetadata> {
                &mut self.metadata
            }
        }
    )*};
}
field_items!(
    Name,
    EmailAddress,
    PhoneNumber,
    Gender,
    Birthday,
    Biography,
    Organization,
    Address,
    Url,
    ImClient,
    ClientData,
    UserDefined,
    Membership
);

/// `Name`. `displayName`/`displayNameLastFirst` are derived by Google.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Name {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub honorific_prefix: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub given_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub middle_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub family_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub honorific_suffix: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub unstructured_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_full_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_family_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_given_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_middle_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_honorific_prefix: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_honorific_suffix: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name_last_first: Option<String>,
}

/// `EmailAddress`. `type`: `home`, `work`, `other` or custom text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmailAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The name to show with the address (writable, unlike `Name::display_name`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
}

/// `PhoneNumber`. `type`: `home`, `work`, `mobile`, `homeFax`, `workFax`, `otherFax`, `pager`,
/// `workMobile`, `workPager`, `main`, `googleVoice`, `other` or custom text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PhoneNumber {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Output only: ITU-T E.164.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical_form: Option<String>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
}

/// `Gender`. `value`: `male`, `female`, `unspecified`, or any text for a custom gender.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gender {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub address_me_as: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_value: Option<String>,
}

/// `Birthday`. Prefer `date`; `text` is deprecated by Google.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Birthday {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// `Date`: a calendar date; 0 in any part means "not set" (e.g. a birthday without a year).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Date {
    #[serde(skip_serializing_if = "is_zero")]
    pub year: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub month: i32,
    #[serde(skip_serializing_if = "is_zero")]
    pub day: i32,
}

/// `Biography`. `contentType`: `TEXT_PLAIN` or `TEXT_HTML`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Biography {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub content_type: String,
}

/// `Organization`. `type`: `work`, `school` or custom text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Organization {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub department: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub job_description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub symbol: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub location: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cost_center: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub phonetic_name: String,
    #[serde(skip_serializing_if = "is_false")]
    pub current: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_time_equivalent_millipercent: Option<i32>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
}

/// `Address`. `type`: `home`, `work`, `other` or custom text. `formattedValue` is derived from the
/// parts when not given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub street_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub extended_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub po_box: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub city: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub region: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub postal_code: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub country: String,
    /// ISO 3166-1 alpha-2.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub country_code: String,
    /// Writable but derived from the parts by Google when absent; we never send it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_value: Option<String>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
}

/// `Url`. `type`: `home`, `work`, `blog`, `profile`, `homePage`, `ftp`, `reservations`,
/// `appInstallPage`, `other` or custom text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Url {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
}

/// `ImClient`. `protocol`: `aim`, `msn`, `yahoo`, `skype`, `qq`, `googleTalk`, `icq`, `jabber`,
/// `netMeeting` or custom text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImClient {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_type: Option<String>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_protocol: Option<String>,
}

/// `ClientData`: arbitrary key/value data of an application (ours: `crm_contact_id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    pub key: String,
    pub value: String,
}

/// `UserDefined`: a key/value field the user sees.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserDefined {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    pub key: String,
    pub value: String,
}

/// `Membership`: a contact group (or, read-only, domain) the person belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Membership {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<FieldMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_group_membership: Option<ContactGroupMembership>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_membership: Option<DomainMembership>,
}

impl Membership {
    /// Membership of the group `contactGroups/{id}` (or `contactGroups/myContacts`).
    pub fn of_group(group_resource_name: impl Into<String>) -> Self {
        Membership {
            contact_group_membership: Some(ContactGroupMembership {
                contact_group_resource_name: group_resource_name.into(),
                contact_group_id: None,
            }),
            ..Membership::default()
        }
    }
}

/// `ContactGroupMembership`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactGroupMembership {
    /// `contactGroups/{id}`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub contact_group_resource_name: String,
    /// Output only, deprecated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_group_id: Option<String>,
}

/// `DomainMembership` (output only for contacts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DomainMembership {
    #[serde(skip_serializing_if = "is_false")]
    pub in_viewer_domain: bool,
}

/// `ContactGroup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactGroup {
    /// `contactGroups/{id}`; empty before creation.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub etag: String,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ContactGroupMetadata>,
    /// Output only: `USER_CONTACT_GROUP` or `SYSTEM_CONTACT_GROUP`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_type: Option<String>,
    /// Unique per user (409 on a duplicate).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Output only: localized for system groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_name: Option<String>,
    /// Output only; only filled by `contactGroups.get` with `maxMembers`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub member_resource_names: Vec<String>,
    /// Output only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_data: Vec<GroupClientData>,
}

/// `ContactGroupMetadata` (output only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContactGroupMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub deleted: bool,
}

/// `GroupClientData`: application data on a contact group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupClientData {
    pub key: String,
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_google_json_and_writes_camel_case_without_empties() {
        let json = r#"{
            "resourceName": "people/c1", "etag": "e1",
            "metadata": {"sources": [{"type": "CONTACT", "id": "1", "etag": "s1",
                         "updateTime": "2026-01-01T00:00:00Z"}], "objectType": "PERSON"},
            "names": [{"givenName": "Ann", "displayName": "Ann", "metadata": {"primary": true}}],
            "phoneNumbers": [{"value": "650 253 0000", "type": "mobile", "canonicalForm": "+16502530000",
                              "formattedType": "Mobile"}],
            "birthdays": [{"date": {"month": 2, "day": 29}}],
            "photos": [{"url": "https://example.com/x"}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/g",
                             "contactGroupId": "g"}}]
        }"#;
        let p: Person = serde_json::from_str(json).expect("valid person");
        assert_eq!(p.resource_name, "people/c1");
        assert_eq!(p.phone_numbers[0].canonical_form.as_deref(), Some("+16502530000"));
        assert_eq!(
            p.birthdays[0].date,
            Some(Date {
                year: 0,
                month: 2,
                day: 29
            })
        );
        assert!(FieldMetadata::is_primary(&p.names[0].metadata));
        assert!(p.is_member_of("contactGroups/g"));
        let out = serde_json::to_value(&p).expect("serializable");
        assert_eq!(out["metadata"]["sources"][0]["type"], "CONTACT");
        assert_eq!(out["phoneNumbers"][0]["type"], "mobile");
        assert!(out.get("emailAddresses").is_none());
        assert!(out.get("photos").is_none(), "unknown fields are not echoed");
        assert!(out["birthdays"][0]["date"].get("year").is_none());
    }

    #[test]
    fn update_mask_is_deduplicated_ordered_and_valid() {
        assert_eq!(
            update_person_fields(["urls", "names", "urls", "metadata"]),
            "names,urls"
        );
        assert_eq!(update_person_fields([]), "");
    }
}
