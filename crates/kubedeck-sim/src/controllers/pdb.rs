//! The disruption controller: keeps each PodDisruptionBudget's status
//! (healthy, desired and expected pods, disruptions allowed) current, and
//! serves the eviction subresource, which refuses with 429 what would break
//! a budget, as `kubectl drain` expects.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::workload_util::{controller_ref, pod_is_ready};
use super::{Controller, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, Obj, ObjKey, fmt_time, meta_str, obj_key};
use kubedeck_kube::selector::LabelSelector;

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(DisruptionController)]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    pub(crate) current_healthy: i64,
    pub(crate) desired_healthy: i64,
    pub(crate) expected_pods: i64,
    pub(crate) disruptions_allowed: i64,
}

/// The budget's selector; a missing one selects nothing, an empty one
/// everything (policy/v1).
fn selector(pdb: &Value) -> Option<LabelSelector> {
    let sel = &pdb["spec"]["selector"];
    if sel.is_null() {
        return None;
    }
    LabelSelector::from_object(sel).ok()
}

fn selects(pdb: &Value, labels: &Value) -> bool {
    selector(pdb).is_some_and(|s| s.matches(labels))
}

/// An int-or-percent scaled against `total`, rounding up as kube does.
fn scaled(v: &Value, total: i64) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => match s.strip_suffix('%') {
            Some(p) => {
                let p: i64 = p.trim().parse().ok()?;
                Some((p * total + 99).div_euclid(100))
            }
            None => s.parse().ok(),
        },
        _ => None,
    }
}

/// The scale behind a pod: its Deployment's, StatefulSet's or
/// ReplicaSet's replicas, keyed by that controller's uid.
fn pod_scale(ctx: &Ctx, ns: &str, pod: &Value) -> Option<(String, i64)> {
    let owner = controller_ref(pod)?;
    let name = owner["name"].as_str().unwrap_or("");
    let replicas = |o: &Value| o["spec"]["replicas"].as_i64().unwrap_or(1);
    match owner["kind"].as_str() {
        Some("ReplicaSet") => {
            let rs = ctx.store.get(&resources::REPLICASETS, ns, name)?;
            if let Some(dref) = controller_ref(&rs).filter(|r| r["kind"] == "Deployment")
                && let Some(d) = ctx.store.get(
                    &resources::DEPLOYMENTS,
                    ns,
                    dref["name"].as_str().unwrap_or(""),
                )
            {
                return Some((meta_str(&d, "uid").to_string(), replicas(&d)));
            }
            Some((meta_str(&rs, "uid").to_string(), replicas(&rs)))
        }
        Some("StatefulSet") => {
            let s = ctx.store.get(&resources::STATEFULSETS, ns, name)?;
            Some((meta_str(&s, "uid").to_string(), replicas(&s)))
        }
        _ => None,
    }
}

/// Computes a budget from the pods it covers now.
pub(crate) fn compute(ctx: &Ctx, pdb: &Value) -> Budget {
    let ns = meta_str(pdb, "namespace");
    let pods: Vec<Obj> = match selector(pdb) {
        Some(sel) => {
            ctx.store
                .list_page(&resources::PODS, Some(ns), None, usize::MAX, &|p| {
                    sel.matches(&p["metadata"]["labels"])
                })
                .0
        }
        None => Vec::new(),
    };
    let current_healthy = pods
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null() && pod_is_ready(p))
        .count() as i64;
    let expected_scale = || {
        let mut scales: HashMap<String, i64> = HashMap::new();
        let mut unmanaged = 0;
        for p in &pods {
            match pod_scale(ctx, ns, p) {
                Some((uid, n)) => {
                    scales.insert(uid, n);
                }
                None => unmanaged += 1,
            }
        }
        scales.values().sum::<i64>() + unmanaged
    };
    let spec = &pdb["spec"];
    let (expected_pods, desired_healthy) = if !spec["maxUnavailable"].is_null() {
        let expected = expected_scale();
        let max = scaled(&spec["maxUnavailable"], expected).unwrap_or(0);
        (expected, (expected - max).max(0))
    } else if let Value::String(_) = spec["minAvailable"] {
        let expected = expected_scale();
        (
            expected,
            scaled(&spec["minAvailable"], expected).unwrap_or(0),
        )
    } else {
        (
            pods.len() as i64,
            scaled(&spec["minAvailable"], 0).unwrap_or(0),
        )
    };
    let allowed = current_healthy - desired_healthy;
    Budget {
        current_healthy,
        desired_healthy,
        expected_pods,
        disruptions_allowed: if expected_pods <= 0 || allowed <= 0 {
            0
        } else {
            allowed
        },
    }
}

fn write_status(pdb: &mut Value, b: Budget) {
    let old = pdb["status"].clone();
    let ok = b.disruptions_allowed > 0;
    let status_str = if ok { "True" } else { "False" };
    let previous = old["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "DisruptionAllowed"));
    let ltt = previous.filter(|c| c["status"] == status_str).map_or_else(
        || json!(fmt_time(Utc::now())),
        |c| c["lastTransitionTime"].clone(),
    );
    let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(1);
    let mut status = json!({
        "observedGeneration": generation,
        "disruptionsAllowed": b.disruptions_allowed,
        "currentHealthy": b.current_healthy,
        "desiredHealthy": b.desired_healthy,
        "expectedPods": b.expected_pods,
        "conditions": [{
            "type": "DisruptionAllowed",
            "status": status_str,
            "reason": if ok { "SufficientPods" } else { "InsufficientPods" },
            "message": "",
            "observedGeneration": generation,
            "lastTransitionTime": ltt,
        }],
    });
    if !old["disruptedPods"].is_null() {
        status["disruptedPods"] = old["disruptedPods"].clone();
    }
    pdb["status"] = status;
}

fn too_many_requests(pdb_name: &str, b: Budget) -> ApiError {
    ApiError {
        details: Some(json!({"causes": [{
            "reason": "DisruptionBudget",
            "message": format!(
                "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                b.desired_healthy, b.current_healthy
            ),
        }]})),
        ..ApiError::new(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
        )
    }
}

fn still_processing(pdb_name: &str) -> ApiError {
    ApiError {
        details: Some(json!({
            "causes": [{
                "reason": "DisruptionBudget",
                "message": format!(
                    "The disruption budget {pdb_name} is still being processed by the server."
                ),
            }],
            "retryAfterSeconds": 10,
        })),
        ..ApiError::new(
            429,
            "TooManyRequests",
            "Cannot evict pod as it would violate the pod's disruption budget.",
        )
    }
}

fn delete_options(eviction: &Value) -> DeleteOptions {
    let o = &eviction["deleteOptions"];
    DeleteOptions {
        grace_period_seconds: o["gracePeriodSeconds"].as_i64(),
        propagation_policy: o["propagationPolicy"].as_str().map(str::to_string),
        precondition_uid: o["preconditions"]["uid"].as_str().map(str::to_string),
        precondition_rv: o["preconditions"]["resourceVersion"]
            .as_str()
            .map(str::to_string),
    }
}

/// The eviction subresource (`POST pods/<name>/eviction`): deletes the pod
/// unless a disruption budget forbids it (429), and answers with a Success
/// Status as the API server does.
pub(crate) fn evict(ctx: &Ctx, ns: &str, name: &str, eviction: &Value) -> ApiResult<Value> {
    let named = meta_str(eviction, "name");
    if !named.is_empty() && named != name {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Eviction object",
        ));
    }
    let _serial = ctx.evictions.lock().unwrap_or_else(|e| e.into_inner());
    let pod = ctx
        .store
        .get(&resources::PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(&resources::PODS, name))?;
    let opts = delete_options(eviction);
    let success = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success", "code": 201});
    let ignore_budgets = matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded") | Some("Failed") | Some("Pending") | None
    ) || !pod["metadata"]["deletionTimestamp"].is_null();
    if ignore_budgets {
        ctx.store.delete(&resources::PODS, ns, name, &opts)?;
        return Ok(success);
    }
    let labels = &pod["metadata"]["labels"];
    let pdbs: Vec<Obj> = ctx
        .store
        .list(&resources::PDBS, Some(ns))
        .into_iter()
        .filter(|p| selects(p, labels))
        .collect();
    let pdb = match pdbs.as_slice() {
        [] => {
            ctx.store.delete(&resources::PODS, ns, name, &opts)?;
            return Ok(success);
        }
        [one] => one.clone(),
        _ => {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    // A budget whose last change its controller has not seen yet can't be
    // trusted: 429 with a suggested retry, as kube's `checkAndDecrement`.
    let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(1);
    let observed = pdb["status"]["observedGeneration"].as_i64().unwrap_or(0);
    if observed < generation {
        return Err(still_processing(meta_str(&pdb, "name")));
    }
    let budget = compute(ctx, &pdb);
    if !pod_is_ready(&pod) {
        let policy = pdb["spec"]["unhealthyPodEvictionPolicy"]
            .as_str()
            .unwrap_or("IfHealthyBudget");
        let budget_healthy =
            budget.current_healthy >= budget.desired_healthy && budget.desired_healthy > 0;
        if policy == "AlwaysAllow" || budget_healthy {
            ctx.store.delete(&resources::PODS, ns, name, &opts)?;
            return Ok(success);
        }
    }
    let pdb_name = meta_str(&pdb, "name").to_string();
    if budget.disruptions_allowed <= 0 {
        return Err(too_many_requests(&pdb_name, budget));
    }
    let spent = Budget {
        disruptions_allowed: budget.disruptions_allowed - 1,
        ..budget
    };
    let now = fmt_time(Utc::now());
    ctx.store.modify(&resources::PDBS, ns, &pdb_name, |p| {
        write_status(p, spent);
        p["status"]["disruptedPods"][name] = json!(now);
    })?;
    ctx.store.delete(&resources::PODS, ns, name, &opts)?;
    Ok(success)
}

pub(crate) struct DisruptionController;

/// What a pod contributes to a budget.
fn pod_view(pod: &Value) -> Value {
    json!([
        pod["metadata"]["labels"],
        pod["metadata"]["deletionTimestamp"].is_null(),
        pod_is_ready(pod),
    ])
}

impl Controller for DisruptionController {
    fn name(&self) -> &'static str {
        "disruption-controller"
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::PDBS
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        let obj = &change.object;
        let res = change.res;
        if std::ptr::eq(res, &resources::PDBS) {
            return vec![obj_key(obj)];
        }
        let ns = meta_str(obj, "namespace");
        let scale_changed = |c: &Change| {
            c.old
                .as_ref()
                .is_none_or(|o| o["spec"]["replicas"] != c.object["spec"]["replicas"])
        };
        if std::ptr::eq(res, &resources::DEPLOYMENTS)
            || std::ptr::eq(res, &resources::REPLICASETS)
            || std::ptr::eq(res, &resources::STATEFULSETS)
        {
            if !scale_changed(change) {
                return Vec::new();
            }
            return ctx
                .store
                .list(&resources::PDBS, Some(ns))
                .iter()
                .map(|p| obj_key(p))
                .collect();
        }
        if !std::ptr::eq(res, &resources::PODS) {
            return Vec::new();
        }
        if change.kind == ChangeType::Modified
            && change
                .old
                .as_ref()
                .is_some_and(|o| pod_view(o) == pod_view(obj))
        {
            return Vec::new();
        }
        let old_labels = change.old.as_ref().map(|o| &o["metadata"]["labels"]);
        ctx.store
            .list(&resources::PDBS, Some(ns))
            .iter()
            .filter(|p| {
                selects(p, &obj["metadata"]["labels"]) || old_labels.is_some_and(|l| selects(p, l))
            })
            .map(|p| obj_key(p))
            .collect()
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let pdb = ctx.store.get(&resources::PDBS, &key.0, &key.1)?;
        let budget = compute(ctx, &pdb);
        // Evicted pods are tracked until they are gone or terminating. (The
        // store is locked inside `modify`, so look them up first.)
        let still_disrupting: Option<serde_json::Map<String, Value>> =
            pdb["status"]["disruptedPods"].as_object().map(|m| {
                m.iter()
                    .filter(|(pod, _)| {
                        ctx.store
                            .get(&resources::PODS, &key.0, pod)
                            .is_some_and(|p| p["metadata"]["deletionTimestamp"].is_null())
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            });
        let result = ctx.store.modify(&resources::PDBS, &key.0, &key.1, |p| {
            write_status(p, budget);
            if let Some(status) = p["status"].as_object_mut() {
                match still_disrupting {
                    Some(m) if !m.is_empty() => {
                        status.insert("disruptedPods".into(), Value::Object(m));
                    }
                    _ => {
                        status.remove("disruptedPods");
                    }
                }
            }
        });
        if let Err(e) = result {
            tracing::debug!(pdb = %key.1, "status update failed: {e}");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_ctx;

    fn rs_pod(ctx: &Ctx, name: &str, ready: bool) {
        ctx.store
            .create(
                &resources::PODS,
                json!({"metadata": {"name": name, "namespace": "demo", "labels": {"app": "web"},
                        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "uid": "rs", "controller": true}]},
                   "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": "web"}]},
                   "status": {"phase": "Running",
                              "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}}),
            )
            .expect("pod");
    }

    fn setup(ctx: &Ctx, spec: Value) -> Value {
        ctx.store
            .create(
                &resources::REPLICASETS,
                json!({"metadata": {"name": "web-1", "namespace": "demo"},
                   "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"restartPolicy": "Always",
                                                  "containers": [{"name": "web", "image": "web"}]}}}}),
            )
            .expect("rs");
        let mut pdb = json!({"metadata": {"name": "web", "namespace": "demo"},
                             "spec": {"selector": {"matchLabels": {"app": "web"}}}});
        if let (Some(s), Some(extra)) = (pdb["spec"].as_object_mut(), spec.as_object()) {
            s.extend(extra.clone());
        }
        (*ctx.store.create(&resources::PDBS, pdb).expect("pdb")).clone()
    }

    #[test]
    fn budgets_from_ints_and_percentages() {
        let ctx = test_ctx(&["demo"]);
        let pdb = setup(&ctx, json!({"minAvailable": 2}));
        rs_pod(&ctx, "a", true);
        rs_pod(&ctx, "b", true);
        rs_pod(&ctx, "c", true);
        rs_pod(&ctx, "d", false);
        let b = compute(&ctx, &pdb);
        // An int minAvailable expects the pods that exist.
        assert_eq!(
            b,
            Budget {
                current_healthy: 3,
                desired_healthy: 2,
                expected_pods: 4,
                disruptions_allowed: 1
            }
        );
        let mut pct = pdb.clone();
        pct["spec"] = json!({"selector": {"matchLabels": {"app": "web"}}, "maxUnavailable": "30%"});
        // 30% of the ReplicaSet's 4 replicas rounds up to 2 unavailable.
        let b = compute(&ctx, &pct);
        assert_eq!(
            (b.expected_pods, b.desired_healthy, b.disruptions_allowed),
            (4, 2, 1)
        );
        pct["spec"] = json!({"selector": {"matchLabels": {"app": "web"}}, "minAvailable": "90%"});
        let b = compute(&ctx, &pct);
        assert_eq!((b.desired_healthy, b.disruptions_allowed), (4, 0));

        let c = DisruptionController;
        c.reconcile(&ctx, &obj_key(&pdb));
        let stored = ctx.store.get(&resources::PDBS, "demo", "web").expect("pdb");
        let st = &stored["status"];
        assert_eq!(st["disruptionsAllowed"], 1);
        assert_eq!(st["currentHealthy"], 3);
        assert_eq!(st["desiredHealthy"], 2);
        assert_eq!(st["expectedPods"], 4);
        assert_eq!(st["observedGeneration"], 1);
        assert_eq!(st["conditions"][0]["reason"], "SufficientPods");
        assert_eq!(st["conditions"][0]["status"], "True");
    }

    #[test]
    fn an_unobserved_budget_answers_429_with_a_retry_after() {
        let ctx = test_ctx(&["demo"]);
        setup(&ctx, json!({"minAvailable": 1}));
        rs_pod(&ctx, "a", true);
        rs_pod(&ctx, "b", true);
        let err = evict(&ctx, "demo", "a", &json!({})).expect_err("not observed yet");
        assert_eq!((err.code, err.reason), (429, "TooManyRequests"));
        let details = err.details.expect("details");
        assert_eq!(details["retryAfterSeconds"], 10);
        assert_eq!(
            details["causes"][0]["message"],
            "The disruption budget web is still being processed by the server."
        );
        DisruptionController.reconcile(&ctx, &("demo".into(), "web".into()));
        evict(&ctx, "demo", "a", &json!({})).expect("observed: allowed");
    }

    #[test]
    fn eviction_spends_the_budget_then_answers_429() {
        let ctx = test_ctx(&["demo"]);
        setup(&ctx, json!({"minAvailable": 1}));
        rs_pod(&ctx, "a", true);
        rs_pod(&ctx, "b", true);
        DisruptionController.reconcile(&ctx, &("demo".into(), "web".into()));
        let ok =
            evict(&ctx, "demo", "a", &json!({"metadata": {"name": "a"}})).expect("first eviction");
        assert_eq!(ok["status"], "Success");
        assert_eq!(ok["code"], 201);
        let a = ctx
            .store
            .get(&resources::PODS, "demo", "a")
            .expect("terminating");
        assert!(!a["metadata"]["deletionTimestamp"].is_null());
        let pdb = ctx.store.get(&resources::PDBS, "demo", "web").expect("pdb");
        assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
        assert!(pdb["status"]["disruptedPods"]["a"].is_string());

        let err = evict(&ctx, "demo", "b", &json!({})).expect_err("budget exhausted");
        assert_eq!(err.code, 429);
        assert_eq!(err.reason, "TooManyRequests");
        assert_eq!(
            err.message,
            "Cannot evict pod as it would violate the pod's disruption budget."
        );
        let status = err.status();
        assert_eq!(status["details"]["causes"][0]["reason"], "DisruptionBudget");
        assert_eq!(
            status["details"]["causes"][0]["message"],
            "The disruption budget web needs 1 healthy pods and has 1 currently"
        );
        assert_eq!(
            evict(&ctx, "demo", "gone", &json!({})).map_err(|e| e.code),
            Err(404)
        );
    }
}
