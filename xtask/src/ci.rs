//! `cargo xtask ci`: what CI runs — fmt, clippy (also the server without its aws feature), rustdoc
//! (every feature, warnings denied), the workspace tests, the core without OpenSSL, bounded fuzzing,
//! e2e. Every step runs even when an earlier one failed, so one run shows every problem; the exit
//! status is non-zero if any step failed.

use cfsign_tests::cargo;
use cfsign_tests::proc::run_inherit;

use crate::{Options, Result};

/// Runs fmt, clippy, rustdoc, the workspace tests, the pure-Rust core tests, fuzzing, then e2e.
pub(crate) fn run(options: Options) -> Result<()> {
    let mut results: Vec<(&str, Result<()>)> = Vec::new();

    println!("== ci: cargo fmt --check");
    let fmt = run_inherit(cargo().args(["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}\n  fix: run `cargo fmt --all`"));
    results.push(("cargo fmt --check", fmt));

    println!("== ci: cargo clippy");
    let clippy = run_inherit(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))
    .map_err(String::from);
    results.push(("cargo clippy -D warnings", clippy));

    // The workspace build turns the server's `aws` feature on (tests/ dev-dependency); its default
    // build (no AWS SDK) must be warning-free too.
    println!("== ci: cargo clippy -p cfsign-server (default features, without aws)");
    let server = run_inherit(cargo().args([
        "clippy",
        "-p",
        "cfsign-server",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))
    .map_err(String::from);
    results.push(("cargo clippy -p cfsign-server (no aws)", server));

    // Broken intra-doc links and docs that leak private items fail here, not on docs.rs.
    println!("== ci: cargo doc (all features, warnings denied)");
    let doc = run_inherit(
        cargo()
            .args([
                "doc",
                "--workspace",
                "--no-deps",
                "--all-features",
                "--locked",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
    .map_err(String::from);
    results.push(("cargo doc -D warnings", doc));

    println!("== ci: cargo test");
    let test = run_inherit(cargo().args(["test", "--workspace", "--locked"])).map_err(String::from);
    results.push(("cargo test --workspace", test));

    // `--workspace` unifies features, and the CLI, server and mock turn on `cfsign/native`; this
    // run builds and tests the core the way a library user gets it by default: pure Rust.
    println!("== ci: cargo test -p cfsign (pure-Rust backend)");
    let core =
        run_inherit(cargo().args(["test", "-p", "cfsign", "--locked"])).map_err(String::from);
    results.push(("cargo test -p cfsign (no native)", core));

    // Every parser of outside input, fuzzed for a bounded time (cargo-fuzz on stable).
    let seconds = std::env::var("CFSIGN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(20);
    println!("== ci: fuzz ({seconds} s per target)");
    results.push((
        "cargo xtask fuzz (bounded)",
        crate::fuzz::run(seconds, None),
    ));

    println!("== ci: e2e");
    results.push(("cargo xtask e2e", crate::e2e::run(options)));

    println!("\n=== ci summary ===");
    let mut failed = 0;
    for (name, result) in &results {
        match result {
            Ok(()) => println!("  [ok  ] {name}"),
            Err(e) => {
                failed += 1;
                println!("  [FAIL] {name}: {e}");
            }
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} of {} CI steps failed", results.len()))
    }
}
