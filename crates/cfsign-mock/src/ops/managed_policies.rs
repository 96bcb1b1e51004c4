//! CloudFront's managed response headers policies, with their real IDs and names, as
//! `ResponseHeadersPolicyConfig` documents. IDs and header values are from the AWS developer
//! guide, "Use managed response headers policies"; where the guide's tables give no API value
//! (the `AccessControlAllowHeaders` of the simple-CORS policies), the mock lists none.

use crate::xml::{self, Element};

/// A managed policy: ID and config.
pub(crate) struct Managed {
    /// The policy ID (a UUID fixed by AWS).
    pub(crate) id: &'static str,
    /// The `ResponseHeadersPolicyConfig`.
    pub(crate) config: Element,
}

/// The ETag every managed policy reports (they never change).
pub(crate) const MANAGED_ETAG: &str = "E23ZP02F085DFQ";
/// `LastModifiedTime` of every managed policy: 2021-11-02T00:00:00Z, when they were announced.
pub(crate) const MANAGED_LAST_MODIFIED_MS: u64 = 1_635_811_200_000;

/// `Managed-CORS-With-Preflight`.
pub(crate) const CORS_WITH_PREFLIGHT: &str = "5cc3b908-e619-4b99-88e5-2cf7f45965bd";
/// `Managed-CORS-and-SecurityHeadersPolicy`.
pub(crate) const CORS_AND_SECURITY: &str = "e61eb60c-9c35-4d20-a928-2b84e02af89c";
/// `Managed-CORS-with-preflight-and-SecurityHeadersPolicy`.
pub(crate) const CORS_PREFLIGHT_AND_SECURITY: &str = "eaab4381-ed33-4a86-88ca-d9558dc6cd63";
/// `Managed-SecurityHeadersPolicy`.
pub(crate) const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";
/// `Managed-SimpleCORS`.
pub(crate) const SIMPLE_CORS: &str = "60669652-455b-4ae9-85a4-c4c02393f86c";

/// `Access-Control-Allow-Origin: *` for simple requests only (no origin override).
const SIMPLE_CORS_XML: &str = "<CorsConfig>\
<AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>*</Origin></Items></AccessControlAllowOrigins>\
<AccessControlAllowHeaders><Quantity>0</Quantity></AccessControlAllowHeaders>\
<AccessControlAllowMethods><Quantity>2</Quantity><Items><Method>GET</Method><Method>HEAD</Method></Items></AccessControlAllowMethods>\
<AccessControlAllowCredentials>false</AccessControlAllowCredentials>\
<OriginOverride>false</OriginOverride></CorsConfig>";

/// Any origin, preflight included: every method, any header, every header exposed.
const PREFLIGHT_CORS_XML: &str = "<CorsConfig>\
<AccessControlAllowOrigins><Quantity>1</Quantity><Items><Origin>*</Origin></Items></AccessControlAllowOrigins>\
<AccessControlAllowHeaders><Quantity>1</Quantity><Items><Header>*</Header></Items></AccessControlAllowHeaders>\
<AccessControlAllowMethods><Quantity>1</Quantity><Items><Method>ALL</Method></Items></AccessControlAllowMethods>\
<AccessControlAllowCredentials>false</AccessControlAllowCredentials>\
<AccessControlExposeHeaders><Quantity>1</Quantity><Items><Header>*</Header></Items></AccessControlExposeHeaders>\
<OriginOverride>false</OriginOverride></CorsConfig>";

/// Mozilla's recommended set; only `X-Content-Type-Options` overrides the origin's.
const SECURITY_XML: &str = "<SecurityHeadersConfig>\
<XSSProtection><Override>false</Override><Protection>true</Protection><ModeBlock>true</ModeBlock></XSSProtection>\
<FrameOptions><Override>false</Override><FrameOption>SAMEORIGIN</FrameOption></FrameOptions>\
<ReferrerPolicy><Override>false</Override><ReferrerPolicy>strict-origin-when-cross-origin</ReferrerPolicy></ReferrerPolicy>\
<ContentTypeOptions><Override>true</Override></ContentTypeOptions>\
<StrictTransportSecurity><Override>false</Override><IncludeSubdomains>false</IncludeSubdomains><Preload>false</Preload><AccessControlMaxAgeSec>31536000</AccessControlMaxAgeSec></StrictTransportSecurity>\
</SecurityHeadersConfig>";

fn config(name: &str, comment: &str, parts: &[&str]) -> Element {
    let text = format!(
        "<ResponseHeadersPolicyConfig><Comment>{comment}</Comment><Name>{name}</Name>{}</ResponseHeadersPolicyConfig>",
        parts.concat()
    );
    // The documents above are constants the unit test parses and checks.
    xml::parse(&text).unwrap_or_else(|_| Element::node("ResponseHeadersPolicyConfig", Vec::new()))
}

/// Every managed policy, in the order `ListResponseHeadersPolicies` lists them.
pub(crate) fn managed_policies() -> Vec<Managed> {
    vec![
        Managed {
            id: CORS_AND_SECURITY,
            config: config(
                "Managed-CORS-and-SecurityHeadersPolicy",
                "Allows all origins for simple CORS requests, and adds security headers",
                &[SIMPLE_CORS_XML, SECURITY_XML],
            ),
        },
        Managed {
            id: CORS_WITH_PREFLIGHT,
            config: config(
                "Managed-CORS-With-Preflight",
                "Allows all origins for CORS requests, including preflight requests",
                &[PREFLIGHT_CORS_XML],
            ),
        },
        Managed {
            id: CORS_PREFLIGHT_AND_SECURITY,
            config: config(
                "Managed-CORS-with-preflight-and-SecurityHeadersPolicy",
                "Allows all origins for CORS requests, including preflight requests, and adds security headers",
                &[PREFLIGHT_CORS_XML, SECURITY_XML],
            ),
        },
        Managed {
            id: SECURITY_HEADERS,
            config: config(
                "Managed-SecurityHeadersPolicy",
                "Adds a set of security headers to every response",
                &[SECURITY_XML],
            ),
        },
        Managed {
            id: SIMPLE_CORS,
            config: config(
                "Managed-SimpleCORS",
                "Allows all origins for simple CORS requests",
                &[SIMPLE_CORS_XML],
            ),
        },
    ]
}

/// The managed policy with this ID.
pub(crate) fn managed_policy(id: &str) -> Option<Managed> {
    managed_policies().into_iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::headers_policy::HeadersPolicy;

    #[test]
    fn every_managed_policy_is_a_valid_config() {
        for m in managed_policies() {
            let p = HeadersPolicy::parse(&m.config)
                .unwrap_or_else(|e| panic!("{}: {}", m.id, e.message));
            assert!(p.name.starts_with("Managed-"), "{}", p.name);
        }
        let p = HeadersPolicy::parse(&managed_policy(CORS_AND_SECURITY).unwrap().config).unwrap();
        let nosniff = p
            .security
            .iter()
            .find(|a| a.name == "x-content-type-options")
            .unwrap();
        assert!(nosniff.override_origin);
        assert_eq!(
            p.cors.unwrap().allow_origin_for("https://a").as_deref(),
            Some("*")
        );
    }
}
