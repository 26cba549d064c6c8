//! The six scenarios. World A (N contacts, one account) serves the first sync, its memory, the
//! incremental run and the hook timing; the dedupe and idle scenarios each get a fresh world.

pub mod dedupe;
pub mod first_sync;
pub mod hook;
pub mod idle;
pub mod incremental;

use std::collections::BTreeMap;
use std::time::Instant;

use host_sim::fake_google::Stats;

pub const ALICE: &str = "alice@example.com";

/// People API calls (reads + writes, a batch counting once); OAuth calls are not People calls.
pub fn people_calls(stats: &Stats) -> u64 {
    stats.reads + stats.writes
}

/// Per-method counts of the People API methods that were called.
pub fn methods(stats: &Stats) -> BTreeMap<String, u64> {
    stats
        .methods
        .iter()
        .filter(|(m, n)| m.starts_with("people.") && **n > 0)
        .map(|(m, n)| (m.clone(), *n))
        .collect()
}

/// Creates (single or batched) among the calls.
pub fn creates(stats: &Stats) -> u64 {
    stats.count("people.people.batchCreateContacts") + stats.count("people.people.createContact")
}

/// Google calls the plugin has retried so far (after a 429 or a 5xx), from its warnings in the
/// host's log. Compare two readings: the log keeps its last 50,000 lines only, which is plenty
/// for the warnings of one run.
pub fn retries(world: &crate::world::BenchWorld) -> Vec<String> {
    world
        .sim
        .logbook()
        .lines()
        .into_iter()
        .filter(|l| l.message.contains("retrying in"))
        .map(|l| l.message)
        .collect()
}

/// Adds a row and a note for the retries between two readings of [`retries`].
pub fn report_retries(section: &mut crate::report::Section, before: &[String], after: &[String]) {
    let new = &after[before.len().min(after.len())..];
    section.rows.push(crate::report::Row::new(
        "Calls retried after an error (429/5xx)",
        crate::report::Kind::Calls,
        "",
        new.len() as f64,
    ));
    if let Some(first) = new.first() {
        section.notes.push(format!("First retry: {first}"));
    }
}

/// What one enabling run cost, measured from the moment the user enables the filter until every
/// job is done.
pub struct EnableRun {
    pub wall: f64,
    /// CPU seconds of the host-sim process (host and plugin).
    pub cpu: f64,
    pub rss_before: u64,
    /// VmHWM after the run; the peak of the run itself when `peak_reset` held.
    pub peak: u64,
    pub peak_reset: bool,
    pub retried_before: Vec<String>,
    pub stats: Stats,
}

/// Enables `filter` on ALICE for `user` and measures the run it starts (`label` names it in
/// the progress lines). Google's counters are reset first, so `stats` is the run's alone.
pub fn measure_enable(
    world: &crate::world::BenchWorld,
    user: abi::UserId,
    filter: abi::FilterId,
    label: &str,
    progress: &Progress,
) -> crate::world::Res<EnableRun> {
    world.google.reset_stats()?;
    crate::sys::trim_heap();
    let rss_before = crate::sys::status_bytes("VmRSS").unwrap_or(0);
    let peak_reset = crate::sys::reset_peak_rss();
    progress.say(&format!("{label}: enabled, waiting for the run"));
    let cpu_before = crate::sys::cpu_time();
    let started = Instant::now();
    let retried_before = retries(world);
    world.enable(user, filter, ALICE)?;
    world.settle()?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = crate::sys::cpu_time().saturating_sub(cpu_before).as_secs_f64();
    let peak = crate::sys::status_bytes("VmHWM").unwrap_or(0);
    progress.say(&format!("{label}: done in {wall:.1} s"));
    Ok(EnableRun {
        wall,
        cpu,
        rss_before,
        peak,
        peak_reset,
        retried_before,
        stats: world.google.stats()?,
    })
}

/// Progress on stderr, so a run of several minutes shows where it is.
pub struct Progress(Instant);

impl Progress {
    pub fn new() -> Progress {
        Progress(Instant::now())
    }

    pub fn say(&self, what: &str) {
        eprintln!("[{:>7.1}s] {what}", self.0.elapsed().as_secs_f64());
    }
}
