//! Undo: the changes of a run (or one change) come back as new edits on the side the run
//! changed, which then sync like any edit. A field changed again since is left alone; a Google
//! contact the run deleted is created again from what it held; a contact the run took out of
//! the group is put back. Nothing is ever deleted, in the CRM or in Google.
//!
//! Each change is marked undone before its write: a crash in between loses that restoration
//! (the user can see it was not made and edit by hand) but never makes a second copy. Deleted
//! contacts are made again 200 a call, as a run creates them.

use serde::{Deserialize, Serialize};

use super::remote::{NewContact, Update};
use super::{Env, SyncError};
use crate::domain::history::{Action, Side, Why};
use crate::domain::{Binding, MY_CONTACTS};
use crate::mapping::{self, Fields};
use crate::store::history::{self, Change};
use crate::store::links;

/// What an undo did with each change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Undone {
    /// Changes put back: (contact, what).
    pub restored: Vec<(String, String)>,
    /// Changes left as they are, and why: (contact, what, why).
    pub kept: Vec<(String, String, Kept)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    /// The field changed again since the run: the later edit stays.
    ChangedSince,
    /// The contact is no longer there to restore.
    Gone,
    /// An import: undo never deletes a CRM contact.
    ImportStays,
    /// A contact created or matched for a contact of the filter: it stays synced.
    StillInFilter,
    /// A duplicate the plugin had made: not made again.
    Duplicate,
}

/// Undoes `changes` (newest first) of `binding`, whose Google group is `group`.
pub fn undo(env: &Env, binding: &Binding, group: &str, changes: Vec<Change>) -> Result<Undone, SyncError> {
    let mut undone = Undone::default();
    let (deleted, others): (Vec<Change>, Vec<Change>) = changes
        .into_iter()
        .filter(|c| !c.undone)
        .partition(|c| c.entry.action == Action::Deleted && c.entry.why != Why::Duplicate);
    for change in others {
        history::mark_undone(&env.store.conn(), change.id)?;
        let e = &change.entry;
        let kept = match (e.action, e.side) {
            (Action::Updated, Side::Google) => restore_google(env, binding, &change)?,
            (Action::Updated, Side::Crm) => restore_crm(env, binding, &change)?,
            (Action::Deleted, _) => Some(Kept::Duplicate),
            (Action::RemovedFromGroup, _) => put_back(env, binding, group, &change)?,
            (Action::Imported, _) => Some(Kept::ImportStays),
            (Action::Created | Action::Matched | Action::AddedToGroup, _) => Some(Kept::StillInFilter),
        };
        undone.tell(&change, kept);
    }
    for chunk in deleted.chunks(CREATE_BATCH) {
        recreate(env, binding, chunk, &mut undone)?;
    }
    Ok(undone)
}

impl Undone {
    fn tell(&mut self, change: &Change, kept: Option<Kept>) {
        let e = &change.entry;
        let what = e.field.clone().unwrap_or_else(|| e.action.as_str().to_string());
        match kept {
            None => self.restored.push((e.name.clone(), what)),
            Some(why) => self.kept.push((e.name.clone(), what, why)),
        }
    }
}

/// Google's limit of contacts per create call.
const CREATE_BATCH: usize = 200;

/// The one field of a change, as it was before and after.
fn field_of(change: &Change) -> Option<(&str, &Fields, &Fields)> {
    let e = &change.entry;
    e.field.as_deref().map(|f| (f, &e.old, &e.new))
}

/// `current` with `key` set to what `from` holds (absent there: cleared).
fn with_value(current: &Fields, key: &str, from: &Fields) -> Fields {
    let mut fields = current.clone();
    match from.0.get(key) {
        Some(v) => fields.0.insert(key.to_string(), v.clone()),
        None => fields.0.remove(key),
    };
    fields
}

fn restore_google(env: &Env, binding: &Binding, change: &Change) -> Result<Option<Kept>, SyncError> {
    let (Some((key, old, new)), Some(id)) = (field_of(change), change.entry.google_id.as_ref()) else {
        return Ok(Some(Kept::Gone));
    };
    let mapping = &binding.options.mapping;
    let Some(remote) = env.google.get_many(std::slice::from_ref(id))?.into_iter().next() else {
        return Ok(Some(Kept::Gone));
    };
    let current = remote.fields(mapping);
    if current.0.get(key) != new.0.get(key) {
        return Ok(Some(Kept::ChangedSince));
    }
    let update = Update {
        id: id.clone(),
        version: remote.version().to_string(),
        fields: with_value(&current, key, old),
        current: Some(remote),
        changed: vec![key.to_string()],
        mark: None,
    };
    let written = env.google.update_many(vec![update], mapping)?;
    Ok(match written.into_iter().next() {
        Some((_, Ok(_))) => None,
        // Changed meanwhile (a stale version) or gone: the later state stays.
        _ => Some(Kept::ChangedSince),
    })
}

fn restore_crm(env: &Env, binding: &Binding, change: &Change) -> Result<Option<Kept>, SyncError> {
    let (Some((key, old, new)), Some(id)) = (field_of(change), change.entry.contact_id) else {
        return Ok(Some(Kept::Gone));
    };
    let mapping = &binding.options.mapping;
    let Some(contact) = env.crm.get(binding.crm_user, id)? else {
        return Ok(Some(Kept::Gone));
    };
    let current = mapping::crm_fields(&contact, mapping);
    if current.0.get(key) != new.0.get(key) {
        return Ok(Some(Kept::ChangedSince));
    }
    let restored = mapping::fields_to_contact(&with_value(&current, key, old), &contact, mapping);
    env.crm.update(binding.crm_user, &restored)?;
    Ok(None)
}

/// Creates Google contacts the run deleted again, from what they held, in one call. Their CRM
/// contacts were deleted (that is why the run deleted them), so they go to My Contacts, not to
/// the group, with the CRM id as their mark: if a CRM contact comes back, it is found by it.
fn recreate(env: &Env, binding: &Binding, chunk: &[Change], undone: &mut Undone) -> Result<(), SyncError> {
    let (held, empty): (Vec<&Change>, Vec<&Change>) = chunk.iter().partition(|c| !c.entry.old.0.is_empty());
    env.store.tx(|tx| {
        for change in chunk {
            history::mark_undone(tx, change.id)?;
        }
        Ok(())
    })?;
    for change in empty {
        undone.tell(change, Some(Kept::Gone));
    }
    let new: Vec<NewContact> = held
        .iter()
        .map(|c| NewContact {
            fields: c.entry.old.clone(),
            crm_id: c.entry.contact_id.unwrap_or(0),
            group: MY_CONTACTS.to_string(),
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let made = env.google.create_many(new, &binding.options.mapping)?;
    for (change, result) in held.into_iter().zip(made) {
        undone.tell(change, result.err().map(|_| Kept::Gone));
    }
    Ok(())
}

/// Puts a contact the run took out of the group back into it, a member again.
fn put_back(env: &Env, binding: &Binding, group: &str, change: &Change) -> Result<Option<Kept>, SyncError> {
    let e = &change.entry;
    let (Some(id), Some(contact_id)) = (e.google_id.as_ref(), e.contact_id) else {
        return Ok(Some(Kept::Gone));
    };
    let result = env.google.modify_group(group, std::slice::from_ref(id), &[])?;
    if !result.not_found.is_empty() {
        return Ok(Some(Kept::Gone));
    }
    if links::resource_name_of(&env.store.conn(), &binding.account, contact_id)?.as_deref() == Some(id) {
        links::add_member(&env.store.conn(), binding.id, contact_id)?;
    }
    Ok(None)
}
