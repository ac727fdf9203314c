//! The DaemonSet controller (`daemonset-controller`): one pod per eligible
//! node, placed by node affinity as kube ≥1.12 does (the default scheduler
//! binds it, to the node its `matchFields` names), rolled to a new template
//! node by node, and counted in the status.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::scheduler::tolerates;
use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, Obj, ObjKey, meta_str, obj_key};

const COMPONENT: &str = "daemonset-controller";
const TEMPLATE_GENERATION: &str = "pod-template-generation";

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(DaemonSetController)]
}

struct DaemonSetController;

impl Controller for DaemonSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::DAEMONSETS
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, &resources::DAEMONSETS) {
            return vec![obj_key(&change.object)];
        }
        if std::ptr::eq(change.res, &resources::PODS) {
            let mut keys = wu::owner_keys(change, "DaemonSet");
            if !keys.is_empty() && !pod_change_matters(change) {
                keys.clear();
            }
            return keys;
        }
        if std::ptr::eq(change.res, &resources::NODES) && node_change_matters(change) {
            return ctx
                .store
                .list(&resources::DAEMONSETS, None)
                .iter()
                .map(|ds| obj_key(ds))
                .collect();
        }
        Vec::new()
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let ds = ctx.store.get(&resources::DAEMONSETS, &key.0, &key.1)?;
        let hash = current_revision(ctx, &ds);
        let nodes = ctx.store.list(&resources::NODES, None);
        let places = placements(&ds, &nodes);
        let pods = wu::claim_pods(ctx, &ds);
        if !wu::is_terminating(&ds) {
            manage(ctx, &ds, &hash, &nodes, &places, &pods);
        }
        let pods = wu::claim_pods(ctx, &ds);
        let now = Utc::now();
        let min_ready = wu::int_field(&ds["spec"]["minReadySeconds"], 0);
        let status = compute_status(&ds, &hash, &nodes, &places, &pods, min_ready, now);
        if ds["status"] != status {
            let _ = ctx
                .store
                .modify(&resources::DAEMONSETS, &key.0, &key.1, |o| {
                    o["status"] = status;
                });
        }
        pods.iter()
            .filter(|p| wu::pod_is_active(p))
            .filter_map(|p| wu::until_available(p, min_ready, now))
            .min()
    }
}

/// The kubelet reports each container step; only what the DaemonSet counts
/// or manages (phase, readiness, placement, ownership, deletion) matters.
fn pod_change_matters(change: &Change) -> bool {
    let Some(old) = &change.old else {
        return true;
    };
    let view = |p: &Value| {
        (
            wu::phase(p).to_string(),
            wu::ready_since(p),
            p["metadata"]["deletionTimestamp"].clone(),
            p["spec"]["nodeName"].clone(),
            p["metadata"]["labels"].clone(),
            p["metadata"]["ownerReferences"].clone(),
        )
    };
    change.kind != ChangeType::Modified || view(old) != view(&change.object)
}

/// Nodes heartbeat constantly; only their coming, going, labels and taints
/// change where daemon pods belong.
fn node_change_matters(change: &Change) -> bool {
    let Some(old) = &change.old else {
        return true;
    };
    change.kind != ChangeType::Modified
        || old["metadata"]["labels"] != change.object["metadata"]["labels"]
        || old["spec"]["taints"] != change.object["spec"]["taints"]
}

/// The hash of the current template, recording it as a ControllerRevision
/// (what `kubectl rollout history/undo daemonset` reads) when it is new.
fn current_revision(ctx: &Ctx, ds: &Value) -> String {
    let template = &ds["spec"]["template"];
    let collisions = ds["status"]["collisionCount"].as_i64();
    let hash = wu::stable_hash(template, collisions);
    let ns = meta_str(ds, "namespace");
    let name = format!("{}-{hash}", meta_str(ds, "name"));
    if wu::is_terminating(ds) {
        return hash;
    }
    let uid = meta_str(ds, "uid");
    let last = wu::owned(ctx, &resources::CONTROLLER_REVISIONS, ns, uid)
        .iter()
        .filter_map(|r| r["revision"].as_i64())
        .max()
        .unwrap_or(0);
    if let Some(existing) = ctx.store.get(&resources::CONTROLLER_REVISIONS, ns, &name) {
        // A rollback to an earlier template makes that revision the newest.
        if existing["revision"].as_i64().is_some_and(|r| r < last) {
            let _ = ctx
                .store
                .modify(&resources::CONTROLLER_REVISIONS, ns, &name, |r| {
                    r["revision"] = json!(last + 1);
                });
        }
        return hash;
    }
    let mut data_template = template.clone();
    if data_template.is_object() {
        data_template["$patch"] = json!("replace");
    }
    let mut labels = ds["spec"]["selector"]["matchLabels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels[wu::REVISION_HASH] = json!(hash);
    let revision = json!({
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels,
            "ownerReferences": [wu::controller_ref_to(ds)],
        },
        "data": {"spec": {"template": data_template}},
        "revision": last + 1,
    });
    // A concurrent reconcile may have created it first; either way it exists.
    let _ = ctx.store.create(&resources::CONTROLLER_REVISIONS, revision);
    hash
}

/// The tolerations kube's `AddOrUpdateDaemonPodTolerations` gives every
/// daemon pod, so that node trouble never evicts or blocks it.
fn daemon_tolerations(template_spec: &Value) -> Vec<Value> {
    let mut out = vec![
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if template_spec["hostNetwork"].as_bool() == Some(true) {
        out.push(("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    out.into_iter()
        .map(|(key, effect)| json!({"key": key, "operator": "Exists", "effect": effect}))
        .collect()
}

/// The template's tolerations plus the daemon ones it lacks.
fn pod_tolerations(template_spec: &Value) -> Vec<Value> {
    let mut all: Vec<Value> = template_spec["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for t in daemon_tolerations(template_spec) {
        let present = all
            .iter()
            .any(|x| x["key"] == t["key"] && x["effect"] == t["effect"]);
        if !present {
            all.push(t);
        }
    }
    all
}

/// One node selector requirement against a node's labels, or its name for
/// `matchFields`.
fn requirement_matches(value: Option<&str>, req: &Value) -> bool {
    let values: Vec<&str> = req["values"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let number = |s: &str| s.parse::<i64>().ok();
    let first = values.first().and_then(|s| number(s));
    match req["operator"].as_str().unwrap_or("") {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => matches!((value.and_then(number), first), (Some(a), Some(b)) if a > b),
        "Lt" => matches!((value.and_then(number), first), (Some(a), Some(b)) if a < b),
        _ => false,
    }
}

/// nodeName, nodeSelector and required node affinity of the template.
pub(crate) fn fits_node(spec: &Value, node: &Value) -> bool {
    let node_name = meta_str(node, "name");
    if let Some(want) = spec["nodeName"].as_str()
        && !want.is_empty()
        && want != node_name
    {
        return false;
    }
    let labels = &node["metadata"]["labels"];
    if let Some(sel) = spec["nodeSelector"].as_object()
        && !sel.iter().all(|(k, v)| labels[k] == *v)
    {
        return false;
    }
    let terms = &spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    let Some(terms) = terms.as_array().filter(|t| !t.is_empty()) else {
        return true;
    };
    terms.iter().any(|term| {
        let exprs = term["matchExpressions"].as_array();
        let fields = term["matchFields"].as_array();
        let total = exprs.map_or(0, Vec::len) + fields.map_or(0, Vec::len);
        // A term without requirements matches nothing, as in kube.
        total > 0
            && exprs.into_iter().flatten().all(|e| {
                let key = e["key"].as_str().unwrap_or("");
                requirement_matches(labels[key].as_str(), e)
            })
            && fields.into_iter().flatten().all(|f| {
                f["key"].as_str() == Some("metadata.name")
                    && requirement_matches(Some(node_name), f)
            })
    })
}

/// kube's `NodeShouldRunDaemonPod`: (should run a new pod, may keep a
/// running one). NoSchedule taints keep new pods away; only NoExecute ones
/// evict.
fn placement(ds: &Value, tolerations: &[Value], node: &Value) -> (bool, bool) {
    let spec = &ds["spec"]["template"]["spec"];
    if !fits_node(spec, node) {
        return (false, false);
    }
    let taints = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let untolerated = |effect: &str| {
        taints
            .iter()
            .any(|t| t["effect"].as_str() == Some(effect) && !tolerates(tolerations, t))
    };
    let keep = !untolerated("NoExecute");
    (keep && !untolerated("NoSchedule"), keep)
}

/// Node name → `placement` for every node, computed once per reconcile.
type Places<'a> = HashMap<&'a str, (bool, bool)>;

fn placements<'a>(ds: &Value, nodes: &'a [Obj]) -> Places<'a> {
    let tolerations = pod_tolerations(&ds["spec"]["template"]["spec"]);
    nodes
        .iter()
        .map(|n| (meta_str(n, "name"), placement(ds, &tolerations, n)))
        .collect()
}

fn template_generation(ds: &Value) -> i64 {
    ds["metadata"]["generation"].as_i64().unwrap_or(1)
}

/// A daemon pod for `node`: the template with the revision labels, daemon
/// tolerations, a node affinity naming the node, and the node bound.
fn new_pod(ds: &Value, hash: &str, node: &str) -> Value {
    let mut pod = wu::pod_from_template(ds, &ds["spec"]["template"], None);
    let labels = &mut pod["metadata"]["labels"];
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[wu::REVISION_HASH] = json!(hash);
    labels[TEMPLATE_GENERATION] = json!(template_generation(ds).to_string());
    let spec = &mut pod["spec"];
    if !spec.is_object() {
        *spec = json!({});
    }
    spec["tolerations"] = json!(pod_tolerations(spec));
    spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
        "nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": [node]}
        ]}]
    });
    pod
}

/// The node a daemon pod is for: where it is bound, or, before the
/// scheduler binds it, the node its affinity names (kube's
/// `GetTargetNodeName`).
fn target_node(pod: &Value) -> &str {
    match pod["spec"]["nodeName"].as_str() {
        Some(n) if !n.is_empty() => n,
        _ => pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            ["nodeSelectorTerms"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["matchFields"].as_array().into_iter().flatten())
            .find(|f| f["key"] == "metadata.name" && f["operator"] == "In")
            .and_then(|f| f["values"][0].as_str())
            .unwrap_or(""),
    }
}

/// kube's `IsPodUpdated`: the current revision hash, or (for pods from
/// before revisions) the current template generation.
fn is_updated(pod: &Value, hash: &str, generation: i64) -> bool {
    let rev = wu::pod_revision(pod);
    if !rev.is_empty() {
        return rev == hash;
    }
    pod["metadata"]["labels"][TEMPLATE_GENERATION].as_str() == Some(&generation.to_string())
}

/// The oldest first, so that duplicates lose their newest members.
fn by_age(pods: &mut [&Value]) {
    pods.sort_by(|a, b| {
        meta_str(a, "creationTimestamp")
            .cmp(meta_str(b, "creationTimestamp"))
            .then_with(|| meta_str(a, "name").cmp(meta_str(b, "name")))
    });
}

/// Node name → the daemon pods bound there (terminating ones included: a
/// replacement waits until the old pod is gone, as in kube).
fn pods_by_node(pods: &[Obj]) -> BTreeMap<String, Vec<&Value>> {
    let mut out: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for pod in pods {
        let node = target_node(pod);
        out.entry(node.to_string()).or_default().push(pod.as_ref());
    }
    for list in out.values_mut() {
        by_age(list);
    }
    out
}

/// Creates missing daemon pods, deletes misplaced, duplicate and failed
/// ones, and rolls old-template pods within the update budget.
fn manage(ctx: &Ctx, ds: &Value, hash: &str, nodes: &[Obj], places: &Places, pods: &[Obj]) {
    let by_node = pods_by_node(pods);
    let node_names: HashSet<&str> = nodes.iter().map(|n| meta_str(n, "name")).collect();
    let mut to_create: Vec<String> = Vec::new();
    let mut to_delete: Vec<&Value> = Vec::new();
    let empty = Vec::new();
    for node in nodes {
        let name = meta_str(node, "name");
        let (should_run, may_keep) = places.get(name).copied().unwrap_or_default();
        let on_node = by_node.get(name).unwrap_or(&empty);
        let live: Vec<&Value> = on_node
            .iter()
            .copied()
            .filter(|p| !wu::is_terminating(p))
            .collect();
        if should_run && on_node.is_empty() {
            to_create.push(name.to_string());
        } else if may_keep {
            let (failed, running): (Vec<&Value>, Vec<&Value>) =
                live.into_iter().partition(|p| wu::phase(p) == "Failed");
            to_delete.extend(failed);
            // During a surge an old and a new pod share a node; otherwise
            // only the oldest stays.
            let keep = if running.len() == 2
                && running
                    .iter()
                    .filter(|p| wu::pod_revision(p) == hash)
                    .count()
                    == 1
            {
                2
            } else {
                1
            };
            to_delete.extend(running.into_iter().skip(keep));
        } else {
            to_delete.extend(live);
        }
    }
    // Pods bound to nodes that are gone: nothing will ever stop them, so
    // they are removed outright, as the pod garbage collector does.
    for (node, list) in &by_node {
        if !node.is_empty() && !node_names.contains(node.as_str()) {
            for pod in list {
                force_delete(ctx, ds, pod);
            }
        }
    }
    let deleting: HashSet<&str> = to_delete.iter().map(|p| meta_str(p, "name")).collect();
    if is_rolling(ds) {
        let rolled = rolling_update(ds, hash, nodes, places, &by_node, &deleting);
        to_delete.extend(rolled.delete);
        to_create.extend(rolled.create);
    }
    for node in to_create {
        create_pod(ctx, ds, hash, &node);
    }
    for pod in to_delete {
        let msg = format!("Deleted pod: {}", meta_str(pod, "name"));
        let _ = wu::delete_pod(ctx, ds, pod, COMPONENT, &msg);
    }
}

fn is_rolling(ds: &Value) -> bool {
    ds["spec"]["updateStrategy"]["type"]
        .as_str()
        .is_none_or(|t| t.is_empty() || t == "RollingUpdate")
}

#[derive(Default)]
struct Rollout<'a> {
    delete: Vec<&'a Value>,
    create: Vec<String>,
}

/// kube's `rollingUpdate`: without surge, old pods are deleted (unavailable
/// ones first) while at most `maxUnavailable` nodes lack an available pod;
/// with surge, a new pod starts beside the old one, which goes once the new
/// one is available.
fn rolling_update<'a>(
    ds: &Value,
    hash: &str,
    nodes: &[Obj],
    places: &Places,
    by_node: &BTreeMap<String, Vec<&'a Value>>,
    deleting: &HashSet<&str>,
) -> Rollout<'a> {
    let now = Utc::now();
    let min_ready = wu::int_field(&ds["spec"]["minReadySeconds"], 0);
    let generation = template_generation(ds);
    let desired: Vec<&str> = nodes
        .iter()
        .filter(|n| places.get(meta_str(n, "name")).is_some_and(|p| p.0))
        .map(|n| meta_str(n, "name"))
        .collect();
    let total = desired.len() as i64;
    let params = &ds["spec"]["updateStrategy"]["rollingUpdate"];
    let max_surge = wu::scaled_int_or_percent(&params["maxSurge"], total, true, "0%");
    let mut max_unavailable =
        wu::scaled_int_or_percent(&params["maxUnavailable"], total, true, "0%");
    if params["maxUnavailable"].is_null() {
        max_unavailable = 1;
    }
    // kube forbids both being zero; treat that as the default rather than stall.
    if max_unavailable == 0 && max_surge == 0 {
        max_unavailable = 1;
    }
    let available = |p: &Value| wu::pod_is_available(p, min_ready, now);
    let mut out = Rollout::default();
    if max_surge == 0 {
        let mut unavailable = 0;
        let mut old_available: Vec<&'a Value> = Vec::new();
        for node in &desired {
            let live: Vec<&'a Value> = by_node
                .get(*node)
                .into_iter()
                .flatten()
                .copied()
                .filter(|p| !wu::is_terminating(p) && !deleting.contains(meta_str(p, "name")))
                .collect();
            let Some(pod) = live.first() else {
                unavailable += 1;
                continue;
            };
            let updated = is_updated(pod, hash, generation);
            if !available(pod) {
                unavailable += 1;
                if !updated {
                    // Already not serving: replacing it costs nothing.
                    out.delete.push(pod);
                }
            } else if !updated {
                old_available.push(pod);
            }
        }
        let budget = (max_unavailable - unavailable).max(0) as usize;
        out.delete.extend(old_available.into_iter().take(budget));
        return out;
    }
    let mut surging = 0;
    let mut waiting: Vec<&str> = Vec::new();
    for node in &desired {
        let live: Vec<&'a Value> = by_node
            .get(*node)
            .into_iter()
            .flatten()
            .copied()
            .filter(|p| !wu::is_terminating(p) && !deleting.contains(meta_str(p, "name")))
            .collect();
        let (new, old): (Vec<&'a Value>, Vec<&'a Value>) = live
            .into_iter()
            .partition(|p| is_updated(p, hash, generation));
        match (new.first(), old.is_empty()) {
            (Some(n), false) if available(n) => out.delete.extend(old),
            (Some(_), false) => surging += 1,
            (None, false) => {
                if old.iter().any(|p| !available(p)) {
                    // An old pod that is not serving is replaced in place.
                    out.delete.extend(old);
                } else {
                    waiting.push(node);
                }
            }
            _ => {}
        }
    }
    let room = (max_surge - surging).max(0) as usize;
    out.create
        .extend(waiting.into_iter().take(room).map(str::to_string));
    out
}

fn create_pod(ctx: &Ctx, ds: &Value, hash: &str, node: &str) {
    match ctx.store.create(&resources::PODS, new_pod(ds, hash, node)) {
        Ok(created) => ctx.recorder.record(
            ds,
            events::NORMAL,
            "SuccessfulCreate",
            &format!("Created pod: {}", meta_str(&created, "name")),
            COMPONENT,
        ),
        Err(e) => ctx.recorder.record(
            ds,
            events::WARNING,
            "FailedCreate",
            &format!("Error creating: {}", e.message),
            COMPONENT,
        ),
    }
}

fn force_delete(ctx: &Ctx, ds: &Value, pod: &Value) {
    let name = meta_str(pod, "name");
    let opts = DeleteOptions {
        grace_period_seconds: Some(0),
        ..DeleteOptions::default()
    };
    let ns = meta_str(pod, "namespace");
    let Ok(deleted) = ctx.store.delete(&resources::PODS, ns, name, &opts) else {
        return;
    };
    // A pod already terminating on a vanished node has no kubelet to finish it.
    if !deleted["metadata"]["deletionTimestamp"].is_null() {
        ctx.store.remove(&resources::PODS, ns, name);
    }
    ctx.recorder.record(
        ds,
        events::NORMAL,
        "SuccessfulDelete",
        &format!("Deleted pod: {name}"),
        COMPONENT,
    );
}

/// kube's `updateDaemonSetStatus`, counting the oldest pod on each node.
fn compute_status(
    ds: &Value,
    hash: &str,
    nodes: &[Obj],
    places: &Places,
    pods: &[Obj],
    min_ready: i64,
    now: chrono::DateTime<Utc>,
) -> Value {
    let by_node = pods_by_node(pods);
    let generation = template_generation(ds);
    let (mut desired, mut current, mut ready, mut available, mut updated, mut misscheduled) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    for node in nodes {
        let name = meta_str(node, "name");
        let live: Vec<&Value> = by_node
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|p| !wu::is_terminating(p))
            .collect();
        let (should_run, _) = places.get(name).copied().unwrap_or_default();
        if !should_run {
            if !live.is_empty() {
                misscheduled += 1;
            }
            continue;
        }
        desired += 1;
        let Some(pod) = live.first() else {
            continue;
        };
        current += 1;
        if wu::pod_is_ready(pod) {
            ready += 1;
            if wu::pod_is_available(pod, min_ready, now) {
                available += 1;
            }
        }
        if is_updated(pod, hash, generation) {
            updated += 1;
        }
    }
    let mut status = json!({
        "currentNumberScheduled": current,
        "desiredNumberScheduled": desired,
        "numberMisscheduled": misscheduled,
        "numberReady": ready,
        "numberAvailable": available,
        "updatedNumberScheduled": updated,
        "observedGeneration": generation,
    });
    if desired > available {
        status["numberUnavailable"] = json!(desired - available);
    }
    if let Some(c) = ds["status"]["collisionCount"].as_i64() {
        status["collisionCount"] = json!(c);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fmt_time;
    use crate::test_support::test_ctx;

    fn node(ctx: &Ctx, name: &str, labels: Value, taints: Value) {
        let mut labels = labels;
        labels["kubernetes.io/hostname"] = json!(name);
        ctx.store
            .create(
                &resources::NODES,
                json!({"metadata": {"name": name, "labels": labels},
                       "spec": {"taints": taints},
                       "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}),
            )
            .unwrap();
    }

    fn daemonset(ctx: &Ctx, extra_spec: Value) -> ObjKey {
        let mut ds = json!({
            "metadata": {"name": "node-exporter", "namespace": "monitoring"},
            "spec": {
                "selector": {"matchLabels": {"app": "node-exporter"}},
                "template": {
                    "metadata": {"labels": {"app": "node-exporter"}},
                    "spec": {"containers": [{"name": "node-exporter", "image": "prom/node-exporter:v1.8.2"}]}
                }
            }
        });
        if let (Some(spec), Some(extra)) = (ds["spec"].as_object_mut(), extra_spec.as_object()) {
            for (k, v) in extra {
                spec.insert(k.clone(), v.clone());
            }
        }
        obj_key(&ctx.store.create(&resources::DAEMONSETS, ds).unwrap())
    }

    fn pods(ctx: &Ctx) -> Vec<Obj> {
        ctx.store
            .list(&resources::PODS, Some("monitoring"))
            .into_iter()
            .filter(|p| !wu::is_terminating(p))
            .collect()
    }

    /// The nodes the daemon pods are for (the scheduler binds them).
    fn nodes_of(ctx: &Ctx) -> Vec<String> {
        let mut out: Vec<String> = pods(ctx)
            .iter()
            .map(|p| target_node(p).to_string())
            .collect();
        out.sort();
        out
    }

    /// What the kubelet would do: every live pod Running and Ready long ago.
    fn make_ready(ctx: &Ctx) {
        let since = fmt_time(Utc::now() - chrono::Duration::seconds(60));
        for p in pods(ctx) {
            ctx.store
                .modify(&resources::PODS, "monitoring", meta_str(&p, "name"), |p| {
                    p["status"] = json!({"phase": "Running", "conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": since}]});
                })
                .unwrap();
        }
    }

    /// What the kubelet does with terminating pods: they go.
    fn finish_terminating(ctx: &Ctx) {
        for p in ctx.store.list(&resources::PODS, Some("monitoring")) {
            if wu::is_terminating(&p) {
                ctx.store
                    .remove(&resources::PODS, "monitoring", meta_str(&p, "name"));
            }
        }
    }

    fn status(ctx: &Ctx, key: &ObjKey) -> Value {
        ctx.store
            .get(&resources::DAEMONSETS, &key.0, &key.1)
            .unwrap()["status"]
            .clone()
    }

    #[test]
    fn one_pod_per_node_bound_with_affinity_and_daemon_tolerations() {
        let ctx = test_ctx(&["default", "monitoring"]);
        node(&ctx, "n1", json!({}), json!([]));
        node(&ctx, "n2", json!({}), json!([]));
        // Cordoned and NotReady-tainted nodes still get their daemon pod.
        node(
            &ctx,
            "n3",
            json!({}),
            json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                   {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
        );
        let key = daemonset(&ctx, json!({}));
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        assert_eq!(nodes_of(&ctx), ["n1", "n2", "n3"]);
        let pod = pods(&ctx)
            .into_iter()
            .find(|p| target_node(p) == "n2")
            .unwrap();
        assert!(pod["spec"]["nodeName"].is_null(), "the scheduler binds it");
        let name = meta_str(&pod, "name");
        assert!(name.starts_with("node-exporter-") && name.len() == "node-exporter-".len() + 5);
        assert_eq!(
            pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                ["nodeSelectorTerms"][0]["matchFields"][0],
            json!({"key": "metadata.name", "operator": "In", "values": ["n2"]})
        );
        let tol = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(tol.len(), 6);
        assert!(
            tol.iter()
                .any(|t| t["key"] == "node.kubernetes.io/unreachable"
                    && t["effect"] == "NoExecute"
                    && t["operator"] == "Exists")
        );
        assert_eq!(
            wu::controller_name(&pod, "DaemonSet"),
            Some("node-exporter")
        );
        assert!(!wu::pod_revision(&pod).is_empty());
        assert_eq!(pod["metadata"]["labels"][TEMPLATE_GENERATION], "1");

        let st = status(&ctx, &key);
        assert_eq!(st["desiredNumberScheduled"], 3);
        assert_eq!(st["currentNumberScheduled"], 3);
        assert_eq!(st["numberReady"], 0);
        assert_eq!(st["numberUnavailable"], 3);
        assert_eq!(st["observedGeneration"], 1);

        // Reconciling again changes nothing.
        c.reconcile(&ctx, &key);
        assert_eq!(pods(&ctx).len(), 3);
        make_ready(&ctx);
        c.reconcile(&ctx, &key);
        let st = status(&ctx, &key);
        assert_eq!(st["numberReady"], 3);
        assert_eq!(st["numberAvailable"], 3);
        assert_eq!(st["updatedNumberScheduled"], 3);
        assert!(st["numberUnavailable"].is_null());
        assert_eq!(
            ctx.store
                .list(&resources::CONTROLLER_REVISIONS, Some("monitoring"))
                .len(),
            1
        );
    }

    #[test]
    fn node_selector_and_untolerated_taints_exclude_nodes() {
        let ctx = test_ctx(&["default", "monitoring"]);
        node(
            &ctx,
            "linux-1",
            json!({"kubernetes.io/os": "linux"}),
            json!([]),
        );
        node(
            &ctx,
            "win-1",
            json!({"kubernetes.io/os": "windows"}),
            json!([]),
        );
        node(
            &ctx,
            "gpu-1",
            json!({"kubernetes.io/os": "linux"}),
            json!([{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]),
        );
        let key = daemonset(
            &ctx,
            json!({"template": {
                "metadata": {"labels": {"app": "node-exporter"}},
                "spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                         "containers": [{"name": "c", "image": "prom/node-exporter:v1.8.2"}]}}}),
        );
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        assert_eq!(nodes_of(&ctx), ["linux-1"]);
        assert_eq!(status(&ctx, &key)["desiredNumberScheduled"], 1);

        // A toleration for the GPU taint admits that node too.
        ctx.store
            .modify(&resources::DAEMONSETS, &key.0, &key.1, |d| {
                d["spec"]["template"]["spec"]["tolerations"] =
                    json!([{"key": "nvidia.com/gpu", "operator": "Exists"}]);
            })
            .unwrap();
        c.reconcile(&ctx, &key);
        finish_terminating(&ctx);
        make_ready(&ctx);
        c.reconcile(&ctx, &key);
        assert!(nodes_of(&ctx).contains(&"gpu-1".to_string()));

        // Relabelling a node so it no longer matches removes its pod.
        ctx.store
            .modify(&resources::NODES, "", "linux-1", |n| {
                n["metadata"]["labels"]["kubernetes.io/os"] = json!("windows");
            })
            .unwrap();
        c.reconcile(&ctx, &key);
        finish_terminating(&ctx);
        assert!(!nodes_of(&ctx).contains(&"linux-1".to_string()));
        assert_eq!(status(&ctx, &key)["desiredNumberScheduled"], 1);
    }

    #[test]
    fn new_nodes_get_a_pod_and_removed_nodes_lose_theirs() {
        let ctx = test_ctx(&["default", "monitoring"]);
        node(&ctx, "n1", json!({}), json!([]));
        let key = daemonset(&ctx, json!({}));
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        node(&ctx, "n2", json!({}), json!([]));
        c.reconcile(&ctx, &key);
        assert_eq!(nodes_of(&ctx), ["n1", "n2"]);

        ctx.store.remove(&resources::NODES, "", "n1");
        c.reconcile(&ctx, &key);
        // Gone at once, not left terminating for a kubelet that no longer exists.
        let all = ctx.store.list(&resources::PODS, Some("monitoring"));
        assert_eq!(all.len(), 1);
        assert_eq!(target_node(&all[0]), "n2");
        assert_eq!(status(&ctx, &key)["desiredNumberScheduled"], 1);
    }

    #[test]
    fn duplicate_and_failed_pods_are_replaced() {
        let ctx = test_ctx(&["default", "monitoring"]);
        node(&ctx, "n1", json!({}), json!([]));
        let key = daemonset(&ctx, json!({}));
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        let ds = ctx
            .store
            .get(&resources::DAEMONSETS, &key.0, &key.1)
            .unwrap();
        let hash = wu::pod_revision(&pods(&ctx)[0]).to_string();
        ctx.store
            .create(&resources::PODS, new_pod(&ds, &hash, "n1"))
            .unwrap();
        c.reconcile(&ctx, &key);
        assert_eq!(pods(&ctx).len(), 1);

        let name = meta_str(&pods(&ctx)[0], "name").to_string();
        ctx.store
            .modify(&resources::PODS, "monitoring", &name, |p| {
                p["status"]["phase"] = json!("Failed")
            })
            .unwrap();
        c.reconcile(&ctx, &key);
        finish_terminating(&ctx);
        c.reconcile(&ctx, &key);
        let now = pods(&ctx);
        assert_eq!(now.len(), 1);
        assert_ne!(meta_str(&now[0], "name"), name);
    }

    #[test]
    fn template_change_rolls_one_node_at_a_time() {
        let ctx = test_ctx(&["default", "monitoring"]);
        for n in ["n1", "n2", "n3"] {
            node(&ctx, n, json!({}), json!([]));
        }
        let key = daemonset(&ctx, json!({}));
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        make_ready(&ctx);
        c.reconcile(&ctx, &key);
        ctx.store
            .modify(&resources::DAEMONSETS, &key.0, &key.1, |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("prom/node-exporter:v1.9.0");
            })
            .unwrap();
        let image = |p: &Value| {
            p["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        let mut rounds = 0;
        loop {
            c.reconcile(&ctx, &key);
            let terminating = ctx
                .store
                .list(&resources::PODS, Some("monitoring"))
                .iter()
                .filter(|p| wu::is_terminating(p))
                .count();
            // maxUnavailable 1: never more than one node without its pod.
            assert!(terminating <= 1, "{terminating} pods stopping at once");
            finish_terminating(&ctx);
            c.reconcile(&ctx, &key);
            make_ready(&ctx);
            rounds += 1;
            let now = pods(&ctx);
            if now.len() == 3 && now.iter().all(|p| image(p) == "prom/node-exporter:v1.9.0") {
                break;
            }
            assert!(rounds < 10, "rollout stalled");
        }
        assert_eq!(rounds, 3);
        c.reconcile(&ctx, &key);
        let st = status(&ctx, &key);
        assert_eq!(st["updatedNumberScheduled"], 3);
        assert_eq!(st["numberAvailable"], 3);
        assert_eq!(status(&ctx, &key)["observedGeneration"], 2);
        assert_eq!(
            ctx.store
                .list(&resources::CONTROLLER_REVISIONS, Some("monitoring"))
                .len(),
            2
        );
        ctx.store
            .modify(&resources::DAEMONSETS, &key.0, &key.1, |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] =
                    json!("prom/node-exporter:v1.8.2");
            })
            .unwrap();
        c.reconcile(&ctx, &key);
        let mut revisions: Vec<i64> = ctx
            .store
            .list(&resources::CONTROLLER_REVISIONS, Some("monitoring"))
            .iter()
            .filter_map(|r| r["revision"].as_i64())
            .collect();
        revisions.sort();
        assert_eq!(
            revisions,
            [2, 3],
            "the rolled-back template is the newest revision"
        );
    }

    #[test]
    fn on_delete_strategy_waits_for_manual_deletion() {
        let ctx = test_ctx(&["default", "monitoring"]);
        node(&ctx, "n1", json!({}), json!([]));
        let key = daemonset(&ctx, json!({"updateStrategy": {"type": "OnDelete"}}));
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        make_ready(&ctx);
        ctx.store
            .modify(&resources::DAEMONSETS, &key.0, &key.1, |d| {
                d["spec"]["template"]["metadata"]["labels"]["v"] = json!("2");
            })
            .unwrap();
        c.reconcile(&ctx, &key);
        assert_eq!(pods(&ctx).len(), 1);
        assert_eq!(status(&ctx, &key)["updatedNumberScheduled"], 0);
    }

    #[test]
    fn surge_starts_the_new_pod_before_stopping_the_old() {
        let ctx = test_ctx(&["default", "monitoring"]);
        node(&ctx, "n1", json!({}), json!([]));
        let key = daemonset(
            &ctx,
            json!({"updateStrategy": {"type": "RollingUpdate",
                   "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}),
        );
        let c = DaemonSetController;
        c.reconcile(&ctx, &key);
        make_ready(&ctx);
        let old = meta_str(&pods(&ctx)[0], "name").to_string();
        ctx.store
            .modify(&resources::DAEMONSETS, &key.0, &key.1, |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x:2");
            })
            .unwrap();
        c.reconcile(&ctx, &key);
        assert_eq!(pods(&ctx).len(), 2, "the new pod runs beside the old one");
        c.reconcile(&ctx, &key);
        assert_eq!(pods(&ctx).len(), 2);
        make_ready(&ctx);
        c.reconcile(&ctx, &key);
        let now = pods(&ctx);
        assert_eq!(now.len(), 1);
        assert_ne!(meta_str(&now[0], "name"), old);
    }
}
