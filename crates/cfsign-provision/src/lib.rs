//! Set up, attach, rotate and inspect CloudFront trusted key groups with aws-sdk-cloudfront:
//! the console flow "create public key → create key group → restrict viewer access on a cache
//! behaviour", done repeatably.
//!
//! Every mutating command is planned, then applied: it reads what it needs and returns a
//! [`Plan`] of its changes, which [`Plan::dry_run`] reports (each behaviour's trusted key groups
//! before and after, nothing changed) and [`Provisioner::apply`] makes, with the same steps and
//! texts. Commands are idempotent (running one again changes nothing), and distributions and key
//! groups are updated with `If-Match`, re-read and re-applied when someone else changed them in
//! between.
//!
//! ```no_run
//! use cfsign_provision::{ConnectOptions, Provisioner, SetupOptions};
//! # async fn demo() -> Result<(), cfsign_provision::Error> {
//! let options = ConnectOptions::new().with_endpoint_url(Some("http://127.0.0.1:4580".into()));
//! let provisioner = Provisioner::connect(&options).await?;
//! let plan = provisioner.plan_setup(&SetupOptions::new("E2QWRUHEXAMPLE")).await?;
//! let report = provisioner.apply(plan).await?; // or `plan.dry_run()?` to only print it
//! println!("Key-Pair-Id: {:?}", report.key_pair_id);
//! # Ok(()) }
//! ```
//!
//! This is the only crate of the workspace that depends on the AWS SDK.

mod api;
pub mod cli;
mod commands;
mod doctor;
mod edits;
mod error;
mod groups;
mod keys;
mod kms;
mod name;
mod options;
mod pages;
mod perform;
mod plan;
mod refs;
mod report;
mod run;
mod status;
mod trusted;

pub use crate::api::{ConnectOptions, DEFAULT_MAX_ATTEMPTS, Provisioner};
pub use crate::doctor::{
    DoctorBehavior, DoctorGroup, DoctorKey, DoctorOptions, DoctorReport, DoctorSigner, Health,
    KeyCheck, Probe, Problem, Severity,
};
pub use crate::edits::MAX_KEYS_PER_GROUP;
pub use crate::error::Error;
pub use crate::keys::read_public_key;
pub use crate::kms::{kms_key_source, secret_key_source};
pub use crate::options::{Behaviors, KeySource, RotateOptions, SetupOptions};
pub use crate::plan::Plan;
pub use crate::report::{
    BehaviorChange, BehaviorStatus, Report, StatusReport, Step, StepStatus, TrustedGroup,
};
pub use crate::trusted::MAX_KEY_GROUPS_PER_BEHAVIOR;

/// The AWS SDK crate this one is built on, for callers that build their own client.
pub use aws_sdk_cloudfront;
