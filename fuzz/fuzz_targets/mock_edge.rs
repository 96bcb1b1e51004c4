//! Fuzzes the mock's edge (request target, `Cookie` and `Range` headers) on its demo distribution,
//! whose `/private/*` behaviour needs a signature: never a panic or a 5xx.
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

/// The mock with its demo distribution, and that distribution's domain name.
fn mock() -> &'static (axum::Router, String) {
    static MOCK: OnceLock<(axum::Router, String)> = OnceLock::new();
    MOCK.get_or_init(|| {
        let key = std::env::temp_dir().join(format!("cfsign-fuzz-demo-{}.pem", std::process::id()));
        let config = cfsign_mock::MockConfig::default().with_demo(true).with_demo_key_file(key);
        let router = cfsign_mock::router(&config).expect("a mock");
        let list = axum::http::Request::builder()
            .uri("/2020-05-31/distribution")
            .body(Body::empty())
            .expect("a request");
        let xml = runtime().block_on(async {
            let response = router.clone().oneshot(list).await.expect("infallible");
            let bytes = response.into_body().collect().await.expect("a body").to_bytes();
            String::from_utf8_lossy(&bytes).into_owned()
        });
        let domain = xml
            .split("<DomainName>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the demo distribution's domain name")
            .to_owned();
        (router, domain)
    })
}

fuzz_target!(|input: (&str, &str, &str)| {
    let (target, cookie, range) = input;
    let target = if target.starts_with('/') { target.to_owned() } else { format!("/private/{target}") };
    let Ok(request) = axum::http::Request::builder()
        .uri(target.as_str())
        .header("host", mock().1.as_str())
        .header("cookie", cookie)
        .header("range", range)
        .body(Body::empty())
    else {
        return;
    };
    let status = runtime().block_on(async {
        let response = mock().0.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let _ = response.into_body().collect().await;
        status
    });
    assert!(!status.is_server_error() || status == 502, "{target}: {status}");
});
