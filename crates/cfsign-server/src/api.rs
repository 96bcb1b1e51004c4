//! The HTTP API: request and response types (with their OpenAPI schemas) and the handlers.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cfsign::{
    CookieAttributes, CustomPolicy, Decision, HashAlgorithm, Resource, SourceIp, UnixTime,
    UnsignedCookies, UnsignedUrl,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::sign;
use crate::state::{AppState, Client, Runtime};

// ---------------------------------------------------------------------------------------------
// Types.

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
    fn secs(&self) -> Result<u64, ApiError> {
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
    fn parse(&self, field: &str) -> Result<UnixTime, ApiError> {
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
    fn algorithm(self) -> HashAlgorithm {
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

// ---------------------------------------------------------------------------------------------
// Router and OpenAPI document.

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cfsign-server",
        description = "Signs Amazon CloudFront URLs and cookies for authenticated clients, within each client's scope."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route, registered together with its OpenAPI description so the two cannot drift.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sign_urls))
        .routes(routes!(cookies))
        .routes(routes!(redirect))
        .routes(routes!(verify))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

/// The OpenAPI 3 document describing every endpoint.
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}

static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot render the OpenAPI document: {e}\"}}"))
});

// ---------------------------------------------------------------------------------------------
// Helpers.

fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "body_too_large",
                "the request body is larger than this server accepts (server.body_limit_bytes)",
            )
        } else {
            ApiError::new(status, "invalid_body", rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid here: {e}"))
    })
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn source_ip(text: &str) -> Result<SourceIp, ApiError> {
    text.parse()
        .map_err(|e| ApiError::bad_request("invalid_request", format!("`source_ip`: {e}")))
}

fn hash_name(hash: HashAlgorithm) -> HashName {
    if hash == HashAlgorithm::Sha256 {
        HashName::Sha256
    } else {
        HashName::Sha1
    }
}

/// The policy of one URL request, checked against the client's scope and permissions.
struct PreparedUrl {
    url: String,
    kind: PolicyKind,
    hash: HashAlgorithm,
    expires: UnixTime,
    /// Canned: `None`; custom: the policy.
    custom: Option<CustomPolicy>,
    unsigned: UnsignedUrl,
}

fn prepare_url(
    request: SignRequest,
    client: &Client,
    runtime: &Runtime,
    now: u64,
) -> Result<PreparedUrl, ApiError> {
    let limits = &runtime.limits;
    let fields = request.fields;
    client.scope.check_url(&request.url, limits.max_url_bytes)?;
    let wants_custom =
        fields.resource.is_some() || fields.starts_at.is_some() || fields.source_ip.is_some();
    let kind = match fields.policy {
        Some(PolicyKind::Canned) if wants_custom => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "`resource`, `starts_at` and `source_ip` need a custom policy; drop `\"policy\": \"canned\"`",
            ));
        }
        Some(kind) => kind,
        None if wants_custom => PolicyKind::Custom,
        None => PolicyKind::Canned,
    };
    let ttl = fields.ttl.as_ref().map(Ttl::secs).transpose()?;
    let expires_at = fields
        .expires
        .as_ref()
        .map(|t| t.parse("expires"))
        .transpose()?;
    let expires = sign::expiry(now, ttl, expires_at, client, limits)?;
    let hash = fields.hash_algorithm.algorithm();
    match kind {
        PolicyKind::Canned => {
            let unsigned = UnsignedUrl::canned(&request.url, expires).map_err(invalid_url)?;
            Ok(PreparedUrl {
                url: request.url,
                kind,
                hash,
                expires,
                custom: None,
                unsigned,
            })
        }
        PolicyKind::Custom => {
            let policy = custom_policy(
                client,
                runtime,
                fields.resource.as_deref(),
                &request.url,
                fields.starts_at.as_ref(),
                fields.source_ip.as_deref(),
                expires,
            )?;
            let unsigned = UnsignedUrl::custom(&request.url, &policy).map_err(invalid_url)?;
            Ok(PreparedUrl {
                url: request.url,
                kind,
                hash,
                expires,
                custom: Some(policy),
                unsigned,
            })
        }
    }
}

/// A URL the core refuses to sign (the scope check has already passed, so this names the URL's own fault).
fn invalid_url(e: cfsign::Error) -> ApiError {
    ApiError::bad_request("invalid_url", e.to_string())
}

/// Builds a custom policy after checking the permission and the resource pattern's scope.
fn custom_policy(
    client: &Client,
    runtime: &Runtime,
    pattern: Option<&str>,
    url: &str,
    starts_at: Option<&Time>,
    source_ip_text: Option<&str>,
    expires: UnixTime,
) -> Result<CustomPolicy, ApiError> {
    if !client.custom_policy {
        return Err(ApiError::forbidden(
            "custom_policy_not_allowed",
            format!(
                "client `{}` may not ask for custom policies (custom_policy = false)",
                client.name
            ),
        ));
    }
    let resource = match pattern {
        Some(pattern) => {
            client
                .scope
                .check_pattern(pattern, runtime.limits.max_url_bytes)?;
            let resource = Resource::new(pattern)
                .map_err(|e| ApiError::bad_request("invalid_resource", e.to_string()))?;
            if !url.is_empty() && !resource.matches(url) {
                return Err(ApiError::bad_request(
                    "resource_mismatch",
                    format!("the resource pattern `{pattern}` does not cover `{url}`"),
                ));
            }
            resource
        }
        None => Resource::exact(url)
            .map_err(|e| ApiError::bad_request("invalid_resource", e.to_string()))?,
    };
    let mut policy = CustomPolicy::new(resource, expires);
    if let Some(starts) = starts_at {
        policy = policy
            .with_starts_at(starts.parse("starts_at")?)
            .map_err(|e| ApiError::bad_request("invalid_request", format!("`starts_at`: {e}")))?;
    }
    if let Some(ip) = source_ip_text {
        policy = policy.with_source_ip(source_ip(ip)?);
    }
    Ok(policy)
}

fn audit(client: &Client, what: &str, resource: &str, expires: UnixTime, key_id: &str) {
    tracing::info!(
        target: "cfsign_server::audit",
        client = %client.name,
        kind = what,
        resource = %resource,
        expires = expires.as_secs(),
        key_pair_id = %key_id,
        "signature issued"
    );
}

async fn sign_prepared(
    state: &AppState,
    runtime: &Runtime,
    client: &Client,
    prepared: Vec<PreparedUrl>,
) -> Result<Vec<SignedUrl>, ApiError> {
    let key = &runtime.active;
    let policies = prepared
        .iter()
        .map(|p| (p.hash, p.unsigned.policy_bytes().to_vec()))
        .collect();
    let signatures = sign::signatures(state, key, policies).await?;
    let mut out = Vec::with_capacity(prepared.len());
    for (p, signature) in prepared.iter().zip(signatures) {
        let signed_url = p
            .unsigned
            .finish(&signature, &key.id, p.hash)
            .map_err(|e| ApiError::bad_request("signed_url_too_long", e.to_string()))?;
        out.push(SignedUrl {
            signed_url,
            expires: p.expires.as_secs(),
            expires_at: p.expires.to_rfc3339(),
            key_pair_id: key.id.to_string(),
            policy: p.kind,
            hash_algorithm: hash_name(p.hash),
        });
    }
    for p in &prepared {
        let resource = p
            .custom
            .as_ref()
            .and_then(|c| c.resource().map(|r| r.as_str().to_owned()))
            .unwrap_or_else(|| p.url.clone());
        audit(client, "url", &resource, p.expires, key.id.as_str());
    }
    state.shared.metrics.signatures_issued(out.len() as u64);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// Sign one URL or a batch.
#[utoipa::path(
    post,
    path = "/v1/sign",
    tag = "signing",
    request_body = SignBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed URL, or for a batch the signed URLs in order", body = SignResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token", body = ErrorBody),
        (status = 403, description = "Outside the client's scope or permissions; nothing is signed", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    )
)]
async fn sign_urls(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let runtime = state.runtime();
    let client = state.client(&runtime, authorization(&headers))?;
    let value: serde_json::Value = parse_body(body)?;
    let batch = value.get("requests").is_some();
    let requests: Vec<SignRequest> = if batch {
        let batch: SignBatch = serde_json::from_value(value).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the batch is not valid: {e}"))
        })?;
        batch.requests
    } else {
        vec![serde_json::from_value(value).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the request is not valid: {e}"))
        })?]
    };
    if requests.is_empty() || requests.len() > runtime.limits.max_batch {
        return Err(ApiError::bad_request(
            "invalid_batch",
            format!(
                "a batch holds 1 to {} requests; this one has {}",
                runtime.limits.max_batch,
                requests.len()
            ),
        ));
    }
    let now = state.now();
    let prepared = requests
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            prepare_url(r, client, &runtime, now).map_err(|e| {
                if batch {
                    ApiError::new(
                        e.status(),
                        e.code(),
                        format!("request {index}: {}", e.message()),
                    )
                } else {
                    e
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = sign_prepared(&state, &runtime, client, prepared).await?;
    let body = if batch {
        SignResponse::Batch(SignedBatch { results })
    } else {
        SignResponse::One(
            results
                .pop()
                .ok_or_else(|| ApiError::internal("no result"))?,
        )
    };
    Ok(no_store(Json(body).into_response()))
}

/// Signed cookies (values and `Set-Cookie` header values) for a URL or resource pattern.
#[utoipa::path(
    post,
    path = "/v1/cookies",
    tag = "signing",
    request_body = CookiesRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Signed cookies", body = SignedCookiesBody),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token", body = ErrorBody),
        (status = 403, description = "Outside the client's scope, or cookies not allowed", body = ErrorBody),
    )
)]
async fn cookies(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let runtime = state.runtime();
    let client = state.client(&runtime, authorization(&headers))?;
    let request: CookiesRequest = parse_body(body)?;
    if !client.cookies {
        return Err(ApiError::forbidden(
            "cookies_not_allowed",
            format!(
                "client `{}` may not ask for signed cookies (cookies = false)",
                client.name
            ),
        ));
    }
    let limits = &runtime.limits;
    // As the aws CLI and the JS signer decide: a `*` makes a custom policy; a `?` is the query
    // string of an exact URL, which gets a canned policy.
    let has_wildcard = request.resource.contains('*');
    let wants_custom = has_wildcard || request.starts_at.is_some() || request.source_ip.is_some();
    let kind = match request.policy {
        Some(PolicyKind::Canned) if wants_custom => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "wildcards, `starts_at` and `source_ip` need a custom policy",
            ));
        }
        Some(kind) => kind,
        None if wants_custom => PolicyKind::Custom,
        None => PolicyKind::Canned,
    };
    let mut attrs = CookieAttributes::new()
        .with_secure(request.secure.unwrap_or(true))
        .with_http_only(request.http_only.unwrap_or(true));
    if let Some(domain) = &request.domain {
        attrs = attrs
            .with_domain(domain)
            .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    }
    if let Some(path) = &request.path {
        attrs = attrs
            .with_path(path)
            .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    }
    let now = state.now();
    let ttl = request.ttl.as_ref().map(Ttl::secs).transpose()?;
    let expires_at = request
        .expires
        .as_ref()
        .map(|t| t.parse("expires"))
        .transpose()?;
    let hash = request.hash_algorithm.algorithm();
    let (unsigned, expires) = match kind {
        PolicyKind::Canned => {
            client
                .scope
                .check_url(&request.resource, limits.max_url_bytes)?;
            let expires = sign::expiry(now, ttl, expires_at, client, limits)?;
            let unsigned =
                UnsignedCookies::canned(&request.resource, expires).map_err(invalid_url)?;
            (unsigned, expires)
        }
        PolicyKind::Custom => {
            // The scope check of the pattern happens before the expiry check so an escape
            // attempt is reported as such.
            client
                .scope
                .check_pattern(&request.resource, limits.max_url_bytes)?;
            let expires = sign::expiry(now, ttl, expires_at, client, limits)?;
            let policy = custom_policy(
                client,
                &runtime,
                Some(&request.resource),
                "",
                request.starts_at.as_ref(),
                request.source_ip.as_deref(),
                expires,
            )?;
            (UnsignedCookies::custom(&policy), expires)
        }
    };
    let key = &runtime.active;
    let signature = sign::signatures(&state, key, vec![(hash, unsigned.policy_bytes().to_vec())])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no signature"))?;
    let cookies = unsigned.finish(&signature, &key.id, hash);
    let pairs = cookies.pairs();
    let set_cookie = cookies.set_cookie_headers(&attrs);
    audit(
        client,
        "cookies",
        &request.resource,
        expires,
        key.id.as_str(),
    );
    state.shared.metrics.signatures_issued(1);
    let body = SignedCookiesBody {
        cookie_header: cookies.cookie_header(),
        cookies: pairs
            .iter()
            .map(|(n, v)| CookiePair {
                name: (*n).to_owned(),
                value: v.clone(),
            })
            .collect(),
        set_cookie: set_cookie.clone(),
        expires: expires.as_secs(),
        expires_at: expires.to_rfc3339(),
        key_pair_id: key.id.to_string(),
        policy: kind,
    };
    let mut response = Json(body).into_response();
    if request.set_cookies {
        for value in set_cookie {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| ApiError::internal("a Set-Cookie value is not a valid header"))?;
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(no_store(response))
}

/// Redirect (302) to a signed URL with a canned policy, for `<img src>` and `<video src>`.
#[utoipa::path(
    get,
    path = "/v1/redirect",
    tag = "signing",
    params(RedirectParams),
    security(("bearer" = [])),
    responses(
        (status = 302, description = "Redirect to the signed URL (in `Location`)"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token", body = ErrorBody),
        (status = 403, description = "Outside the client's scope", body = ErrorBody),
    )
)]
async fn redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RedirectParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let runtime = state.runtime();
    let client = state.client(&runtime, authorization(&headers))?;
    let Query(params) = query.map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!("{}; use ?url=<URL-encoded URL>[&ttl=300]", e.body_text()),
        )
    })?;
    let request = SignRequest {
        url: params.url,
        fields: PolicyFields {
            policy: Some(PolicyKind::Canned),
            ttl: params.ttl.map(Ttl::Text),
            hash_algorithm: params.hash_algorithm.unwrap_or_default(),
            ..PolicyFields::default()
        },
    };
    let prepared = prepare_url(request, client, &runtime, state.now())?;
    let signed = sign_prepared(&state, &runtime, client, vec![prepared])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("no result"))?;
    let location = HeaderValue::from_str(&signed.signed_url)
        .map_err(|_| ApiError::internal("the signed URL is not a valid header value"))?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(no_store(response))
}

/// Whether CloudFront would serve a signed URL (or cookies), and why not.
#[utoipa::path(
    post,
    path = "/v1/verify",
    tag = "verifying",
    request_body = VerifyRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The decision (also when CloudFront would deny)", body = VerifyResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Missing or unknown bearer token", body = ErrorBody),
    )
)]
async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let runtime = state.runtime();
    state.client(&runtime, authorization(&headers))?;
    let request: VerifyRequest = parse_body(body)?;
    if request.url.len() > cfsign::MAX_URL_BYTES * 2 {
        return Err(ApiError::bad_request(
            "url_too_long",
            "the URL is far longer than CloudFront accepts",
        ));
    }
    let now = match &request.now {
        Some(t) => t.parse("now")?,
        None => UnixTime::from_secs(state.now())
            .map_err(|e| ApiError::internal(format!("clock: {e}")))?,
    };
    let client_ip: Option<IpAddr> = request
        .client_ip
        .as_deref()
        .map(|ip| {
            ip.trim().parse().map_err(|_| {
                ApiError::bad_request(
                    "invalid_request",
                    format!("`client_ip` `{ip}` is not an IP address"),
                )
            })
        })
        .transpose()?;
    let runtime_for_task = Arc::clone(&runtime);
    let strict = request.strict;
    let decision = tokio::task::spawn_blocking(move || {
        let mut req = cfsign::Request::new(&request.url, now);
        if let Some(cookie) = &request.cookie {
            req = req.with_cookie_header(cookie);
        }
        if let Some(ip) = client_ip {
            req = req.with_client_ip(ip);
        }
        let decision = cfsign::verify(&req, &runtime_for_task.trusted);
        if strict { decision.strict() } else { decision }
    })
    .await
    .map_err(|e| ApiError::internal(format!("the verify task failed: {e}")))?;
    let undocumented = decision
        .undocumented()
        .iter()
        .map(|b| UndocumentedNote {
            kind: b.kind().to_owned(),
            explanation: b.to_string(),
        })
        .collect();
    let body = match decision {
        Decision::Granted(grant) => VerifyResponse {
            granted: true,
            status: 200,
            code: None,
            reason: None,
            explanation: format!(
                "granted: signed by {} ({}, {} policy), valid until {}",
                grant.key_pair_id(),
                grant.source(),
                if grant.is_custom_policy() {
                    "custom"
                } else {
                    "canned"
                },
                grant.expires()
            ),
            notes: grant.notes().to_vec(),
            undocumented,
            key_pair_id: Some(grant.key_pair_id().to_owned()),
            expires: Some(grant.expires().as_secs()),
        },
        Decision::Denied(denial) => VerifyResponse {
            granted: false,
            status: 403,
            code: Some(denial.code().as_str().to_owned()),
            reason: Some(denial.reason().kind().to_owned()),
            explanation: denial.reason().to_string(),
            notes: denial.notes().to_vec(),
            undocumented,
            key_pair_id: None,
            expires: None,
        },
    };
    Ok(Json(body))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".to_owned(),
        active_key: None,
    })
}

/// Readiness: a key is loaded and the server is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Shutting down", body = Status),
    ))]
async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        Json(Status {
            status: "ready".to_owned(),
            active_key: Some(state.active_key_id()),
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "shutting_down".to_owned(),
                active_key: None,
            }),
        )
            .into_response()
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.shared.metrics.render(&state.shared.signing),
    )
        .into_response()
}

/// This API's OpenAPI 3 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON.as_str(),
    )
        .into_response()
}
