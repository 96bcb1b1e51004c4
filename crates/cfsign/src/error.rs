//! The one error type of the core crate: every variant says what was wrong and how to fix it.

use std::fmt;

/// Everything that can go wrong when loading keys, building policies or signing.
///
/// Verification never returns this type for a bad request: a request CloudFront would refuse is a
/// [`Denial`](crate::Denial), not an error. Messages never contain private key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A public key was given where signing needs the private key.
    #[error(
        "this is a public key ({found}); signing needs the private key. Use the file written by \
         `cfsign keygen` or `openssl genrsa`, not the one uploaded to CloudFront"
    )]
    PublicKeyGiven {
        /// What was found, e.g. "`-----BEGIN PUBLIC KEY-----`".
        found: String,
    },
    /// A private key was given where a public key is expected (for example when uploading).
    #[error(
        "this is a private key ({found}); CloudFront needs the public key. Derive it with \
         `cfsign pubkey --private-key FILE` (or `openssl pkey -pubout`) and keep the private key secret"
    )]
    PrivateKeyGiven {
        /// What was found, e.g. "`-----BEGIN RSA PRIVATE KEY-----`".
        found: String,
    },
    /// The key is encrypted and no passphrase was given: load it with
    /// [`PrivateKey::from_pem_with_passphrase`](crate::PrivateKey::from_pem_with_passphrase) or
    /// [`PrivateKey::parse_with_passphrase`](crate::PrivateKey::parse_with_passphrase).
    #[error(
        "this is an encrypted private key ({found}); give its passphrase (cfsign: --passphrase-file PATH \
         or AWS_CLOUDFRONT_KEY_PASSPHRASE; cfsign-server: passphrase_file or passphrase_env in [[keys]]), \
         or decrypt it once with `openssl pkey -in key.pem -out key-plain.pem` and store the result as a secret"
    )]
    EncryptedKey {
        /// What was found.
        found: String,
    },
    /// The key is of a type CloudFront does not support.
    #[error("{found} is not supported: CloudFront signs with RSA or ECDSA P-256 keys. {fix}")]
    UnsupportedKey {
        /// What was found, e.g. "an ECDSA key on curve secp384r1".
        found: String,
        /// What to do instead.
        fix: &'static str,
    },
    /// The RSA key is smaller than 1024 bits, which nothing accepts.
    #[error(
        "RSA key of {bits} bits is too small to sign with (at least 1024 bits); generate a new key \
         with `cfsign keygen`"
    )]
    RsaKeyTooSmall {
        /// The modulus size in bits.
        bits: usize,
    },
    /// The key is valid but CloudFront key groups will not accept it.
    #[error(
        "{found}: CloudFront key groups take 2048-bit RSA or P-256 public keys. Generate one with `cfsign keygen`"
    )]
    NotAcceptedByKeyGroups {
        /// What was found, e.g. "RSA key of 1024 bits".
        found: String,
    },
    /// The text or bytes are not a key at all, or the key is damaged.
    #[error("{reason}")]
    InvalidKey {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A key pair ID is not well formed.
    #[error("invalid Key-Pair-Id `{value}`: {reason}")]
    InvalidKeyPairId {
        /// The value given (a key pair ID is not secret).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A time is out of the range CloudFront accepts, or looks like milliseconds.
    #[error("{reason}")]
    InvalidTime {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A URL cannot be signed.
    #[error("cannot sign `{url}`: {reason}")]
    InvalidUrl {
        /// The URL (possibly shortened).
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A resource pattern for a custom policy is not usable.
    #[error("invalid resource pattern `{pattern}`: {reason}")]
    InvalidResource {
        /// The pattern given.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// A source IP range is not an IPv4 address or CIDR block.
    #[error("invalid source IP `{value}`: {reason}")]
    InvalidSourceIp {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A policy cannot be used: its conditions contradict each other, or a policy document does
    /// not parse as a CloudFront policy (CloudFront would answer `MalformedPolicy`).
    #[error("invalid policy: {reason}")]
    InvalidPolicy {
        /// What is wrong.
        reason: String,
    },
    /// A hash algorithm name is neither SHA-1 nor SHA-256.
    #[error("unknown hash algorithm `{value}`: use sha1 or sha256")]
    UnknownHashAlgorithm {
        /// The name given (possibly shortened).
        value: String,
    },
    /// A cookie attribute cannot be used.
    #[error("invalid cookie attribute: {reason}")]
    InvalidCookieAttribute {
        /// What is wrong.
        reason: String,
    },
    /// Signing failed inside the cryptographic backend. This should not happen with a key that loaded.
    #[error("signing failed: {reason}")]
    Signing {
        /// The backend's description.
        reason: String,
    },
    /// The passphrase does not decrypt the encrypted private key (or the encrypted key is damaged).
    /// The message never contains the passphrase.
    #[error(
        "wrong passphrase: it does not decrypt the encrypted private key ({found}). Give the passphrase \
         the key was encrypted with (check for stray spaces or line breaks), and check the key file is whole"
    )]
    WrongPassphrase {
        /// What was found, e.g. "`-----BEGIN ENCRYPTED PRIVATE KEY-----`".
        found: String,
    },
    /// The key is encrypted with a scheme, or with key-derivation parameters, that cfsign does not
    /// decrypt.
    #[error(
        "the private key ({found}) is encrypted with {scheme}, which cfsign does not decrypt. Re-encrypt it \
         with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-new.pem` (it asks for the \
         passphrase, then a new one){fix}"
    )]
    UnsupportedEncryption {
        /// What was found, e.g. "`-----BEGIN ENCRYPTED PRIVATE KEY-----`".
        found: String,
        /// The encryption scheme, e.g. "PBES2 (PBKDF2, DES-EDE3-CBC)".
        scheme: String,
        /// Another way out, if there is one (starts with "; " when not empty).
        fix: &'static str,
    },
    /// The key uses OpenSSL's legacy PEM encryption (`Proc-Type: 4,ENCRYPTED`), which only builds
    /// with the `native` feature decrypt.
    #[error(
        "this private key ({found}) is encrypted in OpenSSL's legacy PEM format, which this build of \
         cfsign decrypts only with the `native` feature. Convert it to encrypted PKCS#8 with \
         `openssl pkcs8 -topk8 -in old.pem -out new.pem` (it asks for the old passphrase, then a new \
         one) and give the new passphrase, or use a build with the `native` feature"
    )]
    LegacyEncryptedKey {
        /// What was found, e.g. "`-----BEGIN RSA PRIVATE KEY-----` with Proc-Type: 4,ENCRYPTED".
        found: String,
    },
    /// A manifest given to [`stream::sign_manifest`](crate::stream::sign_manifest) is not an
    /// HLS playlist or a DASH MPD (or not UTF-8, or not well-formed XML).
    #[error("invalid manifest: {reason}")]
    InvalidManifest {
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl Error {
    pub(crate) fn invalid_key(reason: impl fmt::Display) -> Self {
        Error::InvalidKey {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid_url(url: &str, reason: impl fmt::Display) -> Self {
        Error::InvalidUrl {
            url: shorten(url, 120),
            reason: reason.to_string(),
        }
    }
}

/// Shortens long input for error messages, keeping the start (where the scheme and host are).
pub(crate) fn shorten(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_owned();
    }
    let kept: String = s.chars().take(max_chars).collect();
    format!("{kept}…")
}
