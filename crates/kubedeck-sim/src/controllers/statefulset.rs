//! The StatefulSet controller (`statefulset-controller`): stable pod names
//! `<set>-<ordinal>` created in order (or in parallel), claims from
//! volumeClaimTemplates, ControllerRevisions for the template history, and
//! rolling updates from the highest ordinal down to the partition.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, ObjKey, Stored, meta_str, obj_key};

const COMPONENT: &str = "statefulset-controller";
const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(StatefulSetController)]
}

struct StatefulSetController;

impl Controller for StatefulSetController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::STATEFULSETS
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        let obj = &change.object;
        if std::ptr::eq(change.res, &resources::STATEFULSETS) {
            return vec![obj_key(obj)];
        }
        if !std::ptr::eq(change.res, &resources::PODS)
            || (change.kind == ChangeType::Modified
                && !wu::pod_change_matters(change.old.as_deref().map(Stored::value), obj))
        {
            return Vec::new();
        }
        let ns = meta_str(obj, "namespace");
        let mut keys = wu::owner_keys(change, "StatefulSet");
        if wu::controller_ref(obj).is_none()
            && !wu::is_terminating(obj)
            && let Some((parent, _)) = parent_and_ordinal(meta_str(obj, "name"))
            && ctx
                .store
                .get(&resources::STATEFULSETS, ns, parent)
                .is_some()
        {
            keys.push((ns.to_string(), parent.to_string()));
        }
        keys
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let set = ctx.store.get(&resources::STATEFULSETS, &key.0, &key.1)?;
        wu::workload_selector(&set)?;
        let (current, update) = sync_revisions(ctx, &set)?;
        let pods = claim_pods(ctx, &set);
        if !wu::is_terminating(&set) {
            manage(ctx, &set, &current, &update, &pods);
        }
        let pods = claim_pods(ctx, &set);
        let min_ready = wu::int_field(&set["spec"]["minReadySeconds"], 0);
        let now = Utc::now();
        let status = compute_status(&set, &current, &update, &pods, min_ready, now);
        if set["status"] != status {
            let _ = ctx
                .store
                .modify(&resources::STATEFULSETS, &key.0, &key.1, |o| {
                    o["status"] = status.clone()
                });
        }
        truncate_history(ctx, &set, &status, &pods);
        pods.iter()
            .filter_map(|p| wu::until_available(p, min_ready, now))
            .min()
    }
}

/// `web-3` → ("web", 3).
fn parent_and_ordinal(name: &str) -> Option<(&str, i64)> {
    let (parent, ord) = name.rsplit_once('-')?;
    let n: i64 = ord.parse().ok()?;
    (n >= 0 && ord == n.to_string()).then_some((parent, n))
}

/// The ControllerRevision payload kube stores: the template as a
/// strategic-merge patch that replaces it.
fn revision_data(set: &Value) -> Value {
    let mut template = set["spec"]["template"].clone();
    template["$patch"] = json!("replace");
    json!({"spec": {"template": template}})
}

fn template_of(revision: &Value) -> Value {
    let mut t = revision["data"]["spec"]["template"].clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    t
}

fn revision_number(cr: &Value) -> i64 {
    cr["revision"].as_i64().unwrap_or(0)
}

fn owned_revisions(ctx: &Ctx, set: &Value) -> Vec<Value> {
    let uid = meta_str(set, "uid");
    let ns = meta_str(set, "namespace");
    let mut revs = wu::owned(ctx, &resources::CONTROLLER_REVISIONS, ns, uid);
    revs.sort_by_key(revision_number);
    revs
}

/// kube's `getStatefulSetRevisions`: the current revision (from the
/// status, else the update one) and the update revision for the present
/// template, reusing an equal older one under a new number (a rollback).
fn sync_revisions(ctx: &Ctx, set: &Value) -> Option<(Value, Value)> {
    let ns = meta_str(set, "namespace");
    let revs = owned_revisions(ctx, set);
    let data = revision_data(set);
    let next = revs.last().map_or(0, revision_number) + 1;
    let equal = revs.iter().rev().find(|cr| cr["data"] == data).cloned();
    let update = match equal {
        Some(cr) if revs.last().map(|l| meta_str(l, "name")) == Some(meta_str(&cr, "name")) => cr,
        Some(cr) => ctx
            .store
            .modify(
                &resources::CONTROLLER_REVISIONS,
                ns,
                meta_str(&cr, "name"),
                |o| o["revision"] = json!(next),
            )
            .ok()
            .flatten()
            .map(|o| (*o).clone())?,
        None => create_revision(ctx, set, data, next)?,
    };
    let current = set["status"]["currentRevision"]
        .as_str()
        .and_then(|name| revs.iter().find(|cr| meta_str(cr, "name") == name))
        .cloned()
        .unwrap_or_else(|| update.clone());
    Some((current, update))
}

fn create_revision(ctx: &Ctx, set: &Value, data: Value, number: i64) -> Option<Value> {
    let ns = meta_str(set, "namespace");
    let mut collisions = set["status"]["collisionCount"].as_i64();
    for _ in 0..8 {
        let hash = wu::stable_hash(&data, collisions);
        let name = format!("{}-{hash}", meta_str(set, "name"));
        let mut labels = set["spec"]["template"]["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels[wu::REVISION_HASH] = json!(hash);
        let cr = json!({
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": labels,
                "ownerReferences": [wu::controller_ref_to(set)],
            },
            "data": data,
            "revision": number,
        });
        match ctx.store.create(&resources::CONTROLLER_REVISIONS, cr) {
            Ok(c) => return Some((*c).clone()),
            Err(e) if e.code == 409 => {
                // Same name, other owner or data: try the next hash.
                if let Some(existing) = ctx.store.get(&resources::CONTROLLER_REVISIONS, ns, &name)
                    && existing["data"] == data
                    && wu::is_controlled_by(&existing, meta_str(set, "uid"))
                {
                    return Some((*existing).clone());
                }
                let c = collisions.unwrap_or(0) + 1;
                collisions = Some(c);
                let _ =
                    ctx.store
                        .modify(&resources::STATEFULSETS, ns, meta_str(set, "name"), |o| {
                            o["status"]["collisionCount"] = json!(c)
                        });
            }
            Err(_) => return None,
        }
    }
    None
}

/// The pods of this set: owned ones, plus orphans named like its members
/// that match its selector (adopted).
fn claim_pods(ctx: &Ctx, set: &Value) -> Vec<Value> {
    let uid = meta_str(set, "uid");
    let ns = meta_str(set, "namespace");
    let set_name = meta_str(set, "name");
    let selector = wu::workload_selector(set);
    let mut out = Vec::new();
    for pod in ctx.store.list(&resources::PODS, Some(ns)) {
        let name = meta_str(&pod, "name");
        let member = parent_and_ordinal(name).is_some_and(|(p, _)| p == set_name);
        if wu::is_controlled_by(&pod, uid) {
            out.push((*pod).clone());
        } else if member
            && wu::controller_ref(&pod).is_none()
            && !wu::is_terminating(&pod)
            && !wu::is_terminating(set)
            && selector
                .as_ref()
                .is_some_and(|s| s.matches(wu::labels(&pod)))
            && let Ok(Some(p)) = ctx.store.modify(&resources::PODS, ns, name, |p| {
                wu::set_controller_ref(p, set)
            })
        {
            out.push((*p).clone());
        }
    }
    out
}

fn running_and_ready(pod: &Value) -> bool {
    wu::phase(pod) == "Running" && wu::pod_is_ready(pod) && !wu::is_terminating(pod)
}

/// One pass of kube's `updateStatefulSet`: create or replace missing and
/// failed pods (in order unless Parallel), delete condemned ones from the
/// highest ordinal, then roll the update from the top down.
fn manage(ctx: &Ctx, set: &Value, current: &Value, update: &Value, pods: &[Value]) {
    let replicas = wu::int_field(&set["spec"]["replicas"], 1).max(0);
    let monotonic = set["spec"]["podManagementPolicy"].as_str() != Some("Parallel");
    let set_name = meta_str(set, "name");
    let mut by_ordinal: BTreeMap<i64, &Value> = BTreeMap::new();
    for p in pods {
        if let Some((parent, ord)) = parent_and_ordinal(meta_str(p, "name"))
            && parent == set_name
        {
            by_ordinal.insert(ord, p);
        }
    }
    let strategy = &set["spec"]["updateStrategy"];
    let rolling = strategy["type"].as_str() != Some("OnDelete");
    let partition = if rolling {
        wu::int_field(&strategy["rollingUpdate"]["partition"], 0).max(0)
    } else {
        0
    };

    for ord in 0..replicas {
        match by_ordinal.get(&ord) {
            None => {
                // Below the partition a recreated pod keeps the current revision.
                let rev = if rolling && ord < partition {
                    current
                } else {
                    update
                };
                create_pod(ctx, set, rev, ord);
                if monotonic {
                    return;
                }
            }
            Some(p) if wu::phase(p) == "Failed" && !wu::is_terminating(p) => {
                delete_pod(ctx, set, p);
                if monotonic {
                    return;
                }
            }
            Some(p) if monotonic && !running_and_ready(p) => return,
            Some(_) => {}
        }
    }

    let condemned: Vec<&Value> = by_ordinal
        .range(replicas..)
        .rev()
        .map(|(_, p)| *p)
        .collect();
    for p in condemned {
        if wu::is_terminating(p) {
            if monotonic {
                return;
            }
            continue;
        }
        delete_pod(ctx, set, p);
        if monotonic {
            return;
        }
    }

    if !rolling {
        return;
    }
    let update_name = meta_str(update, "name");
    for ord in (partition..replicas).rev() {
        let Some(p) = by_ordinal.get(&ord) else {
            return;
        };
        if wu::pod_revision(p) != update_name && !wu::is_terminating(p) {
            delete_pod(ctx, set, p);
            return;
        }
        if !running_and_ready(p) {
            return;
        }
    }
}

fn claim_name(template: &Value, set: &Value, ord: i64) -> String {
    format!(
        "{}-{}-{ord}",
        meta_str(template, "name"),
        meta_str(set, "name")
    )
}

fn create_pod(ctx: &Ctx, set: &Value, revision: &Value, ord: i64) {
    let set_name = meta_str(set, "name");
    let name = format!("{set_name}-{ord}");
    let template = template_of(revision);
    let mut pod = wu::pod_from_template(set, &template, Some(&name));
    let labels = &mut pod["metadata"]["labels"];
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[POD_NAME_LABEL] = json!(name);
    labels[POD_INDEX_LABEL] = json!(ord.to_string());
    labels[wu::REVISION_HASH] = json!(meta_str(revision, "name"));
    pod["spec"]["hostname"] = json!(name);
    if let Some(svc) = set["spec"]["serviceName"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        pod["spec"]["subdomain"] = json!(svc);
    }
    let claims = set["spec"]["volumeClaimTemplates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for claim in &claims {
        if !ensure_claim(ctx, set, claim, &name, ord) {
            return;
        }
        let vol_name = meta_str(claim, "name");
        let volume = json!({"name": vol_name,
            "persistentVolumeClaim": {"claimName": claim_name(claim, set, ord)}});
        let vols = &mut pod["spec"]["volumes"];
        if !vols.is_array() {
            *vols = json!([]);
        }
        if let Some(v) = vols.as_array_mut() {
            v.retain(|x| x["name"].as_str() != Some(vol_name));
            v.push(volume);
        }
    }
    match ctx.store.create(&resources::PODS, pod) {
        Ok(_) => ctx.recorder.record(
            set,
            events::NORMAL,
            "SuccessfulCreate",
            &format!("Create Pod {name} in StatefulSet {set_name} successful"),
            COMPONENT,
        ),
        Err(e) => ctx.recorder.record(
            set,
            events::WARNING,
            "FailedCreate",
            &format!(
                "Create Pod {name} in StatefulSet {set_name} failed error: {}",
                e.message
            ),
            COMPONENT,
        ),
    }
}

/// Creates the pod's claim if missing, bound at once to a volume of the
/// requested size (the simulated cluster provisions instantly). Claims are
/// kept when the set scales down, as kube's default retention does.
fn ensure_claim(ctx: &Ctx, set: &Value, template: &Value, pod: &str, ord: i64) -> bool {
    let ns = meta_str(set, "namespace");
    let name = claim_name(template, set, ord);
    if ctx.store.get(&resources::PVCS, ns, &name).is_some() {
        return true;
    }
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    if let Some(ml) = set["spec"]["selector"]["matchLabels"].as_object() {
        for (k, v) in ml {
            labels[k] = v.clone();
        }
    }
    let mut claim = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": template["spec"].clone(),
    });
    if let Some(ann) = template["metadata"]["annotations"].as_object() {
        claim["metadata"]["annotations"] = json!(ann);
    }
    let set_name = meta_str(set, "name");
    let created = match ctx.store.create(&resources::PVCS, claim) {
        Ok(c) => c,
        Err(e) => {
            ctx.recorder.record(
                set,
                events::WARNING,
                "FailedCreate",
                &format!(
                    "Create Claim {name} for Pod {pod} in StatefulSet {set_name} failed error: {}",
                    e.message
                ),
                COMPONENT,
            );
            return false;
        }
    };
    ctx.recorder.record(
        set,
        events::NORMAL,
        "SuccessfulCreate",
        &format!("Create Claim {name} Pod {pod} in StatefulSet {set_name} success"),
        COMPONENT,
    );
    bind_claim(ctx, &created);
    true
}

fn bind_claim(ctx: &Ctx, claim: &Value) {
    let ns = meta_str(claim, "namespace");
    let name = meta_str(claim, "name");
    let volume = format!("pvc-{}", meta_str(claim, "uid"));
    let spec = &claim["spec"];
    let size = spec["resources"]["requests"]["storage"].clone();
    let modes = if spec["accessModes"].is_array() {
        spec["accessModes"].clone()
    } else {
        json!(["ReadWriteOnce"])
    };
    let mut pv = json!({
        "metadata": {"name": volume},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": modes,
            "persistentVolumeReclaimPolicy": "Delete",
            "volumeMode": "Filesystem",
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                          "namespace": ns, "name": name, "uid": meta_str(claim, "uid")},
            "hostPath": {"path": format!("/var/lib/sim-volumes/{volume}")},
        },
        "status": {"phase": "Bound"},
    });
    if let Some(sc) = spec["storageClassName"].as_str() {
        pv["spec"]["storageClassName"] = json!(sc);
    }
    let _ = ctx.store.create(&resources::PVS, pv);
    let _ = ctx.store.modify(&resources::PVCS, ns, name, |c| {
        c["spec"]["volumeName"] = json!(volume);
        c["status"] =
            json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}});
    });
}

fn delete_pod(ctx: &Ctx, set: &Value, pod: &Value) {
    let msg = format!(
        "Delete Pod {} in StatefulSet {} successful",
        meta_str(pod, "name"),
        meta_str(set, "name")
    );
    let _ = wu::delete_pod(ctx, set, pod, COMPONENT, &msg);
}

fn compute_status(
    set: &Value,
    current: &Value,
    update: &Value,
    pods: &[Value],
    min_ready: i64,
    now: chrono::DateTime<Utc>,
) -> Value {
    let current_name = meta_str(current, "name");
    let update_name = meta_str(update, "name");
    let (mut replicas, mut ready, mut available, mut cur, mut upd) = (0, 0, 0, 0, 0);
    for p in pods {
        replicas += 1;
        if running_and_ready(p) {
            ready += 1;
            if wu::pod_is_available(p, min_ready, now) {
                available += 1;
            }
        }
        if !wu::is_terminating(p) {
            let rev = wu::pod_revision(p);
            if rev == current_name {
                cur += 1;
            }
            if rev == update_name {
                upd += 1;
            }
        }
    }
    let mut current_rev = current_name.to_string();
    let rolling = set["spec"]["updateStrategy"]["type"].as_str() != Some("OnDelete");
    // A finished rolling update makes the update revision current.
    if rolling && upd == replicas && ready == replicas {
        cur = upd;
        current_rev = update_name.to_string();
    }
    let mut status = json!({
        "observedGeneration": set["metadata"]["generation"].as_i64().unwrap_or(1),
        "replicas": replicas,
        "currentRevision": current_rev,
        "updateRevision": update_name,
        "collisionCount": set["status"]["collisionCount"].as_i64().unwrap_or(0),
        "availableReplicas": available,
    });
    for (k, v) in [
        ("readyReplicas", ready),
        ("currentReplicas", cur),
        ("updatedReplicas", upd),
    ] {
        if v > 0 {
            status[k] = json!(v);
        }
    }
    status
}

/// Deletes the oldest revisions no pod uses beyond revisionHistoryLimit.
fn truncate_history(ctx: &Ctx, set: &Value, status: &Value, pods: &[Value]) {
    let limit = wu::int_field(&set["spec"]["revisionHistoryLimit"], 10).max(0) as usize;
    let revs = owned_revisions(ctx, set);
    let live = |cr: &Value| {
        let name = meta_str(cr, "name");
        status["currentRevision"] == name
            || status["updateRevision"] == name
            || pods.iter().any(|p| wu::pod_revision(p) == name)
    };
    let history: Vec<&Value> = revs.iter().filter(|cr| !live(cr)).collect();
    if history.len() <= limit {
        return;
    }
    for cr in &history[..history.len() - limit] {
        let _ = ctx.store.delete(
            &resources::CONTROLLER_REVISIONS,
            meta_str(cr, "namespace"),
            meta_str(cr, "name"),
            &DeleteOptions::default(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{make_ready, test_ctx};

    fn create_set(ctx: &Ctx, replicas: i64, policy: &str) {
        ctx.store
            .create(
                &resources::STATEFULSETS,
                json!({"metadata": {"name": "db", "namespace": "default"},
                       "spec": {"replicas": replicas, "serviceName": "db",
                                "podManagementPolicy": policy,
                                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                                "selector": {"matchLabels": {"app": "db"}},
                                "template": {"metadata": {"labels": {"app": "db"}},
                                             "spec": {"restartPolicy": "Always",
                                                      "containers": [{"name": "c", "image": "pg:1"}]}},
                                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                    "spec": {"accessModes": ["ReadWriteOnce"],
                                             "resources": {"requests": {"storage": "1Gi"}}}}]}}),
            )
            .unwrap();
    }

    fn key() -> ObjKey {
        ("default".into(), "db".into())
    }

    fn pod_names(ctx: &Ctx) -> Vec<String> {
        ctx.store
            .list(&resources::PODS, Some("default"))
            .iter()
            .filter(|p| !wu::is_terminating(p))
            .map(|p| meta_str(p, "name").to_string())
            .collect()
    }

    fn ready(ctx: &Ctx, name: &str) {
        let p = ctx.store.get(&resources::PODS, "default", name).unwrap();
        make_ready(ctx, &p, 1);
    }

    fn get_set(ctx: &Ctx) -> crate::store::Obj {
        ctx.store
            .get(&resources::STATEFULSETS, "default", "db")
            .unwrap()
    }

    #[test]
    fn ordered_ready_creates_one_pod_at_a_time_with_claims() {
        let ctx = test_ctx(&["default"]);
        create_set(&ctx, 3, "OrderedReady");
        let c = StatefulSetController;
        c.reconcile(&ctx, &key());
        c.reconcile(&ctx, &key());
        assert_eq!(pod_names(&ctx), vec!["db-0"]);
        let pod = ctx.store.get(&resources::PODS, "default", "db-0").unwrap();
        let labels = &pod["metadata"]["labels"];
        assert_eq!(labels[POD_NAME_LABEL], "db-0");
        assert_eq!(labels[POD_INDEX_LABEL], "0");
        assert_eq!(pod["spec"]["hostname"], "db-0");
        assert_eq!(pod["spec"]["subdomain"], "db");
        assert_eq!(
            pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "data-db-0"
        );
        let pvc = ctx
            .store
            .get(&resources::PVCS, "default", "data-db-0")
            .unwrap();
        assert_eq!(pvc["status"]["phase"], "Bound");
        assert_eq!(pvc["metadata"]["labels"]["app"], "db");
        let cr_name = labels[wu::REVISION_HASH].as_str().unwrap();
        let cr = ctx
            .store
            .get(&resources::CONTROLLER_REVISIONS, "default", cr_name)
            .unwrap();
        assert_eq!(cr["revision"], 1);
        assert_eq!(cr["data"]["spec"]["template"]["$patch"], "replace");

        ready(&ctx, "db-0");
        c.reconcile(&ctx, &key());
        assert_eq!(pod_names(&ctx), vec!["db-0", "db-1"]);
        ready(&ctx, "db-1");
        c.reconcile(&ctx, &key());
        ready(&ctx, "db-2");
        c.reconcile(&ctx, &key());
        let set = get_set(&ctx);
        assert_eq!(set["status"]["replicas"], 3);
        assert_eq!(set["status"]["readyReplicas"], 3);
        assert_eq!(set["status"]["currentRevision"], cr_name);
        assert_eq!(set["status"]["updateRevision"], cr_name);
        let msgs: Vec<String> = ctx
            .store
            .list(&resources::EVENTS, Some("default"))
            .iter()
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect();
        assert!(msgs.contains(&"Create Pod db-0 in StatefulSet db successful".to_string()));
        assert!(
            msgs.contains(&"Create Claim data-db-1 Pod db-1 in StatefulSet db success".to_string())
        );

        // Scale down: highest ordinal first, claims kept.
        ctx.store
            .modify(&resources::STATEFULSETS, "default", "db", |s| {
                s["spec"]["replicas"] = json!(1)
            })
            .unwrap();
        c.reconcile(&ctx, &key());
        assert_eq!(pod_names(&ctx), vec!["db-0", "db-1"]);
        ctx.store.remove(&resources::PODS, "default", "db-2");
        c.reconcile(&ctx, &key());
        assert_eq!(pod_names(&ctx), vec!["db-0"]);
        assert!(
            ctx.store
                .get(&resources::PVCS, "default", "data-db-2")
                .is_some()
        );
    }

    #[test]
    fn parallel_creates_all_pods_at_once() {
        let ctx = test_ctx(&["default"]);
        create_set(&ctx, 3, "Parallel");
        StatefulSetController.reconcile(&ctx, &key());
        assert_eq!(pod_names(&ctx), vec!["db-0", "db-1", "db-2"]);
    }

    #[test]
    fn rolling_update_replaces_from_the_highest_ordinal_and_rollback_renumbers() {
        let ctx = test_ctx(&["default"]);
        create_set(&ctx, 2, "Parallel");
        let c = StatefulSetController;
        c.reconcile(&ctx, &key());
        ready(&ctx, "db-0");
        ready(&ctx, "db-1");
        c.reconcile(&ctx, &key());
        let first = get_set(&ctx)["status"]["updateRevision"]
            .as_str()
            .unwrap()
            .to_string();
        let set_image = |image: &str| {
            ctx.store
                .modify(&resources::STATEFULSETS, "default", "db", |s| {
                    s["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image)
                })
                .unwrap();
        };
        set_image("pg:2");
        c.reconcile(&ctx, &key());
        let db1 = ctx.store.get(&resources::PODS, "default", "db-1").unwrap();
        assert!(wu::is_terminating(&db1), "db-1 goes first");
        let db0 = ctx.store.get(&resources::PODS, "default", "db-0").unwrap();
        assert!(!wu::is_terminating(&db0));
        ctx.store.remove(&resources::PODS, "default", "db-1");
        c.reconcile(&ctx, &key());
        let set = get_set(&ctx);
        let second = set["status"]["updateRevision"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(first, second);
        assert_eq!(set["status"]["currentRevision"], first.as_str());
        let db1 = ctx.store.get(&resources::PODS, "default", "db-1").unwrap();
        assert_eq!(
            db1["metadata"]["labels"][wu::REVISION_HASH],
            second.as_str()
        );
        assert_eq!(db1["spec"]["containers"][0]["image"], "pg:2");

        set_image("pg:1");
        c.reconcile(&ctx, &key());
        let set = get_set(&ctx);
        assert_eq!(set["status"]["updateRevision"], first.as_str());
        let cr = ctx
            .store
            .get(&resources::CONTROLLER_REVISIONS, "default", &first)
            .unwrap();
        assert_eq!(cr["revision"], 3);
    }
}
