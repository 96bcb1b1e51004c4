//! Client scopes: which URLs and resource patterns a client may have signed, and the strict URL
//! checks that keep a request from escaping its scope (dot segments, encoded slashes, wildcard
//! or JSON injection, userinfo and port tricks, oversize URLs).

use crate::error::ApiError;

/// One `allow` entry: `scheme://authority` plus a path prefix or a path glob.
#[derive(Debug, Clone)]
pub(crate) struct AllowRule {
    scheme: String,
    authority: String,
    path: PathRule,
}

#[derive(Debug, Clone)]
enum PathRule {
    /// Paths equal to the prefix, or below it (`/media` allows `/media` and `/media/…`, never
    /// `/media-private`).
    Prefix(String),
    /// `*` matches within one path segment, `**` across segments.
    Glob(String),
}

/// The parts of a checked URL or pattern.
#[derive(Debug, Clone, Copy)]
struct Parts<'a> {
    scheme: &'a str,
    authority: &'a str,
    /// The path, `/` when the URL has none; for patterns, everything after the authority.
    path: &'a str,
}

/// Whether `*`/`?` are wildcards (resource patterns) or not allowed (URLs to sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Url,
    Pattern,
    Rule,
}

impl AllowRule {
    /// Parses an `allow` entry from the config.
    pub(crate) fn parse(entry: &str) -> Result<AllowRule, String> {
        let parts = check(entry, usize::MAX, Mode::Rule).map_err(|e| {
            format!(
                "allow entry `{entry}`: {}; write it as https://host[:port]/path-prefix or with * / ** in the path",
                e.message()
            )
        })?;
        let path = if parts.path.contains('*') {
            PathRule::Glob(parts.path.to_owned())
        } else {
            PathRule::Prefix(parts.path.to_owned())
        };
        Ok(AllowRule {
            scheme: parts.scheme.to_owned(),
            authority: parts.authority.to_ascii_lowercase(),
            path,
        })
    }

    fn same_origin(&self, parts: &Parts<'_>) -> bool {
        parts.scheme == self.scheme && parts.authority.eq_ignore_ascii_case(&self.authority)
    }

    /// Whether a concrete URL path is allowed.
    fn allows_path(&self, path: &str) -> bool {
        match &self.path {
            PathRule::Prefix(prefix) => {
                prefix.ends_with('/') && path.starts_with(prefix.as_str())
                    || path == prefix
                    || path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            }
            PathRule::Glob(glob) => glob_match(glob.as_bytes(), path.as_bytes()),
        }
    }

    /// Whether every URL a pattern can match (given its literal part before the first wildcard)
    /// stays under this rule's prefix.
    fn allows_literal_prefix(&self, literal: &str) -> bool {
        match &self.path {
            PathRule::Prefix(prefix) if prefix.ends_with('/') => {
                literal.starts_with(prefix.as_str())
            }
            PathRule::Prefix(prefix) => literal
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
            PathRule::Glob(_) => false,
        }
    }
}

/// A client's allowed resources.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    rules: Vec<AllowRule>,
}

impl Scope {
    pub(crate) fn new(rules: Vec<AllowRule>) -> Scope {
        Scope { rules }
    }

    /// Checks a URL to sign: well-formed, no escape tricks, and inside an allow rule.
    pub(crate) fn check_url(&self, url: &str, max_bytes: usize) -> Result<(), ApiError> {
        let parts = check(url, max_bytes, Mode::Url)?;
        if self
            .rules
            .iter()
            .any(|rule| rule.same_origin(&parts) && rule.allows_path(parts.path))
        {
            Ok(())
        } else {
            Err(out_of_scope(url))
        }
    }

    /// Checks a custom-policy resource pattern. A pattern with wildcards is allowed only when its
    /// literal part (up to the first `*` or `?`) lies under a prefix rule.
    pub(crate) fn check_pattern(&self, pattern: &str, max_bytes: usize) -> Result<(), ApiError> {
        let parts = check(pattern, max_bytes, Mode::Pattern)?;
        let allowed = match parts.path.find(['*', '?']) {
            None => self
                .rules
                .iter()
                .any(|rule| rule.same_origin(&parts) && rule.allows_path(parts.path)),
            Some(index) => {
                let literal = &parts.path[..index];
                self.rules
                    .iter()
                    .any(|rule| rule.same_origin(&parts) && rule.allows_literal_prefix(literal))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(out_of_scope(pattern))
        }
    }
}

fn out_of_scope(what: &str) -> ApiError {
    ApiError::forbidden(
        "out_of_scope",
        format!(
            "`{}` is outside this client's allowed resources",
            shorten(what)
        ),
    )
}

pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 160;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// Validates `text` as a URL (or pattern, or allow rule) and splits it.
fn check(text: &str, max_bytes: usize, mode: Mode) -> Result<Parts<'_>, ApiError> {
    let bad = |code: &'static str, message: String| Err(ApiError::bad_request(code, message));
    let escape = |code: &'static str, message: String| Err(ApiError::forbidden(code, message));
    if text.len() > max_bytes {
        return bad(
            "url_too_long",
            format!(
                "the URL is {} bytes; this server accepts at most {max_bytes}",
                text.len()
            ),
        );
    }
    for (index, c) in text.char_indices() {
        match c {
            '"' | '\\' => {
                return escape(
                    "injection",
                    format!(
                        "`{c}` at byte {index} could break out of the policy JSON or escape a wildcard; percent-encode it"
                    ),
                );
            }
            '*' if mode == Mode::Url => {
                return escape(
                    "wildcard",
                    format!(
                        "`*` at byte {index} is a wildcard in CloudFront policies; percent-encode it as %2A, \
                         or ask for a custom policy with a resource pattern"
                    ),
                );
            }
            '#' => {
                return bad(
                    "invalid_url",
                    format!("the URL has a fragment (`#` at byte {index}); remove it"),
                );
            }
            c if c.is_ascii_alphanumeric() || "-._~:/?[]@!$&'()*+,;=%".contains(c) => {}
            c => {
                return bad(
                    "invalid_url",
                    format!(
                        "{c:?} at byte {index} is not valid in a URL; percent-encode it exactly as clients will request it"
                    ),
                );
            }
        }
        if c == '%' {
            let hex = text.get(index + 1..index + 3).unwrap_or_default();
            if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad(
                    "invalid_url",
                    format!("the `%` at byte {index} is not followed by two hex digits"),
                );
            }
        }
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return bad(
            "invalid_url",
            "it is not an absolute URL; it must start with https:// (or http://)".to_owned(),
        );
    };
    if scheme != "https" && scheme != "http" {
        return bad(
            "invalid_url",
            format!("the scheme `{scheme}` is not http or https (lower case)"),
        );
    }
    let authority_end = match mode {
        Mode::Url => rest.find(['/', '?']),
        Mode::Pattern | Mode::Rule => rest.find('/'),
    }
    .unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    check_authority(authority)?;
    let path = match mode {
        Mode::Url => tail.split('?').next().unwrap_or_default(),
        Mode::Pattern => tail,
        Mode::Rule => {
            if tail.contains('?') {
                return bad(
                    "invalid_url",
                    "it has a `?`; allow rules cover paths only".to_owned(),
                );
            }
            tail
        }
    };
    let path = if path.is_empty() { "/" } else { path };
    check_path(path)?;
    if mode == Mode::Url
        && let Some((_, query)) = tail.split_once('?')
    {
        for param in query.split('&') {
            let name = param.split('=').next().unwrap_or_default();
            if cfsign::SIGNING_PARAMS.contains(&name) {
                return bad(
                    "reserved_parameter",
                    format!(
                        "the query parameter `{name}` is reserved for CloudFront signing; sign the URL without it"
                    ),
                );
            }
        }
    }
    Ok(Parts {
        scheme,
        authority,
        path,
    })
}

fn check_authority(authority: &str) -> Result<(), ApiError> {
    let escape = |code: &'static str, message: &str| {
        Err(ApiError::forbidden(
            code,
            format!("the host `{authority}` {message}"),
        ))
    };
    if authority.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_url",
            "the URL has no host name",
        ));
    }
    if authority.contains('@') {
        return escape(
            "userinfo",
            "contains user information (`user@`); CloudFront URLs never do",
        );
    }
    if authority.contains(['*', '?']) {
        return escape(
            "wildcard",
            "contains a wildcard; wildcards are only allowed in the path",
        );
    }
    if authority.contains('%') {
        return escape(
            "encoded_host",
            "is percent-encoded; write the host name plainly",
        );
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, _)) if !host.ends_with(']') && host.contains(':') => (authority, None),
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return escape("bad_port", "has a port that is not a number");
    }
    let ipv6 = host.starts_with('[') && host.ends_with(']');
    let host_ok = if ipv6 {
        host[1..host.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    if !host_ok {
        return escape(
            "bad_host",
            "is not a host name (letters, digits, `-` and `.`)",
        );
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), ApiError> {
    let escape = |code: &'static str, message: String| Err(ApiError::forbidden(code, message));
    if !path.starts_with('/') {
        return Err(ApiError::bad_request(
            "invalid_url",
            "the path must start with `/`",
        ));
    }
    for segment in path.split('/') {
        let lower = segment.to_ascii_lowercase();
        let decoded = lower.replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return escape(
                "dot_segment",
                format!(
                    "the path segment `{segment}` is a dot segment, which could climb out of the allowed path"
                ),
            );
        }
        if lower.contains("%2f") || lower.contains("%5c") {
            return escape(
                "encoded_slash",
                format!(
                    "the path segment `{segment}` contains an encoded slash (%2F or %5C), which origins may decode into a path separator"
                ),
            );
        }
        if ["%252e", "%252f", "%255c"]
            .iter()
            .any(|needle| lower.contains(needle))
        {
            return escape(
                "double_encoding",
                format!("the path segment `{segment}` contains a double-encoded dot or slash"),
            );
        }
    }
    Ok(())
}

/// `*` matches within one path segment, `**` across segments; everything else literally.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some(b'*') if pattern.get(1) == Some(&b'*') => {
            let rest = &pattern[2..];
            (0..=text.len()).any(|i| glob_match(rest, &text[i..]))
        }
        Some(b'*') => {
            let rest = &pattern[1..];
            for i in 0..=text.len() {
                if glob_match(rest, &text[i..]) {
                    return true;
                }
                if text.get(i) == Some(&b'/') {
                    return false;
                }
            }
            false
        }
        Some(c) => text.first() == Some(c) && glob_match(&pattern[1..], &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(entries: &[&str]) -> Scope {
        Scope::new(
            entries
                .iter()
                .map(|e| AllowRule::parse(e).unwrap())
                .collect(),
        )
    }

    /// `expected` is `Ok(())` or the error code.
    fn check_url(entries: &[&str], url: &str, expected: Result<(), &str>) {
        let got = scope(entries).check_url(url, 4096).map_err(|e| e.code());
        assert_eq!(got, expected, "{entries:?} {url}");
    }

    fn check_pattern(entries: &[&str], pattern: &str, expected: Result<(), &str>) {
        let got = scope(entries)
            .check_pattern(pattern, 4096)
            .map_err(|e| e.code());
        assert_eq!(got, expected, "{entries:?} {pattern}");
    }

    const MEDIA: &[&str] = &["https://d1.example.net/media"];

    #[test]
    fn prefixes() {
        check_url(MEDIA, "https://d1.example.net/media", Ok(()));
        check_url(MEDIA, "https://d1.example.net/media/a.jpg?v=2", Ok(()));
        check_url(MEDIA, "https://D1.Example.NET/media/a.jpg", Ok(()));
        check_url(
            MEDIA,
            "https://d1.example.net/media-private/a.jpg",
            Err("out_of_scope"),
        );
        check_url(
            MEDIA,
            "http://d1.example.net/media/a.jpg",
            Err("out_of_scope"),
        );
        check_url(MEDIA, "https://d1.example.net/", Err("out_of_scope"));
        check_url(MEDIA, "https://d1.example.net", Err("out_of_scope"));
        check_url(
            &["https://d1.example.net/"],
            "https://d1.example.net",
            Ok(()),
        );
    }

    #[test]
    fn globs() {
        let users = &[
            "https://d1.example.net/users/*/avatar.png",
            "https://d1.example.net/pub/**.m3u8",
        ];
        check_url(users, "https://d1.example.net/users/42/avatar.png", Ok(()));
        check_url(
            users,
            "https://d1.example.net/users/42/x/avatar.png",
            Err("out_of_scope"),
        );
        check_url(users, "https://d1.example.net/pub/a/b/c.m3u8", Ok(()));
        check_url(
            users,
            "https://d1.example.net/pub/a/b/c.ts",
            Err("out_of_scope"),
        );
        check_pattern(users, "https://d1.example.net/users/*", Err("out_of_scope"));
    }

    #[test]
    fn dot_segments() {
        for url in [
            "https://d1.example.net/media/../secret/a.jpg",
            "https://d1.example.net/media/./a.jpg",
            "https://d1.example.net/media/%2e%2e/secret",
            "https://d1.example.net/media/%2E%2e/secret",
            "https://d1.example.net/media/.%2E/secret",
            "https://d1.example.net/media/..",
        ] {
            check_url(MEDIA, url, Err("dot_segment"));
        }
        check_url(MEDIA, "https://d1.example.net/media/..a/b", Ok(()));
        check_pattern(
            MEDIA,
            "https://d1.example.net/media/%2e%2e/*",
            Err("dot_segment"),
        );
    }

    #[test]
    fn encoded_slashes() {
        for url in [
            "https://d1.example.net/media%2f..%2fsecret",
            "https://d1.example.net/media/a%2Fb",
            "https://d1.example.net/media/a%5cb",
        ] {
            check_url(MEDIA, url, Err("encoded_slash"));
        }
        check_url(
            MEDIA,
            "https://d1.example.net/media/%252e%252e/x",
            Err("double_encoding"),
        );
    }

    #[test]
    fn wildcard_and_json_injection() {
        check_url(MEDIA, "https://d1.example.net/media/*", Err("wildcard"));
        check_url(
            MEDIA,
            "https://d1.example.net/media/a\"}],\"x",
            Err("injection"),
        );
        check_pattern(
            MEDIA,
            "https://d1.example.net/media/*\"},{\"Resource\":\"*",
            Err("injection"),
        );
        check_pattern(MEDIA, "https://d1.example.net/media/*", Ok(()));
        check_pattern(MEDIA, "https://d1.example.net/media/a?.jpg", Ok(()));
        check_pattern(MEDIA, "https://d1.example.net/med*", Err("out_of_scope"));
        check_pattern(MEDIA, "https://d1.example.net/media*", Err("out_of_scope"));
        check_pattern(MEDIA, "https://d1.example.net/*", Err("out_of_scope"));
        check_pattern(MEDIA, "https://*.example.net/media/*", Err("wildcard"));
        check_pattern(MEDIA, "https://d1.example.net?/media/*", Err("wildcard"));
        check_pattern(MEDIA, "http*://d1.example.net/media/*", Err("invalid_url"));
        check_pattern(MEDIA, "*", Err("invalid_url"));
        check_pattern(
            MEDIA,
            r"https://d1.example.net/media/a\?x=1",
            Err("injection"),
        );
    }

    #[test]
    fn userinfo_port_and_host_tricks() {
        check_url(
            MEDIA,
            "https://d1.example.net@evil.com/media/a",
            Err("userinfo"),
        );
        check_url(
            MEDIA,
            "https://evil.com@d1.example.net/media/a",
            Err("userinfo"),
        );
        check_url(
            MEDIA,
            "https://d1.example.net:443/media/a",
            Err("out_of_scope"),
        );
        check_url(
            MEDIA,
            "https://d1.example.net:8443/media/a",
            Err("out_of_scope"),
        );
        check_url(MEDIA, "https://d1.example.net:/media/a", Err("bad_port"));
        check_url(
            MEDIA,
            "https://d1.example.net./media/a",
            Err("out_of_scope"),
        );
        check_url(
            MEDIA,
            "https://d1.example.net.evil.com/media/a",
            Err("out_of_scope"),
        );
        check_url(
            MEDIA,
            "https://d1%2eexample.net/media/a",
            Err("encoded_host"),
        );
        check_url(
            MEDIA,
            "https://d1.example.net\\@evil.com/media",
            Err("injection"),
        );
        check_url(MEDIA, "https://d1.exa_mple.net/media/a", Err("bad_host"));
        check_url(
            &["https://d1.example.net:8443/media"],
            "https://d1.example.net:8443/media/a",
            Ok(()),
        );
    }

    #[test]
    fn malformed_and_oversize() {
        check_url(MEDIA, "d1.example.net/media/a", Err("invalid_url"));
        check_url(MEDIA, "ftp://d1.example.net/media/a", Err("invalid_url"));
        check_url(MEDIA, "HTTPS://d1.example.net/media/a", Err("invalid_url"));
        check_url(
            MEDIA,
            "https://d1.example.net/media/a b",
            Err("invalid_url"),
        );
        check_url(
            MEDIA,
            "https://d1.example.net/media/a#x",
            Err("invalid_url"),
        );
        check_url(
            MEDIA,
            "https://d1.example.net/media/%zz",
            Err("invalid_url"),
        );
        check_url(MEDIA, "https:///media/a", Err("invalid_url"));
        check_url(
            MEDIA,
            "https://d1.example.net/media/a?Signature=x",
            Err("reserved_parameter"),
        );
        let long = format!("https://d1.example.net/media/{}", "a".repeat(5000));
        check_url(MEDIA, &long, Err("url_too_long"));
    }

    #[test]
    fn rules_are_validated() {
        for entry in [
            "d1.example.net/media",
            "https://*.example.net/",
            "https://u@d1.example.net/",
            "https://d1.example.net/a/../b",
            "https://d1.example.net/a?b",
        ] {
            assert!(AllowRule::parse(entry).is_err(), "{entry}");
        }
    }
}
