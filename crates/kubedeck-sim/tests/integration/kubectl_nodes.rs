//! The real kubectl's cordon, uncordon and drain, with the minimal scenario's
//! PodDisruptionBudget (`web` in `demo`: minAvailable 1 of 2 replicas).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{TestSim, cell, pod_ready, pods_json, row, table, wait_pods_ready, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(45);

async fn started() -> TestSim {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    ts
}

fn node_of(p: &Value) -> String {
    p["spec"]["nodeName"].as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_stops_scheduling_on_the_node() {
    let ts = started().await;
    let out = ts.kubectl(&["cordon", "sim-node-1"]).await.ok();
    assert!(out.contains("node/sim-node-1 cordoned"), "{out}");
    let nodes = ts.kubectl(&["get", "nodes"]).await.ok();
    let t = table(&nodes);
    assert_eq!(
        cell(&t, row(&t, "NAME", "sim-node-1"), "STATUS"),
        "Ready,SchedulingDisabled"
    );
    assert_eq!(cell(&t, row(&t, "NAME", "sim-node-2"), "STATUS"), "Ready");

    let before: BTreeSet<String> = pods_json(&ts, "demo", "app=web")
        .await
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    ts.kubectl(&["scale", "deployment/web", "-n", "demo", "--replicas=8"])
        .await
        .ok();
    let pods = wait_pods_ready(&ts, "demo", "app=web", 8, None, WAIT).await;
    for p in pods
        .iter()
        .filter(|p| !before.contains(p["metadata"]["name"].as_str().unwrap_or("")))
    {
        assert_ne!(
            node_of(p),
            "sim-node-1",
            "a new pod landed on the cordoned node"
        );
    }
    let out = ts.kubectl(&["uncordon", "sim-node-1"]).await.ok();
    assert!(out.contains("node/sim-node-1 uncordoned"), "{out}");
    let json = ts
        .kubectl(&["get", "node", "sim-node-1", "-o", "json"])
        .await
        .json();
    assert!(
        json["spec"]["unschedulable"].as_bool() != Some(true),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_moves_pods_and_respects_the_pdb() {
    let ts = started().await;
    let pdb = wait_until("PDB web allows 1 disruption", WAIT, || async {
        let out = ts.kubectl(&["get", "pdb", "-n", "demo"]).await.ok();
        let t = table(&out);
        if t.len() == 2 && t[1].get(..4) == Some(&["web", "1", "N/A", "1"].map(String::from)[..]) {
            Ok(out)
        } else {
            Err(out)
        }
    })
    .await;
    assert_eq!(
        table(&pdb)[0],
        [
            "NAME",
            "MIN",
            "AVAILABLE",
            "MAX",
            "UNAVAILABLE",
            "ALLOWED",
            "DISRUPTIONS",
            "AGE"
        ]
    );

    let pods = pods_json(&ts, "demo", "app=web").await;
    let drained: BTreeSet<String> = pods.iter().map(node_of).collect();

    // Check the PDB from outside while the drains run, as a user would.
    let url = ts.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let checker = tokio::spawn(async move {
        let client =
            kube::Client::try_from(kube::Config::new(url.parse().expect("url"))).expect("client");
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, "demo");
        let mut min = usize::MAX;
        let mut samples = 0;
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(l) = api
                .list(&kube::api::ListParams::default().labels("app=web"))
                .await
            {
                let ready = l
                    .items
                    .iter()
                    .filter(|p| pod_ready(&serde_json::to_value(p).unwrap_or_default()))
                    .count();
                min = min.min(ready);
                samples += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (min, samples)
    });

    // Drain every node that runs a web pod at once: the evictions compete
    // for the budget's single allowed disruption.
    let args: Vec<[&str; 5]> = drained
        .iter()
        .map(|node| {
            [
                "drain",
                node.as_str(),
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--timeout=60s",
            ]
        })
        .collect();
    let results = futures::future::join_all(args.iter().map(|a| ts.kubectl(a))).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (min_ready, samples) = checker.await.expect("checker");
    for (node, out) in drained.iter().zip(results) {
        let text = out.ok();
        assert!(text.contains(&format!("node/{node} drained")), "{text}");
        assert!(text.contains("evicting pod demo/web-"), "{text}");
    }
    assert!(samples > 5, "too few samples: {samples}");
    assert!(
        min_ready >= 1,
        "Ready web pods dropped to {min_ready} during the drain"
    );

    let after = wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    for p in &after {
        assert!(
            !drained.contains(&node_of(p)),
            "a web pod is still on a drained node"
        );
    }
    let nodes = table(&ts.kubectl(&["get", "nodes"]).await.ok());
    for node in &drained {
        assert_eq!(
            cell(&nodes, row(&nodes, "NAME", node), "STATUS"),
            "Ready,SchedulingDisabled"
        );
    }
    let all = ts
        .kubectl(&["get", "pods", "-A", "-o", "json"])
        .await
        .json();
    for p in all["items"].as_array().cloned().unwrap_or_default() {
        if drained.contains(&node_of(&p)) {
            let owner = &p["metadata"]["ownerReferences"][0]["kind"];
            assert!(
                owner == "DaemonSet",
                "pod left on a drained node: {}",
                p["metadata"]["name"]
            );
        }
    }
}
