//! The real kubectl driving workloads: scale, rollout restart / status /
//! history / undo, image failures, pod replacement, logs and apply.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Streaming, TestSim, pods_json, table, wait_pods_ready, wait_until};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::watcher;

const WAIT: Duration = Duration::from_secs(45);

async fn started() -> TestSim {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    ts
}

fn pod_names(pods: &[serde_json::Value]) -> Vec<String> {
    pods.iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn is_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Watches the pods matching `selector` and records the fewest Ready (not
/// terminating) pods seen after the initial list.
fn track_min_ready(
    ts: &TestSim,
    ns: &str,
    selector: &str,
) -> (Arc<Mutex<Option<usize>>>, tokio::task::JoinHandle<()>) {
    let api: Api<Pod> = Api::namespaced(ts.client(), ns);
    let min = Arc::new(Mutex::new(None::<usize>));
    let min2 = min.clone();
    let cfg = watcher::Config::default().labels(selector);
    let task = tokio::spawn(async move {
        let mut ready: BTreeMap<String, bool> = BTreeMap::new();
        let mut init: BTreeMap<String, bool> = BTreeMap::new();
        let mut live = false;
        let mut w = watcher(api, cfg).boxed();
        while let Some(ev) = w.next().await {
            match ev {
                Ok(watcher::Event::Init) => init.clear(),
                Ok(watcher::Event::InitApply(p)) => {
                    init.insert(p.metadata.name.clone().unwrap_or_default(), is_ready(&p));
                }
                Ok(watcher::Event::InitDone) => {
                    ready = std::mem::take(&mut init);
                    live = true;
                }
                Ok(watcher::Event::Apply(p)) => {
                    ready.insert(p.metadata.name.clone().unwrap_or_default(), is_ready(&p));
                }
                Ok(watcher::Event::Delete(p)) => {
                    ready.remove(&p.metadata.name.clone().unwrap_or_default());
                }
                Err(_) => continue,
            }
            if live {
                let n = ready.values().filter(|r| **r).count();
                let mut m = min2.lock().unwrap_or_else(|e| e.into_inner());
                *m = Some(m.map_or(n, |m| m.min(n)));
            }
        }
    });
    (min, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_deployment_converges_and_pods_become_ready() {
    let ts = started().await;
    let out = ts
        .kubectl(&["scale", "deployment", "web", "-n", "demo", "--replicas=4"])
        .await
        .ok();
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    wait_pods_ready(&ts, "demo", "app=web", 4, None, WAIT).await;
    ts.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "app=web",
        "-n",
        "demo",
        "--timeout=30s",
    ])
    .await
    .ok();
    ts.kubectl(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "-n",
        "demo",
        "--timeout=30s",
    ])
    .await
    .ok();
    let t = table(
        &ts.kubectl(&["get", "deploy", "web", "-n", "demo"])
            .await
            .ok(),
    );
    assert_eq!(t[1][1..4], ["4/4", "4", "4"]);

    ts.kubectl(&["scale", "deployment/web", "-n", "demo", "--replicas=1"])
        .await
        .ok();
    wait_pods_ready(&ts, "demo", "app=web", 1, None, WAIT).await;
    let t = table(
        &ts.kubectl(&["get", "deploy", "web", "-n", "demo"])
            .await
            .ok(),
    );
    assert_eq!(t[1][1..4], ["1/1", "1", "1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart_replaces_pods_gradually() {
    let ts = started().await;
    let before = pod_names(&pods_json(&ts, "demo", "app=web").await);
    let (min_ready, watch_task) = track_min_ready(&ts, "demo", "app=web");
    wait_until("the pod watch to start", WAIT, || async {
        if min_ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            Ok(())
        } else {
            Err("no initial list yet".into())
        }
    })
    .await;

    let out = ts
        .kubectl(&["rollout", "restart", "deployment/web", "-n", "demo"])
        .await
        .ok();
    assert!(out.contains("deployment.apps/web restarted"), "{out}");
    let status = ts
        .kubectl(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            "demo",
            "--timeout=60s",
        ])
        .await
        .ok();
    assert!(status.contains("successfully rolled out"), "{status}");

    let after = wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    for p in &after {
        let name = p["metadata"]["name"].as_str().unwrap_or("");
        assert!(!before.iter().any(|b| b == name), "{name} was not replaced");
        assert!(
            p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string(),
            "the new pods carry the restart annotation: {p}"
        );
    }
    let rs = table(&ts.kubectl(&["get", "rs", "-n", "demo"]).await.ok());
    assert_eq!(rs.len(), 3, "a new ReplicaSet next to the old one: {rs:?}");
    let desired: Vec<&str> = rs[1..].iter().map(|r| r[1].as_str()).collect();
    assert!(desired.contains(&"0") && desired.contains(&"2"), "{rs:?}");

    watch_task.abort();
    let min = min_ready
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or(0);
    // web: replicas 2, maxUnavailable 0.
    assert!(min >= 2, "Ready pods dropped to {min} during the rollout");
}

const PROGRESS_DEADLINE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pd
  namespace: default
spec:
  replicas: 2
  progressDeadlineSeconds: 10
  selector:
    matchLabels:
      app: pd
  template:
    metadata:
      labels:
        app: pd
    spec:
      containers:
      - name: app
        image: registry.example/pd:1.0
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_not_found_stalls_rollout_past_progress_deadline() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], PROGRESS_DEADLINE)
        .await
        .ok();
    wait_pods_ready(
        &ts,
        "default",
        "app=pd",
        2,
        Some("registry.example/pd:1.0"),
        WAIT,
    )
    .await;
    ts.kubectl(&["rollout", "status", "deployment/pd", "--timeout=30s"])
        .await
        .ok();

    let out = ts
        .kubectl(&[
            "set",
            "image",
            "deployment/pd",
            "app=registry.example/pd:notfound-1",
        ])
        .await
        .ok();
    assert!(out.contains("image updated"), "{out}");
    let status = ts
        .kubectl(&["rollout", "status", "deployment/pd", "--timeout=60s"])
        .await;
    assert!(!status.success, "rollout status must fail: {status:?}");
    assert!(
        status.stderr.contains("exceeded its progress deadline"),
        "rollout status output: {status:?}"
    );

    let pods = pods_json(&ts, "default", "app=pd").await;
    let broken: Vec<&serde_json::Value> = pods
        .iter()
        .filter(|p| p["spec"]["containers"][0]["image"] == "registry.example/pd:notfound-1")
        .collect();
    assert!(!broken.is_empty(), "a pod with the new image exists");
    for p in &broken {
        let reason = &p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"];
        assert!(
            reason == "ErrImagePull" || reason == "ImagePullBackOff",
            "waiting reason {reason} in {p}"
        );
    }
    let old_ready = pods
        .iter()
        .filter(|p| {
            p["spec"]["containers"][0]["image"] == "registry.example/pd:1.0"
                && crate::common::pod_ready(p)
        })
        .count();
    assert_eq!(
        old_ready,
        2,
        "the old pods keep serving: {}",
        crate::common::describe_pods(&pods)
    );
    let listing = ts.kubectl(&["get", "pods", "-l", "app=pd"]).await.ok();
    assert!(
        listing.contains("ImagePullBackOff") || listing.contains("ErrImagePull"),
        "{listing}"
    );
    let described = ts.kubectl(&["describe", "deployment", "pd"]).await.ok();
    assert!(
        described.contains("ProgressDeadlineExceeded"),
        "{described}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashloop_image_crash_loops() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl(&[
        "create",
        "deployment",
        "crash",
        "--image=registry.example/crash:crashloop",
    ])
    .await
    .ok();
    let listing = wait_until("a pod in CrashLoopBackOff with restarts", WAIT, || async {
        let out = ts.kubectl(&["get", "pods", "-l", "app=crash"]).await.ok();
        let t = table(&out);
        let looping = t.iter().skip(1).any(|r| {
            r.get(2).map(String::as_str) == Some("CrashLoopBackOff")
                && r.get(3)
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n >= 1)
        });
        if looping { Ok(out) } else { Err(out) }
    })
    .await;
    assert!(
        listing.contains("0/1"),
        "a crash-looping pod is not ready: {listing}"
    );
    let pods = pods_json(&ts, "default", "app=crash").await;
    let cs = &pods[0]["status"]["containerStatuses"][0];
    assert_eq!(cs["ready"], false);
    assert!(
        cs["lastState"]["terminated"]["exitCode"]
            .as_i64()
            .is_some_and(|c| c != 0),
        "{cs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_deployment() {
    let ts = started().await;
    let out = ts
        .kubectl(&["describe", "deployment", "web", "-n", "demo"])
        .await
        .ok();
    // Compare with runs of spaces squashed: kubectl aligns columns itself.
    let squashed: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for needle in [
        "Name: web",
        "Namespace: demo",
        "Replicas: 2 desired | 2 updated | 2 total | 2 available | 0 unavailable",
        "StrategyType: RollingUpdate",
        "RollingUpdateStrategy: 0 max unavailable, 1 max surge",
        "Pod Template:",
        "Image: registry.example/web:1.0.0",
        "Conditions:",
        "Available True MinimumReplicasAvailable",
        "Progressing True NewReplicaSetAvailable",
        "Events:",
    ] {
        assert!(
            squashed.iter().any(|l| l == needle),
            "describe lacks a line {needle:?}:\n{out}"
        );
    }
    assert!(
        squashed
            .iter()
            .any(|l| l.starts_with("Normal ScalingReplicaSet")
                && l.contains("Scaled up replica set web-")),
        "no ScalingReplicaSet event:\n{out}"
    );
    let new_rs = out
        .lines()
        .find(|l| l.starts_with("NewReplicaSet:"))
        .unwrap_or("");
    assert!(
        new_rs.contains("web-") && new_rs.contains("(2/2 replicas created)"),
        "{new_rs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_history_and_undo() {
    let ts = started().await;
    ts.kubectl(&[
        "set",
        "image",
        "deployment/web",
        "-n",
        "demo",
        "web=registry.example/web:notfound-2",
    ])
    .await
    .ok();
    // The new ReplicaSet exists (revision 2) but its pods cannot pull.
    wait_until("revision 2 in the history", WAIT, || async {
        let out = ts
            .kubectl(&["rollout", "history", "deployment/web", "-n", "demo"])
            .await
            .ok();
        let revs: Vec<String> = table(&out).iter().skip(2).map(|r| r[0].clone()).collect();
        if revs == ["1", "2"] { Ok(()) } else { Err(out) }
    })
    .await;
    let rev2 = ts
        .kubectl(&[
            "rollout",
            "history",
            "deployment/web",
            "-n",
            "demo",
            "--revision=2",
        ])
        .await
        .ok();
    assert!(rev2.contains("registry.example/web:notfound-2"), "{rev2}");

    let undo = ts
        .kubectl(&["rollout", "undo", "deployment/web", "-n", "demo"])
        .await
        .ok();
    assert!(undo.contains("rolled back"), "{undo}");
    ts.kubectl(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "demo",
        "--timeout=60s",
    ])
    .await
    .ok();
    wait_pods_ready(
        &ts,
        "demo",
        "app=web",
        2,
        Some("registry.example/web:1.0.0"),
        WAIT,
    )
    .await;
    let history = ts
        .kubectl(&["rollout", "history", "deployment/web", "-n", "demo"])
        .await
        .ok();
    let revs: Vec<String> = table(&history)
        .iter()
        .skip(2)
        .map(|r| r[0].clone())
        .collect();
    // Undo re-uses revision 1's ReplicaSet under a new revision number.
    assert_eq!(revs, ["2", "3"], "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pod_is_replaced() {
    let ts = started().await;
    let before = pod_names(&pods_json(&ts, "demo", "app=web").await);
    let victim = before[0].clone();
    let pods: Api<Pod> = Api::namespaced(ts.client(), "demo");
    let start = Instant::now();
    let out = ts
        .kubectl(&["delete", "pod", &victim, "-n", "demo"])
        .await
        .ok();
    assert!(out.contains(&format!("pod \"{victim}\" deleted")), "{out}");
    let replacement = loop {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .expect("list pods");
        if let Some(p) = list.items.iter().find(|p| {
            !before.contains(p.metadata.name.as_ref().unwrap_or(&String::new())) && is_ready(p)
        }) {
            break p.metadata.name.clone().unwrap_or_default();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no Ready replacement after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = start.elapsed();
    println!(
        "replacement {replacement} Ready {:.2} s after `kubectl delete pod {victim}`",
        took.as_secs_f64()
    );
    let pods_now = wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    assert!(!pod_names(&pods_now).contains(&victim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_follow() {
    let ts = started().await;
    let pod = pod_names(&pods_json(&ts, "demo", "app=web").await)[0].clone();
    let logs = wait_until("some log lines", WAIT, || async {
        let out = ts.kubectl(&["logs", &pod, "-n", "demo"]).await.ok();
        if out.lines().count() >= 2 {
            Ok(out)
        } else {
            Err(out)
        }
    })
    .await;
    assert!(!logs.trim().is_empty());
    let tail = ts
        .kubectl(&["logs", &pod, "-n", "demo", "--tail=1"])
        .await
        .ok();
    assert_eq!(
        tail.lines().count(),
        1,
        "--tail=1 prints one line: {tail:?}"
    );
    let by_container = ts
        .kubectl(&["logs", &pod, "-n", "demo", "-c", "web"])
        .await
        .ok();
    assert!(!by_container.trim().is_empty());
    let missing = ts.kubectl(&["logs", "no-such-pod", "-n", "demo"]).await;
    assert!(
        !missing.success && missing.stderr.contains("NotFound"),
        "{missing:?}"
    );

    let mut f = Streaming::spawn(ts.kubectl_cmd(&["logs", "-f", "--tail=1", &pod, "-n", "demo"]));
    let first = f.wait_line(WAIT, |_| true).await;
    // A following reader gets lines written after it started.
    let next = f.wait_line(Duration::from_secs(20), |l| l != first).await;
    assert!(!next.is_empty());
    assert!(
        f.child.try_wait().ok().flatten().is_none(),
        "logs -f keeps following"
    );
    f.stop().await;
}

const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  labels:
    app: hello
spec:
  replicas: REPLICAS
  selector:
    matchLabels:
      app: hello
  template:
    metadata:
      labels:
        app: hello
    spec:
      containers:
      - name: hello
        image: registry.example/hello:1.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: hello
spec:
  selector:
    app: hello
  ports:
  - port: 80
    targetPort: 8080
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_user_manifest() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    let file = ts.write_file("app.yaml", &APP.replace("REPLICAS", "2"));
    let file = file.to_str().expect("utf-8 path");
    let out = ts.kubectl(&["apply", "-f", file]).await.ok();
    assert!(out.contains("deployment.apps/hello created"), "{out}");
    assert!(out.contains("service/hello created"), "{out}");
    wait_pods_ready(
        &ts,
        "default",
        "app=hello",
        2,
        Some("registry.example/hello:1.0"),
        WAIT,
    )
    .await;
    let t = table(&ts.kubectl(&["get", "deploy", "hello"]).await.ok());
    assert_eq!(t[1][..4], ["hello", "2/2", "2", "2"]);
    let svc = table(&ts.kubectl(&["get", "svc", "hello"]).await.ok());
    assert_eq!(svc[0][4], "PORT(S)");
    assert_eq!(svc[1][4], "80/TCP");

    let file2 = ts.write_file("app2.yaml", &APP.replace("REPLICAS", "3"));
    let out = ts
        .kubectl(&["apply", "-f", file2.to_str().expect("utf-8 path")])
        .await
        .ok();
    assert!(out.contains("deployment.apps/hello configured"), "{out}");
    assert!(out.contains("service/hello unchanged"), "{out}");
    wait_pods_ready(&ts, "default", "app=hello", 3, None, WAIT).await;
    let t = table(&ts.kubectl(&["get", "deploy", "hello"]).await.ok());
    assert_eq!(t[1][..4], ["hello", "3/3", "3", "3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_autoscale_creates_through_autoscaling_v1_and_v1_writes_keep_v2_fields() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
    let ts = started().await;
    let out = ts
        .kubectl(&[
            "autoscale",
            "deployment",
            "web",
            "-n",
            "demo",
            "--min=2",
            "--max=5",
            "--cpu-percent=60",
        ])
        .await
        .ok();
    assert!(
        out.contains("horizontalpodautoscaler.autoscaling/web autoscaled"),
        "{out}"
    );
    let t = table(&ts.kubectl(&["get", "hpa", "web", "-n", "demo"]).await.ok());
    // NAME REFERENCE TARGETS("cpu: <unknown>/60%") MINPODS MAXPODS REPLICAS AGE
    let row = &t[1];
    assert_eq!(row[..2], ["web", "Deployment/web"]);
    assert!(row.iter().any(|c| c.ends_with("/60%")), "{row:?}");
    assert_eq!(row[row.len() - 4..row.len() - 2], ["2", "5"]);

    // Give it what v1 cannot express, through v2 (kubectl's preferred version).
    ts.kubectl(&[
        "patch",
        "hpa",
        "web",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        r#"{"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":120}},
            "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}},
                       {"type":"Resource","resource":{"name":"memory","target":{"type":"Utilization","averageUtilization":80}}}]}}"#,
    ])
    .await
    .ok();

    // A read-modify-write through autoscaling/v1, as an old client does.
    let v1 = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("autoscaling", "v1", "HorizontalPodAutoscaler"),
        "horizontalpodautoscalers",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(ts.client(), "demo", &v1);
    let mut hpa = api.get("web").await.expect("the HPA through v1");
    assert_eq!(hpa.data["spec"]["targetCPUUtilizationPercentage"], 60);
    assert!(hpa.data["spec"].get("metrics").is_none(), "{:?}", hpa.data);
    hpa.data["spec"]["maxReplicas"] = serde_json::json!(7);
    api.replace("web", &PostParams::default(), &hpa)
        .await
        .expect("replace through v1");

    let v2: serde_json::Value = serde_json::from_str(
        &ts.kubectl(&["get", "hpa", "web", "-n", "demo", "-o", "json"])
            .await
            .ok(),
    )
    .expect("JSON");
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(v2["spec"]["maxReplicas"], 7);
    assert_eq!(
        v2["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
        120
    );
    let metrics: Vec<&str> = v2["spec"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m["resource"]["name"].as_str())
        .collect();
    assert_eq!(metrics, ["cpu", "memory"]);
    assert!(
        v2["metadata"]["annotations"]
            .as_object()
            .is_none_or(|a| a.keys().all(|k| !k.starts_with("autoscaling.alpha"))),
        "{}",
        v2["metadata"]
    );
}
