//! Verification: what CloudFront's edge decides for a request, and why.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::params::{Decoded, parse_cookie_header, split_signed_url};
use crate::resource::Match;
use crate::{
    Backend, CannedPolicy, CustomPolicy, Decision, Denial, DenyReason, Grant, HashAlgorithm,
    KeyPairId, PublicKey, SignatureSource, Undocumented, UnixTime,
};

/// The public keys CloudFront trusts for a cache behaviour, by key pair ID (the keys of its key groups).
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, TrustedKeys};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let mut trusted = TrustedKeys::new();
/// trusted.insert("K2JCJMDEHXQW5F".parse()?, key.public_key());
/// assert_eq!(trusted.len(), 1);
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TrustedKeys {
    keys: BTreeMap<KeyPairId, PublicKey>,
    backend: Backend,
}

impl Default for TrustedKeys {
    fn default() -> TrustedKeys {
        TrustedKeys {
            keys: BTreeMap::new(),
            backend: Backend::RustCrypto,
        }
    }
}

impl TrustedKeys {
    /// No trusted keys; signatures are checked with [`Backend::RustCrypto`].
    pub fn new() -> TrustedKeys {
        TrustedKeys::default()
    }

    /// The same keys, checking signatures with `backend` (for example [`Backend::fastest`]).
    pub fn with_backend(mut self, backend: Backend) -> TrustedKeys {
        self.backend = backend;
        self
    }

    /// The backend that checks signatures.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Trusts `key` under `id` (replacing any key of the same ID).
    pub fn insert(&mut self, id: KeyPairId, key: PublicKey) {
        self.keys.insert(id, key);
    }

    /// The key for `id`, if trusted.
    pub fn get(&self, id: &str) -> Option<&PublicKey> {
        self.keys.get(id)
    }

    /// The number of trusted keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The trusted key IDs, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &KeyPairId> {
        self.keys.keys()
    }
}

impl FromIterator<(KeyPairId, PublicKey)> for TrustedKeys {
    fn from_iter<I: IntoIterator<Item = (KeyPairId, PublicKey)>>(iter: I) -> Self {
        TrustedKeys {
            keys: iter.into_iter().collect(),
            backend: Backend::RustCrypto,
        }
    }
}

/// A request as CloudFront's edge receives it.
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, Request, Signer, SignatureSource, TrustedKeys, UnixTime, verify};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let trusted: TrustedKeys = [("K2JCJMDEHXQW5F".parse()?, key.public_key())].into_iter().collect();
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, key);
/// let cookies = signer.canned_cookies("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
/// let header = cookies.cookie_header();
/// let request = Request::new("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225000)?)
///     .with_cookie_header(&header)
///     .with_client_ip("192.0.2.7".parse().unwrap());
/// match verify(&request, &trusted) {
///     cfsign::Decision::Granted(grant) => assert_eq!(grant.source(), SignatureSource::Cookies),
///     cfsign::Decision::Denied(denial) => panic!("{denial}"),
/// }
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    url: &'a str,
    cookie_header: Option<&'a str>,
    client_ip: Option<IpAddr>,
    now: UnixTime,
}

impl<'a> Request<'a> {
    /// A request for `url` (scheme, host and port, path and query exactly as the client sent
    /// them) arriving at `now`.
    pub fn new(url: &'a str, now: UnixTime) -> Request<'a> {
        Request {
            url,
            cookie_header: None,
            client_ip: None,
            now,
        }
    }

    /// The request's `Cookie` header value.
    pub fn with_cookie_header(mut self, header: &'a str) -> Request<'a> {
        self.cookie_header = Some(header);
        self
    }

    /// The client's IP address (needed when a policy has `AWS:SourceIp`).
    pub fn with_client_ip(mut self, ip: IpAddr) -> Request<'a> {
        self.client_ip = Some(ip);
        self
    }

    /// The URL.
    pub fn url(&self) -> &'a str {
        self.url
    }

    /// The time of the request.
    pub fn now(&self) -> UnixTime {
        self.now
    }
}

/// Decides a request as CloudFront's edge does for a cache behaviour that trusts `keys`.
///
/// Precedence: if the URL carries any of `Expires`, `Policy`, `Signature`, `Key-Pair-Id`, the
/// URL is used and cookies are ignored. Order of checks: Key-Pair-Id present and trusted,
/// signature decodes, policy decodes and parses, signature verifies over the exact policy bytes,
/// then time window, resource and source IP.
///
/// ```
/// use cfsign::{Decision, DenyCode, KeyKind, PrivateKey, Request, Signer, TrustedKeys, UnixTime, verify};
/// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
/// let id: cfsign::KeyPairId = "K2JCJMDEHXQW5F".parse()?;
/// let trusted: TrustedKeys = [(id.clone(), key.public_key())].into_iter().collect();
/// let signer = Signer::new(id, key);
/// let url = signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1_000_000)?)?;
///
/// assert!(verify(&Request::new(&url, UnixTime::from_secs(999_999)?), &trusted).is_granted());
/// let late = verify(&Request::new(&url, UnixTime::from_secs(1_000_192)?), &trusted);
/// let denial = late.denial().unwrap();
/// assert_eq!(denial.code(), DenyCode::AccessDenied);
/// assert!(denial.to_string().contains("expired 3m12s before the request"));
/// # Ok::<(), cfsign::Error>(())
/// ```
pub fn verify(request: &Request<'_>, keys: &TrustedKeys) -> Decision {
    let (stripped, url_params) = split_signed_url(request.url);
    let cookie_params = request
        .cookie_header
        .map(parse_cookie_header)
        .unwrap_or_default();
    let mut notes = Vec::new();
    let (params, source) = if url_params.any_present() {
        if cookie_params.any_present() {
            notes.push("URL signing parameters present, so cookies are ignored".to_owned());
        }
        (url_params, SignatureSource::Url)
    } else if cookie_params.any_present() {
        (cookie_params, SignatureSource::Cookies)
    } else {
        return Decision::Denied(Denial {
            reason: DenyReason::NoSignature,
            notes,
            undocumented: Vec::new(),
        });
    };
    let mut decoded = params.decode(source);
    let mut undocumented = std::mem::take(&mut decoded.undocumented);
    match check(
        request,
        keys,
        &stripped,
        &decoded,
        source,
        &mut undocumented,
    ) {
        Ok(mut grant) => {
            grant.notes = notes;
            grant.undocumented = undocumented;
            Decision::Granted(grant)
        }
        Err(reason) => Decision::Denied(Denial {
            reason,
            notes,
            undocumented,
        }),
    }
}

fn check(
    request: &Request<'_>,
    keys: &TrustedKeys,
    stripped: &str,
    params: &Decoded,
    source: SignatureSource,
    undocumented: &mut Vec<Undocumented>,
) -> Result<Grant, DenyReason> {
    // An empty Key-Pair-Id is "missing" too (AWS knowledge center: MissingKey for a missing or
    // empty value); the decoder maps it to `None`.
    let Some(key_pair_id) = params.key_pair_id.as_deref() else {
        return Err(DenyReason::MissingKeyPairId);
    };
    let Some(key) = keys.get(key_pair_id) else {
        return Err(DenyReason::UnknownKey {
            key_pair_id: key_pair_id.to_owned(),
            trusted: keys.ids().map(|id| id.to_string()).collect(),
        });
    };
    let signature = match &params.signature {
        None => return Err(DenyReason::MissingSignature),
        Some(None) => return Err(DenyReason::SignatureNotBase64),
        Some(Some(bytes)) => bytes,
    };
    let hash = match &params.hash {
        None => HashAlgorithm::Sha1,
        Some(Ok(hash)) => *hash,
        Some(Err(value)) => {
            return Err(DenyReason::UnknownHashAlgorithm {
                value: value.clone(),
            });
        }
    };
    enum Parsed {
        Canned(UnixTime),
        Custom(CustomPolicy),
    }
    let (policy_bytes, parsed) = match (&params.policy, &params.expires) {
        (Some(None), _) => return Err(DenyReason::PolicyNotBase64),
        (Some(Some(bytes)), _) => {
            let (parsed, quirks) =
                CustomPolicy::parse_noting(bytes).map_err(|e| DenyReason::PolicyUnparsable {
                    detail: match e {
                        crate::Error::InvalidPolicy { reason } => reason,
                        other => other.to_string(),
                    },
                })?;
            undocumented.extend(quirks);
            (Cow::Borrowed(bytes.as_slice()), Parsed::Custom(parsed))
        }
        (None, Some(Err(value))) => {
            return Err(DenyReason::MalformedExpires {
                value: value.clone(),
            });
        }
        (None, Some(Ok(secs))) => (
            Cow::Owned(CannedPolicy::new(stripped, *secs).to_json().into_bytes()),
            Parsed::Canned(*secs),
        ),
        (None, None) => return Err(DenyReason::MissingPolicy),
    };
    if !key.verify_with(keys.backend, hash, &policy_bytes, signature) {
        return Err(DenyReason::BadSignature {
            source,
            canned_resource: matches!(parsed, Parsed::Canned(_)).then(|| stripped.to_owned()),
        });
    }
    let (expires, custom) = match parsed {
        // Canned: the signature already binds the exact URL; only the expiry remains.
        Parsed::Canned(expires) => {
            if request.now >= expires {
                return Err(DenyReason::Expired {
                    expires,
                    now: request.now,
                });
            }
            (expires, false)
        }
        Parsed::Custom(policy) => {
            check_conditions(&policy, request.now, request.client_ip, undocumented)?;
            if let Some(resource) = policy.resource() {
                match resource.match_url(stripped) {
                    Match::Yes => {}
                    Match::IgnoringCase => undocumented.push(Undocumented::SchemeOrHostCase {
                        pattern: resource.as_str().to_owned(),
                    }),
                    Match::No => {
                        return Err(DenyReason::ResourceMismatch {
                            pattern: resource.as_str().to_owned(),
                            url: stripped.to_owned(),
                        });
                    }
                }
            }
            (policy.date_less_than(), true)
        }
    };
    Ok(Grant {
        key_pair_id: key_pair_id.to_owned(),
        source,
        hash,
        custom,
        expires,
        notes: Vec::new(),
        undocumented: Vec::new(),
    })
}

/// Checks the time window and source IP (not the resource) for a request at `now` from
/// `client_ip`, noting an undocumented boundary it relied on.
///
/// `DateLessThan` is exclusive (the request must come before it, as the name says and the
/// guide's "expires at" agrees). The second of `DateGreaterThan` itself is not settled by the
/// documentation; it is granted and noted.
fn check_conditions(
    policy: &CustomPolicy,
    now: UnixTime,
    client_ip: Option<std::net::IpAddr>,
    notes: &mut Vec<Undocumented>,
) -> Result<(), DenyReason> {
    if now >= policy.date_less_than() {
        return Err(DenyReason::Expired {
            expires: policy.date_less_than(),
            now,
        });
    }
    if let Some(start) = policy.date_greater_than() {
        if now < start {
            return Err(DenyReason::NotYetValid { starts: start, now });
        }
        if now == start {
            notes.push(Undocumented::StartSecond { starts: start });
        }
    }
    if let Some(range) = policy.source_ip() {
        match client_ip {
            None => return Err(DenyReason::ClientIpUnknown { range }),
            Some(std::net::IpAddr::V4(ip)) if range.contains(ip) => {}
            Some(std::net::IpAddr::V6(ip))
                if ip.to_ipv4_mapped().is_some_and(|v4| range.contains(v4)) => {}
            Some(ip) => return Err(DenyReason::WrongClientIp { ip, range }),
        }
    }
    Ok(())
}
