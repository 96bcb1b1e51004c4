//! A response headers policy, parsed: the typed form of a `ResponseHeadersPolicyConfig` with
//! CloudFront's checks, built only by [`HeadersPolicy::parse`] so a value that exists is valid.
//! The control plane parses to check a config; the edge parses once per view to apply it.

use crate::api_error::ApiError;
use crate::ops::fields::{
    check_comment, check_name, check_quantities, expect_root, parse_bool, required_text,
};
use crate::xml::Element;

/// Custom headers per policy (CloudFront's default quota).
pub(crate) const MAX_CUSTOM_HEADERS: usize = 10;
/// Headers removed per policy (CloudFront's default quota).
pub(crate) const MAX_REMOVE_HEADERS: usize = 10;
/// The longest `Content-Security-Policy` value CloudFront accepts, in characters.
pub(crate) const MAX_CSP_CHARS: usize = 1783;
/// Every method `ALL` stands for, in the order the edge writes them.
const ALL_METHODS: [&str; 7] = ["GET", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
/// Headers a policy may not remove (the API reference's list; `X-Amz-Cf-*` and `X-Edge-*` by prefix).
const UNREMOVABLE: &[&str] = &[
    "connection",
    "content-encoding",
    "content-length",
    "expect",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
    "x-accel-buffering",
    "x-accel-charset",
    "x-accel-limit-rate",
    "x-accel-redirect",
    "x-amzn-auth",
    "x-amzn-cf-billing",
    "x-amzn-cf-id",
    "x-amzn-cf-xff",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-forwarded-proto",
    "x-real-ip",
];

/// A checked response headers policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeadersPolicy {
    /// The `Name`.
    pub(crate) name: String,
    /// The CORS headers, if the policy has a `CorsConfig`.
    pub(crate) cors: Option<Cors>,
    /// Security headers, each `(name, value, override)`.
    pub(crate) security: Vec<Added>,
    /// Custom headers, each `(name, value, override)`.
    pub(crate) custom: Vec<Added>,
    /// Header names removed from origin responses (lower case).
    pub(crate) remove: Vec<String>,
    /// `Server-Timing`, when the policy's `ServerTimingHeadersConfig` enables it.
    pub(crate) server_timing: Option<ServerTiming>,
}

/// An enabled `ServerTimingHeadersConfig`: the share of responses that get `Server-Timing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerTiming {
    /// `SamplingRate` in ten-thousandths of a percent (CloudFront takes 0 to 100 with at most
    /// four decimal places, so this is exact): 0 to 1,000,000.
    rate: u32,
}

impl ServerTiming {
    /// Ten-thousandths of a percent in 100 %.
    const ALL: u32 = 1_000_000;

    /// A whole-percent sampling rate (at most 100).
    #[cfg(test)]
    pub(crate) const fn from_percent(percent: u32) -> ServerTiming {
        ServerTiming {
            rate: if percent > 100 { 100 } else { percent } * (Self::ALL / 100),
        }
    }

    /// Whether a response with the uniform random `draw` (in `0.0..1.0`) gets the header.
    pub(crate) fn samples(self, draw: f64) -> bool {
        draw * f64::from(Self::ALL) < f64::from(self.rate)
    }

    /// Parses a `ServerTimingHeadersConfig`: `None` when `Enabled` is false. An absent
    /// `SamplingRate` counts as 0 (only requests with `Pragma: server-timing` get the header;
    /// CloudFront's documentation gives no default, our reading).
    fn parse(e: &Element) -> Result<Option<ServerTiming>, ApiError> {
        let enabled = parse_bool(e, "Enabled")?;
        let rate = match e.child_text("SamplingRate").map(str::trim) {
            None => 0,
            Some(text) => Self::parse_rate(text).ok_or_else(|| {
                ApiError::invalid_argument(format!(
                    "ServerTimingHeadersConfig/SamplingRate `{text}` must be a number from 0 to 100 with at most four decimal places."
                ))
            })?,
        };
        Ok(enabled.then_some(ServerTiming { rate }))
    }

    /// `text` as ten-thousandths of a percent, if it is a number from 0 to 100 with at most four
    /// decimal places (in any form an SDK writes a double: `50`, `50.0`, `1.0E-4`).
    fn parse_rate(text: &str) -> Option<u32> {
        let percent: f64 = text
            .parse()
            .ok()
            .filter(|p: &f64| (0.0..=100.0).contains(p))?;
        let scaled = percent * 10_000.0;
        let rate = scaled.round();
        // In range, so the cast is exact; more than four decimals leaves a fraction.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        ((scaled - rate).abs() < 1e-6).then_some(rate as u32)
    }
}

/// A header a policy adds: its name, value and whether it overrides the origin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Added {
    /// The header name (lower case).
    pub(crate) name: String,
    /// The value.
    pub(crate) value: String,
    /// Whether the policy's value replaces one the origin sent.
    pub(crate) override_origin: bool,
}

/// A `CorsConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cors {
    /// `AccessControlAllowOrigins`: exact origins, `*`, or origins with a leading `*.` label.
    pub(crate) allow_origins: Vec<String>,
    /// `AccessControlAllowHeaders`.
    pub(crate) allow_headers: Vec<String>,
    /// `AccessControlAllowMethods`, `ALL` expanded.
    pub(crate) allow_methods: Vec<String>,
    /// `AccessControlAllowCredentials`.
    pub(crate) allow_credentials: bool,
    /// `AccessControlExposeHeaders`.
    pub(crate) expose_headers: Vec<String>,
    /// `AccessControlMaxAgeSec`.
    pub(crate) max_age_sec: Option<u64>,
    /// `OriginOverride`: the policy's CORS headers replace the origin's.
    pub(crate) origin_override: bool,
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or `None` when the
    /// policy does not allow that origin: `*` when the list has `*`, else the origin itself.
    pub(crate) fn allow_origin_for(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            return Some("*".to_owned());
        }
        self.allow_origins
            .iter()
            .any(|pattern| origin_matches(pattern, origin))
            .then(|| origin.to_owned())
    }
}

/// An allowed-origin entry against a request's `Origin`: exact (ASCII case-insensitive), or a
/// leading `*` standing for one or more DNS labels (`https://*.example.org`).
fn origin_matches(pattern: &str, origin: &str) -> bool {
    let (pattern, origin) = (pattern.to_ascii_lowercase(), origin.to_ascii_lowercase());
    match pattern.split_once('*') {
        None => pattern == origin,
        Some((prefix, suffix)) => {
            origin.len() > prefix.len() + suffix.len()
                && origin.starts_with(prefix)
                && origin.ends_with(suffix)
                && !origin[prefix.len()..origin.len() - suffix.len()].contains(['/', ':'])
        }
    }
}

impl HeadersPolicy {
    /// Parses and checks a `ResponseHeadersPolicyConfig` document.
    pub(crate) fn parse(config: &Element) -> Result<HeadersPolicy, ApiError> {
        expect_root(config, "ResponseHeadersPolicyConfig")?;
        check_quantities(config, "")?;
        let name = required_text(config, "Name")?.trim().to_owned();
        check_name("response headers policy", &name)?;
        check_comment(config.child_text("Comment"))?;
        let cors = config.child("CorsConfig").map(parse_cors).transpose()?;
        let security = config
            .child("SecurityHeadersConfig")
            .map(parse_security)
            .transpose()?
            .unwrap_or_default();
        let custom = config
            .child("CustomHeadersConfig")
            .map(parse_custom)
            .transpose()?
            .unwrap_or_default();
        let remove = config
            .child("RemoveHeadersConfig")
            .map(parse_remove)
            .transpose()?
            .unwrap_or_default();
        let server_timing = config
            .child("ServerTimingHeadersConfig")
            .map(ServerTiming::parse)
            .transpose()?
            .flatten();
        let has_any = ["CorsConfig", "SecurityHeadersConfig", "CustomHeadersConfig"]
            .iter()
            .any(|n| config.child(n).is_some())
            || config.child("ServerTimingHeadersConfig").is_some()
            || !remove.is_empty();
        if !has_any {
            return Err(ApiError::invalid_argument(
                "A response headers policy needs at least one of CorsConfig, SecurityHeadersConfig, CustomHeadersConfig, RemoveHeadersConfig or ServerTimingHeadersConfig.",
            ));
        }
        Ok(HeadersPolicy {
            name,
            cors,
            security,
            custom,
            remove,
            server_timing,
        })
    }
}

/// The texts of `e/<list>/Items/*` (an absent list is empty).
fn items(e: &Element, list: &str) -> Vec<String> {
    e.path(&[list, "Items"])
        .map(|i| {
            i.children
                .iter()
                .map(|c| c.text.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn parse_cors(c: &Element) -> Result<Cors, ApiError> {
    for required in [
        "AccessControlAllowOrigins",
        "AccessControlAllowHeaders",
        "AccessControlAllowMethods",
    ] {
        if c.child(required).is_none() {
            return Err(ApiError::invalid_argument(format!(
                "CorsConfig is missing the required element {required}."
            )));
        }
    }
    let allow_credentials = parse_bool(c, "AccessControlAllowCredentials")?;
    let origin_override = parse_bool(c, "OriginOverride")?;
    let allow_origins = items(c, "AccessControlAllowOrigins");
    if allow_origins.is_empty() {
        return Err(ApiError::invalid_argument(
            "CorsConfig/AccessControlAllowOrigins must list at least one origin (or *).",
        ));
    }
    for o in &allow_origins {
        let stars = o.matches('*').count();
        let valid =
            o == "*" || stars == 0 || (stars == 1 && (o.starts_with("*.") || o.contains("://*.")));
        if !valid {
            return Err(ApiError::invalid_argument(format!(
                "The allowed origin `{o}` is not valid: `*` may stand alone or only as the leftmost label of a domain (https://*.example.org)."
            )));
        }
    }
    if allow_credentials && allow_origins.iter().any(|o| o == "*") {
        return Err(ApiError::invalid_argument(
            "AccessControlAllowCredentials cannot be true while AccessControlAllowOrigins contains *: browsers refuse credentialed responses with `Access-Control-Allow-Origin: *`. List the page origins instead.",
        ));
    }
    let mut allow_methods = Vec::new();
    for m in items(c, "AccessControlAllowMethods") {
        if m == "ALL" {
            allow_methods.extend(ALL_METHODS.iter().map(|s| (*s).to_owned()));
        } else if ALL_METHODS.contains(&m.as_str()) {
            allow_methods.push(m);
        } else {
            return Err(ApiError::invalid_argument(format!(
                "The method `{m}` in AccessControlAllowMethods is not one of GET, DELETE, HEAD, OPTIONS, PATCH, POST, PUT or ALL."
            )));
        }
    }
    allow_methods.dedup();
    let max_age_sec = c
        .child_text("AccessControlMaxAgeSec")
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                ApiError::invalid_argument(format!(
                    "CorsConfig/AccessControlMaxAgeSec `{v}` must be a whole number of seconds."
                ))
            })
        })
        .transpose()?;
    Ok(Cors {
        allow_origins,
        allow_headers: items(c, "AccessControlAllowHeaders"),
        allow_methods,
        allow_credentials,
        expose_headers: items(c, "AccessControlExposeHeaders"),
        max_age_sec,
        origin_override,
    })
}

fn added(name: &str, value: impl Into<String>, override_origin: bool) -> Added {
    Added {
        name: name.to_ascii_lowercase(),
        value: value.into(),
        override_origin,
    }
}

fn parse_security(s: &Element) -> Result<Vec<Added>, ApiError> {
    let mut out = Vec::new();
    if let Some(x) = s.child("XSSProtection") {
        let over = parse_bool(x, "Override")?;
        let protection = parse_bool(x, "Protection")?;
        let mode_block = x
            .child("ModeBlock")
            .map(|_| parse_bool(x, "ModeBlock"))
            .transpose()?
            .unwrap_or(false);
        let report = x
            .child_text("ReportUri")
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if mode_block && report.is_some() {
            return Err(ApiError::invalid_argument(
                "XSSProtection can have ModeBlock true or a ReportUri, not both.",
            ));
        }
        let mut value = if protection { "1" } else { "0" }.to_owned();
        if protection && mode_block {
            value.push_str("; mode=block");
        }
        if let (true, Some(r)) = (protection, report) {
            value.push_str(&format!("; report={r}"));
        }
        out.push(added("X-XSS-Protection", value, over));
    }
    if let Some(f) = s.child("FrameOptions") {
        let over = parse_bool(f, "Override")?;
        let option = required_text(f, "FrameOption")?.trim();
        if !["DENY", "SAMEORIGIN"].contains(&option) {
            return Err(ApiError::invalid_argument(format!(
                "FrameOptions/FrameOption `{option}` must be DENY or SAMEORIGIN."
            )));
        }
        out.push(added("X-Frame-Options", option, over));
    }
    if let Some(r) = s.child("ReferrerPolicy") {
        let over = parse_bool(r, "Override")?;
        let value = required_text(r, "ReferrerPolicy")?.trim();
        const POLICIES: [&str; 8] = [
            "no-referrer",
            "no-referrer-when-downgrade",
            "origin",
            "origin-when-cross-origin",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin",
            "unsafe-url",
        ];
        if !POLICIES.contains(&value) {
            return Err(ApiError::invalid_argument(format!(
                "ReferrerPolicy `{value}` must be one of {}.",
                POLICIES.join(", ")
            )));
        }
        out.push(added("Referrer-Policy", value, over));
    }
    if let Some(c) = s.child("ContentSecurityPolicy") {
        let over = parse_bool(c, "Override")?;
        let value = required_text(c, "ContentSecurityPolicy")?;
        if value.chars().count() > MAX_CSP_CHARS {
            return Err(ApiError::new(
                400,
                "TooLongCSPInResponseHeadersPolicy",
                format!(
                    "The Content-Security-Policy is {} characters; CloudFront allows at most {MAX_CSP_CHARS}.",
                    value.chars().count()
                ),
            ));
        }
        out.push(added("Content-Security-Policy", value, over));
    }
    if let Some(c) = s.child("ContentTypeOptions") {
        out.push(added(
            "X-Content-Type-Options",
            "nosniff",
            parse_bool(c, "Override")?,
        ));
    }
    if let Some(t) = s.child("StrictTransportSecurity") {
        let over = parse_bool(t, "Override")?;
        let age = required_text(t, "AccessControlMaxAgeSec")?.trim();
        let age: u64 = age.parse().map_err(|_| {
            ApiError::invalid_argument(format!(
                "StrictTransportSecurity/AccessControlMaxAgeSec `{age}` must be a whole number of seconds."
            ))
        })?;
        let flag = |name: &str| -> Result<bool, ApiError> {
            t.child(name)
                .map(|_| parse_bool(t, name))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let mut value = format!("max-age={age}");
        if flag("IncludeSubdomains")? {
            value.push_str("; includeSubDomains");
        }
        if flag("Preload")? {
            value.push_str("; preload");
        }
        out.push(added("Strict-Transport-Security", value, over));
    }
    Ok(out)
}

fn parse_custom(c: &Element) -> Result<Vec<Added>, ApiError> {
    let list = c
        .child("Items")
        .map(|i| i.children.as_slice())
        .unwrap_or_default();
    if list.len() > MAX_CUSTOM_HEADERS {
        return Err(ApiError::new(
            400,
            "TooManyCustomHeadersInResponseHeadersPolicy",
            format!(
                "The policy has {} custom headers; CloudFront allows at most {MAX_CUSTOM_HEADERS}.",
                list.len()
            ),
        ));
    }
    list.iter()
        .map(|h| {
            let name = required_text(h, "Header")?.trim();
            check_header_name(name)?;
            Ok(added(
                name,
                h.child_text("Value").unwrap_or_default(),
                parse_bool(h, "Override")?,
            ))
        })
        .collect()
}

fn parse_remove(c: &Element) -> Result<Vec<String>, ApiError> {
    let list = c
        .child("Items")
        .map(|i| i.children.as_slice())
        .unwrap_or_default();
    if list.len() > MAX_REMOVE_HEADERS {
        return Err(ApiError::new(
            400,
            "TooManyRemoveHeadersInResponseHeadersPolicy",
            format!(
                "The policy removes {} headers; CloudFront allows at most {MAX_REMOVE_HEADERS}.",
                list.len()
            ),
        ));
    }
    list.iter()
        .map(|h| {
            let name = required_text(h, "Header")?.trim();
            check_header_name(name)?;
            let lower = name.to_ascii_lowercase();
            if UNREMOVABLE.contains(&lower.as_str())
                || lower.starts_with("x-amz-cf-")
                || lower.starts_with("x-edge-")
            {
                return Err(ApiError::invalid_argument(format!(
                    "The header `{name}` cannot be removed by a response headers policy."
                )));
            }
            Ok(lower)
        })
        .collect()
}

fn check_header_name(name: &str) -> Result<(), ApiError> {
    if axum::http::HeaderName::from_bytes(name.as_bytes()).is_ok() {
        Ok(())
    } else {
        Err(ApiError::invalid_argument(format!(
            "`{name}` is not a valid HTTP header name."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    fn check(body: &str) -> Result<HeadersPolicy, ApiError> {
        HeadersPolicy::parse(&parse(body).unwrap())
    }

    fn cors(origins: &str, credentials: bool) -> String {
        format!(
            "<ResponseHeadersPolicyConfig><Name>p</Name><CorsConfig>\
             <AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>{origins}</Origin></Items></AccessControlAllowOrigins>\
             <AccessControlAllowHeaders><Quantity>0</Quantity></AccessControlAllowHeaders>\
             <AccessControlAllowMethods><Quantity>1</Quantity><Items><Method>ALL</Method></Items></AccessControlAllowMethods>\
             <AccessControlAllowCredentials>{credentials}</AccessControlAllowCredentials>\
             <OriginOverride>true</OriginOverride></CorsConfig></ResponseHeadersPolicyConfig>"
        )
    }

    #[test]
    fn cors_configs() {
        let p = check(&cors("https://app.example.com", true)).unwrap();
        let c = p.cors.unwrap();
        assert_eq!(c.allow_methods.len(), 7);
        assert_eq!(
            c.allow_origin_for("https://app.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(c.allow_origin_for("https://evil.example.com"), None);
        let e = check(&cors("*", true)).unwrap_err();
        assert!(e.message.contains("cannot be true"), "{}", e.message);
        assert!(check(&cors("https://exa*mple.org", false)).is_err());
        let wild = check(&cors("https://*.example.org", false))
            .unwrap()
            .cors
            .unwrap();
        assert!(wild.allow_origin_for("https://a.b.example.org").is_some());
        assert!(wild.allow_origin_for("https://example.org").is_none());
        assert!(wild.allow_origin_for("http://a.example.org").is_none());
        assert_eq!(
            check(&cors("*", false))
                .unwrap()
                .cors
                .unwrap()
                .allow_origin_for("https://x")
                .as_deref(),
            Some("*")
        );
    }

    #[test]
    fn server_timing_configs() {
        let config = |enabled: &str, rate: Option<&str>| {
            let rate = rate.map_or(String::new(), |r| {
                format!("<SamplingRate>{r}</SamplingRate>")
            });
            check(&format!(
                "<ResponseHeadersPolicyConfig><Name>p</Name><ServerTimingHeadersConfig>\
                 <Enabled>{enabled}</Enabled>{rate}</ServerTimingHeadersConfig></ResponseHeadersPolicyConfig>"
            ))
        };
        let rate = |text: &str| config("true", Some(text)).map(|p| p.server_timing);
        for (text, units) in [
            ("100", 1_000_000),
            ("100.0", 1_000_000),
            ("50.5", 505_000),
            ("0.0001", 1),
            ("1.0E-4", 1),
            ("0", 0),
        ] {
            assert_eq!(
                rate(text).unwrap(),
                Some(ServerTiming { rate: units }),
                "{text}"
            );
        }
        for bad in [
            "0.00001", "100.0001", "-1", "101", "NaN", "inf", "fifty", "",
        ] {
            let e = rate(bad).unwrap_err();
            assert!(
                e.message.contains("at most four decimal places"),
                "{bad}: {}",
                e.message
            );
        }
        // Disabled: no header, whatever the rate; enabled without a rate: only `Pragma`.
        assert_eq!(config("false", Some("100")).unwrap().server_timing, None);
        assert_eq!(
            config("true", None).unwrap().server_timing,
            Some(ServerTiming { rate: 0 })
        );
        assert!(config("yes", Some("1")).is_err());
    }

    #[test]
    fn refusals() {
        let e = check("<ResponseHeadersPolicyConfig><Name>p</Name></ResponseHeadersPolicyConfig>")
            .unwrap_err();
        assert!(e.message.contains("at least one"), "{}", e.message);
        let e = check("<ResponseHeadersPolicyConfig><Name>p</Name><RemoveHeadersConfig><Quantity>1</Quantity><Items><ResponseHeadersPolicyRemoveHeader><Header>Via</Header></ResponseHeadersPolicyRemoveHeader></Items></RemoveHeadersConfig></ResponseHeadersPolicyConfig>").unwrap_err();
        assert!(e.message.contains("cannot be removed"), "{}", e.message);
        let e = check("<ResponseHeadersPolicyConfig><Name>p</Name><SecurityHeadersConfig><FrameOptions><Override>true</Override><FrameOption>ALLOW</FrameOption></FrameOptions></SecurityHeadersConfig></ResponseHeadersPolicyConfig>").unwrap_err();
        assert!(e.message.contains("DENY or SAMEORIGIN"), "{}", e.message);
        let e = check("<ResponseHeadersPolicyConfig><Name>p</Name><CustomHeadersConfig><Quantity>2</Quantity><Items><ResponseHeadersPolicyCustomHeader><Header>X-A</Header><Value>1</Value><Override>true</Override></ResponseHeadersPolicyCustomHeader></Items></CustomHeadersConfig></ResponseHeadersPolicyConfig>").unwrap_err();
        assert_eq!(e.code, "InconsistentQuantities");
    }

    proptest::proptest! {
        /// Any text in any field of a full config is accepted or refused, never a panic; an
        /// accepted origin list always answers a lookup.
        #[test]
        fn parse_never_panics(
            fields in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("true".to_owned()),
                    proptest::strategy::Just("false".to_owned()),
                    proptest::strategy::Just("ALL".to_owned()),
                    proptest::strategy::Just("*".to_owned()),
                    proptest::strategy::Just("DENY".to_owned()),
                    proptest::strategy::Just("600".to_owned()),
                    proptest::strategy::Just("X-Player".to_owned()),
                    proptest::strategy::Just("https://*.example.org".to_owned()),
                    "\\PC{0,12}",
                ],
                12,
            ),
            origin in "\\PC{0,20}",
        ) {
            let f = |i: usize| crate::xml::escape(&fields[i]);
            let body = format!(
                "<ResponseHeadersPolicyConfig><Name>{}</Name><CorsConfig>\
                 <AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>{}</Origin></Items></AccessControlAllowOrigins>\
                 <AccessControlAllowHeaders><Quantity>1</Quantity><Items><Header>{}</Header></Items></AccessControlAllowHeaders>\
                 <AccessControlAllowMethods><Quantity>1</Quantity><Items><Method>{}</Method></Items></AccessControlAllowMethods>\
                 <AccessControlAllowCredentials>{}</AccessControlAllowCredentials><AccessControlMaxAgeSec>{}</AccessControlMaxAgeSec>\
                 <OriginOverride>false</OriginOverride></CorsConfig><SecurityHeadersConfig>\
                 <FrameOptions><Override>true</Override><FrameOption>{}</FrameOption></FrameOptions>\
                 <StrictTransportSecurity><Override>{}</Override><AccessControlMaxAgeSec>{}</AccessControlMaxAgeSec></StrictTransportSecurity>\
                 </SecurityHeadersConfig><CustomHeadersConfig><Quantity>1</Quantity><Items><ResponseHeadersPolicyCustomHeader>\
                 <Header>{}</Header><Value>{}</Value><Override>true</Override></ResponseHeadersPolicyCustomHeader></Items></CustomHeadersConfig>\
                 <RemoveHeadersConfig><Quantity>1</Quantity><Items><ResponseHeadersPolicyRemoveHeader><Header>{}</Header></ResponseHeadersPolicyRemoveHeader></Items></RemoveHeadersConfig>\
                 </ResponseHeadersPolicyConfig>",
                f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7), f(8), f(9), f(10), f(11)
            );
            if let Ok(HeadersPolicy { cors: Some(cors), .. }) = HeadersPolicy::parse(&parse(&body).unwrap()) {
                let _ = cors.allow_origin_for(&origin);
            }
        }
    }

    #[test]
    fn security_values() {
        let p = check("<ResponseHeadersPolicyConfig><Name>p</Name><SecurityHeadersConfig>\
            <XSSProtection><Override>false</Override><Protection>true</Protection><ModeBlock>true</ModeBlock></XSSProtection>\
            <StrictTransportSecurity><Override>false</Override><IncludeSubdomains>true</IncludeSubdomains><Preload>true</Preload><AccessControlMaxAgeSec>31536000</AccessControlMaxAgeSec></StrictTransportSecurity>\
            </SecurityHeadersConfig></ResponseHeadersPolicyConfig>").unwrap();
        let values: Vec<(&str, &str)> = p
            .security
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                ("x-xss-protection", "1; mode=block"),
                (
                    "strict-transport-security",
                    "max-age=31536000; includeSubDomains; preload"
                )
            ]
        );
    }
}
