//! The namespace controller: empties a namespace that is being deleted,
//! and gives every live one what kube-controller-manager's
//! `serviceaccount` and `root-ca-cert-publisher` controllers give it: the
//! `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap.
//!
//! A namespace marked for deletion (deletionTimestamp set, held by its
//! `kubernetes` finalizer) turns Terminating, has every namespaced object
//! deleted, and goes once they are all gone, as in kube. The store removes
//! a namespace at once when nothing holds it; then whatever was left in it
//! is deleted after the fact.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, ObjKey, meta_str, now_rfc3339, obj_key};

const FINALIZER: &str = "kubernetes";

const DEFAULT_SERVICE_ACCOUNT: &str = "default";
const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(NamespaceController)]
}

struct NamespaceController;

/// The stored namespaced kinds, custom ones included, one per table.
fn namespaced_kinds(ctx: &Ctx) -> Vec<&'static ResourceDef> {
    let mut kinds: Vec<&'static ResourceDef> = Vec::new();
    for r in ctx.store.registry().all() {
        if r.stored && r.namespaced && !kinds.iter().any(|k| k.same_table(r)) {
            kinds.push(r);
        }
    }
    kinds
}

impl Controller for NamespaceController {
    fn name(&self) -> &'static str {
        "namespace-controller"
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::NAMESPACES
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, &resources::NAMESPACES) {
            return vec![obj_key(&change.object)];
        }
        // What it publishes comes back when it goes.
        let name = meta_str(&change.object, "name");
        let published = (std::ptr::eq(change.res, &resources::SERVICE_ACCOUNTS)
            && name == DEFAULT_SERVICE_ACCOUNT)
            || (std::ptr::eq(change.res, &resources::CONFIGMAPS) && name == ROOT_CA_CONFIGMAP);
        if published && change.kind == ChangeType::Deleted {
            return vec![(
                String::new(),
                meta_str(&change.object, "namespace").to_string(),
            )];
        }
        // A terminating namespace finishes when its last object goes.
        if change.kind == ChangeType::Deleted && change.res.namespaced {
            let ns = meta_str(&change.object, "namespace");
            if ctx
                .store
                .get(&resources::NAMESPACES, "", ns)
                .is_some_and(|n| wu::is_terminating(&n))
            {
                return vec![(String::new(), ns.to_string())];
            }
        }
        Vec::new()
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let name = &key.1;
        let Some(ns) = ctx.store.get(&resources::NAMESPACES, "", name) else {
            delete_contents(ctx, name);
            return None;
        };
        if !wu::is_terminating(&ns) {
            publish(ctx, name);
            return None;
        }
        if ns["status"]["phase"] != "Terminating" {
            let _ = ctx.store.modify(&resources::NAMESPACES, "", name, |n| {
                n["status"]["phase"] = json!("Terminating");
                n["status"]["conditions"] = json!([{
                    "type": "NamespaceDeletionContentFailure",
                    "status": "False",
                    "lastTransitionTime": now_rfc3339(),
                    "reason": "ContentDeleted",
                    "message": "All content successfully deleted, may be waiting on finalization",
                }]);
            });
        }
        if delete_contents(ctx, name) > 0 {
            // Deletions re-trigger this; the timer covers objects held by
            // finalizers nobody here watches.
            return Some(Duration::from_secs(2));
        }
        let _ = ctx.store.modify(&resources::NAMESPACES, "", name, |n| {
            drop_finalizer(&mut n["spec"]["finalizers"]);
            drop_finalizer(&mut n["metadata"]["finalizers"]);
        });
        // Removing the finalizers removes the namespace unless someone
        // else's metadata finalizer still holds it.
        None
    }
}

/// The `default` ServiceAccount and the root CA bundle, where missing.
fn publish(ctx: &Ctx, ns: &str) {
    if ctx
        .store
        .get(&resources::SERVICE_ACCOUNTS, ns, DEFAULT_SERVICE_ACCOUNT)
        .is_none()
    {
        let sa = json!({"metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": ns}});
        let _ = ctx.store.create(&resources::SERVICE_ACCOUNTS, sa);
    }
    if let Some(ca) = ctx.root_ca.get()
        && ctx
            .store
            .get(&resources::CONFIGMAPS, ns, ROOT_CA_CONFIGMAP)
            .is_none()
    {
        let cm = json!({
            "metadata": {
                "name": ROOT_CA_CONFIGMAP,
                "namespace": ns,
                "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION},
            },
            "data": {"ca.crt": ca},
        });
        let _ = ctx.store.create(&resources::CONFIGMAPS, cm);
    }
}

fn drop_finalizer(list: &mut Value) {
    if let Some(a) = list.as_array_mut() {
        a.retain(|f| f != FINALIZER);
    }
}

/// Deletes every object in namespace `ns`; returns how many remain.
fn delete_contents(ctx: &Ctx, ns: &str) -> usize {
    let mut remaining = 0;
    for res in namespaced_kinds(ctx) {
        for obj in ctx.store.list(res, Some(ns)) {
            if !wu::is_terminating(&obj) {
                let _ = ctx.store.delete(
                    res,
                    ns,
                    meta_str(&obj, "name"),
                    &DeleteOptions {
                        propagation_policy: Some("Background".into()),
                        ..DeleteOptions::default()
                    },
                );
            }
        }
        remaining += ctx.store.list(res, Some(ns)).len();
    }
    remaining
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_ctx;

    fn seed(ctx: &Ctx) {
        ctx.store
            .create(
                &resources::CONFIGMAPS,
                json!({"metadata": {"name": "cfg", "namespace": "team"}, "data": {"a": "1"}}),
            )
            .unwrap();
        ctx.store
            .create(
                &resources::PODS,
                json!({"metadata": {"name": "p", "namespace": "team"},
                       "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "x"}]}}),
            )
            .unwrap();
    }

    #[test]
    fn a_deleted_namespace_loses_its_contents() {
        let ctx = test_ctx(&["team"]);
        seed(&ctx);
        ctx.store
            .delete(
                &resources::NAMESPACES,
                "",
                "team",
                &DeleteOptions::default(),
            )
            .unwrap();
        NamespaceController.reconcile(&ctx, &(String::new(), "team".into()));
        assert!(
            ctx.store
                .list(&resources::CONFIGMAPS, Some("team"))
                .is_empty()
        );
        let pods = ctx.store.list(&resources::PODS, Some("team"));
        assert!(pods.iter().all(|p| wu::is_terminating(p)));
    }

    #[test]
    fn a_terminating_namespace_goes_once_empty() {
        let ctx = test_ctx(&["team"]);
        seed(&ctx);
        ctx.store
            .modify(&resources::NAMESPACES, "", "team", |n| {
                n["metadata"]["finalizers"] = json!([FINALIZER]);
            })
            .unwrap();
        ctx.store
            .delete(
                &resources::NAMESPACES,
                "",
                "team",
                &DeleteOptions::default(),
            )
            .unwrap();
        let key = (String::new(), "team".to_string());
        assert!(NamespaceController.reconcile(&ctx, &key).is_some());
        let n = ctx.store.get(&resources::NAMESPACES, "", "team").unwrap();
        assert_eq!(n["status"]["phase"], "Terminating");
        // New content is refused while terminating.
        let refused = ctx.store.create(
            &resources::CONFIGMAPS,
            json!({"metadata": {"name": "late", "namespace": "team"}}),
        );
        assert!(refused.is_err());
        // The kubelet finishes the pod; the namespace then goes.
        ctx.store.remove(&resources::PODS, "team", "p");
        assert!(NamespaceController.reconcile(&ctx, &key).is_none());
        assert!(ctx.store.get(&resources::NAMESPACES, "", "team").is_none());
    }
}
