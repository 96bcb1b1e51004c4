//! Private streaming: make every URI of an HLS playlist or a DASH MPD carry the signing
//! parameters of one custom policy for the stream's prefix, so one signature covers the stream.
//!
//! A player resolves each URI in a manifest against the manifest's URL and requests it; a query
//! string on the manifest's own URL is not inherited (RFC 3986), which is why signing only the
//! manifest URL fails on the first segment. [`sign_manifest`] appends `Policy`, `Signature` and
//! `Key-Pair-Id` (of one [`SignedParams`]) to the text of every URI whose resolved URL the
//! policy's resource covers, and changes nothing else: unknown tags, elements, attributes,
//! comments and line endings pass through byte for byte.
//!
//! ```
//! use cfsign::stream::{SignedParams, sign_manifest};
//! use cfsign::{CustomPolicy, KeyKind, PrivateKey, Resource, Signer, UnixTime};
//!
//! let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
//! let policy = CustomPolicy::new(Resource::new("https://d1.example.net/videos/123/*")?, UnixTime::from_secs(1767225600)?);
//! let params = SignedParams::sign(&signer, &policy)?; // one signature for the whole stream
//!
//! let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg-1.ts\n#EXTINF:4,\nhttps://ads.example.com/ad.ts\n";
//! let signed = sign_manifest(playlist.as_bytes(), "https://d1.example.net/videos/123/index.m3u8", &params)?;
//! let text = signed.as_str();
//! assert!(text.contains(&format!("seg-1.ts?{}\n", params.query())));
//! assert!(text.contains("\nhttps://ads.example.com/ad.ts\n")); // outside the policy: left alone
//! assert_eq!(signed.signed(), 1);
//! assert_eq!(signed.skipped()[0].uri(), "https://ads.example.com/ad.ts"); // … and reported
//! # Ok::<(), cfsign::Error>(())
//! ```
//!
//! # DASH and `BaseURL`
//!
//! A query on a `BaseURL` does not reach the segments: RFC 3986 resolution of a relative segment
//! URI replaces the base's query, and dash.js (which resolves with the browser's URL parser),
//! Shaka Player and ExoPlayer all follow it. So the parameters go on the URIs that are finally
//! requested: `SegmentTemplate@media`/`@initialization`/`@index`/`@bitstreamSwitching` (with
//! `$Number$`, `$Time$`, `$RepresentationID$` and `$Bandwidth$` left intact: the parameters
//! contain no `$`), `SegmentURL@media`/`@index`, and `@sourceURL` of `Initialization`,
//! `RepresentationIndex` and `BitstreamSwitching`. A `BaseURL` itself is signed only where it is
//! the media URL: a `Representation` addressed by `SegmentBase` (one file with byte ranges), or a
//! `SegmentList` whose `SegmentURL`s have no `media`. A segment URI is signed only when every
//! `BaseURL` it can resolve against (alternatives for redundancy, every `Representation` an
//! inherited template applies to) lands inside the policy's resource.
//!
//! # What is left alone
//!
//! URIs that resolve outside the policy's resource (another host or prefix), URIs of another
//! scheme (`skd://`, `data:`), URIs with HLS variables (`{$name}`), URIs that already carry
//! signing parameters, and tags whose attribute list does not parse are left exactly as they are
//! and listed in [`Rewritten::skipped`], with the reason: the caller decides.

mod dash;
mod hls;
mod uri;

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use crate::cookie::SignedCookies;
use crate::stream::uri::{Base, Unresolved};
use crate::{CustomPolicy, Error, HashAlgorithm, KeyPairId, Resource, Signer, UnixTime, encoding};

/// The signing parameters of one custom policy, ready to append to every URI of a stream:
/// `Policy=…&Signature=…&Key-Pair-Id=…` (and `&Hash-Algorithm=SHA256` for SHA-256).
///
/// The policy must name a resource (usually the stream's prefix, `https://host/videos/123/*`):
/// it decides which URIs get the parameters, so a signature is never handed to another host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParams {
    resource: Resource,
    expires: UnixTime,
    policy: String,
    signature: String,
    key_pair_id: KeyPairId,
    hash: HashAlgorithm,
    query: String,
}

impl SignedParams {
    /// Signs `policy` once with `signer`.
    pub fn sign(signer: &Signer, policy: &CustomPolicy) -> Result<SignedParams, Error> {
        let resource = stream_resource(policy)?;
        let bytes = policy.to_json();
        let signature = signer.sign_bytes(bytes.as_bytes())?;
        Ok(SignedParams::assemble(
            resource,
            policy,
            &signature,
            signer.key_pair_id(),
            signer.hash_algorithm(),
        ))
    }

    /// The parameters for a signature made elsewhere (a cache keyed by `policy.to_json()`, a
    /// KMS or HSM): `signature` must be over the bytes of `policy.to_json()` with `hash`.
    ///
    /// ```
    /// use cfsign::stream::SignedParams;
    /// use cfsign::{CustomPolicy, HashAlgorithm, KeyKind, PrivateKey, Resource, Signer, UnixTime};
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng())?);
    /// let policy = CustomPolicy::new(Resource::new("https://d1.example.net/v/*")?, UnixTime::from_secs(1767225600)?);
    /// let signature = signer.sign_bytes(policy.to_json().as_bytes())?;
    /// let params = SignedParams::from_signature(&policy, &signature, signer.key_pair_id(), HashAlgorithm::Sha1)?;
    /// assert_eq!(params, SignedParams::sign(&signer, &policy)?);
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn from_signature(
        policy: &CustomPolicy,
        signature: &[u8],
        key_pair_id: &KeyPairId,
        hash: HashAlgorithm,
    ) -> Result<SignedParams, Error> {
        let resource = stream_resource(policy)?;
        Ok(SignedParams::assemble(
            resource,
            policy,
            signature,
            key_pair_id,
            hash,
        ))
    }

    fn assemble(
        resource: Resource,
        policy: &CustomPolicy,
        signature: &[u8],
        key_pair_id: &KeyPairId,
        hash: HashAlgorithm,
    ) -> SignedParams {
        let policy_b64 = encoding::encode(policy.to_json().as_bytes());
        let signature = encoding::encode(signature);
        let mut query = format!(
            "Policy={policy_b64}&Signature={signature}&Key-Pair-Id={}",
            key_pair_id.as_str()
        );
        if hash != HashAlgorithm::Sha1 {
            query.push_str("&Hash-Algorithm=");
            query.push_str(hash.as_str());
        }
        SignedParams {
            resource,
            expires: policy.date_less_than(),
            policy: policy_b64,
            signature,
            key_pair_id: key_pair_id.clone(),
            hash,
            query,
        }
    }

    /// The policy's resource: which URIs get the parameters.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// When the policy expires (`DateLessThan`).
    pub fn expires(&self) -> UnixTime {
        self.expires
    }

    /// The query parameters, in botocore's order: `Policy=…&Signature=…&Key-Pair-Id=…`.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The same signature as signed cookies (`CloudFront-Policy`, `CloudFront-Signature`,
    /// `CloudFront-Key-Pair-Id`): one signature serves a rewritten manifest and cookies alike.
    ///
    /// ```
    /// # use cfsign::stream::SignedParams;
    /// # use cfsign::{CustomPolicy, KeyKind, PrivateKey, Resource, Signer, UnixTime};
    /// # let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
    /// # let policy = CustomPolicy::new(Resource::new("https://d1.example.net/v/*")?, UnixTime::from_secs(1767225600)?);
    /// let params = SignedParams::sign(&signer, &policy)?;
    /// let cookies = params.cookies();
    /// assert!(params.query().contains(cookies.get("CloudFront-Signature").unwrap_or_default()));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn cookies(&self) -> SignedCookies {
        SignedCookies::new(
            ("CloudFront-Policy", self.policy.clone()),
            self.signature.clone(),
            self.key_pair_id.clone(),
            self.hash,
        )
    }
}

fn stream_resource(policy: &CustomPolicy) -> Result<Resource, Error> {
    policy
        .resource()
        .cloned()
        .ok_or_else(|| Error::InvalidPolicy {
            reason: "a stream's policy needs a Resource (the stream's prefix, e.g. \
                 https://d111111abcdef8.cloudfront.net/videos/123/*): it decides which URIs of the \
                 manifest get the signature, and a policy without one grants every object"
                .to_owned(),
        })
}

/// The two manifest formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ManifestKind {
    /// An HLS playlist (`.m3u8`, RFC 8216), master or media.
    Hls,
    /// A DASH Media Presentation Description (`.mpd`, ISO/IEC 23009-1).
    Dash,
}

impl ManifestKind {
    /// Recognises a manifest by its first bytes: `#EXTM3U` (HLS) or an XML document (DASH; the
    /// root element is checked when it is parsed). `None` for anything else.
    ///
    /// ```
    /// use cfsign::stream::ManifestKind;
    /// assert_eq!(ManifestKind::detect(b"#EXTM3U\n"), Some(ManifestKind::Hls));
    /// assert_eq!(ManifestKind::detect(b"<?xml version=\"1.0\"?><MPD/>"), Some(ManifestKind::Dash));
    /// assert_eq!(ManifestKind::detect(b"{\"json\":1}"), None);
    /// ```
    pub fn detect(manifest: &[u8]) -> Option<ManifestKind> {
        let body = manifest.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(manifest);
        if body.starts_with(b"#EXTM3U") {
            return Some(ManifestKind::Hls);
        }
        let trimmed = body.trim_ascii_start();
        trimmed.starts_with(b"<").then_some(ManifestKind::Dash)
    }

    /// `HLS` or `DASH`.
    pub fn as_str(self) -> &'static str {
        match self {
            ManifestKind::Hls => "HLS",
            ManifestKind::Dash => "DASH",
        }
    }
}

impl fmt::Display for ManifestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a URI was left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// It resolves outside the policy's resource (another host or prefix).
    OutsideResource,
    /// It is not an `http`/`https` URI (`skd://` key IDs, `data:`): not fetched from CloudFront.
    OtherScheme,
    /// It uses an HLS variable (`{$name}`), so the URL players request is unknown here.
    Variable,
    /// It already carries signing parameters (`Policy`, `Signature`, `Key-Pair-Id`, …).
    AlreadySigned,
    /// The tag's attribute list (or the element's text) is not in a form the rewriter reads.
    NotUnderstood,
}

impl SkipReason {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::OutsideResource => "it resolves outside the policy's resource",
            SkipReason::OtherScheme => "it is not an http or https URI",
            SkipReason::Variable => {
                "it uses an HLS variable ({$name}), resolved only by the player"
            }
            SkipReason::AlreadySigned => "it already carries CloudFront signing parameters",
            SkipReason::NotUnderstood => "its tag or element is not in a form the rewriter reads",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A URI that [`sign_manifest`] left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    line: usize,
    uri: String,
    resolved: Vec<String>,
    reason: SkipReason,
}

impl Skipped {
    /// The 1-based line of the manifest it is on.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The URI as written (XML entities decoded).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The URLs players would request for it (empty when it does not resolve).
    pub fn resolved(&self) -> &[String] {
        &self.resolved
    }

    /// Why it was left alone.
    pub fn reason(&self) -> SkipReason {
        self.reason
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: `{}`: {}", self.line, self.uri, self.reason)
    }
}

/// A URI reference a player reads from a manifest, and the URLs it resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestUri {
    line: usize,
    uri: String,
    resolved: Result<Vec<String>, SkipReason>,
}

impl ManifestUri {
    /// The 1-based line of the manifest it is on.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The URI as written (XML entities decoded; DASH template identifiers such as `$Number$`
    /// left as they are).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The absolute URLs players request for it, one per `BaseURL` it can resolve against (one
    /// for HLS), sorted; or why it does not resolve to an `http`/`https` URL.
    pub fn resolved(&self) -> Result<&[String], SkipReason> {
        self.resolved.as_deref().map_err(|r| *r)
    }
}

/// A manifest after [`sign_manifest`]: its text, and what was and was not signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    text: String,
    kind: ManifestKind,
    signed: usize,
    skipped: Vec<Skipped>,
}

impl Rewritten {
    /// The rewritten manifest.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The rewritten manifest, owned.
    pub fn into_string(self) -> String {
        self.text
    }

    /// HLS or DASH.
    pub fn kind(&self) -> ManifestKind {
        self.kind
    }

    /// How many URIs got the signing parameters.
    pub fn signed(&self) -> usize {
        self.signed
    }

    /// The URIs left alone, in document order.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }
}

/// One URI reference found by a format's scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    /// The bytes of the reference in the manifest (as written, XML-escaped for DASH).
    pub(crate) span: Range<usize>,
    /// The reference, unescaped.
    pub(crate) text: String,
    /// What players request for it: one URL per base it resolves against.
    pub(crate) targets: Result<Vec<Base>, SkipReason>,
}

impl Site {
    /// A site whose targets are `text` resolved against each of `bases`.
    pub(crate) fn resolved(span: Range<usize>, text: String, bases: &[Base]) -> Site {
        let targets = resolve_all(bases, &text);
        Site {
            span,
            text,
            targets,
        }
    }
}

/// `reference` resolved against each base.
pub(crate) fn resolve_all(bases: &[Base], reference: &str) -> Result<Vec<Base>, SkipReason> {
    bases
        .iter()
        .map(|base| base.resolve(reference).map_err(skip_reason))
        .collect()
}

fn skip_reason(unresolved: Unresolved) -> SkipReason {
    match unresolved {
        Unresolved::OtherScheme => SkipReason::OtherScheme,
        Unresolved::Variable => SkipReason::Variable,
    }
}

/// The URI sites of a manifest, in document order, and how `&` is written in it.
struct Scan {
    kind: ManifestKind,
    text: String,
    sites: Vec<Site>,
    amp: &'static str,
}

fn scan(manifest: &[u8], manifest_url: &str) -> Result<Scan, Error> {
    let base = Base::parse(manifest_url, "the manifest URL")?;
    let Some(kind) = ManifestKind::detect(manifest) else {
        return Err(Error::InvalidManifest {
            reason: format!(
                "it is neither an HLS playlist (the first line must be #EXTM3U) nor a DASH MPD (an XML \
                 document with an <MPD> root); it starts with `{}`",
                preview(manifest)
            ),
        });
    };
    let text = std::str::from_utf8(manifest).map_err(|e| Error::InvalidManifest {
        reason: format!(
            "the {kind} manifest is not UTF-8 (invalid byte at offset {}); HLS playlists and DASH MPDs \
             are UTF-8 text",
            e.valid_up_to()
        ),
    })?;
    let (sites, amp) = match kind {
        ManifestKind::Hls => (hls::scan(text, &base)?, "&"),
        ManifestKind::Dash => (dash::scan(text, &base)?, "&amp;"),
    };
    Ok(Scan {
        kind,
        text: text.to_owned(),
        sites,
        amp,
    })
}

/// The start of `bytes` for an error message: printable ASCII, at most 40 characters.
fn preview(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(40)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// 1-based line numbers of byte offsets.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// How [`sign_manifest_with`] writes URIs.
///
/// ```
/// use cfsign::stream::Options;
/// assert!(!Options::new().absolute_uris());
/// assert!(Options::new().with_absolute_uris().absolute_uris());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    absolute_uris: bool,
}

impl Options {
    /// The default: URIs stay as written (relative stays relative).
    pub fn new() -> Options {
        Options::default()
    }

    /// Writes every URI that resolves as the absolute URL it resolves to, signed or not, so the
    /// manifest can be served from another place (an app's own URL) and still point at the same
    /// objects. A DASH URI that resolves to several URLs (several `BaseURL` alternatives, or an
    /// inherited template under Representations with different `BaseURL`s) cannot be written as
    /// one URL: it is left as written and reported as [`SkipReason::NotUnderstood`].
    pub fn with_absolute_uris(mut self) -> Options {
        self.absolute_uris = true;
        self
    }

    /// Whether URIs are written absolute.
    pub fn absolute_uris(&self) -> bool {
        self.absolute_uris
    }
}

/// Appends the signing parameters of `params` to every URI of `manifest` (HLS or DASH, told
/// apart by [`ManifestKind::detect`]) that resolves, against `manifest_url`, inside the
/// policy's resource. See the [module documentation](self) for the rules.
///
/// `manifest_url` is the URL the manifest is served from, without signing parameters: relative
/// URIs resolve against it, as the player resolves them. Serve the rewritten manifest from that
/// same URL's directory, or relative URIs will point elsewhere (or use [`sign_manifest_with`]
/// and [`Options::with_absolute_uris`]).
///
/// Errors: [`Error::InvalidManifest`] for input that is not a playlist or an MPD (or not UTF-8,
/// or not well-formed XML), [`Error::InvalidUrl`] for a manifest URL that is not absolute
/// `http`/`https`.
pub fn sign_manifest(
    manifest: &[u8],
    manifest_url: &str,
    params: &SignedParams,
) -> Result<Rewritten, Error> {
    sign_manifest_with(manifest, manifest_url, params, &Options::new())
}

/// [`sign_manifest`] with [`Options`].
///
/// ```
/// use cfsign::stream::{Options, SignedParams, sign_manifest_with};
/// # use cfsign::{CustomPolicy, KeyKind, PrivateKey, Resource, Signer, UnixTime};
/// # let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, PrivateKey::generate(KeyKind::P256, &mut rand::rng())?);
/// # let policy = CustomPolicy::new(Resource::new("https://d1.example.net/v/1/*")?, UnixTime::from_secs(1767225600)?);
/// let params = SignedParams::sign(&signer, &policy)?;
/// let absolute = Options::new().with_absolute_uris();
/// let out = sign_manifest_with(b"#EXTM3U\nhd/a.ts\n../2/b.ts\n", "https://d1.example.net/v/1/index.m3u8", &params, &absolute)?;
/// assert_eq!(
///     out.as_str(),
///     format!("#EXTM3U\nhttps://d1.example.net/v/1/hd/a.ts?{}\nhttps://d1.example.net/v/2/b.ts\n", params.query())
/// );
/// # Ok::<(), cfsign::Error>(())
/// ```
pub fn sign_manifest_with(
    manifest: &[u8],
    manifest_url: &str,
    params: &SignedParams,
    options: &Options,
) -> Result<Rewritten, Error> {
    let Scan {
        kind,
        text,
        mut sites,
        amp,
    } = scan(manifest, manifest_url)?;
    sites.sort_by_key(|s| s.span.start);
    let query = params.query().replace('&', amp);
    let scope = Scope::new(&params.resource);
    let lines = Lines::new(&text);
    let mut out = String::with_capacity(text.len() + sites.len() * (query.len() + 1));
    let mut at = 0;
    let mut signed = 0;
    let mut skipped = Vec::new();
    for site in sites {
        let mut decision = match &site.targets {
            Err(reason) => Err(*reason),
            Ok(targets) if targets.iter().any(Base::has_signing_params) => {
                Err(SkipReason::AlreadySigned)
            }
            Ok(targets) if targets.is_empty() || !targets.iter().all(|t| scope.covers(t)) => {
                Err(SkipReason::OutsideResource)
            }
            Ok(_) => Ok(()),
        };
        // Spans never overlap (each is one attribute value or one line); a bug must not
        // duplicate text, so an overlapping site is left alone.
        let in_order = site.span.start >= at && site.span.end <= text.len();
        if !in_order {
            decision = Err(SkipReason::NotUnderstood);
        }
        // The URI as it will be written, before the parameters: as written, or absolute.
        let written = match (&site.targets, options.absolute_uris) {
            (Ok(targets), true) if in_order => match sorted_urls(targets).as_slice() {
                [one] => Some(escape_for(kind, one)),
                _ => {
                    decision = Err(SkipReason::NotUnderstood);
                    None
                }
            },
            _ => None,
        };
        if let Some(written) = &written
            && decision.is_err()
        {
            // Not signed, but still pointing at the same object from anywhere.
            out.push_str(&text[at..site.span.start]);
            out.push_str(written);
            at = site.span.end;
        }
        match decision {
            Ok(()) => {
                let reference = written.as_deref().unwrap_or(&text[site.span.clone()]);
                out.push_str(&text[at..site.span.start]);
                out.push_str(&uri::append_query(reference, &query, amp));
                at = site.span.end;
                signed += 1;
            }
            Err(reason) => skipped.push(skipped_entry(&site, &lines, reason)),
        }
    }
    out.push_str(&text[at..]);
    Ok(Rewritten {
        text: out,
        kind,
        signed,
        skipped,
    })
}

/// `url` as the manifest writes it: XML-escaped in an MPD.
fn escape_for(kind: ManifestKind, url: &str) -> String {
    match kind {
        ManifestKind::Hls => url.to_owned(),
        ManifestKind::Dash => quick_xml::escape::escape(url).into_owned(),
    }
}

/// The policy's resource as a matcher, with a fast path for the usual stream pattern.
struct Scope<'a> {
    resource: &'a Resource,
    /// For a pattern `scheme://host/path/*` without other wildcards: everything before the `*`.
    /// A URL that starts with it matches (the trailing `*` in the path covers any rest and any
    /// query string); any other URL goes through [`Resource::matches`].
    literal_prefix: Option<&'a str>,
}

impl<'a> Scope<'a> {
    fn new(resource: &'a Resource) -> Scope<'a> {
        let pattern = resource.as_str();
        let literal_prefix = pattern.strip_suffix('*').filter(|prefix| {
            let path_start = prefix
                .find("://")
                .and_then(|i| prefix[i + 3..].find('/').map(|j| i + 3 + j));
            path_start.is_some() && !prefix.contains(['*', '?', '\\'])
        });
        Scope {
            resource,
            literal_prefix,
        }
    }

    fn covers(&self, target: &Base) -> bool {
        let url = target.as_url();
        self.literal_prefix
            .is_some_and(|prefix| url.starts_with(prefix))
            || self.resource.matches(&url)
    }
}

fn skipped_entry(site: &Site, lines: &Lines, reason: SkipReason) -> Skipped {
    Skipped {
        line: lines.of(site.span.start),
        uri: site.text.clone(),
        resolved: site
            .targets
            .as_ref()
            .map(|t| sorted_urls(t))
            .unwrap_or_default(),
        reason,
    }
}

fn sorted_urls(targets: &[Base]) -> Vec<String> {
    targets
        .iter()
        .map(Base::as_url)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Every URI reference players read from `manifest`, resolved against `manifest_url`, in
/// document order: what [`sign_manifest`] considers. (DASH `BaseURL`s that only serve as bases
/// are not listed; a `BaseURL` that is itself the media URL is.)
///
/// ```
/// use cfsign::stream::manifest_uris;
/// let uris = manifest_uris(b"#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4,\n../b/1.m4s\n", "https://h/v/a/index.m3u8")?;
/// assert_eq!(uris[0].resolved(), Ok(&["https://h/v/a/init.mp4".to_owned()][..]));
/// assert_eq!(uris[1].resolved(), Ok(&["https://h/v/b/1.m4s".to_owned()][..]));
/// assert_eq!(uris[1].line(), 4);
/// # Ok::<(), cfsign::Error>(())
/// ```
pub fn manifest_uris(manifest: &[u8], manifest_url: &str) -> Result<Vec<ManifestUri>, Error> {
    let Scan {
        text, mut sites, ..
    } = scan(manifest, manifest_url)?;
    sites.sort_by_key(|s| s.span.start);
    let lines = Lines::new(&text);
    Ok(sites
        .into_iter()
        .map(|site| ManifestUri {
            line: lines.of(site.span.start),
            resolved: site
                .targets
                .as_ref()
                .map(|t| sorted_urls(t))
                .map_err(|r| *r),
            uri: site.text,
        })
        .collect())
}

#[cfg(test)]
mod tests;
