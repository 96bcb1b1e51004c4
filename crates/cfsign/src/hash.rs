//! The hash under a signature: SHA-1 (CloudFront's default) or SHA-256.

use std::fmt;

use crate::Error;

/// The hash under the signature: SHA-1 (CloudFront's default) or SHA-256
/// (`Hash-Algorithm=SHA256`, cookie `CloudFront-Hash-Algorithm=SHA256`).
///
/// ```
/// use cfsign::{HashAlgorithm, KeyKind, PrivateKey, Signer, UnixTime};
/// assert_eq!(HashAlgorithm::parse("sha-256")?, HashAlgorithm::Sha256);
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?)
///     .with_hash_algorithm(HashAlgorithm::Sha256);
/// let url = signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// assert!(url.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256"));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1, the default when no `Hash-Algorithm` is given.
    #[default]
    Sha1,
    /// SHA-256.
    Sha256,
}

impl HashAlgorithm {
    /// The value CloudFront uses in `Hash-Algorithm`: `SHA1` or `SHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Parses `SHA1`/`sha1`/`sha-1` or `SHA256`/`sha256`/`sha-256`.
    pub fn parse(text: &str) -> Result<HashAlgorithm, Error> {
        match text.to_ascii_lowercase().as_str() {
            "sha1" | "sha-1" => Ok(HashAlgorithm::Sha1),
            "sha256" | "sha-256" => Ok(HashAlgorithm::Sha256),
            _ => Err(Error::UnknownHashAlgorithm {
                value: crate::error::shorten(text, 40),
            }),
        }
    }

    /// Parses CloudFront's exact parameter value (`SHA1` or `SHA256`), as the edge does.
    pub(crate) fn from_param(text: &str) -> Option<HashAlgorithm> {
        match text {
            "SHA1" => Some(HashAlgorithm::Sha1),
            "SHA256" => Some(HashAlgorithm::Sha256),
            _ => None,
        }
    }

    pub(crate) fn digest(self, message: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            HashAlgorithm::Sha1 => sha1::Sha1::digest(message).to_vec(),
            HashAlgorithm::Sha256 => sha2::Sha256::digest(message).to_vec(),
        }
    }

    pub(crate) fn pkcs1v15(self) -> rsa::pkcs1v15::Pkcs1v15Sign {
        match self {
            HashAlgorithm::Sha1 => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha1::Sha1>(),
            HashAlgorithm::Sha256 => rsa::pkcs1v15::Pkcs1v15Sign::new::<sha2::Sha256>(),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
