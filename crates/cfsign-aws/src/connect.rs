//! Reaching AWS: retry and timeout [`Settings`], and [`Aws`], the KMS, Secrets Manager and SSM
//! clients built from one SDK configuration (standard credential chain, `AWS_ENDPOINT_URL`).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

/// How patiently calls to AWS are made: retries with exponential backoff and jitter (the SDK's
/// standard mode, which retries throttling, timeouts and connection failures) and timeouts.
///
/// The defaults suit a signing service, where a request waits on the answer: 3 attempts, backoff
/// from 50 ms up to 1 s, 1 s to connect, 2 s per attempt and 5 s for a whole operation.
///
/// ```
/// use std::time::Duration;
/// let settings = cfsign_aws::Settings::default().with_max_attempts(5).with_operation_timeout(Duration::from_secs(10));
/// assert_eq!(settings.max_attempts(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    connect_timeout: Duration,
    attempt_timeout: Duration,
    operation_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// Attempts per call, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Settings {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry (doubled each retry, with jitter) and its ceiling.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Settings {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The time to open a connection.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Settings {
        self.connect_timeout = timeout;
        self
    }

    /// The time one attempt may take.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Settings {
        self.attempt_timeout = timeout;
        self
    }

    /// The time a whole call may take, retries and backoff included.
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Settings {
        self.operation_timeout = timeout;
        self
    }

    /// Attempts per call.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The time a whole call may take.
    pub fn operation_timeout(&self) -> Duration {
        self.operation_timeout
    }

    /// An SDK configuration loader with these retries and timeouts and the standard chain for
    /// everything else (credentials, region, `AWS_ENDPOINT_URL`): add to it (tests set a local
    /// endpoint and static credentials), then [`Aws::from_sdk_config`].
    pub fn loader(&self) -> ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(self.max_attempts)
                    .with_initial_backoff(self.initial_backoff)
                    .with_max_backoff(self.max_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.connect_timeout)
                    .operation_attempt_timeout(self.attempt_timeout)
                    .operation_timeout(self.operation_timeout)
                    .build(),
            )
    }
}

/// The AWS clients key sources use, sharing one configuration (and connection pool per service).
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Aws {
    pub(crate) kms: aws_sdk_kms::Client,
    pub(crate) secrets: aws_sdk_secretsmanager::Client,
    pub(crate) ssm: aws_sdk_ssm::Client,
    pub(crate) attempts: u32,
}

impl Aws {
    /// Clients from the environment, as the AWS CLI finds it (credentials chain, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_KMS` and the like), with `settings`.
    pub async fn from_env(settings: &Settings) -> Aws {
        Aws::from_sdk_config(&settings.loader().load().await, settings)
    }

    /// Clients from an SDK configuration made by [`Settings::loader`] (`settings` is the one it
    /// was made with, for the attempt count in errors).
    pub fn from_sdk_config(config: &SdkConfig, settings: &Settings) -> Aws {
        Aws {
            kms: aws_sdk_kms::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            attempts: settings.max_attempts,
        }
    }
}
