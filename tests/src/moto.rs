//! moto's server (`python3 -m moto.server`) as the AWS side of a test, on a free loopback port and
//! stopped on drop; a test that needs it fails under `CI=true` when moto is missing, and skips
//! with a loud message otherwise.

use std::process::{Command, Stdio};

use crate::Result;
use crate::proc::{Launch, Service, free_port};

/// Whether a missing tool must fail the test (in CI) or may skip it (locally).
///
/// # Panics
/// Under `CI=true`: a missing tool is a failure there.
pub fn skip_or_fail(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("\n!!!!!!!! SKIPPING: {what} (this would fail with CI=true) !!!!!!!!\n");
}

/// Starts moto's server, or returns `None` (after [`skip_or_fail`]) when moto is not installed.
/// Its URL is the `AWS_ENDPOINT_URL` for every service moto mocks.
pub fn start() -> Result<Option<Service>> {
    let probe = Command::new("python3")
        .args(["-c", "import moto.server, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(probe, Ok(s) if s.success()) {
        skip_or_fail("python3 with moto[server] is not installed (pip install 'moto[server]')");
        return Ok(None);
    }
    // moto prints no ready line of ours: it is up when its port accepts connections.
    let port = free_port()?;
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "moto.server",
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ]);
    Launch::new("moto", cmd)
        .ready_when_accepting(port)
        .start()
        .map(Some)
}
