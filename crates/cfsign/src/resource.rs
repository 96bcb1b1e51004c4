//! Resource patterns of custom policies, and CloudFront's rule for matching them against a
//! request URL.
//!
//! The rule is documented on [`Resource`], where docs.rs shows it.

use std::fmt;

use crate::Error;

/// A resource pattern for a custom policy: a URL in which `*` matches zero or more characters
/// and `?` exactly one, within the sections `scheme://host`, `/path` and `?query`.
///
/// Both forms of a URL with a query string are understood: the developer guide's `\?` form and
/// the unescaped form every AWS SDK writes. The evidence for each part of the rule is tabled in
/// the repository's `docs/troubleshooting.md`.
///
/// # The rule
///
/// A pattern and a URL are each split into sections, `scheme://host` and the rest (`/path` and
/// `?query`). Within them:
///
/// - `*` matches zero or more characters and `?` exactly one (developer guide, custom policy
///   pages), with `\?` standing for the `?` that starts the query string;
/// - `*` never crosses from one section into another: not from the scheme into the host, not from
///   the host into the path, and not from the path into the query (the guide's
///   `[protocol]://[domain]/[path]\?[query string]` sections);
/// - a `?` wildcard may match the URL's query separator itself: this is how the unescaped form
///   that every AWS SDK writes (botocore, the aws CLI, JS, Java, Go: the URL itself as
///   `Resource`) matches its own URL, as AWS's signed-URL sample reports CloudFront serving
///   (`https://host/*?q1=123&q2=abc` serves `/anything.html?q1=123&q2=abc`);
/// - the four documented exceptions: a trailing `*` in the path also covers any query string
///   (`/a/*` = `/a/*\?*`); a trailing `*` in the domain covers every path and query
///   (`https://host*` = `https://host*/*\?*`); a pattern without protocol that starts with `*`
///   in the domain gets `*://` (`*example.com` = `*://*example.com/`); `*` alone matches every
///   URL;
/// - a pattern whose query part is only `*` (`/a.jpg\?*`) also covers the URL without a query;
/// - anything else is compared byte for byte: percent-encoding is not normalised (`%20` and `+`
///   differ), and paths and queries are case-sensitive.
///
/// Letter case in the scheme and host is not documented. RFC 3986 makes both case-insensitive,
/// so a match that needs case folding there is granted, with a note that says it is undocumented.
///
/// ```
/// use cfsign::Resource;
/// let pattern = Resource::new("https://d111111abcdef8.cloudfront.net/videos/*")?;
/// assert!(pattern.matches("https://d111111abcdef8.cloudfront.net/videos/a/b.m3u8?x=1"));
/// assert!(!pattern.matches("https://d111111abcdef8.cloudfront.net/images/a.jpg"));
///
/// // What botocore, the aws CLI and the JS signer write for a URL with a query string:
/// let sdk = Resource::new("https://d111111abcdef8.cloudfront.net/a.jpg?size=large")?;
/// assert!(sdk.matches("https://d111111abcdef8.cloudfront.net/a.jpg?size=large"));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource(String);

impl Resource {
    /// Checks a pattern for signing: non-empty, no control characters, at most 8,192 bytes, and
    /// in a form CloudFront can match: starting with `http://`, `https://` or a wildcard scheme
    /// (`http*://`, `*://`), or with `*` (the documented form without protocol).
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
        if pattern.len() > crate::MAX_URL_BYTES {
            return Err(invalid(
                "it is longer than CloudFront's 8,192-byte URL limit",
            ));
        }
        if let Some(problem) = Pattern::parse(pattern).err() {
            return Err(invalid(problem.fix()));
        }
        Ok(Resource(pattern.to_owned()))
    }

    /// The resource the AWS SDKs write for `url`: the URL itself, query string and all, with its
    /// `?` unescaped (botocore's `build_policy`, `aws cloudfront sign`, the JS, Java and Go
    /// signers). Wildcard characters in it keep their meaning, as they do for the SDKs: a `?`
    /// matches the query separator (and any other one character), a `*` any run.
    ///
    /// ```
    /// use cfsign::Resource;
    /// let exact = Resource::exact("https://d1.example.net/a.jpg?v=2")?;
    /// assert_eq!(exact.as_str(), "https://d1.example.net/a.jpg?v=2");
    /// assert!(exact.matches("https://d1.example.net/a.jpg?v=2"));
    /// assert!(!exact.matches("https://d1.example.net/a.jpg?v=3"));
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn exact(url: &str) -> Result<Resource, Error> {
        Resource::new(url)
    }

    /// A pattern read from a received policy: any string. CloudFront's decision for a pattern in
    /// a form it cannot match is a mismatch, not a malformed policy; [`Resource::matches`] says no.
    pub(crate) fn from_policy(pattern: &str) -> Resource {
        Resource(pattern.to_owned())
    }

    /// The pattern text, as written into the policy.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a request URL (without signing parameters) matches this pattern by the rule in
    /// this module's documentation. A match that needs letter case folded in the scheme or host
    /// counts (RFC 3986 makes them case-insensitive; CloudFront does not document it, and
    /// [`verify`](crate::verify) notes it).
    pub fn matches(&self, url: &str) -> bool {
        self.match_url(url) != Match::No
    }

    /// How this pattern matches `url`.
    pub(crate) fn match_url(&self, url: &str) -> Match {
        match Pattern::parse(&self.0) {
            Ok(pattern) => pattern.match_url(url),
            Err(_) => Match::No,
        }
    }

    /// Why this pattern can never match, if it cannot: a form CloudFront does not take.
    pub(crate) fn unmatchable_reason(&self) -> Option<&'static str> {
        Pattern::parse(&self.0).err().map(Unmatchable::fix)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a pattern matches a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Section by section, byte for byte.
    Yes,
    /// Only with ASCII letter case folded in the scheme or host (undocumented).
    IgnoringCase,
    /// No match.
    No,
}

/// Why a pattern is in no form CloudFront matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unmatchable {
    NoProtocol,
    BadScheme,
}

impl Unmatchable {
    fn fix(self) -> &'static str {
        match self {
            Unmatchable::NoProtocol => {
                "it has no protocol; CloudFront resources begin with http://, https:// or * \
                 (e.g. https://d111111abcdef8.cloudfront.net/videos/*)"
            }
            Unmatchable::BadScheme => {
                "the scheme must be http, https or a wildcard such as http* or *"
            }
        }
    }
}

/// One unit of a pattern's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters within a section.
    Star,
    /// `?`: exactly one character (the query separator included).
    Any,
    /// `\?`: the `?` that starts the query string.
    Separator,
    /// Any other character, matched literally.
    Literal(char),
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => Token::Star,
            '?' => Token::Any,
            '\\' if chars.peek() == Some(&'?') => {
                chars.next();
                Token::Separator
            }
            c => Token::Literal(c),
        });
    }
    out
}

/// A pattern split into its sections, each as tokens.
struct Pattern {
    scheme: Vec<Token>,
    host: Vec<Token>,
    /// `/path`, `\?` and the query; `None` when a trailing `*` in the domain covers them all.
    tail: Option<Vec<Token>>,
}

impl Pattern {
    fn parse(pattern: &str) -> Result<Pattern, Unmatchable> {
        let (scheme, rest) = match pattern.split_once("://") {
            Some(parts) => parts,
            // Documented: "the protocol may be omitted when the pattern starts with `*` in the
            // domain": `*example.com` = `*://*example.com/`. `*` alone is the same case.
            None if pattern.starts_with('*') => ("*", pattern),
            None => return Err(Unmatchable::NoProtocol),
        };
        let scheme = tokens(scheme);
        let scheme_ok = ["http", "https"]
            .iter()
            .any(|s| glob(&scheme, &s.chars().collect::<Vec<_>>(), true));
        if !scheme_ok {
            return Err(Unmatchable::BadScheme);
        }
        let host_end = [rest.find('/'), rest.find("\\?")]
            .into_iter()
            .flatten()
            .min();
        let (host, tail) = match host_end {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        let tail = match tail {
            Some(t) if t.starts_with('/') => Some(tokens(t)),
            Some(t) => Some(tokens(&format!("/{t}"))),
            // Documented: a trailing `*` in the domain implies `*` in path and query.
            None if host.ends_with('*') => None,
            // No path: the path `/`, as in the guide's `*example.com` = `*://*example.com/`.
            None => Some(vec![Token::Literal('/')]),
        };
        Ok(Pattern {
            scheme,
            host: tokens(host),
            tail,
        })
    }

    fn match_url(&self, url: &str) -> Match {
        let Some(parts) = UrlParts::split(url) else {
            return Match::No;
        };
        let tail_ok = match &self.tail {
            None => true,
            Some(tail) => tail_matches(tail, &parts.tail, parts.separator),
        };
        if !tail_ok {
            return Match::No;
        }
        if glob(&self.scheme, &parts.scheme, false) && glob(&self.host, &parts.host, false) {
            Match::Yes
        } else if glob(&self.scheme, &parts.scheme, true) && glob(&self.host, &parts.host, true) {
            Match::IgnoringCase
        } else {
            Match::No
        }
    }
}

/// A request URL split into sections, as characters.
struct UrlParts {
    scheme: Vec<char>,
    host: Vec<char>,
    /// The path (at least `/`), then `?` and the query if there is one.
    tail: Vec<char>,
    /// The index in `tail` of the `?` that starts the query.
    separator: Option<usize>,
}

impl UrlParts {
    fn split(url: &str) -> Option<UrlParts> {
        let (scheme, rest) = url.split_once("://")?;
        let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (host, tail) = rest.split_at(host_end);
        let mut tail_chars: Vec<char> = Vec::with_capacity(tail.len() + 1);
        // An HTTP request's path is never empty: `https://host` and `https://host?q` ask for `/`.
        if !tail.starts_with('/') {
            tail_chars.push('/');
        }
        tail_chars.extend(tail.chars());
        let separator = tail_chars.iter().position(|c| *c == '?');
        Some(UrlParts {
            scheme: scheme.chars().collect(),
            host: host.chars().collect(),
            tail: tail_chars,
            separator,
        })
    }
}

/// Matches a pattern's path-and-query tokens against a URL's path and query.
fn tail_matches(tokens: &[Token], text: &[char], separator: Option<usize>) -> bool {
    if nfa(tokens, text, separator, false) {
        return true;
    }
    // Documented: a trailing `*` in the path implies `\?*`, so it covers any query string.
    let has_separator = tokens.contains(&Token::Separator);
    if !has_separator && tokens.last() == Some(&Token::Star) {
        let mut implied = tokens.to_vec();
        implied.extend([Token::Separator, Token::Star]);
        return nfa(&implied, text, separator, false);
    }
    false
}

/// Glob matching within one section (no query separator).
fn glob(tokens: &[Token], text: &[char], fold_case: bool) -> bool {
    nfa(tokens, text, None, fold_case)
}

/// Runs the pattern as a non-deterministic automaton over `text`: the set of pattern positions
/// reachable after each character, as a bit set. Linear in `text`, and in `tokens` per character,
/// with no backtracking. `separator` is the index of the query separator in `text`: `*` and
/// literals never consume it; `?` and `\?` do.
fn nfa(tokens: &[Token], text: &[char], separator: Option<usize>, fold_case: bool) -> bool {
    let end = tokens.len();
    let mut current = BitSet::with_len(end + 1);
    current.insert(0);
    close_over_stars(&mut current, tokens);
    let mut next = BitSet::with_len(end + 1);
    for (j, &c) in text.iter().enumerate() {
        let at_separator = separator == Some(j);
        let past_separator = separator.is_some_and(|s| j > s);
        next.clear();
        for i in current.iter() {
            let Some(token) = tokens.get(i) else { continue };
            let advance = match *token {
                Token::Star => {
                    if !at_separator {
                        next.insert(i);
                    }
                    false
                }
                Token::Any => true,
                // A `\?` after the query separator can only stand for a literal `?`.
                Token::Separator => at_separator || (past_separator && c == '?'),
                Token::Literal(l) => {
                    !at_separator && (l == c || (fold_case && l.eq_ignore_ascii_case(&c)))
                }
            };
            if advance {
                next.insert(i + 1);
            }
        }
        close_over_stars(&mut next, tokens);
        if next.is_empty() {
            return false;
        }
        std::mem::swap(&mut current, &mut next);
    }
    if current.contains(end) {
        return true;
    }
    // A URL without a query matches `\?` followed only by `*`s (`/a.jpg\?*`).
    separator.is_none()
        && current.iter().any(|i| {
            tokens.get(i) == Some(&Token::Separator)
                && tokens[i + 1..].iter().all(|t| *t == Token::Star)
        })
}

/// Adds every position reachable by letting `*`s match nothing.
fn close_over_stars(set: &mut BitSet, tokens: &[Token]) {
    // Positions only move forward, so one ascending pass reaches every chain of stars.
    for (i, token) in tokens.iter().enumerate() {
        if *token == Token::Star && set.contains(i) {
            set.insert(i + 1);
        }
    }
}

/// A fixed-size set of small integers.
struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    fn with_len(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }

    fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(index * 64 + bit)
            })
        })
    }
}

/// Where a request URL first departs from a resource pattern, for explaining a mismatch: the
/// byte offset in the URL and a description such as "the resource has `%20` where the request
/// has `+`".
///
/// Compares from the start up to the pattern's first `*` (a `?` faces any one character), then
/// from the end back to its last `*`.
pub(crate) fn first_difference(pattern: &str, url: &str) -> Option<String> {
    let p: Vec<char> = pattern.replace("\\?", "?").chars().collect();
    let u: Vec<char> = url.chars().collect();
    let shown = |chars: &[char], from: usize| -> String {
        let piece: String = chars.iter().skip(from).take(12).collect();
        if from + 12 < chars.len() {
            format!("{piece}…")
        } else {
            piece
        }
    };
    let byte_offset = |chars: &[char], index: usize| -> usize {
        chars.iter().take(index).map(|c| c.len_utf8()).sum()
    };
    let mut i = 0;
    while i < p.len() && p[i] != '*' {
        match u.get(i) {
            None => {
                return Some(format!(
                    "the request ends at byte {} where the resource continues with `{}`",
                    byte_offset(&u, i),
                    shown(&p, i)
                ));
            }
            Some(&c) if p[i] == '?' || p[i] == c => i += 1,
            Some(_) => {
                return Some(format!(
                    "first difference at byte {}: the resource has `{}` where the request has `{}`",
                    byte_offset(&u, i),
                    shown(&p, i),
                    shown(&u, i)
                ));
            }
        }
    }
    if i == p.len() {
        return (u.len() > i).then(|| {
            format!(
                "the request continues at byte {} with `{}`, which the resource does not cover \
                 (added after signing?)",
                byte_offset(&u, i),
                shown(&u, i)
            )
        });
    }
    // From the end, back to the last `*`.
    let (mut pi, mut ui) = (p.len(), u.len());
    while pi > 0 && p[pi - 1] != '*' {
        if ui == 0 {
            return None;
        }
        let (pc, uc) = (p[pi - 1], u[ui - 1]);
        if pc != '?' && pc != uc {
            return Some(format!(
                "counting from the end, the first difference is at byte {}: the resource has `{}` where the request \
                 has `{}`",
                byte_offset(&u, ui - 1),
                shown(&p, pi - 1),
                shown(&u, ui - 1)
            ));
        }
        pi -= 1;
        ui -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check(pattern, url, expected)` for the matching rule.
    fn check(pattern: &str, url: &str, expected: Match) {
        let got = Resource::from_policy(pattern).match_url(url);
        assert_eq!(got, expected, "{pattern} vs {url}");
    }

    #[test]
    fn sections_and_wildcards() {
        use Match::{IgnoringCase, No, Yes};
        let d = "https://d1.example.net";
        check(&format!("{d}/a/*"), &format!("{d}/a/b/c.jpg"), Yes);
        check(&format!("{d}/a/*"), &format!("{d}/a/b.jpg?x=1&y"), Yes);
        check(&format!("{d}/a/*"), &format!("{d}/b/x.jpg"), No);
        // `*` in the path does not reach into the query.
        check(&format!("{d}/a/*.jpg"), &format!("{d}/a/x.jpg?x=1"), No);
        check(
            &format!("{d}/a/*.jpg\\?x=*"),
            &format!("{d}/a/x.jpg?x=1"),
            Yes,
        );
        check("http*://d1.example.net/*", "http://d1.example.net/x", Yes);
        check("http*://d1.example.net/*", "https://d1.example.net/x", Yes);
        check("https://*.example.net/x", "https://d1.example.net/x", Yes);
        check(&format!("{d}/?.jpg"), &format!("{d}/a.jpg"), Yes);
        check(&format!("{d}/?.jpg"), &format!("{d}/ab.jpg"), No);
        check("*", "https://anything/at/all?q", Yes);
        // A `*` in the pattern facing a literal `*` in the URL is still a wildcard.
        check(&format!("{d}/*"), &format!("{d}/*%00"), Yes);
        check(&format!("{d}/a*"), &format!("{d}/a*b*c"), Yes);
        check(&format!("{d}/a.jpg"), &format!("{d}/a.jpg?x"), No);
        // `*` does not cross from the host into the path.
        check("https://*net", "https://d1.example.net/x", No);
        check("https://d1.*/x", "https://d1.example.net/x", Yes);
        check("https://d1.*", "https://d1.example.net/x", Yes);
        // The SDK form: the URL itself, its `?` unescaped.
        check(
            &format!("{d}/a.jpg?x=1&y=2"),
            &format!("{d}/a.jpg?x=1&y=2"),
            Yes,
        );
        check(
            &format!("{d}/a.jpg?x=1&y=2"),
            &format!("{d}/a.jpg?x=1&y=3"),
            No,
        );
        check(
            &format!("{d}/a.jpg?x=1"),
            &format!("{d}/a.jpg?x=1&added=1"),
            No,
        );
        check(
            &format!("{d}/*?q1=123&q2=abc"),
            &format!("{d}/anything.html?q1=123&q2=abc"),
            Yes,
        );
        check(
            &format!("{d}/*?q1=123&q2=abc"),
            &format!("{d}/a/b.html?q1=123&q2=abc"),
            Yes,
        );
        check(
            &format!("{d}/*?q1=123&q2=abc"),
            &format!("{d}/a.html?q1=123"),
            No,
        );
        check(&format!("{d}/*?q1=123&q2=abc"), &format!("{d}/a.html"), No);
        // The escaped form of the same.
        check(&format!("{d}/a.jpg\\?x=1"), &format!("{d}/a.jpg?x=1"), Yes);
        check(&format!("{d}/a.jpg\\?*"), &format!("{d}/a.jpg"), Yes);
        check(
            &format!("{d}/a.jpg\\?*"),
            &format!("{d}/a.jpg?anything"),
            Yes,
        );
        // Query strings containing more `?` characters.
        check(&format!("{d}/a\\?x=*"), &format!("{d}/a?x=1?2"), Yes);
        // Percent-encoding is not normalised.
        check(&format!("{d}/a%20b.jpg"), &format!("{d}/a+b.jpg"), No);
        check(&format!("{d}/a.jpg"), "http://d1.example.net/a.jpg", No);
        // Scheme and host case: undocumented, matched with a note.
        check(
            "HTTPS://D1.example.net/a.jpg",
            &format!("{d}/a.jpg"),
            IgnoringCase,
        );
        check(&format!("{d}/A.jpg"), &format!("{d}/a.jpg"), No);
    }

    #[test]
    fn documented_exceptions() {
        use Match::{No, Yes};
        // 1. A trailing `*` in the path implies `\?*`.
        check(
            "https://d1.example.net/*game_download.zip*",
            "https://d1.example.net/example_game_download.zip?license=yes",
            Yes,
        );
        // 2. A trailing `*` in the domain covers every path and query.
        check("https://d1*", "https://d1.example.net/x", Yes);
        check("https://d1*", "https://d1.example.net/x/y.jpg?a=b", Yes);
        check("https://d1*", "https://d2.example.net/x", No);
        check("http://example.com*", "http://example.com.evil.net/x", Yes);
        // 3. No protocol, starting with `*` in the domain: `*://*example.com/`.
        check("*example.com", "https://www.example.com/", Yes);
        check("*example.com", "http://example.com", Yes);
        check("*example.com", "https://www.example.com/a.jpg", No);
        check("*example.com/*", "https://www.example.com/a.jpg?x", Yes);
        check("*example.com/*", "https://www.example.org/a.jpg", No);
        // 4. `*` alone.
        check("*", "http://x/", Yes);
        // Not a documented form: never matches.
        check("d1.example.net/*", "https://d1.example.net/a.jpg", No);
        check("ftp://d1.example.net/*", "https://d1.example.net/a.jpg", No);
    }

    #[test]
    fn new_refuses_unmatchable_forms() {
        for (pattern, needle) in [
            ("d1.example.net/*", "no protocol"),
            ("ftp://d1/*", "scheme"),
            ("", "empty"),
            ("https://x/\u{1}", "control"),
        ] {
            let err = Resource::new(pattern).unwrap_err().to_string();
            assert!(err.contains(needle), "{pattern}: {err}");
        }
        for ok in [
            "*",
            "*example.com",
            "HTTPS://x/a",
            "h??p*://x/*",
            "https://x/a?b=1",
        ] {
            assert!(Resource::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn differences() {
        let check = |pattern: &str, url: &str, needle: Option<&str>| {
            let got = first_difference(pattern, url);
            match needle {
                Some(n) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(n)),
                    "{pattern} vs {url}: {got:?}"
                ),
                None => assert_eq!(got, None, "{pattern} vs {url}"),
            }
        };
        check(
            "https://x/a%20b.jpg",
            "https://x/a+b.jpg",
            Some("byte 11: the resource has `%20b.jpg` where the request has `+b.jpg`"),
        );
        check("https://x/a.jpg", "http://x/a.jpg", Some("byte 4"));
        check(
            "https://x/a.jpg?v=1",
            "https://x/a.jpg?v=1&t=2",
            Some("continues at byte 19 with `&t=2`"),
        );
        check(
            "https://x/a.jpg?v=1",
            "https://x/a.jpg",
            Some("ends at byte 15"),
        );
        check(
            "https://x/*.png",
            "https://x/a/b.jpg",
            Some("counting from the end"),
        );
        check("https://x/a.jpg", "https://x/a.jpg", None);
    }

    #[test]
    fn long_inputs_are_linear() {
        // 8,000 stars against 8,000 characters: no exponential backtracking.
        let pattern = format!("https://x/{}b", "*a".repeat(4000));
        let url = format!("https://x/{}", "a".repeat(8000));
        assert_eq!(Resource::from_policy(&pattern).match_url(&url), Match::No);
    }
}
