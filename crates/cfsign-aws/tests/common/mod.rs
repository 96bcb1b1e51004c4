//! Test helpers: `Aws` clients for a local endpoint with test credentials (no environment read).
#![allow(dead_code, unreachable_pub)] // Each test file uses a different subset.

use cfsign_aws::{Aws, Settings};

/// Clients for `endpoint` with `settings`, static test credentials and region us-east-1.
pub async fn aws(endpoint: &str, settings: &Settings) -> Aws {
    let config = settings
        .loader()
        .endpoint_url(endpoint)
        .region(aws_sdk_kms::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    Aws::from_sdk_config(&config, settings)
}

/// A raw KMS client for `endpoint`, to create keys.
pub async fn kms(endpoint: &str) -> aws_sdk_kms::Client {
    let config = Settings::default()
        .loader()
        .endpoint_url(endpoint)
        .region(aws_sdk_kms::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_kms::Client::new(&config)
}
