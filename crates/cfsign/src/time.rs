//! `UnixTime`: a CloudFront policy time (Unix seconds, 0 ..= 2147483647), and duration formatting.
//!
//! The core never reads the clock: callers pass "now" in.

use std::fmt;

use time::OffsetDateTime;

use crate::Error;

/// A point in time as CloudFront policies write it: whole seconds since the Unix epoch, UTC,
/// at most 2147483647 (2038-01-19T03:14:07Z).
///
/// ```
/// use cfsign::UnixTime;
/// let t = UnixTime::from_secs(1_767_225_600)?;
/// assert_eq!(t.to_string(), "2026-01-01T00:00:00Z");
/// assert!(UnixTime::from_secs(1_767_225_600_000).unwrap_err().to_string().contains("milliseconds"));
/// # Ok::<(), cfsign::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u32);

impl UnixTime {
    /// The largest time CloudFront accepts.
    pub const MAX: UnixTime = UnixTime(i32::MAX as u32);

    /// The Unix epoch.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// Builds a time from Unix seconds; rejects values past [`UnixTime::MAX`], and says so when
    /// the value looks like milliseconds.
    pub fn from_secs(secs: u64) -> Result<UnixTime, Error> {
        if secs <= u64::from(Self::MAX.0) {
            // Cannot truncate: checked against MAX (an i32) just above.
            return Ok(UnixTime(secs as u32));
        }
        let reason = if (100_000_000_000..=100_000_000_000_000).contains(&secs) {
            format!(
                "{secs} looks like milliseconds since the epoch; CloudFront takes seconds \
                 (did you mean {}?)",
                secs / 1000
            )
        } else {
            format!(
                "{secs} is past the largest time CloudFront accepts ({} = 2038-01-19T03:14:07Z)",
                Self::MAX.0
            )
        };
        Err(Error::InvalidTime { reason })
    }

    /// Parses a time in the forms the AWS CLI (`aws cloudfront sign --date-less-than`, botocore's
    /// `parse_to_aware_datetime`) accepts, with the same result:
    ///
    /// - Unix seconds, optionally with a fraction (`1767225600`, `1767225600.9`; the fraction is
    ///   dropped);
    /// - a date, `YYYY-MM-DD` (midnight UTC);
    /// - an ISO 8601 / RFC 3339 date-time `YYYY-MM-DDThh:mm[:ss[.fff]]` (`T`, `t` or a space
    ///   between date and time), UTC unless followed by `Z`, `UTC`, `GMT`, `±hh:mm`, `±hhmm` or
    ///   `±hh`.
    ///
    /// ```
    /// use cfsign::UnixTime;
    /// assert_eq!(UnixTime::parse("2026-11-28")?, UnixTime::parse("2026-11-28T00:00:00Z")?);
    /// assert_eq!(UnixTime::parse("1795824000")?.as_secs(), 1_795_824_000);
    /// assert_eq!(UnixTime::parse("2026-11-28T10:00:00+01:00")?.to_string(), "2026-11-28T09:00:00Z");
    /// assert_eq!(UnixTime::parse("2026-11-28 10:00 UTC")?.to_string(), "2026-11-28T10:00:00Z");
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<UnixTime, Error> {
        let text = text.trim();
        if let Some(secs) = parse_epoch(text)? {
            return UnixTime::from_secs(secs);
        }
        if let Some(secs) = parse_iso(text) {
            let Ok(secs) = u64::try_from(secs) else {
                return Err(Error::InvalidTime {
                    reason: format!("`{text}` is before 1970-01-01T00:00:00Z"),
                });
            };
            // Checked here, not in `from_secs`: a date written out is never milliseconds, and
            // the years 5138 to 9999 would otherwise get that hint.
            if secs > Self::MAX.as_secs() {
                return Err(Error::InvalidTime {
                    reason: format!(
                        "`{text}` is after {}, the latest time CloudFront accepts",
                        Self::MAX
                    ),
                });
            }
            return UnixTime::from_secs(secs);
        }
        Err(Error::InvalidTime {
            reason: format!(
                "`{text}` is not a time: use Unix seconds (1767225600), an ISO 8601 / RFC 3339 \
                 date-time (2026-01-01T00:00:00Z; UTC when no offset is given) or a date (2026-01-01)"
            ),
        })
    }

    /// Seconds since the Unix epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 as u64
    }

    /// This time plus `secs` seconds; an error when the result is past [`UnixTime::MAX`].
    pub fn checked_add_secs(self, secs: u64) -> Result<UnixTime, Error> {
        let sum = self.as_secs().saturating_add(secs);
        if sum > Self::MAX.as_secs() {
            return Err(Error::InvalidTime {
                reason: format!(
                    "{self} plus {} is past the largest time CloudFront accepts (2038-01-19T03:14:07Z)",
                    format_duration(secs)
                ),
            });
        }
        UnixTime::from_secs(sum)
    }

    /// The RFC 3339 form in UTC, e.g. `2026-11-28T10:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

/// Unix seconds with an optional fraction; `None` when `text` is not a number.
fn parse_epoch(text: &str) -> Result<Option<u64>, Error> {
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
            return Err(Error::InvalidTime {
                reason: format!("`{text}` is before 1970-01-01T00:00:00Z"),
            });
        }
        return Ok(None);
    }
    if int.is_empty() {
        return Ok(Some(0));
    }
    int.parse::<u64>()
        .map(Some)
        .map_err(|_| Error::InvalidTime {
            reason: format!("`{text}` is far too large to be a time in seconds"),
        })
}

/// The ISO 8601 forms of [`UnixTime::parse`]: the Unix time (possibly negative), or `None` if
/// `text` is not one of them.
fn parse_iso(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if b.len() < 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = num(b.get(0..4)?)?;
    let month = num(b.get(5..7)?)?;
    let day = num(b.get(8..10)?)?;
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
            .ok()?;
    let mut rest = b.get(10..)?;
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if let Some((&separator, after)) = rest.split_first() {
        if !matches!(separator, b'T' | b't' | b' ') {
            return None;
        }
        rest = after;
        let take2 = |r: &mut &[u8]| -> Option<i64> {
            let v = num(r.get(0..2)?)?;
            *r = r.get(2..)?;
            Some(v)
        };
        hour = take2(&mut rest)?;
        if let Some(after) = rest.strip_prefix(b":") {
            rest = after;
            minute = take2(&mut rest)?;
            if let Some(after) = rest.strip_prefix(b":") {
                rest = after;
                second = take2(&mut rest)?;
                if let Some((b'.' | b',', fraction)) = rest.split_first() {
                    let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
                    if n == 0 {
                        return None;
                    }
                    rest = fraction.get(n..)?;
                }
            }
        }
        // A leap second (`:60`) is accepted as the next second, as botocore does.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let offset = parse_offset(rest)?;
    let local = date.midnight().assume_utc().unix_timestamp() + hour * 3600 + minute * 60 + second;
    Some(local - offset)
}

/// A zone suffix: empty (UTC), `Z`, `UTC`, `GMT`, `±hh:mm`, `±hhmm`, `±hh`, optionally after one
/// space; seconds east of UTC.
fn parse_offset(rest: &[u8]) -> Option<i64> {
    let zone = rest.strip_prefix(b" ").unwrap_or(rest);
    if matches!(zone, b"" | b"Z" | b"z" | b"UTC" | b"GMT") {
        return Some(0);
    }
    let (&sign, digits) = zone.split_first()?;
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: Vec<u8> = match digits {
        [h1, h2, b':', m1, m2] => vec![*h1, *h2, *m1, *m2],
        [h1, h2, m1, m2] => vec![*h1, *h2, *m1, *m2],
        [h1, h2] => vec![*h1, *h2, b'0', b'0'],
        _ => return None,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h = i64::from(digits[0] - b'0') * 10 + i64::from(digits[1] - b'0');
    let m = i64::from(digits[2] - b'0') * 10 + i64::from(digits[3] - b'0');
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every u32 up to i32::MAX is a valid timestamp for `time`.
        match OffsetDateTime::from_unix_timestamp(i64::from(self.0)) {
            Ok(dt) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            ),
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

/// Formats a duration in seconds compactly: `59s`, `3m12s`, `1h`, `2d3h`.
///
/// ```
/// assert_eq!(cfsign::format_duration(192), "3m12s");
/// assert_eq!(cfsign::format_duration(3600), "1h");
/// assert_eq!(cfsign::format_duration(90061), "1d1h1m1s");
/// ```
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "m"),
        (secs % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect()
}

/// Parses a duration such as `90`, `90s`, `30m`, `1h`, `1h30m`, `7d` into seconds.
///
/// ```
/// assert_eq!(cfsign::parse_duration("1h30m")?, 5400);
/// assert!(cfsign::parse_duration("soon").is_err());
/// # Ok::<(), cfsign::Error>(())
/// ```
pub fn parse_duration(text: &str) -> Result<u64, Error> {
    let err = || Error::InvalidTime {
        reason: format!(
            "`{text}` is not a duration: use a number of seconds or units like 90s, 30m, 1h, 1h30m, 7d"
        ),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(err());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| err());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(err()),
        };
        let n: u64 = number.parse().map_err(|_| err())?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
    }
    if !number.is_empty() {
        return Err(err());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_milliseconds() {
        assert!(UnixTime::from_secs(2_147_483_647).is_ok());
        let err = UnixTime::from_secs(2_147_483_648).unwrap_err().to_string();
        assert!(err.contains("largest"), "{err}");
        let err = UnixTime::from_secs(1_795_824_000_000)
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean 1795824000"), "{err}");
    }

    #[test]
    fn far_future_dates_name_the_limit_not_milliseconds() {
        let check = |text: &str| {
            let err = UnixTime::parse(text).unwrap_err().to_string();
            assert!(
                err.contains("is after 2038-01-19T03:14:07Z, the latest time CloudFront accepts"),
                "{text}: {err}"
            );
            assert!(!err.contains("milliseconds"), "{text}: {err}");
        };
        check("2038-01-19T03:14:08Z");
        check("2040-01-01");
        // 100000000000 s, where bare numbers start to look like milliseconds.
        check("5138-11-16T09:46:40Z");
        check("6000-01-01T00:00:00+01:00");
        check("9999-12-31T23:59:59Z");
        assert_eq!(
            UnixTime::parse("2038-01-19T03:14:07Z"),
            Ok(UnixTime::MAX),
            "the limit itself is accepted"
        );
        // The hint stays for bare numbers.
        let err = UnixTime::parse("1795824000000").unwrap_err().to_string();
        assert!(err.contains("did you mean 1795824000"), "{err}");
        let err = UnixTime::parse("3000000000").unwrap_err().to_string();
        assert!(
            err.contains("largest") && !err.contains("milliseconds"),
            "{err}"
        );
    }

    #[test]
    fn parse_forms() {
        let check = |text: &str, secs: u64| {
            assert_eq!(
                UnixTime::parse(text).map(UnixTime::as_secs),
                Ok(secs),
                "{text}"
            );
        };
        check("0", 0);
        check("2026-11-28T10:00:00Z", 1_795_860_000);
        check("2026-11-28T10:00:00", 1_795_860_000);
        check("2026-11-28 10:00:00", 1_795_860_000);
        check("2026-11-28T10:00:00.5Z", 1_795_860_000);
        check("2026-11-28T11:00:00+01:00", 1_795_860_000);
        check("2026-11-28", 1_795_824_000);
        // The AWS CLI's forms (botocore `parse_to_aware_datetime`), same results.
        check("1767225600", 1_767_225_600);
        check("1767225600.9", 1_767_225_600);
        check("2026-01-01", 1_767_225_600);
        check("2026-01-01T00:00:00", 1_767_225_600);
        check("2026-01-01t00:00:00z", 1_767_225_600);
        check("2026-01-01 00:00:00", 1_767_225_600);
        check("2026-01-01T00:00", 1_767_225_600);
        check("2026-01-01T00:00:00.999Z", 1_767_225_600);
        check("2026-01-01T00:00:00,5", 1_767_225_600);
        check("2026-01-01T01:00:00+01:00", 1_767_225_600);
        check("2026-01-01T01:00:00+0100", 1_767_225_600);
        check("2026-01-01T01:00:00+01", 1_767_225_600);
        check("2025-12-31T23:00:00-01:00", 1_767_225_600);
        check("2026-01-01T00:00:00 UTC", 1_767_225_600);
        check("2026-01-01T00:00:00GMT", 1_767_225_600);
        check("  2026-01-01  ", 1_767_225_600);
        for bad in [
            "",
            ".",
            "tomorrow",
            "1969-12-31T23:59:59Z",
            "2040-01-01",
            "-5",
            "1.2.3",
            "99999999999999999999999",
            "2026-13-01",
            "2026-02-30",
            "2026-01-01X",
            "2026-01-01T24:00",
            "2026-01-01T00:00:00.",
            "2026-01-01T00:00:00+1",
            "2026-01-01T00:00:00+01:0",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00 PST",
            "2026-1-1",
        ] {
            assert!(UnixTime::parse(bad).is_err(), "{bad}");
        }
        let err = UnixTime::parse("-5").unwrap_err().to_string();
        assert!(err.contains("before 1970"), "{err}");
        let err = UnixTime::parse("soon").unwrap_err().to_string();
        assert!(err.contains("2026-01-01T00:00:00Z"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45"), Ok(45));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(format_duration(59), "59s");
        for bad in ["", "h", "1x", "1h2", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(UnixTime::MAX.to_string(), "2038-01-19T03:14:07Z");
    }
}
