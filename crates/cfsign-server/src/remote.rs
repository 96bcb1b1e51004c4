//! Keys held in AWS (`kms_key_id`, `secret`, `ssm_parameter` in `[[keys]]`): the last good
//! material read from each source, its refresh status for `/readyz` and `/metrics`, the KMS call
//! counts, and (feature `aws`) the refresh itself. A failed refresh keeps the last good material,
//! so the server keeps signing with the keys it has.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroizing;

use crate::config::KeyConfig;
use crate::wire::KeySourceStatus;

/// What a source last gave.
#[derive(Clone)]
pub(crate) enum Material {
    /// A private key read from Secrets Manager or SSM, as PKCS#8 DER in zeroizing memory.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))] // Only the AWS refresh reads sources.
    Private(Arc<Zeroizing<Vec<u8>>>),
    /// A KMS key, checked to sign for CloudFront.
    #[cfg(feature = "aws")]
    Kms(Box<cfsign_aws::KmsKey>),
}

/// One source's state.
#[derive(Default)]
struct Source {
    material: Option<Material>,
    error: Option<String>,
    failures: u64,
    last_success: Option<u64>,
}

/// Every AWS key source's last good material and status, shared by the runtime builds.
#[derive(Default)]
pub(crate) struct RemoteKeys {
    sources: Mutex<BTreeMap<String, Source>>,
    kms_calls: AtomicU64,
    kms_failures: AtomicU64,
}

/// The label of an AWS key source, as `/readyz` and `/metrics` name it (`kms:…`, `secret:…`,
/// `ssm:…`); `None` for a file or variable.
pub(crate) fn label(key: &KeyConfig) -> Option<String> {
    if let Some(id) = &key.kms_key_id {
        return Some(format!("kms:{}", id.trim()));
    }
    if let Some(secret) = &key.secret {
        let mut label = format!("secret:{}", secret.trim());
        if let Some(field) = &key.json_field {
            let _ = write!(label, "#{field}");
        }
        if let Some(stage) = &key.version_stage {
            let _ = write!(label, "@{stage}");
        }
        if let Some(id) = &key.version_id {
            let _ = write!(label, "@{id}");
        }
        return Some(label);
    }
    key.ssm_parameter
        .as_ref()
        .map(|name| format!("ssm:{}", name.trim()))
}

impl RemoteKeys {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Source>> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The last good material of `label`, or why there is none.
    pub(crate) fn material(&self, label: &str) -> Result<Material, String> {
        match self.lock().get(label) {
            Some(Source {
                material: Some(material),
                ..
            }) => Ok(material.clone()),
            Some(Source {
                error: Some(error), ..
            }) => Err(format!("could not be read: {error}")),
            _ => Err(
                "has not been read (the server reads AWS key sources at start and on reload)"
                    .to_owned(),
            ),
        }
    }

    /// Records a successful read at `now` (Unix seconds); whether the material changed.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))] // Only the AWS refresh reads sources.
    pub(crate) fn record_ok(&self, label: &str, material: Material, now: u64) -> bool {
        let mut sources = self.lock();
        let source = sources.entry(label.to_owned()).or_default();
        let changed = match (&source.material, &material) {
            (Some(Material::Private(old)), Material::Private(new)) => !bool::from(
                subtle::ConstantTimeEq::ct_eq(old.as_slice(), new.as_slice()),
            ),
            #[cfg(feature = "aws")]
            (Some(Material::Kms(old)), Material::Kms(new)) => {
                old.arn() != new.arn() || old.public_key() != new.public_key()
            }
            _ => true,
        };
        source.material = Some(material);
        source.error = None;
        source.last_success = Some(now);
        changed
    }

    /// Records a failed read; the last good material stays.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))] // Only the AWS refresh reads sources.
    pub(crate) fn record_error(&self, label: &str, error: String) {
        let mut sources = self.lock();
        let source = sources.entry(label.to_owned()).or_default();
        source.error = Some(error);
        source.failures += 1;
    }

    /// Forgets sources no longer configured.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))] // Only the AWS refresh reads sources.
    pub(crate) fn retain(&self, labels: &[String]) {
        self.lock().retain(|label, _| labels.contains(label));
    }

    /// Counts a `kms:Sign` call.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))] // Only KMS keys call KMS.
    pub(crate) fn kms_call(&self, ok: bool) {
        self.kms_calls.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.kms_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Each source's status, for `/readyz`.
    pub(crate) fn statuses(&self) -> Vec<KeySourceStatus> {
        self.lock()
            .iter()
            .map(|(label, source)| KeySourceStatus {
                source: label.clone(),
                loaded: source.material.is_some(),
                error: source.error.clone(),
                refresh_failures: source.failures,
                last_success: source.last_success,
            })
            .collect()
    }

    /// The Prometheus lines: KMS calls, and each source's health and failed refreshes.
    pub(crate) fn render(&self, out: &mut String) {
        let kms_calls = self.kms_calls.load(Ordering::Relaxed);
        let kms_failures = self.kms_failures.load(Ordering::Relaxed);
        out.push_str(
            "# HELP cfsign_kms_sign_calls_total kms:Sign calls made (cache misses of KMS keys).\n",
        );
        out.push_str("# TYPE cfsign_kms_sign_calls_total counter\n");
        let _ = writeln!(out, "cfsign_kms_sign_calls_total {kms_calls}");
        out.push_str(
            "# HELP cfsign_kms_sign_failures_total kms:Sign calls that failed (after retries).\n",
        );
        out.push_str("# TYPE cfsign_kms_sign_failures_total counter\n");
        let _ = writeln!(out, "cfsign_kms_sign_failures_total {kms_failures}");
        let sources = self.lock();
        if sources.is_empty() {
            return;
        }
        out.push_str(
            "# HELP cfsign_key_source_up 1 if the last read of an AWS key source succeeded, 0 if it failed \
             (the last good key is kept).\n",
        );
        out.push_str("# TYPE cfsign_key_source_up gauge\n");
        for (label, source) in sources.iter() {
            let up = u8::from(source.error.is_none() && source.material.is_some());
            let _ = writeln!(
                out,
                "cfsign_key_source_up{{source=\"{}\"}} {up}",
                escape(label)
            );
        }
        out.push_str(
            "# HELP cfsign_key_source_refresh_failures_total Failed reads of an AWS key source.\n",
        );
        out.push_str("# TYPE cfsign_key_source_refresh_failures_total counter\n");
        for (label, source) in sources.iter() {
            let _ = writeln!(
                out,
                "cfsign_key_source_refresh_failures_total{{source=\"{}\"}} {}",
                escape(label),
                source.failures
            );
        }
    }
}

/// A Prometheus label value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
