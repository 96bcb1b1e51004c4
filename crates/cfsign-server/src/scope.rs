//! Client scopes: which URLs and resource patterns a client may have signed, and the strict URL
//! checks that keep a request from escaping its scope.
//!
//! The rule, written once in [`normalise`]: a path is read the way origins read it — decoded
//! until stable, `;` parameters cut, trailing spaces and dots dropped, empty segments merged —
//! and is signed only if that reading contains nothing an origin could take for a dot segment,
//! a separator or a look-alike, and if it is in scope as well as the literal path. The server
//! README ("Threat model") says what this does and does not protect.

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

/// How many rounds of percent-decoding a path segment may take before it is stable.
const MAX_DECODINGS: usize = 8;

/// A path as origins read it: the form scope is checked on, besides the path as written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normalised {
    /// Percent-decoded once, as S3, nginx and most origins decode.
    once: String,
    /// Percent-decoded until stable, as an origin behind a decoding proxy may read it.
    full: String,
}

/// Reads a path (ASCII, starting with `/`, every `%` followed by two hex digits, as [`check`]
/// leaves it) the way origins do, refusing it when a reading could leave the path's structure:
///
/// 1. Each segment is percent-decoded again and again until it is stable (at most
///    [`MAX_DECODINGS`] rounds). A decoding that yields `/` or `\` is refused (`encoded_slash`),
///    and so is a second or later decoding that yields `.`, `/`, `\`, `;`, `%`, `?` or `#`
///    (`double_encoding`): an origin that decodes twice would read structure the signature does
///    not show.
/// 2. Each decoding must be UTF-8 (`invalid_utf8`: overlong forms such as `%C0%AE` are `.` to
///    lenient decoders), with no control characters (`control_character`: NUL ends a C string)
///    and no non-ASCII look-alike of `.`, `/`, `\`, `;`, `%`, `?` or `#` (`lookalike`: NFKC and
///    Windows best-fit mappings).
/// 3. A segment whose part before the first `;`, `?` or `#` is made only of dots, white space
///    and invisible characters, with at least one dot, is a dot segment (`dot_segment`): Tomcat,
///    Jetty and Spring read `..;x` as `..`, Windows drops trailing dots and spaces, a C origin
///    stops at NUL.
///
/// The result ([`scope_form`]) is what scope is checked on: a path that is signed must be in
/// scope as written and in both readings. A refusal found only after the first decoding is
/// reported as `double_encoding`.
fn normalise(path: &str) -> Result<Normalised, ApiError> {
    let mut once = Vec::new();
    let mut full = Vec::new();
    for segment in path.split('/') {
        let (a, b) = read_segment(segment)?;
        once.push(a);
        full.push(b);
    }
    Ok(Normalised {
        once: scope_form(&once),
        full: scope_form(&full),
    })
}

/// One path segment, decoded once and until stable; see [`normalise`].
fn read_segment(segment: &str) -> Result<(String, String), ApiError> {
    let mut text = read(segment.as_bytes(), segment)?;
    let mut once = None;
    for depth in 1..=MAX_DECODINGS + 1 {
        let Some(bytes) = decode(text.as_bytes(), depth, segment)? else {
            let once = once.unwrap_or_else(|| text.clone());
            return Ok((once, text));
        };
        if depth > MAX_DECODINGS {
            break;
        }
        text = read(&bytes, segment).map_err(|e| {
            if depth == 1 {
                e
            } else {
                ApiError::forbidden(
                    "double_encoding",
                    format!(
                        "it is percent-encoded more than once, and after {depth} decodings {}",
                        e.message()
                    ),
                )
            }
        })?;
        if depth == 1 {
            once = Some(text.clone());
        }
    }
    Err(ApiError::forbidden(
        "double_encoding",
        format!(
            "the path segment `{}` still changes after {MAX_DECODINGS} rounds of percent-decoding",
            shorten(segment)
        ),
    ))
}

/// One round of percent-decoding (round `depth`), or `None` when there is nothing to decode.
fn decode(bytes: &[u8], depth: usize, segment: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let hex = |b: Option<&u8>| match b? {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escape = (b == b'%')
            .then(|| hex(bytes.get(i + 1)).zip(hex(bytes.get(i + 2))))
            .flatten();
        let Some((high, low)) = escape else {
            out.push(b);
            i += 1;
            continue;
        };
        let decoded = high << 4 | low;
        if depth == 1 && (decoded == b'/' || decoded == b'\\') {
            return Err(ApiError::forbidden(
                "encoded_slash",
                format!(
                    "the path segment `{}` contains an encoded slash (%2F or %5C), which origins may decode into a path separator",
                    shorten(segment)
                ),
            ));
        }
        if depth > 1 && b"./\\;%?#".contains(&decoded) {
            return Err(ApiError::forbidden(
                "double_encoding",
                format!(
                    "the path segment `{}` is percent-encoded more than once: decoding it {depth} times yields `{}`, \
                     which an origin that decodes twice reads as part of the path's structure; encode each character once",
                    shorten(segment),
                    char::from(decoded)
                ),
            ));
        }
        out.push(decoded);
        changed = true;
        i += 3;
    }
    Ok(changed.then_some(out))
}

/// Checks one reading of a segment (UTF-8, dot segments, control characters, look-alikes).
fn read(bytes: &[u8], segment: &str) -> Result<String, ApiError> {
    let escape = |code: &'static str, what: String| {
        Err(ApiError::forbidden(
            code,
            format!("the path segment `{}` {what}", shorten(segment)),
        ))
    };
    let Ok(text) = String::from_utf8(bytes.to_vec()) else {
        return escape(
            "invalid_utf8",
            "decodes to bytes that are not UTF-8 (lenient decoders read overlong forms such as %C0%AE as `.`); \
             percent-encode the UTF-8 bytes of the name"
                .to_owned(),
        );
    };
    let head = text.split([';', '?', '#']).next().unwrap_or_default();
    if head.contains('.') && head.chars().all(|c| c == '.' || is_invisible(c)) {
        return escape(
            "dot_segment",
            "is a dot segment (origins drop `;` parameters, trailing spaces and control characters, \
             so they read it as `.` or `..`), which could climb out of the allowed path"
                .to_owned(),
        );
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return escape(
            "control_character",
            format!(
                "decodes to the control character {c:?}, which origins may cut the path at or drop"
            ),
        );
    }
    if let Some(c) = text.chars().find(|&c| is_lookalike(c)) {
        return escape(
            "lookalike",
            format!(
                "decodes to {c:?} (U+{:04X}), which origins that apply Unicode compatibility or Windows best-fit \
                 mappings read as `.`, `/`, `\\`, `;`, `%`, `?` or `#`",
                u32::from(c)
            ),
        );
    }
    Ok(text)
}

/// The path made of read segments, in the form scope is compared on: it ends at the first `?`
/// or `#` (an origin that parses the decoded path again ends it there), `;` parameters are cut
/// from each segment, trailing dots, spaces and invisible characters are dropped, and empty
/// segments are merged (as nginx does), keeping a trailing `/`.
fn scope_form(segments: &[String]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    // The first segment is the empty one before the path's leading `/`.
    for segment in segments.iter().skip(1) {
        let (segment, last) = match segment.find(['?', '#']) {
            Some(end) => (&segment[..end], true),
            None => (segment.as_str(), false),
        };
        let segment = segment.split(';').next().unwrap_or_default();
        let segment = segment.trim_end_matches(|c| c == '.' || is_invisible(c));
        trailing_slash = segment.is_empty();
        if !trailing_slash {
            kept.push(segment);
        }
        if last {
            break;
        }
    }
    let mut form = format!("/{}", kept.join("/"));
    if trailing_slash && !kept.is_empty() {
        form.push('/');
    }
    form
}

/// White space, control characters and Unicode's default-ignorable code points (soft hyphen,
/// zero-width characters, bidi controls, variation selectors, …): what origins and
/// normalisers trim, drop or do not show.
fn is_invisible(c: char) -> bool {
    const IGNORABLE: &[(char, char)] = &[
        ('\u{00AD}', '\u{00AD}'),
        ('\u{034F}', '\u{034F}'),
        ('\u{061C}', '\u{061C}'),
        ('\u{115F}', '\u{1160}'),
        ('\u{17B4}', '\u{17B5}'),
        ('\u{180B}', '\u{180F}'),
        ('\u{200B}', '\u{200F}'),
        ('\u{202A}', '\u{202E}'),
        ('\u{2060}', '\u{206F}'),
        ('\u{3164}', '\u{3164}'),
        ('\u{FE00}', '\u{FE0F}'),
        ('\u{FEFF}', '\u{FEFF}'),
        ('\u{FFA0}', '\u{FFA0}'),
        ('\u{FFF0}', '\u{FFF8}'),
        ('\u{1BCA0}', '\u{1BCA3}'),
        ('\u{1D173}', '\u{1D17A}'),
        ('\u{E0000}', '\u{E0FFF}'),
    ];
    c.is_whitespace() || c.is_control() || in_ranges(IGNORABLE, c)
}

/// Non-ASCII characters that some origin reads as `.`, `/`, `\`, `;`, `%`, `?` or `#`: those
/// whose NFKC form contains one (Unicode 14, from Python's `unicodedata`), the Windows
/// best-fit mappings to `/` and `\` (¥, ₩, ∕, ∖, ⁄, ⧸, ⧹), and the full stops IDNA maps to `.`.
fn is_lookalike(c: char) -> bool {
    const LOOKALIKES: &[(char, char)] = &[
        ('\u{00A5}', '\u{00A5}'),
        ('\u{037E}', '\u{037E}'),
        ('\u{2024}', '\u{2026}'),
        ('\u{2044}', '\u{2044}'),
        ('\u{2047}', '\u{2049}'),
        ('\u{20A9}', '\u{20A9}'),
        ('\u{2100}', '\u{2101}'),
        ('\u{2105}', '\u{2106}'),
        ('\u{2215}', '\u{2216}'),
        ('\u{2488}', '\u{249B}'),
        ('\u{29F8}', '\u{29F9}'),
        ('\u{3002}', '\u{3002}'),
        ('\u{33C2}', '\u{33C2}'),
        ('\u{33C7}', '\u{33C7}'),
        ('\u{33D8}', '\u{33D8}'),
        ('\u{FE14}', '\u{FE14}'),
        ('\u{FE16}', '\u{FE16}'),
        ('\u{FE19}', '\u{FE19}'),
        ('\u{FE30}', '\u{FE30}'),
        ('\u{FE52}', '\u{FE52}'),
        ('\u{FE54}', '\u{FE54}'),
        ('\u{FE56}', '\u{FE56}'),
        ('\u{FE5F}', '\u{FE5F}'),
        ('\u{FE68}', '\u{FE68}'),
        ('\u{FE6A}', '\u{FE6A}'),
        ('\u{FF03}', '\u{FF03}'),
        ('\u{FF05}', '\u{FF05}'),
        ('\u{FF0E}', '\u{FF0F}'),
        ('\u{FF1B}', '\u{FF1B}'),
        ('\u{FF1F}', '\u{FF1F}'),
        ('\u{FF3C}', '\u{FF3C}'),
        ('\u{FF61}', '\u{FF61}'),
        ('\u{1F100}', '\u{1F100}'),
    ];
    in_ranges(LOOKALIKES, c)
}

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges.iter().any(|&(low, high)| (low..=high).contains(&c))
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

    const PRIVATE: &[&str] = &[
        "https://media.example.com/private/",
        "https://media.example.com/users/*/avatar.png",
    ];

    /// `path` on media.example.com, for a client allowed `PRIVATE`.
    fn check_private(path: &str, expected: Result<(), &str>) {
        check_url(
            PRIVATE,
            &format!("https://media.example.com{path}"),
            expected,
        );
    }

    #[test]
    fn path_parameters_and_trailing_junk_make_dot_segments() {
        for path in [
            "/private/..;/secret/a.jpg",
            "/private/..;x=1/secret/a.jpg",
            "/private/%2e%2e;/secret/a.jpg",
            "/private/..%3b/secret/a.jpg",
            "/private/..%3Bjsessionid=1/secret/a.jpg",
            "/private/.;/a.jpg",
            "/private/..%00/secret/a.jpg",
            "/private/..%20/secret/a.jpg",
            "/private/..%09/secret/a.jpg",
            "/private/%20../secret/a.jpg",
            "/private/.%20./secret/a.jpg",
            "/private/.../a.jpg",
            "/private/..%e2%80%8b/secret/a.jpg",
            "/private/..%c2%a0/secret/a.jpg",
            "/private/..%3f/secret/a.jpg",
            "/private/..%23/secret/a.jpg",
        ] {
            check_private(path, Err("dot_segment"));
        }
        for path in [
            "/private/..a/b.jpg",
            "/private/a..b.jpg",
            "/private/.well-known/a.jpg",
            "/private/a;v=1.jpg",
            "/private/a.jpg;jsessionid=1",
        ] {
            check_private(path, Ok(()));
        }
    }

    #[test]
    fn every_double_encoding_of_structure_is_refused() {
        for path in [
            "/private/%252e%252e/secret/a.jpg",
            "/private/%25%32%65%25%32%65/secret/a.jpg",
            "/private/%25%32%45%25%32%45/secret/a.jpg",
            "/private/..%25%32%66secret/a.jpg",
            "/private/..%25%35%63secret/a.jpg",
            "/private/%25252e%25252e/secret/a.jpg",
            "/private/a%25252ejpg",
            "/private/a%252ejpg",
            "/private/..%253b/secret/a.jpg",
            "/private/a%253f/a.jpg",
            "/private/a%2525.jpg",
            "/private/%25c0%25ae%25c0%25ae/secret/a.jpg",
            "/private/%25ef%25bc%258e%25ef%25bc%258e/secret/a.jpg",
            "/private/..%2500/secret/a.jpg",
        ] {
            check_private(path, Err("double_encoding"));
        }
        // Double-encoded characters that are not structure stay allowed (S3 keys with a
        // literal `%20` are common): every reading is still in scope.
        check_private("/private/a%2520b.jpg", Ok(()));
        check_private("/private/a%2541.jpg", Ok(()));
        check_private("/private/caf%25C3%25A9.jpg", Ok(()));
    }

    #[test]
    fn overlong_utf8_controls_and_lookalikes() {
        for path in [
            "/private/%c0%ae%c0%ae/secret/a.jpg",
            "/private/%e0%80%ae%e0%80%ae/secret/a.jpg",
            "/private/..%c0%afsecret/a.jpg",
            "/private/%c1%9c/a.jpg",
            "/private/%f0%80%80%ae/a.jpg",
            "/private/caf%e9.jpg",
            "/private/%ed%a0%80.jpg",
        ] {
            check_private(path, Err("invalid_utf8"));
        }
        for path in [
            "/private/%ef%bc%8e%ef%bc%8e/secret/a.jpg",
            "/private/%e2%80%a5/secret/a.jpg",
            "/private/%e2%80%a4%e2%80%a4/secret/a.jpg",
            "/private/..%ef%bc%8fsecret/a.jpg",
            "/private/..%e2%88%95secret/a.jpg",
            "/private/..%c2%a5secret/a.jpg",
            "/private/%ef%bc%85%ef%bc%92%ef%bd%85/a.jpg",
            "/private/a%ef%bc%9bb.jpg",
            "/private/a%e3%80%82jpg",
        ] {
            check_private(path, Err("lookalike"));
        }
        for path in [
            "/private/a%00.jpg",
            "/private/a%0a.jpg",
            "/private/a%7f.jpg",
            "/private/a%c2%85.jpg",
            "/users/%00/avatar.png",
        ] {
            check_private(path, Err("control_character"));
        }
        for path in [
            "/private/caf%C3%A9.jpg",
            "/private/%E2%9D%A4%EF%B8%8F.png",
            "/private/%E6%97%A5%E6%9C%AC.jpg",
            "/private/a%20b.jpg",
            "/private/a%2Bb.jpg",
            "/private/100%25.jpg",
            "/private/a%2Ab.jpg",
        ] {
            check_private(path, Ok(()));
        }
    }

    #[test]
    fn a_glob_star_needs_a_segment_origins_keep() {
        check_private("/users/42/avatar.png", Ok(()));
        check_private("/users/42;v=1/avatar.png", Ok(()));
        check_private("/users/42./avatar.png", Ok(()));
        for path in [
            "/users//avatar.png",
            "/users/;/avatar.png",
            "/users/;x=1/avatar.png",
            "/users/%3b/avatar.png",
            "/users/%20/avatar.png",
            "/users/%e2%80%8b/avatar.png",
            "/users/42/avatar.png;x",
            "/users/42%3f/avatar.png",
            "/users/42%23/avatar.png",
            "/users/avatar.png",
            "//users/42/avatar.png",
        ] {
            check_private(path, Err("out_of_scope"));
        }
        assert!(glob_match(b"/a/*/b", b"/a/x/b"));
        assert!(!glob_match(b"/a/*/b", b"/a//b"));
        assert!(!glob_match(b"/a/*/b", b"/a/x/y/b"));
        assert!(glob_match(b"/a/**/b", b"/a/x/y/b"));
        assert!(!glob_match(b"/a/**/b", b"/a//b"));
        assert!(!glob_match(b"/a/*", b"/a/"));
    }

    #[test]
    fn patterns_are_read_like_urls() {
        let check = |pattern: &str, expected| {
            check_pattern(
                PRIVATE,
                &format!("https://media.example.com{pattern}"),
                expected,
            );
        };
        check("/private/*", Ok(()));
        check("/private/hls/*.ts", Ok(()));
        check("/private/a;b/*", Ok(()));
        check("/private/..;/*", Err("dot_segment"));
        check("/private/%2e%2e%3b/*", Err("dot_segment"));
        check("/private/..%00/*", Err("dot_segment"));
        check("/private/%25%32%65%25%32%65/*", Err("double_encoding"));
        check("/private/%c0%ae%c0%ae/*", Err("invalid_utf8"));
        check("/private/%ef%bc%8e%ef%bc%8e/*", Err("lookalike"));
        check("/private;/*", Err("out_of_scope"));
        check("/private%3b/*", Err("out_of_scope"));
        check("/users/*/avatar.png", Err("out_of_scope"));
    }

    /// `path`'s readings, decoded once and until stable.
    fn check_normal(path: &str, once: &str, full: &str) {
        let got = normalise(path).unwrap();
        assert_eq!(
            (got.once.as_str(), got.full.as_str()),
            (once, full),
            "{path}"
        );
    }

    #[test]
    fn normal_forms() {
        check_normal("/", "/", "/");
        check_normal("/a/b", "/a/b", "/a/b");
        check_normal("/a/b/", "/a/b/", "/a/b/");
        check_normal("/a//b//", "/a/b/", "/a/b/");
        check_normal("/a;x/b;y=1", "/a/b", "/a/b");
        check_normal("/a/;", "/a/", "/a/");
        check_normal("/a%3fb/c", "/a", "/a");
        check_normal("/a/%23b", "/a/", "/a/");
        check_normal("/a./b%20", "/a/b", "/a/b");
        check_normal("/a%2541", "/a%41", "/aA");
        check_normal("/caf%C3%A9", "/caf\u{e9}", "/caf\u{e9}");
    }

    #[test]
    fn rules_are_read_like_urls() {
        let rules = &["https://h.example/my%20files/"];
        check_url(rules, "https://h.example/my%20files/a.jpg", Ok(()));
        check_url(
            rules,
            "https://h.example/my%2520files/a.jpg",
            Err("out_of_scope"),
        );
        check_url(
            rules,
            "https://h.example/my files/a.jpg",
            Err("invalid_url"),
        );
        for entry in [
            "https://h.example/users/%2A/*",
            "https://h.example/users/a;*/avatar.png",
            "https://h.example/a/..;/b",
            "https://h.example/a/%c0%ae/b",
        ] {
            assert!(AllowRule::parse(entry).is_err(), "{entry}");
        }
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
