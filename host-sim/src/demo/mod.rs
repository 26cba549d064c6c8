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

pub const USAGE: &str = "host-sim demo --plugin-dir DIR [--contacts N] [--state-dir DIR]";
const DEFAULT_CONTACTS: usize = 3000;
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

/// Parses `demo`'s arguments (`--flag value` or `--flag=value`).
pub fn parse_args(args: &[String]) -> Result<DemoOptions, String> {
    let usage = |message: String| format!("{message}\nUsage: {USAGE}");
    let mut plugin_dir = None;
    let mut contacts = DEFAULT_CONTACTS;
    let mut state_dir = None;
    let mut it = args.iter().peekable();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(usage(format!("unexpected argument \"{arg}\"")));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        if !["plugin-dir", "contacts", "state-dir"].contains(&name) {
            return Err(usage(format!("unknown option --{name}")));
        }
        // A following flag is not taken as the value: `--plugin-dir --contacts 5` is a mistake.
        let value = match inline.or_else(|| it.next_if(|v| !v.starts_with("--")).cloned()) {
            Some(v) if !v.is_empty() => v,
            _ => return Err(usage(format!("--{name} needs a value"))),
        };
        match name {
            "plugin-dir" => plugin_dir = Some(PathBuf::from(value)),
            "state-dir" => state_dir = Some(PathBuf::from(value)),
            _ => {
                contacts = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (MIN_CONTACTS..=MAX_CONTACTS).contains(n))
                    .ok_or_else(|| {
                        usage(format!(
                            "--contacts must be a whole number from {MIN_CONTACTS} to {MAX_CONTACTS}, not \"{value}\""
                        ))
                    })?;
            }
        }
    }
    let plugin_dir = plugin_dir.ok_or_else(|| usage("--plugin-dir is required".into()))?;
    Ok(DemoOptions {
        plugin_dir,
        contacts,
        state_dir,
    })
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags_in_both_forms() {
        let o = parse_args(&args(&[
            "--plugin-dir",
            "/p",
            "--contacts=200",
            "--state-dir",
            "/s",
        ]))
        .unwrap();
        assert_eq!(
            o,
            DemoOptions {
                plugin_dir: "/p".into(),
                contacts: 200,
                state_dir: Some("/s".into())
            }
        );
        assert_eq!(
            parse_args(&args(&["--plugin-dir=/p"])).unwrap().contacts,
            DEFAULT_CONTACTS
        );
    }

    #[test]
    fn explains_bad_arguments() {
        let error = |a: &[&str]| parse_args(&args(a)).unwrap_err();
        assert!(error(&[]).starts_with("--plugin-dir is required"));
        assert!(error(&["--plugin-dir"]).starts_with("--plugin-dir needs a value"));
        assert!(error(&["--plugin-dir", "--contacts", "50"]).starts_with("--plugin-dir needs a value"));
        assert!(error(&["--plugin-dir", "/p", "--contacts", "many"]).contains("not \"many\""));
        assert!(error(&["--plugin-dir", "/p", "--contacts", "5"]).contains("from 20 to 50000"));
        assert!(error(&["--plugin-dir", "/p", "--verbose"]).starts_with("unknown option --verbose"));
        assert!(error(&["plugins"]).starts_with("unexpected argument \"plugins\""));
        assert!(error(&[]).contains(USAGE));
    }

    #[test]
    fn a_non_empty_state_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("crm.journal"), "x").unwrap();
        let error = StateDir::prepare(Some(dir.path())).err().unwrap();
        assert!(error.contains("is not empty"), "{error}");
    }
}
