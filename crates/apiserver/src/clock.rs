//! Time and identity sources: a clock that tests can set, and uids that can be sequential.
//!
//! Golden tests need byte-identical replies, so both the time stamps (`creationTimestamp`,
//! `managedFields[].time`) and the `uid`s an [`ApiServer`](crate::ApiServer) writes can be made
//! deterministic: a [`ManualClock`] only moves when told to, and sequential uids count up.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
    }
}

/// A clock that stands still until [`ManualClock::set`] or [`ManualClock::advance`] moves it.
///
/// ```
/// use gitops_apiserver::{Clock, ManualClock};
/// let clock = ManualClock::new(1_767_225_600);
/// clock.advance(30);
/// assert_eq!(clock.now(), 1_767_225_630);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    seconds: AtomicU64,
}

impl ManualClock {
    /// 2026-01-01T00:00:00Z, where deterministic servers start.
    pub const START: u64 = 1_767_225_600;

    /// A clock showing `seconds` since the epoch.
    pub fn new(seconds: u64) -> ManualClock {
        ManualClock { seconds: AtomicU64::new(seconds) }
    }

    /// Shows `seconds` since the epoch from now on.
    pub fn set(&self, seconds: u64) {
        self.seconds.store(seconds, Ordering::SeqCst);
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.seconds.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.seconds.load(Ordering::SeqCst)
    }
}

pub(crate) use gitops_core::time::rfc3339;

/// Reads an RFC 3339 time stamp in UTC (`2026-01-01T00:00:00Z`, fractions of a second ignored)
/// as seconds since the epoch.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if text.get(10..11) != Some("T") || !text.ends_with('Z') || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Howard Hinnant's days-from-civil algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// Makes uids: random (version 4 layout) or sequential.
#[derive(Debug)]
pub(crate) struct UidSource {
    sequential: bool,
    counter: AtomicU64,
}

impl UidSource {
    pub(crate) fn new(sequential: bool) -> UidSource {
        UidSource { sequential, counter: AtomicU64::new(0) }
    }

    pub(crate) fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        if self.sequential {
            return format!("00000000-0000-4000-8000-{n:012x}");
        }
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(n);
        let high = hasher.finish();
        hasher.write_u64(SystemClock.now());
        let low = hasher.finish();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0x0fff,
            ((low >> 48) & 0x3fff) | 0x8000,
            low & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod rfc3339_tests {
    use super::*;

    #[test]
    fn time_stamps_round_trip() {
        for seconds in [0, 951_782_400, 1_767_225_600, 1_767_225_600 + 86_399, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(seconds)), Some(seconds), "{}", rfc3339(seconds));
        }
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00.5Z"), Some(1_767_225_600));
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(ManualClock::START), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn uids_are_sequential_or_random() {
        let uids = UidSource::new(true);
        assert_eq!(uids.next(), "00000000-0000-4000-8000-000000000001");
        let random = UidSource::new(false);
        let (a, b) = (random.next(), random.next());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
    }
}
