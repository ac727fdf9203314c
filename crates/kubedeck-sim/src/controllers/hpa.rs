//! The horizontal-pod-autoscaler controller (autoscaling/v2), after kube's
//! pkg/controller/podautoscaler: every sync period it reads the target's
//! scale, computes a replica count from each metric (Resource and
//! ContainerResource metrics, from the simulated usage model), stabilises
//! and rate-limits it with `spec.behavior`, writes the target's
//! `spec.replicas` and reports conditions, messages and events as kube does.
//!
//! Simulator knobs, so tests and demos need not wait five minutes:
//! - `sim.kubedeck.io/stabilization-scale: "0.02"` on an HPA multiplies its
//!   stabilization windows and scaling-policy periods (300 s becomes 6 s);
//!   the environment variable `KUBEDECK_SIM_HPA_WINDOW_SCALE`, read once,
//!   sets it for every HPA without the annotation.
//! - `sim.kubedeck.io/sync-period-seconds: "1"` on an HPA replaces kube's
//!   15-second sync period.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::workload_util::{is_terminating, phase, workload_selector};
use super::{Controller, Ctx};
use crate::error::ApiError;
use crate::events;
use crate::metrics::usage::{PodUsage, snapshot};
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, ObjKey, fmt_time, meta_str, obj_key, parse_time};

pub const STABILIZATION_SCALE_ANNOTATION: &str = "sim.kubedeck.io/stabilization-scale";
pub const SYNC_PERIOD_ANNOTATION: &str = "sim.kubedeck.io/sync-period-seconds";
pub const WINDOW_SCALE_ENV: &str = "KUBEDECK_SIM_HPA_WINDOW_SCALE";

const COMPONENT: &str = "horizontal-pod-autoscaler";
/// kube-controller-manager's --horizontal-pod-autoscaler-sync-period.
const SYNC_PERIOD: Duration = Duration::from_secs(15);
/// --horizontal-pod-autoscaler-tolerance.
pub const TOLERANCE: f64 = 0.1;
/// --horizontal-pod-autoscaler-downscale-stabilization.
const DOWNSCALE_WINDOW_SECONDS: f64 = 300.0;
/// --horizontal-pod-autoscaler-cpu-initialization-period.
const CPU_INITIALIZATION_SECONDS: i64 = 300;
/// --horizontal-pod-autoscaler-initial-readiness-delay.
const INITIAL_READINESS_DELAY_SECONDS: i64 = 30;
/// metrics-server's window: a sample must postdate readiness by this much.
const METRIC_WINDOW_SECONDS: i64 = 30;

pub fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![
        Arc::new(HpaController::default()),
        Arc::new(LoadStamper {
            res: &resources::DEPLOYMENTS,
        }),
        Arc::new(LoadStamper {
            res: &resources::STATEFULSETS,
        }),
    ]
}

// ---------------------------------------------------------------------------
// Replica calculation (replica_calculator.go)

/// How kube's groupPods classifies a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleState {
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
pub struct Sample {
    pub state: SampleState,
    /// Usage in base units (cores, bytes); None when missing.
    pub usage: Option<f64>,
    /// The pod's request in base units.
    pub request: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricTarget {
    /// Percent of the request.
    Utilization(f64),
    /// Per-pod value in base units.
    AverageValue(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Calculation {
    pub replicas: i64,
    /// Current utilization in percent (Utilization targets).
    pub utilization: Option<i64>,
    /// Current per-pod average in base units.
    pub average: f64,
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
pub fn calculate(
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

// ---------------------------------------------------------------------------
// Behavior: stabilization and scaling policies (horizontal.go)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Pods,
    Percent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub value: i64,
    /// Seconds (already scaled).
    pub period: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    Max,
    Min,
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Stabilization window in seconds (already scaled).
    pub window: f64,
    pub select: Select,
    pub policies: Vec<Policy>,
}

/// kube's HPAScaleUpRules: no stabilization, the faster of +4 pods and
/// +100% per 15 s.
pub fn default_scale_up() -> Rules {
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
pub fn default_scale_down() -> Rules {
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
pub fn rules_from(v: &Value, default: Rules, scale: f64) -> Rules {
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
    change: i64,
    at: DateTime<Utc>,
}

/// What kube keeps per HPA in controller memory.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    uid: String,
    recommendations: Vec<(i64, DateTime<Utc>)>,
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
pub type Cond = (&'static str, &'static str, String);

#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    pub desired: i64,
    pub able_to_scale: Cond,
    pub scaling_limited: Cond,
}

impl Memory {
    /// normalizeDesiredReplicasWithBehaviors: stabilise the recommendation
    /// over the window, then cap the change by the policies and bounds.
    pub fn normalize(
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
    pub fn record_scale(
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

// ---------------------------------------------------------------------------
// The controller

#[derive(Default)]
pub struct HpaController {
    memory: Mutex<HashMap<ObjKey, Memory>>,
}

fn env_window_scale() -> Option<f64> {
    static SCALE: OnceLock<Option<f64>> = OnceLock::new();
    *SCALE.get_or_init(|| {
        std::env::var(WINDOW_SCALE_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
    })
}

fn annotation_f64(obj: &Value, key: &str) -> Option<f64> {
    obj["metadata"]["annotations"][key]
        .as_str()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
}

fn window_scale(hpa: &Value) -> f64 {
    annotation_f64(hpa, STABILIZATION_SCALE_ANNOTATION)
        .or_else(env_window_scale)
        .unwrap_or(1.0)
}

fn sync_period(hpa: &Value) -> Duration {
    annotation_f64(hpa, SYNC_PERIOD_ANNOTATION)
        .map(|s| Duration::from_secs_f64(s.max(0.01)))
        .unwrap_or(SYNC_PERIOD)
}

/// The scalable kind a scaleTargetRef names.
fn target_res(api_version: &str, kind: &str) -> Result<&'static ResourceDef, String> {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    match resources::by_kind(api_version, kind) {
        Some(r) if r.has_subresource("scale") => Ok(r),
        _ => Err(format!(
            "no matches for kind \"{kind}\" in group \"{group}\""
        )),
    }
}

/// The status conditions being built, in kube's order of first setting.
struct Conditions {
    list: Vec<Value>,
    now: String,
}

impl Conditions {
    fn set(&mut self, type_: &str, (status, reason, message): Cond) {
        let now = self.now.clone();
        match self
            .list
            .iter_mut()
            .find(|c| c["type"].as_str() == Some(type_))
        {
            Some(c) => {
                if c["status"].as_str() != Some(status) {
                    c["lastTransitionTime"] = json!(now);
                }
                c["status"] = json!(status);
                c["reason"] = json!(reason);
                c["message"] = json!(message);
            }
            None => self.list.push(json!({
                "type": type_, "status": status, "lastTransitionTime": now,
                "reason": reason, "message": message,
            })),
        }
    }
}

fn quantity(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => kubedeck_kube::quantity::parse_quantity(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// A value as the HPA status prints it: CPU in millicores, others as
/// integers of their base unit (kube's milli-quantities).
fn format_value(resource: &str, v: f64) -> String {
    if resource == "cpu" {
        format!("{}m", (v * 1000.0) as i64)
    } else {
        format!("{}", v as i64)
    }
}

/// One metric's outcome: a proposal, its description and its status entry,
/// or the condition and error that explain why there is none.
type MetricOutcome = Result<(i64, String, Value), (Cond, String, String)>;

/// A pod's sample for `resource` (in `container`, or all containers).
fn sample_for(
    p: &PodUsage,
    resource: &str,
    container: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Sample, String> {
    let pod = &p.pod;
    let name = meta_str(pod, "name");
    let mut request = 0.0;
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        let cname = c["name"].as_str().unwrap_or_default();
        if container.is_some_and(|want| want != cname) {
            continue;
        }
        let r = quantity(&c["resources"]["requests"][resource])
            .or_else(|| quantity(&c["resources"]["limits"][resource]))
            .ok_or_else(|| {
                format!("missing request for {resource} in container {cname} of Pod {name}")
            })?;
        request += r;
    }
    let usage = p.running.then(|| {
        p.containers
            .iter()
            .filter(|c| container.is_none_or(|want| want == c.name))
            .map(|c| if resource == "cpu" { c.cpu } else { c.memory })
            .sum::<f64>()
    });
    let usage = usage.filter(|_| !p.containers.is_empty());
    let state = if is_terminating(pod) || phase(pod) == "Failed" {
        SampleState::Ignored
    } else if phase(pod) == "Pending" {
        SampleState::Unready
    } else if usage.is_none() {
        SampleState::Missing
    } else if resource == "cpu" && cpu_unready(pod, now) {
        SampleState::Unready
    } else {
        SampleState::Ready
    };
    Ok(Sample {
        state,
        usage,
        request,
    })
}

/// groupPods' CPU rule: a sample counts once the pod is Ready and its
/// metric window postdates readiness (during the initialization period),
/// or unless it has never been Ready (after it).
fn cpu_unready(pod: &Value, now: DateTime<Utc>) -> bool {
    let cond = pod["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"].as_str() == Some("Ready")));
    let start = pod["status"]["startTime"].as_str().and_then(parse_time);
    let (Some(cond), Some(start)) = (cond, start) else {
        return true;
    };
    let ready = cond["status"].as_str() == Some("True");
    let transition = cond["lastTransitionTime"]
        .as_str()
        .and_then(parse_time)
        .unwrap_or(start);
    if start + chrono::Duration::seconds(CPU_INITIALIZATION_SECONDS) > now {
        !ready || now < transition + chrono::Duration::seconds(METRIC_WINDOW_SECONDS)
    } else {
        !ready && start + chrono::Duration::seconds(INITIAL_READINESS_DELAY_SECONDS) > transition
    }
}

fn resource_metric(
    source: &Value,
    container: Option<&str>,
    pods: &[&PodUsage],
    current: i64,
    now: DateTime<Utc>,
) -> MetricOutcome {
    let resource = source["name"].as_str().unwrap_or_default();
    let fail = |err: String| {
        let cond = (
            "False",
            "FailedGetResourceMetric",
            format!("the HPA was unable to compute the replica count: {err}"),
        );
        let what = if container.is_some() {
            "container "
        } else {
            ""
        };
        (
            cond,
            err.clone(),
            format!("failed to get {resource} {what}utilization: {err}"),
        )
    };
    if resource != "cpu" && resource != "memory" {
        return Err(fail(format!(
            "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        )));
    }
    let target_spec = &source["target"];
    let target = if let Some(v) = quantity(&target_spec["averageValue"]) {
        MetricTarget::AverageValue(v)
    } else if let Some(u) = target_spec["averageUtilization"].as_f64() {
        MetricTarget::Utilization(u)
    } else {
        let err = "invalid resource metric source: neither a utilization target nor a value target was set".to_string();
        return Err((
            (
                "False",
                "FailedGetResourceMetric",
                format!("the HPA was unable to compute the replica count: {err}"),
            ),
            err.clone(),
            err,
        ));
    };
    let mut samples = Vec::with_capacity(pods.len());
    for p in pods {
        samples.push(sample_for(p, resource, container, now).map_err(&fail)?);
    }
    if samples.iter().all(|s| s.usage.is_none()) {
        return Err(fail(format!(
            "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        )));
    }
    if pods.is_empty() {
        return Err(fail(
            "no pods returned by selector while calculating replica count".into(),
        ));
    }
    let calc = calculate(current, target, &samples).map_err(fail)?;
    let mut current_status = json!({"averageValue": format_value(resource, calc.average)});
    if let Some(u) = calc.utilization {
        current_status["averageUtilization"] = json!(u);
    }
    let (type_, key) = match container {
        Some(_) => ("ContainerResource", "containerResource"),
        None => ("Resource", "resource"),
    };
    let mut body = json!({"name": resource, "current": current_status});
    if let Some(c) = container {
        body["container"] = json!(c);
    }
    let description = match (target, container) {
        (MetricTarget::Utilization(_), None) => {
            format!("{resource} resource utilization (percentage of request)")
        }
        (MetricTarget::Utilization(_), Some(_)) => {
            format!("{resource} container resource utilization (percentage of request)")
        }
        (MetricTarget::AverageValue(_), None) => format!("{resource} resource"),
        (MetricTarget::AverageValue(_), Some(_)) => format!("{resource} container resource"),
    };
    Ok((
        calc.replicas,
        description,
        json!({"type": type_, key: body}),
    ))
}

/// The custom and external metrics APIs are not served by the simulator.
fn unavailable_metric(kind: &str, source: &Value) -> MetricOutcome {
    let name = source["metric"]["name"].as_str().unwrap_or_default();
    let (reason, err) = match kind {
        "Pods" => (
            "FailedGetPodsMetric",
            format!(
                "unable to get metric {name}: no custom metrics API (custom.metrics.k8s.io) registered"
            ),
        ),
        "Object" => (
            "FailedGetObjectMetric",
            format!(
                "unable to get metric {name}: no custom metrics API (custom.metrics.k8s.io) registered"
            ),
        ),
        "External" => (
            "FailedGetExternalMetric",
            format!(
                "unable to get external metric {name}: no external metrics API (external.metrics.k8s.io) registered"
            ),
        ),
        other => (
            "InvalidMetricSourceType",
            format!("unknown metric source type \"{other}\""),
        ),
    };
    let wrapped = match kind {
        "Pods" => format!("failed to get pods metric value: {err}"),
        "Object" => format!("failed to get object metric value: {err}"),
        _ => err.clone(),
    };
    Err((
        (
            "False",
            reason,
            format!("the HPA was unable to compute the replica count: {err}"),
        ),
        err,
        wrapped,
    ))
}

struct Spec {
    min: i64,
    max: i64,
    metrics: Vec<Value>,
    up: Rules,
    down: Rules,
}

fn parse_spec(hpa: &Value) -> Spec {
    let spec = &hpa["spec"];
    let scale = window_scale(hpa);
    let metrics = match spec["metrics"].as_array() {
        Some(m) if !m.is_empty() => m.clone(),
        // The API server's default: 80% CPU.
        _ => vec![json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 80}}})],
    };
    Spec {
        min: spec["minReplicas"].as_i64().unwrap_or(1),
        max: spec["maxReplicas"].as_i64().unwrap_or(1),
        metrics,
        up: rules_from(&spec["behavior"]["scaleUp"], default_scale_up(), scale),
        down: rules_from(&spec["behavior"]["scaleDown"], default_scale_down(), scale),
    }
}

impl HpaController {
    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<ObjKey, Memory>> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One sync of an HPA at `now`; returns when to sync it again.
    pub fn reconcile_at(&self, ctx: &Ctx, key: &ObjKey, now: DateTime<Utc>) -> Option<Duration> {
        let (ns, name) = (key.0.as_str(), key.1.as_str());
        let Some(hpa) = ctx.store.get(&resources::HPAS, ns, name) else {
            self.memory().remove(key);
            return None;
        };
        let period = sync_period(&hpa);
        let spec = parse_spec(&hpa);
        let old_status = hpa["status"].clone();
        let mut conds = Conditions {
            list: old_status["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            now: fmt_time(now),
        };
        let mut status = json!({
            "currentReplicas": old_status["currentReplicas"].as_i64().unwrap_or(0),
            "desiredReplicas": old_status["desiredReplicas"].as_i64().unwrap_or(0),
        });
        if !old_status["lastScaleTime"].is_null() {
            status["lastScaleTime"] = old_status["lastScaleTime"].clone();
        }
        if !old_status["currentMetrics"].is_null() {
            status["currentMetrics"] = old_status["currentMetrics"].clone();
        }

        let target_ref = &hpa["spec"]["scaleTargetRef"];
        let tkind = target_ref["kind"].as_str().unwrap_or_default();
        let tname = target_ref["name"].as_str().unwrap_or_default();
        let target = target_res(target_ref["apiVersion"].as_str().unwrap_or_default(), tkind)
            .and_then(|res| {
                ctx.store
                    .get(res, ns, tname)
                    .map(|t| (res, t))
                    .ok_or_else(|| ApiError::not_found(res, tname).message)
            });
        let (res, target) = match target {
            Ok(t) => t,
            Err(err) => {
                ctx.recorder
                    .record(&hpa, events::WARNING, "FailedGetScale", &err, COMPONENT);
                conds.set(
                    "AbleToScale",
                    (
                        "False",
                        "FailedGetScale",
                        format!(
                            "the HPA controller was unable to get the target's current scale: {err}"
                        ),
                    ),
                );
                self.write_status(ctx, &hpa, status, conds);
                return Some(period);
            }
        };
        conds.set(
            "AbleToScale",
            (
                "True",
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale".into(),
            ),
        );
        let current = target["spec"]["replicas"].as_i64().unwrap_or(1);
        let uid = meta_str(&hpa, "uid").to_string();
        {
            let mut mem = self.memory();
            let m = mem.entry(key.clone()).or_default();
            if m.uid != uid {
                *m = Memory {
                    uid,
                    ..Memory::default()
                };
            }
            if m.recommendations.is_empty() {
                m.recommendations.push((current, now));
            }
        }

        let mut desired;
        let mut reason = String::new();
        let mut rescale = true;
        if current == 0 && spec.min != 0 {
            desired = 0;
            rescale = false;
            conds.set(
                "ScalingActive",
                (
                    "False",
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero".into(),
                ),
            );
        } else if current > spec.max {
            reason = "Current number of replicas above Spec.MaxReplicas".into();
            desired = spec.max;
        } else if current < spec.min {
            reason = "Current number of replicas below Spec.MinReplicas".into();
            desired = spec.min;
        } else {
            let Some(selector) = workload_selector(&target) else {
                ctx.recorder.record(
                    &hpa,
                    events::WARNING,
                    "SelectorRequired",
                    "selector is required",
                    COMPONENT,
                );
                conds.set(
                    "ScalingActive",
                    (
                        "False",
                        "InvalidSelector",
                        "the HPA target's scale is missing a selector".into(),
                    ),
                );
                status["currentReplicas"] = json!(current);
                self.write_status(ctx, &hpa, status, conds);
                return Some(period);
            };
            let snap = snapshot(ctx, Some(ns), now);
            let pods: Vec<&PodUsage> = snap
                .pods
                .iter()
                .filter(|p| selector.matches(&p.pod["metadata"]["labels"]))
                .collect();
            let mut best: Option<(i64, String)> = None;
            let mut statuses = Vec::new();
            let mut first_error: Option<(Cond, String)> = None;
            let mut invalid = 0;
            for m in &spec.metrics {
                let kind = m["type"].as_str().unwrap_or_default();
                let outcome = match kind {
                    "Resource" => resource_metric(&m["resource"], None, &pods, current, now),
                    "ContainerResource" => {
                        let src = &m["containerResource"];
                        resource_metric(src, src["container"].as_str(), &pods, current, now)
                    }
                    "Pods" => unavailable_metric(kind, &m["pods"]),
                    "Object" => unavailable_metric(kind, &m["object"]),
                    "External" => unavailable_metric(kind, &m["external"]),
                    other => unavailable_metric(other, &Value::Null),
                };
                match outcome {
                    Ok((replicas, description, st)) => {
                        statuses.push(st);
                        if best.as_ref().is_none_or(|(b, _)| replicas > *b) {
                            best = Some((replicas, description));
                        }
                    }
                    Err((cond, event_msg, wrapped)) => {
                        statuses.push(json!({"type": ""}));
                        ctx.recorder
                            .record(&hpa, events::WARNING, cond.1, &event_msg, COMPONENT);
                        invalid += 1;
                        if first_error.is_none() {
                            first_error = Some((cond, wrapped));
                        }
                    }
                }
            }
            status["currentMetrics"] = json!(statuses);
            let Some((proposal, metric)) = best else {
                let (cond, err) = first_error.unwrap_or((
                    (
                        "False",
                        "FailedGetResourceMetric",
                        "the HPA was unable to compute the replica count".into(),
                    ),
                    String::new(),
                ));
                conds.set("ScalingActive", cond);
                status["currentReplicas"] = json!(current);
                let msg = format!(
                    "invalid metrics ({invalid} invalid out of {}), first error is: {err}",
                    spec.metrics.len()
                );
                ctx.recorder.record(
                    &hpa,
                    events::WARNING,
                    "FailedComputeMetricsReplicas",
                    &msg,
                    COMPONENT,
                );
                self.write_status(ctx, &hpa, status, conds);
                return Some(period);
            };
            conds.set(
                "ScalingActive",
                (
                    "True",
                    "ValidMetricFound",
                    format!(
                        "the HPA was able to successfully calculate a replica count from {metric}"
                    ),
                ),
            );
            desired = proposal;
            if desired > current {
                reason = format!("{metric} above target");
            } else if desired < current {
                reason = "All metrics below target".into();
            }
            let normalized = {
                let mut mem = self.memory();
                let m = mem.entry(key.clone()).or_default();
                m.normalize(
                    &spec.up,
                    &spec.down,
                    (spec.min, spec.max),
                    current,
                    desired,
                    now,
                )
            };
            conds.set("AbleToScale", normalized.able_to_scale);
            conds.set("ScalingLimited", normalized.scaling_limited);
            desired = normalized.desired;
            rescale = desired != current;
        }

        if rescale {
            let written = ctx.store.modify(res, ns, tname, |t| {
                t["spec"]["replicas"] = json!(desired);
            });
            match written {
                Ok(Some(_)) => {
                    conds.set("AbleToScale", ("True", "SucceededRescale", format!("the HPA controller was able to update the target scale to {desired}")));
                    ctx.recorder.record(
                        &hpa,
                        events::NORMAL,
                        "SuccessfulRescale",
                        &format!("New size: {desired}; reason: {reason}"),
                        COMPONENT,
                    );
                    self.memory()
                        .entry(key.clone())
                        .or_default()
                        .record_scale(&spec.up, &spec.down, current, desired, now);
                    status["lastScaleTime"] = json!(fmt_time(now));
                }
                failed => {
                    let err = match failed {
                        Err(e) => e.message,
                        _ => format!("{} \"{tname}\" not found", res.plural),
                    };
                    ctx.recorder.record(
                        &hpa,
                        events::WARNING,
                        "FailedRescale",
                        &format!("New size: {desired}; reason: {reason}; error: {err}"),
                        COMPONENT,
                    );
                    conds.set(
                        "AbleToScale",
                        (
                            "False",
                            "FailedUpdateScale",
                            format!(
                                "the HPA controller was unable to update the target scale: {err}"
                            ),
                        ),
                    );
                    status["currentReplicas"] = json!(current);
                    self.write_status(ctx, &hpa, status, conds);
                    return Some(period);
                }
            }
        } else {
            desired = current;
        }
        status["currentReplicas"] = json!(current);
        status["desiredReplicas"] = json!(desired);
        self.write_status(ctx, &hpa, status, conds);
        Some(period)
    }

    fn write_status(&self, ctx: &Ctx, hpa: &Value, mut status: Value, conds: Conditions) {
        status["conditions"] = json!(conds.list);
        if let Some(g) = hpa["metadata"]["generation"].as_i64() {
            status["observedGeneration"] = json!(g);
        }
        let (ns, name) = (meta_str(hpa, "namespace"), meta_str(hpa, "name"));
        if let Err(e) = ctx
            .store
            .modify(&resources::HPAS, ns, name, |h| h["status"] = status)
        {
            tracing::debug!("hpa {ns}/{name}: status not written: {e}");
        }
    }
}

impl Controller for HpaController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::HPAS
    }

    /// Syncs on creation, deletion and spec changes; otherwise on its own
    /// period (status writes must not make it sync faster).
    fn keys_for(&self, _ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if !std::ptr::eq(change.res, &resources::HPAS) {
            return Vec::new();
        }
        let spec_changed = change.old.as_ref().is_none_or(|old| {
            old["metadata"]["generation"] != change.object["metadata"]["generation"]
                || old["metadata"]["annotations"] != change.object["metadata"]["annotations"]
        });
        if change.kind != ChangeType::Modified || spec_changed {
            vec![obj_key(&change.object)]
        } else {
            Vec::new()
        }
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        self.reconcile_at(ctx, key, Utc::now())
    }
}

/// Records when an unstamped `spike` load profile was set, by appending
/// `at <time>` to the annotation, so every reader of the model agrees on
/// the spike's start (see `sim::metrics`).
struct LoadStamper {
    res: &'static ResourceDef,
}

impl Controller for LoadStamper {
    fn name(&self) -> &'static str {
        "kubedeck-load-stamper"
    }

    fn primary(&self) -> &'static ResourceDef {
        self.res
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        use crate::metrics::load::{LOAD_ANNOTATION, parse_profile};
        let obj = ctx.store.get(self.res, &key.0, &key.1)?;
        let raw = obj["metadata"]["annotations"][LOAD_ANNOTATION].as_str()?;
        let stamped = parse_profile(raw).ok()?.stamped(raw, Utc::now())?;
        let written = ctx.store.modify(self.res, &key.0, &key.1, |o| {
            // Only if nobody changed it meanwhile.
            if o["metadata"]["annotations"][LOAD_ANNOTATION].as_str() == Some(raw) {
                o["metadata"]["annotations"][LOAD_ANNOTATION] = json!(stamped);
            }
        });
        if let Err(e) = written {
            tracing::debug!("load annotation of {}/{} not stamped: {e}", key.0, key.1);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::usage::tests::{ctx, deployment, pod, t0};

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

    fn at(secs: i64) -> DateTime<Utc> {
        t0() + chrono::Duration::seconds(secs)
    }

    #[test]
    fn bounds_and_default_scale_up_policies() {
        let (up, down) = (default_scale_up(), default_scale_down());
        let mut m = Memory::default();
        // From 2, the faster of +4 pods and +100% is 6.
        let n = m.normalize(&up, &down, (1, 20), 2, 15, at(0));
        assert_eq!(n.desired, 6);
        assert_eq!(n.scaling_limited.1, "ScaleUpLimit");
        assert_eq!(n.scaling_limited.0, "True");
        m.record_scale(&up, &down, 2, 6, at(0));
        // Within the same 15 s period nothing more is allowed.
        assert_eq!(m.normalize(&up, &down, (1, 20), 6, 15, at(5)).desired, 6);
        // Next period: 6 + max(4, 100%) = 12, and maxReplicas caps the rest.
        let n = m.normalize(&up, &down, (1, 10), 6, 15, at(16));
        assert_eq!(n.desired, 10);
        assert_eq!(n.scaling_limited.1, "TooManyReplicas");
        let mut m = Memory::default();
        let n = m.normalize(&up, &down, (3, 10), 4, 1, at(0));
        assert_eq!(n.desired, 3);
        assert_eq!(n.scaling_limited.1, "TooFewReplicas");
        let n = Memory::default().normalize(&up, &down, (1, 10), 4, 4, at(0));
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
                .normalize(&min, &down, (1, 100), 10, 40, at(0))
                .desired,
            12
        );
        assert_eq!(
            Memory::default()
                .normalize(&max, &down, (1, 100), 10, 40, at(0))
                .desired,
            15
        );
        let mut disabled = min.clone();
        disabled.select = Select::Disabled;
        assert_eq!(
            Memory::default()
                .normalize(&disabled, &down, (1, 100), 10, 40, at(0))
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
                .normalize(&up, &no_window, (1, 100), 10, 1, at(0))
                .desired,
            8
        );
        let max_down = Rules {
            select: Select::Max,
            ..no_window
        };
        assert_eq!(
            Memory::default()
                .normalize(&up, &max_down, (1, 100), 10, 1, at(0))
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
        assert_eq!(m.normalize(&up, &down, (1, 20), 8, 8, at(0)).desired, 8);
        assert_eq!(m.normalize(&up, &down, (1, 20), 8, 6, at(60)).desired, 8);
        let n = m.normalize(&up, &down, (1, 20), 8, 3, at(120));
        assert_eq!(n.desired, 8);
        assert_eq!(n.able_to_scale.1, "ScaleDownStabilized");
        // 8 is out of the 300 s window; 6 (at 60 s) is the highest left.
        assert_eq!(m.normalize(&up, &down, (1, 20), 8, 3, at(301)).desired, 6);
        // And once that too is older than the window, the low one wins.
        assert_eq!(m.normalize(&up, &down, (1, 20), 6, 3, at(421)).desired, 3);
    }

    fn hpa_status(ctx: &Ctx) -> Value {
        ctx.store.get(&resources::HPAS, "demo", "web").unwrap()["status"].clone()
    }

    fn replicas(ctx: &Ctx) -> i64 {
        ctx.store
            .get(&resources::DEPLOYMENTS, "demo", "web")
            .unwrap()["spec"]["replicas"]
            .as_i64()
            .unwrap()
    }

    /// Plays the ReplicaSet controller: one Ready pod per replica.
    fn sync_pods(ctx: &Ctx) {
        let want = replicas(ctx) as usize;
        let have = ctx.store.list(&resources::PODS, Some("demo")).len();
        for i in have..want {
            pod(
                ctx,
                "web",
                i,
                Some(t0() - chrono::Duration::minutes(5)),
                "app:1",
            );
        }
        for i in want..have {
            ctx.store
                .remove(&resources::PODS, "demo", &format!("web-{i}"));
        }
    }

    fn set_load(ctx: &Ctx, load: &str) {
        ctx.store
            .modify(&resources::DEPLOYMENTS, "demo", "web", |d| {
                d["metadata"]["annotations"]["kubedeck.io/load"] = json!(load);
            })
            .unwrap();
    }

    fn condition(status: &Value, type_: &str) -> (String, String, String) {
        let c = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap();
        (
            c["status"].as_str().unwrap().into(),
            c["reason"].as_str().unwrap().into(),
            c["message"].as_str().unwrap().into(),
        )
    }

    #[test]
    fn end_to_end_scales_up_with_load_and_down_after_the_window() {
        let ctx = ctx();
        deployment(&ctx, "web", 2, "steady 40rps");
        sync_pods(&ctx);
        ctx.store
            .create(
                &resources::HPAS,
                json!({"metadata": {"name": "web", "namespace": "demo",
                        "annotations": {STABILIZATION_SCALE_ANNOTATION: "0.02"}},
                    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                        "minReplicas": 2, "maxReplicas": 10,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50}}}]}}),
            )
            .unwrap();
        let hpa = HpaController::default();
        let key = ("demo".to_string(), "web".to_string());
        // 20 rps per pod ≈ 23% of 100m: one pod would do, but the first
        // sync's recommendation is the current count, as in kube.
        assert_eq!(hpa.reconcile_at(&ctx, &key, at(0)), Some(SYNC_PERIOD));
        assert_eq!(replicas(&ctx), 2);
        assert_eq!(
            condition(&hpa_status(&ctx), "AbleToScale").1,
            "ScaleDownStabilized"
        );
        let st = hpa_status(&ctx);
        assert_eq!(st["currentReplicas"], 2);
        assert_eq!(st["desiredReplicas"], 2);
        let util = st["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
            .as_i64()
            .unwrap();
        assert!((15..=32).contains(&util), "{util}");
        assert_eq!(
            condition(&st, "ScalingActive"),
            ("True".into(), "ValidMetricFound".into(),
             "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)".into())
        );

        // A traffic jump: scale up, at most +4 / +100% per (scaled) period.
        set_load(&ctx, "steady 1000rps");
        hpa.reconcile_at(&ctx, &key, at(15));
        assert_eq!(replicas(&ctx), 6);
        let st = hpa_status(&ctx);
        assert_eq!(condition(&st, "AbleToScale").1, "SucceededRescale");
        assert_eq!(condition(&st, "ScalingLimited").1, "ScaleUpLimit");
        assert_eq!(st["lastScaleTime"], fmt_time(at(15)));
        let events = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(events.iter().any(|e| e["reason"] == "SuccessfulRescale"
            && e["message"] == "New size: 6; reason: cpu resource utilization (percentage of request) above target"));
        sync_pods(&ctx);
        hpa.reconcile_at(&ctx, &key, at(30));
        assert_eq!(replicas(&ctx), 10);
        assert_eq!(
            condition(&hpa_status(&ctx), "ScalingLimited").1,
            "TooManyReplicas"
        );
        sync_pods(&ctx);

        // The load drops: the 6 s (scaled) window holds the count first.
        set_load(&ctx, "steady 100rps");
        hpa.reconcile_at(&ctx, &key, at(32));
        assert_eq!(replicas(&ctx), 10);
        assert_eq!(
            condition(&hpa_status(&ctx), "AbleToScale").1,
            "ScaleDownStabilized"
        );
        hpa.reconcile_at(&ctx, &key, at(40));
        let after = replicas(&ctx);
        assert!((2..10).contains(&after), "{after}");
        let events = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(events.iter().any(
            |e| e["message"] == format!("New size: {after}; reason: All metrics below target")
        ));
    }

    #[test]
    fn missing_targets_and_requests_are_reported_with_kubes_messages() {
        let ctx = ctx();
        ctx.store
            .create(
                &resources::HPAS,
                json!({"metadata": {"name": "web", "namespace": "demo"},
                    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                        "maxReplicas": 5}}),
            )
            .unwrap();
        let hpa = HpaController::default();
        let key = ("demo".to_string(), "web".to_string());
        hpa.reconcile_at(&ctx, &key, at(0));
        assert_eq!(
            condition(&hpa_status(&ctx), "AbleToScale"),
            ("False".into(), "FailedGetScale".into(),
             "the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found".into())
        );
        deployment(&ctx, "web", 1, "steady 10rps");
        ctx.store
            .modify(&resources::DEPLOYMENTS, "demo", "web", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({});
            })
            .unwrap();
        ctx.store
            .modify(&resources::REPLICASETS, "demo", "web-rs", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({});
            })
            .unwrap();
        pod(
            &ctx,
            "web",
            0,
            Some(t0() - chrono::Duration::minutes(5)),
            "app:1",
        );
        hpa.reconcile_at(&ctx, &key, at(15));
        let st = hpa_status(&ctx);
        assert_eq!(
            condition(&st, "ScalingActive"),
            ("False".into(), "FailedGetResourceMetric".into(),
             "the HPA was unable to compute the replica count: missing request for cpu in container app of Pod web-0".into())
        );
        assert_eq!(st["currentMetrics"][0]["type"], "");
        let events = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(events.iter().any(|e| e["reason"] == "FailedComputeMetricsReplicas"
            && e["message"] == "invalid metrics (1 invalid out of 1), first error is: failed to get cpu utilization: missing request for cpu in container app of Pod web-0"));
        // Deleting the HPA forgets its history.
        ctx.store.remove(&resources::HPAS, "demo", "web");
        assert_eq!(hpa.reconcile_at(&ctx, &key, at(30)), None);
        assert!(hpa.memory().is_empty());
    }

    #[test]
    fn spikes_are_stamped_with_their_start() {
        let ctx = ctx();
        deployment(&ctx, "web", 1, "spike 10rps 500rps 5m");
        let stamper = LoadStamper {
            res: &resources::DEPLOYMENTS,
        };
        let key = ("demo".to_string(), "web".to_string());
        stamper.reconcile(&ctx, &key);
        let d = ctx
            .store
            .get(&resources::DEPLOYMENTS, "demo", "web")
            .unwrap();
        let v = d["metadata"]["annotations"]["kubedeck.io/load"]
            .as_str()
            .unwrap();
        assert!(v.starts_with("spike 10rps 500rps 5m at "), "{v}");
        // Stamped values are left alone.
        stamper.reconcile(&ctx, &key);
        let again = ctx
            .store
            .get(&resources::DEPLOYMENTS, "demo", "web")
            .unwrap();
        assert_eq!(
            again["metadata"]["resourceVersion"],
            d["metadata"]["resourceVersion"]
        );
    }
}
