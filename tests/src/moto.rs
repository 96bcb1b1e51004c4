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

/// Runs the Python `script` with boto3 against moto at `endpoint` (test credentials, region
/// us-east-1, no profile files) and returns what it printed; the script gets `endpoint` and a
/// `client(service)` function. For setting up keys, secrets and parameters in tests.
pub fn boto3(endpoint: &str, script: &str) -> Result<String> {
    let prelude = "import boto3, json, sys\n\
                   endpoint = sys.argv[1]\n\
                   def client(service):\n    return boto3.client(service, endpoint_url=endpoint, region_name='us-east-1', \
                   aws_access_key_id='testing', aws_secret_access_key='testing')\n";
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg(format!("{prelude}{script}"))
        .arg(endpoint)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let captured = crate::proc::capture(&mut cmd, None)?;
    if !captured.ok() {
        return Err(crate::Error::new(format!(
            "boto3 script failed: {}",
            captured.summary()
        )));
    }
    Ok(captured.stdout)
}

/// The environment a binary needs to use moto at `endpoint` as AWS: `AWS_ENDPOINT_URL`, test
/// credentials, a region, and no instance metadata or profile files.
pub fn env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
    ]
}
