//! The CRM contacts a run holds while it plans: each kept as its JSON text, read again when the
//! planner looks at it.
//!
//! A full run holds the whole filter from its listing to its writes. As the host hands them
//! over, 25,000 contacts took 27 MB of the bench's dedupe peak: their fixed fields (about 570
//! bytes a contact, empty or not) in the plugin's memory, their text in the host's allocator,
//! which keeps what it freed. As text they take about 10 MB, and the host's copies go as soon
//! as they are read. The planner reads each contact a
//! few times a run, a few microseconds each.

use std::collections::BTreeMap;

use abi::Contact;

/// Contacts by CRM id, in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Present(BTreeMap<u64, Box<str>>);

impl Present {
    pub fn insert(&mut self, id: u64, contact: Contact) {
        self.0.insert(id, text(&contact));
    }

    pub fn get(&self, id: &u64) -> Option<Contact> {
        self.0.get(id).map(|t| read(t))
    }

    pub fn remove(&mut self, id: &u64) -> Option<Contact> {
        self.0.remove(id).map(|t| read(&t))
    }

    pub fn contains_key(&self, id: &u64) -> bool {
        self.0.contains_key(id)
    }

    pub fn keys(&self) -> impl Iterator<Item = &u64> {
        self.0.keys()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Keeps the contacts whose id `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&u64) -> bool) {
        self.0.retain(|id, _| keep(id));
    }

    /// The contacts in id order, each read as it is reached.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Contact)> + '_ {
        self.0.iter().map(|(id, t)| (*id, read(t)))
    }

    /// The contacts whose id `keep` accepts, in id order: only those are read.
    pub fn iter_where<'a>(
        &'a self,
        mut keep: impl FnMut(&u64) -> bool + 'a,
    ) -> impl Iterator<Item = (u64, Contact)> + 'a {
        self.0
            .iter()
            .filter(move |(id, _)| keep(id))
            .map(|(id, t)| (*id, read(t)))
    }
}

impl FromIterator<(u64, Contact)> for Present {
    fn from_iter<I: IntoIterator<Item = (u64, Contact)>>(contacts: I) -> Self {
        Present(contacts.into_iter().map(|(id, c)| (id, text(&c))).collect())
    }
}

fn text(contact: &Contact) -> Box<str> {
    // Strings, numbers and lists only: serde_json cannot fail on them.
    serde_json::to_string(contact)
        .expect("a Contact serializes")
        .into_boxed_str()
}

fn read(text: &str) -> Contact {
    // Text `text` wrote from a Contact, which reads back equal
    // (`a_contact_reads_back_as_the_crm_gave_it`).
    serde_json::from_str(text).expect("a Contact's own JSON reads back")
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::{ContactId, TypedValue};
    use abi_stable::std_types::{RString, RVec};

    #[test]
    fn a_contact_reads_back_as_the_crm_gave_it() {
        let mut contact = Contact {
            id: ContactId(7),
            notes: RString::from("line one\nline \"two\" — ünïcode"),
            updated_at_ms: 1_796_292_000_123,
            ..Contact::default()
        };
        contact.name.given = RString::from("Ann");
        contact.emails = RVec::from(vec![TypedValue {
            value: RString::from("ann@example.com"),
            kind: RString::from("work"),
            primary: true,
        }]);
        let mut present: Present = [(7, contact.clone())].into_iter().collect();
        present.insert(8, Contact::default());
        assert_eq!(present.get(&7), Some(contact.clone()));
        assert_eq!(present.keys().copied().collect::<Vec<_>>(), [7, 8]);
        assert_eq!(present.iter().next(), Some((7, contact.clone())));
        assert_eq!(present.iter_where(|id| *id == 8).count(), 1);
        assert_eq!(present.remove(&7), Some(contact));
        assert_eq!(present.len(), 1);
    }
}
