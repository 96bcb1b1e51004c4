//! Load test on loopback: many keep-alive connections signing unique and repeated URLs at once

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.
//! against an in-process server; every request must succeed.

mod common;

use std::path::Path;
use std::time::Duration;

use cfsign_server::loadgen::{Load, get, post_json};
use cfsign_server::{AppState, Config, serve};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_connections_zero_errors() {
    let config = Config::from_toml(
        &config_toml(KEY_A, "[cache]\nexpiry_granularity_secs = 60\n"),
        Path::new("t.toml"),
    )
    .unwrap();
    let state = AppState::from_config(&config, &|_| None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let report = Load::new(addr, 32, Duration::from_secs(3))
        .run(|conn, seq| match seq % 4 {
            // Unique URLs: signed every time.
            0 => post_json(
                "/v1/sign",
                WEB_TOKEN,
                &format!(r#"{{"url":"https://d1.example.net/media/{conn}/{seq}.jpg"}}"#),
            ),
            // Hot URLs: served from the cache.
            1 => post_json(
                "/v1/sign",
                WEB_TOKEN,
                &format!(
                    r#"{{"url":"https://d1.example.net/media/hot/{}.jpg","ttl":60}}"#,
                    seq % 8
                ),
            ),
            2 => post_json(
                "/v1/cookies",
                WEB_TOKEN,
                r#"{"resource":"https://d1.example.net/media/hls/*","ttl":300}"#,
            ),
            _ => get("/healthz"),
        })
        .await;
    assert_eq!(
        report.errors(),
        0,
        "statuses {:?}, first error {:?}",
        report.statuses(),
        report.first_error()
    );
    assert!(report.ok() > 200, "only {} requests in 3 s", report.ok());
    println!(
        "load: {} requests, {:.0}/s, p50 {:?}, p99 {:?}",
        report.ok(),
        report.rate(),
        report.percentile(50.0),
        report.percentile(99.0)
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// Signers yield after every signature, so cheap requests are not stuck behind the signing queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_stays_responsive_under_signing_load() {
    let config = Config::from_toml(&config_toml(KEY_A, ""), Path::new("t.toml")).unwrap();
    let state = AppState::from_config(&config, &|_| None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    let signing = tokio::spawn(async move {
        Load::new(addr, 32, Duration::from_secs(3))
            .run(|conn, seq| {
                post_json(
                    "/v1/sign",
                    WEB_TOKEN,
                    &format!(r#"{{"url":"https://d1.example.net/media/{conn}/{seq}.jpg"}}"#),
                )
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = Load::new(addr, 2, Duration::from_secs(2))
        .run(|_, _| get("/healthz"))
        .await;
    let signing = signing.await.unwrap();
    assert_eq!(signing.errors() + health.errors(), 0);
    println!(
        "signing p50 {:?}, healthz p50 {:?}",
        signing.percentile(50.0),
        health.percentile(50.0)
    );
    assert!(
        health.percentile(50.0) * 4 < signing.percentile(50.0),
        "healthz p50 {:?} vs signing p50 {:?}",
        health.percentile(50.0),
        signing.percentile(50.0)
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
