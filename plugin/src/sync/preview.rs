//! A preview: what a run of a binding would do now, planned from a full listing of Google and
//! of the filter, and written nowhere. The plan is data ([`plan::Plan`]); a preview is that
//! plan told contact by contact, with the fields each side would change.
//!
//! It runs the run's own observation and planner, through sides that refuse every write, on a
//! copy of the mapping file (observation records evidence there: the caller passes the copy in
//! `env.store` and throws it away).

use std::cell::Cell;

use abi::{Contact, HostError, HostErrorKind};
use serde::{Deserialize, Serialize};

use super::plan::{GoogleView, Op};
use super::remote::{NewContact, Update};
use super::sides::{CrmSide, GroupChange, ItemResult, RemoteSide, SideError};
use super::{ensure_group, links, observe, observe_and_plan, waiting_creates, Env, Held, Planned, SyncError};
pub use crate::domain::history::Side;
use crate::domain::{Binding, Counts};
use crate::mapping::{self, FieldMapping, FieldValue, Fields};
use crate::store::bindings;

/// What a run would do, contact by contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// The counts the run would report if every write succeeds.
    pub counts: Counts,
    /// Removals the run would hold until the user confirms them (not in `items`).
    pub held_removals: usize,
    /// Google contacts listed, and contacts the filter shows the binding's user.
    pub listed: u64,
    pub in_filter: u64,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub contact_id: Option<u64>,
    pub google_id: Option<String>,
    pub name: String,
    pub what: What,
    pub changes: Vec<Change>,
    /// What a deleted Google contact held (its last synced fields), for an undo to make it again.
    #[serde(skip)]
    pub whole: Option<Fields>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    CreateInGoogle,
    /// Joined to an existing Google contact, found by `by`.
    Match {
        by: MatchedBy,
    },
    Update,
    AddToGroup,
    ImportIntoCrm,
    RemoveFromGroup,
    DeleteInGoogle,
    /// A second Google copy of a linked contact, made by a create whose answer was lost.
    DeleteCopy,
    /// The link ends; `excluded`: Google deleted the contact or took it out of the group.
    Unlink {
        excluded: bool,
    },
    /// Not synced, and why (the account is full, the user may not see it…).
    Refused {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    CrmId,
    Email,
    Phone,
    /// The contact's own Google contact, put back into the group or created again.
    Rejoined,
}

/// One field a write changes: old → new on `side`; `conflict`: both sides changed it and the
/// policy settled it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub side: Side,
    pub field: String,
    pub old: String,
    pub new: String,
    pub conflict: bool,
    /// The values themselves (the history records them).
    #[serde(skip)]
    pub values: (Option<FieldValue>, Option<FieldValue>),
}

/// Plans `binding`'s run as it would go now, through sides that write nothing; `listed` is told
/// how many Google contacts have been listed so far. `env.store` must be a copy of the mapping
/// file holding `binding`.
pub fn preview(env: &Env, binding: &Binding, listed: &dyn Fn(u64)) -> Result<Preview, SyncError> {
    bindings::request_full(&env.store.conn(), binding.id)?;
    let binding = bindings::by_id(&env.store.conn(), binding.id)?.unwrap_or_else(|| binding.clone());
    let google = ReadOnlyRemote {
        inner: env.google,
        listed: Cell::new(0),
        tell: listed,
    };
    let crm = ReadOnlyCrm(env.crm);
    let env = Env {
        google: &google,
        crm: &crm,
        ..*env
    };
    let (mut view, _) = observe::google(&env, &binding.account, None)?;
    let waiting = waiting_creates(&env, &links::intents(&env.store.conn(), &binding.account)?);
    let group = ensure_group(&env, &binding)?;
    let planned = observe_and_plan(&env, &binding, &group, &mut view, &waiting)?;
    let held: Option<Held> = bindings::held(&env.store.conn(), binding.id)?
        .and_then(|h| serde_json::from_str(&h).ok())
        .filter(|_| planned.held);
    let mut preview = describe(&binding, &planned, &view);
    preview.held_removals = held.map_or(0, |h| h.removals);
    preview.listed = google.listed.get();
    Ok(preview)
}

/// The plan told contact by contact.
fn describe(binding: &Binding, planned: &Planned, google: &GoogleView) -> Preview {
    let told = Told {
        mapping: &binding.options.mapping,
        planned,
        google,
    };
    let mut items = items(binding, planned, google);
    items.extend(planned.plan.skipped.iter().map(|(id, reason)| Item {
        contact_id: Some(*id),
        google_id: None,
        name: told.crm_name(*id),
        what: What::Refused {
            reason: reason.text(),
        },
        changes: Vec::new(),
        whole: None,
    }));
    Preview {
        counts: planned.plan.expected_counts(),
        in_filter: planned.crm.present.len() as u64,
        items,
        ..Preview::default()
    }
}

/// What each operation of the plan does, contact by contact (operations with no visible effect
/// are left out).
pub(super) fn items(binding: &Binding, planned: &Planned, google: &GoogleView) -> Vec<Item> {
    each_item(binding, planned, google).collect()
}

/// [`items`], one at a time: the history of a run of 25,000 contacts never holds them all.
pub(super) fn each_item<'a>(
    binding: &'a Binding,
    planned: &'a Planned,
    google: &'a GoogleView,
) -> impl Iterator<Item = Item> + 'a {
    let told = Told {
        mapping: &binding.options.mapping,
        planned,
        google,
    };
    planned.plan.ops.iter().filter_map(move |op| told.item(op))
}

struct Told<'a> {
    mapping: &'a FieldMapping,
    planned: &'a Planned,
    google: &'a GoogleView,
}

impl Told<'_> {
    fn item(&self, op: &Op) -> Option<Item> {
        let Parts(contact_id, google_id, what, changes) = match op {
            Op::Sync {
                link,
                google,
                crm,
                add_to_group,
            } => self.sync_parts(link, google.as_deref(), crm.as_deref(), *add_to_group)?,
            Op::Import {
                resource_name,
                contact,
                ..
            } => {
                return Some(Item {
                    contact_id: None,
                    google_id: Some(resource_name.clone()),
                    name: name_of(&mapping::crm_fields(contact, self.mapping)),
                    what: What::ImportIntoCrm,
                    changes: Vec::new(),
                    whole: None,
                });
            }
            other => plain_parts(other),
        };
        let name = match (contact_id, &google_id) {
            (Some(id), _) if self.planned.crm.present.contains_key(&id) => self.crm_name(id),
            (_, Some(rn)) => self.google_name(rn),
            (Some(id), None) => self.crm_name(id),
            (None, None) => String::new(),
        };
        // Kept only where an undo needs it: a first sync of 25,000 creates holding every
        // contact's fields twice more (item, history entry) cost 60 MB at its peak.
        let whole = match (&what, contact_id) {
            (What::DeleteInGoogle, Some(id)) => self.planned.links.get(&id).map(|l| l.base.clone()),
            _ => None,
        };
        Some(Item {
            contact_id,
            google_id,
            name,
            what,
            changes,
            whole,
        })
    }

    /// A linked pair brought to the merged values: the fields each side changes; `None` when
    /// only the link's record changes (nothing a user would see).
    fn sync_parts(
        &self,
        link: &crate::domain::Link,
        google: Option<&super::plan::GoogleWrite>,
        crm: Option<&Contact>,
        add_to_group: bool,
    ) -> Option<Parts> {
        let id = link.contact_id;
        let mut changes = Vec::new();
        if let Some(write) = google {
            // Not `write.current`: a contact written without being read first has none.
            changes.extend(self.changes(id, Side::Google, &write.sent.before(), &write.sent.fields));
        }
        if let Some(contact) = crm {
            let new = mapping::crm_fields(contact, self.mapping);
            changes.extend(self.changes(id, Side::Crm, &self.crm_fields(id), &new));
        }
        let what = if self.planned.matches.get(&id) == Some(&link.resource_name) {
            What::Match {
                by: self.matched_by(id, &link.resource_name),
            }
        } else if !changes.is_empty() {
            What::Update
        } else if add_to_group {
            What::AddToGroup
        } else {
            return None;
        };
        Some(Parts(Some(id), Some(link.resource_name.clone()), what, changes))
    }

    fn changes(&self, contact_id: u64, side: Side, old: &Fields, new: &Fields) -> Vec<Change> {
        let conflicted = self.planned.plan.conflicted.get(&contact_id);
        let keys: std::collections::BTreeSet<&String> = old.0.keys().chain(new.0.keys()).collect();
        keys.into_iter()
            .filter(|k| old.0.get(*k) != new.0.get(*k))
            .map(|k| Change {
                side,
                field: k.clone(),
                old: shown(old.0.get(k)),
                new: shown(new.0.get(k)),
                conflict: conflicted.is_some_and(|c| c.contains(k)),
                values: (old.0.get(k).cloned(), new.0.get(k).cloned()),
            })
            .collect()
    }

    fn matched_by(&self, contact_id: u64, resource_name: &str) -> MatchedBy {
        let Some(remote) = self.google.contacts.get(resource_name) else {
            return MatchedBy::Rejoined;
        };
        let crm = self.crm_fields(contact_id);
        let primary = |key: &str| {
            crm.items(key)
                .iter()
                .find(|i| i.is_primary())
                .map(|i| i.key.clone())
        };
        if remote.crm_id() == Some(contact_id) {
            MatchedBy::CrmId
        } else if primary(mapping::key::EMAILS).is_some_and(|e| remote.primary_email() == Some(e)) {
            MatchedBy::Email
        } else if primary(mapping::key::PHONES).is_some_and(|p| remote.primary_phone() == Some(p)) {
            MatchedBy::Phone
        } else {
            MatchedBy::Rejoined
        }
    }

    fn crm_fields(&self, contact_id: u64) -> Fields {
        self.planned
            .crm
            .present
            .get(&contact_id)
            .map(|c| mapping::crm_fields(&c, self.mapping))
            .unwrap_or_default()
    }

    fn crm_name(&self, contact_id: u64) -> String {
        let name = name_of(&self.crm_fields(contact_id));
        if name.is_empty() {
            format!("#{contact_id}")
        } else {
            name
        }
    }

    fn google_name(&self, resource_name: &str) -> String {
        self.google
            .contacts
            .get(resource_name)
            .map(|r| name_of(&r.fields(self.mapping)))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| resource_name.to_string())
    }
}

/// An item's CRM contact, Google contact, what happens and the field changes.
struct Parts(Option<u64>, Option<String>, What, Vec<Change>);

/// What an operation that changes no field does.
fn plain_parts(op: &Op) -> Parts {
    let (contact_id, google_id, what) = match op {
        Op::Create { contact_id } => (Some(*contact_id), None, What::CreateInGoogle),
        Op::RemoveFromGroup {
            contact_id,
            resource_name,
        }
        | Op::PutStrayOut {
            contact_id,
            resource_name,
        } => (
            Some(*contact_id),
            Some(resource_name.clone()),
            What::RemoveFromGroup,
        ),
        Op::Delete {
            contact_id,
            resource_name,
        } => (
            Some(*contact_id),
            Some(resource_name.clone()),
            What::DeleteInGoogle,
        ),
        Op::DropCopy { resource_name } => (None, Some(resource_name.clone()), What::DeleteCopy),
        Op::Unlink {
            contact_id,
            resource_name,
            exclude,
            ..
        } => (
            Some(*contact_id),
            Some(resource_name.clone()),
            What::Unlink { excluded: *exclude },
        ),
        Op::Refuse { contact_id, reason } => (
            Some(*contact_id),
            None,
            What::Refused {
                reason: reason.text(),
            },
        ),
        // Told with their fields by `Told::item`.
        Op::Sync { link, .. } => (
            Some(link.contact_id),
            Some(link.resource_name.clone()),
            What::Update,
        ),
        Op::Import { resource_name, .. } => (None, Some(resource_name.clone()), What::ImportIntoCrm),
    };
    Parts(contact_id, google_id, what, Vec::new())
}

fn name_of(fields: &Fields) -> String {
    shown(fields.0.get(mapping::key::NAME))
}

/// A field's value as a user reads it: each item's parts, items separated by commas.
pub(crate) fn shown(value: Option<&FieldValue>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    value
        .items()
        .iter()
        .map(item_text)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A name as it is written (prefix, given, middle, family, suffix); any other item as its
/// parts, with its type after it: "ann@example.org (work)".
fn item_text(item: &crate::mapping::Item) -> String {
    const NAME_PARTS: [&str; 5] = ["prefix", "given", "middle", "family", "suffix"];
    const FIRST: [&str; 2] = ["value", "username"];
    let ordered: Vec<&str> = if NAME_PARTS.iter().any(|p| item.data.get(p).is_some()) {
        NAME_PARTS
            .iter()
            .filter_map(|p| item.data.get(p))
            .map(String::as_str)
            .collect()
    } else {
        let first = FIRST.iter().filter_map(|p| item.data.get(p));
        let rest = item
            .data
            .iter()
            .filter(|(part, _)| {
                !FIRST.contains(&part.as_str()) && !["primary", "type"].contains(&part.as_str())
            })
            .map(|(_, v)| v);
        first.chain(rest).map(String::as_str).collect()
    };
    let text = ordered.join(" ");
    match item.data.get("type") {
        Some(kind) if !text.is_empty() => format!("{text} ({kind})"),
        _ => text,
    }
}

/// The group a preview finds for a binding whose group does not exist yet: it has no members.
const NEW_GROUP: &str = "contactGroups/preview-new-group";

const PREVIEW_WRITES_NOTHING: &str = "A preview writes nothing.";

/// The remote side for a preview: reads pass, writes are refused.
struct ReadOnlyRemote<'a> {
    inner: &'a dyn RemoteSide,
    listed: Cell<u64>,
    tell: &'a dyn Fn(u64),
}

impl RemoteSide for ReadOnlyRemote<'_> {
    fn list(
        &self,
        sync_token: Option<&str>,
        on_page: &mut dyn FnMut(Vec<super::remote::Remote>),
    ) -> Result<String, SideError> {
        self.inner.list(sync_token, &mut |page| {
            self.listed.set(self.listed.get() + page.len() as u64);
            (self.tell)(self.listed.get());
            on_page(page)
        })
    }

    fn get_many(&self, ids: &[String]) -> Result<Vec<super::remote::Remote>, SideError> {
        self.inner.get_many(ids)
    }

    // A preview plans on the records a run would write on, not on reads the run would not make.
    fn restore(&self, record: &str) -> Option<super::remote::Remote> {
        self.inner.restore(record)
    }

    fn create_many(&self, _: Vec<NewContact>, _: &FieldMapping) -> Result<Vec<ItemResult>, SideError> {
        Err(SideError::Failed(PREVIEW_WRITES_NOTHING.into()))
    }

    fn update_many(&self, _: Vec<Update>, _: &FieldMapping) -> Result<Vec<(String, ItemResult)>, SideError> {
        Err(SideError::Failed(PREVIEW_WRITES_NOTHING.into()))
    }

    fn delete_many(&self, _: &[String]) -> Result<(), SideError> {
        Err(SideError::Failed(PREVIEW_WRITES_NOTHING.into()))
    }

    fn modify_group(&self, _: &str, _: &[String], _: &[String]) -> Result<GroupChange, SideError> {
        Err(SideError::Failed(PREVIEW_WRITES_NOTHING.into()))
    }

    fn find_group(&self, name: &str) -> Result<Option<String>, SideError> {
        self.inner.find_group(name)
    }

    /// The group if it exists; otherwise one with no members, which the run would create.
    fn ensure_group(&self, name: &str) -> Result<String, SideError> {
        Ok(self
            .inner
            .find_group(name)?
            .unwrap_or_else(|| NEW_GROUP.to_string()))
    }

    /// The run would rename the group; its members stay.
    fn rename_group(&self, _: &str, _: &str) -> Result<(), SideError> {
        Ok(())
    }
}

/// The CRM for a preview: reads pass, writes are refused.
struct ReadOnlyCrm<'a>(&'a dyn CrmSide);

impl CrmSide for ReadOnlyCrm<'_> {
    fn filter_page(&self, filter: u64, user: u64, after: u64, limit: u32) -> Result<Vec<Contact>, HostError> {
        self.0.filter_page(filter, user, after, limit)
    }

    fn includes(&self, filter: u64, user: u64, contact: u64) -> Result<bool, HostError> {
        self.0.includes(filter, user, contact)
    }

    fn get(&self, user: u64, contact: u64) -> Result<Option<Contact>, HostError> {
        self.0.get(user, contact)
    }

    fn create_once(&self, _: u64, _: &str, _: &Contact, _: u64) -> Result<Option<Contact>, HostError> {
        Err(HostError::new(HostErrorKind::Forbidden, PREVIEW_WRITES_NOTHING))
    }

    fn create(&self, _: u64, _: &Contact, _: u64) -> Result<Contact, HostError> {
        Err(HostError::new(HostErrorKind::Forbidden, PREVIEW_WRITES_NOTHING))
    }

    fn update(&self, _: u64, _: &Contact) -> Result<Contact, HostError> {
        Err(HostError::new(HostErrorKind::Forbidden, PREVIEW_WRITES_NOTHING))
    }

    fn filter_name(&self, filter: u64) -> Result<Option<String>, HostError> {
        self.0.filter_name(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::fields::Parts;
    use crate::mapping::Item;

    fn item(parts: &[(&str, &str)]) -> Item {
        let mut data = Parts::new();
        for (name, value) in parts {
            data.insert(name.to_string(), value.to_string());
        }
        Item {
            key: String::new(),
            data,
        }
    }

    #[test]
    fn a_value_is_shown_as_its_parts_without_the_primary_mark() {
        let emails = FieldValue::Many(vec![
            item(&[("value", "ann@x.org"), ("primary", "true")]),
            item(&[("value", "ann@home.org")]),
        ]);
        assert_eq!(shown(Some(&emails)), "ann@x.org, ann@home.org");
        let name = FieldValue::One(item(&[("family", "Lovelace"), ("given", "Ada")]));
        assert_eq!(shown(Some(&name)), "Ada Lovelace");
        let phone = FieldValue::Many(vec![item(&[
            ("value", "+1 555"),
            ("type", "work"),
            ("primary", "true"),
        ])]);
        assert_eq!(shown(Some(&phone)), "+1 555 (work)");
        assert_eq!(shown(None), "");
    }
}
