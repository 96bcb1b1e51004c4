//! The conformance corpus (`crates/cfsign/tests/data/conformance/`) through `POST /v1/verify`:
//! every request the core's own test decides, with the server trusting the corpus keys. The
//! endpoint must answer exactly as CloudFront does, and list the undocumented behaviour a grant
//! relies on; with `"strict": true` it denies such grants.

#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;
#[path = "../../cfsign/tests/conformance/corpus.rs"]
mod corpus;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, header};
use cfsign_server::{AppState, Config, app};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const TOKEN: &str = "conformance-token-0123456789";
/// The server's ID for the corpus's P-256 key (the RSA key keeps the corpus's own ID).
const P256_ID: &str = "K2JCJMDEHXQW5G";

fn state() -> AppState {
    let keys = corpus::data_dir().join("keys");
    let toml = format!(
        r#"active_key = "{rsa_id}"

[[keys]]
id = "{rsa_id}"
file = "{rsa}"

[[keys]]
id = "{P256_ID}"
file = "{p256}"

[[clients]]
name = "verifier"
token_sha256 = "{token}"
allow = ["https://d111111abcdef8.cloudfront.net/"]
max_ttl = "1h"
"#,
        rsa_id = corpus::KEY_PAIR_ID,
        rsa = keys.join("rsa2048-pkcs1.pem").display(),
        p256 = keys.join("p256-pkcs8.pem").display(),
        token = common::sha256_hex(TOKEN),
    );
    let config = Config::from_toml(&toml, Path::new("conformance.toml")).unwrap();
    AppState::from_config(&config, &|_| None).unwrap()
}

async fn verify(state: &AppState, check: &corpus::Check, strict: bool) -> Value {
    let body = json!({
        "url": check.url,
        "cookie": check.cookie,
        "client_ip": check.client_ip,
        "now": check.at,
        "strict": strict,
    });
    let request = Request::post("/v1/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "{}", check.describe());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn verify_endpoint_decides_the_corpus_as_cloudfront() {
    let state = state();
    let checks = corpus::all_checks();
    let mut replies = Vec::with_capacity(checks.len());
    for check in &checks {
        let sent = if check.key.starts_with("p256") {
            check.with_key_pair_id(P256_ID)
        } else {
            check.clone()
        };
        replies.push([
            verify(&state, &sent, false).await,
            verify(&state, &sent, true).await,
        ]);
    }
    corpus::run(&checks, |check, strict| {
        let i = checks.iter().position(|c| std::ptr::eq(c, check)).unwrap();
        let reply = &replies[i][usize::from(strict)];
        let got = if reply["granted"] == true {
            "granted".to_owned()
        } else {
            reply["code"].as_str().unwrap().to_owned()
        };
        let undocumented = reply["undocumented"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["kind"].as_str().unwrap().to_owned())
            .collect();
        (got, undocumented)
    });
}
