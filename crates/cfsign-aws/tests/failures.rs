//! What a signer sees when AWS is not answering as hoped, against loopback servers started by the
//! test: KMS throttling (retried with backoff, then a clear error), an endpoint that refuses
//! connections and one that never answers (timeouts). Each ends in its own error, never a hang.

#![allow(clippy::unwrap_used)] // Test code: a panic is how a failure is reported.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cfsign_aws::{Error, KmsKey, Settings};

/// A loopback KMS answering every request with `status` and `body`, counting requests.
fn fake_kms(status: u16, body: &'static str) -> (String, Arc<AtomicUsize>) {
    cfsign_tests::moto::answering(status, body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_with_backoff_then_reported() {
    let (url, count) = fake_kms(
        400,
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    );
    let settings = Settings::default()
        .with_max_attempts(4)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(50));
    let aws = common::aws(&url, &settings).await;
    let err = KmsKey::connect(&aws, "alias/cdn").await.unwrap_err();
    match &err {
        Error::Throttled { code, attempts, .. } => {
            assert_eq!(code, "ThrottlingException");
            assert_eq!(*attempts, 4);
        }
        other => panic!("not Throttled: {other}"),
    }
    assert_eq!(
        count.load(Ordering::SeqCst),
        4,
        "one call and three retries"
    );
    let message = err.to_string();
    for needle in [
        "kms:DescribeKey",
        "alias/cdn",
        "throttled",
        "4 attempt(s)",
        "quota",
    ] {
        assert!(message.contains(needle), "no `{needle}` in {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_service_errors_are_not_retried() {
    let (url, count) = fake_kms(
        400,
        r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform kms:DescribeKey"}"#,
    );
    let aws = common::aws(&url, &Settings::default()).await;
    let err = KmsKey::connect(&aws, "alias/cdn").await.unwrap_err();
    assert!(
        matches!(&err, Error::Service { code, .. } if code == "AccessDeniedException"),
        "{err}"
    );
    assert!(
        err.to_string().contains("kms:Sign and kms:GetPublicKey"),
        "{err}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_reported() {
    // A port nothing listens on: connections are refused.
    let port = cfsign_tests::proc::free_port().unwrap();
    let settings = Settings::default()
        .with_max_attempts(2)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(10));
    let aws = common::aws(&format!("http://127.0.0.1:{port}"), &settings).await;
    let err = KmsKey::connect(&aws, "alias/cdn").await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("could not reach AWS"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_never_answers_times_out() {
    // Accepts connections and reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let settings = Settings::default()
        .with_max_attempts(2)
        .with_attempt_timeout(Duration::from_millis(200))
        .with_operation_timeout(Duration::from_secs(3));
    let aws = common::aws(&url, &settings).await;
    let err = KmsKey::connect(&aws, "alias/cdn").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
}
