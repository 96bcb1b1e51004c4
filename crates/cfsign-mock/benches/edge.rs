//! Edge throughput: requests/s over loopback with keep-alive connections, for a signed URL on a
//! restricted path next to an unsigned request on a public path, in the same run.
//!
//! `CARGO_TARGET_DIR=… cargo bench -p cfsign-mock --bench edge [-- CONNECTIONS SECONDS]`
//! (defaults: 64 connections, 5 seconds per case; add `--no-grant-cache` to verify every request). The load generator runs in the same process
//! on its own runtime, so it competes with the server for the same cores.
#![allow(clippy::unwrap_used)] // Reason: a benchmark harness; a panic is a failed run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cfsign::{PrivateKey, Signer, UnixTime};
use cfsign_mock::MockConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let connections: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(64);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cache = !std::env::args().any(|a| a == "--no-grant-cache");
    let mock = server_rt
        .block_on(cfsign_mock::start(
            MockConfig::default()
                .with_demo(true)
                .with_grant_cache(cache),
        ))
        .unwrap();
    let demo = mock.demo().unwrap();
    let port = mock.port();
    let host = format!("{}.localhost:{port}", demo.domain_name());
    let signer = Signer::with_backend(
        demo.key_pair_id().parse().unwrap(),
        PrivateKey::from_pem(demo.private_key_pem()).unwrap(),
        cfsign::Backend::fastest(),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signed = signer
        .sign_canned_url(
            &format!("http://{host}/private/secret.txt"),
            UnixTime::from_secs(now + 3600).unwrap(),
        )
        .unwrap();
    let signed_target = signed
        .strip_prefix(&format!("http://{host}"))
        .unwrap()
        .to_owned();

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "cfsign-mock edge: {connections} connections, {seconds}s per case, keep-alive, loopback, grant cache {}",
        if cache {
            "on"
        } else {
            "off (every signed request verified)"
        }
    );
    for (name, target) in [
        ("unsigned (public path)", "/public/hello.txt".to_owned()),
        ("signed URL (RSA-2048, canned)", signed_target.clone()),
        (
            "unsigned (public path), again",
            "/public/hello.txt".to_owned(),
        ),
        ("signed URL (RSA-2048, canned), again", signed_target),
    ] {
        let (ok, other, elapsed) = client_rt.block_on(load(
            port,
            &host,
            &target,
            connections,
            Duration::from_secs(seconds),
        ));
        println!(
            "{name:40} {:>9.0} req/s  ({ok} x 200, {other} other, {:.1}s)",
            ok as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64()
        );
        assert_eq!(other, 0, "{name}: non-200 responses");
    }
    drop(mock);
}

async fn load(
    port: u16,
    host: &str,
    target: &str,
    connections: usize,
    duration: Duration,
) -> (u64, u64, Duration) {
    let request = Arc::new(format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes());
    let ok = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (request, ok, other, stop) = (request.clone(), ok.clone(), other.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            let mut line = String::new();
            let mut body = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                write.write_all(&request).await.unwrap();
                line.clear();
                reader.read_line(&mut line).await.unwrap();
                let status_ok = line.split(' ').nth(1) == Some("200");
                let mut length = 0usize;
                loop {
                    line.clear();
                    reader.read_line(&mut line).await.unwrap();
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap();
                    }
                }
                body.resize(length, 0);
                reader.read_exact(&mut body).await.unwrap();
                if status_ok {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    other.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    (
        ok.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
        start.elapsed(),
    )
}
