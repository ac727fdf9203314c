//! An OOM crash loop as the console shows it: the pods view names the
//! kill and its exit code, describe its Last State, and the HPA pane says
//! why there are no metrics rather than "at min".

use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

/// More load than its 128Mi limit holds: the sim's kubelet OOM-kills the
/// container, restarts it, and kills it again.
const HUNGRY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hungry
  namespace: demo
  annotations:
    kubedeck.io/load: steady 3000rps
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
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: hungry
  namespace: demo
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hungry}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
";

#[test]
fn an_oom_crash_loop_is_named_in_the_pods_view_and_the_hpa_pane() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("hungry.yaml");
    std::fs::write(&manifest, HUNGRY).expect("write the manifest");
    let manifest = manifest.to_str().expect("utf-8 path").to_string();
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &["--manifests", &manifest]);
    let tmux = Tmux::new("oom");
    let script = format!(
        "HOME={home} XDG_CONFIG_HOME={home}/config KUBECONFIG={kc} {BIN} -n demo; sleep 600",
        home = dir.path().display(),
        kc = kubeconfig.display(),
    );
    tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "160",
        "-y",
        "40",
        "sh",
        "-c",
        &script,
    ]);
    let long = Duration::from_secs(90);
    tmux.wait_for("the overview", Duration::from_secs(30), |s| {
        s.contains("Overview(demo)")
    });

    tmux.keys(&["1"]);
    tmux.wait_for("the OOM kill and its exit code in STATUS", long, |s| {
        s.lines()
            .any(|l| l.contains("hungry-") && l.contains("OOMKilled 137"))
    });

    // The first row (hungry sorts before web): describe shows Last State.
    tmux.keys(&["d"]);
    tmux.wait_for("describe's Last State", long, |s| {
        s.contains("Last State: Terminated")
            && s.contains("Reason:     OOMKilled")
            && s.contains("Exit Code:  137")
    });
    tmux.escape();

    tmux.keys(&["4"]);
    tmux.wait_for("the HPA pane naming the crash loop", long, |s| {
        s.contains("no metrics: 0 of 1 pods Ready; containers crash-looping (OOMKilled)")
    });
}
