//! In-process tests of every endpoint and every error, through `app(state).oneshot(request)`.

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cfsign_server::{AppState, Config, app};
use common::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn state_with(active: &str, extra: &str) -> AppState {
    let config = Config::from_toml(&config_toml(active, extra), Path::new("test.toml")).unwrap();
    AppState::from_config(&config, &|_| None)
        .unwrap()
        .with_clock(|| NOW)
}

fn state() -> AppState {
    state_with(KEY_A, "")
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an error reply: status, JSON `error` code, and no signature anywhere.
    fn assert_error(&self, status: StatusCode, code: &str) {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        assert_eq!(body["error"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(!self.text().contains("Signature="), "{body}");
        assert!(self.headers.get("x-request-id").is_some());
    }
}

async fn send(state: &AppState, request: Request<Body>) -> Reply {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn post(path: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

async fn sign(state: &AppState, token: &str, body: Value) -> Reply {
    send(state, post("/v1/sign", Some(token), &body)).await
}

#[tokio::test]
async fn sign_canned_url() {
    let state = state();
    let reply = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg?v=2", "ttl": 300}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert!(reply.headers.get("x-request-id").is_some());
    let body = reply.json();
    let url = body["signed_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://d1.example.net/media/a.jpg?v=2&Expires=1800000300&Signature=")
    );
    assert!(url.ends_with(&format!("&Key-Pair-Id={KEY_A}")));
    assert_eq!(body["expires"], NOW + 300);
    assert_eq!(body["policy"], "canned");
    assert_eq!(body["key_pair_id"], KEY_A);
    assert_eq!(verify_url(url, NOW + 10), Ok(KEY_A.to_owned()));
    assert!(verify_url(url, NOW + 301).is_err());
}

#[tokio::test]
async fn signatures_match_the_core_signer() {
    let state = state();
    let body = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "expires": NOW + 100}),
    )
    .await
    .json();
    let key =
        cfsign::PrivateKey::parse(&std::fs::read(key_path("test-key-a.pem")).unwrap()).unwrap();
    let signer = cfsign::Signer::new(KEY_A.parse().unwrap(), key);
    let expected = signer
        .sign_canned_url(
            "https://d1.example.net/media/a.jpg",
            cfsign::UnixTime::from_secs(NOW + 100).unwrap(),
        )
        .unwrap();
    assert_eq!(body["signed_url"], expected);
}

#[tokio::test]
async fn sign_sha256_and_text_times() {
    let state = state();
    let reply = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "ttl": "5m", "hash_algorithm": "sha256"}),
    )
    .await;
    let body = reply.json();
    let url = body["signed_url"].as_str().unwrap();
    assert!(url.ends_with("&Hash-Algorithm=SHA256"), "{url}");
    assert_eq!(body["hash_algorithm"], "sha256");
    assert_eq!(verify_url(url, NOW), Ok(KEY_A.to_owned()));

    let body = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "expires": "2027-01-15T08:30:00Z"}),
    )
    .await
    .json();
    assert_eq!(body["expires_at"], "2027-01-15T08:30:00Z");
}

#[tokio::test]
async fn sign_custom_policy() {
    let state = state();
    let reply = sign(
        &state,
        WEB_TOKEN,
        json!({
            "url": "https://d1.example.net/media/hls/index.m3u8",
            "resource": "https://d1.example.net/media/hls/*",
            "starts_at": NOW - 10,
            "source_ip": "192.0.2.0/24",
            "ttl": 600
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["policy"], "custom");
    let url = body["signed_url"].as_str().unwrap();
    let now = cfsign::UnixTime::from_secs(NOW).unwrap();
    let segment = url.replace("index.m3u8", "seg1.ts");
    let request = cfsign::Request::new(&segment, now).with_client_ip("192.0.2.9".parse().unwrap());
    assert!(cfsign::verify(&request, &trusted()).is_granted());
    let request =
        cfsign::Request::new(&segment, now).with_client_ip("198.51.100.1".parse().unwrap());
    assert!(!cfsign::verify(&request, &trusted()).is_granted());

    // `"policy": "custom"` alone gives a custom policy for the exact URL.
    let body = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg?x=1", "policy": "custom"}),
    )
    .await
    .json();
    let url = body["signed_url"].as_str().unwrap();
    assert!(url.contains("?x=1&Policy="), "{url}");
    assert_eq!(verify_url(url, NOW), Ok(KEY_A.to_owned()));
}

#[tokio::test]
async fn sign_batch() {
    let state = state();
    let reply = sign(
        &state,
        WEB_TOKEN,
        json!({"requests": [
            {"url": "https://d1.example.net/media/1.jpg"},
            {"url": "https://d1.example.net/users/42/avatar.png", "hash_algorithm": "sha256"},
        ]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 2);
    for result in &results {
        let url = result["signed_url"].as_str().unwrap();
        assert_eq!(verify_url(url, NOW), Ok(KEY_A.to_owned()), "{url}");
    }

    // One refusal refuses the batch, and says which item.
    let reply = sign(
        &state,
        WEB_TOKEN,
        json!({"requests": [
            {"url": "https://d1.example.net/media/1.jpg"},
            {"url": "https://d1.example.net/secret/1.jpg"},
        ]}),
    )
    .await;
    reply.assert_error(StatusCode::FORBIDDEN, "out_of_scope");
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("request 1:")
    );

    sign(&state, WEB_TOKEN, json!({"requests": []}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_batch");
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"url": format!("https://d1.example.net/media/{i}.jpg")}))
        .collect();
    sign(&state, WEB_TOKEN, json!({ "requests": many }))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_batch");
}

#[tokio::test]
async fn authentication_errors() {
    let state = state();
    let body = json!({"url": "https://d1.example.net/media/a.jpg"});
    let reply = send(&state, post("/v1/sign", None, &body)).await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(reply.headers.get(header::WWW_AUTHENTICATE).is_some());
    send(&state, post("/v1/sign", Some("wrong-token"), &body))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let request = Request::post("/v1/sign")
        .header(header::AUTHORIZATION, format!("Basic {WEB_TOKEN}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    send(&state, request)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for path in ["/v1/cookies", "/v1/verify"] {
        send(&state, post(path, None, &json!({})))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    send(
        &state,
        get(
            "/v1/redirect?url=https%3A%2F%2Fd1.example.net%2Fmedia%2Fa",
            None,
        ),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

/// Each scope escape, through the API: status and error code, and never a signature.
#[tokio::test]
async fn scope_escapes_are_refused() {
    let state = state();
    let long = format!("https://d1.example.net/media/{}", "a".repeat(5000));
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"url": "https://d1.example.net/secret/a.jpg"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"url": "https://d1.example.net/media/../secret/a.jpg"}),
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        (
            json!({"url": "https://d1.example.net/media/%2e%2e/secret/a.jpg"}),
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        (
            json!({"url": "https://d1.example.net/media/%2E./secret/a.jpg"}),
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        (
            json!({"url": "https://d1.example.net/media/..%2fsecret/a.jpg"}),
            StatusCode::FORBIDDEN,
            "encoded_slash",
        ),
        (
            json!({"url": "https://d1.example.net/media%2F..%2Fsecret"}),
            StatusCode::FORBIDDEN,
            "encoded_slash",
        ),
        (
            json!({"url": "https://d1.example.net/media/*"}),
            StatusCode::FORBIDDEN,
            "wildcard",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg", "resource": "https://d1.example.net/*"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg", "resource": "https://d1.example.net/media*"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg", "resource": "https://*/media/*"}),
            StatusCode::FORBIDDEN,
            "wildcard",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg", "resource": "https://d1.example.net/media/*\"},{\"Resource\":\"*"}),
            StatusCode::FORBIDDEN,
            "injection",
        ),
        (
            json!({"url": "https://d1.example.net/media/a\"b.jpg"}),
            StatusCode::FORBIDDEN,
            "injection",
        ),
        (
            json!({"url": "https://d1.example.net@evil.example/media/a.jpg"}),
            StatusCode::FORBIDDEN,
            "userinfo",
        ),
        (
            json!({"url": "https://evil.example@d1.example.net/media/a.jpg"}),
            StatusCode::FORBIDDEN,
            "userinfo",
        ),
        (
            json!({"url": "https://d1.example.net:8443/media/a.jpg"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"url": "https://d1.example.net.evil.example/media/a.jpg"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"url": "http://d1.example.net/media/a.jpg"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"url": long}),
            StatusCode::BAD_REQUEST,
            "url_too_long",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg#x"}),
            StatusCode::BAD_REQUEST,
            "invalid_url",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg?Expires=1"}),
            StatusCode::BAD_REQUEST,
            "reserved_parameter",
        ),
        (
            json!({"url": "https://d1.example.net/media/a.jpg", "resource": "https://d1.example.net/media/b/*"}),
            StatusCode::BAD_REQUEST,
            "resource_mismatch",
        ),
    ];
    for (body, status, code) in cases {
        let reply = sign(&state, WEB_TOKEN, body.clone()).await;
        assert_eq!(reply.status, status, "{body} → {}", reply.text());
        reply.assert_error(status, code);
    }
}

#[tokio::test]
async fn host_header_is_ignored() {
    let state = state();
    let request = Request::post("/v1/sign")
        .header(header::HOST, "d1.example.net")
        .header("X-Forwarded-Host", "d1.example.net")
        .header(header::AUTHORIZATION, format!("Bearer {WEB_TOKEN}"))
        .body(Body::from(
            json!({"url": "https://evil.example/media/a.jpg"}).to_string(),
        ))
        .unwrap();
    send(&state, request)
        .await
        .assert_error(StatusCode::FORBIDDEN, "out_of_scope");
}

#[tokio::test]
async fn permissions_and_ttl_limits() {
    let state = state();
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "ttl": "2h"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ttl_too_long");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "expires": NOW + 7200}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ttl_too_long");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "expires": NOW - 1}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "ttl": 0}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "ttl": 60, "expires": NOW + 60}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "ttl": "soon"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "source_ip": "not-an-ip"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    sign(&state, WEB_TOKEN, json!({"url": "https://d1.example.net/media/a.jpg", "policy": "canned", "source_ip": "192.0.2.1"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_request");

    // The basic client: a 60 s maximum, no custom policies, no cookies.
    let ok = sign(
        &state,
        BASIC_TOKEN,
        json!({"url": "https://d1.example.net/public/a.jpg"}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(
        ok.json()["expires"],
        NOW + 60,
        "the default TTL is capped by max_ttl"
    );
    sign(
        &state,
        BASIC_TOKEN,
        json!({"url": "https://d1.example.net/public/a.jpg", "ttl": 61}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ttl_too_long");
    sign(&state, BASIC_TOKEN, json!({"url": "https://d1.example.net/public/a.jpg", "resource": "https://d1.example.net/public/*"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "custom_policy_not_allowed");
    sign(
        &state,
        BASIC_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg"}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "out_of_scope");
    send(
        &state,
        post(
            "/v1/cookies",
            Some(BASIC_TOKEN),
            &json!({"resource": "https://d1.example.net/public/a.jpg"}),
        ),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "cookies_not_allowed");
}

#[tokio::test]
async fn malformed_bodies() {
    let state = state();
    let request = Request::post("/v1/sign")
        .header(header::AUTHORIZATION, format!("Bearer {WEB_TOKEN}"))
        .body(Body::from("{not json"))
        .unwrap();
    send(&state, request)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "colour": "red"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    sign(&state, WEB_TOKEN, json!({"requests": [{"nope": 1}]}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    // serde would read a struct from an array of its fields; the API takes objects only.
    for path in ["/v1/sign", "/v1/cookies", "/v1/verify"] {
        let body = json!(["https://d1.example.net/media/a.jpg"]);
        send(&state, post(path, Some(WEB_TOKEN), &body))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_json");
    }
    let big = "x".repeat(70 * 1024);
    let request = Request::post("/v1/sign")
        .header(header::AUTHORIZATION, format!("Bearer {WEB_TOKEN}"))
        .body(Body::from(big))
        .unwrap();
    send(&state, request)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
}

#[tokio::test]
async fn cookies_canned_and_custom() {
    let state = state();
    let reply = send(
        &state,
        post(
            "/v1/cookies",
            Some(WEB_TOKEN),
            &json!({"resource": "https://d1.example.net/media/hls/*", "ttl": 600, "path": "/media/", "domain": "media.example.com", "set_cookies": true}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["policy"], "custom");
    let set_cookie: Vec<_> = reply.headers.get_all(header::SET_COOKIE).iter().collect();
    assert_eq!(set_cookie.len(), 3);
    assert!(
        set_cookie[0]
            .to_str()
            .unwrap()
            .starts_with("CloudFront-Policy=")
    );
    assert!(
        set_cookie[0]
            .to_str()
            .unwrap()
            .ends_with("; Domain=media.example.com; Path=/media/; Secure; HttpOnly")
    );
    assert_eq!(body["set_cookie"][0], set_cookie[0].to_str().unwrap());
    let cookie = body["cookie_header"].as_str().unwrap();
    let now = cfsign::UnixTime::from_secs(NOW).unwrap();
    let request = cfsign::Request::new("https://d1.example.net/media/hls/seg1.ts", now)
        .with_cookie_header(cookie);
    assert!(cfsign::verify(&request, &trusted()).is_granted());

    // Canned cookies for one URL, without Set-Cookie headers on the response.
    let reply = send(
        &state,
        post(
            "/v1/cookies",
            Some(WEB_TOKEN),
            &json!({"resource": "https://d1.example.net/media/a.mp4", "hash_algorithm": "sha256"}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
    let body = reply.json();
    assert_eq!(body["policy"], "canned");
    assert_eq!(body["cookies"][0]["name"], "CloudFront-Expires");
    assert_eq!(body["cookies"][3]["name"], "CloudFront-Hash-Algorithm");
    let request = cfsign::Request::new("https://d1.example.net/media/a.mp4", now)
        .with_cookie_header(body["cookie_header"].as_str().unwrap());
    assert!(cfsign::verify(&request, &trusted()).is_granted());

    for (body, status, code) in [
        (
            json!({"resource": "https://d1.example.net/*"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"resource": "https://d1.example.net/media/%2e%2e/*"}),
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        (
            json!({"resource": "https://d1.example.net/media/*", "policy": "canned"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"resource": "https://d1.example.net/media/*", "domain": "*.cloudfront.net"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"resource": "https://d1.example.net/media/*", "ttl": 7200}),
            StatusCode::FORBIDDEN,
            "ttl_too_long",
        ),
        (
            json!({"resourc": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ] {
        send(&state, post("/v1/cookies", Some(WEB_TOKEN), &body))
            .await
            .assert_error(status, code);
    }
}

#[tokio::test]
async fn redirect() {
    let state = state();
    let reply = send(
        &state,
        get(
            "/v1/redirect?url=https%3A%2F%2Fd1.example.net%2Fmedia%2Fa.jpg&ttl=120",
            Some(WEB_TOKEN),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    assert!(location.contains("Expires=1800000120"), "{location}");
    assert_eq!(verify_url(location, NOW), Ok(KEY_A.to_owned()));
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");

    send(&state, get("/v1/redirect", Some(WEB_TOKEN)))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    send(
        &state,
        get(
            "/v1/redirect?url=https%3A%2F%2Fd1.example.net%2Fsecret",
            Some(WEB_TOKEN),
        ),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "out_of_scope");
    send(
        &state,
        get(
            "/v1/redirect?url=https%3A%2F%2Fd1.example.net%2Fmedia%2F%252e%252e%2Fx",
            Some(WEB_TOKEN),
        ),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "dot_segment");
}

#[tokio::test]
async fn verify_explains() {
    let state = state();
    let url = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg", "ttl": 60}),
    )
    .await
    .json()["signed_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let check = |body: Value| {
        let state = state.clone();
        async move { send(&state, post("/v1/verify", Some(WEB_TOKEN), &body)).await }
    };
    let reply = check(json!({"url": url})).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["granted"], true, "{body}");
    assert_eq!(body["key_pair_id"], KEY_A);

    let body = check(json!({"url": url, "now": NOW + 3600})).await.json();
    assert_eq!(body["granted"], false);
    assert_eq!(body["status"], 403);
    assert_eq!(body["code"], "AccessDenied");
    assert_eq!(body["reason"], "expired");
    assert!(
        body["explanation"].as_str().unwrap().contains("expired"),
        "{body}"
    );

    let tampered = url.replace("a.jpg", "b.jpg");
    let body = check(json!({"url": tampered})).await.json();
    assert_eq!(body["reason"], "bad_signature", "{body}");

    let body = check(json!({"url": "https://d1.example.net/media/a.jpg"}))
        .await
        .json();
    assert_eq!(body["code"], "MissingKey");

    check(json!({"url": url, "client_ip": "nope"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    check(json!({"url": url, "now": "yesterday"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    check(json!({"link": url}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_json");
}

#[tokio::test]
async fn health_readiness_and_not_found() {
    let state = state();
    let reply = send(&state, get("/healthz", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "ok");
    let reply = send(&state, get("/readyz", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["active_key"], KEY_A);
    state.set_ready(false);
    let reply = send(&state, get("/readyz", None)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    send(&state, get("/nope", None))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn wrong_method_gets_json_and_allow() {
    let state = state();
    let reply = send(&state, get("/v1/sign", Some(WEB_TOKEN))).await;
    assert_eq!(reply.headers["allow"], "POST");
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let reply = send(
        &state,
        Request::delete("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        reply.headers["allow"].to_str().unwrap().contains("GET"),
        "{:?}",
        reply.headers
    );
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn request_ids() {
    let state = state();
    let a = send(&state, get("/healthz", None)).await;
    let b = send(&state, get("/healthz", None)).await;
    assert_ne!(a.headers["x-request-id"], b.headers["x-request-id"]);
    let request = Request::get("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&state, request).await.headers["x-request-id"],
        "abc-123"
    );
}

#[tokio::test]
async fn metrics_count_requests_signatures_and_cache_hits() {
    let state = state_with(KEY_A, "[cache]\nexpiry_granularity_secs = 600\n");
    let body = json!({"url": "https://d1.example.net/media/hot.jpg", "ttl": 60});
    let first = sign(&state, WEB_TOKEN, body.clone()).await.json();
    let second = sign(&state, WEB_TOKEN, body).await.json();
    assert_eq!(
        first["signed_url"], second["signed_url"],
        "rounded expiry, one signature"
    );
    assert_eq!(first["expires"], 1_800_000_600u64);
    sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/secret"}),
    )
    .await;
    let reply = send(&state, get("/metrics", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = reply.text();
    for line in [
        "cfsign_requests_total{route=\"/v1/sign\",status=\"200\"} 2",
        "cfsign_requests_total{route=\"/v1/sign\",status=\"403\"} 1",
        "cfsign_signatures_issued_total 2",
        "cfsign_cache_hits_total 1",
        "cfsign_cache_misses_total 1",
        "cfsign_request_duration_seconds_count 3",
        "# TYPE cfsign_request_duration_seconds histogram",
        "# TYPE cfsign_signing_threads gauge",
        "cfsign_signing_queue_depth 0",
        "cfsign_signing_jobs_abandoned_total 0",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    assert!(!text.contains("PRIVATE"), "{text}");
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let state = state();
    let reply = send(&state, get("/openapi.json", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("post", "/v1/sign"),
        ("post", "/v1/cookies"),
        ("post", "/v1/stream/manifest"),
        ("post", "/v1/stream/cookies"),
        ("get", "/v1/redirect"),
        ("get", "/v1/redirect/{host}/{path}"),
        ("post", "/v1/verify"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), routes.len(), "{:?}", paths.keys());
    for (method, path) in routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
        // And the router really serves it (anything but 404/405).
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let status = send(&state, request).await.status;
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(doc, serde_json::to_value(cfsign_server::openapi()).unwrap());
}

#[tokio::test]
async fn reload_switches_keys_and_rejects_bad_configs() {
    let state = state();
    let url = |state: AppState| async move {
        sign(
            &state,
            WEB_TOKEN,
            json!({"url": "https://d1.example.net/media/a.jpg"}),
        )
        .await
        .json()["signed_url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        verify_url(&url(state.clone()).await, NOW),
        Ok(KEY_A.to_owned())
    );
    let config_b = Config::from_toml(&config_toml(KEY_B, ""), Path::new("t.toml")).unwrap();
    state.reload(&config_b, &|_| None).unwrap();
    assert_eq!(
        verify_url(&url(state.clone()).await, NOW),
        Ok(KEY_B.to_owned())
    );

    // Invalid: unknown active key, missing key file, bad token hash. The old config stays.
    for toml in [
        config_toml("KZZZZZZZZZZZZZ", ""),
        config_toml(KEY_A, "").replace("test-key-a.pem", "missing.pem"),
        config_toml(KEY_A, "").replace(&sha256_hex(WEB_TOKEN), "abc"),
    ] {
        let config = Config::from_toml(&toml, Path::new("t.toml")).unwrap();
        let err = state.reload(&config, &|_| None).unwrap_err().to_string();
        assert!(!err.contains("PRIVATE KEY"), "{err}");
        assert_eq!(state.active_key_id(), KEY_B, "{err}");
    }
    let text = send(&state, get("/metrics", None)).await.text();
    assert!(text.contains("cfsign_reloads_total 1"), "{text}");
    assert!(text.contains("cfsign_reload_failures_total 3"), "{text}");
}

#[tokio::test]
async fn reload_resizes_the_cache() {
    let with_cache = |capacity: u32| {
        let extra = format!("[cache]\ncapacity = {capacity}\nexpiry_granularity_secs = 600\n");
        Config::from_toml(&config_toml(KEY_A, &extra), Path::new("t.toml")).unwrap()
    };
    let state = AppState::from_config(&with_cache(100), &|_| None)
        .unwrap()
        .with_clock(|| NOW);
    let body = json!({"url": "https://d1.example.net/media/hot.jpg", "ttl": 60});
    let twice = |state: AppState, body: Value| async move {
        for _ in 0..2 {
            assert_eq!(
                sign(&state, WEB_TOKEN, body.clone()).await.status,
                StatusCode::OK
            );
        }
        let text = send(&state, get("/metrics", None)).await.text();
        let value = |name: &str| -> u64 {
            let line = text.lines().find(|l| l.starts_with(name)).unwrap();
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        (
            value("cfsign_cache_hits_total"),
            value("cfsign_cache_misses_total"),
        )
    };
    assert_eq!(twice(state.clone(), body.clone()).await, (1, 1));
    // Capacity 0 turns the cache off without a restart: both requests sign.
    state.reload(&with_cache(0), &|_| None).unwrap();
    assert_eq!(twice(state.clone(), body.clone()).await, (1, 3));
    // And back on.
    state.reload(&with_cache(100), &|_| None).unwrap();
    assert_eq!(twice(state.clone(), body).await, (2, 4));
}

#[tokio::test]
async fn key_from_environment() {
    let pem = std::fs::read_to_string(key_path("test-key-b.pem")).unwrap();
    // As django-storages users often have it: newlines flattened to literal `\n`.
    let flattened = pem.replace('\n', "\\n");
    let toml = config_toml(KEY_A, "")
        .split("[[keys]]")
        .next()
        .unwrap()
        .replace(&format!("active_key = \"{KEY_A}\""), "")
        + &config_toml(KEY_A, "")[config_toml(KEY_A, "").find("[[clients]]").unwrap()..];
    let config = Config::from_toml(&toml, Path::new("t.toml")).unwrap();
    let env = |name: &str| match name {
        "AWS_CLOUDFRONT_KEY" => Some(flattened.clone()),
        "AWS_CLOUDFRONT_KEY_ID" => Some(KEY_B.to_owned()),
        _ => None,
    };
    let state = AppState::from_config(&config, &env)
        .unwrap()
        .with_clock(|| NOW);
    assert_eq!(state.active_key_id(), KEY_B);
    let url = sign(
        &state,
        WEB_TOKEN,
        json!({"url": "https://d1.example.net/media/a.jpg"}),
    )
    .await
    .json()["signed_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify_url(&url, NOW), Ok(KEY_B.to_owned()));

    let err = AppState::from_config(&config, &|name| {
        (name == "AWS_CLOUDFRONT_KEY").then(|| flattened.clone())
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("AWS_CLOUDFRONT_KEY_ID"), "{err}");
    let err = AppState::from_config(&config, &|name| match name {
        "AWS_CLOUDFRONT_KEY" => {
            Some("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".to_owned())
        }
        "AWS_CLOUDFRONT_KEY_ID" => Some(KEY_B.to_owned()),
        _ => None,
    })
    .err()
    .unwrap()
    .to_string();
    assert!(!err.contains("AAAA"), "key material in the error: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out() {
    // 12,000 RSA signatures take several seconds even with OpenSSL on two cores (5,000 once
    // finished inside the limit); the limit is one.
    let state = state_with(
        KEY_A,
        "[server]\nrequest_timeout_secs = 1\nmax_batch = 12000\nbody_limit_bytes = 4000000\n",
    );
    let items: Vec<Value> = (0..12000)
        .map(|i| json!({"url": format!("https://d1.example.net/media/{i}.jpg")}))
        .collect();
    let start = std::time::Instant::now();
    let reply = sign(&state, WEB_TOKEN, json!({ "requests": items })).await;
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT);
    assert!(start.elapsed() < std::time::Duration::from_secs(3));
    assert!(reply.headers.get("x-request-id").is_some());
}

/// The README's nginx recipe: `proxy_pass http://127.0.0.1:8085/v1/redirect/<host>$request_uri`
/// sends the viewer's request target after the host, byte for byte. Each request below is what
/// nginx sends for a viewer's `GET <target>`.
#[tokio::test]
async fn redirect_raw_path_form_signs_the_viewer_request_byte_for_byte() {
    let state = state();
    let redirect = |target: &str| {
        let state = state.clone();
        let path = format!("/v1/redirect/d1.example.net{target}");
        async move { send(&state, get(&path, Some(WEB_TOKEN))).await }
    };
    for (target, signed) in [
        // A file name with a space, as the browser encodes it.
        (
            "/media/a%20b.jpg",
            "https://d1.example.net/media/a%20b.jpg?",
        ),
        // `%2B` stays `%2B`: `+` would be another object.
        (
            "/media/a%2Bb.jpg",
            "https://d1.example.net/media/a%2Bb.jpg?",
        ),
        ("/media/a+b.jpg", "https://d1.example.net/media/a+b.jpg?"),
        // Non-ASCII names, as the browser encodes them.
        (
            "/media/caf%C3%A9.jpg",
            "https://d1.example.net/media/caf%C3%A9.jpg?",
        ),
        // The viewer's query is signed whole, and sets neither the lifetime nor the hash.
        (
            "/media/a.jpg?v=1&w=%2B2",
            "https://d1.example.net/media/a.jpg?v=1&w=%2B2&",
        ),
        (
            "/media/a.jpg?ttl=3600&hash_algorithm=sha256&url=https://evil.example/",
            "https://d1.example.net/media/a.jpg?ttl=3600&hash_algorithm=sha256&url=https://evil.example/&",
        ),
        (
            "/media/hls/index.m3u8",
            "https://d1.example.net/media/hls/index.m3u8?",
        ),
        (
            "/users/42/avatar.png",
            "https://d1.example.net/users/42/avatar.png?",
        ),
    ] {
        let reply = redirect(target).await;
        assert_eq!(
            reply.status,
            StatusCode::FOUND,
            "{target}: {}",
            reply.text()
        );
        let location = reply.headers[header::LOCATION].to_str().unwrap();
        assert!(location.starts_with(signed), "{target}: {location}");
        let rest = &location[signed.len()..];
        assert!(
            rest.starts_with("Expires=1800000300&Signature="),
            "{target}: {location}"
        );
        assert!(!location.contains("Hash-Algorithm"), "{target}: {location}");
        assert_eq!(
            verify_url(location, NOW),
            Ok(KEY_A.to_owned()),
            "{location}"
        );
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    }

    // What the client may not have signed is refused as through /v1/sign, without a signature.
    for (target, status, code) in [
        ("/secret/a.jpg", StatusCode::FORBIDDEN, "out_of_scope"),
        (
            "/media/../secret/a.jpg",
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        (
            "/media/..;/secret/a.jpg",
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        (
            "/media/%2e%2e/secret/a.jpg",
            StatusCode::FORBIDDEN,
            "dot_segment",
        ),
        ("/media/a%2fb.jpg", StatusCode::FORBIDDEN, "encoded_slash"),
        (
            "/media/%25%32%65%25%32%65/x",
            StatusCode::FORBIDDEN,
            "double_encoding",
        ),
        ("//media/a.jpg", StatusCode::FORBIDDEN, "out_of_scope"),
        (
            "/media/a.jpg?Signature=x",
            StatusCode::BAD_REQUEST,
            "reserved_parameter",
        ),
        ("/media/*", StatusCode::FORBIDDEN, "wildcard"),
    ] {
        redirect(target).await.assert_error(status, code);
    }
    for (path, status, code) in [
        (
            "/v1/redirect/evil.example/media/a.jpg",
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            "/v1/redirect/d1.example.net:8443/media/a.jpg",
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            "/v1/redirect/u@d1.example.net/media/a.jpg",
            StatusCode::FORBIDDEN,
            "userinfo",
        ),
        (
            "/v1/redirect/d1%2eexample.net/media/a.jpg",
            StatusCode::FORBIDDEN,
            "encoded_host",
        ),
        (
            "/v1/redirect//media/a.jpg",
            StatusCode::BAD_REQUEST,
            "invalid_url",
        ),
    ] {
        send(&state, get(path, Some(WEB_TOKEN)))
            .await
            .assert_error(status, code);
    }
    send(&state, get("/v1/redirect/d1.example.net/media/a.jpg", None))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // The query form keeps working for a properly encoded `url` (and decodes it once, as a
    // query parameter: an unencoded `%2B` there is `+`, which is why the recipe moved off it).
    let reply = send(
        &state,
        get(
            "/v1/redirect?url=https%3A%2F%2Fd1.example.net%2Fmedia%2Fa%2520b.jpg",
            Some(WEB_TOKEN),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("https://d1.example.net/media/a%20b.jpg?Expires="),
        "{location}"
    );
    let reply = send(
        &state,
        get(
            "/v1/redirect?url=https://d1.example.net/media/a%2Bb.jpg",
            Some(WEB_TOKEN),
        ),
    )
    .await;
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("https://d1.example.net/media/a+b.jpg?"),
        "{location}"
    );
}

/// A cookie `Path` must be ASCII: browsers compare it with the percent-encoded request path.
#[tokio::test]
async fn cookie_path_must_be_ascii() {
    let state = state();
    let body = json!({"resource": "https://d1.example.net/media/*", "path": "/media/caf\u{e9}/"});
    let reply = send(&state, post("/v1/cookies", Some(WEB_TOKEN), &body)).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`/media/caf%C3%A9/`"), "{message}");
    let body = json!({"resource": "https://d1.example.net/media/*", "path": "/media/caf%C3%A9/", "set_cookies": true});
    let reply = send(&state, post("/v1/cookies", Some(WEB_TOKEN), &body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    for value in reply.headers.get_all(header::SET_COOKIE) {
        assert!(
            value.to_str().unwrap().contains("; Path=/media/caf%C3%A9/"),
            "{value:?}"
        );
    }
}
