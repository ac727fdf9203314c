//! `spec.behavior`, after kube's horizontal.go: stabilization windows and
//! scaling policies, and the memory of recommendations and scale events they
//! work from.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// --horizontal-pod-autoscaler-downscale-stabilization.
const DOWNSCALE_WINDOW_SECONDS: f64 = 300.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyKind {
    Pods,
    Percent,
}

#[derive(Debug, Clone, PartialEq)]
struct Policy {
    pub(super) kind: PolicyKind,
    pub(super) value: i64,
    /// Seconds (already scaled).
    pub(super) period: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    Max,
    Min,
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rules {
    /// Stabilization window in seconds (already scaled).
    window: f64,
    select: Select,
    policies: Vec<Policy>,
}

/// kube's HPAScaleUpRules: no stabilization, the faster of +4 pods and
/// +100% per 15 s.
pub(super) fn default_scale_up() -> Rules {
    Rules {
        window: 0.0,
        select: Select::Max,
        policies: vec![
            Policy {
                kind: PolicyKind::Pods,
                value: 4,
                period: 15.0,
            },
            Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period: 15.0,
            },
        ],
    }
}

/// kube's HPAScaleDownRules: a 300 s window, down to 0% of the pods per
/// 15 s.
pub(super) fn default_scale_down() -> Rules {
    Rules {
        window: DOWNSCALE_WINDOW_SECONDS,
        select: Select::Max,
        policies: vec![Policy {
            kind: PolicyKind::Percent,
            value: 100,
            period: 15.0,
        }],
    }
}

/// Fills a `behavior.scaleUp`/`scaleDown` from the defaults field by field,
/// as the API server's defaulting does, then applies the time scale.
pub(super) fn rules_from(v: &Value, default: Rules, scale: f64) -> Rules {
    let mut r = default;
    if let Some(w) = v["stabilizationWindowSeconds"].as_f64() {
        r.window = w.max(0.0);
    }
    match v["selectPolicy"].as_str() {
        Some("Min") => r.select = Select::Min,
        Some("Disabled") => r.select = Select::Disabled,
        Some("Max") => r.select = Select::Max,
        _ => {}
    }
    if let Some(ps) = v["policies"].as_array() {
        r.policies = ps
            .iter()
            .filter_map(|p| {
                let kind = match p["type"].as_str()? {
                    "Pods" => PolicyKind::Pods,
                    "Percent" => PolicyKind::Percent,
                    _ => return None,
                };
                Some(Policy {
                    kind,
                    value: p["value"].as_i64()?,
                    period: p["periodSeconds"].as_f64()?,
                })
            })
            .collect();
    }
    r.window *= scale;
    for p in &mut r.policies {
        p.period *= scale;
    }
    r
}

#[derive(Debug, Clone, PartialEq)]
struct ScaleEvent {
    pub(super) change: i64,
    pub(super) at: DateTime<Utc>,
}

/// What kube keeps per HPA in controller memory.
#[derive(Debug, Clone, Default)]
pub(super) struct Memory {
    pub(super) uid: String,
    pub(super) recommendations: Vec<(i64, DateTime<Utc>)>,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
}

fn seconds_before(now: DateTime<Utc>, secs: f64) -> DateTime<Utc> {
    now - chrono::Duration::milliseconds((secs * 1000.0) as i64)
}

fn changes_within(events: &[ScaleEvent], period: f64, now: DateTime<Utc>) -> i64 {
    let cutoff = seconds_before(now, period);
    events
        .iter()
        .filter(|e| e.at > cutoff)
        .map(|e| e.change)
        .sum()
}

fn scale_up_limit(current: i64, events: &[ScaleEvent], rules: &Rules, now: DateTime<Utc>) -> i64 {
    let pick: fn(i64, i64) -> i64 = match rules.select {
        Select::Disabled => return current,
        Select::Min => i64::min,
        Select::Max => i64::max,
    };
    let mut result: Option<i64> = None;
    for p in &rules.policies {
        let start = current - changes_within(events, p.period, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start + p.value,
            PolicyKind::Percent => (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i64,
        };
        result = Some(result.map_or(proposed, |r| pick(r, proposed)));
    }
    result.unwrap_or(current)
}

fn scale_down_limit(current: i64, events: &[ScaleEvent], rules: &Rules, now: DateTime<Utc>) -> i64 {
    let pick: fn(i64, i64) -> i64 = match rules.select {
        Select::Disabled => return current,
        // For scaling down the smallest change is the largest count.
        Select::Min => i64::max,
        Select::Max => i64::min,
    };
    let mut result: Option<i64> = None;
    for p in &rules.policies {
        let start = current + changes_within(events, p.period, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start - p.value,
            PolicyKind::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64,
        };
        result = Some(result.map_or(proposed, |r| pick(r, proposed)));
    }
    result.unwrap_or(current)
}

/// The stabilization of one direction: window, how to pick among recent
/// recommendations, and the AbleToScale reason and message when it bites.
type Stabilizer = (f64, fn(i64, i64) -> i64, &'static str, &'static str);

/// A condition to set: (status, reason, message).
pub(super) type Cond = (&'static str, &'static str, String);

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Normalized {
    pub(super) desired: i64,
    pub(super) able_to_scale: Cond,
    pub(super) scaling_limited: Cond,
}

impl Memory {
    /// Fresh memory for the HPA with `uid`.
    pub(super) fn new(uid: String) -> Memory {
        Memory {
            uid,
            ..Memory::default()
        }
    }

    /// normalizeDesiredReplicasWithBehaviors: stabilise the recommendation
    /// over the window, then cap the change by the policies and bounds.
    pub(super) fn normalize(
        &mut self,
        up: &Rules,
        down: &Rules,
        (min, max): (i64, i64),
        current: i64,
        proposed: i64,
        now: DateTime<Utc>,
    ) -> Normalized {
        let (window, better, reason, message): Stabilizer = if proposed >= current {
            (
                up.window,
                i64::min,
                "ScaleUpStabilized",
                "recent recommendations were lower than current one, applying the lowest recent recommendation",
            )
        } else {
            (
                down.window,
                i64::max,
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            )
        };
        let cutoff = seconds_before(now, window);
        let obsolete = seconds_before(now, up.window.max(down.window));
        let mut stabilized = proposed;
        for (rec, at) in &self.recommendations {
            if *at > cutoff {
                stabilized = better(*rec, stabilized);
            }
        }
        match self
            .recommendations
            .iter()
            .position(|(_, at)| *at < obsolete)
        {
            Some(i) => self.recommendations[i] = (proposed, now),
            None => self.recommendations.push((proposed, now)),
        }
        let able_to_scale = if stabilized != proposed {
            ("True", reason, message.to_string())
        } else {
            (
                "True",
                "ReadyForNewScale",
                "recommended size matches current size".to_string(),
            )
        };

        let (desired, limit_reason, limit_message) = if stabilized > current {
            let limit = scale_up_limit(current, &self.up_events, up, now).max(current);
            let (allowed, r, m) = if max > limit {
                (
                    limit,
                    "ScaleUpLimit",
                    "the desired replica count is increasing faster than the maximum scale rate",
                )
            } else {
                (
                    max,
                    "TooManyReplicas",
                    "the desired replica count is more than the maximum replica count",
                )
            };
            if stabilized > allowed {
                (allowed, r, m)
            } else {
                (
                    stabilized,
                    "DesiredWithinRange",
                    "the desired count is within the acceptable range",
                )
            }
        } else if stabilized < current {
            let limit = scale_down_limit(current, &self.down_events, down, now).min(current);
            let (allowed, r, m) = if min < limit {
                (
                    limit,
                    "ScaleDownLimit",
                    "the desired replica count is decreasing faster than the maximum scale rate",
                )
            } else {
                (
                    min,
                    "TooFewReplicas",
                    "the desired replica count is less than the minimum replica count",
                )
            };
            if stabilized < allowed {
                (allowed, r, m)
            } else {
                (
                    stabilized,
                    "DesiredWithinRange",
                    "the desired count is within the acceptable range",
                )
            }
        } else {
            (
                stabilized,
                "DesiredWithinRange",
                "the desired count is within the acceptable range",
            )
        };
        let limited = if desired == stabilized {
            "False"
        } else {
            "True"
        };
        Normalized {
            desired,
            able_to_scale,
            scaling_limited: (limited, limit_reason, limit_message.to_string()),
        }
    }

    /// Remembers a rescale for the policies' periods, reusing entries older
    /// than the longest period as kube does.
    pub(super) fn record_scale(
        &mut self,
        up: &Rules,
        down: &Rules,
        from: i64,
        to: i64,
        now: DateTime<Utc>,
    ) {
        let (events, rules, change) = if to > from {
            (&mut self.up_events, up, to - from)
        } else {
            (&mut self.down_events, down, from - to)
        };
        let longest = rules.policies.iter().map(|p| p.period).fold(0.0, f64::max);
        let cutoff = seconds_before(now, longest);
        let event = ScaleEvent { change, at: now };
        match events.iter().position(|e| e.at < cutoff) {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::t0_plus;
    use serde_json::json;

    #[test]
    fn bounds_and_default_scale_up_policies() {
        let (up, down) = (default_scale_up(), default_scale_down());
        let mut m = Memory::default();
        // From 2, the faster of +4 pods and +100% is 6.
        let n = m.normalize(&up, &down, (1, 20), 2, 15, t0_plus(0));
        assert_eq!(n.desired, 6);
        assert_eq!(n.scaling_limited.1, "ScaleUpLimit");
        assert_eq!(n.scaling_limited.0, "True");
        m.record_scale(&up, &down, 2, 6, t0_plus(0));
        // Within the same 15 s period nothing more is allowed.
        assert_eq!(
            m.normalize(&up, &down, (1, 20), 6, 15, t0_plus(5)).desired,
            6
        );
        // Next period: 6 + max(4, 100%) = 12, and maxReplicas caps the rest.
        let n = m.normalize(&up, &down, (1, 10), 6, 15, t0_plus(16));
        assert_eq!(n.desired, 10);
        assert_eq!(n.scaling_limited.1, "TooManyReplicas");
        let mut m = Memory::default();
        let n = m.normalize(&up, &down, (3, 10), 4, 1, t0_plus(0));
        assert_eq!(n.desired, 3);
        assert_eq!(n.scaling_limited.1, "TooFewReplicas");
        let n = Memory::default().normalize(&up, &down, (1, 10), 4, 4, t0_plus(0));
        assert_eq!(
            n.scaling_limited,
            (
                "False",
                "DesiredWithinRange",
                "the desired count is within the acceptable range".into()
            )
        );
        assert_eq!(n.able_to_scale.1, "ReadyForNewScale");
    }

    #[test]
    fn pods_versus_percent_policies_and_select_policy() {
        let behavior = json!({
            "selectPolicy": "Min",
            "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60},
                         {"type": "Percent", "value": 50, "periodSeconds": 60}]});
        let min = rules_from(&behavior, default_scale_up(), 1.0);
        let mut max = min.clone();
        max.select = Select::Max;
        let down = default_scale_down();
        // From 10: Pods allows 12, Percent allows 15.
        assert_eq!(
            Memory::default()
                .normalize(&min, &down, (1, 100), 10, 40, t0_plus(0))
                .desired,
            12
        );
        assert_eq!(
            Memory::default()
                .normalize(&max, &down, (1, 100), 10, 40, t0_plus(0))
                .desired,
            15
        );
        let mut disabled = min.clone();
        disabled.select = Select::Disabled;
        assert_eq!(
            Memory::default()
                .normalize(&disabled, &down, (1, 100), 10, 40, t0_plus(0))
                .desired,
            10
        );
        // Scale-down: Percent 50% of 10 leaves 5, Pods leaves 8; Min picks the smaller change.
        let down_rules = rules_from(&behavior, default_scale_down(), 1.0);
        let no_window = Rules {
            window: 0.0,
            ..down_rules
        };
        let up = default_scale_up();
        assert_eq!(
            Memory::default()
                .normalize(&up, &no_window, (1, 100), 10, 1, t0_plus(0))
                .desired,
            8
        );
        let max_down = Rules {
            select: Select::Max,
            ..no_window
        };
        assert_eq!(
            Memory::default()
                .normalize(&up, &max_down, (1, 100), 10, 1, t0_plus(0))
                .desired,
            5
        );
        // Missing fields keep the defaults; the time scale applies to windows and periods.
        let scaled = rules_from(&json!({"selectPolicy": "Min"}), default_scale_down(), 0.02);
        assert_eq!(scaled.window, 6.0);
        assert_eq!(scaled.policies[0].period, 0.3);
        assert_eq!(scaled.select, Select::Min);
    }

    #[test]
    fn scale_down_waits_for_the_highest_recommendation_in_the_window() {
        let (up, down) = (default_scale_up(), default_scale_down());
        let mut m = Memory::default();
        assert_eq!(
            m.normalize(&up, &down, (1, 20), 8, 8, t0_plus(0)).desired,
            8
        );
        assert_eq!(
            m.normalize(&up, &down, (1, 20), 8, 6, t0_plus(60)).desired,
            8
        );
        let n = m.normalize(&up, &down, (1, 20), 8, 3, t0_plus(120));
        assert_eq!(n.desired, 8);
        assert_eq!(n.able_to_scale.1, "ScaleDownStabilized");
        // 8 is out of the 300 s window; 6 (at 60 s) is the highest left.
        assert_eq!(
            m.normalize(&up, &down, (1, 20), 8, 3, t0_plus(301)).desired,
            6
        );
        // And once that too is older than the window, the low one wins.
        assert_eq!(
            m.normalize(&up, &down, (1, 20), 6, 3, t0_plus(421)).desired,
            3
        );
    }
}
