//! CloudFront's signing parameters, read from a request URL or a `Cookie` header and decoded once
//! for both [`verify`](crate::verify) and [`inspect_url`](crate::inspect_url).

use std::fmt;

use crate::url::SIGNING_PARAMS;
use crate::{HashAlgorithm, Undocumented, UnixTime, encoding};

/// Where the signature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureSource {
    /// Query parameters of the URL.
    Url,
    /// `CloudFront-*` cookies.
    Cookies,
}

impl fmt::Display for SignatureSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureSource::Url => "signed URL",
            SignatureSource::Cookies => "signed cookies",
        })
    }
}

/// The signing parameters found in a URL's query or in cookies, still as raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawParams {
    pub(crate) expires: Option<String>,
    pub(crate) policy: Option<String>,
    pub(crate) signature: Option<String>,
    pub(crate) key_pair_id: Option<String>,
    pub(crate) hash_algorithm: Option<String>,
}

impl RawParams {
    /// Whether any parameter that makes CloudFront use this source (all but Hash-Algorithm) is present.
    pub(crate) fn any_present(&self) -> bool {
        self.expires.is_some()
            || self.policy.is_some()
            || self.signature.is_some()
            || self.key_pair_id.is_some()
    }

    /// Percent-decodes values that carry `%XX` escapes, noting each as undocumented, and notes
    /// standard-base64 characters in `Signature` and `Policy`. `source` picks the names used in
    /// notes (`Signature` or `CloudFront-Signature`).
    pub(crate) fn normalise(&mut self, source: SignatureSource, notes: &mut Vec<Undocumented>) {
        let cookie = source == SignatureSource::Cookies;
        let name =
            |url: &'static str, cookie_name: &'static str| if cookie { cookie_name } else { url };
        let slots: [(&mut Option<String>, &'static str); 5] = [
            (&mut self.expires, name("Expires", "CloudFront-Expires")),
            (&mut self.policy, name("Policy", "CloudFront-Policy")),
            (
                &mut self.signature,
                name("Signature", "CloudFront-Signature"),
            ),
            (
                &mut self.key_pair_id,
                name("Key-Pair-Id", "CloudFront-Key-Pair-Id"),
            ),
            (
                &mut self.hash_algorithm,
                name("Hash-Algorithm", "CloudFront-Hash-Algorithm"),
            ),
        ];
        for (slot, parameter) in slots {
            let Some(value) = slot.as_deref() else {
                continue;
            };
            if let Some(decoded) = percent_decode(value) {
                notes.push(Undocumented::PercentEncoded { parameter });
                *slot = Some(decoded);
            }
        }
        for (value, parameter) in [
            (&self.signature, name("Signature", "CloudFront-Signature")),
            (&self.policy, name("Policy", "CloudFront-Policy")),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| v.contains(['+', '/', '=']))
            {
                notes.push(Undocumented::StandardBase64 { parameter });
            }
        }
    }

    fn set(&mut self, name: &str, value: &str) {
        let slot = match name {
            "Expires" => &mut self.expires,
            "Policy" => &mut self.policy,
            "Signature" => &mut self.signature,
            "Key-Pair-Id" => &mut self.key_pair_id,
            "Hash-Algorithm" => &mut self.hash_algorithm,
            _ => return,
        };
        // The first occurrence wins.
        if slot.is_none() {
            *slot = Some(value.to_owned());
        }
    }
}

/// Decodes `%XX` escapes in `value`; `None` if it has none or they do not decode to UTF-8 text.
fn percent_decode(value: &str) -> Option<String> {
    if !value.contains('%') {
        return None;
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Splits a request URL into the URL without signing parameters (what a canned policy covers,
/// and what a custom policy's resource is matched against) and the signing parameters.
pub(crate) fn split_signed_url(url: &str) -> (String, RawParams) {
    let mut params = RawParams::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), params);
    };
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if SIGNING_PARAMS.contains(&name) {
            params.set(name, value);
        } else {
            kept.push(pair);
        }
    }
    let stripped = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (stripped, params)
}

/// Reads CloudFront's signing cookies from a `Cookie` header value.
pub(crate) fn parse_cookie_header(header: &str) -> RawParams {
    let mut params = RawParams::default();
    let header = header.trim();
    let header = header
        .strip_prefix("Cookie:")
        .or_else(|| header.strip_prefix("cookie:"))
        .unwrap_or(header);
    for pair in header.split(';') {
        let Some((name, value)) = pair.trim().split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        let name = match name.trim() {
            "CloudFront-Expires" => "Expires",
            "CloudFront-Policy" => "Policy",
            "CloudFront-Signature" => "Signature",
            "CloudFront-Key-Pair-Id" => "Key-Pair-Id",
            "CloudFront-Hash-Algorithm" => "Hash-Algorithm",
            _ => continue,
        };
        params.set(name, value);
    }
    params
}

/// The signing parameters, decoded: what `verify` checks and `inspect` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// `Key-Pair-Id`; `None` when missing or empty.
    pub(crate) key_pair_id: Option<String>,
    /// `Signature`: `None` when missing, `Some(None)` when not base64.
    pub(crate) signature: Option<Option<Vec<u8>>>,
    /// `Hash-Algorithm`: `None` when absent (SHA-1), `Some(Err(value))` when unknown.
    pub(crate) hash: Option<Result<HashAlgorithm, String>>,
    /// `Policy`: `None` when missing, `Some(None)` when not base64.
    pub(crate) policy: Option<Option<Vec<u8>>>,
    /// `Expires`: `None` when missing, `Some(Err(value))` when not a Unix time in seconds.
    pub(crate) expires: Option<Result<UnixTime, String>>,
    /// Undocumented forms seen while decoding.
    pub(crate) undocumented: Vec<Undocumented>,
    /// Whether any parameter that makes CloudFront use this source was present.
    pub(crate) present: bool,
}

impl RawParams {
    /// Decodes the parameters as the edge reads them, noting every undocumented form.
    pub(crate) fn decode(mut self, source: SignatureSource) -> Decoded {
        let present = self.any_present();
        let mut undocumented = Vec::new();
        self.normalise(source, &mut undocumented);
        let hash =
            self.hash_algorithm
                .as_deref()
                .map(|value| match HashAlgorithm::from_param(value) {
                    Some(hash) => Ok(hash),
                    None => match HashAlgorithm::from_param(&value.to_ascii_uppercase()) {
                        Some(hash) => {
                            undocumented.push(Undocumented::HashAlgorithmCase {
                                value: value.to_owned(),
                            });
                            Ok(hash)
                        }
                        None => Err(value.to_owned()),
                    },
                });
        let expires = self.expires.as_deref().map(|e| {
            let secs = Some(e)
                .filter(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|e| e.parse::<u64>().ok())
                .and_then(|s| UnixTime::from_secs(s).ok())
                .ok_or_else(|| e.to_owned())?;
            // Only a canned policy is rebuilt from `Expires`; beside a `Policy` it is unused.
            if e.len() > 1 && e.starts_with('0') && self.policy.is_none() {
                undocumented.push(Undocumented::ExpiresLeadingZeros {
                    value: e.to_owned(),
                });
            }
            Ok(secs)
        });
        Decoded {
            key_pair_id: self.key_pair_id.filter(|id| !id.is_empty()),
            signature: self.signature.as_deref().map(encoding::decode),
            hash,
            policy: self.policy.as_deref().map(encoding::decode),
            expires,
            undocumented,
            present,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        let (base, p) = split_signed_url("https://x/a?v=1&Expires=5&Signature=s&Key-Pair-Id=K&w=2");
        assert_eq!(base, "https://x/a?v=1&w=2");
        assert_eq!(p.expires.as_deref(), Some("5"));
        assert_eq!(p.key_pair_id.as_deref(), Some("K"));
        let (base, p) = split_signed_url(
            "https://x/a?Policy=p&Signature=s&Key-Pair-Id=K&Hash-Algorithm=SHA256",
        );
        assert_eq!(base, "https://x/a");
        assert_eq!(p.hash_algorithm.as_deref(), Some("SHA256"));
        assert!(p.any_present());
    }

    #[test]
    fn cookies() {
        let p = parse_cookie_header(
            "a=1; CloudFront-Policy=pp; CloudFront-Signature=ss;CloudFront-Key-Pair-Id=K",
        );
        assert_eq!(p.policy.as_deref(), Some("pp"));
        assert_eq!(p.signature.as_deref(), Some("ss"));
        assert_eq!(p.key_pair_id.as_deref(), Some("K"));
        assert!(!parse_cookie_header("session=abc").any_present());
    }

    #[test]
    fn decode_notes_undocumented_forms() {
        let (_, raw) = split_signed_url(
            "https://x/a?Expires=0100&Signature=ab%7E_&Key-Pair-Id=&Hash-Algorithm=sha256",
        );
        let d = raw.decode(SignatureSource::Url);
        assert_eq!(d.key_pair_id, None, "an empty Key-Pair-Id is missing");
        assert_eq!(d.expires, Some(Ok(UnixTime::from_secs(100).unwrap())));
        assert_eq!(d.hash, Some(Ok(HashAlgorithm::Sha256)));
        let kinds: Vec<&str> = d.undocumented.iter().map(Undocumented::kind).collect();
        assert_eq!(
            kinds,
            [
                "percent_encoded",
                "hash_algorithm_case",
                "expires_leading_zeros"
            ]
        );
        let (_, raw) = split_signed_url("https://x/a?Expires=%2B5&Hash-Algorithm=MD5");
        let d = raw.decode(SignatureSource::Url);
        assert_eq!(d.expires, Some(Err("+5".to_owned())));
        assert_eq!(d.hash, Some(Err("MD5".to_owned())));
    }
}
