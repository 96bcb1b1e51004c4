//! `status`: per cache behaviour of a distribution, which key groups and key IDs are trusted.
//! It only reads.

use aws_sdk_cloudfront::types::TrustedKeyGroups;

use crate::report::{BehaviorStatus, StatusReport, TrustedGroup};
use crate::trusted::trusted_ids;
use crate::{Error, Provisioner};

impl Provisioner {
    /// `status`: per behaviour, which key groups and key IDs are trusted.
    pub async fn status(&self, distribution_id: &str) -> Result<StatusReport, Error> {
        let (dist, etag) = self.get_distribution(distribution_id).await?;
        let groups = self.list_key_groups().await?;
        let active: Vec<(String, Vec<String>)> = dist
            .active_trusted_key_groups
            .and_then(|a| a.items)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|kg| {
                let ids = kg.key_pair_ids.and_then(|k| k.items).unwrap_or_default();
                kg.key_group_id.map(|id| (id, ids))
            })
            .collect();
        let describe = |tkg: Option<&TrustedKeyGroups>| -> Vec<TrustedGroup> {
            trusted_ids(tkg)
                .into_iter()
                .map(|id| {
                    let listed = groups.iter().find(|g| g.id == id);
                    let key_ids = match listed {
                        Some(g) => g.key_ids.clone(),
                        None => active
                            .iter()
                            .find(|(gid, _)| *gid == id)
                            .map(|(_, ids)| ids.clone())
                            .unwrap_or_default(),
                    };
                    TrustedGroup {
                        name: listed.map(|g| g.name.clone()),
                        id,
                        key_ids,
                    }
                })
                .collect()
        };
        let mut behaviors = Vec::new();
        if let Some(config) = &dist.distribution_config {
            if let Some(b) = &config.default_cache_behavior {
                let key_groups = describe(b.trusted_key_groups.as_ref());
                behaviors.push(BehaviorStatus {
                    path_pattern: "*".to_owned(),
                    default_behavior: true,
                    restricted: !key_groups.is_empty(),
                    key_groups,
                    legacy_trusted_signers: b.trusted_signers.as_ref().is_some_and(|t| t.enabled),
                });
            }
            for b in config
                .cache_behaviors
                .as_ref()
                .and_then(|c| c.items.as_ref())
                .into_iter()
                .flatten()
            {
                let key_groups = describe(b.trusted_key_groups.as_ref());
                behaviors.push(BehaviorStatus {
                    path_pattern: b.path_pattern.clone(),
                    default_behavior: false,
                    restricted: !key_groups.is_empty(),
                    key_groups,
                    legacy_trusted_signers: b.trusted_signers.as_ref().is_some_and(|t| t.enabled),
                });
            }
        }
        Ok(StatusReport {
            distribution_id: dist.id,
            domain_name: dist.domain_name,
            status: dist.status,
            etag,
            behaviors,
        })
    }
}
