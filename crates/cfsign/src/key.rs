//! Keys: loading private keys in every form users have them, public keys, generation, `KeyPairId`.
//!
//! PEM is parsed tolerantly: newlines may be lost or written as a literal `\n` (as in environment
//! variables and secret stores), surrounding quotes and whitespace are ignored. The base64 body is
//! decoded by hand and the DER dispatched on the PEM label, so errors can say exactly what was found.

use std::fmt;

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use spki::{DecodePublicKey, EncodePublicKey};
use zeroize::Zeroizing;

use crate::pem::pem_blocks;
use crate::{Error, HashAlgorithm};

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_PBES2: &str = "1.2.840.113549.1.5.13";

/// The most memory scrypt may use to decrypt a key (OpenSSL's own limit is 32 MiB).
const MAX_SCRYPT_BYTES: u128 = 256 * 1024 * 1024;
/// The most PBKDF2 iterations decrypting a key may take (OpenSSL's default is 2048).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The ID CloudFront gives a public key (`K2JCJMDEHXQW5F`), or a legacy account key pair (`APKA…`).
///
/// Validated on construction: 1 to 128 ASCII letters and digits.
///
/// ```
/// use cfsign::KeyPairId;
/// let id: KeyPairId = "K2JCJMDEHXQW5F".parse()?;
/// assert_eq!(id.as_str(), "K2JCJMDEHXQW5F");
/// assert!("K2JC JMDE".parse::<KeyPairId>().is_err());
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPairId(String);

impl KeyPairId {
    /// Parses and validates a key pair ID.
    pub fn new(value: &str) -> Result<KeyPairId, Error> {
        let trimmed = value.trim();
        // Long values are not echoed: they may be key material pasted into the wrong place.
        let shown = if trimmed.chars().count() > 40 {
            format!("({} characters, not shown)", trimmed.chars().count())
        } else {
            trimmed.to_owned()
        };
        let invalid = |reason| Error::InvalidKeyPairId {
            value: shown.clone(),
            reason,
        };
        if trimmed.is_empty() {
            return Err(invalid(
                "it is empty; use the ID CloudFront shows for the public key (like K2JCJMDEHXQW5F)",
            ));
        }
        if trimmed.len() > 128 {
            return Err(invalid(
                "it is longer than 128 characters; a CloudFront key ID is 14 characters like K2JCJMDEHXQW5F",
            ));
        }
        if trimmed.starts_with("-----") || trimmed.contains("PRIVATE KEY") {
            return Err(Error::InvalidKeyPairId {
                value: "(key material, not shown)".to_owned(),
                reason: "this is a key, not a key ID; pass the ID CloudFront shows for the public key (like K2JCJMDEHXQW5F)",
            });
        }
        if !trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(
                "only ASCII letters and digits are allowed; use the ID CloudFront shows for the public key (like K2JCJMDEHXQW5F)",
            ));
        }
        Ok(KeyPairId(trimmed.to_owned()))
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Why this ID is unlikely to be one CloudFront gave, if it is: CloudFront's IDs are upper
    /// case, and IDs must match exactly, so one with lower-case letters is accepted (it is only
    /// copied into URLs and cookies) but will be refused unless it really is the ID CloudFront
    /// shows. For signers to print as a warning.
    ///
    /// ```
    /// use cfsign::KeyPairId;
    /// assert!("K2JCJMDEHXQW5F".parse::<KeyPairId>()?.doubt().is_none());
    /// assert!("k2jcjmdehxqw5f".parse::<KeyPairId>()?.doubt().is_some());
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn doubt(&self) -> Option<String> {
        self.0.bytes().any(|b| b.is_ascii_lowercase()).then(|| {
            format!(
                "key pair ID `{}` has lower-case letters; CloudFront's key IDs are upper case (like \
                 K2JCJMDEHXQW5F), so CloudFront refuses what is signed under it unless it is \
                 exactly the ID CloudFront shows for the public key",
                self.0
            )
        })
    }
}

impl std::str::FromStr for KeyPairId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        KeyPairId::new(s)
    }
}

impl fmt::Display for KeyPairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lets maps keyed by `KeyPairId` be searched with a `&str` (the derived `Eq`, `Ord` and `Hash`
/// are those of the inner string, as `Borrow` requires).
impl std::borrow::Borrow<str> for KeyPairId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for KeyPairId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Which key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA with a 2048-bit modulus and exponent 65537 (what `openssl genrsa 2048` makes).
    Rsa2048,
    /// ECDSA on NIST P-256 (prime256v1).
    P256,
}

impl KeyKind {
    /// Parses `rsa2048`/`rsa` or `p256`/`ecdsa`/`ec`.
    pub fn parse(text: &str) -> Result<KeyKind, Error> {
        match text.to_ascii_lowercase().as_str() {
            "rsa" | "rsa2048" | "rsa-2048" => Ok(KeyKind::Rsa2048),
            "p256" | "p-256" | "ecdsa" | "ec" | "prime256v1" | "secp256r1" => Ok(KeyKind::P256),
            _ => Err(Error::UnsupportedKey {
                found: format!("key algorithm `{text}`"),
                fix: "Use rsa2048 or p256.",
            }),
        }
    }
}

/// The algorithm of a loaded key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA with a modulus of this many bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// ECDSA on NIST P-256.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// Whether CloudFront key groups accept public keys of this algorithm (RSA-2048 or P-256).
    pub fn accepted_by_key_groups(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Rsa { bits: 2048 } | KeyAlgorithm::EcdsaP256
        )
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyAlgorithm::EcdsaP256 => f.write_str("ECDSA P-256"),
        }
    }
}

enum PrivateInner {
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::ecdsa::SigningKey),
}

/// A private signing key: RSA (≥ 1024 bits) or ECDSA P-256.
///
/// Key material is zeroized on drop (both backends' key types do so) and never printed: `Debug`
/// shows only the algorithm. It is deliberately neither `Clone` nor `Serialize`.
///
/// ```
/// use cfsign::{KeyAlgorithm, KeyKind, PrivateKey};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let pem = key.to_pkcs8_pem();
/// // Newlines lost in an environment variable are tolerated.
/// let flattened = pem.replace('\n', "\\n");
/// let again = PrivateKey::from_pem(&flattened)?;
/// assert_eq!(again.algorithm(), KeyAlgorithm::EcdsaP256);
/// assert_eq!(format!("{again:?}"), "PrivateKey(ECDSA P-256)");
/// # Ok::<(), cfsign::Error>(())
/// ```
pub struct PrivateKey {
    inner: PrivateInner,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.algorithm())
    }
}

impl PrivateKey {
    /// Generates a new key pair. `rng` must be a cryptographically secure generator such as
    /// `rand::rng()`; the core never gathers entropy itself.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(
        kind: KeyKind,
        rng: &mut R,
    ) -> Result<PrivateKey, Error> {
        let inner = match kind {
            KeyKind::Rsa2048 => {
                let key = rsa::PrivateKey::new(rng, 2048).map_err(|e| Error::Signing {
                    reason: format!("RSA key generation failed: {e}"),
                })?;
                PrivateInner::Rsa(Box::new(key))
            }
            KeyKind::P256 => PrivateInner::P256(
                <p256::ecdsa::SigningKey as rsa::Generate>::generate_from_rng(rng),
            ),
        };
        Ok(PrivateKey { inner })
    }

    /// Loads a private key from PEM text: PKCS#1 (`BEGIN RSA PRIVATE KEY`), PKCS#8
    /// (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`).
    ///
    /// Encrypted keys are refused with [`Error::EncryptedKey`]; load them with
    /// [`PrivateKey::from_pem_with_passphrase`].
    pub fn from_pem(text: &str) -> Result<PrivateKey, Error> {
        Self::from_pem_inner(text, None)
    }

    /// Loads a private key from PEM text that may be encrypted with `passphrase`: PKCS#8
    /// `BEGIN ENCRYPTED PRIVATE KEY` (PBES2: PBKDF2 with HMAC-SHA-1 or SHA-2, or scrypt; AES-CBC or
    /// AES-GCM), and with the `native` feature OpenSSL's legacy `Proc-Type: 4,ENCRYPTED` PEM and the
    /// older PKCS#8 schemes OpenSSL still decrypts (3DES, PBES1).
    ///
    /// An unencrypted key loads as with [`PrivateKey::from_pem`] and the passphrase is ignored, so
    /// a passphrase can be configured before the key is encrypted. A passphrase that does not
    /// decrypt the key is [`Error::WrongPassphrase`]. The passphrase is used as bytes, as OpenSSL
    /// does; decrypted key bytes are zeroized after parsing.
    ///
    /// Key-derivation parameters are bounded so a hostile key file cannot exhaust the machine:
    /// scrypt may use at most 256 MiB and PBKDF2 at most 10 million iterations (OpenSSL's defaults
    /// are 32 MiB and 2048).
    ///
    /// ```
    /// use cfsign::{Error, KeyAlgorithm, PrivateKey};
    /// // Made by `openssl genpkey -algorithm RSA -aes256 -pass pass:test-passphrase`.
    /// let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys/rsa2048-encrypted.pem"));
    /// let key = PrivateKey::from_pem_with_passphrase(pem, b"test-passphrase")?;
    /// assert_eq!(key.algorithm(), KeyAlgorithm::Rsa { bits: 2048 });
    ///
    /// let wrong = PrivateKey::from_pem_with_passphrase(pem, b"guess").unwrap_err();
    /// assert!(matches!(wrong, Error::WrongPassphrase { .. }));
    /// assert!(wrong.to_string().starts_with("wrong passphrase"));
    /// // Without a passphrase the error says how to give one.
    /// let missing = PrivateKey::from_pem(pem).unwrap_err();
    /// assert!(matches!(missing, Error::EncryptedKey { .. }));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn from_pem_with_passphrase(text: &str, passphrase: &[u8]) -> Result<PrivateKey, Error> {
        Self::from_pem_inner(text, Some(passphrase))
    }

    fn from_pem_inner(text: &str, passphrase: Option<&[u8]>) -> Result<PrivateKey, Error> {
        let blocks = pem_blocks(text)?;
        let Some(block) = blocks.iter().find(|b| b.label != "EC PARAMETERS") else {
            return Err(Error::invalid_key(
                "the PEM text holds only EC PARAMETERS; the private key block is missing",
            ));
        };
        let found = format!("`-----BEGIN {}-----`", block.label);
        match block.label.as_str() {
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" if block.encrypted_headers => {
                Self::from_legacy_encrypted(block, &found, passphrase)
            }
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&block.der),
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&block.der),
            "ENCRYPTED PRIVATE KEY" => match passphrase {
                Some(passphrase) => Self::from_encrypted_pkcs8_der(&block.der, passphrase, &found),
                None => Err(Error::EncryptedKey { found }),
            },
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Err(Error::PublicKeyGiven { found }),
            "CERTIFICATE" => Err(Error::PublicKeyGiven {
                found: format!("{found}, a certificate"),
            }),
            "OPENSSH PRIVATE KEY" => Err(Error::UnsupportedKey {
                found: "an OpenSSH-format key".to_owned(),
                fix: "Convert it with `ssh-keygen -p -m PKCS8 -f FILE`, or make a new key with `cfsign keygen`.",
            }),
            other => Err(Error::invalid_key(format!(
                "the PEM block is `{other}`, not a private key; expected BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY"
            ))),
        }
    }

    /// Loads a private key from DER bytes (PKCS#8, PKCS#1 or SEC1, detected automatically).
    ///
    /// An encrypted PKCS#8 key (`EncryptedPrivateKeyInfo`) is refused with
    /// [`Error::EncryptedKey`]; load it with [`PrivateKey::parse_with_passphrase`].
    pub fn from_der(der: &[u8]) -> Result<PrivateKey, Error> {
        Self::from_der_inner(der, None)
    }

    fn from_der_inner(der: &[u8], passphrase: Option<&[u8]>) -> Result<PrivateKey, Error> {
        if pkcs8::PrivateKeyInfoRef::try_from(der).is_ok() {
            return Self::from_pkcs8_der(der);
        }
        if encrypted_pkcs8_scheme(der).is_some() {
            let found = "a DER encrypted PKCS#8 key (EncryptedPrivateKeyInfo)".to_owned();
            return match passphrase {
                Some(passphrase) => Self::from_encrypted_pkcs8_der(der, passphrase, &found),
                None => Err(Error::EncryptedKey { found }),
            };
        }
        if let Ok(key) = Self::from_pkcs1_der(der) {
            return Ok(key);
        }
        if sec1::EcPrivateKey::try_from(der).is_ok() {
            return Self::from_sec1_der(der);
        }
        if spki::SubjectPublicKeyInfoRef::try_from(der).is_ok() {
            return Err(Error::PublicKeyGiven {
                found: "a DER SubjectPublicKeyInfo".to_owned(),
            });
        }
        Err(Error::invalid_key(
            "the DER bytes are not a PKCS#8, PKCS#1 or SEC1 private key; check the file is the private key and not damaged",
        ))
    }

    /// Loads a private key from a file's bytes: PEM text or DER, detected automatically.
    ///
    /// Encrypted keys are refused with [`Error::EncryptedKey`]; load them with
    /// [`PrivateKey::parse_with_passphrase`].
    pub fn parse(bytes: &[u8]) -> Result<PrivateKey, Error> {
        Self::parse_inner(bytes, None)
    }

    /// Loads a private key from a file's bytes, PEM text or DER, that may be encrypted with
    /// `passphrase`: what [`PrivateKey::from_pem_with_passphrase`] takes, or a DER
    /// `EncryptedPrivateKeyInfo` (`openssl pkcs8 -topk8 -outform DER`). An unencrypted key loads
    /// as with [`PrivateKey::parse`] and the passphrase is ignored.
    ///
    /// ```
    /// use cfsign::PrivateKey;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys/rsa2048-encrypted.pem");
    /// let bytes = std::fs::read(path).map_err(|e| cfsign::Error::InvalidKey { reason: e.to_string() })?;
    /// let encrypted = PrivateKey::parse_with_passphrase(&bytes, b"test-passphrase")?;
    /// // An unencrypted key loads too: the passphrase is not needed, and ignored.
    /// let plain = PrivateKey::parse_with_passphrase(&encrypted.to_pkcs8_der(), b"test-passphrase")?;
    /// assert_eq!(plain.public_key(), encrypted.public_key());
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn parse_with_passphrase(bytes: &[u8], passphrase: &[u8]) -> Result<PrivateKey, Error> {
        Self::parse_inner(bytes, Some(passphrase))
    }

    fn parse_inner(bytes: &[u8], passphrase: Option<&[u8]>) -> Result<PrivateKey, Error> {
        // Empty input goes the PEM way too, whose error says no key was found.
        let looks_textual = bytes.first().is_none_or(|&b| b != 0x30);
        if looks_textual {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                Error::invalid_key("the key is neither PEM text nor DER: it is not valid UTF-8 and does not start like DER")
            })?;
            return Self::from_pem_inner(text, passphrase);
        }
        Self::from_der_inner(bytes, passphrase)
    }

    /// Decrypts an `EncryptedPrivateKeyInfo` (PKCS#8) and loads the key inside. `found` names the
    /// input in errors.
    fn from_encrypted_pkcs8_der(
        der: &[u8],
        passphrase: &[u8],
        found: &str,
    ) -> Result<PrivateKey, Error> {
        let wrong = || Error::WrongPassphrase {
            found: found.to_owned(),
        };
        let Ok(info) = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der) else {
            // The `pkcs5` crate decodes only the schemes it implements; name any other one.
            return match encrypted_pkcs8_scheme(der) {
                Some(scheme) => Self::decrypt_unsupported(der, passphrase, found, scheme),
                None => Err(Error::invalid_key(
                    "the encrypted PKCS#8 private key is damaged; check it was copied whole",
                )),
            };
        };
        check_kdf_limits(&info.encryption_algorithm, found)?;
        // Decrypted in place, in memory that is zeroized on drop.
        let mut buffer = Zeroizing::new(info.encrypted_data.as_bytes().to_vec());
        match info
            .encryption_algorithm
            .decrypt_in_place(passphrase, &mut buffer)
        {
            // A wrong passphrase almost always breaks the CBC padding; when it happens to leave
            // valid padding, the plaintext is not DER.
            Ok(plain) if pkcs8::PrivateKeyInfoRef::try_from(plain).is_ok() => {
                Self::from_pkcs8_der(plain)
            }
            Ok(_) | Err(pkcs8::pkcs5::Error::DecryptFailed) => Err(wrong()),
            Err(
                pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. }
                | pkcs8::pkcs5::Error::NoPbes1CryptSupport,
            ) => Self::decrypt_unsupported(
                der,
                passphrase,
                found,
                encrypted_pkcs8_scheme(der).unwrap_or_else(|| "an unknown scheme".to_owned()),
            ),
            Err(e) => Err(Error::invalid_key(format!(
                "cannot decrypt the encrypted PKCS#8 private key ({e}); check it was copied whole"
            ))),
        }
    }

    /// A PKCS#8 encryption scheme the `pkcs5` crate does not implement: OpenSSL decrypts it with
    /// the `native` feature; otherwise it is refused.
    fn decrypt_unsupported(
        der: &[u8],
        passphrase: &[u8],
        found: &str,
        scheme: String,
    ) -> Result<PrivateKey, Error> {
        #[cfg(feature = "native")]
        {
            let plain = crate::native::decrypt_pkcs8(der, passphrase, found, scheme)?;
            Self::from_pkcs8_der(&plain)
        }
        #[cfg(not(feature = "native"))]
        {
            let _ = (der, passphrase);
            Err(Error::UnsupportedEncryption {
                found: found.to_owned(),
                scheme,
                fix: "; or use a build with the `native` feature, which decrypts it with OpenSSL",
            })
        }
    }

    /// OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`), which only OpenSSL decrypts.
    fn from_legacy_encrypted(
        block: &crate::pem::PemBlock,
        found: &str,
        passphrase: Option<&[u8]>,
    ) -> Result<PrivateKey, Error> {
        let found = format!("{found} with Proc-Type: 4,ENCRYPTED");
        #[cfg(feature = "native")]
        {
            let Some(passphrase) = passphrase else {
                return Err(Error::EncryptedKey { found });
            };
            let plain =
                crate::native::decrypt_legacy_pem(&block.canonical_pem(), passphrase, &found)?;
            Self::from_pkcs8_der(&plain)
        }
        #[cfg(not(feature = "native"))]
        {
            // Without OpenSSL a passphrase would not help: say how to convert the key at once.
            let _ = (block, passphrase);
            Err(Error::LegacyEncryptedKey { found })
        }
    }

    fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey, Error> {
        let key = rsa::PrivateKey::from_pkcs1_der(der)
            .map_err(|e| rsa_load_error(der, &e.to_string()))?;
        Self::from_rsa(key)
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, Error> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| {
            Error::invalid_key(format!(
                "the PKCS#8 private key is damaged ({e}); check it was copied whole"
            ))
        })?;
        let oid = info.algorithm.oid.to_string();
        match oid.as_str() {
            OID_RSA => {
                let key = rsa::PrivateKey::from_pkcs8_der(der)
                    .map_err(|e| rsa_load_error(der, &e.to_string()))?;
                Self::from_rsa(key)
            }
            OID_EC => {
                require_p256(info.algorithm.parameters)?;
                let key = p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| {
                    Error::invalid_key(format!("the P-256 private key is damaged ({e})"))
                })?;
                Ok(PrivateKey {
                    inner: PrivateInner::P256(key),
                })
            }
            other => Err(unsupported_algorithm(other)),
        }
    }

    fn from_sec1_der(der: &[u8]) -> Result<PrivateKey, Error> {
        let parsed = sec1::EcPrivateKey::try_from(der).map_err(|e| {
            Error::invalid_key(format!(
                "the EC private key is damaged ({e}); check it was copied whole"
            ))
        })?;
        if let Some(params) = parsed.parameters {
            let curve = params.named_curve().map(|o| o.to_string());
            if curve.as_deref() != Some(OID_P256) {
                return Err(unsupported_curve(curve.as_deref()));
            }
        }
        let secret = p256::SecretKey::from_slice(parsed.private_key)
            .map_err(|_| Error::invalid_key("the EC private key is not a valid P-256 scalar"))?;
        Ok(PrivateKey {
            inner: PrivateInner::P256(p256::ecdsa::SigningKey::from(secret)),
        })
    }

    fn from_rsa(key: rsa::PrivateKey) -> Result<PrivateKey, Error> {
        let bits = key.n().bit_width() as usize;
        if bits < 1024 {
            return Err(Error::RsaKeyTooSmall { bits });
        }
        key.validate().map_err(|e| {
            Error::invalid_key(format!("the RSA private key is inconsistent ({e})"))
        })?;
        Ok(PrivateKey {
            inner: PrivateInner::Rsa(Box::new(key)),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.inner {
            PrivateInner::Rsa(key) => KeyAlgorithm::Rsa {
                bits: key.n().bit_width() as usize,
            },
            PrivateInner::P256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let inner = match &self.inner {
            PrivateInner::Rsa(key) => PublicInner::Rsa(key.to_public_key()),
            PrivateInner::P256(key) => PublicInner::P256(*key.verifying_key()),
        };
        PublicKey::from_inner(inner)
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), in memory that is zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let pem = match &self.inner {
            PrivateInner::Rsa(key) => key.to_pkcs8_pem(pkcs8::LineEnding::LF),
            PrivateInner::P256(key) => key.to_pkcs8_pem(pkcs8::LineEnding::LF),
        };
        // Encoding a key that decoded (or was generated) cannot fail: the writers only fail on
        // lengths beyond DER's limits.
        pem.unwrap_or_default()
    }

    /// The key as PKCS#8 DER, in memory that is zeroized on drop.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        let doc = match &self.inner {
            PrivateInner::Rsa(key) => key.to_pkcs8_der(),
            PrivateInner::P256(key) => key.to_pkcs8_der(),
        };
        // Encoding a key that decoded (or was generated) cannot fail: the DER writer only fails on
        // lengths beyond 256 MiB.
        match doc {
            Ok(doc) => Zeroizing::new(doc.as_bytes().to_vec()),
            Err(_) => Zeroizing::new(Vec::new()),
        }
    }

    /// Signs `message` with this key: RSA PKCS#1 v1.5 or DER-encoded ECDSA, over `hash`.
    pub(crate) fn sign_rust(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, Error> {
        let digest = hash.digest(message);
        match &self.inner {
            PrivateInner::Rsa(key) => {
                key.sign(hash.pkcs1v15(), &digest)
                    .map_err(|e| Error::Signing {
                        reason: e.to_string(),
                    })
            }
            PrivateInner::P256(key) => {
                let sig: p256::ecdsa::DerSignature =
                    key.sign_prehash(&digest).map_err(|e| Error::Signing {
                        reason: e.to_string(),
                    })?;
                Ok(sig.as_bytes().to_vec())
            }
        }
    }
}

fn rsa_load_error(der: &[u8], detail: &str) -> Error {
    // The rsa crate refuses moduli under 1024 bits while decoding; say so plainly.
    if let Ok(key) = rsa::pkcs1::RsaPrivateKey::try_from(der) {
        let bits = der::asn1::UintRef::as_bytes(&key.modulus).len() * 8;
        if bits < 1024 {
            return Error::RsaKeyTooSmall { bits };
        }
    }
    if let Ok(info) = pkcs8::PrivateKeyInfoRef::try_from(der)
        && let Ok(key) = rsa::pkcs1::RsaPrivateKey::try_from(info.private_key.as_bytes())
    {
        let bits = der::asn1::UintRef::as_bytes(&key.modulus).len() * 8;
        if bits < 1024 {
            return Error::RsaKeyTooSmall { bits };
        }
    }
    Error::invalid_key(format!(
        "the RSA private key is damaged ({detail}); check it was copied whole"
    ))
}

/// If `der` has the shape of an `EncryptedPrivateKeyInfo` (a SEQUENCE of an algorithm identifier
/// and an OCTET STRING), a description of its encryption scheme, e.g. "PBES2 (PBKDF2, AES-256-CBC)".
fn encrypted_pkcs8_scheme(der: &[u8]) -> Option<String> {
    use der::{Decode as _, Reader as _};
    let mut reader = der::SliceReader::new(der).ok()?;
    let algorithm = reader
        .sequence(|r| {
            let algorithm = spki::AlgorithmIdentifierRef::decode(r)?;
            <&der::asn1::OctetStringRef>::decode(r)?;
            Ok::<_, der::Error>(algorithm)
        })
        .ok()?;
    reader.finish().ok()?;
    let oid = algorithm.oid.to_string();
    if oid != OID_PBES2 {
        return Some(encryption_oid_name(&oid));
    }
    // PBES2-params: SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }.
    let parts = algorithm.parameters.and_then(|params| {
        let mut reader = der::SliceReader::new(params.value()).ok()?;
        let kdf = spki::AlgorithmIdentifierRef::decode(&mut reader).ok()?;
        let cipher = spki::AlgorithmIdentifierRef::decode(&mut reader).ok()?;
        Some((kdf.oid.to_string(), cipher.oid.to_string()))
    });
    Some(match parts {
        Some((kdf, cipher)) => format!(
            "PBES2 ({}, {})",
            encryption_oid_name(&kdf),
            encryption_oid_name(&cipher)
        ),
        None => "PBES2 with damaged parameters".to_owned(),
    })
}

/// The name of a password-based encryption, key-derivation or cipher OID.
fn encryption_oid_name(oid: &str) -> String {
    let name = match oid {
        OID_PBES2 => "PBES2",
        "1.2.840.113549.1.5.12" => "PBKDF2",
        "1.3.6.1.4.1.11591.4.11" => "scrypt",
        "2.16.840.1.101.3.4.1.2" => "AES-128-CBC",
        "2.16.840.1.101.3.4.1.22" => "AES-192-CBC",
        "2.16.840.1.101.3.4.1.42" => "AES-256-CBC",
        "2.16.840.1.101.3.4.1.6" => "AES-128-GCM",
        "2.16.840.1.101.3.4.1.46" => "AES-256-GCM",
        "1.2.840.113549.3.7" => "DES-EDE3-CBC",
        "1.3.14.3.2.7" => "DES-CBC",
        "1.2.840.113549.3.2" => "RC2-CBC",
        "1.2.840.113549.1.5.3" => "PBES1 pbeWithMD5AndDES-CBC",
        "1.2.840.113549.1.5.6" => "PBES1 pbeWithMD5AndRC2-CBC",
        "1.2.840.113549.1.5.10" => "PBES1 pbeWithSHA1AndDES-CBC",
        "1.2.840.113549.1.5.11" => "PBES1 pbeWithSHA1AndRC2-CBC",
        "1.2.840.113549.1.12.1.1" => "PKCS#12 pbeWithSHAAnd128BitRC4",
        "1.2.840.113549.1.12.1.3" => "PKCS#12 pbeWithSHAAnd3-KeyTripleDES-CBC",
        "1.2.840.113549.1.12.1.6" => "PKCS#12 pbeWithSHAAnd40BitRC2-CBC",
        "1.2.392.200011.61.1.1.1.2" => "Camellia-128-CBC",
        "1.2.392.200011.61.1.1.1.4" => "Camellia-256-CBC",
        other => return format!("OID {other}"),
    };
    name.to_owned()
}

/// Refuses key-derivation parameters that would take more memory or time than any real key needs,
/// so a hostile file cannot exhaust the machine.
fn check_kdf_limits(scheme: &pkcs8::pkcs5::EncryptionScheme, found: &str) -> Result<(), Error> {
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::pkcs5::pbes2::Kdf;
    let EncryptionScheme::Pbes2(params) = scheme else {
        return Ok(());
    };
    let excess = match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => Some(format!(
            "PBKDF2 with {} iterations (at most {MAX_PBKDF2_ITERATIONS} are allowed)",
            p.iteration_count
        )),
        Kdf::Scrypt(p) => {
            let bytes = 128
                * u128::from(p.block_size)
                * u128::from(p.cost_parameter)
                * u128::from(p.parallelization.max(1));
            (bytes > MAX_SCRYPT_BYTES).then(|| {
                format!(
                    "scrypt with N={}, r={}, p={}, which needs {} MiB (at most {} MiB are allowed)",
                    p.cost_parameter,
                    p.block_size,
                    p.parallelization,
                    bytes / (1024 * 1024),
                    MAX_SCRYPT_BYTES / (1024 * 1024)
                )
            })
        }
        _ => None,
    };
    match excess {
        Some(scheme) => Err(Error::UnsupportedEncryption {
            found: found.to_owned(),
            scheme,
            fix: "",
        }),
        None => Ok(()),
    }
}

/// Checks that EC algorithm parameters name P-256.
fn require_p256(parameters: Option<der::AnyRef<'_>>) -> Result<(), Error> {
    let curve = parameters
        .and_then(|p| p.decode_as::<spki::ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    match curve.as_deref() {
        Some(OID_P256) => Ok(()),
        other => Err(unsupported_curve(other)),
    }
}

fn unsupported_curve(oid: Option<&str>) -> Error {
    let name = match oid {
        Some("1.3.132.0.34") => "secp384r1 (P-384)".to_owned(),
        Some("1.3.132.0.35") => "secp521r1 (P-521)".to_owned(),
        Some("1.3.132.0.10") => "secp256k1".to_owned(),
        Some(other) => other.to_owned(),
        None => "an unnamed curve".to_owned(),
    };
    Error::UnsupportedKey {
        found: format!("an ECDSA key on curve {name}"),
        fix: "Generate a P-256 key with `cfsign keygen --algorithm p256` (or `openssl ecparam -name prime256v1 -genkey`).",
    }
}

fn unsupported_algorithm(oid: &str) -> Error {
    let name = match oid {
        "1.3.101.112" => "an Ed25519 key",
        "1.3.101.113" => "an Ed448 key",
        "1.2.840.10040.4.1" => "a DSA key",
        "1.2.840.113549.1.1.10" => "an RSA-PSS key",
        _ => "a key of an unknown algorithm",
    };
    Error::UnsupportedKey {
        found: format!("{name} (OID {oid})"),
        fix: "Generate a key with `cfsign keygen` (RSA-2048 or P-256).",
    }
}

#[derive(Clone)]
enum PublicInner {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// A public key, as uploaded to CloudFront (SPKI PEM, `-----BEGIN PUBLIC KEY-----`).
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, PublicKey};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let pem = key.public_key().to_pem();
/// assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
/// let parsed = PublicKey::from_pem(&pem)?;
/// parsed.check_accepted_by_key_groups()?;
/// assert_eq!(parsed, key.public_key());
/// // Giving the private key where the public one belongs is refused without echoing it.
/// let err = PublicKey::from_pem(&key.to_pkcs8_pem()).unwrap_err().to_string();
/// assert!(err.contains("this is a private key"));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Clone)]
pub struct PublicKey {
    inner: PublicInner,
    /// The same key loaded into OpenSSL, which verifies several times faster.
    #[cfg(feature = "native")]
    native: Option<crate::native::NativePublicKey>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_der() == other.to_der()
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.algorithm())
    }
}

impl PublicKey {
    fn from_inner(inner: PublicInner) -> PublicKey {
        #[cfg_attr(not(feature = "native"), allow(unused_mut))] // Only the native build sets it.
        let mut key = PublicKey {
            inner,
            #[cfg(feature = "native")]
            native: None,
        };
        #[cfg(feature = "native")]
        {
            key.native = crate::native::NativePublicKey::new(&key.to_der());
        }
        key
    }

    /// Parses a public key from PEM: SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    /// Private keys are refused with an error that does not echo them.
    pub fn from_pem(text: &str) -> Result<PublicKey, Error> {
        let blocks = pem_blocks(text)?;
        // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key: skip it.
        let Some(block) = blocks.iter().find(|b| b.label != "EC PARAMETERS") else {
            return Err(Error::invalid_key(
                "no PEM block found; expected -----BEGIN PUBLIC KEY-----",
            ));
        };
        let found = format!("`-----BEGIN {}-----`", block.label);
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_der(&block.der),
            "RSA PUBLIC KEY" => {
                let key = rsa::PublicKey::from_pkcs1_der(&block.der).map_err(|e| {
                    Error::invalid_key(format!("the RSA public key is damaged ({e})"))
                })?;
                Ok(PublicKey::from_inner(PublicInner::Rsa(key)))
            }
            label if label.contains("PRIVATE KEY") => Err(Error::PrivateKeyGiven { found }),
            "CERTIFICATE" => Err(Error::invalid_key(
                "this is a certificate; CloudFront needs the bare public key: `openssl x509 -pubkey -noout -in cert.pem`",
            )),
            other => Err(Error::invalid_key(format!(
                "the PEM block is `{other}`, not a public key; expected -----BEGIN PUBLIC KEY-----"
            ))),
        }
    }

    /// Parses a public key from SPKI DER.
    pub fn from_der(der: &[u8]) -> Result<PublicKey, Error> {
        let info = spki::SubjectPublicKeyInfoRef::try_from(der).map_err(|e| {
            if pkcs8::PrivateKeyInfoRef::try_from(der).is_ok() {
                Error::PrivateKeyGiven {
                    found: "a DER private key".to_owned(),
                }
            } else {
                Error::invalid_key(format!(
                    "the public key is damaged ({e}); check it was copied whole"
                ))
            }
        })?;
        let oid = info.algorithm.oid.to_string();
        match oid.as_str() {
            OID_RSA => {
                let key = rsa::PublicKey::from_public_key_der(der).map_err(|e| {
                    let detail = e.to_string();
                    Error::invalid_key(format!("the RSA public key is not usable ({detail}); RSA keys must be at least 1024 bits"))
                })?;
                Ok(PublicKey::from_inner(PublicInner::Rsa(key)))
            }
            OID_EC => {
                require_p256(info.algorithm.parameters)?;
                let key = p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| {
                    Error::invalid_key(format!("the P-256 public key is damaged ({e})"))
                })?;
                Ok(PublicKey::from_inner(PublicInner::P256(key)))
            }
            other => Err(unsupported_algorithm(other)),
        }
    }

    /// The key as SPKI PEM, what CloudFront's "Create public key" takes.
    pub fn to_pem(&self) -> String {
        let pem = match &self.inner {
            PublicInner::Rsa(key) => key.to_public_key_pem(spki::der::pem::LineEnding::LF),
            PublicInner::P256(key) => key.to_public_key_pem(spki::der::pem::LineEnding::LF),
        };
        // As for `to_der`: encoding a valid key does not fail.
        pem.unwrap_or_default()
    }

    /// The key as SPKI DER.
    pub fn to_der(&self) -> Vec<u8> {
        let doc = match &self.inner {
            PublicInner::Rsa(key) => key.to_public_key_der(),
            PublicInner::P256(key) => key.to_public_key_der(),
        };
        // Encoding a valid key only fails beyond DER's length limits.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.inner {
            PublicInner::Rsa(key) => KeyAlgorithm::Rsa {
                bits: key.n().bit_width() as usize,
            },
            PublicInner::P256(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// Fails unless CloudFront key groups accept this key (RSA-2048 or P-256).
    pub fn check_accepted_by_key_groups(&self) -> Result<(), Error> {
        match self.algorithm() {
            alg if alg.accepted_by_key_groups() => Ok(()),
            KeyAlgorithm::Rsa { bits } => Err(Error::NotAcceptedByKeyGroups {
                found: format!("RSA key of {bits} bits"),
            }),
            alg => Err(Error::NotAcceptedByKeyGroups {
                found: format!("{alg} key"),
            }),
        }
    }

    /// Whether `signature` is this key's signature of `message` under `hash`, checked with
    /// RustCrypto (whatever features are on; [`PublicKey::verify_with`] picks the backend).
    pub fn verify(&self, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        self.verify_with(crate::Backend::RustCrypto, hash, message, signature)
    }

    /// Like [`PublicKey::verify`], with the given backend. Both give the same answer.
    ///
    /// ```
    /// use cfsign::{Backend, HashAlgorithm, KeyKind, PrivateKey, Signer};
    /// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
    /// let public = key.public_key();
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, key);
    /// let signature = signer.sign_bytes(b"policy")?;
    /// assert!(public.verify_with(Backend::fastest(), HashAlgorithm::Sha1, b"policy", &signature));
    /// assert!(!public.verify(HashAlgorithm::Sha256, b"policy", &signature));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn verify_with(
        &self,
        backend: crate::Backend,
        hash: HashAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        #[cfg(feature = "native")]
        if backend == crate::Backend::OpenSsl
            && let Some(native) = &self.native
        {
            return native.verify(hash, message, signature);
        }
        let _ = backend;
        let digest = hash.digest(message);
        match &self.inner {
            PublicInner::Rsa(key) => key.verify(hash.pkcs1v15(), &digest, signature).is_ok(),
            PublicInner::P256(key) => match p256::ecdsa::DerSignature::from_bytes(signature) {
                Ok(sig) => key.verify_prehash(&digest, &sig).is_ok(),
                Err(_) => false,
            },
        }
    }
}
