//! Running a plan: one walk over its steps that builds the report, shared by [`Plan::dry_run`]
//! (each change reported as planned, nothing called) and [`Provisioner::apply`] (each change
//! made). Step texts, IDs, notes, next steps and part-way stops come from here for both.

use crate::perform::Outcome;
use crate::plan::{Change, Entry, FollowUp, Plan, Tense};
use crate::refs::{GroupRef, KeyRef, Made};
use crate::report::{BehaviorChange, Report, Step, StepStatus};
use crate::{Error, Provisioner};

impl Plan {
    /// Reports the plan without changing anything (`--dry-run`): every change as planned, each
    /// chosen behaviour's trusted key groups before and after. No API call is made.
    ///
    /// Fails as the real run would when the reads showed that a step cannot be made.
    pub fn dry_run(self) -> Result<Report, Error> {
        let mut run = Run::new(self);
        run.report.dry_run = true;
        while let Some((action, change)) = run.next_change()? {
            run.record(action, &change, Ok(Outcome::Planned))?;
        }
        Ok(run.finish())
    }
}

impl Provisioner {
    /// Makes the plan's changes in order and reports each.
    ///
    /// Distributions and key groups are written with `If-Match`; when someone else changed them
    /// in between, they are re-read and the change is applied again. A step that fails after
    /// earlier steps changed something ends in [`Error::Incomplete`], whose report lists what
    /// was done, what failed and what was not done.
    pub async fn apply(&self, plan: Plan) -> Result<Report, Error> {
        let mut run = Run::new(plan);
        while let Some((action, change)) = run.next_change()? {
            let outcome = self.perform(&change, &mut run.made).await;
            run.record(action, &change, outcome)?;
        }
        Ok(run.finish())
    }
}

/// A plan being run.
struct Run {
    report: Report,
    made: Made,
    entries: std::vec::IntoIter<Entry>,
    key: Option<KeyRef>,
    group: Option<GroupRef>,
    follow_up: FollowUp,
    resume: String,
}

impl Run {
    fn new(plan: Plan) -> Run {
        Run {
            report: plan.report,
            made: Made::default(),
            entries: plan.entries.into_iter(),
            key: plan.key,
            group: plan.group,
            follow_up: plan.follow_up,
            resume: plan.resume,
        }
    }

    /// Reports the steps that are in place up to the next change, and returns that change.
    fn next_change(&mut self) -> Result<Option<(&'static str, Change)>, Error> {
        for entry in self.entries.by_ref() {
            match entry {
                Entry::InPlace(step) => self.report.push(step),
                Entry::Change { action, change } => return Ok(Some((action, change))),
                Entry::Blocked { action, error } => return Err(self.stop(action, error)),
            }
        }
        Ok(None)
    }

    /// Reports how a change went.
    fn record(
        &mut self,
        action: &'static str,
        change: &Change,
        outcome: Result<Outcome, Error>,
    ) -> Result<(), Error> {
        let (tense, attempts, behaviors) = match outcome {
            Err(err) => return Err(self.stop(action, err)),
            Ok(Outcome::Planned) => (Tense::Planned, 1, preview(change)),
            Ok(Outcome::Done {
                attempts,
                behaviors,
            }) => (Tense::Done, attempts, behaviors),
            Ok(Outcome::AlreadyDone { behaviors }) => (Tense::AlreadyDone, 1, behaviors),
        };
        let mut detail = change.describe(&self.made, tense);
        if attempts > 1 {
            detail.push_str(&format!(
                " (attempt {attempts}: {} changed concurrently, re-read and re-applied)",
                change.resource()
            ));
        }
        for b in behaviors
            .iter()
            .filter(|b| b.changes() && b.after.is_empty())
        {
            self.report.notes.push(format!(
                "{} no longer restricts viewer access: anyone can fetch it without a signature",
                if b.default_behavior {
                    "the default behaviour".to_owned()
                } else {
                    format!("behaviour {}", b.path_pattern)
                }
            ));
        }
        let mut step = Step::new(action, tense.status(), detail);
        step.attempts = attempts;
        step.behaviors = behaviors;
        self.report.push(step);
        Ok(())
    }

    /// The error that ends the run at step `action`: as it is when nothing was changed yet,
    /// else [`Error::Incomplete`] with the steps done, failed and not done.
    fn stop(&mut self, action: &str, err: Error) -> Error {
        if !self
            .report
            .steps
            .iter()
            .any(|s| s.status == StepStatus::Done)
        {
            return err;
        }
        self.name_ids();
        let mut report = std::mem::take(&mut self.report);
        report.push(Step::new(action, StepStatus::Failed, err.to_string()));
        for entry in self.entries.by_ref() {
            report.push(match entry {
                Entry::InPlace(step) => step,
                other => Step::new(other.action(), StepStatus::NotDone, ""),
            });
        }
        Error::Incomplete {
            resume: std::mem::take(&mut self.resume),
            report: Box::new(report),
            source: Box::new(err),
        }
    }

    /// Names the plan's key and key group in the report, by ID where known.
    fn name_ids(&mut self) {
        let made = &self.made;
        self.report.key_pair_id = self
            .key
            .as_ref()
            .and_then(|k| k.id(made))
            .map(str::to_owned);
        self.report.key_group_id = self
            .group
            .as_ref()
            .and_then(|g| g.id(made))
            .map(str::to_owned);
    }

    /// The report, with the IDs, the signer's environment and the next steps.
    fn finish(mut self) -> Report {
        self.name_ids();
        let report = &mut self.report;
        match self.follow_up {
            FollowUp::Nothing => {}
            FollowUp::Setup => {
                signer_env(report);
                if report.changed {
                    report.next_steps.push(
                        "CloudFront deploys the change to its edge locations within minutes; until then the edge may still answer as before".to_owned(),
                    );
                }
            }
            FollowUp::Rotate {
                key_group,
                old_keys,
            } => {
                signer_env(report);
                let new_id = report.key_pair_id.as_deref().unwrap_or(NEW_KEY_ID);
                report.next_steps.push(format!(
                    "Deploy the new key to every signer: AWS_CLOUDFRONT_KEY_ID={new_id} and AWS_CLOUDFRONT_KEY (see above)"
                ));
                if !old_keys.is_empty() {
                    report.next_steps.push(format!(
                        "Keep the old key(s) [{}] in the group until every URL and cookie signed with them has expired",
                        old_keys.join(", ")
                    ));
                    for id in old_keys {
                        report.next_steps.push(format!(
                            "Then retire it: cfsign-provision rotate --key-group {key_group} --retire {id}"
                        ));
                    }
                }
            }
            FollowUp::Retire { key_id } => report.next_steps.push(format!(
                "Once {key_id} is deleted, URLs and cookies signed with it are refused (403); make sure no signer still uses it"
            )),
        }
        self.report
    }
}

/// What the report names a key by before it is uploaded (dry run).
const NEW_KEY_ID: &str = "NEW_KEY_ID";

/// The behaviours a planned change would change.
fn preview(change: &Change) -> Vec<BehaviorChange> {
    match change {
        Change::UpdateDistribution { preview, .. } => preview.clone(),
        _ => Vec::new(),
    }
}

/// The environment variables an application sets to sign with the key.
fn signer_env(report: &mut Report) {
    let id = report
        .key_pair_id
        .as_deref()
        .unwrap_or(NEW_KEY_ID)
        .to_owned();
    report
        .env
        .insert("AWS_CLOUDFRONT_KEY_ID".to_owned(), id.clone());
    if let Some(arn) = &report.kms_key_arn {
        report.next_steps.push(format!(
            "Sign with cfsign-server (built with `--features aws`): [[keys]] id = \"{id}\" kms_key_id = \"{arn}\" \
             (SHA-256 signatures; the server needs kms:Sign, kms:GetPublicKey and kms:DescribeKey on the key)"
        ));
        return;
    }
    if let Some(secret) = &report.private_key_secret {
        report.next_steps.push(format!(
            "Sign with cfsign-server (built with `--features aws`): [[keys]] id = \"{id}\" secret = \"{secret}\" \
             (the server needs secretsmanager:GetSecretValue on it)"
        ));
        report.env.insert(
            "AWS_CLOUDFRONT_KEY".to_owned(),
            format!(
                "\"$(aws secretsmanager get-secret-value --secret-id {} --query SecretString --output text)\"",
                shell_quote(secret)
            ),
        );
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("keys/a.pem"), "keys/a.pem");
        assert_eq!(shell_quote("my key's.pem"), "'my key'\\''s.pem'");
    }
}
