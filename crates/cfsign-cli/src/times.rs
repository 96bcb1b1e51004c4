//! Times on the command line: the clock, the date forms `aws cloudfront sign` accepts, and
//! "expires in 59m" phrasing.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use cfsign::UnixTime;

/// The current time, from the system clock.
pub(crate) fn now() -> Result<UnixTime> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is set before 1970; fix the clock")?
        .as_secs();
    Ok(UnixTime::from_secs(secs)?)
}

/// Parses a time given to `flag` with [`UnixTime::parse`]: the forms `aws cloudfront sign`
/// accepts (Unix seconds, a date, an ISO 8601 / RFC 3339 date-time), with the same result.
pub(crate) fn parse_time(text: &str, flag: &str) -> Result<UnixTime> {
    UnixTime::parse(text).with_context(|| format!("{flag} `{}`", text.trim()))
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

    /// The full list of forms is tested in the core (`UnixTime::parse`); these are the ones the
    /// AWS CLI documents.
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
