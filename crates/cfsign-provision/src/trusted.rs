//! Which key groups a distribution's cache behaviours trust: the edit of `TrustedKeyGroups` in a
//! `DistributionConfig` (touching nothing else), and the plan step that attaches or detaches a
//! key group.

use aws_sdk_cloudfront::types::{DistributionConfig, TrustedKeyGroups};

use crate::Error;
use crate::api::DistributionRead;
use crate::edits::TrustEdit;
use crate::options::Behaviors;
use crate::plan::{Change, Plan};
use crate::refs::{GroupRef, Made};
use crate::report::{BehaviorChange, Step, StepStatus};

/// CloudFront's quota of key groups per cache behaviour.
pub const MAX_KEY_GROUPS_PER_BEHAVIOR: usize = 4;

/// Plans `edit` of `group` on the chosen behaviours of the distribution that was read: a step
/// that is in place when every behaviour is already as wanted.
pub(crate) fn plan_trust(
    plan: &mut Plan,
    action: &'static str,
    distribution: DistributionRead,
    behaviors: &Behaviors,
    group: GroupRef,
    edit: TrustEdit,
) -> Result<(), Error> {
    let label = group.label(&Made::default());
    let preview = edit_trusted_groups(
        &mut distribution.config.clone(),
        &distribution.id,
        behaviors,
        &label,
        edit,
    )?;
    if preview.iter().any(BehaviorChange::changes) {
        plan.change(
            action,
            Change::UpdateDistribution {
                distribution: Box::new(distribution),
                behaviors: behaviors.clone(),
                group,
                edit,
                preview,
            },
        );
    } else {
        let mut step = Step::new(
            action,
            StepStatus::Unchanged,
            format!(
                "key group {label} on distribution {}: already as wanted",
                distribution.id
            ),
        );
        step.behaviors = preview;
        plan.in_place_step(step);
    }
    Ok(())
}

/// The key group IDs a behaviour trusts (none when disabled).
pub(crate) fn trusted_ids(tkg: Option<&TrustedKeyGroups>) -> Vec<String> {
    match tkg {
        Some(t) if t.enabled => t.items().to_vec(),
        _ => Vec::new(),
    }
}

fn new_trusted(ids: Vec<String>) -> Result<TrustedKeyGroups, Error> {
    let quantity = i32::try_from(ids.len()).unwrap_or(i32::MAX);
    TrustedKeyGroups::builder()
        .enabled(!ids.is_empty())
        .quantity(quantity)
        .set_items((!ids.is_empty()).then_some(ids))
        .build()
        .map_err(|e| Error::Usage(format!("cannot build TrustedKeyGroups: {e}")))
}

/// Changes one behaviour's trusted key groups; returns the change and the new value (or `None`
/// when it is unchanged).
fn change_behavior(
    path_pattern: &str,
    default_behavior: bool,
    current: Option<&TrustedKeyGroups>,
    group_id: &str,
    edit: TrustEdit,
) -> Result<(BehaviorChange, Option<TrustedKeyGroups>), Error> {
    let before = trusted_ids(current);
    let mut after = before.clone();
    match edit {
        TrustEdit::Attach => {
            if !after.iter().any(|g| g == group_id) {
                after.push(group_id.to_owned());
            }
        }
        TrustEdit::Detach => after.retain(|g| g != group_id),
    }
    if after.len() > MAX_KEY_GROUPS_PER_BEHAVIOR {
        return Err(Error::TooManyKeyGroupsOnBehavior {
            detail: format!(
                "{} already trusts [{}]",
                if default_behavior {
                    "the default behaviour".to_owned()
                } else {
                    format!("behaviour {path_pattern}")
                },
                before.join(", ")
            ),
        });
    }
    let new = if after == before {
        None
    } else {
        Some(new_trusted(after.clone())?)
    };
    Ok((
        BehaviorChange {
            path_pattern: path_pattern.to_owned(),
            default_behavior,
            before,
            after,
        },
        new,
    ))
}

/// Adds or removes the key group on the chosen behaviours of `config`, touching nothing else,
/// and returns each chosen behaviour's before and after.
pub(crate) fn edit_trusted_groups(
    config: &mut DistributionConfig,
    distribution_id: &str,
    behaviors: &Behaviors,
    group_id: &str,
    edit: TrustEdit,
) -> Result<Vec<BehaviorChange>, Error> {
    let mut changes = Vec::new();
    match behaviors {
        Behaviors::Default => {
            let Some(b) = config.default_cache_behavior.as_mut() else {
                return Err(Error::Usage(format!(
                    "distribution {distribution_id} has no default cache behaviour in its config"
                )));
            };
            let (change, new) =
                change_behavior("*", true, b.trusted_key_groups.as_ref(), group_id, edit)?;
            if new.is_some() {
                b.trusted_key_groups = new;
            }
            changes.push(change);
        }
        Behaviors::PathPatterns(patterns) => {
            let items = config
                .cache_behaviors
                .as_mut()
                .and_then(|c| c.items.as_mut());
            let existing: Vec<String> = items
                .as_ref()
                .map(|i| i.iter().map(|b| b.path_pattern.clone()).collect())
                .unwrap_or_default();
            if let Some(missing) = patterns.iter().find(|p| !existing.contains(p)) {
                return Err(Error::UnknownPathPattern {
                    distribution_id: distribution_id.to_owned(),
                    pattern: missing.clone(),
                    existing: if existing.is_empty() {
                        "only the default behaviour".to_owned()
                    } else {
                        existing.join(", ")
                    },
                });
            }
            for b in items.into_iter().flatten() {
                if !patterns.contains(&b.path_pattern) {
                    continue;
                }
                let (change, new) = change_behavior(
                    &b.path_pattern,
                    false,
                    b.trusted_key_groups.as_ref(),
                    group_id,
                    edit,
                )?;
                if new.is_some() {
                    b.trusted_key_groups = new;
                }
                changes.push(change);
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudfront::types::{
        CacheBehavior, CacheBehaviors, DefaultCacheBehavior, ViewerProtocolPolicy,
    };

    use super::*;

    fn tkg(ids: &[&str]) -> Option<TrustedKeyGroups> {
        Some(new_trusted(ids.iter().map(|s| s.to_string()).collect()).unwrap())
    }

    fn config(default: &[&str], behaviors: &[(&str, &[&str])]) -> DistributionConfig {
        let items: Vec<CacheBehavior> = behaviors
            .iter()
            .map(|(p, ids)| {
                CacheBehavior::builder()
                    .path_pattern(*p)
                    .target_origin_id("o")
                    .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                    .set_trusted_key_groups(tkg(ids))
                    .build()
                    .unwrap()
            })
            .collect();
        DistributionConfig::builder()
            .caller_reference("r")
            .comment("")
            .enabled(true)
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("o")
                    .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                    .set_trusted_key_groups(tkg(default))
                    .build()
                    .unwrap(),
            )
            .cache_behaviors(
                CacheBehaviors::builder()
                    .quantity(items.len() as i32)
                    .set_items(Some(items))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    /// Applies the change and returns (before, after) per chosen behaviour, plus every
    /// behaviour's trusted IDs afterwards (default first).
    fn check(
        cfg: DistributionConfig,
        target: Behaviors,
        group: &str,
        edit: TrustEdit,
        expected_changes: &[(&[&str], &[&str])],
        expected_all: &[&[&str]],
    ) {
        let mut cfg = cfg;
        let changes = edit_trusted_groups(&mut cfg, "D", &target, group, edit).unwrap();
        let got: Vec<(Vec<String>, Vec<String>)> =
            changes.into_iter().map(|c| (c.before, c.after)).collect();
        let want: Vec<(Vec<String>, Vec<String>)> = expected_changes
            .iter()
            .map(|(b, a)| {
                (
                    b.iter().map(|s| s.to_string()).collect(),
                    a.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(got, want);
        let mut all = vec![trusted_ids(
            cfg.default_cache_behavior
                .as_ref()
                .unwrap()
                .trusted_key_groups
                .as_ref(),
        )];
        for b in cfg.cache_behaviors.unwrap().items.unwrap() {
            let t = b.trusted_key_groups.as_ref();
            if let Some(t) = t {
                assert_eq!(
                    t.quantity as usize,
                    t.items().len(),
                    "Quantity matches Items"
                );
            }
            all.push(trusted_ids(t));
        }
        let want_all: Vec<Vec<String>> = expected_all
            .iter()
            .map(|ids| ids.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(all, want_all);
    }

    #[test]
    fn attach_and_detach_touch_only_the_chosen_behaviours() {
        use TrustEdit::{Attach, Detach};
        let pats = |p: &[&str]| Behaviors::PathPatterns(p.iter().map(|s| s.to_string()).collect());
        check(
            config(&[], &[("/a/*", &[]), ("/b/*", &["X"])]),
            Behaviors::Default,
            "G",
            Attach,
            &[(&[], &["G"])],
            &[&["G"], &[], &["X"]],
        );
        check(
            config(&[], &[("/a/*", &[]), ("/b/*", &["X"])]),
            pats(&["/b/*"]),
            "G",
            Attach,
            &[(&["X"], &["X", "G"])],
            &[&[], &[], &["X", "G"]],
        );
        check(
            config(&["G"], &[("/a/*", &["G"])]),
            pats(&["/a/*"]),
            "G",
            Attach,
            &[(&["G"], &["G"])],
            &[&["G"], &["G"]],
        );
        check(
            config(&["G", "X"], &[("/a/*", &["G"])]),
            Behaviors::Default,
            "G",
            Detach,
            &[(&["G", "X"], &["X"])],
            &[&["X"], &["G"]],
        );
        check(
            config(&[], &[("/a/*", &["G"]), ("/b/*", &["G"])]),
            pats(&["/a/*", "/b/*"]),
            "G",
            Detach,
            &[(&["G"], &[]), (&["G"], &[])],
            &[&[], &[], &[]],
        );
        check(
            config(&[], &[("/a/*", &[])]),
            pats(&["/a/*"]),
            "G",
            Detach,
            &[(&[], &[])],
            &[&[], &[]],
        );
    }

    #[test]
    fn errors_on_unknown_patterns_and_quota() {
        let mut cfg = config(&["A", "B", "C", "D"], &[("/a/*", &[])]);
        let err = edit_trusted_groups(&mut cfg, "D1", &Behaviors::Default, "E", TrustEdit::Attach)
            .unwrap_err();
        assert!(
            matches!(err, Error::TooManyKeyGroupsOnBehavior { .. }),
            "{err}"
        );
        let err = edit_trusted_groups(
            &mut cfg,
            "D1",
            &Behaviors::PathPatterns(vec!["/z".into()]),
            "E",
            TrustEdit::Attach,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`/z`") && err.to_string().contains("/a/*"),
            "{err}"
        );
    }
}
