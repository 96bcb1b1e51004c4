//! The object reply: 200, 206 or 416, with `Range` requests answered as RFC 9110 §14 says.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::origin::content_type;

/// 200, 206 or 416 with the object, honouring `Range: bytes=…` as RFC 9110 §14 says: one
/// satisfiable range is sent alone with `Content-Range`, several as `multipart/byteranges`.
pub(super) fn object_response(
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    body: Vec<u8>,
) -> Response {
    let len = body.len() as u64;
    let content_type = content_type(path);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, len));
    let (status, payload, part_type, content_range) = match range {
        None | Some(RangeResult::Ignore) => (StatusCode::OK, body, None, None),
        Some(RangeResult::Unsatisfiable) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r.headers_mut()
                .insert(header::SERVER, HeaderValue::from_static("CloudFront"));
            return r;
        }
        Some(RangeResult::Ranges(ranges)) => match ranges.as_slice() {
            [(start, end)] => (
                StatusCode::PARTIAL_CONTENT,
                slice(&body, *start, *end).to_vec(),
                None,
                Some(format!("bytes {start}-{end}/{len}")),
            ),
            _ => {
                let boundary = new_boundary();
                let multipart = multipart_byteranges(&body, &ranges, content_type, &boundary);
                (
                    StatusCode::PARTIAL_CONTENT,
                    multipart,
                    Some(format!("multipart/byteranges; boundary={boundary}")),
                    None,
                )
            }
        },
    };
    let length = payload.len();
    let mut r = Response::new(if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(payload)
    });
    *r.status_mut() = status;
    let h = r.headers_mut();
    let content_type_value = part_type
        .and_then(|t| HeaderValue::from_str(&t).ok())
        .unwrap_or_else(|| HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_TYPE, content_type_value);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert("x-cache", HeaderValue::from_static("Miss from cloudfront"));
    h.insert(header::SERVER, HeaderValue::from_static("CloudFront"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    r
}

/// The bytes `start..=end` of `body` (`parse_range` guarantees `start <= end < body.len()`).
fn slice(body: &[u8], start: u64, end: u64) -> &[u8] {
    let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
        return &[];
    };
    body.get(start..=end).unwrap_or_default()
}

/// A boundary that cannot plausibly occur in the object: 32 random hex digits.
fn new_boundary() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A `multipart/byteranges` body (RFC 9110 §14.6): each part with its `Content-Type` and
/// `Content-Range`, the CRLF before each delimiter belonging to the delimiter.
fn multipart_byteranges(
    body: &[u8],
    ranges: &[(u64, u64)],
    content_type: &str,
    boundary: &str,
) -> Vec<u8> {
    let len = body.len();
    let mut out = Vec::new();
    for (i, &(start, end)) in ranges.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes {start}-{end}/{len}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(slice(body, start, end));
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// The most range specs honoured in one `Range` header; more get the whole object (as Apache's
/// `MaxRanges`), so a request cannot make the edge build a huge multipart body.
const MAX_RANGES: usize = 100;

#[derive(Debug, PartialEq, Eq)]
enum RangeResult {
    /// Serve the whole object: no valid `bytes` range set (another unit, a syntax error, or
    /// more than [`MAX_RANGES`] ranges).
    Ignore,
    /// Valid, but no range overlaps the object.
    Unsatisfiable,
    /// The satisfiable ranges, inclusive, overlapping and adjacent ones coalesced, in the order
    /// their first member was asked for.
    Ranges(Vec<(u64, u64)>),
}

/// A decimal number of RFC 9110 (digits only); too large for `u64` saturates, which means
/// "past the end" wherever it is used.
fn parse_pos(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<u64>().unwrap_or(u64::MAX))
}

/// Parses a `Range` header against an object of `len` bytes.
fn parse_range(value: &str, len: u64) -> RangeResult {
    let Some((unit, set)) = value.trim().split_once('=') else {
        return RangeResult::Ignore;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeResult::Ignore;
    }
    // `1#range-spec`: recipients ignore empty list elements.
    let specs: Vec<&str> = set
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if specs.is_empty() || specs.len() > MAX_RANGES {
        return RangeResult::Ignore;
    }
    let mut satisfiable = Vec::new();
    for spec in specs {
        let Some((a, b)) = spec.split_once('-') else {
            return RangeResult::Ignore;
        };
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() {
            // Suffix range: the last n bytes.
            let Some(n) = parse_pos(b) else {
                return RangeResult::Ignore;
            };
            if n > 0 && len > 0 {
                satisfiable.push((len - n.min(len), len - 1));
            }
            continue;
        }
        let Some(start) = parse_pos(a) else {
            return RangeResult::Ignore;
        };
        let end = if b.is_empty() {
            u64::MAX
        } else {
            match parse_pos(b) {
                Some(e) if e >= start => e,
                _ => return RangeResult::Ignore,
            }
        };
        if start < len {
            satisfiable.push((start, end.min(len - 1)));
        }
    }
    if satisfiable.is_empty() {
        return RangeResult::Unsatisfiable;
    }
    RangeResult::Ranges(coalesce(satisfiable))
}

/// Merges ranges that overlap or touch; each merged range takes the place of the first one it
/// absorbed. The output ranges never touch one another.
fn coalesce(ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (mut start, mut end) in ranges {
        let mut first = None;
        let mut i = 0;
        while i < out.len() {
            let (s, e) = out[i];
            if start <= e.saturating_add(1) && s <= end.saturating_add(1) {
                start = start.min(s);
                end = end.max(e);
                if first.is_none() {
                    first = Some(i);
                    i += 1;
                } else {
                    out.remove(i);
                }
            } else {
                i += 1;
            }
        }
        match first {
            Some(p) => out[p] = (start, end),
            None => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeResult::{Ignore, Ranges, Unsatisfiable};
        let check = |header: &str, len: u64, expected: RangeResult| {
            assert_eq!(
                parse_range(header, len),
                expected,
                "{header} of {len} bytes"
            );
        };
        // Single ranges.
        check("bytes=0-4", 10, Ranges(vec![(0, 4)]));
        check("bytes=5-", 10, Ranges(vec![(5, 9)]));
        check("bytes=-3", 10, Ranges(vec![(7, 9)]));
        check("bytes=-30", 10, Ranges(vec![(0, 9)]));
        check("bytes=5-100", 10, Ranges(vec![(5, 9)]));
        check("Bytes = 1-1", 10, Ranges(vec![(1, 1)]));
        check("bytes=0-99999999999999999999999", 10, Ranges(vec![(0, 9)]));
        check("bytes=10-", 10, Unsatisfiable);
        check("bytes=-0", 10, Unsatisfiable);
        check("bytes=0-0", 0, Unsatisfiable);
        check("bytes=-5", 0, Unsatisfiable);
        // Several ranges: order kept, unsatisfiable members dropped, touching ones merged.
        check("bytes=0-1,3-4", 10, Ranges(vec![(0, 1), (3, 4)]));
        check("bytes=6-7, 0-1", 10, Ranges(vec![(6, 7), (0, 1)]));
        check("bytes=0-1,2-3", 10, Ranges(vec![(0, 3)]));
        check("bytes=0-5,3-8", 10, Ranges(vec![(0, 8)]));
        check("bytes=0-1,50-60,-2", 10, Ranges(vec![(0, 1), (8, 9)]));
        check("bytes=0-1,6-7,2-5", 10, Ranges(vec![(0, 7)]));
        check("bytes=8-9,0-1,4-5,2-3", 10, Ranges(vec![(8, 9), (0, 5)]));
        check("bytes=0-1,,3-4,", 10, Ranges(vec![(0, 1), (3, 4)]));
        check("bytes=20-30,40-", 10, Unsatisfiable);
        // Not a valid byte range set: the whole object.
        check("items=0-1", 10, Ignore);
        check("bytes=4-2", 10, Ignore);
        check("bytes=0-1,4-2", 10, Ignore);
        check("bytes=+1-2", 10, Ignore);
        check("bytes=1", 10, Ignore);
        check("bytes=", 10, Ignore);
        check("bytes=a-b", 10, Ignore);
        let many = vec!["0-0"; MAX_RANGES + 1].join(",");
        check(&format!("bytes={many}"), 10, Ignore);
    }

    #[test]
    fn multipart_body_is_exact() {
        let body = multipart_byteranges(b"0123456789", &[(0, 1), (8, 9)], "text/plain", "B");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\n89\r\n--B--\r\n"
        );
    }

    proptest::proptest! {
        #[test]
        fn coalesced_ranges_cover_the_same_bytes_and_never_touch(
            ranges in proptest::collection::vec((0u64..64, 0u64..64), 1..12)
        ) {
            let ranges: Vec<(u64, u64)> =
                ranges.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
            let out = coalesce(ranges.clone());
            let covered = |rs: &[(u64, u64)], x: u64| rs.iter().any(|&(s, e)| s <= x && x <= e);
            for x in 0..70 {
                proptest::prop_assert_eq!(covered(&ranges, x), covered(&out, x));
            }
            for (i, a) in out.iter().enumerate() {
                for b in &out[i + 1..] {
                    proptest::prop_assert!(a.1 + 1 < b.0 || b.1 + 1 < a.0, "{:?} touches {:?}", a, b);
                }
            }
        }

        #[test]
        fn parse_range_never_panics(header in "\\PC{0,60}", len in 0u64..100) {
            if let RangeResult::Ranges(rs) = parse_range(&header, len) {
                for (s, e) in rs {
                    proptest::prop_assert!(s <= e && e < len);
                }
            }
        }
    }
}
