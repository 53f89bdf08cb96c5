//! [`Rate`]: a byte rate as nginx writes it (`limit_rate 512k`).

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::HandlerError;

/// Bytes per second; 0 means unlimited. Parsed from an integer with an optional
/// `k` (x1024) or `m` (x1024²) suffix, either case, as nginx reads sizes.
///
/// ```
/// use seine_handler::Rate;
/// assert_eq!("10m".parse::<Rate>().unwrap().bytes_per_second(), 10_485_760);
/// assert_eq!("512K".parse::<Rate>().unwrap().bytes_per_second(), 524_288);
/// assert_eq!("1000".parse::<Rate>().unwrap().bytes_per_second(), 1000);
/// assert!("1.5m".parse::<Rate>().is_err());
/// assert!(Rate::UNLIMITED.is_unlimited());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u64);

impl Rate {
    /// No limit.
    pub const UNLIMITED: Rate = Rate(0);

    /// `n` bytes per second (0: unlimited).
    pub const fn bytes_per_second(self) -> u64 {
        self.0
    }

    /// A rate of `n` bytes per second (0: unlimited).
    pub const fn new(bytes_per_second: u64) -> Self {
        Rate(bytes_per_second)
    }

    /// Whether this is no limit at all.
    pub const fn is_unlimited(self) -> bool {
        self.0 == 0
    }

    /// How long `bytes` take at this rate (zero when unlimited).
    pub fn time_for(self, bytes: u64) -> Duration {
        if self.0 == 0 {
            return Duration::ZERO;
        }
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(self.0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

impl FromStr for Rate {
    type Err = HandlerError;

    fn from_str(s: &str) -> Result<Self, HandlerError> {
        let invalid = || HandlerError::InvalidRate { text: s.into() };
        let t = s.trim();
        let (digits, unit) = match t.as_bytes().last() {
            Some(b'k' | b'K') => (&t[..t.len() - 1], 1024),
            Some(b'm' | b'M') => (&t[..t.len() - 1], 1024 * 1024),
            _ => (t, 1),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let n: u64 = digits.parse().map_err(|_| invalid())?;
        n.checked_mul(unit).map(Rate).ok_or_else(invalid)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const M: u64 = 1024 * 1024;
        match self.0 {
            0 => f.write_str("unlimited"),
            n if n % M == 0 => write!(f, "{}m", n / M),
            n if n % 1024 == 0 => write!(f, "{}k", n / 1024),
            n => write!(f, "{n}"),
        }
    }
}

/// A schedule of byte transfers at a rate, shared by whoever reserves from it (one
/// channel, or every channel of every loop): each reservation gets the time at
/// which its bytes may go, right after the previous reservation's. Lock-free: one
/// atomic word. Idle time gives no credit (no bursts after a pause).
#[derive(Debug)]
pub(crate) struct Pacer {
    rate: Rate,
    base: Instant,
    /// Nanoseconds after `base` at which the next reservation may start.
    next: AtomicU64,
}

impl Pacer {
    pub(crate) fn new(rate: Rate, base: Instant) -> Self {
        Pacer {
            rate,
            base,
            next: AtomicU64::new(0),
        }
    }

    pub(crate) fn rate(&self) -> Rate {
        self.rate
    }

    /// Reserves `bytes`; returns when they may be sent (at or after `now`).
    pub(crate) fn reserve(&self, bytes: u64, now: Instant) -> Instant {
        let now_ns =
            u64::try_from(now.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX);
        let cost = u64::try_from(self.rate.time_for(bytes).as_nanos()).unwrap_or(u64::MAX);
        let prev = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
                Some(cur.max(now_ns).saturating_add(cost))
            })
            .unwrap_or_else(|cur| cur);
        let start = prev.max(now_ns);
        (self.base + Duration::from_nanos(start)).max(now)
    }
}
