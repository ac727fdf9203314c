//! Deleting a Deployment with each propagation policy, checked as the
//! garbage collector defines them, for the simulator's tests and the real
//! tier's alike: a Deployment of two replicas is made and its ReplicaSet and
//! pods noted; after the delete, the Deployment's disappearance is watched
//! for, then its dependents: background deletes them (after it), foreground
//! deletes them before it goes, orphan keeps them, without an owner.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::watcher;

use super::watch_until;

/// What a Deployment owned before it was deleted.
#[derive(Debug, Clone)]
pub struct Owned {
    pub uid: String,
    pub replicasets: Vec<String>,
    pub pods: Vec<String>,
}

fn name<K: kube::Resource>(o: &K) -> String {
    o.meta().name.clone().unwrap_or_default()
}

fn owner_uids<K: kube::Resource>(o: &K) -> Vec<String> {
    o.meta()
        .owner_references
        .iter()
        .flatten()
        .map(|r| r.uid.clone())
        .collect()
}

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Creates Deployment `app` (two replicas, label `app=<app>`) in `ns` and
/// waits for its ReplicaSet and two Ready pods.
pub async fn deployment(client: &kube::Client, ns: &str, app: &str, timeout: Duration) -> Owned {
    let d: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": app, "labels": {"app": app}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "web", "image": "registry.example/web:1.0.0"}]},
            },
        },
    }))
    .expect("a Deployment");
    let made = Api::<Deployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &d)
        .await
        .unwrap_or_else(|e| panic!("create deployment {app}: {e}"));
    let uid = made.metadata.uid.clone().unwrap_or_default();
    let labels = format!("app={app}");
    let replicasets = watch_until(
        Api::<ReplicaSet>::namespaced(client.clone(), ns),
        watcher::Config::default().labels(&labels),
        &format!("the ReplicaSet of {app}"),
        timeout,
        |sets: &[Arc<ReplicaSet>]| {
            let owned: Vec<String> = sets
                .iter()
                .filter(|r| owner_uids(r.as_ref()).contains(&uid))
                .map(|r| name(r.as_ref()))
                .collect();
            if owned.len() == 1 {
                Ok(owned)
            } else {
                Err(format!("{owned:?}"))
            }
        },
    )
    .await;
    let pods = watch_until(
        Api::<Pod>::namespaced(client.clone(), ns),
        watcher::Config::default().labels(&labels),
        &format!("two Ready pods of {app}"),
        timeout,
        |pods: &[Arc<Pod>]| {
            let names: Vec<String> = pods.iter().map(|p| name(p.as_ref())).collect();
            if pods.len() == 2 && pods.iter().all(|p| ready(p)) {
                Ok(names)
            } else {
                Err(format!("{names:?}"))
            }
        },
    )
    .await;
    Owned {
        uid,
        replicasets,
        pods,
    }
}

/// Waits for Deployment `app` to be gone, then checks its dependents as
/// `policy` (`Background`, `Foreground`, `Orphan`) leaves them.
pub async fn expect_cascade(
    client: &kube::Client,
    ns: &str,
    app: &str,
    policy: &str,
    before: &Owned,
    timeout: Duration,
) {
    watch_until(
        Api::<Deployment>::namespaced(client.clone(), ns),
        watcher::Config::default().fields(&format!("metadata.name={app}")),
        &format!("deployment {app} gone"),
        timeout,
        |ds: &[Arc<Deployment>]| {
            if ds.is_empty() {
                Ok(())
            } else {
                Err(format!("{:?}", ds[0].metadata))
            }
        },
    )
    .await;
    let rs_api = Api::<ReplicaSet>::namespaced(client.clone(), ns);
    let pod_api = Api::<Pod>::namespaced(client.clone(), ns);
    let labels = format!("app={app}");
    match policy {
        // Its dependents block it: by the time it is gone, so are they.
        "Foreground" => {
            let lp = ListParams::default().labels(&labels);
            let sets = rs_api.list(&lp).await.expect("list replicasets");
            let pods = pod_api.list(&lp).await.expect("list pods");
            let left: Vec<String> = sets
                .items
                .iter()
                .map(name)
                .chain(pods.items.iter().map(name))
                .filter(|n| before.replicasets.contains(n) || before.pods.contains(n))
                .collect();
            assert!(
                left.is_empty(),
                "foreground: {left:?} outlived deployment {app}"
            );
        }
        "Background" => {
            watch_until(
                rs_api,
                watcher::Config::default().labels(&labels),
                &format!("the ReplicaSet of {app} collected"),
                timeout,
                |sets: &[Arc<ReplicaSet>]| gone(sets, &before.replicasets),
            )
            .await;
            watch_until(
                pod_api,
                watcher::Config::default().labels(&labels),
                &format!("the pods of {app} collected"),
                timeout,
                |pods: &[Arc<Pod>]| gone(pods, &before.pods),
            )
            .await;
        }
        "Orphan" => {
            // The orphan finalizer drops the references before it goes.
            let lp = ListParams::default().labels(&labels);
            let sets = rs_api.list(&lp).await.expect("list replicasets");
            let kept: Vec<&ReplicaSet> = sets
                .items
                .iter()
                .filter(|r| before.replicasets.contains(&name(*r)))
                .collect();
            assert_eq!(
                kept.len(),
                before.replicasets.len(),
                "orphan: the ReplicaSets are kept: {:?}",
                sets.items.iter().map(name).collect::<Vec<_>>()
            );
            for r in &kept {
                assert!(
                    r.metadata.deletion_timestamp.is_none() && owner_uids(*r).is_empty(),
                    "orphan: {} is kept without an owner: {:?}",
                    name(*r),
                    r.metadata
                );
            }
            let rs_uids: Vec<String> = kept.iter().filter_map(|r| r.metadata.uid.clone()).collect();
            let pods = pod_api.list(&lp).await.expect("list pods");
            for p in &before.pods {
                let pod = pods.items.iter().find(|x| &name(*x) == p);
                assert!(
                    pod.is_some_and(|x| x.metadata.deletion_timestamp.is_none()
                        && owner_uids(x).iter().all(|u| rs_uids.contains(u))),
                    "orphan: pod {p} is kept, under its ReplicaSet: {pod:?}"
                );
            }
        }
        other => panic!("no propagation policy {other}"),
    }
}

fn gone<K: kube::Resource>(objs: &[Arc<K>], names: &[String]) -> Result<(), String> {
    let left: Vec<String> = objs
        .iter()
        .map(|o| name(o.as_ref()))
        .filter(|n| names.contains(n))
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("still there: {left:?}"))
    }
}
