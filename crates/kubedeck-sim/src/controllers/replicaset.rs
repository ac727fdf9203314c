//! The ReplicaSet controller (`replicaset-controller`): keeps `spec.replicas`
//! active pods, adopts matching orphans, releases pods that stopped matching,
//! and reports replica counts in the status.

// Re-exported for modules written against the old location.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, Obj, ObjKey, Stored, meta_str, obj_key, parse_time};

const COMPONENT: &str = "replicaset-controller";

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(ReplicaSetController)]
}

struct ReplicaSetController;

impl Controller for ReplicaSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::REPLICASETS
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, &resources::REPLICASETS) {
            return vec![obj_key(&change.object)];
        }
        if !std::ptr::eq(change.res, &resources::PODS)
            || (change.kind == ChangeType::Modified
                && !wu::pod_change_matters(
                    change.old.as_deref().map(Stored::value),
                    &change.object,
                ))
        {
            return Vec::new();
        }
        let ns = meta_str(&change.object, "namespace");
        let mut keys = wu::owner_keys(change, "ReplicaSet");
        // An orphan may be adopted by any ReplicaSet whose selector matches.
        if wu::controller_ref(&change.object).is_none() && !wu::is_terminating(&change.object) {
            for rs in ctx.store.list(&resources::REPLICASETS, Some(ns)) {
                if wu::workload_selector(&rs).is_some_and(|s| s.matches(wu::labels(&change.object)))
                {
                    keys.push(obj_key(&rs));
                }
            }
        }
        keys
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let rs = ctx.store.get(&resources::REPLICASETS, &key.0, &key.1)?;
        let pods = wu::claim_pods(ctx, &rs);
        let desired = wu::int_field(&rs["spec"]["replicas"], 1).max(0);
        let active: Vec<&Value> = pods
            .iter()
            .map(|p| p.value())
            .filter(|p| wu::pod_is_active(p))
            .collect();
        let mut changed = false;
        if !wu::is_terminating(&rs) {
            let diff = active.len() as i64 - desired;
            if diff < 0 {
                create_pods(ctx, &rs, -diff);
                changed = true;
            } else if diff > 0 {
                let victims = pods_to_delete(&active, diff as usize);
                for pod in victims {
                    let msg = format!("Deleted pod: {}", meta_str(pod, "name"));
                    let _ = wu::delete_pod(ctx, &rs, pod, COMPONENT, &msg);
                }
                changed = true;
            }
        }
        let pods = if changed {
            wu::claim_pods(ctx, &rs)
        } else {
            pods
        };
        let now = Utc::now();
        let min_ready = wu::int_field(&rs["spec"]["minReadySeconds"], 0);
        let status = compute_status(&rs, &pods, min_ready, now);
        if rs["status"] != status {
            let _ = ctx
                .store
                .modify(&resources::REPLICASETS, &key.0, &key.1, |o| {
                    o["status"] = status;
                });
        }
        pods.iter()
            .filter(|p| wu::pod_is_active(p))
            .filter_map(|p| wu::until_available(p, min_ready, now))
            .min()
    }
}

fn create_pods(ctx: &Ctx, rs: &Value, count: i64) {
    for _ in 0..count {
        let pod = wu::pod_from_template(rs, &rs["spec"]["template"], None);
        match ctx.store.create(&resources::PODS, pod) {
            Ok(created) => ctx.recorder.record(
                rs,
                events::NORMAL,
                "SuccessfulCreate",
                &format!("Created pod: {}", meta_str(&created, "name")),
                COMPONENT,
            ),
            Err(e) => {
                ctx.recorder.record(
                    rs,
                    events::WARNING,
                    "FailedCreate",
                    &format!("Error creating: {}", e.message),
                    COMPONENT,
                );
                return;
            }
        }
    }
}

/// kube's `ActivePodsWithRanks` order: the first pods are the cheapest to
/// lose — unscheduled, pending, not ready, low deletion cost, doubled up on
/// a node, ready most recently, restarting most, newest.
pub(crate) fn pods_to_delete<'a>(active: &[&'a Value], count: usize) -> Vec<&'a Value> {
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for p in active {
        let node = p["spec"]["nodeName"].as_str().unwrap_or("");
        if !node.is_empty() {
            *per_node.entry(node).or_default() += 1;
        }
    }
    let time = |s: &Value| s.as_str().and_then(parse_time);
    let mut ranked: Vec<&Value> = active.to_vec();
    ranked.sort_by_key(|p| {
        let node = p["spec"]["nodeName"].as_str().unwrap_or("");
        let phase_rank = match wu::phase(p) {
            "Unknown" => 1,
            "Running" => 2,
            _ => 0,
        };
        let cost: i64 = p["metadata"]["annotations"]["controller.kubernetes.io/pod-deletion-cost"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let doubled = per_node.get(node).copied().unwrap_or(0);
        let restarts: i64 = p["status"]["containerStatuses"].as_array().map_or(0, |c| {
            c.iter()
                .map(|s| s["restartCount"].as_i64().unwrap_or(0))
                .sum()
        });
        let ready_at: Option<DateTime<Utc>> = wu::ready_since(p);
        (
            !node.is_empty(),
            phase_rank,
            wu::pod_is_ready(p),
            cost,
            Reverse(doubled),
            Reverse(ready_at),
            Reverse(restarts),
            Reverse(time(&p["metadata"]["creationTimestamp"])),
        )
    });
    ranked.truncate(count);
    ranked
}

fn compute_status(rs: &Value, pods: &[Obj], min_ready: i64, now: DateTime<Utc>) -> Value {
    let template_labels = rs["spec"]["template"]["metadata"]["labels"].as_object();
    let mut replicas = 0;
    let mut fully_labeled = 0;
    let mut ready = 0;
    let mut available = 0;
    for p in pods.iter().filter(|p| wu::pod_is_active(p)) {
        replicas += 1;
        let labeled = template_labels
            .is_none_or(|want| want.iter().all(|(k, v)| wu::labels(p)[k.as_str()] == *v));
        if labeled {
            fully_labeled += 1;
        }
        if wu::pod_is_ready(p) {
            ready += 1;
        }
        if wu::pod_is_available(p, min_ready, now) {
            available += 1;
        }
    }
    // DeploymentReplicaSetTerminatingReplicas (beta, on since v1.35): pods
    // being deleted that have not finished, always reported (a pointer).
    let terminating = pods
        .iter()
        .filter(|p| wu::is_terminating(p) && !wu::is_terminal(p))
        .count();
    let mut status = json!({
        "replicas": replicas,
        "observedGeneration": rs["metadata"]["generation"].as_i64().unwrap_or(1),
        "terminatingReplicas": terminating,
    });
    // As kube's omitempty: zero counts are left out.
    for (k, v) in [
        ("fullyLabeledReplicas", fully_labeled),
        ("readyReplicas", ready),
        ("availableReplicas", available),
    ] {
        if v > 0 {
            status[k] = json!(v);
        }
    }
    if let Some(conds) = rs["status"]["conditions"].as_array()
        && !conds.is_empty()
    {
        status["conditions"] = json!(conds);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{make_ready, test_ctx};

    fn rs(ctx: &Ctx, replicas: i64) -> Value {
        (*ctx
            .store
            .create(
                &resources::REPLICASETS,
                json!({"metadata": {"name": "web-abc", "namespace": "default"},
                       "spec": {"replicas": replicas,
                                "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "nginx"}]}}}}),
            )
            .unwrap())
        .clone()
    }

    fn key(o: &Value) -> ObjKey {
        obj_key(o)
    }

    #[test]
    fn scales_up_and_reports_status() {
        let ctx = test_ctx(&["default"]);
        let rs = rs(&ctx, 3);
        ReplicaSetController.reconcile(&ctx, &key(&rs));
        let pods = wu::owned(&ctx, &resources::PODS, "default", meta_str(&rs, "uid"));
        assert_eq!(pods.len(), 3);
        for p in &pods {
            assert!(meta_str(p, "name").starts_with("web-abc-"));
            assert_eq!(p["metadata"]["labels"]["app"], "web");
            let owner = wu::controller_ref(p).unwrap();
            assert_eq!(owner["kind"], "ReplicaSet");
            assert_eq!(owner["blockOwnerDeletion"], true);
        }
        make_ready(&ctx, &pods[0], 1);
        ReplicaSetController.reconcile(&ctx, &key(&rs));
        let got = ctx
            .store
            .get(&resources::REPLICASETS, "default", "web-abc")
            .unwrap();
        assert_eq!(got["status"]["replicas"], 3);
        assert_eq!(got["status"]["readyReplicas"], 1);
        assert_eq!(got["status"]["availableReplicas"], 1);
        assert_eq!(got["status"]["observedGeneration"], 1);
        let created: Vec<_> = ctx
            .store
            .list(&resources::EVENTS, Some("default"))
            .into_iter()
            .filter(|e| e["reason"] == "SuccessfulCreate")
            .collect();
        assert_eq!(created.len(), 3);
        assert!(
            created[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Created pod: web-abc-")
        );
    }

    #[test]
    fn scale_down_deletes_unready_pods_first() {
        let ctx = test_ctx(&["default"]);
        let rs = rs(&ctx, 3);
        ReplicaSetController.reconcile(&ctx, &key(&rs));
        let pods = wu::owned(&ctx, &resources::PODS, "default", meta_str(&rs, "uid"));
        make_ready(&ctx, &pods[0], 10);
        make_ready(&ctx, &pods[1], 10);
        ctx.store
            .modify(&resources::REPLICASETS, "default", "web-abc", |o| {
                o["spec"]["replicas"] = json!(2)
            })
            .unwrap();
        ReplicaSetController.reconcile(&ctx, &key(&rs));
        let left = wu::owned(&ctx, &resources::PODS, "default", meta_str(&rs, "uid"));
        let names: Vec<&str> = left.iter().map(|p| meta_str(p, "name")).collect();
        assert_eq!(left.len(), 2);
        assert!(names.contains(&meta_str(&pods[0], "name")));
        assert!(names.contains(&meta_str(&pods[1], "name")));
        let got = ctx
            .store
            .get(&resources::REPLICASETS, "default", "web-abc")
            .unwrap();
        assert_eq!(got["status"]["replicas"], 2);
        assert_eq!(got["status"]["observedGeneration"], 2);
    }

    #[test]
    fn adopts_matching_orphans_instead_of_creating() {
        let ctx = test_ctx(&["default"]);
        ctx.store
            .create(
                &resources::PODS,
                json!({"metadata": {"name": "stray", "namespace": "default", "labels": {"app": "web"}},
                       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
            )
            .unwrap();
        let rs = (*ctx
            .store
            .create(
                &resources::REPLICASETS,
                json!({"metadata": {"name": "web-abc", "namespace": "default"},
                       "spec": {"replicas": 1,
                                "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "nginx"}]}}}}),
            )
            .unwrap())
        .clone();
        ReplicaSetController.reconcile(&ctx, &key(&rs));
        let pods = wu::owned(&ctx, &resources::PODS, "default", meta_str(&rs, "uid"));
        assert_eq!(pods.len(), 1);
        assert_eq!(meta_str(&pods[0], "name"), "stray");
    }

    #[test]
    fn ranking_prefers_unscheduled_then_pending_then_unready() {
        let unscheduled = json!({"metadata": {"name": "a"}, "status": {"phase": "Pending"}});
        let pending = json!({"metadata": {"name": "b"}, "spec": {"nodeName": "n"}, "status": {"phase": "Pending"}});
        let running = json!({"metadata": {"name": "c"}, "spec": {"nodeName": "n"}, "status": {"phase": "Running"}});
        let ready = json!({"metadata": {"name": "d"}, "spec": {"nodeName": "n"}, "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}});
        let all = [&ready, &running, &pending, &unscheduled];
        let order: Vec<&str> = pods_to_delete(&all, 4)
            .into_iter()
            .map(|p| meta_str(p, "name"))
            .collect();
        assert_eq!(order, vec!["a", "b", "c", "d"]);
    }
}
