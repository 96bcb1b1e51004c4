//! URL handling shared by signing, verifying and inspecting: validation of URLs to sign, and
//! splitting a request URL into the caller's URL and CloudFront's signing parameters.

use crate::{Error, SignatureSource, Undocumented};

/// CloudFront's largest URL, in bytes.
pub const MAX_URL_BYTES: usize = 8192;

/// Query parameter names that CloudFront reserves for signing.
pub const SIGNING_PARAMS: [&str; 5] = [
    "Expires",
    "Policy",
    "Signature",
    "Key-Pair-Id",
    "Hash-Algorithm",
];

/// Checks that `url` can be signed: `http`/`https`, a host, only characters valid in a URL, every
/// `%` followed by two hex digits, no fragment, and no signing parameters already present.
pub(crate) fn check_signable(url: &str) -> Result<(), Error> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(Error::invalid_url(
            url,
            "it is not an absolute URL; it must start with https:// (or http://)",
        ));
    };
    if scheme != "https" && scheme != "http" {
        let fix = if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
            format!(
                "write the scheme in lower case (`{}`), as clients send it",
                scheme.to_ascii_lowercase()
            )
        } else {
            "only http and https URLs can be signed".to_owned()
        };
        return Err(Error::invalid_url(
            url,
            format!("the scheme is `{scheme}`: {fix}"),
        ));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(Error::invalid_url(url, "the URL has no host name"));
    }
    if host.contains('@') {
        return Err(Error::invalid_url(
            url,
            "the URL contains user information (`user@`); CloudFront URLs never do",
        ));
    }
    for (index, c) in url.char_indices() {
        let valid = c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | '~'
                    | ':'
                    | '/'
                    | '?'
                    | '['
                    | ']'
                    | '@'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
            );
        if c == '#' {
            return Err(Error::invalid_url(
                url,
                format!(
                    "it has a fragment (`#` at byte {index}); browsers never send fragments, so remove it or percent-encode it as %23"
                ),
            ));
        }
        if !valid {
            let what = match c {
                ' ' => "a space".to_owned(),
                c if c.is_control() => format!("the control character {c:?}"),
                c => format!("`{c}`"),
            };
            let mut buf = [0u8; 4];
            let encoded: String = c
                .encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            return Err(Error::invalid_url(
                url,
                format!(
                    "it contains {what} at byte {index}, which is not valid in a URL; percent-encode it as {encoded}, \
                     exactly as clients will request it"
                ),
            ));
        }
        if c == '%' {
            let hex = url.get(index + 1..index + 3).unwrap_or_default();
            if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::invalid_url(
                    url,
                    format!(
                        "the `%` at byte {index} is not followed by two hex digits; write a literal % as %25"
                    ),
                ));
            }
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for param in query.split('&') {
            let name = param.split('=').next().unwrap_or_default();
            if SIGNING_PARAMS.contains(&name) {
                return Err(Error::invalid_url(
                    url,
                    format!(
                        "it already has the query parameter `{name}`, which CloudFront reserves for signing; \
                         sign the URL without it (was it signed already?)"
                    ),
                ));
            }
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signable() {
        let ok = [
            "https://d1.example.net/a.jpg",
            "http://d1.example.net:8080/a%20b.jpg?x=1&y=%2F",
            "https://d1.example.net",
        ];
        for url in ok {
            assert_eq!(check_signable(url), Ok(()), "{url}");
        }
        let bad = [
            ("ftp://x/a", "scheme"),
            ("HTTPS://x/a", "lower case"),
            ("d1.example.net/a.jpg", "absolute"),
            ("https://x/a b.jpg", "a space at byte 11"),
            ("https://x/é", "%C3%A9"),
            ("https://x/a%2", "two hex digits"),
            ("https://x/a#frag", "fragment"),
            (
                "https://x/a?Expires=1",
                "already has the query parameter `Expires`",
            ),
            ("https://x/a?y=1&Key-Pair-Id=K", "Key-Pair-Id"),
            ("https:///a", "no host"),
            ("https://u:p@x/a", "user information"),
            ("https://x/a\"b", "`\"`"),
        ];
        for (url, needle) in bad {
            let err = check_signable(url).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }

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
}
