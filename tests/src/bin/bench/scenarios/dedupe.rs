//! Scenario 2: the first sync against an account that already holds the same N contacts (same
//! names and emails, seeded through the fake's control API before enabling). Every contact
//! must be matched by email, none created.

use super::first_sync::{GOOGLE_PEAK_MB, PEAK_MB};
use super::{
    creates, measure_enable, methods, people_calls, report_retries, retries, EnableRun, MemoryTargets,
    Progress, ALICE, MEMORY_NOTE,
};
use crate::bounds;
use crate::report::{Kind, Row, Section, Target};
use crate::sys;
use crate::world::{seed_google, BenchWorld, Res};
use crate::Settings;

const FILTER: &str = "Bench contacts";

pub fn run(s: &Settings, progress: &Progress) -> Res<Section> {
    let n = s.contacts;
    let world = BenchWorld::start(s, &[ALICE])?;
    progress.say(&format!("dedupe: seeding Google with {n} contacts"));
    seed_google(&world.google, ALICE, n)?;
    let user = world.user("Ann")?;
    progress.say(&format!("dedupe: creating {n} CRM contacts"));
    world.add_contacts(user.id, "bench", 0, n)?;
    let filter = world.filter(user.id, FILTER, "bench")?;
    world.connect(user.id, ALICE)?;
    world.settle()?;
    let EnableRun {
        wall,
        cpu,
        memory,
        google_peak,
        retried_before,
        stats,
    } = measure_enable(&world, user.id, filter, "dedupe", progress)?;

    let calls = people_calls(&stats);
    let bound = bounds::dedupe_calls(n);
    // The brief's target: listing pages + update batches + 5, setup included in the 5.
    let target = bound - 2 + 5;
    let (reads, writes) = bounds::dedupe_reads_writes(n);
    let wall_bound = bounds::wall_secs(s, reads, writes);
    let group = world.group(ALICE, FILTER)?;
    let members = world.members(ALICE, &group)?;
    let total = world.google.contacts(ALICE).map_err(|e| e.to_string())?.len();

    let mut section = Section::new(
        "dedupe",
        &format!("2. First sync against an account already holding the same {n} contacts"),
    );
    section.bounds = vec![
        format!(
            "Calls bound = ceil(N/1000) `connections.list` pages + ceil(N/1000) \
             `contactGroups.members.modify` (each matched contact must join the group; its fields \
             already match, so nothing else needs writing) + 2 setup calls (`contactGroups.list`, \
             `contactGroups.create`) = {bound}. Target: ≤ listing pages + update batches + 5 = {target}."
        ),
        format!(
            "Wall bound: the formula of scenario 1 with {reads} reads and {writes} writes = \
             {wall_bound:.1} s (reported, no target)."
        ),
        MEMORY_NOTE.into(),
        format!("Target: host-sim's peak ≤ {PEAK_MB:.0} MB, the CRM's N contacts included."),
    ];
    section.rows.push(
        Row::new(
            "Contacts created in Google",
            Kind::Count,
            "",
            creates(&stats) as f64,
        )
        .target(Target::Equal(0.0)),
    );
    section.rows.push(
        Row::new("Google calls", Kind::Calls, "", calls as f64)
            .bound(bound as f64)
            .target(Target::AtMost(target as f64)),
    );
    section
        .rows
        .push(Row::new("Wall time", Kind::Time, "s", wall).bound(wall_bound));
    section.rows.push(
        Row::new(
            "Contacts in the group afterwards",
            Kind::Count,
            "",
            members as f64,
        )
        .target(Target::Equal(n as f64)),
    );
    section.rows.push(
        Row::new(
            "Contacts in the account afterwards",
            Kind::Count,
            "",
            total as f64,
        )
        .target(Target::Equal(n as f64)),
    );
    memory.rows(
        &mut section,
        MemoryTargets {
            peak: Some(PEAK_MB),
            growth: None,
        },
    );
    section.rows.push(
        Row::new(
            "Peak RSS of the fake Google's own process (not host-sim)",
            Kind::Memory,
            "MB",
            sys::mb(google_peak),
        )
        .target(Target::AtMost(GOOGLE_PEAK_MB)),
    );
    // CPU far above what serving the calls takes points at local work, not Google, as the
    // reason for a wall time over its bound.
    section.rows.push(Row::new(
        "CPU time of the process during the run",
        Kind::Time,
        "s",
        cpu,
    ));
    report_retries(&mut section, &retried_before, &retries(&world));
    section.methods = methods(&stats);
    let errors = world.sim.hook_errors();
    if !errors.is_empty() {
        section.notes.push(format!("Hook errors: {}", errors.join(" | ")));
    }
    super::explain_miss(
        &mut section,
        "Peak RSS of host-sim during the run",
        super::FULL_RUN_MEMORY,
    );
    Ok(section)
}
