//! The first sync, shown as it runs. The progress comes from the plugin's own settings page (its
//! `Progress` widget), polled as the CRM's page would, so the demo shows what a user would see.

use std::io::Write;
use std::time::{Duration, Instant};

use abi::SettingsPage;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::{say, seconds, thousands};
use super::story::{Stage, Told};
use super::{ProgressDisplay, ACCOUNT};

const POLL: Duration = Duration::from_millis(100);
/// Plain lines at most this often, so a log gets a few lines rather than hundreds.
const LINE_EVERY: Duration = Duration::from_secs(1);
const GIVE_UP_AFTER: Duration = Duration::from_secs(15 * 60);

/// Enables two-way sync of the "Key clients" filter and follows its first run.
/// Returns how long it took and how many contacts the Google group holds.
pub(super) fn first_sync(
    stage: &Stage,
    display: ProgressDisplay,
    out: &mut dyn Write,
) -> Result<(Told, (Duration, usize)), String> {
    let filter = stage.crm.filter.id;
    let filter_text = filter.0.to_string();
    let started = Instant::now();
    let enabled = stage.action(
        SettingsPage::Filter(filter),
        "enable",
        &[
            ("account", ACCOUNT),
            ("filter", &filter_text),
            ("direction", "two_way"),
            ("policy", "latest_wins"),
        ],
    )?;
    say(out, &format!("        {}", enabled.message))?;

    let mut shown = Shown::new(display);
    loop {
        // A total of 0 means the run is still counting what it has to do.
        if let Some((done, total)) = stage.progress()?.filter(|(_, total)| *total > 0) {
            shown.update(done, total, out)?;
        }
        // Waiting for idle doubles as the poll interval.
        if stage.sim.wait_idle(POLL) {
            break;
        }
        if started.elapsed() > GIVE_UP_AFTER {
            shown.finish();
            return Err(format!(
                "the first sync was still running after {} min",
                GIVE_UP_AFTER.as_secs() / 60
            ));
        }
    }
    let took = started.elapsed();
    shown.finish();

    let expected = stage.crm.key_visible.len();
    let members = stage.group_members()?;
    if members != expected {
        let last_run = stage.fact("Last run")?.unwrap_or_default();
        return Err(format!(
            "Google's group holds {members} contacts but the filter selects {expected} that {} may see \
             (the plugin's last run: {last_run})",
            stage.crm.manager.name
        ));
    }
    let last_sync = stage.fact("Last sync")?.unwrap_or_default();
    if last_sync.is_empty() || last_sync == "not yet" {
        return Err("the filter page does not show a last sync after the first run".into());
    }
    // Always end with the final count, bar or not: a small sync may finish between two polls.
    let count = thousands(members as u64);
    say(
        out,
        &format!("        first sync: {count}/{count} contacts, done"),
    )?;
    let told = Told {
        detail: format!(
            "{} contacts in the group \"{}\" of {ACCOUNT} in {} (the key clients {} may see; \
             {}'s private ones stay out)",
            thousands(members as u64),
            super::crm_data::FILTER_NAME,
            seconds(took),
            stage.crm.manager.name,
            stage.crm.colleague.name
        ),
        outcome: format!(
            "{} contacts to Google in {}",
            thousands(members as u64),
            seconds(took)
        ),
    };
    Ok((told, (took, members)))
}

/// The progress display: a bar on a terminal, or occasional plain lines.
enum Shown {
    Bar(Option<ProgressBar>),
    Lines {
        last: Option<(u64, u64)>,
        at: Option<Instant>,
    },
}

impl Shown {
    fn new(display: ProgressDisplay) -> Shown {
        match display {
            ProgressDisplay::Bar => Shown::Bar(None),
            ProgressDisplay::Lines => Shown::Lines { last: None, at: None },
        }
    }

    fn update(&mut self, done: u64, total: u64, out: &mut dyn Write) -> Result<(), String> {
        match self {
            Shown::Bar(bar) => {
                // Created on the first progress report, when the total is known.
                let bar = bar.get_or_insert_with(|| {
                    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
                    if let Ok(style) = ProgressStyle::with_template(
                        "        first sync [{bar:40}] {pos}/{len} contacts ({elapsed})",
                    ) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar
                });
                bar.set_length(total);
                bar.set_position(done);
                Ok(())
            }
            Shown::Lines { last, at } => {
                let due = at.is_none_or(|t| t.elapsed() >= LINE_EVERY);
                if *last != Some((done, total)) && due {
                    *last = Some((done, total));
                    *at = Some(Instant::now());
                    say(
                        out,
                        &format!(
                            "        first sync: {}/{} contacts",
                            thousands(done),
                            thousands(total)
                        ),
                    )?;
                }
                Ok(())
            }
        }
    }

    /// Removes the bar so the story's next lines start on a clean line.
    fn finish(&mut self) {
        if let Shown::Bar(Some(bar)) = self {
            bar.finish_and_clear();
        }
    }
}
