//! In-process tests of `POST /v1/stream/manifest` and `POST /v1/stream/cookies`: what they sign is
//! granted by `cfsign::verify` inside the prefix and nowhere else; scope, permissions and bad
//! manifests are refused without a signature.

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

const PLAYLIST: &str = "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4,\nhd/seg-1.m4s\n#EXTINF:4,\nhttps://ads.example.com/ad.ts\n";

fn state() -> AppState {
    let config = Config::from_toml(&config_toml(KEY_A, ""), Path::new("test.toml")).unwrap();
    AppState::from_config(&config, &|_| None)
        .unwrap()
        .with_clock(|| NOW)
}

async fn post(
    state: &AppState,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
    (status, json, headers)
}

fn granted(url: &str, cookie: Option<&str>) -> bool {
    let now = cfsign::UnixTime::from_secs(NOW).unwrap();
    let mut request = cfsign::Request::new(url, now);
    if let Some(cookie) = cookie {
        request = request.with_cookie_header(cookie);
    }
    cfsign::verify(&request, &trusted()).is_granted()
}

#[tokio::test]
async fn manifest_is_signed_for_its_directory() {
    let state = state();
    let url = "https://d1.example.net/media/v1/index.m3u8";
    let (status, body, headers) = post(
        &state,
        "/v1/stream/manifest",
        WEB_TOKEN,
        &json!({"manifest": PLAYLIST, "manifest_url": url, "ttl": 600}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert_eq!(body["kind"], "hls");
    assert_eq!(body["signed"], 2);
    assert_eq!(body["resource"], "https://d1.example.net/media/v1/*");
    assert_eq!(body["skipped"][0]["uri"], "https://ads.example.com/ad.ts");
    assert_eq!(body["skipped"][0]["reason"], "outside_resource");
    assert_eq!(body["skipped"][0]["line"], 6);
    let manifest = body["manifest"].as_str().unwrap();
    let segment = manifest.lines().nth(3).unwrap();
    assert!(segment.starts_with("hd/seg-1.m4s?Policy="), "{manifest}");
    assert!(granted(
        &format!("https://d1.example.net/media/v1/{segment}"),
        None
    ));
    let query = segment.split_once('?').unwrap().1;
    assert!(!granted(
        &format!("https://d1.example.net/media/v2/a.m4s?{query}"),
        None
    ));
    assert!(manifest.ends_with("\nhttps://ads.example.com/ad.ts\n"));

    // The same stream again: the same signature (cached by policy).
    let (_, again, _) = post(
        &state,
        "/v1/stream/manifest",
        WEB_TOKEN,
        &json!({"manifest": PLAYLIST, "manifest_url": url, "ttl": 600}),
    )
    .await;
    assert_eq!(again["manifest"], body["manifest"]);

    // Absolute URIs, for a manifest the app serves from its own URL.
    let (status, body, _) = post(
        &state,
        "/v1/stream/manifest",
        WEB_TOKEN,
        &json!({"manifest": PLAYLIST, "manifest_url": url, "ttl": 600, "absolute_uris": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let manifest = body["manifest"].as_str().unwrap();
    let segment = manifest.lines().nth(3).unwrap();
    assert!(
        segment.starts_with("https://d1.example.net/media/v1/hd/seg-1.m4s?Policy="),
        "{manifest}"
    );
    assert!(granted(segment, None));
}

#[tokio::test]
async fn manifest_refusals() {
    let state = state();
    let url = "https://d1.example.net/media/v1/index.m3u8";
    for (request, status, code) in [
        (
            json!({"manifest": "<html/>", "manifest_url": url}),
            StatusCode::BAD_REQUEST,
            "invalid_manifest",
        ),
        (
            json!({"manifest": "hello", "manifest_url": url}),
            StatusCode::BAD_REQUEST,
            "invalid_manifest",
        ),
        (
            json!({"manifest": PLAYLIST, "manifest_url": "https://d1.example.net/secret/i.m3u8"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"manifest": PLAYLIST, "manifest_url": url, "prefix": "https://d1.example.net/*"}),
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"manifest": PLAYLIST, "manifest_url": url, "prefix": "https://d1.example.net/media/v1"}),
            StatusCode::BAD_REQUEST,
            "invalid_prefix",
        ),
        (
            json!({"manifest": PLAYLIST, "manifest_url": url, "ttl": 7200}),
            StatusCode::FORBIDDEN,
            "ttl_too_long",
        ),
        (
            json!({"manifest": PLAYLIST}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ] {
        let (got, body, _) = post(&state, "/v1/stream/manifest", WEB_TOKEN, &request).await;
        assert_eq!(
            (got, body["error"].as_str().unwrap()),
            (status, code),
            "{request}: {body}"
        );
        assert!(!body.to_string().contains("Signature="), "{body}");
    }
    // A client without custom policies cannot sign a stream.
    let (got, body, _) = post(
        &state,
        "/v1/stream/manifest",
        BASIC_TOKEN,
        &json!({"manifest": PLAYLIST, "manifest_url": "https://d1.example.net/public/v/i.m3u8"}),
    )
    .await;
    assert_eq!(
        (got, body["error"].as_str().unwrap()),
        (StatusCode::FORBIDDEN, "custom_policy_not_allowed"),
        "{body}"
    );
}

#[tokio::test]
async fn stream_cookies() {
    let state = state();
    let (status, body, headers) = post(
        &state,
        "/v1/stream/cookies",
        WEB_TOKEN,
        &json!({"prefix": "https://d1.example.net/media/v1/", "ttl": 600, "domain": "example.com", "set_cookies": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set_cookie: Vec<&str> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(set_cookie.len(), 3);
    for value in &set_cookie {
        assert!(
            value
                .ends_with("; Domain=example.com; Path=/media/v1/; Secure; HttpOnly; SameSite=Lax"),
            "{value}"
        );
    }
    let cookie = body["cookie_header"].as_str().unwrap();
    assert!(granted(
        "https://d1.example.net/media/v1/hd/seg-9.ts",
        Some(cookie)
    ));
    assert!(!granted(
        "https://d1.example.net/media/v2/seg-9.ts",
        Some(cookie)
    ));
    let query = body["query"].as_str().unwrap();
    assert!(granted(
        &format!("https://d1.example.net/media/v1/a.m4s?{query}"),
        None
    ));

    let (status, body, _) = post(
        &state,
        "/v1/stream/cookies",
        WEB_TOKEN,
        &json!({"prefix": "https://d1.example.net/media/v1/*", "same_site": "strict", "path": "/media/"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["set_cookie"][0]
            .as_str()
            .unwrap()
            .ends_with("; Path=/media/; Secure; HttpOnly; SameSite=Strict")
    );

    for (request, token, status, code) in [
        (
            json!({"prefix": "https://d1.example.net/media/v1/", "same_site": "none", "secure": false}),
            WEB_TOKEN,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"prefix": "https://d1.example.net/"}),
            WEB_TOKEN,
            StatusCode::FORBIDDEN,
            "out_of_scope",
        ),
        (
            json!({"prefix": "https://d1.example.net/media/a.mp4"}),
            WEB_TOKEN,
            StatusCode::BAD_REQUEST,
            "invalid_prefix",
        ),
        (
            json!({"prefix": "https://d1.example.net/public/"}),
            BASIC_TOKEN,
            StatusCode::FORBIDDEN,
            "cookies_not_allowed",
        ),
    ] {
        let (got, body, _) = post(&state, "/v1/stream/cookies", token, &request).await;
        assert_eq!(
            (got, body["error"].as_str().unwrap()),
            (status, code),
            "{request}: {body}"
        );
        assert!(!body.to_string().contains("Signature="), "{body}");
    }
}
