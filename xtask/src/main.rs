//! cfsign's project automation: `cargo xtask ci | e2e | demo | bench` (see `cargo xtask help`).

mod bench;
mod ci;
mod demo;
mod e2e;
mod edge;
mod fuzz;
mod harness;
mod kms;
mod lambda;
mod players;
mod report;
mod s3;
mod signals;
mod stack;
mod stream_demo;

use std::process::ExitCode;

/// Errors in xtask are messages for a person.
type Result<T> = std::result::Result<T, String>;

const HELP: &str = "\
cargo xtask <TASK> [OPTIONS]

Tasks:
  ci      cargo fmt --check, clippy -D warnings, cargo test --workspace, then e2e
  e2e     build the binaries and run the whole system end to end (mock CloudFront, provisioning,
          signing server, CLI) with an independent verify-signature harness (openssl, botocore),
          and real players (ffmpeg, headless Chromium) on a private stream
  demo    start a local CloudFront with private media, provision it, start the signing server,
          print a signed link and the same link unsigned, and a player page playing a private
          HLS/DASH stream (needs ffmpeg and `npm ci` in tests/browser/players); runs until Ctrl-C (--s3: the media
          in moto's S3 behind an origin access control instead of the sample directory)
  bench   run the benchmarks and refresh the anchors section of docs/benchmarks.md
  fuzz    run every fuzz target of fuzz/ for a bounded time (needs cargo-fuzz; stable toolchain
          with RUSTC_BOOTSTRAP=1), growing the corpus in fuzz/corpus/

Options:
  --release     build the binaries with the release profile (e2e, demo, ci)
  --s3          demo: serve the media from an S3 bucket in moto (needs python3, boto3, moto[server])
  --keep        keep the e2e work directory (logs, keys, config) even when everything passes
  --anchors-only  bench: measure only the anchors (openssl speed, botocore loop), not the crates
  --minutes N   fuzz: minutes per target (default 1); ci fuzzes each target for
                CFSIGN_FUZZ_SECONDS seconds (default 20)
  --target T    fuzz: only this target

Environment:
  CI=true       missing python3/botocore or openssl is a failure instead of a loud skip
  CARGO         the cargo to run (set by cargo itself)

Signals: SIGTERM, SIGINT (Ctrl-C) or SIGHUP stops every process xtask started (SIGTERM, then
SIGKILL after 3 s) and exits with 128 + the signal number.

Exit status: 0 when everything passed, 1 when a check failed, 2 for a usage error.
";

/// Whether we run in CI (`CI=true`), where optional tools are mandatory.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Options shared by the tasks.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    /// Build with `--release`.
    pub(crate) release: bool,
    /// Keep the work directory.
    pub(crate) keep: bool,
    /// `bench`: only the anchors.
    pub(crate) anchors_only: bool,
    /// `fuzz`: seconds per target.
    pub(crate) fuzz_seconds: Option<u64>,
    /// `fuzz`: only this target.
    pub(crate) fuzz_target: Option<&'static str>,
    /// `demo`: the media in moto's S3 behind an origin access control.
    pub(crate) s3: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = Options::default();
    let mut task = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--minutes" => {
                let minutes = iter.next().and_then(|m| m.parse::<u64>().ok());
                let Some(minutes) = minutes.filter(|m| *m > 0) else {
                    eprintln!(
                        "error: --minutes takes a whole number of minutes, such as 10\n\n{HELP}"
                    );
                    return ExitCode::from(2);
                };
                options.fuzz_seconds = Some(minutes * 60);
            }
            "--target" => {
                let Some(target) = iter.next() else {
                    eprintln!("error: --target takes a fuzz target name\n\n{HELP}");
                    return ExitCode::from(2);
                };
                // xtask runs one task and exits: leaking one short name is harmless.
                options.fuzz_target = Some(Box::leak(target.clone().into_boxed_str()));
            }
            "--release" => options.release = true,
            "--keep" => options.keep = true,
            "--s3" => options.s3 = true,
            "--anchors-only" => options.anchors_only = true,
            "-h" | "--help" | "help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            t if task.is_none() && !t.starts_with('-') => task = Some(t.to_owned()),
            other => {
                eprintln!("error: unexpected argument `{other}`\n\n{HELP}");
                return ExitCode::from(2);
            }
        }
    }
    if let Err(e) = signals::install() {
        eprintln!("xtask: error: {e}");
        return ExitCode::FAILURE;
    }
    let outcome = match task.as_deref() {
        Some("ci") => ci::run(options),
        Some("e2e") => e2e::run(options),
        Some("demo") if options.s3 => s3::demo(options),
        Some("demo") => demo::run(options),
        Some("bench") => bench::run(options),
        Some("fuzz") => fuzz::run(options.fuzz_seconds.unwrap_or(60), options.fuzz_target),
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{HELP}");
            return ExitCode::from(2);
        }
        None => {
            eprint!("{HELP}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
