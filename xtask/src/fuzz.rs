//! `cargo xtask fuzz`: every fuzz target of `fuzz/` (its own workspace, cargo-fuzz on stable with
//! `RUSTC_BOOTSTRAP=1`) for a bounded time each, growing the corpus kept in `fuzz/corpus/<target>`.
//! `cargo xtask ci` runs it briefly; long runs are `cargo xtask fuzz --minutes 10`.

use std::path::PathBuf;
use std::process::Command;

use cfsign_tests::proc::capture;

use crate::Result;

/// The fuzz workspace.
fn fuzz_dir() -> PathBuf {
    cfsign_tests::workspace_root().join("fuzz")
}

/// The targets, in the order `fuzz/Cargo.toml` lists them.
fn targets() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml"))
        .map_err(|e| format!("cannot read fuzz/Cargo.toml: {e}"))?;
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name = ") {
            names.push(value.trim_matches('"').to_owned());
        }
    }
    if names.is_empty() {
        return Err("fuzz/Cargo.toml lists no [[bin]] targets".to_owned());
    }
    Ok(names)
}

fn cargo_fuzz() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.arg("fuzz")
        .current_dir(fuzz_dir())
        .env("RUSTC_BOOTSTRAP", "1");
    cmd
}

/// Whether `cargo fuzz` can run; in CI its absence is a failure, elsewhere a loud skip.
fn available() -> Result<bool> {
    let ok = cargo_fuzz()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(true);
    }
    let fix = "install it with `cargo install cargo-fuzz --locked` (.ci/run does)";
    if crate::in_ci() {
        return Err(format!(
            "cargo-fuzz is not installed and CI=true forbids skipping: {fix}"
        ));
    }
    println!("*** SKIPPED fuzzing: cargo-fuzz is not installed; {fix} ***");
    Ok(false)
}

/// Runs every target (or `only`) for `seconds` each; fails on the first crash, naming the target
/// and the reproducer libFuzzer saved under `fuzz/artifacts/`.
pub(crate) fn run(seconds: u64, only: Option<&str>) -> Result<()> {
    if !available()? {
        return Ok(());
    }
    let targets: Vec<String> = targets()?
        .into_iter()
        .filter(|t| only.is_none_or(|o| o == t))
        .collect();
    if targets.is_empty() {
        return Err(format!(
            "no fuzz target named `{}`; see fuzz/Cargo.toml",
            only.unwrap_or_default()
        ));
    }
    println!("== fuzz: building {} targets", targets.len());
    let build = capture(cargo_fuzz().args(["build", "-O"]), None)?;
    if build.code != Some(0) {
        return Err(format!("cargo fuzz build failed:\n{}", build.stderr));
    }
    let mut summary = Vec::new();
    for target in &targets {
        let corpus = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        // Committed seeds (`fuzz/seeds/<target>`), read but never written: libFuzzer adds what
        // it finds to the first directory only.
        let seeds = fuzz_dir().join("seeds").join(target);
        println!("== fuzz: {target} for {seconds} s");
        let mut run = cargo_fuzz();
        run.args(["run", "-O", target]).arg(&corpus);
        if seeds.is_dir() {
            run.arg(&seeds);
        }
        let out = capture(
            run.arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .arg("-rss_limit_mb=2048"),
            None,
        )?;
        let done = out
            .stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("Done "))
            .unwrap_or("no summary")
            .to_owned();
        if out.code != Some(0) {
            let tail: Vec<&str> = out.stderr.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "fuzz target `{target}` failed (reproduce with `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {target} <artifact>`):\n{}",
                tail.join("\n")
            ));
        }
        println!("   {target}: {done}");
        summary.push(format!("{target}: {done}"));
    }
    println!("\n=== fuzz summary ({seconds} s per target) ===");
    for line in summary {
        println!("  {line}");
    }
    Ok(())
}
