//! Distributions: CreateDistribution (with and without tags), GetDistribution,
//! UpdateDistribution, DeleteDistribution, ListDistributionsByKeyGroup and the
//! `ActiveTrustedKeyGroups` a distribution reports.

use crate::api_error::ApiError;
use crate::ids::{new_distribution_id, new_domain, new_etag};
use crate::model::{DistributionRec, Store};
use crate::ops::distribution_config::disabled_list;
use crate::ops::fields::expect_root;
use crate::ops::if_match::check_if_match;
use crate::ops::tagging::parse_tags;
use crate::xml::Element;

impl Store {
    /// Creates a distribution at `now_ms`, or returns the existing one when the CallerReference
    /// and the config are the same (CloudFront's idempotency); `bool` says whether it is new.
    pub(crate) fn create_distribution(
        &mut self,
        body: &Element,
        now_ms: u64,
    ) -> Result<(DistributionRec, bool), ApiError> {
        let config = self.check_distribution_config(body, None)?;
        let caller_reference = config.child_text("CallerReference").unwrap_or_default();
        if let Some(existing) = self
            .distributions
            .iter()
            .find(|d| d.config.child_text("CallerReference") == Some(caller_reference))
        {
            if existing.config == config {
                return Ok((existing.clone(), false));
            }
            return Err(ApiError::new(
                409,
                "DistributionAlreadyExists",
                format!(
                    "The caller reference `{caller_reference}` was already used for distribution {} with a different configuration.",
                    existing.id
                ),
            ));
        }
        let rec = DistributionRec {
            id: new_distribution_id(),
            etag: new_etag(),
            last_modified_ms: now_ms,
            domain: new_domain(),
            config,
            tags: Vec::new(),
        };
        self.distributions.push(rec.clone());
        Ok((rec, true))
    }

    /// `CreateDistributionWithTags`: a `DistributionConfigWithTags` body. The tags are checked
    /// first and set on a new distribution; an idempotent repeat returns the existing one as it is.
    pub(crate) fn create_distribution_with_tags(
        &mut self,
        body: &Element,
        now_ms: u64,
    ) -> Result<(DistributionRec, bool), ApiError> {
        expect_root(body, "DistributionConfigWithTags")?;
        let config = body.child("DistributionConfig").ok_or_else(|| {
            ApiError::invalid_argument(
                "DistributionConfigWithTags is missing the required element DistributionConfig.",
            )
        })?;
        let tags = body.child("Tags").ok_or_else(|| {
            ApiError::invalid_argument(
                "DistributionConfigWithTags is missing the required element Tags.",
            )
        })?;
        let tags = parse_tags(tags)?;
        let (rec, new) = self.create_distribution(config, now_ms)?;
        if !new {
            return Ok((rec, false));
        }
        let Some(stored) = self.distributions.iter_mut().find(|d| d.id == rec.id) else {
            return Err(no_such_distribution(&rec.id));
        };
        stored.tags = tags;
        Ok((stored.clone(), true))
    }

    /// `GetDistribution` and `GetDistributionConfig`.
    pub(crate) fn get_distribution(&self, id: &str) -> Result<DistributionRec, ApiError> {
        self.distribution(id).cloned()
    }

    /// `UpdateDistribution`: replaces the config (but not its CallerReference), modified at
    /// `now_ms`.
    pub(crate) fn update_distribution(
        &mut self,
        id: &str,
        if_match: Option<&str>,
        body: &Element,
        now_ms: u64,
    ) -> Result<DistributionRec, ApiError> {
        let current = self.distribution(id)?;
        check_if_match(if_match, &current.etag)?;
        let config = self.check_distribution_config(body, Some(id))?;
        if config.child_text("CallerReference") != current.config.child_text("CallerReference") {
            return Err(ApiError::new(
                400,
                "IllegalUpdate",
                "The CallerReference of a distribution cannot be changed; send the one from GetDistributionConfig.",
            ));
        }
        let Some(rec) = self.distributions.iter_mut().find(|d| d.id == id) else {
            return Err(no_such_distribution(id));
        };
        rec.config = config;
        rec.etag = new_etag();
        rec.last_modified_ms = now_ms;
        Ok(rec.clone())
    }

    /// `DeleteDistribution`: refused while the distribution is enabled.
    pub(crate) fn delete_distribution(
        &mut self,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let current = self.distribution(id)?;
        check_if_match(if_match, &current.etag)?;
        if current.enabled() {
            return Err(ApiError::new(
                409,
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled; update it with Enabled false first.",
            ));
        }
        self.distributions.retain(|d| d.id != id);
        Ok(())
    }

    /// `ListDistributionsByKeyGroup`: the IDs of the distributions that trust the key group.
    pub(crate) fn distributions_by_key_group(&self, id: &str) -> Result<Vec<String>, ApiError> {
        self.key_group(id)?;
        Ok(self
            .distributions
            .iter()
            .filter(|d| d.key_group_ids().iter().any(|g| g == id))
            .map(|d| d.id.clone())
            .collect())
    }

    /// `ActiveTrustedKeyGroups` of a distribution: each trusted group with its key IDs.
    pub(crate) fn active_trusted_key_groups(&self, d: &DistributionRec) -> Element {
        let groups = d.key_group_ids();
        if groups.is_empty() {
            return disabled_list("ActiveTrustedKeyGroups");
        }
        let items: Vec<Element> = groups
            .iter()
            .map(|gid| {
                let keys: Vec<Element> = self
                    .key_groups
                    .iter()
                    .find(|g| &g.id == gid)
                    .map(|g| {
                        g.items
                            .iter()
                            .map(|k| Element::text("KeyPairId", k.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                Element::node(
                    "KeyGroup",
                    vec![
                        Element::text("KeyGroupId", gid.clone()),
                        Element::node(
                            "KeyPairIds",
                            vec![
                                Element::text("Quantity", keys.len().to_string()),
                                Element::node("Items", keys),
                            ],
                        ),
                    ],
                )
            })
            .collect();
        Element::node(
            "ActiveTrustedKeyGroups",
            vec![
                Element::text("Enabled", "true"),
                Element::text("Quantity", items.len().to_string()),
                Element::node("Items", items),
            ],
        )
    }

    /// The distribution with this ID; an unknown ID is `NoSuchDistribution`.
    fn distribution(&self, id: &str) -> Result<&DistributionRec, ApiError> {
        self.distributions
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| no_such_distribution(id))
    }
}

fn no_such_distribution(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchDistribution",
        format!("The specified distribution does not exist: {id}"),
    )
}
