//! HTTP routing: the edge (by `Host` or path prefix) and the REST-XML control plane under
//! `/2020-05-31/`, with CloudFront-style error bodies for everything that goes wrong.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;

use crate::api_error::ApiError;
use crate::console;
use crate::edge::{self, EDGE_PREFIX, EdgeRequest};
use crate::ids::new_etag;
use crate::model::{DistributionRec, KeyGroupRec, OriginAccessControlRec, PublicKeyRec, Store};
use crate::ops::fields::expect_root;
use crate::ops::response_headers_policies::{PolicyType, PolicyView};
use crate::ops::tagging;
use crate::shared::Shared;
use crate::xml::{self, Element, NS};

/// The largest control-plane request body accepted, in bytes; larger bodies get `413 EntityTooLarge`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The API version prefix.
const PREFIX: &str = "/2020-05-31/";
/// The default `MaxItems` of list operations.
const DEFAULT_MAX_ITEMS: usize = 100;

/// The whole service as one router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(dispatch).with_state(shared)
}

async fn dispatch(State(shared): State<Arc<Shared>>, request: axum::extract::Request) -> Response {
    let client_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip().to_canonical());
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let path = parts.uri.path();
    let view = shared.edge();

    // 1. A distribution's own host name.
    if let Some(dist) = view.for_host(&host) {
        let url = edge_url(&parts.headers, &host, &parts.uri);
        return edge::serve(
            shared.clock,
            shared.edge_options,
            &shared.requests,
            EdgeRequest {
                dist,
                method: &parts.method,
                url,
                path,
                headers: &parts.headers,
                client_ip,
            },
        )
        .await;
    }
    // The mock's own endpoints and console (after host names, so a distribution's paths stay its own).
    if path == "/_cfsign" {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::PERMANENT_REDIRECT;
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/_cfsign/"));
        return r;
    }
    if path.starts_with(console::CONSOLE_PREFIX) {
        return console::handle(
            &shared,
            &parts.method,
            &parts.uri,
            &parts.headers,
            client_ip,
        );
    }
    // 2. The path-prefix mode: /_edge/<distribution id or domain>/<path>.
    if let Some(rest) = path.strip_prefix(EDGE_PREFIX) {
        let (key, object_path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let Some(dist) = view.for_id_or_domain(key) else {
            return api_error(&ApiError::new(
                404,
                "NoSuchDistribution",
                format!("No distribution has the ID or domain name `{key}`."),
            ));
        };
        let url = edge_url(&parts.headers, &host, &parts.uri);
        return edge::serve(
            shared.clock,
            shared.edge_options,
            &shared.requests,
            EdgeRequest {
                dist,
                method: &parts.method,
                url,
                path: object_path,
                headers: &parts.headers,
                client_ip,
            },
        )
        .await;
    }
    // 3. The control plane.
    if path.starts_with(PREFIX) {
        let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return api_error(&ApiError::new(
                    413,
                    "EntityTooLarge",
                    format!(
                        "The request body is larger than {MAX_BODY_BYTES} bytes or could not be read."
                    ),
                ));
            }
        };
        let ctx = Ctx {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            host: &host,
            body,
        };
        return match control_plane(&shared, &ctx) {
            Ok(r) => r,
            Err(e) => api_error(&e),
        };
    }
    // 4. The default distribution, if one was configured.
    if let Some(dist) = shared
        .default_distribution
        .as_deref()
        .and_then(|d| view.for_id_or_domain(d))
    {
        let url = edge_url(&parts.headers, &host, &parts.uri);
        return edge::serve(
            shared.clock,
            shared.edge_options,
            &shared.requests,
            EdgeRequest {
                dist,
                method: &parts.method,
                url,
                path,
                headers: &parts.headers,
                client_ip,
            },
        )
        .await;
    }
    api_error(&ApiError::new(
        404,
        "UnknownOperation",
        format!(
            "cfsign-mock has no route for {} {path}: the control plane lives under {PREFIX}, and distributions are reached with the Host header <domain>.localhost:PORT or the path {EDGE_PREFIX}<distribution id or domain>/.",
            parts.method
        ),
    ))
}

/// The URL as the client sent it: scheme (`X-Forwarded-Proto: https` or `http`), host and port,
/// path and query.
fn edge_url(headers: &HeaderMap, host: &str, uri: &Uri) -> String {
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("{scheme}://{host}{target}")
}

struct Ctx<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    host: &'a str,
    body: Bytes,
}

impl Ctx<'_> {
    fn if_match(&self) -> Option<&str> {
        self.headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
    }

    fn xml_body(&self) -> Result<Element, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::new(
                400,
                "MissingBody",
                "This operation requires a body.",
            ));
        }
        let text = std::str::from_utf8(&self.body)
            .map_err(|_| ApiError::malformed("The request body is not UTF-8."))?;
        xml::parse(text).map_err(|e| {
            ApiError::malformed(format!(
                "The XML you provided was not well-formed or did not validate against the published schema: {e}"
            ))
        })
    }

    fn query(&self, name: &str) -> Option<String> {
        self.uri.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| edge::percent_decode(&v.replace('+', " ")))
        })
    }

    fn paging(&self) -> Result<(Option<String>, usize), ApiError> {
        let marker = self.query("Marker").filter(|m| !m.is_empty());
        let max = match self.query("MaxItems") {
            None => DEFAULT_MAX_ITEMS,
            Some(v) if v.is_empty() => DEFAULT_MAX_ITEMS,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n.min(1000),
                _ => {
                    return Err(ApiError::invalid_argument(format!(
                        "MaxItems `{v}` must be a whole number from 1 to 1000."
                    )));
                }
            },
        };
        Ok((marker, max))
    }

    fn location(&self, kind: &str, id: &str) -> String {
        format!("http://{}{PREFIX}{kind}/{id}", self.host)
    }
}

fn control_plane(shared: &Shared, ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let rest = ctx.uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let segments: Vec<&str> = rest.split('/').collect();
    let method = ctx.method;
    let not_allowed = || {
        Err(ApiError::new(
            405,
            "MethodNotAllowed",
            format!("The method {method} is not allowed on {}.", ctx.uri.path()),
        ))
    };
    match segments.as_slice() {
        // Public keys.
        ["public-key"] => match *method {
            Method::POST => {
                let body = ctx.xml_body()?;
                let rec = shared.mutate(|s, now| s.create_public_key(&body, now))?;
                Ok(created(
                    &public_key(&rec),
                    &rec.etag,
                    &ctx.location("public-key", &rec.id),
                ))
            }
            Method::GET => {
                let (marker, max) = ctx.paging()?;
                Ok(ok(
                    &shared.read(|s| public_key_list(s, marker.as_deref(), max)),
                    None,
                ))
            }
            _ => not_allowed(),
        },
        ["public-key", id] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_public_key(id))?;
                Ok(ok(&public_key(&rec), Some(&rec.etag)))
            }
            Method::DELETE => {
                shared.mutate(|s, _| s.delete_public_key(id, ctx.if_match()))?;
                Ok(no_content())
            }
            _ => not_allowed(),
        },
        ["public-key", id, "config"] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_public_key(id))?;
                Ok(ok(&public_key_config(&rec), Some(&rec.etag)))
            }
            Method::PUT => {
                let body = ctx.xml_body()?;
                let rec = shared.mutate(|s, _| s.update_public_key(id, ctx.if_match(), &body))?;
                Ok(ok(&public_key(&rec), Some(&rec.etag)))
            }
            _ => not_allowed(),
        },
        // Key groups.
        ["key-group"] => match *method {
            Method::POST => {
                let body = ctx.xml_body()?;
                let rec = shared.mutate(|s, now| s.create_key_group(&body, now))?;
                Ok(created(
                    &key_group(&rec),
                    &rec.etag,
                    &ctx.location("key-group", &rec.id),
                ))
            }
            Method::GET => {
                let (marker, max) = ctx.paging()?;
                Ok(ok(
                    &shared.read(|s| key_group_list(s, marker.as_deref(), max)),
                    None,
                ))
            }
            _ => not_allowed(),
        },
        ["key-group", id] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_key_group(id))?;
                Ok(ok(&key_group(&rec), Some(&rec.etag)))
            }
            Method::PUT => {
                let body = ctx.xml_body()?;
                let rec =
                    shared.mutate(|s, now| s.update_key_group(id, ctx.if_match(), &body, now))?;
                Ok(ok(&key_group(&rec), Some(&rec.etag)))
            }
            Method::DELETE => {
                shared.mutate(|s, _| s.delete_key_group(id, ctx.if_match()))?;
                Ok(no_content())
            }
            _ => not_allowed(),
        },
        ["key-group", id, "config"] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_key_group(id))?;
                Ok(ok(&key_group_config(&rec), Some(&rec.etag)))
            }
            _ => not_allowed(),
        },
        // Origin access controls.
        ["origin-access-control"] => match *method {
            Method::POST => {
                let body = ctx.xml_body()?;
                let rec = shared.mutate(|s, _| s.create_origin_access_control(&body))?;
                Ok(created(
                    &origin_access_control(&rec),
                    &rec.etag,
                    &ctx.location("origin-access-control", &rec.id),
                ))
            }
            Method::GET => {
                let (marker, max) = ctx.paging()?;
                Ok(ok(
                    &shared.read(|s| origin_access_control_list(s, marker.as_deref(), max)),
                    None,
                ))
            }
            _ => not_allowed(),
        },
        ["origin-access-control", id] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_origin_access_control(id))?;
                Ok(ok(&origin_access_control(&rec), Some(&rec.etag)))
            }
            Method::DELETE => {
                shared.mutate(|s, _| s.delete_origin_access_control(id, ctx.if_match()))?;
                Ok(no_content())
            }
            _ => not_allowed(),
        },
        ["origin-access-control", id, "config"] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_origin_access_control(id))?;
                Ok(ok(&origin_access_control_config(&rec), Some(&rec.etag)))
            }
            Method::PUT => {
                let body = ctx.xml_body()?;
                let rec = shared
                    .mutate(|s, _| s.update_origin_access_control(id, ctx.if_match(), &body))?;
                Ok(ok(&origin_access_control(&rec), Some(&rec.etag)))
            }
            _ => not_allowed(),
        },
        // Response headers policies.
        ["response-headers-policy"] => match *method {
            Method::POST => {
                let body = ctx.xml_body()?;
                let view = shared.mutate(|s, now| s.create_response_headers_policy(&body, now))?;
                Ok(created(
                    &response_headers_policy(&view),
                    &view.etag,
                    &ctx.location("response-headers-policy", &view.id),
                ))
            }
            Method::GET => {
                let (marker, max) = ctx.paging()?;
                let kind = ctx
                    .query("Type")
                    .filter(|t| !t.is_empty())
                    .map(|t| PolicyType::parse(&t))
                    .transpose()?;
                let views = shared.read(|s| s.list_response_headers_policies(kind));
                Ok(ok(
                    &response_headers_policy_list(&views, marker.as_deref(), max),
                    None,
                ))
            }
            _ => not_allowed(),
        },
        ["response-headers-policy", id] => match *method {
            Method::GET => {
                let view = shared.read(|s| s.get_response_headers_policy(id))?;
                Ok(ok(&response_headers_policy(&view), Some(&view.etag)))
            }
            Method::PUT => {
                let body = ctx.xml_body()?;
                let view = shared.mutate(|s, now| {
                    s.update_response_headers_policy(id, ctx.if_match(), &body, now)
                })?;
                Ok(ok(&response_headers_policy(&view), Some(&view.etag)))
            }
            Method::DELETE => {
                shared.mutate(|s, _| s.delete_response_headers_policy(id, ctx.if_match()))?;
                Ok(no_content())
            }
            _ => not_allowed(),
        },
        ["response-headers-policy", id, "config"] => match *method {
            Method::GET => {
                let view = shared.read(|s| s.get_response_headers_policy(id))?;
                Ok(ok(&view.config, Some(&view.etag)))
            }
            _ => not_allowed(),
        },
        // Distributions.
        ["distribution"] => match *method {
            Method::POST => {
                let with_tags = ctx.query("WithTags").is_some();
                let body = ctx.xml_body()?;
                let (rec, doc) = shared.mutate(|s, now| {
                    let (rec, _new) = if with_tags {
                        s.create_distribution_with_tags(&body, now)?
                    } else {
                        s.create_distribution(&body, now)?
                    };
                    let doc = distribution(s, &rec, deploy_status(shared, &rec, now));
                    Ok((rec, doc))
                })?;
                Ok(created(
                    &doc,
                    &rec.etag,
                    &ctx.location("distribution", &rec.id),
                ))
            }
            Method::GET => {
                let (marker, max) = ctx.paging()?;
                Ok(ok(
                    &shared.read(|s| {
                        let now = shared.clock.now_ms();
                        distribution_list(s, marker.as_deref(), max, |rec| {
                            deploy_status(shared, rec, now)
                        })
                    }),
                    None,
                ))
            }
            _ => not_allowed(),
        },
        ["distribution", id] => match *method {
            Method::GET => {
                let (rec, doc) = shared.read(|s| {
                    let rec = s.get_distribution(id)?;
                    let now = shared.clock.now_ms();
                    let doc = distribution(s, &rec, deploy_status(shared, &rec, now));
                    Ok::<_, ApiError>((rec, doc))
                })?;
                Ok(ok(&doc, Some(&rec.etag)))
            }
            Method::DELETE => {
                shared.mutate(|s, _| s.delete_distribution(id, ctx.if_match()))?;
                Ok(no_content())
            }
            _ => not_allowed(),
        },
        ["distribution", id, "config"] => match *method {
            Method::GET => {
                let rec = shared.read(|s| s.get_distribution(id))?;
                Ok(ok(&rec.config, Some(&rec.etag)))
            }
            Method::PUT => {
                let body = ctx.xml_body()?;
                let (rec, doc) = shared.mutate(|s, now| {
                    let rec = s.update_distribution(id, ctx.if_match(), &body, now)?;
                    let doc = distribution(s, &rec, deploy_status(shared, &rec, now));
                    Ok((rec, doc))
                })?;
                Ok(ok(&doc, Some(&rec.etag)))
            }
            _ => not_allowed(),
        },
        // Tags.
        ["tagging"] => {
            let resource = ctx.query("Resource");
            match *method {
                Method::GET => {
                    let tags = shared.read(|s| s.list_tags(resource.as_deref()))?;
                    Ok(ok(&tagging::tags_element(&tags), None))
                }
                Method::POST => match ctx.query("Operation").as_deref() {
                    Some("Tag") => {
                        let body = ctx.xml_body()?;
                        expect_root(&body, "Tags")?;
                        shared.mutate(|s, _| s.tag_resource(resource.as_deref(), &body))?;
                        Ok(no_content())
                    }
                    Some("Untag") => {
                        let body = ctx.xml_body()?;
                        expect_root(&body, "TagKeys")?;
                        shared.mutate(|s, _| s.untag_resource(resource.as_deref(), &body))?;
                        Ok(no_content())
                    }
                    other => Err(ApiError::invalid_argument(format!(
                        "POST /2020-05-31/tagging needs Operation=Tag or Operation=Untag, not {}.",
                        other.map_or_else(|| "nothing".to_owned(), |o| format!("`{o}`"))
                    ))),
                },
                _ => not_allowed(),
            }
        }
        ["distributionsByKeyGroupId", id] => match *method {
            Method::GET => {
                let (marker, max) = ctx.paging()?;
                let ids = shared.read(|s| s.distributions_by_key_group(id))?;
                Ok(ok(
                    &distribution_id_list(&ids, marker.as_deref(), max),
                    None,
                ))
            }
            _ => not_allowed(),
        },
        _ => Err(ApiError::new(
            404,
            "UnknownOperation",
            format!(
                "cfsign-mock does not implement {method} {}; it serves public keys, key groups, origin access controls, response headers policies, distributions and their tags.",
                ctx.uri.path()
            ),
        )),
    }
}

// ----- Responses -----

fn request_id() -> String {
    let etag = new_etag();
    format!(
        "{}-{}",
        etag.to_ascii_lowercase(),
        new_etag().to_ascii_lowercase()
    )
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amz-request-id", v);
    }
    r
}

fn ok(doc: &Element, etag: Option<&str>) -> Response {
    let mut r = xml_response(StatusCode::OK, doc.to_document());
    if let Some(v) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

fn created(doc: &Element, etag: &str, location: &str) -> Response {
    let mut r = ok(doc, Some(etag));
    *r.status_mut() = StatusCode::CREATED;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        r.headers_mut().insert("x-amz-request-id", v);
    }
    r
}

/// The wrapped `<ErrorResponse>` form that both botocore and the Rust SDK parse.
pub(crate) fn api_error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let id = request_id();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{NS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>",
        xml::escape(e.code),
        xml::escape(&e.message),
    );
    let mut r = xml_response(status, body);
    if let Ok(v) = HeaderValue::from_str(&id) {
        r.headers_mut().insert("x-amz-request-id", v);
    }
    r
}

/// An ISO 8601 timestamp with milliseconds, as CloudFront writes them.
fn iso8601(ms: u64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

fn opt_comment(children: &mut Vec<Element>, comment: &Option<String>) {
    if let Some(c) = comment {
        children.push(Element::text("Comment", c.clone()));
    }
}

fn public_key_config(rec: &PublicKeyRec) -> Element {
    let mut children = vec![
        Element::text("CallerReference", rec.caller_reference.clone()),
        Element::text("Name", rec.name.clone()),
        Element::text("EncodedKey", rec.encoded_key.clone()),
    ];
    opt_comment(&mut children, &rec.comment);
    Element::node("PublicKeyConfig", children)
}

fn public_key(rec: &PublicKeyRec) -> Element {
    Element::node(
        "PublicKey",
        vec![
            Element::text("Id", rec.id.clone()),
            Element::text("CreatedTime", iso8601(rec.created_ms)),
            public_key_config(rec),
        ],
    )
}

fn key_group_config(rec: &KeyGroupRec) -> Element {
    let mut children = vec![
        Element::text("Name", rec.name.clone()),
        Element::node(
            "Items",
            rec.items
                .iter()
                .map(|k| Element::text("PublicKey", k.clone()))
                .collect(),
        ),
    ];
    opt_comment(&mut children, &rec.comment);
    Element::node("KeyGroupConfig", children)
}

fn key_group(rec: &KeyGroupRec) -> Element {
    Element::node(
        "KeyGroup",
        vec![
            Element::text("Id", rec.id.clone()),
            Element::text("LastModifiedTime", iso8601(rec.last_modified_ms)),
            key_group_config(rec),
        ],
    )
}

fn origin_access_control_config(rec: &OriginAccessControlRec) -> Element {
    let mut children = vec![Element::text("Name", rec.name.clone())];
    if let Some(d) = &rec.description {
        children.push(Element::text("Description", d.clone()));
    }
    children.extend([
        Element::text("SigningProtocol", "sigv4"),
        Element::text("SigningBehavior", rec.signing_behavior.as_str()),
        Element::text("OriginAccessControlOriginType", rec.origin_type.as_str()),
    ]);
    Element::node("OriginAccessControlConfig", children)
}

fn origin_access_control(rec: &OriginAccessControlRec) -> Element {
    Element::node(
        "OriginAccessControl",
        vec![
            Element::text("Id", rec.id.clone()),
            origin_access_control_config(rec),
        ],
    )
}

fn origin_access_control_list(store: &Store, marker: Option<&str>, max: usize) -> Element {
    let (page, next) = page(&store.origin_access_controls, |o| &o.id, marker, max);
    let summaries = page
        .iter()
        .map(|rec| {
            Element::node(
                "OriginAccessControlSummary",
                vec![
                    Element::text("Id", rec.id.clone()),
                    // Required in a summary: empty when the config has none.
                    Element::text("Description", rec.description.clone().unwrap_or_default()),
                    Element::text("Name", rec.name.clone()),
                    Element::text("SigningProtocol", "sigv4"),
                    Element::text("SigningBehavior", rec.signing_behavior.as_str()),
                    Element::text("OriginAccessControlOriginType", rec.origin_type.as_str()),
                ],
            )
        })
        .collect();
    list(
        "OriginAccessControlList",
        summaries,
        next,
        max,
        marker,
        true,
    )
}

fn response_headers_policy(view: &PolicyView) -> Element {
    let mut config = view.config.clone();
    config.name = "ResponseHeadersPolicyConfig".to_owned();
    Element::node(
        "ResponseHeadersPolicy",
        vec![
            Element::text("Id", view.id.clone()),
            Element::text("LastModifiedTime", iso8601(view.last_modified_ms)),
            config,
        ],
    )
}

fn response_headers_policy_list(views: &[PolicyView], marker: Option<&str>, max: usize) -> Element {
    let (page, next) = page(views, |v| &v.id, marker, max);
    let summaries = page
        .iter()
        .map(|view| {
            Element::node(
                "ResponseHeadersPolicySummary",
                vec![
                    Element::text("Type", view.kind.as_str()),
                    response_headers_policy(view),
                ],
            )
        })
        .collect();
    list(
        "ResponseHeadersPolicyList",
        summaries,
        next,
        max,
        marker,
        false,
    )
}

/// A distribution's `Status`: `InProgress` for the configured deployment time after each change
/// (as CloudFront, where a change takes minutes to reach every edge location), else `Deployed`.
fn deploy_status(shared: &Shared, rec: &DistributionRec, now_ms: u64) -> &'static str {
    if now_ms < rec.last_modified_ms.saturating_add(shared.deployment_ms) {
        "InProgress"
    } else {
        "Deployed"
    }
}

fn distribution(store: &Store, rec: &DistributionRec, status: &'static str) -> Element {
    Element::node(
        "Distribution",
        vec![
            Element::text("Id", rec.id.clone()),
            Element::text("ARN", tagging::distribution_arn(&rec.id)),
            Element::text("Status", status),
            Element::text("LastModifiedTime", iso8601(rec.last_modified_ms)),
            Element::text("InProgressInvalidationBatches", "0"),
            Element::text("DomainName", rec.domain.clone()),
            Element::node(
                "ActiveTrustedSigners",
                vec![
                    Element::text("Enabled", "false"),
                    Element::text("Quantity", "0"),
                ],
            ),
            store.active_trusted_key_groups(rec),
            rec.config.clone(),
        ],
    )
}

/// A page of `items` after `marker` (the last ID of the previous page), and the next marker.
fn page<'a, T>(
    items: &'a [T],
    id: impl Fn(&T) -> &str,
    marker: Option<&str>,
    max: usize,
) -> (Vec<&'a T>, Option<String>) {
    let start = match marker {
        Some(m) => items
            .iter()
            .position(|i| id(i) == m)
            .map_or(items.len(), |p| p + 1),
        None => 0,
    };
    let rest = items.get(start..).unwrap_or_default();
    let page: Vec<&T> = rest.iter().take(max).collect();
    let next = (rest.len() > max)
        .then(|| page.last().map(|i| id(i).to_owned()))
        .flatten();
    (page, next)
}

fn list(
    root: &str,
    summaries: Vec<Element>,
    next: Option<String>,
    max: usize,
    marker: Option<&str>,
    with_truncation: bool,
) -> Element {
    let mut children = Vec::new();
    if with_truncation {
        children.push(Element::text("Marker", marker.unwrap_or("")));
    }
    if let Some(n) = &next {
        children.push(Element::text("NextMarker", n.clone()));
    }
    children.push(Element::text("MaxItems", max.to_string()));
    if with_truncation {
        children.push(Element::text("IsTruncated", next.is_some().to_string()));
    }
    children.push(Element::text("Quantity", summaries.len().to_string()));
    if !summaries.is_empty() {
        children.push(Element::node("Items", summaries));
    }
    Element::node(root, children)
}

fn public_key_list(store: &Store, marker: Option<&str>, max: usize) -> Element {
    let (page, next) = page(&store.public_keys, |k| &k.id, marker, max);
    let summaries = page
        .iter()
        .map(|rec| {
            let mut children = vec![
                Element::text("Id", rec.id.clone()),
                Element::text("Name", rec.name.clone()),
                Element::text("CreatedTime", iso8601(rec.created_ms)),
                Element::text("EncodedKey", rec.encoded_key.clone()),
            ];
            opt_comment(&mut children, &rec.comment);
            Element::node("PublicKeySummary", children)
        })
        .collect();
    list("PublicKeyList", summaries, next, max, marker, false)
}

fn key_group_list(store: &Store, marker: Option<&str>, max: usize) -> Element {
    let (page, next) = page(&store.key_groups, |g| &g.id, marker, max);
    let summaries = page
        .iter()
        .map(|rec| Element::node("KeyGroupSummary", vec![key_group(rec)]))
        .collect();
    list("KeyGroupList", summaries, next, max, marker, false)
}

/// Members of `DistributionConfig` that `DistributionSummary` repeats, in the model's order.
const SUMMARY_FIELDS: &[&str] = &[
    "Aliases",
    "Origins",
    "OriginGroups",
    "DefaultCacheBehavior",
    "CacheBehaviors",
    "CustomErrorResponses",
    "Comment",
    "PriceClass",
    "Enabled",
    "ViewerCertificate",
    "Restrictions",
    "WebACLId",
    "HttpVersion",
    "IsIPV6Enabled",
    "Staging",
];

fn distribution_list(
    store: &Store,
    marker: Option<&str>,
    max: usize,
    status: impl Fn(&DistributionRec) -> &'static str,
) -> Element {
    let (page, next) = page(&store.distributions, |d| &d.id, marker, max);
    let summaries = page
        .iter()
        .map(|rec| {
            let mut children = vec![
                Element::text("Id", rec.id.clone()),
                Element::text("ARN", tagging::distribution_arn(&rec.id)),
                Element::text("ETag", rec.etag.clone()),
                Element::text("Status", status(rec)),
                Element::text("LastModifiedTime", iso8601(rec.last_modified_ms)),
                Element::text("DomainName", rec.domain.clone()),
            ];
            for name in SUMMARY_FIELDS {
                if let Some(e) = rec.config.child(name) {
                    children.push(e.clone());
                }
            }
            Element::node("DistributionSummary", children)
        })
        .collect();
    list("DistributionList", summaries, next, max, marker, true)
}

fn distribution_id_list(ids: &[String], marker: Option<&str>, max: usize) -> Element {
    let (page, next) = page(ids, |s| s.as_str(), marker, max);
    let items = page
        .iter()
        .map(|id| Element::text("DistributionId", (*id).clone()))
        .collect();
    list("DistributionIdList", items, next, max, marker, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_look_like_cloudfront() {
        assert_eq!(iso8601(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }
}
