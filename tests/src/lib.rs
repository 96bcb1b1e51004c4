//! cfsign's test harness, one copy for every test and for xtask: build the workspace binaries
//! ([`build`]), start services on loopback, wait until they answer and stop them on drop
//! ([`proc`]), talk HTTP to them with exact control of the request ([`http`]), bring up the
//! provisioned stack — the mock, a distribution, `cfsign-provision setup`, the server ([`stack`])
//! — and make a short test stream with ffmpeg ([`media`]); a test whose tool is missing fails under
//! `CI=true` and skips otherwise ([`require`]).
//!
//! It depends on no cfsign crate: the crates' integration tests have it as a dev-dependency, so a
//! dependency back would be a cycle. Every fallible helper returns [`Result`]; a test unwraps it
//! (the [`Error`]'s `Debug` is its message, service logs included, without escaping).
//!
//! ```no_run
//! use cfsign_tests::{http, proc::Launch};
//!
//! let mut cmd = cfsign_tests::command("cfsign-mock");
//! cmd.args(["--port", "0"]);
//! let mock = Launch::new("cfsign-mock", cmd).start()?;
//! let resp = http::get(&format!("{}/2020-05-31/distribution", mock.url())).send()?;
//! assert_eq!(resp.status, 200);
//! # Ok::<(), cfsign_tests::Error>(())
//! ```

pub mod build;
pub mod http;
pub mod lambda;
pub mod media;
pub mod moto;
pub mod proc;
pub mod require;
pub mod stack;

use std::fmt;
use std::process::{Command, Output};

pub use build::{BINARIES, Binaries, bin, binaries, cargo, command, stale_sources, workspace_root};

/// What went wrong, as a message for a person: the command, the URL or the service, and what it
/// said (a service's log tail when it failed to start).
pub struct Error {
    message: String,
}

/// The harness's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The message itself, so that `unwrap()` in a test prints a service's log as lines.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// xtask's errors are strings: `?` turns ours into one.
impl From<Error> for String {
    fn from(e: Error) -> String {
        e.message
    }
}

/// Runs `cmd` and returns its output, panicking with both streams unless it exits 0.
///
/// # Panics
/// When it cannot run or exits otherwise: the test fails with what it printed.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", proc::describe(cmd)));
    assert!(
        out.status.success(),
        "{} failed with {}\nstdout: {}\nstderr: {}",
        proc::describe(cmd),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
