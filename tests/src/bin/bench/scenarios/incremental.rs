//! Scenario 3: after the first sync, 100 edits on each side — Google edits through the control
//! API (as a person in Google's web UI), CRM edits through `Sim::update_contact` — then one tick.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::first_sync::{prepared, PEAK_MB};
use super::{
    methods, people_calls, report_retries, retries, MemoryMark, MemoryTargets, Progress, ALICE, MEMORY_NOTE,
};
use crate::bounds;
use crate::report::{Kind, Row, Section, Target};
use crate::world::{email, Res};
use crate::Settings;

/// Edits per side (fewer when the world has under 200 contacts).
const EDITS: usize = 100;

pub fn run(s: &Settings, progress: &Progress) -> Res<Section> {
    let a = prepared(s, "incremental", progress)?;
    let world = &a.world;
    let k = EDITS.min(a.ids.len() / 2);
    let by_email: HashMap<String, String> = world
        .google
        .contacts(ALICE)
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|p| Some((str_at(p, "/emailAddresses/0/value")?, str_at(p, "/resourceName")?)))
        .collect();
    // The first tick after the first sync: its delta listing is the first since the sync token
    // taken before the creates, so it may carry the plugin's own creates. Measured apart, so the
    // scenario below is the steady state.
    world.settle()?;
    world.google.reset_stats()?;
    world.one_tick()?;
    let first_tick = world.google.stats()?;
    world.google.reset_stats()?;
    progress.say(&format!("incremental: {k} Google edits, {k} CRM edits, one tick"));

    let retried_before = retries(world);
    let mark = MemoryMark::start();
    // Google edits first: the CRM edits start a run at once (the plugin pushes CRM changes
    // without waiting for a tick), and that run's listing then sees these too.
    for i in k..2 * k {
        let rn = by_email
            .get(&email(i))
            .ok_or_else(|| format!("no Google contact for {}", email(i)))?;
        let bio =
            json!({"biographies": [{"value": format!("Edited in Google {i}"), "contentType": "TEXT_PLAIN"}]});
        world
            .google
            .edit_contact(ALICE, rn, &bio)
            .map_err(|e| format!("Google edit {i}: {e}"))?;
    }
    for (i, id) in a.ids.iter().enumerate().take(k) {
        let mut contact = world
            .sim
            .crm()
            .contact(*id)
            .ok_or("a CRM contact vanished")?
            .contact;
        contact.position = format!("Edited in CRM {i}").as_str().into();
        world
            .sim
            .update_contact(a.user.id, contact)
            .map_err(|e| format!("CRM edit {i}: {e}"))?;
    }
    world.settle()?;
    world.one_tick()?;
    let memory = mark.finish();

    let stats = world.google.stats()?;
    let calls = people_calls(&stats);
    let bound = bounds::incremental_calls(k);
    let listings = stats.count("people.people.connections.list");
    let crm_done = a.ids[k..2 * k]
        .iter()
        .filter(|id| {
            world
                .sim
                .crm()
                .contact(**id)
                .is_some_and(|r| r.contact.notes.as_str().starts_with("Edited in Google"))
        })
        .count();
    let google_done = world
        .google
        .contacts(ALICE)
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|p| str_at(p, "/organizations/0/title").is_some_and(|t| t.starts_with("Edited in CRM")))
        .count();

    let mut section = Section::new(
        "incremental",
        &format!("3. Incremental: {k} edits on each side, then one tick"),
    );
    section.bounds = vec![
        format!(
        "Calls bound = 1 `connections.list` (sync-token delta, carries the Google edits) + ceil({k}/200) \
         `batchUpdateContacts` = {bound}: a CRM edit is merged and written on Google's copy of the contact \
         kept from its last listing or write, with that copy's etag, so it needs no `people:batchGet` \
         (a contact changed in Google since would be refused as stale, then read). The Google edits cost \
         no further Google call. The figure counts every call from the first edit until the tick's run \
         is done."
    ),
        "Setup: the first sync ran with no latency and no quota (the plugin keeps pacing itself at that \
         rate); the fake Google then took the bench's latency and quotas."
            .into(),
        MEMORY_NOTE.into(),
        format!("Target: host-sim's peak ≤ {PEAK_MB:.0} MB, the CRM's N contacts included."),
    ];
    section.rows.push(
        Row::new("Google calls", Kind::Calls, "", calls as f64)
            .bound(bound as f64)
            .target(Target::Equal(bound as f64)),
    );
    section
        .rows
        .push(Row::new("of which listings (= runs)", Kind::Calls, "", listings as f64).bound(1.0));
    section.rows.push(
        Row::new(
            "of which batchGet + writes",
            Kind::Calls,
            "",
            calls.saturating_sub(listings) as f64,
        )
        .bound((bound - 1) as f64)
        .target(Target::Equal((bound - 1) as f64)),
    );
    report_retries(&mut section, &retried_before, &retries(world));
    section.rows.push(
        Row::new(
            "Google edits that reached the CRM",
            Kind::Count,
            "",
            crm_done as f64,
        )
        .target(Target::Equal(k as f64)),
    );
    section.rows.push(
        Row::new(
            "CRM edits that reached Google",
            Kind::Count,
            "",
            google_done as f64,
        )
        .target(Target::Equal(k as f64)),
    );
    section.rows.push(
        Row::new(
            "Before: first tick after the first sync",
            Kind::Calls,
            "",
            people_calls(&first_tick) as f64,
        )
        .bound(1.0),
    );
    memory.rows(
        &mut section,
        MemoryTargets {
            peak: Some(PEAK_MB),
            growth: None,
        },
    );
    section.notes.push(format!(
        "The first tick after the first sync (before the edits, not part of the figure above) used: {}.",
        crate::report::methods_text(&methods(&first_tick))
    ));
    section.methods = methods(&stats);
    if listings > 1 {
        section.notes.push(format!(
            "{listings} listings: the plugin starts a run as soon as the first CRM edit lands; edits \
             arriving while it runs ask for one more run (another delta listing), and the tick's run lists once more \
             even when nothing is left to do."
        ));
    }
    super::explain_miss(
        &mut section,
        "Peak RSS of host-sim during the run",
        super::LINKS_MEMORY,
    );
    Ok(section)
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}
