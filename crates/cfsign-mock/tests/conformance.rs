//! The conformance corpus (`crates/cfsign/tests/data/conformance/`) through the mock's edge: every
//! request the core's own test decides, sent to a distribution whose behaviours trust the
//! corpus key, with the request's time on the edge's clock and its client address as the
//! connection's. The edge must answer exactly as CloudFront does, in default and strict mode.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;
#[path = "../../cfsign/tests/conformance/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use axum::body::Body;
use axum::extract::ConnectInfo;
use cfsign::UnixTime;
use cfsign_mock::{Clock, MockConfig};
use common::*;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const ORIGIN: &str = "media.s3.amazonaws.com";

/// Provisions, in a state file, one distribution per corpus key: both behaviours trust a key
/// group holding that key. Returns each key file's distribution ID and key pair ID.
fn provision(state: &Path, origin: &Path, keys: &[&str]) -> BTreeMap<String, (String, String)> {
    let m = Mock::start(
        MockConfig::default()
            .with_state_file(state)
            .with_origin_for(ORIGIN, origin),
    );
    let mut out = BTreeMap::new();
    for (i, key) in keys.iter().enumerate() {
        let private = cfsign::PrivateKey::from_pem(&corpus::key_pem(key)).unwrap();
        let r = m.post(
            "/2020-05-31/public-key",
            &public_key_config(
                &format!("k{i}"),
                &format!("k{i}"),
                &private.public_key().to_pem(),
            ),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let key_id = r.xml("Id").unwrap();
        let r = m.post(
            "/2020-05-31/key-group",
            &key_group_config(&format!("g{i}"), &[&key_id]),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let group = r.xml("Id").unwrap();
        let r = m.post(
            "/2020-05-31/distribution",
            &distribution_config(&format!("d{i}"), true, ORIGIN, &[&group], &[&group]),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        out.insert((*key).to_owned(), (r.xml("Id").unwrap(), key_id));
    }
    m.stop();
    out
}

/// Sends a check's request to an in-process edge; `granted` or the 403 `<Code>`.
async fn send(router: &axum::Router, check: &corpus::Check) -> String {
    let (scheme, rest) = check.url.split_once("://").unwrap();
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(host_end);
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    let mut request = axum::http::Request::builder()
        .uri(target.as_str())
        .header("host", host)
        .header("x-forwarded-proto", scheme);
    if let Some(cookie) = &check.cookie {
        request = request.header("cookie", cookie);
    }
    let client: IpAddr = check
        .client_ip
        .as_deref()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |ip| ip.parse().unwrap());
    let mut request = request.body(Body::empty()).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(client, 40000)));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    if status == 403 {
        xml_value(&body, "Code").unwrap_or_else(|| format!("403 without a code: {body}"))
    } else {
        // Served by the edge: the origin answered (the object may not exist: 404 NoSuchKey).
        assert!(
            matches!(status, 200 | 404),
            "{status}: {body}\n{}",
            check.describe()
        );
        "granted".to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_decides_the_corpus_as_cloudfront() {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    std::fs::create_dir_all(origin.join("private")).unwrap();
    std::fs::write(origin.join("private/a.jpg"), "jpeg").unwrap();
    let state = dir.path().join("state.json");
    let checks = corpus::all_checks();
    let keys: Vec<String> = checks
        .iter()
        .map(|c| c.key.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let provisioned = tokio::task::block_in_place(|| provision(&state, &origin, &key_refs));

    // One edge per (key, time, mode), each from the same state file.
    let mut routers: BTreeMap<(String, u64, bool), axum::Router> = BTreeMap::new();
    let mut decisions: BTreeMap<(usize, bool), String> = BTreeMap::new();
    for (i, check) in checks.iter().enumerate() {
        let (dist_id, key_id) = &provisioned[&check.key];
        let check = check.with_key_pair_id(key_id);
        for strict in [false, true] {
            let router = routers
                .entry((check.key.clone(), check.at, strict))
                .or_insert_with(|| {
                    cfsign_mock::router(
                        &MockConfig::default()
                            .with_state_file(&state)
                            .with_origin_for(ORIGIN, &origin)
                            .with_default_distribution(dist_id.clone())
                            .with_clock(Clock::Fixed(UnixTime::from_secs(check.at).unwrap()))
                            .with_strict(strict),
                    )
                    .unwrap()
                });
            decisions.insert((i, strict), send(router, &check).await);
        }
    }
    // What the edge shows of undocumented behaviour is the difference between the two modes.
    corpus::run(&checks, |check, strict| {
        let i = checks.iter().position(|c| std::ptr::eq(c, check)).unwrap();
        let lenient = &decisions[&(i, false)];
        let strict_got = &decisions[&(i, true)];
        let undocumented = if lenient == "granted" && strict_got != "granted" {
            vec![
                check
                    .undocumented
                    .clone()
                    .unwrap_or_else(|| "(strict mode denied it)".to_owned()),
            ]
        } else {
            Vec::new()
        };
        (decisions[&(i, strict)].clone(), undocumented)
    });
}
