//! A cache behaviour's response headers policy at the edge: removes headers, then adds CORS,
//! security and custom headers, each under its origin-override rule; and answers CORS preflights.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::ops::headers_policy::{Cors, HeadersPolicy};

/// Whether a request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method` (Fetch standard §3.2.2).
pub(super) fn is_preflight(method: &axum::http::Method, headers: &HeaderMap) -> bool {
    method == axum::http::Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The edge's own answer to an `OPTIONS` request the behaviour allows: `200` with an empty body
/// (the policy's preflight headers are added by [`apply`] like on every response).
pub(super) fn options_response() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::OK;
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    r.headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("CloudFront"));
    r
}

/// Applies `policy` to a response for a request with `request` headers; `preflight` adds the
/// preflight-only CORS headers.
pub(super) fn apply(
    policy: &HeadersPolicy,
    request: &HeaderMap,
    preflight: bool,
    response: &mut HeaderMap,
) {
    for name in &policy.remove {
        response.remove(name.as_str());
    }
    if let (Some(cors), Some(origin)) = (
        &policy.cors,
        request.get(header::ORIGIN).and_then(|o| o.to_str().ok()),
    ) {
        apply_cors(cors, origin, preflight, response);
    }
    for added in policy.security.iter().chain(&policy.custom) {
        put(response, &added.name, &added.value, added.override_origin);
    }
}

fn apply_cors(cors: &Cors, origin: &str, preflight: bool, response: &mut HeaderMap) {
    let Some(allow_origin) = cors.allow_origin_for(origin) else {
        return;
    };
    let over = cors.origin_override;
    put(response, "access-control-allow-origin", &allow_origin, over);
    if allow_origin != "*" {
        // The answer depends on `Origin`: caches (and the browser's) must key on it.
        response.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if cors.allow_credentials {
        put(response, "access-control-allow-credentials", "true", over);
    }
    if !cors.expose_headers.is_empty() {
        put(
            response,
            "access-control-expose-headers",
            &cors.expose_headers.join(", "),
            over,
        );
    }
    if preflight {
        if !cors.allow_methods.is_empty() {
            put(
                response,
                "access-control-allow-methods",
                &cors.allow_methods.join(", "),
                over,
            );
        }
        if !cors.allow_headers.is_empty() {
            put(
                response,
                "access-control-allow-headers",
                &cors.allow_headers.join(", "),
                over,
            );
        }
        if let Some(age) = cors.max_age_sec {
            put(response, "access-control-max-age", &age.to_string(), over);
        }
    }
}

/// Sets a header: always when `override_origin`, else only when the response has none.
fn put(response: &mut HeaderMap, name: &str, value: &str, override_origin: bool) {
    let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) else {
        return;
    };
    if override_origin || !response.contains_key(&name) {
        response.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::managed_policies::{CORS_AND_SECURITY, CORS_WITH_PREFLIGHT, managed_policy};

    fn policy(id: &str) -> HeadersPolicy {
        HeadersPolicy::parse(&managed_policy(id).unwrap().config).unwrap()
    }

    fn request(origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn preflight_headers_only_on_preflight() {
        let p = policy(CORS_WITH_PREFLIGHT);
        let mut simple = HeaderMap::new();
        apply(&p, &request(Some("https://app.test")), false, &mut simple);
        assert_eq!(simple["access-control-allow-origin"], "*");
        assert!(!simple.contains_key("access-control-allow-methods"));
        let mut pre = HeaderMap::new();
        apply(&p, &request(Some("https://app.test")), true, &mut pre);
        assert_eq!(
            pre["access-control-allow-methods"],
            "GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT"
        );
        assert_eq!(pre["access-control-allow-headers"], "*");
        let mut none = HeaderMap::new();
        apply(&p, &request(None), false, &mut none);
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn origin_override_rules() {
        let p = policy(CORS_AND_SECURITY);
        let mut r = HeaderMap::new();
        r.insert("x-frame-options", HeaderValue::from_static("DENY"));
        r.insert("x-content-type-options", HeaderValue::from_static("bogus"));
        r.insert(
            "access-control-allow-origin",
            HeaderValue::from_static("https://origin-set.test"),
        );
        apply(&p, &request(Some("https://app.test")), false, &mut r);
        // No override: the origin's values stay.
        assert_eq!(r["x-frame-options"], "DENY");
        assert_eq!(r["access-control-allow-origin"], "https://origin-set.test");
        // Override: the policy's value wins.
        assert_eq!(r["x-content-type-options"], "nosniff");
        assert_eq!(r["strict-transport-security"], "max-age=31536000");
        assert_eq!(r["referrer-policy"], "strict-origin-when-cross-origin");
        assert_eq!(r["x-xss-protection"], "1; mode=block");
    }
}
