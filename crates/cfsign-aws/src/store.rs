//! Storing a new private key in Secrets Manager (`cfsign-provision setup --store-secret`), so a
//! generated key goes from memory to AWS without touching disk.

use cfsign::PrivateKey;

use crate::sdk_error::Call;
use crate::{Aws, Error};

/// Creates Secrets Manager secret `name` holding `key` as PKCS#8 PEM (the whole `SecretString`,
/// which [`KeySource::secret`](crate::KeySource::secret) reads back); returns its ARN. A secret
/// of that name that already exists is an error (`ResourceExistsException`): nothing is
/// overwritten.
pub async fn store_private_key(aws: &Aws, name: &str, key: &PrivateKey) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidReference(
            "the secret name is empty".to_owned(),
        ));
    }
    let call = Call {
        service: "Secrets Manager",
        operation: "secretsmanager:CreateSecret",
        resource: name,
        attempts: aws.attempts,
    };
    let pem = key.to_pkcs8_pem();
    let answer = aws
        .secrets
        .create_secret()
        .name(name)
        .description("CloudFront signing key (PKCS#8 PEM), stored by cfsign")
        .secret_string(pem.as_str())
        .send()
        .await
        .map_err(|e| call.error(e))?;
    Ok(answer.arn().unwrap_or(name).to_owned())
}
