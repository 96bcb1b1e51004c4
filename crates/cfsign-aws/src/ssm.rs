//! Reading one SSM parameter, decrypted: the one `ssm:GetParameter` call behind key sources
//! (`secret.rs`) and text sources (`text.rs`), which then judge its type each by their own rule.

use aws_sdk_ssm::types::ParameterType;
use zeroize::Zeroizing;

use crate::sdk_error::Call;
use crate::{Aws, Error};

/// A parameter's value (wiped on drop) and its type as SSM reports it.
pub(crate) struct Parameter {
    /// The decrypted value (empty when SSM sends none).
    pub(crate) value: Zeroizing<String>,
    /// `String`, `StringList` or `SecureString`; `None` when SSM does not say.
    pub(crate) kind: Option<ParameterType>,
}

impl Parameter {
    /// The type's name as SSM spells it.
    pub(crate) fn kind_name(&self) -> Option<&str> {
        self.kind.as_ref().map(ParameterType::as_str)
    }
}

/// Reads parameter `name` with decryption, with the connection's retries.
pub(crate) async fn get_parameter(aws: &Aws, name: &str) -> Result<Parameter, Error> {
    let call = Call {
        service: "SSM",
        operation: "ssm:GetParameter",
        resource: name,
        attempts: aws.attempts,
    };
    let answer = aws
        .ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| call.error(e))?;
    let mut found = answer
        .parameter
        .ok_or_else(|| call.malformed("Parameter"))?;
    Ok(Parameter {
        value: Zeroizing::new(found.value.take().unwrap_or_default()),
        kind: found.r#type.take(),
    })
}
