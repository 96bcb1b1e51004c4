//! The edge: finds the distribution and cache behaviour for a request, enforces trusted key
//! groups with [`cfsign::verify`], and serves the object from the origin.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use cfsign::{Decision, KeyPairId, PublicKey, Request, TrustedKeys, UnixTime};

use crate::origin::{Fetched, OriginSource, Origins, content_type};
use crate::state::{Shared, Store, behaviours, trusted_key_groups};

/// What the edge knows, rebuilt after every control-plane change so requests never parse PEM.
#[derive(Debug, Default)]
pub(crate) struct EdgeView {
    by_host: HashMap<String, Arc<EdgeDist>>,
    by_id: HashMap<String, Arc<EdgeDist>>,
}

/// A distribution as the edge sees it.
#[derive(Debug)]
pub(crate) struct EdgeDist {
    enabled: bool,
    default_root_object: String,
    /// The ordered cache behaviours, then the default behaviour (pattern `None`) last.
    behaviours: Vec<EdgeBehaviour>,
}

/// A cache behaviour as the edge sees it.
#[derive(Debug)]
struct EdgeBehaviour {
    pattern: Option<String>,
    origin: Option<(OriginSource, String)>,
    /// `Some` when the behaviour is restricted (trusted key groups or legacy trusted signers).
    trusted: Option<Restricted>,
}

/// A restricted behaviour: its trusted keys (parsed once) and the grants already decided.
#[derive(Debug)]
struct Restricted {
    keys: TrustedKeys,
    grants: GrantCache,
}

/// The most grants remembered per behaviour; the cache is emptied when full.
const GRANT_CACHE_ENTRIES: usize = 8192;

/// Grants already decided for exact (URL, Cookie header, client IP) triples, with the window in
/// which they hold: a verification is deterministic, so the same request granted at `from` is
/// granted at any `now` in `from..expires` (later times only pass `DateGreaterThan` more easily).
/// Denials are never cached. The cache lives in the edge view, so any control-plane change
/// starts a fresh one.
#[derive(Debug, Default)]
struct GrantCache {
    map: RwLock<HashMap<GrantKey, (UnixTime, UnixTime)>>,
}

/// URL, Cookie header (empty if none) and client IP.
type GrantKey = (String, String, IpAddr);

impl GrantCache {
    fn get(&self, key: &GrantKey, now: UnixTime) -> bool {
        let map = match self.map.read() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(key)
            .is_some_and(|(from, expires)| *from <= now && now < *expires)
    }

    fn insert(&self, key: GrantKey, from: UnixTime, expires: UnixTime) {
        let mut map = match self.map.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= GRANT_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, (from, expires));
    }
}

impl EdgeView {
    /// Builds the view: behaviours in CloudFront order, origins resolved, trusted keys parsed.
    pub(crate) fn build(store: &Store, origins: &Origins) -> EdgeView {
        let mut parsed: HashMap<&str, Option<PublicKey>> = HashMap::new();
        for key in &store.public_keys {
            parsed.insert(key.id.as_str(), PublicKey::from_pem(&key.encoded_key).ok());
        }
        let mut view = EdgeView::default();
        for d in &store.distributions {
            let config = &d.config;
            let origin_of = |target: &str| -> Option<(OriginSource, String)> {
                let origin = config
                    .path(&["Origins", "Items"])?
                    .children
                    .iter()
                    .find(|o| o.child_text("Id") == Some(target))?;
                let source = origins.resolve(origin.child_text("DomainName")?)?;
                let origin_path = origin
                    .child_text("OriginPath")
                    .unwrap_or("")
                    .trim_end_matches('/');
                Some((source, origin_path.to_owned()))
            };
            let mut list = Vec::new();
            let mut default = None;
            for b in behaviours(config) {
                let groups = trusted_key_groups(b);
                let signers_enabled = b
                    .path(&["TrustedSigners", "Enabled"])
                    .is_some_and(|e| e.text.trim() == "true");
                let trusted = if groups.is_empty() && !signers_enabled {
                    None
                } else {
                    let mut keys = TrustedKeys::new();
                    for gid in &groups {
                        let Some(group) = store.key_groups.iter().find(|g| &g.id == gid) else {
                            continue;
                        };
                        for kid in &group.items {
                            if let (Ok(id), Some(Some(key))) =
                                (KeyPairId::new(kid), parsed.get(kid.as_str()))
                            {
                                keys.insert(id, key.clone());
                            }
                        }
                    }
                    Some(Restricted {
                        keys,
                        grants: GrantCache::default(),
                    })
                };
                let behaviour = EdgeBehaviour {
                    pattern: b.child_text("PathPattern").map(str::to_owned),
                    origin: b.child_text("TargetOriginId").and_then(origin_of),
                    trusted,
                };
                if b.name == "DefaultCacheBehavior" {
                    default = Some(behaviour);
                } else {
                    list.push(behaviour);
                }
            }
            list.extend(default);
            let dist = Arc::new(EdgeDist {
                enabled: d.enabled(),
                default_root_object: config
                    .child_text("DefaultRootObject")
                    .unwrap_or("")
                    .trim_start_matches('/')
                    .to_owned(),
                behaviours: list,
            });
            view.by_host
                .insert(d.domain.to_ascii_lowercase(), Arc::clone(&dist));
            if let Some(items) = config.path(&["Aliases", "Items"]) {
                for alias in &items.children {
                    view.by_host
                        .insert(alias.text.trim().to_ascii_lowercase(), Arc::clone(&dist));
                }
            }
            view.by_id.insert(d.id.clone(), dist);
        }
        view
    }

    /// The distribution for a `Host` header value: its domain name or an alias, optionally
    /// followed by `.localhost`, with or without a port.
    pub(crate) fn for_host(&self, host: &str) -> Option<Arc<EdgeDist>> {
        let name = strip_port(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        let name = name.strip_suffix(".localhost").unwrap_or(name);
        self.by_host.get(name).cloned()
    }

    /// The distribution for an ID or a domain name.
    pub(crate) fn for_id_or_domain(&self, key: &str) -> Option<Arc<EdgeDist>> {
        self.by_id.get(key).cloned().or_else(|| self.for_host(key))
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// CloudFront's path-pattern match: case-sensitive, `*` any run of characters (including `/`),
/// `?` exactly one; a pattern without a leading `/` is treated as if it had one.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern).as_bytes();
    let path = path.strip_prefix('/').unwrap_or(path).as_bytes();
    // Iterative wildcard match with single-star backtracking: linear in practice, never exponential.
    let (mut p, mut s) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while s < path.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == path[s]) {
            p += 1;
            s += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = s;
            p += 1;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            s = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// A request routed to a distribution.
pub(crate) struct EdgeRequest<'a> {
    pub(crate) dist: Arc<EdgeDist>,
    pub(crate) method: &'a Method,
    /// The URL as the client sent it (what a signature covers).
    pub(crate) url: String,
    /// The path (without query) used to pick a cache behaviour and the object.
    pub(crate) path: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) client_ip: IpAddr,
}

/// Serves one edge request.
pub(crate) async fn serve(shared: &Shared, req: EdgeRequest<'_>) -> Response {
    let dist = &req.dist;
    if !dist.enabled {
        return simple_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "The distribution is disabled.",
        );
    }
    if req.method != Method::GET && req.method != Method::HEAD {
        let mut r = simple_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "This distribution only allows GET and HEAD.",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let Some(behaviour) = dist.behaviours.iter().find(|b| {
        b.pattern
            .as_deref()
            .is_none_or(|p| path_matches(p, req.path))
    }) else {
        return simple_error(
            StatusCode::BAD_GATEWAY,
            "NoBehaviour",
            "No cache behaviour matched.",
        );
    };
    if let Some(restricted) = &behaviour.trusted {
        let cookies = cookie_header(req.headers);
        let now = shared.clock.now();
        let cache_key = (
            req.url.clone(),
            cookies.clone().unwrap_or_default(),
            req.client_ip,
        );
        if !(shared.grant_cache && restricted.grants.get(&cache_key, now)) {
            let mut request = Request::new(&req.url, now).with_client_ip(req.client_ip);
            if let Some(c) = cookies.as_deref() {
                request = request.with_cookie_header(c);
            }
            let mut decision = cfsign::verify(&request, &restricted.keys);
            for behaviour in decision.undocumented() {
                tracing::warn!(url = %req.url, kind = behaviour.kind(), "undocumented: {behaviour}");
            }
            if shared.strict {
                decision = decision.strict();
            }
            match decision {
                Decision::Granted(grant) if shared.grant_cache => {
                    restricted.grants.insert(cache_key, now, grant.expires());
                }
                Decision::Granted(_) => {}
                Decision::Denied(denial) => {
                    tracing::info!(url = %req.url, "403 {denial}");
                    return denied(denial.code());
                }
            }
        }
    }
    let Some((origin, origin_path)) = &behaviour.origin else {
        return simple_error(
            StatusCode::BAD_GATEWAY,
            "OriginUnreachable",
            "CloudFront wasn't able to connect to the origin: no directory is configured for this origin (start cfsign-mock with --origin DIR or map the origin's domain name in --config).",
        );
    };
    let decoded = percent_decode(req.path);
    let object_path = if decoded == "/" && !dist.default_root_object.is_empty() {
        format!("/{}", dist.default_root_object)
    } else {
        decoded
    };
    let key = format!("{origin_path}{object_path}");
    let body = match origin.fetch(&key).await {
        Fetched::Found(b) => b,
        Fetched::NotFound => {
            return xml_response(
                StatusCode::NOT_FOUND,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{}</Key></Error>",
                    crate::xml::escape(key.trim_start_matches('/'))
                ),
            );
        }
    };
    object_response(req.method, req.headers, &object_path, body)
}

fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let mut values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let mut out = first.to_owned();
    for v in values {
        out.push_str("; ");
        out.push_str(v);
    }
    Some(out)
}

/// The 403 CloudFront sends: exact body, `text/xml`.
fn denied(code: cfsign::DenyCode) -> Response {
    let mut r = xml_response(StatusCode::FORBIDDEN, code.xml_body());
    r.headers_mut()
        .insert("x-cache", HeaderValue::from_static("Error from cloudfront"));
    r
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r.headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("CloudFront"));
    r
}

fn simple_error(status: StatusCode, code: &str, message: &str) -> Response {
    xml_response(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
            crate::xml::escape(code),
            crate::xml::escape(message)
        ),
    )
}

/// 200, 206 or 416 with the object, honouring `Range: bytes=…` as RFC 9110 §14 says: one
/// satisfiable range is sent alone with `Content-Range`, several as `multipart/byteranges`.
fn object_response(method: &Method, headers: &HeaderMap, path: &str, body: Vec<u8>) -> Response {
    let len = body.len() as u64;
    let content_type = content_type(path);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, len));
    let (status, payload, part_type, content_range) = match range {
        None | Some(RangeResult::Ignore) => (StatusCode::OK, body, None, None),
        Some(RangeResult::Unsatisfiable) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r.headers_mut()
                .insert(header::SERVER, HeaderValue::from_static("CloudFront"));
            return r;
        }
        Some(RangeResult::Ranges(ranges)) => match ranges.as_slice() {
            [(start, end)] => (
                StatusCode::PARTIAL_CONTENT,
                slice(&body, *start, *end).to_vec(),
                None,
                Some(format!("bytes {start}-{end}/{len}")),
            ),
            _ => {
                let boundary = new_boundary();
                let multipart = multipart_byteranges(&body, &ranges, content_type, &boundary);
                (
                    StatusCode::PARTIAL_CONTENT,
                    multipart,
                    Some(format!("multipart/byteranges; boundary={boundary}")),
                    None,
                )
            }
        },
    };
    let length = payload.len();
    let mut r = Response::new(if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(payload)
    });
    *r.status_mut() = status;
    let h = r.headers_mut();
    let content_type_value = part_type
        .and_then(|t| HeaderValue::from_str(&t).ok())
        .unwrap_or_else(|| HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_TYPE, content_type_value);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert("x-cache", HeaderValue::from_static("Miss from cloudfront"));
    h.insert(header::SERVER, HeaderValue::from_static("CloudFront"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    r
}

/// The bytes `start..=end` of `body` (`parse_range` guarantees `start <= end < body.len()`).
fn slice(body: &[u8], start: u64, end: u64) -> &[u8] {
    let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
        return &[];
    };
    body.get(start..=end).unwrap_or_default()
}

/// A boundary that cannot plausibly occur in the object: 32 random hex digits.
fn new_boundary() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A `multipart/byteranges` body (RFC 9110 §14.6): each part with its `Content-Type` and
/// `Content-Range`, the CRLF before each delimiter belonging to the delimiter.
fn multipart_byteranges(
    body: &[u8],
    ranges: &[(u64, u64)],
    content_type: &str,
    boundary: &str,
) -> Vec<u8> {
    let len = body.len();
    let mut out = Vec::new();
    for (i, &(start, end)) in ranges.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {start}-{end}/{len}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(slice(body, start, end));
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// The most range specs honoured in one `Range` header; more get the whole object (as Apache's
/// `MaxRanges`), so a request cannot make the edge build a huge multipart body.
const MAX_RANGES: usize = 100;

#[derive(Debug, PartialEq, Eq)]
enum RangeResult {
    /// Serve the whole object: no valid `bytes` range set (another unit, a syntax error, or
    /// more than [`MAX_RANGES`] ranges).
    Ignore,
    /// Valid, but no range overlaps the object.
    Unsatisfiable,
    /// The satisfiable ranges, inclusive, overlapping and adjacent ones coalesced, in the order
    /// their first member was asked for.
    Ranges(Vec<(u64, u64)>),
}

/// A decimal number of RFC 9110 (digits only); too large for `u64` saturates, which means
/// "past the end" wherever it is used.
fn parse_pos(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().unwrap_or(u64::MAX))
}

/// Parses a `Range` header against an object of `len` bytes.
fn parse_range(value: &str, len: u64) -> RangeResult {
    let Some((unit, set)) = value.trim().split_once('=') else {
        return RangeResult::Ignore;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeResult::Ignore;
    }
    // `1#range-spec`: recipients ignore empty list elements.
    let specs: Vec<&str> = set
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if specs.is_empty() || specs.len() > MAX_RANGES {
        return RangeResult::Ignore;
    }
    let mut satisfiable = Vec::new();
    for spec in specs {
        let Some((a, b)) = spec.split_once('-') else {
            return RangeResult::Ignore;
        };
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() {
            // Suffix range: the last n bytes.
            let Some(n) = parse_pos(b) else {
                return RangeResult::Ignore;
            };
            if n > 0 && len > 0 {
                satisfiable.push((len - n.min(len), len - 1));
            }
            continue;
        }
        let Some(start) = parse_pos(a) else {
            return RangeResult::Ignore;
        };
        let end = if b.is_empty() {
            u64::MAX
        } else {
            match parse_pos(b) {
                Some(e) if e >= start => e,
                _ => return RangeResult::Ignore,
            }
        };
        if start < len {
            satisfiable.push((start, end.min(len - 1)));
        }
    }
    if satisfiable.is_empty() {
        return RangeResult::Unsatisfiable;
    }
    RangeResult::Ranges(coalesce(satisfiable))
}

/// Merges ranges that overlap or touch; each merged range takes the place of the first one it
/// absorbed. The output ranges never touch one another.
fn coalesce(ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (mut start, mut end) in ranges {
        let mut first = None;
        let mut i = 0;
        while i < out.len() {
            let (s, e) = out[i];
            if start <= e.saturating_add(1) && s <= end.saturating_add(1) {
                start = start.min(s);
                end = end.max(e);
                if first.is_none() {
                    first = Some(i);
                    i += 1;
                } else {
                    out.remove(i);
                }
            } else {
                i += 1;
            }
        }
        match first {
            Some(p) => out[p] = (start, end),
            None => out.push((start, end)),
        }
    }
    out
}

/// Decodes `%XX` escapes (invalid escapes stay as they are; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let check = |pattern: &str, path: &str, expected: bool| {
            assert_eq!(path_matches(pattern, path), expected, "{pattern} vs {path}");
        };
        check("/private/*", "/private/a.txt", true);
        check("private/*", "/private/a/b.txt", true);
        check("/private/*", "/public/a.txt", false);
        check("*.jpg", "/a/b/c.jpg", true);
        check("/images/*.jpg", "/images/a.png", false);
        check("/a?c", "/abc", true);
        check("/a?c", "/ac", false);
        check("/Private/*", "/private/x", false);
        check("*", "/anything", true);
    }

    #[test]
    fn ranges() {
        use RangeResult::{Ignore, Ranges, Unsatisfiable};
        let check = |header: &str, len: u64, expected: RangeResult| {
            assert_eq!(
                parse_range(header, len),
                expected,
                "{header} of {len} bytes"
            );
        };
        // Single ranges.
        check("bytes=0-4", 10, Ranges(vec![(0, 4)]));
        check("bytes=5-", 10, Ranges(vec![(5, 9)]));
        check("bytes=-3", 10, Ranges(vec![(7, 9)]));
        check("bytes=-30", 10, Ranges(vec![(0, 9)]));
        check("bytes=5-100", 10, Ranges(vec![(5, 9)]));
        check("Bytes = 1-1", 10, Ranges(vec![(1, 1)]));
        check("bytes=0-99999999999999999999999", 10, Ranges(vec![(0, 9)]));
        check("bytes=10-", 10, Unsatisfiable);
        check("bytes=-0", 10, Unsatisfiable);
        check("bytes=0-0", 0, Unsatisfiable);
        check("bytes=-5", 0, Unsatisfiable);
        // Several ranges: order kept, unsatisfiable members dropped, touching ones merged.
        check("bytes=0-1,3-4", 10, Ranges(vec![(0, 1), (3, 4)]));
        check("bytes=6-7, 0-1", 10, Ranges(vec![(6, 7), (0, 1)]));
        check("bytes=0-1,2-3", 10, Ranges(vec![(0, 3)]));
        check("bytes=0-5,3-8", 10, Ranges(vec![(0, 8)]));
        check("bytes=0-1,50-60,-2", 10, Ranges(vec![(0, 1), (8, 9)]));
        check("bytes=0-1,6-7,2-5", 10, Ranges(vec![(0, 7)]));
        check("bytes=8-9,0-1,4-5,2-3", 10, Ranges(vec![(8, 9), (0, 5)]));
        check("bytes=0-1,,3-4,", 10, Ranges(vec![(0, 1), (3, 4)]));
        check("bytes=20-30,40-", 10, Unsatisfiable);
        // Not a valid byte range set: the whole object.
        check("items=0-1", 10, Ignore);
        check("bytes=4-2", 10, Ignore);
        check("bytes=0-1,4-2", 10, Ignore);
        check("bytes=+1-2", 10, Ignore);
        check("bytes=1", 10, Ignore);
        check("bytes=", 10, Ignore);
        check("bytes=a-b", 10, Ignore);
        let many = vec!["0-0"; MAX_RANGES + 1].join(",");
        check(&format!("bytes={many}"), 10, Ignore);
    }

    #[test]
    fn multipart_body_is_exact() {
        let body = multipart_byteranges(b"0123456789", &[(0, 1), (8, 9)], "text/plain", "B");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89\r\n--B--\r\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn coalesced_ranges_cover_the_same_bytes_and_never_touch(
            ranges in proptest::collection::vec((0u64..64, 0u64..64), 1..12)
        ) {
            let ranges: Vec<(u64, u64)> =
                ranges.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
            let out = coalesce(ranges.clone());
            let covered = |rs: &[(u64, u64)], x: u64| rs.iter().any(|&(s, e)| s <= x && x <= e);
            for x in 0..70 {
                proptest::prop_assert_eq!(covered(&ranges, x), covered(&out, x));
            }
            for (i, a) in out.iter().enumerate() {
                for b in &out[i + 1..] {
                    proptest::prop_assert!(a.1 + 1 < b.0 || b.1 + 1 < a.0, "{:?} touches {:?}", a, b);
                }
            }
        }

        #[test]
        fn parse_range_never_panics(header in "\\PC{0,60}", len in 0u64..100) {
            if let RangeResult::Ranges(rs) = parse_range(&header, len) {
                for (s, e) in rs {
                    proptest::prop_assert!(s <= e && e < len);
                }
            }
        }
    }

    #[test]
    fn grant_cache_holds_only_inside_the_window() {
        let cache = GrantCache::default();
        let at = |s| UnixTime::from_secs(s).unwrap();
        let key = (
            "http://h/a".to_owned(),
            String::new(),
            IpAddr::from([127, 0, 0, 1]),
        );
        assert!(!cache.get(&key, at(100)));
        cache.insert(key.clone(), at(100), at(200));
        assert!(cache.get(&key, at(100)) && cache.get(&key, at(199)));
        assert!(!cache.get(&key, at(200)) && !cache.get(&key, at(99)));
        let other_ip = (key.0.clone(), key.1.clone(), IpAddr::from([127, 0, 0, 2]));
        assert!(!cache.get(&other_ip, at(150)));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            strip_port("d1.cloudfront.net.localhost:4580"),
            "d1.cloudfront.net.localhost"
        );
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(percent_decode("/a%20b%zz%2"), "/a b%zz%2");
    }
}
