//! Planning a signing request, written once for URLs (`/v1/sign`, `/v1/redirect`), cookies
//! (`/v1/cookies`) and streams (`/v1/stream/…`): from the request and the client to the policy to sign — its kind, its expiry,
//! the client's scope, permissions and maximum TTL — and, for cookies, their attributes. Pure: no
//! HTTP, no key, and the time is a parameter.

use cfsign::{
    CookieAttributes, CustomPolicy, HashAlgorithm, Resource, SourceIp, UnixTime, UnsignedCookies,
    UnsignedUrl,
};

use crate::client::Client;
use crate::error::ApiError;
use crate::limits::Limits;
use crate::wire::{
    CookieFields, CookiesRequest, HashName, PolicyKind, PolicyTerms, SignRequest, Ttl,
};

/// Plans one URL request (`/v1/sign`, `/v1/redirect`) for `client` at `now` (Unix seconds).
///
/// The checks run in this order, and a request with several faults is refused for the first: the
/// URL's scope, the policy kind, then [`plan`]'s.
pub(crate) fn url(
    request: SignRequest,
    client: &Client,
    limits: &Limits,
    now: u64,
) -> Result<PlannedUrl, ApiError> {
    let target = Target::Url {
        url: &request.url,
        resource: request.resource.as_deref(),
    };
    let terms = Terms {
        policy: request.policy,
        terms: &request.terms,
    };
    client.scope.check_url(&request.url, limits.max_url_bytes)?;
    let kind = policy_kind(&target, &terms)?;
    let plan = plan(&target, &terms, kind, client, limits, now)?;
    let unsigned = match &plan.custom {
        None => UnsignedUrl::canned(&request.url, plan.expires),
        Some(policy) => UnsignedUrl::custom(&request.url, policy),
    }
    .map_err(invalid_url)?;
    Ok(PlannedUrl {
        plan,
        unsigned,
        resource: request.resource,
    })
}

/// Plans a cookie request (`/v1/cookies`) for `client` at `now` (Unix seconds).
///
/// The checks run in this order, and a request with several faults is refused for the first: the
/// client's cookie permission, the policy kind, the cookie attributes, then [`plan`]'s.
pub(crate) fn cookies(
    request: &CookiesRequest,
    client: &Client,
    limits: &Limits,
    now: u64,
) -> Result<PlannedCookies, ApiError> {
    cookies_allowed(client)?;
    let target = Target::Cookies {
        resource: &request.resource,
    };
    let terms = Terms {
        policy: request.policy,
        terms: &request.terms,
    };
    let kind = policy_kind(&target, &terms)?;
    let attributes = cookie_attributes(&request.cookie, CookieAttributes::new(), None)?;
    let plan = plan(&target, &terms, kind, client, limits, now)?;
    let unsigned = match &plan.custom {
        None => UnsignedCookies::canned(&request.resource, plan.expires).map_err(invalid_url)?,
        Some(policy) => UnsignedCookies::custom(policy),
    };
    Ok(PlannedCookies {
        plan,
        unsigned,
        attributes,
    })
}

/// Refuses a client that may not ask for signed cookies (`cookies = false`): the first check of
/// every cookie request (`/v1/cookies`, `/v1/stream/cookies`).
pub(crate) fn cookies_allowed(client: &Client) -> Result<(), ApiError> {
    if client.cookies {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "cookies_not_allowed",
        format!(
            "client `{}` may not ask for signed cookies (cookies = false)",
            client.name
        ),
    ))
}

/// Plans the one custom policy of a stream for `prefix` (a URL ending in `/`, which gets a `*`, or
/// a pattern with `*`): the same checks as cookies for a pattern (scope, `max_ttl`, the custom
/// policy permission), without the cookie permission. Returns the plan and its policy.
pub(crate) fn stream(
    prefix: &str,
    terms: &PolicyTerms,
    client: &Client,
    limits: &Limits,
    now: u64,
) -> Result<(Plan, CustomPolicy), ApiError> {
    let pattern = if prefix.ends_with('/') {
        format!("{prefix}*")
    } else if prefix.contains('*') {
        prefix.to_owned()
    } else {
        return Err(ApiError::bad_request(
            "invalid_prefix",
            format!(
                "the prefix `{prefix}` must end in `/` (the stream's folder, e.g. \
                 https://media.example.com/videos/123/) or contain `*`"
            ),
        ));
    };
    let target = Target::Cookies { resource: &pattern };
    let terms = Terms {
        policy: Some(PolicyKind::Custom),
        terms,
    };
    let plan = plan(&target, &terms, PolicyKind::Custom, client, limits, now)?;
    let policy = plan
        .custom
        .clone()
        .ok_or_else(|| ApiError::internal("a custom plan without its policy"))?;
    Ok((plan, policy))
}

/// The policy a request gets: checked against the client's scope, permissions and maximum TTL.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `None` for a canned policy.
    custom: Option<CustomPolicy>,
    hash: HashName,
    expires: UnixTime,
}

impl Plan {
    /// Canned or custom.
    pub(crate) fn kind(&self) -> PolicyKind {
        match self.custom {
            None => PolicyKind::Canned,
            Some(_) => PolicyKind::Custom,
        }
    }

    /// The hash under the signature, as the API names it.
    pub(crate) fn hash_name(&self) -> HashName {
        self.hash
    }

    /// The hash under the signature.
    pub(crate) fn hash(&self) -> HashAlgorithm {
        self.hash.algorithm()
    }

    /// When the signature expires.
    pub(crate) fn expires(&self) -> UnixTime {
        self.expires
    }
}

/// A URL request, planned: its policy bytes are ready for a signature.
pub(crate) struct PlannedUrl {
    plan: Plan,
    unsigned: UnsignedUrl,
    /// The custom policy's resource pattern, when the request gave one.
    resource: Option<String>,
}

impl PlannedUrl {
    /// The kind, hash and expiry.
    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The URL with its policy, waiting for the signature.
    pub(crate) fn unsigned(&self) -> &UnsignedUrl {
        &self.unsigned
    }

    /// What the signature grants, for the audit log: the resource pattern, or the URL.
    pub(crate) fn resource(&self) -> &str {
        self.resource.as_deref().unwrap_or(self.unsigned.url())
    }
}

/// A cookie request, planned: its policy bytes are ready for a signature.
pub(crate) struct PlannedCookies {
    plan: Plan,
    unsigned: UnsignedCookies,
    attributes: CookieAttributes,
}

impl PlannedCookies {
    /// The kind, hash and expiry.
    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The cookies' policy, waiting for the signature.
    pub(crate) fn unsigned(&self) -> &UnsignedCookies {
        &self.unsigned
    }

    /// The `Set-Cookie` attributes.
    pub(crate) fn attributes(&self) -> &CookieAttributes {
        &self.attributes
    }
}

/// What a request's signature is for.
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    /// One URL, with the resource pattern of its custom policy if the request gave one.
    Url {
        url: &'a str,
        resource: Option<&'a str>,
    },
    /// Cookies for a URL (canned policy) or resource pattern (custom policy).
    Cookies { resource: &'a str },
}

/// The policy terms of a request, with the policy kind it asks for.
#[derive(Debug, Clone, Copy)]
struct Terms<'a> {
    policy: Option<PolicyKind>,
    terms: &'a PolicyTerms,
}

/// The decision from a request's terms to its policy, once its kind is known: `ttl` and
/// `expires`; for cookies, the resource's scope (as a URL or a pattern) before the expiry, so an
/// escape attempt is reported as such; the expiry against `max_ttl`; then, for a custom policy,
/// the permission, the resource pattern, `starts_at` and `source_ip`. The checks run in this
/// order, and a request with several faults is refused for the first.
fn plan(
    target: &Target<'_>,
    terms: &Terms<'_>,
    kind: PolicyKind,
    client: &Client,
    limits: &Limits,
    now: u64,
) -> Result<Plan, ApiError> {
    let max_bytes = limits.max_url_bytes;
    let hash = hash(terms.terms.hash_algorithm, limits)?;
    let ttl = terms.terms.ttl.as_ref().map(Ttl::secs).transpose()?;
    let expires_at = terms
        .terms
        .expires
        .as_ref()
        .map(|t| t.parse("expires"))
        .transpose()?;
    if let Target::Cookies { resource } = target {
        match kind {
            PolicyKind::Canned => client.scope.check_url(resource, max_bytes)?,
            PolicyKind::Custom => client.scope.check_pattern(resource, max_bytes)?,
        }
    }
    let expires = expiry(now, ttl, expires_at, client, limits)?;
    let custom = match kind {
        PolicyKind::Canned => None,
        PolicyKind::Custom => Some(custom_policy(target, terms, client, max_bytes, expires)?),
    };
    Ok(Plan {
        custom,
        hash,
        expires,
    })
}

/// The hash a request gets: what it asks for, SHA-1 by default; with a key that signs SHA-256
/// only (a KMS key), SHA-256 by default and SHA-1 refused with the reason.
fn hash(asked: Option<HashName>, limits: &Limits) -> Result<HashName, ApiError> {
    match (asked, limits.sha256_only) {
        (Some(HashName::Sha1), true) => Err(ApiError::bad_request(
            "sha1_unavailable",
            "the signing key is held in AWS KMS, which signs with SHA-256 only (KMS has no SHA-1 signing \
             algorithm); ask for hash_algorithm `sha256` or leave it out",
        )),
        (None, true) => Ok(HashName::Sha256),
        (asked, false) => Ok(asked.unwrap_or_default()),
        (Some(HashName::Sha256), true) => Ok(HashName::Sha256),
    }
}

/// The policy kind asked for, or implied: a resource pattern (for URLs), a `*` (for cookies),
/// `starts_at` or `source_ip` need a custom policy.
fn policy_kind(target: &Target<'_>, terms: &Terms<'_>) -> Result<PolicyKind, ApiError> {
    let (needs_custom, conflict) = match target {
        Target::Url { resource, .. } => (
            resource.is_some(),
            "`resource`, `starts_at` and `source_ip` need a custom policy; drop `\"policy\": \"canned\"`",
        ),
        // As the aws CLI and the JS signer decide: a `*` makes a custom policy; a `?` is the
        // query string of an exact URL, which gets a canned policy.
        Target::Cookies { resource } => (
            resource.contains('*'),
            "wildcards, `starts_at` and `source_ip` need a custom policy",
        ),
    };
    let wants_custom =
        needs_custom || terms.terms.starts_at.is_some() || terms.terms.source_ip.is_some();
    match terms.policy {
        Some(PolicyKind::Canned) if wants_custom => {
            Err(ApiError::bad_request("invalid_request", conflict))
        }
        Some(kind) => Ok(kind),
        None if wants_custom => Ok(PolicyKind::Custom),
        None => Ok(PolicyKind::Canned),
    }
}

/// Computes the expiry from `ttl` or `expires` (or the default TTL), enforcing the client's
/// maximum TTL and rounding TTL-based expiries up to the configured granularity.
fn expiry(
    now: u64,
    ttl: Option<u64>,
    expires: Option<UnixTime>,
    client: &Client,
    limits: &Limits,
) -> Result<UnixTime, ApiError> {
    let too_long = |secs: u64| {
        ApiError::forbidden(
            "ttl_too_long",
            format!(
                "the requested lifetime is {secs} s; client `{}` may ask for at most {} s",
                client.name, client.max_ttl
            ),
        )
    };
    let target = match (ttl, expires) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "give `ttl` or `expires`, not both",
            ));
        }
        (None, Some(expires)) => {
            let at = expires.as_secs();
            if at <= now {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    format!("`expires` ({expires}) is not in the future"),
                ));
            }
            if at - now > client.max_ttl {
                return Err(too_long(at - now));
            }
            return Ok(expires);
        }
        (Some(0), None) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "`ttl` must be at least 1 second",
            ));
        }
        (Some(ttl), None) => {
            if ttl > client.max_ttl {
                return Err(too_long(ttl));
            }
            now.saturating_add(ttl)
        }
        (None, None) => now.saturating_add(limits.default_ttl.min(client.max_ttl)),
    };
    let g = limits.expiry_granularity;
    let rounded = if g > 1 {
        let up = target.div_ceil(g).saturating_mul(g);
        let down = target / g * g;
        if up - now <= client.max_ttl {
            up
        } else if down > now {
            down
        } else {
            target
        }
    } else {
        target
    };
    UnixTime::from_secs(rounded)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("expiry: {e}")))
}

/// Builds a custom policy after checking the permission and the resource pattern's scope (a
/// cookie resource's scope is checked before the expiry, in [`plan`]).
fn custom_policy(
    target: &Target<'_>,
    terms: &Terms<'_>,
    client: &Client,
    max_bytes: usize,
    expires: UnixTime,
) -> Result<CustomPolicy, ApiError> {
    if !client.custom_policy {
        return Err(ApiError::forbidden(
            "custom_policy_not_allowed",
            format!(
                "client `{}` may not ask for custom policies (custom_policy = false)",
                client.name
            ),
        ));
    }
    let invalid_resource =
        |e: cfsign::Error| ApiError::bad_request("invalid_resource", e.to_string());
    let resource = match *target {
        Target::Url {
            url,
            resource: Some(pattern),
        } => {
            client.scope.check_pattern(pattern, max_bytes)?;
            let resource = Resource::new(pattern).map_err(invalid_resource)?;
            if !resource.matches(url) {
                return Err(ApiError::bad_request(
                    "resource_mismatch",
                    format!("the resource pattern `{pattern}` does not cover `{url}`"),
                ));
            }
            resource
        }
        Target::Url {
            url,
            resource: None,
        } => Resource::exact(url).map_err(invalid_resource)?,
        Target::Cookies { resource } => Resource::new(resource).map_err(invalid_resource)?,
    };
    let mut policy = CustomPolicy::new(resource, expires);
    if let Some(starts) = &terms.terms.starts_at {
        policy = policy
            .with_starts_at(starts.parse("starts_at")?)
            .map_err(|e| ApiError::bad_request("invalid_request", format!("`starts_at`: {e}")))?;
    }
    if let Some(ip) = &terms.terms.source_ip {
        let ip: SourceIp = ip
            .parse()
            .map_err(|e| ApiError::bad_request("invalid_request", format!("`source_ip`: {e}")))?;
        policy = policy.with_source_ip(ip);
    }
    Ok(policy)
}

/// The cookies' attributes, for `/v1/cookies` and `/v1/stream/cookies`: `base` (a stream's
/// `SameSite`) with `Secure` and `HttpOnly` unless turned off, and `Domain` and `Path` as given,
/// `Path` otherwise `default_path` (checked by the core).
pub(crate) fn cookie_attributes(
    fields: &CookieFields,
    base: CookieAttributes,
    default_path: Option<&str>,
) -> Result<CookieAttributes, ApiError> {
    let mut attributes = base
        .with_secure(fields.secure.unwrap_or(true))
        .with_http_only(fields.http_only.unwrap_or(true));
    if let Some(domain) = &fields.domain {
        attributes = attributes
            .with_domain(domain)
            .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    }
    if let Some(path) = fields.path.as_deref().or(default_path) {
        attributes = attributes
            .with_path(path)
            .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    }
    Ok(attributes)
}

/// A URL the core refuses to sign (the scope check has already passed, so this names the URL's own
/// fault).
fn invalid_url(e: cfsign::Error) -> ApiError {
    ApiError::bad_request("invalid_url", e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::scope::{AllowRule, Scope};

    fn client(max_ttl: u64) -> Client {
        Client::for_tests("c", Scope::default(), max_ttl)
    }

    fn limits(granularity: u64) -> Limits {
        Limits {
            max_batch: 10,
            max_url_bytes: 100,
            default_ttl: 300,
            expiry_granularity: granularity,
            sha256_only: false,
        }
    }

    fn check(ttl: Option<u64>, granularity: u64, max_ttl: u64, expected: Result<u64, &str>) {
        let got = expiry(1000, ttl, None, &client(max_ttl), &limits(granularity))
            .map(UnixTime::as_secs)
            .map_err(|e| e.code());
        assert_eq!(
            got, expected,
            "ttl {ttl:?} granularity {granularity} max {max_ttl}"
        );
    }

    #[test]
    fn expiry_rules() {
        check(Some(60), 0, 3600, Ok(1060));
        check(None, 0, 3600, Ok(1300));
        check(None, 0, 100, Ok(1100));
        check(Some(7200), 0, 3600, Err("ttl_too_long"));
        check(Some(0), 0, 3600, Err("invalid_request"));
        // Rounded up to the next multiple of 600 …
        check(Some(60), 600, 3600, Ok(1200));
        // … unless that exceeds the maximum TTL: then down.
        check(Some(3600), 600, 3600, Ok(4200));
        check(Some(3500), 600, 3500, Ok(4200));
        // Never into the past.
        check(Some(10), 5000, 10, Ok(1010));
        let c = client(3600);
        let at = |s| Some(UnixTime::from_secs(s).unwrap());
        let got = expiry(1000, None, at(2000), &c, &limits(600)).map(UnixTime::as_secs);
        assert_eq!(got.unwrap(), 2000);
        assert_eq!(
            expiry(1000, None, at(900), &c, &limits(0))
                .unwrap_err()
                .code(),
            "invalid_request"
        );
        assert_eq!(
            expiry(1000, None, at(9000), &c, &limits(0))
                .unwrap_err()
                .code(),
            "ttl_too_long"
        );
        assert_eq!(
            expiry(1000, Some(5), at(2000), &c, &limits(0))
                .unwrap_err()
                .code(),
            "invalid_request"
        );
    }

    const NOW: u64 = 1_800_000_000;
    const A: &str = "https://d1.example.net/media/a.jpg";
    const MEDIA: &str = "https://d1.example.net/media/*";
    const HLS: &str = "https://d1.example.net/media/hls/*";
    const OUTSIDE: &str = "https://d1.example.net/*";

    /// A client allowed `https://d1.example.net/media/` for at most an hour, with signed cookies,
    /// and with or without custom policies.
    fn media_client(custom_policy: bool) -> Client {
        let rule = AllowRule::parse("https://d1.example.net/media/").unwrap();
        let mut client = Client::for_tests("web", Scope::new(vec![rule]), 3600);
        client.custom_policy = custom_policy;
        client
    }

    /// Plans `request` as a URL request (it has `url`) or a cookie request (it has `resource`)
    /// at `NOW`.
    fn planned(request: &Value, client: &Client) -> Result<(Plan, String), ApiError> {
        let limits = limits(0);
        let (plan, policy) = if request.get("url").is_some() {
            let request: SignRequest = serde_json::from_value(request.clone()).unwrap();
            let planned = url(request, client, &limits, NOW)?;
            let policy = planned.unsigned().policy_bytes().to_vec();
            (planned.plan, policy)
        } else {
            let request: CookiesRequest = serde_json::from_value(request.clone()).unwrap();
            let planned = cookies(&request, client, &limits, NOW)?;
            let policy = planned.unsigned().policy_bytes().to_vec();
            (planned.plan, policy)
        };
        Ok((plan, String::from_utf8(policy).unwrap()))
    }

    /// Checks the kind and lifetime (the expiry less `NOW`), or the error code, `client` gets
    /// for `request`.
    fn check_plan(client: &Client, request: Value, expected: Result<(PolicyKind, u64), &str>) {
        let got = planned(&request, client)
            .map(|(plan, _)| (plan.kind(), plan.expires().as_secs() - NOW))
            .map_err(|e| e.code());
        assert_eq!(got, expected, "{request}");
    }

    #[test]
    fn url_plans() {
        use PolicyKind::{Canned, Custom};
        let web = media_client(true);
        let check = |request, expected| check_plan(&web, request, expected);
        // Canned unless something needs a custom policy; the default TTL is 300 s.
        check(json!({"url": A}), Ok((Canned, 300)));
        check(json!({"url": A, "ttl": 60}), Ok((Canned, 60)));
        check(json!({"url": A, "ttl": "2m"}), Ok((Canned, 120)));
        check(json!({"url": A, "expires": NOW + 100}), Ok((Canned, 100)));
        check(json!({"url": format!("{A}?v=1")}), Ok((Canned, 300)));
        check(json!({"url": A, "policy": "custom"}), Ok((Custom, 300)));
        check(json!({"url": A, "resource": MEDIA}), Ok((Custom, 300)));
        check(json!({"url": A, "starts_at": NOW - 10}), Ok((Custom, 300)));
        check(
            json!({"url": A, "source_ip": "192.0.2.0/24"}),
            Ok((Custom, 300)),
        );
        // `ttl` or `expires`, within `max_ttl`.
        let invalid = Err("invalid_request");
        check(json!({"url": A, "ttl": 60, "expires": NOW + 60}), invalid);
        check(json!({"url": A, "ttl": 3601}), Err("ttl_too_long"));
        check(
            json!({"url": A, "expires": NOW + 3601}),
            Err("ttl_too_long"),
        );
        check(json!({"url": A, "expires": NOW}), invalid);
        check(json!({"url": A, "ttl": "soon"}), invalid);
        // Custom terms under a canned policy, a pattern that does not cover the URL, bad terms.
        check(
            json!({"url": A, "policy": "canned", "source_ip": "192.0.2.1"}),
            invalid,
        );
        check(
            json!({"url": A, "policy": "canned", "resource": MEDIA}),
            invalid,
        );
        check(json!({"url": A, "resource": HLS}), Err("resource_mismatch"));
        check(json!({"url": A, "source_ip": "not-an-ip"}), invalid);
        check(json!({"url": A, "starts_at": "yesterday"}), invalid);
        // The scope of the URL and of the pattern.
        check(
            json!({"url": OUTSIDE.replace('*', "a.jpg")}),
            Err("out_of_scope"),
        );
        check(json!({"url": A, "resource": OUTSIDE}), Err("out_of_scope"));
        // Several faults: the first check refuses. The URL's scope, the kind, the lifetime, then
        // the custom policy.
        let outside = OUTSIDE.replace('*', "a.jpg");
        let request = json!({"url": outside, "policy": "canned", "source_ip": "192.0.2.1"});
        check(request, Err("out_of_scope"));
        let request = json!({"url": A, "policy": "canned", "source_ip": "192.0.2.1", "ttl": 7200});
        check(request, invalid);
        check(
            json!({"url": A, "resource": OUTSIDE, "ttl": 7200}),
            Err("ttl_too_long"),
        );

        // Without the permission, nothing custom, and that is said before the pattern's scope
        // and the terms.
        let basic = media_client(false);
        let check = |request, expected| check_plan(&basic, request, expected);
        let not_allowed = Err("custom_policy_not_allowed");
        check(json!({"url": A}), Ok((Canned, 300)));
        check(json!({"url": A, "resource": MEDIA}), not_allowed);
        check(json!({"url": A, "policy": "custom"}), not_allowed);
        check(json!({"url": A, "resource": OUTSIDE}), not_allowed);
        check(json!({"url": A, "source_ip": "not-an-ip"}), not_allowed);
    }

    #[test]
    fn cookie_plans() {
        use PolicyKind::{Canned, Custom};
        let web = media_client(true);
        let check = |request, expected| check_plan(&web, request, expected);
        // A `*` makes a custom policy; a `?` is an exact URL's query string.
        check(json!({"resource": HLS}), Ok((Custom, 300)));
        check(json!({"resource": A}), Ok((Canned, 300)));
        check(json!({"resource": format!("{A}?v=1")}), Ok((Canned, 300)));
        check(json!({"resource": A, "starts_at": NOW}), Ok((Custom, 300)));
        check(
            json!({"resource": A, "policy": "custom", "ttl": 600}),
            Ok((Custom, 600)),
        );
        check(
            json!({"resource": HLS, "expires": NOW + 3600}),
            Ok((Custom, 3600)),
        );
        check(
            json!({"resource": HLS, "policy": "canned"}),
            Err("invalid_request"),
        );
        check(json!({"resource": HLS, "ttl": 7200}), Err("ttl_too_long"));
        check(json!({"resource": OUTSIDE}), Err("out_of_scope"));
        let escape = "https://d1.example.net/media/%2e%2e/*";
        check(json!({"resource": escape}), Err("dot_segment"));
        check(json!({"resource": format!("{A}#x")}), Err("invalid_url"));
        // The resource's scope comes before the lifetime and the permission, so an escape
        // attempt is reported as such.
        check(
            json!({"resource": OUTSIDE, "ttl": 7200}),
            Err("out_of_scope"),
        );
        let request = json!({"resource": HLS, "ttl": "soon", "policy": "canned"});
        check(request, Err("invalid_request"));

        let basic = media_client(false);
        let check = |request, expected| check_plan(&basic, request, expected);
        check(json!({"resource": A}), Ok((Canned, 300)));
        check(json!({"resource": HLS}), Err("custom_policy_not_allowed"));
        check(json!({"resource": OUTSIDE}), Err("out_of_scope"));
    }

    #[test]
    fn cookie_checks_run_in_order() {
        let limits = limits(0);
        let check = |request: Value, cookies: bool, code: &str, message: &str| {
            let mut client = media_client(true);
            client.cookies = cookies;
            let request: CookiesRequest = serde_json::from_value(request).unwrap();
            let err = super::cookies(&request, &client, &limits, NOW)
                .err()
                .unwrap();
            assert_eq!(err.code(), code, "{request:?}: {err}");
            assert!(err.message().contains(message), "{request:?}: {err}");
        };
        // The permission, the kind, the attributes, then the lifetime and the scope.
        let domain = "*.cloudfront.net";
        let request = json!({"resource": OUTSIDE, "domain": domain});
        check(request, false, "cookies_not_allowed", "cookies = false");
        let request = json!({"resource": HLS, "policy": "canned", "domain": domain});
        check(request, true, "invalid_request", "need a custom policy");
        let request = json!({"resource": HLS, "domain": domain, "ttl": "soon"});
        check(request, true, "invalid_request", "Domain");
        let request = json!({"resource": OUTSIDE, "path": "no-slash"});
        check(request, true, "invalid_request", "Path");
        // A non-ASCII `Path` would never match the percent-encoded request path: the error
        // gives the encoded form.
        let request = json!({"resource": OUTSIDE, "path": "/m\u{e9}dia/"});
        check(request, true, "invalid_request", "`/m%C3%A9dia/`");
        let request = json!({"resource": HLS, "ttl": "soon", "expires": NOW - 1});
        check(request, true, "invalid_request", "`ttl`");
        let request = json!({"resource": OUTSIDE, "expires": "soon"});
        check(request, true, "invalid_request", "`expires`");
    }

    /// Every request that names a URL or resource goes through the scope rule: the issue's
    /// path-parameter escape is refused as a URL, a URL's resource pattern, and a cookie
    /// resource, canned or custom.
    #[test]
    fn escapes_are_refused_for_every_target() {
        let web = media_client(true);
        let check = |request, expected| check_plan(&web, request, expected);
        let url = "https://d1.example.net/media/..;/secret/a.jpg";
        let pattern = "https://d1.example.net/media/..;/*";
        let dot = Err("dot_segment");
        check(json!({ "url": url }), dot);
        check(json!({"url": A, "resource": pattern}), dot);
        check(json!({ "resource": url }), dot);
        check(json!({ "resource": pattern }), dot);
        let glob = Client::for_tests(
            "avatars",
            Scope::new(vec![
                AllowRule::parse("https://d1.example.net/users/*/avatar.png").unwrap(),
            ]),
            3600,
        );
        for path in ["/users//avatar.png", "/users/;/avatar.png"] {
            let url = format!("https://d1.example.net{path}");
            check_plan(&glob, json!({ "url": url }), Err("out_of_scope"));
            check_plan(&glob, json!({ "resource": url }), Err("out_of_scope"));
        }
        let url = "https://d1.example.net/users/42/avatar.png";
        check_plan(&glob, json!({ "url": url }), Ok((PolicyKind::Canned, 300)));
    }

    #[test]
    fn custom_terms_reach_the_policy() {
        let web = media_client(true);
        let at = |secs| UnixTime::from_secs(secs).unwrap();
        let policy = |request: Value| planned(&request, &web).unwrap().1;
        let request =
            json!({"url": A, "starts_at": NOW - 10, "source_ip": "192.0.2.0/24", "ttl": 60});
        let expected = CustomPolicy::new(Resource::exact(A).unwrap(), at(NOW + 60))
            .with_starts_at(at(NOW - 10))
            .unwrap()
            .with_source_ip("192.0.2.0/24".parse().unwrap());
        assert_eq!(policy(request), expected.to_json());
        let expected = cfsign::CannedPolicy::new(A, at(NOW + 60));
        assert_eq!(policy(json!({"url": A, "ttl": 60})), expected.to_json());
        let expected = CustomPolicy::new(Resource::new(HLS).unwrap(), at(NOW + 60));
        let request = json!({"resource": HLS, "expires": NOW + 60});
        assert_eq!(policy(request), expected.to_json());
    }

    #[test]
    fn hash_and_audit_resource() {
        let web = media_client(true);
        let limits = limits(0);
        let plan = |request: Value| {
            let request: SignRequest = serde_json::from_value(request).unwrap();
            url(request, &web, &limits, NOW).unwrap()
        };
        let planned = plan(json!({"url": A}));
        assert_eq!(planned.plan().hash(), HashAlgorithm::Sha1);
        assert_eq!(planned.plan().hash_name(), HashName::Sha1);
        assert_eq!(planned.resource(), A);
        let planned = plan(json!({"url": A, "hash_algorithm": "sha256", "resource": MEDIA}));
        assert_eq!(planned.plan().hash(), HashAlgorithm::Sha256);
        assert_eq!(planned.plan().hash_name(), HashName::Sha256);
        assert_eq!(planned.resource(), MEDIA);
        assert_eq!(planned.unsigned().url(), A);
    }

    #[test]
    fn a_kms_key_forces_sha256() {
        let web = media_client(true);
        let mut limits = limits(0);
        limits.sha256_only = true;
        let plan = |request: Value| {
            let request: SignRequest = serde_json::from_value(request).unwrap();
            url(request, &web, &limits, NOW)
        };
        let planned = plan(json!({"url": A})).unwrap();
        assert_eq!(planned.plan().hash_name(), HashName::Sha256);
        let planned = plan(json!({"url": A, "hash_algorithm": "sha256"})).unwrap();
        assert_eq!(planned.plan().hash_name(), HashName::Sha256);
        let Err(err) = plan(json!({"url": A, "hash_algorithm": "sha1"})) else {
            panic!("SHA-1 was planned for a KMS key");
        };
        assert_eq!(err.code(), "sha1_unavailable");
        assert!(err.message().contains("KMS has no SHA-1"), "{err}");
    }
}
