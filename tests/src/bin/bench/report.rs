//! Results: rows of figure / bound / ratio / target, printed as they come and rendered into
//! `BENCHMARKS.md`. Each row also prints one `result` line that `tests/bench_small.rs` parses.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// What a row measures; the small test checks only call counts, never timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Calls,
    /// A correctness count (contacts in a group, creates made).
    Count,
    Time,
    Memory,
    Latency,
    Size,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Calls => "calls",
            Kind::Count => "count",
            Kind::Time => "time",
            Kind::Memory => "memory",
            Kind::Latency => "latency",
            Kind::Size => "size",
        }
    }
}

/// How a figure is judged.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum Target {
    /// figure ≤ value.
    AtMost(f64),
    /// figure == value.
    Equal(f64),
    /// Reported only.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub metric: String,
    pub kind: Kind,
    pub unit: String,
    pub figure: f64,
    pub bound: Option<f64>,
    pub target: Target,
    /// Shown instead of judging, e.g. when a time bound is too small to mean anything.
    pub not_judged: Option<String>,
}

impl Row {
    pub fn new(metric: impl Into<String>, kind: Kind, unit: &'static str, figure: f64) -> Row {
        Row {
            metric: metric.into(),
            kind,
            unit: unit.to_string(),
            figure,
            bound: None,
            target: Target::None,
            not_judged: None,
        }
    }

    pub fn bound(mut self, bound: f64) -> Row {
        self.bound = Some(bound);
        self
    }

    pub fn target(mut self, target: Target) -> Row {
        self.target = target;
        self
    }

    pub fn not_judged(mut self, why: impl Into<String>) -> Row {
        self.not_judged = Some(why.into());
        self
    }

    /// `None` when there is no target or it is not judged in this run.
    pub fn pass(&self) -> Option<bool> {
        if self.not_judged.is_some() {
            return None;
        }
        match self.target {
            Target::AtMost(x) => Some(self.figure <= x + 1e-9),
            Target::Equal(x) => Some((self.figure - x).abs() < 1e-9),
            Target::None => None,
        }
    }

    fn ratio(&self) -> Option<f64> {
        self.bound.filter(|b| *b > 0.0).map(|b| self.figure / b)
    }

    fn num(&self, x: f64) -> String {
        match self.kind {
            Kind::Calls | Kind::Count => format!("{x:.0}"),
            Kind::Time if x < 10.0 => format!("{x:.2}"),
            Kind::Time | Kind::Memory | Kind::Size => format!("{x:.1}"),
            Kind::Latency => format!("{x:.1}"),
        }
    }

    /// A value with its unit, if the row has one.
    fn value(&self, x: f64) -> String {
        if self.unit.is_empty() {
            self.num(x)
        } else {
            format!("{} {}", self.num(x), self.unit)
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(x) => format!("≤ {}", self.value(x)),
            Target::Equal(x) => format!("= {}", self.value(x)),
            Target::None => "—".into(),
        }
    }

    fn verdict(&self) -> String {
        match (self.pass(), &self.not_judged) {
            (_, Some(why)) => format!("n/a ({why})"),
            (Some(true), _) => "PASS".into(),
            (Some(false), _) => format!("**FAIL** {}", self.miss()),
            (None, None) => "—".into(),
        }
    }

    /// By how much a failed figure misses its target.
    fn miss(&self) -> String {
        match self.target {
            Target::AtMost(x) if x > 0.0 => format!(
                "(by {}, {:.2}× the target)",
                self.value(self.figure - x),
                self.figure / x
            ),
            Target::AtMost(x) | Target::Equal(x) => format!("(off by {})", self.value(self.figure - x)),
            Target::None => String::new(),
        }
    }

    /// One machine-readable line: `result<TAB>scenario<TAB>metric<TAB>kind<TAB>figure<TAB>bound<TAB>pass`.
    pub fn result_line(&self, scenario: &str) -> String {
        let bound = self.bound.map_or("-".to_string(), |b| b.to_string());
        let pass = match self.pass() {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "-",
        };
        format!(
            "result\t{scenario}\t{}\t{}\t{}\t{bound}\t{pass}",
            self.metric,
            self.kind.name(),
            self.figure
        )
    }
}

/// One scenario's results.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Section {
    /// Short id used in `result` lines (`first_sync`, `dedupe`, …).
    pub id: String,
    pub title: String,
    /// How the bounds are computed, in prose.
    pub bounds: Vec<String>,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    /// Google People API calls per method during the measured part.
    pub methods: BTreeMap<String, u64>,
}

impl Section {
    pub fn new(id: &str, title: &str) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            ..Section::default()
        }
    }

    /// Prints the section to stdout (table, notes and `result` lines).
    pub fn print(&self) {
        println!("\n== {} ==", self.title);
        for r in &self.rows {
            let bound = r.bound.map_or("-".to_string(), |b| r.num(b));
            let ratio = r.ratio().map_or("-".to_string(), |x| format!("{x:.2}"));
            println!(
                "  {:<58} {:>10} {:<3} bound {:>10}  ratio {:>6}  target {:<14} {}",
                r.metric,
                r.num(r.figure),
                r.unit,
                bound,
                ratio,
                r.target_text(),
                r.verdict()
            );
        }
        if !self.methods.is_empty() {
            println!("  calls by method: {}", methods_text(&self.methods));
        }
        for n in &self.notes {
            println!("  note: {n}");
        }
        for r in &self.rows {
            println!("{}", r.result_line(&self.id));
        }
    }

    pub fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "## {}\n", self.title);
        for b in &self.bounds {
            let _ = writeln!(out, "- {b}");
        }
        if !self.bounds.is_empty() {
            out.push('\n');
        }
        out.push_str("| Metric | Figure | Bound | Ratio | Target | Result |\n|---|---:|---:|---:|---|---|\n");
        for r in &self.rows {
            let bound = r.bound.map_or("—".to_string(), |b| r.value(b));
            let ratio = r.ratio().map_or("—".to_string(), |x| format!("{x:.2}"));
            let _ = writeln!(
                out,
                "| {} | {} | {bound} | {ratio} | {} | {} |",
                r.metric,
                r.value(r.figure),
                r.target_text(),
                r.verdict()
            );
        }
        out.push('\n');
        if !self.methods.is_empty() {
            let _ = writeln!(out, "Google calls by method: {}\n", methods_text(&self.methods));
        }
        for n in &self.notes {
            let _ = writeln!(out, "> {n}\n");
        }
    }
}

pub fn methods_text(methods: &BTreeMap<String, u64>) -> String {
    methods
        .iter()
        .map(|(m, n)| format!("`{}` {n}", m.trim_start_matches("people.")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole `BENCHMARKS.md`.
pub fn document(header: &[String], sections: &[Section], footer: &[String]) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    out.push_str(
        "Generated by `tests/src/bin/bench/` — do not edit by hand; run the command below again.\n\n",
    );
    for h in header {
        let _ = writeln!(out, "- {h}");
    }
    out.push('\n');
    let failed: Vec<String> = sections
        .iter()
        .flat_map(|s| {
            s.rows
                .iter()
                .filter(|r| r.pass() == Some(false))
                .map(move |r| format!("{}: {}", s.title, r.metric))
        })
        .collect();
    if failed.is_empty() {
        out.push_str("**Every judged target passed.**\n\n");
    } else {
        let _ = writeln!(out, "**Targets missed ({}):**\n", failed.len());
        for f in failed {
            let _ = writeln!(out, "- {f}");
        }
        out.push('\n');
    }
    for s in sections {
        s.markdown(&mut out);
    }
    for f in footer {
        let _ = writeln!(out, "{f}\n");
    }
    out
}
