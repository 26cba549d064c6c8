//! `host-sim`: run the CRM with its plugins and a fake Google, for people and scripts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig};
use host_sim::{Sim, SimConfig};

const HELP: &str = "\
host-sim: a small CRM that loads the Google Contacts sync plugin, with a fake Google.

USAGE:
    host-sim serve --plugin-dir DIR [OPTIONS]
    host-sim fake-google [--listen ADDR]
    host-sim demo [ARGS...]
    host-sim help

serve: starts the CRM's web pages and JSON API (see host-sim/API.md), and a fake Google on
127.0.0.1 for the plugin to talk to unless --google-url names another server.
    --plugin-dir DIR           directory holding the plugin library (*.so)       [required]
    --state-dir DIR            where the CRM keeps its data     [default: a new temp directory]
    --listen ADDR              address of the CRM's web server   [default: 127.0.0.1:8080]
    --tick-ms N                period of the plugin's tick, ms   [default: 60000]
    --workers N                plugin worker threads             [default: 4]
    --manual-clock MS          start a manual clock at MS since the epoch; it only moves
                               through POST /api/clock/advance    [default: real time]
    --google-url URL           use this People-API-compatible server instead of the fake
    --google-listen ADDR       address of the embedded fake Google [default: 127.0.0.1:0]
    --plugin-config KEY=VALUE  a plugin configuration value; repeatable; wins over the
                               google.* values derived from the Google URL

fake-google: runs the fake Google alone and prints its base URL.
    --listen ADDR              [default: 127.0.0.1:0]

Exit codes: 0 ok, 1 runtime error, 2 the plugin directory could not be loaded, 64 bad usage.
";

/// A usage error: printed with a pointer to --help.
struct Usage(String);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{HELP}");
        return ExitCode::from(64);
    };
    let result = match command.as_str() {
        "serve" => serve(rest),
        "fake-google" => fake_google(rest),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        "demo" => return demo(rest),
        other => Err(Usage(format!("unknown command \"{other}\""))),
    };
    match result {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("host-sim: {message}\nRun `host-sim --help` for usage.");
            ExitCode::from(64)
        }
    }
}

/// Flags of the form `--name value` (or `--name=value`), in order.
fn parse_flags(args: &[String], known: &[&str], switches: &[&str]) -> Result<Vec<(String, String)>, Usage> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--help" || arg == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(Usage(format!("unexpected argument \"{arg}\"")));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        if switches.contains(&name) {
            out.push((name.to_string(), String::new()));
            continue;
        }
        if !known.contains(&name) {
            return Err(Usage(format!("unknown option --{name}")));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| Usage(format!("--{name} needs a value")))?,
        };
        out.push((name.to_string(), value));
    }
    Ok(out)
}

fn last<'a>(flags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    flags
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn number<T: std::str::FromStr>(flags: &[(String, String)], name: &str, default: T) -> Result<T, Usage> {
    match last(flags, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| Usage(format!("--{name} must be a number, not \"{v}\""))),
    }
}

/// Blocks until the process is killed (Ctrl-C): the CRM's journal makes that a safe stop.
fn run_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn serve(args: &[String]) -> Result<ExitCode, Usage> {
    let flags = parse_flags(
        args,
        &[
            "plugin-dir",
            "state-dir",
            "listen",
            "tick-ms",
            "workers",
            "manual-clock",
            "google-url",
            "google-listen",
            "plugin-config",
        ],
        &[],
    )?;
    let plugin_dir =
        PathBuf::from(last(&flags, "plugin-dir").ok_or_else(|| Usage("--plugin-dir is required".into()))?);
    let listen = last(&flags, "listen").unwrap_or("127.0.0.1:8080");
    let tick_ms: i64 = number(&flags, "tick-ms", 60_000)?;
    if tick_ms < 1 {
        return Err(Usage("--tick-ms must be at least 1".into()));
    }
    let workers: usize = number(&flags, "workers", 4)?;
    let manual_clock: Option<i64> = match last(&flags, "manual-clock") {
        None => None,
        Some(_) => Some(number(&flags, "manual-clock", 0)?),
    };
    let mut extra = BTreeMap::new();
    for (_, kv) in flags.iter().filter(|(n, _)| n == "plugin-config") {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Usage(format!("--plugin-config takes KEY=VALUE, not \"{kv}\"")))?;
        extra.insert(k.trim().to_string(), v.to_string());
    }
    let state_dir = match last(&flags, "state-dir") {
        Some(d) => PathBuf::from(d),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            std::env::temp_dir().join(format!("host-sim-{}-{nanos}", std::process::id()))
        }
    };

    // The embedded fake Google lives as long as the CRM: it is dropped only at process exit.
    let mut embedded: Option<FakeGoogle> = None;
    let google_url = match last(&flags, "google-url") {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let listen = last(&flags, "google-listen").unwrap_or("127.0.0.1:0");
            match FakeGoogle::start(listen, FakeGoogleConfig::default()) {
                Ok(g) => {
                    let url = g.base_url();
                    embedded = Some(g);
                    url
                }
                Err(e) => {
                    eprintln!("host-sim: the fake Google could not listen on {listen}: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    let mut plugin_config = host_sim::web::google_plugin_config(&google_url);
    plugin_config.extend(extra);

    let bound = match host_sim::web::bind(listen) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("host-sim: the CRM could not listen on {listen}: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut config = SimConfig::new(&plugin_dir, &state_dir);
    config.tick_period_ms = tick_ms;
    config.workers = workers.max(1);
    config.manual_clock = manual_clock.map(abi::Millis);
    config.plugin_config = plugin_config;
    config.oauth_callback_url = bound.callback_url();
    let sim = match Sim::start(config) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("host-sim: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let server = bound.serve(sim.clone(), Some(google_url.clone()));
    println!("CRM:         {}/", server.base_url());
    println!("API:         {}/api/", server.base_url());
    println!("OAuth:       {}/oauth/callback", server.base_url());
    match &embedded {
        Some(_) => println!("Fake Google: {google_url} (control API under {google_url}/control/)"),
        None => println!("Google:      {google_url}"),
    }
    println!("State:       {}", state_dir.display());
    println!("Plugins:     {}", sim.plugin_names().join(", "));
    run_forever()
}

fn fake_google(args: &[String]) -> Result<ExitCode, Usage> {
    let flags = parse_flags(args, &["listen"], &[])?;
    let listen = last(&flags, "listen").unwrap_or("127.0.0.1:0");
    match FakeGoogle::start(listen, FakeGoogleConfig::default()) {
        Ok(google) => {
            println!("{}", google.base_url());
            let _keep = google;
            run_forever()
        }
        Err(e) => {
            eprintln!("host-sim: the fake Google could not listen on {listen}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `host-sim demo`: the whole story on the embedded fake Google, with the real plugin.
fn demo(args: &[String]) -> ExitCode {
    let options = match host_sim::demo::parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("host-sim demo: {e}");
            return ExitCode::from(64);
        }
    };
    match host_sim::demo::run(&options, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("host-sim demo: {e}");
            ExitCode::from(1)
        }
    }
}
