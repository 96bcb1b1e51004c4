//! The inputs of the commands: which behaviours, where the key pair comes from, `setup` and
//! `rotate` options.

use std::path::{Path, PathBuf};

use cfsign::{KeyKind, PublicKey};

/// Which cache behaviours of a distribution a command changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviors {
    /// The default cache behaviour (`*`).
    Default,
    /// The cache behaviours with these path patterns.
    PathPatterns(Vec<String>),
}

impl Behaviors {
    /// `--path-pattern` values, or the default behaviour when there are none.
    pub fn from_patterns(patterns: Vec<String>) -> Behaviors {
        if patterns.is_empty() {
            Behaviors::Default
        } else {
            Behaviors::PathPatterns(patterns)
        }
    }
}

/// Where the key pair of `setup` and `rotate` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// Generate a key of this kind, writing the private key (mode 0600) to this path, or reuse
    /// the key already in that file.
    Generate {
        /// Which key to generate.
        kind: KeyKind,
        /// Where the private key goes (`None`: `<key name>.pem` in the current directory).
        private_key_out: Option<PathBuf>,
    },
    /// Upload this existing public key (PEM file); the private key stays where it is.
    PublicKeyFile(PathBuf),
    /// Upload the public key of this AWS KMS key (read and checked with [`kms_key_source`]:
    /// `RSA_2048` or `ECC_NIST_P256`, `SIGN_VERIFY`, enabled); the private key never leaves KMS.
    ///
    /// [`kms_key_source`]: crate::kms_key_source
    Kms {
        /// The key ID, ARN or alias as given.
        key_id: String,
        /// The key's ARN.
        arn: String,
        /// Its public key (from `kms:GetPublicKey`).
        public_key: PublicKey,
    },
    /// Keep the private key in AWS Secrets Manager secret `name` (PKCS#8 PEM), read with
    /// [`secret_key_source`]: reuse the key already there, or generate one of `kind` and store it
    /// in a new secret, so it never touches disk.
    ///
    /// [`secret_key_source`]: crate::secret_key_source
    Secret {
        /// The secret's name.
        name: String,
        /// Which key to generate when the secret does not exist.
        kind: KeyKind,
        /// The public key of the private key already in the secret, if it exists.
        existing: Option<PublicKey>,
    },
}

/// The private key file of a generated key pair: `--private-key-out`, else `<key name>.pem`.
pub(crate) fn private_key_file(private_key_out: Option<&Path>, key_name: &str) -> PathBuf {
    private_key_out
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from(format!("{key_name}.pem")))
}

/// A generated RSA-2048 key in the default file.
fn default_key_source() -> KeySource {
    KeySource::Generate {
        kind: KeyKind::Rsa2048,
        private_key_out: None,
    }
}

/// Options of `setup`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetupOptions {
    /// The distribution to protect.
    pub distribution_id: String,
    /// Which behaviours to restrict.
    pub behaviors: Behaviors,
    /// The key group's name (default `cfsign-<distribution id>`).
    pub key_group_name: Option<String>,
    /// The public key's name (default `<key group name>-key`).
    pub key_name: Option<String>,
    /// Where the key comes from.
    pub key: KeySource,
}

impl SetupOptions {
    /// Defaults: default behaviour, generated RSA-2048 key, default names.
    pub fn new(distribution_id: &str) -> SetupOptions {
        SetupOptions {
            distribution_id: distribution_id.to_owned(),
            behaviors: Behaviors::Default,
            key_group_name: None,
            key_name: None,
            key: default_key_source(),
        }
    }
}

/// Options of `rotate` (without `--retire`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotateOptions {
    /// The key group (name or ID).
    pub key_group: String,
    /// The new public key's name (default `<key group name>-<unix time>`).
    pub key_name: Option<String>,
    /// Where the new key comes from.
    pub key: KeySource,
}

impl RotateOptions {
    /// Defaults: generated RSA-2048 key, default name.
    pub fn new(key_group: &str) -> RotateOptions {
        RotateOptions {
            key_group: key_group.to_owned(),
            key_name: None,
            key: default_key_source(),
        }
    }
}
