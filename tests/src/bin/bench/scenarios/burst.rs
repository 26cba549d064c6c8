//! Scenario 9: a burst of CRM edits while a sync runs. B contacts are synced; a tick starts a run
//! that lists the whole account (its sync token expired), and B edits, one per contact, arrive
//! within B ms while it runs (10,000 in 10 s). The hook must stay fast on the host's thread, and
//! the burst must reach Google in as few calls as batching allows.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::hook::percentiles;
use super::{methods, people_calls, report_retries, retries, MemoryMark, MemoryTargets, Progress, ALICE};
use crate::bounds;
use crate::report::{Kind, Row, Section, Target};
use crate::world::{BenchWorld, Res, Setup, BATCH};
use crate::Settings;

const FILTER: &str = "Burst contacts";
/// The hook's p99 target, in µs.
const P99_US: f64 = 200.0;

pub fn run(s: &Settings, progress: &Progress) -> Res<Section> {
    let b = s.burst_edits;
    // The plugin paces itself with the bench's quotas from the start: the burst's call count is
    // what a production plugin would make.
    let world = BenchWorld::start_with(s, &[ALICE], Setup::FastGoogle)?;
    let user = world.user("Ann")?;
    progress.say(&format!("burst: creating and syncing {b} contacts"));
    let ids = world.add_contacts(user.id, "burst", 0, b)?;
    let filter = world.filter(user.id, FILTER, "burst")?;
    world.connect(user.id, ALICE)?;
    world.settle()?;
    world.enable(user.id, filter, ALICE)?;
    world.settle()?;
    world.one_tick()?;
    world.measure_as_set(s)?;
    let mut contacts = Vec::with_capacity(b);
    for id in &ids {
        contacts.push(
            world
                .sim
                .crm()
                .contact(*id)
                .ok_or("a CRM contact vanished")?
                .contact,
        );
    }
    world.google.reset_stats()?;
    let retried_before = retries(&world);

    // A run that lists the whole account, under way when the burst starts.
    world.google.expire_sync_tokens()?;
    progress.say(&format!(
        "burst: {b} edits within {b} ms while a full-listing run goes on"
    ));
    let mark = MemoryMark::start();
    world.sim.clock().advance(6 * 60_000);
    world.sim.tick(world.sim.clock().now());
    let running_at_start = world.sim.pending_jobs() > 0;
    let window = Duration::from_millis(b as u64);
    let started = Instant::now();
    let mut samples = Vec::with_capacity(b);
    for (i, mut contact) in contacts.into_iter().enumerate() {
        // Edit i is due at i/B of the window: an even burst, not a tight loop.
        let due = started + window.mul_f64(i as f64 / b as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        contact.position = format!("Burst {i}").as_str().into();
        let t = Instant::now();
        world
            .sim
            .update_contact(user.id, contact)
            .map_err(|e| format!("burst edit {i}: {e}"))?;
        samples.push(t.elapsed());
    }
    let burst_secs = started.elapsed().as_secs_f64();
    world.settle()?;
    let memory = mark.finish();
    let stats = world.google.stats()?;
    let (p50, p99, max) = percentiles(&mut samples);
    let listings = stats.count("people.people.connections.list");
    let burst_calls = people_calls(&stats).saturating_sub(listings);
    let writes = stats.count("people.people.batchUpdateContacts");
    let reads = stats.count("people.people.getBatchGet");
    let bound = bounds::pages(b, BATCH);
    let reached = world
        .google
        .contacts(ALICE)
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|p| {
            p.pointer("/organizations/0/title")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("Burst "))
        })
        .count();

    let mut section = Section::new(
        "burst",
        &format!(
            "9. Burst: {b} CRM edits within {:.1} s while a sync runs",
            window.as_secs_f64()
        ),
    );
    section.bounds = vec![
        format!(
            "The burst starts right after a tick whose run lists the whole account (sync tokens expired: \
             ceil({b}/1000) pages); the edits' own runs follow while the burst lasts. Edits touch {b} \
             distinct synced contacts (their job title), evenly spread over the window."
        ),
        format!(
            "Hook = `Sim::update_contact` (CRM update + `on_contact_changed`), an upper bound of the hook \
             as in scenario 5, timed during the burst. Target p99 ≤ {P99_US:.0} µs."
        ),
        format!(
            "Calls bound = ceil({b}/200) `batchUpdateContacts` = {bound}; target ≤ bound + 5 = {}. The \
             figure is every People call from the tick to the last run's end except the listings \
             (which the tick makes whether or not the CRM changed).",
            bound + 5
        ),
        super::MEMORY_NOTE.into(),
    ];
    section
        .rows
        .push(Row::new("Hook p99 during the burst", Kind::Latency, "µs", p99).target(Target::AtMost(P99_US)));
    section
        .rows
        .push(Row::new("Hook p50 during the burst", Kind::Latency, "µs", p50));
    section
        .rows
        .push(Row::new("Hook max during the burst", Kind::Latency, "µs", max));
    section.rows.push(
        Row::new(
            "Google calls carrying the burst",
            Kind::Calls,
            "",
            burst_calls as f64,
        )
        .bound(bound as f64)
        .target(Target::AtMost((bound + 5) as f64)),
    );
    section
        .rows
        .push(Row::new("of which batchUpdateContacts", Kind::Calls, "", writes as f64).bound(bound as f64));
    section.rows.push(Row::new(
        "of which people:batchGet",
        Kind::Calls,
        "",
        reads as f64,
    ));
    section.rows.push(
        Row::new("Edits that reached Google", Kind::Count, "", reached as f64)
            .target(Target::Equal(b as f64)),
    );
    section
        .rows
        .push(Row::new("Burst duration", Kind::Time, "s", burst_secs));
    report_retries(&mut section, &retried_before, &retries(&world));
    memory.rows(&mut section, MemoryTargets::default());
    section.methods = methods(&stats);
    if !running_at_start {
        section
            .notes
            .push("The tick's run had already ended when the burst started.".into());
    }
    if reads > 0 {
        section.notes.push(format!(
            "{reads} `people:batchGet`: a CRM edit is written on Google's copy of the contact kept from \
             its last listing or write; a contact whose kept copy is not the version its link agreed on \
             (a listing that lagged behind our write, a membership change, a write refused as stale) is \
             read first, 200 per call."
        ));
    }
    let errors = world.sim.hook_errors();
    if !errors.is_empty() {
        section
            .notes
            .push(format!("{} hook errors; first: {}", errors.len(), errors[0]));
    }
    super::explain_miss(&mut section, "Hook p99 during the burst", super::HOOK_TAIL);
    Ok(section)
}
