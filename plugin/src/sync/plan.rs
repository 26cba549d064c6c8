//! The planner: a pure function from what was observed on both sides, the links and the
//! binding's options to the operations that make both sides agree. No I/O happens here, so
//! every rule of the sync can be tested with plain values.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use abi::Contact;

use super::evidence::{self, fresh, Lag};
use super::merge::{merge, Winner};
use super::remote::{Remote, Update};
use crate::domain::{Binding, ConflictPolicy, Counts, DeleteMode, Direction, Link, Reason, Sent};
use crate::mapping::{self, FieldValue, Fields};
pub use present::Present;

/// Why a contact no longer belongs to the binding on the CRM side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Deleted in the CRM.
    Deleted,
    /// Left the filter, or the binding's user may no longer see it.
    Left,
}

/// The CRM side as observed for one binding.
#[derive(Debug, Clone, Default)]
pub struct CrmView {
    /// Every contact of the filter was listed (so a linked member not listed has left).
    pub full: bool,
    /// Contacts in the filter that the binding's user may see.
    pub present: Present,
    pub gone: BTreeMap<u64, Gone>,
    /// Contacts the CRM shows outside the filter as the binding's user sees it, asked about
    /// because a Google contact in the group belongs to them ([`strays`]).
    pub outside: BTreeSet<u64>,
}

/// The Google side as observed for the account.
#[derive(Debug, Clone, Default)]
pub struct GoogleView {
    /// Every contact of the account was listed.
    pub full: bool,
    /// Contacts seen in this run, by resource name.
    pub contacts: BTreeMap<String, Remote>,
    /// Resource names Google reported deleted.
    pub deleted: BTreeSet<String>,
    /// Contacts read by name in this run: such reads are current, unlike listings, so what they
    /// show is trusted even right after our own write.
    pub fetched: BTreeSet<String>,
    /// This run left open what only a full listing settles: a write found a linked name Google
    /// no longer resolves (a full listing tells a rename, the contact under a new name with our
    /// CRM id, from a deletion), or a binding left a stray undecided (`Plan::undecided`).
    pub unresolved: bool,
}

impl GoogleView {
    /// Whether this view shows the contact gone: a tombstone, or absent from a full listing
    /// (and from the reads by name that follow one).
    pub fn gone(&self, resource_name: &str) -> bool {
        self.deleted.contains(resource_name) || (self.full && !self.contacts.contains_key(resource_name))
    }
}

pub struct Input<'a> {
    pub binding: &'a Binding,
    /// The resource name of the binding's group.
    pub group: &'a str,
    /// The account's links, by CRM contact id.
    pub links: &'a BTreeMap<u64, Link>,
    /// Contacts we put in this binding's group.
    pub members: &'a BTreeSet<u64>,
    /// Contacts that another enabled binding of the account keeps in its group.
    pub shared: &'a BTreeSet<u64>,
    pub crm: &'a CrmView,
    pub google: &'a GoogleView,
    /// Unlinked CRM contacts matched to an existing Google contact (in `google.contacts`).
    pub matches: &'a BTreeMap<u64, String>,
    /// Unlinked CRM contacts whose earlier create may still appear in Google: left alone.
    pub waiting: &'a BTreeSet<u64>,
    /// Contacts Google deleted or took out of the group, with when: they stay out of this
    /// binding until the user puts them back into the group in Google.
    pub excluded: &'a BTreeMap<u64, i64>,
    /// The last synced fields of excluded contacts: the base their own Google contact rejoins
    /// with when put back into the group.
    pub excluded_bases: &'a BTreeMap<u64, Fields>,
    /// The match keys (as last synced) of excluded contacts. Key → contact id.
    pub excluded_keys: &'a BTreeMap<String, u64>,
    /// Writes to linked Google contacts whose answer no link has recorded yet.
    pub sent: &'a BTreeMap<u64, Sent>,
    /// The match keys (as last synced) of the contacts that left the binding: excluded by
    /// Google, or gone from the CRM side recently. Key → contact id.
    pub departed: &'a BTreeMap<String, u64>,
    /// Which of our writes a listing taken now shows.
    pub lag: Lag,
    /// How many contacts the Google account holds and may hold.
    pub account: AccountSize,
    /// When the run began (ms): what a link recorded by this plan says it was written at.
    pub now: i64,
}

/// The contacts of a Google account: those it holds (as the mapping file last saw them) and its
/// limit (Google's is 25,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSize {
    pub held: u64,
    pub limit: u64,
}

impl AccountSize {
    /// No limit in sight: for tests of other rules.
    pub const ROOMY: AccountSize = AccountSize {
        held: 0,
        limit: u64::MAX,
    };

    pub fn room(self) -> u64 {
        self.limit.saturating_sub(self.held)
    }
}

/// A write to Google's copy of a linked contact.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleWrite {
    /// The Google contact written, and the version the write was planned from.
    pub id: String,
    pub version: String,
    /// The contact as this run saw it, if it did.
    pub current: Option<Remote>,
    /// Sets our CRM id mark to this contact id.
    pub mark: Option<u64>,
    /// What the write sends (the fields, on the keys they change); recorded before the write is
    /// sent, unless `joining`.
    pub sent: Sent,
    /// The write joins the contact to a Google contact other than its link's (matched, created
    /// again, put back): a record of it would say nothing about what the link agreed on, so it
    /// is not kept (the contact stays unlinked until the join's answer is recorded).
    pub joining: bool,
}

impl GoogleWrite {
    /// The write as the provider is asked to make it.
    pub fn update(&self) -> Update {
        Update {
            id: self.id.clone(),
            version: self.version.clone(),
            current: self.current.clone(),
            fields: self.sent.fields.clone(),
            changed: self.sent.keys.clone(),
            mark: self.mark,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Take a stray out of the group: a Google contact no link names that belongs to `contact_id`,
    /// which is outside the filter ([`strays`]).
    PutStrayOut {
        contact_id: u64,
        resource_name: String,
    },
    /// Create the contact in Google, in the group, carrying our CRM id. What it sends is built
    /// from the CRM view when its batch is sent, not here: a first sync of 25,000 contacts would
    /// otherwise hold 25,000 contacts and their field sets at once (about 80 MB).
    Create {
        contact_id: u64,
    },
    /// Bring a linked pair to the merged values; `link` is what to record once written.
    Sync {
        link: Link,
        google: Option<Box<GoogleWrite>>,
        crm: Option<Box<Contact>>,
        add_to_group: bool,
    },
    /// Create a Google contact of the group in the CRM, then mark it with the new CRM id.
    Import {
        resource_name: String,
        etag: String,
        contact: Box<Contact>,
        base: Fields,
    },
    RemoveFromGroup {
        contact_id: u64,
        resource_name: String,
    },
    Delete {
        contact_id: u64,
        resource_name: String,
    },
    /// Delete a second Google copy of a linked contact (it carries our CRM id, so we made it:
    /// a create that Google applied although its answer was lost and the call retried).
    DropCopy {
        resource_name: String,
    },
    /// Forget a link; the CRM keeps the contact. `exclude`: Google deleted the contact or took
    /// it out of the group, so it stays out of the binding until the user puts it back there,
    /// which a version newer than `google_time` (Google's update time) shows.
    Unlink {
        contact_id: u64,
        resource_name: String,
        exclude: bool,
        google_time: i64,
        /// An excluded contact's last synced fields: its match keys (see [`match_keys`]) and
        /// the base it rejoins with when the user puts it back into the group.
        base: Fields,
    },
    /// Leave the contact as it is and show why on it (the Google account is full): tried
    /// again when the contact changes.
    Refuse {
        contact_id: u64,
        reason: Reason,
    },
}

impl Op {
    /// The CRM contact the operation is about; `None` for Google contacts no CRM contact has.
    pub fn contact_id(&self) -> Option<u64> {
        match self {
            Op::Create { contact_id }
            | Op::RemoveFromGroup { contact_id, .. }
            | Op::Delete { contact_id, .. }
            | Op::Unlink { contact_id, .. }
            | Op::Refuse { contact_id, .. } => Some(*contact_id),
            Op::Sync { link, .. } => Some(link.contact_id),
            Op::Import { .. } | Op::DropCopy { .. } | Op::PutStrayOut { .. } => None,
        }
    }

    /// What kind of operation it is, in a word.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Sync { .. } => "sync",
            Op::Import { .. } => "import",
            Op::RemoveFromGroup { .. } => "remove from group",
            Op::Delete { .. } => "delete",
            Op::DropCopy { .. } => "delete copy",
            Op::PutStrayOut { .. } => "put stray out",
            Op::Unlink { .. } => "unlink",
            Op::Refuse { .. } => "refuse",
        }
    }

    /// One line for the log.
    pub fn summary(&self) -> String {
        match self {
            Op::Create { contact_id, .. } => format!("create {contact_id} in Google"),
            Op::Sync {
                link,
                google,
                crm,
                add_to_group,
            } => format!(
                "sync {} ({}): google {:?}, crm {}, add to group {add_to_group}",
                link.contact_id,
                link.resource_name,
                google.as_ref().map(|g| &g.sent.keys),
                crm.is_some()
            ),
            Op::Import { resource_name, .. } => format!("import {resource_name}"),
            Op::RemoveFromGroup { contact_id, .. } => format!("remove {contact_id} from the group"),
            Op::Delete { contact_id, .. } => format!("delete {contact_id} in Google"),
            Op::DropCopy { resource_name } => format!("delete our copy {resource_name}"),
            Op::PutStrayOut {
                contact_id,
                resource_name,
            } => format!("take {resource_name} (of {contact_id}) out of the group"),
            Op::Unlink {
                contact_id, exclude, ..
            } => format!("unlink {contact_id} (exclude: {exclude})"),
            Op::Refuse { contact_id, reason } => format!("leave {contact_id}: {}", reason.text()),
        }
    }

    /// Whether the operation takes a contact out of Google or out of the group (what the
    /// mass-removal hold counts and holds).
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            Op::RemoveFromGroup { .. } | Op::PutStrayOut { .. } | Op::Delete { .. } | Op::Unlink { .. }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub ops: Vec<Op>,
    pub conflicts: u64,
    /// Contact id → keys of the fields whose conflict the policy settled (shown by a preview).
    pub conflicted: BTreeMap<u64, Vec<String>>,
    /// Contacts left alone this run, with the reason (shown as their health).
    pub skipped: Vec<(u64, Reason)>,
    /// Exclusions that end before anything is applied (held removals included).
    pub rejoins: Vec<Rejoin>,
    /// Strays left in the group until a listing can tell whose they are (contact id, resource
    /// name; see `strays::may_be_created_again`). An incremental listing shows a contact again
    /// only once it changes, so a run that leaves any asks for a full listing next.
    pub undecided: Vec<(u64, String)>,
    /// Google contacts to import that only a listing showed: read by name first, then planned
    /// again (see [`plan_import`]).
    pub to_read: Vec<String>,
}

/// A stray the user put (back) into the group after its contact was excluded: the user asking
/// to sync that contact, so its exclusion ends. Its CRM contact is out of the filter, so it is
/// linked as any contact that left the filter is (a member until Google confirms it out of the
/// group, link kept): if it comes back, it joins that Google contact and is added to the group
/// again, with the base of `rejoin_base`. (Simulation seed 9232: created again in Google while
/// out of the filter, it stayed excluded for good once back; seed 2526: linked to nothing, its
/// own contact found out of the group was taken for one the user took out, and excluded again.)
///
/// A removal answered "not found" (Google renamed it meanwhile) keeps it a member, and it is
/// taken out under the name a later listing shows. Its exclusion's match keys become a
/// departure (`departing`): a contact the user created again carries no CRM id and its link no
/// synced base, so those keys are all that tells its Google contact, listed under a new name
/// (full listings show no former names), from a new one to import. (Simulation seed 28704:
/// renamed before the removal landed, it stayed in the group, or a full listing imported it a
/// second time.)
#[derive(Debug, Clone, PartialEq)]
pub struct Rejoin {
    pub link: Link,
    pub departing: Vec<String>,
}

impl Plan {
    /// How many of the binding's contacts this plan takes out of Google or out of the group.
    pub fn removals(&self) -> usize {
        self.ops.iter().filter(|op| op.is_removal()).count()
    }

    /// The counts a run applying this plan reports when every write succeeds: what a preview
    /// promises (the applier counts each answer, `apply::Applier`).
    pub fn expected_counts(&self) -> Counts {
        let mut counts = Counts {
            conflicts: self.conflicts,
            ..Counts::default()
        };
        for op in &self.ops {
            match op {
                Op::Create { .. } => counts.created_in_google += 1,
                Op::Sync { google, crm, .. } => {
                    counts.updated_in_google += u64::from(google.is_some());
                    counts.updated_in_crm += u64::from(crm.is_some());
                }
                Op::Import { .. } => counts.created_in_crm += 1,
                Op::RemoveFromGroup { .. } | Op::PutStrayOut { .. } => counts.removed_from_group += 1,
                Op::Delete { .. } | Op::DropCopy { .. } => counts.deleted_in_google += 1,
                Op::Unlink { .. } => counts.unlinked += 1,
                Op::Refuse { .. } => counts.errors += 1,
            }
        }
        counts
    }
}

pub fn plan(input: &Input) -> Plan {
    let mut walk = Walk {
        linked: input.links.values().map(|l| l.resource_name.as_str()).collect(),
        ..Walk::default()
    };
    for (id, contact) in input.crm.present.iter() {
        walk.handled.insert(id);
        plan_present(input, &mut walk, id, &contact);
    }
    // Contacts gone from the CRM side.
    for (&id, gone) in &input.crm.gone {
        walk.handled.insert(id);
        if let Some(link) = input.links.get(&id) {
            walk.claimed.insert(link.resource_name.as_str());
            plan_gone(input, &mut walk, link, *gone);
        }
    }
    // Members not listed by a full CRM listing have left the filter.
    if input.crm.full {
        let unlisted: Vec<u64> = input.members.difference(&walk.handled).copied().collect();
        for id in unlisted {
            if let Some(link) = input.links.get(&id) {
                walk.claimed.insert(link.resource_name.as_str());
                plan_gone(input, &mut walk, link, Gone::Left);
            }
        }
    }
    plan_google_departures(input, &mut walk);
    plan_copies(input, &mut walk);
    if input.binding.options.direction.to_crm() {
        plan_imports(input, &mut walk);
    }
    strays::plan_strays(input, &mut walk);
    fit_account(input, &mut walk.plan);
    walk.plan
}

/// Creates beyond the room the Google account has left are refused, in plan order: the contacts
/// created first are the ones the CRM listed first.
fn fit_account(input: &Input, plan: &mut Plan) {
    let mut room = input.account.room();
    for op in &mut plan.ops {
        let Op::Create { contact_id } = *op else {
            continue;
        };
        if room == 0 {
            let reason = Reason::AccountFull {
                limit: input.account.limit,
            };
            *op = Op::Refuse { contact_id, reason };
        } else {
            room -= 1;
        }
    }
}

/// The planner's progress through one binding.
#[derive(Default)]
struct Walk<'a> {
    plan: Plan,
    /// Google contacts the stored links name.
    linked: BTreeSet<&'a str>,
    /// Contacts the CRM side accounted for (present or gone).
    handled: BTreeSet<u64>,
    /// Google contacts a CRM contact of this plan is (or becomes) linked to.
    claimed: BTreeSet<&'a str>,
    /// Contacts joined to a Google contact created again after theirs was deleted.
    relinked: BTreeSet<u64>,
    /// The match keys of the unlinked Google contacts in the group, once asked for.
    keys_in_group: Option<BTreeSet<String>>,
}

/// A contact present in the CRM: kept out, joined again, synced, matched, waiting or created.
fn plan_present<'a>(input: &'a Input, walk: &mut Walk<'a>, id: u64, contact: &Contact) {
    if let Some(&since) = input.excluded.get(&id) {
        // Deleted or taken out of the group in Google: it stays out of this binding, even if
        // Google still has a copy, until the user puts it (back) into the group there, which
        // is how a user asks to sync it.
        let Some(rn) = put_back(input, id, since) else {
            if let Some(link) = input.links.get(&id) {
                walk.claimed.insert(link.resource_name.as_str());
            }
            return;
        };
        walk.claimed.insert(rn);
        let link = input
            .links
            .get(&id)
            .cloned()
            .unwrap_or_else(|| rejoined(input, id, rn));
        plan_linked(input, &mut walk.plan, &link, contact, true);
    } else if let Some(rn) = created_again(input, id) {
        // Deleted in Google and created again there in the group: the new one is its contact.
        walk.claimed.insert(rn);
        walk.relinked.insert(id);
        plan_linked(input, &mut walk.plan, &unsynced(id, rn), contact, true);
    } else if let Some(link) = input.links.get(&id) {
        walk.claimed.insert(link.resource_name.as_str());
        plan_linked(input, &mut walk.plan, link, contact, false);
    } else if let Some(rn) = input.matches.get(&id) {
        walk.claimed.insert(rn.as_str());
        let link = unsynced(id, rn);
        if removed_by_user(input, id, rn) {
            // We made it in the group (our creates always are); out of it, someone took it out.
            walk.plan.ops.push(excluded(input, &link));
        } else {
            plan_linked(input, &mut walk.plan, &link, contact, false);
        }
    } else if input.waiting.contains(&id) {
        walk.plan.skipped.push((id, Reason::WaitingForCreate));
    } else if input.binding.options.direction.to_google() {
        walk.plan.ops.push(Op::Create { contact_id: id });
    }
}

/// Google's side: deletions and departures from the group of linked members not planned
/// above (a contact deleted in Google while present in the CRM was excluded there, and one
/// operation per contact is the rule: removals are counted to hold mass removals).
fn plan_google_departures(input: &Input, walk: &mut Walk) {
    let planned: BTreeSet<u64> = walk.plan.ops.iter().filter_map(Op::contact_id).collect();
    for &id in input.members {
        let Some(link) = input
            .links
            .get(&id)
            .filter(|_| !walk.relinked.contains(&id) && !planned.contains(&id))
        else {
            continue;
        };
        if walk.claimed.contains(link.resource_name.as_str())
            && !input.google.deleted.contains(&link.resource_name)
        {
            continue;
        }
        if google_left(input, link) {
            walk.plan.ops.push(excluded(input, link));
        }
    }
}

/// Copies we made of contacts that are linked to another Google contact: removed.
fn plan_copies(input: &Input, walk: &mut Walk) {
    for (rn, remote) in &input.google.contacts {
        let Some(id) = remote.crm_id() else {
            continue;
        };
        let linked_elsewhere = input.links.get(&id).is_some_and(|l| &l.resource_name != rn);
        if linked_elsewhere && !walk.linked.contains(rn.as_str()) && !walk.claimed.contains(rn.as_str()) {
            walk.plan.ops.push(Op::DropCopy {
                resource_name: rn.clone(),
            });
        }
    }
}

/// Google contacts in the group that no CRM contact is linked to: imported.
fn plan_imports(input: &Input, walk: &mut Walk) {
    let mut linked_keys: Option<BTreeSet<String>> = None;
    for (rn, remote) in &input.google.contacts {
        let unlinked = !walk.linked.contains(rn.as_str()) && !walk.claimed.contains(rn.as_str());
        if !unlinked || remote.deleted() || !remote.in_group(input.group) {
            continue;
        }
        // One with the e-mail or phone of a linked contact is that contact created again
        // in Google while Google does not show the old one deleted yet (listings lag): it
        // joins it once it does, it is not a new contact (simulation seed 69).
        let keys = linked_keys.get_or_insert_with(|| match_keys_of_links(input));
        // One with the e-mail or phone a contact that left had is that contact put back
        // (joined above when it is in the filter) or kept out (a stray when it is not):
        // importing it would make a second CRM contact (simulation seeds 458, 594).
        let own = match_keys(&remote.fields(&input.binding.options.mapping));
        if own
            .iter()
            .any(|k| keys.contains(k) || input.departed.contains_key(k))
        {
            continue;
        }
        if let Some(op) = plan_import(input, rn, remote) {
            if input.google.fetched.contains(rn) {
                walk.plan.ops.push(op);
            } else {
                walk.plan.to_read.push(rn.clone());
            }
        }
    }
}

/// Unlinks a contact that Google deleted or took out of the group: it stays out of the binding
/// until a version newer than the newest one known now shows it back in the group.
fn excluded(input: &Input, link: &Link) -> Op {
    let seen = input
        .google
        .contacts
        .get(&link.resource_name)
        .and_then(|p| p.updated_ms())
        .unwrap_or(0);
    Op::Unlink {
        contact_id: link.contact_id,
        resource_name: link.resource_name.clone(),
        exclude: true,
        google_time: seen.max(link.google_time),
        base: link.base.clone(),
    }
}

/// Whether Google deleted a linked contact or took it out of the group.
fn google_left(input: &Input, link: &Link) -> bool {
    if input.google.deleted.contains(&link.resource_name) {
        log::debug!(
            "{} ({}) was deleted in Google",
            link.contact_id,
            link.resource_name
        );
        return true;
    }
    let settled = settled(input, link);
    let left = match input.google.contacts.get(&link.resource_name) {
        Some(remote) => fresh(remote.as_ref(), link) && settled && !remote.in_group(input.group),
        // A full listing that no longer shows the contact: deleted.
        None => input.google.full && settled,
    };
    if left {
        log::debug!(
            "{} ({}) left the group {} in Google (full listing: {}, listed: {:?})",
            link.contact_id,
            link.resource_name,
            input.group,
            input.google.full,
            input.google.contacts.get(&link.resource_name).map(|p| p.groups())
        );
    }
    left
}

fn settled(input: &Input, link: &Link) -> bool {
    evidence::settled(input.lag, link, input.google)
}

/// A link to a matched Google contact, with no synced base: edits on either side since are
/// settled by the binding's policy, none is taken as the agreed value.
fn unsynced(contact_id: u64, resource_name: &str) -> Link {
    Link {
        contact_id,
        resource_name: resource_name.to_string(),
        etag: String::new(),
        base: Fields::default(),
        written_at: 0,
        google_time: 0,
    }
}

/// The link of an excluded contact whose Google contact is back in the group.
fn rejoined(input: &Input, contact_id: u64, resource_name: &str) -> Link {
    let remote = input.google.contacts.get(resource_name);
    Link {
        base: rejoin_base(remote, contact_id, input.excluded_bases),
        ..unsynced(contact_id, resource_name)
    }
}

/// The base an excluded contact rejoins `remote` with. Its own Google contact (carrying our CRM
/// id) rejoins with the base last synced, so that what each side changed meanwhile is an edit,
/// as if it had never been out; a contact the user created again has no synced base.
pub(crate) fn rejoin_base(remote: Option<&Remote>, contact_id: u64, bases: &BTreeMap<u64, Fields>) -> Fields {
    let own = remote.is_some_and(|p| p.crm_id() == Some(contact_id));
    own.then(|| bases.get(&contact_id).cloned())
        .flatten()
        .unwrap_or_default()
}

/// The Google contact a linked CRM contact matches (by e-mail or phone) when this run shows its
/// own Google contact deleted and the match in the group: the user created it again.
fn created_again<'a>(input: &'a Input, id: u64) -> Option<&'a str> {
    let link = input.links.get(&id)?;
    if !shown_gone(input, link) {
        return None;
    }
    let rn = input.matches.get(&id)?;
    let remote = input.google.contacts.get(rn)?;
    (!remote.deleted() && remote.in_group(input.group)).then_some(rn.as_str())
}

/// Whether this run shows a linked contact's Google contact deleted: a tombstone, or absent
/// from a full listing that can show our last write to it.
fn shown_gone(input: &Input, link: &Link) -> bool {
    input.google.deleted.contains(&link.resource_name)
        || (input.google.gone(&link.resource_name) && settled(input, link))
}

/// The Google contact of an excluded CRM contact (its own, or one matched by CRM id, e-mail or
/// phone, such as one the user deleted and created again) if the user put it into the group
/// after the contact was excluded: a listing older than the exclusion proves nothing.
fn put_back<'a>(input: &'a Input, id: u64, since: i64) -> Option<&'a str> {
    let rn = input
        .links
        .get(&id)
        .map(|l| &l.resource_name)
        .or(input.matches.get(&id))?;
    let Some(remote) = input.google.contacts.get(rn) else {
        log::debug!("{id} stays excluded: {rn} is not in this listing");
        return None;
    };
    let back = !remote.deleted()
        && !input.google.deleted.contains(rn)
        && remote.in_group(input.group)
        && remote.updated_ms().unwrap_or(0) > since;
    if !back {
        log::debug!(
            "{id} stays excluded: {rn} member {}, updated {:?}, excluded at {since}",
            remote.in_group(input.group),
            remote.updated_ms()
        );
    }
    back.then_some(rn.as_str())
}

/// Whether a Google contact found by our CRM id has been taken out of the group in Google.
fn removed_by_user(input: &Input, id: u64, rn: &str) -> bool {
    let Some(remote) = input.google.contacts.get(rn) else {
        return false;
    };
    input.group != crate::domain::MY_CONTACTS && remote.crm_id() == Some(id) && !remote.in_group(input.group)
}

fn winner(input: &Input, contact: &Contact, remote: Option<&Remote>) -> Winner {
    match input.binding.options.policy {
        ConflictPolicy::CrmWins => Winner::Crm,
        ConflictPolicy::GoogleWins => Winner::Google,
        ConflictPolicy::LatestWins => {
            let google_time = remote.and_then(|p| p.updated_ms()).unwrap_or(i64::MIN);
            if google_time > contact.updated_at_ms {
                Winner::Google
            } else {
                Winner::Crm
            }
        }
    }
}

/// Plans one linked pair. `rejoin`: a contact the user put back into the group or created
/// again in Google, which gets our CRM id even when no field changes: it is how the contact is
/// found again later (and how a user of the API sees that it was joined).
fn plan_linked(input: &Input, plan: &mut Plan, link: &Link, contact: &Contact, rejoin: bool) {
    let options = &input.binding.options;
    let mapping = &options.mapping;
    let remote = input
        .google
        .contacts
        .get(&link.resource_name)
        .filter(|p| fresh(p.as_ref(), link));
    if left_in_google(input, link, remote) {
        // Deleted in Google or taken out of the group there: the link goes, the CRM contact stays.
        plan.ops.push(excluded(input, link));
        return;
    }
    let crm = mapping::crm_fields(contact, mapping);
    let google = remote
        .map(|p| p.fields(mapping))
        .unwrap_or_else(|| link.base.clone());
    let agreed = agreed_base(input, link, &google);
    let merged = merged(input, plan, &agreed, contact, remote, &crm, &google);
    let unmarked = remote.is_some_and(|p| p.crm_id() != Some(link.contact_id));
    let google_write = (options.direction.to_google() && (merged != google || (rejoin && unmarked)))
        .then(|| google_write(input, link, remote, &google, &merged, &agreed));
    let crm_write = (options.direction.to_crm() && merged != crm)
        .then(|| Box::new(mapping::fields_to_contact(&merged, contact, mapping)));
    let etag = remote
        .map(|p| p.version().to_string())
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| link.etag.clone());
    // A listing right after our own removal may still show the contact in the group: only a
    // settled "in the group" spares the add (adding a member again is harmless; simulation
    // seed 6959 left a contact out for good).
    let in_group = remote.map(|p| p.in_group(input.group));
    let add_to_group = options.direction.to_google()
        && !input.members.contains(&link.contact_id)
        && !(in_group == Some(true) && settled(input, link));
    let google_time = remote
        .and_then(|p| p.updated_ms())
        .unwrap_or(0)
        .max(link.google_time);
    let new_link = Link {
        etag,
        base: merged,
        google_time,
        ..link.clone()
    };
    // A contact put back into the group is recorded as a member again even if nothing changed.
    let rejoined = input.excluded.contains_key(&link.contact_id);
    if google_write.is_some() || crm_write.is_some() || add_to_group || rejoined || new_link != *link {
        plan.ops.push(Op::Sync {
            link: new_link,
            google: google_write,
            crm: crm_write,
            add_to_group,
        });
    }
}

/// The fields both sides should hold: the three-way merge of the pair against the base they
/// last agreed on (with what a write in flight shows landed), or one side's copy when changes
/// flow one way.
fn merged(
    input: &Input,
    plan: &mut Plan,
    base: &Fields,
    contact: &Contact,
    remote: Option<&Remote>,
    crm: &Fields,
    google: &Fields,
) -> Fields {
    match input.binding.options.direction {
        Direction::TwoWay => {
            let m = merge(base, crm, google, winner(input, contact, remote));
            plan.conflicts += m.conflicts.len() as u64;
            if !m.conflicts.is_empty() {
                plan.conflicted.insert(contact.id.0, m.conflicts.clone());
            }
            m.fields
        }
        Direction::CrmToGoogle => crm.clone(),
        Direction::GoogleToCrm => google.clone(),
    }
}

/// What both sides last agreed on: the link's base or, with a write in flight, the base that
/// write was merged against with the write's own change where Google shows it landed. A write in
/// flight went to the contact's linked Google contact: it says nothing about another one the
/// contact joins now (simulation seed 33463: deleted and created again in Google, the new
/// contact was merged against the old one's base, and notes it never had were cleared).
fn agreed_base<'a>(input: &Input, link: &'a Link, google: &Fields) -> Cow<'a, Fields> {
    let in_flight = input.sent.get(&link.contact_id).filter(|_| own_link(input, link));
    match in_flight {
        Some(sent) => Cow::Owned(landed_base(sent, &link.base, google)),
        None => Cow::Borrowed(&link.base),
    }
}

/// Whether `link` is the contact's stored link, not a join planned in this run.
fn own_link(input: &Input, link: &Link) -> bool {
    input
        .links
        .get(&link.contact_id)
        .is_some_and(|l| l.resource_name == link.resource_name)
}

/// Whether this run shows a linked contact (`remote`, its listed version if not stale) deleted
/// in Google or, once settled, taken out of the group by the user.
fn left_in_google(input: &Input, link: &Link, remote: Option<&Remote>) -> bool {
    // A full listing that no longer shows a member (nor a read by name, which ran for it) shows
    // it deleted, as for members the CRM did not show this run (simulation seed 23: a contact
    // deleted in Google while a full listing began stayed linked to nothing for good).
    let member = input.members.contains(&link.contact_id);
    let settled = settled(input, link);
    let vanished =
        input.google.full && !input.google.contacts.contains_key(&link.resource_name) && member && settled;
    let deleted = remote.is_some_and(|p| p.deleted()) || input.google.deleted.contains(&link.resource_name);
    let taken_out = remote.is_some_and(|p| !p.in_group(input.group)) && settled && member;
    vanished || deleted || taken_out
}

/// The write that brings Google's copy of a linked contact to `merged`, marked with our CRM id.
fn google_write(
    input: &Input,
    link: &Link,
    remote: Option<&Remote>,
    google: &Fields,
    merged: &Fields,
    agreed: &Fields,
) -> Box<GoogleWrite> {
    let keys: BTreeSet<String> = merged
        .0
        .keys()
        .chain(google.0.keys())
        .filter(|k| merged.0.get(*k) != google.0.get(*k))
        .cloned()
        .collect();
    // Not seen in this run, Google's copy is addressed by the link all the same.
    let version = remote
        .map(|p| p.version())
        .filter(|v| !v.is_empty())
        .unwrap_or(&link.etag);
    let replaced = keys
        .iter()
        .filter_map(|k| Some((k.clone(), google.0.get(k)?.clone())))
        .collect();
    let sent = Sent {
        keys: keys.into_iter().collect(),
        fields: merged.clone(),
        replaced: Some(Fields(replaced)),
        base: Some(agreed.clone()),
    };
    Box::new(GoogleWrite {
        id: link.resource_name.clone(),
        version: version.to_string(),
        current: remote.cloned(),
        mark: (remote.and_then(|p| p.crm_id()) != Some(link.contact_id)).then_some(link.contact_id),
        sent,
        joining: !own_link(input, link),
    })
}

/// The base to merge a linked pair against when a write to its Google contact may have landed
/// unanswered: `base`, with the write's own change taken as agreed wherever Google shows what it
/// sent (simulation seed 5178: a birthday written to Google, whose answer was lost, and then
/// cleared in the CRM came back from Google as an edit made there).
///
/// Only the change is agreed, not the whole value sent: a merged value carries what Google held
/// too, and that reaches the CRM only through the same run's CRM write, which a run that failed
/// at Google never made. So the change (Google's values then → the values sent) is merged onto
/// `base`, element by element and part by part as any merge is (simulation seed 22181: an
/// address added in Google went back to it with one added in the CRM; the answers were lost,
/// the whole list became "agreed", and the next merge took the Google address, absent from the
/// CRM, as removed there).
fn landed_base(sent: &Sent, base: &Fields, google: &Fields) -> Fields {
    // The write was merged against a base that may hold an earlier write's landed change, which
    // this write's record replaced: that base, not the link's, is what both sides agreed on.
    let base = sent.base.as_ref().unwrap_or(base);
    let mut agreed = base.clone();
    for key in sent.landed_keys(google) {
        let only = |v: Option<&FieldValue>| Fields(v.map(|v| (key.clone(), v.clone())).into_iter().collect());
        let value = match &sent.replaced {
            Some(replaced) => {
                let change = merge(
                    &only(replaced.0.get(key)),
                    &only(sent.fields.0.get(key)),
                    &only(base.0.get(key)),
                    Winner::Crm,
                );
                change.fields.0.get(key).cloned()
            }
            // Recorded by an earlier version: the whole value, as it then did.
            None => sent.fields.0.get(key).cloned(),
        };
        match value {
            Some(value) => agreed.0.insert(key.clone(), value),
            None => agreed.0.remove(key),
        };
    }
    agreed
}

/// Whether this run shows, in the group, an unlinked Google contact with the e-mail or phone a
/// linked contact was last synced with: the user created it again after deleting it.
fn recreated_in_group(input: &Input, walk: &mut Walk, link: &Link) -> bool {
    let keys = match_keys(&link.base);
    if keys.is_empty() {
        return false;
    }
    // Built once per plan: a mass removal asks for every contact.
    let linked = &walk.linked;
    let in_group = walk.keys_in_group.get_or_insert_with(|| {
        input
            .google
            .contacts
            .iter()
            .filter(|(rn, remote)| {
                !linked.contains(rn.as_str()) && !remote.deleted() && remote.in_group(input.group)
            })
            .flat_map(|(_, remote)| match_keys(&remote.fields(&input.binding.options.mapping)))
            .collect()
    });
    keys.iter().any(|k| in_group.contains(k))
}

/// Forgets a link without excluding the contact: the CRM keeps it, and it syncs again if it
/// comes back.
fn forget(link: &Link) -> Op {
    Op::Unlink {
        contact_id: link.contact_id,
        resource_name: link.resource_name.clone(),
        exclude: false,
        google_time: 0,
        base: Fields::default(),
    }
}

fn plan_gone(input: &Input, walk: &mut Walk, link: &Link, gone: Gone) {
    let (id, rn) = (link.contact_id, link.resource_name.clone());
    let options = &input.binding.options;
    let member = input.members.contains(&id);
    let left = member && google_left(input, link);
    let recreated = left && recreated_in_group(input, walk, link);
    let plan = &mut walk.plan;
    if left {
        if recreated {
            // Deleted and created again in the group in Google: the user's last word there is
            // "sync it", so it leaves like any contact leaving the filter (its copy in the group
            // is a stray now) and joins it again if it comes back (simulation seed 9232).
            plan.ops.push(forget(link));
            return;
        }
        // Google deleted it or took it out of the group too: that is the user's word on
        // Google's side, and it keeps the contact out even if it comes back into the filter.
        plan.ops.push(excluded(input, link));
        return;
    }
    match gone {
        Gone::Deleted if options.direction.to_google() => {
            if options.delete_mode == DeleteMode::Delete && !input.shared.contains(&id) {
                plan.ops.push(Op::Delete {
                    contact_id: id,
                    resource_name: rn,
                });
            } else if member {
                plan.ops.push(Op::RemoveFromGroup {
                    contact_id: id,
                    resource_name: rn,
                });
            } else {
                plan.ops.push(forget(link));
            }
        }
        Gone::Deleted => plan.ops.push(forget(link)),
        // Losing access takes the contact out of Google's group whatever the direction: it must
        // not stay in front of the user there.
        Gone::Left if member => plan.ops.push(Op::RemoveFromGroup {
            contact_id: id,
            resource_name: rn,
        }),
        Gone::Left => {}
    }
}

/// The primary e-mail and phone keys of a field set: what contacts are matched by.
pub(crate) fn match_keys(fields: &Fields) -> Vec<String> {
    [mapping::key::EMAILS, mapping::key::PHONES]
        .iter()
        .filter_map(|k| Some(format!("{k}:{}", fields.primary(k)?.key)))
        .collect()
}

fn match_keys_of_links(input: &Input) -> BTreeSet<String> {
    input.links.values().flat_map(|l| match_keys(&l.base)).collect()
}

/// The import of an unlinked Google contact in the group. It is made from a read by name, which
/// is current, never from a listing alone: a listing lags behind Google, and the name it shows
/// may be one Google has replaced since (a rename). Imported under that dead name, the contact
/// could not be marked with its new CRM id (the mark answers "not found"), and the link named a
/// contact no listing shows any more: a full listing, which names no former names, then showed
/// it as a new unmarked contact, imported a second time once its e-mail was gone (simulation
/// seeds 69885, 69746). A name that no longer resolves is not imported; the listing that shows
/// the contact's new name brings it.
fn plan_import(input: &Input, rn: &str, remote: &Remote) -> Option<Op> {
    // A contact carrying our CRM id was made from a CRM contact: if that contact is not in the
    // filter as the user sees it (deleted, hidden, moved out), it is not brought back as a copy.
    if remote.crm_id().is_some() {
        return None;
    }
    let base = remote.fields(&input.binding.options.mapping);
    let contact = mapping::fields_to_contact(&base, &Contact::default(), &input.binding.options.mapping);
    Some(Op::Import {
        resource_name: rn.to_string(),
        etag: remote.version().to_string(),
        contact: Box::new(contact),
        base,
    })
}

pub mod landed;
mod present;
pub mod strays;
#[cfg(test)]
mod tests;
