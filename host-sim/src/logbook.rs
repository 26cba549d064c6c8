//! The host's log: what plugins (and the host) wrote, kept for inspection and echoed to stderr
//! when `HOST_SIM_LOG` is set.

use std::collections::VecDeque;
use std::sync::Mutex;

use abi::LogLevel;

#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: LogLevel,
    pub target: String,
    pub message: String,
    /// The name of the thread that wrote the line (e.g. `worker-2`).
    pub thread: String,
}

pub struct Logbook {
    lines: Mutex<VecDeque<LogLine>>,
    echo: bool,
}

/// Enough lines for any test; older ones are dropped so a long run stays small.
const KEEP: usize = 50_000;

impl Default for Logbook {
    fn default() -> Self {
        Logbook {
            lines: Mutex::new(VecDeque::new()),
            echo: std::env::var_os("HOST_SIM_LOG").is_some(),
        }
    }
}

impl Logbook {
    pub fn write(&self, level: LogLevel, target: &str, message: &str) {
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        if self.echo {
            eprintln!("[{level:?} {target} {thread}] {message}");
        }
        let mut lines = self.lines.lock().expect("logbook lock poisoned");
        if lines.len() == KEEP {
            lines.pop_front();
        }
        lines.push_back(LogLine {
            level,
            target: target.to_string(),
            message: message.to_string(),
            thread,
        });
    }

    pub fn lines(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .expect("logbook lock poisoned")
            .iter()
            .cloned()
            .collect()
    }

    /// Lines whose message contains `needle`.
    pub fn grep(&self, needle: &str) -> Vec<LogLine> {
        self.lines()
            .into_iter()
            .filter(|l| l.message.contains(needle))
            .collect()
    }
}
