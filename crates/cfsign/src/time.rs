//! `UnixTime`: a CloudFront policy time (Unix seconds, 0 ..= 2147483647), and duration formatting.
//!
//! The core never reads the clock: callers pass "now" in.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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

    /// Parses Unix seconds, an RFC 3339 date-time (`2026-11-28T10:00:00Z`, any offset), an ISO
    /// 8601 date-time without offset (taken as UTC, as the AWS CLI does), or a date
    /// (`2026-11-28`, midnight UTC).
    ///
    /// ```
    /// use cfsign::UnixTime;
    /// assert_eq!(UnixTime::parse("2026-11-28")?, UnixTime::parse("2026-11-28T00:00:00Z")?);
    /// assert_eq!(UnixTime::parse("1795824000")?.as_secs(), 1_795_824_000);
    /// assert_eq!(UnixTime::parse("2026-11-28T10:00:00+01:00")?.to_string(), "2026-11-28T09:00:00Z");
    /// # Ok::<(), cfsign::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<UnixTime, Error> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let secs: u64 = text.parse().map_err(|_| Error::InvalidTime {
                reason: format!("`{text}` is too large to be a time in seconds"),
            })?;
            return UnixTime::from_secs(secs);
        }
        if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
            return Self::from_datetime(dt, text);
        }
        // ISO 8601 without an offset: `2026-11-28T10:00:00`, `2026-11-28 10:00:00`, `2026-11-28T10:00`.
        let formats: [&[time::format_description::BorrowedFormatItem<'_>]; 5] = [
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
            time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"
            ),
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
        ];
        for format in formats {
            if let Ok(dt) = time::PrimitiveDateTime::parse(text, &format) {
                return Self::from_datetime(dt.assume_utc(), text);
            }
        }
        let date_format = time::macros::format_description!("[year]-[month]-[day]");
        if let Ok(date) = time::Date::parse(text, &date_format) {
            return Self::from_datetime(date.midnight().assume_utc(), text);
        }
        Err(Error::InvalidTime {
            reason: format!(
                "`{text}` is not a time: use Unix seconds (1767225600), an RFC 3339 date-time \
                 (2026-01-01T00:00:00Z) or a date (2026-01-01)"
            ),
        })
    }

    fn from_datetime(dt: OffsetDateTime, text: &str) -> Result<UnixTime, Error> {
        let secs = dt.unix_timestamp();
        if secs < 0 {
            return Err(Error::InvalidTime {
                reason: format!("`{text}` is before 1970-01-01T00:00:00Z"),
            });
        }
        // Non-negative i64 fits in u64.
        UnixTime::from_secs(secs as u64)
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
        for bad in [
            "",
            "tomorrow",
            "1969-12-31T23:59:59Z",
            "2040-01-01",
            "-5",
            "99999999999999999999999",
        ] {
            assert!(UnixTime::parse(bad).is_err(), "{bad}");
        }
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
