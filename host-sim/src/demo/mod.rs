//! `host-sim demo`: the product's story end to end. A fake Google and a CRM full of realistic
//! contacts start in-process, the real plugin is loaded from a plugin directory, a sales manager
//! connects her Google account through the real OAuth flow and syncs her "Key clients" filter;
//! then every two-way behaviour is shown *and checked*, and a table says what it cost in Google
//! API calls.

pub mod consent;
mod crm_data;
mod progress;
mod report;
mod story;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fake_google::{FakeGoogle, FakeGoogleConfig, Stats};
use crate::{Sim, SimConfig};

/// The plugin the demo drives, by the name it registers.
pub const PLUGIN: &str = "google-contacts";
/// The Google account the manager connects (one of the fake's test accounts).
pub const ACCOUNT: &str = "alice@example.com";

pub const DEFAULT_CONTACTS: usize = 3000;
/// Below this the seeded CRM may not hold enough key clients for every step of the story.
const MIN_CONTACTS: usize = 20;
/// The fake's per-account limit is 25,000 and about half the contacts are synced.
const MAX_CONTACTS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// The directory holding the plugin library, as a CRM admin would install it.
    pub plugin_dir: PathBuf,
    /// How many contacts the demo CRM holds; about half are synced.
    pub contacts: usize,
    /// Where the CRM keeps its data. `None`: a temporary directory, removed at the end.
    pub state_dir: Option<PathBuf>,
}

impl DemoOptions {
    pub fn new(plugin_dir: impl Into<PathBuf>) -> DemoOptions {
        DemoOptions {
            plugin_dir: plugin_dir.into(),
            contacts: DEFAULT_CONTACTS,
            state_dir: None,
        }
    }
}

/// Reads a `--contacts` value: enough contacts for every step of the story, and no more than
/// the fake Google holds.
pub fn parse_contacts(value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (MIN_CONTACTS..=MAX_CONTACTS).contains(n))
        .ok_or_else(|| format!("must be a whole number from {MIN_CONTACTS} to {MAX_CONTACTS}"))
}

/// How the first sync's progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressDisplay {
    /// An `indicatif` progress bar on the terminal.
    Bar,
    /// Plain lines, for logs, pipes and CI.
    Lines,
}

impl ProgressDisplay {
    /// A bar only for a person watching a terminal; CI logs and pipes get plain lines, which
    /// stay readable without escape codes.
    pub fn detect() -> ProgressDisplay {
        let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        if std::io::stdout().is_terminal() && !ci {
            ProgressDisplay::Bar
        } else {
            ProgressDisplay::Lines
        }
    }
}

/// Google API calls made during one step, from the fake's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub total: u64,
    pub reads: u64,
    pub writes: u64,
}

impl Calls {
    fn between(before: &Stats, after: &Stats) -> Calls {
        Calls {
            total: after.total.saturating_sub(before.total),
            reads: after.reads.saturating_sub(before.reads),
            writes: after.writes.saturating_sub(before.writes),
        }
    }
}

/// One step of the story, which passed (a failing step ends the demo with an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub name: String,
    /// A short account of what happened, for the summary table.
    pub outcome: String,
    pub calls: Calls,
}

#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub steps: Vec<StepReport>,
    pub steps_passed: usize,
    pub contacts_in_crm: usize,
    /// Contacts the first sync put in the Google group.
    pub contacts_synced: usize,
    pub first_sync: Duration,
    /// Every Google call of the run (reads, writes, per method).
    pub google: Stats,
}

/// Runs the demo, showing the first sync's progress as [`ProgressDisplay::detect`] decides.
pub fn run(options: &DemoOptions, out: &mut dyn Write) -> Result<DemoSummary, String> {
    run_with(options, out, ProgressDisplay::detect())
}

/// Runs the demo, writing the story to `out`; `Err` names the step that did not happen as told.
pub fn run_with(
    options: &DemoOptions,
    out: &mut dyn Write,
    display: ProgressDisplay,
) -> Result<DemoSummary, String> {
    // Declared first so it is dropped last: the directory goes only after the CRM has stopped.
    let state = StateDir::prepare(options.state_dir.as_deref())?;

    let google = FakeGoogle::start(
        "127.0.0.1:0",
        // Google's default quotas, and a small propagation delay so that edits show up in
        // listings a moment late, as on the real service.
        FakeGoogleConfig {
            propagation_delay_ms: 200,
            ..FakeGoogleConfig::default()
        },
    )
    .map_err(|e| format!("The fake Google could not start on 127.0.0.1: {e}"))?;
    let mut config = SimConfig::new(&options.plugin_dir, &state.path);
    // A manual clock that starts at the real time: the demo can jump past the plugin's
    // 5-minute check without waiting, and CRM and Google timestamps stay comparable.
    config.manual_clock = Some(abi::Millis(chrono::Utc::now().timestamp_millis()));
    config.plugin_config = crate::web::google_plugin_config(&google.base_url());
    let sim = Sim::start(config).map_err(|e| e.to_string())?;
    if !sim.plugin_names().iter().any(|n| n == PLUGIN) {
        return Err(format!(
            "The plugin directory {} holds no \"{PLUGIN}\" plugin (it holds: {}).",
            options.plugin_dir.display(),
            sim.plugin_names().join(", ")
        ));
    }

    let result = story::tell(
        &sim,
        &google.control(),
        &options.plugin_dir,
        options.contacts,
        display,
        out,
    );
    sim.shutdown();
    result
}

/// The CRM's state directory: the one given (which must be empty, as the demo builds its CRM
/// from scratch), or a temporary one removed on drop.
struct StateDir {
    path: PathBuf,
    temporary: bool,
}

impl StateDir {
    fn prepare(given: Option<&Path>) -> Result<StateDir, String> {
        if let Some(dir) = given {
            let non_empty = std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false);
            if non_empty {
                return Err(format!(
                    "The state directory {} is not empty. The demo builds its CRM from scratch: give an \
                     empty or new directory.",
                    dir.display()
                ));
            }
            return Ok(StateDir {
                path: dir.to_path_buf(),
                temporary: false,
            });
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("host-sim-demo-{}-{nanos}", std::process::id()));
        Ok(StateDir {
            path,
            temporary: true,
        })
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_must_let_the_story_be_told() {
        assert_eq!(parse_contacts("200"), Ok(200));
        assert_eq!(parse_contacts("20"), Ok(MIN_CONTACTS));
        assert_eq!(parse_contacts("50000"), Ok(MAX_CONTACTS));
        for refused in ["many", "5", "50001", "-20", ""] {
            let error = parse_contacts(refused).unwrap_err();
            assert!(error.contains("from 20 to 50000"), "{refused}: {error}");
        }
    }

    #[test]
    fn a_non_empty_state_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("crm.journal"), "x").unwrap();
        let error = StateDir::prepare(Some(dir.path())).err().unwrap();
        assert!(error.contains("is not empty"), "{error}");
    }
}
