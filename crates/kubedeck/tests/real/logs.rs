//! A pod's log streamed from the real API server, which asks the node's
//! kubelet (kwok) for it, as kubectl's `logs` does.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_core::logs::{LineKind, LogSource, StreamOptions, follow};
use kubedeck_sim::testing::watch_until;

use crate::cluster::{Cluster, WAIT};

pub async fn a_pods_log_streams_through_the_real_api_server(c: &'static Cluster) {
    let ns = c.namespace("real-logs").await;
    c.apply(
        &ns,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: talker}\nspec:\n  containers: [{name: app, image: registry.example/talker:1}]\n",
    )
    .await;
    let client = c.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    watch_until(
        pods,
        watcher::Config::default(),
        "the pod running",
        WAIT,
        |ps: &[Arc<Pod>]| match ps.first().and_then(|p| p.status.as_ref()?.phase.clone()) {
            Some(phase) if phase == "Running" => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;

    // What the kubelet serves, in the CRI format: `TIME stdout F text`.
    let file = std::fs::read_to_string(c.var("POD_LOG_FILE")).expect("the testbed's pod log");
    let expected: Vec<String> = file
        .lines()
        .filter_map(|l| l.splitn(4, ' ').nth(3))
        .map(str::to_string)
        .collect();
    assert!(!expected.is_empty(), "the testbed serves some log lines");
    let witness = c.kubectl(&["logs", "talker", "-n", &ns]).await.ok();
    assert!(
        witness.contains(&expected[0]),
        "kubectl sees the same log: {witness}"
    );

    let options = StreamOptions {
        follow: false,
        ..StreamOptions::default()
    };
    let mut stream = follow(
        client,
        LogSource::Pod {
            namespace: ns.clone(),
            name: "talker".into(),
        },
        options,
    );
    let mut got = Vec::new();
    let read = tokio::time::timeout(WAIT, async {
        while let Some(line) = stream.next_line().await {
            if matches!(line.kind, LineKind::Log) {
                got.push(line.text);
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the log stream ended; lines so far: {got:?}");
    assert_eq!(got, expected, "every line, in order");
}
