//! Private keys stored in AWS: [`KeySource`] names a Secrets Manager secret (a version stage or
//! version ID, the whole value or one JSON field) or an SSM `SecureString` parameter, and
//! [`KeySource::load`] fetches and parses it, zeroizing what it fetched.

use std::fmt;

use cfsign::PrivateKey;
use zeroize::Zeroizing;

use crate::sdk_error::Call;
use crate::{Aws, Error};
use crate::{secret_text, ssm};

/// Which version of a secret to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretVersion {
    /// A version stage label, such as `AWSCURRENT` (the default) or `AWSPENDING` (the new key
    /// during a rotation).
    Stage(String),
    /// One version, by its ID.
    Id(String),
}

impl Default for SecretVersion {
    fn default() -> SecretVersion {
        SecretVersion::Stage("AWSCURRENT".to_owned())
    }
}

/// Where a PEM private key is stored in AWS.
///
/// ```
/// use cfsign_aws::{KeySource, SecretVersion};
/// let source = KeySource::secret("arn:aws:secretsmanager:us-east-1:111122223333:secret:cdn-key-AbCdEf")?
///     .with_json_field("private_key")?
///     .with_version(SecretVersion::Stage("AWSPENDING".to_owned()))?;
/// assert_eq!(
///     source.to_string(),
///     "secret `arn:aws:secretsmanager:us-east-1:111122223333:secret:cdn-key-AbCdEf` (stage AWSPENDING)"
/// );
/// let parameter = KeySource::ssm_parameter("/cdn/signing-key")?;
/// assert_eq!(parameter.to_string(), "SSM parameter `/cdn/signing-key`");
/// # Ok::<(), cfsign_aws::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A Secrets Manager secret.
    Secret {
        /// Its name or ARN.
        secret_id: String,
        /// The JSON field holding the PEM text, when the secret is a JSON object.
        json_field: Option<String>,
        /// The version read.
        version: SecretVersion,
    },
    /// An SSM Parameter Store `SecureString` parameter (read with decryption).
    SsmParameter {
        /// Its name (`/path/name`) or ARN.
        name: String,
    },
}

impl KeySource {
    /// The current version (`AWSCURRENT`) of Secrets Manager secret `secret_id` (name or ARN).
    pub fn secret(secret_id: &str) -> Result<KeySource, Error> {
        Ok(KeySource::Secret {
            secret_id: non_empty(secret_id, "secret name or ARN")?,
            json_field: None,
            version: SecretVersion::default(),
        })
    }

    /// SSM parameter `name`.
    pub fn ssm_parameter(name: &str) -> Result<KeySource, Error> {
        Ok(KeySource::SsmParameter {
            name: non_empty(name, "SSM parameter name")?,
        })
    }

    /// The same secret, reading the PEM text from JSON field `field`.
    pub fn with_json_field(self, field: &str) -> Result<KeySource, Error> {
        match self {
            KeySource::Secret {
                secret_id, version, ..
            } => Ok(KeySource::Secret {
                secret_id,
                json_field: Some(non_empty(field, "json_field")?),
                version,
            }),
            KeySource::SsmParameter { name } => Err(Error::InvalidReference(format!(
                "`json_field` applies to Secrets Manager secrets, not SSM parameter `{name}`"
            ))),
        }
    }

    /// The same secret at `version`.
    pub fn with_version(self, version: SecretVersion) -> Result<KeySource, Error> {
        match (self, version) {
            (_, SecretVersion::Stage(s) | SecretVersion::Id(s)) if s.trim().is_empty() => Err(
                Error::InvalidReference("the secret's version stage or ID is empty".to_owned()),
            ),
            (
                KeySource::Secret {
                    secret_id,
                    json_field,
                    ..
                },
                version,
            ) => Ok(KeySource::Secret {
                secret_id,
                json_field,
                version,
            }),
            (KeySource::SsmParameter { name }, _) => Err(Error::InvalidReference(format!(
                "a version stage or ID applies to Secrets Manager secrets, not SSM parameter `{name}`"
            ))),
        }
    }

    /// Fetches the value and parses the private key in it.
    pub async fn load(&self, aws: &Aws) -> Result<PrivateKey, Error> {
        let name = self.to_string();
        match self {
            KeySource::Secret {
                secret_id,
                json_field,
                version,
            } => {
                let call = Call {
                    service: "Secrets Manager",
                    operation: "secretsmanager:GetSecretValue",
                    resource: secret_id,
                    attempts: aws.attempts,
                };
                let request = aws.secrets.get_secret_value().secret_id(secret_id);
                let request = match version {
                    SecretVersion::Stage(stage) => request.version_stage(stage),
                    SecretVersion::Id(id) => request.version_id(id),
                };
                let mut answer = request.send().await.map_err(|e| call.error(e))?;
                if let Some(text) = answer.secret_string.take() {
                    let text = Zeroizing::new(text);
                    return secret_text::key_from_string(&text, json_field.as_deref(), &name);
                }
                let Some(binary) = answer.secret_binary.take() else {
                    return Err(call.malformed("SecretString or SecretBinary"));
                };
                let bytes = Zeroizing::new(binary.into_inner());
                if json_field.is_some() {
                    return Err(Error::Secret {
                        source_name: name,
                        reason: "the secret is binary (SecretBinary), so it has no JSON fields; drop `json_field`"
                            .to_owned(),
                    });
                }
                secret_text::key_from_binary(&bytes, &name)
            }
            KeySource::SsmParameter { name: parameter } => {
                let found = ssm::get_parameter(aws, parameter).await?;
                let value = &found.value;
                match found.kind_name() {
                    Some("SecureString") => secret_text::key_from_string(value, None, &name),
                    other => Err(Error::Secret {
                        source_name: name,
                        reason: format!(
                            "the parameter is a {}, not a SecureString: a private key must be stored encrypted. \
                             Store it again with `aws ssm put-parameter --type SecureString --overwrite …`",
                            other.unwrap_or("parameter of unknown type")
                        ),
                    }),
                }
            }
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Secret {
                secret_id, version, ..
            } => {
                write!(f, "secret `{secret_id}`")?;
                match version {
                    SecretVersion::Stage(stage) if stage == "AWSCURRENT" => Ok(()),
                    SecretVersion::Stage(stage) => write!(f, " (stage {stage})"),
                    SecretVersion::Id(id) => write!(f, " (version {id})"),
                }
            }
            KeySource::SsmParameter { name } => write!(f, "SSM parameter `{name}`"),
        }
    }
}

fn non_empty(value: &str, what: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::InvalidReference(format!("the {what} is empty")));
    }
    Ok(value.to_owned())
}
