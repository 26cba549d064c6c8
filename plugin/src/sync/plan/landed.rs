//! Creates of ours that landed although their answer was lost: Google lists a contact in the
//! binding's group carrying the CRM id of a contact with an open create intent. Without linking
//! it, a create that lands after its contact left the filter would stay in the group unlinked
//! (simulation seed 236). It is linked with what the create sent as base, which both sides
//! agreed on when it landed: an edit made since on either side is that side's edit (seed 15384).
//!
//! This is decided before the rest of the run looks at the binding, so that matching and the
//! planner see the contact linked.

use std::collections::{BTreeMap, BTreeSet};

use super::GoogleView;
use crate::domain::Link;

/// A landed create to link: the CRM contact, its Google contact, and when the create was sent
/// (the link's `written_at`: a listing lags behind that write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub contact_id: u64,
    pub resource_name: String,
    pub etag: String,
    pub sent_at: i64,
}

/// The landed creates among `google`'s contacts: each intent (contact id → when sent) is
/// linked to one Google contact at most, and no Google contact that a link names is taken.
pub fn landed_creates(
    intents: &BTreeMap<u64, i64>,
    links: &BTreeMap<u64, Link>,
    google: &GoogleView,
    group: &str,
) -> Vec<Landed> {
    if intents.is_empty() {
        return Vec::new();
    }
    let mut linked: BTreeSet<&str> = links.values().map(|l| l.resource_name.as_str()).collect();
    let mut adopted: BTreeSet<u64> = BTreeSet::new();
    let mut out = Vec::new();
    for (rn, remote) in &google.contacts {
        let Some(id) = remote.crm_id() else {
            continue;
        };
        let Some(&sent_at) = intents.get(&id) else {
            continue;
        };
        let taken = links.contains_key(&id) || adopted.contains(&id) || linked.contains(rn.as_str());
        if taken || !remote.in_group(group) {
            continue;
        }
        adopted.insert(id);
        linked.insert(rn.as_str());
        out.push(Landed {
            contact_id: id,
            resource_name: rn.clone(),
            etag: remote.version().to_string(),
            sent_at,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sync::remote::MemoryContact;

    const GROUP: &str = "contactGroups/g";

    type Listed = (String, crate::sync::remote::Remote);

    fn listed(rn: &str, crm_id: u64, in_group: bool) -> Listed {
        let groups = if in_group {
            vec![GROUP.to_string()]
        } else {
            Vec::new()
        };
        let remote = MemoryContact {
            id: rn.into(),
            version: format!("v-{rn}"),
            crm_id: Some(crm_id),
            groups,
            ..MemoryContact::default()
        };
        (rn.to_string(), Arc::new(remote))
    }

    fn link(id: u64, rn: &str) -> Link {
        Link {
            contact_id: id,
            resource_name: rn.into(),
            etag: String::new(),
            base: Default::default(),
            written_at: 0,
            google_time: 0,
        }
    }

    #[test]
    fn a_contact_of_the_group_marked_with_an_open_intent_is_linked_once_with_its_send_time() {
        // Simulation seed 236: a create that landed unanswered stayed in the group unlinked.
        let google = GoogleView {
            contacts: [listed("people/a", 3, true), listed("people/b", 3, true)].into(),
            ..GoogleView::default()
        };
        let intents = BTreeMap::from([(3, 77)]);
        let landed = landed_creates(&intents, &BTreeMap::new(), &google, GROUP);
        assert_eq!(
            landed,
            vec![Landed {
                contact_id: 3,
                resource_name: "people/a".into(),
                etag: "v-people/a".into(),
                sent_at: 77,
            }],
            "a second copy is dropped as a copy, not linked"
        );
    }

    #[test]
    fn no_landed_create_out_of_the_group_for_a_linked_contact_or_on_a_linked_name() {
        let intents = BTreeMap::from([(3, 77)]);
        let rows: [(&str, Listed, BTreeMap<u64, Link>); 3] = [
            ("out of the group", listed("people/a", 3, false), BTreeMap::new()),
            (
                "contact linked",
                listed("people/a", 3, true),
                BTreeMap::from([(3, link(3, "people/z"))]),
            ),
            (
                "name linked",
                listed("people/a", 3, true),
                BTreeMap::from([(4, link(4, "people/a"))]),
            ),
        ];
        for (case, contact, links) in rows {
            let google = GoogleView {
                contacts: [contact].into(),
                ..GoogleView::default()
            };
            assert!(
                landed_creates(&intents, &links, &google, GROUP).is_empty(),
                "{case}"
            );
        }
    }
}
