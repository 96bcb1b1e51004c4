//! The Lambda build (`cfsign-server-lambda`, feature `lambda`) under cargo-lambda's local
//! runtime emulator: `cargo lambda watch --only-lambda-apis` is started on a free port, the
//! binary polls it as Lambda's runtime API, and requests arrive through its function-URL
//! endpoint (the shared black-box suite) or as API Gateway v1/v2 events from `cargo lambda
//! invoke`. Configuration comes from the environment, or from Secrets Manager / SSM in moto.
//! Without cargo-lambda the tests skip, and fail under `CI=true`.

#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

#[path = "common/blackbox.rs"]
mod blackbox;
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cfsign_tests::proc::capture;
use cfsign_tests::{http, lambda, moto};
use common::*;
use serde_json::{Value, json};

/// The Lambda build under the emulator, with `env` (and the variables the template sets), in a
/// temporary directory of its own.
struct Emulator {
    inner: lambda::Emulator,
    _dir: tempfile::TempDir,
}

impl Emulator {
    fn start(env: &[(&str, &str)]) -> Emulator {
        let dir = tempfile::tempdir().unwrap();
        let mut all = vec![
            ("CFSIGN_SERVER_EMF_INTERVAL", "0"),
            ("RUST_LOG", "info"),
            // As deploy/lambda/template.yaml sets it: REST API paths without the stage.
            ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true"),
        ];
        all.extend_from_slice(env);
        let binary = Path::new(env!("CARGO_BIN_EXE_cfsign-server-lambda"));
        let inner = lambda::Emulator::start(binary, &all, dir.path()).unwrap();
        Emulator { inner, _dir: dir }
    }
}

impl std::ops::Deref for Emulator {
    type Target = lambda::Emulator;
    fn deref(&self) -> &lambda::Emulator {
        &self.inner
    }
}

fn have_cargo_lambda() -> bool {
    lambda::available()
}

fn env_config() -> String {
    config_toml(KEY_A, "")
}

#[test]
fn function_url_answers_the_shared_black_box_suite() {
    if !have_cargo_lambda() {
        return;
    }
    let config = env_config();
    let emulator = Emulator::start(&[("CFSIGN_SERVER_CONFIG_TOML", &config)]);
    blackbox::api_suite(&emulator.base());
    // `/metrics` also went to stdout as CloudWatch EMF lines (one per response here).
    let stdout = emulator.stdout();
    let lines: Vec<Value> = stdout
        .lines()
        .filter(|l| l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() > 10, "{stdout}");
    let signatures: u64 = lines
        .iter()
        .map(|l| l["Signatures"].as_u64().unwrap())
        .sum();
    assert!(signatures >= 5, "{stdout}");
    assert_eq!(
        lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "cfsign"
    );
    let stderr = emulator.stderr();
    assert!(
        stderr.contains("cfsign-server-lambda initialised"),
        "{stderr}"
    );
    assert!(
        stderr.contains("signing_threads=1"),
        "1024 MB is one vCPU: {stderr}"
    );
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
}

/// The body of an API Gateway answer, decoded when base64.
fn body(answer: &Value) -> Value {
    let text = answer["body"].as_str().unwrap();
    let bytes = if answer["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    } else {
        text.as_bytes().to_vec()
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

fn cookie_names<'a>(cookies: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    cookies
        .into_iter()
        .map(|c| c.as_str().unwrap().split('=').next().unwrap().to_owned())
        .collect()
}

#[test]
fn api_gateway_v1_and_v2_events_with_base64_bodies_and_cookies() {
    if !have_cargo_lambda() {
        return;
    }
    let config = env_config();
    let emulator = Emulator::start(&[("CFSIGN_SERVER_CONFIG_TOML", &config)]);
    let request =
        json!({"resource": "https://d1.example.net/media/*", "ttl": 60, "set_cookies": true});
    let encoded = base64::engine::general_purpose::STANDARD.encode(request.to_string());
    let bearer = format!("Bearer {WEB_TOKEN}");
    let expected = [
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
    ];

    // HTTP API (payload 2.0, as function URLs send it): cookies come back in `cookies`.
    let v2 = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/v1/cookies",
        "rawQueryString": "",
        "headers": {"authorization": bearer, "content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "r2", "routeKey": "$default", "stage": "$default",
            "time": "07/Dec/2026:10:00:00 +0000", "timeEpoch": 1796637600000u64,
            "http": {"method": "POST", "path": "/v1/cookies", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"}
        },
        "body": encoded,
        "isBase64Encoded": true
    });
    let answer = emulator.invoke(&v2).unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(
        cookie_names(answer["cookies"].as_array().unwrap()),
        expected,
        "{answer}"
    );
    assert_eq!(body(&answer)["key_pair_id"], KEY_A);

    // REST API (payload 1.0): multi-value headers both ways, the stage left out of the path.
    let v1 = json!({
        "resource": "/{proxy+}",
        "path": "/v1/cookies",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"authorization": [bearer], "content-type": ["application/json"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": "v1/cookies"},
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "abc", "stage": "prod", "requestId": "r1",
            "identity": {"sourceIp": "192.0.2.1"}, "resourcePath": "/{proxy+}",
            "httpMethod": "POST", "apiId": "api", "path": "/prod/v1/cookies"
        },
        "body": encoded,
        "isBase64Encoded": true
    });
    let answer = emulator.invoke(&v1).unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let set_cookie = answer["multiValueHeaders"]["set-cookie"]
        .as_array()
        .unwrap();
    assert_eq!(cookie_names(set_cookie), expected, "{answer}");
    assert_eq!(body(&answer)["key_pair_id"], KEY_A);

    // An error is the API's JSON error in the event's answer too.
    let mut unauthorized = v2.clone();
    unauthorized["headers"] = json!({"content-type": "application/json"});
    let answer = emulator.invoke(&unauthorized).unwrap();
    assert_eq!(answer["statusCode"], 401, "{answer}");
    assert_eq!(body(&answer)["error"], "unauthorized");
}

#[test]
fn configuration_from_secrets_manager_and_ssm_refreshed_on_an_interval() {
    if !have_cargo_lambda() {
        return;
    }
    let Some(moto) = moto::start().unwrap() else {
        return;
    };
    let endpoint = moto.url().to_owned();
    let refreshing = config_toml(KEY_A, "[aws]\nrefresh_secs = 1");
    moto::boto3(
        &endpoint,
        &format!(
            "client('secretsmanager').create_secret(Name='cfsign/config', SecretString={refreshing:?})\n\
             client('ssm').put_parameter(Name='/cfsign/config', Type='SecureString', Value={ssm:?})",
            ssm = config_toml(KEY_B, ""),
        ),
    )
    .unwrap();
    let aws_env = moto::env(&endpoint);
    let mut env: Vec<(&str, &str)> = aws_env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    env.push(("CFSIGN_SERVER_CONFIG_SSM_PARAMETER", "/cfsign/config"));
    let from_ssm = Emulator::start(&env);
    let signed = post_sign(&from_ssm.base());
    assert_eq!(signed["key_pair_id"], KEY_B, "{signed}");
    drop(from_ssm);

    env.pop();
    env.push(("CFSIGN_SERVER_CONFIG_SECRET", "cfsign/config"));
    let from_secret = Emulator::start(&env);
    assert_eq!(post_sign(&from_secret.base())["key_pair_id"], KEY_A);
    // A new version of the secret switches the key within a refresh or two.
    moto::boto3(
        &endpoint,
        &format!(
            "client('secretsmanager').put_secret_value(SecretId='cfsign/config', SecretString={:?})",
            config_toml(KEY_B, "[aws]\nrefresh_secs = 1")
        ),
    )
    .unwrap();
    let start = Instant::now();
    while post_sign(&from_secret.base())["key_pair_id"] != KEY_B {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the refresh never switched keys"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // A broken configuration is refused and the last good one keeps serving.
    moto::boto3(
        &endpoint,
        "client('secretsmanager').put_secret_value(SecretId='cfsign/config', SecretString='[[keys]]\\nnot valid')",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    post_sign(&from_secret.base());
    let metrics = http::get(&format!("{}/metrics", from_secret.base()))
        .send()
        .unwrap()
        .text();
    assert!(
        !metrics.contains("cfsign_reload_failures_total 0"),
        "{metrics}"
    );
    assert_eq!(post_sign(&from_secret.base())["key_pair_id"], KEY_B);
}

fn post_sign(base: &str) -> Value {
    let response = http::Request::new("POST", &format!("{base}/v1/sign"))
        .bearer(WEB_TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"url":"https://d1.example.net/media/a.jpg"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    response.json().unwrap()
}

#[test]
fn without_a_configuration_the_function_fails_its_init_with_a_clear_error() {
    for (env, needle) in [
        (vec![], "set one of CFSIGN_SERVER_CONFIG_TOML"),
        (
            vec![("CFSIGN_SERVER_CONFIG_TOML", "[[keys]]\nnot toml")],
            "$CFSIGN_SERVER_CONFIG_TOML",
        ),
        (
            vec![
                ("CFSIGN_SERVER_CONFIG_TOML", "x = 1"),
                ("CFSIGN_SERVER_CONFIG_SECRET", "s"),
            ],
            "several configuration sources",
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cfsign-server-lambda"));
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9/.rt")
            .envs(env.iter().copied());
        let out = capture(&mut cmd, None).unwrap();
        assert_eq!(out.code, Some(1), "{}", out.summary());
        assert!(out.stderr.contains(needle), "{env:?}: {}", out.stderr);
    }
}

#[test]
fn key_from_the_aws_cloudfront_key_variable() {
    if !have_cargo_lambda() {
        return;
    }
    let pem = std::fs::read_to_string(key_path("test-key-b.pem")).unwrap();
    // The key's lines joined by spaces, as a console's one-line field leaves them.
    let flattened = pem.lines().collect::<Vec<_>>().join(" ");
    let config = config_toml(KEY_A, "")
        .replace(
            &format!(
                "id = \"{KEY_B}\"\nfile = \"{}\"",
                key_path("test-key-b.pem").display()
            ),
            "from_env = true",
        )
        .replace(
            &format!("active_key = \"{KEY_A}\""),
            &format!("active_key = \"{KEY_B}\""),
        );
    assert!(config.contains("from_env = true"), "{config}");
    let emulator = Emulator::start(&[
        ("CFSIGN_SERVER_CONFIG_TOML", &config),
        ("AWS_CLOUDFRONT_KEY", &flattened),
        ("AWS_CLOUDFRONT_KEY_ID", KEY_B),
    ]);
    let signed = post_sign(&emulator.base());
    let url = signed["signed_url"].as_str().unwrap();
    assert_eq!(
        verify_url(url, signed["expires"].as_u64().unwrap() - 1),
        Ok(KEY_B.to_owned())
    );
    assert!(!emulator.stderr().contains("PRIVATE KEY"));
}
