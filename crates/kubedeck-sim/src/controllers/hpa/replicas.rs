//! Replica calculation, after kube's replica_calculator.go: the replica
//! count one metric asks for, from per-pod samples, with kube's tolerance and
//! its treatment of unready and missing pods.

/// --horizontal-pod-autoscaler-tolerance.
const TOLERANCE: f64 = 0.1;

/// How kube's groupPods classifies a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SampleState {
    Ready,
    /// Pending, or (for CPU) not yet Ready long enough: left out, counted
    /// as 0% on a scale-up.
    Unready,
    /// Running but without a metric: 100% on a scale-down, 0% on a scale-up.
    Missing,
    /// Terminating or failed: left out entirely.
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Sample {
    pub(super) state: SampleState,
    /// Usage in base units (cores, bytes); None when missing.
    pub(super) usage: Option<f64>,
    /// The pod's request in base units.
    pub(super) request: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum MetricTarget {
    /// Percent of the request.
    Utilization(f64),
    /// Per-pod value in base units.
    AverageValue(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Calculation {
    pub(super) replicas: i64,
    /// Current utilization in percent (Utilization targets).
    pub(super) utilization: Option<i64>,
    /// Current per-pod average in base units.
    pub(super) average: f64,
}

/// Sum of usage and requests, in milli-units as kube computes them.
fn utilization_of(entries: &[(f64, f64)]) -> Option<(i64, f64)> {
    let usage: i64 = entries
        .iter()
        .map(|(u, _)| (u * 1000.0).round() as i64)
        .sum();
    let requests: i64 = entries
        .iter()
        .map(|(_, r)| (r * 1000.0).round() as i64)
        .sum();
    if requests == 0 || entries.is_empty() {
        return None;
    }
    Some((
        usage * 100 / requests,
        usage as f64 / 1000.0 / entries.len() as f64,
    ))
}

/// kube's GetResourceReplicas / calcPlainMetricReplicas: the replica count
/// that brings the metric to its target, with the tolerance and kube's
/// treatment of unready and missing pods.
pub(super) fn calculate(
    current: i64,
    target: MetricTarget,
    samples: &[Sample],
) -> Result<Calculation, String> {
    if samples.iter().all(|s| s.usage.is_none()) {
        return Err("no metrics returned from resource metrics API".into());
    }
    let ready: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.state == SampleState::Ready)
        .collect();
    let unready = samples
        .iter()
        .filter(|s| s.state == SampleState::Unready)
        .count();
    let missing: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.state == SampleState::Missing)
        .collect();
    if ready.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    let entries: Vec<(f64, f64)> = ready
        .iter()
        .map(|s| (s.usage.unwrap_or(0.0), s.request))
        .collect();
    let ratio_of = |entries: &[(f64, f64)]| -> Result<(f64, Option<i64>, f64), String> {
        match target {
            MetricTarget::Utilization(t) => {
                let (u, avg) = utilization_of(entries)
                    .ok_or_else(|| "no metrics returned matched known pods".to_string())?;
                Ok((u as f64 / t, Some(u), avg))
            }
            MetricTarget::AverageValue(t) => {
                let avg = entries.iter().map(|(u, _)| u).sum::<f64>() / entries.len() as f64;
                Ok((if t > 0.0 { avg / t } else { 0.0 }, None, avg))
            }
        }
    };
    let (ratio, utilization, average) = ratio_of(&entries)?;
    let done = |replicas: i64| Calculation {
        replicas,
        utilization,
        average,
    };
    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if (1.0 - ratio).abs() <= TOLERANCE {
            return Ok(done(current));
        }
        return Ok(done((ratio * ready.len() as f64).ceil() as i64));
    }
    let mut all = entries;
    if !missing.is_empty() {
        for s in &missing {
            let assumed = match target {
                // Scale-down: assume missing pods use the whole request
                // (or the target, when that is above 100%).
                MetricTarget::Utilization(t) if ratio < 1.0 => s.request * t.max(100.0) / 100.0,
                MetricTarget::AverageValue(t) if ratio < 1.0 => t,
                _ => 0.0,
            };
            all.push((assumed, s.request));
        }
    }
    if scale_up_with_unready {
        for s in samples.iter().filter(|s| s.state == SampleState::Unready) {
            all.push((0.0, s.request));
        }
    }
    let (new_ratio, _, _) = ratio_of(&all)?;
    if (1.0 - new_ratio).abs() <= TOLERANCE
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(done(current));
    }
    let proposed = (new_ratio * all.len() as f64).ceil() as i64;
    if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        return Ok(done(current));
    }
    Ok(done(proposed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(usage: f64, request: f64) -> Sample {
        Sample {
            state: SampleState::Ready,
            usage: Some(usage),
            request,
        }
    }

    #[test]
    fn utilization_within_tolerance_keeps_the_count() {
        // 54% against 50%: ratio 1.08, inside the 10% tolerance.
        let s = vec![ready(0.054, 0.1), ready(0.054, 0.1), ready(0.054, 0.1)];
        let c = calculate(3, MetricTarget::Utilization(50.0), &s).unwrap();
        assert_eq!(c.replicas, 3);
        assert_eq!(c.utilization, Some(54));
        // 60% against 50%: ceil(1.2 × 3) = 4.
        let s = vec![ready(0.06, 0.1), ready(0.06, 0.1), ready(0.06, 0.1)];
        assert_eq!(
            calculate(3, MetricTarget::Utilization(50.0), &s)
                .unwrap()
                .replicas,
            4
        );
        // 40% against 50%: ceil(0.8 × 3) = 3; 20%: ceil(0.4 × 3) = 2.
        let s = vec![ready(0.02, 0.1), ready(0.02, 0.1), ready(0.02, 0.1)];
        assert_eq!(
            calculate(3, MetricTarget::Utilization(50.0), &s)
                .unwrap()
                .replicas,
            2
        );
        // AverageValue: 300Mi average against 200Mi over 2 pods = 3.
        let mib = 1_048_576.0;
        let s = vec![ready(300.0 * mib, 0.0), ready(300.0 * mib, 0.0)];
        let c = calculate(2, MetricTarget::AverageValue(200.0 * mib), &s).unwrap();
        assert_eq!(c.replicas, 3);
        assert_eq!(c.utilization, None);
    }

    #[test]
    fn unready_and_missing_pods_are_treated_as_kube_does() {
        let unready = Sample {
            state: SampleState::Unready,
            usage: None,
            request: 0.1,
        };
        // Scale-up with an unready pod: it counts as 0%, damping the jump.
        let s = vec![ready(0.1, 0.1), ready(0.1, 0.1), unready.clone()];
        // Ready ratio 2.0; with the unready at 0%: 200/300×100% = 66.7% → ratio 1.33 → ceil(4) = 4.
        assert_eq!(
            calculate(3, MetricTarget::Utilization(50.0), &s)
                .unwrap()
                .replicas,
            4
        );
        // Scale-down with a missing pod: it is assumed at 100%.
        let missing = Sample {
            state: SampleState::Missing,
            usage: None,
            request: 0.1,
        };
        let s = vec![ready(0.01, 0.1), ready(0.01, 0.1), missing];
        // Ready ratio 0.2; with the missing at 100%: 40% → ratio 0.8 → ceil(2.4) = 3.
        assert_eq!(
            calculate(3, MetricTarget::Utilization(50.0), &s)
                .unwrap()
                .replicas,
            3
        );
        let err = calculate(3, MetricTarget::Utilization(50.0), &[unready]).unwrap_err();
        assert_eq!(err, "no metrics returned from resource metrics API");
    }
}
