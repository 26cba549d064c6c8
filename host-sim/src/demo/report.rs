//! What the demo prints: one line per step as it happens, and the summary table at the end.
//! Plain text only (no colours or cursor codes), so the same output reads well in a terminal,
//! a CI log or a file.

use std::io::Write;
use std::time::Duration;

use super::{DemoSummary, StepReport};

pub(super) fn say(out: &mut dyn Write, text: &str) -> Result<(), String> {
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(|e| format!("The demo's output could not be written: {e}"))
}

/// `1487` → `"1,487"`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    // Digits are ASCII, so every chunk is valid UTF-8.
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or(""))
        .collect();
    groups.join(",")
}

pub(super) fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A timestamp as the time of day, UTC, to the second.
pub(super) fn time_of_day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// Where step details wrap, so they read well in an 80-to-120-column terminal or a CI log.
const WRAP_AT: usize = 100;
const INDENT: &str = "        ";

/// `1` → `"1 write"`, `2` → `"2 writes"`.
fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn calls_text(step: &StepReport) -> String {
    let c = step.calls;
    format!(
        "{}: {}, {}",
        count(c.total, "Google call"),
        count(c.reads, "read"),
        count(c.writes, "write")
    )
}

/// Greedy word wrap; continuation lines are indented under the first.
fn wrap(text: &str, first: &str) -> String {
    let mut lines = vec![first.to_string()];
    for word in text.split_whitespace() {
        let Some(line) = lines.last_mut() else { break };
        let fresh = line.trim().is_empty() || line.ends_with(": ");
        if !fresh && line.chars().count() + 1 + word.chars().count() > WRAP_AT {
            lines.push(format!("{INDENT}{word}"));
        } else {
            if !fresh && !line.ends_with(' ') {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

pub(super) fn step_passed(out: &mut dyn Write, step: &StepReport, detail: &str) -> Result<(), String> {
    say(out, &wrap(detail, &format!("  ok    {}: ", step.name)))?;
    say(out, &format!("{INDENT}-> {}", calls_text(step)))
}

pub(super) fn step_failed(out: &mut dyn Write, name: &str, error: &str) -> Result<(), String> {
    say(out, &wrap(error, &format!("  FAIL  {name}: ")))
}

pub(super) fn summary(out: &mut dyn Write, s: &DemoSummary) -> Result<(), String> {
    let header = ["Step", "What happened", "Google calls", "reads", "writes"];
    let rows: Vec<[String; 5]> = s
        .steps
        .iter()
        .map(|step| {
            [
                step.name.clone(),
                step.outcome.clone(),
                step.calls.total.to_string(),
                step.calls.reads.to_string(),
                step.calls.writes.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let render = |cells: &[String]| {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            // Text columns are left-aligned, the counts right-aligned.
            if i < 2 {
                line.push_str(&format!("{cell}{}  ", " ".repeat(pad)));
            } else {
                line.push_str(&format!("{}{cell}  ", " ".repeat(pad)));
            }
        }
        line.trim_end().to_string()
    };
    let rule: String = widths
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ");

    say(out, "")?;
    say(out, "Summary")?;
    say(out, &render(&header.map(String::from)))?;
    say(out, &rule)?;
    for row in &rows {
        say(out, &render(row))?;
    }
    say(out, &rule)?;
    let g = &s.google;
    say(
        out,
        &render(&[
            "All".into(),
            String::new(),
            g.total.to_string(),
            g.reads.to_string(),
            g.writes.to_string(),
        ]),
    )?;
    say(out, "")?;
    say(out, "Google API calls by method:")?;
    let mut methods: Vec<(&String, &u64)> = s.google.methods.iter().filter(|(_, n)| **n > 0).collect();
    methods.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let name_width = methods.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    for (method, n) in methods {
        say(out, &format!("  {method:<name_width$}  {n:>5}"))?;
    }
    say(out, "")?;
    say(
        out,
        &format!(
            "First sync: {} of {} CRM contacts synced in {}.",
            thousands(s.contacts_synced as u64),
            thousands(s.contacts_in_crm as u64),
            seconds(s.first_sync)
        ),
    )?;
    say(out, &format!("All {} steps passed.", s.steps_passed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_long_details_under_the_first_line() {
        let text = wrap(&"word ".repeat(40), "  ok    Step: ");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("  ok    Step: word"));
        assert!(lines.iter().all(|l| l.chars().count() <= WRAP_AT), "{text}");
        assert!(lines[1..].iter().all(|l| l.starts_with(INDENT)), "{text}");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1487), "1,487");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
