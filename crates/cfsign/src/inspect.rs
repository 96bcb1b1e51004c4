//! Inspection: decode a signed URL or cookie set into its parts without verifying it.

use crate::params::{RawParams, parse_cookie_header, split_signed_url};
use crate::{CustomPolicy, SignatureSource, Undocumented, UnixTime};

/// The decoded parts of a signed URL or signed cookies. Nothing here is verified.
///
/// ```
/// use cfsign::{KeyKind, PrivateKey, Signer, UnixTime, inspect_url};
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
/// let url = signer.sign_canned_url("https://d1.example.net/a.jpg?v=1", UnixTime::from_secs(1767225600)?)?;
/// let parts = inspect_url(&url);
/// assert_eq!(parts.key_pair_id(), Some("K2JCJMDEHXQW5F"));
/// assert_eq!(parts.resource_url(), Some("https://d1.example.net/a.jpg?v=1"));
/// assert_eq!(parts.expires(), Some(UnixTime::from_secs(1767225600)?));
/// assert!(parts.policy_json().unwrap().contains(r#""Resource":"https://d1.example.net/a.jpg?v=1""#));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    source: SignatureSource,
    resource_url: Option<String>,
    key_pair_id: Option<String>,
    hash_algorithm: String,
    signature: Option<Result<Vec<u8>, String>>,
    policy_json: Option<Result<String, String>>,
    policy: Option<Result<CustomPolicy, String>>,
    canned_expires: Option<Result<UnixTime, String>>,
    problems: Vec<String>,
    undocumented: Vec<Undocumented>,
}

impl Inspection {
    /// Where the parts came from.
    pub fn source(&self) -> SignatureSource {
        self.source
    }

    /// For URLs: the URL without its signing parameters (what a canned policy covers).
    pub fn resource_url(&self) -> Option<&str> {
        self.resource_url.as_deref()
    }

    /// The Key-Pair-Id, if present.
    pub fn key_pair_id(&self) -> Option<&str> {
        self.key_pair_id.as_deref()
    }

    /// The hash algorithm as written (`SHA1` when absent).
    pub fn hash_algorithm(&self) -> &str {
        &self.hash_algorithm
    }

    /// The decoded signature bytes, if present and decodable.
    pub fn signature(&self) -> Option<&[u8]> {
        self.signature
            .as_ref()
            .and_then(|s| s.as_ref().ok())
            .map(Vec::as_slice)
    }

    /// The policy JSON: the decoded `Policy`, or the canned policy rebuilt from the URL and `Expires`.
    pub fn policy_json(&self) -> Option<&str> {
        self.policy_json
            .as_ref()
            .and_then(|p| p.as_ref().ok())
            .map(String::as_str)
    }

    /// The parsed custom policy, if the policy is custom and parses.
    pub fn custom_policy(&self) -> Option<&CustomPolicy> {
        self.policy.as_ref().and_then(|p| p.as_ref().ok())
    }

    /// Whether the policy is custom (`Policy` present).
    pub fn is_custom_policy(&self) -> bool {
        self.policy.is_some()
    }

    /// The expiry: `Expires`, or the custom policy's `DateLessThan`.
    pub fn expires(&self) -> Option<UnixTime> {
        match (&self.canned_expires, self.custom_policy()) {
            (Some(Ok(t)), _) => Some(*t),
            (_, Some(p)) => Some(p.date_less_than()),
            _ => None,
        }
    }

    /// The start time of a custom policy (`DateGreaterThan`).
    pub fn starts(&self) -> Option<UnixTime> {
        self.custom_policy()
            .and_then(CustomPolicy::date_greater_than)
    }

    /// What is missing or undecodable (empty for a well-formed signed URL or cookie set).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Forms CloudFront does not document that the parameters use (decoded anyway, as
    /// [`verify`](crate::verify) does).
    pub fn undocumented(&self) -> &[Undocumented] {
        &self.undocumented
    }
}

/// Decodes a signed URL's parts.
pub fn inspect_url(url: &str) -> Inspection {
    let (stripped, params) = split_signed_url(url);
    build(params, SignatureSource::Url, Some(stripped))
}

/// Decodes signed cookies from a `Cookie` header value (with or without the `Cookie:` prefix).
///
/// ```
/// use cfsign::{CustomPolicy, KeyKind, PrivateKey, Resource, Signer, UnixTime, inspect_cookies};
/// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
/// let policy = CustomPolicy::new(Resource::new("https://d1.example.net/hls/*")?, UnixTime::from_secs(1767225600)?);
/// let header = format!("session=abc; {}", signer.custom_cookies(&policy)?.cookie_header());
/// let parts = inspect_cookies(&header);
/// assert!(parts.is_custom_policy());
/// assert_eq!(parts.custom_policy(), Some(&policy));
/// assert_eq!(parts.expires(), Some(UnixTime::from_secs(1767225600)?));
/// assert!(parts.problems().is_empty());
/// # Ok::<(), cfsign::Error>(())
/// ```
pub fn inspect_cookies(cookie_header: &str) -> Inspection {
    build(
        parse_cookie_header(cookie_header),
        SignatureSource::Cookies,
        None,
    )
}

fn build(params: RawParams, source: SignatureSource, resource_url: Option<String>) -> Inspection {
    let key_pair_id = params.key_pair_id.clone();
    let hash_algorithm = params
        .hash_algorithm
        .clone()
        .unwrap_or_else(|| "SHA1".to_owned());
    // The same decoder as `verify`; only the wording of what is wrong is inspect's own.
    let decoded = params.decode(source);
    let mut problems = Vec::new();
    if !decoded.present {
        problems.push(match source {
            SignatureSource::Url => {
                "no signing parameters (Expires/Policy, Signature, Key-Pair-Id) in the URL"
                    .to_owned()
            }
            SignatureSource::Cookies => "no CloudFront-* cookies in the header".to_owned(),
        });
    }
    if decoded.key_pair_id.is_none() {
        problems.push("Key-Pair-Id is missing or empty".to_owned());
    }
    let signature = decoded
        .signature
        .map(|s| s.ok_or_else(|| "the Signature is not CloudFront base64".to_owned()));
    match &signature {
        None => problems.push("Signature is missing".to_owned()),
        Some(Err(e)) => problems.push(e.clone()),
        Some(Ok(_)) => {}
    }
    if let Some(Err(value)) = &decoded.hash {
        problems.push(format!("Hash-Algorithm `{value}` is not SHA1 or SHA256"));
    }
    let policy_json = decoded.policy.as_ref().map(|p| {
        p.as_ref()
            .ok_or_else(|| "the Policy is not CloudFront base64".to_owned())
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    });
    let policy = decoded.policy.as_ref().map(|p| match p {
        Some(bytes) => CustomPolicy::parse(bytes).map_err(|e| e.to_string()),
        None => Err("the Policy is not CloudFront base64".to_owned()),
    });
    if let Some(Err(e)) = &policy {
        problems.push(e.clone());
    }
    let canned_expires = decoded.expires.map(|e| {
        e.map_err(|value| {
            format!("Expires `{value}` is not a Unix time in seconds (at most 2147483647)")
        })
    });
    if let Some(Err(e)) = &canned_expires {
        problems.push(e.clone());
    }
    if policy.is_none() && canned_expires.is_none() && decoded.present {
        problems.push("neither Expires nor Policy is present".to_owned());
    }
    let policy_json = match (policy_json, &canned_expires, &resource_url) {
        (Some(json), _, _) => Some(json),
        (None, Some(Ok(expires)), Some(url)) => {
            Some(Ok(crate::CannedPolicy::new(url, *expires).to_json()))
        }
        _ => None,
    };
    Inspection {
        source,
        resource_url,
        key_pair_id,
        hash_algorithm,
        signature,
        policy_json,
        policy,
        canned_expires,
        problems,
        undocumented: decoded.undocumented,
    }
}
