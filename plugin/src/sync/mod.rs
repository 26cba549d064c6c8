//! The sync: observe both sides → plan (pure) → apply, one Google account at a time.
//!
//! One run lists the account's Google changes once and serves every binding of the account
//! with that listing. Nothing that happens in Google ever deletes a CRM contact: the planner
//! has no operation that could.
//!
//! # States
//!
//! Each CRM contact has one state per Google account, one row of the mapping file
//! (`domain::ContactState`, in `store::links`): its link state, and where it stands in each of
//! the account's bindings. The variants carry exactly their data, so exclusive states cannot
//! both be recorded.
//! - Link state ([`crate::domain::LinkState`]):
//!   - **unlinked** (or no row): a contact of a filter in this state is created in Google, or
//!     joined to a Google contact that matches it (our CRM id, then its primary e-mail, then
//!     phone);
//!   - **being created** (`Creating`: when, and the fields sent): the create was sent and its
//!     answer is not recorded. It waits until Google shows it (then it is linked with the sent
//!     fields as base) or until a listing late enough proves it never landed;
//!   - **linked** (`Linked`: Google contact, etag, the fields both sides last agreed on, when
//!     we last wrote it, Google's newest known update time), with the write in flight to it
//!     (`in_flight`: what it sent, Google's values it replaced, the base it was merged
//!     against) until the link records its answer.
//! - Standing in a binding ([`crate::domain::Standing`]): a place, **member** of the binding's
//!   group or **excluded** from it (Google deleted it or the user took it out of the group;
//!   with Google's time of it, its match keys and last base: the CRM keeps it, the binding
//!   leaves it alone until the user puts its Google contact back into the group), or neither
//!   (it left the filter); and, beside the place, **departed**: it left the binding on the CRM
//!   side within the time Google may lag (by match key: a Google contact with its e-mail or
//!   phone is that contact, not one to import).
//!
//! What the user sees of a contact (failing, skipped, and why) is its health, a report of the
//! last attempt (`store::status`); no decision reads it. What we know of the account's Google
//! contacts (the index matching reads, our deletions a listing may still show) is about Google
//! contacts, not CRM contacts (`store::index`).
//!
//! # Evidence
//!
//! What Google shows is trusted by one rule, in [`evidence`]: a listing proves a contact's state
//! only for writes it can show, those older than `Rules::visibility_ms`; a version older than
//! the newest we know is stale; a read by name, a write's answer and a 404 are current. A
//! tombstone is a deletion; absence from a full listing is one only for a settled link, and is
//! confirmed by a read by name first (`read_by_name`).
//!
//! # Transition
//!
//! Observation only gathers evidence: Google's listing and reads by name, the CRM's view of
//! the filter (and whether contacts that Google contacts in the group belong to are outside
//! it). The decisions are pure functions of that evidence, the stored state, the binding's
//! options and the time, in `plan/`:
//! - [`plan::landed`]: creates of ours that landed unanswered are linked, before the rest of
//!   the run looks at the binding;
//! - [`plan::plan`] returns a [`plan::Plan`]: data (operations, the exclusions that end, the
//!   contacts left alone and why), which can be logged, counted (mass removals are held until
//!   confirmed) and applied. It plans every contact of the binding, the strays
//!   ([`plan::strays`]) and the refusals of a full Google account included.
//!
//! `apply::Applier` executes a plan and records each answer. Answers are evidence too, and
//! three are judged as they come: a write refused as stale is read back by name and taken as
//! landed if Google holds exactly what it sent; a 404 keeps the link and asks for a full
//! listing (Google renames contacts); a CRM contact changed since it was read is not written
//! over (the edit's own run merges it).
//!
//! # Remote contacts
//!
//! The sync speaks of the provider's contacts through [`remote::RemoteContact`] (id, version,
//! mapped fields, groups, update time, our CRM id mark) and writes them through
//! [`sides::RemoteSide`]; the People API is one adapter (`integration::people`), and the
//! planner's unit tests run on [`remote::MemoryContact`].
//!
//! # Invariants
//!
//! 1. A plan has at most one operation per CRM contact (the Google contacts no link names,
//!    copies and strays, have their own). Asserted by the planner's unit tests and fuzz target.
//! 2. Every member of a binding is linked, and a contact stands only in bindings of its row's
//!    account. Checked on the mapping file after every simulation seed.
//! 3. No contact is both a member of a binding and excluded from it. Holds by construction
//!    (one `Place` per binding).
//! 4. A create is in flight only for an unlinked contact, and a write in flight only to a
//!    linked one. Holds by construction (`Creating` and `Linked { in_flight }`).
//! 5. No two links of an account name the same Google contact. Held by the mapping file (a
//!    unique column) and checked after every simulation seed.

pub mod apply;
pub mod evidence;
pub mod history;
pub mod merge;
pub mod observe;
pub mod plan;
pub mod preview;
mod quiet;
pub mod remote;
pub mod sides;
pub mod undo;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::{Binding, Counts, GroupChoice, Link, Sent, MY_CONTACTS};
use crate::store::history as store_history;
use crate::store::{accounts, bindings, index, links, outbox, status, Store, StoreError};
use evidence::Lag;
use sides::{CrmSide, RemoteSide, SideError};

/// What a run needs from the world.
pub struct Env<'a> {
    pub store: &'a Store,
    pub crm: &'a dyn CrmSide,
    pub google: &'a dyn RemoteSide,
    /// When the run began: what it observed is at least this recent.
    pub now: i64,
    /// The host's clock, read when a write is answered.
    pub clock: &'a dyn Fn() -> i64,
    pub rules: &'a Rules,
}

impl Env<'_> {
    /// How far back a listing taken now shows our writes.
    pub fn lag(&self) -> Lag {
        Lag::new(self.now, self.rules.visibility_ms)
    }

    /// The time to record with a write of ours that Google just answered (or a write that may
    /// have landed): the latest instant it can have been applied, from which a listing needs
    /// `visibility_ms` to show it. Not the run's start: a long run (quota waits, retries, a
    /// large account) answers writes minutes after it began, and a listing taken the
    /// visibility delay after the run began may not show them yet (simulation seed 5767: our
    /// own group add, unseen, was taken for the user taking the contact out of the group).
    pub fn written_now(&self) -> i64 {
        (self.clock)().max(self.now)
    }
}

/// Tunables of the sync.
#[derive(Debug, Clone)]
pub struct Rules {
    /// How long Google may take to show a write in listings. A create whose link was lost in a
    /// crash is looked for only after this long; before that its contact waits.
    pub visibility_ms: i64,
    /// A plan removing more than this share of a binding's contacts…
    pub hold_share: f64,
    /// …and more than this many is held until the user confirms it.
    pub hold_min: usize,
    /// Google's limit of contacts per account.
    pub max_contacts: u64,
    /// A run started by CRM changes waits until none came for this long (bursts become one plan).
    pub debounce_ms: u64,
    /// The history keeps each binding's changes of this many days…
    pub history_days: u32,
    /// …and at most this many of them.
    pub history_rows: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            visibility_ms: 10 * 60 * 1000,
            hold_share: 0.30,
            hold_min: 20,
            max_contacts: 25_000,
            debounce_ms: 300,
            // 90 days of a 25,000-contact binding where every contact changes a field about
            // once a week: about 320,000 rows, some 100 MB (see README).
            history_days: 90,
            history_rows: 400_000,
        }
    }
}

/// A mass removal waiting for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub removals: usize,
    pub contacts: usize,
    pub confirmed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Side(#[from] SideError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The CRM could not be read: {0}")]
    Crm(#[from] abi::HostError),
    #[error("The mass removal could not be held: {0}")]
    Hold(#[from] serde_json::Error),
}

/// Whether a run looks at Google's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// List Google's changes (ticks, "sync now", new bindings).
    Always,
    /// Only when something needs it (a new binding, a create to confirm): runs started by CRM
    /// changes read the contacts they write by name instead, and leave polling to the ticks.
    IfNeeded,
}

/// Syncs every enabled binding of `account`. Returns each binding's counts.
pub fn run_account(env: &Env, account: &str, listing: Listing) -> Result<Vec<(i64, Counts)>, SyncError> {
    let (all, acct) = {
        let conn = env.store.conn();
        (
            bindings::of_account(&conn, account)?,
            accounts::get(&conn, account)?,
        )
    };
    let Some(acct) = acct else { return Ok(Vec::new()) };
    if all.is_empty() || acct.status == accounts::AccountStatus::ReconnectNeeded {
        return Ok(Vec::new());
    }
    let intents = links::intents(&env.store.conn(), account)?;
    let settled = intents.values().any(|&at| env.lag().shows(at));
    let full =
        acct.full_listing_due || acct.sync_token.is_none() || settled || all.iter().any(|b| b.needs_full);
    let list = full || listing == Listing::Always;
    let token = if full { None } else { acct.sync_token.as_deref() };
    let (mut google, next_token) = if list {
        let (view, next) = observe::google(env, account, token)?;
        (view, Some(next))
    } else {
        (plan::GoogleView::default(), None)
    };
    let outbox_last = outbox::last_id(&env.store.outbox_conn())?;
    let (results, all_applied) = run_bindings(env, &all, &mut google, &intents, outbox_last, list)?;
    // The token moves past this listing only if every binding applied it: a run stopped by a
    // failed call would otherwise never see the listed changes again (simulation seed 2997: a
    // contact added to the group in Google was never imported).
    if let Some(token) = next_token.as_ref().filter(|_| all_applied) {
        accounts::set_sync_token(&env.store.conn(), account, Some(token))?;
    }
    finish_account(env, account, &google)?;
    Ok(results)
}

/// Unlinked contacts whose create (sent at the time given) Google may not show yet.
fn waiting_creates(env: &Env, intents: &BTreeMap<u64, i64>) -> BTreeSet<u64> {
    intents
        .iter()
        .filter(|(_, &at)| !env.lag().shows(at))
        .map(|(&id, _)| id)
        .collect()
}

/// Runs each binding on the account's listing, recording each run; whether all applied it.
fn run_bindings(
    env: &Env,
    all: &[Binding],
    google: &mut plan::GoogleView,
    intents: &BTreeMap<u64, i64>,
    outbox_last: i64,
    listed: bool,
) -> Result<(Vec<(i64, Counts)>, bool), SyncError> {
    let waiting = waiting_creates(env, intents);
    let mut results = Vec::new();
    let mut all_applied = true;
    for binding in all {
        let evidence = quiet::Evidence {
            google,
            creating: !intents.is_empty(),
            outbox_last,
        };
        if evidence.quiet(env, binding)? {
            results.push((binding.id, quiet::record(env, binding, listed)?));
            continue;
        }
        let run_id = status::start_run(&env.store.conn(), binding.id, env.now)?;
        let outcome = run_binding(env, binding, run_id, google, &waiting, listed);
        all_applied &= outcome.is_ok();
        let (counts, error) = match &outcome {
            Ok(counts) => (*counts, None),
            Err(e) => (Counts::default(), Some(e.to_string())),
        };
        status::finish_run(
            &env.store.conn(),
            run_id,
            binding.id,
            env.now,
            &counts,
            error.as_deref(),
        )?;
        if let Err(SyncError::Side(e @ SideError::ReconnectNeeded(_))) = outcome {
            return Err(e.into());
        }
        results.push((binding.id, counts));
    }
    Ok((results, all_applied))
}

/// After every binding ran: a full listing asked for if one is needed, the outbox trimmed,
/// and create intents a full listing proved never landed dropped.
fn finish_account(env: &Env, account: &str, google: &plan::GoogleView) -> Result<(), StoreError> {
    if google.unresolved || in_doubt(env, account, google)? {
        accounts::require_full_listing(&env.store.conn(), account)?;
    }
    let lowest = outbox::lowest_cursor(&env.store.conn())?;
    env.store.trim_outbox(lowest)?;
    // Intents whose contact is still unlinked after a full listing were never created.
    if google.full {
        let still = links::intents(&env.store.conn(), account)?;
        for (id, at) in still {
            if env.lag().shows(at) {
                links::drop_intent(&env.store.conn(), account, id)?;
            }
        }
    }
    Ok(())
}

/// The match keys of the contacts that left the binding (key → contact id): excluded ones,
/// recent departures, and the linked members the CRM shows gone in this run, which are recorded
/// as departures now: a contact the user created again in Google before they left is theirs,
/// not a new contact to import (simulation seeds 594, 1336).
fn departures(
    env: &Env,
    binding: &Binding,
    stored: &Stored,
    crm: &plan::CrmView,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let leaving: Vec<(u64, Vec<String>)> = stored
        .leaving(crm)
        .map(|l| (l.contact_id, plan::match_keys(&l.base)))
        .filter(|(_, keys)| !keys.is_empty())
        .collect();
    if !leaving.is_empty() {
        env.store.tx(|tx| {
            for (id, keys) in &leaving {
                links::depart(tx, binding.id, *id, keys, env.now)?;
            }
            Ok(())
        })?;
    }
    let mut departed = stored.exclusions.keys.clone();
    departed.extend(stored.departed_before.clone());
    for (id, keys) in leaving {
        departed.extend(keys.into_iter().map(|k| (k, id)));
    }
    Ok(departed)
}

/// Whether a full listing left a linked contact in doubt: absent from it and not found by name,
/// yet written by us too recently for a listing to prove anything (renamed, or deleted?). Only
/// a full listing can settle that (a deletion seen by a full listing never comes as a
/// tombstone in the deltas after it), so the next run lists everything again; without this
/// such a contact stayed linked for good (simulation seed 36: deleted in Google right after
/// the plugin created it, it was never shown excluded).
fn in_doubt(env: &Env, account: &str, google: &plan::GoogleView) -> Result<bool, StoreError> {
    if !google.full {
        return Ok(false);
    }
    // Links written in this run are newer than its listing, which proves nothing about them;
    // links written before the visibility delay are shown by it.
    let unsettled = links::written_between(&env.store.conn(), account, env.lag().visible_before, env.now)?;
    Ok(unsettled
        .iter()
        .any(|rn| google.gone(rn) && !google.deleted.contains(rn)))
}

/// What the mapping file holds for one binding at the start of its run.
struct Stored {
    links: BTreeMap<u64, Link>,
    members: BTreeSet<u64>,
    /// Contacts another binding of the account keeps in its group.
    shared: BTreeSet<u64>,
    exclusions: links::Exclusions,
    sent: BTreeMap<u64, Sent>,
    departed_before: BTreeMap<String, u64>,
}

impl Stored {
    fn read(env: &Env, binding: &Binding) -> Result<Stored, StoreError> {
        let conn = env.store.conn();
        let account = binding.account.as_str();
        // Every binding's standings in one read: this one's, and the members of the others.
        let mut standings = links::account_standings(&conn, account)?;
        let own = standings.remove(&binding.id).unwrap_or_default();
        let mut shared = BTreeSet::new();
        for other in bindings::of_account(&conn, account)? {
            if let Some(theirs) = standings.get(&other.id) {
                shared.extend(theirs.members());
            }
        }
        Ok(Stored {
            links: links::all(&conn, account)?,
            members: own.members(),
            shared,
            exclusions: own.exclusions(),
            sent: links::sent(&conn, account)?,
            departed_before: own.departed_keys(),
        })
    }

    /// The links of the members the CRM shows gone in this run.
    fn leaving<'a>(&'a self, crm: &'a plan::CrmView) -> impl Iterator<Item = &'a Link> + 'a {
        self.members
            .iter()
            .filter(|id| crm.gone.contains_key(id) || (crm.full && !crm.present.contains_key(id)))
            .filter_map(|id| self.links.get(id))
    }

    fn member_links(&self) -> impl Iterator<Item = &Link> + '_ {
        self.members.iter().filter_map(|id| self.links.get(id))
    }
}

fn run_binding(
    env: &Env,
    binding: &Binding,
    run: i64,
    google: &mut plan::GoogleView,
    waiting: &BTreeSet<u64>,
    listed: bool,
) -> Result<Counts, SyncError> {
    let group = ensure_group(env, binding)?;
    let mut applier = apply::Applier::new(env, binding, &group, run);
    applier.finish_imports(google)?;
    let planned = observe_and_plan(env, binding, &group, google, waiting)?;
    applier.history = history::Recorder::of(binding, &planned, google);
    // What the plan was made from goes before the writes begin: the account's links and the
    // matches are not read again, and the CRM view is trimmed to the contacts to create.
    let Planned {
        plan,
        crm,
        matches,
        links,
        cursor,
        held,
        skipped,
    } = planned;
    drop((matches, links));
    let undecided = !plan.undecided.is_empty();
    let applied = applier.apply(plan, crm);
    // What was written before a failure is history too.
    record_history(env, binding, run, &applier.history.done)?;
    applied?;
    // A contact whose write failed is looked at again next run, even if nothing changes it
    // meanwhile: an incremental run would otherwise never see it (found by simulation seed 2051,
    // an update whose answer was lost for a contact outside the group).
    retry_later(env, &applier.retry)?;
    // Strays left in the group until a listing can tell whose they are are listed again by the
    // next run's full listing: an incremental one shows them only if they change (simulation
    // seed 68932: one stayed in the group for good).
    google.unresolved |= applier.unresolved || undecided;
    // Reads by name are current only until this binding's own writes: the next binding of the
    // account must not take them for Google's state after those writes.
    google.fetched.clear();
    finish_binding(env, &env.store.conn(), binding, cursor, listed, held, skipped)?;
    Ok(applier.counts)
}

/// Records the run's changes, and forgets those older than the history keeps.
fn record_history(
    env: &Env,
    binding: &Binding,
    run: i64,
    done: &[crate::domain::history::Entry],
) -> Result<(), StoreError> {
    // A run that changed nothing (most runs) writes nothing; the next one that does trims.
    if done.is_empty() {
        return Ok(());
    }
    env.store.tx(|tx| {
        store_history::record(tx, binding.id, run, env.now, done)?;
        store_history::trim(
            tx,
            binding.id,
            env.now,
            env.rules.history_days,
            env.rules.history_rows,
        )
    })
}

/// A binding's plan, with what it was made from.
pub(crate) struct Planned {
    pub plan: plan::Plan,
    pub crm: plan::CrmView,
    pub matches: BTreeMap<u64, String>,
    /// The account's links as the plan found them.
    pub links: BTreeMap<u64, Link>,
    /// The outbox row the CRM view has read up to.
    pub cursor: i64,
    /// Removals are held until the user confirms them.
    pub held: bool,
    /// Contacts were left alone (with a reason).
    pub skipped: bool,
}

/// Observes both sides for the binding and plans its run; evidence is recorded in the mapping
/// file, nothing is written to either side.
fn observe_and_plan(
    env: &Env,
    binding: &Binding,
    group: &str,
    google: &mut plan::GoogleView,
    waiting: &BTreeSet<u64>,
) -> Result<Planned, SyncError> {
    observe::landed_creates(env, binding, group, google)?;
    let stored = Stored::read(env, binding)?;
    let (mut crm, cursor) = observe_crm(env, binding, group, &stored, google)?;
    let matches = observe::matches(env, &binding.account, &crm, &stored.links, google)?;
    read_by_name(env, binding, group, &crm, &stored, google)?;
    let departed = departures(env, binding, &stored, &crm)?;
    crm.outside = outside(env, binding, group, &stored, &departed, &crm, google)?;
    let held_in_account = index::count(&env.store.conn(), &binding.account)?;
    let plan_on = |google: &plan::GoogleView| {
        plan::plan(&plan::Input {
            binding,
            group,
            links: &stored.links,
            members: &stored.members,
            shared: &stored.shared,
            crm: &crm,
            google,
            matches: &matches,
            waiting,
            excluded: &stored.exclusions.since,
            excluded_bases: &stored.exclusions.bases,
            excluded_keys: &stored.exclusions.keys,
            sent: &stored.sent,
            departed: &departed,
            lag: env.lag(),
            account: plan::AccountSize {
                held: held_in_account,
                limit: env.rules.max_contacts,
            },
            now: env.now,
        })
    };
    let mut the_plan = plan_on(google);
    if !the_plan.to_read.is_empty() {
        // Imports rest on Google's current copy: the names a listing showed are read, those
        // that no longer resolve (renamed or deleted since) leave the view, and the binding is
        // planned again on what the reads showed.
        let names: BTreeSet<String> = std::mem::take(&mut the_plan.to_read).into_iter().collect();
        observe::fetch_current(env, google, names.iter().cloned().collect())?;
        google
            .contacts
            .retain(|rn, _| !names.contains(rn) || google.fetched.contains(rn));
        the_plan = plan_on(google);
    }
    let held = hold_mass_removal(env, binding, &stored.members, &mut the_plan)?;
    let skipped = record_skipped(env, binding, &the_plan)?;
    Ok(Planned {
        plan: the_plan,
        crm,
        matches,
        links: stored.links,
        cursor,
        held,
        skipped,
    })
}

/// The contacts the CRM shows outside the filter among those a Google contact in the group may
/// belong to (see [`plan::strays`]).
fn outside(
    env: &Env,
    binding: &Binding,
    group: &str,
    stored: &Stored,
    departed: &BTreeMap<String, u64>,
    crm: &plan::CrmView,
    google: &plan::GoogleView,
) -> Result<BTreeSet<u64>, SyncError> {
    let scope = plan::strays::Scope {
        group,
        mapping: &binding.options.mapping,
        links: &stored.links,
        departed,
        present: &crm.present,
    };
    observe::outside(env, binding, &scope, google)
}

/// The CRM side of a binding's run: the outbox's contacts (or the whole filter), and the linked
/// contacts whose Google contact this listing shows changed or put back. Returns the view and
/// the outbox position it covers.
fn observe_crm(
    env: &Env,
    binding: &Binding,
    group: &str,
    stored: &Stored,
    google: &plan::GoogleView,
) -> Result<(plan::CrmView, i64), SyncError> {
    let (mut crm, cursor) = observe::crm(env, binding)?;
    observe::crm_for_google_changes(env, binding, &mut crm, &stored.links, &stored.members, google)?;
    let since = &stored.exclusions.since;
    observe::crm_for_rejoins(env, binding, &mut crm, &stored.links, since, google, group)?;
    Ok((crm, cursor))
}

/// Reads by name the linked contacts whose state a listing cannot tell; such reads are current.
fn read_by_name(
    env: &Env,
    binding: &Binding,
    group: &str,
    crm: &plan::CrmView,
    stored: &Stored,
    google: &mut plan::GoogleView,
) -> Result<(), SyncError> {
    // Linked contacts changed in the CRM that this listing does not show as they are now (not
    // listed, or listed older than our last write) are merged on Google's copy of the version
    // the link agreed on, kept in the mapping file, or else read by name: the merge is then a
    // true three-way merge, and the write keeps what we do not map (a write planned on no copy
    // of Google's rebuilt the person's mapped fields from nothing). A kept copy may be older
    // than Google's: its etag then has Google refuse the write as stale, and it is read.
    let changed: Vec<&Link> = crm
        .present
        .keys()
        .filter_map(|id| {
            let link = stored.links.get(id)?;
            let shown = google
                .contacts
                .get(&link.resource_name)
                .is_some_and(|p| evidence::fresh(p.as_ref(), link));
            // Only a contact the listing does not show is read from its text.
            if shown {
                return None;
            }
            mapping_changed(&crm.present.get(id)?, link, binding).then_some(link)
        })
        .collect();
    let unkept = observe::restore_kept(env, &binding.account, google, changed)?;
    observe::fetch_current(env, google, unkept)?;
    // Members leaving on the CRM side: Google's current copy tells whether the user took them
    // out there too, which keeps them out even if they come back into the filter (found by
    // simulation seed 412: an ungroup in Google, unseen, then undone when the contact returned).
    let leaving: Vec<String> = stored.leaving(crm).map(|l| l.resource_name.clone()).collect();
    observe::fetch_current(env, google, leaving)?;
    // A listing that shows a member out of the group right after our own write to it proves
    // nothing, yet the user may well have taken it out: its listed change is not shown again, so
    // it is read by name now, which is current (simulation seed 33: a contact taken out of the
    // group in Google stayed linked, and its health never said so).
    let unsure: Vec<String> = stored
        .member_links()
        .filter(|l| !env.lag().shows(l.written_at))
        .filter(|l| {
            google
                .contacts
                .get(&l.resource_name)
                .is_some_and(|p| !p.in_group(group))
        })
        .map(|l| l.resource_name.clone())
        .collect();
    observe::fetch_current(env, google, unsure)?;
    // A full listing that omits a member is not proof of deletion: listings lag behind writes.
    // Ask for those contacts by name (reads by name are current); only a 404 means deleted.
    if google.full {
        let absent: Vec<String> = stored
            .member_links()
            .filter(|l| {
                !google.contacts.contains_key(&l.resource_name) && !google.deleted.contains(&l.resource_name)
            })
            .map(|l| l.resource_name.clone())
            .collect();
        observe::fetch_missing(env, google, absent)?;
    }
    Ok(())
}

/// Records as their health why contacts were left alone; whether there were any.
fn record_skipped(env: &Env, binding: &Binding, the_plan: &plan::Plan) -> Result<bool, StoreError> {
    for (id, reason) in &the_plan.skipped {
        status::set_health(
            &env.store.conn(),
            binding.id,
            *id,
            status::HealthState::Excluded,
            &reason.text(),
            env.now,
        )?;
    }
    Ok(!the_plan.skipped.is_empty())
}

/// After an applied plan, on `conn` (a quiet run's transaction, say): departures a late enough
/// listing has shown are forgotten, the binding's outbox cursor and next run move.
fn finish_binding(
    env: &Env,
    conn: &rusqlite::Connection,
    binding: &Binding,
    cursor: i64,
    listed: bool,
    held: bool,
    skipped: bool,
) -> Result<(), StoreError> {
    if listed {
        links::forget_departures(conn, binding.id, env.lag().visible_before)?;
    }
    // Only a run that looked at Google moves the next look; CRM-only runs leave it.
    let next = if listed {
        env.now + binding.options.interval_ms.max(1000)
    } else {
        binding.next_run_at
    };
    // Held removals and skipped contacts need another full look (the cursor moves past their
    // outbox rows); otherwise the outbox is done.
    let again = held || skipped;
    bindings::finish_run(
        conn,
        binding.id,
        cursor,
        again,
        if skipped { env.now } else { next },
    )?;
    if held {
        accounts::require_full_listing(conn, &binding.account)?;
    }
    Ok(())
}

fn retry_later(env: &Env, contacts: &[u64]) -> Result<(), StoreError> {
    if contacts.is_empty() {
        return Ok(());
    }
    let unique: BTreeSet<u64> = contacts.iter().copied().collect();
    // One transaction: the host thread's hook writes to this file too and must not wait long.
    env.store.outbox_tx(|tx| {
        for &id in &unique {
            outbox::push(tx, id, false, env.now)?;
        }
        Ok(())
    })
}

fn mapping_changed(contact: &abi::Contact, link: &Link, binding: &Binding) -> bool {
    crate::mapping::crm_fields(contact, &binding.options.mapping) != link.base
}

/// The group's resource name: created after the filter, renamed with it, or the chosen one.
fn ensure_group(env: &Env, binding: &Binding) -> Result<String, SyncError> {
    match &binding.options.group {
        GroupChoice::MyContacts => Ok(MY_CONTACTS.to_string()),
        GroupChoice::Existing(group) if group.starts_with("contactGroups/") => Ok(group.clone()),
        // A group picked by name: found (or made) once, then kept by resource name.
        GroupChoice::Existing(name) => match &binding.group {
            Some(rn) => Ok(rn.clone()),
            None => {
                let rn = env.google.ensure_group(name)?;
                bindings::set_group(&env.store.conn(), binding.id, Some(&rn))?;
                Ok(rn)
            }
        },
        GroupChoice::FilterName => {
            let name = env
                .crm
                .filter_name(binding.filter_id)?
                .unwrap_or_else(|| format!("CRM filter {}", binding.filter_id));
            let known_name = bindings::group_name(&env.store.conn(), binding.id)?;
            let rn = match &binding.group {
                Some(rn) => {
                    if known_name.as_deref() != Some(name.as_str()) {
                        env.google.rename_group(rn, &name)?;
                    }
                    rn.clone()
                }
                None => env.google.ensure_group(&name)?,
            };
            // Written only when something changed: most runs find the group as it was.
            if binding.group.as_deref() != Some(rn.as_str()) || known_name.as_deref() != Some(name.as_str()) {
                bindings::set_named_group(&env.store.conn(), binding.id, &rn, &name)?;
            }
            Ok(rn)
        }
    }
}

/// Holds the removals of a plan that would take out too much of a binding at once, until the
/// user confirms them in the settings; the rest of the plan goes ahead.
fn hold_mass_removal(
    env: &Env,
    binding: &Binding,
    members: &BTreeSet<u64>,
    the_plan: &mut plan::Plan,
) -> Result<bool, SyncError> {
    let removals = the_plan.removals();
    let conn = env.store.conn();
    // A hold that cannot be read is kept as an unconfirmed one: removing is what it guards.
    let held: Option<Held> = bindings::held(&conn, binding.id)?.map(|h| {
        serde_json::from_str(&h).unwrap_or_else(|e| {
            log::warn!(
                "Binding {}: unreadable hold ({e}); kept until confirmed.",
                binding.id
            );
            Held::default()
        })
    });
    let too_many =
        removals > env.rules.hold_min && (removals as f64) > env.rules.hold_share * members.len() as f64;
    if !too_many {
        if held.is_some() {
            bindings::set_held(&conn, binding.id, None)?;
        }
        return Ok(false);
    }
    if held.as_ref().is_some_and(|h| h.confirmed) {
        bindings::set_held(&conn, binding.id, None)?;
        return Ok(false);
    }
    let h = Held {
        removals,
        contacts: members.len(),
        confirmed: false,
    };
    bindings::set_held(
        &conn,
        binding.id,
        Some(&serde_json::to_string(&h).map_err(SyncError::from)?),
    )?;
    log::warn!(
        "Binding {}: holding {removals} removals of {} contacts until the user confirms them.",
        binding.id,
        members.len()
    );
    the_plan.ops.retain(|op| !op.is_removal());
    Ok(true)
}

/// Counts per binding, summed.
pub fn total(results: &[(i64, Counts)]) -> Counts {
    let mut sum = Counts::default();
    for (_, c) in results {
        sum.add(c);
    }
    sum
}
