//! Pod usage history for the metrics-server fallback: the last hour at the
//! sampling period, and 2-minute means before that.

use std::collections::VecDeque;

/// One pod's usage at `t`; f32 keeps a sample at 16 bytes, and CPU cores
/// or bytes lose nothing a sparkline shows.
#[derive(Debug, Clone, Copy)]
pub(super) struct UsageSample {
    pub(super) t: i64,
    pub(super) cpu: f32,
    pub(super) memory: f32,
}

/// Older samples are kept as means over this many seconds.
pub(super) const COARSE_SECS: i64 = 120;
/// Samples younger than this stay at the sampling period.
pub(super) const FINE_SECS: i64 = 3600;
/// A pod's usage history: the last hour at the sampling period, and before
/// that 2-minute means, back to the widest window. At 15 s that is at most
/// 240 + 150 samples (about 6 KiB) a pod, where keeping 6 h at 15 s would
/// take 1,440 (23 KiB): 10,000 pods' history stays in the tens of MiB.
#[derive(Debug, Clone, Default)]
pub(super) struct PodHistory {
    pub(super) coarse: VecDeque<(UsageSample, u32)>,
    pub(super) fine: VecDeque<UsageSample>,
}

impl PodHistory {
    /// Adds `s`; keeps at most `fine_cap` samples at full resolution, turns
    /// older ones into 2-minute means when the history reaches back further
    /// than an hour (`horizon`, in seconds), and drops what is older.
    pub(super) fn push(&mut self, s: UsageSample, horizon: i64, fine_cap: usize) {
        self.fine.push_back(s);
        while let Some(old) = self
            .fine
            .front()
            .copied()
            .filter(|o| self.fine.len() > fine_cap || s.t - o.t > FINE_SECS)
        {
            self.fine.pop_front();
            if horizon <= FINE_SECS {
                continue;
            }
            let bucket = old.t.div_euclid(COARSE_SECS) * COARSE_SECS;
            match self.coarse.back_mut() {
                Some((mean, n)) if mean.t == bucket => {
                    let k = *n as f32;
                    mean.cpu = (mean.cpu * k + old.cpu) / (k + 1.0);
                    mean.memory = (mean.memory * k + old.memory) / (k + 1.0);
                    *n += 1;
                }
                _ => self.coarse.push_back((UsageSample { t: bucket, ..old }, 1)),
            }
        }
        // `horizon` seconds hold that many seconds' samples, not one more.
        while self
            .coarse
            .front()
            .is_some_and(|(c, _)| s.t - c.t >= horizon)
        {
            self.coarse.pop_front();
        }
    }

    pub(super) fn newest(&self) -> Option<i64> {
        self.fine.back().map(|s| s.t)
    }

    pub(super) fn len(&self) -> usize {
        self.coarse.len() + self.fine.len()
    }

    /// Oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &UsageSample> {
        self.coarse.iter().map(|(s, _)| s).chain(self.fine.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pods_history_keeps_an_hour_fine_and_older_samples_as_two_minute_means() {
        let horizon = 6 * 3600;
        let mut h = PodHistory::default();
        // Seven hours at 15 s; CPU counts the sample's index.
        for i in 0..(7 * 240) {
            let s = UsageSample {
                t: i * 15,
                cpu: i as f32,
                memory: 1.0,
            };
            h.push(s, horizon, 240);
        }
        let now = (7 * 240 - 1) * 15;
        let times: Vec<i64> = h.iter().map(|s| s.t).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "oldest first");
        assert!(now - times[0] < horizon, "nothing older than the horizon");
        assert_eq!(h.fine.len(), 240, "the last hour at 15 s");
        assert!(h.coarse.len() <= 150, "{} means", h.coarse.len());
        assert!(h.len() <= 390);
        // A full 2-minute mean of samples i..i+8 is their middle value.
        let (mean, n) = h.coarse[h.coarse.len() / 2];
        assert_eq!(n, 8);
        let first = (mean.t / 15) as f32;
        assert!((mean.cpu - (first + 3.5)).abs() < 1e-3, "{mean:?}");
        assert!(h.coarse.iter().all(|(c, _)| c.t % COARSE_SECS == 0));
    }
}
