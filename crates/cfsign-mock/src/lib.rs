//! A local, faithful Amazon CloudFront for tests and laptops: the control plane for public keys,
//! key groups and distributions (REST-XML under `/2020-05-31/`, as aws-sdk-cloudfront and boto3
//! speak it) plus an edge that enforces trusted key groups with [`cfsign::verify`].
//!
//! # Starting it in-process
//!
//! ```
//! use cfsign_mock::{MockConfig, start};
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
//! # rt.block_on(async {
//! let mock = start(MockConfig::default().with_demo(true)).await?;
//! // Point aws-sdk-cloudfront / boto3 at this endpoint URL (any credentials are accepted).
//! assert!(mock.endpoint().starts_with("http://127.0.0.1:"));
//! let demo = mock.demo().expect("asked for the demo");
//! // `curl {edge}/public/hello.txt` is served; `/private/*` needs a signature by the demo key.
//! let edge = mock.edge_base(demo.domain_name());
//! assert!(edge.ends_with(&format!(".cloudfront.net.localhost:{}", mock.port())));
//! mock.shutdown().await;
//! # Ok::<(), cfsign_mock::Error>(()) }).map_err(|e| e.to_string())?;
//! # Ok::<(), String>(())
//! ```
//!
//! # Reaching a distribution
//!
//! A distribution with domain name `d1234abcd.cloudfront.net` is served for the `Host` header
//! `d1234abcd.cloudfront.net.localhost:PORT` (or `d1234abcd.cloudfront.net`, or any of its
//! aliases), so `curl http://d1234abcd.cloudfront.net.localhost:PORT/a.jpg` works without DNS
//! set-up. Without a special host name, use the path prefix
//! `http://127.0.0.1:PORT/_edge/d1234abcd.cloudfront.net/a.jpg` or start with
//! [`MockConfig::with_default_distribution`]. The resource a signature covers is always the URL
//! exactly as the client sent it.
//!
//! # Authentication
//!
//! The mock accepts any SigV4 `Authorization` header (or none) and checks no signature.

mod api;
mod clock;
mod demo;
mod edge;
mod error;
mod origin;
mod state;
mod tagging;
mod xml;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::clock::Clock;
pub use crate::demo::Demo;
pub use crate::error::Error;

/// The port the `cfsign-mock` binary listens on by default (as LocalStack uses 4566).
pub const DEFAULT_PORT: u16 = 4580;

/// The largest control-plane request body accepted, in bytes; larger bodies get `413 EntityTooLarge`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How to start the mock. `MockConfig::default()` listens on `127.0.0.1:0` (a free port), keeps
/// state in memory, serves no origin directory and reads the system clock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    host: IpAddr,
    port: u16,
    origin: Option<PathBuf>,
    origins: BTreeMap<String, PathBuf>,
    state_file: Option<PathBuf>,
    demo: bool,
    demo_key_file: Option<PathBuf>,
    clock: Clock,
    default_distribution: Option<String>,
    grant_cache: bool,
    strict: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            origin: None,
            origins: BTreeMap::new(),
            state_file: None,
            demo: false,
            demo_key_file: None,
            clock: Clock::System,
            default_distribution: None,
            grant_cache: true,
            strict: false,
        }
    }
}

/// The TOML file given to `--config`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The default origin directory.
    origin: Option<PathBuf>,
    /// Origin domain name (as in a distribution's `Origins`) → directory.
    #[serde(default)]
    origins: BTreeMap<String, PathBuf>,
    /// Distribution ID or domain name to serve for unknown hosts.
    default_distribution: Option<String>,
}

impl MockConfig {
    /// The default configuration (same as `MockConfig::default()`).
    pub fn new() -> MockConfig {
        MockConfig::default()
    }

    /// Listens on `port` (0 picks a free port).
    pub fn with_port(mut self, port: u16) -> MockConfig {
        self.port = port;
        self
    }

    /// Listens on `host` instead of `127.0.0.1`.
    pub fn with_host(mut self, host: IpAddr) -> MockConfig {
        self.host = host;
        self
    }

    /// Serves files from `dir` for every origin that has no directory of its own.
    pub fn with_origin(mut self, dir: impl Into<PathBuf>) -> MockConfig {
        self.origin = Some(dir.into());
        self
    }

    /// Serves files from `dir` for the origin whose `DomainName` is `origin_domain`
    /// (for example `my-bucket.s3.amazonaws.com`).
    pub fn with_origin_for(
        mut self,
        origin_domain: impl Into<String>,
        dir: impl Into<PathBuf>,
    ) -> MockConfig {
        self.origins
            .insert(origin_domain.into().to_ascii_lowercase(), dir.into());
        self
    }

    /// Loads control-plane state from `path` at start (if it exists) and saves it there
    /// atomically after every change.
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> MockConfig {
        self.state_file = Some(path.into());
        self
    }

    /// Seeds a demo distribution (see [`Demo`]).
    pub fn with_demo(mut self, demo: bool) -> MockConfig {
        self.demo = demo;
        self
    }

    /// Where the demo's private key is read from (if present) or written to (mode 0600), so
    /// a demo survives restarts with a state file.
    pub fn with_demo_key_file(mut self, path: impl Into<PathBuf>) -> MockConfig {
        self.demo_key_file = Some(path.into());
        self
    }

    /// The clock the edge uses to check expiry.
    pub fn with_clock(mut self, clock: Clock) -> MockConfig {
        self.clock = clock;
        self
    }

    /// Serves the distribution with this ID or domain name for requests whose `Host` matches
    /// no distribution (and whose path is not under `/2020-05-31/`).
    pub fn with_default_distribution(mut self, id_or_domain: impl Into<String>) -> MockConfig {
        self.default_distribution = Some(id_or_domain.into());
        self
    }

    /// Whether the edge remembers grants (default on): a request identical to one already
    /// granted (same URL, `Cookie` header and client IP) is served without verifying the
    /// signature again while the grant's time window holds. Denials are never remembered, and any
    /// control-plane change forgets everything. Turn it off to measure raw verification.
    pub fn with_grant_cache(mut self, enabled: bool) -> MockConfig {
        self.grant_cache = enabled;
        self
    }

    /// Whether the edge denies requests that CloudFront's documentation does not promise to serve
    /// (default off). Off, such a request is served as cfsign's best evidence says CloudFront
    /// serves it, and the edge logs a warning naming the undocumented behaviour; on, it is denied
    /// with the 403 CloudFront would most likely send ([`cfsign::Decision::strict`]).
    pub fn with_strict(mut self, strict: bool) -> MockConfig {
        self.strict = strict;
        self
    }

    /// Reads a TOML file with the keys `origin = "DIR"`, `default_distribution = "ID"` and a table
    /// `[origins]` mapping origin domain names to directories; relative paths are resolved
    /// against the file's directory. Values in the file override earlier settings.
    pub fn with_config_file(mut self, path: &Path) -> Result<MockConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "read the config file",
            path: path.to_owned(),
            source,
        })?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(dir) = file.origin {
            self.origin = Some(base.join(dir));
        }
        for (domain, dir) in file.origins {
            self.origins
                .insert(domain.to_ascii_lowercase(), base.join(dir));
        }
        if let Some(d) = file.default_distribution {
            self.default_distribution = Some(d);
        }
        Ok(self)
    }
}

/// A running mock. Dropping it stops the server; [`RunningMock::shutdown`] also waits for it.
#[derive(Debug)]
pub struct RunningMock {
    addr: SocketAddr,
    demo: Option<Demo>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningMock {
    /// The control-plane endpoint URL for SDKs (`endpoint_url`), like `http://127.0.0.1:4580`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port the mock listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The socket address the mock listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The edge URL base for a distribution domain name, like
    /// `http://d1234abcd.cloudfront.net.localhost:4580`.
    pub fn edge_base(&self, distribution_domain: &str) -> String {
        format!(
            "http://{}.localhost:{}",
            distribution_domain,
            self.addr.port()
        )
    }

    /// What `--demo` created, if it was asked for.
    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server stops (it stops only on shutdown or drop of another handle; the
    /// binary uses this together with a signal handler).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The whole service, control plane and edge, as an axum `Router` without a socket: for
/// in-process tests with `tower::ServiceExt::oneshot` (loads the state file and seeds the demo
/// like [`start`]). The viewer's address is read from the request's
/// `axum::extract::ConnectInfo<SocketAddr>` extension, loopback when absent.
pub fn router(config: &MockConfig) -> Result<axum::Router, Error> {
    let shared = Arc::new(state::Shared::open(config)?);
    if config.demo {
        demo::seed(&shared, config)?;
    }
    Ok(api::router(shared))
}

/// Starts the mock: loads the state file, seeds the demo if asked, binds the socket and serves in
/// a background task of the current tokio runtime.
pub async fn start(config: MockConfig) -> Result<RunningMock, Error> {
    let shared = Arc::new(state::Shared::open(&config)?);
    let demo = if config.demo {
        Some(demo::seed(&shared, &config)?)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind((config.host, config.port))
        .await
        .map_err(|source| Error::Bind {
            addr: SocketAddr::new(config.host, config.port),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: SocketAddr::new(config.host, config.port),
        source,
    })?;
    let app = api::router(shared);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("cfsign-mock server stopped: {e}");
        }
    });
    Ok(RunningMock {
        addr,
        demo,
        stop: Some(stop_tx),
        task: Some(task),
    })
}
