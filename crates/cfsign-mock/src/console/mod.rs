//! `/_cfsign/`: the mock's own read-only endpoints for tools and people — the request log
//! (`requests`), the console page and its JSON (`state`, `verify`). Loopback viewers only,
//! unless the mock was started with the insecure remote-console option.

mod query;
mod state;
mod verify;

use std::net::IpAddr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;

use crate::shared::Shared;

/// The console page, its style sheet and script: static files compiled in, no build step.
const INDEX_HTML: &str = include_str!("assets/index.html");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
const CONSOLE_JS: &str = include_str!("assets/console.js");

/// The path prefix of the mock's own endpoints.
pub(crate) const CONSOLE_PREFIX: &str = "/_cfsign/";

/// Answers a request under [`CONSOLE_PREFIX`].
pub(crate) fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    client_ip: IpAddr,
) -> Response {
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
        "" | "index.html" => asset("text/html; charset=utf-8", INDEX_HTML),
        "console.css" => asset("text/css; charset=utf-8", CONSOLE_CSS),
        "console.js" => asset("text/javascript; charset=utf-8", CONSOLE_JS),
        "state" => {
            let port = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.rsplit_once(':'))
                .and_then(|(_, p)| p.parse().ok());
            let mut value = shared.read(|store| state::state(store, port));
            value["now"] = serde_json::json!(shared.clock.now().to_string());
            json(StatusCode::OK, &value)
        }
        "verify" => {
            let get = |name: &str| {
                params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let Some(url) = get("url").filter(|u| !u.trim().is_empty()) else {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "missing_url",
                    "give the URL to verify: /_cfsign/verify?url=<percent-encoded URL>[&cookie=<Cookie header>]",
                );
            };
            let input = verify::VerifyInput {
                url,
                cookie: get("cookie"),
                client_ip,
                now: shared.clock.now(),
                strict: shared.edge_options.strict,
                default_distribution: shared.default_distribution.as_deref(),
            };
            match verify::verify(&shared.edge(), &input) {
                Ok(v) => json(StatusCode::OK, &v),
                Err(detail) => json_error(StatusCode::BAD_REQUEST, "cannot_verify", &detail),
            }
        }
        _ => json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such /_cfsign/ endpoint: the console is /_cfsign/, the JSON endpoints requests, state and verify",
        ),
    }
}

/// A static file of the console.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The page loads only its own files; nothing from the logged URLs can run.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
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
