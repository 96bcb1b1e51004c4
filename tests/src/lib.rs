//! Helpers for cfsign's cross-crate black-box tests: build and locate the real binaries, run
//! services with a kill-on-drop guard, and talk HTTP to them on loopback.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The packages whose binaries the tests run.
pub const PACKAGES: [&str; 4] = [
    "cfsign-cli",
    "cfsign-mock",
    "cfsign-provision",
    "cfsign-server",
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn build_all() -> Result<BTreeMap<String, PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "--message-format=json-render-diagnostics"]);
    for p in PACKAGES {
        cmd.args(["-p", p]);
    }
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    let mut bins = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(exe), Some(name)) =
            (msg["executable"].as_str(), msg["target"]["name"].as_str())
        {
            bins.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    if output.status.success() {
        Ok(bins)
    } else {
        Err(format!("cargo build of {PACKAGES:?} failed (errors above)"))
    }
}

/// The path of binary `name`, building every package's binaries (once per process) first.
///
/// # Panics
/// When the build fails or no such binary exists: a test that needs it cannot run.
pub fn bin(name: &str) -> PathBuf {
    static BINS: OnceLock<Result<BTreeMap<String, PathBuf>, String>> = OnceLock::new();
    match BINS.get_or_init(build_all) {
        Ok(bins) => match bins.get(name) {
            Some(path) => path.clone(),
            None => panic!(
                "binary `{name}` was not built (built: {:?}); does its crate declare it?",
                bins.keys().collect::<Vec<_>>()
            ),
        },
        Err(e) => panic!("{e}"),
    }
}

/// A `Command` for binary `name`.
pub fn command(name: &str) -> Command {
    Command::new(bin(name))
}

/// Runs `cmd` and returns its output, panicking with both streams unless it exits 0.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"))
}

/// A running service, killed and reaped on drop (also while a failing test unwinds).
#[derive(Debug)]
pub struct Service {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Service {
    /// Spawns `cmd` (stdout and stderr to `log`) and waits up to 30 s for `listening on URL`.
    ///
    /// # Panics
    /// When it exits first or never prints the line; the message holds its log.
    pub fn start(mut cmd: Command, log: &Path) -> Service {
        let log_file =
            std::fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = log_file
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let mut log_file = log_file;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log_file, "{line}");
                if let Some(pos) = line.find("listening on ") {
                    let _ = tx.send(line[pos + "listening on ".len()..].trim().to_owned());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut service = Service {
            child,
            url: String::new(),
            log: log.to_owned(),
        };
        loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                service.url = url;
                return service;
            }
            let exited = matches!(service.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                panic!(
                    "{cmd:?} {} before printing `listening on`; log:\n{}",
                    if exited { "exited" } else { "took over 30 s" },
                    std::fs::read_to_string(&service.log).unwrap_or_default()
                );
            }
        }
    }

    /// The URL from its `listening on` line, without a trailing slash.
    pub fn url(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Body (`Content-Length` or read to the end; chunked bodies are not decoded).
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method url` with optional extra headers and body to 127.0.0.1, keeping the URL's host
/// (`*.localhost` included) in the `Host` header.
///
/// # Panics
/// On a connection or protocol error.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let port = authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .unwrap_or(80);
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("cannot connect to 127.0.0.1:{port}: {e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .unwrap_or_else(|e| panic!("sending to {url}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading from {url}: {e}"));
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head from {url}"));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line from {url}: {head}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Response {
        status,
        headers,
        body,
    }
}

/// `GET url`, with a `Cookie` header when given.
pub fn get(url: &str, cookie: Option<&str>) -> Response {
    match cookie {
        Some(c) => request("GET", url, &[("cookie", c)], b""),
        None => request("GET", url, &[], b""),
    }
}

/// A mock with an origin directory and one distribution whose `/private/*` behaviour is then
/// restricted by `cfsign-provision setup`.
#[derive(Debug)]
pub struct Provisioned {
    /// The mock.
    pub mock: Service,
    /// The distribution's domain name.
    pub domain: String,
    /// The mock's port.
    pub port: u16,
    /// `setup --json`'s output.
    pub setup: serde_json::Value,
}

impl Provisioned {
    /// Starts the mock in `dir` with `files` (path, contents) as its origin, creates a
    /// distribution and runs `cfsign-provision setup` for `/private/*`.
    ///
    /// # Panics
    /// When any step fails.
    pub fn start(dir: &Path, files: &[(&str, &[u8])]) -> Provisioned {
        let origin = dir.join("origin");
        for (path, bytes) in files {
            let path = origin.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        }
        let port = free_port();
        let mut cmd = command("cfsign-mock");
        cmd.args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--origin",
        ])
        .arg(&origin);
        let mock = Service::start(cmd, &dir.join("mock.log"));
        let (id, domain) = create_distribution(mock.url());
        let setup = run_ok(
            provision(mock.url())
                .args(["--json", "setup", "--distribution-id", &id])
                .args(["--path-pattern", "/private/*", "--private-key-out"])
                .arg(dir.join("key.pem")),
        );
        let setup: serde_json::Value = serde_json::from_slice(&setup.stdout)
            .unwrap_or_else(|e| panic!("setup --json printed no JSON: {e}"));
        Provisioned {
            mock,
            domain,
            port,
            setup,
        }
    }

    /// `http://<domain>.localhost:<port><path>`.
    pub fn edge(&self, path: &str) -> String {
        format!("http://{}.localhost:{}{path}", self.domain, self.port)
    }

    /// A string field of the setup output.
    ///
    /// # Panics
    /// When it is absent.
    pub fn setup_field(&self, name: &str) -> String {
        self.setup[name]
            .as_str()
            .unwrap_or_else(|| panic!("setup --json lacks `{name}`: {}", self.setup))
            .to_owned()
    }
}

/// A `cfsign-provision` command pointed at `endpoint` with test credentials.
pub fn provision(endpoint: &str) -> Command {
    let mut cmd = command("cfsign-provision");
    cmd.args(["--endpoint-url", endpoint])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE");
    cmd
}

/// Creates a distribution (default behaviour public, `/private/*` its own behaviour) through the
/// mock's control-plane API; returns its ID and domain name.
///
/// # Panics
/// When the mock does not answer 201.
pub fn create_distribution(endpoint: &str) -> (String, String) {
    let behavior = |pattern: &str| {
        format!(
            "{pattern}<TargetOriginId>local</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>\
             <TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>\
             <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId>"
        )
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <DistributionConfig xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
         <CallerReference>cfsign-tests-{}</CallerReference><Comment>tests</Comment><Enabled>true</Enabled>\
         <Origins><Quantity>1</Quantity><Items><Origin><Id>local</Id><DomainName>origin.local</DomainName>\
         <S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
         <DefaultCacheBehavior>{}</DefaultCacheBehavior>\
         <CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior>{}</CacheBehavior></Items></CacheBehaviors>\
         </DistributionConfig>",
        free_port(),
        behavior(""),
        behavior("<PathPattern>/private/*</PathPattern>")
    );
    let resp = request(
        "POST",
        &format!("{endpoint}/2020-05-31/distribution"),
        &[("content-type", "application/xml")],
        body.as_bytes(),
    );
    assert_eq!(resp.status, 201, "CreateDistribution: {}", resp.text());
    let text = resp.text();
    let value = |tag: &str| {
        let open = format!("<{tag}>");
        let start = text
            .find(&open)
            .unwrap_or_else(|| panic!("no <{tag}> in {text}"))
            + open.len();
        let end = text[start..]
            .find(&format!("</{tag}>"))
            .unwrap_or_else(|| panic!("no </{tag}> in {text}"))
            + start;
        text[start..end].to_owned()
    };
    (value("Id"), value("DomainName"))
}

/// The `<Code>` of a CloudFront XML error body.
pub fn error_code(resp: &Response) -> Option<String> {
    let text = resp.text();
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].to_owned())
}
