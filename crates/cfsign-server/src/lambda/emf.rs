//! `/metrics` for a function nobody can scrape: the counters written to stdout as CloudWatch
//! embedded-metric-format (EMF) lines, which CloudWatch Logs turns into metrics without an agent
//! or an API call. Each line carries what changed since the previous one, written after a
//! response once `interval` has passed (so a frozen function writes nothing).

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use crate::metrics::{Metrics, Totals};

/// The CloudWatch namespace of the metrics.
pub(crate) const NAMESPACE: &str = "cfsign";

/// Writes an EMF line at most every `interval`.
pub(crate) struct Emitter {
    metrics: Arc<Metrics>,
    function: String,
    interval: Duration,
    /// When the last line was written, and the totals it covered.
    last: Mutex<(Option<Instant>, Totals)>,
}

impl Emitter {
    /// An emitter of `metrics` for function `function` (the `FunctionName` dimension).
    pub(crate) fn new(metrics: Arc<Metrics>, function: String, interval: Duration) -> Emitter {
        Emitter {
            metrics,
            function,
            interval,
            last: Mutex::new((None, Totals::default())),
        }
    }

    /// The line due now, if `interval` has passed since the last one (the first is due at once).
    fn due(&self, now: Instant, epoch_ms: u128) -> Option<String> {
        let mut last = self.last.lock().ok()?;
        if last
            .0
            .is_some_and(|at| now.duration_since(at) < self.interval)
        {
            return None;
        }
        let totals = self.metrics.totals();
        let line = line(&self.function, epoch_ms, &delta(&totals, &last.1));
        *last = (Some(now), totals);
        Some(line)
    }
}

/// What changed from `before` to `after`.
fn delta(after: &Totals, before: &Totals) -> Totals {
    Totals {
        requests: after.requests.saturating_sub(before.requests),
        server_errors: after.server_errors.saturating_sub(before.server_errors),
        latency_sum_micros: after
            .latency_sum_micros
            .saturating_sub(before.latency_sum_micros),
        signatures: after.signatures.saturating_sub(before.signatures),
        cache_hits: after.cache_hits.saturating_sub(before.cache_hits),
        cache_misses: after.cache_misses.saturating_sub(before.cache_misses),
        reload_failures: after.reload_failures.saturating_sub(before.reload_failures),
    }
}

/// One EMF line (a JSON object) for `d`, at `epoch_ms`.
fn line(function: &str, epoch_ms: u128, d: &Totals) -> String {
    #[allow(clippy::cast_precision_loss)] // Microsecond sums stay far below 2^52.
    let latency_ms = if d.requests == 0 {
        0.0
    } else {
        d.latency_sum_micros as f64 / d.requests as f64 / 1000.0
    };
    let metric = |name: &str, unit: &str| json!({"Name": name, "Unit": unit});
    json!({
        "_aws": {
            "Timestamp": epoch_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    metric("Requests", "Count"),
                    metric("ServerErrors", "Count"),
                    metric("MeanLatency", "Milliseconds"),
                    metric("Signatures", "Count"),
                    metric("CacheHits", "Count"),
                    metric("CacheMisses", "Count"),
                    metric("ReloadFailures", "Count"),
                ],
            }],
        },
        "FunctionName": function,
        "Requests": d.requests,
        "ServerErrors": d.server_errors,
        "MeanLatency": latency_ms,
        "Signatures": d.signatures,
        "CacheHits": d.cache_hits,
        "CacheMisses": d.cache_misses,
        "ReloadFailures": d.reload_failures,
    })
    .to_string()
}

/// Middleware: after each response, writes the EMF line if one is due. The metrics middleware
/// inside has counted the request by then.
pub(crate) async fn emit_after(
    State(emitter): State<Arc<Emitter>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let epoch_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    if let Some(line) = emitter.due(Instant::now(), epoch_ms) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_deltas_and_wait_for_the_interval() {
        let metrics = Arc::new(Metrics::new());
        let emitter = Emitter::new(Arc::clone(&metrics), "f".into(), Duration::from_secs(60));
        let start = Instant::now();
        metrics.signatures_issued(3);
        let first: serde_json::Value =
            serde_json::from_str(&emitter.due(start, 1_000).unwrap()).unwrap();
        assert_eq!(first["Signatures"], 3);
        assert_eq!(first["FunctionName"], "f");
        assert_eq!(first["_aws"]["Timestamp"], 1_000);
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            NAMESPACE
        );
        let names: Vec<&str> = first["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in &names {
            assert!(
                first.get(name).is_some(),
                "EMF names {name} without a value"
            );
        }
        metrics.signatures_issued(2);
        assert_eq!(emitter.due(start + Duration::from_secs(59), 2_000), None);
        let second: serde_json::Value =
            serde_json::from_str(&emitter.due(start + Duration::from_secs(60), 3_000).unwrap())
                .unwrap();
        assert_eq!(second["Signatures"], 2, "a delta, not the running total");
        assert_eq!(second["MeanLatency"], 0.0);
    }
}
