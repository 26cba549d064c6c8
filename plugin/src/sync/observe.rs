//! Observation: what changed on each side since the last run.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{landed, strays, CrmView, Gone, GoogleView};
use super::remote::{Remote, RemoteContact};
use super::sides::SideError;
use super::{Env, SyncError};
use crate::domain::{Binding, Link};
use crate::mapping::{self, normalize};
use crate::store::index::{self, Indexed, MatchKey};
use crate::store::links;
use crate::store::{imports, outbox, StoreError};

/// CRM contacts are listed in pages of this size.
const CRM_PAGE: u32 = 500;

/// Lists Google (everything, or the changes since the account's token) and refreshes what the
/// mapping file knows of the account's contacts. Returns the view and the token to store once
/// the run has applied it.
pub fn google(env: &Env, account: &str, token: Option<&str>) -> Result<(GoogleView, String), SyncError> {
    let mut view = GoogleView {
        full: token.is_none(),
        ..GoogleView::default()
    };
    let mut pages = Vec::new();
    let listed = env.google.list(token, &mut |page| pages.push(page));
    let next = match listed {
        Err(SideError::ExpiredSyncToken) if token.is_some() => {
            // Google's advice: drop what the partial delta said and list everything again.
            pages.clear();
            view.full = true;
            env.google.list(None, &mut |page| pages.push(page))?
        }
        other => other?,
    };
    for remote in pages.into_iter().flatten() {
        if remote.deleted() {
            // A contact renamed and then deleted is reported under its last name only: the
            // names it had before (the one we link, perhaps) are gone with it (simulation seed
            // 56: such a contact stayed linked to its former name for good).
            view.deleted.extend(remote.former_ids().iter().cloned());
            view.deleted.insert(remote.id().to_string());
        } else {
            view.contacts.insert(remote.id().to_string(), remote);
        }
    }
    // Listings lag behind writes: one taken right after we deleted a contact may still show it,
    // and it would come back as a new contact to import (simulation seed 2558).
    let ours = index::recent_deletions(&env.store.conn(), account, env.lag().visible_before)?;
    view.contacts.retain(|rn, _| !ours.contains(rn));
    delete_renamed_deletions(env, account, &mut view, &ours)?;
    follow_renames(env, account, &view)?;
    reread_truncated(env, &mut view)?;
    log::debug!(
        "listed {account}: full {}, {} contacts, {} deleted: {:?}",
        view.full,
        view.contacts.len(),
        view.deleted.len(),
        view.contacts.keys().collect::<Vec<_>>()
    );
    remember(env, account, &view)?;
    Ok((view, next))
}

/// Google gives a contact a new resource name when a verified e-mail, phone or profile gets
/// linked to it; the old name stops resolving. Links follow the new name, so the contact stays
/// one linked contact instead of a deletion plus a copy. A sync-token listing names the former
/// names (`previousResourceNames`); a full listing does not, so there a listed contact carrying
/// the CRM id of a link whose name is not listed is taken as renamed once a read by name shows
/// that the old name no longer resolves (if it still does, the listed one is a second copy).
fn follow_renames(env: &Env, account: &str, view: &GoogleView) -> Result<(), SyncError> {
    if view.contacts.is_empty() {
        return Ok(()); // a quiet delta: nothing to follow (and no table to read)
    }
    let renames = renames(env, account, view)?;
    // Every former name is dead, linked or not: an unlinked one left in the index of Google's
    // contacts is found by matching, and an excluded contact put back into the group and then
    // renamed was looked for under it and stayed excluded (simulation seed 660).
    let former: Vec<&String> = view.contacts.values().flat_map(|r| r.former_ids()).collect();
    if renames.is_empty() && former.is_empty() {
        return Ok(());
    }
    env.store.tx(|tx| {
        for (old, new) in &renames {
            log::info!("{account}: Google renamed {old} to {new}; its link follows");
            links::follow_rename(tx, account, old, new)?;
        }
        for old in &former {
            index::remove(tx, account, old)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// (former name, new name) of the linked contacts and imports in flight that Google renamed.
fn renames(env: &Env, account: &str, view: &GoogleView) -> Result<Vec<(String, String)>, SyncError> {
    let links_now = links::all(&env.store.conn(), account)?;
    let linked: BTreeSet<&str> = links_now.values().map(|l| l.resource_name.as_str()).collect();
    // Imports in flight follow renames too, so they finish under the new name with their key.
    let importing = imports::names(&env.store.conn(), account)?;
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut candidates: Vec<(String, String)> = Vec::new();
    for (rn, remote) in view
        .contacts
        .iter()
        .filter(|(rn, _)| !linked.contains(rn.as_str()))
    {
        let former = remote
            .former_ids()
            .iter()
            .find(|p| linked.contains(p.as_str()) || importing.contains(p.as_str()));
        if let Some(old) = former {
            renames.push((old.clone(), rn.clone()));
            continue;
        }
        let link = remote.crm_id().and_then(|id| links_now.get(&id));
        if let Some(link) = link.filter(|l| !view.contacts.contains_key(&l.resource_name)) {
            candidates.push((link.resource_name.clone(), rn.clone()));
        }
    }
    if !candidates.is_empty() {
        let old: Vec<String> = candidates.iter().map(|(o, _)| o.clone()).collect();
        let resolving: BTreeSet<String> = env
            .google
            .get_many(&old)?
            .into_iter()
            .map(|r| r.id().to_string())
            .collect();
        renames.extend(candidates.into_iter().filter(|(o, _)| !resolving.contains(o)));
    }
    Ok(renames)
}

/// A contact we deleted by a name Google had just replaced ("already gone" to the delete)
/// lives on under its new name: it is deleted there once a listing names the old one.
fn delete_renamed_deletions(
    env: &Env,
    account: &str,
    view: &mut GoogleView,
    ours: &BTreeSet<String>,
) -> Result<(), SyncError> {
    let missed: Vec<String> = view
        .contacts
        .iter()
        .filter(|(_, r)| r.former_ids().iter().any(|old| ours.contains(old)))
        .map(|(rn, _)| rn.clone())
        .collect();
    if missed.is_empty() {
        return Ok(());
    }
    env.google.delete_many(&missed)?;
    let deleted_at = env.written_now();
    env.store.tx(|tx| {
        for rn in &missed {
            log::info!("{account}: deleted {rn}, the new name of a contact we deleted");
            index::record_deletion(tx, account, rn, deleted_at)?;
        }
        Ok(())
    })?;
    view.contacts.retain(|rn, _| !missed.contains(rn));
    Ok(())
}

/// Listings show at most 100 e-mail addresses and 100 phone numbers of a person ("If a Person
/// has more … the entire set can be obtained by calling GetPeople"): a listed person at that
/// cap is read by name, or merging the cut list would delete the rest on both sides.
fn reread_truncated(env: &Env, view: &mut GoogleView) -> Result<(), SyncError> {
    let cut: Vec<String> = view
        .contacts
        .iter()
        .filter(|(_, r)| r.cut_by_listing())
        .map(|(rn, _)| rn.clone())
        .collect();
    if cut.is_empty() {
        return Ok(());
    }
    let mut read: BTreeMap<String, Remote> = env
        .google
        .get_many(&cut)?
        .into_iter()
        .map(|r| (r.id().to_string(), r))
        .collect();
    for rn in cut {
        match read.remove(&rn) {
            Some(remote) => {
                view.fetched.insert(rn.clone());
                view.contacts.insert(rn, remote);
            }
            // Gone or renamed since it was listed: its cut copy must not be merged.
            None => {
                view.contacts.remove(&rn);
            }
        }
    }
    Ok(())
}

/// The match keys of a remote contact, as stored in the mapping file's index.
pub fn indexed(remote: &dyn RemoteContact) -> Indexed {
    let key = |v: Option<String>, normal: fn(&str) -> String| v.map(|v| normal(&v)).filter(|k| !k.is_empty());
    Indexed {
        resource_name: remote.id().to_string(),
        etag: remote.version().to_string(),
        crm_marker: remote.crm_id(),
        email_key: key(remote.primary_email(), normalize::email_key),
        phone_key: key(remote.primary_phone(), normalize::phone_key),
        groups: remote.groups(),
    }
}

/// Records a contact Google showed whole (listed, created or written): its index entry and
/// the provider's record of that version.
pub fn keep(
    conn: &rusqlite::Connection,
    account: &str,
    remote: &dyn RemoteContact,
) -> Result<(), StoreError> {
    index::put(conn, account, &indexed(remote), remote.record().as_deref())
}

fn remember(env: &Env, account: &str, view: &GoogleView) -> Result<(), StoreError> {
    // A quiet delta (the common idle run) has nothing to remember: no empty transaction.
    if !view.full && view.contacts.is_empty() && view.deleted.is_empty() {
        return Ok(());
    }
    env.store.tx(|tx| {
        if view.full {
            index::clear(tx, account)?;
        }
        for remote in view.contacts.values() {
            keep(tx, account, remote.as_ref())?;
        }
        for rn in &view.deleted {
            index::remove(tx, account, rn)?;
        }
        Ok(())
    })
}

/// The CRM side of a binding: every contact of the filter (full), or the contacts the outbox
/// names since the binding's cursor. Returns the view and the outbox position it covers.
pub fn crm(env: &Env, binding: &Binding) -> Result<(CrmView, i64), SyncError> {
    let last = outbox::last_id(&env.store.outbox_conn())?;
    let (filter, user) = (binding.filter_id, binding.crm_user);
    let mut view = CrmView {
        full: binding.needs_full,
        ..CrmView::default()
    };
    if binding.needs_full {
        let mut after = 0;
        loop {
            let page = env.crm.filter_page(filter, user, after, CRM_PAGE)?;
            let Some(last_contact) = page.last() else { break };
            after = last_contact.id.0;
            let done = page.len() < CRM_PAGE as usize;
            // Kept as text page by page: the host's copies go as soon as they are read.
            for contact in page {
                view.present.insert(contact.id.0, contact);
            }
            if done {
                break;
            }
        }
        return Ok((view, last));
    }
    let rows = outbox::after(&env.store.outbox_conn(), binding.outbox_cursor)?;
    let cursor = rows.last().map_or(binding.outbox_cursor, |r| r.id);
    let deleted: BTreeSet<u64> = rows.iter().filter(|r| r.deleted).map(|r| r.contact_id).collect();
    let ids: BTreeSet<u64> = rows.iter().map(|r| r.contact_id).collect();
    for id in ids {
        match env.crm.get(user, id)? {
            Some(contact) if env.crm.includes(filter, user, id)? => {
                view.present.insert(id, contact);
            }
            None if deleted.contains(&id) => {
                view.gone.insert(id, Gone::Deleted);
            }
            _ => {
                view.gone.insert(id, Gone::Left);
            }
        }
    }
    Ok((view, cursor))
}

/// Finds an existing Google contact for each unlinked CRM contact: our CRM id in its client
/// data, then the primary email, then the phone. Fetches matched contacts the view lacks.
pub fn matches(
    env: &Env,
    account: &str,
    crm: &CrmView,
    links: &BTreeMap<u64, Link>,
    google: &mut GoogleView,
) -> Result<BTreeMap<u64, String>, SyncError> {
    let linked: BTreeSet<&str> = links.values().map(|l| l.resource_name.as_str()).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut found = BTreeMap::new();
    let conn = env.store.conn();
    // A contact whose Google contact this view shows deleted is matched too: the user may have
    // created it again (the planner joins them when the new one is in the group).
    let unlinked = |id: &u64| links.get(id).is_none_or(|l| google.gone(&l.resource_name));
    for (id, contact) in crm.present.iter_where(unlinked) {
        let fields = mapping::crm_fields(&contact, &Default::default());
        let email = fields
            .items(mapping::key::EMAILS)
            .iter()
            .find(|i| i.is_primary())
            .map(|i| i.key.clone());
        let phone = fields
            .items(mapping::key::PHONES)
            .iter()
            .find(|i| i.is_primary())
            .map(|i| i.key.clone());
        let keys = [
            (MatchKey::Marker, Some(id.to_string())),
            (MatchKey::Email, email),
            (MatchKey::Phone, phone),
        ];
        for (kind, key) in keys {
            let Some(key) = key.filter(|k| !k.is_empty()) else {
                continue;
            };
            let candidates = index::by(&conn, account, kind, &key)?;
            let free = candidates.into_iter().find(|r| {
                !linked.contains(r.resource_name.as_str())
                    && !taken.contains(&r.resource_name)
                    && !google.deleted.contains(&r.resource_name)
                    // Another CRM contact's Google contact is never taken over by email or phone.
                    && r.crm_marker.is_none_or(|m| m == id)
            });
            if let Some(r) = free {
                taken.insert(r.resource_name.clone());
                found.insert(id, r.resource_name);
                break;
            }
        }
    }
    drop(conn);
    fetch_missing(env, google, found.values().cloned().collect())?;
    Ok(found)
}

/// Adds to the view the contacts it lacks among `wanted`, fetched by resource name.
pub fn fetch_missing(env: &Env, google: &mut GoogleView, wanted: Vec<String>) -> Result<(), SyncError> {
    let missing: Vec<String> = wanted
        .into_iter()
        .filter(|rn| !google.contacts.contains_key(rn))
        .collect();
    fetch(env, google, missing)
}

/// Adds to the view the kept record of each of `links` whose version is the one the link
/// agreed on; returns the resource names of the others, which have none to go on.
pub fn restore_kept(
    env: &Env,
    account: &str,
    google: &mut GoogleView,
    links: Vec<&Link>,
) -> Result<Vec<String>, SyncError> {
    let conn = env.store.conn();
    let mut unkept = Vec::new();
    for link in links {
        let rn = &link.resource_name;
        let kept = match index::record(&conn, account, rn)? {
            Some(record) if !google.deleted.contains(rn) => env.google.restore(&record),
            _ => None,
        };
        match kept.filter(|r| r.version() == link.etag && r.id() == rn.as_str()) {
            Some(remote) => {
                google.contacts.insert(rn.clone(), remote);
            }
            None => unkept.push(rn.clone()),
        }
    }
    Ok(unkept)
}

/// Reads `wanted` by name even when the listing showed them: a listing may lag behind Google's
/// current state, a read by name does not.
pub fn fetch_current(env: &Env, google: &mut GoogleView, wanted: Vec<String>) -> Result<(), SyncError> {
    let stale: Vec<String> = wanted
        .into_iter()
        .filter(|rn| !google.fetched.contains(rn))
        .collect();
    fetch(env, google, stale)
}

fn fetch(env: &Env, google: &mut GoogleView, names: Vec<String>) -> Result<(), SyncError> {
    if names.is_empty() {
        return Ok(());
    }
    for remote in env.google.get_many(&names)? {
        google.fetched.insert(remote.id().to_string());
        google.contacts.insert(remote.id().to_string(), remote);
    }
    Ok(())
}

/// Adds to an incremental CRM view the linked contacts that Google changed, so a change made
/// only in Google is merged too. Contacts the user can no longer see in the filter are gone.
pub fn crm_for_google_changes(
    env: &Env,
    binding: &Binding,
    crm: &mut CrmView,
    links: &BTreeMap<u64, Link>,
    members: &BTreeSet<u64>,
    google: &GoogleView,
) -> Result<(), SyncError> {
    if crm.full {
        return Ok(());
    }
    let by_resource: BTreeMap<&str, u64> = links
        .values()
        .map(|l| (l.resource_name.as_str(), l.contact_id))
        .collect();
    // Members a full listing no longer shows count as changed: deleted, or created again.
    let absent = links
        .values()
        .filter(|l| members.contains(&l.contact_id) && google.gone(&l.resource_name))
        .map(|l| &l.resource_name);
    let changed = google.contacts.keys().chain(google.deleted.iter()).chain(absent);
    for id in changed.filter_map(|rn| by_resource.get(rn.as_str()).copied()) {
        if !members.contains(&id) || crm.present.contains_key(&id) || crm.gone.contains_key(&id) {
            continue;
        }
        match env.crm.get(binding.crm_user, id)? {
            Some(contact) if env.crm.includes(binding.filter_id, binding.crm_user, id)? => {
                crm.present.insert(id, contact);
            }
            _ => {
                crm.gone.insert(id, Gone::Left);
            }
        }
    }
    Ok(())
}

/// Adds to an incremental CRM view the excluded contacts when Google shows contacts in the group
/// that may be them put back (unlinked ones, or their own): putting a contact into the group is
/// how a user asks to sync it, and it must join its CRM contact, not become a copy of it.
pub fn crm_for_rejoins(
    env: &Env,
    binding: &Binding,
    crm: &mut CrmView,
    links: &BTreeMap<u64, Link>,
    excluded: &BTreeMap<u64, i64>,
    google: &GoogleView,
    group: &str,
) -> Result<(), SyncError> {
    if crm.full || excluded.is_empty() {
        return Ok(());
    }
    let by_resource: BTreeMap<&str, u64> = links
        .values()
        .map(|l| (l.resource_name.as_str(), l.contact_id))
        .collect();
    let candidate = google.contacts.iter().any(|(rn, p)| {
        !p.deleted()
            && p.in_group(group)
            && by_resource
                .get(rn.as_str())
                .is_none_or(|id| excluded.contains_key(id))
    });
    if !candidate {
        return Ok(());
    }
    for &id in excluded.keys() {
        if crm.present.contains_key(&id) || crm.gone.contains_key(&id) {
            continue;
        }
        if let Some(contact) = env.crm.get(binding.crm_user, id)? {
            if env.crm.includes(binding.filter_id, binding.crm_user, id)? {
                crm.present.insert(id, contact);
            }
        }
    }
    Ok(())
}

/// The contacts the CRM shows outside the filter as the binding's user sees it (moved out,
/// hidden, deleted), among those a Google contact in the group belongs to
/// ([`strays::candidates`]): the evidence that makes those Google contacts strays.
pub fn outside(
    env: &Env,
    binding: &Binding,
    scope: &strays::Scope,
    google: &GoogleView,
) -> Result<BTreeSet<u64>, SyncError> {
    let mut out = BTreeSet::new();
    for (id, _) in strays::candidates(scope, google) {
        if out.contains(&id) {
            continue;
        }
        let in_filter = env.crm.get(binding.crm_user, id)?.is_some()
            && env.crm.includes(binding.filter_id, binding.crm_user, id)?;
        if !in_filter {
            out.insert(id);
        }
    }
    Ok(out)
}

/// Links the Google contacts that our own creates made although their answer was lost
/// ([`landed`]), each with what its create sent as base.
pub fn landed_creates(
    env: &Env,
    binding: &Binding,
    group: &str,
    google: &GoogleView,
) -> Result<(), StoreError> {
    let account = binding.account.as_str();
    let intents = links::intents(&env.store.conn(), account)?;
    if intents.is_empty() {
        return Ok(());
    }
    log::debug!(
        "binding {}: open create intents {:?}",
        binding.id,
        intents.keys().collect::<Vec<_>>()
    );
    let links_now = links::all(&env.store.conn(), account)?;
    let landed = landed::landed_creates(&intents, &links_now, google, group);
    env.store.tx(|tx| {
        for l in &landed {
            log::debug!(
                "binding {}: our lost create of {} landed as {}",
                binding.id,
                l.contact_id,
                l.resource_name
            );
            let link = Link {
                contact_id: l.contact_id,
                resource_name: l.resource_name.clone(),
                etag: l.etag.clone(),
                base: links::intent_base(tx, account, l.contact_id)?,
                written_at: l.sent_at,
                google_time: 0,
            };
            links::put(tx, account, &link)?;
            links::add_member(tx, binding.id, l.contact_id)?;
        }
        Ok(())
    })
}
