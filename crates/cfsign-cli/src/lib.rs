//! The `cfsign` command-line tool: sign, verify and inspect Amazon CloudFront signed URLs and
//! cookies, generate keys, sign in bulk on all cores, and stand in for `aws cloudfront sign`.
//!
//! The logic lives here; `main.rs` only calls [`main`]. This crate reads the clock, files and
//! stdin, then calls the core crate [`cfsign`] (it never depends on the AWS SDK).
//!
//! # Exit codes
//!
//! - `0`: success (`verify`: CloudFront would serve the request);
//! - `1`: `verify`: CloudFront would answer 403; bulk `sign`: some lines failed; `inspect`: parts are
//!   missing or undecodable; `stream manifest --require-all`: some URIs would be left unsigned;
//! - `2`: usage or input error (bad flag, key, URL, time, unreadable file).
//!
//! A closed output pipe (`cfsign sign - < urls | head`) is not an error.

mod cli;
mod keys;
mod output;
mod sign;
mod stream;
mod times;
mod verify;

use std::io;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Command};
use crate::output::Out;

/// How a command ended, when it did not fail with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit code 0.
    Success,
    /// Exit code 1: denied, or some bulk lines failed.
    Failure,
}

/// Exit code for usage and input errors.
const EXIT_ERROR: u8 = 2;

/// Runs `cfsign` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` are "errors" with exit code 0; a closed pipe is not worth a message.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(EXIT_ERROR));
        }
    };
    let mut out = Out::stdout();
    let result = run(&cli.command, &mut out).and_then(|outcome| {
        out.flush()?;
        Ok(outcome)
    });
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failure) => ExitCode::from(1),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(command: &Command, out: &mut Out) -> anyhow::Result<Outcome> {
    match command {
        Command::Keygen(args) => keys::keygen(args, out).map(|()| Outcome::Success),
        Command::Pubkey(args) => keys::pubkey(args, out).map(|()| Outcome::Success),
        Command::Sign(args) => sign::sign(args, out),
        Command::Cookies(args) => sign::cookies(args, out),
        Command::Stream(command) => stream::stream(command, out),
        Command::Verify(args) => verify::verify(args, out),
        Command::Inspect(args) => verify::inspect(args, out),
        Command::Completions(args) => {
            let mut buf = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "cfsign", &mut buf);
            out.write_str(&String::from_utf8_lossy(&buf))?;
            Ok(Outcome::Success)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
