//! Benchmark: signed URLs per second through the server at 64 keep-alive connections on loopback,
//! against the raw signing rate of the same key measured in the same run, plus the cached case.
//!
//! Run: `cargo run --release -p cfsign-server --example bench -- [ROUNDS] [CONNECTIONS]`
//! (defaults 5 and 64; each round runs every measurement for one second, interleaved). It prints a Markdown table for docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)] // A benchmark: fail loudly; rates are floats.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cfsign::{PrivateKey, Signer, UnixTime};
use cfsign_server::loadgen::{Load, Report, post_json};
use cfsign_server::{AppState, Config, serve};
use sha2::{Digest, Sha256};

const TOKEN: &str = "bench-token";

fn key_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-key-a.pem")
}

/// Signatures per second on `threads` threads at once, each signing unique URLs.
fn raw_rate(threads: usize, seconds: f64) -> f64 {
    let pem = std::fs::read(key_path()).unwrap();
    let signer = Arc::new(Signer::with_backend(
        "KAAAAAAAAAAAAA".parse().unwrap(),
        PrivateKey::parse(&pem).unwrap(),
        cfsign::Backend::fastest(),
    ));
    let expires = UnixTime::from_secs(2_000_000_000).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (signer, stop, count) = (signer.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let url = format!("https://d1.example.net/media/{t}/{i}.jpg");
                    std::hint::black_box(signer.sign_canned_url(&url, expires).unwrap());
                    i += 1;
                }
                count.fetch_add(i, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn config() -> Config {
    let toml = format!(
        r#"
[server]
max_concurrency = 4096
[cache]
capacity = 100000
expiry_granularity_secs = 60
[[keys]]
id = "KAAAAAAAAAAAAA"
file = "{key}"
[[clients]]
name = "bench"
token_sha256 = "{hash}"
allow = ["https://d1.example.net/media/"]
max_ttl = "1h"
"#,
        key = key_path().display(),
        hash = hex::encode(Sha256::digest(TOKEN.as_bytes())),
    );
    Config::from_toml(&toml, Path::new("bench.toml")).unwrap()
}

/// CPU seconds used so far by this process's live threads whose names start with `prefixes`
/// (from `/proc/self/task/*/stat`, Linux only; `None` elsewhere).
fn cpu_seconds(prefixes: &[&str]) -> Option<f64> {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(stat) = std::fs::read_to_string(task.ok()?.path().join("stat")) else {
            continue; // The thread exited meanwhile.
        };
        // `TID (COMM) STATE …`: COMM may hold spaces and parentheses, so split at the last `)`.
        let (open, close) = (stat.find('(')?, stat.rfind(')')?);
        let name = &stat[open + 1..close];
        if !prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, 12th and 13th after the COMM.
        ticks += fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?;
    }
    // USER_HZ is 100 on every Linux architecture Rust supports.
    Some(ticks as f64 / 100.0)
}

/// CPU seconds of the server's threads (the async workers, which also run the signers) and of the load
/// generator's, spent while `f` runs.
fn with_cpu<T>(f: impl FnOnce() -> T) -> (T, Option<(f64, f64)>) {
    let server = &["server-rt"];
    let client = &["loadgen"];
    let before = cpu_seconds(server).zip(cpu_seconds(client));
    let out = f();
    let after = cpu_seconds(server).zip(cpu_seconds(client));
    let used = before
        .zip(after)
        .map(|((s0, c0), (s1, c1))| (s1 - s0, c1 - c0));
    (out, used)
}

fn run_load(
    client: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    connections: usize,
    seconds: u64,
    hot: bool,
    round: u64,
) -> Report {
    client.block_on(async {
        Load::new(addr, connections, Duration::from_secs(seconds))
            .run(move |conn, seq| {
                let body = if hot {
                    format!(
                        r#"{{"url":"https://d1.example.net/media/hot/{}.jpg","ttl":300}}"#,
                        (conn as u64 + seq) % 16
                    )
                } else {
                    format!(r#"{{"url":"https://d1.example.net/media/{round}/{conn}/{seq}.jpg"}}"#)
                };
                post_json("/v1/sign", TOKEN, &body)
            })
            .await
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse().unwrap()).unwrap_or(5);
    let connections: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(64);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let secs = seconds as f64;

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("server-rt")
        .enable_all()
        .build()
        .unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();
    let state = AppState::from_config(&config(), &|_| None).unwrap();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    server_rt.spawn(serve(listener, state, std::future::pending()));

    // The machine may be shared and its load may change: interleave one-second slices of every
    // measurement, `seconds` rounds, so all of them see the same conditions.
    let (mut raw_one, mut raw_all) = (0.0, 0.0);
    let mut uncached = Report::default();
    let mut cached = Report::default();
    // CPU seconds (server, load generator) during the uncached slices.
    let mut cpu: Option<(f64, f64)> = Some((0.0, 0.0));
    for round in 1..=seconds {
        eprintln!(
            "round {round}/{seconds}: raw 1 thread, raw {cores} threads, server unique URLs, server hot URLs"
        );
        raw_one += raw_rate(1, 1.0) / secs;
        raw_all += raw_rate(cores, 1.0) / secs;
        let (report, used) = with_cpu(|| run_load(&client_rt, addr, connections, 1, false, round));
        uncached.append(report);
        cpu = cpu.zip(used).map(|((s, c), (ds, dc))| (s + ds, c + dc));
        cached.append(run_load(&client_rt, addr, connections, 1, true, round));
    }
    for (name, report) in [("uncached", &uncached), ("cached", &cached)] {
        assert_eq!(
            report.errors(),
            0,
            "{name}: {:?} {:?}",
            report.statuses(),
            report.first_error()
        );
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let backend = if cfg!(feature = "native") {
        "OpenSSL (native)"
    } else {
        "RustCrypto"
    };
    println!(
        "RSA-2048, SHA-1, canned policy, backend {backend}; {cores} cores; {connections} keep-alive connections on 127.0.0.1; {seconds} rounds of 1 s slices of each measurement, interleaved.\n"
    );
    println!("| measurement | rate (/s) | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    println!("| raw signing, 1 thread | {raw_one:.0} | | |");
    println!(
        "| raw signing × {cores} cores (1-thread rate × cores) | {:.0} | | |",
        raw_one * cores as f64
    );
    println!("| raw signing, {cores} threads at once | {raw_all:.0} | | |");
    println!(
        "| server, unique URLs (every request signs) | {:.0} | {:.2} ms | {:.2} ms |",
        uncached.rate(),
        ms(uncached.percentile(50.0)),
        ms(uncached.percentile(99.0))
    );
    println!(
        "| server, 16 hot URLs (cache hits) | {:.0} | {:.2} ms | {:.2} ms |",
        cached.rate(),
        ms(cached.percentile(50.0)),
        ms(cached.percentile(99.0))
    );
    println!();
    println!(
        "server uncached / (raw 1-thread × cores) = {:.2}; server uncached / raw all-threads = {:.2}; cached / uncached = {:.1}×",
        uncached.rate() / (raw_one * cores as f64),
        uncached.rate() / raw_all,
        cached.rate() / uncached.rate()
    );
    if let Some((server_cpu, client_cpu)) = cpu {
        let per_url = |s: f64| s / uncached.ok() as f64 * 1000.0;
        println!(
            "CPU per signed URL (unique URLs): server {:.3} ms (async workers, signers included), load generator {:.3} ms; \
             one raw signature on one thread: {:.3} ms; server CPU ÷ raw = {:.2}; cores busy: server {:.2}, load generator {:.2}",
            per_url(server_cpu),
            per_url(client_cpu),
            1000.0 / raw_one,
            per_url(server_cpu) / (1000.0 / raw_one),
            server_cpu / uncached.elapsed().as_secs_f64(),
            client_cpu / uncached.elapsed().as_secs_f64(),
        );
    }
}
