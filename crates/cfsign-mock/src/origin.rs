//! Origins: where the edge reads objects from (a directory, or the built-in sample for the demo).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OriginSource {
    /// Files under a directory.
    Dir(PathBuf),
    /// The built-in sample files.
    Sample,
}

/// The configured origin directories.
#[derive(Debug, Clone)]
pub(crate) struct Origins {
    default: Option<PathBuf>,
    by_domain: BTreeMap<String, PathBuf>,
}

/// What reading an object gave.
pub(crate) enum Fetched {
    /// The object's bytes.
    Found(Vec<u8>),
    /// No such object.
    NotFound,
}

impl Origins {
    pub(crate) fn new(default: Option<PathBuf>, by_domain: BTreeMap<String, PathBuf>) -> Origins {
        Origins { default, by_domain }
    }

    /// The source for an origin with this `DomainName`: its own directory, else the built-in sample
    /// for the demo origin, else the default directory.
    pub(crate) fn resolve(&self, origin_domain: &str) -> Option<OriginSource> {
        let domain = origin_domain.trim().to_ascii_lowercase();
        if let Some(dir) = self.by_domain.get(&domain) {
            return Some(OriginSource::Dir(dir.clone()));
        }
        if domain == DEMO_ORIGIN_DOMAIN {
            return Some(OriginSource::Sample);
        }
        self.default.clone().map(OriginSource::Dir)
    }
}

impl OriginSource {
    /// Reads the object at `key` (a decoded path starting with `/`). Paths that would leave the
    /// directory are not found.
    pub(crate) async fn fetch(&self, key: &str) -> Fetched {
        match self {
            OriginSource::Sample => SAMPLE
                .iter()
                .find(|(p, _)| *p == key)
                .map_or(Fetched::NotFound, |(_, body)| {
                    Fetched::Found(body.as_bytes().to_vec())
                }),
            OriginSource::Dir(dir) => {
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
        "mp4" | "m4s" => "video/mp4",
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
        assert_eq!(content_type("/noext"), "binary/octet-stream");
    }
}
