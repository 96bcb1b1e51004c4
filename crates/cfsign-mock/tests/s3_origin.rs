//! S3 origins behind the edge: distributions created with origin access control, objects
//! uploaded with boto3 to moto's S3 server, fetched by the edge with its own SigV4 signature —
//! which botocore recomputes from the request the edge really sent — only after the viewer's
//! signature is checked; S3's errors passed through, 502 when the bucket's server is gone.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use cfsign::{KeyKind, PrivateKey, Signer, UnixTime};
use cfsign_mock::{Credentials, MockConfig};
use common::*;

const BUCKET: &str = "media";
const REGION: &str = "eu-west-1";

/// A mock whose one distribution reads `media.s3.eu-west-1.amazonaws.com` through an origin
/// access control, `/private/*` restricted to a key group with one P-256 key.
struct Fixture {
    m: Mock,
    signer: Signer,
    domain: String,
}

fn fixture(s3_endpoint: &str, behavior: &str) -> Fixture {
    fixture_with(
        s3_endpoint,
        behavior,
        Credentials::new("testing", "testing-secret", None),
    )
}

fn fixture_with(s3_endpoint: &str, behavior: &str, credentials: Credentials) -> Fixture {
    let config = MockConfig::default()
        .with_s3_endpoint(s3_endpoint)
        .unwrap()
        .with_s3_credentials(credentials);
    let m = Mock::start(config);
    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap();
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("k", "k", &key.public_key().to_pem()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let key_id = r.xml("Id").unwrap();
    let r = m.post("/2020-05-31/key-group", &key_group_config("g", &[&key_id]));
    let group = r.xml("Id").unwrap();
    let r = m.post(
        "/2020-05-31/origin-access-control",
        &oac_config("media-oac", behavior, "s3"),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let oac = r.xml("Id").unwrap();
    let origin = origin_xml(
        &format!("{BUCKET}.s3.{REGION}.amazonaws.com"),
        "",
        Some(&oac),
        None,
    );
    let r = m.post(
        "/2020-05-31/distribution",
        &distribution_with_origin("s3", &origin, &[&group]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    Fixture {
        domain: r.xml("DomainName").unwrap(),
        signer: Signer::new(key_id.parse().unwrap(), key),
        m,
    }
}

impl Fixture {
    fn host(&self) -> String {
        format!("{}.localhost:{}", self.domain, self.m.port())
    }

    fn signed(&self, path: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let url = format!("http://{}{path}", self.host());
        let signed = self
            .signer
            .sign_canned_url(&url, UnixTime::from_secs(now + 300).unwrap())
            .unwrap();
        signed
            .strip_prefix(&format!("http://{}", self.host()))
            .unwrap()
            .to_owned()
    }

    fn get(&self, target: &str) -> Req {
        self.m.viewer_req("GET", target).host(&self.host())
    }
}

#[track_caller]
fn assert_cloudfront_headers(r: &Resp, x_cache: &str) {
    assert_eq!(r.header("x-cache"), Some(x_cache), "{:?}", r.headers);
    assert!(
        r.header("via")
            .is_some_and(|v| v.ends_with(".cloudfront.net (CloudFront)")),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("x-amz-cf-id").map(str::len), Some(56));
    assert!(r.header("x-amz-cf-pop").is_some());
}

/// Deterministic bytes that are not all alike.
fn big_object(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn moto_bucket_behind_the_edge() {
    if require("the moto S3 test", python_has("boto3, moto.server, flask")).is_err() {
        return;
    }
    // moto checks every request's SigV4 after the first three (the seeding's IAM set-up).
    let mut moto = start_moto(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("public/hello.txt", b"hello from S3\n".to_vec()),
        ("private/secret.txt", b"only with a signature\n".to_vec()),
        // moto's own SigV4 check mishandles keys with spaces or non-ASCII (boto3's uploads of
        // them fail); the botocore test below covers such keys.
        ("private/sub/dir/file_1.bin", b"nested key".to_vec()),
        ("private/big.bin", big_object(3 * 1024 * 1024 + 17)),
    ];
    let mut args = vec!["seed", moto.url(), BUCKET, REGION];
    let pairs: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, (key, body))| {
            let path = dir.path().join(i.to_string());
            std::fs::write(&path, body).unwrap();
            format!("{key}={}", path.display())
        })
        .collect();
    args.extend(pairs.iter().map(String::as_str));
    let seeded: serde_json::Value = serde_json::from_str(s3_helper(&args, None).trim()).unwrap();
    let credentials = || {
        Credentials::new(
            seeded["access_key"].as_str().unwrap(),
            seeded["secret_key"].as_str().unwrap(),
            None,
        )
    };

    // Without signing (OAC `never`), S3 refuses: its 403 passes through (moto answers an
    // anonymous request with an empty body, where S3 sends AccessDenied XML).
    let unsigned = fixture_with(moto.url(), "never", credentials());
    let r = unsigned.get("/public/hello.txt").send();
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.text(), "");
    assert_cloudfront_headers(&r, "Error from cloudfront");
    // Signed with a wrong secret, S3 refuses the signature.
    let wrong = fixture_with(
        moto.url(),
        "always",
        Credentials::new(seeded["access_key"].as_str().unwrap(), "wrong", None),
    );
    let r = wrong.get("/public/hello.txt").send();
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        r.xml("Code").as_deref(),
        Some("SignatureDoesNotMatch"),
        "{}",
        r.text()
    );

    // Signed with the right key (OAC `always`), moto accepts the edge's signature.
    let f = fixture_with(moto.url(), "always", credentials());
    // Public: served from S3, with CloudFront's headers.
    let r = f.get("/public/hello.txt").send();
    assert_eq!((r.status, r.text().as_str()), (200, "hello from S3\n"));
    assert_cloudfront_headers(&r, "Miss from cloudfront");
    assert!(
        r.header("etag").is_some(),
        "S3's headers pass: {:?}",
        r.headers
    );
    // Private: only with a signature.
    let r = f.get("/private/secret.txt").send();
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.xml("Code").as_deref(), Some("MissingKey"));
    assert_cloudfront_headers(&r, "Error from cloudfront");
    let r = f.get(&f.signed("/private/secret.txt")).send();
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "only with a signature\n")
    );
    let r = f.get(&f.signed("/private/sub/dir/file_1.bin")).send();
    assert_eq!((r.status, r.text().as_str()), (200, "nested key"));
    // A range of a large object: 206 from S3, the exact bytes.
    let big = &files[3].1;
    let r = f
        .get(&f.signed("/private/big.bin"))
        .header("Range", "bytes=1048570-1048600")
        .send();
    assert_eq!(r.status, 206, "{}", r.text());
    assert_eq!(r.body, big[1_048_570..=1_048_600]);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 1048570-1048600/{}", big.len()).as_str())
    );
    let r = f.get(&f.signed("/private/big.bin")).send();
    assert_eq!((r.status, r.body.len()), (200, big.len()));
    assert!(r.body == *big);
    // HEAD.
    let r =
        f.m.viewer_req("HEAD", &f.signed("/private/big.bin"))
            .host(&f.host())
            .send();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(big.len().to_string().as_str())
    );
    // A missing object: S3's 404 and its NoSuchKey body, through CloudFront.
    let r = f.get(&f.signed("/private/missing.txt")).send();
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.xml("Code").as_deref(), Some("NoSuchKey"), "{}", r.text());
    assert_cloudfront_headers(&r, "Error from cloudfront");
    // The bucket's server gone: 502 with CloudFront's page.
    moto.stop();
    let r = f.get(&f.signed("/private/secret.txt")).send();
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(r.text().contains("<H1>502 ERROR</H1>"), "{}", r.text());
    assert!(r.text().contains(r.header("x-amz-cf-id").unwrap()));
    assert_cloudfront_headers(&r, "Error from cloudfront");
}

/// An origin that records each request head and answers `200 ok`.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

fn recorder() -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    Recorder { url, seen }
}

/// (method, path, headers) of a recorded request head.
fn parse_head(head: &str) -> (String, String, Vec<(String, String)>) {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let path = first.next().unwrap().to_owned();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    (method, path, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn botocore_recomputes_the_edges_sigv4_signature() {
    if require("the botocore SigV4 test", python_has("botocore")).is_err() {
        return;
    }
    let origin = recorder();
    let f = fixture(&origin.url, "always");
    // The viewer's signature is checked before the origin is asked: a denial reaches no origin.
    let r = f.get("/private/secret.txt").send();
    assert_eq!(r.status, 403);
    assert!(
        origin.seen.lock().unwrap().is_empty(),
        "the origin was asked before the signature was checked"
    );

    for (target, range) in [
        (
            f.signed("/private/dir%20with%20space/%C3%BC%2Bx.bin"),
            Some("bytes=0-9"),
        ),
        ("/public/a~b(c).txt".to_owned(), None),
    ] {
        let mut req = f.get(&target).header("Authorization", "Bearer viewer");
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        let r = req.send();
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
        let head = origin.seen.lock().unwrap().pop().unwrap();
        let (method, path, headers) = parse_head(&head);
        assert_eq!(method, "GET");
        assert!(
            path.starts_with(&format!("/{BUCKET}/")),
            "path-style: {path}"
        );
        assert!(
            !path.contains('?'),
            "no viewer query string reaches S3: {path}"
        );
        assert_eq!(header(&headers, "range"), range);
        let auth = header(&headers, "authorization").unwrap();
        assert!(
            auth.starts_with(&format!(
                "AWS4-HMAC-SHA256 Credential=testing/{}/{REGION}/s3/aws4_request, SignedHeaders=host;",
                &header(&headers, "x-amz-date").unwrap()[..8]
            )),
            "always replaces the viewer's Authorization with SigV4: {auth}"
        );
        assert_eq!(
            header(&headers, "x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        let request = serde_json::json!({
            "method": method,
            "url": format!("{}{path}", origin.url),
            "headers": headers,
            "access_key": "testing",
            "secret_key": "testing-secret",
            "region": REGION,
        });
        let out = s3_helper(&["resign"], Some(&request.to_string()));
        let botocore: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let expected = botocore["signature"].as_str().unwrap();
        assert!(
            auth.ends_with(&format!("Signature={expected}")),
            "botocore computes {expected} for\n{}\nbut the edge sent {auth}",
            botocore["canonical_request"]
        );
    }
}

#[test]
fn signing_behaviours_handle_the_viewers_authorization() {
    let origin = recorder();
    for (behavior, viewer, expect) in [
        ("no-override", Some("Bearer viewer"), Some("Bearer viewer")),
        ("no-override", None, Some("AWS4-HMAC-SHA256 ")),
        ("never", Some("Bearer viewer"), None),
        ("never", None, None),
        ("always", Some("Bearer viewer"), Some("AWS4-HMAC-SHA256 ")),
    ] {
        let f = fixture(&origin.url, behavior);
        let mut req = f.get("/public/x.txt");
        if let Some(v) = viewer {
            req = req.header("Authorization", v);
        }
        assert_eq!(req.send().status, 200);
        let head = origin.seen.lock().unwrap().pop().unwrap();
        let (_, _, headers) = parse_head(&head);
        let sent = header(&headers, "authorization");
        match expect {
            None => assert_eq!(sent, None, "{behavior} with {viewer:?}"),
            Some(prefix) => assert!(
                sent.is_some_and(|s| s.starts_with(prefix)),
                "{behavior} with {viewer:?}: {sent:?}"
            ),
        }
        assert_eq!(
            header(&headers, "x-amz-date").is_some(),
            sent.is_some_and(|s| s.starts_with("AWS4"))
        );
        assert_eq!(header(&headers, "user-agent"), Some("Amazon CloudFront"));
        assert!(header(&headers, "x-amz-cf-id").is_some());
    }
}
