//! The per-pod model: how much traffic each Ready pod of a workload takes,
//! and what that costs it in CPU and memory, how many requests fail and how
//! slow they are. Everything is a function of the store and a time; the
//! noise comes from a PRNG seeded by the cluster seed, the pod's uid and the
//! 15-second bucket, so the same run shows the same numbers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::load::{Profile, Tuning, workload_load};
use crate::controllers::Ctx;
use crate::controllers::workload_util::{
    controller_name, controller_ref, is_terminating, pod_is_active, pod_is_ready,
};
use crate::hash::{fnv64, splitmix64};
use crate::resources;
use crate::store::{Obj, meta_str, parse_time};
use kubedeck_kube::quantity::parse_quantity;
use kubedeck_kube::selector::LabelSelector;

/// Noise is constant within a bucket of this many seconds (a scrape).
const NOISE_BUCKET_SECONDS: i64 = 15;
/// CPU an idle main container burns, in cores.
const IDLE_CPU: f64 = 0.003;
/// Per-pod capacity when neither an annotation nor a CPU limit gives one.
const DEFAULT_CAPACITY: f64 = 300.0;
const MIB: f64 = 1_048_576.0;

/// A Deployment or StatefulSet and what its traffic looks like now.
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    pub(crate) profile: Profile,
    pub(crate) tuning: Tuning,
    /// The Service whose selector matches the pod template (the workload's
    /// name when none does): the `service` label of application series.
    pub(crate) service: String,
    /// Ready, not terminating pods: the ones the traffic is spread over.
    pub(crate) ready: usize,
    /// Active pods (not finished, not terminating).
    pub(crate) active: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ContainerUsage {
    pub(crate) name: String,
    /// Cores.
    pub(crate) cpu: f64,
    /// Working-set bytes.
    pub(crate) memory: f64,
    pub(crate) memory_limit: Option<f64>,
    /// When the running container started (for counters since start).
    pub(crate) started: Option<DateTime<Utc>>,
}

/// How a pod's requests fare, as fractions of its requests.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Traffic {
    pub(crate) client_errors: f64,
    /// 500s: the baseline, crashes.
    pub(crate) server_errors: f64,
    /// 503s: load beyond capacity is shed.
    pub(crate) overload_errors: f64,
    /// Latency is `floor` plus an exponential with this mean (seconds).
    pub(crate) latency_floor: f64,
    pub(crate) latency_mean: f64,
}

impl Traffic {
    /// The fraction of requests answered within `le` seconds.
    pub(crate) fn fraction_within(&self, le: f64) -> f64 {
        if le < self.latency_floor {
            0.0
        } else {
            1.0 - (-(le - self.latency_floor) / self.latency_mean).exp()
        }
    }

    pub(crate) fn mean_latency(&self) -> f64 {
        self.latency_floor + self.latency_mean
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PodUsage {
    pub(crate) pod: Obj,
    /// Index into `Snapshot::workloads`.
    pub(crate) workload: Option<usize>,
    pub(crate) ready: bool,
    /// Running on a node: metrics-server has numbers for it.
    pub(crate) running: bool,
    /// Requests per second it receives now.
    pub(crate) rps: f64,
    pub(crate) containers: Vec<ContainerUsage>,
    pub(crate) traffic: Traffic,
}

impl PodUsage {
    pub(crate) fn cpu(&self) -> f64 {
        self.containers.iter().map(|c| c.cpu).sum()
    }

    pub(crate) fn memory(&self) -> f64 {
        self.containers.iter().map(|c| c.memory).sum()
    }
}

/// The model of every pod (of one namespace or all) at one instant.
pub(crate) struct Snapshot {
    pub(crate) now: DateTime<Utc>,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) pods: Vec<PodUsage>,
}

impl Snapshot {
    pub(crate) fn workload_of(&self, p: &PodUsage) -> Option<&Workload> {
        p.workload.and_then(|i| self.workloads.get(i))
    }
}

/// Deterministic noise in [-1, 1] for one pod, channel and time bucket.
pub(crate) fn noise(seed: u64, uid: &str, channel: u64, t: DateTime<Utc>) -> f64 {
    let bucket = t.timestamp().div_euclid(NOISE_BUCKET_SECONDS) as u64;
    let h = splitmix64(
        seed ^ splitmix64(fnv64(uid.bytes()) ^ splitmix64(channel ^ splitmix64(bucket))),
    );
    (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// A quantity written as a string (`"100m"`) or a bare number.
pub(crate) fn quantity(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => parse_quantity(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// A container's request, or its limit (which kube copies into a missing
/// request).
fn request_of(c: &Value, resource: &str) -> Option<f64> {
    quantity(&c["resources"]["requests"][resource])
        .or_else(|| quantity(&c["resources"]["limits"][resource]))
}

fn limit_of(c: &Value, resource: &str) -> Option<f64> {
    quantity(&c["resources"]["limits"][resource])
}

fn image_crashes(c: &Value) -> bool {
    let image = c["image"].as_str().unwrap_or_default();
    let last = image.rsplit('/').next().unwrap_or(image);
    last.starts_with("crashloop")
}

/// The usage of one pod at `t`, given its workload (whose ready count is
/// taken as it is now).
pub(crate) fn pod_usage(
    seed: u64,
    pod: &Obj,
    workload: Option<(usize, &Workload)>,
    t: DateTime<Utc>,
) -> PodUsage {
    let uid = meta_str(pod, "uid");
    let running = pod["status"]["phase"].as_str() == Some("Running")
        && !pod["spec"]["nodeName"]
            .as_str()
            .unwrap_or_default()
            .is_empty();
    let ready = running && pod_is_ready(pod) && !is_terminating(pod);
    let tuning = workload.map(|(_, w)| w.tuning.clone()).unwrap_or_default();
    let rps = match workload {
        Some((_, w)) if ready => {
            let share = w.profile.rate(t) / w.ready.max(1) as f64;
            (share * (1.0 + 0.05 * noise(seed, uid, 1, t))).max(0.0)
        }
        _ => 0.0,
    };

    let statuses = pod["status"]["containerStatuses"].as_array();
    let specs = pod["spec"]["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut containers = Vec::new();
    let mut crashing = false;
    for (i, c) in specs.iter().enumerate() {
        let name = c["name"].as_str().unwrap_or_default();
        crashing |= image_crashes(c);
        let status = statuses.and_then(|s| s.iter().find(|st| st["name"].as_str() == Some(name)));
        let started = match status {
            Some(st) => match st["state"]["running"]["startedAt"].as_str() {
                Some(s) => parse_time(s),
                // A container that is not running has no usage.
                None => continue,
            },
            None if running => pod["status"]["startTime"].as_str().and_then(parse_time),
            None => continue,
        };
        if !running {
            continue;
        }
        let (cpu, memory) = if i == 0 {
            let base_mem = request_of(c, "memory").map_or(48.0 * MIB, |r| 0.5 * r);
            (
                IDLE_CPU + rps * tuning.cpu_per_rps,
                base_mem + rps * tuning.memory_per_rps,
            )
        } else {
            let base_mem = request_of(c, "memory").map_or(16.0 * MIB, |r| 0.4 * r);
            (0.001 + 0.1 * rps * tuning.cpu_per_rps, base_mem)
        };
        let channel = 10 + 2 * i as u64;
        let mut cpu = cpu * (1.0 + 0.08 * noise(seed, uid, channel, t));
        if let Some(l) = limit_of(c, "cpu") {
            // CFS throttling: a container never uses more than its limit.
            cpu = cpu.min(l);
        }
        let memory = memory * (1.0 + 0.02 * noise(seed, uid, channel + 1, t));
        containers.push(ContainerUsage {
            name: name.to_string(),
            cpu,
            memory,
            memory_limit: limit_of(c, "memory"),
            started,
        });
    }

    let capacity =
        tuning
            .capacity
            .unwrap_or_else(|| match specs.first().and_then(|c| limit_of(c, "cpu")) {
                Some(l) if tuning.cpu_per_rps > 0.0 && l > IDLE_CPU => {
                    (l - IDLE_CPU) / tuning.cpu_per_rps
                }
                _ => DEFAULT_CAPACITY,
            });
    let u = if capacity > 0.0 { rps / capacity } else { 0.0 };
    let mut server_errors = 0.002 + 0.03 * u.min(1.0).powi(6);
    if crashing {
        server_errors += 0.5;
    }
    if let Some((_, w)) = workload
        && w.active > 0
    {
        // Pods dropping out of the endpoints reset in-flight connections.
        let missing = 1.0 - w.ready.min(w.active) as f64 / w.active as f64;
        server_errors += 0.05 * missing;
    }
    let overload_errors = if u > 1.0 { 1.0 - 1.0 / u } else { 0.0 };
    let client_errors = 0.01;
    let total = client_errors + server_errors + overload_errors;
    let scale = if total > 1.0 { 1.0 / total } else { 1.0 };
    let traffic = Traffic {
        client_errors: client_errors * scale,
        server_errors: server_errors * scale,
        overload_errors: overload_errors * scale,
        latency_floor: 0.2 * tuning.latency,
        latency_mean: 0.8 * tuning.latency / (1.0 - u.min(0.97)),
    };
    PodUsage {
        pod: pod.clone(),
        workload: workload.map(|(i, _)| i),
        ready,
        running,
        rps,
        containers,
        traffic,
    }
}

/// The workload of a pod: its controller, or its ReplicaSet's Deployment.
fn workload_key<'a>(
    pod: &'a Value,
    rs_owner: &'a HashMap<(String, String), String>,
) -> Option<(&'static str, &'a str)> {
    let r = controller_ref(pod)?;
    let name = r["name"].as_str()?;
    match r["kind"].as_str()? {
        "StatefulSet" => Some(("StatefulSet", name)),
        "ReplicaSet" => rs_owner
            .get(&(meta_str(pod, "namespace").to_string(), name.to_string()))
            .map(|d| ("Deployment", d.as_str())),
        _ => None,
    }
}

/// Models every pod of `ns` (or all namespaces) at `now`.
pub(crate) fn snapshot(ctx: &Ctx, ns: Option<&str>, now: DateTime<Utc>) -> Snapshot {
    let store = &ctx.store;
    let mut workloads = Vec::new();
    let mut index: HashMap<(&'static str, String, String), usize> = HashMap::new();
    let services = store.list(&resources::SERVICES, ns);
    let mut services_by_ns: HashMap<&str, Vec<(&str, LabelSelector)>> = HashMap::new();
    for s in &services {
        if s["spec"]["selector"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
        {
            services_by_ns
                .entry(meta_str(s, "namespace"))
                .or_default()
                .push((
                    meta_str(s, "name"),
                    LabelSelector::from_map(&s["spec"]["selector"]),
                ));
        }
    }
    for (kind, res) in [
        ("Deployment", &resources::DEPLOYMENTS),
        ("StatefulSet", &resources::STATEFULSETS),
    ] {
        for w in store.list(res, ns) {
            let (profile, tuning) = workload_load(&w);
            let namespace = meta_str(&w, "namespace").to_string();
            let name = meta_str(&w, "name").to_string();
            let labels = &w["spec"]["template"]["metadata"]["labels"];
            let service = services_by_ns
                .get(namespace.as_str())
                .and_then(|list| list.iter().find(|(_, sel)| sel.matches(labels)))
                .map_or_else(|| name.clone(), |(s, _)| s.to_string());
            index.insert((kind, namespace, name), workloads.len());
            workloads.push(Workload {
                profile,
                tuning,
                service,
                ready: 0,
                active: 0,
            });
        }
    }
    let mut rs_owner = HashMap::new();
    for rs in store.list(&resources::REPLICASETS, ns) {
        if let Some(d) = controller_name(&rs, "Deployment") {
            rs_owner.insert(
                (
                    meta_str(&rs, "namespace").to_string(),
                    meta_str(&rs, "name").to_string(),
                ),
                d.to_string(),
            );
        }
    }
    let pods = store.list(&resources::PODS, ns);
    let mut owners = Vec::with_capacity(pods.len());
    for p in &pods {
        let w = workload_key(p, &rs_owner).and_then(|(kind, name)| {
            index
                .get(&(kind, meta_str(p, "namespace").to_string(), name.to_string()))
                .copied()
        });
        if let Some(i) = w
            && pod_is_active(p)
        {
            workloads[i].active += 1;
            if pod_is_ready(p) {
                workloads[i].ready += 1;
            }
        }
        owners.push(w);
    }
    let seed = ctx.config.seed;
    let pods = pods
        .iter()
        .zip(owners)
        .map(|(p, w)| pod_usage(seed, p, w.map(|i| (i, &workloads[i])), now))
        .collect();
    Snapshot {
        now,
        workloads,
        pods,
    }
}

/// How long ahead `oom_at` looks, and its step.
const OOM_HORIZON_SECONDS: i64 = 3600;
const OOM_STEP_SECONDS: i64 = 5;

/// When a container of `pod` will first use more memory than its limit
/// (from `now`, looking an hour ahead at the current replica count), with
/// the container's name. `now` itself when it already does. The kubelet
/// OOM-kills it then; as the answer depends on the load annotation and on
/// how many pods share the traffic, ask again when those change (or every
/// sync).
pub(crate) fn oom_at(
    ctx: &Ctx,
    pod: &Value,
    now: DateTime<Utc>,
) -> Option<(String, DateTime<Utc>)> {
    let ns = meta_str(pod, "namespace");
    let uid = meta_str(pod, "uid");
    let snap = snapshot(ctx, Some(ns), now);
    let current = snap.pods.iter().find(|p| meta_str(&p.pod, "uid") == uid)?;
    current
        .containers
        .iter()
        .any(|c| c.memory_limit.is_some())
        .then_some(())?;
    let workload = current.workload.map(|i| (i, &snap.workloads[i]));
    let mut t = now;
    while t <= now + chrono::Duration::seconds(OOM_HORIZON_SECONDS) {
        let u = pod_usage(ctx.config.seed, &current.pod, workload, t);
        if let Some(c) = u
            .containers
            .iter()
            .find(|c| c.memory_limit.is_some_and(|l| c.memory >= l))
        {
            return Some((c.name.clone(), t));
        }
        t += chrono::Duration::seconds(OOM_STEP_SECONDS);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fmt_time;
    use crate::test_support::{deployment, pod, ready_pod, t0, test_ctx};
    use serde_json::json;

    #[test]
    fn traffic_is_split_over_ready_pods_and_drives_cpu() {
        let ctx = test_ctx(&["demo"]);
        deployment(&ctx, "web", 2, "steady 400rps");
        ready_pod(&ctx, "web", 0);
        ready_pod(&ctx, "web", 1);
        pod(&ctx, "web", 2, None, "app:1");
        let snap = snapshot(&ctx, Some("demo"), t0());
        assert_eq!(snap.workloads[0].ready, 2);
        assert_eq!(snap.workloads[0].active, 3);
        let ready: Vec<&PodUsage> = snap.pods.iter().filter(|p| p.ready).collect();
        assert_eq!(ready.len(), 2);
        for p in &ready {
            assert!((p.rps - 200.0).abs() <= 10.0, "{}", p.rps);
            // 3m idle + 200 rps × 1m, within the noise.
            assert!((p.cpu() - 0.203).abs() < 0.03, "{}", p.cpu());
        }
        let unready = snap.pods.iter().find(|p| !p.ready).unwrap();
        assert_eq!(unready.rps, 0.0);
        assert!(unready.cpu() < 0.01);
        // Same inputs, same numbers.
        let again = snapshot(&ctx, Some("demo"), t0());
        assert_eq!(again.pods[0].containers, snap.pods[0].containers);
    }

    #[test]
    fn overload_raises_errors_and_latency() {
        let ctx = test_ctx(&["demo"]);
        deployment(&ctx, "web", 1, "steady 2000rps");
        ready_pod(&ctx, "web", 0);
        deployment(&ctx, "calm", 1, "steady 10rps");
        ready_pod(&ctx, "calm", 0);
        let snap = snapshot(&ctx, Some("demo"), t0());
        let busy = snap
            .pods
            .iter()
            .find(|p| meta_str(&p.pod, "name") == "web-0")
            .unwrap();
        let calm = snap
            .pods
            .iter()
            .find(|p| meta_str(&p.pod, "name") == "calm-0")
            .unwrap();
        // Capacity from the 1-core limit is ~997 rps: half the load is shed.
        assert!(busy.traffic.overload_errors > 0.4, "{:?}", busy.traffic);
        assert_eq!(calm.traffic.overload_errors, 0.0);
        assert!(calm.traffic.server_errors < 0.01);
        assert!(busy.traffic.mean_latency() > 10.0 * calm.traffic.mean_latency());
        assert!(busy.cpu() <= 1.0, "throttled at the limit");
    }

    #[test]
    fn crashloop_images_fail_requests_and_memory_over_the_limit_means_oom() {
        let ctx = test_ctx(&["demo"]);
        deployment(&ctx, "bad", 1, "steady 10rps");
        pod(
            &ctx,
            "bad",
            0,
            Some(t0() - chrono::Duration::minutes(1)),
            "registry.example/crashloop:1",
        );
        let snap = snapshot(&ctx, Some("demo"), t0());
        assert!(snap.pods[0].traffic.server_errors > 0.4);

        // 512Mi limit, 64Mi base + 1Mi per rps: 100 rps is fine, a spike to
        // 1000 rps starting in ten minutes is not.
        ctx.store
            .modify(&resources::DEPLOYMENTS, "demo", "bad", |d| {
                d["metadata"]["annotations"]["kubedeck.io/load"] = json!(format!(
                    "spike 100rps 1000rps 5m at {}",
                    fmt_time(t0() + chrono::Duration::minutes(10))
                ));
                d["metadata"]["annotations"]["kubedeck.io/load-memory-per-request"] = json!("1Mi");
            })
            .unwrap();
        let pod = ctx.store.get(&resources::PODS, "demo", "bad-0").unwrap();
        let (container, at) = oom_at(&ctx, &pod, t0()).unwrap();
        assert_eq!(container, "app");
        assert_eq!(at, t0() + chrono::Duration::minutes(10));
    }

    #[test]
    fn noise_is_bounded_and_repeatable() {
        let a = noise(1, "uid", 3, t0());
        assert_eq!(a, noise(1, "uid", 3, t0() + chrono::Duration::seconds(5)));
        assert_ne!(a, noise(2, "uid", 3, t0()));
        for i in 0..1000 {
            let n = noise(7, "u", i, t0());
            assert!((-1.0..=1.0).contains(&n));
        }
    }
}
