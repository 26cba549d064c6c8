//! `bench`: measures the real plugin library inside host-sim against the fake Google with
//! per-call latency and per-user quotas, compares each figure with its lower bound, and writes
//! `BENCHMARKS.md`.
//!
//! ```text
//! cargo build --release -p tests --bin bench -p crm-google-plugin --lib
//! cargo run --release -p tests --bin bench -- [--contacts N] [--latency-ms 80] [--quick] \
//!     [--write BENCHMARKS.md]
//! ```

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
    pub quick: bool,
    pub plugin: PathBuf,
    pub write: Option<PathBuf>,
    /// Scenario ids to run (`first_sync`, `memory`, `incremental`, `hook`, `dedupe`, `idle`);
    /// empty = all.
    pub only: Vec<String>,
}

impl Settings {
    fn wants(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == id)
    }
}

const SCENARIOS: [&str; 6] = ["first_sync", "dedupe", "incremental", "idle", "hook", "memory"];

const USAGE: &str =
    "usage: bench [--contacts N] [--latency-ms MS] [--read-quota PER_MIN] [--write-quota PER_MIN]
             [--hook-calls N] [--quick] [--write FILE] [--plugin PATH] [--only ID,ID…]

  --quick   1,000 contacts, no latency, 100,000 calls/min quotas, 1,000 hook calls
            (explicit options given with it still apply)
  --only    first_sync, memory, incremental, hook, dedupe, idle (the first four share one world,
            so any of them runs the first sync)";

fn parse(args: &[String]) -> Result<Settings, String> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut s = if quick {
        Settings {
            contacts: 1000,
            latency_ms: 0,
            read_quota: 100_000,
            write_quota: 100_000,
            hook_calls: 1000,
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
    let settings = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&settings, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(s: &Settings, args: &[String]) -> Result<(), String> {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let command = format!("cargo run --release -p tests --bin bench -- {}", args.join(" "));
    let header = vec![
        format!("Machine: {}", sys::machine()),
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
    let progress = Progress::new();

    let mut sections = Vec::new();
    if ["first_sync", "memory", "incremental", "hook"]
        .iter()
        .any(|id| s.wants(id))
    {
        let (synced, first, memory) = scenarios::first_sync::run(s, &progress)?;
        sections.push(first);
        sections.push(memory);
        if s.wants("incremental") {
            sections.push(scenarios::incremental::run(&synced, &progress)?);
        }
        if s.wants("hook") {
            sections.push(scenarios::hook::run(&synced, s.hook_calls, &progress)?);
        }
    }
    if s.wants("dedupe") {
        sections.push(scenarios::dedupe::run(s, &progress)?);
    }
    if s.wants("idle") {
        sections.push(scenarios::idle::run(s, &progress)?);
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
        let footer = vec![format!(
            "Rebuild before running: `cargo build --release -p tests --bin bench -p crm-google-plugin \
             --lib`. `--quick` (N = 1,000, no latency, high quotas) is what `tests/tests/bench_small.rs` runs; its \
             timings are not meaningful."
        )];
        std::fs::write(path, report::document(&header, &sections, &footer))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("Wrote {}", path.display());
    }
    Ok(())
}
