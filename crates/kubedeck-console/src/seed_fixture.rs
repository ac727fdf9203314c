//! The simulator's seed scenario as a console cache, for layout tests: its
//! namespaces, nodes, workloads, HPAs, services and CronJobs as written,
//! and the pods its controllers would start, with fixed names so frames are
//! reproducible. Two pods are unhealthy so that long statuses show.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cluster::{Cache, cache};

const SEED: &[&str] = &[
    include_str!("../../kubedeck-sim/src/scenarios/seed/nodes.yaml"),
    include_str!("../../kubedeck-sim/src/scenarios/seed/kube-system.yaml"),
    include_str!("../../kubedeck-sim/src/scenarios/seed/monitoring.yaml"),
    include_str!("../../kubedeck-sim/src/scenarios/seed/selfmonitor.yaml"),
    include_str!("../../kubedeck-sim/src/scenarios/seed/myfin.yaml"),
    include_str!("../../kubedeck-sim/src/scenarios/seed/migrate.yaml"),
    include_str!("../../kubedeck-sim/src/scenarios/seed/user-whisperer.yaml"),
];

const NODES: usize = 5;

/// The seed cluster, seen at `test_support::now()`.
pub(crate) fn seed_cluster() -> Cache {
    // The HPA view reads every event (its reasons to scale): its watch runs.
    let (cache, mut writers) = cache::with_all_events();
    let mut pods = 0;
    for text in SEED {
        for doc in serde_norway::Deserializer::from_str(text) {
            let Ok(mut obj) = Value::deserialize(doc) else {
                continue;
            };
            let kind = obj["kind"].as_str().unwrap_or("").to_string();
            obj["metadata"]["creationTimestamp"] = json!(ago(86_400 * 12));
            obj["metadata"]["generation"] = json!(1);
            match kind.as_str() {
                "Deployment" | "StatefulSet" => {
                    let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1);
                    obj["status"] = json!({
                        "observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas,
                        "updatedReplicas": replicas, "availableReplicas": replicas,
                        "currentReplicas": replicas,
                        "conditions": [{"type": "Progressing", "status": "True",
                                        "reason": "NewReplicaSetAvailable"},
                                       {"type": "Available", "status": "True"}]
                    });
                    // Owned as the controllers own them, for the owner tree.
                    let owner = owner_of(&mut obj, &kind, replicas, &mut writers);
                    for i in 0..replicas {
                        let mut pod = pod_of(&obj, &kind, i, pods);
                        pod["metadata"]["ownerReferences"] = json!([owner]);
                        writers.apply_json(&pod).expect("seed pod is valid");
                        pods += 1;
                    }
                }
                "Namespace" => obj["status"] = json!({"phase": "Active"}),
                _ => {}
            }
            // Kinds the console does not watch are left out.
            let _ = writers.apply_json(&obj);
        }
    }
    cache
}

/// Gives the workload a uid and returns its pods' owner reference: a
/// Deployment's is the ReplicaSet it gets here (revision 1), a
/// StatefulSet's the workload itself.
fn owner_of(obj: &mut Value, kind: &str, replicas: i64, writers: &mut cache::Writers) -> Value {
    let name = obj["metadata"]["name"].as_str().unwrap_or("x").to_string();
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let uid = format!("uid-{ns}-{name}");
    obj["metadata"]["uid"] = json!(uid);
    let reference = |kind: &str, name: &str, uid: &str| {
        json!({"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid,
               "controller": true})
    };
    if kind != "Deployment" {
        return reference(kind, &name, &uid);
    }
    let rs_name = format!("{name}-{:010x}", template_hash(&name) % 0xff_ffff_ffff);
    let rs_uid = format!("uid-{ns}-{rs_name}");
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": rs_name, "namespace": ns, "uid": rs_uid,
                     "creationTimestamp": ago(86_400 * 12),
                     "annotations": {"deployment.kubernetes.io/revision": "1"},
                     "ownerReferences": [reference("Deployment", &name, &uid)]},
        "spec": {"replicas": replicas, "selector": obj["spec"]["selector"],
                 "template": obj["spec"]["template"]},
        "status": {"replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas}
    });
    writers.apply_json(&rs).expect("seed ReplicaSet is valid");
    reference("ReplicaSet", &rs_name, &rs_uid)
}

/// The hash a Deployment's ReplicaSet and pods are named with.
fn template_hash(name: &str) -> u64 {
    name.bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}

fn ago(secs: i64) -> String {
    (crate::test_support::now() - chrono::Duration::seconds(secs)).to_rfc3339()
}

/// Replica `i` of a workload, the `n`th pod of the cluster: on the nodes
/// in turn, running and ready, but for a container still being created
/// and one crash-looping after an OOM kill.
fn pod_of(workload: &Value, kind: &str, i: i64, n: usize) -> Value {
    let name = workload["metadata"]["name"].as_str().unwrap_or("x");
    let ns = workload["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let template = &workload["spec"]["template"];
    let pod_name = if kind == "StatefulSet" {
        format!("{name}-{i}")
    } else {
        let h = template_hash(name);
        let suffix: String = (0..5)
            .map(|k| char::from(b'a' + ((h >> (k * 5)) % 26) as u8 + (i as u8 % 3)))
            .collect();
        format!("{name}-{:010x}-{suffix}", h % 0xff_ffff_ffff)
    };
    let containers = template["spec"]["containers"].clone();
    let state = match n {
        7 => json!({"waiting": {"reason": "ContainerCreating"}}),
        13 => json!({"waiting": {"reason": "CrashLoopBackOff"}}),
        _ => json!({"running": {"startedAt": ago(86_400)}}),
    };
    let healthy = !matches!(n, 7 | 13);
    let statuses: Vec<Value> = containers
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": healthy,
                   "restartCount": if n == 13 { 9 } else { 0 }, "state": state,
                   "lastState": if n == 13 {
                       json!({"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                             "finishedAt": ago(40)}})
                   } else { json!({}) }})
        })
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": ns, "uid": format!("uid-{ns}-{pod_name}"),
                     "labels": template["metadata"]["labels"],
                     "creationTimestamp": ago(3600 * (1 + n as i64 % 30))},
        "spec": {"nodeName": format!("prod-worker-{}", n % NODES + 1), "containers": containers},
        "status": {"phase": if n == 7 { "Pending" } else { "Running" },
                   "podIP": format!("10.244.{}.{}", n % NODES, 10 + n),
                   "containerStatuses": statuses}
    })
}
