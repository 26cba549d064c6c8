//! Scenario 1 (first sync of N CRM contacts into an empty account) and scenario 6 (peak RSS
//! during it, size of the mapping file after it); [`prepared`] builds the synced world that the
//! incremental, hook and burst scenarios start from.

use super::{
    measure_enable, methods, people_calls, report_retries, retries, EnableRun, MemoryTargets, Progress,
    ALICE, MEMORY_NOTE,
};
use crate::bounds;
use crate::report::{Kind, Row, Section, Target};
use crate::sys;
use crate::world::{BenchWorld, Res, Setup};
use crate::Settings;

/// A world of N contacts in one filter, synced with ALICE.
pub struct Synced {
    pub world: BenchWorld,
    pub user: abi::User,
    pub ids: Vec<abi::ContactId>,
}

pub const FILTER: &str = "Bench contacts";

/// Peak RSS target of host-sim for one account of N contacts, in MB.
pub const PEAK_MB: f64 = 150.0;

/// Peak RSS target of the fake Google's process with one account of N contacts, in MB.
pub const GOOGLE_PEAK_MB: f64 = 300.0;

/// A world whose first sync of N contacts is done, built fast (no latency, no quota) and then
/// given the bench's latency and quotas for what the caller measures.
pub fn prepared(s: &Settings, label: &str, progress: &Progress) -> Res<Synced> {
    let n = s.contacts;
    let world = BenchWorld::start_with(s, &[ALICE], Setup::Fast)?;
    let user = world.user("Ann")?;
    progress.say(&format!(
        "{label}: creating {n} CRM contacts and syncing them (fast setup)"
    ));
    let ids = world.add_contacts(user.id, "bench", 0, n)?;
    let filter = world.filter(user.id, FILTER, "bench")?;
    world.connect(user.id, ALICE)?;
    world.settle()?;
    world.enable(user.id, filter, ALICE)?;
    world.settle()?;
    world.measure_as_set(s)?;
    world.google.reset_stats()?;
    Ok(Synced { world, user, ids })
}

pub fn run(s: &Settings, progress: &Progress) -> Res<(Section, Section)> {
    let n = s.contacts;
    let world = BenchWorld::start(s, &[ALICE])?;
    let user = world.user("Ann")?;
    progress.say(&format!("first sync: creating {n} CRM contacts"));
    world.add_contacts(user.id, "bench", 0, n)?;
    let filter = world.filter(user.id, FILTER, "bench")?;
    world.connect(user.id, ALICE)?;
    world.settle()?;
    let EnableRun {
        wall,
        cpu,
        memory: mem,
        google_peak,
        retried_before,
        stats,
    } = measure_enable(&world, user.id, filter, "first sync", progress)?;

    let calls = people_calls(&stats);
    let group = world.group(ALICE, FILTER)?;
    let members = world.members(ALICE, &group)?;
    let bound = bounds::first_sync_calls(n);
    let (reads, writes) = bounds::first_sync_reads_writes(n);
    let wall_bound = bounds::wall_secs(s, reads, writes);

    let mut first = Section::new(
        "first_sync",
        &format!("1. First sync of {n} CRM contacts into an empty account"),
    );
    first.bounds = vec![
        format!(
            "Calls bound = ceil(N/200) batchCreateContacts + 3 setup calls (1 `connections.list` page \
             of the empty account, 1 `contactGroups.list` to look for the group, 1 \
             `contactGroups.create`) = {bound}."
        ),
        format!(
            "Wall bound = max(calls × L, (writes − 1) × 60/W + L, (reads − 1) × 60/R + L) with the \
             bound's own counts ({reads} reads, {writes} writes), L = {} ms, W = {}/min, R = {}/min: \
             {wall_bound:.1} s. Sustained-rate bound: quota is counted per calendar minute and the plugin \
             may burst a third of a minute's allowance, so a ratio slightly under 1 is possible.",
            s.latency_ms, s.write_quota, s.read_quota
        ),
    ];
    first.rows.push(
        Row::new("Google calls", Kind::Calls, "", calls as f64)
            .bound(bound as f64)
            .target(Target::AtMost((bound + 5) as f64)),
    );
    let mut wall_row = Row::new("Wall time", Kind::Time, "s", wall)
        .bound(wall_bound)
        .target(Target::AtMost(1.15 * wall_bound));
    if wall_bound < bounds::MEANINGFUL_WALL_SECS {
        wall_row = wall_row.not_judged("bound under 5 s: no latency/quota to speak of");
    }
    first.rows.push(wall_row);
    first.rows.push(
        Row::new(
            "Contacts in the group afterwards",
            Kind::Count,
            "",
            members as f64,
        )
        .target(Target::Equal(n as f64)),
    );
    // CPU far above what serving the calls takes points at local work, not Google, as the
    // reason for a wall time over its bound.
    first.rows.push(Row::new(
        "CPU time of the process during the run",
        Kind::Time,
        "s",
        cpu,
    ));
    report_retries(&mut first, &retried_before, &retries(&world));
    first.methods = methods(&stats);
    first.notes.push(format!(
        "{} OAuth calls (token refresh, userinfo) are not People calls and are not counted.",
        stats.total.saturating_sub(calls)
    ));
    let errors = world.sim.hook_errors();
    if !errors.is_empty() {
        first
            .notes
            .push(format!("Hook errors during the run: {}", errors.join(" | ")));
    }

    let [db, wal] = world.mapping_files();
    let (db_size, wal_size) = (sys::file_size(&db), sys::file_size(&wal));
    let mut memory = Section::new(
        "memory",
        &format!("6. Memory and mapping file for the first sync of {n}"),
    );
    memory.bounds = vec![
        MEMORY_NOTE.into(),
        format!(
            "Target: host-sim's peak ≤ {PEAK_MB:.0} MB with one account of N contacts (the CRM's N \
             contacts included)."
        ),
        "Mapping file = `{state_dir}/plugins/google-contacts/google-contacts.sqlite3` + `-wal`, right \
         after the run."
            .into(),
        "The fake Google's peak is VmHWM of its own process while it served the run, read before the \
         bench's checks dump every contact through its control API."
            .into(),
    ];
    mem.rows(
        &mut memory,
        MemoryTargets {
            peak: Some(PEAK_MB),
            growth: None,
        },
    );
    memory.rows.push(Row::new(
        "Mapping file (db + wal)",
        Kind::Size,
        "MB",
        sys::mb(db_size + wal_size),
    ));
    memory.rows.push(
        Row::new(
            "Peak RSS of the fake Google's own process (not host-sim)",
            Kind::Memory,
            "MB",
            sys::mb(google_peak),
        )
        .target(Target::AtMost(GOOGLE_PEAK_MB)),
    );
    memory.notes.push(format!(
        "db {:.1} MB + wal {:.1} MB",
        sys::mb(db_size),
        sys::mb(wal_size)
    ));
    Ok((first, memory))
}
