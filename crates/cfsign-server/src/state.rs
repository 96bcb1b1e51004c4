//! The server's state: the hot-swappable runtime (keys, clients, limits) behind an `ArcSwap`, the
//! signature cache, the signers, metrics and the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use cfsign::{Backend, TrustedKeys};

use crate::cache::SignatureCache;
use crate::client::{self, Client};
use crate::config::{Config, ConfigError, EnvLookup, MIN_HEADER_BYTES, QueueFull, ServerConfig};
use crate::keys;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::pool::{QueueLimit, SigningPool};
use crate::remote::RemoteKeys;
use crate::signing_key::SigningKey;

/// Everything a reload replaces at once.
pub(crate) struct Runtime {
    /// The key that signs (a local signer for both hashes, or a KMS key for SHA-256).
    pub(crate) active: SigningKey,
    /// Every configured key, for `/v1/verify`.
    pub(crate) trusted: TrustedKeys,
    /// The clients, in configuration order.
    pub(crate) clients: Vec<Client>,
    /// The request limits.
    pub(crate) limits: Limits,
}

impl Runtime {
    /// Builds a runtime from a config, reading key files and the key environment variables, and
    /// taking keys held in AWS from `remote` (as last read).
    pub(crate) fn build(
        config: &Config,
        env: EnvLookup<'_>,
        remote: &RemoteKeys,
    ) -> Result<Runtime, ConfigError> {
        config.server.check()?;
        let mut keys = keys::load(config, env, remote)?;
        let trusted: TrustedKeys = keys
            .iter()
            .map(|k| (k.key_pair_id().clone(), k.public_key()))
            .collect::<TrustedKeys>()
            .with_backend(Backend::fastest());
        let key_ids: Vec<String> = keys.iter().map(|k| k.key_pair_id().to_string()).collect();
        let active_id = match (&config.active_key, key_ids.as_slice()) {
            (Some(id), _) => id.clone(),
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(ConfigError::invalid(format!(
                    "{} keys are configured ({}); set `active_key` to the one that signs",
                    keys.len(),
                    key_ids.join(", ")
                )));
            }
        };
        let Some(position) = keys
            .iter()
            .position(|k| k.key_pair_id().as_str() == active_id)
        else {
            return Err(ConfigError::invalid(format!(
                "active_key `{active_id}` is not among the configured keys ({})",
                key_ids.join(", ")
            )));
        };
        let active = keys.swap_remove(position);
        let clients = client::load(&config.clients)?;
        let mut limits = Limits::from_config(config)?;
        limits.sha256_only = active.sha256_only();
        Ok(Runtime {
            active,
            trusted,
            clients,
            limits,
        })
    }
}

/// Returns the current Unix time in seconds.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Settings fixed for the life of the process (changing them needs a restart).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed {
    /// The largest request body, in bytes.
    pub(crate) body_limit: usize,
    /// How long a request may take.
    pub(crate) timeout: Duration,
    /// Requests handled at once.
    pub(crate) max_concurrency: usize,
    /// How long a connection may take to send a request head (or sit idle between requests).
    pub(crate) header_read_timeout: Duration,
    /// Connections open at once.
    pub(crate) max_connections: usize,
    /// The largest request head, and the most a connection buffers.
    pub(crate) max_header_bytes: usize,
    /// How long to keep serving after SIGTERM with `/readyz` answering 503.
    pub(crate) drain: Duration,
    /// How long to wait for requests in flight once the listener is closed.
    pub(crate) shutdown_grace: Duration,
}

impl Fixed {
    fn from_config(server: &ServerConfig) -> Fixed {
        Fixed {
            body_limit: server.body_limit_bytes,
            timeout: Duration::from_secs(server.request_timeout_secs.max(1)),
            max_concurrency: server.max_concurrency.max(1),
            header_read_timeout: Duration::from_secs(server.header_read_timeout_secs.max(1)),
            max_connections: server.max_connections.max(1),
            max_header_bytes: server.max_header_bytes.max(MIN_HEADER_BYTES),
            drain: Duration::from_secs(server.drain_secs),
            shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
        }
    }
}

/// The signing queue's admission rule from `[server]`.
fn queue_limit(server: &ServerConfig) -> QueueLimit {
    QueueLimit {
        max_queue: server.max_queue.max(1),
        reject_when_full: server.queue_full == QueueFull::Reject,
    }
}

/// What every clone of [`AppState`] shares.
pub(crate) struct Shared {
    runtime: ArcSwap<Runtime>,
    /// Signatures by (key ID, hash, policy).
    pub(crate) cache: SignatureCache,
    /// Shared with the metrics middleware, which sees nothing else.
    pub(crate) metrics: Arc<Metrics>,
    ready: AtomicBool,
    /// Settings a reload does not change.
    pub(crate) fixed: Fixed,
    /// The signers (one per core unless `[server] signing_threads` says otherwise).
    pub(crate) signing: SigningPool,
    /// Keys held in AWS, as last read, and their status.
    pub(crate) remote: Arc<RemoteKeys>,
    /// The AWS clients that read and sign with keys held in AWS (none without AWS key sources).
    #[cfg(feature = "aws")]
    pub(crate) aws: std::sync::OnceLock<cfsign_aws::Aws>,
    /// The `kms:Sign` calls under way, shared by requests for the same policy.
    #[cfg(feature = "aws")]
    pub(crate) kms_in_flight: crate::inflight::InFlight,
}

/// The state shared by every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// What every clone shares.
    pub(crate) shared: Arc<Shared>,
    clock: Clock,
}

impl AppState {
    /// Builds the state from a config: loads the keys (from files, or `AWS_CLOUDFRONT_KEY` /
    /// `AWS_CLOUDFRONT_KEY_ID` through `env`) and the clients.
    pub fn from_config(config: &Config, env: EnvLookup<'_>) -> Result<AppState, ConfigError> {
        AppState::build(config, env, Arc::new(RemoteKeys::default()))
    }

    /// Builds the state from a config whose keys may be held in AWS (`kms_key_id`, `secret`,
    /// `ssm_parameter`): reads them with `aws` first. A source that cannot be read is an error
    /// here, at start; later refreshes keep the last good key instead.
    #[cfg(feature = "aws")]
    pub async fn from_config_with_aws(
        config: &Config,
        env: EnvLookup<'_>,
        aws: cfsign_aws::Aws,
    ) -> Result<AppState, ConfigError> {
        let remote = Arc::new(RemoteKeys::default());
        crate::aws_keys::refresh(&remote, &aws, config, system_clock()).await;
        let state = AppState::build(config, env, remote)?;
        let _ = state.shared.aws.set(aws);
        Ok(state)
    }

    fn build(
        config: &Config,
        env: EnvLookup<'_>,
        remote: Arc<RemoteKeys>,
    ) -> Result<AppState, ConfigError> {
        let runtime = Runtime::build(config, env, &remote)?;
        let server = &config.server;
        let fixed = Fixed::from_config(server);
        let metrics = Metrics::new();
        metrics.connection_limit(fixed.max_connections);
        Ok(AppState {
            shared: Arc::new(Shared {
                runtime: ArcSwap::from_pointee(runtime),
                cache: SignatureCache::new(config.cache.capacity),
                metrics: Arc::new(metrics),
                ready: AtomicBool::new(true),
                signing: SigningPool::new(
                    server.signing_threads.map_or_else(
                        || std::thread::available_parallelism().map_or(1, |n| n.get()),
                        |n| n.get(),
                    ),
                    queue_limit(server),
                ),
                fixed,
                remote,
                #[cfg(feature = "aws")]
                aws: std::sync::OnceLock::new(),
                #[cfg(feature = "aws")]
                kms_in_flight: crate::inflight::InFlight::default(),
            }),
            clock: Arc::new(system_clock),
        })
    }

    /// The same state reading time from `clock` (Unix seconds), for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> AppState {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces keys, clients and limits with those of `config`; on error the current ones stay.
    /// Requests in flight finish with the runtime they started with.
    pub fn reload(&self, config: &Config, env: EnvLookup<'_>) -> Result<(), ConfigError> {
        let result = Runtime::build(config, env, &self.shared.remote);
        let metrics = &self.shared.metrics;
        match result {
            Ok(runtime) => {
                let active = runtime.active.key_pair_id().to_string();
                self.shared.runtime.store(Arc::new(runtime));
                self.shared.cache.resize(config.cache.capacity);
                self.shared.cache.clear();
                self.shared.signing.set_limit(queue_limit(&config.server));
                metrics.reload(true);
                tracing::info!(active_key = %active, "configuration reloaded");
                Ok(())
            }
            Err(err) => {
                metrics.reload(false);
                Err(err)
            }
        }
    }

    /// Counts a reload refused before it reached [`AppState::reload`] (a config file that could
    /// not be read or parsed), so `cfsign_reload_failures_total` counts every refused reload.
    pub(crate) fn reload_refused(&self) {
        self.shared.metrics.reload(false);
    }

    /// The key pair ID that currently signs.
    pub fn active_key_id(&self) -> String {
        self.shared.runtime.load().active.key_pair_id().to_string()
    }

    /// Marks the server as (not) ready; `/readyz` answers 503 while not ready (during shutdown).
    pub fn set_ready(&self, ready: bool) {
        self.shared.ready.store(ready, Ordering::SeqCst);
    }

    /// Whether `/readyz` answers 200.
    pub(crate) fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::SeqCst)
    }

    /// The runtime now; a request keeps the one it started with.
    pub(crate) fn runtime(&self) -> Arc<Runtime> {
        self.shared.runtime.load_full()
    }

    /// The clock's Unix time in seconds.
    pub(crate) fn now(&self) -> u64 {
        (self.clock)()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use cfsign::{HashAlgorithm, UnixTime, UnsignedUrl};

    use super::*;

    const PASSPHRASE: &str = "server-test-passphrase";
    const URL: &str = "https://d1.example.net/media/a.jpg";

    /// Environment variables a test case sets.
    type Env<'a> = Vec<(&'a str, &'a str)>;

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    /// A temporary config directory with the plain and encrypted test keys and passphrase files.
    fn config_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in ["test-key-a.pem", "test-key-a.encrypted.pem"] {
            std::fs::copy(data(name), dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("pass.txt"), format!("{PASSPHRASE}\n")).unwrap();
        std::fs::write(dir.path().join("wrong.txt"), "not-the-server-passphrase\n").unwrap();
        std::fs::write(dir.path().join("empty.txt"), "\n").unwrap();
        dir
    }

    /// The config `keys` (TOML) with one client, as if read from `dir/server.toml`.
    fn config(dir: &Path, keys: &str) -> Config {
        let toml = format!(
            "active_key = \"K1\"\n[server]\nsigning_threads = 1\n{keys}\n[[clients]]\nname = \"web\"\n\
             token_sha256 = \"{}\"\nallow = [\"https://d1.example.net/\"]\nmax_ttl = \"1h\"\n",
            "ab".repeat(32)
        );
        Config::from_toml(&toml, &dir.join("server.toml")).unwrap()
    }

    fn build(dir: &Path, keys: &str, env: &[(&str, &str)]) -> Result<Runtime, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Runtime::build(
            &config(dir, keys),
            &|name| env.get(name).cloned(),
            &RemoteKeys::default(),
        )
    }

    /// The URL the active key signs, with both hash algorithms (one signer for both).
    fn signed(runtime: &Runtime) -> [String; 2] {
        let unsigned =
            UnsignedUrl::canned(URL, UnixTime::from_secs(1_767_225_600).unwrap()).unwrap();
        #[allow(irrefutable_let_patterns)] // Without the `aws` feature every key is local.
        let SigningKey::Local(signer) = &runtime.active else {
            panic!("not a local key")
        };
        [HashAlgorithm::Sha1, HashAlgorithm::Sha256].map(|hash| {
            let signature = signer
                .sign_bytes_with(hash, unsigned.policy_bytes())
                .unwrap();
            unsigned
                .finish(&signature, signer.key_pair_id(), hash)
                .unwrap()
        })
    }

    #[test]
    fn encrypted_keys_load_with_passphrase_file_or_env() {
        let dir = config_dir();
        let dir = dir.path();
        let expected =
            signed(&build(dir, "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.pem\"", &[]).unwrap());
        let encrypted_pem = std::fs::read_to_string(data("test-key-a.encrypted.pem")).unwrap();
        let flattened = encrypted_pem.replace('\n', "\\n");
        let cases: [(&str, &str, Env<'_>); 4] = [
            (
                "passphrase_file (relative to the config, trailing newline removed)",
                "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.encrypted.pem\"\npassphrase_file = \"pass.txt\"",
                vec![],
            ),
            (
                "passphrase_env",
                "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.encrypted.pem\"\npassphrase_env = \"KEY_A_PASSPHRASE\"",
                vec![("KEY_A_PASSPHRASE", PASSPHRASE)],
            ),
            (
                "from_env with passphrase_env",
                "[[keys]]\nid = \"K1\"\nfrom_env = true\npassphrase_env = \"KEY_A_PASSPHRASE\"",
                vec![
                    ("AWS_CLOUDFRONT_KEY", &flattened),
                    ("KEY_A_PASSPHRASE", PASSPHRASE),
                ],
            ),
            (
                "no [[keys]]: the AWS_CLOUDFRONT_KEY* variables",
                "",
                vec![
                    ("AWS_CLOUDFRONT_KEY", &flattened),
                    ("AWS_CLOUDFRONT_KEY_ID", "K1"),
                    ("AWS_CLOUDFRONT_KEY_PASSPHRASE", PASSPHRASE),
                ],
            ),
        ];
        for (what, keys, env) in cases {
            let runtime = build(dir, keys, &env).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(signed(&runtime), expected, "{what}");
        }
    }

    #[test]
    fn passphrase_errors_are_clear_and_secret_free() {
        let dir = config_dir();
        let dir = dir.path();
        let key = "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.encrypted.pem\"\n";
        let cases: [(String, Env<'_>, &[&str]); 6] = [
            (
                format!("{key}passphrase_file = \"pass.txt\"\npassphrase_env = \"P\""),
                vec![("P", PASSPHRASE)],
                &[
                    "[[keys]] entry 1",
                    "at most one of `passphrase_file` or `passphrase_env`",
                ],
            ),
            (
                format!("{key}passphrase_env = \"NOT_SET\""),
                vec![],
                &["passphrase_env names `NOT_SET`, which is not set"],
            ),
            (
                format!("{key}passphrase_file = \"wrong.txt\""),
                vec![],
                &["wrong passphrase", "passphrase_file `", "wrong.txt`"],
            ),
            (
                format!("{key}passphrase_env = \"P\""),
                vec![("P", "not-the-server-passphrase")],
                &["wrong passphrase", "passphrase_env `P`"],
            ),
            (
                key.to_owned(),
                vec![],
                &["encrypted private key", "passphrase_file or passphrase_env"],
            ),
            (
                format!("{key}passphrase_file = \"empty.txt\""),
                vec![],
                &["empty.txt` is empty"],
            ),
        ];
        for (keys, env, needles) in cases {
            let err = build(dir, &keys, &env).err().unwrap().to_string();
            for needle in needles {
                assert!(err.contains(needle), "{keys}: no `{needle}` in {err}");
            }
            assert!(
                !err.contains(PASSPHRASE) && !err.contains("not-the-server-passphrase"),
                "the passphrase leaked: {err}"
            );
        }
        let err = build(dir, &format!("{key}passphrase_file = \"missing.txt\""), &[])
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("cannot read") && err.contains("missing.txt"),
            "{err}"
        );
    }

    #[test]
    fn aws_key_entries_are_checked() {
        let dir = config_dir();
        let dir = dir.path();
        let not_read = if cfg!(feature = "aws") {
            "kms:alias/cdn has not been read"
        } else {
            "built without the `aws` feature"
        };
        let cases: [(&str, &str); 6] = [
            (
                "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.pem\"\njson_field = \"pem\"",
                "apply to `secret` only",
            ),
            (
                "[[keys]]\nid = \"K1\"\nssm_parameter = \"/k\"\nversion_stage = \"AWSPENDING\"",
                "apply to `secret` only",
            ),
            (
                "[[keys]]\nid = \"K1\"\nkms_key_id = \"alias/cdn\"\nfile = \"test-key-a.pem\"",
                "exactly one of `file`, `from_env = true`, `kms_key_id`, `secret` or `ssm_parameter`",
            ),
            ("[[keys]]\nkms_key_id = \"alias/cdn\"", "`id` is missing"),
            (
                "[[keys]]\nid = \"K1\"\nsecret = \"s\"\npassphrase_env = \"P\"",
                "apply to `file` and `from_env` keys",
            ),
            (
                "[[keys]]\nid = \"K1\"\nkms_key_id = \"alias/cdn\"",
                not_read,
            ),
        ];
        for (keys, needle) in cases {
            let err = build(dir, keys, &[]).err().unwrap().to_string();
            assert!(err.contains(needle), "{keys}: no `{needle}` in {err}");
            assert!(err.contains("[[keys]] entry 1"), "{err}");
        }
    }

    #[test]
    fn server_settings_are_checked_and_the_queue_limit_reloads() {
        let dir = config_dir();
        let keys = "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.pem\"";
        let with = |server: &str| config(dir.path(), &format!("{server}\n{keys}"));
        let err = AppState::from_config(&with("max_queue = 0"), &|_| None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("server.max_queue must be at least 1"), "{err}");
        let state = AppState::from_config(&with("max_queue = 5"), &|_| None).unwrap();
        assert_eq!(state.shared.signing.stats().max_queue, 5);
        let err = state
            .reload(&with("max_connections = 0"), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_connections"), "{err}");
        // `max_queue` and `queue_full` apply at the next reload; connection settings need a restart.
        state
            .reload(&with("max_queue = 7\nmax_connections = 3"), &|_| None)
            .unwrap();
        assert_eq!(state.shared.signing.stats().max_queue, 7);
        assert_eq!(state.shared.fixed.max_connections, 1024);
    }

    #[test]
    fn reload_reads_the_passphrase_again() {
        let dir = config_dir();
        let config = config(
            dir.path(),
            "[[keys]]\nid = \"K1\"\nfile = \"test-key-a.encrypted.pem\"\npassphrase_file = \"pass.txt\"",
        );
        let state = AppState::from_config(&config, &|_| None).unwrap();
        let before = signed(&state.runtime());
        // A changed passphrase file is read at the next reload: a wrong one is refused, and the
        // loaded key stays.
        let pass = dir.path().join("pass.txt");
        std::fs::write(&pass, "not-the-server-passphrase\n").unwrap();
        let err = state.reload(&config, &|_| None).unwrap_err().to_string();
        assert!(err.contains("wrong passphrase"), "{err}");
        assert_eq!(signed(&state.runtime()), before);
        std::fs::write(&pass, PASSPHRASE).unwrap();
        state.reload(&config, &|_| None).unwrap();
        assert_eq!(signed(&state.runtime()), before);
    }
}
