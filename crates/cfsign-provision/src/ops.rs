//! The provisioning commands: upload-key, key-group ensure, attach, detach, status, setup, rotate.

use std::path::{Path, PathBuf};

use aws_sdk_cloudfront::types::{DistributionConfig, TrustedKeyGroups};
use cfsign::{KeyKind, KeyPairId, PrivateKey, PublicKey};

use crate::api::backoff;
use crate::report::{
    BehaviorChange, BehaviorStatus, Report, StatusReport, Step, StepStatus, TrustedGroup,
};
use crate::{Error, Provisioner};

/// The comment put on resources this tool creates.
const COMMENT: &str = "created by cfsign-provision";

/// CloudFront's quota of public keys per key group.
pub const MAX_KEYS_PER_GROUP: usize = 5;

/// CloudFront's quota of key groups per cache behaviour.
pub const MAX_KEY_GROUPS_PER_BEHAVIOR: usize = 4;

/// Which cache behaviours of a distribution a command changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviors {
    /// The default cache behaviour (`*`).
    Default,
    /// The cache behaviours with these path patterns.
    PathPatterns(Vec<String>),
}

impl Behaviors {
    /// `--path-pattern` values, or the default behaviour when there are none.
    pub fn from_patterns(patterns: Vec<String>) -> Behaviors {
        if patterns.is_empty() {
            Behaviors::Default
        } else {
            Behaviors::PathPatterns(patterns)
        }
    }
}

/// Where the key pair of `setup` and `rotate` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// Generate a key of this kind, writing the private key (mode 0600) to this path, or reuse
    /// the key already in that file.
    Generate {
        /// Which key to generate.
        kind: KeyKind,
        /// Where the private key goes (`None`: `<key name>.pem` in the current directory).
        private_key_out: Option<PathBuf>,
    },
    /// Upload this existing public key (PEM file); the private key stays where it is.
    PublicKeyFile(PathBuf),
}

/// Options of `setup`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetupOptions {
    /// The distribution to protect.
    pub distribution_id: String,
    /// Which behaviours to restrict.
    pub behaviors: Behaviors,
    /// The key group's name (default `cfsign-<distribution id>`).
    pub key_group_name: Option<String>,
    /// The public key's name (default `<key group name>-key`).
    pub key_name: Option<String>,
    /// Where the key comes from.
    pub key: KeySource,
    /// Only print the plan.
    pub dry_run: bool,
}

impl SetupOptions {
    /// Defaults: default behaviour, generated RSA-2048 key, default names.
    pub fn new(distribution_id: &str) -> SetupOptions {
        SetupOptions {
            distribution_id: distribution_id.to_owned(),
            behaviors: Behaviors::Default,
            key_group_name: None,
            key_name: None,
            key: KeySource::Generate {
                kind: KeyKind::Rsa2048,
                private_key_out: None,
            },
            dry_run: false,
        }
    }
}

/// Options of `rotate` (without `--retire`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotateOptions {
    /// The key group (name or ID).
    pub key_group: String,
    /// The new public key's name (default `<key group name>-<unix time>`).
    pub key_name: Option<String>,
    /// Where the new key comes from.
    pub key: KeySource,
    /// Only print the plan.
    pub dry_run: bool,
}

impl RotateOptions {
    /// Defaults: generated RSA-2048 key, default name.
    pub fn new(key_group: &str) -> RotateOptions {
        RotateOptions {
            key_group: key_group.to_owned(),
            key_name: None,
            key: KeySource::Generate {
                kind: KeyKind::Rsa2048,
                private_key_out: None,
            },
            dry_run: false,
        }
    }
}

/// Reads and validates a public key file for upload.
pub fn read_public_key(path: &Path) -> Result<PublicKey, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "cannot read public key file",
        path: path.to_owned(),
        source,
    })?;
    let context = format!("public key file {}", path.display());
    let key = PublicKey::from_pem(&text).map_err(|e| Error::key(&context, e))?;
    key.check_accepted_by_key_groups()
        .map_err(|e| Error::key(&context, e))?;
    Ok(key)
}

fn valid_key_id(id: &str) -> Result<String, Error> {
    KeyPairId::new(id)
        .map(|k| k.as_str().to_owned())
        .map_err(|e| Error::key("public key ID", e))
}

fn same_key(encoded: &str, der: &[u8]) -> bool {
    PublicKey::from_pem(encoded)
        .map(|k| k.to_der() == der)
        .unwrap_or(false)
}

/// Turns an error in the middle of a multi-step command into [`Error::Incomplete`] when
/// something was already changed, recording the failed step and the ones not done.
fn incomplete(
    mut report: Report,
    failed: &str,
    rest: &[&str],
    resume: String,
    err: Error,
) -> Error {
    if report.dry_run || !report.steps.iter().any(|s| s.status == StepStatus::Done) {
        return err;
    }
    report.push(Step::new(failed, StepStatus::Failed, err.to_string()));
    for r in rest {
        report.push(Step::new(r, StepStatus::NotDone, ""));
    }
    Error::Incomplete {
        resume,
        report: Box::new(report),
        source: Box::new(err),
    }
}

macro_rules! step {
    ($report:ident, $resume:expr, $failed:expr, $rest:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => {
                return Err(incomplete(
                    std::mem::take(&mut $report),
                    $failed,
                    $rest,
                    $resume,
                    err,
                ));
            }
        }
    };
}

impl Provisioner {
    /// `upload-key`: uploads a public key under `name`, or reuses the key already uploaded
    /// under that name when it holds the same key material.
    pub async fn upload_key(
        &self,
        name: &str,
        public_key: &PublicKey,
        dry_run: bool,
    ) -> Result<Report, Error> {
        check_name(name, "--name")?;
        public_key
            .check_accepted_by_key_groups()
            .map_err(|e| Error::key("public key", e))?;
        let mut report = Report::new("upload-key", dry_run);
        report.key_pair_id = self
            .ensure_public_key(&mut report, name, public_key)
            .await?;
        Ok(report)
    }

    async fn ensure_public_key(
        &self,
        report: &mut Report,
        name: &str,
        key: &PublicKey,
    ) -> Result<Option<String>, Error> {
        const ACTION: &str = "upload public key";
        let keys = self.list_public_keys().await?;
        let der = key.to_der();
        if let Some(existing) = keys.iter().find(|k| k.name == name) {
            if same_key(&existing.encoded_key, &der) {
                report.push(Step::new(
                    ACTION,
                    StepStatus::Unchanged,
                    format!(
                        "public key `{name}` ({}) already holds this key",
                        existing.id
                    ),
                ));
                return Ok(Some(existing.id.clone()));
            }
            return Err(Error::KeyNameConflict {
                name: name.to_owned(),
                id: existing.id.clone(),
            });
        }
        for other in keys.iter().filter(|k| same_key(&k.encoded_key, &der)) {
            report.notes.push(format!(
                "the same key material is also uploaded as `{}` ({})",
                other.name, other.id
            ));
        }
        if report.dry_run {
            report.push(Step::new(
                ACTION,
                StepStatus::Planned,
                format!("would create public key `{name}` ({})", key.algorithm()),
            ));
            return Ok(None);
        }
        let id = self.create_public_key(name, &key.to_pem(), COMMENT).await?;
        report.push(Step::new(
            ACTION,
            StepStatus::Done,
            format!("created public key `{name}` ({}): {id}", key.algorithm()),
        ));
        Ok(Some(id))
    }

    /// `key-group ensure`: creates the key group `name` with exactly these keys, or updates it
    /// to exactly these keys.
    pub async fn ensure_key_group(
        &self,
        name: &str,
        key_ids: &[String],
        dry_run: bool,
    ) -> Result<Report, Error> {
        const ACTION: &str = "ensure key group";
        check_name(name, "--name")?;
        let mut wanted: Vec<String> = Vec::new();
        for id in key_ids {
            let id = valid_key_id(id)?;
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        if wanted.is_empty() {
            return Err(Error::Usage(
                "a key group needs at least one public key; pass --key-id ID (from `upload-key`)"
                    .to_owned(),
            ));
        }
        if wanted.len() > MAX_KEYS_PER_GROUP {
            return Err(Error::TooManyKeysInGroup {
                detail: format!("{} keys were given", wanted.len()),
            });
        }
        let keys = self.list_public_keys().await?;
        if let Some(missing) = wanted.iter().find(|id| !keys.iter().any(|k| &k.id == *id)) {
            return Err(Error::UnknownPublicKey {
                id: missing.clone(),
            });
        }
        let mut report = Report::new("key-group ensure", dry_run);
        let groups = self.list_key_groups().await?;
        let Some(group) = groups.iter().find(|g| g.name == name) else {
            if dry_run {
                report.push(Step::new(
                    ACTION,
                    StepStatus::Planned,
                    format!(
                        "would create key group `{name}` with keys [{}]",
                        wanted.join(", ")
                    ),
                ));
                return Ok(report);
            }
            let id = self.create_key_group(name, &wanted, COMMENT).await?;
            report.push(Step::new(
                ACTION,
                StepStatus::Done,
                format!(
                    "created key group `{name}` ({id}) with keys [{}]",
                    wanted.join(", ")
                ),
            ));
            report.key_group_id = Some(id);
            return Ok(report);
        };
        report.key_group_id = Some(group.id.clone());
        if same_set(&group.key_ids, &wanted) {
            report.push(Step::new(
                ACTION,
                StepStatus::Unchanged,
                format!(
                    "key group `{name}` ({}) already holds exactly [{}]",
                    group.id,
                    wanted.join(", ")
                ),
            ));
            return Ok(report);
        }
        let detail = format!(
            "key group `{name}` ({}): keys [{}] -> [{}]",
            group.id,
            group.key_ids.join(", "),
            wanted.join(", ")
        );
        if dry_run {
            report.push(Step::new(
                ACTION,
                StepStatus::Planned,
                format!("would update {detail}"),
            ));
            return Ok(report);
        }
        let attempts = self
            .update_key_group(&group.id, |current| {
                Ok((!same_set(current, &wanted)).then(|| wanted.clone()))
            })
            .await?;
        let mut step = Step::new(ACTION, StepStatus::Done, format!("updated {detail}"));
        step.attempts = attempts;
        if attempts == 0 {
            step.status = StepStatus::Unchanged;
        }
        report.push(step);
        Ok(report)
    }

    /// `attach`: adds the key group (name or ID) to the chosen behaviours' trusted key groups.
    pub async fn attach(
        &self,
        distribution_id: &str,
        key_group: &str,
        behaviors: &Behaviors,
        dry_run: bool,
    ) -> Result<Report, Error> {
        let group = self.find_key_group(key_group).await?;
        let mut report = Report::new("attach", dry_run);
        report.distribution_id = Some(distribution_id.to_owned());
        report.key_group_id = Some(group.id.clone());
        self.modify_distribution(&mut report, distribution_id, behaviors, &group.id, true)
            .await?;
        Ok(report)
    }

    /// `detach`: removes the key group (name or ID) from the chosen behaviours.
    pub async fn detach(
        &self,
        distribution_id: &str,
        key_group: &str,
        behaviors: &Behaviors,
        dry_run: bool,
    ) -> Result<Report, Error> {
        // A group that no longer exists can still be named by ID on a behaviour.
        let group_id = match self.find_key_group(key_group).await {
            Ok(group) => group.id,
            Err(Error::UnknownKeyGroup { .. }) => key_group.to_owned(),
            Err(e) => return Err(e),
        };
        let mut report = Report::new("detach", dry_run);
        report.distribution_id = Some(distribution_id.to_owned());
        report.key_group_id = Some(group_id.clone());
        self.modify_distribution(&mut report, distribution_id, behaviors, &group_id, false)
            .await?;
        Ok(report)
    }

    /// Reads the distribution config and ETag, changes only `TrustedKeyGroups` on the chosen
    /// behaviours, and writes it back with `If-Match`, re-reading on `PreconditionFailed`.
    async fn modify_distribution(
        &self,
        report: &mut Report,
        distribution_id: &str,
        behaviors: &Behaviors,
        group_id: &str,
        attach: bool,
    ) -> Result<(), Error> {
        let action = if attach {
            "attach key group"
        } else {
            "detach key group"
        };
        let detail = format!("key group {group_id} on distribution {distribution_id}");
        for attempt in 1..=self.max_attempts() {
            let (mut config, etag) = self.get_distribution_config(distribution_id).await?;
            let changes =
                apply_trusted_group(&mut config, distribution_id, behaviors, group_id, attach)?;
            for c in changes.iter().filter(|c| c.changes() && c.after.is_empty()) {
                report.notes.push(format!(
                    "{} no longer restricts viewer access: anyone can fetch it without a signature",
                    if c.default_behavior {
                        "the default behaviour".to_owned()
                    } else {
                        format!("behaviour {}", c.path_pattern)
                    }
                ));
            }
            let mut step = Step::new(action, StepStatus::Unchanged, detail.clone());
            step.behaviors = changes;
            if !step.behaviors.iter().any(BehaviorChange::changes) {
                step.detail = format!("{detail}: already as wanted");
                report.push(step);
                return Ok(());
            }
            if report.dry_run {
                step.status = StepStatus::Planned;
                report.push(step);
                return Ok(());
            }
            match self
                .update_distribution(distribution_id, &etag, config)
                .await
            {
                Ok(()) => {
                    step.status = StepStatus::Done;
                    step.attempts = attempt;
                    if attempt > 1 {
                        step.detail = format!(
                            "{detail} (attempt {attempt}: the distribution changed concurrently, re-read and re-applied)"
                        );
                    }
                    report.push(step);
                    return Ok(());
                }
                Err(Error::EtagConflict { .. }) => {
                    report.notes.retain(|n| !n.contains("no longer restricts"));
                    backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::EtagConflict {
            resource: format!("distribution {distribution_id}"),
            attempts: self.max_attempts(),
        })
    }

    /// `status`: per behaviour, which key groups and key IDs are trusted.
    pub async fn status(&self, distribution_id: &str) -> Result<StatusReport, Error> {
        let resp = self
            .client()
            .get_distribution()
            .id(distribution_id)
            .send()
            .await
            .map_err(|e| self.api_err("GetDistribution", distribution_id, e))?;
        let etag = resp.e_tag.unwrap_or_default();
        let Some(dist) = resp.distribution else {
            return Err(Error::NotCloudFront {
                endpoint: self.endpoint().to_owned(),
                operation: "GetDistribution",
                detail: "an answer without the <Distribution> element".to_owned(),
            });
        };
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

    /// `setup`: generate (or take) a key, upload it, ensure the key group holds it, attach the
    /// group to the chosen behaviours. Running it again changes nothing.
    pub async fn setup(&self, options: &SetupOptions) -> Result<Report, Error> {
        let dist_id = options.distribution_id.as_str();
        let mut report = Report::new("setup", options.dry_run);
        report.distribution_id = Some(dist_id.to_owned());
        // Fail before creating anything if the distribution or a path pattern is wrong.
        let (config, _) = self.get_distribution_config(dist_id).await?;
        apply_trusted_group(
            &mut config.clone(),
            dist_id,
            &options.behaviors,
            "cfsign-check",
            true,
        )?;
        let group_name = options
            .key_group_name
            .clone()
            .unwrap_or_else(|| format!("cfsign-{dist_id}"));
        check_name(&group_name, "--key-group-name")?;
        let key_name = options
            .key_name
            .clone()
            .unwrap_or_else(|| format!("{group_name}-key"));
        check_name(&key_name, "--key-name")?;
        let resume = "the same command again".to_owned();
        let steps = [
            "write private key",
            "upload public key",
            "ensure key group",
            "attach key group",
        ];
        let public_key = self
            .obtain_key(&mut report, &key_name, &options.key)
            .await?;
        let key_id = step!(
            report,
            resume.clone(),
            steps[1],
            &steps[2..],
            self.ensure_public_key(&mut report, &key_name, &public_key)
                .await
        );
        let group_id = step!(
            report,
            resume.clone(),
            steps[2],
            &steps[3..],
            self.ensure_group_contains(&mut report, &group_name, key_id.as_deref(), true)
                .await
        );
        let group_for_plan = group_id
            .clone()
            .unwrap_or_else(|| format!("(new key group {group_name})"));
        step!(
            report,
            resume,
            steps[3],
            &[],
            self.modify_distribution(
                &mut report,
                dist_id,
                &options.behaviors,
                &group_for_plan,
                true
            )
            .await
        );
        report.key_pair_id = key_id;
        report.key_group_id = group_id;
        finish_key_report(&mut report);
        if report.changed {
            report.next_steps.push(
                "CloudFront deploys the change to its edge locations within minutes; until then the edge may still answer as before".to_owned(),
            );
        }
        Ok(report)
    }

    /// `rotate`: adds a new key to the group beside the old ones and prints the next steps.
    pub async fn rotate(&self, options: &RotateOptions) -> Result<Report, Error> {
        let mut report = Report::new("rotate", options.dry_run);
        let group = self.find_key_group(&options.key_group).await?;
        report.key_group_id = Some(group.id.clone());
        let key_name = match &options.key_name {
            Some(name) => name.clone(),
            None => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                format!("{}-{secs}", group.name)
            }
        };
        check_name(&key_name, "--key-name")?;
        let private_key_out = match &options.key {
            KeySource::Generate {
                private_key_out, ..
            } => Some(
                private_key_out
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("{key_name}.pem"))),
            ),
            KeySource::PublicKeyFile(_) => None,
        };
        let resume = match (&options.key, &private_key_out) {
            (KeySource::Generate { .. }, Some(path)) => format!(
                "cfsign-provision rotate --key-group {} --key-name {key_name} --private-key-out {}",
                options.key_group,
                path.display()
            ),
            (KeySource::PublicKeyFile(path), _) => format!(
                "cfsign-provision rotate --key-group {} --key-name {key_name} --public-key {}",
                options.key_group,
                path.display()
            ),
            _ => "the same command again".to_owned(),
        };
        if group.key_ids.len() >= MAX_KEYS_PER_GROUP {
            return Err(Error::TooManyKeysInGroup {
                detail: format!(
                    "key group `{}` already holds {} keys ([{}])",
                    group.name,
                    group.key_ids.len(),
                    group.key_ids.join(", ")
                ),
            });
        }
        let steps = ["write private key", "upload public key", "add key to group"];
        let public_key = self
            .obtain_key(&mut report, &key_name, &options.key)
            .await?;
        let key_id = step!(
            report,
            resume.clone(),
            steps[1],
            &steps[2..],
            self.ensure_public_key(&mut report, &key_name, &public_key)
                .await
        );
        step!(
            report,
            resume,
            steps[2],
            &[],
            self.ensure_group_contains(&mut report, &group.id, key_id.as_deref(), false)
                .await
        );
        let new_id = key_id.clone().unwrap_or_else(|| "NEW_KEY_ID".to_owned());
        report.key_pair_id = key_id;
        finish_key_report(&mut report);
        let old: Vec<&String> = group.key_ids.iter().filter(|k| **k != new_id).collect();
        report.next_steps.push(format!(
            "Deploy the new key to every signer: AWS_CLOUDFRONT_KEY_ID={new_id} and AWS_CLOUDFRONT_KEY (see above)"
        ));
        if !old.is_empty() {
            report.next_steps.push(format!(
                "Keep the old key(s) [{}] in the group until every URL and cookie signed with them has expired",
                old.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
            for id in old {
                report.next_steps.push(format!(
                    "Then retire it: cfsign-provision rotate --key-group {} --retire {id}",
                    options.key_group
                ));
            }
        }
        Ok(report)
    }

    /// `rotate --retire`: removes the key from the group, then deletes it.
    pub async fn retire(
        &self,
        key_group: &str,
        old_key_id: &str,
        dry_run: bool,
    ) -> Result<Report, Error> {
        let old_id = valid_key_id(old_key_id)?;
        let mut report = Report::new("rotate --retire", dry_run);
        let group = self.find_key_group(key_group).await?;
        report.key_group_id = Some(group.id.clone());
        let resume = "the same command again".to_owned();
        let steps = ["remove key from group", "delete public key"];
        let remove_action = steps[0];
        if !group.key_ids.contains(&old_id) {
            report.push(Step::new(
                remove_action,
                StepStatus::Unchanged,
                format!("{old_id} is not in key group `{}`", group.name),
            ));
        } else if group.key_ids.len() == 1 {
            return Err(Error::LastKeyInGroup {
                id: old_id,
                group: group.name,
            });
        } else if dry_run {
            report.push(Step::new(
                remove_action,
                StepStatus::Planned,
                format!(
                    "would remove {old_id} from key group `{}` ({})",
                    group.name, group.id
                ),
            ));
        } else {
            let group_name = group.name.clone();
            let attempts = self
                .update_key_group(&group.id, |current| {
                    if !current.contains(&old_id) {
                        return Ok(None);
                    }
                    if current.len() == 1 {
                        return Err(Error::LastKeyInGroup {
                            id: old_id.clone(),
                            group: group_name.clone(),
                        });
                    }
                    Ok(Some(
                        current.iter().filter(|k| **k != old_id).cloned().collect(),
                    ))
                })
                .await?;
            let mut step = Step::new(
                remove_action,
                StepStatus::Done,
                format!(
                    "removed {old_id} from key group `{}` ({})",
                    group.name, group.id
                ),
            );
            step.attempts = attempts;
            if attempts == 0 {
                step.status = StepStatus::Unchanged;
            }
            report.push(step);
        }
        // CloudFront refuses to delete a key another group still holds; say which.
        let groups = step!(
            report,
            resume.clone(),
            steps[1],
            &[],
            self.list_key_groups().await
        );
        let holders: Vec<String> = groups
            .iter()
            .filter(|g| g.id != group.id && g.key_ids.contains(&old_id))
            .map(|g| format!("`{}` ({})", g.name, g.id))
            .collect();
        if !holders.is_empty() {
            let err = Error::KeyInUse {
                id: old_id.clone(),
                groups: holders.join(", "),
            };
            return Err(incomplete(report, steps[1], &[], resume, err));
        }
        if dry_run {
            let keys = self.list_public_keys().await?;
            let status = if keys.iter().any(|k| k.id == old_id) {
                (
                    StepStatus::Planned,
                    format!("would delete public key {old_id}"),
                )
            } else {
                (
                    StepStatus::Unchanged,
                    format!("public key {old_id} does not exist"),
                )
            };
            report.push(Step::new(steps[1], status.0, status.1));
            return Ok(report);
        }
        let deleted = step!(
            report,
            resume,
            steps[1],
            &[],
            self.delete_public_key(&old_id).await
        );
        report.push(if deleted {
            Step::new(
                steps[1],
                StepStatus::Done,
                format!("deleted public key {old_id}"),
            )
        } else {
            Step::new(
                steps[1],
                StepStatus::Unchanged,
                format!("public key {old_id} was already deleted"),
            )
        });
        report.next_steps.push(format!(
            "URLs and cookies signed with {old_id} are now refused (403); make sure no signer still uses it"
        ));
        Ok(report)
    }

    /// Gets the key pair for setup/rotate: the given public key, the private key already in the
    /// output file, or a new one written there (mode 0600).
    async fn obtain_key(
        &self,
        report: &mut Report,
        key_name: &str,
        source: &KeySource,
    ) -> Result<PublicKey, Error> {
        const ACTION: &str = "write private key";
        let (kind, out) = match source {
            KeySource::PublicKeyFile(path) => return read_public_key(path),
            KeySource::Generate {
                kind,
                private_key_out,
            } => (
                *kind,
                private_key_out
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("{key_name}.pem"))),
            ),
        };
        report.private_key_path = Some(out.clone());
        if out.exists() {
            let text =
                zeroize_string(std::fs::read_to_string(&out).map_err(|source| Error::Io {
                    what: "cannot read existing private key file",
                    path: out.clone(),
                    source,
                })?);
            let key = PrivateKey::from_pem(&text).map_err(|e| {
                Error::key(
                    format!(
                        "{} already exists but is not a usable private key (move it away or pass another --private-key-out)",
                        out.display()
                    ),
                    e,
                )
            })?;
            let public = key.public_key();
            public
                .check_accepted_by_key_groups()
                .map_err(|e| Error::key(format!("private key {}", out.display()), e))?;
            report.push(Step::new(
                ACTION,
                StepStatus::Unchanged,
                format!("reusing the private key in {}", out.display()),
            ));
            return Ok(public);
        }
        // A key of this name without its private key file: refuse rather than make a second one.
        let keys = self.list_public_keys().await?;
        if let Some(existing) = keys.iter().find(|k| k.name == key_name) {
            return Err(Error::PrivateKeyMissing {
                name: key_name.to_owned(),
                id: existing.id.clone(),
                path: out,
            });
        }
        let key = PrivateKey::generate(kind, &mut rand::rng())
            .map_err(|e| Error::key("generating a key", e))?;
        if report.dry_run {
            report.push(Step::new(
                ACTION,
                StepStatus::Planned,
                format!(
                    "would write a new {} private key to {}",
                    key.algorithm(),
                    out.display()
                ),
            ));
        } else {
            write_private_key(&out, &key.to_pkcs8_pem())?;
            report.push(Step::new(
                ACTION,
                StepStatus::Done,
                format!(
                    "wrote a new {} private key to {} (mode 0600)",
                    key.algorithm(),
                    out.display()
                ),
            ));
        }
        Ok(key.public_key())
    }

    /// Makes sure a key group contains the key. With `create`, `group` is a name and a missing
    /// group is created; without, `group` is an ID that must exist. Returns the group ID
    /// (unknown in a dry run that would create the group).
    async fn ensure_group_contains(
        &self,
        report: &mut Report,
        group: &str,
        key_id: Option<&str>,
        create: bool,
    ) -> Result<Option<String>, Error> {
        let action = if create {
            "ensure key group"
        } else {
            "add key to group"
        };
        let groups = self.list_key_groups().await?;
        let found = if create {
            groups.iter().find(|g| g.name == group)
        } else {
            groups.iter().find(|g| g.id == group)
        };
        let Some(found) = found else {
            if !create {
                return Err(Error::UnknownKeyGroup {
                    name: group.to_owned(),
                });
            }
            let Some(key_id) = key_id else {
                report.push(Step::new(
                    action,
                    StepStatus::Planned,
                    format!("would create key group `{group}` with the new key"),
                ));
                return Ok(None);
            };
            if report.dry_run {
                report.push(Step::new(
                    action,
                    StepStatus::Planned,
                    format!("would create key group `{group}` with key [{key_id}]"),
                ));
                return Ok(None);
            }
            let id = self
                .create_key_group(group, &[key_id.to_owned()], COMMENT)
                .await?;
            report.push(Step::new(
                action,
                StepStatus::Done,
                format!("created key group `{group}` ({id}) with key [{key_id}]"),
            ));
            return Ok(Some(id));
        };
        let name = found.name.clone();
        let id = found.id.clone();
        if let Some(key_id) = key_id
            && found.key_ids.iter().any(|k| k == key_id)
        {
            report.push(Step::new(
                action,
                StepStatus::Unchanged,
                format!("key group `{name}` ({id}) already holds {key_id}"),
            ));
            return Ok(Some(id));
        }
        if found.key_ids.len() >= MAX_KEYS_PER_GROUP {
            return Err(Error::TooManyKeysInGroup {
                detail: format!(
                    "key group `{name}` already holds {} keys ([{}])",
                    found.key_ids.len(),
                    found.key_ids.join(", ")
                ),
            });
        }
        let Some(key_id) = key_id.filter(|_| !report.dry_run) else {
            report.push(Step::new(
                action,
                StepStatus::Planned,
                format!(
                    "would add {} to key group `{name}` ({id}) beside [{}]",
                    key_id.unwrap_or("the new key"),
                    found.key_ids.join(", ")
                ),
            ));
            return Ok(Some(id));
        };
        let key_id = key_id.to_owned();
        let group_name = name.clone();
        let attempts = self
            .update_key_group(&id, |current| {
                if current.contains(&key_id) {
                    return Ok(None);
                }
                if current.len() >= MAX_KEYS_PER_GROUP {
                    return Err(Error::TooManyKeysInGroup {
                        detail: format!("key group `{group_name}` already holds {}", current.len()),
                    });
                }
                let mut next = current.to_vec();
                next.push(key_id.clone());
                Ok(Some(next))
            })
            .await?;
        let mut step = Step::new(
            action,
            StepStatus::Done,
            format!("added {key_id} to key group `{name}` ({id})"),
        );
        step.attempts = attempts;
        if attempts == 0 {
            step.status = StepStatus::Unchanged;
        }
        report.push(step);
        Ok(Some(id))
    }
}

fn finish_key_report(report: &mut Report) {
    let id = report
        .key_pair_id
        .clone()
        .unwrap_or_else(|| "NEW_KEY_ID".to_owned());
    report.env.insert("AWS_CLOUDFRONT_KEY_ID".to_owned(), id);
    let key = match &report.private_key_path {
        Some(path) => format!("\"$(cat {})\"", shell_quote(&path.display().to_string())),
        None => "\"<the PEM of the private key matching the uploaded public key>\"".to_owned(),
    };
    report.env.insert("AWS_CLOUDFRONT_KEY".to_owned(), key);
}

fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn zeroize_string(s: String) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(s)
}

fn write_private_key(path: &Path, pem: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let io = |source| Error::Io {
        what: "cannot write the private key to",
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(pem.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// CloudFront's naming rule (the core's [`cfsign::CloudFrontName`]), checked before any AWS call.
fn check_name(name: &str, flag: &str) -> Result<(), Error> {
    cfsign::CloudFrontName::new(name)
        .map(drop)
        .map_err(|e| Error::Usage(format!("{flag}: {e}")))
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// The key group IDs a behaviour trusts (none when disabled).
fn trusted_ids(tkg: Option<&TrustedKeyGroups>) -> Vec<String> {
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
    attach: bool,
) -> Result<(BehaviorChange, Option<TrustedKeyGroups>), Error> {
    let before = trusted_ids(current);
    let mut after = before.clone();
    if attach {
        if !after.iter().any(|g| g == group_id) {
            after.push(group_id.to_owned());
        }
    } else {
        after.retain(|g| g != group_id);
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

/// Adds (`attach`) or removes the key group on the chosen behaviours of `config`, touching
/// nothing else, and returns each chosen behaviour's before and after.
pub(crate) fn apply_trusted_group(
    config: &mut DistributionConfig,
    distribution_id: &str,
    behaviors: &Behaviors,
    group_id: &str,
    attach: bool,
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
                change_behavior("*", true, b.trusted_key_groups.as_ref(), group_id, attach)?;
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
                    attach,
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
        attach: bool,
        expected_changes: &[(&[&str], &[&str])],
        expected_all: &[&[&str]],
    ) {
        let mut cfg = cfg;
        let changes = apply_trusted_group(&mut cfg, "D", &target, group, attach).unwrap();
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
        let pats = |p: &[&str]| Behaviors::PathPatterns(p.iter().map(|s| s.to_string()).collect());
        check(
            config(&[], &[("/a/*", &[]), ("/b/*", &["X"])]),
            Behaviors::Default,
            "G",
            true,
            &[(&[], &["G"])],
            &[&["G"], &[], &["X"]],
        );
        check(
            config(&[], &[("/a/*", &[]), ("/b/*", &["X"])]),
            pats(&["/b/*"]),
            "G",
            true,
            &[(&["X"], &["X", "G"])],
            &[&[], &[], &["X", "G"]],
        );
        check(
            config(&["G"], &[("/a/*", &["G"])]),
            pats(&["/a/*"]),
            "G",
            true,
            &[(&["G"], &["G"])],
            &[&["G"], &["G"]],
        );
        check(
            config(&["G", "X"], &[("/a/*", &["G"])]),
            Behaviors::Default,
            "G",
            false,
            &[(&["G", "X"], &["X"])],
            &[&["X"], &["G"]],
        );
        check(
            config(&[], &[("/a/*", &["G"]), ("/b/*", &["G"])]),
            pats(&["/a/*", "/b/*"]),
            "G",
            false,
            &[(&["G"], &[]), (&["G"], &[])],
            &[&[], &[], &[]],
        );
        check(
            config(&[], &[("/a/*", &[])]),
            pats(&["/a/*"]),
            "G",
            false,
            &[(&[], &[])],
            &[&[], &[]],
        );
    }

    #[test]
    fn errors_on_unknown_patterns_and_quota() {
        let mut cfg = config(&["A", "B", "C", "D"], &[("/a/*", &[])]);
        let err = apply_trusted_group(&mut cfg, "D1", &Behaviors::Default, "E", true).unwrap_err();
        assert!(
            matches!(err, Error::TooManyKeyGroupsOnBehavior { .. }),
            "{err}"
        );
        let err = apply_trusted_group(
            &mut cfg,
            "D1",
            &Behaviors::PathPatterns(vec!["/z".into()]),
            "E",
            true,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`/z`") && err.to_string().contains("/a/*"),
            "{err}"
        );
    }

    #[test]
    fn names_and_sets() {
        for (name, ok) in [("a-b_C9", true), ("", false), ("a b", false), ("é", false)] {
            assert_eq!(check_name(name, "--name").is_ok(), ok, "{name}");
        }
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(same_set(&s(&["a", "b"]), &s(&["b", "a"])));
        assert!(!same_set(&s(&["a"]), &s(&["a", "b"])));
        assert_eq!(shell_quote("keys/a.pem"), "keys/a.pem");
        assert_eq!(shell_quote("my key's.pem"), "'my key'\\''s.pem'");
    }
}
