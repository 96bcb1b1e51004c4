//! The five 403 codes CloudFront answers signed requests with, and their exact XML bodies.

use std::fmt;

/// The 403 code CloudFront answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenyCode {
    /// No signature parameters or cookies.
    MissingKey,
    /// The Key-Pair-Id is not in the behaviour's trusted key groups.
    InvalidKey,
    /// The signature is not valid CloudFront base64.
    MalformedSignature,
    /// The policy does not decode or parse.
    MalformedPolicy,
    /// Expired, not yet valid, bad signature, wrong resource or wrong IP.
    AccessDenied,
}

impl DenyCode {
    /// The `<Code>` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::MissingKey => "MissingKey",
            DenyCode::InvalidKey => "InvalidKey",
            DenyCode::MalformedSignature => "MalformedSignature",
            DenyCode::MalformedPolicy => "MalformedPolicy",
            DenyCode::AccessDenied => "AccessDenied",
        }
    }

    /// The `<Message>` value CloudFront sends.
    pub fn message(self) -> &'static str {
        match self {
            DenyCode::MissingKey => "Missing Key-Pair-Id query parameter or cookie value",
            DenyCode::InvalidKey => "Unknown Key",
            DenyCode::MalformedSignature => "Could not unencode Signature",
            DenyCode::MalformedPolicy => "Malformed Policy",
            DenyCode::AccessDenied => "Access denied",
        }
    }

    /// The exact 403 body CloudFront sends (`content-type: text/xml`).
    ///
    /// ```
    /// assert_eq!(
    ///     cfsign::DenyCode::InvalidKey.xml_body(),
    ///     r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidKey</Code><Message>Unknown Key</Message></Error>"#
    /// );
    /// ```
    pub fn xml_body(self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{}</Code><Message>{}</Message></Error>"#,
            self.as_str(),
            self.message()
        )
    }
}

impl fmt::Display for DenyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
