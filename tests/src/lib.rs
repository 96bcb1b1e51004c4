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
use std::time::{Duration, Instant, SystemTime};

/// The binaries the tests run.
pub const BINARIES: [&str; 4] = ["cfsign", "cfsign-mock", "cfsign-provision", "cfsign-server"];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The `cargo build` that [`bin`] runs: [`BINARIES`], with the package selection (`--workspace`)
/// and feature resolution (dev-dependencies on, as `--examples` needs them) of
/// `cargo test --workspace`, in the target directory and profile of the running test executable.
///
/// Cargo's own up-to-date check thus decides what to rebuild: right after `cargo test --workspace`
/// (which builds these binaries for the crates' integration tests) every unit is fresh and the
/// build takes well under a second; run alone (`cargo test -p cfsign-tests`) after an edit, it
/// rebuilds what changed, so a stale binary is never tested. A plain `cargo build -p <crate>…`
/// would resolve features without the dev-dependencies (serde's `alloc`, for one) and rebuild
/// about 40 crates (two minutes here) into a second copy of every binary.
/// `xtask/src/proc.rs` builds the same way, so `cargo xtask e2e` after the tests is a no-op too.
pub fn build_command() -> Command {
    let mut cmd = cargo();
    cmd.args(workspace_build_args(&BINARIES));
    if let Ok(exe) = std::env::current_exe() {
        cmd.args(layout_args(&exe));
    }
    cmd
}

/// `cargo` as the one that runs us (`$CARGO`), in the workspace root, without the variables cargo
/// sets for the package being built or tested (`CARGO_PKG_NAME=cfsign-tests`, `CARGO_MANIFEST_DIR`,
/// …): build scripts that watch them (ring's watches `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR`)
/// would otherwise rerun, and recompile ring, aws-config and cfsign-provision on every test run and
/// again on the next plain `cargo build`. xtask starts every cargo through this too.
pub fn cargo() -> Command {
    const SET_FOR_PACKAGE: [&str; 6] = [
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    for (key, _) in std::env::vars_os() {
        let Some(name) = key.to_str() else { continue };
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || SET_FOR_PACKAGE.contains(&name)
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// The arguments of a `cargo build` of the binaries `names` with the package selection and
/// feature resolution of `cargo test --workspace` (see [`build_command`]), reporting artifacts
/// as JSON lines on stdout for [`built_binaries`].
pub fn workspace_build_args(names: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "build",
        "--message-format=json-render-diagnostics",
        "--workspace",
        "--examples",
    ]
    .map(str::to_owned)
    .to_vec();
    for name in names {
        args.extend(["--bin".to_owned(), (*name).to_owned()]);
    }
    args
}

/// The binaries (name → path) a `cargo build --message-format=json…` reported on `stdout`.
pub fn built_binaries(stdout: &str) -> BTreeMap<String, PathBuf> {
    let mut bins = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" || msg["target"]["kind"][0] != "bin" {
            continue;
        }
        if let (Some(exe), Some(name)) =
            (msg["executable"].as_str(), msg["target"]["name"].as_str())
        {
            bins.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    bins
}

/// `--target-dir`, `--target` and profile arguments that reproduce the build that made `exe`
/// (`<target-dir>[/<triple>]/<profile-dir>/deps/<name>`); none when `exe` is not laid out so.
fn layout_args(exe: &Path) -> Vec<std::ffi::OsString> {
    let Some(profile_dir) = exe
        .parent()
        .filter(|deps| deps.file_name().is_some_and(|n| n == "deps"))
        .and_then(Path::parent)
    else {
        return Vec::new();
    };
    let Some(profile) = profile_dir.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let Some(parent) = profile_dir.parent() else {
        return Vec::new();
    };
    // Cargo tags the root of every target directory; a cross build nests `<triple>/` below it.
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    if parent.join("CACHEDIR.TAG").is_file() {
        args.extend(["--target-dir".into(), parent.into()]);
    } else if let (Some(root), Some(triple)) = (parent.parent(), parent.file_name())
        && root.join("CACHEDIR.TAG").is_file()
    {
        args.extend(["--target-dir".into(), root.into()]);
        args.extend(["--target".into(), triple.to_owned()]);
    } else {
        return Vec::new();
    }
    match profile {
        // `dev` and `test` share `debug/`, and build the binaries alike.
        "debug" => {}
        "release" => args.push("--release".into()),
        custom => args.extend(["--profile".into(), custom.into()]),
    }
    args
}

/// What [`bin`] built: the binaries by name, and when the build started.
#[derive(Debug)]
struct Built {
    bins: BTreeMap<String, PathBuf>,
    started: SystemTime,
}

fn build_all() -> Result<Built, String> {
    let mut cmd = build_command();
    let started = SystemTime::now();
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let bins = built_binaries(&String::from_utf8_lossy(&output.stdout));
    if output.status.success() {
        Ok(Built { bins, started })
    } else {
        Err(format!("{cmd:?} failed (errors above)"))
    }
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    match BUILT.get_or_init(build_all) {
        Ok(built) => built,
        Err(e) => panic!("{e}"),
    }
}

/// The path of binary `name`, after [`build_command`] (run once per process) brought every
/// binary up to date.
///
/// # Panics
/// When the build fails or no such binary exists: a test that needs it cannot run.
pub fn bin(name: &str) -> PathBuf {
    let bins = &built().bins;
    match bins.get(name) {
        Some(path) => path.clone(),
        None => panic!(
            "binary `{name}` was not built (built: {:?}); does its crate declare it?",
            bins.keys().collect::<Vec<_>>()
        ),
    }
}

/// The source files binary `name` was built from (cargo's dep-info next to it) that are newer
/// than the binary although they were saved before [`bin`]'s build started: empty unless the
/// binary is stale.
///
/// # Panics
/// When the binary or its dep-info file cannot be read.
pub fn stale_sources(name: &str) -> Vec<PathBuf> {
    let exe = bin(name);
    let mtime = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let built_at = mtime(&exe);
    let dep_info = exe.with_extension("d");
    let text = std::fs::read_to_string(&dep_info)
        .unwrap_or_else(|e| panic!("{}: {e}", dep_info.display()));
    let sources = text.split_once(": ").map_or("", |(_, deps)| deps);
    // Make-style list: spaces inside a path are escaped as `\ `.
    let sources = sources.replace("\\ ", "\0");
    sources
        .split_whitespace()
        // Relative when `build.dep-info-basedir` is set; taken as relative to the workspace.
        .map(|s| workspace_root().join(s.replace('\0', " ")))
        .filter(|path| {
            let modified = mtime(path);
            modified > built_at && modified < built().started
        })
        .collect()
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
