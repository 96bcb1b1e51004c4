//! The AWS side of a test: moto's server (`python3 -m moto.server`) on a free loopback port and
//! stopped on drop (a test that needs it fails under `CI=true` when moto is missing, and skips
//! with a loud message otherwise), boto3 to set it up, and a loopback endpoint that answers every
//! call with one error (throttling).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Result;
use crate::proc::{Launch, Service, free_port};
use crate::require::skip_or_fail;

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
    launch(&[])?.start().map(Some)
}

/// moto's server on a free loopback port with extra environment `env` (e.g.
/// `INITIAL_NO_AUTH_ACTION_COUNT`, how many requests moto serves before it checks SigV4), ready once the port
/// accepts connections (moto prints no ready line of ours), not yet started: for a caller that
/// checks for moto itself and wants more of [`Launch`] (a log file). [`start`] is the usual way.
pub fn launch(env: &[(&str, &str)]) -> Result<Launch> {
    let port = free_port()?;
    let mut cmd = Command::new("python3");
    cmd.args([
        "-m",
        "moto.server",
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ])
    .envs(env.iter().copied());
    Ok(Launch::new("moto", cmd).ready_when_accepting(port))
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

/// A loopback stand-in for an AWS endpoint that answers every request with `status` and the JSON
/// `body` (the awsJson protocol of KMS, Secrets Manager and SSM), e.g. a `ThrottlingException`.
/// Returns its URL and a count of the requests it answered; it runs until the process ends.
pub fn answering(status: u16, body: &'static str) -> Result<(String, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| crate::Error::new(format!("cannot bind a loopback port: {e}")))?;
    let url = listener
        .local_addr()
        .map(|a| format!("http://{a}"))
        .map_err(|e| crate::Error::new(format!("no local address: {e}")))?;
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || answer(stream, status, body, &counter));
        }
    });
    Ok((url, count))
}

/// Answers the requests of one keep-alive connection until the client closes it.
fn answer(stream: TcpStream, status: u16, body: &str, counter: &AtomicUsize) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut stream = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut request_body = vec![0; length];
        if reader.read_exact(&mut request_body).is_err() {
            return;
        }
        counter.fetch_add(1, Ordering::SeqCst);
        let response = format!(
            "HTTP/1.1 {status} Error\r\ncontent-type: application/x-amz-json-1.1\r\n\
             x-amzn-requestid: cfsign-tests\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
