//! The mock's clock: the system time, shifted, or fixed (for tests).

use std::time::{SystemTime, UNIX_EPOCH};

use cfsign::UnixTime;

/// The time the edge uses to check `Expires`, `DateLessThan` and `DateGreaterThan`, and the
/// control plane uses for `CreatedTime` and `LastModifiedTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// The system clock plus this many seconds (negative: in the past).
    Offset(i64),
    /// Always this time.
    Fixed(UnixTime),
}

impl Clock {
    /// The current time by this clock, clamped to what CloudFront can express.
    pub fn now(&self) -> UnixTime {
        match *self {
            Clock::Fixed(t) => t,
            _ => clamp(self.now_ms() / 1000),
        }
    }

    /// The current time by this clock in milliseconds since the Unix epoch (never before it), for
    /// the control plane's `CreatedTime` and `LastModifiedTime`.
    pub(crate) fn now_ms(&self) -> u64 {
        let system = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0)
        };
        match *self {
            Clock::Fixed(t) => t.as_secs().saturating_mul(1000),
            Clock::System => system(),
            Clock::Offset(offset) => {
                let now = i64::try_from(system()).unwrap_or(i64::MAX);
                u64::try_from(now.saturating_add(offset.saturating_mul(1000))).unwrap_or(0)
            }
        }
    }
}

fn clamp(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap_or(UnixTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_follow_the_clock() {
        let t = UnixTime::from_secs(1_767_225_600).unwrap();
        assert_eq!(Clock::Fixed(t).now_ms(), 1_767_225_600_000);
        assert_eq!(Clock::Fixed(t).now(), t);
        let system = Clock::System.now_ms();
        let day_ahead = Clock::Offset(86_400).now_ms();
        let day_behind = Clock::Offset(-86_400).now_ms();
        assert!(
            day_ahead.abs_diff(system + 86_400_000) < 60_000,
            "{day_ahead} vs {system}"
        );
        assert!(
            day_behind.abs_diff(system - 86_400_000) < 60_000,
            "{day_behind} vs {system}"
        );
        assert_eq!(Clock::Offset(i64::MIN).now_ms(), 0);
        assert_eq!(Clock::Offset(i64::MIN).now(), UnixTime::EPOCH);
        assert_eq!(Clock::Offset(i64::MAX).now(), UnixTime::MAX);
        let now = Clock::System.now().as_secs();
        assert!(now.abs_diff(system / 1000) < 60, "{now} vs {system}");
    }
}
