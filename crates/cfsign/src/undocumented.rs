//! Behaviour CloudFront does not document, which a decision relied on: what cfsign decided, and why.
//!
//! [`verify`](crate::verify) never settles an undocumented question silently. Where a request is
//! granted or denied only because of such a behaviour, the [`Grant`](crate::Grant) or
//! [`Denial`](crate::Denial) carries an [`Undocumented`] saying so; [`Decision::strict`](crate::Decision::strict)
//! turns a grant that relies on one into a denial, for callers that want only what the
//! documentation promises.

use std::fmt;

use crate::{DenyCode, UnixTime};

/// One undocumented behaviour a decision relied on.
///
/// `Display` says what was seen, what cfsign decided and the evidence for it.
///
/// ```
/// use cfsign::Undocumented;
/// let note = Undocumented::HashAlgorithmCase { value: "sha256".to_owned() };
/// assert_eq!(note.kind(), "hash_algorithm_case");
/// assert!(note.to_string().contains("not documented"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Undocumented {
    /// `Signature` or `Policy` contains standard base64 characters (`+`, `/`, `=`) instead of
    /// CloudFront's `-`, `~`, `_`.
    StandardBase64 {
        /// The parameter or cookie name.
        parameter: &'static str,
    },
    /// A signing parameter's value is percent-encoded (such as `%7E` for `~`).
    PercentEncoded {
        /// The parameter or cookie name.
        parameter: &'static str,
    },
    /// `Hash-Algorithm` is not written exactly `SHA1` or `SHA256` (such as `sha256`).
    HashAlgorithmCase {
        /// The value sent.
        value: String,
    },
    /// `Expires` has leading zeros (such as `01767225600`).
    ExpiresLeadingZeros {
        /// The value sent.
        value: String,
    },
    /// An `AWS:EpochTime` is a JSON string (`"1767225600"`) instead of a number.
    QuotedEpochTime {
        /// The condition: `DateLessThan` or `DateGreaterThan`.
        condition: &'static str,
    },
    /// `AWS:SourceIp` is an address without a prefix length (`192.0.2.7`, not `192.0.2.7/32`).
    BareSourceIp {
        /// The value in the policy.
        value: String,
    },
    /// `Statement` is a bare object instead of an array holding one statement.
    StatementNotArray,
    /// The policy's resource matches the URL only with letter case folded in the scheme or host
    /// (`HTTPS://` against `https://`).
    SchemeOrHostCase {
        /// The policy's resource.
        pattern: String,
    },
    /// The request arrives in the very second of `DateGreaterThan`.
    StartSecond {
        /// `DateGreaterThan`.
        starts: UnixTime,
    },
}

impl Undocumented {
    /// A short stable identifier (`standard_base64`, `start_second`, …) for programs.
    pub fn kind(&self) -> &'static str {
        match self {
            Undocumented::StandardBase64 { .. } => "standard_base64",
            Undocumented::PercentEncoded { .. } => "percent_encoded",
            Undocumented::HashAlgorithmCase { .. } => "hash_algorithm_case",
            Undocumented::ExpiresLeadingZeros { .. } => "expires_leading_zeros",
            Undocumented::QuotedEpochTime { .. } => "quoted_epoch_time",
            Undocumented::BareSourceIp { .. } => "bare_source_ip",
            Undocumented::StatementNotArray => "statement_not_array",
            Undocumented::SchemeOrHostCase { .. } => "scheme_or_host_case",
            Undocumented::StartSecond { .. } => "start_second",
        }
    }

    /// The 403 code CloudFront would most likely send if it does not accept this behaviour
    /// (what [`Decision::strict`](crate::Decision::strict) reports).
    pub fn code_if_refused(&self) -> DenyCode {
        match self {
            Undocumented::StandardBase64 { parameter }
            | Undocumented::PercentEncoded { parameter } => {
                if parameter.ends_with("Policy") {
                    DenyCode::MalformedPolicy
                } else if parameter.ends_with("Signature") {
                    DenyCode::MalformedSignature
                } else {
                    DenyCode::AccessDenied
                }
            }
            Undocumented::QuotedEpochTime { .. }
            | Undocumented::BareSourceIp { .. }
            | Undocumented::StatementNotArray => DenyCode::MalformedPolicy,
            Undocumented::HashAlgorithmCase { .. }
            | Undocumented::ExpiresLeadingZeros { .. }
            | Undocumented::SchemeOrHostCase { .. }
            | Undocumented::StartSecond { .. } => DenyCode::AccessDenied,
        }
    }
}

impl fmt::Display for Undocumented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undocumented::StandardBase64 { parameter } => write!(
                f,
                "{parameter} uses standard base64 (`+`, `/` or `=`); CloudFront's guide only describes the `-`, `~`, `_` \
                 form, and whether the edge also takes the standard alphabet is not documented. cfsign decodes both \
                 (they give the same bytes); replace + with -, = with _ and / with ~ to be safe"
            ),
            Undocumented::PercentEncoded { parameter } => write!(
                f,
                "{parameter} is percent-encoded; whether CloudFront decodes signing parameters is not documented. \
                 cfsign decodes it (RFC 3986 §6.2.2.2: percent-encoded unreserved characters are equivalent); send \
                 the value unencoded to be safe"
            ),
            Undocumented::HashAlgorithmCase { value } => write!(
                f,
                "Hash-Algorithm `{value}` is not written exactly SHA1 or SHA256, the values CloudFront documents; \
                 whether the edge ignores letter case is not documented. cfsign reads it case-insensitively; write \
                 SHA256 to be safe"
            ),
            Undocumented::ExpiresLeadingZeros { value } => write!(
                f,
                "Expires `{value}` has leading zeros; whether CloudFront rebuilds the canned policy from the number or \
                 from the text sent is not documented. cfsign uses the number (a JSON number has no leading zeros); \
                 send the plain number to be safe"
            ),
            Undocumented::QuotedEpochTime { condition } => write!(
                f,
                "`{condition}` `AWS:EpochTime` is a quoted string; the developer guide says not to enclose it in \
                 quotation marks but not what CloudFront does if it is. cfsign reads the number; write it unquoted \
                 to be safe"
            ),
            Undocumented::BareSourceIp { value } => write!(
                f,
                "`AWS:SourceIp` `{value}` has no prefix length; the developer guide says to write a single address as \
                 `{value}/32` but not what CloudFront does without it. cfsign reads it as /32; write {value}/32 to be safe"
            ),
            Undocumented::StatementNotArray => f.write_str(
                "`Statement` is an object, not an array holding one statement as the developer guide shows; whether \
                 CloudFront accepts that is not documented. cfsign reads the object; write [ ... ] to be safe",
            ),
            Undocumented::SchemeOrHostCase { pattern } => write!(
                f,
                "the policy's resource `{pattern}` matches only with letter case ignored in the scheme or host; \
                 CloudFront does not document whether it compares them case-sensitively. cfsign follows RFC 3986 \
                 (both are case-insensitive); write them in lower case, as clients send them, to be safe"
            ),
            Undocumented::StartSecond { starts } => write!(
                f,
                "the request arrives in the very second of DateGreaterThan ({starts}); the guide says users may not \
                 access the object *before* that time, while the condition's name says *greater than*, and nothing \
                 settles the boundary second. cfsign grants it; start a second earlier to be safe"
            ),
        }
    }
}
