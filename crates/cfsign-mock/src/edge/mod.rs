//! The edge: serves a request routed to a distribution. It picks the cache behaviour, enforces
//! trusted key groups with [`cfsign::verify`] (always before any origin is asked), and serves the
//! object from the origin: a directory, S3 or a custom origin.

mod cf_headers;
mod forwarding;
mod grants;
mod object;
mod proxy;
mod response_headers;
mod view;

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use cfsign::{Decision, Request};

use crate::clock::Clock;
use crate::edge::cf_headers::{add_edge_headers, new_request_id, via};
use crate::edge::object::object_response;
use crate::edge::proxy::OriginRequest;
use crate::origin::{Fetched, OriginSource};

use crate::edge::view::EdgeBehaviour;
pub(crate) use crate::edge::view::{EdgeDist, EdgeView};

/// How the edge decides, set once at start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeOptions {
    /// Whether identical granted requests are served from the grant cache.
    pub(crate) grant_cache: bool,
    /// Deny what only undocumented behaviour would serve.
    pub(crate) strict: bool,
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
/// CloudFront's `Via`, `X-Amz-Cf-Id`, `X-Amz-Cf-Pop` and `X-Cache`.
pub(crate) async fn serve(clock: Clock, options: EdgeOptions, req: EdgeRequest<'_>) -> Response {
    let cf_id = new_request_id();
    let via = via();
    let mut response = serve_inner(clock, options, req, via, &cf_id).await;
    let status = response.status();
    add_edge_headers(response.headers_mut(), status, via, &cf_id);
    response
}

async fn serve_inner(
    clock: Clock,
    options: EdgeOptions,
    req: EdgeRequest<'_>,
    via: &str,
    cf_id: &str,
) -> Response {
    let dist = &req.dist;
    if !dist.enabled {
        return simple_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "The distribution is disabled.",
        );
    }
    let Some(behaviour) = dist.behaviour_for(req.path) else {
        return simple_error(
            StatusCode::BAD_GATEWAY,
            "NoBehaviour",
            "No cache behaviour matched.",
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
        return r;
    }
    let mut response = serve_behaviour(clock, options, &req, behaviour, dist, via, cf_id).await;
    if let Some(policy) = &behaviour.headers_policy {
        let preflight = response_headers::is_preflight(req.method, req.headers);
        response_headers::apply(policy, req.headers, preflight, response.headers_mut());
    }
    response
}

/// Serves a request on its cache behaviour: signature check, then `OPTIONS` or the origin.
async fn serve_behaviour(
    clock: Clock,
    options: EdgeOptions,
    req: &EdgeRequest<'_>,
    behaviour: &EdgeBehaviour,
    dist: &EdgeDist,
    via: &str,
    cf_id: &str,
) -> Response {
    if let Some(restricted) = &behaviour.trusted {
        let cookies = cookie_header(req.headers);
        let now = clock.now();
        let cache_key = (
            req.url.clone(),
            cookies.clone().unwrap_or_default(),
            req.client_ip,
        );
        if !(options.grant_cache && restricted.grants.get(&cache_key, now)) {
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
                Decision::Granted(grant) if options.grant_cache => {
                    restricted.grants.insert(cache_key, now, grant.expires());
                }
                Decision::Granted(_) => {}
                Decision::Denied(denial) => {
                    tracing::info!(url = %req.url, "403 {denial}");
                    return denied(denial.code());
                }
            }
        }
    }
    if req.method == Method::OPTIONS {
        // Only reached when the behaviour allows OPTIONS: the edge answers it (preflight headers
        // come from the response headers policy), the origin is not asked.
        return response_headers::options_response();
    }
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
    object_response(req.method, req.headers, &object_path, body)
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
