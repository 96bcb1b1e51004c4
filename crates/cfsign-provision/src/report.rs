//! What a command did (or, with `--dry-run`, would do): steps, behaviour changes, outputs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The outcome of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepStatus {
    /// The change was made.
    Done,
    /// Nothing needed to change.
    Unchanged,
    /// `--dry-run`: the change would be made.
    Planned,
    /// The step failed; see the error.
    Failed,
    /// The step was not attempted because an earlier one failed.
    NotDone,
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepStatus::Done => "done",
            StepStatus::Unchanged => "unchanged",
            StepStatus::Planned => "would do",
            StepStatus::Failed => "FAILED",
            StepStatus::NotDone => "not done",
        })
    }
}

/// One cache behaviour's trusted key groups before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BehaviorChange {
    /// The path pattern, or `*` for the default cache behaviour.
    pub path_pattern: String,
    /// Whether this is the default cache behaviour.
    pub default_behavior: bool,
    /// Trusted key group IDs before.
    pub before: Vec<String>,
    /// Trusted key group IDs after.
    pub after: Vec<String>,
}

impl BehaviorChange {
    /// Whether the change changes anything.
    pub fn changes(&self) -> bool {
        self.before != self.after
    }

    fn label(&self) -> String {
        if self.default_behavior {
            "default behaviour (*)".to_owned()
        } else {
            format!("behaviour {}", self.path_pattern)
        }
    }
}

/// One step of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Step {
    /// What the step does, e.g. `create public key`.
    pub action: String,
    /// How it went.
    pub status: StepStatus,
    /// Details: IDs, names.
    pub detail: String,
    /// For distribution updates: each chosen behaviour's trusted key groups before and after.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behaviors: Vec<BehaviorChange>,
    /// How many read-modify-write attempts the update took (more than 1 after `PreconditionFailed`).
    #[serde(skip_serializing_if = "is_one_or_less")]
    pub attempts: u32,
}

fn is_one_or_less(n: &u32) -> bool {
    *n <= 1
}

impl Step {
    pub(crate) fn new(action: &str, status: StepStatus, detail: impl Into<String>) -> Step {
        Step {
            action: action.to_owned(),
            status,
            detail: detail.into(),
            behaviors: Vec::new(),
            attempts: 1,
        }
    }
}

/// The report of a mutating command (`upload-key`, `key-group ensure`, `attach`, `detach`,
/// `setup`, `rotate`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The command, e.g. `setup`.
    pub command: String,
    /// Whether this was a `--dry-run` (nothing was changed).
    pub dry_run: bool,
    /// Whether anything was changed (or, in a dry run, would be).
    pub changed: bool,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The public key's ID (the Key-Pair-Id signed URLs carry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pair_id: Option<String>,
    /// The key group's ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_group_id: Option<String>,
    /// The distribution's ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
    /// Where the private key is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_path: Option<PathBuf>,
    /// The Secrets Manager secret that holds the private key, when it is kept there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_secret: Option<String>,
    /// The AWS KMS key that holds the private key (its ARN), when the key is held in KMS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// Environment variables an application sets to sign with the key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// What to do next.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<String>,
    /// Warnings worth reading.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    pub(crate) fn new(command: &str) -> Report {
        Report {
            command: command.to_owned(),
            ..Report::default()
        }
    }

    pub(crate) fn push(&mut self, step: Step) {
        if matches!(step.status, StepStatus::Done | StepStatus::Planned) {
            self.changed = true;
        }
        self.steps.push(step);
    }

    /// "Done: a, b. Failed: c. Not done: d." for error messages.
    pub fn progress_summary(&self) -> String {
        let list = |status: StepStatus| {
            self.steps
                .iter()
                .filter(|s| s.status == status)
                .map(|s| s.action.as_str())
                .collect::<Vec<_>>()
        };
        let mut parts = Vec::new();
        for (label, status) in [
            ("Done", StepStatus::Done),
            ("Already in place", StepStatus::Unchanged),
            ("Failed", StepStatus::Failed),
            ("Not done", StepStatus::NotDone),
        ] {
            let items = list(status);
            if !items.is_empty() {
                parts.push(format!("{label}: {}.", items.join(", ")));
            }
        }
        parts.join(" ")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let heading = match (self.dry_run, self.changed) {
            (true, true) => "plan (dry run, nothing changed)",
            (true, false) => "plan (dry run): nothing to change",
            (false, true) => "changed",
            (false, false) => "nothing to change; everything is already in place",
        };
        writeln!(f, "{}: {heading}", self.command)?;
        for step in &self.steps {
            writeln!(f, "  [{}] {}: {}", step.status, step.action, step.detail)?;
            for b in &step.behaviors {
                writeln!(
                    f,
                    "      {}: trusted key groups [{}] -> [{}]",
                    b.label(),
                    b.before.join(", "),
                    b.after.join(", ")
                )?;
            }
        }
        if let Some(id) = &self.key_pair_id {
            writeln!(f, "Key-Pair-Id: {id}")?;
        }
        if let Some(id) = &self.key_group_id {
            writeln!(f, "Key group: {id}")?;
        }
        if let Some(secret) = &self.private_key_secret {
            writeln!(
                f,
                "Private key: in Secrets Manager secret `{secret}` (it never touched disk)"
            )?;
        }
        if let Some(arn) = &self.kms_key_arn {
            writeln!(
                f,
                "Private key: held in AWS KMS, {arn} (it never leaves KMS)"
            )?;
        }
        if let Some(path) = &self.private_key_path {
            writeln!(
                f,
                "Private key: {} (mode 0600; keep it secret)",
                path.display()
            )?;
        }
        if !self.env.is_empty() {
            writeln!(f, "Set in the application's environment:")?;
            for (k, v) in &self.env {
                writeln!(f, "  {k}={v}")?;
            }
        }
        if !self.next_steps.is_empty() {
            writeln!(f, "Next steps:")?;
            for (i, s) in self.next_steps.iter().enumerate() {
                writeln!(f, "  {}. {s}", i + 1)?;
            }
        }
        for note in &self.notes {
            writeln!(f, "Note: {note}")?;
        }
        Ok(())
    }
}

/// A key group trusted by a behaviour, with its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TrustedGroup {
    /// The key group ID.
    pub id: String,
    /// Its name (`None` if the group could not be found).
    pub name: Option<String>,
    /// The public key IDs in the group (the Key-Pair-Ids CloudFront accepts).
    pub key_ids: Vec<String>,
}

/// One cache behaviour in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BehaviorStatus {
    /// The path pattern, or `*` for the default cache behaviour.
    pub path_pattern: String,
    /// Whether this is the default cache behaviour.
    pub default_behavior: bool,
    /// Whether viewer access is restricted by trusted key groups.
    pub restricted: bool,
    /// The trusted key groups.
    pub key_groups: Vec<TrustedGroup>,
    /// Whether legacy trusted signers (account key pairs) are enabled.
    pub legacy_trusted_signers: bool,
}

/// The result of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatusReport {
    /// The distribution ID.
    pub distribution_id: String,
    /// Its domain name, e.g. `d111111abcdef8.cloudfront.net`.
    pub domain_name: String,
    /// Its deployment status, e.g. `Deployed`.
    pub status: String,
    /// The config's ETag.
    pub etag: String,
    /// Behaviours, default first.
    pub behaviors: Vec<BehaviorStatus>,
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "distribution {} ({}), status {}",
            self.distribution_id, self.domain_name, self.status
        )?;
        for b in &self.behaviors {
            let label = if b.default_behavior {
                "default behaviour (*)".to_owned()
            } else {
                format!("behaviour {}", b.path_pattern)
            };
            if !b.restricted {
                writeln!(f, "  {label}: public (no trusted key groups)")?;
            } else {
                writeln!(f, "  {label}: restricted to")?;
            }
            for g in &b.key_groups {
                writeln!(
                    f,
                    "    key group {} ({}): keys [{}]",
                    g.id,
                    g.name.as_deref().unwrap_or("unknown"),
                    g.key_ids.join(", ")
                )?;
            }
            if b.legacy_trusted_signers {
                writeln!(f, "    legacy trusted signers are also enabled")?;
            }
        }
        Ok(())
    }
}
