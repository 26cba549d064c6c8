//! The CRM in miniature: users with plans and permissions, contacts with access rules, saved
//! filters. Every change is appended to a journal (when the CRM has a state directory) so a
//! host killed with SIGKILL restarts with everything it had acknowledged.

mod filter;
mod journal;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use abi::{Contact, ContactId, ContactsPermission, FilterId, Plan, SavedFilter, User, UserId};
use serde::{Deserialize, Serialize};

pub use filter::matches;
use journal::Journal;

/// Who may see a contact, besides admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visibility {
    Everyone,
    /// Only the owner (and admins).
    Owner,
    /// The owner and these users.
    Shared(Vec<UserId>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub contact: Contact,
    pub owner: UserId,
    pub visibility: Visibility,
    /// The key of the idempotent create that made this contact (see
    /// [`Crm::create_contact_once`]), kept with the contact so a restarted CRM still knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_key: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CrmData {
    pub users: BTreeMap<u64, User>,
    pub contacts: BTreeMap<u64, ContactRecord>,
    pub filters: BTreeMap<u64, SavedFilter>,
    pub next_id: u64,
    /// Create key → the contact it made; rebuilt from the contacts on replay.
    #[serde(skip)]
    pub create_keys: BTreeMap<String, u64>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CrmError {
    #[error("There is no user {0}.")]
    NoUser(u64),
    #[error("There is no contact {0}.")]
    NoContact(u64),
    #[error("There is no filter {0}.")]
    NoFilter(u64),
    #[error("User {user} may not see contact {contact}.")]
    Forbidden { user: u64, contact: u64 },
    #[error("User {0} may not edit contacts.")]
    ReadOnly(u64),
    #[error("The CRM could not write its journal: {0}")]
    Journal(String),
}

/// A change the CRM made, to be told to plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Contact {
        id: ContactId,
        kind: abi::ChangeKind,
        by: Option<UserId>,
    },
    FilterSaved(FilterId),
}

pub struct Crm {
    data: Mutex<CrmData>,
    journal: Option<Journal>,
    /// A fault for tests: this many creates still happen but their answer never reaches the
    /// plugin, as when the CRM dies between its write and its answer.
    lost_answers: AtomicUsize,
}

impl Default for Crm {
    fn default() -> Self {
        Crm {
            data: Mutex::new(CrmData {
                next_id: 1,
                ..CrmData::default()
            }),
            journal: None,
            lost_answers: AtomicUsize::new(0),
        }
    }
}

impl Crm {
    /// A CRM kept in `dir/crm.journal`, replaying what is there.
    pub fn open(dir: &Path) -> Result<Self, CrmError> {
        let (journal, data) =
            Journal::open(&dir.join("crm.journal")).map_err(|e| CrmError::Journal(e.to_string()))?;
        Ok(Crm {
            data: Mutex::new(data),
            journal: Some(journal),
            lost_answers: AtomicUsize::new(0),
        })
    }

    /// The next `n` creates a plugin asks for are made, but their answer is lost.
    pub fn lose_next_create_answers(&self, n: usize) {
        self.lost_answers.store(n, Ordering::SeqCst);
    }

    /// Whether the answer of a create just made is lost (see [`Crm::lose_next_create_answers`]).
    pub(crate) fn create_answer_lost(&self) -> bool {
        self.lost_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn lock(&self) -> MutexGuard<'_, CrmData> {
        self.data.lock().expect("CRM lock poisoned")
    }

    fn record(&self, entry: journal::Entry) -> Result<(), CrmError> {
        match &self.journal {
            Some(j) => j.append(&entry).map_err(|e| CrmError::Journal(e.to_string())),
            None => Ok(()),
        }
    }

    fn next_id(data: &mut CrmData) -> u64 {
        let id = data.next_id.max(1);
        data.next_id = id + 1;
        id
    }

    // ----- users -----

    pub fn add_user(
        &self,
        name: &str,
        features: &[&str],
        permission: ContactsPermission,
        roles: &[&str],
    ) -> Result<User, CrmError> {
        let mut data = self.lock();
        let id = Self::next_id(&mut data);
        let user = User {
            id: UserId(id),
            name: name.into(),
            email: format!("{}@crm.example", name.to_lowercase().replace(' ', ".")).into(),
            plan: Plan {
                name: if features.is_empty() {
                    "Free".into()
                } else {
                    "Business".into()
                },
                features: features.iter().map(|f| (*f).into()).collect(),
            },
            contacts_permission: permission,
            roles: roles.iter().map(|r| (*r).into()).collect(),
        };
        self.put_user(&mut data, user.clone())?;
        Ok(user)
    }

    pub fn put_user_record(&self, user: User) -> Result<(), CrmError> {
        let mut data = self.lock();
        self.put_user(&mut data, user)
    }

    fn put_user(&self, data: &mut CrmData, user: User) -> Result<(), CrmError> {
        self.record(journal::Entry::User(user.clone()))?;
        data.next_id = data.next_id.max(user.id.0 + 1);
        data.users.insert(user.id.0, user);
        Ok(())
    }

    pub fn user(&self, id: UserId) -> Option<User> {
        self.lock().users.get(&id.0).cloned()
    }

    pub fn users(&self) -> Vec<User> {
        self.lock().users.values().cloned().collect()
    }

    // ----- filters -----

    pub fn save_filter(&self, filter: SavedFilter) -> Result<SavedFilter, CrmError> {
        let mut data = self.lock();
        let mut filter = filter;
        if filter.id.0 == 0 {
            filter.id = FilterId(Self::next_id(&mut data));
        }
        if !data.users.contains_key(&filter.author.0) {
            return Err(CrmError::NoUser(filter.author.0));
        }
        self.record(journal::Entry::Filter(filter.clone()))?;
        data.next_id = data.next_id.max(filter.id.0 + 1);
        data.filters.insert(filter.id.0, filter.clone());
        Ok(filter)
    }

    pub fn filter(&self, id: FilterId) -> Option<SavedFilter> {
        self.lock().filters.get(&id.0).cloned()
    }

    pub fn filters(&self) -> Vec<SavedFilter> {
        self.lock().filters.values().cloned().collect()
    }

    // ----- contacts -----

    pub fn may_access(&self, user: UserId, contact: ContactId) -> bool {
        let data = self.lock();
        match (data.users.get(&user.0), data.contacts.get(&contact.0)) {
            (Some(u), Some(c)) => can_see(u, c),
            _ => false,
        }
    }

    /// Creates a contact owned by `owner`. With `into_filter`, sets what the filter's
    /// `equals` criteria need so the contact belongs to it.
    pub fn create_contact(
        &self,
        owner: UserId,
        contact: Contact,
        visibility: Visibility,
        into_filter: Option<FilterId>,
    ) -> Result<Contact, CrmError> {
        let mut data = self.lock();
        self.insert_contact(&mut data, owner, contact, visibility, into_filter, None)
    }

    /// Creates a contact once per `key`: when `key` already made a contact that still exists,
    /// returns it as `owner` sees it (and `false`) instead of creating another. The key is
    /// journaled with the contact, in the same line, so it outlives a SIGKILL.
    pub fn create_contact_once(
        &self,
        owner: UserId,
        key: &str,
        contact: Contact,
        visibility: Visibility,
        into_filter: Option<FilterId>,
    ) -> Result<(Contact, bool), CrmError> {
        let mut data = self.lock();
        if let Some(&id) = data.create_keys.get(key) {
            let user = data.users.get(&owner.0).ok_or(CrmError::NoUser(owner.0))?;
            let record = data.contacts.get(&id).ok_or(CrmError::NoContact(id))?;
            if !can_see(user, record) {
                return Err(CrmError::Forbidden {
                    user: owner.0,
                    contact: id,
                });
            }
            return Ok((record.contact.clone(), false));
        }
        let created = self.insert_contact(
            &mut data,
            owner,
            contact,
            visibility,
            into_filter,
            Some(key.to_string()),
        )?;
        Ok((created, true))
    }

    fn insert_contact(
        &self,
        data: &mut CrmData,
        owner: UserId,
        contact: Contact,
        visibility: Visibility,
        into_filter: Option<FilterId>,
        create_key: Option<String>,
    ) -> Result<Contact, CrmError> {
        let user = data.users.get(&owner.0).ok_or(CrmError::NoUser(owner.0))?;
        if user.contacts_permission != ContactsPermission::Edit {
            return Err(CrmError::ReadOnly(owner.0));
        }
        let mut contact = contact;
        if let Some(fid) = into_filter {
            let filter = data.filters.get(&fid.0).ok_or(CrmError::NoFilter(fid.0))?;
            filter::satisfy(filter, &mut contact);
        }
        contact.id = ContactId(Self::next_id(data));
        let record = ContactRecord {
            contact: contact.clone(),
            owner,
            visibility,
            create_key,
        };
        self.record(journal::Entry::Contact(Box::new(record.clone())))?;
        data.insert_contact(record);
        Ok(contact)
    }

    /// Replaces a contact's fields as `user` (who must see it and may edit).
    pub fn update_contact(&self, user: UserId, contact: Contact) -> Result<Contact, CrmError> {
        let mut data = self.lock();
        let u = data.users.get(&user.0).ok_or(CrmError::NoUser(user.0))?;
        let record = data
            .contacts
            .get(&contact.id.0)
            .ok_or(CrmError::NoContact(contact.id.0))?;
        if !can_see(u, record) {
            return Err(CrmError::Forbidden {
                user: user.0,
                contact: contact.id.0,
            });
        }
        if u.contacts_permission != ContactsPermission::Edit {
            return Err(CrmError::ReadOnly(user.0));
        }
        let record = ContactRecord {
            contact: contact.clone(),
            ..record.clone()
        };
        self.record(journal::Entry::Contact(Box::new(record.clone())))?;
        data.contacts.insert(contact.id.0, record);
        Ok(contact)
    }

    /// Changes owner or visibility (an access change).
    pub fn set_access(
        &self,
        contact: ContactId,
        owner: UserId,
        visibility: Visibility,
    ) -> Result<(), CrmError> {
        let mut data = self.lock();
        let record = data
            .contacts
            .get(&contact.0)
            .ok_or(CrmError::NoContact(contact.0))?;
        let record = ContactRecord {
            owner,
            visibility,
            ..record.clone()
        };
        self.record(journal::Entry::Contact(Box::new(record.clone())))?;
        data.contacts.insert(contact.0, record);
        Ok(())
    }

    pub fn delete_contact(&self, contact: ContactId) -> Result<(), CrmError> {
        let mut data = self.lock();
        if !data.contacts.contains_key(&contact.0) {
            return Err(CrmError::NoContact(contact.0));
        }
        self.record(journal::Entry::DeleteContact(contact.0))?;
        data.remove_contact(contact.0);
        Ok(())
    }

    /// A contact regardless of access (the CRM's own view).
    pub fn contact(&self, id: ContactId) -> Option<ContactRecord> {
        self.lock().contacts.get(&id.0).cloned()
    }

    /// A contact as `user` sees it.
    pub fn contact_as(&self, user: UserId, id: ContactId) -> Result<Option<Contact>, CrmError> {
        let data = self.lock();
        let u = data.users.get(&user.0).ok_or(CrmError::NoUser(user.0))?;
        Ok(data
            .contacts
            .get(&id.0)
            .filter(|c| can_see(u, c))
            .map(|c| c.contact.clone()))
    }

    pub fn contact_count(&self) -> usize {
        self.lock().contacts.len()
    }

    pub fn all_contacts(&self) -> Vec<ContactRecord> {
        self.lock().contacts.values().cloned().collect()
    }

    /// One page of a filter's contacts that `user` may see, ordered by id, after `after`.
    pub fn filter_contacts(
        &self,
        filter: FilterId,
        user: UserId,
        after: ContactId,
        limit: usize,
    ) -> Result<Vec<Contact>, CrmError> {
        let data = self.lock();
        let f = data.filters.get(&filter.0).ok_or(CrmError::NoFilter(filter.0))?;
        let u = data.users.get(&user.0).ok_or(CrmError::NoUser(user.0))?;
        Ok(data
            .contacts
            .range(after.0 + 1..)
            .map(|(_, c)| c)
            .filter(|c| can_see(u, c) && matches(f, &c.contact))
            .take(limit)
            .map(|c| c.contact.clone())
            .collect())
    }

    pub fn filter_includes(
        &self,
        filter: FilterId,
        user: UserId,
        contact: ContactId,
    ) -> Result<bool, CrmError> {
        let data = self.lock();
        let f = data.filters.get(&filter.0).ok_or(CrmError::NoFilter(filter.0))?;
        let u = data.users.get(&user.0).ok_or(CrmError::NoUser(user.0))?;
        Ok(data
            .contacts
            .get(&contact.0)
            .is_some_and(|c| can_see(u, c) && matches(f, &c.contact)))
    }
}

impl CrmData {
    /// Stores a contact record and indexes its create key.
    fn insert_contact(&mut self, record: ContactRecord) {
        if let Some(key) = &record.create_key {
            self.create_keys.insert(key.clone(), record.contact.id.0);
        }
        self.contacts.insert(record.contact.id.0, record);
    }

    /// Removes a contact; its create key goes with it, so the key may create again.
    fn remove_contact(&mut self, id: u64) {
        if let Some(key) = self.contacts.remove(&id).and_then(|r| r.create_key) {
            self.create_keys.remove(&key);
        }
    }
}

fn can_see(user: &User, record: &ContactRecord) -> bool {
    if user.contacts_permission == ContactsPermission::None {
        return false;
    }
    if user.roles.iter().any(|r| r.as_str() == "admin") || record.owner == user.id {
        return true;
    }
    match &record.visibility {
        Visibility::Everyone => true,
        Visibility::Owner => false,
        Visibility::Shared(users) => users.contains(&user.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crm_with_user(dir: &Path) -> (Crm, UserId) {
        let crm = Crm::open(dir).unwrap();
        let user = match crm.users().first() {
            Some(u) => u.id,
            None => {
                crm.add_user("Ann", &[], ContactsPermission::Edit, &[])
                    .unwrap()
                    .id
            }
        };
        (crm, user)
    }

    fn named(given: &str) -> Contact {
        Contact {
            name: abi::PersonName {
                given: given.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_create_key_answers_the_contact_it_made_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (crm, user) = crm_with_user(dir.path());
        let (first, new) = crm
            .create_contact_once(user, "p/k1", named("One"), Visibility::Everyone, None)
            .unwrap();
        assert!(new);
        let (again, new) = crm
            .create_contact_once(user, "p/k1", named("Other"), Visibility::Everyone, None)
            .unwrap();
        assert!(!new);
        assert_eq!(again, first);
        drop(crm);
        let (crm, user) = crm_with_user(dir.path());
        let (after_restart, new) = crm
            .create_contact_once(user, "p/k1", named("Other"), Visibility::Everyone, None)
            .unwrap();
        assert!(!new);
        assert_eq!(after_restart.id, first.id);
        assert_eq!(crm.contact_count(), 1);
        let (second, new) = crm
            .create_contact_once(user, "p/k2", named("Two"), Visibility::Everyone, None)
            .unwrap();
        assert!(new);
        assert_ne!(second.id, first.id);
    }

    #[test]
    fn a_create_key_whose_contact_was_deleted_creates_again() {
        let dir = tempfile::tempdir().unwrap();
        let (crm, user) = crm_with_user(dir.path());
        let (first, _) = crm
            .create_contact_once(user, "p/k", named("One"), Visibility::Everyone, None)
            .unwrap();
        crm.delete_contact(first.id).unwrap();
        drop(crm);
        let (crm, user) = crm_with_user(dir.path());
        let (again, new) = crm
            .create_contact_once(user, "p/k", named("One"), Visibility::Everyone, None)
            .unwrap();
        assert!(new);
        assert_ne!(again.id, first.id);
        assert_eq!(crm.contact_count(), 1);
    }

    #[test]
    fn an_edit_keeps_the_create_key_with_the_contact() {
        let dir = tempfile::tempdir().unwrap();
        let (crm, user) = crm_with_user(dir.path());
        let (first, _) = crm
            .create_contact_once(user, "p/k", named("One"), Visibility::Everyone, None)
            .unwrap();
        crm.update_contact(user, named_with_id("Edited", first.id))
            .unwrap();
        drop(crm);
        let (crm, user) = crm_with_user(dir.path());
        let (again, new) = crm
            .create_contact_once(user, "p/k", named("One"), Visibility::Everyone, None)
            .unwrap();
        assert!(!new);
        assert_eq!(again.name.given.as_str(), "Edited");
    }

    #[test]
    fn a_torn_last_journal_line_is_cut_so_later_changes_survive_the_next_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (crm, user) = crm_with_user(dir.path());
        crm.create_contact(user, named("Before"), Visibility::Everyone, None)
            .unwrap();
        drop(crm);
        // A SIGKILL in the middle of an append.
        let mut journal = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("crm.journal"))
            .unwrap();
        std::io::Write::write_all(&mut journal, b"{\"Contact\":{\"contact\":").unwrap();
        let (crm, user) = crm_with_user(dir.path());
        assert_eq!(crm.contact_count(), 1);
        crm.create_contact(user, named("After"), Visibility::Everyone, None)
            .unwrap();
        drop(crm);
        let (crm, _) = crm_with_user(dir.path());
        assert_eq!(crm.contact_count(), 2);
    }

    fn named_with_id(given: &str, id: ContactId) -> Contact {
        Contact { id, ..named(given) }
    }
}
