//! The cluster's `/metrics`: kube-state-metrics series for pods,
//! Deployments, StatefulSets and HPAs, cAdvisor-style container usage, and
//! each workload's application series (request counters and a latency
//! histogram), in the Prometheus text format 0.0.4.
//!
//! Counters must only grow, yet a pod's share of traffic changes with the
//! replica count, so they are integrated lazily: each render adds what was
//! served since the previous one (exactly, from the load profile's
//! integral) to per-pod totals kept for that cluster (in its `Ctx`). A pod
//! seen for the first time starts from what it would have served since it
//! became Ready.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::usage::{PodUsage, Snapshot, quantity, snapshot};
use crate::controllers::Ctx;
use crate::controllers::workload_util::ready_since;
use crate::resources;
use crate::store::meta_str;

pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus' default histogram buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BUCKET_LABELS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];
const METHODS: [(&str, f64); 2] = [("GET", 0.85), ("POST", 0.15)];
const STATUSES: [&str; 4] = ["200", "404", "500", "503"];

#[derive(Debug, Clone, Default)]
pub(crate) struct PodCounters {
    last: Option<DateTime<Utc>>,
    /// [method][status] request counts.
    requests: [[f64; 4]; 2],
    /// Cumulative counts per bucket (the last is +Inf = count).
    buckets: [f64; 12],
    latency_sum: f64,
    /// Container → (its start, CPU seconds since).
    cpu: HashMap<String, (Option<DateTime<Utc>>, f64)>,
}

/// One cluster's counters: pod uid → its totals so far.
pub(crate) type Counters = HashMap<String, PodCounters>;

fn secs(d: chrono::TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

impl PodCounters {
    fn add_requests(&mut self, p: &PodUsage, n: f64) {
        if n <= 0.0 {
            return;
        }
        let t = &p.traffic;
        let ok = (1.0 - t.client_errors - t.server_errors - t.overload_errors).max(0.0);
        let split = [ok, t.client_errors, t.server_errors, t.overload_errors];
        for (m, (_, share)) in METHODS.iter().enumerate() {
            for (s, frac) in split.iter().enumerate() {
                self.requests[m][s] += n * share * frac;
            }
        }
        for (i, le) in BUCKETS.iter().enumerate() {
            self.buckets[i] += n * t.fraction_within(*le);
        }
        self.buckets[11] += n;
        self.latency_sum += n * t.mean_latency();
    }

    /// Brings the totals up to `now`.
    fn advance(&mut self, snap: &Snapshot, p: &PodUsage) {
        let now = snap.now;
        if self.last.is_some_and(|l| l >= now) {
            return;
        }
        let w = snap.workload_of(p);
        if let Some(w) = w
            && p.ready
        {
            let from = match self.last {
                Some(l) => l,
                None => ready_since(&p.pod)
                    .filter(|t| *t > DateTime::<Utc>::MIN_UTC)
                    .unwrap_or(now),
            };
            let nominal = w.profile.rate(now) / w.ready.max(1) as f64;
            let jitter = if nominal > 0.0 { p.rps / nominal } else { 1.0 };
            let served = w.profile.integral(from, now) / w.ready.max(1) as f64 * jitter;
            self.add_requests(p, served);
        }
        for c in &p.containers {
            let dt_since_start = c.started.map_or(0.0, |s| secs(now - s).max(0.0));
            match self.cpu.get_mut(&c.name) {
                Some((started, total)) if *started == c.started => {
                    let dt = self.last.map_or(dt_since_start, |l| secs(now - l).max(0.0));
                    *total += c.cpu * dt.min(dt_since_start);
                }
                // New or restarted container: a new cgroup, a new counter.
                _ => {
                    self.cpu
                        .insert(c.name.clone(), (c.started, c.cpu * dt_since_start));
                }
            }
        }
        self.last = Some(now);
    }
}

/// Escapes a label value as the text format requires.
fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if v.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        v.into()
    }
}

struct Out {
    buf: String,
}

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.buf, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.buf.push_str(name);
        if !labels.is_empty() {
            self.buf.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.buf.push(',');
                }
                self.buf.push_str(k);
                self.buf.push_str("=\"");
                self.buf.push_str(&escape(v));
                self.buf.push('"');
            }
            self.buf.push('}');
        }
        self.buf.push(' ');
        if value.fract() == 0.0 && value.abs() < 1e15 {
            push_int(&mut self.buf, value as i64);
        } else if value.is_finite() {
            let _ = write!(self.buf, "{value}");
        } else {
            self.buf.push_str("NaN");
        }
        self.buf.push('\n');
    }
}

/// Integers are most samples; `write!` is slow for them in test builds.
fn push_int(buf: &mut String, v: i64) {
    if v < 0 {
        buf.push('-');
    }
    let mut n = v.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        buf.push(char::from(*d));
    }
}

/// A gauge family read from one object: name, help, value.
type Family = (&'static str, &'static str, fn(&Value) -> f64);

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn ready_status(pod: &Value) -> &str {
    pod["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"].as_str() == Some("Ready")))
        .and_then(|c| c["status"].as_str())
        .unwrap_or("Unknown")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// The whole `/metrics` body at `now`.
pub(crate) fn exposition(ctx: &Ctx, now: DateTime<Utc>) -> String {
    let snap = snapshot(ctx, None, now);
    let mut out = Out {
        buf: String::with_capacity(snap.pods.len() * 4096 + 8192),
    };
    pod_series(&mut out, &snap);
    workload_series(&mut out, ctx);
    hpa_series(&mut out, ctx);
    with_counters(ctx, &snap, |counters| {
        container_series(&mut out, &snap, counters);
        application_series(&mut out, &snap, counters);
    });
    out.buf
}

/// Advances the cluster's counters to the snapshot and hands them to `f`.
fn with_counters(ctx: &Ctx, snap: &Snapshot, f: impl FnOnce(&Counters)) {
    let mut counters = ctx.counters.lock().unwrap_or_else(|e| e.into_inner());
    let mut seen = HashMap::with_capacity(snap.pods.len());
    for p in &snap.pods {
        let uid = meta_str(&p.pod, "uid");
        let mut c = counters.remove(uid).unwrap_or_default();
        c.advance(snap, p);
        seen.insert(uid.to_string(), c);
    }
    // Pods that are gone take their counters with them.
    *counters = seen;
    f(&counters);
}

fn pod_series(out: &mut Out, snap: &Snapshot) {
    const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];
    out.family("kube_pod_status_phase", "gauge", "The pods current phase.");
    for p in &snap.pods {
        let (ns, name, uid) = (
            meta_str(&p.pod, "namespace"),
            meta_str(&p.pod, "name"),
            meta_str(&p.pod, "uid"),
        );
        let phase = p.pod["status"]["phase"].as_str().unwrap_or("Pending");
        for ph in PHASES {
            out.sample(
                "kube_pod_status_phase",
                &[
                    ("namespace", ns),
                    ("pod", name),
                    ("uid", uid),
                    ("phase", ph),
                ],
                flag(ph == phase),
            );
        }
    }
    out.family(
        "kube_pod_status_ready",
        "gauge",
        "Describes whether the pod is ready to serve requests.",
    );
    for p in &snap.pods {
        let (ns, name, uid) = (
            meta_str(&p.pod, "namespace"),
            meta_str(&p.pod, "name"),
            meta_str(&p.pod, "uid"),
        );
        let status = ready_status(&p.pod);
        for (cond, s) in [("true", "True"), ("false", "False"), ("unknown", "Unknown")] {
            out.sample(
                "kube_pod_status_ready",
                &[
                    ("namespace", ns),
                    ("pod", name),
                    ("uid", uid),
                    ("condition", cond),
                ],
                flag(status == s),
            );
        }
    }
    out.family(
        "kube_pod_container_status_restarts_total",
        "counter",
        "The number of container restarts per container.",
    );
    for p in &snap.pods {
        let (ns, name, uid) = (
            meta_str(&p.pod, "namespace"),
            meta_str(&p.pod, "name"),
            meta_str(&p.pod, "uid"),
        );
        for st in p.pod["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.sample(
                "kube_pod_container_status_restarts_total",
                &[
                    ("namespace", ns),
                    ("pod", name),
                    ("uid", uid),
                    ("container", st["name"].as_str().unwrap_or_default()),
                ],
                num(&st["restartCount"]),
            );
        }
    }
}

fn workload_series(out: &mut Out, ctx: &Ctx) {
    let deployments = ctx.store.list(&resources::DEPLOYMENTS, None);
    let families: [Family; 4] = [
        (
            "kube_deployment_spec_replicas",
            "Number of desired pods for a deployment.",
            |d| d["spec"]["replicas"].as_f64().unwrap_or(1.0),
        ),
        (
            "kube_deployment_status_replicas",
            "The number of replicas per deployment.",
            |d| num(&d["status"]["replicas"]),
        ),
        (
            "kube_deployment_status_replicas_available",
            "The number of available replicas per deployment.",
            |d| num(&d["status"]["availableReplicas"]),
        ),
        (
            "kube_deployment_status_replicas_updated",
            "The number of updated replicas per deployment.",
            |d| num(&d["status"]["updatedReplicas"]),
        ),
    ];
    for (name, help, value) in families {
        out.family(name, "gauge", help);
        for d in &deployments {
            out.sample(
                name,
                &[
                    ("namespace", meta_str(d, "namespace")),
                    ("deployment", meta_str(d, "name")),
                ],
                value(d),
            );
        }
    }
    let statefulsets = ctx.store.list(&resources::STATEFULSETS, None);
    let families: [Family; 2] = [
        (
            "kube_statefulset_replicas",
            "Number of desired pods for a StatefulSet.",
            |s| s["spec"]["replicas"].as_f64().unwrap_or(1.0),
        ),
        (
            "kube_statefulset_status_replicas_ready",
            "The number of ready replicas per StatefulSet.",
            |s| num(&s["status"]["readyReplicas"]),
        ),
    ];
    for (name, help, value) in families {
        out.family(name, "gauge", help);
        for s in &statefulsets {
            out.sample(
                name,
                &[
                    ("namespace", meta_str(s, "namespace")),
                    ("statefulset", meta_str(s, "name")),
                ],
                value(s),
            );
        }
    }
}

fn hpa_series(out: &mut Out, ctx: &Ctx) {
    let hpas = ctx.store.list(&resources::HPAS, None);
    let families: [Family; 4] = [
        (
            "kube_horizontalpodautoscaler_spec_min_replicas",
            "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
            |h| h["spec"]["minReplicas"].as_f64().unwrap_or(1.0),
        ),
        (
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.",
            |h| num(&h["spec"]["maxReplicas"]),
        ),
        (
            "kube_horizontalpodautoscaler_status_current_replicas",
            "Current number of replicas of pods managed by this autoscaler.",
            |h| num(&h["status"]["currentReplicas"]),
        ),
        (
            "kube_horizontalpodautoscaler_status_desired_replicas",
            "Desired number of replicas of pods managed by this autoscaler.",
            |h| num(&h["status"]["desiredReplicas"]),
        ),
    ];
    for (name, help, value) in families {
        out.family(name, "gauge", help);
        for h in &hpas {
            out.sample(
                name,
                &[
                    ("namespace", meta_str(h, "namespace")),
                    ("horizontalpodautoscaler", meta_str(h, "name")),
                ],
                value(h),
            );
        }
    }
    let name = "kube_horizontalpodautoscaler_spec_target_metric";
    out.family(name, "gauge", "The metric specifications used by this autoscaler when calculating the desired replica count.");
    for h in &hpas {
        for m in h["spec"]["metrics"].as_array().into_iter().flatten() {
            let source = match m["type"].as_str() {
                Some("Resource") => &m["resource"],
                Some("ContainerResource") => &m["containerResource"],
                Some("Pods") => &m["pods"],
                Some("Object") => &m["object"],
                Some("External") => &m["external"],
                _ => continue,
            };
            let metric_name = source["name"]
                .as_str()
                .or_else(|| source["metric"]["name"].as_str())
                .unwrap_or_default();
            let target = &source["target"];
            let (kind, value) = if let Some(u) = target["averageUtilization"].as_f64() {
                ("utilization", u)
            } else if let Some(v) = quantity(&target["averageValue"]) {
                ("average", v)
            } else if let Some(v) = quantity(&target["value"]) {
                ("value", v)
            } else {
                continue;
            };
            out.sample(
                name,
                &[
                    ("namespace", meta_str(h, "namespace")),
                    ("horizontalpodautoscaler", meta_str(h, "name")),
                    ("metric_name", metric_name),
                    ("metric_target_type", kind),
                ],
                value,
            );
        }
    }
    // What the HPA controller measured, as kube-state-metrics shows it: the
    // chart beside an HPA plots this, so the two cannot disagree.
    let name = "kube_horizontalpodautoscaler_status_target_metric";
    out.family(name, "gauge", "The current metric status used by this autoscaler when calculating the desired replica count.");
    for h in &hpas {
        for m in h["status"]["currentMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let source = match m["type"].as_str() {
                Some("Resource") => &m["resource"],
                Some("ContainerResource") => &m["containerResource"],
                Some("Pods") => &m["pods"],
                Some("Object") => &m["object"],
                Some("External") => &m["external"],
                _ => continue,
            };
            let metric_name = source["name"]
                .as_str()
                .or_else(|| source["metric"]["name"].as_str())
                .unwrap_or_default();
            let current = &source["current"];
            let values = [
                ("utilization", current["averageUtilization"].as_f64()),
                ("average", quantity(&current["averageValue"])),
                ("value", quantity(&current["value"])),
            ];
            for (kind, value) in values {
                let Some(value) = value else { continue };
                out.sample(
                    name,
                    &[
                        ("namespace", meta_str(h, "namespace")),
                        ("horizontalpodautoscaler", meta_str(h, "name")),
                        ("metric_name", metric_name),
                        ("metric_target_type", kind),
                    ],
                    value,
                );
            }
        }
    }
}

fn container_series(out: &mut Out, snap: &Snapshot, counters: &Counters) {
    let name = "container_cpu_usage_seconds_total";
    out.family(name, "counter", "Cumulative cpu time consumed in seconds.");
    for p in snap.pods.iter().filter(|p| p.running) {
        let (ns, pod) = (meta_str(&p.pod, "namespace"), meta_str(&p.pod, "name"));
        let Some(c) = counters.get(meta_str(&p.pod, "uid")) else {
            continue;
        };
        for u in &p.containers {
            let total = c.cpu.get(&u.name).map_or(0.0, |(_, s)| *s);
            out.sample(
                name,
                &[("namespace", ns), ("pod", pod), ("container", &u.name)],
                total,
            );
        }
    }
    let name = "container_memory_working_set_bytes";
    out.family(name, "gauge", "Current working set in bytes.");
    for p in snap.pods.iter().filter(|p| p.running) {
        let (ns, pod) = (meta_str(&p.pod, "namespace"), meta_str(&p.pod, "name"));
        for u in &p.containers {
            out.sample(
                name,
                &[("namespace", ns), ("pod", pod), ("container", &u.name)],
                u.memory.round(),
            );
        }
    }
}

fn application_series(out: &mut Out, snap: &Snapshot, counters: &Counters) {
    let serving: Vec<(&PodUsage, &str, &PodCounters)> = snap
        .pods
        .iter()
        .filter(|p| p.running)
        .filter_map(|p| {
            let w = snap.workload_of(p)?;
            let c = counters.get(meta_str(&p.pod, "uid"))?;
            Some((p, w.service.as_str(), c))
        })
        .collect();
    let name = "http_requests_total";
    out.family(
        name,
        "counter",
        "Total HTTP requests served, by method and status code.",
    );
    for (p, service, c) in &serving {
        let (ns, pod) = (meta_str(&p.pod, "namespace"), meta_str(&p.pod, "name"));
        for (m, (method, _)) in METHODS.iter().enumerate() {
            for (s, status) in STATUSES.iter().enumerate() {
                out.sample(
                    name,
                    &[
                        ("namespace", ns),
                        ("service", service),
                        ("pod", pod),
                        ("method", method),
                        ("status", status),
                    ],
                    c.requests[m][s].floor(),
                );
            }
        }
    }
    let name = "http_request_duration_seconds";
    out.family(name, "histogram", "HTTP request latency in seconds.");
    for (p, service, c) in &serving {
        let (ns, pod) = (meta_str(&p.pod, "namespace"), meta_str(&p.pod, "name"));
        // Floors keep the buckets cumulative and integral, as real ones are.
        let count = c.buckets[11].floor();
        for (i, le) in BUCKET_LABELS.iter().enumerate() {
            out.sample(
                "http_request_duration_seconds_bucket",
                &[
                    ("namespace", ns),
                    ("service", service),
                    ("pod", pod),
                    ("le", le),
                ],
                c.buckets[i].floor().min(count),
            );
        }
        out.sample(
            "http_request_duration_seconds_sum",
            &[("namespace", ns), ("service", service), ("pod", pod)],
            c.latency_sum,
        );
        out.sample(
            "http_request_duration_seconds_count",
            &[("namespace", ns), ("service", service), ("pod", pod)],
            count,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{deployment, pod, ready_pod, t0, test_ctx};
    use serde_json::json;

    fn value(body: &str, series: &str) -> f64 {
        body.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in exposition"))
    }

    fn sum(body: &str, prefix: &str, contains: &str) -> f64 {
        body.lines()
            .filter(|l| l.starts_with(prefix) && l.contains(contains))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    #[test]
    fn counters_grow_with_the_load_and_errors_follow_overload() {
        let ctx = test_ctx(&["demo"]);
        deployment(&ctx, "web", 2, "steady 100rps");
        ready_pod(&ctx, "web", 0);
        ready_pod(&ctx, "web", 1);
        let a = exposition(&ctx, t0());
        let total_a = sum(&a, "http_requests_total{", "pod=\"web-");
        // 100 rps for 5 minutes, give or take the noise.
        assert!((total_a - 30_000.0).abs() < 2_000.0, "{total_a}");

        let b = exposition(&ctx, t0() + chrono::Duration::seconds(60));
        let total_b = sum(&b, "http_requests_total{", "pod=\"web-");
        assert!(
            (total_b - total_a - 6_000.0).abs() < 500.0,
            "{}",
            total_b - total_a
        );
        let errors_b = sum(&b, "http_requests_total{", "status=\"503\"");
        assert_eq!(errors_b, 0.0);

        // One pod goes away and the load jumps: 503s appear, counters keep growing.
        ctx.store.remove(&resources::PODS, "demo", "web-1");
        ctx.store
            .modify(&resources::DEPLOYMENTS, "demo", "web", |d| {
                d["metadata"]["annotations"]["kubedeck.io/load"] = json!("steady 3000rps");
            })
            .unwrap();
        let c = exposition(&ctx, t0() + chrono::Duration::seconds(120));
        let web0 = |body: &str| sum(body, "http_requests_total{", "pod=\"web-0\"");
        assert!(web0(&c) > web0(&b) + 150_000.0);
        let shed = sum(&c, "http_requests_total{", "status=\"503\"");
        assert!(shed > 50_000.0, "{shed}");
        assert!(!c.contains("pod=\"web-1\""));
        // p95 latency moved up: fewer requests fit the 100ms bucket.
        let fast = |body: &str| {
            value(
                body,
                "http_request_duration_seconds_bucket{namespace=\"demo\",service=\"web\",pod=\"web-0\",le=\"0.1\"}",
            )
        };
        let count = |body: &str| {
            value(
                body,
                "http_request_duration_seconds_count{namespace=\"demo\",service=\"web\",pod=\"web-0\"}",
            )
        };
        let share_b = fast(&b) / count(&b);
        let share_c = (fast(&c) - fast(&b)) / (count(&c) - count(&b));
        assert!(share_b > 0.95 && share_c < 0.5, "{share_b} {share_c}");

        let cpu = |body: &str| {
            value(
                body,
                "container_cpu_usage_seconds_total{namespace=\"demo\",pod=\"web-0\",container=\"app\"}",
            )
        };
        assert!(cpu(&c) > cpu(&b));
        // A render at an earlier time never makes a counter go back.
        let old = exposition(&ctx, t0());
        assert!(web0(&old) >= web0(&c));
    }

    #[test]
    fn kube_state_series_describe_pods_workloads_and_hpas() {
        let ctx = test_ctx(&["demo"]);
        deployment(&ctx, "web", 2, "steady 10rps");
        pod(&ctx, "web", 0, Some(t0()), "app:1");
        pod(&ctx, "web", 1, None, "app:1");
        ctx.store
            .create(
                &resources::HPAS,
                json!({"metadata": {"name": "web", "namespace": "demo"},
                    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                        "minReplicas": 2, "maxReplicas": 10,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 60}}}]},
                    "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": 76, "averageValue": "76m"}}}]}}),
            )
            .unwrap();
        let body = exposition(&ctx, t0());
        assert_eq!(
            sum(&body, "kube_pod_status_ready{", "condition=\"true\""),
            1.0
        );
        assert_eq!(
            sum(&body, "kube_pod_status_ready{", "condition=\"false\""),
            1.0
        );
        assert_eq!(
            sum(&body, "kube_pod_status_phase{", "phase=\"Running\""),
            2.0
        );
        assert_eq!(
            value(
                &body,
                "kube_deployment_spec_replicas{namespace=\"demo\",deployment=\"web\"}"
            ),
            2.0
        );
        assert_eq!(
            value(&body, "kube_horizontalpodautoscaler_spec_max_replicas{"),
            10.0
        );
        assert_eq!(
            value(
                &body,
                "kube_horizontalpodautoscaler_spec_target_metric{namespace=\"demo\",horizontalpodautoscaler=\"web\",metric_name=\"cpu\",metric_target_type=\"utilization\"}"
            ),
            60.0
        );
        assert_eq!(
            value(
                &body,
                "kube_horizontalpodautoscaler_status_target_metric{namespace=\"demo\",horizontalpodautoscaler=\"web\",metric_name=\"cpu\",metric_target_type=\"utilization\"}"
            ),
            76.0
        );
        // Every sample belongs to the family announced just before it.
        let mut family = String::new();
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap_or_default().to_string();
            } else if !line.starts_with('#') {
                assert!(line.starts_with(&family), "{line} outside {family}");
            }
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape("plain"), "plain");
        for v in [0, 7, -12, 1_234_567_890_123] {
            let mut s = String::new();
            push_int(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }

    #[test]
    fn promtool_accepts_the_exposition() {
        let out = std::process::Command::new("promtool")
            .arg("--version")
            .output()
            .expect("promtool is needed (Debian's prometheus package; .ci/run installs it)");
        assert!(out.status.success());
        let ctx = test_ctx(&[]);
        crate::scenario::load(&ctx.store, "minimal").unwrap();
        deployment(&ctx, "api", 2, "wave 50-400rps");
        pod(
            &ctx,
            "api",
            0,
            Some(t0() - chrono::Duration::minutes(1)),
            "app:1",
        );
        pod(&ctx, "api", 1, None, "crashloop:1");
        let body = exposition(&ctx, t0());
        let mut child = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let result = child.wait_with_output().unwrap();
        assert!(
            result.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }

    #[test]
    fn ten_thousand_pods_render_quickly() {
        let ctx = test_ctx(&["demo"]);
        for d in 0..100 {
            let name = format!("svc{d}");
            deployment(&ctx, &name, 100, "steady 500rps");
            for i in 0..100 {
                pod(
                    &ctx,
                    &name,
                    i,
                    Some(t0() - chrono::Duration::minutes(3)),
                    "app:1",
                );
            }
        }
        let started = std::time::Instant::now();
        let body = exposition(&ctx, t0());
        let took = started.elapsed();
        eprintln!("10,000 pods: {} bytes in {took:?}", body.len());
        assert!(body.lines().count() > 300_000);
        // Generous for unoptimised test builds; release builds are far faster.
        assert!(took < std::time::Duration::from_secs(3), "{took:?}");
    }
}
