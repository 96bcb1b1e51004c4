//! CloudFront's decision for a request: served ([`Grant`]) or refused ([`Denial`], with the 403
//! code and the precise [`DenyReason`]), and what undocumented behaviour it relied on.

use std::fmt;
use std::net::IpAddr;

use crate::resource::first_difference;
use crate::{
    DenyCode, HashAlgorithm, Resource, SignatureSource, SourceIp, Undocumented, UnixTime,
    format_duration,
};

/// Precisely why a request is denied. `Display` gives the explanation a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// No signing parameters in the URL and no `CloudFront-*` cookies.
    NoSignature,
    /// Signing parameters are present but `Key-Pair-Id` is missing or empty.
    MissingKeyPairId,
    /// The Key-Pair-Id is not one of the trusted keys.
    UnknownKey {
        /// The ID in the request.
        key_pair_id: String,
        /// The trusted IDs.
        trusted: Vec<String>,
    },
    /// No `Signature`.
    MissingSignature,
    /// The `Signature` is not CloudFront base64.
    SignatureNotBase64,
    /// Neither `Expires` nor `Policy` is present.
    MissingPolicy,
    /// `Expires` is not a number of seconds in CloudFront's range.
    MalformedExpires {
        /// The value in the request.
        value: String,
    },
    /// `Policy` is not CloudFront base64.
    PolicyNotBase64,
    /// `Policy` decodes but is not a policy CloudFront understands.
    PolicyUnparsable {
        /// What is wrong with it.
        detail: String,
    },
    /// `Hash-Algorithm` is neither `SHA1` nor `SHA256`.
    UnknownHashAlgorithm {
        /// The value in the request.
        value: String,
    },
    /// The signature does not verify over the policy.
    BadSignature {
        /// The source of the signature.
        source: SignatureSource,
        /// For canned policies: the resource rebuilt from the request.
        canned_resource: Option<String>,
    },
    /// The policy's expiry has passed.
    Expired {
        /// `DateLessThan`/`Expires`.
        expires: UnixTime,
        /// The time of the request.
        now: UnixTime,
    },
    /// The policy's start time has not come.
    NotYetValid {
        /// `DateGreaterThan`.
        starts: UnixTime,
        /// The time of the request.
        now: UnixTime,
    },
    /// The policy's resource pattern does not match the URL.
    ResourceMismatch {
        /// The pattern.
        pattern: String,
        /// The request URL without signing parameters.
        url: String,
    },
    /// The client IP is outside the policy's `AWS:SourceIp`.
    WrongClientIp {
        /// The client's address.
        ip: IpAddr,
        /// The allowed range.
        range: SourceIp,
    },
    /// The policy restricts the source IP but the verifier was given no client IP.
    ClientIpUnknown {
        /// The allowed range.
        range: SourceIp,
    },
    /// Strict mode ([`Decision::strict`]): the request would be granted only by relying on
    /// behaviour CloudFront does not document.
    Undocumented {
        /// What the grant relied on (never empty).
        behaviours: Vec<Undocumented>,
    },
}

impl DenyReason {
    /// The 403 code CloudFront returns for this reason.
    pub fn code(&self) -> DenyCode {
        match self {
            DenyReason::NoSignature | DenyReason::MissingKeyPairId => DenyCode::MissingKey,
            DenyReason::UnknownKey { .. } => DenyCode::InvalidKey,
            DenyReason::MissingSignature | DenyReason::SignatureNotBase64 => {
                DenyCode::MalformedSignature
            }
            DenyReason::MissingPolicy
            | DenyReason::MalformedExpires { .. }
            | DenyReason::PolicyNotBase64
            | DenyReason::PolicyUnparsable { .. } => DenyCode::MalformedPolicy,
            DenyReason::UnknownHashAlgorithm { .. }
            | DenyReason::BadSignature { .. }
            | DenyReason::Expired { .. }
            | DenyReason::NotYetValid { .. }
            | DenyReason::ResourceMismatch { .. }
            | DenyReason::WrongClientIp { .. }
            | DenyReason::ClientIpUnknown { .. } => DenyCode::AccessDenied,
            DenyReason::Undocumented { behaviours } => behaviours
                .first()
                .map_or(DenyCode::AccessDenied, Undocumented::code_if_refused),
        }
    }

    /// A short stable identifier (`expired`, `bad_signature`, …) for programs.
    pub fn kind(&self) -> &'static str {
        match self {
            DenyReason::NoSignature => "no_signature",
            DenyReason::MissingKeyPairId => "missing_key_pair_id",
            DenyReason::UnknownKey { .. } => "unknown_key",
            DenyReason::MissingSignature => "missing_signature",
            DenyReason::SignatureNotBase64 => "signature_not_base64",
            DenyReason::MissingPolicy => "missing_policy",
            DenyReason::MalformedExpires { .. } => "malformed_expires",
            DenyReason::PolicyNotBase64 => "policy_not_base64",
            DenyReason::PolicyUnparsable { .. } => "policy_unparsable",
            DenyReason::UnknownHashAlgorithm { .. } => "unknown_hash_algorithm",
            DenyReason::BadSignature { .. } => "bad_signature",
            DenyReason::Expired { .. } => "expired",
            DenyReason::NotYetValid { .. } => "not_yet_valid",
            DenyReason::ResourceMismatch { .. } => "resource_mismatch",
            DenyReason::WrongClientIp { .. } => "wrong_client_ip",
            DenyReason::ClientIpUnknown { .. } => "client_ip_unknown",
            DenyReason::Undocumented { .. } => "undocumented",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::NoSignature => f.write_str(
                "no signature: the URL has no Expires/Policy, Signature and Key-Pair-Id parameters and there are no CloudFront-* cookies",
            ),
            DenyReason::MissingKeyPairId => {
                f.write_str("signing parameters are present but Key-Pair-Id is missing or empty")
            }
            DenyReason::UnknownKey { key_pair_id, trusted } => {
                write!(f, "Key-Pair-Id `{key_pair_id}` is not in the cache behaviour's trusted key groups")?;
                if trusted.is_empty() {
                    return f.write_str(" (no keys are trusted)");
                }
                write!(f, " (trusted: {})", trusted.join(", "))?;
                match trusted.iter().find(|t| t.eq_ignore_ascii_case(key_pair_id)) {
                    Some(same) => write!(
                        f,
                        "; `{same}` differs only in case, and key IDs must match exactly (CloudFront's are upper case)"
                    ),
                    None => Ok(()),
                }
            }
            DenyReason::MissingSignature => f.write_str("the Signature parameter is missing"),
            DenyReason::SignatureNotBase64 => {
                f.write_str("the Signature is not CloudFront base64 (was it truncated, or percent-encoded twice?)")
            }
            DenyReason::MissingPolicy => f.write_str("neither Expires (canned policy) nor Policy (custom policy) is present"),
            DenyReason::MalformedExpires { value } => {
                write!(f, "Expires `{value}` is not a Unix time in seconds (at most 2147483647)")
            }
            DenyReason::PolicyNotBase64 => f.write_str("the Policy is not CloudFront base64 (was it truncated?)"),
            DenyReason::PolicyUnparsable { detail } => write!(f, "the Policy does not parse: {detail}"),
            DenyReason::UnknownHashAlgorithm { value } => {
                write!(f, "Hash-Algorithm `{value}` is not SHA1 or SHA256")
            }
            DenyReason::BadSignature { source, canned_resource } => {
                write!(f, "signature does not match: the URL was changed after signing, or signed with a different key")?;
                if let Some(resource) = canned_resource {
                    write!(f, " (the canned policy rebuilt from the request covers `{resource}`")?;
                    if *source == SignatureSource::Cookies {
                        f.write_str("; canned-policy cookies only work for that exact URL")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            DenyReason::Expired { expires, now } => write!(
                f,
                "expired {} before the request (Expires {expires}, request at {now})",
                format_duration(now.as_secs() - expires.as_secs())
            ),
            DenyReason::NotYetValid { starts, now } => write!(
                f,
                "not valid yet: access starts {} after the request (DateGreaterThan {starts}, request at {now})",
                format_duration(starts.as_secs().saturating_sub(now.as_secs()).max(1))
            ),
            DenyReason::ResourceMismatch { pattern, url } => {
                write!(f, "policy resource `{pattern}` does not match `{url}`")?;
                if let Some(why) = Resource::from_policy(pattern).unmatchable_reason() {
                    write!(f, ": {why}")
                } else if let Some(difference) = first_difference(pattern, url) {
                    write!(f, ": {difference}")
                } else {
                    Ok(())
                }
            }
            DenyReason::WrongClientIp { ip, range } => write!(f, "client IP {ip} is not in {range}"),
            DenyReason::ClientIpUnknown { range } => {
                write!(f, "the policy only allows client IPs in {range}, and no client IP was given")
            }
            DenyReason::Undocumented { behaviours } => {
                f.write_str("strict mode: the request would be granted only by relying on undocumented behaviour")?;
                for behaviour in behaviours {
                    write!(f, "; {behaviour}")?;
                }
                Ok(())
            }
        }
    }
}

/// A refusal: the code CloudFront would send, the precise reason, and notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub(crate) reason: DenyReason,
    pub(crate) notes: Vec<String>,
    pub(crate) undocumented: Vec<Undocumented>,
}

impl Denial {
    /// The 403 code.
    pub fn code(&self) -> DenyCode {
        self.reason.code()
    }

    /// The precise reason.
    pub fn reason(&self) -> &DenyReason {
        &self.reason
    }

    /// Extra observations, such as "URL signing parameters present, so cookies are ignored".
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Undocumented behaviour seen before the request was denied (for example a percent-encoded
    /// parameter that was decoded).
    pub fn undocumented(&self) -> &[Undocumented] {
        &self.undocumented
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.reason)?;
        for note in &self.notes {
            write!(f, "; {note}")?;
        }
        if !matches!(self.reason, DenyReason::Undocumented { .. }) {
            for behaviour in &self.undocumented {
                write!(f, "; undocumented: {behaviour}")?;
            }
        }
        Ok(())
    }
}

/// What was granted: which key, from where, until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub(crate) key_pair_id: String,
    pub(crate) source: SignatureSource,
    pub(crate) hash: HashAlgorithm,
    pub(crate) custom: bool,
    pub(crate) expires: UnixTime,
    pub(crate) notes: Vec<String>,
    pub(crate) undocumented: Vec<Undocumented>,
}

impl Grant {
    /// The key that signed the request.
    pub fn key_pair_id(&self) -> &str {
        &self.key_pair_id
    }

    /// URL or cookies.
    pub fn source(&self) -> SignatureSource {
        self.source
    }

    /// The hash algorithm of the signature.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    /// Whether the policy was custom (else canned).
    pub fn is_custom_policy(&self) -> bool {
        self.custom
    }

    /// When the grant ends.
    pub fn expires(&self) -> UnixTime {
        self.expires
    }

    /// Extra observations.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Behaviour CloudFront does not document that this grant relies on. Empty when the
    /// documentation alone says CloudFront serves the request.
    pub fn undocumented(&self) -> &[Undocumented] {
        &self.undocumented
    }
}

/// CloudFront's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The edge would serve the request.
    Granted(Grant),
    /// The edge would answer 403.
    Denied(Denial),
}

impl Decision {
    /// Whether the request would be served.
    pub fn is_granted(&self) -> bool {
        matches!(self, Decision::Granted(_))
    }

    /// The denial, if denied.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            Decision::Denied(d) => Some(d),
            Decision::Granted(_) => None,
        }
    }

    /// The undocumented behaviour this decision relied on or saw.
    pub fn undocumented(&self) -> &[Undocumented] {
        match self {
            Decision::Granted(g) => &g.undocumented,
            Decision::Denied(d) => &d.undocumented,
        }
    }

    /// Only what CloudFront's documentation promises: a grant that relies on undocumented
    /// behaviour becomes a denial ([`DenyReason::Undocumented`], with the code CloudFront would
    /// most likely send if it refuses). Denials stay as they are.
    ///
    /// ```
    /// use cfsign::{DenyReason, KeyKind, PrivateKey, Request, Signer, TrustedKeys, UnixTime, verify};
    /// let key = PrivateKey::generate(KeyKind::P256, &mut rand::rng())?;
    /// let trusted: TrustedKeys = [("K2JCJMDEHXQW5F".parse()?, key.public_key())].into_iter().collect();
    /// let signer = Signer::new("K2JCJMDEHXQW5F".parse()?, key);
    /// let url = signer.sign_canned_url("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?)?;
    /// // `Hash-Algorithm=sha1` in lower case: CloudFront documents only `SHA1`.
    /// let odd = format!("{url}&Hash-Algorithm=sha1");
    /// let decision = verify(&Request::new(&odd, UnixTime::from_secs(1767225000)?), &trusted);
    /// assert!(decision.is_granted());
    /// assert_eq!(decision.undocumented()[0].kind(), "hash_algorithm_case");
    /// let strict = decision.strict();
    /// assert!(matches!(strict.denial().unwrap().reason(), DenyReason::Undocumented { .. }));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn strict(self) -> Decision {
        match self {
            Decision::Granted(grant) if !grant.undocumented.is_empty() => {
                Decision::Denied(Denial {
                    reason: DenyReason::Undocumented {
                        behaviours: grant.undocumented.clone(),
                    },
                    notes: grant.notes,
                    undocumented: grant.undocumented,
                })
            }
            other => other,
        }
    }
}
