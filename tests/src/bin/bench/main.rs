//! `bench`: measures the real plugin library inside host-sim against the fake Google with
//! per-call latency and per-user quotas, compares each figure with its lower bound, and writes
//! `BENCHMARKS.md`.
//!
//! ```text
//! cargo build --release -p tests --bin bench -p crm-google-plugin --lib
//! cargo run --release -p tests --bin bench -- [--contacts N] [--latency-ms 80] [--quick] \
//!     [--write BENCHMARKS.md]
//! ```
//!
//! Each scenario runs in a fresh process (this binary started again with `--scenario ID`), so
//! that host-sim's memory figures are that scenario's alone; the process prints its sections as
//! JSON lines, and this one gathers, prints and writes them.

mod bounds;
mod google;
mod report;
mod scenarios;
mod sys;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;

use scenarios::Progress;

/// What one bench run uses.
#[derive(Debug, Clone)]
pub struct Settings {
    pub contacts: usize,
    pub latency_ms: u64,
    pub read_quota: u32,
    pub write_quota: u32,
    pub hook_calls: usize,
    /// Users (one binding and one Google account each) of the many-users idle scenario.
    pub idle_users: usize,
    /// CRM edits of the burst scenario (within as many milliseconds).
    pub burst_edits: usize,
    pub quick: bool,
    pub plugin: PathBuf,
    pub write: Option<PathBuf>,
    /// Scenario ids to run (see [`SCENARIOS`]); empty = all.
    pub only: Vec<String>,
}

impl Settings {
    fn wants(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == id)
    }
}

/// Section ids, in the report's order.
const SCENARIOS: [&str; 10] = [
    "first_sync",
    "dedupe",
    "incremental",
    "idle",
    "hook",
    "memory",
    "four_accounts",
    "idle_many",
    "burst",
    "preview",
];

/// The processes the bench starts, each with the sections it reports (`memory` is the first
/// sync's memory, so it comes from the first sync's process).
const PROCESSES: [(&str, &[&str]); 9] = [
    ("first_sync", &["first_sync", "memory"]),
    ("dedupe", &["dedupe"]),
    ("incremental", &["incremental"]),
    ("idle", &["idle"]),
    ("hook", &["hook"]),
    ("four_accounts", &["four_accounts"]),
    ("idle_many", &["idle_many"]),
    ("burst", &["burst"]),
    ("preview", &["preview"]),
];

/// The flag that makes this binary run one scenario process.
const SCENARIO_FLAG: &str = "--scenario";
/// The prefix of a scenario process's stdout lines that carry a section.
const SECTION_LINE: &str = "section\t";

const USAGE: &str =
    "usage: bench [--contacts N] [--latency-ms MS] [--read-quota PER_MIN] [--write-quota PER_MIN]
             [--hook-calls N] [--idle-users N] [--burst-edits N] [--quick] [--write FILE]
             [--plugin PATH] [--only ID,ID…]

  --quick   1,000 contacts, no latency, 100,000 calls/min quotas, 1,000 hook calls, 100 idle
            users, 1,000 burst edits (explicit options given with it still apply)
  --only    first_sync, memory, dedupe, incremental, idle, hook, four_accounts, idle_many, burst,
            preview
            (first_sync and memory share one run)";

fn parse(args: &[String]) -> Result<Settings, String> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut s = if quick {
        Settings {
            contacts: 1000,
            latency_ms: 0,
            read_quota: 100_000,
            write_quota: 100_000,
            hook_calls: 1000,
            idle_users: 100,
            burst_edits: 1000,
            quick,
            plugin: PathBuf::new(),
            write: None,
            only: Vec::new(),
        }
    } else {
        Settings {
            contacts: 25_000,
            latency_ms: 80,
            read_quota: 90,
            write_quota: 60,
            hook_calls: 100_000,
            idle_users: 1000,
            burst_edits: 10_000,
            quick,
            plugin: PathBuf::new(),
            write: None,
            only: Vec::new(),
        }
    };
    let mut plugin = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        let number = |v: &String| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{arg}: \"{v}\" is not a number"))
        };
        let positive = |n: u64| {
            if n == 0 {
                Err(format!("{arg} must be at least 1"))
            } else {
                Ok(n)
            }
        };
        match arg.as_str() {
            "--quick" => {}
            "--contacts" => s.contacts = positive(number(value()?)?)? as usize,
            "--latency-ms" => s.latency_ms = number(value()?)?,
            "--read-quota" => {
                s.read_quota = u32::try_from(positive(number(value()?)?)?).map_err(|e| e.to_string())?
            }
            "--write-quota" => {
                s.write_quota = u32::try_from(positive(number(value()?)?)?).map_err(|e| e.to_string())?
            }
            "--hook-calls" => s.hook_calls = positive(number(value()?)?)? as usize,
            "--idle-users" => s.idle_users = positive(number(value()?)?)? as usize,
            "--burst-edits" => s.burst_edits = positive(number(value()?)?)? as usize,
            "--write" => s.write = Some(PathBuf::from(value()?)),
            "--plugin" => plugin = Some(PathBuf::from(value()?)),
            "--only" => {
                for id in value()?.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                    if !SCENARIOS.contains(&id) {
                        return Err(format!("--only: unknown scenario \"{id}\"\n{USAGE}"));
                    }
                    s.only.push(id.to_string());
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    s.plugin = match plugin.or_else(world::find_plugin) {
        Some(p) if p.is_file() => p,
        Some(p) => return Err(format!("no plugin library at {}", p.display())),
        None => {
            return Err(format!(
                "The plugin library ({}crm_google_contacts{}) was not found next to this executable or \
                 above it.\n\
                 Build it together with the bench:\n  \
                 cargo build --release -p tests --bin bench -p crm-google-plugin --lib\n\
                 (or pass --plugin PATH)",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ))
        }
    };
    Ok(s)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, config] = args.as_slice() {
        if flag == google::SERVE_FLAG {
            return google::serve(config);
        }
    }
    // `--scenario ID` (first): run one scenario process and print its sections.
    let (process, args) = match args.split_first() {
        Some((flag, rest)) if flag == SCENARIO_FLAG => match rest.split_first() {
            Some((id, rest)) => (Some(id.clone()), rest.to_vec()),
            None => {
                eprintln!("{SCENARIO_FLAG} needs a scenario id");
                return ExitCode::from(2);
            }
        },
        _ => (None, args),
    };
    let settings = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = match process {
        Some(id) => run_process(&settings, &id),
        None => run(&settings, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Inside a scenario process: runs it and prints each section as one JSON line.
fn run_process(s: &Settings, id: &str) -> Result<(), String> {
    let progress = Progress::new();
    let sections = match id {
        "first_sync" => {
            let (first, memory) = scenarios::first_sync::run(s, &progress)?;
            vec![first, memory]
        }
        "dedupe" => vec![scenarios::dedupe::run(s, &progress)?],
        "incremental" => vec![scenarios::incremental::run(s, &progress)?],
        "idle" => vec![scenarios::idle::run(s, &progress)?],
        "hook" => vec![scenarios::hook::run(s, &progress)?],
        "four_accounts" => vec![scenarios::four_accounts::run(s, &progress)?],
        "idle_many" => vec![scenarios::idle_many::run(s, &progress)?],
        "burst" => vec![scenarios::burst::run(s, &progress)?],
        "preview" => vec![scenarios::preview::run(s, &progress)?],
        other => return Err(format!("unknown scenario process \"{other}\"")),
    };
    for section in &sections {
        let json = serde_json::to_string(section).map_err(|e| format!("section {}: {e}", section.id))?;
        println!("{SECTION_LINE}{json}");
    }
    Ok(())
}

/// Starts `bench --scenario ID ARGS…` and gathers the sections it prints. Its progress goes to
/// our stderr as it comes.
fn spawn_process(id: &str, args: &[String]) -> Result<Vec<report::Section>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("bench executable: {e}"))?;
    let output = std::process::Command::new(exe)
        .arg(SCENARIO_FLAG)
        .arg(id)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("starting the {id} process: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the {id} process failed ({}); its output:\n{stdout}",
            output.status
        ));
    }
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(SECTION_LINE))
        .map(|json| serde_json::from_str(json).map_err(|e| format!("a section of {id}: {e}")))
        .collect()
}

fn run(s: &Settings, args: &[String]) -> Result<(), String> {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let command = format!("cargo run --release -p tests --bin bench -- {}", args.join(" "));
    let header = vec![
        format!(
            "Machine: {}; load average at the start {} (other processes share the CPUs: a load above the \
             core count means wall times and the hook's tail include waiting for a CPU)",
            sys::machine(),
            sys::load_average()
        ),
        format!("Date: {}", sys::now_utc()),
        format!("Command: `{}`", command.trim_end()),
        format!(
            "Settings: N = {} contacts, latency L = {} ms per People call, quotas R = {} reads/min and \
             W = {} writes/min per user (fake and plugin alike), {} hook calls; {profile} build{}; plugin {}",
            s.contacts,
            s.latency_ms,
            s.read_quota,
            s.write_quota,
            s.hook_calls,
            if s.quick { ", quick mode" } else { "" },
            s.plugin.display()
        ),
        "Calls are People API requests counted by the fake (a batch counts once; a request refused with 429 \
         counts too); OAuth requests are not included."
            .into(),
    ];
    for h in &header {
        println!("{h}");
    }
    let mut sections = Vec::new();
    for (process, ids) in PROCESSES {
        if ids.iter().any(|id| s.wants(id)) {
            sections.extend(
                spawn_process(process, args)?
                    .into_iter()
                    .filter(|x| s.wants(&x.id)),
            );
        }
    }
    // The report follows the scenarios' numbers, whatever order they ran in.
    sections.sort_by_key(|x| SCENARIOS.iter().position(|id| *id == x.id));
    for section in &sections {
        section.print();
    }

    let failed = sections
        .iter()
        .flat_map(|x| &x.rows)
        .filter(|r| r.pass() == Some(false))
        .count();
    println!("\n{failed} target(s) missed.");
    if let Some(path) = &s.write {
        let footer = vec![
            format!("Load average at the end: {}.", sys::load_average()),
            format!(
            "Rebuild before running: `cargo build --release -p tests --bin bench -p crm-google-plugin \
             --lib`. `--quick` (N = 1,000, no latency, high quotas, 100 idle users, 1,000 burst edits) is what \
             `tests/tests/bench_small.rs` runs; its timings are not meaningful."
            ),
        ];
        std::fs::write(path, report::document(&header, &sections, &footer))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("Wrote {}", path.display());
    }
    Ok(())
}
