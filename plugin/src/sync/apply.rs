//! Applying a plan: batched writes to Google, writes to the CRM, and for every outcome the link
//! written to the mapping file in the same transaction that records it. A crash between a write
//! and its record is repaired by the next run: creates carry our CRM id, so the created contact
//! is found and linked instead of created again; imports into the CRM carry a key recorded
//! before the CRM is asked, and the CRM answers a repeated key with the contact it made.

use std::collections::{BTreeMap, BTreeSet};

use super::history::Recorder;
use super::observe;
use super::plan::{self, CrmView, GoogleView, GoogleWrite, Op, Plan, Present};
use super::remote::{NewContact, Remote, Update};
use super::sides::{ItemError, ItemResult};
use super::{Env, SyncError};
use crate::domain::history::Side;
use crate::domain::{Binding, Counts, Link, Sent, MY_CONTACTS};
use crate::mapping::{self, Fields};
use crate::store::history as store_history;
use crate::store::imports::{self, ImportIntent};
use crate::store::status::{self, HealthState};
use crate::store::{index, links, StoreError};

/// Google's batch limits (updates are cut by the provider, which groups them by what they write).
const CREATE_BATCH: usize = 200;
const UPDATE_BATCH: usize = 200;
const DELETE_BATCH: usize = 500;
const MEMBERS_BATCH: usize = 1000;
/// Changes written to the history at once during a run.
const HISTORY_BATCH: usize = 1000;
/// A plan of at most this many operations is logged one operation a line (the simulation's
/// plans are; a burst of edits' are not, and their lines competed with the edits' hooks for the
/// host's log).
const PLAN_LINES: usize = 100;

pub struct Applier<'a> {
    pub env: &'a Env<'a>,
    pub binding: &'a Binding,
    pub group: &'a str,
    /// The run whose history the changes are.
    run: i64,
    pub counts: Counts,
    /// Contacts whose write failed in this run for a reason that may pass: looked at again in
    /// the next one.
    pub retry: Vec<u64>,
    /// A write found a linked name that Google no longer resolves (renamed or deleted there).
    pub unresolved: bool,
    /// The changes this run made, as history entries.
    pub history: Recorder,
    done: u64,
    total: u64,
}

impl<'a> Applier<'a> {
    pub fn new(env: &'a Env<'a>, binding: &'a Binding, group: &'a str, run: i64) -> Self {
        Applier {
            env,
            binding,
            group,
            run,
            counts: Counts::default(),
            retry: Vec::new(),
            unresolved: false,
            history: Recorder::default(),
            done: 0,
            total: 0,
        }
    }

    fn account(&self) -> &str {
        &self.binding.account
    }

    /// Applies every operation; a failure of a whole call stops the run (the next run picks up
    /// where this one stopped), a failure of one contact is recorded and the rest goes on.
    pub fn apply(&mut self, plan: Plan, crm: CrmView) -> Result<(), SyncError> {
        // Only the contacts to create are read from the CRM view; the rest goes first, before
        // anything else of the run is held (the peak of a run that creates nothing).
        let to_create = to_create(&plan.ops, crm.present);
        self.counts.conflicts += plan.conflicts;
        self.rejoin(&plan.rejoins)?;
        self.total = plan.ops.len() as u64;
        // Progress counts this plan's operations only, not the imports finished before it.
        self.done = 0;
        self.log_plan(&plan.ops);
        let by_kind = ByKind::of(plan.ops);
        for (contact_id, reason) in by_kind.refusals {
            self.fail(contact_id, &reason.text());
        }
        self.unlink(by_kind.unlinks)?;
        self.create(by_kind.creates, to_create)?;
        self.sync(by_kind.syncs)?;
        self.import(by_kind.imports)?;
        self.remove_from_group(by_kind.removals)?;
        self.delete(by_kind.deletes)?;
        self.drop_copies(by_kind.copies)?;
        Ok(())
    }

    /// Each operation on a line of its own, for a plan short enough to read that way; a long
    /// one is told in counts: a first sync's 25,000 lines would fill the host's log (8.6 MB of
    /// host-sim's, bench, dedupe) and push out everything before them.
    fn log_plan(&self, ops: &[Op]) {
        if ops.len() <= PLAN_LINES {
            for op in ops {
                log::debug!("binding {}: {}", self.binding.id, op.summary());
            }
            return;
        }
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for op in ops {
            *kinds.entry(op.kind()).or_default() += 1;
        }
        log::debug!("binding {}: {} operations: {kinds:?}", self.binding.id, ops.len());
    }

    /// Ends the exclusions of strays put back into the group: each is linked and a member
    /// again, and its exclusion's keys are departures (see [`plan::Rejoin`]).
    fn rejoin(&self, rejoins: &[plan::Rejoin]) -> Result<(), SyncError> {
        if rejoins.is_empty() {
            return Ok(());
        }
        let (account, binding) = (self.account(), self.binding.id);
        self.env.store.tx(|tx| {
            for plan::Rejoin { link, departing } in rejoins {
                links::put(tx, account, link)?;
                // A member is never excluded: this ends the exclusion too.
                links::add_member(tx, binding, link.contact_id)?;
                if !departing.is_empty() {
                    links::depart(tx, binding, link.contact_id, departing, self.env.now)?;
                }
            }
            Ok(())
        })?;
        Ok(())
    }

    fn drop_copies(&mut self, copies: Vec<String>) -> Result<(), SyncError> {
        let account = self.account().to_string();
        for chunk in chunked(copies, DELETE_BATCH) {
            self.env.google.delete_many(&chunk)?;
            let deleted_at = self.env.written_now();
            self.env.store.tx(|tx| {
                for rn in &chunk {
                    index::record_deletion(tx, &account, rn, deleted_at)?;
                }
                Ok(())
            })?;
            log::info!(
                "Deleted {} duplicate Google contacts this plugin had created.",
                chunk.len()
            );
            self.counts.deleted_in_google += chunk.len() as u64;
            for rn in &chunk {
                self.history.copy_dropped(rn);
            }
            self.progress(chunk.len())?;
        }
        Ok(())
    }

    /// After each batch: the progress shown, and the history of a long run written as it goes.
    fn progress(&mut self, n: usize) -> Result<(), StoreError> {
        if n == 0 {
            return Ok(());
        }
        self.done += n as u64;
        // Progress is for the user's eyes; a run does not stop because it could not be shown.
        if let Err(e) = status::set_progress(&self.env.store.conn(), self.binding.id, self.done, self.total) {
            log::warn!("Binding {}: progress not recorded: {e}", self.binding.id);
        }
        // A first sync of 25,000 contacts held as many entries until its end (14 MB per account,
        // the four accounts' bench at once); the run's end writes the rest and trims.
        if self.history.done.len() >= HISTORY_BATCH {
            let done = std::mem::take(&mut self.history.done);
            let (binding, run, now) = (self.binding.id, self.run, self.env.now);
            self.env
                .store
                .tx(|tx| store_history::record(tx, binding, run, now, &done))?;
        }
        Ok(())
    }

    /// A failure that another attempt may cure (no answer, a stale etag): the contact is looked
    /// at again next run even if nothing changes it meanwhile.
    fn fail_for_now(&mut self, contact_id: u64, reason: &str) {
        self.retry.push(contact_id);
        self.fail(contact_id, reason);
    }

    /// A failure shown on the contact; it is tried again when the contact changes.
    fn fail(&mut self, contact_id: u64, reason: &str) {
        self.counts.errors += 1;
        log::debug!("binding {}: {contact_id} failed: {reason}", self.binding.id);
        let recorded = status::set_health(
            &self.env.store.conn(),
            self.binding.id,
            contact_id,
            HealthState::Failing,
            reason,
            self.env.now,
        );
        // The failure itself is counted in the run's errors and tried again; only its detail
        // on the contact is lost.
        if let Err(e) = recorded {
            log::warn!(
                "Binding {}: the failure of {contact_id} was not recorded: {e}",
                self.binding.id
            );
        }
    }

    /// Forgets links; each with Google's time of its exclusion and its match keys when it is
    /// excluded.
    fn unlink(&mut self, unlinks: Vec<(u64, Option<Exclusion>)>) -> Result<(), SyncError> {
        let account = self.account().to_string();
        let (binding, now) = (self.binding.id, self.env.now);
        self.env.store.tx(|tx| {
            for (contact_id, exclusion) in &unlinks {
                links::remove(tx, &account, *contact_id)?;
                if let Some((google_time, base)) = exclusion {
                    let keys = plan::match_keys(base);
                    links::exclude(tx, binding, *contact_id, now, *google_time, &keys, base)?;
                    // Its health is the exclusion now, not an older failure.
                    status::clear_health(tx, binding, *contact_id)?;
                }
            }
            Ok(())
        })?;
        self.counts.unlinked += unlinks.len() as u64;
        self.progress(unlinks.len())?;
        Ok(())
    }

    /// The Google contact to create for a CRM contact: in the group, marked with its id.
    fn new_contact(&self, contact: &abi::Contact) -> NewContact {
        NewContact {
            fields: mapping::crm_fields(contact, &self.binding.options.mapping),
            crm_id: contact.id.0,
            group: self.group.to_string(),
        }
    }

    /// Creates the contacts in Google, each from the CRM's copy, which is given back once its
    /// create is built (a first sync of 25,000 held them all until its end); the rest of the CRM
    /// view goes when the creates are done, as no later write reads it (a run joining 25,000
    /// contacts held them all while it wrote: 32 MB, the bench's dedupe scenario).
    fn create(&mut self, creates: Vec<u64>, mut present: Present) -> Result<(), SyncError> {
        for ids in chunked(creates, CREATE_BATCH) {
            let chunk: Vec<(u64, NewContact)> = ids
                .into_iter()
                .filter_map(|id| Some((id, self.new_contact(&present.remove(&id)?))))
                .collect();
            // The intent is committed before Google sees the create: after a crash, the next
            // run looks for the contact instead of creating it again.
            self.intend_creates(&chunk, self.env.now)?;
            let new = chunk.iter().map(|(_, n)| n.clone()).collect();
            let results = match self.env.google.create_many(new, &self.binding.options.mapping) {
                Ok(results) => results,
                Err(e) => return Err(self.creates_unanswered(&chunk, e)),
            };
            self.record_creates(&chunk, results)?;
            self.progress(chunk.len())?;
        }
        Ok(())
    }

    /// Records (or restarts) the create intents of `chunk`, sent at `at`.
    fn intend_creates(&self, chunk: &[(u64, NewContact)], at: i64) -> Result<(), StoreError> {
        let account = self.account();
        self.env.store.tx(|tx| {
            for (contact_id, new) in chunk {
                links::add_intent(tx, account, *contact_id, &new.fields, at)?;
            }
            Ok(())
        })
    }

    /// A create call that failed may have landed on any attempt: its intents restart their wait
    /// from now, or a listing too early to show the contacts would let them be created again.
    fn creates_unanswered(&self, chunk: &[(u64, NewContact)], e: super::sides::SideError) -> SyncError {
        if let Err(store) = self.intend_creates(chunk, self.env.written_now()) {
            log::warn!(
                "Binding {}: the wait of unanswered creates was not restarted: {store}",
                self.binding.id
            );
        }
        e.into()
    }

    /// Links each created contact with what its create sent as base; a refused create ends its
    /// intent and is shown on the contact.
    fn record_creates(
        &mut self,
        chunk: &[(u64, NewContact)],
        results: Vec<ItemResult>,
    ) -> Result<(), SyncError> {
        let account = self.account();
        let mut failures = Vec::new();
        let written_at = self.env.written_now();
        self.env.store.tx(|tx| {
            for ((contact_id, new), result) in chunk.iter().zip(results) {
                match result {
                    Ok(created) => {
                        let link = Link {
                            contact_id: *contact_id,
                            resource_name: created.id().to_string(),
                            etag: created.version().to_string(),
                            base: new.fields.clone(),
                            written_at,
                            google_time: created.updated_ms().unwrap_or(0),
                        };
                        links::put(tx, account, &link)?;
                        links::add_member(tx, self.binding.id, *contact_id)?;
                        observe::keep(tx, account, created.as_ref())?;
                        status::clear_health(tx, self.binding.id, *contact_id)?;
                    }
                    Err(e) => {
                        links::drop_intent(tx, account, *contact_id)?;
                        failures.push((*contact_id, e.reason));
                    }
                }
            }
            Ok(())
        })?;
        self.counts.created_in_google += (chunk.len() - failures.len()) as u64;
        for (contact_id, _) in chunk {
            if !failures.iter().any(|(failed, _)| failed == contact_id) {
                self.history.contact_done(*contact_id);
            }
        }
        for (contact_id, reason) in failures {
            self.fail(
                contact_id,
                &format!("Google refused to create this contact: {reason}"),
            );
        }
        Ok(())
    }

    fn sync(&mut self, syncs: Vec<SyncOp>) -> Result<(), SyncError> {
        self.record_sent(&syncs)?;
        let mut written = self.write_google(&syncs)?;
        self.own_stale_writes(&syncs, &mut written)?;
        // Then group membership, for those whose Google write (if any) went through.
        let ok = |link: &Link, google: &Option<Box<GoogleWrite>>| {
            google.is_none() || matches!(written.get(&link.resource_name), Some(Ok(_)))
        };
        let to_add: Vec<String> = syncs
            .iter()
            .filter(|(link, google, _, add)| *add && ok(link, google))
            .map(|(link, _, _, _)| link.resource_name.clone())
            .collect();
        self.add_to_group(&to_add)?;
        let written_at = self.env.written_now();
        // Then the CRM, then one record per pair.
        let mut outcomes: Vec<Link> = Vec::new();
        let mut not_found: Vec<(u64, String)> = Vec::new();
        for (link, google, crm, add) in syncs {
            let answer = match (written.get(&link.resource_name), google.is_some()) {
                (Some(Err(e)), _) if e.gone => {
                    not_found.push((link.contact_id, link.resource_name.clone()));
                    continue;
                }
                (Some(Ok(remote)), _) => Answer::Written(remote),
                (Some(Err(e)), _) => Answer::Refused(e),
                (None, true) => Answer::Missing,
                (None, false) => Answer::NotWritten,
            };
            let touched = (google.is_some() || add).then_some(written_at);
            if let Some(link) = self.settle_pair(link, answer, crm.as_deref(), touched)? {
                self.history.contact_done(link.contact_id);
                outcomes.push(link);
            }
        }
        let account = self.account().to_string();
        self.env.store.tx(|tx| {
            for link in &outcomes {
                links::put(tx, &account, link)?;
                links::add_member(tx, self.binding.id, link.contact_id)?;
                status::clear_health(tx, self.binding.id, link.contact_id)?;
            }
            keep_answers(tx, &account, &written, &to_add)
        })?;
        self.progress(outcomes.len())?;
        self.settle_not_found(not_found)
    }

    /// What each write sends is recorded before Google sees it: an answer lost on the way (or
    /// a crash) leaves Google holding it while the link still holds the older base.
    fn record_sent(&self, syncs: &[SyncOp]) -> Result<(), SyncError> {
        let in_flight: Vec<(u64, &Sent)> = syncs
            .iter()
            .filter_map(|(link, google, _, _)| {
                let w = google.as_ref().filter(|w| !w.joining)?;
                Some((link.contact_id, &w.sent))
            })
            .collect();
        if in_flight.is_empty() {
            return Ok(());
        }
        let account = self.account();
        self.env.store.tx(|tx| {
            for (contact_id, sent) in &in_flight {
                links::record_sent(tx, account, *contact_id, sent, self.env.now)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Sends the Google writes; answers by name.
    fn write_google(&self, syncs: &[SyncOp]) -> Result<BTreeMap<String, ItemResult>, SyncError> {
        let updates: Vec<Update> = syncs
            .iter()
            .filter_map(|(_, google, _, _)| Some(google.as_ref()?.update()))
            .collect();
        if updates.is_empty() {
            return Ok(BTreeMap::new());
        }
        let written = self
            .env
            .google
            .update_many(updates, &self.binding.options.mapping)?;
        Ok(written.into_iter().collect())
    }

    /// One pair after its Google write's `answer`: the CRM written and the link to record, or
    /// `None` when the pair failed or waits. `touched`: when we wrote the Google contact or its
    /// membership, if we did.
    fn settle_pair(
        &mut self,
        mut link: Link,
        answer: Answer,
        crm: Option<&abi::Contact>,
        touched: Option<i64>,
    ) -> Result<Option<Link>, SyncError> {
        let for_now = match answer {
            Answer::Refused(e) if e.stale => Some(stale_or(e)),
            Answer::Missing => Some("Google gave no answer for this contact; it is tried again.".to_string()),
            Answer::Refused(e) => {
                // Refused for good: trying again, here or after a full listing, changes
                // nothing until the contact does.
                self.fail(link.contact_id, &stale_or(e));
                return Ok(None);
            }
            Answer::Written(remote) => {
                link.etag = remote.version().to_string();
                link.google_time = remote.updated_ms().unwrap_or(0).max(link.google_time);
                self.counts.updated_in_google += 1;
                self.history.fields_written(link.contact_id, Side::Google);
                None
            }
            Answer::NotWritten => None,
        };
        if let Some(reason) = for_now {
            self.fail_for_now(link.contact_id, &reason);
            // Tried again next run.
            self.join_failed(&link)?;
            return Ok(None);
        }
        if let Some(at) = touched {
            link.written_at = at;
        }
        if let Some(contact) = crm {
            if !self.update_crm(link.contact_id, contact) {
                return Ok(None);
            }
        }
        Ok(Some(link))
    }

    /// Writes Google's side of a merge to the CRM; whether it was written.
    fn update_crm(&mut self, contact_id: u64, contact: &abi::Contact) -> bool {
        let user = self.binding.crm_user;
        // The user may have edited the contact since it was read: then this merge is stale,
        // and writing it would undo the edit. Leave it; the edit's own run merges.
        match self.changed_since_read(user, contact) {
            Ok(false) => {}
            Ok(true) => return false,
            Err(e) => {
                // Unknown is not "unchanged": writing could undo the user's edit.
                self.fail_for_now(
                    contact_id,
                    &format!("The CRM could not be read before the update from Google: {e}"),
                );
                return false;
            }
        }
        if let Err(e) = self.env.crm.update(user, contact) {
            self.fail(
                contact_id,
                &format!("The CRM refused the update from Google: {e}"),
            );
            return false;
        }
        self.counts.updated_in_crm += 1;
        self.history.fields_written(contact_id, Side::Crm);
        true
    }

    /// A join that failed (a contact put back or created again in Google, not linked to that
    /// Google contact yet) rested on what this run's listing showed (a tombstone, a contact
    /// back in the group), which the next incremental listing does not show again: a full
    /// listing next run shows it again (simulation seed 2701: the join's write was refused as
    /// stale, and the contact stayed linked to its deleted Google contact for good).
    fn join_failed(&mut self, link: &Link) -> Result<(), StoreError> {
        let linked = links::resource_name_of(&self.env.store.conn(), self.account(), link.contact_id)?;
        if linked.as_deref() != Some(link.resource_name.as_str()) {
            self.unresolved = true;
        }
        Ok(())
    }

    /// A write refused because the contact changed in Google since it was read may have been
    /// changed by that very write: an attempt whose answer was lost on the way, then retried.
    /// Read by name (current), a contact that holds exactly what the write sent was written by
    /// it (simulation seed 16908: the write was taken as failed, the user then cleared the
    /// birthday in Google, and the next merge put the CRM's value back as a CRM edit).
    fn own_stale_writes(
        &self,
        syncs: &[SyncOp],
        written: &mut BTreeMap<String, ItemResult>,
    ) -> Result<(), SyncError> {
        let stale: Vec<String> = written
            .iter()
            .filter(|(_, r)| matches!(r, Err(e) if e.stale))
            .map(|(rn, _)| rn.clone())
            .collect();
        if stale.is_empty() {
            return Ok(());
        }
        let mapping = &self.binding.options.mapping;
        let sent: BTreeMap<&str, &Sent> = syncs
            .iter()
            .filter_map(|(link, google, _, _)| Some((link.resource_name.as_str(), &google.as_ref()?.sent)))
            .collect();
        for remote in self.env.google.get_many(&stale)? {
            let Some(sent) = sent.get(remote.id()) else {
                continue;
            };
            if sent.landed_whole(&remote.fields(mapping)) {
                written.insert(remote.id().to_string(), Ok(remote));
            }
        }
        Ok(())
    }

    /// A 404 for a linked name proves nothing yet: Google gives a contact a new resource name
    /// when a verified e-mail, phone or profile gets linked to it, and the old name stops
    /// resolving at once while listings show the change minutes later. The link stays and the
    /// contact is tried again; the listing that shows the change (a tombstone, or the contact
    /// under its new name) settles it.
    fn settle_not_found(&mut self, not_found: Vec<(u64, String)>) -> Result<(), SyncError> {
        self.unresolved |= !not_found.is_empty();
        for (contact_id, _) in not_found {
            self.fail_for_now(
                contact_id,
                "Google does not find this contact under its name right now (deleted or renamed \
                 in Google); it is tried again once Google's listing shows what happened.",
            );
        }
        Ok(())
    }

    /// Whether the user edited the contact since it was read. A contact gone meanwhile has no
    /// edit to undo: its update is refused by the CRM and shown as such.
    fn changed_since_read(&self, user: u64, contact: &abi::Contact) -> Result<bool, SyncError> {
        Ok(match self.env.crm.get(user, contact.id.0)? {
            Some(now) => now.updated_at_ms != contact.updated_at_ms,
            None => false,
        })
    }

    fn add_to_group(&mut self, resource_names: &[String]) -> Result<(), SyncError> {
        if self.group == MY_CONTACTS {
            // Every contact is in My Contacts already.
            return Ok(());
        }
        for chunk in resource_names.chunks(MEMBERS_BATCH) {
            self.env.google.modify_group(self.group, chunk, &[])?;
        }
        Ok(())
    }

    /// Creates in the CRM the Google contacts of the group that no CRM contact is linked to.
    /// Each import's intent (with a fresh key for the CRM's idempotent create) is committed
    /// before the CRM is asked, so a crash before the link is written cannot make a second CRM
    /// contact: the next run finishes the intent with the same key ([`Applier::finish_imports`]).
    fn import(
        &mut self,
        planned: Vec<(String, String, abi::Contact, crate::mapping::Fields)>,
    ) -> Result<(), SyncError> {
        let account = self.account().to_string();
        let fresh: Vec<(ImportIntent, abi::Contact)> = planned
            .into_iter()
            .map(|(resource_name, etag, contact, base)| {
                let create_key = format!("import/{}/{:032x}", self.binding.id, rand::random::<u128>());
                let intent = ImportIntent {
                    resource_name,
                    create_key,
                    etag,
                    base,
                };
                (intent, contact)
            })
            .collect();
        let in_force = self.env.store.tx(|tx| {
            fresh
                .iter()
                .map(|(intent, _)| imports::begin(tx, &account, self.binding.id, intent, self.env.now))
                .collect::<Result<Vec<_>, _>>()
        })?;
        let mut marks = Vec::new();
        for ((fresh, contact), intent) in fresh.into_iter().zip(in_force) {
            // An earlier run's intent for this contact is still open: the CRM refused it, and
            // finish_imports tried it again with its own key at the start of this run.
            if intent != fresh {
                continue;
            }
            marks.extend(self.import_one(intent, &contact, false)?);
        }
        self.mark_imported(marks)
    }

    /// Finishes the imports an earlier run began and did not record (the process died between
    /// the CRM's create and the link): the same key makes the CRM answer the contact it already
    /// created, or create it now if it never did. Runs before anything is planned, so the
    /// contact is seen linked rather than as a new CRM contact to send to Google.
    /// An import whose Google contact `google` shows deleted or out of the group ends unmade.
    pub fn finish_imports(&mut self, google: &GoogleView) -> Result<(), SyncError> {
        let open = imports::open(&self.env.store.conn(), self.binding.id)?;
        let mut marks = Vec::new();
        for intent in open {
            if self.import_left(google, &intent.resource_name) {
                log::info!(
                    "Dropping the import of {}: Google deleted it or took it out of the group.",
                    intent.resource_name
                );
                imports::finish(&self.env.store.conn(), self.account(), &intent.resource_name)?;
                continue;
            }
            log::info!(
                "Finishing the import of {} that an earlier run began.",
                intent.resource_name
            );
            let contact = self.contact_of(&intent);
            marks.extend(self.import_one(intent, &contact, true)?);
        }
        self.mark_imported(marks)
    }

    /// Whether `google` shows the contact of an import deleted or out of the binding's group
    /// (a full listing without it shows it deleted). Nothing of ours was written to it yet, so
    /// the listing is Google's word.
    fn import_left(&self, google: &GoogleView, resource_name: &str) -> bool {
        if google.deleted.contains(resource_name) {
            return true;
        }
        match google.contacts.get(resource_name) {
            Some(remote) => !remote.in_group(self.group),
            None => google.full,
        }
    }

    /// The CRM contact an import creates from Google's fields.
    fn contact_of(&self, intent: &ImportIntent) -> abi::Contact {
        let mapping = &self.binding.options.mapping;
        mapping::fields_to_contact(&intent.base, &abi::Contact::default(), mapping)
    }

    /// Creates (once) the CRM contact of an import whose intent is recorded, then links it and
    /// closes the intent in one transaction. Returns the Google contact to mark with the CRM id;
    /// `None` when the CRM refused (the intent stays, and is tried again with its key) or when
    /// an earlier run's import cannot be finished safely (the intent ends).
    fn import_one(
        &mut self,
        intent: ImportIntent,
        contact: &abi::Contact,
        earlier: bool,
    ) -> Result<Option<Update>, SyncError> {
        let account = self.account().to_string();
        let created = match self.create_in_crm(&intent, contact, earlier) {
            Ok(Some(created)) => created,
            Ok(None) => {
                imports::finish(&self.env.store.conn(), &account, &intent.resource_name)?;
                return Ok(None);
            }
            Err(e) => {
                self.counts.errors += 1;
                log::warn!(
                    "The CRM refused a contact from Google ({}): {e}",
                    intent.resource_name
                );
                return Ok(None);
            }
        };
        let id = created.id.0;
        let link = Link {
            contact_id: id,
            resource_name: intent.resource_name.clone(),
            etag: intent.etag.clone(),
            base: intent.base,
            written_at: self.env.written_now(),
            google_time: 0,
        };
        self.env.store.tx(|tx| {
            links::put(tx, &account, &link)?;
            links::add_member(tx, self.binding.id, id)?;
            imports::finish(tx, &account, &link.resource_name)
        })?;
        if !earlier || made_in_this_run(&created, self.env.now) {
            self.counts.created_in_crm += 1;
            self.history.imported(&link.resource_name, id);
        }
        Ok(Some(Update {
            id: link.resource_name,
            version: link.etag,
            current: None,
            fields: Fields::default(),
            changed: Vec::new(),
            mark: Some(id),
        }))
    }

    /// Creates an import's contact in the CRM, once per intent; `None`: left to matching.
    fn create_in_crm(
        &self,
        intent: &ImportIntent,
        contact: &abi::Contact,
        earlier: bool,
    ) -> Result<Option<abi::Contact>, abi::HostError> {
        let (user, filter) = (self.binding.crm_user, self.binding.filter_id);
        match self
            .env
            .crm
            .create_once(user, &intent.create_key, contact, filter)?
        {
            Some(created) => Ok(Some(created)),
            // A CRM without idempotent creates: an import begun in this run cannot have been
            // made yet, so a plain create is safe.
            None if !earlier => self.env.crm.create(user, contact, filter).map(Some),
            // An earlier run's import may have been made before that run died: creating it
            // again would make a duplicate. The intent ends, and matching (CRM id, e-mail,
            // phone) joins the two contacts if it was made.
            None => {
                log::info!(
                    "Leaving the import of {} that an earlier run began to matching: this CRM \
                     does not offer idempotent creates.",
                    intent.resource_name
                );
                Ok(None)
            }
        }
    }

    /// Marks imported contacts with their new CRM id, so they are recognised later.
    fn mark_imported(&mut self, marks: Vec<Update>) -> Result<(), SyncError> {
        let account = self.account().to_string();
        let mapping = &self.binding.options.mapping;
        for chunk in chunked(marks, UPDATE_BATCH) {
            let n = chunk.len();
            for (rn, result) in self.env.google.update_many(chunk, mapping)? {
                if let Ok(remote) = result {
                    observe::keep(&self.env.store.conn(), &account, remote.as_ref())?;
                } else {
                    log::info!("Could not mark {rn} with its CRM id yet; it stays linked.");
                }
            }
            self.progress(n)?;
        }
        Ok(())
    }

    fn remove_from_group(&mut self, removals: Vec<(u64, String)>) -> Result<(), SyncError> {
        if removals.is_empty() {
            return Ok(());
        }
        let mut removals = removals;
        if self.group != MY_CONTACTS {
            let mut not_found: Vec<String> = Vec::new();
            for chunk in removals.chunks(MEMBERS_BATCH) {
                let rns: Vec<String> = chunk.iter().map(|(_, rn)| rn.clone()).collect();
                let result = self.env.google.modify_group(self.group, &[], &rns)?;
                not_found.extend(result.not_found);
                if !result.last_group.is_empty() {
                    // Google keeps every contact in at least one group: park those in My
                    // Contacts, then take them out of ours.
                    self.env
                        .google
                        .modify_group(MY_CONTACTS, &result.last_group, &[])?;
                    self.env
                        .google
                        .modify_group(self.group, &[], &result.last_group)?;
                }
            }
            // A name Google no longer knows may be a contact it renamed, still in the group:
            // it stays a member and is taken out once a listing shows its new name (or its
            // deletion).
            removals.retain(|(contact_id, rn)| {
                let missing = not_found.contains(rn);
                if missing {
                    self.retry.push(*contact_id);
                    self.unresolved = true;
                }
                !missing
            });
        }
        let removed_at = self.env.written_now();
        self.env.store.tx(|tx| {
            for (contact_id, _) in &removals {
                links::remove_member(tx, self.binding.id, *contact_id)?;
                links::touch(tx, self.account(), *contact_id, removed_at)?;
                status::clear_health(tx, self.binding.id, *contact_id)?;
            }
            Ok(())
        })?;
        self.counts.removed_from_group += removals.len() as u64;
        for (contact_id, _) in &removals {
            self.history.contact_done(*contact_id);
        }
        self.progress(removals.len())?;
        Ok(())
    }

    fn delete(&mut self, deletes: Vec<(u64, String)>) -> Result<(), SyncError> {
        let account = self.account().to_string();
        for chunk in chunked(deletes, DELETE_BATCH) {
            let rns: Vec<String> = chunk.iter().map(|(_, rn)| rn.clone()).collect();
            self.env.google.delete_many(&rns)?;
            let deleted_at = self.env.written_now();
            self.env.store.tx(|tx| {
                for (contact_id, rn) in &chunk {
                    links::remove(tx, &account, *contact_id)?;
                    index::record_deletion(tx, &account, rn, deleted_at)?;
                    status::clear_health(tx, self.binding.id, *contact_id)?;
                }
                Ok(())
            })?;
            self.counts.deleted_in_google += chunk.len() as u64;
            for (contact_id, _) in &chunk {
                self.history.contact_done(*contact_id);
            }
            self.progress(chunk.len())?;
        }
        Ok(())
    }
}

/// A plan's operations by kind, in plan order: each kind is applied in its own batches.
/// The CRM view's contacts that the plan creates in Google.
fn to_create(ops: &[Op], mut present: Present) -> Present {
    let creates: BTreeSet<u64> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Create { contact_id } => Some(*contact_id),
            _ => None,
        })
        .collect();
    present.retain(|id| creates.contains(id));
    present
}

#[derive(Default)]
struct ByKind {
    creates: Vec<u64>,
    syncs: Vec<SyncOp>,
    imports: Vec<(String, String, abi::Contact, Fields)>,
    removals: Vec<(u64, String)>,
    deletes: Vec<(u64, String)>,
    unlinks: Vec<(u64, Option<Exclusion>)>,
    copies: Vec<String>,
    refusals: Vec<(u64, crate::domain::Reason)>,
}

impl ByKind {
    fn of(ops: Vec<Op>) -> ByKind {
        let mut k = ByKind::default();
        for op in ops {
            match op {
                Op::Create { contact_id } => k.creates.push(contact_id),
                Op::Sync {
                    link,
                    google,
                    crm,
                    add_to_group,
                } => k.syncs.push((link, google, crm, add_to_group)),
                Op::Import {
                    resource_name,
                    etag,
                    contact,
                    base,
                } => k.imports.push((resource_name, etag, *contact, base)),
                Op::RemoveFromGroup {
                    contact_id,
                    resource_name,
                }
                | Op::PutStrayOut {
                    contact_id,
                    resource_name,
                } => k.removals.push((contact_id, resource_name)),
                Op::Delete {
                    contact_id,
                    resource_name,
                } => k.deletes.push((contact_id, resource_name)),
                Op::Unlink {
                    contact_id,
                    exclude,
                    google_time,
                    base,
                    ..
                } => k
                    .unlinks
                    .push((contact_id, exclude.then_some((google_time, base)))),
                Op::DropCopy { resource_name } => k.copies.push(resource_name),
                Op::Refuse { contact_id, reason } => k.refusals.push((contact_id, reason)),
            }
        }
        k
    }
}

/// An exclusion to record: Google's time of it and the contact's last synced fields.
type Exclusion = (i64, Fields);

/// A pair to bring to its merged values: the link to record, the writes on each side, and
/// whether to add the contact to the group.
type SyncOp = (Link, Option<Box<GoogleWrite>>, Option<Box<abi::Contact>>, bool);

/// Google's answer to a pair's write.
enum Answer<'a> {
    /// No write to Google was planned.
    NotWritten,
    /// A write was planned but Google answered nothing for it: not written.
    Missing,
    Written(&'a Remote),
    Refused(&'a ItemError),
}

/// Google's records after a run's writes: what a write answered is kept (the next write to the
/// contact is built on it); a contact whose write was refused as stale, or whose membership we
/// changed (a new etag no answer showed us), has its record forgotten, so it is read first.
fn keep_answers(
    tx: &rusqlite::Connection,
    account: &str,
    written: &BTreeMap<String, ItemResult>,
    regrouped: &[String],
) -> Result<(), StoreError> {
    for (rn, result) in written {
        match result {
            Ok(remote) => observe::keep(tx, account, remote.as_ref())?,
            Err(e) if e.stale => index::forget_record(tx, account, rn)?,
            Err(_) => {}
        }
    }
    for rn in regrouped {
        index::forget_record(tx, account, rn)?;
    }
    Ok(())
}

fn stale_or(e: &ItemError) -> String {
    if e.stale {
        "The contact changed in Google while it was being synced; it is merged again on the next run."
            .to_string()
    } else {
        format!("Google refused the update: {}", e.reason)
    }
}

/// Whether the CRM's answer to an earlier run's key is a contact made now rather than the one
/// that run made (the answer does not say): a contact not changed since this run began was not
/// made by it. A CRM clock that stands still (host-sim's manual one) reads as "made before".
fn made_in_this_run(created: &abi::Contact, run_began: i64) -> bool {
    created.updated_at_ms > run_began
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(size).collect());
    }
    chunks
}

/// For tests of the applier's helpers.
#[cfg(test)]
mod tests {
    #[test]
    fn chunks_keep_order_and_size() {
        let chunks = super::chunked((0..450).collect::<Vec<_>>(), 200);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![200, 200, 50]
        );
        assert_eq!(chunks[2][0], 400);
    }
}
