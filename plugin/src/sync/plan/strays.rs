//! Strays: Google contacts in the group that belong to a CRM contact the binding's user no
//! longer has in the filter (moved out, hidden, deleted), yet no link names them. Put back into
//! the group in Google, renamed there, or created again by the user before the plugin could see
//! it, they leave the group as their CRM contact left the filter, whatever the direction
//! (simulation seeds 219 and 287: they stayed in the group).
//!
//! A Google contact belongs to a CRM contact by our CRM id, or, carrying none, by the e-mail or
//! phone a contact that left had when last synced (`departed`: the user created it again in
//! Google; seeds 594, 677, 1336). Observation asks the CRM about the candidates
//! ([`candidates`]) and records those it shows outside the filter in `CrmView::outside`; the
//! planner puts those out (`plan_strays`).

use std::collections::{BTreeMap, BTreeSet};

use super::{match_keys, rejoin_base, shown_gone, GoogleView, Input, Op, Present, Rejoin, Walk};
use crate::domain::{Link, MY_CONTACTS};
use crate::mapping::FieldMapping;

/// What tells a stray: the binding's group and mapping, the account's links, the departed
/// contacts' keys and the CRM contacts present in the filter.
pub struct Scope<'a> {
    pub group: &'a str,
    pub mapping: &'a FieldMapping,
    pub links: &'a BTreeMap<u64, Link>,
    pub departed: &'a BTreeMap<String, u64>,
    pub present: &'a Present,
}

/// The Google contacts that are strays if the CRM shows their contact outside the filter:
/// (CRM contact id, resource name).
pub fn candidates<'g>(scope: &Scope, google: &'g GoogleView) -> Vec<(u64, &'g str)> {
    if scope.group == MY_CONTACTS {
        return Vec::new();
    }
    let linked: BTreeSet<&str> = scope.links.values().map(|l| l.resource_name.as_str()).collect();
    let mut out = Vec::new();
    for (rn, remote) in &google.contacts {
        if remote.deleted() || !remote.in_group(scope.group) || linked.contains(rn.as_str()) {
            continue;
        }
        let (id, by_marker) = match remote.crm_id() {
            Some(id) => (id, true),
            None => {
                let keys = match_keys(&remote.fields(scope.mapping));
                let Some(id) = keys.iter().find_map(|k| scope.departed.get(k).copied()) else {
                    continue;
                };
                (id, false)
            }
        };
        // A linked contact's second copy carrying its CRM id is dropped elsewhere.
        if scope.present.contains_key(&id) || (by_marker && scope.links.contains_key(&id)) {
            continue;
        }
        out.push((id, rn.as_str()));
    }
    out
}

/// Puts the strays out of the group. A stray the user put (back) into the group after its
/// contact was excluded is the user asking to sync that contact: its exclusion ends (see
/// [`Rejoin`]).
pub(super) fn plan_strays(input: &Input, walk: &mut Walk) {
    let scope = Scope {
        group: input.group,
        mapping: &input.binding.options.mapping,
        links: input.links,
        departed: input.departed,
        present: &input.crm.present,
    };
    for (contact_id, rn) in candidates(&scope, input.google) {
        if !input.crm.outside.contains(&contact_id) {
            continue;
        }
        if may_be_created_again(input, contact_id, rn) {
            walk.plan.undecided.push((contact_id, rn.to_string()));
            continue;
        }
        if let Some(rejoin) = rejoin(input, contact_id, rn) {
            walk.plan.rejoins.push(rejoin);
        }
        walk.plan.ops.push(Op::PutStrayOut {
            contact_id,
            resource_name: rn.to_string(),
        });
    }
}

/// Whether a stray carrying no CRM id may be its contact created again in Google while the
/// listing does not show yet that the user deleted the contact's linked Google contact first:
/// the contact is still linked to another one, which this run does not show gone, and the
/// listing cannot show a write as recent as the stray's (the deletion came before it). It stays
/// in the group until the listing can tell: the linked one then shows deleted, and the stray is
/// the contact's own, which it joins when it comes back into the filter (`plan_gone`, seed
/// 9232), or it shows alive, and the stray is a copy the user made. (Simulation seed 66873:
/// taken out of the group first, the contact created again was then taken for one the user had
/// taken out, and its CRM contact, back in the filter, was excluded for good.)
///
/// Such a stray is undecided (`Plan::undecided`), not settled: the listing that can tell must
/// show it again, and an incremental one shows only what changed, so the run asks for a full
/// listing. (Simulation seed 68932: its CRM contact deleted in the same run, whose delete took
/// the link away, the stray was never listed again and stayed in the group for good, and once
/// its departure was forgotten a full listing would have imported it as a new contact.)
fn may_be_created_again(input: &Input, contact_id: u64, rn: &str) -> bool {
    let Some(remote) = input.google.contacts.get(rn).filter(|r| r.crm_id().is_none()) else {
        return false;
    };
    let linked_elsewhere = input
        .links
        .get(&contact_id)
        .is_some_and(|l| l.resource_name != rn && !shown_gone(input, l));
    let unseen = !input.lag.shows(remote.updated_ms().unwrap_or(0));
    if linked_elsewhere && unseen {
        log::debug!("{rn} (of {contact_id}) stays in the group until the listing shows its contact's link");
    }
    linked_elsewhere && unseen
}

/// The end of a stray's exclusion, when Google shows it changed (put back) since.
fn rejoin(input: &Input, contact_id: u64, rn: &str) -> Option<Rejoin> {
    let since = *input.excluded.get(&contact_id)?;
    let remote = input.google.contacts.get(rn)?;
    let updated = remote.updated_ms().unwrap_or(0);
    if updated <= since {
        return None;
    }
    let link = Link {
        contact_id,
        resource_name: rn.to_string(),
        etag: remote.version().to_string(),
        base: rejoin_base(Some(remote), contact_id, input.excluded_bases),
        written_at: input.now,
        google_time: updated,
    };
    let departing = input
        .excluded_keys
        .iter()
        .filter(|&(_, &of)| of == contact_id)
        .map(|(k, _)| k.clone())
        .collect();
    Some(Rejoin { link, departing })
}
