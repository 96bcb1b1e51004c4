//! Prometheus metrics over atomics, and the middleware that records every request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::pool::PoolStats;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The server's counters and the latency histogram, updated lock-free (but for the per-route
/// request counts) and rendered for Prometheus.
pub(crate) struct Metrics {
    /// Route → status → count.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    signatures: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    connections_open: AtomicU64,
    connections_accepted: AtomicU64,
    connections_refused: AtomicU64,
    connections_timed_out: AtomicU64,
    connections_limit: AtomicU64,
}

impl Metrics {
    /// Every counter at 0.
    pub(crate) fn new() -> Metrics {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            latency_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_count: AtomicU64::new(0),
            latency_sum_micros: AtomicU64::new(0),
            signatures: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            connections_open: AtomicU64::new(0),
            connections_accepted: AtomicU64::new(0),
            connections_refused: AtomicU64::new(0),
            connections_timed_out: AtomicU64::new(0),
            connections_limit: AtomicU64::new(0),
        }
    }

    /// Records the connection cap (`max_connections`), for the `cfsign_connections_limit` gauge.
    pub(crate) fn connection_limit(&self, limit: usize) {
        self.connections_limit
            .store(limit as u64, Ordering::Relaxed);
    }

    /// Counts a connection accepted and now open.
    pub(crate) fn connection_opened(&self) {
        self.connections_accepted.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an open connection closed; `timed_out` when it was closed because a request head
    /// did not arrive in time.
    pub(crate) fn connection_closed(&self, timed_out: bool) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
        if timed_out {
            self.connections_timed_out.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a connection refused because `max_connections` were open.
    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request to `route` answered with `status` after `seconds`.
    fn request(&self, route: &str, status: u16, seconds: f64) {
        if let Ok(mut requests) = self.requests.lock() {
            // Look up by `&str` first so the common case allocates nothing.
            match requests.get_mut(route) {
                Some(by_status) => *by_status.entry(status).or_default() += 1,
                None => {
                    requests.insert(route.to_owned(), BTreeMap::from([(status, 1)]));
                }
            }
        }
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        // Truncation to whole microseconds is intended.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Counts `n` signed URLs or cookie sets issued.
    pub(crate) fn signatures_issued(&self, n: u64) {
        self.signatures.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts signatures found in the cache (`hits`) and computed (`misses`).
    pub(crate) fn cache(&self, hits: u64, misses: u64) {
        self.cache_hits.fetch_add(hits, Ordering::Relaxed);
        self.cache_misses.fetch_add(misses, Ordering::Relaxed);
    }

    /// Counts a configuration reload, applied (`ok`) or rejected.
    pub(crate) fn reload(&self, ok: bool) {
        let counter = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The running totals that the Lambda entry point reports as CloudWatch embedded metrics.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub(crate) fn totals(&self) -> Totals {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut errors = 0;
        if let Ok(requests) = self.requests.lock() {
            for by_status in requests.values() {
                errors += by_status
                    .iter()
                    .filter(|(status, _)| **status >= 500)
                    .map(|(_, n)| n)
                    .sum::<u64>();
            }
        }
        Totals {
            requests: load(&self.latency_count),
            server_errors: errors,
            latency_sum_micros: load(&self.latency_sum_micros),
            signatures: load(&self.signatures),
            cache_hits: load(&self.cache_hits),
            cache_misses: load(&self.cache_misses),
            reload_failures: load(&self.reloads_failed),
        }
    }

    /// The Prometheus text exposition (version 0.0.4), with the signers' numbers.
    pub(crate) fn render(&self, signing: PoolStats) -> String {
        let mut out = String::new();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        out.push_str("# HELP cfsign_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE cfsign_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for (route, by_status) in requests.iter() {
                for (status, count) in by_status {
                    let _ = writeln!(
                        out,
                        "cfsign_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                    );
                }
            }
        }
        out.push_str("# HELP cfsign_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE cfsign_request_duration_seconds histogram\n");
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "cfsign_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                load(bucket)
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            out,
            "cfsign_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[allow(clippy::cast_precision_loss)] // Microsecond sums stay far below 2^52.
        let sum = load(&self.latency_sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "cfsign_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "cfsign_request_duration_seconds_count {count}");
        let counters = [
            (
                "cfsign_signatures_issued_total",
                "Signed URLs and cookie sets issued.",
                load(&self.signatures),
            ),
            (
                "cfsign_cache_hits_total",
                "Signatures served from the cache.",
                load(&self.cache_hits),
            ),
            (
                "cfsign_cache_misses_total",
                "Signatures computed.",
                load(&self.cache_misses),
            ),
            (
                "cfsign_reloads_total",
                "Successful configuration reloads.",
                load(&self.reloads_ok),
            ),
            (
                "cfsign_reload_failures_total",
                "Rejected configuration reloads (the previous one stayed).",
                load(&self.reloads_failed),
            ),
            (
                "cfsign_signing_jobs_abandoned_total",
                "Signatures not computed because their request had gone away (timeout, disconnect).",
                signing.skipped,
            ),
            (
                "cfsign_signing_rejected_total",
                "Requests answered 503 overloaded because max_queue signatures were waiting.",
                signing.rejected,
            ),
            (
                "cfsign_signing_queue_full_waits_total",
                "Requests that found max_queue signatures waiting and queued anyway (queue_full = \"wait\").",
                signing.waited_full,
            ),
            (
                "cfsign_connections_accepted_total",
                "Connections accepted and served.",
                load(&self.connections_accepted),
            ),
            (
                "cfsign_connections_refused_total",
                "Connections answered 503 and closed at once because max_connections were open.",
                load(&self.connections_refused),
            ),
            (
                "cfsign_connections_header_timeouts_total",
                "Connections closed because a request head did not arrive within header_read_timeout_secs (includes idle keep-alive connections).",
                load(&self.connections_timed_out),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let gauges = [
            (
                "cfsign_signing_threads",
                "Signatures computed at once (signer tasks; the name is kept from when they were threads).",
                signing.threads,
            ),
            (
                "cfsign_signing_queue_depth",
                "Signatures waiting for a signer.",
                signing.queued,
            ),
            (
                "cfsign_signing_queue_limit",
                "The queue length (max_queue) at which signing requests are refused or counted as waiting on a full queue.",
                signing.max_queue,
            ),
            (
                "cfsign_connections_open",
                "Client connections open now.",
                usize::try_from(load(&self.connections_open)).unwrap_or(usize::MAX),
            ),
            (
                "cfsign_connections_limit",
                "Connections allowed open at once (max_connections).",
                usize::try_from(load(&self.connections_limit)).unwrap_or(usize::MAX),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

/// Middleware: counts requests by matched route and status and observes latency.
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    metrics.request(
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// Running totals since the process started (see [`Metrics::totals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub(crate) struct Totals {
    /// Requests answered.
    pub(crate) requests: u64,
    /// Requests answered with a 5xx status.
    pub(crate) server_errors: u64,
    /// Their summed latency, in microseconds.
    pub(crate) latency_sum_micros: u64,
    /// Signed URLs and cookie sets issued.
    pub(crate) signatures: u64,
    /// Signatures found in the cache.
    pub(crate) cache_hits: u64,
    /// Signatures computed.
    pub(crate) cache_misses: u64,
    /// Reloads (refreshes) rejected.
    pub(crate) reload_failures: u64,
}
