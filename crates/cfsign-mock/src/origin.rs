//! Origins: where the edge reads objects from — a directory, the built-in sample for the demo,
//! an S3 bucket behind the configured S3-compatible endpoint, or a custom origin over HTTP — and
//! which of them serves a distribution's origin.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::model::{SigningBehavior, Store};
use crate::origin_domain::{OriginDomain, S3Bucket};
use crate::upstream::{HttpTarget, S3Endpoint, Timeouts};
use crate::xml::Element;

/// The origin domain name the demo distribution uses; it is served from built-in sample files.
pub(crate) const DEMO_ORIGIN_DOMAIN: &str = "sample-origin.cfsign-mock.invalid";

/// The built-in sample origin: path → (content type, body).
const SAMPLE: &[(&str, &str)] = &[
    (
        "/index.html",
        "<!doctype html>\n<title>cfsign-mock demo</title>\n<h1>cfsign-mock demo</h1>\n<p>Public: <a href=\"/public/hello.txt\">/public/hello.txt</a>. Private (needs a signed URL or cookies): <a href=\"/private/secret.txt\">/private/secret.txt</a>.</p>\n",
    ),
    (
        "/public/hello.txt",
        "Hello from a public path of the cfsign-mock demo.\n",
    ),
    (
        "/private/secret.txt",
        "This object is only served with a valid signed URL or signed cookies.\n",
    ),
    (
        "/private/data.json",
        "{\"secret\":true,\"served_by\":\"cfsign-mock\"}\n",
    ),
];

/// Where a cache behaviour's origin reads from.
#[derive(Debug, Clone)]
pub(crate) enum OriginSource {
    /// A directory or the built-in sample, read by the mock itself.
    Local(LocalSource),
    /// An S3 bucket, read path-style from the configured S3-compatible endpoint.
    S3(S3Source),
    /// A custom origin, proxied over HTTP.
    Http(HttpSource),
    /// Nothing the mock can read; the message says what to configure.
    Unavailable(&'static str),
}

/// An origin the mock reads itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LocalSource {
    /// Files under a directory.
    Dir(PathBuf),
    /// The built-in sample files.
    Sample,
}

/// An S3 origin as the edge reads it.
#[derive(Debug, Clone)]
pub(crate) struct S3Source {
    /// The S3-compatible endpoint and the signing credentials.
    pub(crate) endpoint: Arc<S3Endpoint>,
    /// The bucket and region from the origin's domain name.
    pub(crate) bucket: S3Bucket,
    /// The origin access control's signing behaviour (`Never` without one).
    pub(crate) signing: SigningBehavior,
    /// The origin's timeouts.
    pub(crate) timeouts: Timeouts,
}

/// A custom origin as the edge reads it.
#[derive(Debug, Clone)]
pub(crate) struct HttpSource {
    /// The origin's `DomainName` and `HTTPPort`.
    pub(crate) target: HttpTarget,
    /// The origin's timeouts.
    pub(crate) timeouts: Timeouts,
}

/// The configured origins: directories, and the S3 endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Origins {
    default: Option<PathBuf>,
    by_domain: BTreeMap<String, PathBuf>,
    s3: Option<Arc<S3Endpoint>>,
}

/// What reading an object gave.
pub(crate) enum Fetched {
    /// The object's bytes.
    Found(Vec<u8>),
    /// No such object.
    NotFound,
}

impl Origins {
    pub(crate) fn new(
        default: Option<PathBuf>,
        by_domain: BTreeMap<String, PathBuf>,
        s3: Option<S3Endpoint>,
    ) -> Origins {
        Origins {
            default,
            by_domain,
            s3: s3.map(Arc::new),
        }
    }

    /// The source for a distribution's `<Origin>`, first that applies: the directory mapped to
    /// its `DomainName`; the built-in sample for the demo origin; for an S3 bucket domain, the
    /// S3 endpoint (when one is configured); for a custom origin whose `OriginProtocolPolicy` is
    /// `http-only` or `match-viewer`, the origin itself over HTTP; the default directory.
    pub(crate) fn resolve(&self, origin: &Element, store: &Store) -> OriginSource {
        let domain = origin
            .child_text("DomainName")
            .unwrap_or_default()
            .trim()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if let Some(dir) = self.by_domain.get(&domain) {
            return OriginSource::Local(LocalSource::Dir(dir.clone()));
        }
        if domain == DEMO_ORIGIN_DOMAIN {
            return OriginSource::Local(LocalSource::Sample);
        }
        let kind = OriginDomain::parse(&domain);
        if let (OriginDomain::S3(bucket), Some(endpoint)) = (&kind, &self.s3) {
            let signing = origin
                .child_text("OriginAccessControlId")
                .and_then(|id| store.origin_access_control(id.trim()).ok())
                .map_or(SigningBehavior::Never, |o| o.signing_behavior);
            let read = origin.path(&["S3OriginConfig", "OriginReadTimeout"]);
            return OriginSource::S3(S3Source {
                endpoint: Arc::clone(endpoint),
                bucket: bucket.clone(),
                signing,
                timeouts: timeouts(origin, read),
            });
        }
        if kind == OriginDomain::Custom
            && let Some(custom) = origin.child("CustomOriginConfig")
        {
            let policy = custom.child_text("OriginProtocolPolicy").map(str::trim);
            if matches!(policy, Some("http-only" | "match-viewer")) {
                let port = custom
                    .child_text("HTTPPort")
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    .unwrap_or(80);
                return OriginSource::Http(HttpSource {
                    target: HttpTarget {
                        host: domain
                            .trim_start_matches('[')
                            .trim_end_matches(']')
                            .to_owned(),
                        port,
                    },
                    timeouts: timeouts(origin, custom.child("OriginReadTimeout")),
                });
            }
        }
        match (&self.default, kind) {
            (Some(dir), _) => OriginSource::Local(LocalSource::Dir(dir.clone())),
            (None, OriginDomain::S3(_)) => OriginSource::Unavailable(
                "CloudFront wasn't able to connect to the origin: this S3 origin needs an S3-compatible endpoint (start cfsign-mock with --s3-endpoint URL or AWS_ENDPOINT_URL_S3), or a directory (--origin DIR, or [origins] in --config).",
            ),
            (None, _) => OriginSource::Unavailable(
                "CloudFront wasn't able to connect to the origin: no directory is configured for this origin (start cfsign-mock with --origin DIR or map the origin's domain name in --config), and it is not an http-only custom origin the mock could proxy.",
            ),
        }
    }
}

/// An origin's `ConnectionTimeout` and `read` (its `OriginReadTimeout` element), CloudFront's
/// defaults when absent or not a number.
fn timeouts(origin: &Element, read: Option<&Element>) -> Timeouts {
    let seconds = |e: Option<&Element>| {
        e.and_then(|e| e.text.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
    };
    let default = Timeouts::default();
    Timeouts {
        connect: seconds(origin.child("ConnectionTimeout")).unwrap_or(default.connect),
        read: seconds(read).unwrap_or(default.read),
    }
}

impl LocalSource {
    /// Reads the object at `key` (a decoded path starting with `/`). Paths that would leave the
    /// directory are not found.
    pub(crate) async fn fetch(&self, key: &str) -> Fetched {
        match self {
            LocalSource::Sample => SAMPLE
                .iter()
                .find(|(p, _)| *p == key)
                .map_or(Fetched::NotFound, |(_, body)| {
                    Fetched::Found(body.as_bytes().to_vec())
                }),
            LocalSource::Dir(dir) => {
                let Some(path) = safe_join(dir, key) else {
                    return Fetched::NotFound;
                };
                match tokio::fs::read(&path).await {
                    Ok(bytes) => Fetched::Found(bytes),
                    Err(_) => Fetched::NotFound,
                }
            }
        }
    }
}

/// Joins a URL path under `dir`, refusing `..`, absolute components and NUL bytes.
fn safe_join(dir: &Path, key: &str) -> Option<PathBuf> {
    if key.contains('\0') || key.contains('\\') || key.ends_with('/') {
        return None;
    }
    let mut out = dir.to_path_buf();
    for component in Path::new(key.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The content type for a path, by extension.
pub(crate) fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html",
        "txt" => "text/plain",
        "css" => "text/css",
        "js" | "mjs" => "application/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "mp4" | "m4v" | "cmfv" => "video/mp4",
        // IANA's type for ISO BMFF media segments (DASH and fMP4 HLS fragments).
        "m4s" => "video/iso.segment",
        "m4a" | "cmfa" => "audio/mp4",
        "aac" => "audio/aac",
        "vtt" => "text/vtt",
        "webm" => "video/webm",
        "ts" => "video/mp2t",
        "m3u8" => "application/vnd.apple.mpegurl",
        "mpd" => "application/dash+xml",
        "mp3" => "audio/mpeg",
        "wasm" => "application/wasm",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "binary/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_safely() {
        let dir = Path::new("/srv");
        assert_eq!(
            safe_join(dir, "/a/b.txt"),
            Some(PathBuf::from("/srv/a/b.txt"))
        );
        assert_eq!(safe_join(dir, "/a/../../etc/passwd"), None);
        assert_eq!(safe_join(dir, "/a/"), None);
        assert_eq!(safe_join(dir, "/a\\b"), None);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("/a/b.JPG"), "image/jpeg");
        assert_eq!(content_type("/x.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("/v/manifest.mpd"), "application/dash+xml");
        assert_eq!(content_type("/v/seg-1.ts"), "video/mp2t");
        assert_eq!(content_type("/v/chunk-0-00001.m4s"), "video/iso.segment");
        assert_eq!(content_type("/v/init-0.mp4"), "video/mp4");
        assert_eq!(content_type("/v/audio.m4a"), "audio/mp4");
        assert_eq!(content_type("/v/subs.vtt"), "text/vtt");
        assert_eq!(content_type("/noext"), "binary/octet-stream");
    }
}
