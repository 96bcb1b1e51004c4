//! The TOML configuration file, its environment overrides, and its validation.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Looks up an environment variable; tests pass a map instead of the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for [`EnvLookup`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The whole configuration file. See the crate README for every key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listening, limits and logging.
    #[serde(default)]
    pub server: ServerConfig,
    /// The signature cache.
    #[serde(default)]
    pub cache: CacheConfig,
    /// The key pair ID that signs; may be omitted when exactly one key is configured.
    pub active_key: Option<String>,
    /// The signing keys.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    /// The clients allowed to ask for signatures.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Keys held in AWS (`kms_key_id`, `secret`, `ssm_parameter` in `[[keys]]`; the `aws`
    /// feature): how often they are read again, and how patiently AWS is called.
    #[serde(default)]
    pub aws: AwsSection,
}

/// `[aws]`: refreshing keys held in AWS, and the retries and timeouts of AWS calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSection {
    /// Seconds between reads of every key held in AWS (besides each reload); 0: only on reload.
    /// A failed read keeps the last good key.
    pub refresh_secs: u64,
    /// Attempts per AWS call (retried with exponential backoff and jitter), the first included.
    pub max_attempts: u32,
    /// Seconds one AWS call may take, retries included (a KMS signature holds its request up to
    /// this long).
    pub timeout_secs: u64,
}

impl Default for AwsSection {
    fn default() -> Self {
        AwsSection {
            refresh_secs: 300,
            max_attempts: 3,
            timeout_secs: 5,
        }
    }
}

/// `[server]`: listening, limits and logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on (`--listen` and `CFSIGN_SERVER_LISTEN` override it).
    pub listen: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Requests taking longer are answered 408 with the JSON error `timeout`.
    pub request_timeout_secs: u64,
    /// Requests handled at once; more wait (at most one per open connection).
    pub max_concurrency: usize,
    /// A connection must deliver each request head within this many seconds, or it is closed;
    /// this also closes keep-alive connections idle for that long.
    pub header_read_timeout_secs: u64,
    /// Connections open at once; a connection beyond it is answered 503 and closed at once.
    pub max_connections: usize,
    /// Largest request head (request line and headers) a connection may send, in bytes (at
    /// least 8192); it is also the most a connection buffers from the socket.
    pub max_header_bytes: usize,
    /// Signatures allowed to wait for a signer before `queue_full` applies.
    pub max_queue: usize,
    /// What a request that needs a signature meets when `max_queue` signatures wait already.
    pub queue_full: QueueFull,
    /// After SIGTERM, keep serving this many seconds with `/readyz` answering 503.
    pub drain_secs: u64,
    /// After the drain, wait at most this many seconds for requests in flight; then the
    /// remaining connections are dropped and the process exits.
    pub shutdown_grace_secs: u64,
    /// Largest number of items in one batch request.
    pub max_batch: usize,
    /// Largest URL or resource pattern a client may ask to sign, in bytes.
    pub max_url_bytes: usize,
    /// TTL used when a request gives neither `ttl` nor `expires` (capped by the client's `max_ttl`).
    pub default_ttl: Duration,
    /// Signatures computed at once (signer tasks on the async workers); unset means one per core.
    pub signing_threads: Option<std::num::NonZeroUsize>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8085".to_owned(),
            log_format: LogFormat::Text,
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 10,
            max_concurrency: 1024,
            header_read_timeout_secs: 30,
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
            max_queue: 1024,
            queue_full: QueueFull::Reject,
            drain_secs: 0,
            shutdown_grace_secs: 10,
            max_batch: 100,
            max_url_bytes: 4096,
            default_ttl: Duration(300),
            signing_threads: None,
        }
    }
}

/// The smallest `max_header_bytes`: hyper's smallest read buffer.
pub(crate) const MIN_HEADER_BYTES: usize = 8192;

/// The longest `header_read_timeout_secs`: a day.
const MAX_HEADER_READ_TIMEOUT_SECS: u64 = 86_400;

impl ServerConfig {
    /// Refuses values the server cannot run with: a zero connection cap, queue or header
    /// timeout, a header timeout over a day, a head limit below hyper's minimum.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let zero = [
            (
                "header_read_timeout_secs",
                self.header_read_timeout_secs == 0,
            ),
            ("max_connections", self.max_connections == 0),
            ("max_queue", self.max_queue == 0),
        ];
        for (name, is_zero) in zero {
            if is_zero {
                return Err(ConfigError::invalid(format!(
                    "server.{name} must be at least 1"
                )));
            }
        }
        // hyper adds it to the current instant, which must not overflow.
        if self.header_read_timeout_secs > MAX_HEADER_READ_TIMEOUT_SECS {
            return Err(ConfigError::invalid(format!(
                "server.header_read_timeout_secs = {} is more than a day ({MAX_HEADER_READ_TIMEOUT_SECS})",
                self.header_read_timeout_secs
            )));
        }
        if self.max_header_bytes < MIN_HEADER_BYTES {
            return Err(ConfigError::invalid(format!(
                "server.max_header_bytes = {} is below the smallest head buffer ({MIN_HEADER_BYTES})",
                self.max_header_bytes
            )));
        }
        Ok(())
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    fn parse(text: &str) -> Result<LogFormat, ConfigError> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(ConfigError::invalid(format!(
                "log format `{other}` is unknown: use `text` or `json`"
            ))),
        }
    }
}

/// What happens to a request that needs a signature while `max_queue` signatures wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueFull {
    /// Answer 503 `overloaded` with `Retry-After: 1` at once.
    #[default]
    Reject,
    /// Queue it anyway; it waits its turn, up to `request_timeout_secs`.
    Wait,
}

impl QueueFull {
    fn parse(text: &str) -> Result<QueueFull, ConfigError> {
        match text {
            "reject" => Ok(QueueFull::Reject),
            "wait" => Ok(QueueFull::Wait),
            other => Err(ConfigError::invalid(format!(
                "queue_full `{other}` is unknown: use `reject` or `wait`"
            ))),
        }
    }
}

/// `[cache]`: the LRU cache of signatures.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Number of signatures kept; 0 turns the cache off.
    pub capacity: usize,
    /// Round TTL-based expiry times up to a multiple of this many seconds (0 or 1: no rounding), so
    /// requests for the same resource within the window share one policy and one signature.
    pub expiry_granularity_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            capacity: 10_000,
            expiry_granularity_secs: 0,
        }
    }
}

/// `[[keys]]`: one signing key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The CloudFront public key ID (`K…`); with `from_env`, defaults to `AWS_CLOUDFRONT_KEY_ID`.
    pub id: Option<String>,
    /// A PEM or DER private key file (relative paths are relative to the config file).
    pub file: Option<PathBuf>,
    /// Read the key from `AWS_CLOUDFRONT_KEY` (PEM; lost newlines are tolerated).
    #[serde(default)]
    pub from_env: bool,
    /// For an encrypted key: a file holding its passphrase (one trailing newline is removed;
    /// relative paths are relative to the config file). Not with `passphrase_env`.
    pub passphrase_file: Option<PathBuf>,
    /// For an encrypted key: the environment variable holding its passphrase (used as it is).
    /// Not with `passphrase_file`.
    pub passphrase_env: Option<String>,
    /// An AWS KMS key that signs (ID, ARN or alias; `RSA_2048` or `ECC_NIST_P256`,
    /// `SIGN_VERIFY`): the private key never leaves KMS, and signatures are SHA-256. Needs the
    /// `aws` feature.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    /// A Secrets Manager secret (name or ARN) holding the PEM private key. Needs the `aws`
    /// feature.
    #[serde(default)]
    pub secret: Option<String>,
    /// With `secret`: the field of the JSON secret that holds the PEM text.
    #[serde(default)]
    pub json_field: Option<String>,
    /// With `secret`: the version stage to read (default `AWSCURRENT`; `AWSPENDING` during a
    /// rotation).
    #[serde(default)]
    pub version_stage: Option<String>,
    /// With `secret`: one version by ID, instead of a stage.
    #[serde(default)]
    pub version_id: Option<String>,
    /// An SSM Parameter Store `SecureString` parameter holding the PEM private key. Needs the
    /// `aws` feature.
    #[serde(default)]
    pub ssm_parameter: Option<String>,
}

impl KeyConfig {
    /// Whether the key is held in AWS (KMS, Secrets Manager or SSM) rather than in a file or
    /// variable.
    pub fn in_aws(&self) -> bool {
        self.kms_key_id.is_some() || self.secret.is_some() || self.ssm_parameter.is_some()
    }
}

/// `[[clients]]`: one client and its scope.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Name used in logs and metrics.
    pub name: String,
    /// Hex SHA-256 of the client's bearer token (`printf %s "$TOKEN" | sha256sum`).
    pub token_sha256: String,
    /// Resources the client may sign: `scheme://host[:port]/path-prefix` or a glob (`*` within a
    /// path segment, `**` across segments).
    pub allow: Vec<String>,
    /// Longest lifetime the client may ask for.
    pub max_ttl: Duration,
    /// Whether the client may ask for signed cookies.
    #[serde(default)]
    pub cookies: bool,
    /// Whether the client may ask for custom policies (wildcard resources, start time, IP range).
    #[serde(default)]
    pub custom_policy: bool,
}

/// A duration in seconds, written as a number (`300`) or with units (`"5m"`, `"1h30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub u64);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Secs(secs) => Ok(Duration(secs)),
            Raw::Text(text) => cfsign::parse_duration(&text)
                .map(Duration)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Why a configuration cannot be used. Nothing here contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML does not parse or has unknown keys.
    #[error("`{path}` is not a valid cfsign-server config: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the TOML parser said.
        message: String,
    },
    /// A value is wrong.
    #[error("{reason}")]
    Invalid {
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            reason: reason.into(),
        }
    }
}

/// A TOML error with its line, column and key, but not the offending value, which may be a
/// passphrase or a private key pasted into the wrong place.
fn toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end();
    let Some(span) = err.span() else {
        return message.to_owned();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let line_text = text[line_start..].lines().next().unwrap_or("");
    match line_text.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() && key.trim().len() <= 64 => {
            format!("line {line}, column {column} (`{}`): {message}", key.trim())
        }
        _ => format!("line {line}, column {column}: {message}"),
    }
}

impl Config {
    /// Parses TOML text (`path` is only used in error messages and to resolve relative key paths).
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: toml_error(text, &e),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for key in &mut config.keys {
            for path in [&mut key.file, &mut key.passphrase_file] {
                if let Some(file) = path
                    && file.is_relative()
                {
                    *path = Some(base.join(&*file));
                }
            }
        }
        Ok(config)
    }

    /// Reads and parses a config file, then applies environment overrides.
    pub fn load(path: &Path, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::from_toml(&text, path)?;
        config.apply_env(env)?;
        Ok(config)
    }

    /// Applies `CFSIGN_SERVER_*` overrides: `LISTEN`, `LOG_FORMAT`, `ACTIVE_KEY`, `CACHE_CAPACITY`,
    /// `EXPIRY_GRANULARITY`, `MAX_CONCURRENCY`, `REQUEST_TIMEOUT`, `BODY_LIMIT`, `MAX_URL_BYTES`,
    /// `SIGNING_THREADS`, `HEADER_READ_TIMEOUT`, `MAX_CONNECTIONS`, `MAX_HEADER_BYTES`,
    /// `MAX_QUEUE`, `QUEUE_FULL`, `DRAIN`, `SHUTDOWN_GRACE` (durations take units: `30s`, `1m`).
    pub fn apply_env(&mut self, env: EnvLookup<'_>) -> Result<(), ConfigError> {
        fn number(name: &str, value: &str) -> Result<u64, ConfigError> {
            value.trim().parse().map_err(|_| {
                ConfigError::invalid(format!("{name}=`{value}` is not a whole number"))
            })
        }
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("CFSIGN_SERVER_LISTEN") {
            self.server.listen = v;
        }
        if let Some(v) = get("CFSIGN_SERVER_LOG_FORMAT") {
            self.server.log_format = LogFormat::parse(v.trim())?;
        }
        if let Some(v) = get("CFSIGN_SERVER_ACTIVE_KEY") {
            self.active_key = Some(v);
        }
        let as_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        if let Some(v) = get("CFSIGN_SERVER_CACHE_CAPACITY") {
            self.cache.capacity = as_usize(number("CFSIGN_SERVER_CACHE_CAPACITY", &v)?);
        }
        if let Some(v) = get("CFSIGN_SERVER_EXPIRY_GRANULARITY") {
            self.cache.expiry_granularity_secs = cfsign::parse_duration(&v).map_err(|e| {
                ConfigError::invalid(format!("CFSIGN_SERVER_EXPIRY_GRANULARITY: {e}"))
            })?;
        }
        if let Some(v) = get("CFSIGN_SERVER_MAX_CONCURRENCY") {
            self.server.max_concurrency = as_usize(number("CFSIGN_SERVER_MAX_CONCURRENCY", &v)?);
        }
        if let Some(v) = get("CFSIGN_SERVER_REQUEST_TIMEOUT") {
            self.server.request_timeout_secs = cfsign::parse_duration(&v)
                .map_err(|e| ConfigError::invalid(format!("CFSIGN_SERVER_REQUEST_TIMEOUT: {e}")))?;
        }
        if let Some(v) = get("CFSIGN_SERVER_BODY_LIMIT") {
            self.server.body_limit_bytes = as_usize(number("CFSIGN_SERVER_BODY_LIMIT", &v)?);
        }
        if let Some(v) = get("CFSIGN_SERVER_SIGNING_THREADS") {
            let n = as_usize(number("CFSIGN_SERVER_SIGNING_THREADS", &v)?);
            self.server.signing_threads = Some(std::num::NonZeroUsize::new(n).ok_or_else(|| {
                ConfigError::invalid(
                    "CFSIGN_SERVER_SIGNING_THREADS=0: give at least 1, or unset it for one per core",
                )
            })?);
        }
        if let Some(v) = get("CFSIGN_SERVER_MAX_URL_BYTES") {
            self.server.max_url_bytes = as_usize(number("CFSIGN_SERVER_MAX_URL_BYTES", &v)?);
        }
        let duration = |name: &str, value: &str| {
            cfsign::parse_duration(value).map_err(|e| ConfigError::invalid(format!("{name}: {e}")))
        };
        if let Some(v) = get("CFSIGN_SERVER_HEADER_READ_TIMEOUT") {
            self.server.header_read_timeout_secs =
                duration("CFSIGN_SERVER_HEADER_READ_TIMEOUT", &v)?;
        }
        if let Some(v) = get("CFSIGN_SERVER_MAX_CONNECTIONS") {
            self.server.max_connections = as_usize(number("CFSIGN_SERVER_MAX_CONNECTIONS", &v)?);
        }
        if let Some(v) = get("CFSIGN_SERVER_MAX_HEADER_BYTES") {
            self.server.max_header_bytes = as_usize(number("CFSIGN_SERVER_MAX_HEADER_BYTES", &v)?);
        }
        if let Some(v) = get("CFSIGN_SERVER_MAX_QUEUE") {
            self.server.max_queue = as_usize(number("CFSIGN_SERVER_MAX_QUEUE", &v)?);
        }
        if let Some(v) = get("CFSIGN_SERVER_QUEUE_FULL") {
            self.server.queue_full = QueueFull::parse(v.trim())?;
        }
        if let Some(v) = get("CFSIGN_SERVER_DRAIN") {
            self.server.drain_secs = duration("CFSIGN_SERVER_DRAIN", &v)?;
        }
        if let Some(v) = get("CFSIGN_SERVER_SHUTDOWN_GRACE") {
            self.server.shutdown_grace_secs = duration("CFSIGN_SERVER_SHUTDOWN_GRACE", &v)?;
        }
        Ok(())
    }

    /// The listen address, parsed.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|_| {
            ConfigError::invalid(format!(
                "listen address `{}` is not IP:PORT (e.g. 127.0.0.1:8085)",
                self.server.listen
            ))
        })
    }

    /// Files whose change should trigger a reload: the key files and passphrase files.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        self.keys
            .iter()
            .flat_map(|k| [k.file.clone(), k.passphrase_file.clone()])
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn defaults_and_env_overrides() {
        let mut config = Config::from_toml(
            "[server]\nlisten = \"127.0.0.1:1\"\n[[keys]]\nid = \"K1\"\nfile = \"k.pem\"\n",
            Path::new("/etc/cfsign/server.toml"),
        )
        .unwrap();
        assert_eq!(config.server.max_batch, 100);
        assert_eq!(
            config.keys[0].file.as_deref(),
            Some(Path::new("/etc/cfsign/k.pem"))
        );
        let env: HashMap<&str, &str> = [
            ("CFSIGN_SERVER_LISTEN", "127.0.0.1:9"),
            ("CFSIGN_SERVER_LOG_FORMAT", "json"),
            ("CFSIGN_SERVER_EXPIRY_GRANULARITY", "1m"),
            ("CFSIGN_SERVER_CACHE_CAPACITY", "5"),
            ("CFSIGN_SERVER_SIGNING_THREADS", "3"),
        ]
        .into_iter()
        .collect();
        config
            .apply_env(&|name| env.get(name).map(|v| v.to_string()))
            .unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:9");
        assert_eq!(config.server.log_format, LogFormat::Json);
        assert_eq!(config.cache.expiry_granularity_secs, 60);
        assert_eq!(config.cache.capacity, 5);
        assert_eq!(config.server.signing_threads.map(|n| n.get()), Some(3));
        let err = config
            .apply_env(&|name| (name == "CFSIGN_SERVER_SIGNING_THREADS").then(|| "0".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("at least 1"), "{err}");
        let err = config
            .apply_env(&|name| (name == "CFSIGN_SERVER_LOG_FORMAT").then(|| "xml".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("use `text` or `json`"), "{err}");
    }

    #[test]
    fn connection_drain_and_queue_settings() {
        let config = Config::from_toml("", Path::new("c.toml")).unwrap();
        let s = &config.server;
        assert_eq!(
            (
                s.header_read_timeout_secs,
                s.max_connections,
                s.max_header_bytes,
                s.max_queue,
                s.queue_full,
                s.drain_secs,
                s.shutdown_grace_secs,
            ),
            (30, 1024, 16384, 1024, QueueFull::Reject, 0, 10),
            "the defaults the README states"
        );
        s.check().unwrap();
        let mut config = Config::from_toml(
            "[server]\nqueue_full = \"wait\"\nmax_queue = 8\ndrain_secs = 5\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(
            (
                config.server.queue_full,
                config.server.max_queue,
                config.server.drain_secs
            ),
            (QueueFull::Wait, 8, 5)
        );
        let env: HashMap<&str, &str> = [
            ("CFSIGN_SERVER_HEADER_READ_TIMEOUT", "5s"),
            ("CFSIGN_SERVER_MAX_CONNECTIONS", "10"),
            ("CFSIGN_SERVER_MAX_HEADER_BYTES", "9000"),
            ("CFSIGN_SERVER_MAX_QUEUE", "3"),
            ("CFSIGN_SERVER_QUEUE_FULL", "reject"),
            ("CFSIGN_SERVER_DRAIN", "1m"),
            ("CFSIGN_SERVER_SHUTDOWN_GRACE", "20"),
        ]
        .into_iter()
        .collect();
        config
            .apply_env(&|name| env.get(name).map(|v| v.to_string()))
            .unwrap();
        let s = &config.server;
        assert_eq!(
            (
                s.header_read_timeout_secs,
                s.max_connections,
                s.max_header_bytes,
                s.max_queue,
                s.queue_full,
                s.drain_secs,
                s.shutdown_grace_secs,
            ),
            (5, 10, 9000, 3, QueueFull::Reject, 60, 20)
        );
        let err = config
            .apply_env(&|name| (name == "CFSIGN_SERVER_QUEUE_FULL").then(|| "drop".to_owned()))
            .unwrap_err();
        assert!(err.to_string().contains("use `reject` or `wait`"), "{err}");
        let err = Config::from_toml("[server]\nqueue_full = \"drop\"\n", Path::new("c.toml"))
            .unwrap_err();
        assert!(err.to_string().contains("queue_full"), "{err}");
        for (toml, needle) in [
            (
                "max_connections = 0",
                "server.max_connections must be at least 1",
            ),
            ("max_queue = 0", "server.max_queue must be at least 1"),
            (
                "header_read_timeout_secs = 0",
                "server.header_read_timeout_secs must be at least 1",
            ),
            (
                "max_header_bytes = 4096",
                "below the smallest head buffer (8192)",
            ),
            (
                "header_read_timeout_secs = 18446744073709551615",
                "is more than a day (86400)",
            ),
        ] {
            let config =
                Config::from_toml(&format!("[server]\n{toml}\n"), Path::new("c.toml")).unwrap();
            let err = config.server.check().unwrap_err().to_string();
            assert!(err.contains(needle), "{toml}: {err}");
        }
    }

    #[test]
    fn passphrase_files_are_relative_to_the_config_and_watched() {
        let config = Config::from_toml(
            "[[keys]]\nid = \"K1\"\nfile = \"k.pem\"\npassphrase_file = \"secrets/k.pass\"\n\
             [[keys]]\nid = \"K2\"\nfile = \"/keys/k2.pem\"\npassphrase_env = \"K2_PASSPHRASE\"\n",
            Path::new("/etc/cfsign/server.toml"),
        )
        .unwrap();
        assert_eq!(
            config.keys[0].passphrase_file.as_deref(),
            Some(Path::new("/etc/cfsign/secrets/k.pass"))
        );
        assert_eq!(
            config.keys[1].passphrase_env.as_deref(),
            Some("K2_PASSPHRASE")
        );
        assert_eq!(
            config.watched_files(),
            [
                PathBuf::from("/etc/cfsign/k.pem"),
                PathBuf::from("/etc/cfsign/secrets/k.pass"),
                PathBuf::from("/keys/k2.pem"),
            ]
        );
        // A passphrase value in the config itself is not a key: only a file or a variable.
        let err = Config::from_toml(
            "[[keys]]\nid = \"K1\"\nfile = \"k.pem\"\npassphrase = \"hunter2\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("line 4, column 1 (`passphrase`): unknown field `passphrase`"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "the value is echoed: {err}");
    }

    #[test]
    fn readme_example_parses() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + readme[start..].find("```").unwrap();
        let config =
            Config::from_toml(&readme[start..end], Path::new("/etc/cfsign/server.toml")).unwrap();
        assert_eq!(config.keys.len(), 2);
        assert_eq!(config.clients[0].max_ttl, Duration(3600));
        assert_eq!(config.server.default_ttl, Duration(300));
    }

    #[test]
    fn unknown_keys_and_durations() {
        let err = Config::from_toml("listen = 1\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let config = Config::from_toml(
            "[[clients]]\nname = \"a\"\ntoken_sha256 = \"00\"\nallow = []\nmax_ttl = \"1h30m\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(config.clients[0].max_ttl, Duration(5400));
        let err = Config::from_toml(
            "[[clients]]\nname = \"a\"\ntoken_sha256 = \"00\"\nallow = []\nmax_ttl = \"soon\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a duration"), "{err}");
        let err =
            Config::from_toml("[server]\nsigning_threads = 0\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("signing_threads"), "{err}");
        assert!(err.to_string().contains("nonzero"), "{err}");
    }
}
