//! The mock explains itself: the request log at `GET /_cfsign/requests` (decisions, 403 codes,
//! explanations, filters), the opt-in `x-cfsign-reason` header, and answers that stay
//! byte-identical to CloudFront's when nobody asks.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use cfsign::{DenyCode, KeyKind, PrivateKey, Signer, UnixTime};
use cfsign_mock::{Clock, MockConfig};
use common::*;

const NOW: u64 = 1_800_000_000;
const ORIGIN: &str = "bucket.s3.amazonaws.com";

struct Fixture {
    m: Mock,
    _dir: tempfile::TempDir,
    signer: Signer,
    domain: String,
    dist_id: String,
}

/// A mock at a fixed time: `/private/*` trusts one RSA key, the default behaviour is public.
fn fixture(config: MockConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("private")).unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("public/a.txt"), "public").unwrap();
    std::fs::write(dir.path().join("private/a.txt"), "secret").unwrap();
    let m = Mock::start(
        config
            .with_origin_for(ORIGIN, dir.path())
            .with_clock(Clock::Fixed(UnixTime::from_secs(NOW).unwrap())),
    );
    let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng()).unwrap();
    let r = m.post(
        "/2020-05-31/public-key",
        &public_key_config("k", "k", &key.public_key().to_pem()),
    );
    let key_id = r.xml("Id").unwrap();
    let group_id = m
        .post("/2020-05-31/key-group", &key_group_config("g", &[&key_id]))
        .xml("Id")
        .unwrap();
    let r = m.post(
        "/2020-05-31/distribution",
        &distribution_config("explain", true, ORIGIN, &[], &[&group_id]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    Fixture {
        signer: Signer::new(key_id.parse().unwrap(), key),
        domain: r.xml("DomainName").unwrap(),
        dist_id: r.xml("Id").unwrap(),
        m,
        _dir: dir,
    }
}

impl Fixture {
    fn host(&self) -> String {
        format!("{}.localhost:{}", self.domain, self.m.port())
    }

    fn get(&self, path: &str) -> Resp {
        self.m.req("GET", path).host(&self.host()).send()
    }

    fn requests(&self, query: &str) -> Vec<serde_json::Value> {
        let r = self.m.get(&format!("/_cfsign/requests{query}"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v: serde_json::Value = serde_json::from_str(&r.text()).unwrap();
        v["requests"].as_array().unwrap().clone()
    }

    fn signed(&self, path: &str, expires: u64) -> String {
        let url = self
            .signer
            .sign_canned_url(
                &format!("http://{}{path}", self.host()),
                UnixTime::from_secs(expires).unwrap(),
            )
            .unwrap();
        url.strip_prefix(&format!("http://{}", self.host()))
            .unwrap()
            .to_owned()
    }
}

#[test]
fn every_edge_request_is_logged_with_its_decision_and_explanation() {
    let f = fixture(MockConfig::default());
    assert_eq!(f.get("/public/a.txt").status, 200);
    let r = f.get("/private/a.txt");
    assert_eq!(r.status, 403);
    assert_eq!(r.text(), DenyCode::MissingKey.xml_body());
    let expired = f.signed("/private/a.txt", NOW - 60);
    assert_eq!(f.get(&expired).status, 403);
    let good = f.signed("/private/a.txt", NOW + 60);
    assert_eq!(f.get(&good).status, 200);

    let all = f.requests("");
    assert_eq!(all.len(), 4, "{all:#?}");
    // Newest first.
    let (served, expired, missing, public) = (&all[0], &all[1], &all[2], &all[3]);
    assert_eq!(public["decision"], "public");
    assert_eq!(public["status"], 200);
    assert_eq!(public["behaviour"], "*");
    assert!(
        public["explanation"]
            .as_str()
            .unwrap()
            .contains("not restricted")
    );
    assert_eq!(missing["decision"], "denied");
    assert_eq!(missing["code"], "MissingKey");
    assert_eq!(missing["reason"], "no_signature");
    assert_eq!(missing["behaviour"], "/private/*");
    assert_eq!(expired["code"], "AccessDenied");
    assert_eq!(expired["reason"], "expired");
    assert!(
        expired["explanation"]
            .as_str()
            .unwrap()
            .contains("expired 1m"),
        "{expired}"
    );
    assert_eq!(served["decision"], "granted");
    assert_eq!(served["distribution_id"], f.dist_id.as_str());
    assert_eq!(served["domain_name"], f.domain.as_str());
    assert!(
        served["explanation"]
            .as_str()
            .unwrap()
            .contains(f.signer.key_pair_id().as_str())
    );
    // The logged URL does not keep a usable signature.
    let full_signature = good
        .split("Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(!served["url"].as_str().unwrap().contains(full_signature));
    assert!(served["url"].as_str().unwrap().contains("Signature="));
    // IDs increase by one; times come from the mock's clock.
    let ids: Vec<u64> = all.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![4, 3, 2, 1]);
    assert_eq!(public["time_ms"], NOW * 1000);
    assert_eq!(public["time"], "2027-01-15T08:00:00.000Z");
}

#[test]
fn the_log_is_filtered_by_distribution_status_decision_since_and_after() {
    let f = fixture(MockConfig::default());
    f.get("/public/a.txt");
    f.get("/private/a.txt");
    f.get("/private/a.txt");
    let ids = |q: &str| -> Vec<u64> {
        f.requests(q)
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&format!("?distribution={}", f.dist_id)), vec![3, 2, 1]);
    assert_eq!(ids(&format!("?distribution={}", f.domain)), vec![3, 2, 1]);
    assert_eq!(ids("?distribution=E000000000000"), Vec::<u64>::new());
    assert_eq!(ids("?status=403"), vec![3, 2]);
    assert_eq!(ids("?status=2xx"), vec![1]);
    assert_eq!(ids("?decision=public"), vec![1]);
    assert_eq!(ids("?after=2"), vec![3]);
    assert_eq!(ids("?limit=1"), vec![3]);
    assert_eq!(ids(&format!("?since={NOW}")), vec![3, 2, 1]);
    assert_eq!(ids(&format!("?since={}", NOW + 1)), Vec::<u64>::new());
    let r = f.m.get("/_cfsign/requests?status=forbidden");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("status `forbidden`"), "{}", r.text());
}

#[test]
fn the_reason_header_is_opt_in() {
    let f = fixture(MockConfig::default());
    // Off by default: the answer is CloudFront's, no extra header.
    let plain = f.get("/private/a.txt");
    assert_eq!(plain.header("x-cfsign-reason"), None);
    // Per request.
    let r =
        f.m.req("GET", "/private/a.txt")
            .host(&f.host())
            .header("x-cfsign-explain", "1")
            .send();
    assert_eq!(r.status, 403);
    assert_eq!(r.text(), plain.text());
    let reason = r.header("x-cfsign-reason").unwrap();
    assert!(
        reason.starts_with("MissingKey: cache behaviour `/private/*` is restricted: no signature"),
        "{reason}"
    );
    // For every request, with the flag.
    let f = fixture(MockConfig::default().with_explain(true));
    let r = f.get("/public/a.txt");
    assert_eq!(r.status, 200);
    assert!(
        r.header("x-cfsign-reason")
            .unwrap()
            .starts_with("public: cache behaviour `*` is not restricted")
    );
}

#[test]
fn the_ring_keeps_only_the_newest_requests() {
    let f = fixture(MockConfig::default().with_request_log_entries(2));
    for _ in 0..5 {
        f.get("/public/a.txt");
    }
    let ids: Vec<u64> = f
        .requests("")
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![5, 4]);
}

#[test]
fn control_plane_and_unknown_console_paths_are_not_logged() {
    let f = fixture(MockConfig::default());
    f.m.get("/2020-05-31/distribution");
    assert!(f.requests("").is_empty());
    let r = f.m.get("/_cfsign/nothing-here");
    assert_eq!(r.status, 404);
    let r = f.m.req("POST", "/_cfsign/requests").send();
    assert_eq!(r.status, 405);
}

#[test]
fn the_console_json_lists_state_and_verifies_pasted_urls() {
    let f = fixture(MockConfig::default());
    let state: serde_json::Value = serde_json::from_str(&f.m.get("/_cfsign/state").text()).unwrap();
    let d = &state["distributions"][0];
    assert_eq!(d["id"], f.dist_id.as_str());
    assert_eq!(d["behaviors"][0]["path_pattern"], "/private/*");
    assert_eq!(d["behaviors"][0]["restricted"], true);
    assert_eq!(d["behaviors"][1]["default"], true);
    assert_eq!(state["public_keys"][0]["algorithm"], "ECDSA P-256");
    assert_eq!(state["now"], "2027-01-15T08:00:00Z");

    let verify = |url: &str| -> (u16, serde_json::Value) {
        let q: String = url
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let r = f.m.get(&format!("/_cfsign/verify?url={q}"));
        (r.status, serde_json::from_str(&r.text()).unwrap())
    };
    let base = format!("http://{}", f.host());
    let (status, v) = verify(&format!("{base}{}", f.signed("/private/a.txt", NOW - 60)));
    assert_eq!(status, 200);
    assert_eq!(
        (
            v["decision"].as_str(),
            v["code"].as_str(),
            v["reason"].as_str()
        ),
        (Some("denied"), Some("AccessDenied"), Some("expired"))
    );
    assert_eq!(
        v["inspection"]["key_pair_id"],
        f.signer.key_pair_id().as_str()
    );
    assert!(
        v["inspection"]["policy_json"]
            .as_str()
            .unwrap()
            .contains("DateLessThan")
    );
    let (_, v) = verify(&format!("{base}{}", f.signed("/private/a.txt", NOW + 60)));
    assert_eq!(v["decision"], "granted", "{v}");
    let (_, v) = verify(&format!("{base}/public/a.txt"));
    assert_eq!(v["decision"], "public");
    // The /_edge/ form works too; nothing is logged by verifying.
    let (_, v) = verify(&format!(
        "{}/_edge/{}/private/a.txt",
        f.m.endpoint(),
        f.dist_id
    ));
    assert_eq!(
        (v["decision"].as_str(), v["code"].as_str()),
        (Some("denied"), Some("MissingKey"))
    );
    assert!(f.requests("").is_empty());
    let (status, v) = verify("http://nowhere.example/a");
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no distribution"),
        "{v}"
    );
    // The page and its files.
    let page = f.m.get("/_cfsign/");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text().contains("Verify a URL"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(f.m.get("/_cfsign/console.js").status, 200);
    assert_eq!(f.m.get("/_cfsign").header("location"), Some("/_cfsign/"));
}

#[test]
fn the_console_answers_only_loopback_viewers_by_default() {
    use std::net::SocketAddr;
    use tower::ServiceExt as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = |config: MockConfig, from: [u8; 4]| -> u16 {
        let app = cfsign_mock::router(&config).unwrap();
        let mut request = axum::http::Request::get("/_cfsign/requests")
            .body(axum::body::Body::empty())
            .unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((from, 5000))));
        rt.block_on(app.oneshot(request)).unwrap().status().as_u16()
    };
    assert_eq!(status(MockConfig::default(), [127, 0, 0, 1]), 200);
    assert_eq!(status(MockConfig::default(), [192, 0, 2, 7]), 403);
    assert_eq!(
        status(
            MockConfig::default().with_insecure_remote_console(true),
            [192, 0, 2, 7]
        ),
        200
    );
}
