//! Black-box tests of the `cfsign-server` binary under more signing work than it can do: a full
//! signing queue is refused at once with 503 `overloaded` and `Retry-After` while cache hits and
//! health checks are still served, and the latency under overload is measured with the queue
//! bounded (`queue_full = "reject"`) and unbounded (`"wait"`, the behaviour before the bound).
//! Own test binary, and its tests one at a time, so that no other test shares the CPU during the
//! measurement.

#![allow(clippy::unwrap_used)] // A test that meets an unexpected error should panic.

mod common;
#[path = "common/server.rs"]
mod server;

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use server::{Server, wait_for};

/// Held by each test for its whole run: they load the CPU and must not overlap.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A batch body of `n` URLs, unique per `tag`, so that none is a cache hit.
fn batch(tag: &str, n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"url":"https://d1.example.net/media/{tag}/{i}.jpg"}}"#))
        .collect();
    format!(r#"{{"requests":[{}]}}"#, items.join(","))
}

#[test]
fn a_full_signing_queue_is_refused_at_once_while_cache_hits_are_served() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let server = Server::start(&config_toml(
        KEY_A,
        "[server]\nsigning_threads = 1\nmax_queue = 4\nmax_batch = 3000\n\
         body_limit_bytes = 1000000\nrequest_timeout_secs = 60\n\
         [cache]\nexpiry_granularity_secs = 600\n",
    ));
    let hot = r#"{"url":"https://d1.example.net/media/hot.jpg","ttl":60}"#;
    let (status, cached) = server.post_sign(hot);
    assert_eq!(status, 200, "{cached}");
    let cached: Value = serde_json::from_str(&cached).unwrap();
    // One big batch fills the queue (a batch larger than max_queue is admitted into an empty one).
    let big = std::thread::scope(|scope| {
        let big = scope.spawn(|| server.post_sign(&batch("big", 3000)));
        wait_for("a full signing queue", Duration::from_secs(20), || {
            server.metric("cfsign_signing_queue_depth") > 4
        });
        let start = Instant::now();
        let refused =
            server.post_sign_response(r#"{"url":"https://d1.example.net/media/new.jpg"}"#);
        let took = start.elapsed();
        assert_eq!(refused.status, 503, "{}", refused.text());
        assert_eq!(refused.header("retry-after"), Some("1"));
        let body = refused.json().unwrap();
        assert_eq!(body["error"], "overloaded", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("max_queue"),
            "{body}"
        );
        assert!(refused.header("x-request-id").is_some());
        // Cache hits and health checks do not wait for the queue.
        let start = Instant::now();
        let (status, again) = server.post_sign(hot);
        let hit = start.elapsed();
        assert_eq!(status, 200, "{again}");
        let again: Value = serde_json::from_str(&again).unwrap();
        assert_eq!(again["signed_url"], cached["signed_url"]);
        assert_eq!(server.get_status("/healthz"), 200);
        let depth = server.metric("cfsign_signing_queue_depth");
        println!("with {depth} signatures queued: refused in {took:?}, cache hit in {hit:?}");
        assert!(
            depth > 0,
            "the batch was still signing: the refusal did not wait for it"
        );
        big.join().unwrap()
    });
    assert_eq!(big.0, 200, "{}", &big.1[..big.1.len().min(300)]);
    let results: Value = serde_json::from_str(&big.1).unwrap();
    assert_eq!(results["results"].as_array().unwrap().len(), 3000);
    assert_eq!(server.metric("cfsign_signing_rejected_total"), 1);
    assert_eq!(server.metric("cfsign_signing_queue_limit"), 4);
    let metrics = cfsign_tests::http::get(&server.url("/metrics"))
        .send()
        .unwrap()
        .text();
    assert!(
        metrics.contains(r#"cfsign_requests_total{route="/v1/sign",status="503"} 1"#),
        "{metrics}"
    );
    // The 503 is counted, not logged as a server error.
    assert!(
        !server.stderr().contains("request failed"),
        "{}",
        server.stderr()
    );
}

/// What a load run saw: the status and latency of every answer, and how long it ran.
#[derive(Default)]
struct Run {
    answers: Vec<(u16, Duration)>,
    elapsed: Duration,
}

impl Run {
    /// The latency at percentile `p` of the answers with a status `keep` accepts.
    fn percentile(&self, p: f64, keep: impl Fn(u16) -> bool) -> Duration {
        let mut latencies: Vec<Duration> = self
            .answers
            .iter()
            .filter(|(status, _)| keep(*status))
            .map(|(_, latency)| *latency)
            .collect();
        latencies.sort_unstable();
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )] // An index into a short vector.
        let index = ((p / 100.0) * (latencies.len() - 1) as f64).round() as usize;
        latencies[index]
    }

    fn count(&self, status: u16) -> usize {
        self.answers.iter().filter(|(s, _)| *s == status).count()
    }

    fn statuses(&self) -> std::collections::BTreeMap<u16, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for (status, _) in &self.answers {
            *counts.entry(*status).or_default() += 1;
        }
        counts
    }
}

/// `clients` threads, each sending `request(client, seq)` back to back for `duration` through the
/// harness's HTTP client, and sleeping as long as a 503's `Retry-After` says (as a well-behaved
/// client does) before the next.
fn load(
    clients: usize,
    duration: Duration,
    request: impl Fn(usize, u64) -> cfsign_tests::http::Request + Sync,
) -> Run {
    let start = Instant::now();
    let deadline = start + duration;
    let answers = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients)
            .map(|client| {
                let request = &request;
                scope.spawn(move || {
                    let mut answers = Vec::new();
                    let mut seq = 0;
                    while Instant::now() < deadline {
                        let request = request(client, seq);
                        let sent = Instant::now();
                        let response = request.send().unwrap();
                        answers.push((response.status, sent.elapsed()));
                        seq += 1;
                        if let Some(wait) = response.header("retry-after") {
                            let wait = Duration::from_secs(wait.parse().unwrap());
                            std::thread::sleep(
                                wait.min(deadline.saturating_duration_since(Instant::now())),
                            );
                        }
                    }
                    answers
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    Run {
        answers,
        elapsed: start.elapsed(),
    }
}

/// One overload run against a server with one signer and `max_queue = 16`: 64 clients
/// asking for batches of 32 unique URLs (about twice what the thread signs; each waits for its
/// answer, and after a 503 for its `Retry-After`), and one asking `/healthz` every 10 ms.
fn overload(queue_full: &str) -> (Run, Run) {
    let server = Server::start(&config_toml(
        KEY_A,
        &format!(
            "[server]\nsigning_threads = 1\nmax_queue = 16\nqueue_full = \"{queue_full}\"\n\
             request_timeout_secs = 60\n"
        ),
    ));
    std::thread::scope(|scope| {
        let signing = scope.spawn(|| {
            load(64, Duration::from_secs(4), |client, seq| {
                cfsign_tests::http::Request::new("POST", &server.url("/v1/sign"))
                    .bearer(WEB_TOKEN)
                    .header("content-type", "application/json")
                    .body(batch(&format!("{client}-{seq}"), 32))
            })
        });
        std::thread::sleep(Duration::from_millis(500));
        let health = load(1, Duration::from_secs(3), |_, _| {
            std::thread::sleep(Duration::from_millis(10));
            cfsign_tests::http::get(&server.url("/healthz"))
        });
        (signing.join().unwrap(), health)
    })
}

#[test]
fn overload_latency_with_and_without_a_bounded_queue() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let (waiting, waiting_health) = overload("wait");
    let (bounded, bounded_health) = overload("reject");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let any = |_: u16| true;
    let ok = |s: u16| s == 200;
    for (name, run, health) in [
        ("wait (unbounded, as before)", &waiting, &waiting_health),
        ("reject (max_queue = 16)", &bounded, &bounded_health),
    ] {
        #[allow(clippy::cast_precision_loss)] // Small counts.
        let rate = run.count(200) as f64 / run.elapsed.as_secs_f64();
        println!(
            "overload, queue_full = {name}: {:?}; all answers p50 {:.1} ms, p99 {:.1} ms; \
             200s p50 {:.1} ms, p99 {:.1} ms; {rate:.1} batches signed/s; \
             /healthz p50 {:.2} ms, p99 {:.2} ms",
            run.statuses(),
            ms(run.percentile(50.0, any)),
            ms(run.percentile(99.0, any)),
            ms(run.percentile(50.0, ok)),
            ms(run.percentile(99.0, ok)),
            ms(health.percentile(50.0, any)),
            ms(health.percentile(99.0, any)),
        );
        assert_eq!(health.statuses().keys().copied().collect::<Vec<_>>(), [200]);
    }
    let ratio = |p: f64, keep: &dyn Fn(u16) -> bool| {
        ms(waiting.percentile(p, keep)) / ms(bounded.percentile(p, keep)).max(1e-3)
    };
    println!(
        "overload latency, unbounded / bounded queue: every answer p50 {:.1}x, p99 {:.1}x; \
         signed answers p50 {:.1}x, p99 {:.1}x",
        ratio(50.0, &any),
        ratio(99.0, &any),
        ratio(50.0, &ok),
        ratio(99.0, &ok),
    );
    // Unbounded: everything is signed, eventually. Bounded: what does not fit is refused.
    assert_eq!(
        waiting.statuses().keys().copied().collect::<Vec<_>>(),
        [200],
        "{:?}",
        waiting.statuses()
    );
    assert_eq!(
        bounded.statuses().keys().copied().collect::<Vec<_>>(),
        [200, 503],
        "{:?}",
        bounded.statuses()
    );
}
