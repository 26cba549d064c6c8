//! The People API as the sync's remote side: the one provider adapter. A listed [`Person`] is
//! wrapped as a [`RemoteContact`]; the sync's creates and updates are turned into Persons here,
//! so `sync/` never sees a People API type.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::google::person::{FieldItem, FieldMetadata, Membership, Person, MAPPED_PERSON_FIELDS};
use crate::google::{GoogleError, PeopleClient};
use crate::mapping::{self, FieldMapping, Fields};
use crate::sync::remote::{NewContact, Remote, RemoteContact, Update};
use crate::sync::sides::{GroupChange, ItemError, ItemResult, RemoteSide, SideError};

/// Google's limit on contacts per `batchUpdateContacts` call.
const UPDATE_BATCH: usize = 200;

/// `connections.list` shows at most this many e-mail addresses and phone numbers per person.
const LISTED_ITEMS_CAP: usize = 100;

pub struct PeopleSide(pub PeopleClient);

/// A Person, as the sync reads it: what a run asks of every contact, read once, and the person
/// itself as JSON text, read again when its fields are compared or a write starts from it.
///
/// A full run holds the account's whole listing while it plans. As parsed Persons, 25,000
/// contacts took about 50 MB of the dedupe scenario's peak (bench). As text they take a third of
/// that, if the text is one allocation: the names and etags, kept as strings of their own, were
/// spread over the memory each page's parsing had used and freed, and held 13 MB of it. A run
/// reads a listed person's fields once or twice, a few microseconds each.
#[derive(Debug)]
pub struct PersonContact {
    /// The resource name, the etag, the groups' resource names (each ended by a newline, which
    /// none holds), then the person as [`Person`]'s own serialization writes it.
    text: Box<str>,
    /// Where in `text` the resource name, the etag and the groups end.
    ends: [u32; 3],
    updated_ms: Option<i64>,
    deleted: bool,
    /// Empty but in a delta that reports a rename.
    former_ids: Vec<String>,
    crm_id: Option<u64>,
    cut_by_listing: bool,
}

impl PersonContact {
    /// Wraps a person Google showed.
    pub fn shown(mut person: Person) -> Remote {
        drop_unread(&mut person);
        // Strings, numbers and lists only: serde_json cannot fail on them.
        let json = serde_json::to_string(&person).expect("a Person serializes");
        let groups: Vec<&str> = person
            .memberships
            .iter()
            .filter_map(|m| m.contact_group_membership.as_ref())
            .map(|g| g.contact_group_resource_name.as_str())
            .collect();
        let groups_len: usize = groups.iter().map(|g| g.len() + 1).sum();
        let mut text =
            String::with_capacity(person.resource_name.len() + person.etag.len() + groups_len + json.len());
        let mut ends = [0; 3];
        text.push_str(&person.resource_name);
        ends[0] = text.len() as u32;
        text.push_str(&person.etag);
        ends[1] = text.len() as u32;
        for group in groups {
            text.push_str(group);
            text.push('\n');
        }
        ends[2] = text.len() as u32;
        text.push_str(&json);
        Arc::new(PersonContact {
            text: text.into_boxed_str(),
            ends,
            updated_ms: update_time_ms(&person),
            deleted: person.is_deleted(),
            former_ids: person
                .metadata
                .as_ref()
                .map(|m| m.previous_resource_names.clone())
                .unwrap_or_default(),
            crm_id: mapping::crm_id_of(&person).map(|id| id.0),
            cut_by_listing: person.email_addresses.len() >= LISTED_ITEMS_CAP
                || person.phone_numbers.len() >= LISTED_ITEMS_CAP,
        })
    }

    fn part(&self, from: usize, to: usize) -> &str {
        &self.text[from..to]
    }

    fn group_names(&self) -> impl Iterator<Item = &str> {
        self.part(self.ends[1] as usize, self.ends[2] as usize).lines()
    }

    fn json(&self) -> &str {
        &self.text[self.ends[2] as usize..]
    }

    /// The person as Google showed it.
    fn person(&self) -> Person {
        // Text this type wrote from a Person (`shown`), which reads back equal
        // (`a_listed_person_reads_back_as_google_showed_it_but_for_its_display_forms`).
        serde_json::from_str(self.json()).expect("a Person's own JSON reads back")
    }
}

impl RemoteContact for PersonContact {
    fn id(&self) -> &str {
        self.part(0, self.ends[0] as usize)
    }
    fn version(&self) -> &str {
        self.part(self.ends[0] as usize, self.ends[1] as usize)
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
        self.group_names().map(str::to_string).collect()
    }
    fn in_group(&self, group: &str) -> bool {
        self.group_names().any(|g| g == group)
    }
    fn crm_id(&self) -> Option<u64> {
        self.crm_id
    }
    fn fields(&self, mapping: &FieldMapping) -> Fields {
        mapping::google_fields(&self.person(), mapping)
    }
    fn primary_email(&self) -> Option<String> {
        let person = self.person();
        primary_or_first(
            person
                .email_addresses
                .iter()
                .map(|e| (&e.metadata, e.value.as_str())),
        )
    }
    fn primary_phone(&self) -> Option<String> {
        let person = self.person();
        primary_or_first(
            person
                .phone_numbers
                .iter()
                .map(|p| (&p.metadata, p.canonical_form.as_deref().unwrap_or(&p.value))),
        )
    }
    fn cut_by_listing(&self) -> bool {
        self.cut_by_listing
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn record(&self) -> Option<String> {
        if self.cut_by_listing {
            return None;
        }
        Some(self.json().to_string())
    }
}

fn primary_or_first<'a>(items: impl Iterator<Item = (&'a Option<FieldMetadata>, &'a str)>) -> Option<String> {
    let items: Vec<(bool, &str)> = items.map(|(m, v)| (FieldMetadata::is_primary(m), v)).collect();
    items
        .iter()
        .find(|(p, _)| *p)
        .or(items.first())
        .map(|(_, v)| v.to_string())
}

/// When Google last changed the contact itself (its `CONTACT` source).
fn update_time_ms(person: &Person) -> Option<i64> {
    let sources = &person.metadata.as_ref()?.sources;
    let source = sources.iter().find(|s| s.kind == "CONTACT").or(sources.first())?;
    let text = source.update_time.as_deref()?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Drops what a listed person holds that the sync never reads, before it is kept for the run
/// (about a quarter of its text):
/// - the source each of the contact's own items names (`CONTACT` and the contact's id): an item
///   without one is the contact's own to the mapping too, and writes send theirs without one.
///   Items of other sources (a Google profile) keep theirs and stay read-only;
/// - the values Google formats for display (`displayName`, `formattedType`, `formattedValue`,
///   …) and the group ids beside the group names: output only, so Google ignores them in a
///   write, and the mapping never reads them.
fn drop_unread(person: &mut Person) {
    own_sources(&mut person.names);
    own_sources(&mut person.email_addresses);
    own_sources(&mut person.phone_numbers);
    own_sources(&mut person.genders);
    own_sources(&mut person.birthdays);
    own_sources(&mut person.biographies);
    own_sources(&mut person.organizations);
    own_sources(&mut person.addresses);
    own_sources(&mut person.urls);
    own_sources(&mut person.im_clients);
    own_sources(&mut person.client_data);
    own_sources(&mut person.user_defined);
    own_sources(&mut person.memberships);
    if let Some(metadata) = person.metadata.as_mut() {
        metadata.object_type = None;
    }
    for name in &mut person.names {
        (name.display_name, name.display_name_last_first) = (None, None);
    }
    person
        .email_addresses
        .iter_mut()
        .for_each(|e| e.formatted_type = None);
    person
        .phone_numbers
        .iter_mut()
        .for_each(|p| p.formatted_type = None);
    person.genders.iter_mut().for_each(|g| g.formatted_value = None);
    person
        .organizations
        .iter_mut()
        .for_each(|o| o.formatted_type = None);
    for address in &mut person.addresses {
        (address.formatted_value, address.formatted_type) = (None, None);
    }
    person.urls.iter_mut().for_each(|u| u.formatted_type = None);
    for im in &mut person.im_clients {
        (im.formatted_type, im.formatted_protocol) = (None, None);
    }
    for membership in &mut person.memberships {
        if let Some(group) = membership.contact_group_membership.as_mut() {
            group.contact_group_id = None;
        }
    }
}

fn own_sources<T: FieldItem>(items: &mut [T]) {
    for item in items.iter_mut() {
        if mapping::is_contact_source(item.metadata()) {
            if let Some(m) = item.metadata_mut() {
                m.source = None;
            }
        }
    }
}

/// The Person a create sends: the mapped fields, our mark, the group.
fn new_person(new: &NewContact, mapping: &FieldMapping) -> Person {
    let mut person = mapping::fields_to_person(&new.fields, &Person::default(), mapping);
    if new.crm_id != 0 {
        mapping::set_crm_id(&mut person, abi::ContactId(new.crm_id));
    }
    person.memberships = vec![Membership::of_group(new.group.as_str())];
    person
}

/// The Person an update sends and its `updatePersonFields`: the changed People fields (Google
/// replaces each masked field whole, so the Person carries all of each, and keeps what Google
/// holds of the items the mapping does not cover), then `clientData` when it sets our mark.
fn updated_person(update: &Update, mapping: &FieldMapping) -> (Person, Vec<&'static str>) {
    let current = update
        .current
        .as_ref()
        .and_then(|c| c.as_any().downcast_ref::<PersonContact>())
        .map(PersonContact::person)
        .unwrap_or_default();
    // Nothing mapped changes (only our mark): the person goes as Google showed it.
    let mut person = if update.changed.is_empty() {
        current
    } else {
        mapping::fields_to_person(&update.fields, &current, mapping)
    };
    person.resource_name = update.id.clone();
    person.etag = update.version.clone();
    let mut mask = mapping::person_fields_of(update.changed.iter().map(String::as_str));
    if let Some(id) = update.mark {
        mapping::set_crm_id(&mut person, abi::ContactId(id));
        mask.push("clientData");
    }
    (person, mask)
}

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

fn no_contact() -> ItemError {
    ItemError {
        reason: "Google returned no contact".into(),
        stale: false,
        gone: false,
    }
}

fn item_result(outcome: Result<Option<Person>, crate::google::ItemError>) -> ItemResult {
    match outcome {
        Ok(Some(person)) => Ok(PersonContact::shown(person)),
        Ok(None) => Err(no_contact()),
        Err(e) => Err(item_error(e)),
    }
}

impl PeopleSide {
    /// One `batchUpdateContacts` call: Persons that share one mask.
    fn update_batch(&self, persons: &[Person], mask: &str) -> Result<Vec<(String, ItemResult)>, SideError> {
        let items = self
            .0
            .batch_update(persons, mask, MAPPED_PERSON_FIELDS)
            .into_result()
            .map_err(side_error)?;
        Ok(items
            .into_iter()
            .map(|item| {
                let rn = persons
                    .get(item.index)
                    .map(|p| p.resource_name.clone())
                    .unwrap_or(item.resource_name);
                (rn, item_result(item.outcome))
            })
            .collect())
    }
}

impl RemoteSide for PeopleSide {
    fn list(
        &self,
        sync_token: Option<&str>,
        on_page: &mut dyn FnMut(Vec<Remote>),
    ) -> Result<String, SideError> {
        let summary = self
            .0
            .for_each_connections_page(MAPPED_PERSON_FIELDS, sync_token, |page| {
                on_page(page.into_iter().map(PersonContact::shown).collect());
                Ok::<(), GoogleError>(())
            })
            .map_err(side_error)?;
        summary
            .next_sync_token
            .ok_or_else(|| SideError::Failed("Google's contact listing ended without a sync token.".into()))
    }

    fn restore(&self, record: &str) -> Option<Remote> {
        serde_json::from_str::<Person>(record)
            .ok()
            .map(PersonContact::shown)
    }

    fn get_many(&self, ids: &[String]) -> Result<Vec<Remote>, SideError> {
        let items = self.0.batch_get(ids, MAPPED_PERSON_FIELDS).map_err(side_error)?;
        Ok(items
            .into_iter()
            .filter_map(|i| i.outcome.ok().flatten())
            .map(PersonContact::shown)
            .collect())
    }

    fn create_many(
        &self,
        new: Vec<NewContact>,
        mapping: &FieldMapping,
    ) -> Result<Vec<ItemResult>, SideError> {
        let persons: Vec<Person> = new.iter().map(|n| new_person(n, mapping)).collect();
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
                *slot = item_result(item.outcome);
            }
        }
        Ok(results)
    }

    /// Groups the updates by mask (one mask per batch call), in batches of Google's limit.
    fn update_many(
        &self,
        updates: Vec<Update>,
        mapping: &FieldMapping,
    ) -> Result<Vec<(String, ItemResult)>, SideError> {
        let mut by_mask: BTreeMap<Vec<&'static str>, Vec<Person>> = BTreeMap::new();
        for update in &updates {
            let (person, mask) = updated_person(update, mapping);
            by_mask.entry(mask).or_default().push(person);
        }
        let mut written = Vec::new();
        for (mask, persons) in by_mask {
            let mask = mask.join(",");
            for chunk in persons.chunks(UPDATE_BATCH) {
                written.extend(self.update_batch(chunk, &mask)?);
            }
        }
        Ok(written)
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

    fn find_group(&self, name: &str) -> Result<Option<String>, SideError> {
        Ok(self
            .0
            .find_contact_group(name)
            .map_err(side_error)?
            .map(|g| g.resource_name))
    }

    fn ensure_group(&self, name: &str) -> Result<String, SideError> {
        if let Some(group) = self.find_group(name)? {
            return Ok(group);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::google::person::{
        ClientData, EmailAddress, Name, Organization, PersonMetadata, PhoneNumber, Source, UserDefined,
    };
    use crate::mapping::key;

    fn email(value: &str, primary: bool) -> EmailAddress {
        EmailAddress {
            value: value.into(),
            metadata: primary.then(|| FieldMetadata {
                primary: Some(true),
                ..FieldMetadata::default()
            }),
            ..EmailAddress::default()
        }
    }

    fn listed() -> Remote {
        PersonContact::shown(Person {
            resource_name: "people/c1".into(),
            etag: "e1".into(),
            email_addresses: vec![email("a@example.com", false), email("b@example.com", true)],
            user_defined: vec![UserDefined {
                key: "not mapped".into(),
                value: "kept".into(),
                ..UserDefined::default()
            }],
            ..Person::default()
        })
    }

    fn update(changed: &[&str], mark: Option<u64>) -> Update {
        let current = listed();
        let mut fields = current.fields(&FieldMapping::default());
        fields.set_one(key::NOTES, crate::mapping::Item::new("").with("value", "new"));
        Update {
            id: "people/c1".into(),
            version: "e1".into(),
            current: Some(current),
            fields,
            changed: changed.iter().map(|k| k.to_string()).collect(),
            mark,
        }
    }

    #[test]
    fn an_update_masks_the_changed_people_fields_in_googles_order_then_our_mark() {
        let (_, mask) = updated_person(
            &update(&[key::POSITION, key::NOTES, key::COMPANY], Some(7)),
            &Default::default(),
        );
        assert_eq!(mask, vec!["biographies", "organizations", "clientData"]);
        let (person, mask) = updated_person(&update(&[], Some(7)), &Default::default());
        assert_eq!(mask, vec!["clientData"]);
        assert_eq!(mapping::crm_id_of(&person), Some(abi::ContactId(7)));
    }

    #[test]
    fn an_update_keeps_what_google_holds_beyond_the_mapping_and_names_the_planned_version() {
        let (person, _) = updated_person(&update(&[key::NOTES], None), &Default::default());
        assert_eq!(
            (person.resource_name.as_str(), person.etag.as_str()),
            ("people/c1", "e1")
        );
        assert_eq!(person.user_defined.len(), 1, "{person:?}");
        assert_eq!(person.user_defined[0].value, "kept");
        assert_eq!(person.biographies[0].value, "new");
        assert_eq!(person.email_addresses.len(), 2);
    }

    #[test]
    fn a_listed_person_reads_its_primary_address_and_is_cut_at_googles_listing_cap() {
        let remote = listed();
        assert_eq!(remote.primary_email().as_deref(), Some("b@example.com"));
        assert!(!remote.cut_by_listing());
        let many = PersonContact::shown(Person {
            email_addresses: (0..LISTED_ITEMS_CAP)
                .map(|i| email(&format!("{i}@x.org"), false))
                .collect(),
            ..Person::default()
        });
        assert!(many.cut_by_listing());
        assert_eq!(many.primary_email().as_deref(), Some("0@x.org"));
    }

    #[test]
    fn a_listed_person_reads_back_as_google_showed_it_but_for_its_display_forms() {
        let profile = FieldMetadata {
            source: Some(Box::new(Source {
                kind: "PROFILE".into(),
                id: "p7".into(),
                ..Source::default()
            })),
            ..FieldMetadata::default()
        };
        let person = Person {
            resource_name: "people/c9".into(),
            etag: "e9".into(),
            metadata: Some(PersonMetadata {
                sources: vec![Source {
                    kind: "CONTACT".into(),
                    id: "9".into(),
                    etag: "s9".into(),
                    update_time: Some("2026-12-03T10:00:00.123Z".into()),
                }],
                previous_resource_names: vec!["people/c8".into()],
                ..PersonMetadata::default()
            }),
            names: vec![Name {
                given_name: "Ann \"Q\" Lee".into(),
                display_name: Some("Ann Lee".into()),
                ..Name::default()
            }],
            email_addresses: vec![email("a@example.com", false), email("b@example.com", true)],
            phone_numbers: vec![PhoneNumber {
                value: "+1 (555) 000-0001".into(),
                canonical_form: Some("+15550000001".into()),
                formatted_type: Some("Mobile".into()),
                metadata: Some(profile),
                ..PhoneNumber::default()
            }],
            organizations: vec![Organization {
                name: "Ünïcode Co.".into(),
                title: "CEO".into(),
                ..Organization::default()
            }],
            client_data: vec![ClientData {
                key: mapping::CRM_ID_KEY.into(),
                value: "42".into(),
                ..ClientData::default()
            }],
            memberships: vec![Membership::of_group("contactGroups/sync")],
            ..Person::default()
        };
        let remote = PersonContact::shown(person.clone());
        let kept = remote
            .as_any()
            .downcast_ref::<PersonContact>()
            .map(PersonContact::person);
        // All but what Google formats for display.
        let mut shown = person.clone();
        shown.names[0].display_name = None;
        shown.phone_numbers[0].formatted_type = None;
        assert_eq!(kept.as_ref(), Some(&shown));
        assert_eq!((remote.id(), remote.version()), ("people/c9", "e9"));
        assert_eq!(remote.updated_ms(), Some(1_796_292_000_123));
        assert_eq!(remote.former_ids(), ["people/c8".to_string()]);
        assert_eq!(remote.crm_id(), Some(42));
        assert!(remote.in_group("contactGroups/sync") && !remote.deleted());
        assert_eq!(remote.primary_phone().as_deref(), Some("+15550000001"));
        assert_eq!(
            remote.fields(&Default::default()),
            mapping::google_fields(&person, &Default::default())
        );
        let record = remote.record().unwrap_or_default();
        assert_eq!(serde_json::from_str::<Person>(&record).ok(), Some(shown));
    }
}
