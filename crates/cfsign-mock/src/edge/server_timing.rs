//! CloudFront's `Server-Timing` response header, for behaviours whose response headers policy
//! enables it (`ServerTimingHeadersConfig`): which responses get it (the sampling rate, or
//! `Pragma: server-timing` on the request) and its metrics, as the CloudFront Developer Guide
//! ("Server-Timing header") lists them.
//!
//! The mock caches nothing, so an answer from the origin is always `cdn-cache-miss` with
//! `cdn-upstream-layer;desc="EDGE"`, `cdn-upstream-dns;dur=0` (the origin's address is given, not
//! looked up), the measured `cdn-upstream-connect` and `cdn-upstream-fbl`, then `cdn-pop`,
//! `cdn-rid` (the `X-Amz-Cf-Id`) and `cdn-downstream-fbl`. An answer the edge makes itself (a 403
//! for a missing signature, a 405, a preflight, a 502 for an unreachable origin) has no
//! documented form; the mock sends only `cdn-pop`, `cdn-rid` and `cdn-downstream-fbl` there (our
//! reading: no cache was consulted and no origin answered). An origin's own `Server-Timing`
//! value is kept, after the edge's metrics, in one header, as the guide describes.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::edge::cf_headers::POP;
use crate::ops::headers_policy::ServerTiming;
use crate::upstream::Timing as UpstreamTiming;

/// Adds `Server-Timing` to `response` when `config` samples this request (or the request asks
/// with `Pragma: server-timing`). `received` is when the edge got the request.
pub(super) fn add(
    config: ServerTiming,
    request: &HeaderMap,
    received: Instant,
    cf_id: &str,
    response: &mut Response,
) {
    if !asks_for_it(request) && !config.samples(rand::random::<f64>()) {
        return;
    }
    // Whatever fetched from the origin left its timing in the response's extensions.
    let upstream = response.extensions().get::<UpstreamTiming>().copied();
    let value = metrics(upstream, cf_id, received.elapsed());
    let origin: Vec<String> = response
        .headers()
        .get_all("server-timing")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let value = if origin.is_empty() {
        value
    } else {
        format!("{value},{}", origin.join(","))
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert("server-timing", v);
    }
}

/// Whether the request carries `Pragma: server-timing` (one of its comma-separated directives,
/// any case), which CloudFront honours whatever the sampling rate, even 0.
fn asks_for_it(request: &HeaderMap) -> bool {
    request
        .get_all(header::PRAGMA)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("server-timing"))
}

/// The edge's metrics, in CloudFront's order.
fn metrics(upstream: Option<UpstreamTiming>, cf_id: &str, downstream: Duration) -> String {
    let mut parts = Vec::with_capacity(8);
    if let Some(u) = upstream {
        parts.push("cdn-upstream-layer;desc=\"EDGE\"".to_owned());
        parts.push("cdn-upstream-dns;dur=0".to_owned());
        parts.push(format!(
            "cdn-upstream-connect;dur={}",
            u.connect.as_millis()
        ));
        parts.push(format!("cdn-upstream-fbl;dur={}", u.first_byte.as_millis()));
        parts.push("cdn-cache-miss".to_owned());
    }
    parts.push(format!("cdn-pop;desc=\"{POP}\""));
    parts.push(format!("cdn-rid;desc=\"{cf_id}\""));
    parts.push(format!("cdn-downstream-fbl;dur={}", downstream.as_millis()));
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_with(origin_timing: Option<&str>, upstream: Option<UpstreamTiming>) -> Response {
        let mut r = Response::new(axum::body::Body::empty());
        if let Some(v) = origin_timing {
            r.headers_mut()
                .insert("server-timing", HeaderValue::from_str(v).unwrap());
        }
        if let Some(u) = upstream {
            r.extensions_mut().insert(u);
        }
        r
    }

    fn pragma(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::PRAGMA, HeaderValue::from_str(value).unwrap());
        h
    }

    const ALWAYS: ServerTiming = ServerTiming::from_percent(100);
    const NEVER: ServerTiming = ServerTiming::from_percent(0);
    const ID: &str = "yNPsyYn7skvTzwWkq3Wcc8Nj_foxUjQUe9H1ifslzWhb0w7aLbFvGg==";

    #[test]
    fn a_miss_has_the_documented_metrics_in_order() {
        let upstream = UpstreamTiming {
            connect: Duration::from_millis(114),
            first_byte: Duration::from_millis(177),
        };
        let mut r = response_with(None, Some(upstream));
        add(ALWAYS, &HeaderMap::new(), Instant::now(), ID, &mut r);
        let value = r.headers()["server-timing"].to_str().unwrap();
        let expected_start = format!(
            "cdn-upstream-layer;desc=\"EDGE\",cdn-upstream-dns;dur=0,cdn-upstream-connect;dur=114,\
cdn-upstream-fbl;dur=177,cdn-cache-miss,cdn-pop;desc=\"{POP}\",cdn-rid;desc=\"{ID}\",cdn-downstream-fbl;dur="
        );
        assert!(value.starts_with(&expected_start), "{value}");
        assert!(
            value[expected_start.len()..].parse::<u64>().is_ok(),
            "{value}"
        );
    }

    #[test]
    fn an_edge_answer_has_no_upstream_or_cache_metrics() {
        let mut r = response_with(None, None);
        add(ALWAYS, &HeaderMap::new(), Instant::now(), ID, &mut r);
        let value = r.headers()["server-timing"].to_str().unwrap();
        assert!(
            value.starts_with(&format!(
                "cdn-pop;desc=\"{POP}\",cdn-rid;desc=\"{ID}\",cdn-downstream-fbl;dur="
            )),
            "{value}"
        );
        assert!(
            !value.contains("cdn-cache") && !value.contains("upstream"),
            "{value}"
        );
    }

    #[test]
    fn the_origins_value_is_kept_after_the_edges() {
        let mut r = response_with(Some("db;dur=53, app;desc=\"render\""), None);
        add(ALWAYS, &HeaderMap::new(), Instant::now(), ID, &mut r);
        let values: Vec<_> = r.headers().get_all("server-timing").iter().collect();
        assert_eq!(values.len(), 1, "one header");
        let value = values[0].to_str().unwrap();
        assert!(value.starts_with("cdn-pop;"), "{value}");
        assert!(
            value.ends_with(",db;dur=53, app;desc=\"render\""),
            "{value}"
        );
    }

    #[test]
    fn sampling_and_pragma() {
        let mut r = response_with(None, None);
        add(NEVER, &HeaderMap::new(), Instant::now(), ID, &mut r);
        assert!(!r.headers().contains_key("server-timing"));
        for asks in ["server-timing", "no-cache, Server-Timing", "SERVER-TIMING"] {
            let mut r = response_with(None, None);
            add(NEVER, &pragma(asks), Instant::now(), ID, &mut r);
            assert!(r.headers().contains_key("server-timing"), "{asks}");
        }
        let mut r = response_with(None, None);
        add(NEVER, &pragma("no-cache"), Instant::now(), ID, &mut r);
        assert!(!r.headers().contains_key("server-timing"));
        // 50 %: a draw below one half samples, one above does not.
        let half = ServerTiming::from_percent(50);
        assert!(half.samples(0.49) && !half.samples(0.51));
        assert!(ALWAYS.samples(0.999_999) && !NEVER.samples(0.0));
    }
}
