//! A pod pushed past its memory limit by load is OOMKilled and restarted,
//! as the kubelet reports it; lowering the load ends the kills.

use std::time::Duration;

use crate::common::{TestSim, pods_json, wait_until};

const HUNGRY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hungry
  namespace: demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: hungry
  template:
    metadata:
      labels:
        app: hungry
    spec:
      containers:
      - name: app
        image: registry.example/hungry:1.0
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: '1', memory: 128Mi}
";

async fn last_termination(ts: &TestSim) -> Option<(String, i64, i64)> {
    let pods = pods_json(ts, "demo", "app=hungry").await;
    let status = &pods.first()?["status"]["containerStatuses"][0];
    let t = &status["lastState"]["terminated"];
    Some((
        t["reason"].as_str()?.to_string(),
        t["exitCode"].as_i64()?,
        status["restartCount"].as_i64().unwrap_or(0),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_past_the_memory_limit_oom_kills_the_container() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    let manifest = ts.write_file("hungry.yaml", HUNGRY);
    ts.kubectl(&["apply", "-f", manifest.to_str().expect("path")])
        .await
        .ok();
    crate::common::wait_pods_ready(&ts, "demo", "app=hungry", 1, None, Duration::from_secs(30))
        .await;
    assert_eq!(
        last_termination(&ts).await,
        None,
        "no kill before the load rises"
    );

    ts.kubectl(&[
        "annotate",
        "deploy/hungry",
        "-n",
        "demo",
        "--overwrite",
        "kubedeck.io/load=steady 3000rps",
    ])
    .await
    .ok();
    let (reason, code, restarts) = wait_until("an OOM kill", Duration::from_secs(40), || async {
        last_termination(&ts)
            .await
            .ok_or_else(|| "not killed yet".to_string())
    })
    .await;
    assert_eq!((reason.as_str(), code), ("OOMKilled", 137));
    assert!(restarts >= 1, "the kubelet restarted it: {restarts}");
    let described = ts
        .kubectl(&["describe", "pods", "-n", "demo", "-l", "app=hungry"])
        .await
        .ok();
    assert!(described.contains("OOMKilled"), "{described}");
}
