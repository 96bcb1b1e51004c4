//! Policies: canned and custom, their exact JSON bytes, tolerant parsing, and evaluation.
//!
//! Serialization follows botocore's `CloudFrontSigner.build_policy` byte for byte: compact JSON,
//! `Resource` before `Condition`, conditions in the order `DateLessThan`, `IpAddress`,
//! `DateGreaterThan`, and Python's `json.dumps` escaping (`ensure_ascii`: non-ASCII as `\uXXXX`).

use std::fmt;
use std::net::Ipv4Addr;

use crate::{Error, UnixTime};

/// A resource pattern for a custom policy: a URL where `*` matches zero or more characters and
/// `?` exactly one, within one section of `scheme://host/path\?query` (a `?` that starts the
/// query string is written `\?`).
///
/// ```
/// use cfsign::Resource;
/// let pattern = Resource::new("https://d111111abcdef8.cloudfront.net/videos/*")?;
/// assert!(pattern.matches("https://d111111abcdef8.cloudfront.net/videos/a/b.m3u8?x=1"));
/// assert!(!pattern.matches("https://d111111abcdef8.cloudfront.net/images/a.jpg"));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource(String);

impl Resource {
    /// Validates a pattern: non-empty, no control characters, and if it has a `://` the scheme
    /// part is `http`, `https` or a wildcard (`http*`, `*`).
    pub fn new(pattern: &str) -> Result<Resource, Error> {
        let invalid = |reason: &str| Error::InvalidResource {
            pattern: crate::error::shorten(pattern, 120),
            reason: reason.to_owned(),
        };
        if pattern.is_empty() {
            return Err(invalid(
                "it is empty; use `*` for every object, or a URL with wildcards",
            ));
        }
        if let Some(c) = pattern.chars().find(|c| c.is_control()) {
            return Err(invalid(&format!("it contains the control character {c:?}")));
        }
        if pattern.len() > 8192 {
            return Err(invalid(
                "it is longer than CloudFront's 8,192-byte URL limit",
            ));
        }
        if let Some((scheme, _)) = pattern.split_once("://") {
            let ok = glob_match(scheme, "http") || glob_match(scheme, "https");
            if !ok {
                return Err(invalid(
                    "the scheme must be http, https or a wildcard such as http*",
                ));
            }
        }
        Ok(Resource(pattern.to_owned()))
    }

    /// A pattern that matches exactly `url` and nothing else: wildcard characters in it are
    /// matched literally except where CloudFront gives no escape, and the query's `?` is written `\?`.
    ///
    /// ```
    /// use cfsign::Resource;
    /// let exact = Resource::exact("https://d1.example.net/a.jpg?v=2")?;
    /// assert_eq!(exact.as_str(), r"https://d1.example.net/a.jpg\?v=2");
    /// assert!(exact.matches("https://d1.example.net/a.jpg?v=2"));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn exact(url: &str) -> Result<Resource, Error> {
        match url.split_once('?') {
            Some((head, query)) => Resource::new(&format!("{head}\\?{query}")),
            None => Resource::new(url),
        }
    }

    /// The pattern text, as written into the policy.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a request URL (without signing parameters) matches this pattern, by CloudFront's
    /// section-by-section wildcard rules.
    pub fn matches(&self, url: &str) -> bool {
        pattern_matches(&self.0, url)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

    /// Parses policy JSON as tolerantly as CloudFront: any whitespace and key order, `Statement`
    /// as an array of one (or a bare object), epoch times as numbers or digit strings.
    pub fn parse(bytes: &[u8]) -> Result<CustomPolicy, PolicyParseError> {
        parse_policy(bytes)
    }

    /// Checks the time window and source IP (not the resource) for a request at `now` from `client_ip`.
    pub(crate) fn check_conditions(
        &self,
        now: UnixTime,
        client_ip: Option<std::net::IpAddr>,
    ) -> Result<(), crate::DenyReason> {
        use crate::DenyReason;
        if now >= self.date_less_than {
            return Err(DenyReason::Expired {
                expires: self.date_less_than,
                now,
            });
        }
        if let Some(start) = self.date_greater_than
            && now <= start
        {
            return Err(DenyReason::NotYetValid { starts: start, now });
        }
        if let Some(range) = self.source_ip {
            match client_ip {
                None => return Err(DenyReason::ClientIpUnknown { range }),
                Some(std::net::IpAddr::V4(ip)) if range.contains(ip) => {}
                Some(std::net::IpAddr::V6(ip))
                    if ip.to_ipv4_mapped().is_some_and(|v4| range.contains(v4)) => {}
                Some(ip) => return Err(DenyReason::WrongClientIp { ip, range }),
            }
        }
        Ok(())
    }
}

/// Why a policy document could not be parsed (CloudFront answers `MalformedPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyParseError(String);

impl From<PolicyParseError> for Error {
    fn from(e: PolicyParseError) -> Error {
        Error::InvalidPolicy { reason: e.0 }
    }
}

fn parse_policy(bytes: &[u8]) -> Result<CustomPolicy, PolicyParseError> {
    use serde_json::Value;
    let err = |msg: String| PolicyParseError(msg);
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
        Some(obj @ Value::Object(_)) => obj,
        Some(_) => {
            return Err(err(
                "`Statement` must be an array holding one statement".to_owned()
            ));
        }
        None => return Err(err("the policy has no `Statement`".to_owned())),
    };
    let resource = match statement.get("Resource") {
        None => None,
        Some(Value::String(s)) => Some(Resource::new(s).map_err(|e| err(e.to_string()))?),
        Some(_) => return Err(err("`Resource` must be a string".to_owned())),
    };
    let Some(condition) = statement.get("Condition").and_then(Value::as_object) else {
        return Err(err("the statement has no `Condition` object".to_owned()));
    };
    let epoch = |name: &str| -> Result<Option<UnixTime>, PolicyParseError> {
        let Some(entry) = condition.get(name) else {
            return Ok(None);
        };
        let raw = entry
            .get("AWS:EpochTime")
            .ok_or_else(|| err(format!("`{name}` has no `AWS:EpochTime`")))?;
        let secs = match raw {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
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
            Some(raw.parse::<SourceIp>().map_err(|e| err(e.to_string()))?)
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
    Ok(CustomPolicy {
        resource,
        date_less_than,
        date_greater_than,
        source_ip,
    })
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

/// Sections of a URL or pattern: `scheme://host/path?query`.
struct Sections<'a> {
    scheme: &'a str,
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

fn url_sections(url: &str) -> Option<Sections<'_>> {
    sections(url, "?")
}

fn pattern_sections(pattern: &str) -> Option<Sections<'_>> {
    sections(pattern, "\\?")
}

/// Splits at `://`, the first `/` after it, and `query_separator` (`?` in a URL, `\?` in a pattern).
fn sections<'a>(text: &'a str, query_separator: &str) -> Option<Sections<'a>> {
    let (scheme, rest) = text.split_once("://")?;
    let (before_query, query) = match rest.split_once(query_separator) {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (host, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    Some(Sections {
        scheme,
        host,
        path,
        query,
    })
}

/// CloudFront's matching: `*` and `?` do not cross `scheme://host/path\?query` sections, and a
/// trailing `*` in the path also covers any query string. A pattern without `://` (such as `*`)
/// is matched against the whole URL.
fn pattern_matches(pattern: &str, url: &str) -> bool {
    let Some(p) = pattern_sections(pattern) else {
        return glob_match(&pattern.replace("\\?", "?"), url);
    };
    let Some(u) = url_sections(url) else {
        return false;
    };
    if !glob_match(p.scheme, u.scheme) || !glob_match(p.host, u.host) {
        return false;
    }
    match (p.query, u.query) {
        (Some(pq), Some(uq)) => glob_match(p.path, u.path) && glob_match(pq, uq),
        (Some(pq), None) => glob_match(p.path, u.path) && pq.chars().all(|c| c == '*'),
        (None, None) => glob_match(p.path, u.path),
        (None, Some(_)) => p.path.ends_with('*') && glob_match(p.path, u.path),
    }
}

/// Glob matching over characters: `*` any run (possibly empty), `?` exactly one character.
/// Linear-time greedy algorithm with single backtrack point.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        // `*` first: a `*` in the pattern is always a wildcard, even facing a literal `*`.
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
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
    fn wildcard_sections() {
        let check = |pattern: &str, url: &str, expected: bool| {
            assert_eq!(
                pattern_matches(pattern, url),
                expected,
                "{pattern} vs {url}"
            );
        };
        check(
            "https://d1.example.net/a/*",
            "https://d1.example.net/a/b/c.jpg",
            true,
        );
        check(
            "https://d1.example.net/a/*",
            "https://d1.example.net/a/b.jpg?x=1&y",
            true,
        );
        check(
            "https://d1.example.net/a/*",
            "https://d1.example.net/b/x.jpg",
            false,
        );
        check(
            "https://d1.example.net/a/*.jpg",
            "https://d1.example.net/a/x.jpg?x=1",
            false,
        );
        check(
            "https://d1.example.net/a/*.jpg\\?x=*",
            "https://d1.example.net/a/x.jpg?x=1",
            true,
        );
        check("http*://d1.example.net/*", "http://d1.example.net/x", true);
        check("http*://d1.example.net/*", "https://d1.example.net/x", true);
        check("https://*.example.net/x", "https://d1.example.net/x", true);
        // `*` does not cross from host into path.
        check("https://d1*", "https://d1.example.net/x", false);
        check(
            "https://d1.example.net/?.jpg",
            "https://d1.example.net/a.jpg",
            true,
        );
        check(
            "https://d1.example.net/?.jpg",
            "https://d1.example.net/ab.jpg",
            false,
        );
        check("*", "https://anything/at/all?q", true);
        // A `*` in the pattern facing a literal `*` in the URL is still a wildcard.
        check(
            "https://d1.example.net/*",
            "https://d1.example.net/*%00",
            true,
        );
        check(
            "https://d1.example.net/a*",
            "https://d1.example.net/a*b*c",
            true,
        );
        check(
            "https://d1.example.net/a.jpg",
            "https://d1.example.net/a.jpg?x",
            false,
        );
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
