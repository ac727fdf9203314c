//! Request-rate profiles of workloads, read from the `kubedeck.io/load`
//! annotation (syntax in the module doc of `sim::metrics`), and the tuning
//! annotations that say what a request costs a pod.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::hash::fnv32a;
use crate::store::{fmt_time, meta_str, parse_time};
use kubedeck_kube::quantity::parse_quantity;

pub(crate) const LOAD_ANNOTATION: &str = "kubedeck.io/load";
pub(crate) const CPU_PER_REQUEST_ANNOTATION: &str = "kubedeck.io/load-cpu-per-request";
pub(crate) const MEMORY_PER_REQUEST_ANNOTATION: &str = "kubedeck.io/load-memory-per-request";
pub(crate) const CAPACITY_ANNOTATION: &str = "kubedeck.io/load-capacity";
pub(crate) const LATENCY_ANNOTATION: &str = "kubedeck.io/load-latency";

/// The daily wave's default period.
const DAY_SECONDS: f64 = 86_400.0;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Profile {
    /// A constant rate.
    Steady { rps: f64 },
    /// A sine between `low` and `high`, lowest at multiples of `period`
    /// since the Unix epoch (00:00 UTC for the daily wave).
    Wave { low: f64, high: f64, period: f64 },
    /// `base`, then `peak` from `start` for `duration` seconds, then `base`
    /// again. `start` None means "not stamped yet": the spike is on now.
    Spike {
        base: f64,
        peak: f64,
        duration: f64,
        start: Option<DateTime<Utc>>,
    },
}

fn secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

impl Profile {
    /// Requests per second at `t`.
    pub(crate) fn rate(&self, t: DateTime<Utc>) -> f64 {
        match *self {
            Profile::Steady { rps } => rps,
            Profile::Wave { low, high, period } => {
                let phase = secs(t).rem_euclid(period) / period;
                low + (high - low) * (1.0 - (std::f64::consts::TAU * phase).cos()) / 2.0
            }
            Profile::Spike {
                base,
                peak,
                duration,
                start,
            } => match start {
                None => peak,
                Some(s) => {
                    let dt = secs(t) - secs(s);
                    if (0.0..duration).contains(&dt) {
                        peak
                    } else {
                        base
                    }
                }
            },
        }
    }

    /// The number of requests between `t0` and `t1` (exact, not sampled,
    /// so counters built from it are smooth whatever the scrape interval).
    pub(crate) fn integral(&self, t0: DateTime<Utc>, t1: DateTime<Utc>) -> f64 {
        let (a, b) = (secs(t0), secs(t1));
        if b <= a {
            return 0.0;
        }
        match *self {
            Profile::Steady { rps } => rps * (b - a),
            Profile::Wave { low, high, period } => {
                let mid = (low + high) / 2.0;
                let amp = (high - low) / 2.0;
                let w = std::f64::consts::TAU / period;
                // Reduce before the sine so huge epoch values keep precision.
                let sa = (w * a.rem_euclid(period)).sin();
                let sb = (w * b.rem_euclid(period)).sin();
                mid * (b - a) - amp * (sb - sa) / w
            }
            Profile::Spike {
                base,
                peak,
                duration,
                start,
            } => {
                let (s, e) = match start {
                    None => (a, b),
                    Some(s) => (secs(s), secs(s) + duration),
                };
                let overlap = (b.min(e) - a.max(s)).max(0.0);
                base * (b - a) + (peak - base) * overlap
            }
        }
    }

    /// The annotation value with the spike's start written out, when the
    /// profile is a spike that has not been stamped.
    pub(crate) fn stamped(&self, raw: &str, now: DateTime<Utc>) -> Option<String> {
        match self {
            Profile::Spike { start: None, .. } => {
                Some(format!("{} at {}", raw.trim(), fmt_time(now)))
            }
            _ => None,
        }
    }
}

/// A rate: `120rps`, `120`, `1.5k`, `1.5krps`.
fn parse_rps(s: &str) -> Result<f64, String> {
    let n = s.strip_suffix("rps").unwrap_or(s);
    match parse_quantity(n) {
        Some(v) if v >= 0.0 => Ok(v),
        _ => Err(format!("invalid rate {s:?} (expected e.g. 120rps)")),
    }
}

/// A duration: `90s`, `10m`, `2h`, `1d`, or plain seconds.
pub(crate) fn parse_duration(s: &str) -> Result<f64, String> {
    let (num, factor) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = s.strip_suffix('d') {
        (n, DAY_SECONDS)
    } else {
        (s, 1.0)
    };
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * factor),
        _ => Err(format!("invalid duration {s:?} (expected e.g. 10m)")),
    }
}

/// Parses a `kubedeck.io/load` value.
pub(crate) fn parse_profile(s: &str) -> Result<Profile, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    match words.as_slice() {
        ["off"] => Ok(Profile::Steady { rps: 0.0 }),
        [rate] => Ok(Profile::Steady {
            rps: parse_rps(rate)?,
        }),
        ["steady", rate] => Ok(Profile::Steady {
            rps: parse_rps(rate)?,
        }),
        ["wave", range, rest @ ..] => {
            let range = range.strip_suffix("rps").unwrap_or(range);
            let (lo, hi) = range
                .split_once('-')
                .ok_or_else(|| format!("invalid wave range {range:?} (expected e.g. 50-400rps)"))?;
            let (low, high) = (parse_rps(lo)?, parse_rps(hi)?);
            let period = match rest {
                [] => DAY_SECONDS,
                [p] => parse_duration(p)?,
                _ => {
                    return Err(format!(
                        "unexpected {:?} after the wave range",
                        rest.join(" ")
                    ));
                }
            };
            if period <= 0.0 {
                return Err("the wave period must be positive".into());
            }
            Ok(Profile::Wave { low, high, period })
        }
        ["spike", base, peak, duration, rest @ ..] => {
            let start = match rest {
                [] => None,
                ["at", t] => Some(
                    parse_time(t)
                        .ok_or_else(|| format!("invalid spike start {t:?} (expected RFC 3339)"))?,
                ),
                _ => return Err(format!("unexpected {:?} after the spike", rest.join(" "))),
            };
            Ok(Profile::Spike {
                base: parse_rps(base)?,
                peak: parse_rps(peak)?,
                duration: parse_duration(duration)?,
                start,
            })
        }
        _ => Err(format!(
            "invalid load profile {s:?}: expected \"steady 120rps\", \"wave 50-400rps [24h]\" or \"spike 100rps 900rps 10m [at TIME]\""
        )),
    }
}

/// What one request costs a pod of a workload, and what a pod can take.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tuning {
    /// CPU cores per request per second.
    pub(crate) cpu_per_rps: f64,
    /// Working-set bytes per request per second.
    pub(crate) memory_per_rps: f64,
    /// Requests per second one pod serves before it saturates; None derives
    /// it from the CPU limit.
    pub(crate) capacity: Option<f64>,
    /// Latency of an idle pod, in seconds.
    pub(crate) latency: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            cpu_per_rps: 0.001,
            memory_per_rps: 256.0 * 1024.0,
            capacity: None,
            latency: 0.02,
        }
    }
}

/// A workload's profile and tuning. A missing or malformed annotation falls
/// back to the default: a steady rate between 5 and 50 rps chosen by the
/// workload's name, so every service shows some traffic.
pub(crate) fn workload_load(workload: &Value) -> (Profile, Tuning) {
    let ann = &workload["metadata"]["annotations"];
    let profile = ann[LOAD_ANNOTATION]
        .as_str()
        .and_then(|s| parse_profile(s).ok())
        .unwrap_or_else(|| default_profile(workload));
    let mut t = Tuning::default();
    if let Some(v) = ann[CPU_PER_REQUEST_ANNOTATION]
        .as_str()
        .and_then(parse_quantity)
    {
        t.cpu_per_rps = v.max(0.0);
    }
    if let Some(v) = ann[MEMORY_PER_REQUEST_ANNOTATION]
        .as_str()
        .and_then(parse_quantity)
    {
        t.memory_per_rps = v.max(0.0);
    }
    if let Some(v) = ann[CAPACITY_ANNOTATION]
        .as_str()
        .and_then(|s| parse_rps(s).ok())
        && v > 0.0
    {
        t.capacity = Some(v);
    }
    if let Some(v) = ann[LATENCY_ANNOTATION]
        .as_str()
        .and_then(|s| parse_duration(s).ok())
        && v > 0.0
    {
        t.latency = v;
    }
    (profile, t)
}

fn default_profile(workload: &Value) -> Profile {
    let key = format!(
        "{}/{}",
        meta_str(workload, "namespace"),
        meta_str(workload, "name")
    );
    Profile::Steady {
        rps: 5.0 + f64::from(fnv32a(key.as_bytes()) % 46),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, h, m, 0).single().unwrap()
    }

    #[test]
    fn parses_every_profile_and_rejects_junk() {
        assert_eq!(
            parse_profile("steady 120rps"),
            Ok(Profile::Steady { rps: 120.0 })
        );
        assert_eq!(parse_profile("80"), Ok(Profile::Steady { rps: 80.0 }));
        assert_eq!(
            parse_profile("wave 50-400rps"),
            Ok(Profile::Wave {
                low: 50.0,
                high: 400.0,
                period: 86_400.0
            })
        );
        assert_eq!(
            parse_profile("wave 50-400rps 10m"),
            Ok(Profile::Wave {
                low: 50.0,
                high: 400.0,
                period: 600.0
            })
        );
        assert_eq!(
            parse_profile("spike 100rps 900rps 10m at 2026-01-01T12:00:00Z"),
            Ok(Profile::Spike {
                base: 100.0,
                peak: 900.0,
                duration: 600.0,
                start: Some(at(12, 0))
            })
        );
        for bad in [
            "",
            "steady",
            "steady fast",
            "wave 400rps",
            "spike 1 2",
            "spike 1 2 3m at yesterday",
            "-5",
        ] {
            assert!(parse_profile(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn wave_is_low_at_midnight_and_high_at_noon_and_integrates_exactly() {
        let p = Profile::Wave {
            low: 50.0,
            high: 400.0,
            period: 86_400.0,
        };
        assert!((p.rate(at(0, 0)) - 50.0).abs() < 1e-6);
        assert!((p.rate(at(12, 0)) - 400.0).abs() < 1e-6);
        // A whole period averages the midpoint.
        let day = p.integral(at(3, 0), at(3, 0) + chrono::Duration::days(1));
        assert!((day / 86_400.0 - 225.0).abs() < 1e-3, "{day}");
        // Short spans match rate × time.
        let minute = p.integral(at(6, 0), at(6, 1));
        assert!((minute - 60.0 * p.rate(at(6, 0))).abs() / minute < 0.01);
    }

    #[test]
    fn spike_integrates_only_its_overlap() {
        let p = parse_profile("spike 100rps 900rps 10m at 2026-01-01T12:00:00Z").unwrap();
        assert_eq!(p.rate(at(11, 59)), 100.0);
        assert_eq!(p.rate(at(12, 5)), 900.0);
        assert_eq!(p.rate(at(12, 10)), 100.0);
        let n = p.integral(at(11, 55), at(12, 15));
        assert!((n - (100.0 * 1200.0 + 800.0 * 600.0)).abs() < 1e-6);
        let unstamped = parse_profile("spike 1rps 5rps 1m").unwrap();
        assert_eq!(
            unstamped
                .stamped(" spike 1rps 5rps 1m ", at(1, 2))
                .as_deref(),
            Some("spike 1rps 5rps 1m at 2026-01-01T01:02:00Z")
        );
        assert_eq!(p.stamped("x", at(1, 2)), None);
    }

    #[test]
    fn tuning_and_defaults_come_from_annotations() {
        let d = json!({"metadata": {"name": "web", "namespace": "demo", "annotations": {
            "kubedeck.io/load": "steady 300rps",
            "kubedeck.io/load-cpu-per-request": "2m",
            "kubedeck.io/load-memory-per-request": "1Mi",
            "kubedeck.io/load-capacity": "150rps",
            "kubedeck.io/load-latency": "50ms"}}});
        let (p, t) = workload_load(&d);
        assert_eq!(p, Profile::Steady { rps: 300.0 });
        assert!((t.cpu_per_rps - 0.002).abs() < 1e-12);
        assert_eq!(t.memory_per_rps, 1_048_576.0);
        assert_eq!(t.capacity, Some(150.0));
        assert!((t.latency - 0.05).abs() < 1e-12);
        let plain = json!({"metadata": {"name": "api", "namespace": "demo",
            "annotations": {"kubedeck.io/load": "nonsense"}}});
        let (p, t) = workload_load(&plain);
        let Profile::Steady { rps } = p else {
            panic!("{p:?}")
        };
        assert!((5.0..=50.0).contains(&rps));
        assert_eq!(p, workload_load(&plain).0, "the default is stable");
        assert_eq!(t, Tuning::default());
    }
}
