//! The API's request and response bodies, with their OpenAPI schemas: what clients send and get.

mod schema;
mod stream;

use std::borrow::Cow;
use std::fmt;

use cfsign::{HashAlgorithm, UnixTime};
use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{RefOr, Required, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::error::ApiError;

pub(crate) use self::schema::merge_flattened;
pub use self::stream::{
    SameSiteName, SignedManifestBody, SkippedUri, StreamCookiesBody, StreamCookiesRequest,
    StreamManifestRequest,
};

/// The longest `url` `POST /v1/verify` reads, in characters: twice CloudFront's limit, so that a
/// URL CloudFront would refuse for its length still gets an explanation.
pub(crate) const MAX_VERIFY_URL_CHARS: usize = cfsign::MAX_URL_BYTES * 2;

/// A lifetime in seconds: a number (`300`) or text with units (`"5m"`, `"1h30m"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Ttl {
    /// Seconds.
    Secs(#[serde(deserialize_with = "whole_seconds")] u64),
    /// Units: `90s`, `30m`, `1h`, `1h30m`, `7d`.
    Text(String),
}

impl Ttl {
    /// The lifetime in seconds. A duration written correctly but past 2^64 seconds is too long
    /// rather than malformed: it becomes `u64::MAX`, which the client's `max_ttl` refuses.
    pub(crate) fn secs(&self) -> Result<u64, ApiError> {
        match self {
            Ttl::Secs(secs) => Ok(*secs),
            Ttl::Text(text) => cfsign::parse_duration(text).or_else(|e| {
                if has_duration_form(text) {
                    Ok(u64::MAX)
                } else {
                    Err(ApiError::bad_request(
                        "invalid_request",
                        format!("`ttl`: {e}"),
                    ))
                }
            }),
        }
    }
}

/// Whether `text`, trimmed, has the form `cfsign::parse_duration` reads, whatever the size of its
/// numbers: digits, or numbers each followed by a unit (`s`, `m`, `h`, `d`, `w`).
fn has_duration_form(text: &str) -> bool {
    let (mut digits, mut units) = (0, 0);
    for b in text.trim().bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b's' | b'm' | b'h' | b'd' | b'w' if digits > 0 => {
                digits = 0;
                units += 1;
            }
            _ => return false,
        }
    }
    if units == 0 { digits > 0 } else { digits == 0 }
}

/// The syntax `Ttl::secs` reads (built in `wire/schema.rs`).
impl PartialSchema for Ttl {
    fn schema() -> RefOr<Schema> {
        schema::ttl()
    }
}

impl ToSchema for Ttl {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Ttl")
    }
}

/// A point in time: Unix seconds, or RFC 3339 / ISO 8601 text (`2026-12-01T00:00:00Z`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Time {
    /// Unix seconds.
    Secs(#[serde(deserialize_with = "whole_seconds")] u64),
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

/// A whole number of seconds as JSON may write it: `300`, and also `300.0` or `3e2`, which JSON
/// Schema counts as integers too (and schemathesis sends).
fn whole_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Seconds;

    impl Visitor<'_> for Seconds {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number of seconds")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            // 2^64: every whole float from 0 up to it converts to u64 exactly.
            const LIMIT: f64 = 18_446_744_073_709_551_616.0;
            if v.fract() == 0.0 && (0.0..LIMIT).contains(&v) {
                Ok(v as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }

    deserializer.deserialize_any(Seconds)
}

/// The syntax `Time::parse` reads (built in `wire/schema.rs`).
impl PartialSchema for Time {
    fn schema() -> RefOr<Schema> {
        schema::time()
    }
}

impl ToSchema for Time {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Time")
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

/// The terms every signing request may set, whatever it signs (a URL, cookies, a stream): when
/// access starts, from which addresses, until when, and the hash. Written once and flattened into
/// each request; a request refuses a field that is neither its own nor one of these.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PolicyTerms {
    /// Custom policy: access starts at this time (`DateGreaterThan`).
    #[serde(default)]
    pub starts_at: Option<Time>,
    /// Custom policy: IPv4 address or CIDR range allowed (`AWS:SourceIp`).
    #[serde(default)]
    #[schema(schema_with = schema::source_ip)]
    pub source_ip: Option<String>,
    /// Lifetime from now (capped by the client's `max_ttl`).
    #[serde(default)]
    pub ttl: Option<Ttl>,
    /// Absolute expiry, instead of `ttl`.
    #[serde(default)]
    pub expires: Option<Time>,
    /// `sha1` (default) or `sha256`; with a key held in AWS KMS, `sha256` (the default then) only.
    #[serde(default)]
    pub hash_algorithm: Option<HashName>,
}

/// The `Set-Cookie` attributes of a cookie request (`/v1/cookies`, `/v1/stream/cookies`), and
/// whether the response sets the cookies too. Flattened into each cookie request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CookieFields {
    /// `Domain` attribute (your alternate domain name, never `*.cloudfront.net`).
    #[serde(default)]
    #[schema(schema_with = schema::cookie_domain)]
    pub domain: Option<String>,
    /// `Path` attribute (default `/`; for a stream, the prefix's path).
    #[serde(default)]
    #[schema(schema_with = schema::cookie_path)]
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

/// One URL to sign.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The URL exactly as clients will request it (percent-encoded).
    #[schema(schema_with = schema::url)]
    pub url: String,
    /// `canned` or `custom`; custom is implied by `resource`, `starts_at` or `source_ip`.
    #[serde(default)]
    pub policy: Option<PolicyKind>,
    /// Custom policy resource pattern (`*` any characters, `?` one); defaults to the exact URL.
    #[serde(default)]
    #[schema(schema_with = schema::resource_pattern)]
    pub resource: Option<String>,
    /// When, from where, until when, and the hash.
    #[serde(flatten)]
    pub terms: PolicyTerms,
}

/// Several URLs to sign at once (all or nothing: one refusal refuses the batch).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBatch {
    /// The URLs.
    #[schema(schema_with = schema::batch)]
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
    #[schema(schema_with = schema::resource)]
    pub resource: String,
    /// `canned` or `custom`; custom is implied by a `*`, `starts_at` or `source_ip` (a URL with a
    /// query string and nothing else gets a canned policy, as with the aws CLI and the JS signer).
    #[serde(default)]
    pub policy: Option<PolicyKind>,
    /// When, from where, until when, and the hash.
    #[serde(flatten)]
    pub terms: PolicyTerms,
    /// The cookies' attributes.
    #[serde(flatten)]
    pub cookie: CookieFields,
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
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RedirectParams {
    /// The URL to sign (canned policy), URL-encoded.
    pub url: String,
    /// Lifetime in seconds or with units; default: the server's default TTL.
    pub ttl: Option<String>,
    /// `sha1` (default) or `sha256`; with a key held in AWS KMS, `sha256` (the default then) only.
    pub hash_algorithm: Option<HashName>,
}

/// Written out because the derive drops `required` from a parameter with its own schema.
impl IntoParams for RedirectParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let query = |name: &str, required: bool, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(if required {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(description))
        };
        vec![
            query("url", true, "The URL to sign (canned policy), URL-encoded.")
                .schema(Some(schema::url()))
                .build(),
            query(
                "ttl",
                false,
                "Lifetime in seconds or with units; default: the server's default TTL.",
            )
            .schema(Some(schema::ttl_text()))
            .build(),
            query("hash_algorithm", false, "`sha1` (default) or `sha256`.")
                .schema(Some(HashName::schema()))
                .build(),
        ]
    }
}

/// What to verify.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The full request URL, signing parameters included.
    #[schema(schema_with = schema::verify_url)]
    pub url: String,
    /// The request's `Cookie` header, for signed cookies.
    #[serde(default)]
    pub cookie: Option<String>,
    /// The client IP (needed for policies with `AWS:SourceIp`).
    #[serde(default)]
    #[schema(schema_with = schema::client_ip)]
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
    /// Readiness only, when keys are held in AWS: each source's last read. A failed read keeps
    /// the last good key, so the server stays ready while it has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_sources: Vec<KeySourceStatus>,
}

/// The state of one key held in AWS (`kms:…`, `secret:…`, `ssm:…`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeySourceStatus {
    /// The source, e.g. `kms:arn:aws:kms:…` or `secret:cdn-key#private_key@AWSCURRENT`.
    pub source: String,
    /// Whether a key from it is loaded (the last good one, if the last read failed).
    pub loaded: bool,
    /// Why the last read failed; absent when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Failed reads since the server started.
    pub refresh_failures: u64,
    /// When the last read succeeded (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<u64>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::ServerConfig;

    #[test]
    fn a_batch_has_the_default_limit() {
        let batch = serde_json::to_value(SignBatch::schema()).unwrap();
        let requests = &batch["properties"]["requests"];
        assert_eq!(requests["minItems"], 1, "{batch}");
        assert_eq!(
            requests["maxItems"],
            ServerConfig::default().max_batch,
            "{batch}"
        );
    }

    /// Every request with flattened parts refuses what its schema refuses (see
    /// `routes::tests`): a field of no part, or one of another request, named in the error; the
    /// parts' fields are read.
    #[test]
    fn flattened_requests_refuse_unknown_fields() {
        fn check<T: serde::de::DeserializeOwned + fmt::Debug>(
            minimal: serde_json::Value,
            own: &[&str],
        ) {
            let name = std::any::type_name::<T>();
            let mut with_terms = minimal.clone();
            with_terms["ttl"] = json!("5m");
            with_terms["source_ip"] = json!("192.0.2.0/24");
            with_terms["hash_algorithm"] = json!("sha256");
            let parsed = serde_json::from_value::<T>(with_terms.clone());
            assert!(parsed.is_ok(), "{name} {with_terms}: {parsed:?}");
            for unknown in ["colour", "manifest_url", "same_site", "url", "policy"] {
                if own.contains(&unknown) || minimal.get(unknown).is_some() {
                    continue;
                }
                let mut body = with_terms.clone();
                body[unknown] = json!("x");
                let err = serde_json::from_value::<T>(body).unwrap_err().to_string();
                assert!(
                    err.contains(&format!("unknown field `{unknown}`")),
                    "{name} {unknown}: {err}"
                );
            }
        }
        let url = "https://d1.example.net/v/1/";
        check::<SignRequest>(json!({"url": url}), &["policy"]);
        check::<CookiesRequest>(json!({"resource": url}), &["policy"]);
        check::<StreamManifestRequest>(json!({"manifest": "#EXTM3U", "manifest_url": url}), &[]);
        check::<StreamCookiesRequest>(json!({"prefix": url}), &["same_site"]);
    }

    #[test]
    fn seconds_are_any_json_integer() {
        let check = |json: &str, expected: Option<u64>| {
            let ttl = serde_json::from_str::<Ttl>(json).ok().map(|t| match t {
                Ttl::Secs(secs) => Some(secs),
                Ttl::Text(_) => None,
            });
            assert_eq!(ttl.flatten(), expected, "ttl {json}");
            let time = serde_json::from_str::<Time>(json).ok().map(|t| match t {
                Time::Secs(secs) => Some(secs),
                Time::Text(_) => None,
            });
            assert_eq!(time.flatten(), expected, "time {json}");
        };
        check("300", Some(300));
        check("300.0", Some(300));
        check("3e2", Some(300));
        check("0", Some(0));
        check("-0.0", Some(0));
        check("18446744073709551615", Some(u64::MAX));
        check("1.5", None);
        check("-1", None);
        check("18446744073709551616", None);
        check("1e20", None);
    }

    #[test]
    fn an_overlong_duration_is_too_long_not_malformed() {
        let check = |text: &str, expected: Result<u64, &str>| {
            let secs = Ttl::Text(text.to_owned()).secs().map_err(|e| e.code());
            assert_eq!(secs, expected, "{text:?}");
        };
        check("90s", Ok(90));
        check(" 1h30m ", Ok(5400));
        check("99999999999999999999", Ok(u64::MAX));
        check("99999999999999999999w1s", Ok(u64::MAX));
        check("", Err("invalid_request"));
        check("5x", Err("invalid_request"));
        check("s5", Err("invalid_request"));
        check("5m3", Err("invalid_request"));
        check("1 h", Err("invalid_request"));
    }
}
