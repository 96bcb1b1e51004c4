//! Origin requests to S3 and custom origins: the request CloudFront would send (the path under
//! the origin path, `Range`, the headers the behaviour forwards, `Via`, `X-Amz-Cf-Id`,
//! `X-Forwarded-For`; for S3 with origin access control a SigV4 signature), and the origin's
//! answer relayed as it streams in, or CloudFront's 502/504 when there is none.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;

use crate::edge::cf_headers::error_page;
use crate::edge::forwarding::Forwarding;
use crate::model::SigningBehavior;
use crate::origin::{HttpSource, S3Source};
use crate::sigv4::{self, Unsigned};
use crate::upstream::{self, HttpTarget, Timeouts, UpstreamError};

/// The `User-Agent` of CloudFront's origin requests.
const USER_AGENT: &str = "Amazon CloudFront";

/// A viewer request on its way to an origin.
pub(crate) struct OriginRequest<'a> {
    /// `GET` or `HEAD`.
    pub(crate) method: &'a Method,
    /// The viewer's headers.
    pub(crate) headers: &'a HeaderMap,
    /// The viewer's query string, if any.
    pub(crate) query: Option<&'a str>,
    /// The viewer's address (`X-Forwarded-For`).
    pub(crate) client_ip: IpAddr,
    /// This request's `Via` and `X-Amz-Cf-Id`.
    pub(crate) via: &'a str,
    /// This request's `X-Amz-Cf-Id`.
    pub(crate) cf_id: &'a str,
    /// What the behaviour forwards.
    pub(crate) forwarding: &'a Forwarding,
}

/// Headers that describe one connection, never forwarded either way (RFC 9110 §7.6.1), and
/// those the mock sets itself.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Gets `key` (decoded, starting with `/`, under the origin path) from an S3 bucket, path-style
/// from the S3 endpoint, signed as the origin access control says.
pub(crate) async fn fetch_s3(src: &S3Source, key: &str, req: &OriginRequest<'_>) -> Response {
    let target = &src.endpoint.target;
    let host = target.host_header();
    let path = format!(
        "/{}{}",
        sigv4::uri_encode(&src.bucket.bucket, false),
        sigv4::uri_encode(key, true)
    );
    let viewer_authorization = req.headers.get(header::AUTHORIZATION);
    let sign = match src.signing {
        SigningBehavior::Never => false,
        SigningBehavior::Always => true,
        SigningBehavior::NoOverride => viewer_authorization.is_none(),
    };
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for (name, value) in req.headers {
        let forwarded = *name == header::RANGE
            || (req.forwarding.forwards_header(name)
                && *name != header::HOST
                && *name != header::AUTHORIZATION
                && *name != header::COOKIE
                && *name != header::CONTENT_LENGTH
                && !name.as_str().starts_with("x-amz-"));
        if forwarded && !hop_by_hop(name) {
            headers.push((name.clone(), value.clone()));
        }
    }
    // no-override passes the viewer's own Authorization on instead of signing.
    if src.signing == SigningBehavior::NoOverride
        && let Some(v) = viewer_authorization
    {
        headers.push((header::AUTHORIZATION, v.clone()));
    }
    if sign {
        let Some(credentials) = &src.endpoint.credentials else {
            return error_page(
                StatusCode::BAD_GATEWAY,
                "CloudFront wasn't able to sign the origin request: cfsign-mock has no AWS credentials for origin access control (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or [s3] in --config).",
                req.cf_id,
            );
        };
        let to_sign: Vec<(String, String)> = headers
            .iter()
            .filter(|(n, _)| *n == header::RANGE)
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let amz_date = sigv4::amz_date(now);
        let added = sigv4::sign(
            credentials,
            &Unsigned {
                method: req.method.as_str(),
                host: &host,
                path: &path,
                headers: &to_sign,
                region: &src.bucket.region,
                service: "s3",
                amz_date: &amz_date,
            },
        );
        for (name, value) in added {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.push((n, v));
            }
        }
    }
    send(target, &host, &path, headers, src.timeouts, req).await
}

/// Gets `path` (as the viewer sent it, under the origin path) from a custom origin over HTTP,
/// with the headers, cookies and query string the behaviour forwards.
pub(crate) async fn fetch_http(src: &HttpSource, path: &str, req: &OriginRequest<'_>) -> Response {
    let mut host = src.target.host_header();
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for (name, value) in req.headers {
        if *name == header::HOST {
            if req.forwarding.forwards_header(name)
                && let Ok(v) = value.to_str()
            {
                host = v.to_owned();
            }
            continue;
        }
        let forwarded = *name == header::RANGE
            || (*name == header::COOKIE && req.forwarding.cookies)
            || (*name != header::COOKIE && req.forwarding.forwards_header(name));
        if forwarded && !hop_by_hop(name) && *name != header::CONTENT_LENGTH {
            headers.push((name.clone(), value.clone()));
        }
    }
    let target = match req.query.filter(|q| req.forwarding.query && !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    send(&src.target, &host, &target, headers, src.timeouts, req).await
}

/// Sends the origin request and relays the answer.
async fn send(
    target: &HttpTarget,
    host: &str,
    path_and_query: &str,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeouts: Timeouts,
    req: &OriginRequest<'_>,
) -> Response {
    let mut builder = Request::builder()
        .method(req.method.clone())
        .uri(path_and_query)
        .header(header::HOST, host);
    let mut has_user_agent = false;
    for (name, value) in headers {
        has_user_agent |= name == header::USER_AGENT;
        builder = builder.header(name, value);
    }
    if !has_user_agent {
        builder = builder.header(header::USER_AGENT, USER_AGENT);
    }
    let mut forwarded_for = req
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!("{v}, "))
        .unwrap_or_default();
    forwarded_for.push_str(&req.client_ip.to_string());
    let request = builder
        .header(header::VIA, req.via)
        .header("x-amz-cf-id", req.cf_id)
        .header("x-forwarded-for", forwarded_for)
        .body(Body::empty());
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            return error_page(
                StatusCode::BAD_GATEWAY,
                &format!("CloudFront couldn't build the origin request: {e}"),
                req.cf_id,
            );
        }
    };
    match upstream::send(target, request, timeouts).await {
        Ok((response, timing)) => {
            let (parts, body) = response.into_parts();
            let mut r = Response::new(if *req.method == Method::HEAD {
                Body::empty()
            } else {
                Body::new(body)
            });
            *r.status_mut() = parts.status;
            for (name, value) in &parts.headers {
                if !hop_by_hop(name) {
                    r.headers_mut().append(name.clone(), value.clone());
                }
            }
            r.extensions_mut().insert(timing);
            r
        }
        Err(UpstreamError::Unreachable(why)) => {
            tracing::warn!(origin = %target.host_header(), "502: {why}");
            error_page(
                StatusCode::BAD_GATEWAY,
                "CloudFront wasn't able to connect to the origin.",
                req.cf_id,
            )
        }
        Err(UpstreamError::TimedOut(why)) => {
            tracing::warn!(origin = %target.host_header(), "504: {why}");
            error_page(
                StatusCode::GATEWAY_TIMEOUT,
                "CloudFront attempted to establish a connection with the origin, but either the attempt failed or the origin closed the connection.",
                req.cf_id,
            )
        }
    }
}
