//! A report of named checks, printed as they happen and summarised at the end.

use std::time::Instant;

/// One check's outcome.
#[derive(Debug)]
struct Check {
    section: String,
    name: String,
    ok: bool,
    detail: String,
}

/// Checks grouped in sections.
#[derive(Debug)]
pub(crate) struct Report {
    title: String,
    section: String,
    checks: Vec<Check>,
    started: Instant,
}

impl Report {
    /// An empty report.
    pub(crate) fn new(title: &str) -> Report {
        println!("\n=== {title} ===");
        Report {
            title: title.to_owned(),
            section: String::new(),
            checks: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Starts a section.
    pub(crate) fn section(&mut self, name: &str) {
        self.section = name.to_owned();
        println!("\n--- {name} ---");
    }

    /// Records a passing check.
    pub(crate) fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.record(name, true, detail.into());
    }

    /// Records a failing check.
    pub(crate) fn fail(&mut self, name: &str, detail: impl Into<String>) {
        self.record(name, false, detail.into());
    }

    /// Records `Ok(detail)` as a pass and `Err(why)` as a failure; returns whether it passed.
    pub(crate) fn check(&mut self, name: &str, outcome: Result<String, String>) -> bool {
        match outcome {
            Ok(detail) => {
                self.pass(name, detail);
                true
            }
            Err(why) => {
                self.fail(name, why);
                false
            }
        }
    }

    fn record(&mut self, name: &str, ok: bool, detail: String) {
        let mark = if ok { "ok  " } else { "FAIL" };
        if detail.is_empty() {
            println!("  [{mark}] {name}");
        } else {
            println!("  [{mark}] {name}: {detail}");
        }
        self.checks.push(Check {
            section: self.section.clone(),
            name: name.to_owned(),
            ok,
            detail,
        });
    }

    /// The number of failed checks.
    pub(crate) fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.ok).count()
    }

    /// The number of passed checks.
    pub(crate) fn passed(&self) -> usize {
        self.checks.iter().filter(|c| c.ok).count()
    }

    /// Prints the summary: per-section counts, every failure again, and a closing
    /// `N passed, N failed` line.
    pub(crate) fn print_summary(&self) {
        println!(
            "\n=== {} summary ({:.1?}) ===",
            self.title,
            self.started.elapsed()
        );
        let mut sections: Vec<&str> = Vec::new();
        for c in &self.checks {
            if !sections.contains(&c.section.as_str()) {
                sections.push(&c.section);
            }
        }
        for s in sections {
            let (p, f) = self
                .checks
                .iter()
                .filter(|c| c.section == s)
                .fold(
                    (0, 0),
                    |(p, f), c| if c.ok { (p + 1, f) } else { (p, f + 1) },
                );
            let mark = if f == 0 { "ok  " } else { "FAIL" };
            println!("  [{mark}] {s}: {p} passed, {f} failed");
        }
        let failures: Vec<&Check> = self.checks.iter().filter(|c| !c.ok).collect();
        if !failures.is_empty() {
            println!("\nFailures:");
            for c in failures {
                println!("  - {} / {}: {}", c.section, c.name, c.detail);
            }
        }
        println!(
            "\n{}: {} passed, {} failed",
            self.title,
            self.passed(),
            self.failed()
        );
    }
}
