//! Keys held in AWS (the `aws` feature), against a real moto server started by the test: a KMS
//! key signs (SHA-256 forced, SHA-1 refused with the reason), the signature cache and expiry
//! granularity cut `kms:Sign` calls for a hot resource, keys load from Secrets Manager and SSM,
//! and a failed refresh keeps the last good key and shows in `/readyz` and `/metrics`.
//!
//! Runs with `cargo test -p cfsign-server --features aws` (and in the workspace test run, where
//! the feature is on).

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

mod common;
#[path = "common/server.rs"]
mod server;

use std::time::Duration;

use cfsign::{PublicKey, TrustedKeys, UnixTime};
use cfsign_tests::{http, moto};
use common::*;
use serde_json::Value;
use server::{Server, metric_value, wait_for};

const KMS_ID: &str = "KKMSAAAAAAAAAA";
const SECRET_ID: &str = "KSECRETAAAAAAA";
const SSM_ID: &str = "KSSMAAAAAAAAAA";

/// Creates a KMS signing key of `spec` in moto; returns its ARN and public key (SPKI DER).
fn kms_key(endpoint: &str, spec: &str) -> (String, Vec<u8>) {
    let out = moto::boto3(
        endpoint,
        &format!(
            "kms = client('kms')\n\
             arn = kms.create_key(KeySpec='{spec}', KeyUsage='SIGN_VERIFY')['KeyMetadata']['Arn']\n\
             der = kms.get_public_key(KeyId=arn)['PublicKey']\n\
             print(arn, der.hex())"
        ),
    )
    .unwrap();
    let (arn, der) = out.trim().split_once(' ').unwrap();
    (arn.to_owned(), hex::decode(der).unwrap())
}

/// The server config: three keys held in AWS (`active` signs), the `web` client, refreshes every
/// second and a one-minute expiry granularity.
fn config(active: &str, kms_arn: &str) -> String {
    format!(
        r#"active_key = "{active}"

[cache]
expiry_granularity_secs = 60

[aws]
refresh_secs = 1
max_attempts = 2
timeout_secs = 3

[[keys]]
id = "{KMS_ID}"
kms_key_id = "{kms_arn}"

[[keys]]
id = "{SECRET_ID}"
secret = "cdn/signing-key"
json_field = "private_key"

[[keys]]
id = "{SSM_ID}"
ssm_parameter = "/cdn/signing-key"

[[clients]]
name = "web"
token_sha256 = "{web}"
allow = ["https://d1.example.net/media/"]
max_ttl = "1h"
cookies = true
custom_policy = true
"#,
        web = sha256_hex(WEB_TOKEN),
    )
}

/// Stores a PEM private key in moto as the JSON secret and the SSM parameter the config names.
fn store_pem_keys(endpoint: &str) -> cfsign::PrivateKey {
    let key = cfsign::PrivateKey::generate(cfsign::KeyKind::P256, &mut rand::rng()).unwrap();
    let pem = key.to_pkcs8_pem();
    // As glue scripts store it: the newlines escaped inside a JSON string.
    moto::boto3(
        endpoint,
        &format!(
            "pem = {pem:?}\n\
             client('secretsmanager').create_secret(Name='cdn/signing-key', SecretString=json.dumps({{'private_key': pem, 'user': 'cdn'}}))\n\
             client('ssm').put_parameter(Name='/cdn/signing-key', Type='SecureString', Value=pem.replace('\\n', '\\\\n'))",
            pem = pem.as_str()
        ),
    )
    .unwrap();
    key
}

fn start(endpoint: &str, config: &str) -> Server {
    let env = moto::env(endpoint);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with_env(config, &env)
}

fn granted(url: &str, key_id: &str, public_key: &PublicKey, cookies: Option<&str>) -> bool {
    let trusted: TrustedKeys = [(key_id.parse().unwrap(), public_key.clone())]
        .into_iter()
        .collect();
    let now = UnixTime::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let request = cfsign::Request::new(url, now);
    let request = match cookies {
        Some(header) => request.with_cookie_header(header),
        None => request,
    };
    cfsign::verify(&request, &trusted).is_granted()
}

fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let resp = http::post_json(&server.url(path), body)
        .bearer(WEB_TOKEN)
        .send()
        .unwrap();
    let json = resp.json().unwrap_or(Value::Null);
    (resp.status, json)
}

fn metrics(server: &Server) -> String {
    http::get(&server.url("/metrics")).send().unwrap().text()
}

#[test]
fn kms_keys_sign_through_kms_with_sha256_and_the_cache_cuts_calls() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let endpoint = moto_server.url();
    store_pem_keys(endpoint);
    for spec in ["RSA_2048", "ECC_NIST_P256"] {
        let (arn, der) = kms_key(endpoint, spec);
        let public_key = PublicKey::from_der(&der).unwrap();
        let server = start(endpoint, &config(KMS_ID, &arn));

        // No hash asked: SHA-256, signed by KMS, accepted with the KMS public key.
        let url = "https://d1.example.net/media/a.jpg";
        let (status, body) = post(
            &server,
            "/v1/sign",
            &serde_json::json!({"url": url, "ttl": 300}),
        );
        assert_eq!(status, 200, "{spec}: {body}");
        assert_eq!(body["hash_algorithm"], "sha256");
        assert_eq!(body["key_pair_id"], KMS_ID);
        let signed = body["signed_url"].as_str().unwrap();
        assert!(signed.ends_with("&Hash-Algorithm=SHA256"), "{signed}");
        assert!(
            granted(signed, KMS_ID, &public_key, None),
            "{spec}: {signed}"
        );

        // SHA-1 asked: refused with the reason.
        let (status, body) = post(
            &server,
            "/v1/sign",
            &serde_json::json!({"url": url, "hash_algorithm": "sha1"}),
        );
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "sha1_unavailable");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("KMS has no SHA-1"),
            "{body}"
        );

        // Cookies.
        let (status, body) = post(
            &server,
            "/v1/cookies",
            &serde_json::json!({"resource": "https://d1.example.net/media/*", "ttl": 300}),
        );
        assert_eq!(status, 200, "{body}");
        let header: Vec<String> = body["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}={}",
                    c["name"].as_str().unwrap(),
                    c["value"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            granted(
                "https://d1.example.net/media/b/c.ts",
                KMS_ID,
                &public_key,
                Some(&header.join("; "))
            ),
            "{spec}: {body}"
        );

        // A hot resource: 100 requests, one KMS call per granularity window (two if the
        // minute turned over during the run).
        let before = metric_value(&metrics(&server), "cfsign_kms_sign_calls_total");
        const HOT: u64 = 100;
        let hot = "https://d1.example.net/media/hot.jpg";
        for _ in 0..HOT {
            let (status, _) = post(
                &server,
                "/v1/sign",
                &serde_json::json!({"url": hot, "ttl": 300}),
            );
            assert_eq!(status, 200);
        }
        let calls = metric_value(&metrics(&server), "cfsign_kms_sign_calls_total") - before;
        println!("{spec}: {calls} kms:Sign call(s) for {HOT} signed URLs of one hot resource");
        assert!(
            (1..=2).contains(&calls),
            "{spec}: {calls} KMS calls for {HOT} URLs"
        );
        // A burst: 40 concurrent requests for a resource nobody asked for yet share one call
        // (requests that miss the cache wait for the call under way).
        let before = metric_value(&metrics(&server), "cfsign_kms_sign_calls_total");
        let burst = "https://d1.example.net/media/burst.jpg";
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..40)
                .map(|_| {
                    scope.spawn(|| {
                        post(
                            &server,
                            "/v1/sign",
                            &serde_json::json!({"url": burst, "ttl": 300}),
                        )
                        .0
                    })
                })
                .collect();
            for handle in handles {
                assert_eq!(handle.join().unwrap(), 200);
            }
        });
        let calls = metric_value(&metrics(&server), "cfsign_kms_sign_calls_total") - before;
        println!("{spec}: {calls} kms:Sign call(s) for a burst of 40 concurrent requests");
        assert!(
            (1..=2).contains(&calls),
            "{spec}: {calls} KMS calls for a burst of 40"
        );
        assert_eq!(
            metric_value(&metrics(&server), "cfsign_kms_sign_failures_total"),
            0
        );

        // Readiness names every source.
        let ready: Value = http::get(&server.url("/readyz"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let sources = ready["key_sources"].as_array().unwrap();
        assert_eq!(sources.len(), 3, "{ready}");
        assert!(
            sources
                .iter()
                .all(|s| s["loaded"] == true && s.get("error").is_none()),
            "{ready}"
        );
    }
}

#[test]
fn pem_keys_from_secrets_manager_and_ssm_sign_and_a_failed_refresh_keeps_them() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let endpoint = moto_server.url();
    let key = store_pem_keys(endpoint);
    let (arn, _) = kms_key(endpoint, "ECC_NIST_P256");
    for active in [SECRET_ID, SSM_ID] {
        let server = start(endpoint, &config(active, &arn));
        // A PEM key signs locally, either hash.
        for hash in ["sha1", "sha256"] {
            let (status, body) = post(
                &server,
                "/v1/sign",
                &serde_json::json!({"url": "https://d1.example.net/media/a.jpg", "hash_algorithm": hash}),
            );
            assert_eq!(status, 200, "{body}");
            let signed = body["signed_url"].as_str().unwrap();
            assert!(
                granted(signed, active, &key.public_key(), None),
                "{active} {hash}"
            );
        }
    }
    let server = start(endpoint, &config(SECRET_ID, &arn));
    // The secret goes bad (a public key stored by mistake): the refresh fails, the last good key
    // stays, and /readyz and /metrics say so.
    moto::boto3(
        endpoint,
        &format!(
            "client('secretsmanager').put_secret_value(SecretId='cdn/signing-key', SecretString=json.dumps({{'private_key': {public:?}}}))",
            public = key.public_key().to_pem()
        ),
    )
    .unwrap();
    let source = "secret:cdn/signing-key#private_key";
    wait_for("the failed refresh", Duration::from_secs(20), || {
        metrics(&server).contains(&format!("cfsign_key_source_up{{source=\"{source}\"}} 0"))
    });
    let text = metrics(&server);
    assert!(
        text.contains(&format!(
            "cfsign_key_source_refresh_failures_total{{source=\"{source}\"}} "
        )),
        "{text}"
    );
    let ready = http::get(&server.url("/readyz")).send().unwrap();
    assert_eq!(ready.status, 200);
    let ready: Value = ready.json().unwrap();
    let status = ready["key_sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == source)
        .unwrap()
        .clone();
    assert_eq!(status["loaded"], true, "{ready}");
    let error = status["error"].as_str().unwrap();
    assert!(error.contains("public key"), "{error}");
    let pem = key.public_key().to_pem();
    let body_line = pem.lines().nth(1).unwrap();
    assert!(!error.contains(body_line), "key material in {error}");
    // Still signing with the last good key.
    let (status, body) = post(
        &server,
        "/v1/sign",
        &serde_json::json!({"url": "https://d1.example.net/media/a.jpg"}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(granted(
        body["signed_url"].as_str().unwrap(),
        SECRET_ID,
        &key.public_key(),
        None
    ));
    // Fixed: the next refresh recovers.
    moto::boto3(
        endpoint,
        &format!(
            "client('secretsmanager').put_secret_value(SecretId='cdn/signing-key', SecretString=json.dumps({{'private_key': {pem:?}}}))",
            pem = key.to_pkcs8_pem().as_str()
        ),
    )
    .unwrap();
    wait_for("the recovered refresh", Duration::from_secs(20), || {
        metrics(&server).contains(&format!("cfsign_key_source_up{{source=\"{source}\"}} 1"))
    });
}

#[test]
fn unusable_aws_keys_stop_the_start_with_a_clear_error() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let endpoint = moto_server.url();
    store_pem_keys(endpoint);
    let (wrong_spec, _) = kms_key(endpoint, "ECC_NIST_P384");
    let port = cfsign_tests::proc::free_port().unwrap();
    let cases = [
        (
            config(KMS_ID, &wrong_spec),
            endpoint.to_owned(),
            "ECC_NIST_P384",
        ),
        (
            config(KMS_ID, "alias/missing"),
            endpoint.to_owned(),
            "NotFoundException",
        ),
        (
            config(SECRET_ID, "alias/missing").replace("private_key", "pem"),
            endpoint.to_owned(),
            "no field `pem`",
        ),
        (
            config(SSM_ID, "alias/missing"),
            format!("http://127.0.0.1:{port}"),
            "could not reach AWS",
        ),
    ];
    for (config, endpoint, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, config).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cfsign-server"));
        cmd.arg("--config")
            .arg(&path)
            .arg("--listen")
            .arg("127.0.0.1:0");
        for (name, value) in moto::env(&endpoint) {
            cmd.env(name, value);
        }
        let out = cfsign_tests::proc::capture(&mut cmd, None).unwrap();
        assert!(!out.ok(), "{needle}: started");
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn a_kms_outage_keeps_the_server_serving_and_throttling_is_a_clear_error() {
    let Some(moto_server) = moto::start().unwrap() else {
        return;
    };
    let endpoint = moto_server.url().to_owned();
    store_pem_keys(&endpoint);
    let (arn, der) = kms_key(&endpoint, "ECC_NIST_P256");
    let public_key = PublicKey::from_der(&der).unwrap();
    let server = start(&endpoint, &config(KMS_ID, &arn));
    let cached = "https://d1.example.net/media/cached.jpg";
    let (status, _) = post(
        &server,
        "/v1/sign",
        &serde_json::json!({"url": cached, "ttl": 300}),
    );
    assert_eq!(status, 200);

    // KMS goes away: the refresh fails and says so, the keys stay, cached signatures are still
    // served, and a new signature is a clear 503 rather than a hang or a crash.
    drop(moto_server);
    let source = format!("kms:{arn}");
    wait_for("the failed KMS refresh", Duration::from_secs(30), || {
        metrics(&server).contains(&format!("cfsign_key_source_up{{source=\"{source}\"}} 0"))
    });
    let (status, body) = post(
        &server,
        "/v1/sign",
        &serde_json::json!({"url": cached, "ttl": 300}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(granted(
        body["signed_url"].as_str().unwrap(),
        KMS_ID,
        &public_key,
        None
    ));
    let resp = http::post_json(
        &server.url("/v1/sign"),
        &serde_json::json!({"url": "https://d1.example.net/media/new.jpg"}),
    )
    .bearer(WEB_TOKEN)
    .send()
    .unwrap();
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(resp.header("retry-after"), Some("1"));
    assert_eq!(resp.json().unwrap()["error"], "key_unavailable");
    assert!(metric_value(&metrics(&server), "cfsign_kms_sign_failures_total") >= 1);
    let ready = http::get(&server.url("/readyz")).send().unwrap();
    assert_eq!(ready.status, 200);
    assert!(
        ready.text().contains("could not reach AWS"),
        "{}",
        ready.text()
    );

    // A KMS that throttles every call: the start fails with the reason after bounded retries.
    let (throttling, calls) = moto::answering(
        400,
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.toml");
    std::fs::write(
        &path,
        config(KMS_ID, &arn).replace("max_attempts = 2", "max_attempts = 3"),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cfsign-server"));
    cmd.arg("--config")
        .arg(&path)
        .arg("--listen")
        .arg("127.0.0.1:0");
    for (name, value) in moto::env(&throttling) {
        cmd.env(name, value);
    }
    let out = cfsign_tests::proc::capture(&mut cmd, None).unwrap();
    assert!(!out.ok());
    assert!(out.stderr.contains("throttled"), "{}", out.stderr);
    assert!(out.stderr.contains("3 attempt(s)"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    // Three sources (KMS, the secret, the parameter), three attempts each.
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 9);
}
