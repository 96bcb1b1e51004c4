//! `doctor`: reads a distribution and everything it references, and says — per cache behaviour
//! in CloudFront's evaluation order — who is trusted and what is wrong; checks a signing key
//! against the trusted public keys by fingerprint (the private key never leaves the process);
//! and probes URLs unsigned and signed. It only reads.

mod checks;
mod patterns;
mod probe;
mod report;

use std::fmt;

use cfsign::{KeyPairId, PrivateKey, PublicKey, Signer, UnixTime, UnsignedUrl};

use crate::doctor::checks::{
    BehaviourFacts, Facts, GroupFacts, KeyFacts, config_problems, describe, fingerprint,
};
pub use crate::doctor::report::{
    DoctorBehavior, DoctorGroup, DoctorKey, DoctorReport, Health, KeyCheck, Probe, Problem,
    Severity,
};
use crate::trusted::trusted_ids;
use crate::{Error, Provisioner};

/// How long the URL of a signed probe is valid.
const PROBE_VALIDITY_SECS: u64 = 300;

/// The signing key `doctor` checks: a private key (from a file or an environment variable) or
/// an AWS KMS key. Only its public key is compared; the private key signs the probes locally.
pub enum DoctorSigner {
    /// A private key held in this process.
    PrivateKey {
        /// The key.
        key: PrivateKey,
        /// Where it came from, for the report (`private key file k.pem`).
        source: String,
    },
    /// An AWS KMS key (signs probes with `kms:Sign`).
    Kms(cfsign_aws::KmsKey),
}

impl fmt::Debug for DoctorSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DoctorSigner::PrivateKey { source, .. } => f
                .debug_struct("PrivateKey")
                .field("source", source)
                .finish_non_exhaustive(),
            DoctorSigner::Kms(key) => f.debug_tuple("Kms").field(&key.key_id()).finish(),
        }
    }
}

impl DoctorSigner {
    fn public_key(&self) -> PublicKey {
        match self {
            DoctorSigner::PrivateKey { key, .. } => key.public_key(),
            DoctorSigner::Kms(key) => key.public_key().clone(),
        }
    }

    fn source(&self) -> String {
        match self {
            DoctorSigner::PrivateKey { source, .. } => source.clone(),
            DoctorSigner::Kms(key) => format!("KMS key {}", key.arn()),
        }
    }
}

/// What `doctor` checks.
#[derive(Debug)]
#[non_exhaustive]
pub struct DoctorOptions {
    /// The distribution ID.
    pub distribution_id: String,
    /// The signing key to check and sign probes with.
    pub signer: Option<DoctorSigner>,
    /// The Key-Pair-Id signers use (checked against the key, or alone: which behaviours accept it).
    pub key_pair_id: Option<String>,
    /// URLs to request unsigned and, with a key, signed.
    pub probes: Vec<String>,
    /// Path patterns that must land on restricted behaviours, such as `private/*`.
    pub expect_private: Vec<String>,
}

impl DoctorOptions {
    /// Checks `distribution_id` with no key, no probes and no expectations.
    pub fn new(distribution_id: impl Into<String>) -> DoctorOptions {
        DoctorOptions {
            distribution_id: distribution_id.into(),
            signer: None,
            key_pair_id: None,
            probes: Vec::new(),
            expect_private: Vec::new(),
        }
    }
}

impl Provisioner {
    /// `doctor`: reads the distribution, its key groups and public keys, checks them, checks
    /// the key and runs the probes. An `Err` means the distribution could not be read; every
    /// problem found is in the report.
    pub async fn doctor(&self, mut options: DoctorOptions) -> Result<DoctorReport, Error> {
        let facts_and_ids = self.read_facts(&options.distribution_id).await?;
        let (facts, domain_name) = facts_and_ids;
        let mut report = DoctorReport {
            distribution_id: options.distribution_id.clone(),
            domain_name,
            status: facts.status.clone(),
            enabled: facts.enabled,
            behaviors: describe(&facts),
            key: None,
            probes: Vec::new(),
            problems: config_problems(&facts, &options.expect_private),
            health: Health::Healthy,
        };
        let key_pair_id = check_key(&facts, &options, &mut report);
        let signer = match (options.signer.take(), &key_pair_id) {
            (Some(signer), Some(kpid)) => Some(ProbeSigner::new(signer, kpid)),
            _ => None,
        };
        for url in &options.probes {
            report.probes.push(probe::unsigned(&facts, url).await);
            if let (Some(signer), Some(kpid)) = (&signer, &key_pair_id) {
                let p = signed_probe(&facts, signer, kpid, url).await;
                report.probes.push(p);
            }
        }
        for p in report.probes.iter().filter(|p| !p.ok) {
            report.problems.push(Problem {
                severity: Severity::Error,
                code: "probe_failed",
                behavior: p.behavior.clone(),
                message: format!(
                    "{} probe of {}: {}",
                    if p.signed { "signed" } else { "unsigned" },
                    p.url,
                    p.explanation
                ),
            });
        }
        report.finish();
        Ok(report)
    }

    async fn read_facts(&self, distribution_id: &str) -> Result<(Facts, String), Error> {
        let (dist, _) = self.get_distribution(distribution_id).await?;
        let groups = self.list_key_groups().await?;
        let keys = self.list_public_keys().await?;
        let mut behaviours = Vec::new();
        let mut enabled = true;
        if let Some(config) = &dist.distribution_config {
            enabled = config.enabled;
            for b in config
                .cache_behaviors
                .as_ref()
                .and_then(|c| c.items.as_ref())
                .into_iter()
                .flatten()
            {
                behaviours.push(BehaviourFacts {
                    pattern: Some(b.path_pattern.clone()),
                    key_group_ids: trusted_ids(b.trusted_key_groups.as_ref()),
                    trusted_signers: b.trusted_signers.as_ref().is_some_and(|t| t.enabled),
                });
            }
            if let Some(b) = &config.default_cache_behavior {
                behaviours.push(BehaviourFacts {
                    pattern: None,
                    key_group_ids: trusted_ids(b.trusted_key_groups.as_ref()),
                    trusted_signers: b.trusted_signers.as_ref().is_some_and(|t| t.enabled),
                });
            }
        }
        let facts = Facts {
            status: dist.status,
            enabled,
            behaviours,
            groups: groups
                .into_iter()
                .map(|g| GroupFacts {
                    id: g.id,
                    name: g.name,
                    key_ids: g.key_ids,
                })
                .collect(),
            keys: keys
                .into_iter()
                .map(|k| KeyFacts {
                    id: k.id,
                    name: k.name,
                    encoded_key: k.encoded_key,
                    created: k.created,
                })
                .collect(),
        };
        Ok((facts, dist.domain_name))
    }
}

/// Checks the signing key and/or Key-Pair-Id; marks which behaviours accept it; returns the
/// Key-Pair-Id signed probes use.
fn check_key(facts: &Facts, options: &DoctorOptions, report: &mut DoctorReport) -> Option<String> {
    let given = options
        .key_pair_id
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if options.signer.is_none() && given.is_none() {
        return None;
    }
    let mut check = KeyCheck {
        source: String::new(),
        algorithm: None,
        fingerprint: None,
        uploaded_as: Vec::new(),
        key_pair_id: None,
        accepted_by: Vec::new(),
    };
    let mut problems = Vec::new();
    let candidates: Vec<String> = match &options.signer {
        Some(signer) => {
            let public = signer.public_key();
            let der = public.to_der();
            check.source = signer.source();
            check.algorithm = Some(public.algorithm().to_string());
            check.fingerprint = Some(fingerprint(&public));
            check.uploaded_as = facts
                .keys
                .iter()
                .filter(|k| PublicKey::from_pem(&k.encoded_key).is_ok_and(|p| p.to_der() == der))
                .map(|k| k.id.clone())
                .collect();
            match given {
                Some(kpid) if !check.uploaded_as.iter().any(|k| k == kpid) => {
                    problems.push(Problem {
                        severity: Severity::Error,
                        code: "key_pair_id_mismatch",
                        behavior: None,
                        message: if facts.keys.iter().any(|k| k.id == kpid) {
                            format!(
                                "--key-pair-id {kpid} is a different public key than your private key's: signatures with this pair fail with 403 AccessDenied. {}",
                                uploaded_hint(&check.uploaded_as)
                            )
                        } else {
                            format!(
                                "--key-pair-id {kpid} is not an uploaded public key: signatures with it fail with 403 InvalidKey. {}",
                                uploaded_hint(&check.uploaded_as)
                            )
                        },
                    });
                    Vec::new()
                }
                Some(kpid) => vec![kpid.to_owned()],
                None => check.uploaded_as.clone(),
            }
        }
        None => {
            let kpid = given.unwrap_or_default();
            check.source = format!("--key-pair-id {kpid}");
            if !facts.keys.iter().any(|k| k.id == kpid) {
                problems.push(Problem {
                    severity: Severity::Error,
                    code: "unknown_key_pair_id",
                    behavior: None,
                    message: format!(
                        "{kpid} is not an uploaded public key: signatures with it fail with 403 InvalidKey. List keys with `aws cloudfront list-public-keys`"
                    ),
                });
            }
            vec![kpid.to_owned()]
        }
    };
    let restricted_any = facts.behaviours.iter().any(BehaviourFacts::restricted);
    for (b, d) in facts.behaviours.iter().zip(report.behaviors.iter_mut()) {
        let trusted = facts.trusted_key_ids(b);
        let accepts = b.restricted() && candidates.iter().any(|c| trusted.contains(&c.as_str()));
        d.accepts_key = Some(accepts);
        if accepts {
            check.accepted_by.push(b.label().to_owned());
        }
    }
    // The Key-Pair-Id for signed probes: the one given, else an uploaded match trusted somewhere.
    check.key_pair_id = given.map(str::to_owned).or_else(|| {
        candidates
            .iter()
            .find(|c| {
                facts
                    .behaviours
                    .iter()
                    .any(|b| facts.trusted_key_ids(b).contains(&c.as_str()))
            })
            .or(candidates.first())
            .cloned()
    });
    if options.signer.is_some() && check.uploaded_as.is_empty() {
        problems.push(Problem {
            severity: Severity::Error,
            code: "key_not_uploaded",
            behavior: None,
            message: format!(
                "your key's public key (SHA-256 {}) is not uploaded to CloudFront, so no behaviour can accept it. {}Upload it and add it to a trusted group: `cfsign-provision rotate --key-group GROUP --public-key PUBLIC.pem`",
                check.fingerprint.as_deref().unwrap_or(""),
                needed_keys(facts)
            ),
        });
    } else if restricted_any && check.accepted_by.is_empty() && problems.is_empty() {
        problems.push(Problem {
            severity: Severity::Error,
            code: "key_not_trusted",
            behavior: None,
            message: format!(
                "key {} is uploaded but no restricted cache behaviour trusts it: its signatures fail with 403 InvalidKey. {}Add it to a trusted key group: `cfsign-provision key-group ensure --name GROUP --key-id …` (or `rotate`)",
                candidates.join(", "),
                needed_keys(facts)
            ),
        });
    }
    report.problems.extend(problems);
    let kpid = check.key_pair_id.clone();
    report.key = Some(check);
    kpid
}

fn uploaded_hint(uploaded: &[String]) -> String {
    if uploaded.is_empty() {
        "Your private key's public key is not uploaded at all.".to_owned()
    } else {
        format!(
            "Your private key's public key is uploaded as {}.",
            uploaded.join(", ")
        )
    }
}

/// "The restricted behaviours trust: K1 (name, RSA-2048, SHA-256 …), …" — the keys a signer needs.
fn needed_keys(facts: &Facts) -> String {
    let mut ids: Vec<&str> = facts
        .behaviours
        .iter()
        .filter(|b| b.restricted())
        .flat_map(|b| facts.trusted_key_ids(b))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return String::new();
    }
    let described: Vec<String> = ids
        .iter()
        .map(|id| match facts.keys.iter().find(|k| k.id == *id) {
            Some(k) => match PublicKey::from_pem(&k.encoded_key) {
                Ok(p) => format!(
                    "{id} ({}, {}, SHA-256 {})",
                    k.name,
                    p.algorithm(),
                    fingerprint(&p)
                ),
                Err(_) => format!("{id} ({})", k.name),
            },
            None => (*id).to_owned(),
        })
        .collect();
    format!(
        "The restricted behaviours trust these keys; sign with the private key of one of them: {}. ",
        described.join("; ")
    )
}

/// The signer of signed probes, with the Key-Pair-Id chosen.
enum ProbeSigner {
    Local(Signer),
    Kms(cfsign_aws::KmsSigner),
    /// The Key-Pair-Id is not valid: every signed probe says why.
    Invalid(String),
}

impl ProbeSigner {
    fn new(signer: DoctorSigner, kpid: &str) -> ProbeSigner {
        let id = match KeyPairId::new(kpid) {
            Ok(id) => id,
            Err(e) => return ProbeSigner::Invalid(format!("Key-Pair-Id `{kpid}`: {e}")),
        };
        match signer {
            DoctorSigner::PrivateKey { key, .. } => ProbeSigner::Local(Signer::new(id, key)),
            DoctorSigner::Kms(key) => ProbeSigner::Kms(cfsign_aws::KmsSigner::new(id, key)),
        }
    }

    async fn sign(&self, unsigned: &UnsignedUrl) -> Result<String, String> {
        match self {
            ProbeSigner::Local(s) => s
                .sign_url(unsigned)
                .map_err(|e| format!("cannot sign: {e}")),
            ProbeSigner::Kms(s) => s
                .sign_url(unsigned)
                .await
                .map_err(|e| format!("KMS could not sign: {e}")),
            ProbeSigner::Invalid(why) => Err(why.clone()),
        }
    }
}

/// Signs `url` (canned policy, five minutes) with the signer and probes it.
async fn signed_probe(facts: &Facts, signer: &ProbeSigner, kpid: &str, url: &str) -> Probe {
    let failed = |explanation: String| Probe {
        url: url.to_owned(),
        signed: true,
        behavior: None,
        expected: "2xx".to_owned(),
        status: None,
        code: None,
        ok: false,
        explanation,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let signed = async {
        let expires = UnixTime::from_secs(now + PROBE_VALIDITY_SECS).map_err(|e| e.to_string())?;
        let unsigned =
            UnsignedUrl::canned(url, expires).map_err(|e| format!("cannot sign {url}: {e}"))?;
        signer.sign(&unsigned).await
    };
    match signed.await {
        Ok(signed_url) => probe::signed(facts, url, &signed_url, kpid).await,
        Err(e) => failed(e),
    }
}
