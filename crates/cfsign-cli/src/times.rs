//! Times on the command line: the clock, the date forms `aws cloudfront sign` accepts, and
//! "expires in 59m" phrasing.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use cfsign::UnixTime;

/// The current time, from the system clock.
pub(crate) fn now() -> Result<UnixTime> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is set before 1970; fix the clock")?
        .as_secs();
    Ok(UnixTime::from_secs(secs)?)
}

/// Parses a time given to `flag`, accepting what the AWS CLI (botocore's `parse_to_aware_datetime`)
/// accepts for the usual forms, with the same result:
///
/// - Unix seconds, optionally with a fraction (`1767225600`, `1767225600.9`; the fraction is dropped);
/// - `YYYY-MM-DD` (midnight UTC);
/// - `YYYY-MM-DDThh:mm[:ss[.fff]]` or with a space instead of `T`, UTC unless followed by `Z`,
///   `UTC`, `GMT`, `±hh:mm`, `±hhmm` or `±hh`.
pub(crate) fn parse_time(text: &str, flag: &str) -> Result<UnixTime> {
    parse_time_inner(text).with_context(|| format!("{flag} `{}`", text.trim()))
}

fn parse_time_inner(text: &str) -> Result<UnixTime> {
    let text = text.trim();
    if let Some(secs) = parse_epoch(text)? {
        return Ok(UnixTime::from_secs(secs)?);
    }
    if let Some(secs) = parse_iso(text) {
        if secs < 0 {
            bail!("the time is before 1970-01-01T00:00:00Z");
        }
        // Checked non-negative just above.
        return Ok(UnixTime::from_secs(secs as u64)?);
    }
    bail!(
        "not a time: use Unix seconds (1767225600), an ISO 8601 / RFC 3339 date-time \
         (2026-01-01T00:00:00Z; UTC when no offset is given) or a date (2026-01-01)"
    )
}

/// Unix seconds with an optional fraction; `None` when `text` is not a number.
fn parse_epoch(text: &str) -> Result<Option<u64>> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let is_number = !(int.is_empty() && frac.is_none_or(str::is_empty))
        && digits(int)
        && frac.is_none_or(digits);
    if !is_number {
        if let Some(rest) = text.strip_prefix('-')
            && parse_epoch(rest).ok().flatten().is_some()
        {
            bail!("the time is before 1970-01-01T00:00:00Z");
        }
        return Ok(None);
    }
    if int.is_empty() {
        return Ok(Some(0));
    }
    match int.parse::<u64>() {
        Ok(secs) => Ok(Some(secs)),
        Err(_) => bail!("the number is far too large to be a time in seconds"),
    }
}

/// ISO 8601 forms; the Unix time (possibly negative), or `None` if `text` is not one of them.
fn parse_iso(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = num(&b[0..4])?;
    let month = num(&b[5..7])?;
    let day = num(&b[8..10])?;
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
            .ok()?;
    let mut rest = &b[10..];
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if !rest.is_empty() {
        if !matches!(rest[0], b'T' | b't' | b' ') {
            return None;
        }
        rest = &rest[1..];
        let take2 = |r: &mut &[u8]| -> Option<i64> {
            let v = num(r.get(0..2)?)?;
            *r = &r[2..];
            Some(v)
        };
        hour = take2(&mut rest)?;
        if rest.first() == Some(&b':') {
            rest = &rest[1..];
            minute = take2(&mut rest)?;
            if rest.first() == Some(&b':') {
                rest = &rest[1..];
                second = take2(&mut rest)?;
                if matches!(rest.first(), Some(b'.' | b',')) {
                    let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    if n == 0 {
                        return None;
                    }
                    rest = &rest[1 + n..];
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let offset = parse_offset(rest)?;
    let local = date.midnight().assume_utc().unix_timestamp() + hour * 3600 + minute * 60 + second;
    Some(local - offset)
}

/// A zone suffix: empty (UTC), `Z`, `UTC`, `GMT`, `±hh:mm`, `±hhmm`, `±hh`; seconds east of UTC.
fn parse_offset(rest: &[u8]) -> Option<i64> {
    let trimmed = match rest.first() {
        Some(b' ') => &rest[1..],
        _ => rest,
    };
    match trimmed {
        b"" | b"Z" | b"z" | b"UTC" | b"GMT" => return Some(0),
        _ => {}
    }
    let sign = match trimmed.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: Vec<u8> = trimmed[1..]
        .iter()
        .copied()
        .filter(|c| *c != b':')
        .collect();
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (&digits[0..2], &b"00"[..]),
        4 => (&digits[0..2], &digits[2..4]),
        _ => return None,
    };
    let h: i64 = std::str::from_utf8(h).ok()?.parse().ok()?;
    let m: i64 = std::str::from_utf8(m).ok()?.parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// "in 59m" or "3m ago", relative to `now`, rounded down to two units at most.
pub(crate) fn relative(t: UnixTime, now: UnixTime) -> String {
    let (t, n) = (t.as_secs(), now.as_secs());
    if t >= n {
        format!("in {}", coarse(t - n))
    } else {
        format!("{} ago", coarse(n - t))
    }
}

fn coarse(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => cfsign::format_duration(secs - secs % 60),
        _ => cfsign::format_duration(secs - secs % 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<u64>) {
        let got = parse_time(text, "--t").ok().map(UnixTime::as_secs);
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn aws_cli_forms() {
        check("1767225600", Some(1_767_225_600));
        check("1767225600.9", Some(1_767_225_600));
        check("2026-01-01", Some(1_767_225_600));
        check("2026-01-01T00:00:00", Some(1_767_225_600));
        check("2026-01-01 00:00:00", Some(1_767_225_600));
        check("2026-01-01T00:00", Some(1_767_225_600));
        check("2026-01-01T00:00:00Z", Some(1_767_225_600));
        check("2026-01-01T00:00:00.999Z", Some(1_767_225_600));
        check("2026-01-01T01:00:00+01:00", Some(1_767_225_600));
        check("2026-01-01T01:00:00+0100", Some(1_767_225_600));
        check("2025-12-31T23:00:00-01:00", Some(1_767_225_600));
        check("2026-01-01T00:00:00 UTC", Some(1_767_225_600));
        for bad in [
            "",
            "soon",
            "2026-13-01",
            "2026-01-01X",
            "-5",
            "1.2.3",
            "2040-01-01",
        ] {
            check(bad, None);
        }
    }

    #[test]
    fn milliseconds_are_explained() {
        let err = format!(
            "{:#}",
            parse_time("1767225600000", "--expires-at").unwrap_err()
        );
        assert!(err.contains("milliseconds"), "{err}");
        assert!(err.starts_with("--expires-at `1767225600000`"), "{err}");
    }

    #[test]
    fn relative_phrases() {
        let now = UnixTime::from_secs(1_000_000).unwrap();
        let at = |s: u64| UnixTime::from_secs(s).unwrap();
        assert_eq!(relative(at(1_003_599), now), "in 59m");
        assert_eq!(relative(at(1_000_030), now), "in 30s");
        assert_eq!(relative(at(999_808), now), "3m ago");
        assert_eq!(relative(at(1_000_000 + 90_061), now), "in 1d1h");
        assert_eq!(relative(at(1_000_000 + 3_725), now), "in 1h2m");
    }
}
