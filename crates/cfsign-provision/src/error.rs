//! The error type of cfsign-provision: every variant says what went wrong and how to fix it.

use std::path::PathBuf;

use crate::report::Report;

/// Everything that can go wrong while provisioning.
///
/// Messages never contain private key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No AWS credentials could be found.
    #[error(
        "no AWS credentials found ({detail}). Fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         or pass --profile NAME (after `aws sso login --profile NAME` for SSO profiles); against \
         cfsign-mock or moto any values work, e.g. AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
    )]
    MissingCredentials {
        /// What the credential chain reported.
        detail: String,
    },
    /// The endpoint URL is not usable.
    #[error("invalid endpoint URL `{url}`: {reason}")]
    InvalidEndpoint {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The endpoint could not be reached at all.
    #[error(
        "cannot reach the CloudFront API at {endpoint} during {operation} ({detail}). Fix: check \
         the network, or if you meant cfsign-mock/moto, start it and pass its URL with --endpoint-url"
    )]
    Unreachable {
        /// The endpoint (URL or "the AWS default").
        endpoint: String,
        /// The API operation.
        operation: &'static str,
        /// The transport error.
        detail: String,
    },
    /// The endpoint answered, but not like the CloudFront API.
    #[error(
        "the endpoint {endpoint} does not look like the CloudFront API: {operation} got {detail}. \
         Fix: point --endpoint-url (or AWS_ENDPOINT_URL) at a CloudFront API root such as \
         http://127.0.0.1:4580 for cfsign-mock, or unset it to use AWS"
    )]
    NotCloudFront {
        /// The endpoint.
        endpoint: String,
        /// The API operation.
        operation: &'static str,
        /// What came back (status, content type, start of body).
        detail: String,
    },
    /// The distribution does not exist.
    #[error(
        "distribution {id} does not exist ({endpoint}). Fix: check the ID (`aws cloudfront \
         list-distributions`), the account/profile, and --endpoint-url"
    )]
    UnknownDistribution {
        /// The ID given.
        id: String,
        /// The endpoint asked.
        endpoint: String,
    },
    /// The key group does not exist.
    #[error(
        "key group `{name}` does not exist. Fix: create it with `cfsign-provision key-group ensure \
         --name {name} --key-id ID` or `cfsign-provision setup`"
    )]
    UnknownKeyGroup {
        /// The name or ID given.
        name: String,
    },
    /// A public key does not exist.
    #[error(
        "public key {id} does not exist. Fix: upload it with `cfsign-provision upload-key --name N \
         --public-key FILE` and use the ID it prints"
    )]
    UnknownPublicKey {
        /// The ID given.
        id: String,
    },
    /// A path pattern names no cache behaviour of the distribution.
    #[error(
        "distribution {distribution_id} has no cache behaviour with path pattern `{pattern}`; it has: {existing}. \
         Fix: pass one of those to --path-pattern, or use --default-behavior"
    )]
    UnknownPathPattern {
        /// The distribution.
        distribution_id: String,
        /// The pattern given.
        pattern: String,
        /// The patterns that exist.
        existing: String,
    },
    /// A key group would exceed CloudFront's 5-key quota.
    #[error(
        "a key group holds at most 5 public keys (CloudFront quota); {detail}. Fix: retire an old key \
         first with `cfsign-provision rotate --key-group G --retire OLD_ID`, or request a quota increase"
    )]
    TooManyKeysInGroup {
        /// The situation, e.g. "key group x already has 5".
        detail: String,
    },
    /// A cache behaviour would trust more than 4 key groups.
    #[error(
        "a cache behaviour trusts at most 4 key groups (CloudFront quota); {detail}. Fix: detach one \
         with `cfsign-provision detach`, or put the keys in one group"
    )]
    TooManyKeyGroupsOnBehavior {
        /// Which behaviour.
        detail: String,
    },
    /// Some other quota was exceeded.
    #[error(
        "CloudFront quota exceeded during {operation}: {message}. Fix: clean up unused resources or request a quota increase in Service Quotas"
    )]
    Quota {
        /// The API operation.
        operation: &'static str,
        /// CloudFront's message.
        message: String,
    },
    /// The public key is still used by a key group.
    #[error(
        "public key {id} is still in key group(s) {groups}; CloudFront refuses to delete a key in use. \
         Fix: remove it from those groups first (`cfsign-provision rotate --key-group G --retire {id}` \
         removes it from G and deletes it)"
    )]
    KeyInUse {
        /// The key ID.
        id: String,
        /// The groups still holding it.
        groups: String,
    },
    /// A key group is still attached to a distribution.
    #[error(
        "{what} is still in use: {message}. Fix: detach it first with `cfsign-provision detach`"
    )]
    ResourceInUse {
        /// The resource.
        what: String,
        /// CloudFront's message.
        message: String,
    },
    /// The removal would leave a key group empty.
    #[error(
        "removing {id} would leave key group `{group}` empty, and CloudFront needs at least one key. \
         Fix: add the new key first with `cfsign-provision rotate --key-group {group}`"
    )]
    LastKeyInGroup {
        /// The key ID.
        id: String,
        /// The group.
        group: String,
    },
    /// A public key with this name exists and holds different key material.
    #[error(
        "a public key named `{name}` already exists ({id}) with different key material. Fix: choose \
         another --name, or retire the old key (`cfsign-provision rotate --key-group G --retire {id}`)"
    )]
    KeyNameConflict {
        /// The name.
        name: String,
        /// The existing key's ID.
        id: String,
    },
    /// The key exists in CloudFront but its private key file is missing.
    #[error(
        "public key `{name}` ({id}) already exists in CloudFront but its private key is not at {path}. \
         Fix: pass --private-key-out pointing at the file written the first time, or pass \
         --key-name NEW to make a new key (or `cfsign-provision rotate`)"
    )]
    PrivateKeyMissing {
        /// The key name.
        name: String,
        /// The key ID.
        id: String,
        /// Where the private key was looked for.
        path: PathBuf,
    },
    /// The ETag kept changing under us.
    #[error(
        "{resource} kept changing while it was being updated ({attempts} attempts, each answered \
         PreconditionFailed because someone else updated it in between). Fix: wait until the other \
         change is done and run the command again"
    )]
    EtagConflict {
        /// What was being updated.
        resource: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A key was invalid.
    #[error("{context}: {source}")]
    Key {
        /// Where the key came from.
        context: String,
        /// The core crate's description.
        source: cfsign::Error,
    },
    /// A key held in AWS (KMS, Secrets Manager) could not be read or stored, or cannot sign for
    /// CloudFront.
    #[error("{0}")]
    Aws(#[from] cfsign_aws::Error),
    /// Bad input on the command line.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a local file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// CloudFront returned an error not covered above.
    #[error("{operation} failed: {code}: {message}{hint}")]
    Api {
        /// The API operation.
        operation: &'static str,
        /// CloudFront's error code.
        code: String,
        /// CloudFront's message.
        message: String,
        /// A hint on how to fix it (may be empty).
        hint: String,
    },
    /// A multi-step command stopped part-way; the report says what was done and what not.
    #[error(
        "{source}\n{} stopped part-way. {}\nTo complete it, run: {resume}",
        report.command, report.progress_summary()
    )]
    Incomplete {
        /// The command that completes the work (usually the same command again).
        resume: String,
        /// The steps: done, failed and not done.
        report: Box<Report>,
        /// What failed.
        source: Box<Error>,
    },
}

impl Error {
    pub(crate) fn key(context: impl Into<String>, source: cfsign::Error) -> Error {
        Error::Key {
            context: context.into(),
            source,
        }
    }

    /// A short machine-readable name for the error, used as `error.kind` in `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::MissingCredentials { .. } => "missing_credentials",
            Error::InvalidEndpoint { .. } => "invalid_endpoint",
            Error::Unreachable { .. } => "unreachable",
            Error::NotCloudFront { .. } => "not_cloudfront",
            Error::UnknownDistribution { .. } => "unknown_distribution",
            Error::UnknownKeyGroup { .. } => "unknown_key_group",
            Error::UnknownPublicKey { .. } => "unknown_public_key",
            Error::UnknownPathPattern { .. } => "unknown_path_pattern",
            Error::TooManyKeysInGroup { .. } => "quota_keys_in_group",
            Error::TooManyKeyGroupsOnBehavior { .. } => "quota_key_groups_on_behavior",
            Error::Quota { .. } => "quota",
            Error::KeyInUse { .. } => "key_in_use",
            Error::ResourceInUse { .. } => "resource_in_use",
            Error::LastKeyInGroup { .. } => "last_key_in_group",
            Error::KeyNameConflict { .. } => "key_name_conflict",
            Error::PrivateKeyMissing { .. } => "private_key_missing",
            Error::EtagConflict { .. } => "etag_conflict",
            Error::Key { .. } => "invalid_key",
            Error::Aws(cfsign_aws::Error::UnsuitableKmsKey { .. }) => "unsuitable_kms_key",
            Error::Aws(_) => "aws",
            Error::Usage(_) => "usage",
            Error::Io { .. } => "io",
            Error::Api { .. } => "api",
            Error::Incomplete { source, .. } => source.kind(),
        }
    }

    /// The report of a command that stopped part-way, if this is such an error.
    pub fn incomplete_report(&self) -> Option<&Report> {
        match self {
            Error::Incomplete { report, .. } => Some(report),
            _ => None,
        }
    }
}
