//! The OpenSSL backend (cargo feature `native`): signing and verifying at OpenSSL's speed.
//!
//! RSA signatures are byte-identical to the RustCrypto backend's (PKCS#1 v1.5 is deterministic);
//! the tests check this. ECDSA P-256 signatures are randomised by both backends and verify either way.
//!
//! Speed: OpenSSL 3's `EVP_DigestSignInit` costs a provider fetch and a fresh `EVP_PKEY_CTX` on
//! every call, a visible share of an RSA signature and several times an RSA verification. So the
//! message is hashed here and the hash signed with `EVP_PKEY_sign` on a context initialised once
//! (padding and digest set) and reused — what `openssl speed` measures. Contexts are not
//! thread-safe, so each key keeps a small pool: a thread takes one, uses it, and puts it back.

use std::sync::Mutex;

use openssl::error::ErrorStack;
use openssl::md::{Md, MdRef};
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use zeroize::Zeroizing;

use crate::{Error, HashAlgorithm};

/// At most this many idle contexts are kept per key and hash (one per concurrently signing thread).
const MAX_POOLED: usize = 64;

fn md(hash: HashAlgorithm) -> &'static MdRef {
    match hash {
        HashAlgorithm::Sha1 => Md::sha1(),
        HashAlgorithm::Sha256 => Md::sha256(),
    }
}

fn slot(hash: HashAlgorithm) -> usize {
    match hash {
        HashAlgorithm::Sha1 => 0,
        HashAlgorithm::Sha256 => 1,
    }
}

/// Idle, initialised contexts for one key, by hash algorithm.
struct Pool<T> {
    idle: [Mutex<Vec<PkeyCtx<T>>>; 2],
}

impl<T> Pool<T> {
    fn new() -> Pool<T> {
        Pool {
            idle: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
        }
    }

    /// An idle context for `hash`, or a new one from `make`.
    fn take(
        &self,
        hash: HashAlgorithm,
        make: impl FnOnce() -> Result<PkeyCtx<T>, ErrorStack>,
    ) -> Result<PkeyCtx<T>, ErrorStack> {
        // A poisoned lock only means another thread panicked mid-push; make a fresh context.
        let idle = self.idle[slot(hash)].lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(ctx) => Ok(ctx),
            None => make(),
        }
    }

    /// Returns a context that completed its operation.
    fn give_back(&self, hash: HashAlgorithm, ctx: PkeyCtx<T>) {
        if let Ok(mut idle) = self.idle[slot(hash)].lock()
            && idle.len() < MAX_POOLED
        {
            idle.push(ctx);
        }
    }
}

fn is_rsa<T: HasPublic>(key: &PKeyRef<T>) -> bool {
    key.id() == Id::RSA
}

/// A private key (RSA or P-256) loaded into OpenSSL. OpenSSL clears key memory when it is freed.
pub(crate) struct NativeKey {
    key: PKey<Private>,
    pool: Pool<Private>,
}

impl NativeKey {
    /// Loads a PKCS#8 DER private key into OpenSSL; `None` if OpenSSL refuses it (the signer
    /// then uses RustCrypto).
    pub(crate) fn new(pkcs8_der: &[u8]) -> Option<NativeKey> {
        PKey::private_key_from_pkcs8(pkcs8_der)
            .ok()
            .map(|key| NativeKey {
                key,
                pool: Pool::new(),
            })
    }

    fn make_ctx(&self, hash: HashAlgorithm) -> Result<PkeyCtx<Private>, ErrorStack> {
        let mut ctx = PkeyCtx::new(&self.key)?;
        ctx.sign_init()?;
        if is_rsa(&self.key) {
            ctx.set_rsa_padding(Padding::PKCS1)?;
        }
        ctx.set_signature_md(md(hash))?;
        Ok(ctx)
    }

    pub(crate) fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, Error> {
        let err = |e: ErrorStack| Error::Signing {
            reason: format!(
                "OpenSSL refused to sign ({e}); if SHA-1 is disabled by policy, build without the `native` feature"
            ),
        };
        let digest = hash.digest(message);
        let mut ctx = self.pool.take(hash, || self.make_ctx(hash)).map_err(err)?;
        let mut signature = Vec::new();
        ctx.sign_to_vec(&digest, &mut signature).map_err(err)?;
        self.pool.give_back(hash, ctx);
        Ok(signature)
    }
}

/// Decrypts OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`) and returns the key as
/// PKCS#8 DER. `found` names the input in errors.
pub(crate) fn decrypt_legacy_pem(
    pem: &str,
    passphrase: &[u8],
    found: &str,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = PKey::private_key_from_pem_passphrase(pem.as_bytes(), passphrase).map_err(|e| {
        let cipher = pem
            .lines()
            .find_map(|l| l.strip_prefix("DEK-Info:"))
            .and_then(|v| v.trim().split(',').next())
            .unwrap_or("an unknown cipher");
        decrypt_error(
            &e,
            found,
            format!("OpenSSL's legacy PEM encryption with {cipher}"),
        )
    })?;
    to_pkcs8(&key, found)
}

/// Decrypts an `EncryptedPrivateKeyInfo` with OpenSSL (for the schemes the `pkcs5` crate lacks:
/// 3DES, PBES1, PKCS#12 PBE) and returns the key as PKCS#8 DER.
pub(crate) fn decrypt_pkcs8(
    der: &[u8],
    passphrase: &[u8],
    found: &str,
    scheme: String,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = PKey::private_key_from_pkcs8_passphrase(der, passphrase)
        .map_err(|e| decrypt_error(&e, found, scheme))?;
    to_pkcs8(&key, found)
}

fn to_pkcs8(key: &PKeyRef<Private>, found: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    key.private_key_to_pkcs8()
        .map(Zeroizing::new)
        .map_err(|e| Error::InvalidKey {
            reason: format!(
                "OpenSSL decrypted the private key ({found}) but cannot re-encode it ({e})"
            ),
        })
}

/// What a failed OpenSSL decryption means. A wrong passphrase shows as "bad decrypt" (broken
/// padding), or, when the padding happens to be valid, as a decoding error of the garbage: both are
/// a wrong passphrase unless OpenSSL says it does not know the cipher.
fn decrypt_error(e: &ErrorStack, found: &str, scheme: String) -> Error {
    let reasons: Vec<String> = e
        .errors()
        .iter()
        .filter_map(|e| e.reason())
        .map(str::to_ascii_lowercase)
        .collect();
    let any = |needle: &str| reasons.iter().any(|r| r.contains(needle));
    let bad_decrypt = any("bad decrypt") || any("wrong password") || any("cipherfinal");
    if !bad_decrypt && (any("unsupported") || any("unknown cipher")) {
        Error::UnsupportedEncryption {
            found: found.to_owned(),
            scheme,
            fix: "",
        }
    } else {
        Error::WrongPassphrase {
            found: found.to_owned(),
        }
    }
}

/// A public key (RSA or P-256) loaded into OpenSSL, for verifying.
pub(crate) struct NativePublicKey {
    key: PKey<Public>,
    pool: Pool<Public>,
}

impl Clone for NativePublicKey {
    fn clone(&self) -> NativePublicKey {
        // The key is reference-counted; the clone starts with an empty pool.
        NativePublicKey {
            key: self.key.clone(),
            pool: Pool::new(),
        }
    }
}

impl NativePublicKey {
    /// Loads SPKI DER into OpenSSL; `None` if OpenSSL refuses it (the caller then verifies with RustCrypto).
    pub(crate) fn new(spki_der: &[u8]) -> Option<NativePublicKey> {
        PKey::public_key_from_der(spki_der)
            .ok()
            .map(|key| NativePublicKey {
                key,
                pool: Pool::new(),
            })
    }

    fn make_ctx(&self, hash: HashAlgorithm) -> Result<PkeyCtx<Public>, ErrorStack> {
        let mut ctx = PkeyCtx::new(&self.key)?;
        ctx.verify_init()?;
        if is_rsa(&self.key) {
            ctx.set_rsa_padding(Padding::PKCS1)?;
        }
        ctx.set_signature_md(md(hash))?;
        Ok(ctx)
    }

    /// Whether `signature` (PKCS#1 v1.5, or DER ECDSA) is valid for `message` under `hash`.
    pub(crate) fn verify(&self, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let digest = hash.digest(message);
        let Ok(mut ctx) = self.pool.take(hash, || self.make_ctx(hash)) else {
            return false;
        };
        match ctx.verify(&digest, signature) {
            Ok(valid) => {
                self.pool.give_back(hash, ctx);
                valid
            }
            // Errors (malformed signature) leave the OpenSSL error queue drained by the crate;
            // the context is still initialised, but drop it to be safe.
            Err(_) => false,
        }
    }
}
