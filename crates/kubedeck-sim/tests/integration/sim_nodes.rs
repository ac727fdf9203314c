//! Node failure with the real kubectl: a failed node's pods are replaced on
//! the other nodes while the Service keeps a Ready endpoint, and the node
//! comes back when the failure annotation is removed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{TestSim, pod_ready, pods_json, wait_pods_ready, wait_until};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Endpoints;
use kube::api::Api;
use kube::runtime::watcher;

const WAIT: Duration = Duration::from_secs(45);
const FAIL_ANNOTATION: &str = "sim.kubedeck.io/node-failure";

const SHOP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: shop
        image: registry.example/shop:1.4
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: default
spec:
  selector: {app: shop}
  ports:
  - port: 80
    targetPort: 8080
";

/// What the Endpoints watch has seen of `shop`: its Ready addresses (IP,
/// node) now, and the fewest Ready addresses since `armed` was set.
#[derive(Default)]
struct EndpointsSeen {
    ready: Vec<(String, String)>,
    armed: bool,
    min_ready: Option<usize>,
    updates: usize,
}

fn ready_addresses(ep: &Endpoints) -> Vec<(String, String)> {
    ep.subsets
        .iter()
        .flatten()
        .flat_map(|s| s.addresses.iter().flatten())
        .map(|a| (a.ip.clone(), a.node_name.clone().unwrap_or_default()))
        .collect()
}

fn watch_endpoints(ts: &TestSim) -> (Arc<Mutex<EndpointsSeen>>, tokio::task::JoinHandle<()>) {
    let api: Api<Endpoints> = Api::namespaced(ts.client(), "default");
    let seen = Arc::new(Mutex::new(EndpointsSeen::default()));
    let seen2 = seen.clone();
    let cfg = watcher::Config::default().fields("metadata.name=shop");
    let task = tokio::spawn(async move {
        let mut w = watcher(api, cfg).boxed();
        while let Some(ev) = w.next().await {
            let ready = match ev {
                Ok(watcher::Event::Apply(ep) | watcher::Event::InitApply(ep)) => {
                    ready_addresses(&ep)
                }
                Ok(watcher::Event::Delete(_)) => Vec::new(),
                Ok(_) | Err(_) => continue,
            };
            let mut s = seen2.lock().unwrap_or_else(|e| e.into_inner());
            s.updates += 1;
            if s.armed {
                let n = ready.len();
                s.min_ready = Some(s.min_ready.map_or(n, |m| m.min(n)));
            }
            s.ready = ready;
        }
    });
    (seen, task)
}

fn node_of(pod: &serde_json::Value) -> String {
    pod["spec"]["nodeName"].as_str().unwrap_or("").to_string()
}

/// The node's Ready condition status ("True", "False", "Unknown").
async fn node_ready(ts: &TestSim, node: &str) -> Result<String, String> {
    let out = ts.kubectl(&["get", "node", node, "-o", "json"]).await;
    if !out.success {
        return Err(out.stderr);
    }
    let v: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
    v["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .and_then(|c| c["status"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("no Ready condition: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_node_pods_move_and_the_service_keeps_an_endpoint() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], SHOP).await.ok();
    let pods = wait_pods_ready(&ts, "default", "app=shop", 2, None, WAIT).await;
    let nodes: Vec<String> = pods.iter().map(node_of).collect();
    assert!(
        !nodes[0].is_empty() && nodes[0] != nodes[1],
        "the two replicas share a node: {nodes:?}"
    );

    let (seen, task) = watch_endpoints(&ts);
    wait_until("two Ready endpoints for shop", WAIT, || async {
        let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
        if s.ready.len() == 2 {
            s.armed = true;
            s.min_ready = Some(2);
            Ok(())
        } else {
            Err(format!("{:?}", s.ready))
        }
    })
    .await;

    let failed = nodes[0].clone();
    let survivor = nodes[1].clone();
    let failed_pod = pods
        .iter()
        .find(|p| node_of(p) == failed)
        .and_then(|p| p["metadata"]["name"].as_str())
        .unwrap_or_default()
        .to_string();
    let out = ts
        .kubectl(&[
            "annotate",
            "node",
            &failed,
            &format!("{FAIL_ANNOTATION}=true"),
        ])
        .await
        .ok();
    assert!(out.contains("annotated"), "{out}");

    wait_until("the failed node to stop being Ready", WAIT, || async {
        match node_ready(&ts, &failed).await? {
            s if s != "True" => Ok(()),
            s => Err(format!("Ready={s}")),
        }
    })
    .await;
    let get = ts.kubectl(&["get", "node", &failed]).await.ok();
    assert!(get.contains("NotReady"), "kubectl get node: {get}");

    // The Endpoints stop routing to the failed node, and a replacement pod
    // becomes Ready elsewhere.
    wait_until("no Ready endpoint on the failed node", WAIT, || async {
        let s = seen.lock().unwrap_or_else(|e| e.into_inner());
        if s.ready.iter().any(|(_, n)| *n == failed) {
            Err(format!("{:?}", s.ready))
        } else {
            Ok(())
        }
    })
    .await;
    let moved = wait_until(
        "two Ready shop pods away from the failed node",
        WAIT,
        || async {
            let pods = pods_json(&ts, "default", "app=shop").await;
            let live: Vec<_> = pods
                .iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .collect();
            let good = live.len() == 2
                && live
                    .iter()
                    .all(|p| pod_ready(p) && node_of(p) != failed && !node_of(p).is_empty());
            if good {
                Ok(live.into_iter().cloned().collect::<Vec<_>>())
            } else {
                Err(crate::common::describe_pods(&pods))
            }
        },
    )
    .await;
    let survivor_pod = pods
        .iter()
        .find(|p| node_of(p) == survivor)
        .and_then(|p| p["metadata"]["name"].as_str())
        .unwrap_or_default();
    assert!(
        moved
            .iter()
            .any(|p| p["metadata"]["name"].as_str() == Some(survivor_pod)),
        "the pod on the healthy node {survivor} was disturbed: {}",
        crate::common::describe_pods(&moved)
    );
    // As with a real unreachable kubelet, nobody confirms the old pod's
    // end: it stays Terminating until its node returns.
    let old = ts
        .kubectl(&["get", "pod", &failed_pod, "-n", "default", "-o", "json"])
        .await
        .json();
    assert!(
        old["metadata"]["deletionTimestamp"].is_string(),
        "the evicted pod is Terminating: {}",
        old["metadata"]
    );
    wait_until("two Ready endpoints again", WAIT, || async {
        let s = seen.lock().unwrap_or_else(|e| e.into_inner());
        if s.ready.len() == 2 && s.ready.iter().all(|(_, n)| *n != failed) {
            Ok(())
        } else {
            Err(format!("{:?}", s.ready))
        }
    })
    .await;

    // Back to health.
    ts.kubectl(&["annotate", "node", &failed, &format!("{FAIL_ANNOTATION}-")])
        .await
        .ok();
    wait_until("the node to be Ready again", WAIT, || async {
        match node_ready(&ts, &failed).await? {
            s if s == "True" => Ok(()),
            s => Err(format!("Ready={s}")),
        }
    })
    .await;
    ts.kubectl(&[
        "wait",
        "--for=condition=Ready",
        &format!("node/{failed}"),
        "--timeout=10s",
    ])
    .await
    .ok();
    // Its kubelet is back and finishes the eviction of the old pod.
    wait_until("the evicted pod to be gone", WAIT, || async {
        let out = ts
            .kubectl(&["get", "pod", &failed_pod, "-n", "default", "-o", "name"])
            .await;
        if !out.success && out.stderr.contains("NotFound") {
            Ok(())
        } else {
            Err(format!("{}{}", out.stdout, out.stderr))
        }
    })
    .await;

    task.abort();
    let s = seen.lock().unwrap_or_else(|e| e.into_inner());
    let min = s.min_ready.unwrap_or(0);
    assert!(
        min >= 1,
        "the Service had {min} Ready endpoints at some point ({} updates seen)",
        s.updates
    );
}
