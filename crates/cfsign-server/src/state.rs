//! The server's state: the hot-swappable runtime (keys, clients, limits) behind an `ArcSwap`, the
//! signature cache, metrics and the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use cfsign::{Backend, HashAlgorithm, KeyPairId, PrivateKey, Signer, TrustedKeys};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::cache::SignatureCache;
use crate::config::{Config, ConfigError, EnvLookup};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::pool::SigningPool;
use crate::scope::{AllowRule, Scope};

/// One signing key, ready for both hash algorithms.
pub(crate) struct KeyEntry {
    pub(crate) id: KeyPairId,
    sha1: Signer,
    sha256: Signer,
}

impl KeyEntry {
    pub(crate) fn signer(&self, hash: HashAlgorithm) -> &Signer {
        match hash {
            HashAlgorithm::Sha256 => &self.sha256,
            _ => &self.sha1,
        }
    }
}

#[cfg(test)]
impl KeyEntry {
    /// The test key `tests/data/test-key-a.pem`.
    pub(crate) fn for_tests() -> KeyEntry {
        let pem = include_bytes!("../tests/data/test-key-a.pem");
        let id: KeyPairId = "K2JCJMDEHXQW5F".parse().expect("a valid key pair ID");
        let key = || PrivateKey::parse(pem).expect("the test key parses");
        KeyEntry {
            sha1: Signer::new(id.clone(), key()),
            sha256: Signer::new(id.clone(), key()).with_hash_algorithm(HashAlgorithm::Sha256),
            id,
        }
    }
}

/// A client, as authenticated by its bearer token.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) name: String,
    token_hash: [u8; 32],
    pub(crate) scope: Scope,
    pub(crate) max_ttl: u64,
    pub(crate) cookies: bool,
    pub(crate) custom_policy: bool,
}

#[cfg(test)]
impl Client {
    pub(crate) fn for_tests(name: &str, scope: Scope, max_ttl: u64) -> Client {
        Client {
            name: name.to_owned(),
            token_hash: [0; 32],
            scope,
            max_ttl,
            cookies: true,
            custom_policy: true,
        }
    }
}

/// Request limits that may change on reload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_batch: usize,
    pub(crate) max_url_bytes: usize,
    pub(crate) default_ttl: u64,
    pub(crate) expiry_granularity: u64,
}

/// Everything a reload replaces at once.
pub(crate) struct Runtime {
    pub(crate) active: Arc<KeyEntry>,
    pub(crate) trusted: TrustedKeys,
    pub(crate) clients: Vec<Client>,
    pub(crate) limits: Limits,
}

impl Runtime {
    /// Builds a runtime from a config, reading key files and the key environment variables.
    pub(crate) fn build(config: &Config, env: EnvLookup<'_>) -> Result<Runtime, ConfigError> {
        let mut keys: Vec<KeyEntry> = Vec::new();
        let mut key_configs = config.keys.clone();
        if key_configs.is_empty() && env("AWS_CLOUDFRONT_KEY").is_some() {
            // As the `cfsign` CLI does, an encrypted key's passphrase may sit beside it.
            let passphrase_env = env(PASSPHRASE_ENV)
                .filter(|v| !v.is_empty())
                .map(|_| PASSPHRASE_ENV.to_owned());
            key_configs.push(crate::config::KeyConfig {
                id: None,
                file: None,
                from_env: true,
                passphrase_file: None,
                passphrase_env,
            });
        }
        for (index, key) in key_configs.iter().enumerate() {
            let entry = load_key(index, key, env)?;
            if keys.iter().any(|k| k.id == entry.id) {
                return Err(ConfigError::invalid(format!(
                    "key `{}` is configured twice; give each [[keys]] entry its own id",
                    entry.id
                )));
            }
            keys.push(entry);
        }
        if keys.is_empty() {
            return Err(ConfigError::invalid(
                "no signing key: add a [[keys]] entry with `id` and `file`, or set AWS_CLOUDFRONT_KEY and AWS_CLOUDFRONT_KEY_ID",
            ));
        }
        let trusted: TrustedKeys = keys
            .iter()
            .map(|k| (k.id.clone(), k.sha1.public_key()))
            .collect::<TrustedKeys>()
            .with_backend(Backend::fastest());
        let key_ids: Vec<String> = keys.iter().map(|k| k.id.to_string()).collect();
        let active_id = match (&config.active_key, keys.len()) {
            (Some(id), _) => id.clone(),
            (None, 1) => key_ids[0].clone(),
            (None, _) => {
                return Err(ConfigError::invalid(format!(
                    "{} keys are configured ({}); set `active_key` to the one that signs",
                    keys.len(),
                    key_ids.join(", ")
                )));
            }
        };
        let Some(position) = keys.iter().position(|k| k.id.as_str() == active_id) else {
            return Err(ConfigError::invalid(format!(
                "active_key `{active_id}` is not among the configured keys ({})",
                key_ids.join(", ")
            )));
        };
        let active = Arc::new(keys.swap_remove(position));

        let mut clients: Vec<Client> = Vec::new();
        for client in &config.clients {
            let what = format!("client `{}`", client.name);
            let hash = hex::decode(client.token_sha256.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    ConfigError::invalid(format!(
                        "{what}: token_sha256 must be 64 hex digits, the SHA-256 of the token (printf %s \"$TOKEN\" | sha256sum)"
                    ))
                })?;
            if clients
                .iter()
                .any(|c| bool::from(c.token_hash.ct_eq(&hash)))
            {
                return Err(ConfigError::invalid(format!(
                    "{what} has the same token as another client; give each client its own token"
                )));
            }
            if client.max_ttl.0 == 0 {
                return Err(ConfigError::invalid(format!(
                    "{what}: max_ttl must be more than 0 seconds"
                )));
            }
            let rules = client
                .allow
                .iter()
                .map(|entry| AllowRule::parse(entry))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ConfigError::invalid(format!("{what}: {e}")))?;
            clients.push(Client {
                name: client.name.clone(),
                token_hash: hash,
                scope: Scope::new(rules),
                max_ttl: client.max_ttl.0,
                cookies: client.cookies,
                custom_policy: client.custom_policy,
            });
        }
        if clients.is_empty() {
            return Err(ConfigError::invalid(
                "no clients: add a [[clients]] entry with name, token_sha256, allow and max_ttl",
            ));
        }
        let server = &config.server;
        if server.max_batch == 0 || server.max_url_bytes == 0 {
            return Err(ConfigError::invalid(
                "server.max_batch and server.max_url_bytes must be more than 0",
            ));
        }
        Ok(Runtime {
            active,
            trusted,
            clients,
            limits: Limits {
                max_batch: server.max_batch,
                max_url_bytes: server.max_url_bytes,
                default_ttl: server.default_ttl.0.max(1),
                expiry_granularity: config.cache.expiry_granularity_secs,
            },
        })
    }

    /// Finds the client whose token hash matches, comparing every hash in constant time.
    pub(crate) fn authenticate(&self, token: &str) -> Option<&Client> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for client in &self.clients {
            let equal = bool::from(client.token_hash.ct_eq(&digest));
            if equal && found.is_none() {
                found = Some(client);
            }
        }
        found
    }
}

/// The variable the passphrase of `AWS_CLOUDFRONT_KEY` is read from when no `[[keys]]` are
/// configured (the `cfsign` CLI's name for it).
const PASSPHRASE_ENV: &str = "AWS_CLOUDFRONT_KEY_PASSPHRASE";

/// A key's passphrase and where it came from (for errors; never the value).
struct Passphrase {
    bytes: Zeroizing<Vec<u8>>,
    source: String,
}

/// Reads the passphrase of a `[[keys]]` entry from `passphrase_file` or `passphrase_env`, at
/// every (re)load, as the key itself.
fn key_passphrase(
    label: &str,
    key: &crate::config::KeyConfig,
    env: EnvLookup<'_>,
) -> Result<Option<Passphrase>, ConfigError> {
    match (&key.passphrase_file, &key.passphrase_env) {
        (Some(_), Some(_)) => Err(ConfigError::invalid(format!(
            "{label}: give at most one of `passphrase_file` or `passphrase_env`"
        ))),
        (Some(path), None) => {
            let mut bytes =
                Zeroizing::new(std::fs::read(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?);
            // As `echo pass > file` writes it; only one newline, so a passphrase may end in spaces.
            if bytes.ends_with(b"\n") {
                bytes.pop();
                if bytes.ends_with(b"\r") {
                    bytes.pop();
                }
            }
            if bytes.is_empty() {
                return Err(ConfigError::invalid(format!(
                    "{label}: the passphrase file `{}` is empty",
                    path.display()
                )));
            }
            Ok(Some(Passphrase {
                bytes,
                source: format!("passphrase_file `{}`", path.display()),
            }))
        }
        (None, Some(name)) => match env(name) {
            Some(value) if !value.is_empty() => Ok(Some(Passphrase {
                bytes: Zeroizing::new(value.into_bytes()),
                source: format!("passphrase_env `{name}`"),
            })),
            _ => Err(ConfigError::invalid(format!(
                "{label}: passphrase_env names `{name}`, which is not set (or empty)"
            ))),
        },
        (None, None) => Ok(None),
    }
}

fn load_key(
    index: usize,
    key: &crate::config::KeyConfig,
    env: EnvLookup<'_>,
) -> Result<KeyEntry, ConfigError> {
    let label = format!("[[keys]] entry {}", index + 1);
    let passphrase = key_passphrase(&label, key, env)?;
    // The second copy (for the SHA-256 signer) comes from the first's PKCS#8 DER, so an encrypted
    // key is decrypted once.
    let parse_twice = |parse: &dyn Fn() -> Result<PrivateKey, cfsign::Error>, source: &str| {
        let error = |e: cfsign::Error| {
            let with = match (&e, &passphrase) {
                (cfsign::Error::WrongPassphrase { .. }, Some(p)) => {
                    format!(" (the passphrase from {})", p.source)
                }
                _ => String::new(),
            };
            ConfigError::invalid(format!("{label}: {source}{with}: {e}"))
        };
        let first = parse().map_err(error)?;
        let second = PrivateKey::from_der(&first.to_pkcs8_der()).map_err(error)?;
        Ok::<_, ConfigError>((first, second))
    };
    let parse_bytes = |bytes: &[u8]| match &passphrase {
        Some(p) => PrivateKey::parse_with_passphrase(bytes, &p.bytes),
        None => PrivateKey::parse(bytes),
    };
    let parse_pem = |pem: &str| match &passphrase {
        Some(p) => PrivateKey::from_pem_with_passphrase(pem, &p.bytes),
        None => PrivateKey::from_pem(pem),
    };
    let ((first, second), id) = match (&key.file, key.from_env) {
        (Some(path), false) => {
            let bytes =
                Zeroizing::new(std::fs::read(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?);
            let id = key.id.clone().ok_or_else(|| {
                ConfigError::invalid(format!(
                    "{label}: `id` is missing; set it to the CloudFront public key ID (K…)"
                ))
            })?;
            let source = format!("key file `{}`", path.display());
            (parse_twice(&|| parse_bytes(&bytes), &source)?, id)
        }
        (None, true) => {
            let pem = Zeroizing::new(env("AWS_CLOUDFRONT_KEY").ok_or_else(|| {
                ConfigError::invalid(format!(
                    "{label}: from_env is set but AWS_CLOUDFRONT_KEY is not"
                ))
            })?);
            let id = key
                .id
                .clone()
                .or_else(|| env("AWS_CLOUDFRONT_KEY_ID"))
                .ok_or_else(|| {
                    ConfigError::invalid(format!(
                        "{label}: AWS_CLOUDFRONT_KEY is set but AWS_CLOUDFRONT_KEY_ID is not; set it (or `id`) to the CloudFront public key ID"
                    ))
                })?;
            (parse_twice(&|| parse_pem(&pem), "AWS_CLOUDFRONT_KEY")?, id)
        }
        _ => {
            return Err(ConfigError::invalid(format!(
                "{label}: give exactly one of `file` or `from_env = true`"
            )));
        }
    };
    let id =
        KeyPairId::new(id.trim()).map_err(|e| ConfigError::invalid(format!("{label}: {e}")))?;
    // The server signs many URLs: OpenSSL where it is compiled in, chosen here explicitly.
    Ok(KeyEntry {
        sha1: Signer::with_backend(id.clone(), first, Backend::fastest()),
        sha256: Signer::with_backend(id.clone(), second, Backend::fastest())
            .with_hash_algorithm(HashAlgorithm::Sha256),
        id,
    })
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
    pub(crate) body_limit: usize,
    pub(crate) timeout: Duration,
    pub(crate) max_concurrency: usize,
}

pub(crate) struct Shared {
    runtime: ArcSwap<Runtime>,
    pub(crate) cache: SignatureCache,
    pub(crate) metrics: Metrics,
    ready: AtomicBool,
    pub(crate) fixed: Fixed,
    /// The signing threads (one per core unless `[server] signing_threads` says otherwise).
    pub(crate) signing: SigningPool,
}

/// The state shared by every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) shared: Arc<Shared>,
    clock: Clock,
}

impl AppState {
    /// Builds the state from a config: loads the keys (from files, or `AWS_CLOUDFRONT_KEY` /
    /// `AWS_CLOUDFRONT_KEY_ID` through `env`) and the clients.
    pub fn from_config(config: &Config, env: EnvLookup<'_>) -> Result<AppState, ConfigError> {
        let runtime = Runtime::build(config, env)?;
        let server = &config.server;
        Ok(AppState {
            shared: Arc::new(Shared {
                runtime: ArcSwap::from_pointee(runtime),
                cache: SignatureCache::new(config.cache.capacity),
                metrics: Metrics::new(),
                ready: AtomicBool::new(true),
                signing: SigningPool::start(server.signing_threads.map_or_else(
                    || std::thread::available_parallelism().map_or(1, |n| n.get()),
                    |n| n.get(),
                ))
                .map_err(|e| {
                    ConfigError::invalid(format!("cannot start the signing threads: {e}"))
                })?,
                fixed: Fixed {
                    body_limit: server.body_limit_bytes,
                    timeout: Duration::from_secs(server.request_timeout_secs.max(1)),
                    max_concurrency: server.max_concurrency.max(1),
                },
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
        let result = Runtime::build(config, env);
        let metrics = &self.shared.metrics;
        match result {
            Ok(runtime) => {
                let active = runtime.active.id.to_string();
                self.shared.runtime.store(Arc::new(runtime));
                self.shared.cache.resize(config.cache.capacity);
                self.shared.cache.clear();
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

    /// The key pair ID that currently signs.
    pub fn active_key_id(&self) -> String {
        self.shared.runtime.load().active.id.to_string()
    }

    /// Marks the server as (not) ready; `/readyz` answers 503 while not ready (during shutdown).
    pub fn set_ready(&self, ready: bool) {
        self.shared.ready.store(ready, Ordering::SeqCst);
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::SeqCst)
    }

    pub(crate) fn runtime(&self) -> Arc<Runtime> {
        self.shared.runtime.load_full()
    }

    pub(crate) fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Authenticates an `Authorization: Bearer …` header value.
    pub(crate) fn client<'r>(
        &self,
        runtime: &'r Runtime,
        authorization: Option<&str>,
    ) -> Result<&'r Client, ApiError> {
        let Some(value) = authorization else {
            return Err(ApiError::unauthorized(
                "missing `Authorization: Bearer <token>` header",
            ));
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        runtime
            .authenticate(token)
            .ok_or_else(|| ApiError::unauthorized("unknown bearer token"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use cfsign::UnixTime;

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
        Runtime::build(&config(dir, keys), &|name| env.get(name).cloned())
    }

    /// The URL the active key signs, with both hash algorithms.
    fn signed(runtime: &Runtime) -> [String; 2] {
        let expires = UnixTime::from_secs(1_767_225_600).unwrap();
        [HashAlgorithm::Sha1, HashAlgorithm::Sha256].map(|hash| {
            runtime
                .active
                .signer(hash)
                .sign_canned_url(URL, expires)
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
