//! Scenario 4: 20 bindings spread over 3 Google accounts, one tick with nothing changed on
//! either side. The floor is one delta listing per account; nothing else should be called.

use std::time::Instant;

use super::first_sync::PEAK_MB;
use super::{methods, people_calls, MemoryMark, MemoryTargets, Progress, MEMORY_NOTE};
use crate::report::{Kind, Row, Section, Target};
use crate::sys;
use crate::world::{BenchWorld, Res};
use crate::Settings;

const ACCOUNTS: [&str; 3] = ["alice@example.com", "bob@example.com", "carol@example.com"];
const BINDINGS: usize = 20;
/// Contacts per bound filter: enough that every binding has a group with members.
const PER_FILTER: usize = 5;

pub fn run(s: &Settings, progress: &Progress) -> Res<Section> {
    let world = BenchWorld::start(s, &ACCOUNTS)?;
    let user = world.user("Ann")?;
    for account in ACCOUNTS {
        world.connect(user.id, account)?;
    }
    progress.say(&format!(
        "idle: {BINDINGS} bindings on {} accounts",
        ACCOUNTS.len()
    ));
    for b in 0..BINDINGS {
        let segment = format!("idle{b}");
        world.add_contacts(user.id, &segment, b * PER_FILTER, PER_FILTER)?;
        let filter = world.filter(user.id, &format!("Idle filter {b}"), &segment)?;
        world.enable(user.id, filter, ACCOUNTS[b % ACCOUNTS.len()])?;
    }
    world.settle()?;
    // One tick first, so that anything the first runs left due is done before measuring.
    world.one_tick()?;
    world.google.reset_stats()?;

    let mark = MemoryMark::start();
    let cpu_before = sys::cpu_time();
    let started = Instant::now();
    world.one_tick()?;
    let wall = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu_before);
    let memory = mark.finish();
    let stats = world.google.stats()?;
    let calls = people_calls(&stats);
    let bound = ACCOUNTS.len() as u64;

    let mut section = Section::new(
        "idle",
        &format!(
            "4. Idle tick: {BINDINGS} bindings on {} Google accounts",
            ACCOUNTS.len()
        ),
    );
    section.bounds = vec![
        format!("Calls bound = one `connections.list` (sync-token delta) per account = {bound}."),
        "CPU = user + system time of the host-sim process (getrusage) from delivering the tick until \
         its runs are done: the host and the plugin; the fake Google runs in its own process."
            .into(),
        MEMORY_NOTE.into(),
    ];
    section.rows.push(
        Row::new("Google calls", Kind::Calls, "", calls as f64)
            .bound(bound as f64)
            .target(Target::Equal(bound as f64)),
    );
    section.rows.push(Row::new(
        "CPU time for the tick",
        Kind::Time,
        "ms",
        cpu.as_secs_f64() * 1000.0,
    ));
    section.rows.push(Row::new(
        "Wall time for the tick",
        Kind::Time,
        "ms",
        wall.as_secs_f64() * 1000.0,
    ));
    memory.rows(
        &mut section,
        MemoryTargets {
            peak: Some(PEAK_MB),
            growth: None,
        },
    );
    section.methods = methods(&stats);
    let errors = world.sim.hook_errors();
    if !errors.is_empty() {
        section.notes.push(format!("Hook errors: {}", errors.join(" | ")));
    }
    Ok(section)
}
