//! HLS playlists (RFC 8216 and its successor draft): where the URIs are. A URI is a line that is
//! neither blank nor starts with `#`, or the quoted `URI` attribute of the tags listed in
//! [`URI_TAGS`]; everything else is passed through untouched by the caller.

use std::ops::Range;

use crate::Error;
use crate::stream::uri::Base;
use crate::stream::{Site, SkipReason};

/// The tags whose `URI` attribute players fetch (RFC 8216 section 4.3, and the low-latency tags
/// of its successor draft).
pub(crate) const URI_TAGS: [&str; 9] = [
    "EXT-X-KEY",
    "EXT-X-SESSION-KEY",
    "EXT-X-MAP",
    "EXT-X-MEDIA",
    "EXT-X-I-FRAME-STREAM-INF",
    "EXT-X-SESSION-DATA",
    "EXT-X-PART",
    "EXT-X-PRELOAD-HINT",
    "EXT-X-RENDITION-REPORT",
];

/// The URI sites of an HLS playlist.
pub(crate) fn scan(text: &str, base: &Base) -> Result<Vec<Site>, Error> {
    let body_start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut sites = Vec::new();
    let mut offset = body_start;
    let mut first = true;
    for raw_line in text[body_start..].split_inclusive('\n') {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line
            .strip_suffix('\n')
            .map_or(raw_line, |l| l.strip_suffix('\r').unwrap_or(l));
        if first {
            first = false;
            if line.trim_end_matches([' ', '\t']) != "#EXTM3U" {
                return Err(Error::InvalidManifest {
                    reason: format!(
                        "the first line is `{}`, not `#EXTM3U`: this is not an HLS playlist",
                        crate::error::shorten(line, 40)
                    ),
                });
            }
            continue;
        }
        let trimmed = line.trim_matches([' ', '\t']);
        if trimmed.is_empty() {
            continue;
        }
        if let Some(tag) = line.strip_prefix('#') {
            let (name, list) = match tag.split_once(':') {
                Some((name, list)) => (name, Some(list)),
                None => (tag, None),
            };
            if !URI_TAGS.contains(&name) {
                continue;
            }
            let list_start = start + 1 + name.len() + 1;
            match list.map(uri_attribute) {
                Some(Ok(Some(range))) => {
                    let span = list_start + range.start..list_start + range.end;
                    sites.push(Site::resolved(
                        span.clone(),
                        text[span].to_owned(),
                        std::slice::from_ref(base),
                    ));
                }
                Some(Ok(None)) => {}
                None | Some(Err(())) => sites.push(Site {
                    span: start..start,
                    text: line.to_owned(),
                    targets: Err(SkipReason::NotUnderstood),
                }),
            }
            continue;
        }
        let lead = line.len() - line.trim_start_matches([' ', '\t']).len();
        let span = start + lead..start + lead + trimmed.len();
        sites.push(Site::resolved(
            span,
            trimmed.to_owned(),
            std::slice::from_ref(base),
        ));
    }
    Ok(sites)
}

/// The span of the quoted `URI` attribute's value within an attribute list (RFC 8216 section
/// 4.2: `NAME=value` pairs separated by commas, names of `A-Z`, `0-9` and `-`, quoted strings
/// without `"`), `None` when there is none, `Err` when the list does not parse or `URI` is not
/// a quoted string.
fn uri_attribute(list: &str) -> Result<Option<Range<usize>>, ()> {
    let bytes = list.as_bytes();
    let end = list.trim_end_matches([' ', '\t']).len();
    let mut i = 0;
    let mut found = None;
    while i < end {
        while i < end && bytes[i] == b' ' {
            i += 1;
        }
        let name_start = i;
        while i < end
            && (bytes[i].is_ascii_uppercase() || bytes[i].is_ascii_digit() || bytes[i] == b'-')
        {
            i += 1;
        }
        if i == name_start || i >= end || bytes[i] != b'=' {
            return Err(());
        }
        let name = &list[name_start..i];
        i += 1;
        let (value, quoted) = if bytes.get(i) == Some(&b'"') {
            let value_start = i + 1;
            let close = list[value_start..end].find('"').ok_or(())? + value_start;
            i = close + 1;
            (value_start..close, true)
        } else {
            let value_start = i;
            while i < end && bytes[i] != b',' {
                i += 1;
            }
            (value_start..i, false)
        };
        if name == "URI" {
            if !quoted || found.is_some() {
                return Err(());
            }
            found = Some(value);
        }
        if i < end {
            if bytes[i] != b',' {
                return Err(());
            }
            i += 1;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists() {
        let check = |list: &str, expected: Result<Option<&str>, ()>| {
            let got = uri_attribute(list).map(|r| r.map(|r| &list[r]));
            assert_eq!(got, expected, "{list}");
        };
        check(r#"METHOD=AES-128,URI="k.bin",IV=0x1"#, Ok(Some("k.bin")));
        check(r#"URI="a,b.mp4",BYTERANGE="100@0""#, Ok(Some("a,b.mp4")));
        check("METHOD=NONE", Ok(None));
        check(r#"SERVER-URI="x",PATHWAY-ID="a""#, Ok(None));
        check(
            r#"TYPE=AUDIO,GROUP-ID="a",NAME="English, main",URI="a/x.m3u8""#,
            Ok(Some("a/x.m3u8")),
        );
        check(r#"URI="""#, Ok(Some("")));
        check(r#"URI="k.bin" "#, Ok(Some("k.bin")));
        check(r#"METHOD=AES-128, URI="k.bin""#, Ok(Some("k.bin")));
        check("URI=k.bin", Err(()));
        check(r#"URI="a",URI="b""#, Err(()));
        check(r#"URI="unterminated"#, Err(()));
        check(r#"uri="lower.bin""#, Err(()));
        check(r#"URI="k.bin"X"#, Err(()));
        check("", Ok(None));
    }
}
