//! Policies: canned and custom, their exact JSON bytes, tolerant parsing, and evaluation.
//!
//! Serialization follows botocore's `CloudFrontSigner.build_policy` byte for byte: compact JSON,
//! `Resource` before `Condition`, conditions in the order `DateLessThan`, `IpAddress`,
//! `DateGreaterThan`, and Python's `json.dumps` escaping (`ensure_ascii`: non-ASCII as `\uXXXX`).

use std::fmt;
use std::net::Ipv4Addr;

use crate::{Error, Resource, Undocumented, UnixTime};

/// An IPv4 address range in CIDR form, for a custom policy's `AWS:SourceIp`.
///
/// ```
/// use cfsign::SourceIp;
/// let range: SourceIp = "10.0.0.0/8".parse()?;
/// assert!(range.contains("10.1.2.3".parse().unwrap()));
/// assert_eq!("192.0.2.7".parse::<SourceIp>()?.to_string(), "192.0.2.7/32");
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceIp {
    addr: Ipv4Addr,
    prefix: u8,
}

impl SourceIp {
    /// Builds a range from an address and prefix length (0 ..= 32).
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<SourceIp, Error> {
        if prefix > 32 {
            return Err(Error::InvalidSourceIp {
                value: format!("{addr}/{prefix}"),
                reason: "the prefix length must be between 0 and 32".to_owned(),
            });
        }
        Ok(SourceIp { addr, prefix })
    }

    /// The address part, as written.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in this range.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        };
        (u32::from(ip) & mask) == (u32::from(self.addr) & mask)
    }
}

impl std::str::FromStr for SourceIp {
    type Err = Error;
    fn from_str(text: &str) -> Result<SourceIp, Error> {
        let invalid = |reason: &str| Error::InvalidSourceIp {
            value: text.to_owned(),
            reason: reason.to_owned(),
        };
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: Ipv4Addr = addr.parse().map_err(|_| {
            if addr.contains(':') {
                invalid("CloudFront policies take IPv4 only (AWS:SourceIp has no IPv6 form)")
            } else {
                invalid("expected an IPv4 address or CIDR block such as 192.0.2.0/24")
            }
        })?;
        let prefix = match prefix {
            None => 32,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(|| {
                invalid("the prefix length after `/` must be a number from 0 to 32")
            })?,
        };
        SourceIp::new(addr, prefix)
    }
}

impl fmt::Display for SourceIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A canned policy: one exact URL and an expiry.
///
/// ```
/// use cfsign::{CannedPolicy, UnixTime};
/// let policy = CannedPolicy::new("https://d1.example.net/a.jpg", UnixTime::from_secs(1767225600)?);
/// assert_eq!(
///     policy.to_json(),
///     r#"{"Statement":[{"Resource":"https://d1.example.net/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#
/// );
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CannedPolicy {
    resource: String,
    expires: UnixTime,
}

impl CannedPolicy {
    /// A canned policy for `resource` (any string; it is JSON-escaped as botocore does).
    pub fn new(resource: &str, expires: UnixTime) -> CannedPolicy {
        CannedPolicy {
            resource: resource.to_owned(),
            expires,
        }
    }

    /// The URL the policy covers.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// When the policy stops granting access.
    pub fn expires(&self) -> UnixTime {
        self.expires
    }

    /// The exact bytes that are signed, identical to botocore's.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.resource.len() + 96);
        out.push_str(r#"{"Statement":[{"Resource":"#);
        write_json_string(&mut out, &self.resource);
        out.push_str(r#","Condition":{"DateLessThan":{"AWS:EpochTime":"#);
        out.push_str(&self.expires.as_secs().to_string());
        out.push_str("}}}]}");
        out
    }
}

/// A custom policy: an optional resource pattern, an expiry, and optional start time and source IP.
///
/// ```
/// use cfsign::{CustomPolicy, Resource, UnixTime};
/// let policy = CustomPolicy::new(Resource::new("https://d1.example.net/hls/*")?, UnixTime::from_secs(1767225600)?)
///     .with_source_ip("10.0.0.0/8".parse()?)
///     .with_starts_at(UnixTime::from_secs(1767222000)?)?;
/// assert_eq!(
///     policy.to_json(),
///     concat!(
///         r#"{"Statement":[{"Resource":"https://d1.example.net/hls/*","Condition":{"#,
///         r#""DateLessThan":{"AWS:EpochTime":1767225600},"IpAddress":{"AWS:SourceIp":"10.0.0.0/8"},"#,
///         r#""DateGreaterThan":{"AWS:EpochTime":1767222000}}}]}"#
///     )
/// );
/// assert_eq!(cfsign::CustomPolicy::parse(policy.to_json().as_bytes())?, policy);
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomPolicy {
    resource: Option<Resource>,
    date_less_than: UnixTime,
    date_greater_than: Option<UnixTime>,
    source_ip: Option<SourceIp>,
}

impl CustomPolicy {
    /// A policy for `resource` that expires at `date_less_than`.
    pub fn new(resource: Resource, date_less_than: UnixTime) -> CustomPolicy {
        CustomPolicy {
            resource: Some(resource),
            date_less_than,
            date_greater_than: None,
            source_ip: None,
        }
    }

    /// A policy without `Resource`: CloudFront applies it to every object of every distribution
    /// that trusts the key. Useful for cookies; use with care.
    pub fn for_any_resource(date_less_than: UnixTime) -> CustomPolicy {
        CustomPolicy {
            resource: None,
            date_less_than,
            date_greater_than: None,
            source_ip: None,
        }
    }

    /// Adds `DateGreaterThan`: access starts at `starts_at`, which must be before the expiry.
    pub fn with_starts_at(mut self, starts_at: UnixTime) -> Result<CustomPolicy, Error> {
        if starts_at >= self.date_less_than {
            return Err(Error::InvalidPolicy {
                reason: format!(
                    "the start time {starts_at} is not before the expiry {}; no request could ever be served",
                    self.date_less_than
                ),
            });
        }
        self.date_greater_than = Some(starts_at);
        Ok(self)
    }

    /// Adds `IpAddress`/`AWS:SourceIp`.
    pub fn with_source_ip(mut self, source_ip: SourceIp) -> CustomPolicy {
        self.source_ip = Some(source_ip);
        self
    }

    /// The resource pattern, if any.
    pub fn resource(&self) -> Option<&Resource> {
        self.resource.as_ref()
    }

    /// `DateLessThan`: access ends at this time.
    pub fn date_less_than(&self) -> UnixTime {
        self.date_less_than
    }

    /// `DateGreaterThan`: access starts after this time.
    pub fn date_greater_than(&self) -> Option<UnixTime> {
        self.date_greater_than
    }

    /// `AWS:SourceIp`.
    pub fn source_ip(&self) -> Option<SourceIp> {
        self.source_ip
    }

    /// The exact bytes that are signed, in botocore's order (byte-identical to botocore's
    /// `build_policy` for the same inputs).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(160);
        out.push_str(r#"{"Statement":[{"#);
        if let Some(resource) = &self.resource {
            out.push_str(r#""Resource":"#);
            write_json_string(&mut out, resource.as_str());
            out.push(',');
        }
        out.push_str(r#""Condition":{"DateLessThan":{"AWS:EpochTime":"#);
        out.push_str(&self.date_less_than.as_secs().to_string());
        out.push('}');
        if let Some(ip) = &self.source_ip {
            out.push_str(r#","IpAddress":{"AWS:SourceIp":""#);
            out.push_str(&ip.to_string());
            out.push_str(r#""}"#);
        }
        if let Some(start) = self.date_greater_than {
            out.push_str(r#","DateGreaterThan":{"AWS:EpochTime":"#);
            out.push_str(&start.as_secs().to_string());
            out.push('}');
        }
        out.push_str("}}]}");
        out
    }

    /// Parses policy JSON as tolerantly as CloudFront: any whitespace and key order (the
    /// developer guide's own sample policy has both). Forms CloudFront does not document are
    /// read too (`Statement` as a bare object, quoted epoch times, an address without `/32`);
    /// [`verify`](crate::verify) reports them as [`Undocumented`].
    ///
    /// The resource is kept as written, whatever its form: a pattern CloudFront cannot match is
    /// a mismatch at the edge, not a malformed policy.
    pub fn parse(bytes: &[u8]) -> Result<CustomPolicy, Error> {
        parse_policy(bytes).map(|(policy, _)| policy)
    }

    /// Checks a caller-written policy document for signing byte for byte: it parses, and it is
    /// not larger than a URL can carry.
    pub(crate) fn parse_document(document: &str) -> Result<CustomPolicy, Error> {
        let limit = crate::url::MAX_URL_BYTES;
        if document.len() > limit {
            return Err(Error::InvalidPolicy {
                reason: format!(
                    "the policy document is {} bytes; base64-encoded it would not fit CloudFront's {limit}-byte URL limit",
                    document.len()
                ),
            });
        }
        CustomPolicy::parse(document.as_bytes())
    }

    /// Like [`CustomPolicy::parse`], also returning the undocumented forms the policy uses.
    pub(crate) fn parse_noting(bytes: &[u8]) -> Result<(CustomPolicy, Vec<Undocumented>), Error> {
        parse_policy(bytes)
    }
}

/// Parses a policy document; errors are `Error::InvalidPolicy` with what CloudFront would find
/// malformed.
fn parse_policy(bytes: &[u8]) -> Result<(CustomPolicy, Vec<Undocumented>), Error> {
    use serde_json::Value;
    let err = |reason: String| Error::InvalidPolicy { reason };
    let mut notes = Vec::new();
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| err(format!("the policy is not valid JSON: {e}")))?;
    let statement = match value.get("Statement") {
        Some(Value::Array(items)) if items.len() == 1 => &items[0],
        Some(Value::Array(items)) => {
            return Err(err(format!(
                "the policy has {} statements; CloudFront takes exactly one",
                items.len()
            )));
        }
        Some(obj @ Value::Object(_)) => {
            notes.push(Undocumented::StatementNotArray);
            obj
        }
        Some(_) => {
            return Err(err(
                "`Statement` must be an array holding one statement".to_owned()
            ));
        }
        None => return Err(err("the policy has no `Statement`".to_owned())),
    };
    let resource = match statement.get("Resource") {
        None => None,
        Some(Value::String(s)) => Some(Resource::from_policy(s)),
        Some(_) => return Err(err("`Resource` must be a string".to_owned())),
    };
    let Some(condition) = statement.get("Condition").and_then(Value::as_object) else {
        return Err(err("the statement has no `Condition` object".to_owned()));
    };
    let mut epoch = |name: &'static str| -> Result<Option<UnixTime>, Error> {
        let Some(entry) = condition.get(name) else {
            return Ok(None);
        };
        let raw = entry
            .get("AWS:EpochTime")
            .ok_or_else(|| err(format!("`{name}` has no `AWS:EpochTime`")))?;
        let secs = match raw {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                notes.push(Undocumented::QuotedEpochTime { condition: name });
                s.parse::<u64>().ok()
            }
            _ => None,
        }
        .ok_or_else(|| {
            err(format!(
                "`{name}` `AWS:EpochTime` is not a whole number of seconds: {raw}"
            ))
        })?;
        UnixTime::from_secs(secs)
            .map(Some)
            .map_err(|e| err(format!("`{name}`: {e}")))
    };
    let date_less_than = epoch("DateLessThan")?.ok_or_else(|| {
        err("the policy has no `DateLessThan`; CloudFront requires an expiry".to_owned())
    })?;
    let date_greater_than = epoch("DateGreaterThan")?;
    let source_ip = match condition.get("IpAddress") {
        None => None,
        Some(entry) => {
            let raw = entry
                .get("AWS:SourceIp")
                .and_then(Value::as_str)
                .ok_or_else(|| err("`IpAddress` has no string `AWS:SourceIp`".to_owned()))?;
            let parsed = raw.parse::<SourceIp>().map_err(|e| err(e.to_string()))?;
            if !raw.contains('/') {
                notes.push(Undocumented::BareSourceIp {
                    value: raw.trim().to_owned(),
                });
            }
            Some(parsed)
        }
    };
    for key in condition.keys() {
        if !matches!(
            key.as_str(),
            "DateLessThan" | "DateGreaterThan" | "IpAddress"
        ) {
            return Err(err(format!("unknown condition `{key}`")));
        }
    }
    let policy = CustomPolicy {
        resource,
        date_less_than,
        date_greater_than,
        source_ip,
    };
    Ok((policy, notes))
}

/// Writes `s` as a JSON string the way Python's `json.dumps` (with `ensure_ascii`) does.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs).unwrap()
    }

    #[test]
    fn json_escaping_matches_python() {
        // Expected strings produced by Python: json.dumps(s, separators=(',', ':')).
        let check = |input: &str, expected: &str| {
            let mut out = String::new();
            write_json_string(&mut out, input);
            assert_eq!(out, expected, "input {input:?}");
        };
        check("a\"b\\c/d", r#""a\"b\\c/d""#);
        check(
            "\u{0}\u{1f}\n\t\r\u{8}\u{c}\u{7f}",
            r#""\u0000\u001f\n\t\r\b\f\u007f""#,
        );
        check("é漢😀", r#""\u00e9\u6f22\ud83d\ude00""#);
    }

    #[test]
    fn parse_is_tolerant() {
        let policy = CustomPolicy::parse(
            br#" { "Statement" : { "Condition": { "IpAddress": {"AWS:SourceIp": "10.0.0.1"},
                 "DateGreaterThan": {"AWS:EpochTime": "100"}, "DateLessThan": {"AWS:EpochTime": 200} },
                 "Resource": "https://x/*" } } "#,
        )
        .unwrap();
        assert_eq!(policy.date_less_than(), t(200));
        assert_eq!(policy.date_greater_than(), Some(t(100)));
        assert_eq!(
            policy.source_ip().map(|s| s.to_string()),
            Some("10.0.0.1/32".to_owned())
        );
        for bad in [
            &b"{}"[..],
            b"not json",
            br#"{"Statement":[]}"#,
            br#"{"Statement":[{"Resource":"x"}]}"#,
            br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}"#,
            br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"Foo":{}}}]}"#,
        ] {
            assert!(
                CustomPolicy::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn source_ip() {
        let r: SourceIp = "192.168.1.0/24".parse().unwrap();
        assert!(r.contains(Ipv4Addr::new(192, 168, 1, 200)));
        assert!(!r.contains(Ipv4Addr::new(192, 168, 2, 1)));
        assert!(
            "0.0.0.0/0"
                .parse::<SourceIp>()
                .unwrap()
                .contains(Ipv4Addr::new(8, 8, 8, 8))
        );
        for bad in ["::1", "10.0.0.0/33", "10.0.0/8", "x", "10.0.0.0/"] {
            assert!(bad.parse::<SourceIp>().is_err(), "{bad}");
        }
    }

    #[test]
    fn start_must_precede_expiry() {
        let p = CustomPolicy::for_any_resource(t(100));
        assert!(p.clone().with_starts_at(t(100)).is_err());
        assert!(p.with_starts_at(t(99)).is_ok());
    }
}
