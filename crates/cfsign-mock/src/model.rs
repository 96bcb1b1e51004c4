//! The control plane's data model: public keys, key groups, origin access controls, response
//! headers policies, distributions and their tags, as they are stored and saved, with the read-only queries the
//! control plane and the edge share.

use serde::{Deserialize, Serialize};

use crate::xml::Element;

/// Everything the control plane stores.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Store {
    /// Public keys, in creation order.
    #[serde(default)]
    pub(crate) public_keys: Vec<PublicKeyRec>,
    /// Key groups, in creation order.
    #[serde(default)]
    pub(crate) key_groups: Vec<KeyGroupRec>,
    /// Distributions, in creation order.
    #[serde(default)]
    pub(crate) distributions: Vec<DistributionRec>,
    /// Origin access controls, in creation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) origin_access_controls: Vec<OriginAccessControlRec>,
    /// Custom response headers policies, in creation order (the managed ones are not stored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) response_headers_policies: Vec<ResponseHeadersPolicyRec>,
}

/// A saved custom response headers policy; `config` is the `ResponseHeadersPolicyConfig` as sent
/// (checked by `HeadersPolicy::parse` in `ops/headers_policy.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ResponseHeadersPolicyRec {
    /// The ID, a UUID.
    pub(crate) id: String,
    /// The current ETag.
    pub(crate) etag: String,
    /// `LastModifiedTime`, in milliseconds since the Unix epoch.
    pub(crate) last_modified_ms: u64,
    /// The `Name` (unique in the account, managed names included).
    pub(crate) name: String,
    /// The `ResponseHeadersPolicyConfig`.
    pub(crate) config: Element,
}

/// A saved public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PublicKeyRec {
    /// The ID, like `K2JCJMDEHXQW5F` (the `Key-Pair-Id` of signatures made with its private key).
    pub(crate) id: String,
    /// The current ETag.
    pub(crate) etag: String,
    /// `CreatedTime`, in milliseconds since the Unix epoch.
    pub(crate) created_ms: u64,
    /// The `CallerReference` it was created with (it never changes).
    pub(crate) caller_reference: String,
    /// The `Name`.
    pub(crate) name: String,
    /// The `EncodedKey`: an SPKI PEM, as sent (it never changes).
    pub(crate) encoded_key: String,
    /// The `Comment`, absent when the request had none.
    pub(crate) comment: Option<String>,
}

/// A saved key group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyGroupRec {
    /// The ID, a UUID.
    pub(crate) id: String,
    /// The current ETag.
    pub(crate) etag: String,
    /// `LastModifiedTime`, in milliseconds since the Unix epoch.
    pub(crate) last_modified_ms: u64,
    /// The `Name`.
    pub(crate) name: String,
    /// The IDs of its public keys, in the order sent.
    pub(crate) items: Vec<String>,
    /// The `Comment`, absent when the request had none.
    pub(crate) comment: Option<String>,
}

/// A saved origin access control.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OriginAccessControlRec {
    /// The ID, like `E2QWRUHAPOMQZL`.
    pub(crate) id: String,
    /// The current ETag.
    pub(crate) etag: String,
    /// The `Name` (unique in the account).
    pub(crate) name: String,
    /// The `Description`, absent when the request had none.
    pub(crate) description: Option<String>,
    /// `SigningBehavior`: which origin requests are signed.
    pub(crate) signing_behavior: SigningBehavior,
    /// `OriginAccessControlOriginType`: the kind of origin it is for.
    pub(crate) origin_type: OacOriginType,
}

/// An OAC's `SigningBehavior` (its `SigningProtocol` is always `sigv4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SigningBehavior {
    /// `never`: origin requests are not signed.
    Never,
    /// `always`: every origin request is signed (a viewer's `Authorization` is replaced).
    Always,
    /// `no-override`: signed unless the viewer sent an `Authorization` header, which is passed on.
    NoOverride,
}

impl SigningBehavior {
    /// The API's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SigningBehavior::Never => "never",
            SigningBehavior::Always => "always",
            SigningBehavior::NoOverride => "no-override",
        }
    }

    /// Parses the API's spelling.
    pub(crate) fn parse(text: &str) -> Option<SigningBehavior> {
        [
            SigningBehavior::Never,
            SigningBehavior::Always,
            SigningBehavior::NoOverride,
        ]
        .into_iter()
        .find(|b| b.as_str() == text)
    }
}

/// An OAC's `OriginAccessControlOriginType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OacOriginType {
    /// An S3 bucket.
    S3,
    /// An AWS Elemental MediaStore container.
    Mediastore,
    /// An AWS Elemental MediaPackage v2 endpoint.
    Mediapackagev2,
    /// A Lambda function URL.
    Lambda,
}

impl OacOriginType {
    /// The API's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OacOriginType::S3 => "s3",
            OacOriginType::Mediastore => "mediastore",
            OacOriginType::Mediapackagev2 => "mediapackagev2",
            OacOriginType::Lambda => "lambda",
        }
    }

    /// Parses the API's spelling.
    pub(crate) fn parse(text: &str) -> Option<OacOriginType> {
        [
            OacOriginType::S3,
            OacOriginType::Mediastore,
            OacOriginType::Mediapackagev2,
            OacOriginType::Lambda,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

/// A saved distribution; `config` is the normalised `DistributionConfig` as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DistributionRec {
    /// The ID, like `E2QWRUHAPOMQZL`.
    pub(crate) id: String,
    /// The current ETag.
    pub(crate) etag: String,
    /// `LastModifiedTime`, in milliseconds since the Unix epoch.
    pub(crate) last_modified_ms: u64,
    /// The domain name, like `d1234abcd.cloudfront.net`.
    pub(crate) domain: String,
    /// The `DistributionConfig`, with the elements CloudFront fills in added.
    pub(crate) config: Element,
    /// Resource tags (`TagResource`, `CreateDistributionWithTags`); they are not part of the
    /// config, so changing them keeps the ETag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<Tag>,
}

/// One tag as stored: a key and an optional value (kept absent when the request omitted it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tag {
    /// The tag key.
    pub(crate) key: String,
    /// The tag value, absent when the request had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<String>,
}

impl DistributionRec {
    /// Whether the distribution is enabled (`Enabled` is `true`).
    pub(crate) fn enabled(&self) -> bool {
        self.config.child_text("Enabled") == Some("true")
    }

    /// Every cache behaviour (default first, then the ordered ones).
    pub(crate) fn behaviours(&self) -> Vec<&Element> {
        behaviours(&self.config)
    }

    /// The origins of the config (`Origins/Items/Origin`).
    pub(crate) fn origins(&self) -> &[Element] {
        origins(&self.config)
    }

    /// Whether any origin uses the origin access control `oac_id`.
    pub(crate) fn uses_origin_access_control(&self, oac_id: &str) -> bool {
        self.origins()
            .iter()
            .any(|o| o.child_text("OriginAccessControlId").map(str::trim) == Some(oac_id))
    }

    /// Whether any cache behaviour uses the response headers policy `policy_id`.
    pub(crate) fn uses_response_headers_policy(&self, policy_id: &str) -> bool {
        self.behaviours()
            .iter()
            .any(|b| b.child_text("ResponseHeadersPolicyId").map(str::trim) == Some(policy_id))
    }

    /// The key group IDs trusted anywhere in the distribution, without repeats, in order.
    pub(crate) fn key_group_ids(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for b in self.behaviours() {
            for id in trusted_key_groups(b) {
                if !seen.contains(&id) {
                    seen.push(id);
                }
            }
        }
        seen
    }
}

/// The origins of a `DistributionConfig` (`Origins/Items/Origin`).
pub(crate) fn origins(config: &Element) -> &[Element] {
    config
        .path(&["Origins", "Items"])
        .map(|i| i.children.as_slice())
        .unwrap_or_default()
}

/// The default behaviour then the ordered cache behaviours of a `DistributionConfig`.
pub(crate) fn behaviours(config: &Element) -> Vec<&Element> {
    let mut out = Vec::new();
    if let Some(d) = config.child("DefaultCacheBehavior") {
        out.push(d);
    }
    if let Some(items) = config.path(&["CacheBehaviors", "Items"]) {
        out.extend(items.children.iter().filter(|c| c.name == "CacheBehavior"));
    }
    out
}

/// The key group IDs a behaviour trusts (empty if TrustedKeyGroups is absent or disabled).
pub(crate) fn trusted_key_groups(behaviour: &Element) -> Vec<String> {
    let Some(tkg) = behaviour.child("TrustedKeyGroups") else {
        return Vec::new();
    };
    if tkg.child_text("Enabled").map(str::trim) != Some("true") {
        return Vec::new();
    }
    tkg.child("Items")
        .map(|items| {
            items
                .children
                .iter()
                .map(|c| c.text.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}
