//! A plan: the changes a command will make, computed from reads before anything is changed, and
//! the text that describes each change in the report, planned or done.

use std::path::PathBuf;

use cfsign::{PrivateKey, PublicKey};

use crate::Error;
use crate::api::DistributionRead;
use crate::edits::{KeyGroupEdit, TrustEdit};
use crate::options::Behaviors;
use crate::refs::{GroupRef, KeyRef, Made};
use crate::report::{BehaviorChange, Report, Step, StepStatus};

/// What a command will change, worked out from what it read; nothing has been changed yet.
///
/// [`Plan::dry_run`] reports it without changing anything (`--dry-run`);
/// [`Provisioner::apply`](crate::Provisioner::apply) makes the changes. Both go through the same
/// steps in the same order and describe them with the same text, so a dry run shows exactly what
/// a real run does.
#[derive(Debug)]
pub struct Plan {
    /// The report's fixed parts: command, distribution, private key path, notes.
    pub(crate) report: Report,
    /// The steps, in order.
    pub(crate) entries: Vec<Entry>,
    /// The key whose ID the report names as the Key-Pair-Id.
    pub(crate) key: Option<KeyRef>,
    /// The key group the report names.
    pub(crate) group: Option<GroupRef>,
    /// What the report adds at the end.
    pub(crate) follow_up: FollowUp,
    /// The command that completes the work when it stops part-way.
    pub(crate) resume: String,
}

impl Plan {
    pub(crate) fn new(command: &str) -> Plan {
        Plan {
            report: Report::new(command),
            entries: Vec::new(),
            key: None,
            group: None,
            follow_up: FollowUp::Nothing,
            resume: "the same command again".to_owned(),
        }
    }

    /// A step that is already as wanted.
    pub(crate) fn in_place(&mut self, action: &'static str, detail: String) {
        self.in_place_step(Step::new(action, StepStatus::Unchanged, detail));
    }

    /// A step that is already as wanted, with its details (e.g. behaviours).
    pub(crate) fn in_place_step(&mut self, step: Step) {
        self.entries.push(Entry::InPlace(step));
    }

    /// A step that makes `change`.
    pub(crate) fn change(&mut self, action: &'static str, change: Change) {
        self.entries.push(Entry::Change { action, change });
    }

    /// A step that cannot be made: running the plan stops there with `error`.
    pub(crate) fn blocked(&mut self, action: &'static str, error: Error) {
        self.entries.push(Entry::Blocked { action, error });
    }
}

/// One step of a plan.
#[derive(Debug)]
pub(crate) enum Entry {
    /// Already as wanted; reported as unchanged.
    InPlace(Step),
    /// A change to make.
    Change {
        /// The step's name in the report, e.g. `upload public key`.
        action: &'static str,
        /// The change.
        change: Change,
    },
    /// A change that the reads show cannot be made (e.g. deleting a key another group holds).
    Blocked {
        /// The step's name in the report.
        action: &'static str,
        /// Why it cannot be made.
        error: Error,
    },
}

impl Entry {
    pub(crate) fn action(&self) -> &str {
        match self {
            Entry::InPlace(step) => &step.action,
            Entry::Change { action, .. } | Entry::Blocked { action, .. } => action,
        }
    }
}

/// One change to CloudFront or to a local file.
#[derive(Debug)]
pub(crate) enum Change {
    /// Write a generated private key to a new file (mode 0600).
    WritePrivateKey {
        /// The file; it does not exist yet.
        path: PathBuf,
        /// The key.
        key: PrivateKey,
    },
    /// Store a generated private key in a new Secrets Manager secret.
    StoreSecret {
        /// The secret's name; it does not exist yet.
        name: String,
        /// The key.
        key: PrivateKey,
    },
    /// Upload a public key.
    CreatePublicKey {
        /// Its name.
        name: String,
        /// The key.
        key: PublicKey,
    },
    /// Create a key group.
    CreateKeyGroup {
        /// Its name.
        name: String,
        /// Its keys.
        keys: Vec<KeyRef>,
    },
    /// Change an existing key group's keys; re-read and re-applied on `PreconditionFailed`.
    UpdateKeyGroup {
        /// The group's ID.
        id: String,
        /// The group's name.
        name: String,
        /// Its keys when the plan was made.
        before: Vec<String>,
        /// The change.
        edit: KeyGroupEdit,
    },
    /// Add or remove a key group on cache behaviours; only `TrustedKeyGroups` of the chosen
    /// behaviours changes, re-read and re-applied on `PreconditionFailed`.
    UpdateDistribution {
        /// The distribution as read while planning; the first attempt writes this config back
        /// changed, with its ETag (boxed: a distribution config is large).
        distribution: Box<DistributionRead>,
        /// The behaviours.
        behaviors: Behaviors,
        /// The key group.
        group: GroupRef,
        /// Attach or detach.
        edit: TrustEdit,
        /// Each chosen behaviour's trusted key groups before and after, as planned.
        preview: Vec<BehaviorChange>,
    },
    /// Delete a public key (no group holds it).
    DeletePublicKey {
        /// Its ID.
        id: String,
    },
}

/// Whether a description is of a planned change, a change made, or a change found already made
/// when it was about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tense {
    /// A dry run: the change would be made.
    Planned,
    /// The change was made.
    Done,
    /// Someone else made the change between the plan and the run.
    AlreadyDone,
}

impl Tense {
    /// The step status a description in this tense goes with.
    pub(crate) fn status(self) -> StepStatus {
        match self {
            Tense::Planned => StepStatus::Planned,
            Tense::Done => StepStatus::Done,
            Tense::AlreadyDone => StepStatus::Unchanged,
        }
    }
}

impl Change {
    /// The step's detail in the report.
    pub(crate) fn describe(&self, made: &Made, tense: Tense) -> String {
        let verb = |planned: &str, done: &str| match tense {
            Tense::Planned => format!("would {planned}"),
            Tense::Done | Tense::AlreadyDone => done.to_owned(),
        };
        match self {
            Change::WritePrivateKey { path, key } => format!(
                "{} a new {} private key to {}{}",
                verb("write", "wrote"),
                key.algorithm(),
                path.display(),
                if tense == Tense::Planned {
                    ""
                } else {
                    " (mode 0600)"
                }
            ),
            Change::StoreSecret { name, key } => format!(
                "{} a new {} private key in Secrets Manager secret `{name}`",
                verb("store", "stored"),
                key.algorithm(),
            ),
            Change::CreatePublicKey { name, key } => {
                let id = made.key_id.as_deref().map(|id| format!(": {id}"));
                format!(
                    "{} public key `{name}` ({}){}",
                    verb("create", "created"),
                    key.algorithm(),
                    id.unwrap_or_default()
                )
            }
            Change::CreateKeyGroup { name, keys } => {
                let id = made.group_id.as_deref().map(|id| format!(" ({id})"));
                let keys: Vec<String> = keys.iter().map(|k| k.label(made)).collect();
                format!(
                    "{} key group `{name}`{} with keys [{}]",
                    verb("create", "created"),
                    id.unwrap_or_default(),
                    keys.join(", ")
                )
            }
            Change::UpdateKeyGroup {
                id,
                name,
                before,
                edit,
            } => {
                let subject = format!("key group `{name}` ({id})");
                if tense == Tense::AlreadyDone {
                    return format!("{subject}: already as wanted");
                }
                let what = match edit {
                    KeyGroupEdit::Set(_) => verb("update", "updated"),
                    KeyGroupEdit::Add(key) => {
                        format!("{} {} to", verb("add", "added"), key.label(made))
                    }
                    KeyGroupEdit::Remove(key) => {
                        format!("{} {key} from", verb("remove", "removed"))
                    }
                };
                let after = edit.after(before, made);
                format!(
                    "{what} {subject}: keys [{}] -> [{}]",
                    before.join(", "),
                    after.join(", ")
                )
            }
            Change::UpdateDistribution {
                distribution,
                group,
                ..
            } => {
                let subject = format!(
                    "key group {} on distribution {}",
                    group.label(made),
                    distribution.id
                );
                match tense {
                    Tense::AlreadyDone => format!("{subject}: already as wanted"),
                    Tense::Planned | Tense::Done => subject,
                }
            }
            Change::DeletePublicKey { id } => match tense {
                Tense::AlreadyDone => format!("public key {id} was already deleted"),
                Tense::Planned | Tense::Done => {
                    format!("{} public key {id}", verb("delete", "deleted"))
                }
            },
        }
    }

    /// What changed concurrently when an attempt got `PreconditionFailed`.
    pub(crate) fn resource(&self) -> &'static str {
        match self {
            Change::UpdateDistribution { .. } => "the distribution",
            Change::UpdateKeyGroup { .. } => "the key group",
            Change::DeletePublicKey { .. } => "the public key",
            Change::WritePrivateKey { .. }
            | Change::StoreSecret { .. }
            | Change::CreatePublicKey { .. }
            | Change::CreateKeyGroup { .. } => "the resource",
        }
    }
}

/// What the report of a plan adds after its steps.
#[derive(Debug)]
pub(crate) enum FollowUp {
    /// Nothing.
    Nothing,
    /// `setup`: the signer's environment, and that CloudFront takes minutes to deploy.
    Setup,
    /// `rotate`: the signer's environment, and how to retire the old keys.
    Rotate {
        /// The `--key-group` value, for the printed commands.
        key_group: String,
        /// The group's other keys.
        old_keys: Vec<String>,
    },
    /// `rotate --retire`: what deleting the key means for signed URLs.
    Retire {
        /// The retired key.
        key_id: String,
    },
}
