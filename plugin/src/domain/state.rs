//! The sync state of one CRM contact on one Google account: everything the mapping file knows
//! of it, in one value and one row (`store::links`). Each variant carries exactly the data its
//! state needs, so states that exclude each other cannot both be recorded: a contact is being
//! created or linked, never both; a write is in flight only to a linked contact; a contact is a
//! member of a binding's group or excluded from it, never both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Link, Sent};
use crate::mapping::Fields;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactState {
    pub link: LinkState,
    /// Binding id → where the contact stands in that binding; a binding it has no standing in
    /// is absent. Every binding here is one of the row's account.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bindings: BTreeMap<i64, Standing>,
}

/// Which Google contact, if any, the CRM contact is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkState {
    /// No Google contact is known to be this one.
    #[default]
    Unlinked,
    /// A create was sent at `at` with the fields `sent` and its answer is not recorded: the
    /// next runs look for the created contact instead of creating a second one, and link it
    /// with `sent` as base.
    Creating { at: i64, sent: Fields },
    /// Linked, with the write to it whose answer no link has recorded yet, if any.
    Linked {
        link: Link,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_flight: Option<InFlight>,
    },
}

/// A write to a linked Google contact, recorded before it is sent (see [`Sent`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlight {
    pub sent: Sent,
    pub at: i64,
}

/// Where a contact stands in one binding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// It left the binding on the CRM side recently; kept beside its place, since a contact
    /// still in the group (its removal not yet applied) or put back into it has left too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departed: Option<Departure>,
}

impl Standing {
    fn is_empty(&self) -> bool {
        self.place.is_none() && self.departed.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// In the binding's Google group, synced with it.
    Member,
    /// Google deleted it or the user took it out of the group: the binding leaves it alone
    /// until the user puts its Google contact back into the group.
    Excluded(Exclusion),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    /// When it was excluded (our clock).
    pub at: i64,
    /// Google's update time of the newest version known when Google showed it out: a newer
    /// version in the group is the user putting it back.
    pub google_time: i64,
    /// Its primary e-mail and phone as last synced: a contact the user creates again in Google
    /// is known by them.
    pub keys: Vec<String>,
    /// Its last synced fields, the base its own Google contact rejoins with (none for
    /// exclusions made before schema 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Fields>,
}

/// A contact that left the binding on the CRM side, known by its match keys for as long as
/// Google may take to show a contact created before it left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    pub keys: Vec<String>,
    pub at: i64,
}

impl ContactState {
    /// Nothing is known: the row can go.
    pub fn is_empty(&self) -> bool {
        self.link == LinkState::Unlinked && self.bindings.is_empty()
    }

    pub fn linked(&self) -> Option<&Link> {
        match &self.link {
            LinkState::Linked { link, .. } => Some(link),
            _ => None,
        }
    }

    pub fn place(&self, binding: i64) -> Option<&Place> {
        self.bindings.get(&binding).and_then(|s| s.place.as_ref())
    }

    pub fn is_member(&self, binding: i64) -> bool {
        self.place(binding) == Some(&Place::Member)
    }

    /// Puts the contact in `place` in `binding` (none: out of it), keeping any departure.
    pub fn set_place(&mut self, binding: i64, place: Option<Place>) {
        self.standing(binding, |s| s.place = place);
    }

    pub fn set_departed(&mut self, binding: i64, departed: Option<Departure>) {
        self.standing(binding, |s| s.departed = departed);
    }

    /// Forgets the link, a write in flight to it and every membership, which needs the link;
    /// exclusions and departures stay.
    pub fn unlink(&mut self) {
        self.link = LinkState::Unlinked;
        for standing in self.bindings.values_mut() {
            if standing.place == Some(Place::Member) {
                standing.place = None;
            }
        }
        self.bindings.retain(|_, s| !s.is_empty());
    }

    fn standing(&mut self, binding: i64, change: impl FnOnce(&mut Standing)) {
        let standing = self.bindings.entry(binding).or_default();
        change(standing);
        if standing.is_empty() {
            self.bindings.remove(&binding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link {
            contact_id: 7,
            resource_name: "people/c7".into(),
            etag: "e".into(),
            base: Fields::default(),
            written_at: 1,
            google_time: 2,
        }
    }

    #[test]
    fn unlinking_ends_memberships_but_keeps_exclusions_and_departures() {
        let mut state = ContactState {
            link: LinkState::Linked {
                link: link(),
                in_flight: None,
            },
            ..ContactState::default()
        };
        state.set_place(1, Some(Place::Member));
        state.set_place(
            2,
            Some(Place::Excluded(Exclusion {
                at: 5,
                google_time: 4,
                keys: vec!["a@x".into()],
                base: None,
            })),
        );
        state.set_departed(1, Some(Departure { keys: vec![], at: 3 }));
        state.unlink();
        assert_eq!(state.link, LinkState::Unlinked);
        assert_eq!(state.place(1), None);
        assert!(state.bindings[&1].departed.is_some());
        assert!(matches!(state.place(2), Some(Place::Excluded(_))));
        state.set_place(2, None);
        state.set_departed(1, None);
        assert!(state.is_empty());
    }

    #[test]
    fn a_state_reads_back_what_it_wrote() {
        let mut state = ContactState {
            link: LinkState::Linked {
                link: link(),
                in_flight: Some(InFlight {
                    sent: Sent::default(),
                    at: 9,
                }),
            },
            ..ContactState::default()
        };
        state.set_place(3, Some(Place::Member));
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<ContactState>(&text).unwrap(), state);
        let creating = ContactState {
            link: LinkState::Creating {
                at: 1,
                sent: Fields::default(),
            },
            ..ContactState::default()
        };
        let text = serde_json::to_string(&creating).unwrap();
        assert_eq!(serde_json::from_str::<ContactState>(&text).unwrap(), creating);
    }
}
