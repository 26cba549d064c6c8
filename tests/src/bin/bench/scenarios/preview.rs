//! Scenario 10: a preview of enabling a filter of N contacts on an account that already holds
//! the same N (every contact would be matched), beside a full listing of that account timed by
//! the bench itself. A preview lists Google in full and writes nothing.

use std::time::Instant;

use abi::SettingsPage;

use super::{methods, people_calls, MemoryMark, MemoryTargets, Progress, ALICE, MEMORY_NOTE};
use crate::bounds;
use crate::report::{Kind, Row, Section, Target};
use crate::world::{seed_google, BenchWorld, Res, LIST_PAGE};
use crate::Settings;

const FILTER: &str = "Bench contacts";

pub fn run(s: &Settings, progress: &Progress) -> Res<Section> {
    let n = s.contacts;
    let world = BenchWorld::start(s, &[ALICE])?;
    progress.say(&format!("preview: seeding Google with {n} contacts"));
    seed_google(&world.google, ALICE, n)?;
    let user = world.user("Ann")?;
    world.add_contacts(user.id, "bench", 0, n)?;
    let filter = world.filter(user.id, FILTER, "bench")?;
    world.connect(user.id, ALICE)?;
    world.settle()?;
    world.google.reset_stats()?;
    world.google.reset_quota()?;

    progress.say("preview: previewing the first sync");
    let mark = MemoryMark::start();
    let started = Instant::now();
    let filter_text = filter.0.to_string();
    let fields = [
        ("account", ALICE),
        ("filter", filter_text.as_str()),
        ("preview", "true"),
    ];
    world.action(user.id, SettingsPage::Filter(filter), "enable", &fields)?;
    world.settle()?;
    let wall = started.elapsed().as_secs_f64();
    let memory = mark.finish();
    let stats = world.google.stats()?;
    let matched = matched_in_preview(&world, user.id, filter)?;

    progress.say("preview: timing a full listing of the same account");
    world.google.reset_quota()?;
    let started = Instant::now();
    let listing_calls = world.google.full_listing(ALICE)?;
    let listing_wall = started.elapsed().as_secs_f64();

    let pages = bounds::pages(n, LIST_PAGE);
    let bound = pages + 1;
    let mut section = Section::new(
        "preview",
        &format!("10. Preview of the first sync of {n} contacts against an account holding the same {n}"),
    );
    section.bounds = vec![
        format!(
            "Calls bound = ceil(N/1000) `connections.list` pages + 1 `contactGroups.list` (the group is looked \
             for, never made) = {bound}; writes must be 0."
        ),
        "Beside it, a full listing of the same account by the bench itself (pages of 1,000, the same latency \
         and quotas): the preview's wall time over the listing's is what planning adds."
            .into(),
        MEMORY_NOTE.into(),
    ];
    section.rows.push(
        Row::new(
            "Google calls of the preview",
            Kind::Calls,
            "",
            people_calls(&stats) as f64,
        )
        .bound(bound as f64)
        .target(Target::Equal(bound as f64)),
    );
    section
        .rows
        .push(Row::new("of which writes", Kind::Calls, "", stats.writes as f64).target(Target::Equal(0.0)));
    section.rows.push(
        Row::new(
            "Contacts in the preview, none created",
            Kind::Count,
            "",
            matched as f64,
        )
        .target(Target::Equal(n as f64)),
    );
    section
        .rows
        .push(Row::new("Wall time of the preview", Kind::Time, "s", wall));
    section.rows.push(
        Row::new(
            "Google calls of a full listing",
            Kind::Calls,
            "",
            listing_calls as f64,
        )
        .bound(pages as f64)
        .target(Target::Equal(pages as f64)),
    );
    section.rows.push(Row::new(
        "Wall time of a full listing",
        Kind::Time,
        "s",
        listing_wall,
    ));
    section.notes.push(format!(
        "The preview took {:.2}× the full listing's wall time ({wall:.1} s vs {listing_wall:.1} s).",
        wall / listing_wall.max(0.001)
    ));
    memory.rows(&mut section, MemoryTargets::default());
    section.methods = methods(&stats);
    Ok(section)
}

/// How many contacts the preview's totals say would be matched: the first sync of an account
/// holding the same contacts creates none, so every contact in the filter is a match.
fn matched_in_preview(world: &BenchWorld, user: abi::UserId, filter: abi::FilterId) -> Res<u64> {
    let view = world
        .sim
        .render_settings(tests::PLUGIN, user, SettingsPage::Filter(filter))
        .map_err(|e| format!("rendering the filter page: {}", e.message))?;
    let facts: Vec<(String, String)> = view
        .sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .filter_map(|w| match w {
            abi::Widget::Facts(f) => Some(f.iter().map(|f| (f.label.to_string(), f.value.to_string()))),
            _ => None,
        })
        .flatten()
        .collect();
    let fact = |label: &str| {
        facts
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("the preview shows no \"{label}\": {view:?}"))
    };
    let totals = tests::RunCounts::read(&fact("Totals")?);
    if totals.created_in_google != 0 || totals.errors != 0 {
        return Err(format!("the preview would create or fail: {totals:?}"));
    }
    fact("Contacts in the filter")?
        .parse()
        .map_err(|e| format!("contacts in the filter: {e}"))
}
