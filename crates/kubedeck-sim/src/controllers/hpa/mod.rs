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
//!   `SimConfig::hpa_window_scale` (by default the environment variable
//!   `KUBEDECK_SIM_HPA_WINDOW_SCALE`) sets it for every HPA without the
//!   annotation.
//! - `sim.kubedeck.io/sync-period-seconds: "1"` on an HPA replaces kube's
//!   15-second sync period.

mod behavior;
mod replicas;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::workload_util::{is_terminating, phase, workload_selector};
use super::{Controller, Ctx};
use crate::error::ApiError;
use crate::events;
use crate::metrics::usage::{PodUsage, quantity, snapshot};
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, ObjKey, fmt_time, meta_str, obj_key, parse_time};
use behavior::{Cond, Memory, Rules, default_scale_down, default_scale_up, rules_from};
use replicas::{MetricTarget, Sample, SampleState, calculate};

pub(crate) const STABILIZATION_SCALE_ANNOTATION: &str = "sim.kubedeck.io/stabilization-scale";
pub(crate) const SYNC_PERIOD_ANNOTATION: &str = "sim.kubedeck.io/sync-period-seconds";

const COMPONENT: &str = "horizontal-pod-autoscaler";
/// kube-controller-manager's --horizontal-pod-autoscaler-sync-period.
const SYNC_PERIOD: Duration = Duration::from_secs(15);
/// --horizontal-pod-autoscaler-cpu-initialization-period.
const CPU_INITIALIZATION_SECONDS: i64 = 300;
/// --horizontal-pod-autoscaler-initial-readiness-delay.
const INITIAL_READINESS_DELAY_SECONDS: i64 = 30;
/// metrics-server's window: a sample must postdate readiness by this much.
const METRIC_WINDOW_SECONDS: i64 = 30;

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
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

#[derive(Default)]
pub(crate) struct HpaController {
    memory: Mutex<HashMap<ObjKey, Memory>>,
}

fn annotation_f64(obj: &Value, key: &str) -> Option<f64> {
    obj["metadata"]["annotations"][key]
        .as_str()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
}

fn window_scale(ctx: &Ctx, hpa: &Value) -> f64 {
    annotation_f64(hpa, STABILIZATION_SCALE_ANNOTATION)
        .or(ctx.config.hpa_window_scale)
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
    let target_spec = &source["target"];
    // kube's wrapping: the event says what could not be had ("failed to
    // get cpu utilization: …"), the condition adds that no replica count
    // came of it, and the first error names the metric it was for.
    let metric_value = |event: &str| match container {
        Some(c) => format!("failed to get {c} container metric value: {event}"),
        None => format!("failed to get {resource} resource metric value: {event}"),
    };
    let what = if quantity(&target_spec["averageValue"]).is_some() {
        "usage"
    } else {
        "utilization"
    };
    let fail = |err: String| {
        let event = format!("failed to get {resource} {what}: {err}");
        let cond = (
            "False",
            "FailedGetResourceMetric",
            format!("the HPA was unable to compute the replica count: {event}"),
        );
        (cond, event.clone(), metric_value(&event))
    };
    if resource != "cpu" && resource != "memory" {
        return Err(fail(format!(
            "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        )));
    }
    let target = if let Some(v) = quantity(&target_spec["averageValue"]) {
        MetricTarget::AverageValue(v)
    } else if let Some(u) = target_spec["averageUtilization"].as_f64() {
        MetricTarget::Utilization(u)
    } else {
        let err = "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set".to_string();
        return Err((
            (
                "False",
                "FailedGetResourceMetric",
                format!("the HPA was unable to compute the replica count: {err}"),
            ),
            err.clone(),
            metric_value(&err),
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

fn parse_spec(ctx: &Ctx, hpa: &Value) -> Spec {
    let spec = &hpa["spec"];
    let scale = window_scale(ctx, hpa);
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
    pub(crate) fn reconcile_at(
        &self,
        ctx: &Ctx,
        key: &ObjKey,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        let (ns, name) = (key.0.as_str(), key.1.as_str());
        let Some(hpa) = ctx.store.get(&resources::HPAS, ns, name) else {
            self.memory().remove(key);
            return None;
        };
        let period = sync_period(&hpa);
        let spec = parse_spec(ctx, &hpa);
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
                *m = Memory::new(uid);
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
    use crate::test_support::{deployment, ready_pod, t0_plus, test_ctx};

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
            ready_pod(ctx, "web", i);
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
        let ctx = test_ctx(&["demo"]);
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
        assert_eq!(hpa.reconcile_at(&ctx, &key, t0_plus(0)), Some(SYNC_PERIOD));
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
        hpa.reconcile_at(&ctx, &key, t0_plus(15));
        assert_eq!(replicas(&ctx), 6);
        let st = hpa_status(&ctx);
        assert_eq!(condition(&st, "AbleToScale").1, "SucceededRescale");
        assert_eq!(condition(&st, "ScalingLimited").1, "ScaleUpLimit");
        assert_eq!(st["lastScaleTime"], fmt_time(t0_plus(15)));
        let events = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(events.iter().any(|e| e["reason"] == "SuccessfulRescale"
            && e["message"] == "New size: 6; reason: cpu resource utilization (percentage of request) above target"));
        sync_pods(&ctx);
        hpa.reconcile_at(&ctx, &key, t0_plus(30));
        assert_eq!(replicas(&ctx), 10);
        assert_eq!(
            condition(&hpa_status(&ctx), "ScalingLimited").1,
            "TooManyReplicas"
        );
        sync_pods(&ctx);

        // The load drops: the 6 s (scaled) window holds the count first.
        set_load(&ctx, "steady 100rps");
        hpa.reconcile_at(&ctx, &key, t0_plus(32));
        assert_eq!(replicas(&ctx), 10);
        assert_eq!(
            condition(&hpa_status(&ctx), "AbleToScale").1,
            "ScaleDownStabilized"
        );
        hpa.reconcile_at(&ctx, &key, t0_plus(40));
        let after = replicas(&ctx);
        assert!((2..10).contains(&after), "{after}");
        let events = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(events.iter().any(
            |e| e["message"] == format!("New size: {after}; reason: All metrics below target")
        ));
    }

    #[test]
    fn missing_targets_and_requests_are_reported_with_kubes_messages() {
        let ctx = test_ctx(&["demo"]);
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
        hpa.reconcile_at(&ctx, &key, t0_plus(0));
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
        ready_pod(&ctx, "web", 0);
        hpa.reconcile_at(&ctx, &key, t0_plus(15));
        let st = hpa_status(&ctx);
        assert_eq!(
            condition(&st, "ScalingActive"),
            ("False".into(), "FailedGetResourceMetric".into(),
             "the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container app of Pod web-0".into())
        );
        assert_eq!(st["currentMetrics"][0]["type"], "");
        let events = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(events.iter().any(|e| e["reason"] == "FailedComputeMetricsReplicas"
            && e["message"] == "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: missing request for cpu in container app of Pod web-0"));
        // Deleting the HPA forgets its history.
        ctx.store.remove(&resources::HPAS, "demo", "web");
        assert_eq!(hpa.reconcile_at(&ctx, &key, t0_plus(30)), None);
        assert!(hpa.memory().is_empty());
    }

    #[test]
    fn spikes_are_stamped_with_their_start() {
        let ctx = test_ctx(&["demo"]);
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
