//! The scope rule against the ways origins read a path, in process through `app(state).oneshot`:
//! the hardening issue's attack strings through every signing endpoint, and a property test that
//! whatever the server signs stays in scope however an origin (S3, nginx, Tomcat, Spring,
//! Windows, C, a decoding proxy, a lenient Unicode decoder) reads it.

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

mod common;

use std::cell::Cell;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cfsign_server::{AppState, Config, app};
use cfsign_tests::http::percent_encode;
use common::{NOW, key_path, sha256_hex};
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "scope-token-0123456789";
const HOST: &str = "media.example.com";

/// One client, allowed the issue's prefix and glob, with cookies and custom policies.
fn router() -> Router {
    let toml = format!(
        r#"
[[keys]]
id = "KAAAAAAAAAAAAA"
file = "{key}"

[[clients]]
name = "media"
token_sha256 = "{token}"
allow = ["https://{HOST}/private/", "https://{HOST}/users/*/avatar.png"]
max_ttl = "1h"
cookies = true
custom_policy = true
"#,
        key = key_path("test-key-a.pem").display(),
        token = sha256_hex(TOKEN),
    );
    let config = Config::from_toml(&toml, Path::new("scope.toml")).unwrap();
    let state = AppState::from_config(&config, &|_| None)
        .unwrap()
        .with_clock(|| NOW);
    app(state)
}

/// A reply: status, `Location` and body.
struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

/// The issue's attack strings, as paths on `HOST`, each with the cookie resource pattern that
/// carries the same trick (`None` where the rule is a glob, which never covers a pattern).
const ATTACKS: &[(&str, Option<&str>)] = &[
    // Path-parameter dot segments (Tomcat, Jetty and Spring read `..;` as `..`).
    ("/private/..;/secret/a.jpg", Some("/private/..;/*")),
    ("/private/..;x=1/secret/a.jpg", Some("/private/..;x=1/*")),
    ("/private/%2e%2e;/secret/a.jpg", Some("/private/%2e%2e;/*")),
    ("/private/..%3b/secret/a.jpg", Some("/private/..%3b/*")),
    // Double encodings other than %252e, %252f and %255c.
    (
        "/private/%25%32%65%25%32%65/secret/a.jpg",
        Some("/private/%25%32%65%25%32%65/*"),
    ),
    (
        "/private/..%25%32%66..%25%32%66secret/a.jpg",
        Some("/private/..%25%32%66..%25%32%66secret/*"),
    ),
    (
        "/private/..%25%35%63..%25%35%63secret/a.jpg",
        Some("/private/..%25%35%63..%25%35%63secret/*"),
    ),
    (
        "/private/%25252e%25252e/secret/a.jpg",
        Some("/private/%25252e%25252e/*"),
    ),
    // Overlong UTF-8 and compatibility forms.
    (
        "/private/%c0%ae%c0%ae/secret/a.jpg",
        Some("/private/%c0%ae%c0%ae/*"),
    ),
    (
        "/private/%e0%80%ae%e0%80%ae/secret/a.jpg",
        Some("/private/%e0%80%ae%e0%80%ae/*"),
    ),
    (
        "/private/..%c0%af..%c0%afsecret/a.jpg",
        Some("/private/..%c0%af..%c0%afsecret/*"),
    ),
    (
        "/private/%ef%bc%8e%ef%bc%8e/secret/a.jpg",
        Some("/private/%ef%bc%8e%ef%bc%8e/*"),
    ),
    (
        "/private/%e2%80%a5/secret/a.jpg",
        Some("/private/%e2%80%a5/*"),
    ),
    // `..` followed by an encoded NUL, space or tab.
    ("/private/..%00/secret/a.jpg", Some("/private/..%00/*")),
    ("/private/..%20/secret/a.jpg", Some("/private/..%20/*")),
    ("/private/..%09/secret/a.jpg", Some("/private/..%09/*")),
    // The glob `/users/*/avatar.png`: an empty segment, `;` alone, NUL alone.
    ("/users//avatar.png", None),
    ("/users/;/avatar.png", None),
    ("/users/%00/avatar.png", None),
];

/// Asserts a refusal: 403, the API's JSON error, and no signature anywhere.
fn assert_refused(what: &str, reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "{what}: {}",
        reply.body
    );
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {body}"
    );
    assert!(!reply.body.contains("Signature"), "{what}: {body}");
    assert!(reply.location.is_none(), "{what}: {:?}", reply.location);
}

#[tokio::test]
async fn every_attack_is_refused_by_every_endpoint() {
    let router = router();
    for &(path, pattern) in ATTACKS {
        let url = format!("https://{HOST}{path}");
        let reply = send(&router, post("/v1/sign", &json!({"url": url}))).await;
        assert_refused(&format!("sign {url}"), &reply);
        let batch =
            json!({"requests": [{"url": format!("https://{HOST}/private/a.jpg")}, {"url": url}]});
        let reply = send(&router, post("/v1/sign", &batch)).await;
        assert_refused(&format!("sign batch {url}"), &reply);
        let reply = send(&router, post("/v1/cookies", &json!({"resource": url}))).await;
        assert_refused(&format!("cookies {url}"), &reply);
        if let Some(pattern) = pattern {
            let pattern = format!("https://{HOST}{pattern}");
            let reply = send(&router, post("/v1/cookies", &json!({"resource": pattern}))).await;
            assert_refused(&format!("cookies {pattern}"), &reply);
            let request = json!({"url": url, "resource": pattern});
            let reply = send(&router, post("/v1/sign", &request)).await;
            assert_refused(&format!("sign with resource {pattern}"), &reply);
        }
        let reply = send(
            &router,
            get(&format!("/v1/redirect?url={}", percent_encode(&url))),
        )
        .await;
        assert_refused(&format!("redirect ?url={url}"), &reply);
        let reply = send(&router, get(&format!("/v1/redirect/{HOST}{path}"))).await;
        assert_refused(&format!("redirect /{HOST}{path}"), &reply);
    }
    // The same shapes without the tricks are signed: the refusals above are the tricks'.
    for path in ["/private/secret/a.jpg", "/users/42/avatar.png"] {
        let url = format!("https://{HOST}{path}");
        let reply = send(&router, post("/v1/sign", &json!({"url": url}))).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.body);
        let reply = send(&router, get(&format!("/v1/redirect/{HOST}{path}"))).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{url}: {}", reply.body);
    }
}

// ---------------------------------------------------------------------------------------------
// How origins read a path. Each model is written from the origin's documented or observed
// behaviour, independently of the server's rule, and returns the segments of the object path it
// would serve (after the leading `/`).

/// One round of percent-decoding, leniently (a `%` without two hex digits stays).
fn decode_once(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Percent-decoding until nothing changes, as a chain of decoding proxies does.
fn decode_all(bytes: &[u8]) -> Vec<u8> {
    let mut current = bytes.to_vec();
    for _ in 0..16 {
        let next = decode_once(&current);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// UTF-8 as a lenient decoder reads it: overlong two- and three-byte forms give their code
/// point, anything invalid is dropped; then compatibility look-alikes of `.`, `/`, `\` and `;`
/// become those characters (as NFKC and Windows best-fit mappings do).
fn lenient_unicode(bytes: &[u8]) -> Vec<u8> {
    let mut chars = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let cont = |k: usize| {
            bytes
                .get(i + k)
                .filter(|&&c| c & 0xC0 == 0x80)
                .map(|&c| u32::from(c & 0x3F))
        };
        let (code, len) = if b < 0x80 {
            (Some(u32::from(b)), 1)
        } else if b & 0xE0 == 0xC0 {
            (cont(1).map(|c1| u32::from(b & 0x1F) << 6 | c1), 2)
        } else if b & 0xF0 == 0xE0 {
            (
                cont(1)
                    .zip(cont(2))
                    .map(|(c1, c2)| u32::from(b & 0x0F) << 12 | c1 << 6 | c2),
                3,
            )
        } else if b & 0xF8 == 0xF0 {
            let c = cont(1).zip(cont(2)).zip(cont(3));
            (
                c.map(|((c1, c2), c3)| u32::from(b & 0x07) << 18 | c1 << 12 | c2 << 6 | c3),
                4,
            )
        } else {
            (None, 1)
        };
        match code.and_then(char::from_u32) {
            Some(c) => {
                chars.push(c);
                i += len;
            }
            None => i += 1,
        }
    }
    let mut out = String::new();
    for c in chars.chars() {
        match c {
            '\u{2024}' | '\u{FE52}' | '\u{FF0E}' | '\u{3002}' | '\u{FF61}' => out.push('.'),
            '\u{2025}' | '\u{FE30}' => out.push_str(".."),
            '\u{2026}' | '\u{FE19}' => out.push_str("..."),
            '\u{FF0F}' | '\u{2215}' | '\u{2044}' | '\u{29F8}' => out.push('/'),
            '\u{FF3C}' | '\u{FE68}' | '\u{00A5}' | '\u{20A9}' | '\u{2216}' | '\u{29F9}' => {
                out.push('\\')
            }
            '\u{FF1B}' | '\u{FE54}' | '\u{037E}' => out.push(';'),
            '\u{FF1F}' | '\u{FE56}' => out.push('?'),
            '\u{FF03}' | '\u{FE5F}' => out.push('#'),
            '\u{FF05}' | '\u{FE6A}' => out.push('%'),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    let path = path.strip_prefix(b"/").unwrap_or(path);
    path.split(|&b| b == b'/').map(<[u8]>::to_vec).collect()
}

/// RFC 3986 `remove_dot_segments`, on segments.
fn resolve(segments: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let n = segments.len();
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (i, segment) in segments.into_iter().enumerate() {
        let last = i + 1 == n;
        match segment.as_slice() {
            b"." => {}
            b".." => {
                out.pop();
            }
            _ => {
                out.push(segment);
                continue;
            }
        }
        if last {
            out.push(Vec::new());
        }
    }
    out
}

fn cut_parameters(segment: &[u8]) -> Vec<u8> {
    segment
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .to_vec()
}

fn merge_slashes(segments: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let n = segments.len();
    segments
        .into_iter()
        .enumerate()
        .filter(|(i, s)| !s.is_empty() || i + 1 == n)
        .map(|(_, s)| s)
        .collect()
}

/// Windows: trailing dots and spaces go, except from `.` and `..`; a name of dots and spaces
/// alone is `.` or `..`.
fn windows_segment(segment: &[u8]) -> Vec<u8> {
    if !segment.is_empty() && segment.iter().all(|&b| b == b'.' || b == b' ') {
        let dots = segment.iter().filter(|&&b| b == b'.').count();
        return if dots >= 2 {
            b"..".to_vec()
        } else {
            b".".to_vec()
        };
    }
    let end = segment
        .iter()
        .rposition(|&b| b != b'.' && b != b' ')
        .map_or(0, |i| i + 1);
    segment[..end].to_vec()
}

fn cut_at(path: &[u8], stops: &[u8]) -> Vec<u8> {
    let end = path
        .iter()
        .position(|b| stops.contains(b))
        .unwrap_or(path.len());
    path[..end].to_vec()
}

fn backslashes(path: &[u8]) -> Vec<u8> {
    path.iter()
        .map(|&b| if b == b'\\' { b'/' } else { b })
        .collect()
}

/// Each origin model: a name and the object path it reads for a request path.
type Model = (&'static str, fn(&str) -> Vec<Vec<u8>>);

const MODELS: &[Model] = &[
    // S3 and most static origins: decode once.
    ("decode once", |p| {
        resolve(split(&decode_once(p.as_bytes())))
    }),
    // nginx: decode once, merge slashes.
    ("nginx", |p| {
        resolve(merge_slashes(split(&decode_once(p.as_bytes()))))
    }),
    // Tomcat and Jetty: `;` parameters cut from the raw segments, then decoded.
    ("tomcat", |p| {
        let segments: Vec<_> = split(p.as_bytes())
            .iter()
            .map(|s| decode_once(&cut_parameters(s)))
            .collect();
        resolve(split(&segments.join(&b'/')))
    }),
    // Spring's UrlPathHelper: decoded, then `;` parameters cut.
    ("spring", |p| {
        let decoded = split(&decode_once(p.as_bytes()));
        resolve(decoded.iter().map(|s| cut_parameters(s)).collect())
    }),
    // A decoding proxy in front of an origin that decodes again: decoded until stable.
    ("decoding proxy", |p| {
        resolve(split(&backslashes(&decode_all(p.as_bytes()))))
    }),
    // A proxy that decodes and sends the path on as a new URL: `?` and `#` end it.
    ("re-parsing proxy", |p| {
        resolve(split(&cut_at(&decode_once(p.as_bytes()), b"?#")))
    }),
    // Windows and IIS: `\` is a separator, trailing dots and spaces go.
    ("windows", |p| {
        let decoded = split(&backslashes(&decode_once(p.as_bytes())));
        resolve(decoded.iter().map(|s| windows_segment(s)).collect())
    }),
    // A C origin: the path ends at NUL.
    ("c string", |p| {
        resolve(split(&cut_at(&decode_once(p.as_bytes()), b"\0")))
    }),
    // A lenient Unicode decoder: overlong forms and look-alikes become ASCII.
    ("lenient unicode", |p| {
        resolve(split(&backslashes(&lenient_unicode(&decode_all(
            p.as_bytes(),
        )))))
    }),
    // All of it at once.
    ("everything", |p| {
        let text = lenient_unicode(&decode_all(p.as_bytes()));
        let text = backslashes(&cut_at(&text, b"\0?#"));
        let segments: Vec<_> = split(&text)
            .iter()
            .map(|s| {
                let s = cut_parameters(s);
                let end = s
                    .iter()
                    .rposition(|&b| !b.is_ascii_whitespace())
                    .map_or(0, |i| i + 1);
                windows_segment(&s[..end])
            })
            .collect();
        resolve(merge_slashes(segments))
    }),
];

/// Whether an object path is inside the client's scope: under `/private/`, or
/// `/users/<one non-empty segment>/avatar.png`.
fn in_scope(segments: &[Vec<u8>]) -> bool {
    let under_private = segments.len() >= 2 && segments[0] == b"private";
    let avatar = segments.len() == 3
        && segments[0] == b"users"
        && !segments[1].is_empty()
        && segments[2] == b"avatar.png";
    under_private || avatar
}

#[test]
fn the_models_see_the_attacks() {
    // The models are only worth something if each attack escapes in at least one of them.
    for &(path, _) in ATTACKS {
        let escapes: Vec<_> = MODELS
            .iter()
            .filter(|(_, read)| !in_scope(&read(path)))
            .map(|(name, _)| *name)
            .collect();
        assert!(
            !escapes.is_empty(),
            "no model reads {path} outside the scope"
        );
    }
    // And a plain path is in scope in every one.
    for path in [
        "/private/a.jpg",
        "/private/a/b%20c.jpg",
        "/users/42/avatar.png",
    ] {
        for (name, read) in MODELS {
            assert!(
                in_scope(&read(path)),
                "{name} reads {path} outside the scope"
            );
        }
    }
}

/// Segment names: in-scope ones, and ones that move a path out.
const NAMES: &[&str] = &[
    "private",
    "users",
    "avatar.png",
    "a.jpg",
    "42",
    "secret",
    "hls",
    "",
    "x",
];

/// Every trick of the issue and a few more, as written in a URL.
const TRICKS: &[&str] = &[
    "..",
    ".",
    "/",
    "//",
    ";",
    ";x=1",
    "..;",
    "..;x=1",
    "%2e%2e",
    "%2e",
    "%2E%2e;",
    "..%3b",
    "%3b",
    "%3B",
    "%252e%252e",
    "%252e",
    "%252f",
    "%255c",
    "%25%32%65",
    "%25%32%45",
    "%25%32%66",
    "%25%35%63",
    "%25252e",
    "%2525",
    "%25",
    "%c0%ae",
    "%e0%80%ae",
    "%c0%af",
    "%c1%9c",
    "%ef%bc%8e",
    "%ef%bc%8f",
    "%ef%bc%bc",
    "%e2%80%a5",
    "%e2%80%a4",
    "%e2%88%95",
    "%c2%a5",
    "%00",
    "%20",
    "%09",
    "%0a",
    "%2f",
    "%2F",
    "%5c",
    "%3f",
    "%23",
    "%e2%80%8b",
    "%c2%a0",
    ".%20",
    "%2e%00",
    "%25%30%30",
    "%2520",
    "%41",
    "%ff",
];

/// A path built from names and tricks, with tricks also spliced into names at any byte.
fn paths() -> impl Strategy<Value = String> {
    let name = prop::sample::select(NAMES).prop_map(str::to_owned);
    let trick = prop::sample::select(TRICKS).prop_map(str::to_owned);
    let spliced = (
        prop::sample::select(NAMES),
        prop::sample::select(TRICKS),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(name, trick, at)| {
            let at = at.index(name.len() + 1);
            format!("{}{trick}{}", &name[..at], &name[at..])
        });
    let segment = prop_oneof![3 => name, 3 => trick, 4 => spliced];
    let start =
        prop::sample::select(&["/private/", "/users/", "/", "/users/42/", "/private/a/"][..]);
    (start, prop::collection::vec(segment, 0..5))
        .prop_map(|(start, segments)| format!("{start}{}", segments.join("/")))
}

#[test]
fn whatever_is_signed_stays_in_scope_for_every_origin() {
    let router = router();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let (signed, refused) = (Cell::new(0_u32), Cell::new(0_u32));
    let result = runner.run(&paths(), |path| {
        let url = format!("https://{HOST}{path}");
        let reply = runtime.block_on(send(&router, post("/v1/sign", &json!({"url": url}))));
        match reply.status {
            StatusCode::OK => {
                signed.set(signed.get() + 1);
                for (name, read) in MODELS {
                    let object = read(&path);
                    let shown: Vec<_> = object.iter().map(|s| String::from_utf8_lossy(s)).collect();
                    prop_assert!(
                        in_scope(&object),
                        "{url} was signed, but {name} reads it as /{}",
                        shown.join("/")
                    );
                }
            }
            StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN => {
                refused.set(refused.get() + 1);
                prop_assert!(!reply.body.contains("Signature"), "{url}: {}", reply.body);
            }
            status => {
                return Err(TestCaseError::fail(format!(
                    "{url}: {status} {}",
                    reply.body
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Both outcomes are common, so the property is not vacuous.
    let (signed, refused) = (signed.get(), refused.get());
    assert!(
        signed > 1_000 && refused > 1_000,
        "signed {signed}, refused {refused}"
    );
}
