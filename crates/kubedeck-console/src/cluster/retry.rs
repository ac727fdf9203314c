//! Retrying a watch: a back-off per kind, short at first so a passing
//! fault costs little, capped so a lasting one is still retried every few
//! seconds; and a pacer shared by one connection's watches, so that all
//! kinds failing at once never add up to a burst of connections.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

const FIRST: Duration = Duration::from_millis(250);
const CAP: Duration = Duration::from_secs(2);

/// Exponential back-off, 250 ms doubling to 2 s, each delay jittered down
/// to half so that kinds that failed together drift apart.
pub(crate) struct Backoff {
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub(crate) fn new(seed: u64) -> Backoff {
        Backoff {
            next: FIRST,
            // Odd, so the generator never sticks at zero.
            seed: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// The next delay, in [d/2, d] for the current step d.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(CAP);
        // xorshift: jitter needs no more than this.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let half = d / 2;
        half + half.mul_f64((self.seed % 1000) as f64 / 1000.0)
    }

    /// Back to the shortest delay, once a watch has been healthy.
    pub(crate) fn reset(&mut self) {
        self.next = FIRST;
    }
}

/// Spaces the (re)connects of one connection's watches by at least `gap`:
/// at most 1/gap attempts a second, however many kinds are failing.
pub(crate) struct Pacer {
    gap: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    pub(crate) fn new(gap: Duration) -> Pacer {
        Pacer {
            gap,
            next: Mutex::new(None),
        }
    }

    /// Waits for this caller's turn.
    pub(crate) async fn turn(&self) {
        let now = Instant::now();
        let at = match self.next.lock() {
            Ok(mut next) => {
                let at = next.map_or(now, |n| n.max(now));
                *next = Some(at + self.gap);
                at
            }
            Err(_) => now,
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_with_jitter_and_start_over_on_reset() {
        let mut b = Backoff::new(7);
        let delays: Vec<Duration> = (0..6).map(|_| b.next_delay()).collect();
        let steps = [250, 500, 1000, 2000, 2000, 2000].map(Duration::from_millis);
        for (d, step) in delays.iter().zip(steps) {
            assert!(*d >= step / 2 && *d <= step, "{d:?} for a step of {step:?}");
        }
        b.reset();
        assert!(b.next_delay() <= FIRST);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_lets_one_caller_through_per_gap() {
        let pacer = std::sync::Arc::new(Pacer::new(Duration::from_millis(100)));
        let start = Instant::now();
        let mut turns = Vec::new();
        for _ in 0..5 {
            let p = pacer.clone();
            turns.push(tokio::spawn(async move {
                p.turn().await;
                Instant::now()
            }));
        }
        let mut at = Vec::new();
        for t in turns {
            at.push(t.await.expect("a turn") - start);
        }
        at.sort();
        assert_eq!(
            at,
            (0..5)
                .map(|i| Duration::from_millis(100 * i))
                .collect::<Vec<_>>()
        );
    }
}
