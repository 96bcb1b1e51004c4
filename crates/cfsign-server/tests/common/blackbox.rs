//! The black-box API suite: what a client sees over HTTP, checked against any running build of
//! the service by its base URL — the `cfsign-server` binary (`binary.rs`) and the Lambda build
//! behind cargo-lambda's function-URL emulator (`lambda.rs`) run the same checks. The service
//! must have been started with `config_toml(KEY_A, "")`. Included with `#[path]`.

#![allow(dead_code)] // Each test binary uses a different part of this module.
#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

use std::time::{SystemTime, UNIX_EPOCH};

use cfsign_tests::http;
use serde_json::{Value, json};

use crate::common::{BASIC_TOKEN, KEY_A, KEY_B, WEB_TOKEN, verify_url};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `POST base+path` with `body` and `token`.
fn post(base: &str, path: &str, token: Option<&str>, body: &str) -> http::Response {
    let mut request = http::Request::new("POST", &format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer(token);
    }
    request.send().unwrap()
}

/// Asserts a JSON error: status, `error` code, a message, and no signature.
#[track_caller]
fn assert_error(response: &http::Response, status: u16, code: &str) {
    let text = response.text();
    assert_eq!(response.status, status, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["error"], code, "{text}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
    assert!(!text.contains("Signature="), "{text}");
    assert!(response.header("x-request-id").is_some(), "no request ID");
}

/// Every check, in order; panics naming the first that fails.
pub(crate) fn api_suite(base: &str) {
    health_and_openapi(base);
    signs_urls_in_scope(base);
    refuses_bad_auth_and_scope(base);
    cookies_come_back_as_cookies(base);
    redirects_and_verifies(base);
    unknown_paths_methods_and_bodies(base);
}

/// `/healthz`, `/readyz`, `/metrics` and the OpenAPI document.
pub(crate) fn health_and_openapi(base: &str) {
    for path in ["/healthz", "/readyz"] {
        let response = http::get(&format!("{base}{path}")).send().unwrap();
        assert_eq!(response.status, 200, "{path}: {}", response.text());
    }
    let metrics = http::get(&format!("{base}/metrics")).send().unwrap();
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text().contains("cfsign_requests_total"),
        "{}",
        metrics.text()
    );
    let openapi = http::get(&format!("{base}/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    for path in [
        "/v1/sign",
        "/v1/cookies",
        "/v1/redirect",
        "/v1/verify",
        "/healthz",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from /openapi.json"
        );
    }
}

/// One URL and a batch, signed by the active key and accepted by the core's verifier.
pub(crate) fn signs_urls_in_scope(base: &str) {
    let response = post(
        base,
        "/v1/sign",
        Some(WEB_TOKEN),
        r#"{"url":"https://d1.example.net/media/a.jpg"}"#,
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let signed = response.json().unwrap();
    let url = signed["signed_url"].as_str().unwrap();
    let expires = signed["expires"].as_u64().unwrap();
    assert!(expires > now(), "{signed}");
    assert_eq!(verify_url(url, expires - 1), Ok(KEY_A.to_owned()));
    assert_eq!(signed["key_pair_id"], KEY_A);
    let batch = json!({"requests": [
        {"url": "https://d1.example.net/media/1.jpg"},
        {"url": "https://d1.example.net/users/42/avatar.png", "hash_algorithm": "sha256"},
    ]});
    let response = post(base, "/v1/sign", Some(WEB_TOKEN), &batch.to_string());
    assert_eq!(response.status, 200, "{}", response.text());
    let results = response.json().unwrap()["results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results.len(), 2);
    for result in &results {
        let url = result["signed_url"].as_str().unwrap();
        assert_eq!(verify_url(url, now()), Ok(KEY_A.to_owned()), "{url}");
        assert!(!url.contains(KEY_B), "{url}");
    }
}

/// No token, a wrong token, a path outside the client's scope, a dot segment, a client without
/// cookie rights: each its own JSON error.
pub(crate) fn refuses_bad_auth_and_scope(base: &str) {
    let body = r#"{"url":"https://d1.example.net/media/a.jpg"}"#;
    let missing = post(base, "/v1/sign", None, body);
    assert_error(&missing, 401, "unauthorized");
    assert!(missing.header("www-authenticate").is_some());
    assert_error(
        &post(base, "/v1/sign", Some("not-a-token"), body),
        401,
        "unauthorized",
    );
    let outside = r#"{"url":"https://d1.example.net/secret/a.jpg"}"#;
    assert_error(
        &post(base, "/v1/sign", Some(WEB_TOKEN), outside),
        403,
        "out_of_scope",
    );
    let dots = r#"{"url":"https://d1.example.net/media/../x"}"#;
    assert_error(
        &post(base, "/v1/sign", Some(WEB_TOKEN), dots),
        403,
        "dot_segment",
    );
    let cookies = r#"{"resource":"https://d1.example.net/public/*","ttl":30}"#;
    let refused = post(base, "/v1/cookies", Some(BASIC_TOKEN), cookies);
    assert_eq!(refused.status, 403, "{}", refused.text());
}

/// `/v1/cookies` with `set_cookies`: three real `Set-Cookie` headers, which together with the
/// `cookie_header` of the body let the core's verifier grant a URL under the resource.
pub(crate) fn cookies_come_back_as_cookies(base: &str) {
    let body = r#"{"resource":"https://d1.example.net/media/*","ttl":"5m","set_cookies":true}"#;
    let response = post(base, "/v1/cookies", Some(WEB_TOKEN), body);
    assert_eq!(response.status, 200, "{}", response.text());
    let set_cookies: Vec<&str> = response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.as_str())
        .collect();
    let names: Vec<&str> = set_cookies
        .iter()
        .map(|c| c.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CloudFront-Policy",
            "CloudFront-Signature",
            "CloudFront-Key-Pair-Id"
        ],
        "{set_cookies:?}"
    );
    for cookie in &set_cookies {
        assert!(
            cookie.contains("Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
    }
    let json = response.json().unwrap();
    let header = json["cookie_header"].as_str().unwrap();
    let request = cfsign::Request::new(
        "https://d1.example.net/media/deep/a.mp4",
        cfsign::UnixTime::from_secs(now()).unwrap(),
    )
    .with_cookie_header(header);
    let mut trusted = cfsign::TrustedKeys::new();
    let pem = std::fs::read(crate::common::key_path("test-key-a.pem")).unwrap();
    trusted.insert(
        KEY_A.parse().unwrap(),
        cfsign::PrivateKey::parse(&pem).unwrap().public_key(),
    );
    assert!(
        matches!(
            cfsign::verify(&request, &trusted),
            cfsign::Decision::Granted(_)
        ),
        "cookies not granted: {header}"
    );
}

/// `/v1/redirect` answers 302 to a signed URL; `/v1/verify` explains a signed URL.
pub(crate) fn redirects_and_verifies(base: &str) {
    let response = http::get(&format!(
        "{base}/v1/redirect?url=https%3A%2F%2Fd1.example.net%2Fmedia%2Fa.jpg&ttl=120"
    ))
    .bearer(WEB_TOKEN)
    .send()
    .unwrap();
    assert_eq!(response.status, 302, "{}", response.text());
    let location = response.header("location").unwrap().to_owned();
    assert_eq!(verify_url(&location, now()), Ok(KEY_A.to_owned()));
    let body = json!({"url": location});
    let verified = post(base, "/v1/verify", Some(WEB_TOKEN), &body.to_string());
    assert_eq!(verified.status, 200, "{}", verified.text());
    assert_eq!(
        verified.json().unwrap()["granted"],
        true,
        "{}",
        verified.text()
    );
}

/// A path that does not exist, a method a route does not answer, a body that is not JSON.
pub(crate) fn unknown_paths_methods_and_bodies(base: &str) {
    let missing = http::get(&format!("{base}/v2/nothing")).send().unwrap();
    assert_error(&missing, 404, "not_found");
    let wrong = http::get(&format!("{base}/v1/sign"))
        .bearer(WEB_TOKEN)
        .send()
        .unwrap();
    assert_error(&wrong, 405, "method_not_allowed");
    assert!(wrong.header("allow").is_some_and(|a| a.contains("POST")));
    let bad = post(base, "/v1/sign", Some(WEB_TOKEN), "{not json");
    assert_eq!(bad.status, 400, "{}", bad.text());
}
