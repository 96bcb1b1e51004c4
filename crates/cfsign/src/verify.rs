//! Verification: what CloudFront's edge decides for a request, and why.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::params::{Decoded, parse_cookie_header, split_signed_url};
use crate::resource::{Match, first_difference};
use crate::{
    Backend, CannedPolicy, CustomPolicy, HashAlgorithm, KeyPairId, PublicKey, Resource, SourceIp,
    Undocumented, UnixTime, format_duration,
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

/// Where the signature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureSource {
    /// Query parameters of the URL.
    Url,
    /// `CloudFront-*` cookies.
    Cookies,
}

impl fmt::Display for SignatureSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureSource::Url => "signed URL",
            SignatureSource::Cookies => "signed cookies",
        })
    }
}

/// The 403 code CloudFront answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenyCode {
    /// No signature parameters or cookies.
    MissingKey,
    /// The Key-Pair-Id is not in the behaviour's trusted key groups.
    InvalidKey,
    /// The signature is not valid CloudFront base64.
    MalformedSignature,
    /// The policy does not decode or parse.
    MalformedPolicy,
    /// Expired, not yet valid, bad signature, wrong resource or wrong IP.
    AccessDenied,
}

impl DenyCode {
    /// The `<Code>` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::MissingKey => "MissingKey",
            DenyCode::InvalidKey => "InvalidKey",
            DenyCode::MalformedSignature => "MalformedSignature",
            DenyCode::MalformedPolicy => "MalformedPolicy",
            DenyCode::AccessDenied => "AccessDenied",
        }
    }

    /// The `<Message>` value CloudFront sends.
    pub fn message(self) -> &'static str {
        match self {
            DenyCode::MissingKey => "Missing Key-Pair-Id query parameter or cookie value",
            DenyCode::InvalidKey => "Unknown Key",
            DenyCode::MalformedSignature => "Could not unencode Signature",
            DenyCode::MalformedPolicy => "Malformed Policy",
            DenyCode::AccessDenied => "Access denied",
        }
    }

    /// The exact 403 body CloudFront sends (`content-type: text/xml`).
    ///
    /// ```
    /// assert_eq!(
    ///     cfsign::DenyCode::InvalidKey.xml_body(),
    ///     r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidKey</Code><Message>Unknown Key</Message></Error>"#
    /// );
    /// ```
    pub fn xml_body(self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{}</Code><Message>{}</Message></Error>"#,
            self.as_str(),
            self.message()
        )
    }
}

impl fmt::Display for DenyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Precisely why a request is denied. `Display` gives the explanation a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// No signing parameters in the URL and no `CloudFront-*` cookies.
    NoSignature,
    /// Signing parameters are present but `Key-Pair-Id` is missing or empty.
    MissingKeyPairId,
    /// The Key-Pair-Id is not one of the trusted keys.
    UnknownKey {
        /// The ID in the request.
        key_pair_id: String,
        /// The trusted IDs.
        trusted: Vec<String>,
    },
    /// No `Signature`.
    MissingSignature,
    /// The `Signature` is not CloudFront base64.
    SignatureNotBase64,
    /// Neither `Expires` nor `Policy` is present.
    MissingPolicy,
    /// `Expires` is not a number of seconds in CloudFront's range.
    MalformedExpires {
        /// The value in the request.
        value: String,
    },
    /// `Policy` is not CloudFront base64.
    PolicyNotBase64,
    /// `Policy` decodes but is not a policy CloudFront understands.
    PolicyUnparsable {
        /// What is wrong with it.
        detail: String,
    },
    /// `Hash-Algorithm` is neither `SHA1` nor `SHA256`.
    UnknownHashAlgorithm {
        /// The value in the request.
        value: String,
    },
    /// The signature does not verify over the policy.
    BadSignature {
        /// The source of the signature.
        source: SignatureSource,
        /// For canned policies: the resource rebuilt from the request.
        canned_resource: Option<String>,
    },
    /// The policy's expiry has passed.
    Expired {
        /// `DateLessThan`/`Expires`.
        expires: UnixTime,
        /// The time of the request.
        now: UnixTime,
    },
    /// The policy's start time has not come.
    NotYetValid {
        /// `DateGreaterThan`.
        starts: UnixTime,
        /// The time of the request.
        now: UnixTime,
    },
    /// The policy's resource pattern does not match the URL.
    ResourceMismatch {
        /// The pattern.
        pattern: String,
        /// The request URL without signing parameters.
        url: String,
    },
    /// The client IP is outside the policy's `AWS:SourceIp`.
    WrongClientIp {
        /// The client's address.
        ip: IpAddr,
        /// The allowed range.
        range: SourceIp,
    },
    /// The policy restricts the source IP but the verifier was given no client IP.
    ClientIpUnknown {
        /// The allowed range.
        range: SourceIp,
    },
    /// Strict mode ([`Decision::strict`]): the request would be granted only by relying on
    /// behaviour CloudFront does not document.
    Undocumented {
        /// What the grant relied on (never empty).
        behaviours: Vec<Undocumented>,
    },
}

impl DenyReason {
    /// The 403 code CloudFront returns for this reason.
    pub fn code(&self) -> DenyCode {
        match self {
            DenyReason::NoSignature | DenyReason::MissingKeyPairId => DenyCode::MissingKey,
            DenyReason::UnknownKey { .. } => DenyCode::InvalidKey,
            DenyReason::MissingSignature | DenyReason::SignatureNotBase64 => {
                DenyCode::MalformedSignature
            }
            DenyReason::MissingPolicy
            | DenyReason::MalformedExpires { .. }
            | DenyReason::PolicyNotBase64
            | DenyReason::PolicyUnparsable { .. } => DenyCode::MalformedPolicy,
            DenyReason::UnknownHashAlgorithm { .. }
            | DenyReason::BadSignature { .. }
            | DenyReason::Expired { .. }
            | DenyReason::NotYetValid { .. }
            | DenyReason::ResourceMismatch { .. }
            | DenyReason::WrongClientIp { .. }
            | DenyReason::ClientIpUnknown { .. } => DenyCode::AccessDenied,
            DenyReason::Undocumented { behaviours } => behaviours
                .first()
                .map_or(DenyCode::AccessDenied, Undocumented::code_if_refused),
        }
    }

    /// A short stable identifier (`expired`, `bad_signature`, …) for programs.
    pub fn kind(&self) -> &'static str {
        match self {
            DenyReason::NoSignature => "no_signature",
            DenyReason::MissingKeyPairId => "missing_key_pair_id",
            DenyReason::UnknownKey { .. } => "unknown_key",
            DenyReason::MissingSignature => "missing_signature",
            DenyReason::SignatureNotBase64 => "signature_not_base64",
            DenyReason::MissingPolicy => "missing_policy",
            DenyReason::MalformedExpires { .. } => "malformed_expires",
            DenyReason::PolicyNotBase64 => "policy_not_base64",
            DenyReason::PolicyUnparsable { .. } => "policy_unparsable",
            DenyReason::UnknownHashAlgorithm { .. } => "unknown_hash_algorithm",
            DenyReason::BadSignature { .. } => "bad_signature",
            DenyReason::Expired { .. } => "expired",
            DenyReason::NotYetValid { .. } => "not_yet_valid",
            DenyReason::ResourceMismatch { .. } => "resource_mismatch",
            DenyReason::WrongClientIp { .. } => "wrong_client_ip",
            DenyReason::ClientIpUnknown { .. } => "client_ip_unknown",
            DenyReason::Undocumented { .. } => "undocumented",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::NoSignature => f.write_str(
                "no signature: the URL has no Expires/Policy, Signature and Key-Pair-Id parameters and there are no CloudFront-* cookies",
            ),
            DenyReason::MissingKeyPairId => {
                f.write_str("signing parameters are present but Key-Pair-Id is missing or empty")
            }
            DenyReason::UnknownKey { key_pair_id, trusted } => {
                write!(f, "Key-Pair-Id `{key_pair_id}` is not in the cache behaviour's trusted key groups")?;
                if trusted.is_empty() {
                    f.write_str(" (no keys are trusted)")
                } else {
                    write!(f, " (trusted: {})", trusted.join(", "))
                }
            }
            DenyReason::MissingSignature => f.write_str("the Signature parameter is missing"),
            DenyReason::SignatureNotBase64 => {
                f.write_str("the Signature is not CloudFront base64 (was it truncated, or percent-encoded twice?)")
            }
            DenyReason::MissingPolicy => f.write_str("neither Expires (canned policy) nor Policy (custom policy) is present"),
            DenyReason::MalformedExpires { value } => {
                write!(f, "Expires `{value}` is not a Unix time in seconds (at most 2147483647)")
            }
            DenyReason::PolicyNotBase64 => f.write_str("the Policy is not CloudFront base64 (was it truncated?)"),
            DenyReason::PolicyUnparsable { detail } => write!(f, "the Policy does not parse: {detail}"),
            DenyReason::UnknownHashAlgorithm { value } => {
                write!(f, "Hash-Algorithm `{value}` is not SHA1 or SHA256")
            }
            DenyReason::BadSignature { source, canned_resource } => {
                write!(f, "signature does not match: the URL was changed after signing, or signed with a different key")?;
                if let Some(resource) = canned_resource {
                    write!(f, " (the canned policy rebuilt from the request covers `{resource}`")?;
                    if *source == SignatureSource::Cookies {
                        f.write_str("; canned-policy cookies only work for that exact URL")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            DenyReason::Expired { expires, now } => write!(
                f,
                "expired {} before the request (Expires {expires}, request at {now})",
                format_duration(now.as_secs() - expires.as_secs())
            ),
            DenyReason::NotYetValid { starts, now } => write!(
                f,
                "not valid yet: access starts {} after the request (DateGreaterThan {starts}, request at {now})",
                format_duration(starts.as_secs().saturating_sub(now.as_secs()).max(1))
            ),
            DenyReason::ResourceMismatch { pattern, url } => {
                write!(f, "policy resource `{pattern}` does not match `{url}`")?;
                if let Some(why) = Resource::from_policy(pattern).unmatchable_reason() {
                    write!(f, ": {why}")
                } else if let Some(difference) = first_difference(pattern, url) {
                    write!(f, ": {difference}")
                } else {
                    Ok(())
                }
            }
            DenyReason::WrongClientIp { ip, range } => write!(f, "client IP {ip} is not in {range}"),
            DenyReason::ClientIpUnknown { range } => {
                write!(f, "the policy only allows client IPs in {range}, and no client IP was given")
            }
            DenyReason::Undocumented { behaviours } => {
                f.write_str("strict mode: the request would be granted only by relying on undocumented behaviour")?;
                for behaviour in behaviours {
                    write!(f, "; {behaviour}")?;
                }
                Ok(())
            }
        }
    }
}

/// A refusal: the code CloudFront would send, the precise reason, and notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    reason: DenyReason,
    notes: Vec<String>,
    undocumented: Vec<Undocumented>,
}

impl Denial {
    /// The 403 code.
    pub fn code(&self) -> DenyCode {
        self.reason.code()
    }

    /// The precise reason.
    pub fn reason(&self) -> &DenyReason {
        &self.reason
    }

    /// Extra observations, such as "URL signing parameters present, so cookies are ignored".
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Undocumented behaviour seen before the request was denied (for example a percent-encoded
    /// parameter that was decoded).
    pub fn undocumented(&self) -> &[Undocumented] {
        &self.undocumented
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.reason)?;
        for note in &self.notes {
            write!(f, "; {note}")?;
        }
        if !matches!(self.reason, DenyReason::Undocumented { .. }) {
            for behaviour in &self.undocumented {
                write!(f, "; undocumented: {behaviour}")?;
            }
        }
        Ok(())
    }
}

/// What was granted: which key, from where, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    key_pair_id: String,
    source: SignatureSource,
    hash: HashAlgorithm,
    custom: bool,
    expires: UnixTime,
    notes: Vec<String>,
    undocumented: Vec<Undocumented>,
}

impl Grant {
    /// The key that signed the request.
    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    /// URL or cookies.
    pub fn source(&self) -> SignatureSource {
        self.source
    }

    /// The hash algorithm of the signature.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    /// Whether the policy was custom (else canned).
    pub fn is_custom_policy(&self) -> bool {
        self.custom
    }

    /// When the grant ends.
    pub fn expires(&self) -> UnixTime {
        self.expires
    }

    /// Extra observations.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Behaviour CloudFront does not document that this grant relies on. Empty when the
    /// documentation alone says CloudFront serves the request.
    pub fn undocumented(&self) -> &[Undocumented] {
        &self.undocumented
    }
}

/// CloudFront's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The edge would serve the request.
    Granted(Grant),
    /// The edge would answer 403.
    Denied(Denial),
}

impl Decision {
    /// Whether the request would be served.
    pub fn is_granted(&self) -> bool {
        matches!(self, Decision::Granted(_))
    }

    /// The denial, if denied.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            Decision::Denied(d) => Some(d),
            Decision::Granted(_) => None,
        }
    }

    /// The undocumented behaviour this decision relied on or saw.
    pub fn undocumented(&self) -> &[Undocumented] {
        match self {
            Decision::Granted(g) => &g.undocumented,
            Decision::Denied(d) => &d.undocumented,
        }
    }

    /// Only what CloudFront's documentation promises: a grant that relies on undocumented
    /// behaviour becomes a denial ([`DenyReason::Undocumented`], with the code CloudFront would
    /// most likely send if it refuses). Denials stay as they are.
    ///
    /// ```
    /// use cfsign::{DenyReason, KeyKind, PrivateKey, Request, Signer, TrustedKeys, UnixTime, verify};
    /// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
    /// let trusted: TrustedKeys = [("K2JCJMDEHXQW5F".parse()?, key.public_key())].into_iter().collect();
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, key);
    /// let url = signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
    /// // `Hash-Algorithm=sha1` in lower case: CloudFront documents only `SHA1`.
    /// let odd = format!("{url}&Hash-Algorithm=sha1");
    /// let decision = verify(&Request::new(&odd, UnixTime::from_secs(1767225000)?), &trusted);
    /// assert!(decision.is_granted());
    /// assert_eq!(decision.undocumented()[0].kind(), "hash_algorithm_case");
    /// let strict = decision.strict();
    /// assert!(matches!(strict.denial().unwrap().reason(), DenyReason::Undocumented { .. }));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn strict(self) -> Decision {
        match self {
            Decision::Granted(grant) if !grant.undocumented.is_empty() => {
                Decision::Denied(Denial {
                    reason: DenyReason::Undocumented {
                        behaviours: grant.undocumented.clone(),
                    },
                    notes: grant.notes,
                    undocumented: grant.undocumented,
                })
            }
            other => other,
        }
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
            (bytes.clone(), Parsed::Custom(parsed))
        }
        (None, Some(Err(value))) => {
            return Err(DenyReason::MalformedExpires {
                value: value.clone(),
            });
        }
        (None, Some(Ok(secs))) => (
            CannedPolicy::new(stripped, *secs).to_json().into_bytes(),
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
            policy.check_conditions(request.now, request.client_ip, undocumented)?;
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
