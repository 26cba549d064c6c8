//! Deterministic simulation, in the spirit of Dropbox's Trinity: from a seed, random
//! interleavings of CRM operations, Google operations (through the fake's control API, as a
//! person in Google's web UI), ticks, "sync now", faults and plugin restarts. Every edit is
//! judged exactly:
//! - each slot of a contact (a name part, a field, one e-mail's type, which phone is primary,
//!   …) ends with the value the binding's policy promises: an edit on one side wins over an
//!   unchanged other side; a slot edited on both sides follows `crm_wins`, `google_wins` or
//!   `latest_wins` (the later of the contact's update times the plugin gets); clearing loses to
//!   editing; different slots edited on both sides keep both edits. Judged as soon as both
//!   sides agree on the slot, and for every contact after the run quiesces;
//! - a contact that leaves the filter, loses access, or is taken out of the group in Google is
//!   judged again once it is back; putting a contact back into the group in Google, or
//!   re-creating it there with the same e-mail, joins its CRM contact (no copy);
//! - both sides agree on the filter's contacts; nothing is duplicated; nothing in Google
//!   deletes a CRM contact; no hook failed; the health the user sees agrees with both sides;
//!   one more sync writes nothing.
//!
//! What cannot be judged by construction is counted per seed, with its reason.
//!
//! `SIM_SEEDS=N` runs N seeds (default 300) from `SIM_BASE` (default 1); `SIM_SEED=S` replays
//! one. A failure prints its seed and the operations it ran.

mod judge;
mod person;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use abi::{ContactsPermission, Criterion, FilterId, Millis, SavedFilter, SettingsPage, UserId, Widget};
use abi_stable::std_types::RVec;
use host_sim::crm::{ContactRecord, Visibility};
use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig, Fault, FaultRule};
use host_sim::{Sim, SimConfig};
use judge::{Policy, Side, Tracked};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tests::{approve_consent, contact, google_config, plugin_dir_with, plugin_library, PLUGIN};

const ALICE: &str = "alice@example.com";
const TICK: i64 = 6 * 60_000;

/// One plugin directory for every seed: restarts and new worlds load the same file.
fn plugin_dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| plugin_dir_with(&[(&plugin_library(), &host_sim::loader::library_file_name())]))
        .path()
        .to_path_buf()
}

/// How the seed's world is set up.
#[derive(Debug, Clone, Copy)]
struct World {
    policy: Policy,
    /// Google's propagation delay (fake ms).
    lag_ms: u64,
    /// Google's real per-minute quotas (90 reads, 60 writes) instead of unlimited ones.
    real_quotas: bool,
}

struct Run {
    rng: StdRng,
    world: World,
    google: FakeGoogle,
    state_dir: tempfile::TempDir,
    sim: Arc<Sim>,
    ann: UserId,
    bob: UserId,
    filter: FilterId,
    /// Every contact that was ever in the CRM or in Google's group, by label.
    tracked: BTreeMap<String, Tracked>,
    /// Contacts the test deleted in the CRM, and every one it created.
    crm_deleted: BTreeSet<u64>,
    crm_created: BTreeSet<u64>,
    /// Contacts deleted in the CRM while created again in Google and not yet joined, by label:
    /// the deleted contact's slots. Their Google contact carries no CRM id; the plugin knows it
    /// only by the e-mail or phone it shares with the deleted contact (a departure).
    departed_unjoined: BTreeMap<String, person::Slots>,
    ops: Vec<String>,
    next_label: usize,
    revoked: bool,
    ever_revoked: bool,
    /// Failures scripted into Google so far (each fault rule's steps).
    fault_steps: usize,
}

/// How many times the plugin tries one Google call (its default retry policy).
const PLUGIN_ATTEMPTS: usize = 6;

fn sim_config(state: &std::path::Path, base: &str, now: Millis, world: &World) -> SimConfig {
    let mut c = SimConfig::new(&plugin_dir(), state);
    c.manual_clock = Some(now);
    c.plugin_config.extend(google_config(base));
    let (reads, writes) = if world.real_quotas {
        ("90", "60")
    } else {
        ("100000", "100000")
    };
    // The plugin is told how long Google may take to show a write, as an admin would be.
    let visibility = (world.lag_ms as i64 + 2000).to_string();
    for (k, v) in [
        ("sync.visibility_ms", visibility.as_str()),
        ("google.retry_base_ms", "20"),
        ("sync.debounce_ms", "10"),
        ("google.read_quota_per_minute", reads),
        ("google.write_quota_per_minute", writes),
    ] {
        c.plugin_config.insert(k.into(), v.into());
    }
    c
}

impl Run {
    fn new(seed: u64) -> Run {
        let mut rng = StdRng::seed_from_u64(seed);
        let policy = [Policy::LatestWins, Policy::CrmWins, Policy::GoogleWins][rng.gen_range(0..3)];
        let lag_ms = match rng.gen_range(0..4) {
            0 | 1 => rng.gen_range(0..150),
            2 => rng.gen_range(0..TICK as u64),
            _ => rng.gen_range(TICK as u64..3 * TICK as u64),
        };
        let world = World {
            policy,
            lag_ms,
            real_quotas: seed.is_multiple_of(3),
        };
        let (reads, writes) = if world.real_quotas {
            (90, 60)
        } else {
            (100_000, 100_000)
        };
        let google = FakeGoogle::start(
            "127.0.0.1:0",
            FakeGoogleConfig {
                // Drawn per write up to the seed's lag: writes reach listings out of order.
                propagation_delay_ms: 0,
                propagation_delay_max_ms: lag_ms,
                read_quota_per_minute: reads,
                write_quota_per_minute: writes,
                ..FakeGoogleConfig::default()
            },
        )
        .expect("fake Google");
        let state_dir = tempfile::tempdir().expect("state dir");
        // Both clocks start together, so `latest_wins` compares times of one timeline.
        let now = Millis(google.control().now().timestamp_millis());
        let sim = Sim::start(sim_config(state_dir.path(), &google.base_url(), now, &world))
            .expect("host-sim starts");
        let crm = sim.crm();
        let ann = crm
            .add_user(
                "Ann",
                &[abi::FEATURE_GOOGLE_CONTACTS],
                ContactsPermission::Edit,
                &[],
            )
            .unwrap()
            .id;
        let bob = crm
            .add_user(
                "Bob",
                &[abi::FEATURE_GOOGLE_CONTACTS],
                ContactsPermission::Edit,
                &[],
            )
            .unwrap()
            .id;
        let filter = sim
            .save_filter(SavedFilter {
                id: FilterId(0),
                name: "Sim".into(),
                author: ann,
                saved: true,
                criteria: RVec::from(vec![Criterion {
                    field: "custom:segment".into(),
                    op: "equals".into(),
                    value: "vip".into(),
                }]),
            })
            .unwrap();
        let mut run = Run {
            rng,
            world,
            google,
            state_dir,
            sim,
            ann,
            bob,
            filter: filter.id,
            tracked: BTreeMap::new(),
            crm_deleted: BTreeSet::new(),
            crm_created: BTreeSet::new(),
            departed_unjoined: BTreeMap::new(),
            ops: Vec::new(),
            next_label: 0,
            revoked: false,
            ever_revoked: false,
            fault_steps: 0,
        };
        for _ in 0..run.rng.gen_range(2..8) {
            run.crm_create();
        }
        for _ in 0..run.rng.gen_range(0..3) {
            run.google_create(false);
        }
        run.connect();
        let fields = [
            ("account", ALICE.to_string()),
            ("filter", filter.id.0.to_string()),
            ("policy", policy.name().into()),
            ("custom_fields", person::CUSTOM.into()),
        ];
        let outcome = run.action("enable", &fields);
        assert!(outcome.message.contains("enabled"), "{}", outcome.message);
        run.ops.push(format!(
            "enable policy={} lag={lag_ms}ms real quotas={}",
            policy.name(),
            world.real_quotas
        ));
        run.settle();
        run.observe().expect("first sync");
        run
    }

    fn action(&self, name: &str, fields: &[(&str, String)]) -> abi::ActionOutcome {
        let action = abi::SettingsAction {
            name: name.into(),
            fields: fields
                .iter()
                .map(|(n, v)| abi::Field {
                    name: (*n).into(),
                    value: v.as_str().into(),
                })
                .collect(),
        };
        self.sim
            .settings_action(PLUGIN, self.ann, SettingsPage::Filter(self.filter), action)
            .expect("outcome")
    }

    fn connect(&mut self) {
        let start = self.action("connect", &[]);
        let url = start.redirect_to.into_option().expect("redirect").into_string();
        let back = approve_consent(&url, ALICE);
        let back = url::Url::parse(&back).unwrap();
        let fields: Vec<(String, String)> = back
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let outcome = self.action("oauth_callback", &fields);
        assert!(outcome.message.contains("Connected"), "{}", outcome.message);
        self.revoked = false;
    }

    fn settle(&self) {
        assert!(
            self.sim.wait_idle(Duration::from_secs(120)),
            "jobs did not finish"
        );
    }

    fn label(&mut self, prefix: &str) -> String {
        self.next_label += 1;
        format!("{prefix}{}", self.next_label)
    }

    fn crm_contacts(&self) -> Vec<ContactRecord> {
        self.sim.crm().all_contacts()
    }

    /// The slots of the CRM contact with this label (none if it has none).
    fn crm_slots(&self, label: &str) -> person::Slots {
        self.crm_contacts()
            .into_iter()
            .find(|r| r.contact.name.given.as_str() == label)
            .map(|r| person::slots(&r.contact))
            .unwrap_or_default()
    }

    /// Judges the slots both sides agreed on right before an edit, and makes them its base, as
    /// [`Run::observe`] does between steps: a background run may have brought both sides to one
    /// value since, and an edit from there changes that value, not the older base.
    fn settle_agreed(&mut self, label: &str, crm: &person::Slots, google: &person::Slots) {
        let policy = self.world.policy;
        let Some(t) = self.tracked.get_mut(label).filter(|t| t.unjudged.is_none()) else {
            return;
        };
        if let Err(e) = t.resolve(crm, google, policy) {
            panic!("{label}, before an edit in Google: {e}");
        }
    }

    fn pick_crm(&mut self) -> Option<ContactRecord> {
        let all = self.crm_contacts();
        (!all.is_empty()).then(|| all[self.rng.gen_range(0..all.len())].clone())
    }

    /// Whether the binding's user sees the contact in the filter.
    fn in_filter(&self, r: &ContactRecord) -> bool {
        segment(&r.contact) == "vip" && (r.owner == self.ann || r.visibility == Visibility::Everyone)
    }

    fn group(&self) -> Option<String> {
        self.google
            .control()
            .groups(ALICE)
            .ok()?
            .into_iter()
            .find(|g| g["name"] == "Sim")
            .and_then(|g| g["resourceName"].as_str().map(str::to_string))
    }

    fn google_contacts(&self) -> Vec<Value> {
        self.google.control().contacts(ALICE).unwrap()
    }

    fn google_by_label(&self, label: &str) -> Option<Value> {
        self.google_contacts().into_iter().find(|p| label_of(p) == label)
    }

    fn members(&self) -> Vec<Value> {
        let Some(group) = self.group() else {
            return Vec::new();
        };
        self.google_contacts()
            .into_iter()
            .filter(|p| is_member(p, &group))
            .collect()
    }

    fn pick_member(&mut self) -> Option<(String, String)> {
        let members = self.members();
        if members.is_empty() {
            return None;
        }
        let p = &members[self.rng.gen_range(0..members.len())];
        Some((p["resourceName"].as_str()?.to_string(), label_of(p)))
    }

    /// Moves both clocks to one instant a second past the later of them, so that every edit is
    /// later than the one before it on either side (Google's clock also runs in real time).
    fn align_clocks(&self) {
        let google = self.google.control().now().timestamp_millis();
        let crm = self.sim.clock().now().0;
        let to = google.max(crm) + 1000;
        self.google
            .control()
            .advance_clock(Duration::from_millis((to - google) as u64));
        self.sim.advance(to - crm);
    }

    // ----- operations -----

    fn crm_create(&mut self) {
        let label = self.label("C");
        let segment = if self.rng.gen_bool(0.8) { "vip" } else { "other" };
        let mut c = contact(
            &label,
            "Crm",
            &format!("{}@example.org", label.to_lowercase()),
            segment,
        );
        // Some contacts have more e-mails or phones than a listing shows.
        let big = self.rng.gen_bool(0.05);
        if big {
            let count = self.rng.gen_range(101..151);
            let phones = self.rng.gen_bool(0.5);
            person::many(&mut c, &label, count, phones);
        }
        let created = self
            .sim
            .create_contact(self.ann, c, Visibility::Everyone)
            .unwrap();
        self.crm_created.insert(created.id.0);
        self.tracked.insert(label.clone(), Tracked::default());
        self.ops.push(format!(
            "crm create {label} ({segment}{})",
            if big { ", big" } else { "" }
        ));
    }

    fn crm_edit(&mut self) {
        let Some(rec) = self.pick_crm() else { return };
        let label = rec.contact.name.given.to_string();
        let step = self.ops.len();
        let mut c = rec.contact.clone();
        let what = person::edit(&mut self.rng, &mut c, step);
        let before = person::slots(&rec.contact);
        self.align_clocks();
        if let Ok(saved) = self.sim.update_contact(rec.owner, c) {
            let after = person::slots(&saved);
            let google = self
                .google_by_label(&label)
                .map(|p| person::slots(&person::from_google(&p)))
                .unwrap_or_default();
            if let Some(t) = self.tracked.get_mut(&label) {
                t.record(Side::Crm, &before, &after, saved.updated_at_ms);
                if t.unbased {
                    t.unsynced(Side::Google, &google, &person::diff(&before, &after));
                    t.check_match(&after, &google);
                }
            }
            self.ops.push(format!(
                "crm edit {label}: {what} {:?}",
                person::diff(&before, &after)
            ));
        }
        self.settle();
    }

    fn crm_delete(&mut self) {
        let Some(rec) = self.pick_crm() else { return };
        let label = rec.contact.name.given.to_string();
        self.sim.delete_contact(rec.contact.id, Some(self.ann)).unwrap();
        self.crm_deleted.insert(rec.contact.id.0);
        if self
            .tracked
            .get(&label)
            .is_some_and(|t| t.rejoining && t.unbased && t.unjudged.is_none())
        {
            self.departed_unjoined
                .insert(label.clone(), person::slots(&rec.contact));
        }
        // An unjudged label stays unjudged: it may name a second contact (seed 15215).
        if self.tracked.get(&label).is_none_or(|t| t.unjudged.is_none()) {
            self.tracked.remove(&label);
        }
        self.ops.push(format!("crm delete {label}"));
        self.settle();
    }

    fn crm_move(&mut self) {
        let Some(rec) = self.pick_crm() else { return };
        let label = rec.contact.name.given.to_string();
        let mut c = rec.contact.clone();
        let to = if segment(&c) == "vip" { "other" } else { "vip" };
        c.custom_fields.retain(|f| f.key.as_str() != "segment");
        c.custom_fields.push(abi::CustomField {
            key: "segment".into(),
            label: "Segment".into(),
            value: to.into(),
        });
        self.align_clocks();
        if let Ok(saved) = self.sim.update_contact(rec.owner, c) {
            if let Some(t) = self.tracked.get_mut(&label) {
                t.crm_time = t.crm_time.max(saved.updated_at_ms);
            }
            self.ops.push(format!("crm move {label} to {to}"));
        }
        self.settle();
    }

    fn crm_access(&mut self) {
        let Some(rec) = self.pick_crm() else { return };
        let label = rec.contact.name.given.to_string();
        let (owner, visibility) = if rec.owner == self.ann {
            (self.bob, Visibility::Owner)
        } else {
            (self.ann, Visibility::Everyone)
        };
        self.sim
            .set_access(rec.contact.id, owner, visibility.clone())
            .unwrap();
        // Put back or created again in Google and not yet joined: the plugin can no longer see
        // the CRM contact it would join.
        let rejoining = self.tracked.get(&label).is_some_and(|t| t.rejoining);
        let unmarked = || {
            self.google_by_label(&label)
                .is_some_and(|p| marker_of(&p) != Some(rec.contact.id.0.to_string()))
        };
        let unjoined = owner == self.bob && (rejoining || unmarked());
        if let Some(t) = self.tracked.get_mut(&label).filter(|_| unjoined) {
            t.unjudged =
                Some("put back or created again in Google, then hidden from the user before it was joined");
        }
        self.ops.push(format!("crm access {label} -> {visibility:?}"));
        self.settle();
    }

    fn google_create(&mut self, in_group: bool) {
        let label = self.label("G");
        let mut person = json!({
            "names": [{"givenName": label, "familyName": "Google"}],
            "emailAddresses": [{"value": format!("{}@example.net", label.to_lowercase()), "type": "home"}],
        });
        if let Some(group) = self.group().filter(|_| in_group) {
            person["memberships"] = json!([{"contactGroupMembership": {"contactGroupResourceName": group}}]);
            self.tracked.insert(label.clone(), Tracked::default());
        }
        self.align_clocks();
        self.google.control().create_contact(ALICE, &person).unwrap();
        self.ops
            .push(format!("google create {label} in_group={in_group}"));
    }

    fn google_edit(&mut self) {
        let Some((rn, label)) = self.pick_member() else {
            return;
        };
        let step = self.ops.len();
        let crm_before = self.crm_slots(&label);
        self.align_clocks();
        // Edited from what Google holds when the edit is saved: a background run may write the
        // contact right before, and an edit made from an older read would undo that write
        // unrecorded (simulation seed 66382: the CRM's edit, just delivered, was cleared so).
        let (rng, mut what) = (&mut self.rng, String::new());
        let edited = self.google.control().edit_contact_with(ALICE, &rn, |current| {
            let mut c = person::from_google(current);
            what = person::edit(rng, &mut c, step);
            person::to_google(&c)
        });
        if let Ok((current, saved)) = edited {
            let before = person::slots(&person::from_google(&current));
            let after = person::slots(&person::from_google(&saved));
            let crm = self.crm_slots(&label);
            self.settle_agreed(&label, &crm_before, &before);
            if let Some(t) = self.tracked.get_mut(&label) {
                t.record(Side::Google, &before, &after, update_time(&saved));
                if t.unbased {
                    t.unsynced(Side::Crm, &crm, &person::diff(&before, &after));
                    t.check_match(&crm, &after);
                }
            } else if let Some(deleted) = self.departed_unjoined.get(&label) {
                // Deleted in the CRM before the plugin joined the contact created again in
                // Google: once that one shares no e-mail or phone with it, nothing tells the
                // plugin it is not a new contact, and importing it is right (seed 31398). The
                // same rule as for a contact still in the CRM (`Tracked::check_match`).
                let mut t = Tracked {
                    rejoining: true,
                    unbased: true,
                    ..Tracked::default()
                };
                t.check_match(deleted, &after);
                if t.unjudged.is_some() {
                    self.departed_unjoined.remove(&label);
                    self.tracked.insert(label.clone(), t);
                }
            }
            self.ops.push(format!(
                "google edit {label}: {what} {:?}",
                person::diff(&before, &after)
            ));
        }
    }

    fn google_delete(&mut self) {
        let Some((rn, label)) = self.pick_member() else {
            return;
        };
        let unseen = self.google.control().stats().lost_answers.contains(&rn);
        self.align_clocks();
        if self.google.control().delete_contact(ALICE, &rn).is_ok() {
            if let Some(t) = self.tracked.get_mut(&label) {
                t.excluded = true;
                if unseen {
                    t.unjudged = Some("deleted in Google before the plugin learned of its create");
                }
            }
            self.ops.push(format!(
                "google delete {label}{}",
                if unseen { " (create answer was lost)" } else { "" }
            ));
        }
    }

    fn google_ungroup(&mut self) {
        let Some((rn, label)) = self.pick_member() else {
            return;
        };
        let Some(group) = self.group() else { return };
        let control = self.google.control();
        self.align_clocks();
        let _ = control.modify_group_members(ALICE, "contactGroups/myContacts", &[&rn], &[]);
        if control.modify_group_members(ALICE, &group, &[], &[&rn]).is_ok() {
            if let Some(t) = self.tracked.get_mut(&label) {
                t.excluded = true;
            }
            self.ops.push(format!("google ungroup {label}"));
        }
    }

    /// An excluded contact whose CRM contact is in the filter, picked at random.
    fn pick_excluded(&mut self) -> Option<(String, ContactRecord)> {
        let crm = self.crm_contacts();
        let candidates: Vec<(String, ContactRecord)> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.excluded && t.unjudged.is_none())
            .filter_map(|(l, _)| {
                let r = crm.iter().find(|r| r.contact.name.given.as_str() == l)?;
                self.in_filter(r).then(|| (l.clone(), r.clone()))
            })
            .collect();
        (!candidates.is_empty()).then(|| candidates[self.rng.gen_range(0..candidates.len())].clone())
    }

    /// The user puts a contact taken out of the group back into it in Google: sync it.
    fn google_regroup(&mut self) {
        let Some((label, _)) = self.pick_excluded() else {
            return;
        };
        let (Some(group), Some(p)) = (self.group(), self.google_by_label(&label)) else {
            return;
        };
        let rn = p["resourceName"].as_str().unwrap_or("").to_string();
        self.align_clocks();
        if self
            .google
            .control()
            .modify_group_members(ALICE, &group, &[&rn], &[])
            .is_ok()
        {
            let now = self.google.control().contact(ALICE, &rn).unwrap_or(p);
            let t = self.tracked.get_mut(&label).expect("tracked");
            t.regroup();
            t.google_time = t.google_time.max(update_time(&now));
            self.ops.push(format!("google regroup {label}"));
        }
    }

    /// The user deleted a contact in Google and creates it again in the group, with its name
    /// and e-mail: it joins its CRM contact.
    fn google_recreate(&mut self) {
        let Some((label, rec)) = self.pick_excluded() else {
            return;
        };
        let Some(group) = self.group() else { return };
        if self.google_by_label(&label).is_some() {
            return;
        }
        let Some(email) = rec
            .contact
            .emails
            .iter()
            .find(|e| e.primary)
            .or(rec.contact.emails.first())
            .cloned()
        else {
            return;
        };
        let n = &rec.contact.name;
        let person = json!({
            "names": [{"honorificPrefix": n.prefix.as_str(), "givenName": n.given.as_str(),
                "middleName": n.middle.as_str(), "familyName": n.family.as_str(),
                "honorificSuffix": n.suffix.as_str()}],
            "emailAddresses": [{"value": email.value.as_str(), "type": email.kind.as_str()}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}],
        });
        self.align_clocks();
        if let Ok(created) = self.google.control().create_contact(ALICE, &person) {
            let google = person::slots(&person::from_google(&created));
            let t = self.tracked.get_mut(&label).expect("tracked");
            t.rejoin(&person::slots(&rec.contact), &google);
            t.google_time = t.google_time.max(update_time(&created));
            self.ops
                .push(format!("google recreate {label} with {}", email.value));
        }
    }

    /// Google gives a contact a new resource name (as when a verified e-mail gets linked to it).
    fn google_rename(&mut self) {
        let Some((rn, label)) = self.pick_member() else {
            return;
        };
        self.align_clocks();
        if let Ok(new) = self.google.control().rename_contact(ALICE, &rn) {
            self.ops.push(format!("google rename {label} {rn} -> {new}"));
        }
    }

    /// Moves both clocks: the CRM's and Google's (whose propagation delay, token lifetimes and
    /// quota windows run on it), as real time would.
    fn advance(&self, ms: i64) {
        self.google
            .control()
            .advance_clock(Duration::from_millis(ms as u64));
        self.sim.advance(ms);
    }

    fn tick(&mut self) {
        self.advance(TICK);
        self.settle();
        self.ops.push("tick".into());
    }

    fn sync_now(&mut self) {
        self.action("sync_now", &[]);
        self.settle();
        self.ops.push("sync now".into());
    }

    fn fault(&mut self) {
        let fault = match self.rng.gen_range(0..6) {
            0 => Fault::RateLimit {
                retry_after_secs: None,
            },
            1 => Fault::RateLimit {
                retry_after_secs: Some(0),
            },
            2 => Fault::Internal,
            3 => Fault::Unavailable,
            4 => Fault::Hang { ms: 30 },
            _ => Fault::Drop,
        };
        let methods = [
            None,
            Some("people.people.connections.list"),
            Some("people.people.batchCreateContacts"),
            Some("people.people.batchUpdateContacts"),
            Some("people.contactGroups.members.modify"),
        ];
        let method = methods[self.rng.gen_range(0..methods.len())];
        let steps = self.rng.gen_range(1..3);
        let rule = FaultRule::script(method, vec![fault.clone(); steps]);
        self.google.control().add_fault(rule).unwrap();
        self.fault_steps += steps;
        self.ops.push(format!("fault {fault:?} x{steps} on {method:?}"));
    }

    fn restart(&mut self) {
        let now = self.sim.clock().now();
        self.sim.shutdown();
        self.sim = Sim::start(sim_config(
            self.state_dir.path(),
            &self.google.base_url(),
            now,
            &self.world,
        ))
        .expect("restart");
        self.ops.push("restart".into());
    }

    fn step(&mut self) {
        match self.rng.gen_range(0..100) {
            0..=9 => self.crm_create(),
            10..=23 => self.crm_edit(),
            24..=26 => self.crm_delete(),
            27..=31 => self.crm_move(),
            32..=34 => self.crm_access(),
            35..=39 => self.google_create(true),
            40..=53 => self.google_edit(),
            54..=56 => self.google_delete(),
            57..=59 => self.google_ungroup(),
            60..=61 => self.google_regroup(),
            62..=63 => self.google_recreate(),
            64..=65 => self.google_rename(),
            66..=76 => self.tick(),
            77..=83 => self.sync_now(),
            84..=90 => self.fault(),
            91..=92 => {
                self.google.control().expire_sync_tokens(Some(ALICE));
                self.ops.push("expire sync tokens".into());
            }
            93 => {
                self.google.control().expire_access_tokens(Some(ALICE));
                self.ops.push("expire access tokens".into());
            }
            94 => {
                self.google.control().revoke_tokens(ALICE);
                self.revoked = true;
                self.ever_revoked = true;
                self.ops.push("revoke tokens".into());
            }
            95 | 96 if self.revoked => {
                self.connect();
                self.ops.push("reconnect".into());
            }
            _ => self.restart(),
        }
    }

    /// Judges every slot both sides now agree on, then takes both sides' current update times
    /// as the ones the plugin will compare next.
    fn observe(&mut self) -> Result<(), String> {
        let crm = self.crm_contacts();
        let google = self.google_contacts();
        if self.tracked.values().any(|t| t.rejoining) {
            // Joined once the plugin no longer shows the contact excluded and its Google contact
            // carries the CRM id (a contact created again in Google has none until the plugin
            // joins it, even when no run ever showed the old one deleted: seed 3444).
            let rows = self.health_rows();
            for (label, t) in self.tracked.iter_mut().filter(|(_, t)| t.rejoining) {
                let rec = crm
                    .iter()
                    .find(|r| r.contact.name.given.as_str() == label.as_str());
                let marked = |id: &str| {
                    google
                        .iter()
                        .find(|p| label_of(p) == *label)
                        .is_some_and(|p| marker_of(p).as_deref() == Some(id))
                };
                if rec.is_some_and(|r| {
                    let id = r.contact.id.0.to_string();
                    !rows.contains_key(&id) && marked(&id)
                }) {
                    t.rejoining = false;
                    t.unbased = false;
                }
            }
        }
        for (label, t) in self.tracked.iter_mut() {
            let (Some(c), Some(g)) = (
                crm.iter()
                    .find(|r| r.contact.name.given.as_str() == label.as_str()),
                google.iter().find(|p| label_of(p) == *label),
            ) else {
                continue;
            };
            if t.unjudged.is_none() {
                t.resolve(
                    &person::slots(&c.contact),
                    &person::slots(&person::from_google(g)),
                    self.world.policy,
                )
                .map_err(|e| {
                    let copies = google.iter().filter(|p| label_of(p) == *label).count();
                    format!("{label}: {e} [{copies} Google contacts]")
                })?;
            }
            t.crm_time = t.crm_time.max(c.contact.updated_at_ms);
            t.google_time = t.google_time.max(update_time(g));
        }
        Ok(())
    }

    /// Faults off, every write visible, several rounds of sync.
    fn quiesce(&mut self) {
        self.google.control().clear_faults();
        self.settle();
        if self.revoked {
            self.connect();
        }
        let rounds = 4 + self.world.lag_ms as i64 / TICK;
        for _ in 0..rounds {
            self.advance(TICK);
            self.settle();
            self.action("sync_now", &[]);
            self.settle();
        }
    }

    /// The contacts that must be in Google's group, judged, by label.
    fn expected_members(&self, crm: &[ContactRecord]) -> BTreeSet<String> {
        crm.iter()
            .filter(|r| self.in_filter(r))
            .map(|r| r.contact.name.given.to_string())
            .filter(|l| {
                self.tracked
                    .get(l)
                    .is_some_and(|t| !t.excluded && t.unjudged.is_none())
            })
            .collect()
    }

    fn check(&mut self) -> Unjudged {
        // A seed that revoked the account's tokens caused the failed runs that say so.
        let errors: Vec<String> = self
            .sim
            .hook_errors()
            .into_iter()
            .filter(|e| !(self.ever_revoked && e.contains("Reconnect the account")))
            // A seed that scripted at least as many failures as the plugin makes attempts may
            // have failed one call every time (seed 1047: six on one listing; seed 23240: six
            // scripted 429s on one listing, which the plugin reports as the rate limit).
            .filter(|e| !(self.fault_steps >= PLUGIN_ATTEMPTS && gave_up_on_scripted_faults(e)))
            .collect();
        assert!(errors.is_empty(), "hooks failed: {errors:?}");
        let crm = self.crm_contacts();
        let members = self.members();
        let overlapping = self.google.control().stats().overlapping_mutates;
        assert_eq!(overlapping, 0, "the plugin sent overlapping mutate requests");
        check_mapping_invariants(self.state_dir.path());
        // No duplicates on either side.
        let judged = |l: &String| self.tracked.get(l).is_none_or(|t| t.unjudged.is_none());
        let mut crm_labels: Vec<String> = crm
            .iter()
            .map(|r| r.contact.name.given.to_string())
            .filter(judged)
            .collect();
        let n = crm_labels.len();
        crm_labels.sort();
        crm_labels.dedup();
        assert_eq!(crm_labels.len(), n, "a CRM contact is duplicated: {crm_labels:?}");
        let all_google = self.google_contacts();
        let mut google_labels: Vec<String> = all_google.iter().map(label_of).collect();
        let n = google_labels.len();
        google_labels.sort();
        google_labels.dedup();
        assert_eq!(google_labels.len(), n, "a Google contact is duplicated");
        // Nothing done in Google deleted a CRM contact.
        let present: BTreeSet<u64> = crm.iter().map(|r| r.contact.id.0).collect();
        for id in &self.crm_created {
            assert!(
                present.contains(id) || self.crm_deleted.contains(id),
                "CRM contact {id} vanished"
            );
        }
        // Both sides agree on the filter's contacts.
        let expected = self.expected_members(&crm);
        let unjudged: BTreeSet<&String> = self
            .tracked
            .iter()
            .filter(|(_, t)| t.unjudged.is_some())
            .map(|(l, _)| l)
            .collect();
        let in_group: BTreeSet<String> = members
            .iter()
            .map(label_of)
            .filter(|l| !unjudged.contains(l))
            .collect();
        let described: Vec<String> = members
            .iter()
            .map(|p| {
                format!(
                    "{} {} (CRM id {:?})",
                    label_of(p),
                    p["resourceName"],
                    marker_of(p)
                )
            })
            .collect();
        assert_eq!(
            in_group, expected,
            "Google's group and the CRM filter differ; the group holds {described:?}"
        );
        // Every slot of every member agrees, with the value its edits and the policy promise.
        self.observe().unwrap_or_else(|e| panic!("{e}"));
        for label in &expected {
            let rec = crm
                .iter()
                .find(|r| r.contact.name.given.as_str() == label)
                .expect("in the CRM");
            let person = members.iter().find(|p| label_of(p) == *label).expect("member");
            let (c, g) = (
                person::slots(&rec.contact),
                person::slots(&person::from_google(person)),
            );
            assert_eq!(c, g, "{label} differs between the CRM and Google");
            let pending = self.tracked[label].pending();
            assert!(pending.is_empty(), "{label}: unjudged slots {pending:?}");
        }
        self.check_health(&crm, &expected);
        // One more sync writes nothing.
        let (google_writes, crm_writes) = (self.google.control().stats().writes, self.sim.plugin_writes());
        self.advance(TICK);
        self.settle();
        self.action("sync_now", &[]);
        self.settle();
        assert_eq!(
            self.google.control().stats().writes,
            google_writes,
            "a settled sync wrote to Google"
        );
        assert_eq!(
            self.sim.plugin_writes(),
            crm_writes,
            "a settled sync wrote to the CRM"
        );
        let mut reasons: BTreeMap<&'static str, usize> = BTreeMap::new();
        for t in self.tracked.values() {
            if let Some(r) = t.unjudged {
                *reasons.entry(r).or_default() += 1;
            }
        }
        Unjudged {
            contacts: self.tracked.len(),
            reasons,
        }
    }

    /// The health rows of the filter's settings page: contact id → state.
    fn health_rows(&self) -> BTreeMap<String, String> {
        let view = self
            .sim
            .render_settings(PLUGIN, self.ann, SettingsPage::Filter(self.filter))
            .expect("the settings page renders");
        view.sections
            .iter()
            .flat_map(|s| s.widgets.iter())
            .filter_map(|w| match w {
                Widget::Table { id, rows, .. } if id.as_str() == "health" => Some(rows.clone()),
                _ => None,
            })
            .flatten()
            .map(|row| {
                let cell = |i: usize| row.get(i).map(|c| c.to_string()).unwrap_or_default();
                (cell(0), cell(1))
            })
            .collect()
    }

    /// The per-contact health the user sees: nothing to say about a synced contact; a contact
    /// in the filter that Google took out is shown excluded.
    fn check_health(&self, crm: &[ContactRecord], expected: &BTreeSet<String>) {
        let rows = self.health_rows();
        for r in crm.iter().filter(|r| self.in_filter(r)) {
            let label = r.contact.name.given.as_str();
            let Some(t) = self.tracked.get(label).filter(|t| t.unjudged.is_none()) else {
                continue;
            };
            let state = rows.get(&r.contact.id.0.to_string());
            if expected.contains(label) {
                assert_eq!(state, None, "{label} is in sync but its health says {state:?}");
            } else if t.excluded {
                assert_eq!(
                    state.map(String::as_str),
                    Some("excluded"),
                    "{label} was taken out in Google; its health says {state:?}"
                );
            }
        }
    }
}

/// Contacts a seed could not judge, and why.
#[derive(Debug, Default)]
struct Unjudged {
    contacts: usize,
    reasons: BTreeMap<&'static str, usize>,
}

impl Unjudged {
    fn count(&self) -> usize {
        self.reasons.values().sum()
    }
}

/// The CRM id the plugin marked a Google contact with (its `clientData` entry).
fn marker_of(person: &Value) -> Option<String> {
    person["clientData"]
        .as_array()?
        .iter()
        .find(|d| d["key"] == "crm_contact_id")
        .and_then(|d| d["value"].as_str())
        .map(str::to_string)
}

fn label_of(p: &Value) -> String {
    p["names"][0]["givenName"].as_str().unwrap_or("").to_string()
}

fn is_member(p: &Value, group: &str) -> bool {
    p["memberships"].as_array().is_some_and(|ms| {
        ms.iter()
            .any(|m| m["contactGroupMembership"]["contactGroupResourceName"] == group)
    })
}

/// Google's update time of a person (ms), as the plugin reads it.
fn update_time(p: &Value) -> i64 {
    let sources = p["metadata"]["sources"].as_array().cloned().unwrap_or_default();
    sources
        .iter()
        .find(|s| s["type"] == "CONTACT")
        .or(sources.first())
        .and_then(|s| s["updateTime"].as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

fn segment(c: &abi::Contact) -> String {
    c.custom_fields
        .iter()
        .find(|f| f.key.as_str() == "segment")
        .map(|f| f.value.to_string())
        .unwrap_or_default()
}

fn run_seed(seed: u64) -> Unjudged {
    let mut run = Run::new(seed);
    let steps = run.rng.gen_range(15..35);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let trace = std::env::var("SIM_TRACE").is_ok();
        for _ in 0..steps {
            let at = std::time::Instant::now();
            run.step();
            if trace {
                println!(
                    "{:>6} ms  {}",
                    at.elapsed().as_millis(),
                    run.ops.last().map(String::as_str).unwrap_or("")
                );
            }
            if let Err(e) = run.observe() {
                panic!(
                    "after `{}`: {e}",
                    run.ops.last().map(String::as_str).unwrap_or("")
                );
            }
        }
        let at = std::time::Instant::now();
        run.quiesce();
        if trace {
            println!("{:>6} ms  quiesce", at.elapsed().as_millis());
        }
        run.check()
    }));
    match outcome {
        Ok(unjudged) => unjudged,
        Err(panic) => {
            if std::env::var("SIM_TRACE").is_ok() {
                for line in run.sim.logbook().lines() {
                    println!("{line:?}");
                }
            }
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "simulation seed {seed} failed (replay: SIM_SEED={seed}): {message}\noperations:\n  {}",
                run.ops.join("\n  ")
            );
        }
    }
}

/// The invariants of the sync's states (numbered in `plugin/src/sync/mod.rs`), read from the
/// plugin's mapping file: each query counts the rows that break one.
fn check_mapping_invariants(state_dir: &std::path::Path) {
    let file = state_dir.join("plugins/google-contacts/google-contacts.sqlite3");
    let conn = rusqlite::Connection::open_with_flags(&file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("the mapping file {} cannot be read: {e}", file.display()));
    // Invariants 3 and 4 hold by construction (a contact's place in a binding is one value, its
    // link state another); what the schema cannot say is checked here.
    let broken = [
        (
            "2: a member with no link",
            "SELECT COUNT(*) FROM contact_states c, json_each(c.state, '$.bindings') s
             WHERE json_extract(s.value, '$.place.kind') = 'member'
               AND json_extract(c.state, '$.link.kind') IS NOT 'linked'",
        ),
        (
            "2: a standing in a binding of another account",
            "SELECT COUNT(*) FROM contact_states c, json_each(c.state, '$.bindings') s
             WHERE NOT EXISTS (SELECT 1 FROM bindings b WHERE b.id = CAST(s.key AS INTEGER) AND b.account = c.account)",
        ),
        (
            "5: the linked Google contact's column disagrees with the state",
            "SELECT COUNT(*) FROM contact_states
             WHERE resource_name IS NOT json_extract(state, '$.link.link.resource_name')",
        ),
        (
            "5: two links to one Google contact",
            "SELECT COUNT(*) FROM (SELECT 1 FROM contact_states WHERE resource_name IS NOT NULL
             GROUP BY account, resource_name HAVING COUNT(*) > 1)",
        ),
    ];
    for (invariant, sql) in broken {
        let rows: i64 = conn
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("invariant {invariant}: {e}"));
        assert_eq!(rows, 0, "invariant {invariant} is broken ({rows} rows)");
    }
}

/// Whether a failed run's message is the plugin giving up on a call after its last attempt.
fn gave_up_on_scripted_faults(error: &str) -> bool {
    error.contains("kept failing after") || error.contains("is still exceeded after")
}

/// Seeds left out of the default run, each with the cause found so far. `SIM_SEED=<seed>`
/// still replays them; the run prints that it skipped them.
const KNOWN_FAILURES: &[(u64, &str)] = &[];

fn report(seed: u64, u: &Unjudged) {
    if u.count() > 0 {
        println!(
            "seed {seed}: {} of {} contacts unjudged: {:?}",
            u.count(),
            u.contacts,
            u.reasons
        );
    }
}

#[test]
fn random_interleavings_with_faults_and_restarts_keep_every_invariant() {
    if let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        println!("replaying simulation seed {seed}");
        let u = run_seed(seed);
        report(seed, &u);
        return;
    }
    let seeds: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let base: u64 = std::env::var("SIM_BASE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let started = std::time::Instant::now();
    // Every seed runs even after a failure: a long run reports all its failing seeds at once.
    let mut failed: Vec<u64> = Vec::new();
    let (mut contacts, mut unjudged) = (0usize, 0usize);
    for (done, seed) in (base..base + seeds).enumerate() {
        if let Some((_, why)) = KNOWN_FAILURES.iter().find(|(s, _)| *s == seed) {
            println!("seed {seed} skipped (known failure: {why})");
            continue;
        }
        let seed_started = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(|| run_seed(seed));
        let took = seed_started.elapsed().as_secs_f64();
        if took > 5.0 {
            println!("seed {seed} took {took:.1} s");
        }
        match outcome {
            Ok(u) => {
                report(seed, &u);
                contacts += u.contacts;
                unjudged += u.count();
            }
            Err(_) => failed.push(seed),
        }
        if (done + 1) % 250 == 0 {
            // A long run (`SIM_SEEDS=10000`) shows where it is; visible with `--nocapture`.
            println!(
                "{} of {seeds} seeds run in {:.0} s, {} failed so far",
                done + 1,
                started.elapsed().as_secs_f64(),
                failed.len()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let share = 100.0 * unjudged as f64 / contacts.max(1) as f64;
    println!("{unjudged} of {contacts} contacts unjudged ({share:.2} %)");
    assert!(
        failed.is_empty(),
        "{} of {seeds} simulation seeds failed in {secs:.1} s: {failed:?}",
        failed.len()
    );
    assert!(
        share <= 1.0,
        "{share:.2} % of contacts went unjudged (at most 1 %)"
    );
    println!("{seeds} simulation seeds (from {base}) passed in {secs:.1} s");
}
