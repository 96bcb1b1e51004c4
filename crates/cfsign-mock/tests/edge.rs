//! The edge: routing by host or prefix, origin serving, and trusted-key-group enforcement with
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.
//! CloudFront's exact 403 bodies.

mod common;

use std::net::Ipv4Addr;

use cfsign::{CustomPolicy, DenyCode, KeyKind, PrivateKey, Resource, Signer, SourceIp, UnixTime};
use cfsign_mock::{Clock, MockConfig};
use common::*;

const NOW: u64 = 1_800_000_000;
const ORIGIN: &str = "bucket.s3.amazonaws.com";
/// `public/abc.txt` (36 bytes) and `private/abc.txt`.
const ABC: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

struct Fixture {
    m: Mock,
    _dir: tempfile::TempDir,
    signer: Signer,
    domain: String,
    dist_id: String,
    group_id: String,
    group_etag: String,
    other_key_id: String,
}

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

/// A mock at a fixed time with one distribution: `/private/*` trusts a group with one RSA key.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("private")).unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("public/a.txt"), "0123456789").unwrap();
    std::fs::write(dir.path().join("public/abc.txt"), ABC).unwrap();
    std::fs::write(dir.path().join("private/secret.txt"), "secret").unwrap();
    std::fs::write(dir.path().join("private/abc.txt"), ABC).unwrap();
    std::fs::write(dir.path().join("private/clip.mp4"), "mp4data").unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>home</h1>").unwrap();
    let m = Mock::start(
        MockConfig::default()
            .with_origin_for(ORIGIN, dir.path())
            .with_clock(Clock::Fixed(t(NOW))),
    );
    let key = PrivateKey::generate(KeyKind::Rsa2048, &mut rand::rng()).unwrap();
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("k", "k", &key.public_key().to_pem()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let key_id = r.xml("Id").unwrap();
    let (_, other_pem) = keypair(KeyKind::P256);
    let other_key_id = m
        .post(
            "/2020-05-31/public-key",
            &public_key_config("o", "o", &other_pem),
        )
        .xml("Id")
        .unwrap();
    let r = m.post("/2020-05-31/key-group", &key_group_config("g", &[&key_id]));
    let group_id = r.xml("Id").unwrap();
    let group_etag = r.etag();
    let config = distribution_config("edge", true, ORIGIN, &[], &[&group_id]).replace(
        "<CallerReference>edge</CallerReference>",
        "<CallerReference>edge</CallerReference><DefaultRootObject>index.html</DefaultRootObject>",
    );
    let r = m.post("/2020-05-31/distribution", &config);
    assert_eq!(r.status, 201, "{}", r.text());
    Fixture {
        signer: Signer::new(key_id.parse().unwrap(), key),
        domain: r.xml("DomainName").unwrap(),
        dist_id: r.xml("Id").unwrap(),
        m,
        _dir: dir,
        group_id,
        group_etag,
        other_key_id,
    }
}

impl Fixture {
    fn host(&self) -> String {
        format!("{}.localhost:{}", self.domain, self.m.port())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host())
    }

    /// GET of a full URL on this distribution's host.
    fn get(&self, url: &str) -> Resp {
        let target = url
            .strip_prefix(&format!("http://{}", self.host()))
            .unwrap();
        self.m.req("GET", target).host(&self.host()).send()
    }

    fn get_with_cookie(&self, path: &str, cookie: &str) -> Resp {
        self.m
            .req("GET", path)
            .host(&self.host())
            .header("Cookie", cookie)
            .send()
    }
}

#[track_caller]
fn assert_denied(r: &Resp, code: DenyCode) {
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/xml"));
    assert_eq!(r.text(), code.xml_body());
}

#[test]
fn public_paths_are_served_with_ranges_and_types() {
    let f = fixture();
    let r = f.get(&f.url("/public/a.txt"));
    assert_eq!((r.status, r.text().as_str()), (200, "0123456789"));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    // HEAD.
    let r = f.m.req("HEAD", "/public/a.txt").host(&f.host()).send();
    assert_eq!((r.status, r.header("content-length")), (200, Some("10")));
    // Ranges.
    let r =
        f.m.req("GET", "/public/a.txt")
            .host(&f.host())
            .header("Range", "bytes=2-4")
            .send();
    assert_eq!((r.status, r.text().as_str()), (206, "234"));
    assert_eq!(r.header("content-range"), Some("bytes 2-4/10"));
    let r =
        f.m.req("GET", "/public/a.txt")
            .host(&f.host())
            .header("Range", "bytes=-3")
            .send();
    assert_eq!((r.status, r.text().as_str()), (206, "789"));
    let r =
        f.m.req("GET", "/public/a.txt")
            .host(&f.host())
            .header("Range", "bytes=50-")
            .send();
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */10"));
    // Default root object, missing objects, traversal, methods.
    assert_eq!(f.get(&f.url("/")).text(), "<h1>home</h1>");
    let r = f.get(&f.url("/public/missing.txt"));
    assert_eq!(r.status, 404);
    assert!(r.text().contains("<Code>NoSuchKey</Code>"));
    assert_eq!(
        f.get(&f.url("/public/..%2f..%2f..%2fetc/passwd")).status,
        404
    );
    assert_eq!(f.get(&f.url("/public/../index.html")).status, 404);
    let r =
        f.m.req("POST", "/public/a.txt")
            .host(&f.host())
            .body("x")
            .send();
    assert_eq!(r.status, 405);
}

#[test]
fn distribution_is_reached_by_host_alias_prefix_and_default() {
    let f = fixture();
    // Host without .localhost, and without a port.
    let r = f.m.req("GET", "/public/a.txt").host(&f.domain).send();
    assert_eq!(r.status, 200);
    // Path prefix by domain and by ID; the behaviour is chosen after the prefix.
    let r = f.m.get(&format!("/_edge/{}/public/a.txt", f.domain));
    assert_eq!(r.status, 200);
    let r = f.m.get(&format!("/_edge/{}/private/secret.txt", f.dist_id));
    assert_denied(&r, DenyCode::MissingKey);
    // A prefix URL signed as sent is granted.
    let url = format!(
        "http://127.0.0.1:{}/_edge/{}/private/secret.txt",
        f.m.port(),
        f.dist_id
    );
    let signed = f.signer.sign_canned_url(&url, t(NOW + 60)).unwrap();
    let target = signed
        .strip_prefix(&format!("http://127.0.0.1:{}", f.m.port()))
        .unwrap();
    let r = f.m.get(target);
    assert_eq!((r.status, r.text().as_str()), (200, "secret"));
    f.m.get("/_edge/nope/x")
        .expect_error(404, "NoSuchDistribution");
}

#[test]
fn default_distribution_mode() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let m = Mock::start(
        MockConfig::default()
            .with_state_file(&state)
            .with_demo(true)
            .with_demo_key_file(dir.path().join("k.pem")),
    );
    let demo = m.handle().demo().unwrap();
    let domain = demo.domain_name().to_owned();
    let id = demo.distribution_id().to_owned();
    let key_pair_id = demo.key_pair_id().to_owned();
    let pem = demo.private_key_pem().to_owned();
    assert!(dir.path().join("k.pem").exists());
    let m2 = Mock::start(MockConfig::default().with_default_distribution("none-yet"));
    assert_eq!(m2.get("/public/hello.txt").status, 404);
    drop(m2);
    // The demo: public path served, private path restricted to the demo key.
    let r = m.req("GET", "/public/hello.txt").host(&domain).send();
    assert_eq!(r.status, 200);
    assert_denied(
        &m.req("GET", "/private/secret.txt").host(&domain).send(),
        DenyCode::MissingKey,
    );
    let signer = Signer::new(
        key_pair_id.parse().unwrap(),
        PrivateKey::from_pem(&pem).unwrap(),
    );
    let url = signer
        .sign_canned_url(
            &format!("http://{domain}/private/secret.txt"),
            t(2_000_000_000),
        )
        .unwrap();
    let r = m
        .req(
            "GET",
            url.strip_prefix(&format!("http://{domain}")).unwrap(),
        )
        .host(&domain)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    m.stop();
    // Default-distribution mode: plain 127.0.0.1 requests reach the demo distribution, which is
    // found again (not re-created) in the state file.
    let m = Mock::start(
        MockConfig::default()
            .with_state_file(&state)
            .with_demo(true)
            .with_demo_key_file(dir.path().join("k.pem"))
            .with_default_distribution(id.clone()),
    );
    assert_eq!(m.handle().demo().unwrap().distribution_id(), id);
    assert_eq!(m.get("/public/hello.txt").status, 200);
    assert_denied(&m.get("/private/secret.txt"), DenyCode::MissingKey);
    // The control plane still answers under /2020-05-31/.
    assert_eq!(m.get("/2020-05-31/distribution").status, 200);
}

#[test]
fn signed_urls_and_cookies_are_granted() {
    let f = fixture();
    // Canned URL.
    let signed = f
        .signer
        .sign_canned_url(&f.url("/private/secret.txt"), t(NOW + 60))
        .unwrap();
    let r = f.get(&signed);
    assert_eq!((r.status, r.text().as_str()), (200, "secret"), "{signed}");
    // Canned URL with the caller's own query string.
    let signed = f
        .signer
        .sign_canned_url(&f.url("/private/secret.txt?v=2"), t(NOW + 60))
        .unwrap();
    assert_eq!(f.get(&signed).status, 200);
    // Custom policy with a wildcard, a start time and the client's IP.
    let policy = CustomPolicy::new(Resource::new(&f.url("/private/*")).unwrap(), t(NOW + 60))
        .with_starts_at(t(NOW - 60))
        .unwrap()
        .with_source_ip(SourceIp::new(Ipv4Addr::LOCALHOST, 32).unwrap());
    let signed = f
        .signer
        .sign_custom_url(&f.url("/private/clip.mp4"), &policy)
        .unwrap();
    let r = f.get(&signed);
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("video/mp4"))
    );
    // Canned cookies (exact URL) and custom cookies (folder).
    let cookies = f
        .signer
        .canned_cookies(&f.url("/private/secret.txt"), t(NOW + 60))
        .unwrap();
    let r = f.get_with_cookie("/private/secret.txt", &cookies.cookie_header());
    assert_eq!(r.status, 200, "{}", r.text());
    let custom = f.signer.custom_cookies(&policy).unwrap();
    let r = f.get_with_cookie(
        "/private/clip.mp4",
        &format!("other=1; {}", custom.cookie_header()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Range on a signed object.
    let target = signed
        .strip_prefix(&format!("http://{}", f.host()))
        .unwrap();
    let r =
        f.m.req("GET", target)
            .host(&f.host())
            .header("Range", "bytes=0-2")
            .send();
    assert_eq!((r.status, r.text().as_str()), (206, "mp4"));
}

#[test]
fn every_deny_code_has_the_exact_body() {
    let f = fixture();
    let base = f.url("/private/secret.txt");
    // MissingKey: nothing at all, or parameters without Key-Pair-Id.
    assert_denied(&f.get(&base), DenyCode::MissingKey);
    assert_denied(
        &f.get(&format!("{base}?Expires={}&Signature=abc", NOW + 60)),
        DenyCode::MissingKey,
    );
    // InvalidKey: a key that exists but is not in the behaviour's groups, and an unknown one.
    let signed = f.signer.sign_canned_url(&base, t(NOW + 60)).unwrap();
    let kid = f.signer.key_pair_id().as_str();
    assert_denied(
        &f.get(&signed.replace(kid, &f.other_key_id)),
        DenyCode::InvalidKey,
    );
    assert_denied(
        &f.get(&signed.replace(kid, "KUNKNOWN000000")),
        DenyCode::InvalidKey,
    );
    // MalformedSignature.
    let sig_start = signed.find("Signature=").unwrap() + "Signature=".len();
    let sig_end = signed[sig_start..]
        .find('&')
        .map_or(signed.len(), |i| sig_start + i);
    let bad_sig = format!("{}%%%%{}", &signed[..sig_start], &signed[sig_end..]);
    assert_denied(&f.get(&bad_sig), DenyCode::MalformedSignature);
    // MalformedPolicy: a Policy that is not base64 / not a policy, an Expires that is not a number.
    assert_denied(
        &f.get(&format!(
            "{base}?Policy=%%%&Signature=abcd&Key-Pair-Id={kid}"
        )),
        DenyCode::MalformedPolicy,
    );
    assert_denied(
        &f.get(&format!(
            "{base}?Policy={}&Signature=abcd&Key-Pair-Id={kid}",
            cfsign::encoding::encode(b"{not json")
        )),
        DenyCode::MalformedPolicy,
    );
    assert_denied(
        &f.get(&format!(
            "{base}?Expires=soon&Signature=abcd&Key-Pair-Id={kid}"
        )),
        DenyCode::MalformedPolicy,
    );
    // AccessDenied: expired, not yet valid, tampered URL, wrong resource, wrong IP.
    assert_denied(
        &f.get(&f.signer.sign_canned_url(&base, t(NOW - 1)).unwrap()),
        DenyCode::AccessDenied,
    );
    assert_denied(&f.get(&format!("{signed}&extra=1")), DenyCode::AccessDenied);
    let other_path = f
        .signer
        .sign_canned_url(&f.url("/private/clip.mp4"), t(NOW + 60))
        .unwrap();
    assert_denied(
        &f.get(&other_path.replace("clip.mp4", "secret.txt")),
        DenyCode::AccessDenied,
    );
    let later = CustomPolicy::new(Resource::new(&f.url("/private/*")).unwrap(), t(NOW + 600))
        .with_starts_at(t(NOW + 60))
        .unwrap();
    assert_denied(
        &f.get(&f.signer.sign_custom_url(&base, &later).unwrap()),
        DenyCode::AccessDenied,
    );
    let elsewhere = CustomPolicy::new(Resource::new(&f.url("/public/*")).unwrap(), t(NOW + 60));
    assert_denied(
        &f.get(&f.signer.sign_custom_url(&base, &elsewhere).unwrap()),
        DenyCode::AccessDenied,
    );
    let wrong_ip = CustomPolicy::new(Resource::new(&f.url("/private/*")).unwrap(), t(NOW + 60))
        .with_source_ip(SourceIp::new(Ipv4Addr::new(10, 0, 0, 0), 8).unwrap());
    assert_denied(
        &f.get(&f.signer.sign_custom_url(&base, &wrong_ip).unwrap()),
        DenyCode::AccessDenied,
    );
    // Signed for another host (the .localhost-less domain) is a different resource.
    let other_host = f
        .signer
        .sign_canned_url(
            &format!("http://{}/private/secret.txt", f.domain),
            t(NOW + 60),
        )
        .unwrap();
    let query = &other_host[other_host.find('?').unwrap()..];
    assert_denied(&f.get(&format!("{base}{query}")), DenyCode::AccessDenied);
    // Cookies: a canned cookie for another URL is AccessDenied; URL parameters win over cookies.
    let cookies = f
        .signer
        .canned_cookies(&f.url("/private/clip.mp4"), t(NOW + 60))
        .unwrap();
    assert_denied(
        &f.get_with_cookie("/private/secret.txt", &cookies.cookie_header()),
        DenyCode::AccessDenied,
    );
    let good = f.signer.canned_cookies(&base, t(NOW + 60)).unwrap();
    let r =
        f.m.req("GET", "/private/secret.txt?Expires=1")
            .host(&f.host())
            .header("Cookie", &good.cookie_header())
            .send();
    assert_denied(&r, DenyCode::MissingKey);
    // The public path never needs a signature, even with junk parameters.
    assert_eq!(f.get(&f.url("/public/a.txt?Signature=zzz")).status, 200);
}

#[test]
fn key_group_changes_take_effect_at_the_edge() {
    let f = fixture();
    let signed = f
        .signer
        .sign_canned_url(&f.url("/private/secret.txt"), t(NOW + 60))
        .unwrap();
    assert_eq!(f.get(&signed).status, 200);
    // Replace the group's key: the old key is no longer trusted.
    let r = f.m.put(
        &format!("/2020-05-31/key-group/{}", f.group_id),
        &f.group_etag,
        &key_group_config("g", &[&f.other_key_id]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_denied(&f.get(&signed), DenyCode::InvalidKey);
}

#[test]
fn the_clock_can_be_shifted() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = t(now + 3600);
    for (offset, granted) in [(0, true), (3599 - 5, true), (3601, false)] {
        let m = Mock::start(
            MockConfig::default()
                .with_demo(true)
                .with_clock(Clock::Offset(offset)),
        );
        let demo = m.handle().demo().unwrap();
        let signer = Signer::new(
            demo.key_pair_id().parse().unwrap(),
            PrivateKey::from_pem(demo.private_key_pem()).unwrap(),
        );
        let url = format!("http://{}/private/secret.txt", demo.domain_name());
        let signed = signer.sign_canned_url(&url, expires).unwrap();
        let target = signed
            .strip_prefix(&format!("http://{}", demo.domain_name()))
            .unwrap();
        let r = m.req("GET", target).host(demo.domain_name()).send();
        assert_eq!(r.status == 200, granted, "offset {offset}: {}", r.text());
    }
}

#[test]
fn config_file_maps_origins_to_directories() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, body: &str| {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    write("default/a.txt", "from default");
    write("bucket/sub/a.txt", "from bucket/sub");
    write(
        "mock.toml",
        "origin = \"default\"\n[origins]\n\"Bucket.s3.amazonaws.com\" = \"bucket\"\n",
    );
    let config = MockConfig::default()
        .with_config_file(&dir.path().join("mock.toml"))
        .unwrap();
    let m = Mock::start(config);
    let create = |caller: &str, origin: &str, origin_path: &str| {
        let body = distribution_config(caller, true, origin, &[], &[]).replace(
            "<OriginPath></OriginPath>",
            &format!("<OriginPath>{origin_path}</OriginPath>"),
        );
        let r = m.post("/2020-05-31/distribution", &body);
        assert_eq!(r.status, 201, "{}", r.text());
        r.xml("DomainName").unwrap()
    };
    let mapped = create("a", "bucket.s3.amazonaws.com", "/sub");
    let other = create("b", "elsewhere.example.com", "");
    let r = m.req("GET", "/a.txt").host(&mapped).send();
    assert_eq!((r.status, r.text().as_str()), (200, "from bucket/sub"));
    let r = m.req("GET", "/a.txt").host(&other).send();
    assert_eq!((r.status, r.text().as_str()), (200, "from default"));
    // Without any directory for an origin: 502.
    let bare = Mock::start(MockConfig::default());
    let r = bare.post(
        "/2020-05-31/distribution",
        &distribution_config("c", true, "nowhere.example.com", &[], &[]),
    );
    let domain = r.xml("DomainName").unwrap();
    assert_eq!(bare.req("GET", "/a.txt").host(&domain).send().status, 502);
    // A broken config file is a clear error.
    write("bad.toml", "origin = 3\n");
    let err = MockConfig::default()
        .with_config_file(&dir.path().join("bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.toml") && err.contains("not valid"),
        "{err}"
    );
}

#[test]
fn aliases_route_to_their_distribution_and_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "via alias").unwrap();
    let m = Mock::start(MockConfig::default().with_origin(dir.path()));
    let with_alias = |caller: &str| {
        distribution_config(caller, true, "o.example.com", &[], &[]).replace(
            "<Origins>",
            "<Aliases><Quantity>1</Quantity><Items><CNAME>cdn.example.com</CNAME></Items></Aliases><Origins>",
        )
    };
    let r = m.post("/2020-05-31/distribution", &with_alias("one"));
    assert_eq!(r.status, 201, "{}", r.text());
    m.post("/2020-05-31/distribution", &with_alias("two"))
        .expect_error(409, "CNAMEAlreadyExists");
    let r = m.req("GET", "/a.txt").host("CDN.example.com").send();
    assert_eq!((r.status, r.text().as_str()), (200, "via alias"));
    let r = m
        .req("GET", "/a.txt")
        .host(&format!("cdn.example.com.localhost:{}", m.port()))
        .send();
    assert_eq!(r.status, 200);
}

/// The exact `multipart/byteranges` body for `parts` of (first, last) of [`ABC`] as text/plain.
fn multipart(boundary: &str, parts: &[(usize, usize)]) -> String {
    let mut out = String::new();
    for (i, &(a, b)) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes {a}-{b}/36\r\n\r\n{}",
            &ABC[a..=b]
        ));
    }
    out.push_str(&format!("\r\n--{boundary}--\r\n"));
    out
}

impl Fixture {
    fn range(&self, method: &str, target: &str, range: &str) -> Resp {
        self.m
            .req(method, target)
            .host(&self.host())
            .header("Range", range)
            .send()
    }
}

/// Asserts a `multipart/byteranges` 206 with exactly these parts, and returns the boundary.
#[track_caller]
fn assert_multipart(r: &Resp, parts: &[(usize, usize)]) -> String {
    assert_eq!(r.status, 206, "{}", r.text());
    let boundary = r
        .header("content-type")
        .and_then(|t| t.strip_prefix("multipart/byteranges; boundary="))
        .unwrap_or_else(|| panic!("not multipart/byteranges: {:?}", r.headers))
        .to_owned();
    assert!(
        boundary.len() >= 16 && boundary.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{boundary}"
    );
    assert_eq!(
        r.header("content-range"),
        None,
        "multipart has no top-level Content-Range"
    );
    assert_eq!(r.text(), multipart(&boundary, parts));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    boundary
}

/// Asserts a single-part 206.
#[track_caller]
fn assert_single(r: &Resp, first: usize, last: usize) {
    assert_eq!(r.status, 206, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes {first}-{last}/36").as_str())
    );
    assert_eq!(r.text(), &ABC[first..=last]);
}

#[test]
fn several_ranges_are_sent_as_multipart_byteranges() {
    let f = fixture();
    let get = |range: &str| f.range("GET", "/public/abc.txt", range);
    // Two ranges, as in RFC 9110 §14.6; the boundary is fresh for every response.
    let b1 = assert_multipart(&get("bytes=0-9,20-29"), &[(0, 9), (20, 29)]);
    let b2 = assert_multipart(&get("bytes=0-9,20-29"), &[(0, 9), (20, 29)]);
    assert_ne!(b1, b2);
    // Suffix and open ranges; parts keep the order they were asked in.
    assert_multipart(&get("bytes=0-3,-5"), &[(0, 3), (31, 35)]);
    assert_multipart(&get("bytes=30-, 2-4"), &[(30, 35), (2, 4)]);
    assert_multipart(&get("bytes=-2,0-0,10-12"), &[(34, 35), (0, 0), (10, 12)]);
    // An unsatisfiable member is dropped; the others are served.
    assert_multipart(&get("bytes=0-1,100-200,-2"), &[(0, 1), (34, 35)]);
    assert_single(&get("bytes=0-1,100-200"), 0, 1);
    assert_multipart(&get("bytes=30-99,0-1"), &[(30, 35), (0, 1)]);
    // Overlapping and adjacent ranges are coalesced; one range left is sent as a single part.
    assert_single(&get("bytes=0-4,3-9"), 0, 9);
    assert_single(&get("bytes=0-4,5-9"), 0, 9);
    assert_single(&get("bytes=-5,30-32"), 30, 35);
    assert_multipart(&get("bytes=0-1,6-7,3-4"), &[(0, 1), (6, 7), (3, 4)]);
    assert_multipart(&get("bytes=0-1,6-7,2-5,20-21"), &[(0, 7), (20, 21)]);
    // Single ranges as before: closed, open, suffix, past the end.
    assert_single(&get("bytes=10-"), 10, 35);
    assert_single(&get("bytes=-5"), 31, 35);
    assert_single(&get("bytes=-100"), 0, 35);
    assert_single(&get("bytes=34-100"), 34, 35);
    // Nothing satisfiable: 416 with the length.
    for range in ["bytes=36-", "bytes=100-,200-300", "bytes=-0,40-41"] {
        let r = get(range);
        assert_eq!(r.status, 416, "{range}: {}", r.text());
        assert_eq!(r.header("content-range"), Some("bytes */36"), "{range}");
        assert!(r.body.is_empty(), "{range}");
    }
    // Not a valid byte-range set: the whole object.
    for range in ["bytes=0-1,5-2", "bytes=0-1,x", "items=0-1,2-3"] {
        let r = get(range);
        assert_eq!((r.status, r.text().as_str()), (200, ABC), "{range}");
        assert_eq!(r.header("content-range"), None, "{range}");
    }
    // HEAD: the same headers, no body.
    let full = get("bytes=0-9,20-29");
    let r = f.range("HEAD", "/public/abc.txt", "bytes=0-9,20-29");
    assert_eq!(r.status, 206);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), full.header("content-length"));
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("multipart/byteranges; boundary=")
    );
}

#[test]
fn ranges_on_restricted_paths_need_a_signature_first() {
    let f = fixture();
    // Unsigned: the 403, not a 206 and not a 416.
    for range in ["bytes=0-9,20-29", "bytes=100-", "bytes=0-1"] {
        assert_denied(
            &f.range("GET", "/private/abc.txt", range),
            DenyCode::MissingKey,
        );
    }
    let signed = f
        .signer
        .sign_canned_url(&f.url("/private/abc.txt"), t(NOW + 60))
        .unwrap();
    let target = signed
        .strip_prefix(&format!("http://{}", f.host()))
        .unwrap();
    assert_multipart(
        &f.range("GET", target, "bytes=0-9,20-29"),
        &[(0, 9), (20, 29)],
    );
    assert_single(&f.range("GET", target, "bytes=-5"), 31, 35);
    let r = f.range("GET", target, "bytes=100-,-0");
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */36"))
    );
    // A tampered signature is still denied whatever the range.
    let tampered = target.replace("Signature=", "Signature=A");
    assert_eq!(f.range("GET", &tampered, "bytes=0-1,3-4").status, 403);
}
