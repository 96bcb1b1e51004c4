//! The checks of `doctor` that need nothing but what was read: per behaviour who is trusted,
//! missing key groups and keys, legacy trusted signers, quotas, shadowed patterns, paths
//! expected to be private, a disabled or deploying distribution. Pure: unit-tested on facts.

use cfsign::PublicKey;

use crate::doctor::patterns::{covers, path_matches, sample_path};
use crate::doctor::report::{DoctorBehavior, DoctorGroup, DoctorKey, Problem, Severity};
use crate::{MAX_KEY_GROUPS_PER_BEHAVIOR, MAX_KEYS_PER_GROUP};

/// CloudFront's default quota of key groups per AWS account (Developer Guide, "Quotas on key
/// groups"; adjustable).
pub(crate) const MAX_KEY_GROUPS_PER_ACCOUNT: usize = 10;
/// CloudFront's default quota of cache behaviours per distribution (Developer Guide, "General
/// quotas on distributions"; adjustable, so near it is only a warning).
pub(crate) const MAX_CACHE_BEHAVIORS: usize = 25;

/// What `doctor` read about a distribution and the account's keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub(crate) status: String,
    pub(crate) enabled: bool,
    /// In CloudFront's order: the ordered cache behaviours, then the default (pattern `None`).
    pub(crate) behaviours: Vec<BehaviourFacts>,
    pub(crate) groups: Vec<GroupFacts>,
    pub(crate) keys: Vec<KeyFacts>,
}

/// A cache behaviour as configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct BehaviourFacts {
    /// `None` for the default behaviour.
    pub(crate) pattern: Option<String>,
    pub(crate) key_group_ids: Vec<String>,
    pub(crate) trusted_signers: bool,
}

/// A key group as listed.
#[derive(Debug, Clone)]
pub(crate) struct GroupFacts {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) key_ids: Vec<String>,
}

/// A public key as listed.
#[derive(Debug, Clone)]
pub(crate) struct KeyFacts {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) encoded_key: String,
    pub(crate) created: Option<String>,
}

impl BehaviourFacts {
    /// The pattern as people read it: `*` for the default behaviour.
    pub(crate) fn label(&self) -> &str {
        self.pattern.as_deref().unwrap_or("*")
    }

    /// Whether viewers need a signature here.
    pub(crate) fn restricted(&self) -> bool {
        !self.key_group_ids.is_empty() || self.trusted_signers
    }
}

impl Facts {
    /// The behaviour CloudFront picks for `path`: the first ordered one whose pattern matches,
    /// else the default.
    pub(crate) fn behaviour_for(&self, path: &str) -> Option<&BehaviourFacts> {
        self.behaviours
            .iter()
            .find(|b| b.pattern.as_deref().is_none_or(|p| path_matches(p, path)))
    }

    /// The key IDs a behaviour trusts (through its existing key groups).
    pub(crate) fn trusted_key_ids(&self, b: &BehaviourFacts) -> Vec<&str> {
        b.key_group_ids
            .iter()
            .filter_map(|gid| self.groups.iter().find(|g| &g.id == gid))
            .flat_map(|g| g.key_ids.iter().map(String::as_str))
            .collect()
    }
}

/// The SHA-256 of a public key's SubjectPublicKeyInfo DER, hex.
pub(crate) fn fingerprint(key: &PublicKey) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(key.to_der())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The behaviours with their groups and keys, in CloudFront's order.
pub(crate) fn describe(facts: &Facts) -> Vec<DoctorBehavior> {
    facts
        .behaviours
        .iter()
        .enumerate()
        .map(|(i, b)| DoctorBehavior {
            order: i + 1,
            path_pattern: b.label().to_owned(),
            default_behavior: b.pattern.is_none(),
            restricted: b.restricted(),
            legacy_trusted_signers: b.trusted_signers,
            key_groups: b
                .key_group_ids
                .iter()
                .map(|gid| {
                    let group = facts.groups.iter().find(|g| &g.id == gid);
                    DoctorGroup {
                        id: gid.clone(),
                        name: group.map(|g| g.name.clone()),
                        exists: group.is_some(),
                        keys: group
                            .map(|g| g.key_ids.iter().map(|k| describe_key(facts, k)).collect())
                            .unwrap_or_default(),
                    }
                })
                .collect(),
            accepts_key: None,
        })
        .collect()
}

fn describe_key(facts: &Facts, id: &str) -> DoctorKey {
    let key = facts.keys.iter().find(|k| k.id == id);
    let parsed = key.and_then(|k| PublicKey::from_pem(&k.encoded_key).ok());
    DoctorKey {
        id: id.to_owned(),
        name: key.map(|k| k.name.clone()),
        algorithm: parsed.as_ref().map(|p| p.algorithm().to_string()),
        created: key.and_then(|k| k.created.clone()),
        fingerprint: parsed.as_ref().map(fingerprint),
    }
}

/// Every problem visible in the configuration alone.
pub(crate) fn config_problems(facts: &Facts, expect_private: &[String]) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut push = |severity, code, behavior: Option<&str>, message: String| {
        out.push(Problem {
            severity,
            code,
            behavior: behavior.map(str::to_owned),
            message,
        });
    };
    if !facts.enabled {
        push(
            Severity::Error,
            "distribution_disabled",
            None,
            "the distribution is disabled: CloudFront answers every request with 403. Enable it in the console or with `aws cloudfront update-distribution` (Enabled=true)".to_owned(),
        );
    }
    if facts.status != "Deployed" {
        push(
            Severity::Warning,
            "deploying",
            None,
            format!(
                "the distribution's status is `{}`, not `Deployed`: the latest change is not live at every edge location yet, so answers may still follow the old configuration. Wait (usually minutes) and run doctor again",
                facts.status
            ),
        );
    }
    if facts.behaviours.len() >= MAX_CACHE_BEHAVIORS {
        push(
            Severity::Warning,
            "quota_cache_behaviors",
            None,
            format!(
                "{} cache behaviours: at or above CloudFront's default quota of {MAX_CACHE_BEHAVIORS} per distribution; adding one needs a quota increase",
                facts.behaviours.len()
            ),
        );
    }
    if facts.groups.len() >= MAX_KEY_GROUPS_PER_ACCOUNT {
        push(
            Severity::Warning,
            "quota_key_groups",
            None,
            format!(
                "the account has {} key groups: CloudFront's default quota is {MAX_KEY_GROUPS_PER_ACCOUNT} per account; creating another needs a quota increase or deleting an unused group",
                facts.groups.len()
            ),
        );
    }
    for g in &facts.groups {
        let used = facts
            .behaviours
            .iter()
            .any(|b| b.key_group_ids.contains(&g.id));
        if used && g.key_ids.len() >= MAX_KEYS_PER_GROUP {
            push(
                Severity::Warning,
                "quota_keys_per_group",
                None,
                format!(
                    "key group {} ({}) holds {} public keys, CloudFront's limit of {MAX_KEYS_PER_GROUP}: a rotation cannot add a key until one is retired (`cfsign-provision rotate --key-group {} --retire OLD_ID`)",
                    g.name,
                    g.id,
                    g.key_ids.len(),
                    g.id
                ),
            );
        }
    }
    for b in &facts.behaviours {
        let label = Some(b.label());
        for gid in &b.key_group_ids {
            match facts.groups.iter().find(|g| &g.id == gid) {
                None => push(
                    Severity::Error,
                    "missing_key_group",
                    label,
                    format!(
                        "trusts key group {gid}, which does not exist: signatures cannot be verified against it. Attach an existing group (`cfsign-provision attach`) or create one (`cfsign-provision setup`)"
                    ),
                ),
                Some(g) => {
                    for kid in &g.key_ids {
                        if !facts.keys.iter().any(|k| &k.id == kid) {
                            push(
                                Severity::Warning,
                                "missing_public_key",
                                label,
                                format!(
                                    "key group {} ({gid}) lists public key {kid}, which does not exist",
                                    g.name
                                ),
                            );
                        }
                    }
                }
            }
        }
        if b.key_group_ids.len() >= MAX_KEY_GROUPS_PER_BEHAVIOR {
            push(
                Severity::Warning,
                "quota_key_groups_per_behavior",
                label,
                format!(
                    "trusts {} key groups, CloudFront's limit of {MAX_KEY_GROUPS_PER_BEHAVIOR}: another group cannot be attached; add keys to an existing group instead",
                    b.key_group_ids.len()
                ),
            );
        }
        if b.trusted_signers {
            push(
                Severity::Warning,
                "legacy_trusted_signers",
                label,
                if b.key_group_ids.is_empty() {
                    "restricted by legacy TrustedSigners (CloudFront key pairs of the root account), which AWS recommends replacing: create a key group (`cfsign-provision setup`) and trust it instead".to_owned()
                } else {
                    "trusts legacy TrustedSigners beside key groups: root-account key pairs still sign for this behaviour; disable TrustedSigners once every signer uses the key group".to_owned()
                },
            );
        }
    }
    shadowed(facts, &mut out);
    for pattern in expect_private {
        let sample = sample_path(pattern);
        let Some(b) = facts.behaviour_for(&sample) else {
            continue;
        };
        if !b.restricted() {
            out.push(Problem {
                severity: Severity::Error,
                code: "expected_private_is_public",
                behavior: Some(b.label().to_owned()),
                message: format!(
                    "`{pattern}` should be private, but a path like {sample} lands on cache behaviour `{}`, which needs no signature: restrict that behaviour (`cfsign-provision attach --key-group G {}`) or add a restricted behaviour for `{pattern}` before it",
                    b.label(),
                    match &b.pattern {
                        Some(p) => format!("--path-pattern '{p}'"),
                        None => "--default-behavior".to_owned(),
                    }
                ),
            });
        }
    }
    out
}

/// Behaviours that an earlier, more general pattern hides: CloudFront never reaches them.
fn shadowed(facts: &Facts, out: &mut Vec<Problem>) {
    for (i, b) in facts.behaviours.iter().enumerate() {
        let Some(pattern) = &b.pattern else { continue };
        let Some(earlier) = facts.behaviours[..i]
            .iter()
            .find(|e| e.pattern.as_deref().is_some_and(|p| covers(p, pattern)))
        else {
            continue;
        };
        let earlier_label = earlier.label();
        let exposed = b.restricted() && !earlier.restricted();
        out.push(Problem {
            severity: if exposed { Severity::Error } else { Severity::Warning },
            code: "shadowed_behavior",
            behavior: Some(pattern.clone()),
            message: if exposed {
                format!(
                    "never used: the earlier behaviour `{earlier_label}` matches every path it matches, and `{earlier_label}` is public, so these paths are served WITHOUT a signature. Move `{pattern}` before `{earlier_label}`"
                )
            } else {
                format!(
                    "never used: the earlier behaviour `{earlier_label}` matches every path it matches. Move it before `{earlier_label}` or delete it"
                )
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behaviour(pattern: Option<&str>, groups: &[&str]) -> BehaviourFacts {
        BehaviourFacts {
            pattern: pattern.map(str::to_owned),
            key_group_ids: groups.iter().map(|s| (*s).to_owned()).collect(),
            trusted_signers: false,
        }
    }

    fn healthy() -> Facts {
        Facts {
            status: "Deployed".to_owned(),
            enabled: true,
            behaviours: vec![behaviour(Some("/private/*"), &["G1"]), behaviour(None, &[])],
            groups: vec![GroupFacts {
                id: "G1".to_owned(),
                name: "g".to_owned(),
                key_ids: vec!["K1".to_owned()],
            }],
            keys: vec![KeyFacts {
                id: "K1".to_owned(),
                name: "k".to_owned(),
                encoded_key: String::new(),
                created: None,
            }],
        }
    }

    fn codes(
        facts: &Facts,
        expect_private: &[&str],
    ) -> Vec<(&'static str, Option<String>, Severity)> {
        let expect: Vec<String> = expect_private.iter().map(|s| (*s).to_owned()).collect();
        config_problems(facts, &expect)
            .into_iter()
            .map(|p| (p.code, p.behavior, p.severity))
            .collect()
    }

    #[test]
    fn a_healthy_distribution_has_no_problem() {
        assert_eq!(
            codes(&healthy(), &["private/*", "/private/videos/*"]),
            vec![]
        );
    }

    #[test]
    fn each_problem_is_found() {
        let mut f = healthy();
        f.enabled = false;
        f.status = "InProgress".to_owned();
        assert_eq!(
            codes(&f, &[]),
            vec![
                ("distribution_disabled", None, Severity::Error),
                ("deploying", None, Severity::Warning)
            ]
        );
        let mut f = healthy();
        f.behaviours[0].key_group_ids.push("G404".to_owned());
        assert_eq!(
            codes(&f, &[]),
            vec![(
                "missing_key_group",
                Some("/private/*".to_owned()),
                Severity::Error
            )]
        );
        let mut f = healthy();
        f.behaviours[0].trusted_signers = true;
        assert_eq!(codes(&f, &[])[0].0, "legacy_trusted_signers");
        let mut f = healthy();
        f.groups[0].key_ids = (1..=5).map(|i| format!("K{i}")).collect();
        let c = codes(&f, &[]);
        assert!(c.iter().any(|p| p.0 == "quota_keys_per_group"), "{c:?}");
        let mut f = healthy();
        f.behaviours[0].key_group_ids = vec!["G1".into(); 4];
        assert!(
            codes(&f, &[])
                .iter()
                .any(|p| p.0 == "quota_key_groups_per_behavior")
        );
        // A public `/private*` before the restricted `/private/*` exposes it.
        let mut f = healthy();
        f.behaviours.insert(0, behaviour(Some("/private*"), &[]));
        assert_eq!(
            codes(&f, &[]),
            vec![(
                "shadowed_behavior",
                Some("/private/*".to_owned()),
                Severity::Error
            )]
        );
        // Two restricted behaviours: only a warning.
        let mut f = healthy();
        f.behaviours.insert(0, behaviour(Some("*"), &["G1"]));
        assert_eq!(
            codes(&f, &[]),
            vec![(
                "shadowed_behavior",
                Some("/private/*".to_owned()),
                Severity::Warning
            )]
        );
        // Expected-private paths on the public default behaviour.
        assert_eq!(
            codes(&healthy(), &["/media/*"]),
            vec![(
                "expected_private_is_public",
                Some("*".to_owned()),
                Severity::Error
            )]
        );
    }
}
