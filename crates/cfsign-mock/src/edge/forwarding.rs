//! What a cache behaviour forwards to an S3 or custom origin: viewer headers, cookies and the
//! query string, from its legacy `ForwardedValues` or one of CloudFront's managed origin request
//! policies (by ID). Custom origin request policies are not modelled: they forward nothing extra.

use axum::http::HeaderName;

use crate::xml::Element;

/// Managed origin request policy `AllViewer`: every header, cookie and query string.
const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
/// `AllViewerAndCloudFrontHeaders-2022-06`: as `AllViewer` (plus CloudFront headers the mock
/// does not produce).
const ALL_VIEWER_AND_CLOUDFRONT: &str = "33f36d7e-f396-46d9-90e0-52428a34d9dc";
/// `AllViewerExceptHostHeader`.
const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// `CORS-CustomOrigin`: `Origin`.
const CORS_CUSTOM_ORIGIN: &str = "59781a5b-3903-41f3-afcb-af62929ccde1";
/// `CORS-S3Origin`: `Origin` and the two preflight request headers.
const CORS_S3_ORIGIN: &str = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf";
/// `UserAgentRefererHeaders`.
const USER_AGENT_REFERER: &str = "acba4595-bd28-49b8-b9fe-13317c0390fa";

/// Which viewer headers go to the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Headers {
    /// Every viewer header, `Host` included.
    All,
    /// Every viewer header but `Host`.
    AllExceptHost,
    /// These headers (lower-case names).
    Listed(Vec<HeaderName>),
}

/// What a behaviour forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Forwarding {
    /// Viewer headers.
    pub(crate) headers: Headers,
    /// Whether the viewer's `Cookie` header is forwarded.
    pub(crate) cookies: bool,
    /// Whether the viewer's query string is forwarded.
    pub(crate) query: bool,
}

impl Forwarding {
    /// What cache behaviour `b` forwards: its `OriginRequestPolicyId` when it is a managed policy
    /// the mock knows, else its legacy `ForwardedValues`, else nothing.
    pub(crate) fn of(b: &Element) -> Forwarding {
        let listed = |names: &[&'static str]| Forwarding {
            headers: Headers::Listed(names.iter().map(|n| HeaderName::from_static(n)).collect()),
            cookies: false,
            query: false,
        };
        match b.child_text("OriginRequestPolicyId").map(str::trim) {
            Some(ALL_VIEWER | ALL_VIEWER_AND_CLOUDFRONT) => {
                return Forwarding {
                    headers: Headers::All,
                    cookies: true,
                    query: true,
                };
            }
            Some(ALL_VIEWER_EXCEPT_HOST) => {
                return Forwarding {
                    headers: Headers::AllExceptHost,
                    cookies: true,
                    query: true,
                };
            }
            Some(CORS_CUSTOM_ORIGIN) => return listed(&["origin"]),
            Some(CORS_S3_ORIGIN) => {
                return listed(&[
                    "origin",
                    "access-control-request-headers",
                    "access-control-request-method",
                ]);
            }
            Some(USER_AGENT_REFERER) => return listed(&["user-agent", "referer"]),
            _ => {}
        }
        let Some(fv) = b.child("ForwardedValues") else {
            return listed(&[]);
        };
        let names: Vec<String> = fv
            .path(&["Headers", "Items"])
            .map(|i| {
                i.children
                    .iter()
                    .map(|h| h.text.trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let headers = if names.iter().any(|n| n == "*") {
            Headers::All
        } else {
            Headers::Listed(
                names
                    .iter()
                    .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
                    .collect(),
            )
        };
        Forwarding {
            headers,
            cookies: fv
                .path(&["Cookies", "Forward"])
                .is_some_and(|f| f.text.trim() != "none"),
            query: fv.child_text("QueryString").map(str::trim) == Some("true"),
        }
    }

    /// Whether the viewer header `name` (lower case) goes to the origin.
    pub(crate) fn forwards_header(&self, name: &HeaderName) -> bool {
        match &self.headers {
            Headers::All => true,
            Headers::AllExceptHost => name != axum::http::header::HOST,
            Headers::Listed(names) => names.contains(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(xml: &str) -> Forwarding {
        Forwarding::of(&crate::xml::parse(xml).unwrap())
    }

    #[test]
    fn policies_and_forwarded_values() {
        let all = of(&format!(
            "<B><OriginRequestPolicyId>{ALL_VIEWER}</OriginRequestPolicyId></B>"
        ));
        assert_eq!(
            (all.headers.clone(), all.cookies, all.query),
            (Headers::All, true, true)
        );
        let except = of(&format!(
            "<B><OriginRequestPolicyId>{ALL_VIEWER_EXCEPT_HOST}</OriginRequestPolicyId></B>"
        ));
        assert!(!except.forwards_header(&axum::http::header::HOST));
        assert!(except.forwards_header(&HeaderName::from_static("x-app")));
        let cors = of(&format!(
            "<B><OriginRequestPolicyId>{CORS_S3_ORIGIN}</OriginRequestPolicyId></B>"
        ));
        assert!(cors.forwards_header(&HeaderName::from_static("origin")));
        assert!(!cors.forwards_header(&HeaderName::from_static("x-app")));
        assert!(!cors.query);
        let legacy = of(
            "<B><ForwardedValues><QueryString>true</QueryString><Cookies><Forward>all</Forward></Cookies><Headers><Quantity>1</Quantity><Items><Name>X-App</Name></Items></Headers></ForwardedValues></B>",
        );
        assert!(legacy.query && legacy.cookies);
        assert!(legacy.forwards_header(&HeaderName::from_static("x-app")));
        assert!(!legacy.forwards_header(&HeaderName::from_static("x-other")));
        let star = of(
            "<B><ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies><Headers><Quantity>1</Quantity><Items><Name>*</Name></Items></Headers></ForwardedValues></B>",
        );
        assert_eq!(
            (star.headers, star.cookies, star.query),
            (Headers::All, false, false)
        );
        let nothing =
            of("<B><CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId></B>");
        assert_eq!(nothing.headers, Headers::Listed(Vec::new()));
        assert!(!nothing.cookies && !nothing.query);
    }
}
