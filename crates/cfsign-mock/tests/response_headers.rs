//! Response headers policies: the control plane (managed and custom policies, ETags, in-use
//! checks) and the edge applying them (CORS with credentials, preflight on restricted
//! behaviours, security headers), plus streaming media types and ranges.
#![allow(clippy::unwrap_used)] // Test code: a panic is a test failure.

mod common;

use cfsign::{CustomPolicy, DenyCode, Resource, Signer, UnixTime};
use cfsign_mock::{Clock, MockConfig};
use common::*;

const NOW: u64 = 1_800_000_000;
const ORIGIN: &str = "media.s3.amazonaws.com";
const CORS_WITH_PREFLIGHT: &str = "5cc3b908-e619-4b99-88e5-2cf7f45965bd";
const CORS_AND_SECURITY: &str = "e61eb60c-9c35-4d20-a928-2b84e02af89c";
const PAGE: &str = "http://player.cfsign.test:8080";

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap()
}

/// A custom policy: the player page's origin with credentials, `Range` allowed and exposed.
fn custom_policy(name: &str, origin: &str) -> String {
    format!(
        "<ResponseHeadersPolicyConfig xmlns=\"{NS}\"><Comment>player</Comment><Name>{name}</Name><CorsConfig>\
<AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>{origin}</Origin></Items></AccessControlAllowOrigins>\
<AccessControlAllowHeaders><Quantity>1</Quantity><Items><Header>Range</Header></Items></AccessControlAllowHeaders>\
<AccessControlAllowMethods><Quantity>3</Quantity><Items><Method>GET</Method><Method>HEAD</Method><Method>OPTIONS</Method></Items></AccessControlAllowMethods>\
<AccessControlAllowCredentials>true</AccessControlAllowCredentials>\
<AccessControlExposeHeaders><Quantity>2</Quantity><Items><Header>Content-Range</Header><Header>Content-Length</Header></Items></AccessControlExposeHeaders>\
<AccessControlMaxAgeSec>600</AccessControlMaxAgeSec><OriginOverride>true</OriginOverride></CorsConfig>\
<CustomHeadersConfig><Quantity>1</Quantity><Items><ResponseHeadersPolicyCustomHeader><Header>X-Player</Header><Value>cfsign</Value><Override>false</Override></ResponseHeadersPolicyCustomHeader></Items></CustomHeadersConfig>\
</ResponseHeadersPolicyConfig>"
    )
}

/// A distribution: the default behaviour public with `default_policy`, `/private/*` trusting
/// `group` with `private_policy`, both allowing GET, HEAD and OPTIONS.
fn distribution(group: &str, default_policy: &str, private_policy: &str) -> String {
    let methods = "<AllowedMethods><Quantity>3</Quantity><Items><Method>GET</Method><Method>HEAD</Method><Method>OPTIONS</Method></Items></AllowedMethods>";
    format!(
        "<DistributionConfig xmlns=\"{NS}\"><CallerReference>rhp</CallerReference>\
<Origins><Quantity>1</Quantity><Items><Origin><Id>o1</Id><DomainName>{ORIGIN}</DomainName><OriginPath></OriginPath>\
<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig></Origin></Items></Origins>\
<DefaultCacheBehavior><TargetOriginId>o1</TargetOriginId><TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>{methods}<ResponseHeadersPolicyId>{default_policy}</ResponseHeadersPolicyId></DefaultCacheBehavior>\
<CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/private/*</PathPattern><TargetOriginId>o1</TargetOriginId>\
<TrustedKeyGroups><Enabled>true</Enabled><Quantity>1</Quantity><Items><KeyGroup>{group}</KeyGroup></Items></TrustedKeyGroups><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>{methods}<ResponseHeadersPolicyId>{private_policy}</ResponseHeadersPolicyId></CacheBehavior></Items></CacheBehaviors>\
<Comment>test</Comment><Enabled>true</Enabled></DistributionConfig>"
    )
}

#[test]
fn control_plane_serves_managed_and_custom_policies() {
    let m = Mock::start(MockConfig::default());
    // Managed policies: listed, readable by ID, neither changeable nor deletable.
    let r = m.get("/2020-05-31/response-headers-policy?Type=managed");
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    for (id, name) in [
        (CORS_WITH_PREFLIGHT, "Managed-CORS-With-Preflight"),
        (CORS_AND_SECURITY, "Managed-CORS-and-SecurityHeadersPolicy"),
        ("60669652-455b-4ae9-85a4-c4c02393f86c", "Managed-SimpleCORS"),
        (
            "67f7725c-6f97-4210-82d7-5512b31e9d03",
            "Managed-SecurityHeadersPolicy",
        ),
    ] {
        assert!(text.contains(&format!("<Id>{id}</Id>")), "{id}: {text}");
        assert!(text.contains(&format!("<Name>{name}</Name>")), "{name}");
    }
    assert!(text.contains("<Type>managed</Type>") && !text.contains("<Type>custom</Type>"));
    let r = m.get(&format!(
        "/2020-05-31/response-headers-policy/{CORS_WITH_PREFLIGHT}"
    ));
    assert_eq!(r.status, 200);
    let managed_etag = r.etag();
    assert!(
        r.text().contains("<ResponseHeadersPolicy xmlns="),
        "{}",
        r.text()
    );
    m.put(
        &format!("/2020-05-31/response-headers-policy/{CORS_WITH_PREFLIGHT}"),
        &managed_etag,
        &custom_policy("x", PAGE),
    )
    .expect_error(400, "IllegalUpdate");
    m.delete(
        &format!("/2020-05-31/response-headers-policy/{CORS_WITH_PREFLIGHT}"),
        &managed_etag,
    )
    .expect_error(400, "IllegalDelete");
    // A managed name is taken.
    m.post(
        "/2020-05-31/response-headers-policy",
        &custom_policy("Managed-SimpleCORS", PAGE),
    )
    .expect_error(409, "ResponseHeadersPolicyAlreadyExists");

    // Custom: create, get, get config, update with If-Match, list by type.
    let r = m.post(
        "/2020-05-31/response-headers-policy",
        &custom_policy("player", PAGE),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.xml("Id").unwrap();
    let etag = r.etag();
    assert!(
        r.header("location")
            .unwrap()
            .ends_with(&format!("/response-headers-policy/{id}"))
    );
    let r = m.get(&format!("/2020-05-31/response-headers-policy/{id}/config"));
    assert_eq!((r.status, r.etag()), (200, etag.clone()));
    assert!(
        r.text().contains("<ResponseHeadersPolicyConfig xmlns="),
        "{}",
        r.text()
    );
    assert_eq!(r.xml("Origin").as_deref(), Some(PAGE));
    m.post(
        "/2020-05-31/response-headers-policy",
        &custom_policy("player", PAGE),
    )
    .expect_error(409, "ResponseHeadersPolicyAlreadyExists");
    let path = format!("/2020-05-31/response-headers-policy/{id}");
    m.put(&path, "ESTALE", &custom_policy("player", "https://a.test"))
        .expect_error(412, "PreconditionFailed");
    let r = m.put(&path, &etag, &custom_policy("player", "https://a.test"));
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = r.etag();
    assert_eq!(r.xml("Origin").as_deref(), Some("https://a.test"));
    let r = m.get("/2020-05-31/response-headers-policy?Type=custom");
    assert_eq!(r.xml("Quantity").as_deref(), Some("1"));
    assert!(r.text().contains("<Type>custom</Type>"));
    let all = m.get("/2020-05-31/response-headers-policy");
    assert_eq!(all.xml("Quantity").as_deref(), Some("6"));
    m.get("/2020-05-31/response-headers-policy?Type=mine")
        .expect_error(400, "InvalidArgument");

    // Bad configs.
    m.post(
        "/2020-05-31/response-headers-policy",
        &custom_policy("star-creds", "*"),
    )
    .expect_error(400, "InvalidArgument");
    m.get("/2020-05-31/response-headers-policy/nope")
        .expect_error(404, "NoSuchResponseHeadersPolicy");

    // In use by a distribution: not deletable; an unknown ID in a behaviour is refused.
    let (_, group) = m.trusted_signer();
    m.post(
        "/2020-05-31/distribution",
        &distribution(
            &group,
            CORS_WITH_PREFLIGHT,
            "00000000-0000-4000-a000-000000000000",
        ),
    )
    .expect_error(404, "NoSuchResponseHeadersPolicy");
    let r = m.post(
        "/2020-05-31/distribution",
        &distribution(&group, CORS_WITH_PREFLIGHT, &id),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    m.delete(&path, &etag)
        .expect_error(409, "ResponseHeadersPolicyInUse");
}

struct Edge {
    m: Mock,
    _dir: tempfile::TempDir,
    signer: Signer,
    host: String,
}

impl Edge {
    fn req(&self, method: &str, path: &str) -> Req {
        self.m.req(method, path).host(&self.host)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }

    /// The `Cookie` header of a custom policy for `/private/v1/*`, valid for a minute.
    fn cookies(&self) -> String {
        self.signer
            .custom_cookies(&CustomPolicy::new(
                Resource::new(&self.url("/private/v1/*")).unwrap(),
                t(NOW + 60),
            ))
            .unwrap()
            .cookie_header()
    }
}

fn edge(private_policy: &str) -> Edge {
    edge_with(CORS_AND_SECURITY, private_policy)
}

/// A policy `edge_with` creates: a `ResponseHeadersPolicyConfig` document (starting with `<`),
/// `custom` for [`custom_policy`], or else the ID of a managed policy.
fn policy_id(m: &Mock, policy: &str) -> String {
    let body = match policy {
        "custom" => custom_policy("player", PAGE),
        xml if xml.starts_with('<') => xml.to_owned(),
        id => return id.to_owned(),
    };
    let r = m.post("/2020-05-31/response-headers-policy", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    r.xml("Id").unwrap()
}

/// The streaming objects behind a distribution with `default_policy` on the public default
/// behaviour and `private_policy` on `/private/*` (see [`policy_id`]).
fn edge_with(default_policy: &str, private_policy: &str) -> Edge {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("private/v1")).unwrap();
    std::fs::write(dir.path().join("private/v1/master.m3u8"), "#EXTM3U\n").unwrap();
    std::fs::write(dir.path().join("private/v1/seg-1.m4s"), "0123456789").unwrap();
    std::fs::write(dir.path().join("private/v1/seg-1.ts"), "ts").unwrap();
    std::fs::write(dir.path().join("private/v1/stream.mpd"), "<MPD/>").unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hi").unwrap();
    let m = Mock::start(
        MockConfig::default()
            .with_origin_for(ORIGIN, dir.path())
            .with_clock(Clock::Fixed(t(NOW))),
    );
    let (signer, group) = m.trusted_signer();
    let (default_id, private_id) = (policy_id(&m, default_policy), policy_id(&m, private_policy));
    let r = m.post(
        "/2020-05-31/distribution",
        &distribution(&group, &default_id, &private_id),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let host = format!("{}.localhost:{}", r.xml("DomainName").unwrap(), m.port());
    Edge {
        m,
        _dir: dir,
        signer,
        host,
    }
}

#[test]
fn streams_carry_media_types_and_honour_ranges() {
    let e = edge("custom");
    let cookies = e.cookies();
    for (path, ty) in [
        ("/private/v1/master.m3u8", "application/vnd.apple.mpegurl"),
        ("/private/v1/stream.mpd", "application/dash+xml"),
        ("/private/v1/seg-1.m4s", "video/iso.segment"),
        ("/private/v1/seg-1.ts", "video/mp2t"),
    ] {
        let r = e.req("GET", path).header("Cookie", &cookies).send();
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(ty)),
            "{path}"
        );
    }
    let r = e
        .req("GET", "/private/v1/seg-1.m4s")
        .header("Cookie", &cookies)
        .header("Range", "bytes=2-5")
        .send();
    assert_eq!((r.status, r.text().as_str()), (206, "2345"));
    assert_eq!(r.header("content-range"), Some("bytes 2-5/10"));
    let r = e
        .req("GET", "/private/v1/seg-1.m4s")
        .header("Cookie", &cookies)
        .header("Range", "bytes=10-")
        .send();
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */10"))
    );
}

#[test]
fn custom_cors_policy_allows_the_page_with_credentials() {
    let e = edge("custom");
    let cookies = e.cookies();
    // The page's origin, with cookies: the exact origin and credentials, never `*`.
    let r = e
        .req("GET", "/private/v1/seg-1.m4s")
        .header("Origin", PAGE)
        .header("Cookie", &cookies)
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("Content-Range, Content-Length")
    );
    assert_eq!(r.header("vary"), Some("Origin"));
    assert_eq!(r.header("x-player"), Some("cfsign"));
    // Preflight-only headers are not on a simple response.
    assert_eq!(r.header("access-control-allow-methods"), None);
    // Another origin gets no CORS headers (the browser blocks it), the object still served.
    let r = e
        .req("GET", "/private/v1/seg-1.m4s")
        .header("Origin", "http://evil.test")
        .header("Cookie", &cookies)
        .send();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // A denial carries the CORS headers too, so the player sees the 403 rather than a
    // network error.
    let r = e
        .req("GET", "/private/v1/seg-1.m4s")
        .header("Origin", PAGE)
        .send();
    assert_eq!(r.status, 403);
    assert_eq!(r.text(), DenyCode::MissingKey.xml_body());
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
}

#[test]
fn preflight_on_a_restricted_behaviour_needs_a_signature() {
    let e = edge("custom");
    // Browsers never send cookies on a preflight: on a restricted behaviour it is denied.
    let r = e
        .req("OPTIONS", "/private/v1/seg-1.m4s")
        .header("Origin", PAGE)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range")
        .send();
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.text(), DenyCode::MissingKey.xml_body());
    // A signed URL carries its signature in the query, which the preflight keeps.
    let signed = e
        .signer
        .sign_canned_url(&e.url("/private/v1/seg-1.m4s"), t(NOW + 60))
        .unwrap();
    let target = signed.strip_prefix(&format!("http://{}", e.host)).unwrap();
    let r = e
        .req("OPTIONS", target)
        .header("Origin", PAGE)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "range")
        .send();
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS")
    );
    assert_eq!(r.header("access-control-allow-headers"), Some("Range"));
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    // On the public behaviour (managed CORS-and-SecurityHeadersPolicy) no signature is needed.
    let r = e
        .req("OPTIONS", "/hello.txt")
        .header("Origin", PAGE)
        .header("Access-Control-Request-Method", "GET")
        .send();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    // POST is not in AllowedMethods.
    let r = e.req("POST", "/hello.txt").send();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn managed_policies_add_their_headers() {
    let e = edge(CORS_WITH_PREFLIGHT);
    // Public behaviour: CORS-and-SecurityHeadersPolicy.
    let r = e.req("GET", "/hello.txt").header("Origin", PAGE).send();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    assert_eq!(
        r.header("referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
    assert_eq!(r.header("x-xss-protection"), Some("1; mode=block"));
    // Without `Origin` there are no CORS headers, only the security ones.
    let r = e.req("GET", "/hello.txt").send();
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    // Private behaviour: CORS-With-Preflight, `*`, so a credentialed request is refused by
    // the browser (`*` with credentials is never allowed): the policy does not add credentials.
    let signed = e
        .signer
        .sign_canned_url(&e.url("/private/v1/seg-1.ts"), t(NOW + 60))
        .unwrap();
    let target = signed.strip_prefix(&format!("http://{}", e.host)).unwrap();
    let r = e.req("GET", target).header("Origin", PAGE).send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-expose-headers"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert_eq!(r.header("x-frame-options"), None);
}

/// A policy with only `Server-Timing`, at `rate` percent.
fn server_timing_policy(name: &str, rate: &str) -> String {
    format!(
        "<ResponseHeadersPolicyConfig xmlns=\"{NS}\"><Name>{name}</Name><ServerTimingHeadersConfig>\
<Enabled>true</Enabled><SamplingRate>{rate}</SamplingRate></ServerTimingHeadersConfig></ResponseHeadersPolicyConfig>"
    )
}

#[test]
fn server_timing_by_sampling_rate_or_pragma() {
    let e = edge_with(
        &server_timing_policy("always", "100"),
        &server_timing_policy("on-request", "0"),
    );
    // 100 %: an object from the origin is a miss with the upstream metrics, then the POP, the
    // request ID (the `X-Amz-Cf-Id`) and the time to the first byte.
    let r = e.req("GET", "/hello.txt").send();
    assert_eq!(r.status, 200);
    let value = r.header("server-timing").unwrap().to_owned();
    let cf_id = r.header("x-amz-cf-id").unwrap();
    let names: Vec<&str> = value
        .split(',')
        .map(|m| m.split(';').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "cdn-upstream-layer",
            "cdn-upstream-dns",
            "cdn-upstream-connect",
            "cdn-upstream-fbl",
            "cdn-cache-miss",
            "cdn-pop",
            "cdn-rid",
            "cdn-downstream-fbl"
        ],
        "{value}"
    );
    assert!(
        value.contains(&format!("cdn-rid;desc=\"{cf_id}\"")),
        "{value}"
    );
    assert!(
        value.starts_with("cdn-upstream-layer;desc=\"EDGE\",cdn-upstream-dns;dur=0,"),
        "{value}"
    );
    // 0 %: nothing, unless the request says `Pragma: server-timing`; a 403 made at the edge then
    // has no cache or upstream metrics.
    let signed = e
        .signer
        .sign_canned_url(&e.url("/private/v1/seg-1.ts"), t(NOW + 60))
        .unwrap();
    let target = signed.strip_prefix(&format!("http://{}", e.host)).unwrap();
    let r = e.req("GET", target).send();
    assert_eq!((r.status, r.header("server-timing")), (200, None));
    let r = e
        .req("GET", target)
        .header("Pragma", "server-timing")
        .send();
    assert_eq!(r.status, 200);
    assert!(
        r.header("server-timing")
            .unwrap()
            .contains("cdn-cache-miss")
    );
    let r = e
        .req("GET", "/private/v1/seg-1.ts")
        .header("Pragma", "no-cache, server-timing")
        .send();
    assert_eq!(r.status, 403);
    let value = r.header("server-timing").unwrap();
    assert!(value.starts_with("cdn-pop;desc=\""), "{value}");
    assert!(
        !value.contains("cdn-cache") && !value.contains("upstream"),
        "{value}"
    );
}
