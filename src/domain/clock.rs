//! Time. Every rule that depends on "now" takes a `Clock`, so tests and snapshots are
//! deterministic and a frozen clock can replay any moment.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// A point in time. Platforms send unix seconds; orderdeck keeps UTC instants.
pub type Timestamp = DateTime<Utc>;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    /// A fixed clock at a unix time in seconds.
    pub fn at_unix(secs: i64) -> Self {
        Self::new(from_unix(secs))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Unix seconds to a timestamp; out-of-range values clamp to the epoch rather than panic.
pub fn from_unix(secs: i64) -> Timestamp {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// A short human duration ("3h 12m", "45s", "2d 4h", "359d") for lists and toasts: from ten
/// days on, the hours are noise (and would not fit a list's time column).
pub fn human_duration(d: chrono::Duration) -> String {
    let secs = d.num_seconds().unsigned_abs();
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let text = if days >= 10 {
        format!("{days}d")
    } else if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else if mins > 0 {
        format!("{mins}m")
    } else {
        format!("{secs}s")
    };
    if d.num_seconds() < 0 {
        format!("-{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at_unix(1_700_000_000);
        assert_eq!(clock.now().timestamp(), 1_700_000_000);
        clock.advance(std::time::Duration::from_secs(90));
        assert_eq!(clock.now().timestamp(), 1_700_000_090);
    }

    #[test]
    fn human_durations_read_naturally() {
        assert_eq!(human_duration(chrono::Duration::seconds(45)), "45s");
        assert_eq!(
            human_duration(chrono::Duration::seconds(3 * 3600 + 720)),
            "3h 12m"
        );
        assert_eq!(
            human_duration(chrono::Duration::seconds(-(2 * 86_400 + 4 * 3600))),
            "-2d 4h"
        );
        assert_eq!(
            human_duration(chrono::Duration::seconds(359 * 86_400 + 19 * 3600)),
            "359d"
        );
    }
}
