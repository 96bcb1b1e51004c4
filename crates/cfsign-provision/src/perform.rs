//! Making one planned change: the API call (or file write) behind each [`Change`], with the
//! `If-Match` read-modify-write retries for key groups and distributions.

use crate::api::DistributionRead;
use crate::edits::KeyGroupEdit;
use crate::keys::write_private_key;
use crate::plan::Change;
use crate::refs::{KeyRef, Made};
use crate::report::BehaviorChange;
use crate::trusted::edit_trusted_groups;
use crate::{Error, Provisioner};

/// The comment put on resources this tool creates.
const COMMENT: &str = "created by cfsign-provision";

/// How a change went.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Not made: a dry run.
    Planned,
    /// Made, in this many read-modify-write attempts (1 for the others); for a distribution, each
    /// chosen behaviour's trusted key groups before and after.
    Done {
        attempts: u32,
        behaviors: Vec<BehaviorChange>,
    },
    /// Found already made when it was about to be made (someone else made it in between).
    AlreadyDone { behaviors: Vec<BehaviorChange> },
}

impl Outcome {
    fn done() -> Outcome {
        Outcome::Done {
            attempts: 1,
            behaviors: Vec::new(),
        }
    }
}

impl Provisioner {
    /// Makes `change`, recording what it creates in `made`.
    pub(crate) async fn perform(&self, change: &Change, made: &mut Made) -> Result<Outcome, Error> {
        match change {
            Change::WritePrivateKey { path, key } => {
                write_private_key(path, &key.to_pkcs8_pem())?;
                Ok(Outcome::done())
            }
            Change::StoreSecret { name, key } => {
                crate::kms::store_secret(name, key).await?;
                Ok(Outcome::done())
            }
            Change::CreatePublicKey { name, key } => {
                let id = self.create_public_key(name, &key.to_pem(), COMMENT).await?;
                made.key_id = Some(id);
                Ok(Outcome::done())
            }
            Change::CreateKeyGroup { name, keys } => {
                let ids = keys
                    .iter()
                    .map(|k| made_key(k, made))
                    .collect::<Result<Vec<_>, _>>()?;
                let id = self.create_key_group(name, &ids, COMMENT).await?;
                made.group_id = Some(id);
                Ok(Outcome::done())
            }
            Change::UpdateKeyGroup { id, name, edit, .. } => {
                if let KeyGroupEdit::Add(key) = edit {
                    made_key(key, made)?;
                }
                let made = &*made;
                let attempts = self
                    .update_key_group(id, |current| edit.apply(name, current, made))
                    .await?;
                Ok(match attempts {
                    0 => Outcome::AlreadyDone {
                        behaviors: Vec::new(),
                    },
                    attempts => Outcome::Done {
                        attempts,
                        behaviors: Vec::new(),
                    },
                })
            }
            Change::UpdateDistribution {
                distribution,
                behaviors,
                group,
                edit,
                ..
            } => {
                let Some(group_id) = group.id(made) else {
                    return Err(unmade("key group"));
                };
                let id = distribution.id.as_str();
                // The first attempt writes back the config read while planning; a retry re-reads.
                let mut first = Some(DistributionRead::clone(distribution));
                self.retry_on_conflict(&format!("distribution {id}"), |attempt| {
                    let first = first.take();
                    async move {
                        let mut read = match first {
                            Some(read) => read,
                            None => self.get_distribution_config(id).await?,
                        };
                        let changes =
                            edit_trusted_groups(&mut read.config, id, behaviors, group_id, *edit)?;
                        if !changes.iter().any(BehaviorChange::changes) {
                            return Ok(Outcome::AlreadyDone { behaviors: changes });
                        }
                        self.update_distribution(id, &read.etag, read.config)
                            .await?;
                        Ok(Outcome::Done {
                            attempts: attempt,
                            behaviors: changes,
                        })
                    }
                })
                .await
            }
            Change::DeletePublicKey { id } => Ok(if self.delete_public_key(id).await? {
                Outcome::done()
            } else {
                Outcome::AlreadyDone {
                    behaviors: Vec::new(),
                }
            }),
        }
    }
}

/// The ID of a key the change needs, which an earlier step of the plan has made.
fn made_key(key: &KeyRef, made: &Made) -> Result<String, Error> {
    key.id(made)
        .map(str::to_owned)
        .ok_or_else(|| unmade("public key"))
}

/// A plan that uses a new resource before the step that creates it. Plans are built so that this
/// cannot happen; it is an error rather than a panic all the same.
fn unmade(what: &str) -> Error {
    Error::Usage(format!(
        "internal error: the plan uses the new {what} before creating it (a bug in cfsign-provision; please report it)"
    ))
}
