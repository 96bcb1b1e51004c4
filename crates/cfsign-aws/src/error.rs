//! The one error type of `cfsign-aws`: every variant names the AWS resource and says what to do.

/// Everything that can go wrong reaching AWS or using what it returns.
///
/// Messages name the key, secret or parameter (an ID or ARN, never its contents) and never contain
/// key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// AWS throttled the call, and it was still throttled after the retries.
    #[error(
        "{operation} on `{resource}` was throttled by AWS ({code}) after {attempts} attempt(s) with backoff: the \
         account's request quota for {service} is exhausted. Lower the request rate (a signing service: a longer \
         cache granularity so more requests share a signature), or ask AWS for a higher quota"
    )]
    Throttled {
        /// The service, e.g. "KMS".
        service: &'static str,
        /// The operation, e.g. "kms:Sign".
        operation: &'static str,
        /// The key, secret or parameter.
        resource: String,
        /// The error code AWS answered, e.g. `ThrottlingException`.
        code: String,
        /// The attempts made (the configured maximum).
        attempts: u32,
    },
    /// No answer in time (a connect, attempt or operation timeout).
    #[error(
        "{operation} on `{resource}` timed out ({detail}); check the endpoint is reachable and healthy, or raise \
         the timeouts"
    )]
    Timeout {
        /// The operation.
        operation: &'static str,
        /// The key, secret or parameter.
        resource: String,
        /// Which timeout, as the SDK describes it.
        detail: String,
    },
    /// The endpoint could not be reached (connection refused, DNS, TLS), still after the retries.
    #[error(
        "{operation} on `{resource}` could not reach AWS ({detail}); check AWS_ENDPOINT_URL / AWS_REGION, the \
         network and any proxy"
    )]
    Unreachable {
        /// The operation.
        operation: &'static str,
        /// The key, secret or parameter.
        resource: String,
        /// The SDK's description of the failure.
        detail: String,
    },
    /// AWS answered with an error (not found, access denied, invalid state, …).
    #[error("{operation} on `{resource}` failed: {code}: {message}{hint}")]
    Service {
        /// The operation.
        operation: &'static str,
        /// The key, secret or parameter.
        resource: String,
        /// AWS's error code, e.g. `NotFoundException`.
        code: String,
        /// AWS's message.
        message: String,
        /// What to do, when the code says (starts with ". " when not empty).
        hint: &'static str,
    },
    /// The call could not be made or its answer not read (a configuration problem, a malformed
    /// answer).
    #[error("{operation} on `{resource}` failed: {detail}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// The key, secret or parameter.
        resource: String,
        /// What went wrong.
        detail: String,
    },
    /// The KMS key cannot sign for CloudFront: wrong key spec, key usage or state.
    #[error("KMS key `{key_id}` cannot sign for CloudFront: {reason}")]
    UnsuitableKmsKey {
        /// The key ID or ARN given.
        key_id: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// SHA-1 was asked of a KMS key.
    #[error(
        "KMS key `{key_id}` signs with SHA-256 only: KMS has no SHA-1 signing algorithm \
         (RSASSA_PKCS1_V1_5_SHA_256 and ECDSA_SHA_256 are the ones CloudFront takes). Ask for SHA-256 \
         (`Hash-Algorithm=SHA256`, which CloudFront accepts), or sign SHA-1 with a PEM key"
    )]
    Sha1WithKms {
        /// The key ID or ARN.
        key_id: String,
    },
    /// KMS returned a signature that does not verify with the key's own public key.
    #[error(
        "KMS key `{key_id}` returned a signature that does not verify with its public key (kms:GetPublicKey); \
         refusing it, since CloudFront would answer 403. Check the endpoint is really KMS and the key was not \
         replaced"
    )]
    SignatureMismatch {
        /// The key ID or ARN.
        key_id: String,
    },
    /// What AWS returned is not a usable CloudFront signing key (a public key, garbage, an
    /// encrypted key, an unsupported algorithm).
    #[error("{source_name}: {error}")]
    Key {
        /// Where the key came from, e.g. "secret `arn:…` (field `private_key`)".
        source_name: String,
        /// What the core found.
        #[source]
        error: cfsign::Error,
    },
    /// The secret's value is not what its reference says (not JSON, a JSON field missing, the
    /// wrong parameter type, empty).
    #[error("{source_name}: {reason}")]
    Secret {
        /// Where the value came from.
        source_name: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The core refused to finish a URL signed elsewhere (it would exceed CloudFront's URL limit).
    #[error("{0}")]
    Finish(#[source] cfsign::Error),
    /// A reference to a key, secret or parameter is not usable (empty, both a version stage and a
    /// version ID).
    #[error("{0}")]
    InvalidReference(String),
}
