//! How a metrics source is doing: the health state machine behind the
//! header's ok / slow / down, and the back-off between failed queries.

use std::time::{Duration, Instant};

/// Exponential back-off: `base`, doubling per consecutive failure, capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait after the `failures`-th consecutive failure (from 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }
}

/// How a source is doing, as the status line shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Nothing asked yet, or answering within the slow threshold.
    #[default]
    Ok,
    /// Answering, but the last answer took longer than the threshold.
    Slow,
    /// The last attempt failed or timed out; retrying with back-off.
    Down,
    /// There is no API to ask (metrics.k8s.io not installed, not serving or
    /// not allowed); nothing is retried.
    Unavailable,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Slow => "slow",
            Health::Down => "down",
            Health::Unavailable => "unavailable",
        }
    }
}

/// The health state machine. It takes the time as an argument so tests
/// drive it with a fake clock.
#[derive(Debug, Clone)]
pub(crate) struct HealthTracker {
    health: Health,
    failures: u32,
    retry_at: Option<Instant>,
    /// While down, whether the one probe allowed after the back-off is out.
    probing: bool,
    last_error: Option<String>,
    slow_after: Duration,
    backoff: Backoff,
}

impl HealthTracker {
    pub fn new(slow_after: Duration, backoff: Backoff) -> Self {
        HealthTracker {
            health: Health::Ok,
            failures: 0,
            retry_at: None,
            probing: false,
            last_error: None,
            slow_after,
            backoff,
        }
    }

    pub fn health(&self) -> Health {
        self.health
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether a query may go out at `now`. While down, only one probe
    /// goes out once the back-off has passed; otherwise the time left.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        if self.health != Health::Down {
            return Ok(());
        }
        match self.retry_at {
            Some(at) if now < at => Err(at - now),
            _ if self.probing => Err(Duration::ZERO),
            _ => {
                self.probing = true;
                Ok(())
            }
        }
    }

    /// Records an answer that took `took`; true if the health changed.
    pub fn succeeded(&mut self, took: Duration) -> bool {
        let before = self.health;
        self.health = if took >= self.slow_after {
            Health::Slow
        } else {
            Health::Ok
        };
        self.failures = 0;
        self.retry_at = None;
        self.probing = false;
        self.last_error = None;
        before != self.health
    }

    /// Records a failure at `now`; true if the health changed. A failure of
    /// a query sent before the source went down is the same outage, not a
    /// failed retry, and does not lengthen the back-off.
    pub fn failed(&mut self, now: Instant, error: String) -> bool {
        let before = self.health;
        if before != Health::Down || self.probing {
            self.failures += 1;
            self.retry_at = Some(now + self.backoff.delay(self.failures));
        }
        self.health = Health::Down;
        self.probing = false;
        self.last_error = Some(error);
        before != Health::Down
    }

    /// The time until the next attempt, while down.
    /// Records that there is nothing to retry: `reason` says why. True if
    /// the health changed.
    pub fn stopped(&mut self, reason: String) -> bool {
        let before = self.health;
        self.health = Health::Unavailable;
        self.retry_at = None;
        self.probing = false;
        self.last_error = Some(reason);
        before != Health::Unavailable
    }

    pub fn retry_in(&self, now: Instant) -> Option<Duration> {
        (self.health == Health::Down).then(|| {
            self.retry_at
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now))
        })
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }
}
