//! Forwards the `log` crate's records to the host's logger.

use std::sync::OnceLock;

use abi::{Host, LogLevel};
use abi_stable::std_types::RStr;

struct HostLogger {
    host: Host,
}

static LOGGER: OnceLock<HostLogger> = OnceLock::new();

/// Installs the host's logger for this library. The first host wins: one library serves one
/// host process.
pub fn install(host: Host) {
    if LOGGER.set(HostLogger { host }).is_ok() {
        if let Some(logger) = LOGGER.get() {
            if log::set_logger(logger).is_ok() {
                log::set_max_level(log::LevelFilter::Debug);
            }
        }
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
        self.host
            .log(level, RStr::from_str(record.target()), RStr::from_str(&message));
    }

    fn flush(&self) {}
}
