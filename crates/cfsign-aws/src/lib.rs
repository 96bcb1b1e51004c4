//! CloudFront signing keys held in AWS, for the [`cfsign`] core.
//!
//! - [`KmsKey`] / [`KmsSigner`]: the private key stays in AWS KMS (`RSA_2048` or `ECC_NIST_P256`,
//!   `SIGN_VERIFY`); policies are signed with `kms:Sign` (SHA-256 only: KMS has no SHA-1), each
//!   signature is checked with the key's public key, and URLs and cookies are finished by the
//!   core's two-step API ([`cfsign::UnsignedUrl::finish`]), byte-identical to a local signer's.
//! - [`KeySource`]: a PEM private key in a Secrets Manager secret (the whole value, one JSON
//!   field, or a binary DER/PEM value; any version stage or ID) or an SSM `SecureString`
//!   parameter, loaded into a [`cfsign::PrivateKey`]; fetched values are zeroized.
//!   [`store_private_key`] stores a newly generated key in a new secret.
//! - [`TextSource`]: text (such as a whole configuration file) in a secret or an SSM parameter.
//!
//! Clients come from [`Aws`], built from the standard chain (credentials, region,
//! `AWS_ENDPOINT_URL`) with [`Settings`] for retries (exponential backoff with jitter) and
//! timeouts. Throttling, timeouts and unreachable endpoints are distinct [`Error`] variants.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use cfsign::{Signer, UnixTime};
//! use cfsign_aws::{Aws, KeySource, Settings};
//! let aws = Aws::from_env(&Settings::default()).await;
//! let source = KeySource::secret("cdn/signing-key")?.with_json_field("private_key")?;
//! let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, source.load(&aws).await?);
//! let url = signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
//! # Ok(()) }
//! ```

mod connect;
mod error;
mod kms;
mod kms_spec;
mod sdk_error;
mod secret;
mod secret_text;
mod ssm;
mod store;
mod text;

pub use crate::connect::{Aws, Settings};
pub use crate::error::Error;
pub use crate::kms::{KmsKey, KmsSigner};
pub use crate::kms_spec::KmsKeySpec;
pub use crate::secret::{KeySource, SecretVersion};
pub use crate::store::store_private_key;
pub use crate::text::TextSource;

/// The `aws-config` this crate builds clients with, for [`Settings::loader`]'s callers.
pub use aws_config;
