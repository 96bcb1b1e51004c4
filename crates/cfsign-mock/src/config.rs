//! How to start the mock: [`MockConfig`], its builder methods and the `--config` TOML file.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::error::Error;
use crate::requests::DEFAULT_REQUEST_LOG_ENTRIES;
use crate::sigv4::Credentials;
use crate::upstream::{HttpTarget, S3Endpoint};

/// The port the `cfsign-mock` binary listens on by default (as LocalStack uses 4566).
pub const DEFAULT_PORT: u16 = 4580;

/// How to start the mock. `MockConfig::default()` listens on `127.0.0.1:0` (a free port), keeps
/// state in memory, serves no origin directory and reads the system clock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub(crate) host: IpAddr,
    pub(crate) port: u16,
    pub(crate) origin: Option<PathBuf>,
    pub(crate) origins: BTreeMap<String, PathBuf>,
    pub(crate) state_file: Option<PathBuf>,
    pub(crate) demo: bool,
    pub(crate) demo_key_file: Option<PathBuf>,
    pub(crate) clock: Clock,
    pub(crate) default_distribution: Option<String>,
    pub(crate) grant_cache: bool,
    pub(crate) strict: bool,
    pub(crate) explain: bool,
    pub(crate) request_log_entries: usize,
    pub(crate) console_remote: bool,
    pub(crate) deployment_secs: u64,
    pub(crate) s3_endpoint: Option<HttpTarget>,
    pub(crate) s3_credentials: Option<Credentials>,
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
            explain: false,
            request_log_entries: DEFAULT_REQUEST_LOG_ENTRIES,
            console_remote: false,
            deployment_secs: 0,
            s3_endpoint: None,
            s3_credentials: None,
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
    /// The S3-compatible endpoint and the credentials for origin access control.
    s3: Option<S3File>,
}

/// The `[s3]` table of the config file.
#[derive(Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct S3File {
    endpoint: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
}

impl std::fmt::Debug for S3File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3File")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
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

    /// Seeds a demo distribution (see [`Demo`](crate::Demo)).
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

    /// The clock the edge uses to check expiry and the control plane uses for `CreatedTime` and
    /// `LastModifiedTime`.
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

    /// Whether every edge answer carries an `x-cfsign-reason` header with the edge's explanation
    /// (default off, so answers stay byte-identical to CloudFront's). A single request can ask
    /// for it with the request header `x-cfsign-explain: 1`.
    pub fn with_explain(mut self, explain: bool) -> MockConfig {
        self.explain = explain;
        self
    }

    /// How many edge requests the request log keeps for `GET /_cfsign/requests` and the console
    /// (default [`DEFAULT_REQUEST_LOG_ENTRIES`]; 0 keeps none).
    pub fn with_request_log_entries(mut self, entries: usize) -> MockConfig {
        self.request_log_entries = entries;
        self
    }

    /// Whether `/_cfsign/` (the request log, the console and its verify endpoint) answers
    /// viewers that are not on loopback (default off: they get 403). Only matters when the mock
    /// listens on a non-loopback address; the console shows every logged URL to whoever asks.
    pub fn with_insecure_remote_console(mut self, allow: bool) -> MockConfig {
        self.console_remote = allow;
        self
    }

    /// How long a distribution's `Status` stays `InProgress` after it is created or changed, by
    /// the mock's clock (default 0: always `Deployed`). The edge applies changes at once either
    /// way; this only lets tools see what CloudFront reports while a change propagates.
    pub fn with_deployment_secs(mut self, secs: u64) -> MockConfig {
        self.deployment_secs = secs;
        self
    }

    /// Reads S3 origins (distribution origins whose `DomainName` is a bucket's REST endpoint, like
    /// `media.s3.eu-west-1.amazonaws.com`) path-style from this S3-compatible endpoint, like
    /// `http://127.0.0.1:9000` (moto, MinIO, LocalStack). Only plain HTTP is spoken.
    pub fn with_s3_endpoint(mut self, url: &str) -> Result<MockConfig, Error> {
        let target = HttpTarget::parse_url(url.trim()).map_err(|detail| Error::S3Endpoint {
            url: url.to_owned(),
            detail,
        })?;
        self.s3_endpoint = Some(target);
        Ok(self)
    }

    /// The credentials that sign origin requests to S3 origins whose origin access control says
    /// `always` or `no-override` (CloudFront signs as its service principal; the mock signs with
    /// these, so the S3 stand-in can check them).
    pub fn with_s3_credentials(mut self, credentials: Credentials) -> MockConfig {
        self.s3_credentials = Some(credentials);
        self
    }

    /// The S3 endpoint with its credentials, when an endpoint is configured.
    pub(crate) fn s3(&self) -> Option<S3Endpoint> {
        self.s3_endpoint.clone().map(|target| S3Endpoint {
            target,
            credentials: self.s3_credentials.clone(),
        })
    }

    /// Reads a TOML file with the keys `origin = "DIR"`, `default_distribution = "ID"`, a table
    /// `[origins]` mapping origin domain names to directories, and a table `[s3]` with
    /// `endpoint`, `access_key_id`, `secret_access_key` and `session_token`; relative paths are
    /// resolved against the file's directory. Values in the file override earlier settings.
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
        if let Some(s3) = file.s3 {
            if let Some(url) = &s3.endpoint {
                self = self.with_s3_endpoint(url).map_err(|e| Error::Config {
                    path: path.to_owned(),
                    detail: format!("[s3] endpoint: {e}"),
                })?;
            }
            match (s3.access_key_id, s3.secret_access_key) {
                (Some(id), Some(secret)) => {
                    let secret = Zeroizing::new(secret);
                    self.s3_credentials =
                        Some(Credentials::new(id, secret.as_str(), s3.session_token));
                }
                (None, None) => {}
                _ => {
                    return Err(Error::Config {
                        path: path.to_owned(),
                        detail: "[s3] needs both access_key_id and secret_access_key (or neither)"
                            .to_owned(),
                    });
                }
            }
        }
        Ok(self)
    }
}
