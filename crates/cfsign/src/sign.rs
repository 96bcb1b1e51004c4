//! Signing: the `Signer` that turns a policy into a signed URL or signed cookies.

use std::fmt;

use crate::cookie::{SignedCookies, UnsignedCookies};
use crate::url::{MAX_URL_BYTES, check_signable};
use crate::{
    Backend, CannedPolicy, CustomPolicy, Error, HashAlgorithm, KeyPairId, PrivateKey, PublicKey,
    UnixTime, encoding,
};

/// Signs URLs and cookies with one key. It parses its key once and is `Send + Sync`, so one signer
/// can be shared across threads (for example in an `Arc`).
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, Signer, UnixTime};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, key);
/// let url = signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// assert!(url.starts_with("https://d1.example.net/a.jpg?Expires=1767225600&Signature="));
/// assert!(url.ends_with("&Key-Pair-Id=K2JCJMDEHXQW5F"));
/// # Ok::<(), cfsign::Error>(())
/// ```
pub struct Signer {
    key_pair_id: KeyPairId,
    key: PrivateKey,
    hash: HashAlgorithm,
    backend: Backend,
    #[cfg(feature = "native")]
    native: Option<crate::native::NativeKey>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key_pair_id", &self.key_pair_id)
            .field("key", &self.key)
            .field("hash", &self.hash)
            .field("backend", &self.backend)
            .finish()
    }
}

impl Signer {
    /// A signer for `key_pair_id` with `key`, SHA-1, and [`Backend::RustCrypto`] (use
    /// [`Signer::with_backend`] and [`Backend::fastest`] for OpenSSL).
    pub fn new(key_pair_id: KeyPairId, key: PrivateKey) -> Signer {
        Signer::with_backend(key_pair_id, key, Backend::RustCrypto)
    }

    /// A signer using a specific backend.
    pub fn with_backend(key_pair_id: KeyPairId, key: PrivateKey, backend: Backend) -> Signer {
        #[cfg(feature = "native")]
        let native = match backend {
            Backend::OpenSsl => crate::native::NativeKey::new(&key.to_pkcs8_der()),
            Backend::RustCrypto => None,
        };
        Signer {
            key_pair_id,
            key,
            hash: HashAlgorithm::Sha1,
            backend,
            #[cfg(feature = "native")]
            native,
        }
    }

    /// The same signer using `hash` (SHA-256 adds `Hash-Algorithm=SHA256` to URLs and cookies).
    pub fn with_hash_algorithm(mut self, hash: HashAlgorithm) -> Signer {
        self.hash = hash;
        self
    }

    /// The key pair ID written into URLs and cookies.
    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    /// The hash algorithm in use.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The public key matching the signing key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Signs arbitrary policy bytes with the signer's hash and returns the raw signature
    /// (PKCS#1 v1.5, or DER ECDSA).
    pub fn sign_bytes(&self, policy: &[u8]) -> Result<Vec<u8>, Error> {
        self.sign_bytes_with(self.hash, policy)
    }

    /// Signs policy bytes with `hash`, whatever the signer's own: one signer (one parsed key)
    /// serves both hashes.
    ///
    /// ```
    /// use cfsign::{HashAlgorithm, KeyKind, PrivateKey, Signer};
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
    /// let signature = signer.sign_bytes_with(HashAlgorithm::Sha256, b"policy")?;
    /// assert!(signer.public_key().verify(HashAlgorithm::Sha256, b"policy", &signature));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn sign_bytes_with(&self, hash: HashAlgorithm, policy: &[u8]) -> Result<Vec<u8>, Error> {
        #[cfg(feature = "native")]
        if let Some(native) = &self.native {
            return native.sign(hash, policy);
        }
        self.key.sign_rust(hash, policy)
    }

    /// Signs `url` with a canned policy that expires at `expires`.
    ///
    /// The URL must be exactly what clients will request (percent-encoded, no fragment); its own
    /// query string is kept byte for byte. The result has botocore's parameter order.
    pub fn sign_canned_url(&self, url: &str, expires: UnixTime) -> Result<String, Error> {
        self.sign_url(&UnsignedUrl::canned(url, expires)?)
    }

    /// Signs `url` with a custom policy (the policy's resource may be a wildcard pattern that
    /// covers `url`; it is not required to).
    ///
    /// ```
    /// use cfsign::{CustomPolicy, KeyKind, PrivateKey, Resource, Signer, UnixTime};
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
    /// let policy = CustomPolicy::new(Resource::new("https://d1.example.net/hls/*")?, UnixTime::from_secs(1767225600)?);
    /// let url = signer.sign_custom_url("https://d1.example.net/hls/index.m3u8", &policy)?;
    /// assert!(url.starts_with("https://d1.example.net/hls/index.m3u8?Policy="));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn sign_custom_url(&self, url: &str, policy: &CustomPolicy) -> Result<String, Error> {
        self.sign_url(&UnsignedUrl::custom(url, policy)?)
    }

    /// Signs a prepared [`UnsignedUrl`].
    pub fn sign_url(&self, unsigned: &UnsignedUrl) -> Result<String, Error> {
        let signature = self.sign_bytes(unsigned.policy_bytes())?;
        unsigned.finish(&signature, &self.key_pair_id, self.hash)
    }

    /// Signed cookies with a canned policy for exactly `resource` (a URL; no wildcards).
    pub fn canned_cookies(
        &self,
        resource: &str,
        expires: UnixTime,
    ) -> Result<SignedCookies, Error> {
        self.sign_cookies(&UnsignedCookies::canned(resource, expires)?)
    }

    /// Signed cookies with a custom policy (wildcards allowed): the usual way to grant a folder.
    ///
    /// ```
    /// use cfsign::{CookieAttributes, CustomPolicy, KeyKind, PrivateKey, Resource, Signer, UnixTime};
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
    /// let policy = CustomPolicy::new(Resource::new("https://d1.example.net/hls/*")?, UnixTime::from_secs(1767225600)?);
    /// let cookies = signer.custom_cookies(&policy)?;
    /// let headers = cookies.set_cookie_headers(&CookieAttributes::new().with_path("/hls/")?);
    /// assert!(headers[0].starts_with("CloudFront-Policy="));
    /// assert!(headers[0].ends_with("; Path=/hls/; Secure; HttpOnly"));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn custom_cookies(&self, policy: &CustomPolicy) -> Result<SignedCookies, Error> {
        self.sign_cookies(&UnsignedCookies::custom(policy))
    }

    /// Signs `url` under a caller-written policy document, byte for byte (see
    /// [`UnsignedUrl::with_policy`]).
    pub fn sign_url_with_policy(&self, url: &str, document: &str) -> Result<String, Error> {
        self.sign_url(&UnsignedUrl::with_policy(url, document)?)
    }

    /// Signed cookies under a caller-written policy document, byte for byte (see
    /// [`UnsignedCookies::with_policy`]).
    pub fn cookies_with_policy(&self, document: &str) -> Result<SignedCookies, Error> {
        self.sign_cookies(&UnsignedCookies::with_policy(document)?)
    }

    /// Signs prepared [`UnsignedCookies`].
    pub fn sign_cookies(&self, unsigned: &UnsignedCookies) -> Result<SignedCookies, Error> {
        let signature = self.sign_bytes(unsigned.policy_bytes())?;
        Ok(unsigned.finish(&signature, &self.key_pair_id, self.hash))
    }
}

/// A URL with its policy, before the signature exists.
///
/// Signing in two steps lets a caller reuse signatures: PKCS#1 v1.5 signatures are deterministic,
/// so a service may cache them by [`policy_bytes`](UnsignedUrl::policy_bytes) and finish many
/// requests for the same policy with one signature. [`Signer::sign_url`] does both steps at once.
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, Signer, UnixTime, UnsignedUrl};
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng())?);
/// let unsigned = UnsignedUrl::canned("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// let signature = signer.sign_bytes(unsigned.policy_bytes())?; // cacheable by policy bytes
/// let url = unsigned.finish(&signature, signer.key_pair_id(), signer.hash_algorithm())?;
/// assert_eq!(url, signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?);
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnsignedUrl {
    url: String,
    policy_json: String,
    /// `Expires` for a canned policy; `None` for a custom one.
    canned_expires: Option<UnixTime>,
}

impl UnsignedUrl {
    /// `url` under a canned policy expiring at `expires`; fails if `url` cannot be signed.
    pub fn canned(url: &str, expires: UnixTime) -> Result<UnsignedUrl, Error> {
        check_signable(url)?;
        Ok(UnsignedUrl {
            url: url.to_owned(),
            policy_json: CannedPolicy::new(url, expires).to_json(),
            canned_expires: Some(expires),
        })
    }

    /// `url` under a custom policy; fails if `url` cannot be signed.
    pub fn custom(url: &str, policy: &CustomPolicy) -> Result<UnsignedUrl, Error> {
        check_signable(url)?;
        Ok(UnsignedUrl {
            url: url.to_owned(),
            policy_json: policy.to_json(),
            canned_expires: None,
        })
    }

    /// `url` under a policy document the caller wrote, signed byte for byte as given (as
    /// botocore's `generate_presigned_url(policy=…)`, the JS and Go signers allow). The document
    /// must parse as a CloudFront policy, and its resource (if any) must cover `url`, or
    /// CloudFront would answer 403.
    ///
    /// ```
    /// use cfsign::UnsignedUrl;
    /// let doc = r#"{"Statement":[{"Resource":"https://d1.example.net/hls/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#;
    /// let unsigned = UnsignedUrl::with_policy("https://d1.example.net/hls/a.ts", doc)?;
    /// assert_eq!(unsigned.policy_bytes(), doc.as_bytes());
    /// assert!(UnsignedUrl::with_policy("https://d1.example.net/other/a.ts", doc).is_err());
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn with_policy(url: &str, document: &str) -> Result<UnsignedUrl, Error> {
        check_signable(url)?;
        let policy = CustomPolicy::parse_document(document)?;
        if let Some(resource) = policy.resource()
            && !resource.matches(url)
        {
            return Err(Error::InvalidPolicy {
                reason: format!(
                    "the policy's resource `{resource}` does not cover `{url}`, so CloudFront would answer 403 \
                     AccessDenied; sign a URL the resource covers, or widen the resource"
                ),
            });
        }
        Ok(UnsignedUrl {
            url: url.to_owned(),
            policy_json: document.to_owned(),
            canned_expires: None,
        })
    }

    /// The URL being signed.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The exact bytes to sign.
    pub fn policy_bytes(&self) -> &[u8] {
        self.policy_json.as_bytes()
    }

    /// Appends the signing parameters in botocore's order: `Expires` or `Policy`, `Signature`,
    /// `Key-Pair-Id`, then `Hash-Algorithm` when not SHA-1. Fails when the result exceeds
    /// CloudFront's 8,192-byte URL limit.
    pub fn finish(
        &self,
        signature: &[u8],
        key_pair_id: &KeyPairId,
        hash: HashAlgorithm,
    ) -> Result<String, Error> {
        let (first, first_value) = match self.canned_expires {
            Some(expires) => ("Expires", expires.as_secs().to_string()),
            None => ("Policy", encoding::encode(self.policy_bytes())),
        };
        let sig = encoding::encode(signature);
        let url = &self.url;
        let separator = if url.contains('?') { '&' } else { '?' };
        let mut out = String::with_capacity(url.len() + first_value.len() + sig.len() + 64);
        out.push_str(url);
        out.push(separator);
        out.push_str(first);
        out.push('=');
        out.push_str(&first_value);
        out.push_str("&Signature=");
        out.push_str(&sig);
        out.push_str("&Key-Pair-Id=");
        out.push_str(key_pair_id.as_str());
        if hash != HashAlgorithm::Sha1 {
            out.push_str("&Hash-Algorithm=");
            out.push_str(hash.as_str());
        }
        if out.len() > MAX_URL_BYTES {
            return Err(Error::invalid_url(
                url,
                format!(
                    "the signed URL is {} bytes, over CloudFront's {MAX_URL_BYTES}-byte limit; shorten the URL, \
                     or use a custom policy with a wildcard resource (or signed cookies) so the policy is shorter",
                    out.len()
                ),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn signer_is_send_sync() {
        assert_send_sync::<Signer>();
    }
}
