//! The garbage collector: deletes dependents whose owners are gone
//! (background propagation), deletes the dependents of owners marked
//! `foregroundDeletion` and lets the owner go once no blocking dependent
//! remains, and strips owner references for owners marked `orphan`.
//!
//! One instance per kind that owns things in practice; each reacts to its
//! owners' deletion and to dependents that point at a missing or deleting
//! owner, as kube's dependency graph does.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, Obj, ObjKey, meta_str, obj_key};

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";

/// Kinds whose objects own others.
static OWNERS: &[&ResourceDef] = &[
    &resources::DEPLOYMENTS,
    &resources::REPLICASETS,
    &resources::STATEFULSETS,
    &resources::DAEMONSETS,
    &resources::JOBS,
    &resources::CRONJOBS,
    &resources::SERVICES,
];

/// Kinds whose objects are owned by those.
static DEPENDENTS: &[&ResourceDef] = &[
    &resources::PODS,
    &resources::REPLICASETS,
    &resources::CONTROLLER_REVISIONS,
    &resources::ENDPOINT_SLICES,
    &resources::ENDPOINTS,
    &resources::JOBS,
    &resources::PVCS,
];

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    OWNERS
        .iter()
        .map(|owner| Arc::new(GarbageCollector { owner }) as Arc<dyn Controller>)
        .collect()
}

struct GarbageCollector {
    owner: &'static ResourceDef,
}

fn has_finalizer(obj: &Value, f: &str) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == f))
}

fn remove_finalizer(obj: &mut Value, f: &str) {
    if let Some(a) = obj["metadata"]["finalizers"].as_array_mut() {
        a.retain(|x| x != f);
    }
}

fn is_dependent_kind(res: &'static ResourceDef) -> bool {
    DEPENDENTS.iter().any(|d| std::ptr::eq(*d, res))
}

/// The stored kind an owner reference points at.
fn ref_kind(r: &Value) -> Option<&'static ResourceDef> {
    resources::by_kind(r["apiVersion"].as_str()?, r["kind"].as_str()?).filter(|d| d.stored)
}

#[derive(PartialEq)]
enum OwnerState {
    /// Present and not waiting for its dependents.
    Solid,
    /// Absent, or replaced by an object of the same name with another uid.
    Dangling,
    /// Marked for foreground deletion.
    Waiting,
}

fn owner_state(ctx: &Ctx, ns: &str, r: &Value) -> OwnerState {
    let Some(kind) = ref_kind(r) else {
        // Unknown kinds can't be checked; never collect on their account.
        return OwnerState::Solid;
    };
    let ns = if kind.namespaced { ns } else { "" };
    match ctx.store.get(kind, ns, r["name"].as_str().unwrap_or("")) {
        Some(o) if meta_str(&o, "uid") == r["uid"].as_str().unwrap_or("") => {
            if has_finalizer(&o, FOREGROUND) && wu::is_terminating(&o) {
                OwnerState::Waiting
            } else {
                OwnerState::Solid
            }
        }
        _ => OwnerState::Dangling,
    }
}

/// kube's `attemptToDeleteItem` for one dependent: with a solid owner left
/// it only drops the references to the others; without, it is deleted —
/// in the foreground when an owner waits for it and it owns things itself.
fn process_dependent(ctx: &Ctx, res: &'static ResourceDef, dep: &Value) {
    if wu::is_terminating(dep) {
        return;
    }
    let ns = meta_str(dep, "namespace");
    let name = meta_str(dep, "name");
    let Some(refs) = dep["metadata"]["ownerReferences"].as_array() else {
        return;
    };
    let states: Vec<(String, OwnerState)> = refs
        .iter()
        .map(|r| {
            (
                r["uid"].as_str().unwrap_or("").to_string(),
                owner_state(ctx, ns, r),
            )
        })
        .collect();
    if states.iter().any(|(_, s)| *s == OwnerState::Solid) {
        let drop: Vec<&String> = states
            .iter()
            .filter(|(_, s)| *s != OwnerState::Solid)
            .map(|(u, _)| u)
            .collect();
        if !drop.is_empty() {
            let _ = ctx.store.modify(res, ns, name, |o| {
                for uid in drop {
                    wu::remove_owner_ref(o, uid);
                }
            });
        }
        return;
    }
    let waited_on = states.iter().any(|(_, s)| *s == OwnerState::Waiting);
    let owns_things = OWNERS.iter().any(|o| std::ptr::eq(*o, res));
    let policy = if has_finalizer(dep, ORPHAN) {
        "Orphan"
    } else if waited_on && owns_things || has_finalizer(dep, FOREGROUND) {
        "Foreground"
    } else {
        "Background"
    };
    let opts = DeleteOptions {
        propagation_policy: Some(policy.to_string()),
        precondition_uid: Some(meta_str(dep, "uid").to_string()),
        ..DeleteOptions::default()
    };
    let _ = ctx.store.delete(res, ns, name, &opts);
}

impl GarbageCollector {
    fn references(&self, r: &Value, name: &str) -> bool {
        r["name"].as_str() == Some(name)
            && r["kind"].as_str() == Some(self.owner.kind)
            && ref_kind(r).is_some_and(|k| std::ptr::eq(k, self.owner))
    }

    /// Dependents in `ns` with a reference to an owner of this kind named
    /// `name`, whatever its uid.
    fn dependents(&self, ctx: &Ctx, ns: &str, name: &str) -> Vec<(&'static ResourceDef, Obj)> {
        let mut out = Vec::new();
        for res in DEPENDENTS {
            for o in ctx.store.list(res, Some(ns)) {
                let refers = o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|r| self.references(r, name)));
                if refers {
                    out.push((*res, o));
                }
            }
        }
        out
    }
}

fn refers_to_uid(dep: &Value, uid: &str) -> Option<bool> {
    dep["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["uid"].as_str() == Some(uid))
        .map(|r| r["blockOwnerDeletion"].as_bool() == Some(true))
}

impl Controller for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbage-collector"
    }

    fn primary(&self) -> &'static ResourceDef {
        self.owner
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        let obj = &change.object;
        if std::ptr::eq(change.res, self.owner) {
            let deleting = change.kind == ChangeType::Deleted
                || (wu::is_terminating(obj)
                    && (has_finalizer(obj, FOREGROUND) || has_finalizer(obj, ORPHAN)));
            if deleting {
                return vec![obj_key(obj)];
            }
        }
        if !is_dependent_kind(change.res) {
            return Vec::new();
        }
        let ns = meta_str(obj, "namespace");
        let Some(refs) = obj["metadata"]["ownerReferences"].as_array() else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        for r in refs
            .iter()
            .filter(|r| ref_kind(r).is_some_and(|k| std::ptr::eq(k, self.owner)))
        {
            let name = r["name"].as_str().unwrap_or("");
            let owner = ctx.store.get(self.owner, ns, name);
            let interesting = match &owner {
                None => true,
                Some(o) => {
                    meta_str(o, "uid") != r["uid"].as_str().unwrap_or("")
                        || (wu::is_terminating(o)
                            && (has_finalizer(o, FOREGROUND) || has_finalizer(o, ORPHAN)))
                }
            };
            if interesting {
                keys.push((ns.to_string(), name.to_string()));
            }
        }
        keys
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let (ns, name) = key;
        let owner = ctx.store.get(self.owner, ns, name);
        let live_uid = owner.as_ref().map(|o| meta_str(o, "uid").to_string());
        let dependents = self.dependents(ctx, ns, name);

        // References to a previous object of this name are dangling.
        for (res, dep) in &dependents {
            let stale = dep["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|a| {
                    a.iter().any(|r| {
                        self.references(r, name)
                            && Some(r["uid"].as_str().unwrap_or("")) != live_uid.as_deref()
                    })
                });
            if stale {
                process_dependent(ctx, res, dep);
            }
        }

        let owner = owner.filter(|o| wu::is_terminating(o))?;
        let uid = meta_str(&owner, "uid");
        if has_finalizer(&owner, ORPHAN) {
            for (res, dep) in &dependents {
                if refers_to_uid(dep, uid).is_some() {
                    let _ = ctx.store.modify(res, ns, meta_str(dep, "name"), |o| {
                        wu::remove_owner_ref(o, uid)
                    });
                }
            }
            let _ = ctx
                .store
                .modify(self.owner, ns, name, |o| remove_finalizer(o, ORPHAN));
            return None;
        }
        if has_finalizer(&owner, FOREGROUND) {
            for (res, dep) in &dependents {
                if refers_to_uid(dep, uid).is_some() {
                    process_dependent(ctx, res, dep);
                }
            }
            let blocked = self
                .dependents(ctx, ns, name)
                .iter()
                .any(|(_, d)| refers_to_uid(d, uid) == Some(true));
            if !blocked {
                let _ = ctx
                    .store
                    .modify(self.owner, ns, name, |o| remove_finalizer(o, FOREGROUND));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_ctx;
    use serde_json::json;

    fn gc(owner: &'static ResourceDef) -> GarbageCollector {
        GarbageCollector { owner }
    }

    /// A ReplicaSet owning two pods (one scheduled, so it terminates
    /// gracefully) under a Deployment.
    fn tree(ctx: &Ctx) {
        let d = ctx
            .store
            .create(
                &resources::DEPLOYMENTS,
                json!({"metadata": {"name": "web", "namespace": "default"},
                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"restartPolicy": "Always",
                                                      "containers": [{"name": "c", "image": "nginx"}]}}}}),
            )
            .unwrap();
        let mut rs = json!({"metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"restartPolicy": "Always",
                                           "containers": [{"name": "c", "image": "nginx"}]}}}});
        wu::set_controller_ref(&mut rs, &d);
        let rs = ctx.store.create(&resources::REPLICASETS, rs).unwrap();
        for (i, node) in [(0, "node-1"), (1, "")] {
            let mut pod =
                wu::pod_from_template(&rs, &rs["spec"]["template"], Some(&format!("web-1-{i}")));
            if !node.is_empty() {
                pod["spec"]["nodeName"] = json!(node);
            }
            ctx.store.create(&resources::PODS, pod).unwrap();
        }
    }

    fn count(ctx: &Ctx, res: &'static ResourceDef) -> usize {
        ctx.store.list(res, Some("default")).len()
    }

    fn key(name: &str) -> ObjKey {
        ("default".into(), name.into())
    }

    fn delete(ctx: &Ctx, res: &'static ResourceDef, name: &str, policy: &str) {
        let opts = DeleteOptions {
            propagation_policy: Some(policy.into()),
            ..DeleteOptions::default()
        };
        ctx.store.delete(res, "default", name, &opts).unwrap();
    }

    #[test]
    fn background_deletion_cascades_through_replicasets_to_pods() {
        let ctx = test_ctx(&["default"]);
        tree(&ctx);
        delete(&ctx, &resources::DEPLOYMENTS, "web", "Background");
        gc(&resources::DEPLOYMENTS).reconcile(&ctx, &key("web"));
        assert_eq!(count(&ctx, &resources::REPLICASETS), 0);
        gc(&resources::REPLICASETS).reconcile(&ctx, &key("web-1"));
        // The unscheduled pod is gone; the scheduled one is terminating.
        let pods = ctx.store.list(&resources::PODS, Some("default"));
        assert_eq!(pods.len(), 1);
        assert!(wu::is_terminating(&pods[0]));
    }

    #[test]
    fn foreground_deletion_waits_for_blocking_dependents() {
        let ctx = test_ctx(&["default"]);
        tree(&ctx);
        delete(&ctx, &resources::DEPLOYMENTS, "web", "Foreground");
        let dgc = gc(&resources::DEPLOYMENTS);
        let rgc = gc(&resources::REPLICASETS);
        dgc.reconcile(&ctx, &key("web"));
        // The ReplicaSet is itself deleted in the foreground.
        let rs = ctx
            .store
            .get(&resources::REPLICASETS, "default", "web-1")
            .unwrap();
        assert!(has_finalizer(&rs, FOREGROUND));
        assert!(
            ctx.store
                .get(&resources::DEPLOYMENTS, "default", "web")
                .is_some()
        );
        rgc.reconcile(&ctx, &key("web-1"));
        assert!(
            ctx.store
                .get(&resources::REPLICASETS, "default", "web-1")
                .is_some()
        );
        // The kubelet finishes the terminating pod.
        ctx.store.remove(&resources::PODS, "default", "web-1-0");
        rgc.reconcile(&ctx, &key("web-1"));
        assert!(
            ctx.store
                .get(&resources::REPLICASETS, "default", "web-1")
                .is_none()
        );
        assert!(
            ctx.store
                .get(&resources::DEPLOYMENTS, "default", "web")
                .is_some()
        );
        dgc.reconcile(&ctx, &key("web"));
        assert!(
            ctx.store
                .get(&resources::DEPLOYMENTS, "default", "web")
                .is_none()
        );
    }

    #[test]
    fn orphan_deletion_strips_owner_references() {
        let ctx = test_ctx(&["default"]);
        tree(&ctx);
        delete(&ctx, &resources::DEPLOYMENTS, "web", "Orphan");
        gc(&resources::DEPLOYMENTS).reconcile(&ctx, &key("web"));
        assert!(
            ctx.store
                .get(&resources::DEPLOYMENTS, "default", "web")
                .is_none()
        );
        let rs = ctx
            .store
            .get(&resources::REPLICASETS, "default", "web-1")
            .unwrap();
        assert!(wu::controller_ref(&rs).is_none());
        assert_eq!(count(&ctx, &resources::PODS), 2);
    }

    #[test]
    fn dependents_of_a_recreated_owner_name_are_collected() {
        let ctx = test_ctx(&["default"]);
        tree(&ctx);
        ctx.store
            .remove(&resources::REPLICASETS, "default", "web-1");
        // A new object with the same name but another uid is not the owner.
        let d = ctx
            .store
            .get(&resources::DEPLOYMENTS, "default", "web")
            .unwrap();
        let mut rs = json!({"metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}},
                     "template": {"metadata": {"labels": {"app": "other"}},
                                  "spec": {"restartPolicy": "Always",
                                           "containers": [{"name": "c", "image": "nginx"}]}}}});
        wu::set_controller_ref(&mut rs, &d);
        ctx.store.create(&resources::REPLICASETS, rs).unwrap();
        let pod = ctx
            .store
            .get(&resources::PODS, "default", "web-1-1")
            .unwrap();
        let change = Change {
            rv: 0,
            res: &resources::PODS,
            kind: ChangeType::Modified,
            object: pod,
            old: None,
        };
        let rgc = gc(&resources::REPLICASETS);
        assert_eq!(rgc.keys_for(&ctx, &change), vec![key("web-1")]);
        rgc.reconcile(&ctx, &key("web-1"));
        assert!(
            ctx.store
                .get(&resources::PODS, "default", "web-1-1")
                .is_none()
        );
    }
}
