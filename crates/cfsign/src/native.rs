//! The OpenSSL signing backend (cargo feature `native`): RSA PKCS#1 v1.5 at OpenSSL's speed.
//!
//! Signatures are byte-identical to the RustCrypto backend's (PKCS#1 v1.5 is deterministic);
//! the tests check this. ECDSA keys keep using RustCrypto.

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};

use crate::{Error, HashAlgorithm, KeyAlgorithm, PrivateKey};

/// An RSA key loaded into OpenSSL. OpenSSL clears private key memory when the key is freed.
pub(crate) struct NativeKey {
    key: PKey<Private>,
}

impl NativeKey {
    /// Loads `key` into OpenSSL; `None` for key types this backend does not handle (ECDSA).
    pub(crate) fn new(key: &PrivateKey) -> Option<NativeKey> {
        if !matches!(key.algorithm(), KeyAlgorithm::Rsa { .. }) {
            return None;
        }
        let der = key.to_pkcs8_der();
        PKey::private_key_from_pkcs8(&der)
            .ok()
            .map(|key| NativeKey { key })
    }

    pub(crate) fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, Error> {
        let digest = match hash {
            HashAlgorithm::Sha1 => MessageDigest::sha1(),
            HashAlgorithm::Sha256 => MessageDigest::sha256(),
        };
        let err = |e: openssl::error::ErrorStack| Error::Signing {
            reason: format!(
                "OpenSSL refused to sign ({e}); if SHA-1 is disabled by policy, build without the `native` feature"
            ),
        };
        let mut signer = openssl::sign::Signer::new(digest, &self.key).map_err(err)?;
        signer.update(message).map_err(err)?;
        signer.sign_to_vec().map_err(err)
    }
}
