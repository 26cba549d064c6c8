//! The history of a run: the plan's changes, told as the preview tells them, become history
//! entries as the applier sees each write succeed. A change that failed, or that the run never
//! reached, is not recorded.

use std::collections::{btree_map, BTreeMap};

use super::plan::{Gone, GoogleView};
use super::preview::{self, Item, What};
use super::Planned;
use crate::domain::history::{Action, Entry, Side, Why};
use crate::domain::Binding;
use crate::mapping::Fields;

/// Entries waiting for their write, and those whose write succeeded. Waiting entries are kept
/// by what the applier names when a write succeeds (a CRM contact, or for imports and
/// duplicates a Google contact): a first sync tells of 25,000 successes, each finding its
/// entries at once.
#[derive(Debug, Default)]
pub struct Recorder {
    pending: BTreeMap<Key, Vec<Entry>>,
    pub done: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Contact(u64),
    /// Entries with no CRM contact yet: imports, deleted duplicates.
    Google(String),
}

impl Key {
    fn of(entry: &Entry) -> Key {
        match (entry.contact_id, &entry.google_id) {
            (Some(id), _) => Key::Contact(id),
            (None, Some(rn)) => Key::Google(rn.clone()),
            (None, None) => Key::Google(String::new()),
        }
    }
}

impl Recorder {
    pub(crate) fn of(binding: &Binding, planned: &Planned, google: &GoogleView) -> Recorder {
        // A contact's entries are one list, exactly as long as it is: lists grown by pushes
        // keep room for four entries, which for the one entry of each of 25,000 creates was
        // 15 MB a run (70 MB in a bench run of four accounts' first syncs).
        let mut pending: BTreeMap<Key, Vec<Entry>> = BTreeMap::new();
        for item in preview::each_item(binding, planned, google) {
            let mut entries = entries(planned, item);
            let Some(first) = entries.first() else {
                continue;
            };
            match pending.entry(Key::of(first)) {
                btree_map::Entry::Vacant(slot) => {
                    entries.shrink_to_fit();
                    slot.insert(entries);
                }
                btree_map::Entry::Occupied(mut slot) => slot.get_mut().append(&mut entries),
            }
        }
        Recorder {
            pending,
            done: Vec::new(),
        }
    }

    /// The field changes written to `side` for the contact.
    pub fn fields_written(&mut self, contact_id: u64, side: Side) {
        self.finish(Key::Contact(contact_id), |e| e.side == side && e.field.is_some());
    }

    /// The contact's whole-contact change (created, matched, added to or removed from the
    /// group, deleted) was written.
    pub fn contact_done(&mut self, contact_id: u64) {
        self.finish(Key::Contact(contact_id), |e| e.field.is_none());
    }

    /// The Google contact `resource_name` was imported as CRM contact `contact_id`.
    pub fn imported(&mut self, resource_name: &str, contact_id: u64) {
        let key = Key::Google(resource_name.to_string());
        for entry in self.pending.get_mut(&key).into_iter().flatten() {
            if entry.action == Action::Imported {
                entry.contact_id = Some(contact_id);
            }
        }
        self.finish(key, |e| e.action == Action::Imported);
    }

    /// A duplicate Google contact was deleted.
    pub fn copy_dropped(&mut self, resource_name: &str) {
        self.finish(Key::Google(resource_name.to_string()), |_| true);
    }

    fn finish(&mut self, key: Key, done: impl Fn(&Entry) -> bool) {
        let Some(waiting) = self.pending.remove(&key) else {
            return;
        };
        let (now, later): (Vec<Entry>, Vec<Entry>) = waiting.into_iter().partition(done);
        self.done.extend(now);
        if !later.is_empty() {
            self.pending.insert(key, later);
        }
    }
}

/// One entry per field change, plus one for a change of the whole contact.
fn entries(planned: &Planned, item: Item) -> Vec<Entry> {
    let mut all = Vec::new();
    for change in &item.changes {
        let why = match (change.conflict, change.side) {
            (true, _) => Why::Conflict,
            (false, Side::Google) => Why::EditedInCrm,
            (false, Side::Crm) => Why::EditedInGoogle,
        };
        let one = |value: &Option<_>| {
            let mut fields = Fields::default();
            if let Some(v) = value {
                fields.0.insert(change.field.clone(), Clone::clone(v));
            }
            fields
        };
        all.push(Entry {
            contact_id: item.contact_id,
            google_id: item.google_id.clone(),
            name: item.name.clone(),
            side: change.side,
            action: Action::Updated,
            field: Some(change.field.clone()),
            old: one(&change.values.0),
            new: one(&change.values.1),
            why,
        });
    }
    let gone_why = |id: Option<u64>| match id.and_then(|id| planned.crm.gone.get(&id)) {
        Some(Gone::Deleted) => Why::DeletedInCrm,
        _ => Why::LeftFilter,
    };
    let whole = match &item.what {
        What::CreateInGoogle => Some((Side::Google, Action::Created, Why::NewInFilter)),
        What::Match { .. } => Some((Side::Google, Action::Matched, Why::FoundInGoogle)),
        What::AddToGroup => Some((Side::Google, Action::AddedToGroup, Why::NewInFilter)),
        What::ImportIntoCrm => Some((Side::Crm, Action::Imported, Why::AddedInGoogle)),
        What::RemoveFromGroup => Some((Side::Google, Action::RemovedFromGroup, gone_why(item.contact_id))),
        What::DeleteInGoogle => Some((Side::Google, Action::Deleted, Why::DeletedInCrm)),
        What::DeleteCopy => Some((Side::Google, Action::Deleted, Why::Duplicate)),
        What::Update | What::Unlink { .. } | What::Refused { .. } => None,
    };
    if let Some((side, action, why)) = whole {
        let (old, new) = match action {
            Action::Deleted => (item.whole.unwrap_or_default(), Fields::default()),
            _ => (Fields::default(), item.whole.unwrap_or_default()),
        };
        all.push(Entry {
            contact_id: item.contact_id,
            google_id: item.google_id,
            name: item.name,
            side,
            action,
            field: None,
            old,
            new,
            why,
        });
    }
    all
}
