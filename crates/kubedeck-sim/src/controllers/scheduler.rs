//! The scheduler (`default-scheduler`): binds pending pods to nodes that pass
//! the filters a real scheduler applies (unschedulable, taints, node
//! selector and required node affinity, resource fit, pod count) and scores
//! the survivors by spreading pods of one owner, then by least allocation.
//!
//! Node usage is kept incrementally from the change feed, so binding a pod
//! costs O(nodes), not O(pods); a full rescan happens only when the cache may
//! have missed changes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use kubedeck_kube::quantity::parse_quantity;

use super::workload_util::{controller_ref, is_terminal};
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, ObjKey, fmt_time, meta_str, obj_key};

pub(crate) const SCHEDULER_NAME: &str = "default-scheduler";

/// How often the usage cache is rebuilt from the store, as a guard against
/// changes the feed dropped.
const RESYNC: Duration = Duration::from_secs(30);
/// Unschedulable pods are also retried this often, as the real scheduler
/// flushes its unschedulable queue.
const UNSCHEDULABLE_RETRY: Duration = Duration::from_secs(60);

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(Scheduler::default())]
}

/// A pod's effective requests (cpu cores, memory bytes): the larger of its
/// containers' sum and any single init container, as the scheduler computes.
pub(crate) fn pod_requests(pod: &Value) -> (f64, f64) {
    let sum = |list: &Value| -> (f64, f64) {
        list.as_array().map_or((0.0, 0.0), |cs| {
            cs.iter().fold((0.0, 0.0), |(c, m), ctr| {
                let r = &ctr["resources"]["requests"];
                (
                    c + r["cpu"].as_str().and_then(parse_quantity).unwrap_or(0.0),
                    m + r["memory"].as_str().and_then(parse_quantity).unwrap_or(0.0),
                )
            })
        })
    };
    let (mut cpu, mut mem) = sum(&pod["spec"]["containers"]);
    if let Some(inits) = pod["spec"]["initContainers"].as_array() {
        for init in inits {
            let (c, m) = sum(&json!([init]));
            cpu = cpu.max(c);
            mem = mem.max(m);
        }
    }
    (cpu, mem)
}

/// Whether a node's Ready condition is True. A node without conditions
/// (created by hand, not yet seen by the node controller) counts as Ready.
pub(crate) fn node_is_ready(node: &Value) -> bool {
    match node["status"]["conditions"].as_array() {
        None => true,
        Some(conds) => conds
            .iter()
            .find(|c| c["type"] == "Ready")
            .is_none_or(|c| c["status"] == "True"),
    }
}

fn allocatable(node: &Value, field: &str) -> Option<f64> {
    let a = &node["status"]["allocatable"][field];
    let v = &node["status"]["capacity"][field];
    a.as_str()
        .or_else(|| v.as_str())
        .and_then(parse_quantity)
        .or_else(|| a.as_f64())
}

#[derive(Clone, Debug, PartialEq)]
struct Placement {
    node: String,
    cpu: f64,
    mem: f64,
    owner: Option<String>,
}

#[derive(Default, Clone, Debug)]
struct Usage {
    cpu: f64,
    mem: f64,
    pods: u32,
}

#[derive(Default)]
struct Cache {
    placements: HashMap<ObjKey, Placement>,
    nodes: HashMap<String, Usage>,
    /// (owner uid, node) → pods of that owner on the node.
    owners: HashMap<(String, String), u32>,
    built: Option<Instant>,
}

impl Cache {
    fn placement_of(pod: &Value) -> Option<Placement> {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        if node.is_empty() || is_terminal(pod) {
            return None;
        }
        let (cpu, mem) = pod_requests(pod);
        Some(Placement {
            node: node.to_string(),
            cpu,
            mem,
            owner: controller_ref(pod).and_then(|r| r["uid"].as_str().map(str::to_string)),
        })
    }

    /// Records a pod's current state (None: gone).
    fn observe(&mut self, key: &ObjKey, pod: Option<&Value>) {
        let next = pod.and_then(Self::placement_of);
        if self.placements.get(key) == next.as_ref() {
            return;
        }
        if let Some(old) = self.placements.remove(key) {
            if let Some(u) = self.nodes.get_mut(&old.node) {
                u.cpu -= old.cpu;
                u.mem -= old.mem;
                u.pods = u.pods.saturating_sub(1);
            }
            if let Some(owner) = old.owner {
                let k = (owner, old.node);
                if let Some(n) = self.owners.get_mut(&k) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.owners.remove(&k);
                    }
                }
            }
        }
        if let Some(p) = next {
            let u = self.nodes.entry(p.node.clone()).or_default();
            u.cpu += p.cpu;
            u.mem += p.mem;
            u.pods += 1;
            if let Some(owner) = &p.owner {
                *self
                    .owners
                    .entry((owner.clone(), p.node.clone()))
                    .or_default() += 1;
            }
            self.placements.insert(key.clone(), p);
        }
    }

    fn rebuild(&mut self, ctx: &Ctx) {
        *self = Cache::default();
        for pod in ctx.store.list(&resources::PODS, None) {
            self.observe(&obj_key(&pod), Some(&pod));
        }
        self.built = Some(Instant::now());
    }
}

#[derive(Default)]
struct State {
    cache: Cache,
    /// Pods that fit nowhere at their last attempt, retried when room may
    /// have appeared.
    unschedulable: HashSet<ObjKey>,
    /// When each pending pod was first seen, for the scheduling delay.
    first_seen: HashMap<ObjKey, Instant>,
}

#[derive(Default)]
pub(crate) struct Scheduler {
    state: Mutex<State>,
}

fn wants_scheduling(pod: &Value) -> bool {
    pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty()
        && pod["metadata"]["deletionTimestamp"].is_null()
        && pod["spec"]["schedulerName"]
            .as_str()
            .is_none_or(|s| s.is_empty() || s == SCHEDULER_NAME)
        && !is_terminal(pod)
}

/// The parts of a node that can change a scheduling decision (not its
/// heartbeat).
fn node_sched_view(node: &Value) -> Value {
    json!([
        node["spec"],
        node["metadata"]["labels"],
        node["status"]["allocatable"],
        node_is_ready(node),
    ])
}

/// Whether one of the tolerations tolerates the taint.
pub(crate) fn tolerates(tolerations: &[Value], taint: &Value) -> bool {
    tolerations.iter().any(|t| {
        let effect = t["effect"].as_str().unwrap_or("");
        if !effect.is_empty() && effect != taint["effect"].as_str().unwrap_or("") {
            return false;
        }
        let key = t["key"].as_str().unwrap_or("");
        let op = t["operator"].as_str().unwrap_or("Equal");
        if key.is_empty() {
            return op == "Exists";
        }
        if key != taint["key"].as_str().unwrap_or("") {
            return false;
        }
        op == "Exists" || t["value"].as_str().unwrap_or("") == taint["value"].as_str().unwrap_or("")
    })
}

/// The pod's nodeSelector and required node affinity, `matchFields`
/// (`metadata.name`, as a DaemonSet's pods carry) included.
fn node_selector_matches(pod: &Value, node: &Value) -> bool {
    super::daemonset::fits_node(&pod["spec"], node)
}

/// Why a node rejects a pod, in the scheduler's words, and whether
/// preemption could help.
fn filter(pod: &Value, req: (f64, f64), node: &Value, usage: &Usage) -> Vec<(String, bool)> {
    let mut reasons = Vec::new();
    let tolerations = pod["spec"]["tolerations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if node["spec"]["unschedulable"].as_bool() == Some(true)
        && !tolerates(
            tolerations,
            &json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}),
        )
    {
        reasons.push(("node(s) were unschedulable".to_string(), false));
        return reasons;
    }
    let mut taints: Vec<Value> = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !node_is_ready(node)
        && !taints.iter().any(|t| {
            t["key"] == "node.kubernetes.io/not-ready"
                || t["key"] == "node.kubernetes.io/unreachable"
        })
    {
        taints.push(json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}));
    }
    for taint in &taints {
        let effect = taint["effect"].as_str().unwrap_or("");
        if (effect == "NoSchedule" || effect == "NoExecute") && !tolerates(tolerations, taint) {
            reasons.push((
                format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint["key"].as_str().unwrap_or(""),
                    taint["value"].as_str().unwrap_or("")
                ),
                false,
            ));
            return reasons;
        }
    }
    if !node_selector_matches(pod, node) {
        reasons.push((
            "node(s) didn't match Pod's node affinity/selector".to_string(),
            false,
        ));
        return reasons;
    }
    let max_pods = allocatable(node, "pods").unwrap_or(110.0);
    if f64::from(usage.pods) + 1.0 > max_pods {
        reasons.push(("Too many pods".to_string(), true));
    }
    // Tolerate float noise from summing many millicore requests.
    const EPS: f64 = 1e-6;
    if req.0 > 0.0 && usage.cpu + req.0 > allocatable(node, "cpu").unwrap_or(0.0) + EPS {
        reasons.push(("Insufficient cpu".to_string(), true));
    }
    if req.1 > 0.0 && usage.mem + req.1 > allocatable(node, "memory").unwrap_or(0.0) + EPS {
        reasons.push(("Insufficient memory".to_string(), true));
    }
    reasons
}

/// The FailedScheduling message, as kube-scheduler words it.
fn failure_message(total: usize, per_node: &[Vec<(String, bool)>]) -> String {
    if total == 0 {
        return "no nodes available to schedule pods".to_string();
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let (mut helpless, mut no_victims) = (0, 0);
    for reasons in per_node {
        for (r, _) in reasons {
            *counts.entry(r.as_str()).or_default() += 1;
        }
        if reasons.iter().all(|(_, preemptible)| *preemptible) {
            no_victims += 1;
        } else {
            helpless += 1;
        }
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    let mut preemption = Vec::new();
    if helpless > 0 {
        preemption.push(format!(
            "{helpless} Preemption is not helpful for scheduling"
        ));
    }
    if no_victims > 0 {
        preemption.push(format!(
            "{no_victims} No preemption victims found for incoming pod"
        ));
    }
    preemption.sort();
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        parts.join(", "),
        preemption.join(", ")
    )
}

/// The labels of a node that kube-apiserver copies onto a pod bound to it
/// (the PodTopologyLabels admission plugin, on by default since 1.35).
const TOPOLOGY_LABELS: &[&str] = &[
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
];

/// Binds `pod` to `node` as a pods/binding does: the node's name, the
/// PodScheduled condition, and the node's topology labels.
pub(crate) fn bind(pod: &mut Value, node: &Value, now: &str) {
    pod["spec"]["nodeName"] = json!(meta_str(node, "name"));
    for label in TOPOLOGY_LABELS {
        if let Some(v) = node["metadata"]["labels"][label].as_str() {
            if !pod["metadata"]["labels"].is_object() {
                pod["metadata"]["labels"] = json!({});
            }
            pod["metadata"]["labels"][label] = json!(v);
        }
    }
    set_condition(
        pod,
        json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
               "lastTransitionTime": now}),
    );
}

fn set_condition(pod: &mut Value, cond: Value) {
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    let conds = &mut pod["status"]["conditions"];
    if !conds.is_array() {
        *conds = json!([]);
    }
    let Some(list) = conds.as_array_mut() else {
        return;
    };
    match list.iter_mut().find(|c| c["type"] == cond["type"]) {
        Some(existing) => {
            let same = existing["status"] == cond["status"];
            let ltt = existing["lastTransitionTime"].clone();
            *existing = cond;
            if same && !ltt.is_null() {
                existing["lastTransitionTime"] = ltt;
            }
        }
        None => list.push(cond),
    }
}

impl Scheduler {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn schedule(&self, ctx: &Ctx, key: &ObjKey, pod: &Value) -> Option<Duration> {
        let mut st = self.lock();
        let stale = st.cache.built.is_none_or(|t| t.elapsed() > RESYNC)
            || ctx.store.count(&resources::PODS) < st.cache.placements.len();
        if stale {
            st.cache.rebuild(ctx);
        }
        let first = *st
            .first_seen
            .entry(key.clone())
            .or_insert_with(Instant::now);
        let wait = ctx.config.delays.schedule.saturating_sub(first.elapsed());
        if !wait.is_zero() && !st.unschedulable.contains(key) {
            return Some(wait);
        }

        let req = pod_requests(pod);
        let owner = controller_ref(pod)
            .and_then(|r| r["uid"].as_str())
            .map(str::to_string);
        let nodes = ctx.store.list(&resources::NODES, None);
        let mut failures = Vec::new();
        let mut best: Option<((u32, f64, u32), &Value)> = None;
        for node in &nodes {
            let name = meta_str(node, "name");
            let usage = st.cache.nodes.get(name).cloned().unwrap_or_default();
            let reasons = filter(pod, req, node, &usage);
            if !reasons.is_empty() {
                failures.push(reasons);
                continue;
            }
            let same_owner = owner
                .as_ref()
                .and_then(|o| st.cache.owners.get(&(o.clone(), name.to_string())))
                .copied()
                .unwrap_or(0);
            let cpu_frac = (usage.cpu + req.0) / allocatable(node, "cpu").unwrap_or(1.0).max(1e-9);
            let mem_frac =
                (usage.mem + req.1) / allocatable(node, "memory").unwrap_or(1.0).max(1.0);
            let score = (same_owner, cpu_frac + mem_frac, usage.pods);
            if best.as_ref().is_none_or(|(b, _)| {
                score.0 < b.0
                    || (score.0 == b.0
                        && (score.1 < b.1 - 1e-12
                            || ((score.1 - b.1).abs() <= 1e-12 && score.2 < b.2)))
            }) {
                best = Some((score, node));
            }
        }

        let Some((_, node)) = best else {
            let message = failure_message(nodes.len(), &failures);
            st.unschedulable.insert(key.clone());
            drop(st);
            let now = fmt_time(Utc::now());
            let updated = ctx.store.modify(&resources::PODS, &key.0, &key.1, |p| {
                set_condition(
                    p,
                    json!({"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                           "message": message, "lastProbeTime": null, "lastTransitionTime": now}),
                );
            });
            if let Ok(Some(p)) = updated {
                ctx.recorder.record_new(
                    &p,
                    events::WARNING,
                    "FailedScheduling",
                    "Scheduling",
                    &message,
                    SCHEDULER_NAME,
                );
            }
            return Some(UNSCHEDULABLE_RETRY);
        };

        let node_name = meta_str(node, "name").to_string();
        let now = fmt_time(Utc::now());
        let bound = ctx
            .store
            .modify(&resources::PODS, &key.0, &key.1, |p| bind(p, node, &now));
        match bound {
            Ok(Some(p)) => {
                st.cache.observe(key, Some(&p));
                st.unschedulable.remove(key);
                st.first_seen.remove(key);
                drop(st);
                let msg = format!("Successfully assigned {}/{} to {node_name}", key.0, key.1);
                ctx.recorder.record_new(
                    &p,
                    events::NORMAL,
                    "Scheduled",
                    "Binding",
                    &msg,
                    SCHEDULER_NAME,
                );
                None
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(pod = %key.1, "binding failed: {e}");
                Some(UNSCHEDULABLE_RETRY)
            }
        }
    }
}

impl Controller for Scheduler {
    fn name(&self) -> &'static str {
        SCHEDULER_NAME
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::PODS
    }

    fn keys_for(&self, _ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        let mut st = self.lock();
        if std::ptr::eq(change.res, &resources::NODES) {
            let relevant = match (&change.kind, &change.old) {
                (ChangeType::Modified, Some(old)) => {
                    node_sched_view(old) != node_sched_view(&change.object)
                }
                _ => true,
            };
            return if relevant {
                st.unschedulable.iter().cloned().collect()
            } else {
                Vec::new()
            };
        }
        if !std::ptr::eq(change.res, &resources::PODS) {
            return Vec::new();
        }
        let key = obj_key(&change.object);
        let gone = change.kind == ChangeType::Deleted;
        let had_room = st.cache.placements.contains_key(&key);
        st.cache
            .observe(&key, (!gone).then_some(change.object.as_ref()));
        let freed = had_room && !st.cache.placements.contains_key(&key);
        let mut keys = Vec::new();
        if freed {
            keys.extend(st.unschedulable.iter().cloned());
        }
        if gone || !wants_scheduling(&change.object) {
            st.unschedulable.remove(&key);
            st.first_seen.remove(&key);
        } else {
            // Our own status write on an unschedulable pod must not retrigger
            // it; a spec change (new tolerations, selector) may help.
            let spec_changed = change
                .old
                .as_ref()
                .is_none_or(|o| o["spec"] != change.object["spec"]);
            if !st.unschedulable.contains(&key) || spec_changed {
                keys.push(key);
            }
        }
        keys
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let pod = ctx.store.get(&resources::PODS, &key.0, &key.1);
        let Some(pod) = pod.filter(|p| wants_scheduling(p)) else {
            let mut st = self.lock();
            st.unschedulable.remove(key);
            st.first_seen.remove(key);
            return None;
        };
        self.schedule(ctx, key, &pod)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Delays, SimConfig};
    use crate::test_support::test_ctx_with;

    /// The namespaces `default` and `demo`, and a scheduler that binds at once.
    fn immediate_ctx() -> Ctx {
        let config = SimConfig {
            delays: Delays {
                schedule: Duration::ZERO,
                ..Delays::default()
            },
            ..SimConfig::default()
        };
        test_ctx_with(config, &["default", "demo"])
    }

    fn node(ctx: &Ctx, name: &str, cpu: &str) {
        ctx.store
            .create(
                &resources::NODES,
                json!({"metadata": {"name": name, "labels": {"disk": "ssd"}},
                       "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
                                  "conditions": [{"type": "Ready", "status": "True"}]}}),
            )
            .ok();
    }

    fn pod(ctx: &Ctx, name: &str, cpu: &str, owner: Option<&str>) -> ObjKey {
        let mut p = json!({"metadata": {"name": name, "namespace": "demo"},
            "spec": {"containers": [{"name": "web", "image": "nginx",
                     "resources": {"requests": {"cpu": cpu}}}]}});
        if let Some(o) = owner {
            p["metadata"]["ownerReferences"] =
                json!([{"kind": "ReplicaSet", "name": "rs", "uid": o, "controller": true}]);
        }
        let p = ctx.store.create(&resources::PODS, p).expect("create pod");
        obj_key(&p)
    }

    fn feed(
        s: &Scheduler,
        ctx: &Ctx,
        rx: &mut tokio::sync::broadcast::Receiver<Arc<Change>>,
    ) -> Vec<ObjKey> {
        let mut keys = Vec::new();
        while let Ok(c) = rx.try_recv() {
            keys.extend(s.keys_for(ctx, &c));
        }
        keys
    }

    fn node_of(ctx: &Ctx, key: &ObjKey) -> String {
        ctx.store
            .get(&resources::PODS, &key.0, &key.1)
            .and_then(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn replicas_of_one_owner_spread_and_the_event_names_the_node() {
        let ctx = immediate_ctx();
        let s = Scheduler::default();
        node(&ctx, "n1", "4");
        node(&ctx, "n2", "4");
        let mut rx = ctx.store.subscribe();
        let a = pod(&ctx, "web-a", "100m", Some("rs-1"));
        let b = pod(&ctx, "web-b", "100m", Some("rs-1"));
        feed(&s, &ctx, &mut rx);
        assert_eq!(s.reconcile(&ctx, &a), None);
        feed(&s, &ctx, &mut rx);
        s.reconcile(&ctx, &b);
        let (na, nb) = (node_of(&ctx, &a), node_of(&ctx, &b));
        assert!(!na.is_empty() && !nb.is_empty());
        assert_ne!(na, nb, "two replicas of one owner must land on two nodes");
        let p = ctx
            .store
            .get(&resources::PODS, "demo", "web-a")
            .expect("pod");
        assert_eq!(p["status"]["conditions"][0]["type"], "PodScheduled");
        assert_eq!(p["status"]["conditions"][0]["status"], "True");
        let evs = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(evs.iter().any(|e| e["reason"] == "Scheduled"
            && e["message"] == format!("Successfully assigned demo/web-a to {na}")));
    }

    #[test]
    fn a_bound_pod_carries_its_nodes_zone_and_region() {
        let ctx = immediate_ctx();
        let s = Scheduler::default();
        node(&ctx, "n1", "4");
        ctx.store
            .modify(&resources::NODES, "", "n1", |n| {
                n["metadata"]["labels"]["topology.kubernetes.io/zone"] = json!("eu-west-2b");
                n["metadata"]["labels"]["topology.kubernetes.io/region"] = json!("eu-west-2");
                n["metadata"]["labels"]["kubernetes.io/os"] = json!("linux");
            })
            .expect("label the node");
        let mut rx = ctx.store.subscribe();
        let a = pod(&ctx, "web-a", "100m", None);
        feed(&s, &ctx, &mut rx);
        s.reconcile(&ctx, &a);
        let p = ctx
            .store
            .get(&resources::PODS, "demo", "web-a")
            .expect("pod");
        let labels = &p["metadata"]["labels"];
        assert_eq!(labels["topology.kubernetes.io/zone"], "eu-west-2b");
        assert_eq!(labels["topology.kubernetes.io/region"], "eu-west-2");
        assert!(
            labels["kubernetes.io/os"].is_null(),
            "only topology labels are copied"
        );
    }

    #[test]
    fn a_pod_that_fits_nowhere_waits_and_is_retried_when_room_appears() {
        let ctx = immediate_ctx();
        let s = Scheduler::default();
        node(&ctx, "n1", "1");
        node(&ctx, "n2", "1");
        node(&ctx, "n3", "1");
        let mut rx = ctx.store.subscribe();
        let big = pod(&ctx, "big", "2", None);
        feed(&s, &ctx, &mut rx);
        assert_eq!(s.reconcile(&ctx, &big), Some(UNSCHEDULABLE_RETRY));
        let p = ctx.store.get(&resources::PODS, "demo", "big").expect("pod");
        let cond = &p["status"]["conditions"][0];
        assert_eq!(cond["status"], "False");
        assert_eq!(cond["reason"], "Unschedulable");
        let msg = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
        assert_eq!(cond["message"], msg);
        let evs = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(evs.iter().any(|e| e["reason"] == "FailedScheduling"
            && e["message"] == msg
            && e["type"] == "Warning"));
        // Our own status write does not requeue it (no hot loop).
        assert!(feed(&s, &ctx, &mut rx).is_empty());
        // A bigger node appears: the pod is retried and binds there.
        node(&ctx, "n4", "8");
        assert_eq!(feed(&s, &ctx, &mut rx), vec![big.clone()]);
        s.reconcile(&ctx, &big);
        assert_eq!(node_of(&ctx, &big), "n4");
    }

    #[test]
    fn cordoned_tainted_and_full_nodes_are_filtered_with_kube_reasons() {
        let ctx = immediate_ctx();
        let s = Scheduler::default();
        node(&ctx, "n1", "4");
        node(&ctx, "n2", "4");
        ctx.store
            .modify(&resources::NODES, "", "n1", |n| {
                n["spec"]["unschedulable"] = json!(true)
            })
            .ok();
        ctx.store
            .modify(
                &resources::NODES,
                "",
                "n2",
                |n| {
                    n["spec"]["taints"] =
                        json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
                },
            )
            .ok();
        let mut rx = ctx.store.subscribe();
        let p = pod(&ctx, "p", "100m", None);
        feed(&s, &ctx, &mut rx);
        s.reconcile(&ctx, &p);
        let obj = ctx.store.get(&resources::PODS, "demo", "p").expect("pod");
        assert_eq!(
            obj["status"]["conditions"][0]["message"],
            "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
        // A toleration makes the tainted node usable.
        ctx.store
            .modify(&resources::PODS, "demo", "p", |o| {
                o["spec"]["tolerations"] = json!([{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}])
            })
            .ok();
        assert_eq!(feed(&s, &ctx, &mut rx), vec![p.clone()]);
        s.reconcile(&ctx, &p);
        assert_eq!(node_of(&ctx, &p), "n2");
    }

    #[test]
    fn node_selector_and_affinity_expressions_restrict_nodes() {
        let pod = json!({"spec": {"nodeSelector": {"disk": "ssd"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
              {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}}}});
        let n = |labels: Value| json!({"metadata": {"labels": labels}});
        assert!(node_selector_matches(
            &pod,
            &n(json!({"disk": "ssd", "zone": "a"}))
        ));
        assert!(!node_selector_matches(
            &pod,
            &n(json!({"disk": "ssd", "zone": "c"}))
        ));
        assert!(!node_selector_matches(
            &pod,
            &n(json!({"disk": "hdd", "zone": "a"}))
        ));
    }
}
