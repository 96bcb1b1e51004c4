//! The edge's clock: the system time, shifted, or fixed (for tests).

use std::time::{SystemTime, UNIX_EPOCH};

use cfsign::UnixTime;

/// The time the edge uses to check `Expires`, `DateLessThan` and `DateGreaterThan`.
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
        let system = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let secs = match *self {
            Clock::Fixed(t) => return t,
            Clock::System => system(),
            Clock::Offset(offset) => {
                let now = i64::try_from(system()).unwrap_or(i64::MAX);
                u64::try_from(now.saturating_add(offset)).unwrap_or(0)
            }
        };
        clamp(secs)
    }
}

fn clamp(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs).unwrap_or(UnixTime::MAX)
}
