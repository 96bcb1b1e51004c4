//! URLs to sign: what may be signed (scheme, characters, no signing parameters yet), and the
//! names and size limits CloudFront sets.

use crate::Error;

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
}
