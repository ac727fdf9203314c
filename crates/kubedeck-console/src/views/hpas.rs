//! HorizontalPodAutoscalers: bounds, replicas, each metric against its
//! target, and in words why the HPA is or is not scaling.

use chrono::{DateTime, Utc};
use k8s_openapi::api::autoscaling::v2::{
    HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricTarget,
    MetricValueStatus,
};
use kube::runtime::reflector::ObjectRef;

use std::collections::BTreeSet;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, SortKey, Sources, TableView, age, age_secs, as_json,
    col, event_time, events_for, finish, pod_ok, selects, time, visible_object, workloads,
};
use crate::cluster::{Cache, Kind, SlimEvent, SlimPod};
use crate::theme::Role;

pub(crate) struct HpasView;

const COLUMNS: &[Column] = &[
    col("NAMESPACE", 9, false).keep(Keep::Whole).priority(2),
    col("NAME", 8, false).keep(Keep::End).priority(0),
    col("REFERENCE", 18, false).keep(Keep::End).priority(3),
    col("MIN", 3, true).keep(Keep::Whole).priority(5),
    col("CUR", 3, true).keep(Keep::Whole).priority(1),
    col("DES", 3, true).keep(Keep::Whole).priority(4),
    col("MAX", 3, true).keep(Keep::Whole).priority(1),
    col("METRICS", 22, false).keep(Keep::Text).priority(2),
    col("CONDITIONS", 16, false).keep(Keep::Head).priority(2),
    col("SCALED", 6, true).keep(Keep::Whole).priority(6),
];

/// The controller's default tolerance: no scaling within 10% of the target.
const TOLERANCE: f64 = 0.1;

/// One metric as the HPA sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metric {
    pub name: String,
    /// Current and target as numbers in the same unit, when both are known.
    pub current: Option<f64>,
    pub target: Option<f64>,
    /// "82%" or "300m"; "<unknown>" before the first reading.
    pub current_text: String,
    pub target_text: String,
    pub percent: bool,
}

impl Metric {
    pub(crate) fn summary(&self) -> String {
        format!("{} {}/{}", self.name, self.current_text, self.target_text)
    }
}

/// A Kubernetes quantity as a number, for comparing a value with its target.
fn quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * mult)
}

fn target_of(t: &MetricTarget) -> (Option<f64>, String, bool) {
    if let Some(u) = t.average_utilization {
        return (Some(f64::from(u)), format!("{u}%"), true);
    }
    let q = t.average_value.as_ref().or(t.value.as_ref());
    match q {
        Some(q) => (quantity(&q.0), q.0.clone(), false),
        None => (None, "<unset>".into(), false),
    }
}

fn current_of(c: &MetricValueStatus, percent: bool) -> (Option<f64>, String) {
    if percent && let Some(u) = c.average_utilization {
        return (Some(f64::from(u)), format!("{u}%"));
    }
    match c.average_value.as_ref().or(c.value.as_ref()) {
        Some(q) => (quantity(&q.0), q.0.clone()),
        None => (None, "<unknown>".into()),
    }
}

/// Each metric of the spec with its current reading from the status.
pub(crate) fn metrics(hpa: &HorizontalPodAutoscaler) -> Vec<Metric> {
    let current = hpa
        .status
        .as_ref()
        .and_then(|s| s.current_metrics.as_deref())
        .unwrap_or_default();
    let mut out = Vec::new();
    for m in hpa
        .spec
        .as_ref()
        .and_then(|s| s.metrics.as_deref())
        .unwrap_or_default()
    {
        let (name, target, reading) = if let Some(r) = &m.resource {
            let cur = current
                .iter()
                .find_map(|c| c.resource.as_ref().filter(|cr| cr.name == r.name))
                .map(|cr| &cr.current);
            (r.name.clone(), &r.target, cur)
        } else if let Some(r) = &m.container_resource {
            let cur = current
                .iter()
                .find_map(|c| {
                    c.container_resource
                        .as_ref()
                        .filter(|cr| cr.name == r.name && cr.container == r.container)
                })
                .map(|cr| &cr.current);
            (format!("{}/{}", r.container, r.name), &r.target, cur)
        } else if let Some(p) = &m.pods {
            let cur = current
                .iter()
                .find_map(|c| c.pods.as_ref().filter(|cp| cp.metric.name == p.metric.name))
                .map(|cp| &cp.current);
            (p.metric.name.clone(), &p.target, cur)
        } else if let Some(o) = &m.object {
            let cur = current
                .iter()
                .find_map(|c| {
                    c.object
                        .as_ref()
                        .filter(|co| co.metric.name == o.metric.name)
                })
                .map(|co| &co.current);
            (o.metric.name.clone(), &o.target, cur)
        } else if let Some(e) = &m.external {
            let cur = current
                .iter()
                .find_map(|c| {
                    c.external
                        .as_ref()
                        .filter(|ce| ce.metric.name == e.metric.name)
                })
                .map(|ce| &ce.current);
            (e.metric.name.clone(), &e.target, cur)
        } else {
            continue;
        };
        let (target, target_text, percent) = target_of(target);
        let (current, current_text) = match reading {
            Some(r) => current_of(r, percent),
            None => (None, "<unknown>".into()),
        };
        out.push(Metric {
            name,
            current,
            target,
            current_text,
            target_text,
            percent,
        });
    }
    out
}

fn condition<'a>(
    hpa: &'a HorizontalPodAutoscaler,
    type_: &str,
) -> Option<&'a HorizontalPodAutoscalerCondition> {
    hpa.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

fn min_max(hpa: &HorizontalPodAutoscaler) -> (i32, i32) {
    let spec = hpa.spec.as_ref();
    (
        spec.and_then(|s| s.min_replicas).unwrap_or(1),
        spec.map_or(0, |s| s.max_replicas),
    )
}

fn replicas(hpa: &HorizontalPodAutoscaler) -> (i32, i32) {
    let st = hpa.status.as_ref();
    (
        st.and_then(|s| s.current_replicas).unwrap_or(0),
        st.map_or(0, |s| s.desired_replicas),
    )
}

/// Whether the HPA sits at its maximum.
pub(crate) fn at_max(hpa: &HorizontalPodAutoscaler) -> bool {
    let (_, max) = min_max(hpa);
    let (current, _) = replicas(hpa);
    max > 0 && current >= max
}

/// The conditions that say something: any that is not in its healthy state.
pub(crate) fn conditions_summary(hpa: &HorizontalPodAutoscaler) -> (String, Role) {
    let rank = |r: Role| match r {
        Role::Danger => 3,
        Role::Warning => 2,
        Role::Text => 1,
        _ => 0,
    };
    let mut parts = Vec::new();
    let mut role = Role::Ok;
    for (type_, healthy) in [
        ("AbleToScale", "True"),
        ("ScalingActive", "True"),
        ("ScalingLimited", "False"),
    ] {
        if let Some(c) = condition(hpa, type_)
            && c.status != healthy
        {
            // The reason alone names the condition well enough in a cell.
            parts.push(c.reason.clone().unwrap_or_else(|| type_.to_string()));
            let severity = match (type_, c.reason.as_deref()) {
                // Resting at minReplicas is where an idle HPA belongs:
                // Kubernetes' normal state, not a warning.
                ("ScalingLimited", Some("TooFewReplicas")) => Role::Text,
                ("ScalingLimited", _) => Role::Warning,
                _ => Role::Danger,
            };
            if rank(severity) > rank(role) {
                role = severity;
            }
        }
    }
    if parts.is_empty() {
        ("ok".into(), Role::Ok)
    } else {
        (parts.join(" "), role)
    }
}

/// The scale target's pods as the HPA's metrics see them: a resource
/// metric comes only from Ready pods, so when none are Ready this is why
/// there are no metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetPods {
    pub total: usize,
    pub ready: usize,
    /// What keeps the others down: "containers crash-looping (OOMKilled)".
    pub trouble: Option<String>,
}

impl TargetPods {
    fn of<'a>(pods: impl IntoIterator<Item = &'a SlimPod>) -> TargetPods {
        let mut out = TargetPods {
            total: 0,
            ready: 0,
            trouble: None,
        };
        let mut crashing = false;
        let mut causes = BTreeSet::new();
        let mut waiting = BTreeSet::new();
        for p in pods {
            out.total += 1;
            if pod_ok(p) {
                out.ready += 1;
                continue;
            }
            for cs in p
                .status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
            {
                let state = cs.state.as_ref();
                let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
                match (
                    state.and_then(|s| s.waiting.as_ref()),
                    state.and_then(|s| s.terminated.as_ref()),
                ) {
                    (Some(w), _) if w.reason.as_deref() == Some("CrashLoopBackOff") => {
                        crashing = true;
                        causes.extend(last.and_then(|t| t.reason.clone()));
                    }
                    (Some(w), _) => waiting.extend(w.reason.clone()),
                    (None, Some(t)) if t.exit_code != 0 => {
                        crashing = true;
                        causes.extend(t.reason.clone());
                    }
                    _ => {}
                }
            }
        }
        let mut trouble = Vec::new();
        if crashing {
            let causes: Vec<String> = causes.into_iter().collect();
            trouble.push(if causes.is_empty() {
                "containers crash-looping".to_string()
            } else {
                format!("containers crash-looping ({})", causes.join(", "))
            });
        }
        trouble.extend(waiting);
        out.trouble = (!trouble.is_empty()).then(|| trouble.join(", "));
        out
    }
}

/// The pods of the HPA's scale target, when the target is in the cache.
pub(crate) fn target_pods(cache: &Cache, hpa: &HorizontalPodAutoscaler) -> Option<TargetPods> {
    let ns = hpa.metadata.namespace.as_deref()?;
    let r = &hpa.spec.as_ref()?.scale_target_ref;
    let w = workloads::get(cache, &(ns.to_string(), format!("{}/{}", r.kind, r.name)))?;
    let pods = cache.pods.state();
    Some(TargetPods::of(pods.iter().map(|p| &**p).filter(|p| {
        p.metadata.namespace.as_deref() == Some(ns)
            && p.metadata.deletion_timestamp.is_none()
            && selects(&w.match_labels, p.metadata.labels.as_ref())
    })))
}

fn rules_window(rules: Option<&HPAScalingRules>, default: i32) -> i32 {
    rules
        .and_then(|r| r.stabilization_window_seconds)
        .unwrap_or(default)
}

/// Why the HPA is or is not scaling, in words, from its status, conditions,
/// behavior and recent events (newest first).
pub(crate) fn explain(
    hpa: &HorizontalPodAutoscaler,
    events: &[SlimEvent],
    pods: Option<&TargetPods>,
) -> Vec<String> {
    let mut out = Vec::new();
    let (min, max) = min_max(hpa);
    let (current, desired) = replicas(hpa);
    let metrics = metrics(hpa);
    let behavior = hpa.spec.as_ref().and_then(|s| s.behavior.as_ref());
    let readings = |above: bool| -> Vec<String> {
        metrics
            .iter()
            .filter_map(|m| {
                let (c, t) = (m.current?, m.target?);
                let word = if above { c > t } else { c < t };
                word.then(|| {
                    format!(
                        "{} {} is {} target {}",
                        m.name,
                        m.current_text,
                        if above { "above" } else { "below" },
                        m.target_text
                    )
                })
            })
            .collect()
    };

    if let Some(c) = condition(hpa, "AbleToScale")
        && c.status == "False"
    {
        out.push(format!(
            "cannot scale: {} {}",
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        ));
    }
    let active = condition(hpa, "ScalingActive");
    let unread = !metrics.is_empty() && metrics.iter().all(|m| m.current.is_none());
    // Unready pods give no metrics; saying which and why beats the
    // controller's generic "no metrics returned".
    let unready = pods.filter(|p| unread && p.ready < p.total);
    if let Some(p) = unready {
        out.push(format!(
            "no metrics: {} of {} pods Ready{}",
            p.ready,
            p.total,
            p.trouble
                .as_ref()
                .map_or_else(String::new, |t| format!("; {t}"))
        ));
    }
    if let Some(c) = active
        && c.status == "False"
    {
        let detail = c.message.as_deref().unwrap_or("");
        out.push(
            format!(
                "{} {} {}",
                if unready.is_some() {
                    "the HPA says:"
                } else {
                    "no metrics:"
                },
                c.reason.as_deref().unwrap_or(""),
                detail
            )
            .trim_end()
            .to_string(),
        );
    } else if unread && unready.is_none() {
        let failed = events
            .iter()
            .find(|e| e.type_.as_deref() == Some("Warning"))
            .and_then(|e| e.reason.clone());
        out.push(match failed {
            Some(r) => format!("no metrics yet: {r}"),
            None => "no metrics reported yet".into(),
        });
    }

    // A limit reached before the pods went down says nothing about now.
    if let Some(c) = condition(hpa, "ScalingLimited")
        && c.status == "True"
        && unready.is_none()
    {
        let reason = c.reason.as_deref().unwrap_or("");
        match reason {
            "TooManyReplicas" => {
                let why = readings(true);
                out.push(if why.is_empty() {
                    format!("at max ({max}): ScalingLimited TooManyReplicas")
                } else {
                    format!(
                        "at max ({max}): ScalingLimited TooManyReplicas — {} but maxReplicas stops it",
                        why.join(", ")
                    )
                });
            }
            "TooFewReplicas" => {
                let why = readings(false);
                out.push(if why.is_empty() {
                    format!("at min ({min}): ScalingLimited TooFewReplicas")
                } else {
                    format!(
                        "at min ({min}): ScalingLimited TooFewReplicas — {} but minReplicas stops it",
                        why.join(", ")
                    )
                });
            }
            "ScaleUpLimit" | "ScaleDownLimit" => out.push(format!(
                "rate-limited by a behavior policy ({reason}): {}",
                c.message.as_deref().unwrap_or("")
            )),
            other => out.push(format!(
                "limited: {other} {}",
                c.message.as_deref().unwrap_or("")
            )),
        }
    }

    if let Some(c) = condition(hpa, "AbleToScale")
        && c.status == "True"
    {
        match c.reason.as_deref() {
            Some("ScaleDownStabilized") => out.push(format!(
                "scale-down held by the {}s stabilization window",
                rules_window(behavior.and_then(|b| b.scale_down.as_ref()), 300)
            )),
            Some("ScaleUpStabilized") => out.push(format!(
                "scale-up held by the {}s stabilization window",
                rules_window(behavior.and_then(|b| b.scale_up.as_ref()), 0)
            )),
            _ => {}
        }
    }

    let metrics_ok = active.is_none_or(|c| c.status == "True");
    if out.is_empty() && metrics_ok && desired != current {
        let up = desired > current;
        let why = readings(up);
        out.push(format!(
            "scaling {} from {current} to {desired}{}",
            if up { "up" } else { "down" },
            if why.is_empty() {
                String::new()
            } else {
                format!(": {}", why.join(", "))
            }
        ));
    }
    if out.is_empty() && metrics_ok {
        let within: Vec<String> = metrics
            .iter()
            .filter_map(|m| {
                let (c, t) = (m.current?, m.target?);
                (t > 0.0 && (c / t - 1.0).abs() <= TOLERANCE)
                    .then(|| format!("{} {} vs {} target", m.name, m.current_text, m.target_text))
            })
            .collect();
        if !within.is_empty() && within.len() == metrics.len() {
            out.push(format!("within tolerance: {}", within.join(", ")));
        } else if !metrics.is_empty() {
            let summary: Vec<String> = metrics.iter().map(Metric::summary).collect();
            out.push(format!(
                "steady at {current}: {} — the recommendation matches the current size",
                summary.join(", ")
            ));
        }
    }
    if let Some(e) = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("SuccessfulRescale"))
    {
        out.push(format!(
            "last rescale: {}",
            e.message.as_deref().unwrap_or("")
        ));
    }
    out
}

fn rules_text(label: &str, rules: Option<&HPAScalingRules>, default_window: i32) -> String {
    let window = rules_window(rules, default_window);
    let policies: Vec<String> = rules
        .and_then(|r| r.policies.as_ref())
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let unit = if p.type_ == "Percent" { "%" } else { " pods" };
                    format!("{}{unit} per {}s", p.value, p.period_seconds)
                })
                .collect()
        })
        .unwrap_or_default();
    let policies = if policies.is_empty() {
        "default policies".to_string()
    } else {
        policies.join(", ")
    };
    let select = rules
        .and_then(|r| r.select_policy.clone())
        .unwrap_or_else(|| "Max".into());
    format!("{label}: window {window}s, {policies} (select {select})")
}

pub(crate) fn get(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<HorizontalPodAutoscaler>> {
    cache.hpas.get(&ObjectRef::new(&key.1).within(&key.0))
}

fn reference(hpa: &HorizontalPodAutoscaler) -> String {
    hpa.spec.as_ref().map_or_else(String::new, |s| {
        format!("{}/{}", s.scale_target_ref.kind, s.scale_target_ref.name)
    })
}

fn last_scale(hpa: &HorizontalPodAutoscaler) -> Option<DateTime<Utc>> {
    hpa.status
        .as_ref()
        .and_then(|s| s.last_scale_time.as_ref())
        .and_then(time)
}

impl TableView for HpasView {
    fn title(&self) -> &'static str {
        "HorizontalPodAutoscalers"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Hpa, Kind::Event]
    }

    fn flex_column(&self) -> usize {
        8
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = cache
            .hpas
            .state()
            .iter()
            .filter(|h| visible_object(query, &h.metadata))
            .map(|h| {
                let key = super::key_of(&h.metadata);
                let (min, max) = min_max(h);
                let (cur, des) = replicas(h);
                let sort = match query.sort_column {
                    0 => SortKey::Text(key.0.clone()),
                    2 => SortKey::Text(reference(h)),
                    3 => SortKey::Num(min.into()),
                    4 => SortKey::Num(cur.into()),
                    5 => SortKey::Num(des.into()),
                    6 => SortKey::Num(max.into()),
                    8 => SortKey::Text(conditions_summary(h).0),
                    9 => SortKey::Num(-age_secs(last_scale(h), now)),
                    _ => SortKey::Text(key.1.clone()),
                };
                (sort, key)
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn judges_faults(&self) -> bool {
        true
    }

    /// Limited (above resting at its minimum), unable to scale or without
    /// metrics: a condition out of its healthy state.
    fn fault(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        let h = get(src.cache, key)?;
        Some(matches!(
            conditions_summary(&h).1,
            Role::Warning | Role::Danger
        ))
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let h = get(cache, key)?;
        let (min, max) = min_max(&h);
        let (cur, des) = replicas(&h);
        let metrics: Vec<String> = metrics(&h).iter().map(Metric::summary).collect();
        let (conds, role) = conditions_summary(&h);
        Some(vec![
            Cell::new(key.0.clone(), Role::Muted),
            Cell::text(key.1.clone()),
            Cell::text(reference(&h)),
            Cell::text(min.to_string()),
            Cell::new(
                cur.to_string(),
                if at_max(&h) {
                    Role::Warning
                } else {
                    Role::Text
                },
            ),
            Cell::text(des.to_string()),
            Cell::text(max.to_string()),
            Cell::text(if metrics.is_empty() {
                "<none>".to_string()
            } else {
                metrics.join(", ")
            }),
            Cell::new(conds, role),
            Cell::text(match last_scale(&h) {
                Some(t) => age(Some(t), now),
                None => "-".into(),
            }),
        ])
    }

    fn enter(&self, cache: &Cache, key: &RowKey) -> Option<Drill> {
        let h = get(cache, key)?;
        let target = &h.spec.as_ref()?.scale_target_ref;
        let wkey = (key.0.clone(), format!("{}/{}", target.kind, target.name));
        super::workloads::WorkloadsView.enter(cache, &wkey)
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*get(cache, key)?)
    }

    fn detail(&self, cache: &Cache, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let h = get(cache, key)?;
        let events: Vec<SlimEvent> = events_for(cache, "HorizontalPodAutoscaler", &key.0, &key.1)
            .iter()
            .map(|e| (**e).clone())
            .collect();
        let pods = target_pods(cache, &h);
        let mut lines: Vec<Cell> = explain(&h, &events, pods.as_ref())
            .into_iter()
            .map(|l| Cell::new(l, Role::Info))
            .collect();
        let behavior = h.spec.as_ref().and_then(|s| s.behavior.as_ref());
        lines.push(Cell::new(
            rules_text("scale-up", behavior.and_then(|b| b.scale_up.as_ref()), 0),
            Role::Muted,
        ));
        lines.push(Cell::new(
            rules_text(
                "scale-down",
                behavior.and_then(|b| b.scale_down.as_ref()),
                300,
            ),
            Role::Muted,
        ));
        for e in events
            .iter()
            .filter(|e| e.reason.as_deref() == Some("SuccessfulRescale"))
            .take(3)
        {
            lines.push(Cell::text(format!(
                "{} ago  {}",
                age(event_time(e), now),
                e.message.as_deref().unwrap_or("")
            )));
        }
        Some(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hpa(
        status: serde_json::Value,
        behavior: Option<serde_json::Value>,
    ) -> HorizontalPodAutoscaler {
        let mut spec = json!({
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
        });
        if let Some(b) = behavior {
            spec["behavior"] = b;
        }
        serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": spec, "status": status}))
            .expect("test hpa is valid")
    }

    fn cpu(pct: i32) -> serde_json::Value {
        json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": pct}}}])
    }

    fn cond(type_: &str, status: &str, reason: &str, message: &str) -> serde_json::Value {
        json!({"type": type_, "status": status, "reason": reason, "message": message})
    }

    fn rescale(message: &str) -> SlimEvent {
        serde_json::from_value(json!({
            "metadata": {"name": "web.1", "namespace": "shop"},
            "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "web", "namespace": "shop"},
            "type": "Normal", "reason": "SuccessfulRescale", "message": message
        }))
        .expect("test event is valid")
    }

    #[test]
    fn at_max_says_the_metric_wants_more_but_max_stops_it() {
        let h = hpa(
            json!({"currentReplicas": 10, "desiredReplicas": 10, "currentMetrics": cpu(95), "conditions": [
                cond("AbleToScale", "True", "ReadyForNewScale", ""),
                cond("ScalingActive", "True", "ValidMetricFound", ""),
                cond("ScalingLimited", "True", "TooManyReplicas", "the desired replica count is more than the maximum replica count")]}),
            None,
        );
        assert!(at_max(&h));
        let events = [rescale(
            "New size: 10; reason: cpu resource utilization (percentage of request) above target",
        )];
        assert_eq!(
            explain(&h, &events, None),
            [
                "at max (10): ScalingLimited TooManyReplicas — cpu 95% is above target 70% but maxReplicas stops it",
                "last rescale: New size: 10; reason: cpu resource utilization (percentage of request) above target",
            ]
        );
    }

    #[test]
    fn a_held_scale_down_names_the_stabilization_window() {
        let status = json!({"currentReplicas": 6, "desiredReplicas": 6, "currentMetrics": cpu(20), "conditions": [
            cond("AbleToScale", "True", "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"),
            cond("ScalingActive", "True", "ValidMetricFound", ""),
            cond("ScalingLimited", "False", "DesiredWithinRange", "")]});
        assert_eq!(
            explain(&hpa(status.clone(), None), &[], None),
            ["scale-down held by the 300s stabilization window"]
        );
        let custom = hpa(
            status,
            Some(json!({"scaleDown": {"stabilizationWindowSeconds": 60}})),
        );
        assert_eq!(
            explain(&custom, &[], None),
            ["scale-down held by the 60s stabilization window"]
        );
    }

    #[test]
    fn missing_metrics_are_explained_with_the_controllers_reason() {
        let h = hpa(
            json!({"currentReplicas": 2, "desiredReplicas": 2, "conditions": [
                cond("AbleToScale", "True", "SucceededGetScale", ""),
                cond("ScalingActive", "False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count: no metrics returned from resource metrics API")]}),
            None,
        );
        assert_eq!(
            explain(&h, &[], None),
            [
                "no metrics: FailedGetResourceMetric the HPA was unable to compute the replica count: no metrics returned from resource metrics API"
            ]
        );
        assert_eq!(
            conditions_summary(&h),
            ("FailedGetResourceMetric".to_string(), Role::Danger)
        );
        assert_eq!(metrics(&h)[0].summary(), "cpu <unknown>/70%");
    }

    #[test]
    fn within_tolerance_and_scaling_cases() {
        let steady = hpa(
            json!({"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": cpu(72), "conditions": [
                cond("AbleToScale", "True", "ReadyForNewScale", ""),
                cond("ScalingActive", "True", "ValidMetricFound", "")]}),
            None,
        );
        assert_eq!(
            explain(&steady, &[], None),
            ["within tolerance: cpu 72% vs 70% target"]
        );
        let rising = hpa(
            json!({"currentReplicas": 3, "desiredReplicas": 5, "currentMetrics": cpu(110), "conditions": [
                cond("AbleToScale", "True", "SucceededRescale", ""),
                cond("ScalingActive", "True", "ValidMetricFound", "")]}),
            None,
        );
        assert_eq!(
            explain(&rising, &[], None),
            ["scaling up from 3 to 5: cpu 110% is above target 70%"]
        );
        let floor = hpa(
            json!({"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": cpu(5), "conditions": [
                cond("AbleToScale", "True", "ReadyForNewScale", ""),
                cond("ScalingActive", "True", "ValidMetricFound", ""),
                cond("ScalingLimited", "True", "TooFewReplicas", "")]}),
            None,
        );
        assert_eq!(
            explain(&floor, &[], None),
            [
                "at min (2): ScalingLimited TooFewReplicas — cpu 5% is below target 70% but minReplicas stops it"
            ]
        );
    }

    #[test]
    fn quantities_compare_across_units() {
        assert_eq!(quantity("512Mi"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("250m"), Some(0.25));
        assert_eq!(quantity("abc"), None);
    }

    /// A Deployment `shop/oom` whose three pods crash-loop, OOMKilled, and
    /// its HPA, which the controller left with no metrics and a stale
    /// TooFewReplicas from before the pods went down.
    fn oom_cluster() -> Cache {
        let (cache, mut writers) = crate::test_support::cluster_with_writers();
        writers
            .apply_json(&json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "oom", "namespace": "shop", "uid": "uid-oom"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "oom"}},
                         "template": {"metadata": {"labels": {"app": "oom"}},
                                      "spec": {"containers": [{"name": "oom", "image": "oom:1"}]}}},
                "status": {"replicas": 3, "readyReplicas": 0}
            }))
            .expect("valid deployment");
        for i in 0..3 {
            let mut p = crate::test_support::pod(
                "shop",
                &format!("oom-{i}"),
                "oom",
                "node-1",
                300,
                4,
                Some("CrashLoopBackOff"),
            );
            p["status"]["containerStatuses"][0]["lastState"] =
                json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}});
            writers.apply_json(&p).expect("valid pod");
        }
        writers
            .apply_json(&json!({
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "oom", "namespace": "shop"},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "oom"},
                         "minReplicas": 3, "maxReplicas": 6,
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
                "status": {"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": [{"type": ""}], "conditions": [
                    cond("AbleToScale", "True", "SucceededGetScale", ""),
                    cond("ScalingActive", "False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"),
                    cond("ScalingLimited", "True", "TooFewReplicas", "the desired replica count is less than the minimum replica count")]}
            }))
            .expect("valid hpa");
        cache
    }

    #[test]
    fn no_metrics_because_no_pod_is_ready_says_why_the_pods_are_down() {
        let cache = oom_cluster();
        let key = ("shop".to_string(), "oom".to_string());
        let lines: Vec<String> = HpasView
            .detail(&cache, &key, crate::test_support::now())
            .expect("detail")
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(
            lines[..2],
            [
                "no metrics: 0 of 3 pods Ready; containers crash-looping (OOMKilled)",
                "the HPA says: FailedGetResourceMetric the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
            ]
        );
        assert!(
            !lines.iter().any(|l| l.contains("TooFewReplicas")),
            "{lines:#?}"
        );
    }

    #[test]
    fn resting_at_min_is_not_a_warning_but_at_max_is() {
        let floor = hpa(
            json!({"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": cpu(5), "conditions": [
                cond("AbleToScale", "True", "ReadyForNewScale", ""),
                cond("ScalingActive", "True", "ValidMetricFound", ""),
                cond("ScalingLimited", "True", "TooFewReplicas", "")]}),
            None,
        );
        assert_eq!(
            conditions_summary(&floor),
            ("TooFewReplicas".to_string(), Role::Text)
        );
        let ceiling = hpa(
            json!({"currentReplicas": 10, "desiredReplicas": 10, "currentMetrics": cpu(95), "conditions": [
                cond("ScalingLimited", "True", "TooManyReplicas", "")]}),
            None,
        );
        assert_eq!(
            conditions_summary(&ceiling),
            ("TooManyReplicas".to_string(), Role::Warning)
        );
    }
}
