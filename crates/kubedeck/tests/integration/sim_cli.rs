//! The `kubedeck sim` command as a user runs it: startup output, kubectl
//! through the written kubeconfig, clean SIGTERM, and errors for a bad
//! scenario or a broken manifest.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{Streaming, run, table, wait_until};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubedeck");

fn sim_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    crate::common::require_kubectl();
    let mut cmd = Command::new(crate::common::KUBECTL);
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("KUBECACHEDIR", cache)
        .env_remove("KUBECONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Starts `kubedeck sim` and waits for it to print its kubeconfig path.
async fn start(args: &[&str]) -> Streaming {
    let mut s = Streaming::spawn(sim_cmd(args));
    s.wait_line(Duration::from_secs(30), |l| l.contains("kubeconfig"))
        .await;
    s
}

fn sigterm(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -TERM {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_kubectl_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("sim.kubeconfig");
    let cache = dir.path().join("cache");
    let mut sim = start(&[
        "--scenario",
        "minimal",
        "--kubeconfig-out",
        kc.to_str().expect("path"),
    ])
    .await;
    let printed = sim.seen.join("\n");
    assert!(
        printed.contains("http://127.0.0.1:"),
        "no address in:\n{printed}"
    );
    assert!(
        printed.contains(kc.to_str().expect("path")),
        "no kubeconfig path in:\n{printed}"
    );

    let kc_text = std::fs::read_to_string(&kc).expect("the kubeconfig was written");
    assert!(kc_text.contains("kubedeck-sim"), "{kc_text}");
    let nodes = run(kubectl(&kc, &cache, &["get", "nodes"]), &["get", "nodes"])
        .await
        .ok();
    let t = table(&nodes);
    assert_eq!(t.len(), 4, "three nodes:\n{nodes}");
    wait_until("web pods Running", Duration::from_secs(30), || async {
        let out = run(
            kubectl(&kc, &cache, &["get", "pods", "-n", "demo"]),
            &["get", "pods"],
        )
        .await
        .ok();
        if out.matches("Running").count() == 2 {
            Ok(())
        } else {
            Err(out)
        }
    })
    .await;

    let pid = sim.child.id().expect("pid");
    sigterm(pid);
    let status = tokio::time::timeout(Duration::from_secs(10), sim.child.wait())
        .await
        .expect("kubedeck sim exits within 10 s of SIGTERM")
        .expect("wait");
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let out = run(
        kubectl(&kc, &cache, &["get", "nodes", "--request-timeout=3s"]),
        &["get"],
    )
    .await;
    assert!(!out.success, "the server is gone after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_tokens_writes_admin_and_viewer_contexts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("sim.kubeconfig");
    let cache = dir.path().join("cache");
    let _sim = start(&[
        "--auth",
        "tokens",
        "--kubeconfig-out",
        kc.to_str().expect("path"),
    ])
    .await;
    let args = ["auth", "can-i", "delete", "pods"];
    let admin = run(kubectl(&kc, &cache, &args), &args).await;
    assert_eq!(admin.stdout.trim(), "yes", "{admin:?}");
    let args = [
        "--context",
        "kubedeck-sim-viewer",
        "auth",
        "can-i",
        "delete",
        "pods",
    ];
    let viewer = run(kubectl(&kc, &cache, &args), &args).await;
    assert_eq!(viewer.stdout.trim(), "no", "{viewer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_scenario_fails_clearly() {
    let out = run(sim_cmd(&["--scenario", "no-such-scenario"]), &["sim"]).await;
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("no-such-scenario"), "{out:?}");
    assert!(
        out.stderr.contains("minimal"),
        "the error lists the scenarios: {out:?}"
    );
}

const USER_MANIFEST: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  mode: fast
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: registry.example/api:2.1
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_load_user_yaml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("sim.kubeconfig");
    let cache = dir.path().join("cache");
    let manifest = dir.path().join("app.yaml");
    std::fs::write(&manifest, USER_MANIFEST).expect("write manifest");
    let _sim = start(&[
        "--scenario",
        "minimal",
        "--kubeconfig-out",
        kc.to_str().expect("path"),
        "--manifests",
        manifest.to_str().expect("path"),
    ])
    .await;
    let args = [
        "get",
        "configmap",
        "settings",
        "-o",
        "jsonpath={.data.mode}",
    ];
    let mode = run(kubectl(&kc, &cache, &args), &args).await.ok();
    assert_eq!(mode, "fast");
    wait_until("deployment api 1/1", Duration::from_secs(30), || async {
        let args = ["get", "deployment", "api"];
        let out = run(kubectl(&kc, &cache, &args), &args).await.ok();
        let t = table(&out);
        if t.len() == 2 && t[1].get(1).map(String::as_str) == Some("1/1") {
            Ok(())
        } else {
            Err(out)
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_manifest_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("broken.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a: b\ndata:\n  a: b\n",
    )
    .expect("write manifest");
    let out = run(
        sim_cmd(&["--manifests", manifest.to_str().expect("path")]),
        &["sim"],
    )
    .await;
    assert!(!out.success, "{out:?}");
    assert!(
        out.stderr.contains(manifest.to_str().expect("path")),
        "the error names the file: {out:?}"
    );
    let path = manifest.to_str().expect("path");
    assert!(
        out.stderr.contains(&format!("{path}:4")) || out.stderr.contains("line 4"),
        "the error names the line: {out:?}"
    );
}
