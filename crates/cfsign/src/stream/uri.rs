//! URI references in manifests: RFC 3986 resolution against the manifest's URL (what players do
//! before they request a segment), and appending the signing parameters to a reference's text.

use crate::Error;

/// An absolute `http`/`https` URL that references are resolved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    /// Lower-case scheme: `http` or `https`.
    scheme: String,
    /// The authority as written (host and port).
    authority: String,
    /// The path, starting with `/` (`/` when the URL has none).
    path: String,
    /// The query without `?`, if any.
    query: Option<String>,
}

/// Why a reference does not resolve to an `http`/`https` URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// Another scheme (`skd:`, `data:`, `urn:`…): not fetched from CloudFront.
    OtherScheme,
    /// An HLS variable reference (`{$name}`): the URI is known only after substitution.
    Variable,
}

impl Base {
    /// Parses the manifest's URL; `what` names it in errors.
    pub(crate) fn parse(url: &str, what: &str) -> Result<Base, Error> {
        let invalid = |reason: &str| Error::invalid_url(url, format!("{what}: {reason}"));
        let Some((scheme, rest)) = split_scheme(url) else {
            return Err(invalid(
                "it is not an absolute URL; give the https:// URL the manifest is served from, \
                 which relative URIs in it resolve against",
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(invalid("only http and https URLs can be signed"));
        }
        let Some(rest) = rest.strip_prefix("//") else {
            return Err(invalid("it has no host (expected scheme://host/path)"));
        };
        if url.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return Err(invalid(
                "it contains spaces or control characters; percent-encode them",
            ));
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if authority.is_empty() {
            return Err(invalid("it has no host name"));
        }
        let (path, query) = split_query(&rest[authority_end..]);
        Ok(Base {
            scheme,
            authority: authority.to_owned(),
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            query: query.map(str::to_owned),
        })
    }

    /// The absolute URL, as a request line would carry it.
    pub(crate) fn as_url(&self) -> String {
        let mut out = format!("{}://{}{}", self.scheme, self.authority, self.path);
        if let Some(q) = &self.query {
            out.push('?');
            out.push_str(q);
        }
        out
    }

    /// Resolves `reference` (RFC 3986 section 5.2, as the URL parsers of browsers, hls.js,
    /// dash.js and AVFoundation do) to the URL a player requests: fragment removed.
    pub(crate) fn resolve(&self, reference: &str) -> Result<Base, Unresolved> {
        if reference.contains("{$") {
            return Err(Unresolved::Variable);
        }
        let reference = reference.split('#').next().unwrap_or_default();
        if let Some((scheme, rest)) = split_scheme(reference) {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return Err(Unresolved::OtherScheme);
            }
            let Some(rest) = rest.strip_prefix("//") else {
                // `http:path` is a relative reference in RFC 3986's non-strict mode; players
                // treat it as the same scheme. Too odd to sign: leave it.
                return Err(Unresolved::OtherScheme);
            };
            return Ok(with_authority(&scheme, rest));
        }
        if let Some(rest) = reference.strip_prefix("//") {
            return Ok(with_authority(&self.scheme, rest));
        }
        let (path, query) = split_query(reference);
        let (path, query) = if path.is_empty() {
            (
                self.path.clone(),
                query.map(str::to_owned).or_else(|| self.query.clone()),
            )
        } else if path.starts_with('/') {
            (remove_dot_segments(path), query.map(str::to_owned))
        } else {
            let dir_end = self.path.rfind('/').map_or(0, |i| i + 1);
            let merged = format!("{}{path}", &self.path[..dir_end]);
            (remove_dot_segments(&merged), query.map(str::to_owned))
        };
        Ok(Base {
            scheme: self.scheme.clone(),
            authority: self.authority.clone(),
            path,
            query,
        })
    }

    /// Whether the query already carries one of CloudFront's signing parameters.
    pub(crate) fn has_signing_params(&self) -> bool {
        self.query.as_deref().is_some_and(|q| {
            q.split('&').any(|param| {
                let name = param.split('=').next().unwrap_or_default();
                crate::SIGNING_PARAMS.contains(&name)
            })
        })
    }
}

/// `scheme://rest` with the authority read from `rest`.
fn with_authority(scheme: &str, rest: &str) -> Base {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (path, query) = split_query(&rest[authority_end..]);
    Base {
        scheme: scheme.to_owned(),
        authority: rest[..authority_end].to_owned(),
        path: if path.is_empty() {
            "/".to_owned()
        } else {
            remove_dot_segments(path)
        },
        query: query.map(str::to_owned),
    }
}

/// `scheme` and the rest, when `text` starts with an RFC 3986 scheme and `:`.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then(|| (scheme, &text[colon + 1..]))
}

fn split_query(text: &str) -> (&str, Option<&str>) {
    match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text, None),
    }
}

/// RFC 3986 section 5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        if i == 0 && absolute {
            continue;
        }
        match *segment {
            "." => trailing_slash = i == last,
            ".." => {
                output.pop();
                trailing_slash = i == last;
            }
            s => {
                output.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len());
    if absolute {
        out.push('/');
    }
    out.push_str(&output.join("/"));
    if trailing_slash && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// `reference` with `query` (the signing parameters, already escaped for the document) added to
/// its query: `?query`, or `&query` after an existing one, before any fragment. `amp` is how the
/// document writes `&` (`&amp;` in XML).
pub(crate) fn append_query(reference: &str, query: &str, amp: &str) -> String {
    let (before, fragment) = match reference.find('#') {
        Some(i) => reference.split_at(i),
        None => (reference, ""),
    };
    let separator = match before.find('?') {
        None => "?",
        Some(_) if before.ends_with('?') || before.ends_with('&') => "",
        // An `&` already escaped as `&amp;` also ends a parameter.
        Some(_) if before.ends_with(amp) => "",
        Some(_) => amp,
    };
    let mut out = String::with_capacity(reference.len() + query.len() + 5);
    out.push_str(before);
    out.push_str(separator);
    out.push_str(query);
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_rfc_3986_section_5_4() {
        // RFC 3986's own examples (section 5.4.1), with an http base.
        let base = Base::parse("http://a/b/c/d;p?q", "base").unwrap();
        let check = |reference: &str, expected: &str| {
            let got = base.resolve(reference).unwrap().as_url();
            assert_eq!(got, expected, "{reference}");
        };
        check("g", "http://a/b/c/g");
        check("./g", "http://a/b/c/g");
        check("g/", "http://a/b/c/g/");
        check("/g", "http://a/g");
        check("//g", "http://g/");
        check("?y", "http://a/b/c/d;p?y");
        check("g?y", "http://a/b/c/g?y");
        check("#s", "http://a/b/c/d;p?q");
        check("g#s", "http://a/b/c/g");
        check(";x", "http://a/b/c/;x");
        check("", "http://a/b/c/d;p?q");
        check(".", "http://a/b/c/");
        check("./", "http://a/b/c/");
        check("..", "http://a/b/");
        check("../", "http://a/b/");
        check("../g", "http://a/b/g");
        check("../..", "http://a/");
        check("../../g", "http://a/g");
        check("../../../g", "http://a/g");
        check("/./g", "http://a/g");
        check("/../g", "http://a/g");
        check("g.", "http://a/b/c/g.");
        check("..g", "http://a/b/c/..g");
        check("./../g", "http://a/b/g");
        check("g;x=1/../y", "http://a/b/c/y");
        check("HTTPS://Other/x/../y.ts", "https://Other/y.ts");
    }

    #[test]
    fn other_schemes_and_variables_do_not_resolve() {
        let base = Base::parse("https://h/v/index.m3u8?x=1", "base").unwrap();
        assert_eq!(base.resolve("skd://key-id"), Err(Unresolved::OtherScheme));
        assert_eq!(
            base.resolve("data:text/plain,hi"),
            Err(Unresolved::OtherScheme)
        );
        assert_eq!(base.resolve("seg-{$n}.ts"), Err(Unresolved::Variable));
        assert!(base.resolve("a:b/c.ts").is_err());
        assert_eq!(
            base.resolve("seg:1.ts").map(|b| b.as_url()),
            Err(Unresolved::OtherScheme)
        );
        assert_eq!(
            base.resolve("./seg:1.ts").map(|b| b.as_url()),
            Ok("https://h/v/seg:1.ts".to_owned())
        );
    }

    #[test]
    fn bad_bases() {
        for (url, needle) in [
            ("index.m3u8", "not an absolute URL"),
            ("ftp://h/a.m3u8", "only http and https"),
            ("https:/h/a.m3u8", "no host"),
            ("https:///a.m3u8", "no host name"),
            ("https://h/a b.m3u8", "spaces"),
        ] {
            let err = Base::parse(url, "--manifest-url").unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }

    #[test]
    fn appends() {
        let q = "Policy=P&Signature=S";
        let check = |reference: &str, amp: &str, expected: &str| {
            assert_eq!(append_query(reference, q, amp), expected, "{reference}");
        };
        check("a.ts", "&", "a.ts?Policy=P&Signature=S");
        check("a.ts?x=1", "&", "a.ts?x=1&Policy=P&Signature=S");
        check("a.ts?", "&", "a.ts?Policy=P&Signature=S");
        check("a.ts?x=1&", "&", "a.ts?x=1&Policy=P&Signature=S");
        check("a.ts#t=1", "&", "a.ts?Policy=P&Signature=S#t=1");
        check(
            "a.ts?x=1&amp;",
            "&amp;",
            "a.ts?x=1&amp;Policy=P&Signature=S",
        );
        check("a.ts?x=1", "&amp;", "a.ts?x=1&amp;Policy=P&Signature=S");
        check("", "&", "?Policy=P&Signature=S");
    }

    #[test]
    fn signing_params_are_seen() {
        let base = Base::parse("https://h/v/i.m3u8", "base").unwrap();
        assert!(
            base.resolve("a.ts?Policy=x&Signature=y")
                .unwrap()
                .has_signing_params()
        );
        assert!(!base.resolve("a.ts?Policyx=1").unwrap().has_signing_params());
    }
}
