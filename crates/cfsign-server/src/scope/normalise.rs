//! Paths as origins read them: decoded until stable, `;` parameters cut, look-alikes and dot
//! segments refused (the rule is on [`normalise`]).

use super::shorten;
use crate::error::ApiError;

/// How many rounds of percent-decoding a path segment may take before it is stable.
const MAX_DECODINGS: usize = 8;

/// A path as origins read it: the form scope is checked on, besides the path as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Normalised {
    /// Percent-decoded once, as S3, nginx and most origins decode.
    pub(super) once: String,
    /// Percent-decoded until stable, as an origin behind a decoding proxy may read it.
    pub(super) full: String,
}

/// Reads a path (ASCII, starting with `/`, every `%` followed by two hex digits, as the scope
/// check leaves it) the way origins do, refusing it when a reading could leave the path's structure:
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
pub(super) fn normalise(path: &str) -> Result<Normalised, ApiError> {
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
