//! The API's request and response bodies, with their OpenAPI schemas: what clients send and get.

use cfsign::{HashAlgorithm, UnixTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// A lifetime in seconds: a number (`300`) or text with units (`"5m"`, `"1h30m"`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Ttl {
    /// Seconds.
    Secs(u64),
    /// Units: `90s`, `30m`, `1h`, `1h30m`, `7d`.
    Text(String),
}

impl Ttl {
    /// The lifetime in seconds.
    pub(crate) fn secs(&self) -> Result<u64, ApiError> {
        match self {
            Ttl::Secs(secs) => Ok(*secs),
            Ttl::Text(text) => cfsign::parse_duration(text)
                .map_err(|e| ApiError::bad_request("invalid_request", format!("`ttl`: {e}"))),
        }
    }
}

/// A point in time: Unix seconds, or RFC 3339 / ISO 8601 text (`2026-12-01T00:00:00Z`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Time {
    /// Unix seconds.
    Secs(u64),
    /// RFC 3339 or ISO 8601.
    Text(String),
}

impl Time {
    /// The time as Unix seconds; `field` names the request field in the error.
    pub(crate) fn parse(&self, field: &str) -> Result<UnixTime, ApiError> {
        match self {
            Time::Secs(secs) => UnixTime::from_secs(*secs),
            Time::Text(text) => UnixTime::parse(text),
        }
        .map_err(|e| ApiError::bad_request("invalid_request", format!("`{field}`: {e}")))
    }
}

/// `canned` (one exact URL and an expiry) or `custom` (resource pattern, start time, IP range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// A canned policy.
    Canned,
    /// A custom policy.
    Custom,
}

/// The hash under the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HashName {
    /// SHA-1, CloudFront's default.
    #[default]
    Sha1,
    /// SHA-256 (`Hash-Algorithm=SHA256`).
    Sha256,
}

impl HashName {
    /// The core's algorithm.
    pub(crate) fn algorithm(self) -> HashAlgorithm {
        match self {
            HashName::Sha1 => HashAlgorithm::Sha1,
            HashName::Sha256 => HashAlgorithm::Sha256,
        }
    }
}

/// Fields shared by URL and cookie requests that describe the policy.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFields {
    /// `canned` or `custom`; custom is implied by `resource`, `starts_at` or `source_ip`.
    #[serde(default)]
    pub policy: Option<PolicyKind>,
    /// Custom policy resource pattern (`*` any characters, `?` one); defaults to the exact URL.
    #[serde(default)]
    pub resource: Option<String>,
    /// Custom policy: access starts at this time (`DateGreaterThan`).
    #[serde(default)]
    pub starts_at: Option<Time>,
    /// Custom policy: IPv4 address or CIDR range allowed (`AWS:SourceIp`).
    #[serde(default)]
    pub source_ip: Option<String>,
    /// Lifetime from now (capped by the client's `max_ttl`).
    #[serde(default)]
    pub ttl: Option<Ttl>,
    /// Absolute expiry, instead of `ttl`.
    #[serde(default)]
    pub expires: Option<Time>,
    /// `sha1` (default) or `sha256`.
    #[serde(default)]
    pub hash_algorithm: HashName,
}

/// One URL to sign.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The URL exactly as clients will request it (percent-encoded).
    pub url: String,
    /// The policy.
    #[serde(flatten)]
    pub fields: PolicyFields,
}

/// Several URLs to sign at once (all or nothing: one refusal refuses the batch).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBatch {
    /// The URLs.
    pub requests: Vec<SignRequest>,
}

/// The body of `POST /v1/sign`: one request, or `{"requests": [...]}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SignBody {
    /// A batch.
    Batch(SignBatch),
    /// One URL.
    One(SignRequest),
}

/// A signed URL.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedUrl {
    /// The URL with `Expires`/`Policy`, `Signature`, `Key-Pair-Id` (and `Hash-Algorithm`).
    pub signed_url: String,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// The key that signed.
    pub key_pair_id: String,
    /// `canned` or `custom`.
    pub policy: PolicyKind,
    /// The hash algorithm.
    pub hash_algorithm: HashName,
}

/// The answer to a batch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedBatch {
    /// One result per request, in order.
    pub results: Vec<SignedUrl>,
}

/// The answer of `POST /v1/sign`: one signed URL, or `{"results": [...]}` for a batch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SignResponse {
    /// The answer to a batch.
    Batch(SignedBatch),
    /// The answer to one request.
    One(SignedUrl),
}

/// Signed cookies for a resource.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CookiesRequest {
    /// A URL (canned policy) or, with a custom policy, a resource pattern such as
    /// `https://media.example.com/videos/*`.
    pub resource: String,
    /// `canned` or `custom`; custom is implied by a `*`, `starts_at` or `source_ip` (a URL with a
    /// query string and nothing else gets a canned policy, as with the aws CLI and the JS signer).
    #[serde(default)]
    pub policy: Option<PolicyKind>,
    /// Custom policy: access starts at this time.
    #[serde(default)]
    pub starts_at: Option<Time>,
    /// Custom policy: IPv4 address or CIDR range allowed.
    #[serde(default)]
    pub source_ip: Option<String>,
    /// Lifetime from now.
    #[serde(default)]
    pub ttl: Option<Ttl>,
    /// Absolute expiry, instead of `ttl`.
    #[serde(default)]
    pub expires: Option<Time>,
    /// `sha1` (default) or `sha256`.
    #[serde(default)]
    pub hash_algorithm: HashName,
    /// `Domain` attribute (your alternate domain name, never `*.cloudfront.net`).
    #[serde(default)]
    pub domain: Option<String>,
    /// `Path` attribute (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// `Secure` attribute (default true).
    #[serde(default)]
    pub secure: Option<bool>,
    /// `HttpOnly` attribute (default true).
    #[serde(default)]
    pub http_only: Option<bool>,
    /// Also send the cookies as `Set-Cookie` headers on this response.
    #[serde(default)]
    pub set_cookies: bool,
}

/// One cookie.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CookiePair {
    /// `CloudFront-Policy`, `CloudFront-Expires`, `CloudFront-Signature`, …
    pub name: String,
    /// The value.
    pub value: String,
}

/// Signed cookies.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedCookiesBody {
    /// The cookies.
    pub cookies: Vec<CookiePair>,
    /// `Set-Cookie` header values, one per cookie.
    pub set_cookie: Vec<String>,
    /// A `Cookie` request header value (for curl and tests).
    pub cookie_header: String,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// The key that signed.
    pub key_pair_id: String,
    /// `canned` or `custom`.
    pub policy: PolicyKind,
}

/// Query of `GET /v1/redirect`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RedirectParams {
    /// The URL to sign (canned policy), URL-encoded.
    pub url: String,
    /// Lifetime in seconds or with units; default: the server's default TTL.
    pub ttl: Option<String>,
    /// `sha1` (default) or `sha256`.
    pub hash_algorithm: Option<HashName>,
}

/// What to verify.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The full request URL, signing parameters included.
    pub url: String,
    /// The request's `Cookie` header, for signed cookies.
    #[serde(default)]
    pub cookie: Option<String>,
    /// The client IP (needed for policies with `AWS:SourceIp`).
    #[serde(default)]
    pub client_ip: Option<String>,
    /// When the request happens (default: now).
    #[serde(default)]
    pub now: Option<Time>,
    /// Only what CloudFront documents: deny a request that would be served only by relying on
    /// undocumented behaviour (listed in `undocumented` either way).
    #[serde(default)]
    pub strict: bool,
}

/// Behaviour CloudFront does not document that a decision relied on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UndocumentedNote {
    /// A stable identifier (`standard_base64`, `hash_algorithm_case`, `start_second`, …).
    pub kind: String,
    /// What was seen, what cfsign decided, and the evidence.
    pub explanation: String,
}

/// CloudFront's decision, with the core crate's explanation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether CloudFront would serve the request.
    pub granted: bool,
    /// The status CloudFront would answer (200 or 403).
    pub status: u16,
    /// The 403 code (`AccessDenied`, `MissingKey`, …) when denied.
    pub code: Option<String>,
    /// A stable reason identifier (`expired`, `bad_signature`, `resource_mismatch`, …) when denied.
    pub reason: Option<String>,
    /// A sentence explaining the decision.
    pub explanation: String,
    /// Extra observations.
    pub notes: Vec<String>,
    /// Undocumented CloudFront behaviour the decision relied on (a grant with entries here is
    /// what `strict` denies).
    pub undocumented: Vec<UndocumentedNote>,
    /// The key used, when granted.
    pub key_pair_id: Option<String>,
    /// The expiry, when granted (Unix seconds).
    pub expires: Option<u64>,
}

/// Health and readiness.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// `ok`, `ready` or `shutting_down`.
    pub status: String,
    /// The key that signs (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_key: Option<String>,
}
