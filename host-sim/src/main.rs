//! `host-sim`: run the CRM with its plugins and a fake Google, for people and scripts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use host_sim::demo::{self, DemoOptions};
use host_sim::fake_google::{FakeGoogle, FakeGoogleConfig};
use host_sim::{Sim, SimConfig};

const EXIT_CODES: &str =
    "Exit codes: 0 ok, 1 runtime error, 2 the plugin directory could not be loaded, 64 bad usage.";
/// Scripts tell bad usage from a failed run by this code (BSD's EX_USAGE), not clap's 2, which
/// already means "the plugin directory could not be loaded".
const BAD_USAGE: u8 = 64;

/// host-sim: a small CRM that loads the Google Contacts sync plugin, with a fake Google.
#[derive(Parser, Debug)]
#[command(name = "host-sim", arg_required_else_help = true, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Starts the CRM's web pages and JSON API (see host-sim/API.md), and a fake Google on
    /// 127.0.0.1 for the plugin to talk to unless --google-url names another server.
    #[command(args_override_self = true, after_help = EXIT_CODES)]
    Serve(ServeArgs),
    /// Runs the fake Google alone and prints its base URL.
    #[command(args_override_self = true, after_help = EXIT_CODES)]
    FakeGoogle(FakeGoogleArgs),
    /// Tells the product's whole story on an embedded fake Google, with the real plugin, and
    /// checks every step.
    #[command(args_override_self = true, after_help = EXIT_CODES)]
    Demo(DemoArgs),
}

// Options of serve and fake-google take the next argument as their value even when it starts
// with '-', as the hand-written parser did (so `--manual-clock -5` works), and the last of a
// repeated option wins (args_override_self).
#[derive(Args, Debug)]
struct ServeArgs {
    /// Directory holding the plugin library (*.so).
    // An empty path is not a usage error: the CRM refuses it with exit code 2, as before.
    #[arg(long, value_name = "DIR", allow_hyphen_values = true,
          value_parser = OsStringValueParser::new().map(PathBuf::from))]
    plugin_dir: PathBuf,
    /// Where the CRM keeps its data [default: a new temp directory].
    #[arg(long, value_name = "DIR", allow_hyphen_values = true,
          value_parser = OsStringValueParser::new().map(PathBuf::from))]
    state_dir: Option<PathBuf>,
    /// Address of the CRM's web server.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        allow_hyphen_values = true
    )]
    listen: String,
    /// Period of the plugin's tick, ms.
    #[arg(long, value_name = "N", default_value_t = 60_000, allow_hyphen_values = true,
          value_parser = tick_period_ms)]
    tick_ms: i64,
    /// Plugin worker threads.
    #[arg(long, value_name = "N", default_value_t = 4, allow_hyphen_values = true,
          value_parser = number::<usize>)]
    workers: usize,
    /// Start a manual clock at MS since the epoch; it only moves through
    /// POST /api/clock/advance [default: real time].
    #[arg(long, value_name = "MS", allow_hyphen_values = true, value_parser = number::<i64>)]
    manual_clock: Option<i64>,
    /// Use this People-API-compatible server instead of the fake.
    #[arg(long, value_name = "URL", allow_hyphen_values = true)]
    google_url: Option<String>,
    /// Address of the embedded fake Google.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        allow_hyphen_values = true
    )]
    google_listen: String,
    /// A plugin configuration value; repeatable; wins over the google.* values derived from
    /// the Google URL.
    #[arg(long, value_name = "KEY=VALUE", allow_hyphen_values = true, value_parser = plugin_setting)]
    plugin_config: Vec<PluginSetting>,
}

#[derive(Args, Debug)]
struct FakeGoogleArgs {
    /// Address to listen on.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        allow_hyphen_values = true
    )]
    listen: String,
}

// Unlike serve's, demo's options never take a following option as their value:
// `--plugin-dir --contacts 50` is a mistake.
#[derive(Args, Debug)]
struct DemoArgs {
    /// The directory holding the plugin library, as a CRM admin would install it.
    #[arg(long, value_name = "DIR")]
    plugin_dir: PathBuf,
    /// How many contacts the demo CRM holds; about half are synced.
    #[arg(long, value_name = "N", default_value_t = demo::DEFAULT_CONTACTS,
          allow_negative_numbers = true, value_parser = demo::parse_contacts)]
    contacts: usize,
    /// Where the CRM keeps its data; it must be empty [default: a temporary directory,
    /// removed at the end].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

impl From<DemoArgs> for DemoOptions {
    fn from(args: DemoArgs) -> DemoOptions {
        DemoOptions {
            plugin_dir: args.plugin_dir,
            contacts: args.contacts,
            state_dir: args.state_dir,
        }
    }
}

/// One `--plugin-config KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PluginSetting {
    key: String,
    value: String,
}

fn plugin_setting(arg: &str) -> Result<PluginSetting, String> {
    let (key, value) = arg.split_once('=').ok_or_else(|| "takes KEY=VALUE".to_string())?;
    Ok(PluginSetting {
        key: key.trim().to_string(),
        value: value.to_string(),
    })
}

fn number<T: std::str::FromStr>(arg: &str) -> Result<T, String> {
    arg.parse().map_err(|_| "must be a number".to_string())
}

fn tick_period_ms(arg: &str) -> Result<i64, String> {
    match number(arg)? {
        ms if ms < 1 => Err("must be at least 1".into()),
        ms => Ok(ms),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return refuse(error),
    };
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::FakeGoogle(args) => fake_google(args),
        Command::Demo(args) => run_demo(args.into()),
    }
}

/// Prints clap's verdict: help asked for is no error, anything else is bad usage.
fn refuse(error: clap::Error) -> ExitCode {
    // Nothing useful is left to do if the terminal is gone.
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(BAD_USAGE)
    } else {
        ExitCode::SUCCESS
    }
}

/// Blocks until the process is killed (Ctrl-C): the CRM's journal makes that a safe stop.
fn run_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let listen = args.listen.as_str();
    let state_dir = args.state_dir.unwrap_or_else(new_state_dir);
    let extra: BTreeMap<String, String> = args
        .plugin_config
        .into_iter()
        .map(|setting| (setting.key, setting.value))
        .collect();

    // The embedded fake Google lives as long as the CRM: it is dropped only at process exit.
    let mut embedded: Option<FakeGoogle> = None;
    let google_url = match &args.google_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let listen = args.google_listen.as_str();
            match FakeGoogle::start(listen, FakeGoogleConfig::default()) {
                Ok(g) => {
                    let url = g.base_url();
                    embedded = Some(g);
                    url
                }
                Err(e) => {
                    eprintln!("host-sim: the fake Google could not listen on {listen}: {e}");
                    return ExitCode::from(1);
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
            return ExitCode::from(1);
        }
    };
    let mut config = SimConfig::new(&args.plugin_dir, &state_dir);
    config.tick_period_ms = args.tick_ms;
    config.workers = args.workers.max(1);
    config.manual_clock = args.manual_clock.map(abi::Millis);
    config.plugin_config = plugin_config;
    config.oauth_callback_url = bound.callback_url();
    let sim = match Sim::start(config) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("host-sim: {e}");
            return ExitCode::from(2);
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

/// A directory of its own for this run, under the system's temporary directory.
fn new_state_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("host-sim-{}-{nanos}", std::process::id()))
}

fn fake_google(args: FakeGoogleArgs) -> ExitCode {
    let listen = args.listen.as_str();
    match FakeGoogle::start(listen, FakeGoogleConfig::default()) {
        Ok(google) => {
            println!("{}", google.base_url());
            let _keep = google;
            run_forever()
        }
        Err(e) => {
            eprintln!("host-sim: the fake Google could not listen on {listen}: {e}");
            ExitCode::from(1)
        }
    }
}

/// `host-sim demo`: the whole story on the embedded fake Google, with the real plugin.
fn run_demo(options: DemoOptions) -> ExitCode {
    match demo::run(&options, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("host-sim demo: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("host-sim").chain(args.iter().copied())).map(|cli| cli.command)
    }

    fn serve_args(args: &[&str]) -> ServeArgs {
        match parse(&[&["serve"], args].concat()) {
            Ok(Command::Serve(serve)) => serve,
            other => panic!("not serve arguments: {other:?}"),
        }
    }

    fn demo_options(args: &[&str]) -> Result<DemoOptions, clap::Error> {
        match parse(&[&["demo"], args].concat())? {
            Command::Demo(demo) => Ok(demo.into()),
            other => panic!("not demo arguments: {other:?}"),
        }
    }

    fn refusal(args: &[&str]) -> String {
        let error = parse(args).expect_err("refused");
        assert!(error.use_stderr(), "{args:?} is an error, not help");
        error.to_string()
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_has_the_documented_defaults() {
        let serve = serve_args(&["--plugin-dir", "/p"]);
        assert_eq!(serve.plugin_dir, PathBuf::from("/p"));
        assert_eq!(serve.state_dir, None);
        assert_eq!(serve.listen, "127.0.0.1:8080");
        assert_eq!(serve.tick_ms, 60_000);
        assert_eq!(serve.workers, 4);
        assert_eq!(serve.manual_clock, None);
        assert_eq!(serve.google_url, None);
        assert_eq!(serve.google_listen, "127.0.0.1:0");
        assert!(serve.plugin_config.is_empty());
    }

    #[test]
    fn serve_takes_both_forms_and_the_last_of_a_repeated_option() {
        let serve = serve_args(&[
            "--plugin-dir=/a",
            "--plugin-dir",
            "/b",
            "--tick-ms=200",
            "--manual-clock",
            "-5",
            "--plugin-config",
            "google.x = 1=2",
            "--plugin-config=k=",
        ]);
        assert_eq!(serve.plugin_dir, PathBuf::from("/b"));
        assert_eq!(serve.tick_ms, 200);
        assert_eq!(serve.manual_clock, Some(-5));
        let setting = |key: &str, value: &str| PluginSetting {
            key: key.into(),
            value: value.into(),
        };
        assert_eq!(
            serve.plugin_config,
            [setting("google.x", " 1=2"), setting("k", "")]
        );
    }

    #[test]
    fn serve_refuses_bad_values() {
        assert!(refusal(&["serve"]).contains("--plugin-dir <DIR>"));
        assert!(refusal(&["serve", "--plugin-dir", "/p", "--tick-ms", "0"]).contains("must be at least 1"));
        assert!(refusal(&["serve", "--plugin-dir", "/p", "--tick-ms", "-5"]).contains("must be at least 1"));
        assert!(refusal(&["serve", "--plugin-dir", "/p", "--tick-ms", "abc"]).contains("must be a number"));
        assert!(refusal(&["serve", "--plugin-dir", "/p", "--workers", "x"]).contains("must be a number"));
        assert!(refusal(&["serve", "--plugin-dir", "/p", "--manual-clock", "x"]).contains("must be a number"));
        assert!(
            refusal(&["serve", "--plugin-dir", "/p", "--plugin-config", "novalue"]).contains("KEY=VALUE")
        );
        assert!(refusal(&["serve", "--plugin-dir", "/p", "--bogus"]).contains("--bogus"));
        assert!(refusal(&["serve", "--plugin-dir", "/p", "stray"]).contains("stray"));
        assert!(refusal(&["nonsense"]).contains("nonsense"));
        assert!(refusal(&["fake-google", "--listen"]).contains("--listen"));
    }

    #[test]
    fn demo_takes_both_forms() {
        let options = demo_options(&["--plugin-dir", "/p", "--contacts=200", "--state-dir", "/s"]).unwrap();
        assert_eq!(
            options,
            DemoOptions {
                plugin_dir: "/p".into(),
                contacts: 200,
                state_dir: Some("/s".into())
            }
        );
        assert_eq!(
            demo_options(&["--plugin-dir=/p"]).unwrap(),
            DemoOptions::new("/p")
        );
    }

    #[test]
    fn demo_refuses_bad_arguments() {
        let refused = |args: &[&str]| refusal(&[&["demo"], args].concat());
        assert!(refused(&[]).contains("--plugin-dir <DIR>"));
        assert!(refused(&["--plugin-dir"]).contains("--plugin-dir <DIR>"));
        assert!(refused(&["--plugin-dir="]).contains("--plugin-dir <DIR>"));
        assert!(refused(&["--plugin-dir", "--contacts", "50"]).contains("--plugin-dir <DIR>"));
        assert!(refused(&["--plugin-dir", "/p", "--contacts", "many"]).contains("from 20 to 50000"));
        assert!(refused(&["--plugin-dir", "/p", "--contacts", "5"]).contains("from 20 to 50000"));
        assert!(refused(&["--plugin-dir", "/p", "--verbose"]).contains("--verbose"));
        assert!(refused(&["--plugin-dir", "/p", "plugins"]).contains("plugins"));
    }

    #[test]
    fn help_is_no_error() {
        for args in [
            &["--help"][..],
            &["help"],
            &["serve", "--help"],
            &["demo", "-h"],
            &["help", "fake-google"],
        ] {
            let error = parse(args).expect_err("help is shown through an error");
            assert_eq!(error.kind(), ErrorKind::DisplayHelp, "{args:?}");
            assert!(!error.use_stderr(), "{args:?}");
        }
        let bare = parse(&[]).expect_err("no command");
        assert!(bare.use_stderr(), "without a command the help is bad usage");
    }
}
