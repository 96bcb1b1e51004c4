//! Keys held in AWS KMS as the key pair of `upload-key`, `setup` and `rotate`: the key is read
//! and checked (key spec, usage, state) with `cfsign-aws` before CloudFront is touched, and only
//! its public key is uploaded.

use crate::{Error, KeySource};

/// Reads KMS key `key_id` (ID, ARN or alias) with the AWS default chain (`AWS_ENDPOINT_URL_KMS`
/// or `AWS_ENDPOINT_URL`, credentials, region) and checks that it can sign for CloudFront:
/// `RSA_2048` or `ECC_NIST_P256`, `SIGN_VERIFY`, enabled. Nothing is written.
pub async fn kms_key_source(key_id: &str) -> Result<KeySource, Error> {
    let aws = cfsign_aws::Aws::from_env(&cfsign_aws::Settings::default()).await;
    let key = cfsign_aws::KmsKey::connect(&aws, key_id).await?;
    Ok(KeySource::Kms {
        key_id: key.key_id().to_owned(),
        arn: key.arn().to_owned(),
        public_key: key.public_key().clone(),
    })
}
