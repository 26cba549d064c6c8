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
