//! Keys held in AWS as the key pair of `upload-key`, `setup` and `rotate`, through `cfsign-aws`:
//! a KMS key is read and checked (key spec, usage, state) before CloudFront is touched, and only
//! its public key is uploaded; a Secrets Manager secret is read (to reuse its key) before the
//! plan, and a new key is stored into it by the plan's step.

use cfsign::{KeyKind, PrivateKey};

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

/// Reads Secrets Manager secret `name` with the AWS default chain (`AWS_ENDPOINT_URL_SECRETS_MANAGER`
/// or `AWS_ENDPOINT_URL`): a secret holding a private key is reused, a missing one will be created
/// with a new key of `kind`; a secret holding anything else is an error. Nothing is written.
pub async fn secret_key_source(name: &str, kind: KeyKind) -> Result<KeySource, Error> {
    let aws = cfsign_aws::Aws::from_env(&cfsign_aws::Settings::default()).await;
    let existing = match cfsign_aws::KeySource::secret(name)?.load(&aws).await {
        Ok(key) => Some(key.public_key()),
        Err(cfsign_aws::Error::Service { code, .. }) if code == "ResourceNotFoundException" => None,
        Err(e) => return Err(e.into()),
    };
    Ok(KeySource::Secret {
        name: name.trim().to_owned(),
        kind,
        existing,
    })
}

/// Stores `key` in a new Secrets Manager secret `name` (the plan's step).
pub(crate) async fn store_secret(name: &str, key: &PrivateKey) -> Result<String, Error> {
    let aws = cfsign_aws::Aws::from_env(&cfsign_aws::Settings::default()).await;
    Ok(cfsign_aws::store_private_key(&aws, name, key).await?)
}
