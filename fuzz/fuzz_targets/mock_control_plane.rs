//! Fuzzes the mock's control plane (REST-XML request bodies, paths, `If-Match`) through its
//! in-process router: every answer is a CloudFront-shaped reply, never a panic or a 500.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use http_body_util::BodyExt as _;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"))
}

fn router() -> &'static axum::Router {
    static ROUTER: OnceLock<axum::Router> = OnceLock::new();
    ROUTER.get_or_init(|| cfsign_mock::router(&cfsign_mock::MockConfig::default()).expect("a mock"))
}

const PATHS: [&str; 8] = [
    "/2020-05-31/public-key",
    "/2020-05-31/key-group",
    "/2020-05-31/distribution",
    "/2020-05-31/distribution?WithTags",
    "/2020-05-31/tagging?Operation=Tag&Resource=arn:aws:cloudfront::123456789012:distribution/E1",
    "/2020-05-31/public-key/K1/config",
    "/2020-05-31/key-group/G1/config",
    "/2020-05-31/distribution/E1/config",
];

fuzz_target!(|input: (u8, bool, &str, &[u8])| {
    let (which, put, if_match, body) = input;
    let path = PATHS[usize::from(which) % PATHS.len()];
    let method = if put { "PUT" } else { "POST" };
    let Ok(request) = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("if-match", if_match.trim())
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let status = runtime().block_on(async {
        let response = router().clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let _ = response.into_body().collect().await;
        status
    });
    assert!(!status.is_server_error(), "{method} {path}: {status}");
});
