//! Turning the SDK's errors into [`Error`]: throttling, timeouts and unreachable endpoints each
//! get their own variant and advice; anything else keeps AWS's code and message.

use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::Error;

/// The call an error belongs to, for its message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// The service, e.g. "KMS".
    pub(crate) service: &'static str,
    /// The operation, e.g. "kms:Sign".
    pub(crate) operation: &'static str,
    /// The key, secret or parameter.
    pub(crate) resource: &'a str,
    /// The configured attempts.
    pub(crate) attempts: u32,
}

/// The error codes AWS uses for throttling (the SDK's standard retry classifier's list).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl Call<'_> {
    /// The [`Error`] for an SDK error of this call.
    pub(crate) fn error<E, R>(&self, err: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let resource = self.resource.to_owned();
        let operation = self.operation;
        match &err {
            SdkError::TimeoutError(_) => Error::Timeout {
                operation,
                resource,
                detail: DisplayErrorContext(&err).to_string(),
            },
            SdkError::DispatchFailure(failure) if failure.is_timeout() => Error::Timeout {
                operation,
                resource,
                detail: DisplayErrorContext(&err).to_string(),
            },
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_other() => {
                Error::Unreachable {
                    operation,
                    resource,
                    detail: DisplayErrorContext(&err).to_string(),
                }
            }
            SdkError::ServiceError(service) => {
                let code = service
                    .err()
                    .code()
                    .unwrap_or("an unnamed error")
                    .to_owned();
                let message = service.err().message().unwrap_or("(no message)").to_owned();
                if THROTTLING_CODES.contains(&code.as_str()) {
                    return Error::Throttled {
                        service: self.service,
                        operation,
                        resource,
                        code,
                        attempts: self.attempts,
                    };
                }
                let hint = hint(&code);
                Error::Service {
                    operation,
                    resource,
                    code,
                    message,
                    hint,
                }
            }
            _ => Error::Call {
                operation,
                resource,
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    /// An answer that lacks what the operation promises.
    pub(crate) fn malformed(&self, what: &str) -> Error {
        Error::Call {
            operation: self.operation,
            resource: self.resource.to_owned(),
            detail: format!("the answer has no {what}; is the endpoint really AWS?"),
        }
    }
}

/// What to do about an error code.
fn hint(code: &str) -> &'static str {
    match code {
        "NotFoundException" | "ResourceNotFoundException" | "ParameterNotFound" => {
            ". Check the ID or ARN, and the region (AWS_REGION) it lives in"
        }
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            ". Grant this identity the permission (kms:Sign and kms:GetPublicKey and kms:DescribeKey, \
             secretsmanager:GetSecretValue, or ssm:GetParameter; and kms:Decrypt on the key encrypting the secret)"
        }
        "DisabledException" => ". Enable the key (`aws kms enable-key --key-id …`)",
        "ResourceExistsException" => {
            ". A secret of that name exists; nothing was overwritten: pick another name, or delete it first"
        }
        "KMSInvalidStateException" => ". The key is pending deletion or import; use an enabled key",
        "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException" => {
            ". Check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, the instance role)"
        }
        _ => "",
    }
}
