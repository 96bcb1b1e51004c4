//! A `DistributionConfig`: its checks (origins, cache behaviours, trusted key groups, aliases,
//! quantities) and the elements CloudFront fills in when a config omits them.

use crate::api_error::ApiError;
use crate::model::{Store, behaviours};
use crate::ops::fields::{check_quantities, expect_root, parse_bool, required_text};
use crate::xml::Element;

/// Key groups per cache behaviour.
pub(crate) const MAX_GROUPS_PER_BEHAVIOUR: usize = 4;

impl Store {
    /// Checks a `DistributionConfig` and returns it normalised; `except` is the distribution
    /// being updated (its own aliases are not taken).
    pub(super) fn check_distribution_config(
        &self,
        body: &Element,
        except: Option<&str>,
    ) -> Result<Element, ApiError> {
        expect_root(body, "DistributionConfig")?;
        let mut config = body.clone();
        check_quantities(&config, "")?;
        let caller_reference = required_text(&config, "CallerReference")?;
        if caller_reference.is_empty() {
            return Err(ApiError::invalid_argument(
                "CallerReference must not be empty.",
            ));
        }
        required_text(&config, "Comment")?;
        parse_bool(&config, "Enabled")?;
        let origins = config.child("Origins").ok_or_else(|| {
            ApiError::invalid_argument(
                "DistributionConfig is missing the required element Origins.",
            )
        })?;
        let origin_ids: Vec<&str> = origins
            .child("Items")
            .map(|i| {
                i.children
                    .iter()
                    .filter_map(|o| o.child_text("Id"))
                    .collect()
            })
            .unwrap_or_default();
        if origin_ids.is_empty() {
            return Err(ApiError::invalid_argument(
                "A distribution needs at least one origin in Origins/Items.",
            ));
        }
        for origin in origins
            .child("Items")
            .map(|i| i.children.as_slice())
            .unwrap_or_default()
        {
            required_text(origin, "DomainName")?;
            self.check_origin_access(origin)?;
            check_origin_numbers(origin)?;
        }
        if config.child("DefaultCacheBehavior").is_none() {
            return Err(ApiError::invalid_argument(
                "DistributionConfig is missing the required element DefaultCacheBehavior.",
            ));
        }
        for b in behaviours(&config) {
            if b.name == "CacheBehavior" {
                required_text(b, "PathPattern")?;
            }
            let target = required_text(b, "TargetOriginId")?;
            if !origin_ids.contains(&target) {
                return Err(ApiError::new(
                    404,
                    "NoSuchOrigin",
                    format!(
                        "The cache behaviour's TargetOriginId `{target}` is not the Id of any origin."
                    ),
                ));
            }
            required_text(b, "ViewerProtocolPolicy")?;
            if let Some(id) = b.child_text("ResponseHeadersPolicyId").map(str::trim)
                && !id.is_empty()
            {
                self.get_response_headers_policy(id)?;
            }
            if let Some(tkg) = b.child("TrustedKeyGroups") {
                self.check_trusted_key_groups(tkg)?;
            }
        }
        if let Some(items) = config.path(&["Aliases", "Items"]) {
            for alias in &items.children {
                let cname = alias.text.trim().to_ascii_lowercase();
                if let Some(other) = self.distributions.iter().find(|d| {
                    Some(d.id.as_str()) != except
                        && d.config.path(&["Aliases", "Items"]).is_some_and(|i| {
                            i.children
                                .iter()
                                .any(|a| a.text.trim().eq_ignore_ascii_case(&cname))
                        })
                }) {
                    return Err(ApiError::new(
                        409,
                        "CNAMEAlreadyExists",
                        format!(
                            "The alternate domain name `{cname}` is already used by distribution {}.",
                            other.id
                        ),
                    ));
                }
            }
        }
        normalise_distribution(&mut config);
        Ok(config)
    }

    /// A behaviour's `TrustedKeyGroups`: enabled with at least one and at most
    /// [`MAX_GROUPS_PER_BEHAVIOUR`] groups, each of which exists.
    fn check_trusted_key_groups(&self, tkg: &Element) -> Result<(), ApiError> {
        let enabled = parse_bool(tkg, "Enabled")?;
        let groups = tkg
            .child("Items")
            .map(|i| i.children.as_slice())
            .unwrap_or_default();
        if enabled && groups.is_empty() {
            return Err(ApiError::invalid_argument(
                "TrustedKeyGroups is enabled but lists no key group.",
            ));
        }
        if groups.len() > MAX_GROUPS_PER_BEHAVIOUR {
            return Err(ApiError::new(
                400,
                "TooManyKeyGroupsAssociatedToDistribution",
                format!(
                    "A cache behaviour can trust at most {MAX_GROUPS_PER_BEHAVIOUR} key groups; this one lists {}.",
                    groups.len()
                ),
            ));
        }
        for g in groups {
            let id = g.text.trim();
            if self.key_group(id).is_err() {
                return Err(ApiError::new(
                    400,
                    "TrustedKeyGroupDoesNotExist",
                    format!("One or more of your trusted key groups do not exist: {id}."),
                ));
            }
        }
        Ok(())
    }
}

/// An origin's numbers, in CloudFront's ranges: `ConnectionAttempts` 1–3, `ConnectionTimeout`
/// 1–10 s, `OriginReadTimeout` 1–120 s (the default quota; CloudFront can raise it to 180),
/// `OriginKeepaliveTimeout` 1–60 s (the default quota), ports 1–65535.
fn check_origin_numbers(origin: &Element) -> Result<(), ApiError> {
    let domain = origin.child_text("DomainName").unwrap_or_default().trim();
    let check = |path: &[&str], range: std::ops::RangeInclusive<u64>, code: &'static str| {
        let Some(e) = origin.path(path) else {
            return Ok(());
        };
        match e.text.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(()),
            _ => Err(ApiError::new(
                400,
                code,
                format!(
                    "{} of origin `{domain}` is `{}`; it must be a whole number from {} to {}.",
                    path.join("/"),
                    e.text.trim(),
                    range.start(),
                    range.end()
                ),
            )),
        }
    };
    check(&["ConnectionAttempts"], 1..=3, "InvalidArgument")?;
    check(&["ConnectionTimeout"], 1..=10, "InvalidArgument")?;
    check(
        &["CustomOriginConfig", "HTTPPort"],
        1..=65535,
        "InvalidArgument",
    )?;
    check(
        &["CustomOriginConfig", "HTTPSPort"],
        1..=65535,
        "InvalidArgument",
    )?;
    check(
        &["CustomOriginConfig", "OriginReadTimeout"],
        1..=120,
        "InvalidOriginReadTimeout",
    )?;
    check(
        &["S3OriginConfig", "OriginReadTimeout"],
        1..=120,
        "InvalidOriginReadTimeout",
    )?;
    check(
        &["CustomOriginConfig", "OriginKeepaliveTimeout"],
        1..=60,
        "InvalidOriginKeepaliveTimeout",
    )
}

/// `<name><Enabled>false</Enabled><Quantity>0</Quantity></name>`, CloudFront's empty list of a
/// feature that can be switched on.
pub(super) fn disabled_list(name: &str) -> Element {
    Element::node(
        name,
        vec![
            Element::text("Enabled", "false"),
            Element::text("Quantity", "0"),
        ],
    )
}

fn zero(name: &str) -> Element {
    Element::node(name, vec![Element::text("Quantity", "0")])
}

/// Adds the elements CloudFront fills in when a config omits them.
fn normalise_distribution(config: &mut Element) {
    let fill = |b: &mut Element| {
        for name in ["TrustedSigners", "TrustedKeyGroups"] {
            if b.child(name).is_none() {
                b.children.push(disabled_list(name));
            }
        }
    };
    if let Some(b) = config.child_mut("DefaultCacheBehavior") {
        fill(b);
    }
    if let Some(items) = config
        .child_mut("CacheBehaviors")
        .and_then(|c| c.child_mut("Items"))
    {
        items.children.iter_mut().for_each(fill);
    }
    let defaults: Vec<(&str, Element)> = vec![
        ("Aliases", zero("Aliases")),
        ("DefaultRootObject", Element::text("DefaultRootObject", "")),
        ("OriginGroups", zero("OriginGroups")),
        ("CacheBehaviors", zero("CacheBehaviors")),
        ("CustomErrorResponses", zero("CustomErrorResponses")),
        (
            "Logging",
            Element::node(
                "Logging",
                vec![
                    Element::text("Enabled", "false"),
                    Element::text("IncludeCookies", "false"),
                    Element::text("Bucket", ""),
                    Element::text("Prefix", ""),
                ],
            ),
        ),
        ("PriceClass", Element::text("PriceClass", "PriceClass_All")),
        (
            "ViewerCertificate",
            Element::node(
                "ViewerCertificate",
                vec![
                    Element::text("CloudFrontDefaultCertificate", "true"),
                    Element::text("SSLSupportMethod", "vip"),
                    Element::text("MinimumProtocolVersion", "TLSv1"),
                    Element::text("CertificateSource", "cloudfront"),
                ],
            ),
        ),
        (
            "Restrictions",
            Element::node(
                "Restrictions",
                vec![Element::node(
                    "GeoRestriction",
                    vec![
                        Element::text("RestrictionType", "none"),
                        Element::text("Quantity", "0"),
                    ],
                )],
            ),
        ),
        ("WebACLId", Element::text("WebACLId", "")),
        ("HttpVersion", Element::text("HttpVersion", "http2")),
        ("IsIPV6Enabled", Element::text("IsIPV6Enabled", "true")),
        ("Staging", Element::text("Staging", "false")),
    ];
    for (name, element) in defaults {
        if config.child(name).is_none() {
            config.children.push(element);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_checked_everywhere() {
        let ok =
            crate::xml::parse("<A><B><Quantity>1</Quantity><Items><X/></Items></B></A>").unwrap();
        assert!(check_quantities(&ok, "").is_ok());
        let bad =
            crate::xml::parse("<A><B><C><Quantity>2</Quantity><Items><X/></Items></C></B></A>")
                .unwrap();
        let err = check_quantities(&bad, "").unwrap_err();
        assert_eq!(err.code, "InconsistentQuantities");
        assert!(err.message.contains("A/B/C"), "{}", err.message);
    }
}
