//! Set up, attach, rotate and inspect CloudFront trusted key groups with aws-sdk-cloudfront:
//! the console flow "create public key → create key group → restrict viewer access on a cache
//! behaviour", done repeatably.
//!
//! Every mutating operation is idempotent (running it again changes nothing), supports a dry run
//! that reports each behaviour's trusted key groups before and after, and updates distributions
//! with `If-Match`, re-reading and retrying when someone else changed them in between.
//!
//! ```no_run
//! use cfsign_provision::{ConnectOptions, Provisioner, SetupOptions};
//! # async fn demo() -> Result<(), cfsign_provision::Error> {
//! let options = ConnectOptions::new().with_endpoint_url(Some("http://127.0.0.1:4580".into()));
//! let provisioner = Provisioner::connect(&options).await?;
//! let report = provisioner.setup(&SetupOptions::new("E2QWRUHEXAMPLE")).await?;
//! println!("Key-Pair-Id: {:?}", report.key_pair_id);
//! # Ok(()) }
//! ```
//!
//! This is the only crate of the workspace that depends on the AWS SDK.

mod api;
pub mod cli;
mod error;
mod ops;
mod report;

pub use crate::api::{ConnectOptions, DEFAULT_MAX_ATTEMPTS, Provisioner};
pub use crate::error::Error;
pub use crate::ops::{
    Behaviors, KeySource, MAX_KEY_GROUPS_PER_BEHAVIOR, MAX_KEYS_PER_GROUP, RotateOptions,
    SetupOptions, read_public_key,
};
pub use crate::report::{
    BehaviorChange, BehaviorStatus, Report, StatusReport, Step, StepStatus, TrustedGroup,
};

/// The AWS SDK crate this one is built on, for callers that build their own client.
pub use aws_sdk_cloudfront;
