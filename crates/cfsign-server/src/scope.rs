//! Client scopes: which URLs and resource patterns a client may have signed, and the strict URL
//! checks that keep a request from escaping its scope.
//!
//! The rule, written once in [`normalise`]: a path is read the way origins read it — decoded
//! until stable, `;` parameters cut, trailing spaces and dots dropped, empty segments merged —
//! and is signed only if that reading contains nothing an origin could take for a dot segment,
//! a separator or a look-alike, and if it is in scope as well as the literal path. The server
//! README ("Threat model") says what this does and does not protect.

use crate::error::ApiError;

mod normalise;

use normalise::{Normalised, normalise};

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
    Prefix(Forms),
    /// `*` matches one or more characters within one path segment, `**` one or more across
    /// segments.
    Glob(Forms),
}

/// A rule's path as written and as [`normalise`] reads it; a path is compared form by form.
#[derive(Debug, Clone)]
struct Forms {
    literal: String,
    normal: Normalised,
}

/// The parts of a checked URL or pattern.
#[derive(Debug, Clone)]
struct Parts<'a> {
    scheme: &'a str,
    authority: &'a str,
    /// The path, `/` when the URL has none; for patterns, everything after the authority.
    path: &'a str,
    /// The path as origins read it.
    normal: Normalised,
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
        let fail = |message: &str| {
            format!(
                "allow entry `{entry}`: {message}; write it as https://host[:port]/path-prefix or with * / ** in the path"
            )
        };
        let parts = check(entry, usize::MAX, Mode::Rule).map_err(|e| fail(e.message()))?;
        let forms = Forms {
            literal: parts.path.to_owned(),
            normal: parts.normal,
        };
        let path = if parts.path.contains('*') {
            // Every form must have the same wildcards: an encoded `*` (`%2A`) would turn into
            // one when decoded, and a `;` parameter would cut one off.
            let stars = |text: &str| text.matches('*').count();
            let n = stars(&forms.literal);
            if stars(&forms.normal.once) != n || stars(&forms.normal.full) != n {
                return Err(fail(
                    "a glob may not hold an encoded `*` or a `*` in a `;` parameter",
                ));
            }
            PathRule::Glob(forms)
        } else {
            PathRule::Prefix(forms)
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

    /// Whether a concrete URL path is allowed: as written, and in each normalised form.
    fn allows_path(&self, literal: &str, normal: &Normalised) -> bool {
        let (forms, allows): (_, fn(&str, &str) -> bool) = match &self.path {
            PathRule::Prefix(forms) => (forms, prefix_allows),
            PathRule::Glob(forms) => (forms, |glob, path| {
                glob_match(glob.as_bytes(), path.as_bytes())
            }),
        };
        allows(&forms.literal, literal)
            && allows(&forms.normal.once, &normal.once)
            && allows(&forms.normal.full, &normal.full)
    }

    /// Whether every URL a pattern can match stays under this rule's prefix, given the pattern's
    /// literal part (before the first wildcard) as written, and its whole segments normalised.
    fn allows_literal_prefix(&self, literal: &str, normal: &Normalised) -> bool {
        match &self.path {
            PathRule::Prefix(prefix) => {
                prefix_covers(&prefix.literal, literal)
                    && prefix_covers(&prefix.normal.once, &normal.once)
                    && prefix_covers(&prefix.normal.full, &normal.full)
            }
            PathRule::Glob(_) => false,
        }
    }
}

/// Whether `path` is `prefix` or below it (at a segment boundary unless `prefix` ends with `/`).
fn prefix_allows(prefix: &str, path: &str) -> bool {
    prefix.ends_with('/') && path.starts_with(prefix)
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether every path that starts with `literal` is below `prefix`.
fn prefix_covers(prefix: &str, literal: &str) -> bool {
    if prefix.ends_with('/') {
        literal.starts_with(prefix)
    } else {
        literal
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
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

    /// Checks a URL to sign: well-formed, no escape tricks, and inside an allow rule both as
    /// written and as origins read it.
    pub(crate) fn check_url(&self, url: &str, max_bytes: usize) -> Result<(), ApiError> {
        let parts = check(url, max_bytes, Mode::Url)?;
        if self
            .rules
            .iter()
            .any(|rule| rule.same_origin(&parts) && rule.allows_path(parts.path, &parts.normal))
        {
            Ok(())
        } else {
            Err(out_of_scope(url))
        }
    }

    /// Checks a custom-policy resource pattern. A pattern with wildcards is allowed only when its
    /// literal part (up to the first `*` or `?`) lies under a prefix rule, as written and as
    /// origins read it.
    pub(crate) fn check_pattern(&self, pattern: &str, max_bytes: usize) -> Result<(), ApiError> {
        let parts = check(pattern, max_bytes, Mode::Pattern)?;
        let allowed = match parts.path.find(['*', '?']) {
            None => self.rules.iter().any(|rule| {
                rule.same_origin(&parts) && rule.allows_path(parts.path, &parts.normal)
            }),
            Some(index) => {
                let literal = &parts.path[..index];
                // The whole segments before the wildcard: the path starts with `/`, so there is
                // one. They were read (and passed) with the whole pattern above.
                let whole = literal.rfind('/').map_or("/", |end| &literal[..=end]);
                let normal = normalise(whole)?;
                self.rules.iter().any(|rule| {
                    rule.same_origin(&parts) && rule.allows_literal_prefix(literal, &normal)
                })
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
    if !path.starts_with('/') {
        return bad("invalid_url", "the path must start with `/`".to_owned());
    }
    let normal = normalise(path)?;
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
        normal,
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

/// `*` matches one or more characters within a segment, `**` one or more across segments;
/// everything else literally. A `*` never matches nothing, so `/users/*/avatar.png` does not
/// cover `/users//avatar.png`, which nginx reads as `/users/avatar.png`.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.first() {
        None => text.is_empty(),
        Some(b'*') if pattern.get(1) == Some(&b'*') => {
            let rest = &pattern[2..];
            (1..=text.len()).any(|i| glob_match(rest, &text[i..]))
        }
        Some(b'*') => {
            let rest = &pattern[1..];
            for i in 1..=text.len() {
                if text[i - 1] == b'/' {
                    return false;
                }
                if glob_match(rest, &text[i..]) {
                    return true;
                }
            }
            false
        }
        Some(c) => text.first() == Some(c) && glob_match(&pattern[1..], &text[1..]),
    }
}

#[cfg(test)]
mod tests;
