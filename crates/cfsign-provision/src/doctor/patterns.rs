//! CloudFront's path patterns for `doctor`: which pattern a path matches, and whether one pattern
//! covers another (every path the second matches, the first matches too), for shadowed behaviours.

/// CloudFront's path-pattern match: case-sensitive, `*` any run of characters (including `/`),
/// `?` exactly one; a leading `/` is optional on both sides.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<Sym> = symbols(pattern);
    let s: Vec<u8> = path.strip_prefix('/').unwrap_or(path).bytes().collect();
    let s: Vec<Sym> = s.into_iter().map(Sym::Byte).collect();
    covers_symbols(&p, &s)
}

/// Whether pattern `general` matches every path that `specific` matches. Sound: `true` only when
/// it certainly does (a `*` in `specific` is matched only by a `*` in `general`, a `?` by `?` or
/// `*`), which is exact for the patterns people write.
pub(crate) fn covers(general: &str, specific: &str) -> bool {
    covers_symbols(&symbols(general), &symbols(specific))
}

/// A sample path that `pattern` matches: each `*` and `?` becomes `x`, with a leading `/`.
pub(crate) fn sample_path(pattern: &str) -> String {
    let body: String = pattern
        .strip_prefix('/')
        .unwrap_or(pattern)
        .chars()
        .map(|c| if c == '*' || c == '?' { 'x' } else { c })
        .collect();
    format!("/{body}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sym {
    Byte(u8),
    One,
    Any,
}

fn symbols(pattern: &str) -> Vec<Sym> {
    pattern
        .strip_prefix('/')
        .unwrap_or(pattern)
        .bytes()
        .map(|b| match b {
            b'*' => Sym::Any,
            b'?' => Sym::One,
            b => Sym::Byte(b),
        })
        .collect()
}

/// Dynamic programming over (position in `general`, position in `specific`): linear memory,
/// quadratic time in the pattern lengths (at most a few hundred bytes each).
fn covers_symbols(general: &[Sym], specific: &[Sym]) -> bool {
    let n = specific.len();
    // row[j]: general[..i] covers specific[..j].
    let mut row = vec![false; n + 1];
    row[0] = true;
    for g in general {
        let mut next = vec![false; n + 1];
        match g {
            Sym::Any => {
                // `*` absorbs any run of symbols of `specific`, including `*`s.
                let mut seen = false;
                for j in 0..=n {
                    seen |= row[j];
                    next[j] = seen;
                }
            }
            Sym::One => {
                for j in 1..=n {
                    next[j] = row[j - 1] && matches!(specific[j - 1], Sym::Byte(_) | Sym::One);
                }
            }
            Sym::Byte(b) => {
                for j in 1..=n {
                    next[j] = row[j - 1] && specific[j - 1] == Sym::Byte(*b);
                }
            }
        }
        row = next;
    }
    row[n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let check = |pattern: &str, path: &str, expected: bool| {
            assert_eq!(path_matches(pattern, path), expected, "{pattern} vs {path}");
        };
        check("/private/*", "/private/a.txt", true);
        check("private/*", "/private/a/b.txt", true);
        check("/private/*", "/public/a.txt", false);
        check("*.jpg", "/a/b/c.jpg", true);
        check("/a?c", "/abc", true);
        check("/a?c", "/ac", false);
        check("/Private/*", "/private/x", false);
    }

    #[test]
    fn covering() {
        let check = |general: &str, specific: &str, expected: bool| {
            assert_eq!(
                covers(general, specific),
                expected,
                "{general} ⊇ {specific}"
            );
        };
        check("*", "/private/*", true);
        check("/private/*", "/private/videos/*", true);
        check("/private/*", "/private/*", true);
        check("*.jpg", "/images/*.jpg", true);
        check("/images/*", "*.jpg", false);
        check("/private/*", "/public/*", false);
        check("/private/videos/*", "/private/*", false);
        check("/a?c", "/abc", true);
        check("/abc", "/a?c", false);
        check("/p*", "/private/*", true);
    }

    #[test]
    fn samples_match_their_pattern() {
        for p in ["/private/*", "private/*.mp4", "/a?c", "*"] {
            assert!(path_matches(p, &sample_path(p)), "{p}");
        }
    }
}
