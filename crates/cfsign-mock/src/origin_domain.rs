//! What an origin's `DomainName` says about the origin: an S3 bucket's REST endpoint (with its
//! bucket and region), a MediaStore container, a MediaPackage v2 endpoint, a Lambda function URL,
//! or anything else (a custom origin). Pure string rules, shared by the control plane's checks and
//! the edge.

use crate::model::OacOriginType;

/// An S3 bucket's REST endpoint, from a domain name like `media.s3.eu-west-1.amazonaws.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Bucket {
    /// The bucket name.
    pub(crate) bucket: String,
    /// The region the domain names (`us-east-1` for the legacy global `<bucket>.s3.amazonaws.com`).
    pub(crate) region: String,
}

/// The kind of origin a `DomainName` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OriginDomain {
    /// An S3 bucket's REST endpoint.
    S3(S3Bucket),
    /// Another AWS origin that an origin access control can sign for.
    Aws(OacOriginType),
    /// A custom (HTTP) origin, including S3 website endpoints.
    Custom,
}

impl OriginDomain {
    /// Classifies a domain name (case-insensitive, a trailing dot ignored).
    pub(crate) fn parse(domain: &str) -> OriginDomain {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(bucket) = s3_bucket(&domain) {
            return OriginDomain::S3(bucket);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let has = |label: &str| labels.contains(&label);
        if domain.ends_with(".amazonaws.com") && has("mediastore") {
            OriginDomain::Aws(OacOriginType::Mediastore)
        } else if domain.ends_with(".amazonaws.com") && has("mediapackagev2") {
            OriginDomain::Aws(OacOriginType::Mediapackagev2)
        } else if domain.ends_with(".on.aws") && has("lambda-url") {
            OriginDomain::Aws(OacOriginType::Lambda)
        } else {
            OriginDomain::Custom
        }
    }

    /// The origin access control type that fits this origin, if any.
    pub(crate) fn oac_type(&self) -> Option<OacOriginType> {
        match self {
            OriginDomain::S3(_) => Some(OacOriginType::S3),
            OriginDomain::Aws(t) => Some(*t),
            OriginDomain::Custom => None,
        }
    }
}

/// The bucket and region of an S3 REST endpoint: `<bucket>.s3.amazonaws.com`,
/// `<bucket>.s3.<region>.amazonaws.com`, `<bucket>.s3-<region>.amazonaws.com` and
/// `<bucket>.s3.dualstack.<region>.amazonaws.com`. Website endpoints (`s3-website…`) are custom
/// origins, not buckets.
fn s3_bucket(domain: &str) -> Option<S3Bucket> {
    let rest = domain.strip_suffix(".amazonaws.com")?;
    let (bucket, region) = if let Some(bucket) = rest.strip_suffix(".s3") {
        (bucket, "us-east-1")
    } else {
        let (head, last) = rest.rsplit_once('.')?;
        if let Some(region) = last.strip_prefix("s3-") {
            if region.starts_with("website") {
                return None;
            }
            let region = if region == "external-1" {
                "us-east-1"
            } else {
                region
            };
            (head, region)
        } else if let Some(bucket) = head.strip_suffix(".s3.dualstack") {
            (bucket, last)
        } else if let Some(bucket) = head.strip_suffix(".s3") {
            (bucket, last)
        } else {
            return None;
        }
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (valid_bucket(bucket) && region_ok).then(|| S3Bucket {
        bucket: bucket.to_owned(),
        region: region.to_owned(),
    })
}

/// S3's bucket naming rules: 3 to 63 lower-case letters, digits, dots and hyphens, beginning and
/// ending with a letter or digit.
fn valid_bucket(name: &str) -> bool {
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge_ok(name.bytes().next())
        && edge_ok(name.bytes().last())
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, region: &str) -> OriginDomain {
        OriginDomain::S3(S3Bucket {
            bucket: bucket.to_owned(),
            region: region.to_owned(),
        })
    }

    #[test]
    fn domains() {
        let check = |domain: &str, expected: OriginDomain| {
            assert_eq!(OriginDomain::parse(domain), expected, "{domain}");
        };
        check("media.s3.amazonaws.com", s3("media", "us-east-1"));
        check("Media.S3.AmazonAWS.com.", s3("media", "us-east-1"));
        check("media.s3.eu-west-1.amazonaws.com", s3("media", "eu-west-1"));
        check(
            "my.dotted.bucket.s3.eu-west-1.amazonaws.com",
            s3("my.dotted.bucket", "eu-west-1"),
        );
        check("media.s3-eu-west-1.amazonaws.com", s3("media", "eu-west-1"));
        check(
            "media.s3-external-1.amazonaws.com",
            s3("media", "us-east-1"),
        );
        check(
            "media.s3.dualstack.us-west-2.amazonaws.com",
            s3("media", "us-west-2"),
        );
        check(
            "media.s3-website-eu-west-1.amazonaws.com",
            OriginDomain::Custom,
        );
        check(
            "media.s3-website.eu-west-1.amazonaws.com",
            OriginDomain::Custom,
        );
        check("ab.s3.amazonaws.com", OriginDomain::Custom);
        check("Bad_Bucket.s3.amazonaws.com", OriginDomain::Custom);
        check("-media.s3.amazonaws.com", OriginDomain::Custom);
        check("s3.amazonaws.com", OriginDomain::Custom);
        check("example.com", OriginDomain::Custom);
        check("127.0.0.1", OriginDomain::Custom);
        check(
            "abc.data.mediastore.us-east-1.amazonaws.com",
            OriginDomain::Aws(OacOriginType::Mediastore),
        );
        check(
            "abc.egress.xyz.mediapackagev2.us-east-1.amazonaws.com",
            OriginDomain::Aws(OacOriginType::Mediapackagev2),
        );
        check(
            "abcdef.lambda-url.us-east-1.on.aws",
            OriginDomain::Aws(OacOriginType::Lambda),
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(domain in "\\PC{0,80}") {
            let _ = OriginDomain::parse(&domain);
        }
    }
}
