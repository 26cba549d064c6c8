//! Forwards the `log` crate's records to the host's logger.

use std::sync::{OnceLock, RwLock};

use abi::{Host, LogLevel};
use abi_stable::std_types::RStr;

/// The logger of this library. It forwards to the host that created the newest plugin
/// instance: a host that restarts the plugin in the same process gets the lines, not the
/// stopped instance's host.
struct HostLogger {
    host: RwLock<Option<Host>>,
}

static LOGGER: OnceLock<HostLogger> = OnceLock::new();

/// Routes this library's log lines to `host`.
pub fn install(host: Host) {
    let logger = LOGGER.get_or_init(|| HostLogger {
        host: RwLock::new(None),
    });
    *logger.host.write().unwrap_or_else(|p| p.into_inner()) = Some(host);
    if log::set_logger(logger).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

impl log::Log for HostLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let level = match record.level() {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        };
        let message = record.args().to_string();
        if let Some(host) = self.host.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            host.log(level, RStr::from_str(record.target()), RStr::from_str(&message));
        }
    }

    fn flush(&self) {}
}

/// User-supplied text as it may appear in a log line: at most 80 characters, with control
/// characters escaped, so input can neither flood the log nor forge lines in it.
pub fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(80).flat_map(char::escape_debug).collect();
    if text.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_text_in_logs_is_short_and_cannot_forge_lines() {
        assert_eq!(super::shown("a\nfake line\u{1b}[31m"), "a\\nfake line\\u{1b}[31m");
        assert_eq!(super::shown(&"x".repeat(1000)).chars().count(), 81);
    }
}
