//! What `doctor` found: per cache behaviour in CloudFront's order, the key check, the probes and
//! the problems, with the overall health that decides the exit code; text for people.

use std::fmt;

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Works today, but is risky or will stop working (quota, legacy signers, deploying, …).
    Warning,
    /// Something is served that should not be, or not served that should be.
    Error,
}

/// The overall verdict: the worst problem found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Health {
    /// No problem found.
    Healthy,
    /// Only warnings.
    Warnings,
    /// At least one error.
    Broken,
}

/// One problem, with a stable code for programs and a sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// Warning or error.
    pub severity: Severity,
    /// A stable identifier, such as `missing_key_group` or `shadowed_behavior`.
    pub code: &'static str,
    /// The cache behaviour it is about (path pattern, `*` for the default), if any.
    pub behavior: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A public key trusted through a key group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DoctorKey {
    /// The public key ID (the Key-Pair-Id signers use).
    pub id: String,
    /// Its name, `None` when the key does not exist.
    pub name: Option<String>,
    /// `RSA-2048`, `ECDSA P-256`, … (`None` when it does not exist or does not parse).
    pub algorithm: Option<String>,
    /// When it was uploaded (RFC 3339), when known.
    pub created: Option<String>,
    /// SHA-256 of the public key (SubjectPublicKeyInfo DER), hex.
    pub fingerprint: Option<String>,
}

/// A key group trusted by a cache behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DoctorGroup {
    /// The key group ID.
    pub id: String,
    /// Its name, `None` when the group does not exist.
    pub name: Option<String>,
    /// Whether the group exists.
    pub exists: bool,
    /// Its keys.
    pub keys: Vec<DoctorKey>,
}

/// One cache behaviour, in CloudFront's evaluation order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DoctorBehavior {
    /// 1 for the behaviour CloudFront tries first; the default behaviour is last.
    pub order: usize,
    /// The path pattern, `*` for the default behaviour.
    pub path_pattern: String,
    /// Whether this is the default behaviour.
    pub default_behavior: bool,
    /// Whether viewers need a signed URL or cookies (key groups or legacy trusted signers).
    pub restricted: bool,
    /// Whether legacy `TrustedSigners` are enabled.
    pub legacy_trusted_signers: bool,
    /// The trusted key groups.
    pub key_groups: Vec<DoctorGroup>,
    /// With a key or `--key-pair-id`: whether this behaviour accepts its signatures.
    pub accepts_key: Option<bool>,
}

/// What `doctor` found out about the signing key it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeyCheck {
    /// Where it came from: `private key file …`, `KMS key …`, or `--key-pair-id`.
    pub source: String,
    /// Its algorithm, when a key was given.
    pub algorithm: Option<String>,
    /// SHA-256 of its public key (SubjectPublicKeyInfo DER), hex, when a key was given.
    pub fingerprint: Option<String>,
    /// The uploaded public keys with the same public key (their IDs).
    pub uploaded_as: Vec<String>,
    /// The Key-Pair-Id signed probes use (given, or the one trusted key it matches).
    pub key_pair_id: Option<String>,
    /// The behaviours (path patterns) that accept its signatures.
    pub accepted_by: Vec<String>,
}

/// One probe request and what it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Probe {
    /// The URL requested (for signed probes, without the signature).
    pub url: String,
    /// Whether the request was signed.
    pub signed: bool,
    /// The cache behaviour the path lands on, by the distribution's config.
    pub behavior: Option<String>,
    /// What a healthy distribution answers.
    pub expected: String,
    /// The status received, `None` when the request failed.
    pub status: Option<u16>,
    /// The error code of a CloudFront error body (`MissingKey`, `AccessDenied`, …).
    pub code: Option<String>,
    /// Whether the answer was the expected one.
    pub ok: bool,
    /// What the answer means.
    pub explanation: String,
}

impl Probe {
    /// A probe of `url` not yet sent: nothing received, not ok, no explanation.
    pub(crate) fn new(
        url: &str,
        signed: bool,
        behavior: Option<String>,
        expected: String,
    ) -> Probe {
        Probe {
            url: url.to_owned(),
            signed,
            behavior,
            expected,
            status: None,
            code: None,
            ok: false,
            explanation: String::new(),
        }
    }
}

/// The result of `doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DoctorReport {
    /// The distribution ID.
    pub distribution_id: String,
    /// Its domain name.
    pub domain_name: String,
    /// `Deployed` or `InProgress`.
    pub status: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Cache behaviours in CloudFront's evaluation order (the default last).
    pub behaviors: Vec<DoctorBehavior>,
    /// The key check, when a key or key pair ID was given.
    pub key: Option<KeyCheck>,
    /// The probes, in the order given.
    pub probes: Vec<Probe>,
    /// Every problem found, errors first.
    pub problems: Vec<Problem>,
    /// The worst problem's verdict.
    pub health: Health,
}

impl DoctorReport {
    /// Sorts the problems (errors first) and sets `health` from them.
    pub(crate) fn finish(&mut self) {
        self.problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
        self.health = match self.problems.first().map(|p| p.severity) {
            None => Health::Healthy,
            Some(Severity::Warning) => Health::Warnings,
            Some(Severity::Error) => Health::Broken,
        };
    }
}

impl fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "distribution {} ({}): {}, {}",
            self.distribution_id,
            self.domain_name,
            if self.enabled { "enabled" } else { "DISABLED" },
            self.status
        )?;
        writeln!(
            f,
            "cache behaviours, in the order CloudFront evaluates them:"
        )?;
        for b in &self.behaviors {
            let label = if b.default_behavior {
                "* (default)".to_owned()
            } else {
                b.path_pattern.clone()
            };
            let access = match (
                b.restricted,
                b.legacy_trusted_signers,
                b.key_groups.is_empty(),
            ) {
                (false, _, _) => "public: no signature needed",
                (true, true, true) => "restricted by legacy trusted signers only",
                (true, true, false) => "restricted (key groups and legacy trusted signers)",
                (true, false, _) => "restricted",
            };
            let accepts = match b.accepts_key {
                Some(true) => ", accepts your key",
                Some(false) if b.restricted => ", does NOT accept your key",
                _ => "",
            };
            writeln!(f, "  {}. {label}: {access}{accepts}", b.order)?;
            for g in &b.key_groups {
                match &g.name {
                    Some(name) => writeln!(f, "       key group {name} ({})", g.id)?,
                    None => writeln!(f, "       key group {} (does not exist)", g.id)?,
                }
                for k in &g.keys {
                    match &k.name {
                        Some(name) => writeln!(
                            f,
                            "         key {} {name}: {}, created {}",
                            k.id,
                            k.algorithm.as_deref().unwrap_or("unreadable key"),
                            k.created.as_deref().unwrap_or("(unknown)")
                        )?,
                        None => writeln!(f, "         key {} (does not exist)", k.id)?,
                    }
                }
            }
        }
        if let Some(k) = &self.key {
            writeln!(f, "key: {}", k.source)?;
            if let (Some(alg), Some(fp)) = (&k.algorithm, &k.fingerprint) {
                writeln!(f, "  {alg}, public key SHA-256 {fp}")?;
            }
            if !k.uploaded_as.is_empty() {
                writeln!(f, "  uploaded as {}", k.uploaded_as.join(", "))?;
            }
            if k.accepted_by.is_empty() {
                writeln!(f, "  accepted by no cache behaviour")?;
            } else {
                writeln!(f, "  accepted by {}", k.accepted_by.join(", "))?;
            }
        }
        if !self.probes.is_empty() {
            writeln!(f, "probes:")?;
            for p in &self.probes {
                let got = match (p.status, &p.code) {
                    (Some(s), Some(c)) => format!("{s} {c}"),
                    (Some(s), None) => s.to_string(),
                    (None, _) => "no answer".to_owned(),
                };
                writeln!(
                    f,
                    "  [{}] {} {}: {got} (expected {})",
                    if p.ok { "ok" } else { "FAIL" },
                    if p.signed { "signed" } else { "unsigned" },
                    p.url,
                    p.expected
                )?;
                writeln!(f, "       {}", p.explanation)?;
            }
        }
        if self.problems.is_empty() {
            writeln!(f, "no problems found: healthy")?;
        } else {
            writeln!(f, "problems:")?;
            for p in &self.problems {
                let tag = match p.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                match &p.behavior {
                    Some(b) => writeln!(f, "  {tag} [{}] {b}: {}", p.code, p.message)?,
                    None => writeln!(f, "  {tag} [{}] {}", p.code, p.message)?,
                }
            }
            writeln!(
                f,
                "{}",
                match self.health {
                    Health::Broken => "verdict: broken",
                    Health::Warnings => "verdict: warnings",
                    Health::Healthy => "verdict: healthy",
                }
            )?;
        }
        Ok(())
    }
}
