//! Hints for developers about refused tokens, at INFO or WARN where they are seen, but at
//! most one per kind per minute: a flood of bad tokens must not flood the logs.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often one kind of hint may be logged.
pub(crate) const HINT_INTERVAL: Duration = Duration::from_secs(60);

/// Lets one event through per interval, process-wide; one per kind of hint, in a `static`.
pub(crate) struct RateLimit {
    /// Seconds since [`start`] of the last event, plus one; 0 before any.
    last: AtomicU64,
}

/// The time since the clock every limit counts from started.
pub(crate) fn since_start() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

impl RateLimit {
    pub(crate) const fn new() -> RateLimit {
        RateLimit {
            last: AtomicU64::new(0),
        }
    }

    /// Whether an event may be logged now: none was in the last `interval`. Of racing
    /// callers, one wins.
    pub(crate) fn allow(&self, interval: Duration) -> bool {
        let now = since_start().as_secs() + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now < last + interval.as_secs() {
            return false;
        }
        self.last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}

/// Logs a hint at WARN, at most once per [`HINT_INTERVAL`] for each call site.
macro_rules! hint {
    ($($arg:tt)+) => {{
        static LIMIT: $crate::diagnostic::RateLimit = $crate::diagnostic::RateLimit::new();
        if LIMIT.allow($crate::diagnostic::HINT_INTERVAL) {
            tracing::warn!($($arg)+);
        }
    }};
}
pub(crate) use hint;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_interval() {
        let limit = RateLimit::new();
        assert!(limit.allow(Duration::from_secs(3600)));
        assert!(!limit.allow(Duration::from_secs(3600)));
        assert!(!limit.allow(Duration::from_secs(3600)));
        // An interval of zero lets every event through.
        assert!(limit.allow(Duration::ZERO));
    }
}
