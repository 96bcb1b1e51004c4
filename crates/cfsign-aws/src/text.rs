//! Text stored in AWS, such as a whole configuration file: [`TextSource`] names a Secrets
//! Manager secret (its `SecretString`) or an SSM parameter (`String` or `SecureString`), and
//! [`TextSource::load`] fetches it into zeroizing memory.

use std::fmt;

use zeroize::Zeroizing;

use crate::sdk_error::Call;
use crate::ssm;
use crate::{Aws, Error};

/// Where a text value (e.g. cfsign-server's TOML configuration) is stored in AWS.
///
/// ```
/// use cfsign_aws::TextSource;
/// let source = TextSource::ssm_parameter("/cfsign/server.toml")?;
/// assert_eq!(source.to_string(), "SSM parameter `/cfsign/server.toml`");
/// assert!(TextSource::secret(" ").is_err());
/// # Ok::<(), cfsign_aws::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextSource {
    /// The `SecretString` (version `AWSCURRENT`) of a Secrets Manager secret, by name or ARN.
    Secret(String),
    /// An SSM Parameter Store parameter (`String` or `SecureString`, read with decryption), by
    /// name or ARN.
    SsmParameter(String),
}

impl TextSource {
    /// Secrets Manager secret `secret_id` (name or ARN).
    pub fn secret(secret_id: &str) -> Result<TextSource, Error> {
        non_empty(secret_id, "secret name").map(TextSource::Secret)
    }

    /// SSM parameter `name` (`/path/name` or ARN).
    pub fn ssm_parameter(name: &str) -> Result<TextSource, Error> {
        non_empty(name, "SSM parameter name").map(TextSource::SsmParameter)
    }

    /// Fetches the text. A binary secret, an empty value or a `StringList` parameter is an
    /// [`Error::Secret`] saying how to store the text instead.
    pub async fn load(&self, aws: &Aws) -> Result<Zeroizing<String>, Error> {
        let text = match self {
            TextSource::Secret(secret_id) => {
                let call = Call {
                    service: "Secrets Manager",
                    operation: "secretsmanager:GetSecretValue",
                    resource: secret_id,
                    attempts: aws.attempts,
                };
                let mut answer = aws
                    .secrets
                    .get_secret_value()
                    .secret_id(secret_id)
                    .send()
                    .await
                    .map_err(|e| call.error(e))?;
                let Some(text) = answer.secret_string.take() else {
                    return Err(self.unusable(
                        "the secret has no SecretString (it is binary); store the text with \
                         `aws secretsmanager put-secret-value --secret-string file://…`",
                    ));
                };
                Zeroizing::new(text)
            }
            TextSource::SsmParameter(name) => {
                let parameter = ssm::get_parameter(aws, name).await?;
                if parameter.kind_name() == Some("StringList") {
                    return Err(self.unusable(
                        "the parameter is a StringList; store the text as a String or SecureString",
                    ));
                }
                parameter.value
            }
        };
        if text.trim().is_empty() {
            return Err(self.unusable("the value is empty"));
        }
        Ok(text)
    }

    fn unusable(&self, reason: &str) -> Error {
        Error::Secret {
            source_name: self.to_string(),
            reason: reason.to_owned(),
        }
    }
}

impl fmt::Display for TextSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextSource::Secret(id) => write!(f, "secret `{id}`"),
            TextSource::SsmParameter(name) => write!(f, "SSM parameter `{name}`"),
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
