//! Scenario 5: the cost of `on_contact_changed` on the host thread.
//!
//! host-sim offers no way to call a plugin hook alone (the loaded instance is private to
//! `Sim`), so this times `Sim::update_contact` — the CRM's update plus the hook — on a contact
//! of a synced filter, which is an upper bound of the hook, and times the CRM's own update
//! (`Crm::update_contact`, no hook) the same way to show how much of it is the CRM.

use std::time::{Duration, Instant};

use super::first_sync::{prepared, PEAK_MB};
use super::{MemoryMark, MemoryTargets, Progress, MEMORY_NOTE};
use crate::report::{Kind, Row, Section, Target};
use crate::world::Res;
use crate::Settings;

pub fn run(s: &Settings, progress: &Progress) -> Res<Section> {
    let calls = s.hook_calls;
    let a = prepared(s, "hook", progress)?;
    let world = &a.world;
    world.one_tick()?;
    let id = *a.ids.first().ok_or("no contact to edit")?;
    // The same content each time: the hook's work does not depend on it, and the runs it starts
    // then find nothing to write, so the timing is not competing with thousands of Google writes.
    let contact = world.sim.crm().contact(id).ok_or("the contact vanished")?.contact;
    progress.say(&format!(
        "hook: {calls} × Sim::update_contact, then {calls} × Crm::update_contact"
    ));
    let time = |f: &dyn Fn() -> Result<(), String>| -> Res<Vec<Duration>> {
        // A short warm-up so first-touch costs (page faults, statement caches) stay out.
        for _ in 0..calls.min(200) {
            f()?;
        }
        (0..calls)
            .map(|_| {
                let started = Instant::now();
                f().map(|()| started.elapsed())
            })
            .collect()
    };
    let mark = MemoryMark::start();
    let mut with_hook = time(&|| {
        world
            .sim
            .update_contact(a.user.id, contact.clone())
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    world.settle()?;
    let mut crm_only = time(&|| {
        world
            .sim
            .crm()
            .update_contact(a.user.id, contact.clone())
            .map(drop)
            .map_err(|e| e.to_string())
    })?;
    let memory = mark.finish();
    let (p50, p99, max) = percentiles(&mut with_hook);
    let (c50, c99, cmax) = percentiles(&mut crm_only);

    let mut section = Section::new(
        "hook",
        &format!("5. on_contact_changed on the host thread ({calls} calls)"),
    );
    section.bounds = vec![
        "Figure = `Sim::update_contact` (CRM update + the plugin hook) on a contact of a synced filter: an \
         **upper bound** of the hook, since host-sim exposes no way to call the hook alone. The CRM's own \
         update is timed alone below; the difference estimates the hook."
            .into(),
        "Includes the contact's clone; measured while the plugin's background runs (started by the hook) \
         share the CPUs."
            .into(),
        MEMORY_NOTE.into(),
    ];
    section
        .rows
        .push(Row::new("p50 (update + hook)", Kind::Latency, "µs", p50));
    section
        .rows
        .push(Row::new("p99 (update + hook)", Kind::Latency, "µs", p99).target(Target::AtMost(200.0)));
    section
        .rows
        .push(Row::new("max (update + hook)", Kind::Latency, "µs", max));
    section
        .rows
        .push(Row::new("p50 (CRM update alone)", Kind::Latency, "µs", c50));
    section
        .rows
        .push(Row::new("p99 (CRM update alone)", Kind::Latency, "µs", c99));
    section
        .rows
        .push(Row::new("max (CRM update alone)", Kind::Latency, "µs", cmax));
    memory.rows(
        &mut section,
        MemoryTargets {
            peak: Some(PEAK_MB),
            growth: None,
        },
    );
    section.notes.push(format!(
        "Estimated hook cost: p50 {:.1} µs, p99 {:.1} µs (differences of the percentiles).",
        (p50 - c50).max(0.0),
        (p99 - c99).max(0.0)
    ));
    let errors = world.sim.hook_errors();
    if !errors.is_empty() {
        section
            .notes
            .push(format!("{} hook errors; first: {}", errors.len(), errors[0]));
    }
    super::explain_miss(
        &mut section,
        "Peak RSS of host-sim during the run",
        super::LINKS_MEMORY,
    );
    super::explain_miss(&mut section, "p99 (update + hook)", super::HOOK_TAIL);
    Ok(section)
}

/// p50, p99 and max in microseconds.
pub fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1e6
    };
    (at(0.50), at(0.99), at(1.0))
}
