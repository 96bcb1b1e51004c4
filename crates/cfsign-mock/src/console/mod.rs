//! `/_cfsign/`: the mock's own read-only endpoints for tools and people — the request log
//! (`requests`), the console page and its JSON (`state`, `verify`). Loopback viewers only,
//! unless the mock was started with the insecure remote-console option.

mod query;

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;

use crate::shared::Shared;

/// The path prefix of the mock's own endpoints.
pub(crate) const CONSOLE_PREFIX: &str = "/_cfsign/";

/// Answers a request under [`CONSOLE_PREFIX`].
pub(crate) fn handle(shared: &Shared, method: &Method, uri: &Uri, client_ip: IpAddr) -> Response {
    if !client_ip.is_loopback() && !shared.console_remote {
        return json_error(
            StatusCode::FORBIDDEN,
            "console_not_remote",
            "/_cfsign/ answers loopback viewers only; start cfsign-mock with --insecure-remote-console to allow others",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        return json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "/_cfsign/ is read-only: use GET",
        );
    }
    let rest = uri.path().strip_prefix(CONSOLE_PREFIX).unwrap_or("");
    let params = query::pairs(uri.query().unwrap_or(""));
    match rest {
        "requests" => match query::filter(&params) {
            Ok(filter) => json(
                StatusCode::OK,
                &serde_json::json!({ "requests": shared.requests.query(&filter) }),
            ),
            Err(detail) => json_error(StatusCode::BAD_REQUEST, "bad_filter", &detail),
        },
        _ => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such /_cfsign/ endpoint: try /_cfsign/requests",
        ),
    }
}

/// A JSON answer.
fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON error: `{"error": {"code": …, "message": …}}`.
fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    json(
        status,
        &serde_json::json!({ "error": { "code": code, "message": message } }),
    )
}
