//! The bodies of the streaming endpoints (`/v1/stream/manifest`, `/v1/stream/cookies`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema;
use crate::wire::{CookieFields, CookiePair, PolicyTerms};

/// A manifest to sign for a stream's prefix.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamManifestRequest {
    /// The HLS playlist (`#EXTM3U` …) or DASH MPD (`<MPD>` …) text, as the origin serves it. The
    /// whole body is at most `server.body_limit_bytes` (64 KiB by default).
    pub manifest: String,
    /// The URL the manifest is served from (relative URIs in it resolve against it).
    #[schema(schema_with = schema::url)]
    pub manifest_url: String,
    /// The stream's prefix: a URL ending in `/` (a `*` is added) or a pattern with `*`, within the
    /// client's `allow` list; default: the directory of `manifest_url`.
    #[serde(default)]
    #[schema(schema_with = schema::resource_pattern)]
    pub prefix: Option<String>,
    /// When, from where, until when, and the hash.
    #[serde(flatten)]
    pub terms: PolicyTerms,
    /// Write every URI as the absolute URL it resolves to (against `manifest_url`), so the
    /// manifest can be served from the app's own URL (default false: URIs stay as written).
    #[serde(default)]
    pub absolute_uris: bool,
}

/// A URI the rewriter left alone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SkippedUri {
    /// The 1-based line of the manifest.
    pub line: u64,
    /// The URI as written.
    pub uri: String,
    /// Why: `outside_resource`, `other_scheme`, `variable`, `already_signed` or `not_understood`.
    pub reason: String,
}

/// A signed manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignedManifestBody {
    /// The manifest with the signing parameters appended to every URI inside the prefix.
    pub manifest: String,
    /// `hls` or `dash`.
    pub kind: String,
    /// How many URIs were signed.
    pub signed: u64,
    /// The URIs left alone.
    pub skipped: Vec<SkippedUri>,
    /// The custom policy's resource (the prefix pattern).
    pub resource: String,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// The key that signed.
    pub key_pair_id: String,
}

/// `SameSite` of stream cookies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SameSiteName {
    /// Only requests from the same site.
    Strict,
    /// Same-site requests and top-level navigations (default).
    #[default]
    Lax,
    /// Every request, cross-site too (needs `secure`).
    None,
}

/// Signed cookies for a stream's prefix.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamCookiesRequest {
    /// The stream's prefix: a URL ending in `/` (a `*` is added) or a pattern with `*`, within the
    /// client's `allow` list.
    #[schema(schema_with = schema::resource)]
    pub prefix: String,
    /// When, from where, until when, and the hash.
    #[serde(flatten)]
    pub terms: PolicyTerms,
    /// `SameSite` attribute (default `lax`).
    #[serde(default)]
    pub same_site: SameSiteName,
    /// The cookies' other attributes.
    #[serde(flatten)]
    pub cookie: CookieFields,
}

/// Signed cookies for a stream, and the same signature as a query string.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StreamCookiesBody {
    /// The cookies.
    pub cookies: Vec<CookiePair>,
    /// `Set-Cookie` header values, one per cookie.
    pub set_cookie: Vec<String>,
    /// A `Cookie` request header value (native players, ffmpeg's `-headers`).
    pub cookie_header: String,
    /// The same signature as query parameters (`Policy=…&Signature=…&Key-Pair-Id=…`).
    pub query: String,
    /// The custom policy's resource (the prefix pattern).
    pub resource: String,
    /// Expiry, Unix seconds.
    pub expires: u64,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// The key that signed.
    pub key_pair_id: String,
}
