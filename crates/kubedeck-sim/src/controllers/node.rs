//! The node side: what each simulated node's kubelet reports about itself
//! (conditions with a heartbeat, addresses, node info, pod CIDR, capacity)
//! and what the node lifecycle controller maintains (the unschedulable
//! taint on cordon, not-ready/unreachable taints on failure).
//!
//! A node fails when it carries the annotation [`FAIL_ANNOTATION`] with the
//! value `"true"`: its Ready condition becomes Unknown, it is tainted
//! unreachable, and the kubelet evicts its pods after their toleration.
//! Removing the annotation brings it back.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::{Controller, Ctx};
use crate::resources::{self, ResourceDef};
use crate::store::{ObjKey, fmt_time, meta_str, parse_time};

pub(crate) const FAIL_ANNOTATION: &str = "sim.kubedeck.io/node-failure";
pub(crate) const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";
pub(crate) const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// How often a healthy node's heartbeat is refreshed (kubelets report on
/// change or every few minutes; an idle simulator should stay idle).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(40);
const KUBELET_VERSION: &str = "v1.31.4";

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(NodeLifecycle)]
}

pub(crate) fn node_failed(node: &Value) -> bool {
    node["metadata"]["annotations"][FAIL_ANNOTATION].as_str() == Some("true")
}

/// (type, healthy status, healthy reason, healthy message)
const CONDITIONS: &[(&str, &str, &str, &str)] = &[
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    (
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
    ),
    (
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ),
    (
        "Ready",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    ),
];

fn set_taint(node: &mut Value, key: &str, effect: &str, present: bool, now: &str) {
    let mut taints: Vec<Value> = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has = taints
        .iter()
        .any(|t| t["key"] == key && t["effect"] == effect);
    if present && !has {
        let mut t = json!({"key": key, "effect": effect});
        if effect == "NoExecute" {
            t["timeAdded"] = json!(now);
        }
        taints.push(t);
    } else if !present && has {
        taints.retain(|t| !(t["key"] == key && t["effect"] == effect));
    } else {
        return;
    }
    if taints.is_empty() {
        if let Some(spec) = node["spec"].as_object_mut() {
            spec.remove("taints");
        }
    } else {
        node["spec"]["taints"] = json!(taints);
    }
}

/// Brings a node's self-reported fields up to date; `heartbeat` refreshes
/// the conditions' lastHeartbeatTime.
const TTL_ANNOTATION: &str = "node.alpha.kubernetes.io/ttl";

fn refresh(node: &mut Value, index: usize, heartbeat: bool) {
    let now = fmt_time(Utc::now());
    let name = meta_str(node, "name").to_string();
    let failed = node_failed(node);
    if !node["spec"].is_object() {
        node["spec"] = json!({});
    }
    if !node["status"].is_object() {
        node["status"] = json!({});
    }
    // kube-controller-manager's TTL controller: how long kubelets may cache
    // objects, 0 s in a cluster of up to 100 nodes.
    if node["metadata"]["annotations"][TTL_ANNOTATION].is_null() {
        node["metadata"]["annotations"][TTL_ANNOTATION] = json!("0");
    }
    if node["spec"]["podCIDR"].is_null() {
        let cidr = format!("10.244.{index}.0/24");
        node["spec"]["podCIDR"] = json!(cidr);
        node["spec"]["podCIDRs"] = json!([cidr]);
    }
    let unschedulable = node["spec"]["unschedulable"].as_bool() == Some(true);
    set_taint(node, UNSCHEDULABLE_TAINT, "NoSchedule", unschedulable, &now);
    set_taint(node, UNREACHABLE_TAINT, "NoSchedule", failed, &now);
    set_taint(node, UNREACHABLE_TAINT, "NoExecute", failed, &now);

    let status = &mut node["status"];
    for (field, default) in [("cpu", "4"), ("memory", "16Gi"), ("pods", "110")] {
        if status["capacity"][field].is_null() {
            status["capacity"][field] = json!(default);
        }
        if status["allocatable"][field].is_null() {
            status["allocatable"][field] = status["capacity"][field].clone();
        }
    }
    if status["addresses"].is_null() {
        status["addresses"] = json!([
            {"type": "InternalIP", "address": format!("172.18.0.{}", index + 2)},
            {"type": "Hostname", "address": name},
        ]);
    }
    if status["nodeInfo"].is_null() {
        let labels = &node["metadata"]["labels"];
        let arch = labels["kubernetes.io/arch"].as_str().unwrap_or("amd64");
        let os = labels["kubernetes.io/os"].as_str().unwrap_or("linux");
        let id = uuid::Uuid::new_v4().simple().to_string();
        node["status"]["nodeInfo"] = json!({
            "architecture": arch,
            "bootID": uuid::Uuid::new_v4().to_string(),
            "containerRuntimeVersion": "containerd://1.7.22",
            "kernelVersion": "6.1.0-28-cloud-amd64",
            "kubeProxyVersion": KUBELET_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "machineID": id,
            "operatingSystem": os,
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "systemUUID": uuid::Uuid::new_v4().to_string(),
        });
        node["status"]["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": 10250}});
    }
    let status = &mut node["status"];
    let mut conds: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    for (t, ok_status, ok_reason, ok_message) in CONDITIONS {
        let (s, reason, message) = if failed {
            (
                "Unknown",
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
            )
        } else {
            (*ok_status, *ok_reason, *ok_message)
        };
        match conds.iter_mut().find(|c| c["type"] == *t) {
            Some(c) => {
                let changed = c["status"] != s;
                if changed {
                    c["lastTransitionTime"] = json!(now);
                }
                c["status"] = json!(s);
                c["reason"] = json!(reason);
                c["message"] = json!(message);
                // A failed node's kubelet posts nothing: the heartbeat stops.
                if (heartbeat && !failed) || c["lastHeartbeatTime"].is_null() {
                    c["lastHeartbeatTime"] = json!(now);
                }
                if c["lastTransitionTime"].is_null() {
                    c["lastTransitionTime"] = json!(now);
                }
            }
            None => conds.push(json!({
                "type": t, "status": s, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": now,
            })),
        }
    }
    status["conditions"] = json!(conds);
}

pub(crate) struct NodeLifecycle;

impl Controller for NodeLifecycle {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::NODES
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let node = ctx.store.get(&resources::NODES, "", &key.1)?;
        let last_beat = node["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
            .and_then(|c| parse_time(c["lastHeartbeatTime"].as_str().unwrap_or("")));
        let age = last_beat.map(|t| (Utc::now() - t).to_std().unwrap_or_default());
        let heartbeat = age.is_none_or(|a| a >= HEARTBEAT);
        let index = if node["spec"]["podCIDR"].is_null() {
            ctx.store
                .list(&resources::NODES, None)
                .iter()
                .position(|n| meta_str(n, "name") == key.1)
                .unwrap_or(0)
        } else {
            0
        };
        if let Err(e) = ctx.store.modify(&resources::NODES, "", &key.1, |n| {
            refresh(n, index, heartbeat)
        }) {
            tracing::warn!(node = %key.1, "node status update failed: {e}");
        }
        let elapsed = if heartbeat {
            Duration::ZERO
        } else {
            age.unwrap_or_default()
        };
        Some(
            HEARTBEAT
                .saturating_sub(elapsed)
                .max(Duration::from_secs(1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::scheduler::node_is_ready;
    use crate::test_support::test_ctx;

    fn taints(ctx: &Ctx) -> Vec<String> {
        let n = ctx.store.get(&resources::NODES, "", "n1").expect("node");
        n["spec"]["taints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                format!(
                    "{}:{}",
                    t["key"].as_str().unwrap_or(""),
                    t["effect"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn a_bare_node_is_filled_in_and_cordon_adds_the_unschedulable_taint() {
        let ctx = test_ctx(&[]);
        ctx.store
            .create(&resources::NODES, json!({"metadata": {"name": "n1"}}))
            .expect("node");
        let c = NodeLifecycle;
        let key = (String::new(), "n1".to_string());
        assert_eq!(c.reconcile(&ctx, &key), Some(HEARTBEAT));
        let n = ctx.store.get(&resources::NODES, "", "n1").expect("node");
        assert!(node_is_ready(&n));
        assert_eq!(n["spec"]["podCIDR"], "10.244.0.0/24");
        assert_eq!(n["status"]["allocatable"]["pods"], "110");
        assert_eq!(n["status"]["addresses"][0]["address"], "172.18.0.2");
        assert_eq!(n["status"]["nodeInfo"]["kubeletVersion"], KUBELET_VERSION);
        assert_eq!(n["status"]["conditions"].as_array().map(Vec::len), Some(4));
        // A second pass within the heartbeat writes nothing.
        let rv = n["metadata"]["resourceVersion"].clone();
        c.reconcile(&ctx, &key);
        let again = ctx.store.get(&resources::NODES, "", "n1").expect("node");
        assert_eq!(again["metadata"]["resourceVersion"], rv);

        ctx.store
            .modify(&resources::NODES, "", "n1", |n| {
                n["spec"]["unschedulable"] = json!(true)
            })
            .ok();
        c.reconcile(&ctx, &key);
        assert_eq!(
            taints(&ctx),
            ["node.kubernetes.io/unschedulable:NoSchedule"]
        );
        ctx.store
            .modify(&resources::NODES, "", "n1", |n| {
                if let Some(s) = n["spec"].as_object_mut() {
                    s.remove("unschedulable");
                }
            })
            .ok();
        c.reconcile(&ctx, &key);
        assert!(taints(&ctx).is_empty());
    }

    #[test]
    fn the_failure_annotation_makes_the_node_unknown_and_unreachable() {
        let ctx = test_ctx(&[]);
        ctx.store
            .create(
                &resources::NODES,
                json!({"metadata": {"name": "n1", "annotations": {FAIL_ANNOTATION: "true"}}}),
            )
            .expect("node");
        NodeLifecycle.reconcile(&ctx, &(String::new(), "n1".to_string()));
        let n = ctx.store.get(&resources::NODES, "", "n1").expect("node");
        assert!(!node_is_ready(&n));
        let ready = n["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready").cloned())
            .expect("ready");
        assert_eq!(ready["status"], "Unknown");
        assert_eq!(ready["reason"], "NodeStatusUnknown");
        assert_eq!(
            taints(&ctx),
            [
                "node.kubernetes.io/unreachable:NoSchedule",
                "node.kubernetes.io/unreachable:NoExecute"
            ]
        );
    }
}
