//! Fuzzes cfsign-server's API (JSON bodies of `/v1/sign`, `/v1/cookies`, `/v1/verify`,
//! `/v1/stream/manifest`, `/v1/stream/cookies`, the query
//! of `/v1/redirect` and its raw-path form, which go through the scope normaliser) in process: never a panic or
//! a 5xx, and never a signature for a URL outside the client's scope.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use http_body_util::BodyExt as _;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

const TOKEN: &str = "fuzz-token-0123456789abcdef";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"))
}

fn state() -> &'static cfsign_server::AppState {
    static STATE: OnceLock<cfsign_server::AppState> = OnceLock::new();
    STATE.get_or_init(|| {
        use sha2::Digest as _;
        let key = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/cfsign-server/tests/data/test-key-a.pem");
        let toml = format!(
            "[[keys]]\nid = \"K2JCJMDEHXQW5F\"\nfile = \"{key}\"\n\n[[clients]]\nname = \"fuzz\"\ntoken_sha256 = \"{}\"\n\
             allow = [\"https://d1.example.net/media/\", \"https://d1.example.net/users/*/avatar.png\"]\n\
             max_ttl = \"1h\"\ncookies = true\ncustom_policy = true\n",
            hex::encode(sha2::Sha256::digest(TOKEN))
        );
        let config = cfsign_server::Config::from_toml(&toml, std::path::Path::new("fuzz.toml")).expect("config");
        cfsign_server::AppState::from_config(&config, &|_| None).expect("state")
    })
}

fn outside_scope(signed: &str) -> bool {
    !(signed.starts_with("https://d1.example.net/media/") || signed.starts_with("https://d1.example.net/users/"))
}

fuzz_target!(|input: (u8, &str)| {
    let (which, text) = input;
    let request = match which % 7 {
        0 => ("POST", "/v1/sign".to_owned(), text.as_bytes().to_vec()),
        1 => ("POST", "/v1/cookies".to_owned(), text.as_bytes().to_vec()),
        2 => ("POST", "/v1/verify".to_owned(), text.as_bytes().to_vec()),
        3 => ("GET", format!("/v1/redirect?url={text}"), Vec::new()),
        5 => ("POST", "/v1/stream/manifest".to_owned(), text.as_bytes().to_vec()),
        6 => ("POST", "/v1/stream/cookies".to_owned(), text.as_bytes().to_vec()),
        // The raw-path form: the viewer's path and query, byte for byte.
        _ => ("GET", format!("/v1/redirect/d1.example.net/{text}"), Vec::new()),
    };
    let Ok(http) = axum::http::Request::builder()
        .method(request.0)
        .uri(request.1.as_str())
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from(request.2))
    else {
        return;
    };
    let (status, location, body) = runtime().block_on(async {
        let response = cfsign_server::app(state().clone()).oneshot(http).await.expect("infallible");
        let status = response.status();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        (status, location, body)
    });
    assert!(!status.is_server_error(), "{} {}: {status}", request.0, request.1);
    if let Some(location) = location {
        assert!(!outside_scope(&location), "redirect outside the scope: {location}");
    }
    if matches!(which % 7, 5 | 6) && status.is_success() {
        // A stream's one policy: its resource must lie in the scope.
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let resource = json["resource"].as_str().expect("a resource");
        assert!(!outside_scope(resource), "stream signed outside the scope: {resource}");
    }
    if which % 7 == 0 && status.is_success() {
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let mut urls = Vec::new();
        collect_urls(&json, &mut urls);
        for url in urls {
            assert!(!outside_scope(&url), "signed outside the scope: {url}");
        }
    }
});

fn collect_urls(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if s.contains("Signature=") => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_urls(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_urls(v, out)),
        _ => {}
    }
}
