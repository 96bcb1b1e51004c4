//! Reading the keys held in AWS (feature `aws`): every `kms_key_id`, `secret` and
//! `ssm_parameter` of `[[keys]]` is read with `cfsign-aws` (a KMS key checked to sign for
//! CloudFront, a PEM parsed) into [`RemoteKeys`], at start, on reload and every `refresh_secs`.

use std::sync::Arc;
use std::time::Duration;

use cfsign_aws::{Aws, KeySource, KmsKey, SecretVersion, Settings};

use crate::config::{AwsSection, Config, KeyConfig};
use crate::remote::{Material, RemoteKeys, label};

/// The retries and timeouts of `[aws]`.
pub(crate) fn settings(section: &AwsSection) -> Settings {
    Settings::default()
        .with_max_attempts(section.max_attempts.max(1))
        .with_operation_timeout(Duration::from_secs(section.timeout_secs.max(1)))
}

/// Reads every AWS key source of `config` at `now` (Unix seconds); a failure is recorded (and
/// logged) and keeps the source's last good material. Returns whether any material changed.
pub(crate) async fn refresh(remote: &RemoteKeys, aws: &Aws, config: &Config, now: u64) -> bool {
    let mut labels = Vec::new();
    let mut changed = false;
    for key in &config.keys {
        let Some(label) = label(key) else { continue };
        match read(aws, key).await {
            Ok(material) => changed |= remote.record_ok(&label, material, now),
            Err(error) => {
                tracing::warn!(source = %label, error = %error, "reading a key held in AWS failed; keeping the last good key");
                remote.record_error(&label, error);
            }
        }
        labels.push(label);
    }
    remote.retain(&labels);
    changed
}

/// Reads one source.
async fn read(aws: &Aws, key: &KeyConfig) -> Result<Material, String> {
    if let Some(id) = &key.kms_key_id {
        return KmsKey::connect(aws, id)
            .await
            .map(|key| Material::Kms(Box::new(key)))
            .map_err(|e| e.to_string());
    }
    let source = match (&key.secret, &key.ssm_parameter) {
        (Some(secret), _) => secret_source(secret, key).map_err(|e| e.to_string())?,
        (None, Some(name)) => KeySource::ssm_parameter(name).map_err(|e| e.to_string())?,
        (None, None) => return Err("not a key held in AWS".to_owned()),
    };
    let private = source.load(aws).await.map_err(|e| e.to_string())?;
    Ok(Material::Private(Arc::new(private.to_pkcs8_der())))
}

fn secret_source(secret: &str, key: &KeyConfig) -> Result<KeySource, cfsign_aws::Error> {
    let mut source = KeySource::secret(secret)?;
    if let Some(field) = &key.json_field {
        source = source.with_json_field(field)?;
    }
    match (&key.version_stage, &key.version_id) {
        (Some(stage), None) => source.with_version(SecretVersion::Stage(stage.clone())),
        (None, Some(id)) => source.with_version(SecretVersion::Id(id.clone())),
        (None, None) => Ok(source),
        (Some(_), Some(_)) => Err(cfsign_aws::Error::InvalidReference(
            "give at most one of `version_stage` or `version_id`".to_owned(),
        )),
    }
}
