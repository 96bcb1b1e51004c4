//! Loading the signing keys of `[[keys]]` (or `AWS_CLOUDFRONT_KEY`): files and variables, plain or
//! encrypted with a passphrase, and keys held in AWS as last read into [`RemoteKeys`]; each
//! local key is parsed once into the one [`Signer`] that signs with either hash.

use std::sync::Arc;

use cfsign::{Backend, KeyPairId, PrivateKey, Signer};
use zeroize::Zeroizing;

use crate::config::{Config, ConfigError, EnvLookup, KeyConfig};
use crate::remote::{self, Material, RemoteKeys};
use crate::signing_key::SigningKey;

/// The keys `config` names, in order, read from their files or the key environment variables
/// (`AWS_CLOUDFRONT_KEY` alone when no `[[keys]]` are configured), or for keys held in AWS taken
/// from `remote`; at least one, each ID once.
pub(crate) fn load(
    config: &Config,
    env: EnvLookup<'_>,
    remote: &RemoteKeys,
) -> Result<Vec<SigningKey>, ConfigError> {
    let mut keys: Vec<SigningKey> = Vec::new();
    let mut key_configs = config.keys.clone();
    if key_configs.is_empty() && env("AWS_CLOUDFRONT_KEY").is_some() {
        // As the `cfsign` CLI does, an encrypted key's passphrase may sit beside it.
        let passphrase_env = env(PASSPHRASE_ENV)
            .filter(|v| !v.is_empty())
            .map(|_| PASSPHRASE_ENV.to_owned());
        key_configs.push(KeyConfig {
            id: None,
            file: None,
            from_env: true,
            passphrase_file: None,
            passphrase_env,
            kms_key_id: None,
            secret: None,
            json_field: None,
            version_stage: None,
            version_id: None,
            ssm_parameter: None,
        });
    }
    for (index, key) in key_configs.iter().enumerate() {
        let signer = if key.in_aws() {
            load_remote(index, key, remote)?
        } else {
            SigningKey::Local(Arc::new(load_key(index, key, env)?))
        };
        if keys.iter().any(|k| k.key_pair_id() == signer.key_pair_id()) {
            return Err(ConfigError::invalid(format!(
                "key `{}` is configured twice; give each [[keys]] entry its own id",
                signer.key_pair_id()
            )));
        }
        keys.push(signer);
    }
    if keys.is_empty() {
        return Err(ConfigError::invalid(
            "no signing key: add a [[keys]] entry with `id` and `file`, or set AWS_CLOUDFRONT_KEY and AWS_CLOUDFRONT_KEY_ID",
        ));
    }
    Ok(keys)
}

/// The key of `[[keys]]` entry `index` (from 0) held in AWS, as last read into `remote`.
fn load_remote(
    index: usize,
    key: &KeyConfig,
    remote: &RemoteKeys,
) -> Result<SigningKey, ConfigError> {
    let label = format!("[[keys]] entry {}", index + 1);
    let sources = [
        key.file.is_some(),
        key.from_env,
        key.kms_key_id.is_some(),
        key.secret.is_some(),
        key.ssm_parameter.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err(ConfigError::invalid(format!(
            "{label}: give exactly one of `file`, `from_env = true`, `kms_key_id`, `secret` or `ssm_parameter`"
        )));
    }
    if key.passphrase_file.is_some() || key.passphrase_env.is_some() {
        return Err(ConfigError::invalid(format!(
            "{label}: `passphrase_file` and `passphrase_env` apply to `file` and `from_env` keys; store the key \
             in AWS unencrypted (the secret or parameter is encrypted by AWS)"
        )));
    }
    if key.secret.is_none()
        && (key.json_field.is_some() || key.version_stage.is_some() || key.version_id.is_some())
    {
        return Err(ConfigError::invalid(format!(
            "{label}: `json_field`, `version_stage` and `version_id` apply to `secret` only"
        )));
    }
    let id = key.id.as_deref().ok_or_else(|| {
        ConfigError::invalid(format!(
            "{label}: `id` is missing; set it to the CloudFront public key ID (K…) of this key"
        ))
    })?;
    let id = key_pair_id(&label, id)?;
    let source = remote::label(key).unwrap_or_default();
    if !cfg!(feature = "aws") {
        return Err(ConfigError::invalid(format!(
            "{label}: `{source}` is a key held in AWS, and this cfsign-server was built without the `aws` \
             feature; build it with `cargo install cfsign-server --features aws`, or use a key file"
        )));
    }
    match remote.material(&source) {
        Ok(Material::Private(der)) => {
            let private = PrivateKey::from_der(&der)
                .map_err(|e| ConfigError::invalid(format!("{label}: {source}: {e}")))?;
            Ok(SigningKey::Local(Arc::new(Signer::with_backend(
                id,
                private,
                Backend::fastest(),
            ))))
        }
        #[cfg(feature = "aws")]
        Ok(Material::Kms(kms)) => Ok(SigningKey::Kms(Arc::new(cfsign_aws::KmsSigner::new(
            id, *kms,
        )))),
        Err(why) => Err(ConfigError::invalid(format!("{label}: {source} {why}"))),
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
    key: &KeyConfig,
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

/// The text of a key, as read (zeroized when dropped).
enum KeyText {
    /// A key file's bytes: PEM or DER.
    File(Zeroizing<Vec<u8>>),
    /// `AWS_CLOUDFRONT_KEY`: PEM, perhaps with lost newlines or literal `\n`.
    Env(Zeroizing<String>),
}

/// Loads `[[keys]]` entry `index` (from 0) into its signer.
fn load_key(index: usize, key: &KeyConfig, env: EnvLookup<'_>) -> Result<Signer, ConfigError> {
    let label = format!("[[keys]] entry {}", index + 1);
    if key.json_field.is_some() || key.version_stage.is_some() || key.version_id.is_some() {
        return Err(ConfigError::invalid(format!(
            "{label}: `json_field`, `version_stage` and `version_id` apply to `secret` only"
        )));
    }
    let passphrase = key_passphrase(&label, key, env)?;
    let (text, id, source) = match (&key.file, key.from_env) {
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
            (KeyText::File(bytes), id, source)
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
            (KeyText::Env(pem), id, "AWS_CLOUDFRONT_KEY".to_owned())
        }
        _ => {
            return Err(ConfigError::invalid(format!(
                "{label}: give exactly one of `file` or `from_env = true`"
            )));
        }
    };
    // Parsed once (an encrypted key is decrypted once): one signer serves both hashes.
    let parsed = match (&text, &passphrase) {
        (KeyText::File(bytes), Some(p)) => PrivateKey::parse_with_passphrase(bytes, &p.bytes),
        (KeyText::File(bytes), None) => PrivateKey::parse(bytes),
        (KeyText::Env(pem), Some(p)) => PrivateKey::from_pem_with_passphrase(pem, &p.bytes),
        (KeyText::Env(pem), None) => PrivateKey::from_pem(pem),
    };
    let key = parsed.map_err(|e| {
        let with = match (&e, &passphrase) {
            (cfsign::Error::WrongPassphrase { .. }, Some(p)) => {
                format!(" (the passphrase from {})", p.source)
            }
            _ => String::new(),
        };
        ConfigError::invalid(format!("{label}: {source}{with}: {e}"))
    })?;
    let id = key_pair_id(&label, &id)?;
    // The server signs many URLs: OpenSSL where it is compiled in, chosen here explicitly.
    Ok(Signer::with_backend(id, key, Backend::fastest()))
}

/// `[[keys]] id` as a key pair ID; one with lower-case letters is loaded with a warning, since
/// CloudFront's IDs are upper case and URLs signed under it would be refused.
fn key_pair_id(label: &str, id: &str) -> Result<KeyPairId, ConfigError> {
    let id =
        KeyPairId::new(id.trim()).map_err(|e| ConfigError::invalid(format!("{label}: {e}")))?;
    if let Some(doubt) = id.doubt() {
        tracing::warn!("{label}: {doubt}");
    }
    Ok(id)
}
