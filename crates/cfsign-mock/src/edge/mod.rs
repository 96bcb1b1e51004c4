//! The edge: serves a request routed to a distribution. It picks the cache behaviour, enforces
//! trusted key groups with [`cfsign::verify`] (always before any origin is asked), and serves the
//! object from the origin: a directory, S3 or a custom origin.

mod cf_headers;
mod forwarding;
mod grants;
mod object;
mod proxy;
mod response_headers;
mod server_timing;
mod view;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use cfsign::{Decision, Request};

use crate::clock::Clock;
use crate::edge::cf_headers::{add_edge_headers, new_request_id, via};
use crate::edge::object::object_response;
use crate::edge::proxy::OriginRequest;
use crate::origin::{Fetched, OriginSource};
use crate::requests::{Explanation, LoggedRequest, RequestLog, Verdict, redact_url};

pub(crate) use crate::edge::view::{EdgeDist, EdgeView};

/// The path prefix that reaches a distribution without a special host name.
pub(crate) const EDGE_PREFIX: &str = "/_edge/";

/// How the edge decides, set once at start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeOptions {
    /// Whether identical granted requests are served from the grant cache.
    pub(crate) grant_cache: bool,
    /// Deny what only undocumented behaviour would serve.
    pub(crate) strict: bool,
    /// Add `x-cfsign-reason` to every answer (else only when a request asks for it).
    pub(crate) explain: bool,
}

/// A request routed to a distribution.
pub(crate) struct EdgeRequest<'a> {
    pub(crate) dist: Arc<EdgeDist>,
    pub(crate) method: &'a Method,
    /// The URL as the client sent it (what a signature covers).
    pub(crate) url: String,
    /// The path (without query) used to pick a cache behaviour and the object.
    pub(crate) path: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) client_ip: IpAddr,
}

/// Serves one edge request, checking signatures at `clock`'s time; every answer carries
/// CloudFront's `Via`, `X-Amz-Cf-Id`, `X-Amz-Cf-Pop` and `X-Cache`. The request is logged (tracing
/// and `log`) with its decision and explanation; with `options.explain` or the request header
/// `x-cfsign-explain: 1`, the answer also carries `x-cfsign-reason`.
pub(crate) async fn serve(
    clock: Clock,
    options: EdgeOptions,
    log: &RequestLog,
    req: EdgeRequest<'_>,
) -> Response {
    let cf_id = new_request_id();
    let via = via();
    let explain = options.explain || wants_explanation(req.headers);
    let dist = Arc::clone(&req.dist);
    let method = req.method.clone();
    let url = req.url.clone();
    let cookies = cookie_header(req.headers).is_some_and(|c| c.contains("CloudFront-"));
    let client_ip = req.client_ip;
    let (mut response, explanation) = serve_inner(clock, options, req, via, &cf_id).await;
    let status = response.status();
    add_edge_headers(response.headers_mut(), status, via, &cf_id);
    if explain && let Ok(value) = HeaderValue::from_str(&explanation.header_value()) {
        response.headers_mut().insert(REASON_HEADER, value);
    }
    record(
        log,
        clock,
        LoggedRequest {
            id: 0,
            time_ms: 0,
            time: String::new(),
            distribution_id: dist.id.clone(),
            domain_name: dist.domain.clone(),
            method: method.to_string(),
            url: redact_url(&url),
            cookies,
            client_ip: client_ip.to_string(),
            status: status.as_u16(),
            decision: explanation.verdict,
            code: explanation.code,
            reason: explanation.kind,
            behaviour: explanation.behaviour,
            explanation: explanation.text,
        },
    );
    response
}

/// The opt-in response header that carries the edge's explanation.
pub(crate) const REASON_HEADER: &str = "x-cfsign-reason";

/// Whether the request asks for `x-cfsign-reason` (`x-cfsign-explain: 1` or `true`).
fn wants_explanation(headers: &HeaderMap) -> bool {
    headers
        .get("x-cfsign-explain")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// Stamps the entry with the mock clock's time, logs it with tracing and keeps it in the ring.
fn record(log: &RequestLog, clock: Clock, mut entry: LoggedRequest) {
    entry.time_ms = clock.now_ms();
    entry.time = rfc3339_ms(entry.time_ms);
    tracing::info!(
        target: "cfsign_mock::edge",
        distribution = %entry.distribution_id,
        method = %entry.method,
        url = %entry.url,
        status = entry.status,
        decision = ?entry.decision,
        code = entry.code.as_deref().unwrap_or(""),
        reason = entry.reason.unwrap_or(""),
        behaviour = entry.behaviour.as_deref().unwrap_or(""),
        "{}",
        entry.explanation
    );
    log.push(entry);
}

/// Milliseconds since the Unix epoch in RFC 3339 (UTC, millisecond precision).
pub(crate) fn rfc3339_ms(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

async fn serve_inner(
    clock: Clock,
    options: EdgeOptions,
    req: EdgeRequest<'_>,
    via: &str,
    cf_id: &str,
) -> (Response, Explanation) {
    let received = Instant::now();
    let dist = &req.dist;
    if !dist.enabled {
        return (
            simple_error(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "The distribution is disabled.",
            ),
            Explanation::new(
                Verdict::Refused,
                "the distribution is disabled (Enabled=false): CloudFront refuses every request",
            )
            .with_code("AccessDenied"),
        );
    }
    let Some(behaviour) = dist.behaviour_for(req.path) else {
        return (
            simple_error(
                StatusCode::BAD_GATEWAY,
                "NoBehaviour",
                "No cache behaviour matched.",
            ),
            Explanation::new(
                Verdict::Refused,
                "no cache behaviour matched (the distribution has no default behaviour)",
            )
            .with_code("NoBehaviour"),
        );
    };
    let is_options = behaviour.allows_options && req.method == Method::OPTIONS;
    if req.method != Method::GET && req.method != Method::HEAD && !is_options {
        let allow = if behaviour.allows_options {
            "GET, HEAD, OPTIONS"
        } else {
            "GET, HEAD"
        };
        let mut r = simple_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("This cache behaviour only allows {allow}."),
        );
        if let Ok(v) = HeaderValue::from_str(allow) {
            r.headers_mut().insert(header::ALLOW, v);
        }
        return (
            r,
            Explanation::new(
                Verdict::Refused,
                format!(
                    "{} is not an allowed method of cache behaviour `{}` ({allow} only)",
                    req.method,
                    behaviour.pattern_or_default()
                ),
            )
            .with_code("MethodNotAllowed"),
        );
    }
    let (mut response, explanation) =
        serve_behaviour(clock, options, &req, behaviour, via, cf_id).await;
    if let Some(policy) = &behaviour.headers_policy {
        let preflight = response_headers::is_preflight(req.method, req.headers);
        response_headers::apply(policy, req.headers, preflight, response.headers_mut());
        if let Some(timing) = policy.server_timing {
            server_timing::add(timing, req.headers, received, cf_id, &mut response);
        }
    }
    (response, explanation)
}

/// Serves a request on its cache behaviour: the signature check, then `OPTIONS` (answered by the
/// edge, only reached where `AllowedMethods` lists it) or the object from the origin.
async fn serve_behaviour(
    clock: Clock,
    options: EdgeOptions,
    req: &EdgeRequest<'_>,
    behaviour: &view::EdgeBehaviour,
    via: &str,
    cf_id: &str,
) -> (Response, Explanation) {
    let pattern = behaviour.pattern_or_default().to_owned();
    let mut explanation = match &behaviour.trusted {
        None => Explanation::new(
            Verdict::Public,
            format!("cache behaviour `{pattern}` is not restricted: no signature needed"),
        ),
        Some(restricted) => {
            let cookies = cookie_header(req.headers);
            let now = clock.now();
            let cache_key = (
                req.url.clone(),
                cookies.clone().unwrap_or_default(),
                req.client_ip,
            );
            if options.grant_cache && restricted.grants.get(&cache_key, now) {
                Explanation::new(
                    Verdict::Granted,
                    format!(
                        "granted by cache behaviour `{pattern}`: the same request was verified before and its signature still holds"
                    ),
                )
            } else {
                let mut request = Request::new(&req.url, now).with_client_ip(req.client_ip);
                if let Some(c) = cookies.as_deref() {
                    request = request.with_cookie_header(c);
                }
                let mut decision = cfsign::verify(&request, &restricted.keys);
                for behaviour in decision.undocumented() {
                    tracing::warn!(url = %req.url, kind = behaviour.kind(), "undocumented: {behaviour}");
                }
                if options.strict {
                    decision = decision.strict();
                }
                match decision {
                    Decision::Granted(grant) => {
                        let text = grant_text(&pattern, &grant);
                        if options.grant_cache {
                            restricted.grants.insert(cache_key, now, grant.expires());
                        }
                        Explanation::new(Verdict::Granted, text)
                    }
                    Decision::Denied(denial) => {
                        let mut e = Explanation::new(
                            Verdict::Denied,
                            format!(
                                "cache behaviour `{pattern}` is restricted: {}",
                                denial_text(&denial)
                            ),
                        )
                        .with_code(denial.code().to_string());
                        e.kind = Some(denial.reason().kind());
                        e.behaviour = Some(pattern);
                        return (denied(denial.code()), e);
                    }
                }
            }
        }
    };
    explanation.behaviour = Some(pattern);
    if req.method == Method::OPTIONS {
        return (response_headers::options_response(), explanation);
    }
    let response = serve_object(req, behaviour, via, cf_id).await;
    let status = response.status();
    if !status.is_success() && status != StatusCode::NOT_MODIFIED {
        explanation
            .text
            .push_str(&format!("; the origin answered {status}"));
    }
    (response, explanation)
}

/// The explanation of a grant: the behaviour, the key, URL or cookies, canned or custom, until when.
fn grant_text(pattern: &str, grant: &cfsign::Grant) -> String {
    let mut text = format!(
        "granted by cache behaviour `{pattern}`: {} by key {} ({} policy, {}), valid until {}",
        grant.source(),
        grant.key_pair_id(),
        if grant.is_custom_policy() {
            "custom"
        } else {
            "canned"
        },
        grant.hash_algorithm(),
        grant.expires()
    );
    for note in grant.notes() {
        text.push_str("; ");
        text.push_str(note);
    }
    for u in grant.undocumented() {
        text.push_str(&format!("; undocumented: {u}"));
    }
    text
}

/// The explanation of a denial: the core's reason, notes and undocumented behaviour.
fn denial_text(denial: &cfsign::Denial) -> String {
    let mut text = denial.reason().to_string();
    for note in denial.notes() {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

/// Serves the object from the behaviour's origin (after the signature check).
async fn serve_object(
    req: &EdgeRequest<'_>,
    behaviour: &view::EdgeBehaviour,
    via: &str,
    cf_id: &str,
) -> Response {
    let dist = &req.dist;
    let (origin, origin_path) = &behaviour.origin;
    let decoded = percent_decode(req.path);
    let root = decoded == "/" && !dist.default_root_object.is_empty();
    let decoded = if root {
        format!("/{}", dist.default_root_object)
    } else {
        decoded
    };
    let origin_request = OriginRequest {
        method: req.method,
        headers: req.headers,
        query: req.url.split_once('?').map(|(_, q)| q),
        client_ip: req.client_ip,
        via,
        cf_id,
        forwarding: &behaviour.forwarding,
    };
    let local = match origin {
        OriginSource::Unavailable(why) => {
            return simple_error(StatusCode::BAD_GATEWAY, "OriginUnreachable", why);
        }
        OriginSource::S3(s3) => {
            return proxy::fetch_s3(s3, &format!("{origin_path}{decoded}"), &origin_request).await;
        }
        OriginSource::Http(http) => {
            // A custom origin gets the path as the viewer sent it, under the origin path.
            let path = if root {
                format!("{origin_path}/{}", dist.default_root_object)
            } else {
                format!("{origin_path}{}", req.path)
            };
            return proxy::fetch_http(http, &path, &origin_request).await;
        }
        OriginSource::Local(local) => local,
    };
    let object_path = decoded;
    let key = format!("{origin_path}{object_path}");
    let started = Instant::now();
    let body = match local.fetch(&key).await {
        Fetched::Found(b) => b,
        Fetched::NotFound => {
            return xml_response(
                StatusCode::NOT_FOUND,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{}</Key></Error>",
                    crate::xml::escape(key.trim_start_matches('/'))
                ),
            );
        }
    };
    let timing = crate::upstream::Timing {
        connect: std::time::Duration::ZERO,
        first_byte: started.elapsed(),
    };
    let mut response = object_response(req.method, req.headers, &object_path, body);
    response.extensions_mut().insert(timing);
    response
}

fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let mut values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let mut out = first.to_owned();
    for v in values {
        out.push_str("; ");
        out.push_str(v);
    }
    Some(out)
}

/// The 403 CloudFront sends: exact body, `text/xml`.
fn denied(code: cfsign::DenyCode) -> Response {
    let mut r = xml_response(StatusCode::FORBIDDEN, code.xml_body());
    r.headers_mut()
        .insert("x-cache", HeaderValue::from_static("Error from cloudfront"));
    r
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r.headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("CloudFront"));
    r
}

fn simple_error(status: StatusCode, code: &str, message: &str) -> Response {
    xml_response(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
            crate::xml::escape(code),
            crate::xml::escape(message)
        ),
    )
}

/// Decodes `%XX` escapes (invalid escapes stay as they are; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes() {
        assert_eq!(percent_decode("/a%20b%zz%2"), "/a b%zz%2");
    }
}
