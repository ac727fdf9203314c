//! The HorizontalPodAutoscaler with the real kubectl: load set by
//! `kubectl annotate` scales a Deployment up within its behavior's policy
//! and back down after the (shortened) stabilization window; `kubectl get`
//! and `describe` show targets, counts, conditions and events.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{TestSim, wait_until};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::runtime::watcher;

/// The scale factor the HPA's annotation applies to its windows and policy
/// periods: the 15 s scale-up period becomes 3 s, the 30 s scale-down
/// window 6 s.
const WINDOW_SCALE: f64 = 0.2;
const UP_PERIOD: Duration = Duration::from_secs(3);
const DOWN_WINDOW: Duration = Duration::from_secs(6);

/// A fresh pod's CPU counts only once it has been Ready for the metrics
/// window (30 s, as metrics-server and kube's HPA), so the first
/// recommendation takes that long.
const FIRST_METRIC: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(45);

fn manifests() -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
  namespace: default
  annotations:
    kubedeck.io/load: steady 10rps
spec:
  replicas: 1
  selector:
    matchLabels: {{app: x}}
  template:
    metadata:
      labels: {{app: x}}
    spec:
      containers:
      - name: app
        image: registry.example/x:2.1
        resources:
          requests: {{cpu: 100m, memory: 64Mi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: x
  namespace: default
  annotations:
    sim.kubedeck.io/sync-period-seconds: '1'
    sim.kubedeck.io/stabilization-scale: '{WINDOW_SCALE}'
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: x
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies:
      - type: Pods
        value: 2
        periodSeconds: 15
    scaleDown:
      stabilizationWindowSeconds: 30
      policies:
      - type: Percent
        value: 100
        periodSeconds: 15
"
    )
}

/// Every `spec.replicas` the watch saw, with when it saw it.
type History = Arc<Mutex<Vec<(Instant, i32)>>>;

fn watch_replicas(ts: &TestSim) -> (History, tokio::task::JoinHandle<()>) {
    let api: Api<Deployment> = Api::namespaced(ts.client(), "default");
    let history: History = Arc::new(Mutex::new(Vec::new()));
    let h2 = history.clone();
    let cfg = watcher::Config::default().fields("metadata.name=x");
    let task = tokio::spawn(async move {
        let mut w = watcher(api, cfg).boxed();
        while let Some(ev) = w.next().await {
            let d = match ev {
                Ok(watcher::Event::Apply(d) | watcher::Event::InitApply(d)) => d,
                _ => continue,
            };
            let n = d.spec.and_then(|s| s.replicas).unwrap_or(1);
            let mut h = h2.lock().unwrap_or_else(|e| e.into_inner());
            if h.last().is_none_or(|(_, last)| *last != n) {
                h.push((Instant::now(), n));
            }
        }
    });
    (history, task)
}

/// `kubectl get hpa x` as (TARGETS, REPLICAS).
async fn get_hpa(ts: &TestSim) -> Result<(String, String), String> {
    let out = ts.kubectl(&["get", "hpa", "x", "-n", "default"]).await;
    if !out.success {
        return Err(out.stderr);
    }
    let rows = crate::common::columns(&out.stdout);
    let row = rows.first().ok_or_else(|| out.stdout.clone())?;
    let get = |k: &str| row.get(k).cloned().ok_or_else(|| out.stdout.clone());
    Ok((get("TARGETS")?, get("REPLICAS")?))
}

/// The utilization in a `cpu: 73%/50%` target cell.
fn utilization(targets: &str) -> Option<i64> {
    targets
        .strip_prefix("cpu: ")?
        .strip_suffix("%/50%")?
        .parse()
        .ok()
}

/// The HPA's scale-ups from its SuccessfulRescale events, as (epoch
/// second, pods added), oldest first.
async fn rescales_up(ts: &TestSim) -> Vec<(i64, i32)> {
    let out = ts
        .kubectl(&[
            "get",
            "events",
            "-n",
            "default",
            "--field-selector",
            "involvedObject.name=x,reason=SuccessfulRescale",
            "-o",
            "json",
        ])
        .await
        .ok();
    let list: serde_json::Value = serde_json::from_str(&out).expect("events as JSON");
    let mut sizes: Vec<(i64, i32)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let at = e["firstTimestamp"].as_str()?;
            let at = chrono::DateTime::parse_from_rfc3339(at).ok()?.timestamp();
            let size = e["message"].as_str()?.strip_prefix("New size: ")?;
            let size: i32 = size.split(';').next()?.parse().ok()?;
            Some((at, size))
        })
        .collect();
    sizes.sort();
    let mut from = 1;
    let mut ups = Vec::new();
    for (at, size) in sizes {
        if size <= from {
            break;
        }
        ups.push((at, size - from));
        from = size;
    }
    ups
}

fn replicas_now(history: &History) -> i32 {
    history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .last()
        .map_or(0, |(_, n)| *n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpa_scales_up_within_its_policy_and_down_after_the_window() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], &manifests())
        .await
        .ok();
    let (history, task) = watch_replicas(&ts);

    // Idle: ~13% of the request, one replica.
    let (targets, replicas) = wait_until("a CPU target on the HPA", FIRST_METRIC, || async {
        let (t, r) = get_hpa(&ts).await?;
        match utilization(&t) {
            Some(_) => Ok((t, r)),
            None => Err(format!("TARGETS {t}")),
        }
    })
    .await;
    let idle = utilization(&targets).unwrap_or(-1);
    assert!((1..50).contains(&idle), "idle utilization: {targets}");
    assert_eq!(replicas, "1");

    let out = ts
        .kubectl(&[
            "annotate",
            "deploy/x",
            "-n",
            "default",
            "kubedeck.io/load=steady 1000rps",
            "--overwrite",
        ])
        .await
        .ok();
    assert!(out.contains("deployment.apps/x annotated"), "{out}");
    wait_until("the HPA to reach maxReplicas", WAIT, || async {
        let n = replicas_now(&history);
        if n == 5 {
            Ok(())
        } else {
            Err(format!("spec.replicas {n}"))
        }
    })
    .await;
    let (targets, _) = wait_until("kubectl get hpa to show 5 replicas", WAIT, || async {
        let (t, r) = get_hpa(&ts).await?;
        if r == "5" {
            Ok((t, r))
        } else {
            Err(format!("TARGETS {t} REPLICAS {r}"))
        }
    })
    .await;
    let busy = utilization(&targets).unwrap_or(-1);
    assert!(busy > 50, "busy utilization above the target: {targets}");
    let describe = ts
        .kubectl(&["describe", "hpa", "x", "-n", "default"])
        .await
        .ok();
    let condition = |t: &str| {
        describe
            .lines()
            .find(|l| l.trim_start().starts_with(t))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert!(describe.contains("Conditions:"), "{describe}");
    assert_eq!(
        condition("AbleToScale").get(1),
        Some(&"True"),
        "AbleToScale in:\n{describe}"
    );
    assert_eq!(
        condition("ScalingActive").get(1..3),
        Some(&["True", "ValidMetricFound"][..]),
        "ScalingActive in:\n{describe}"
    );
    // Load that wants more than maxReplicas.
    assert_eq!(
        condition("ScalingLimited").get(1..3),
        Some(&["True", "TooManyReplicas"][..]),
        "ScalingLimited in:\n{describe}"
    );

    // The policy: at most 2 pods added per (scaled) 15 s period, judged by
    // the controller's own SuccessfulRescale times (whole seconds), so a
    // slow test run cannot bunch them up.
    let ups = rescales_up(&ts).await;
    let period = UP_PERIOD.as_secs() as i64;
    for (i, (t, _)) in ups.iter().enumerate() {
        let added: i32 = ups[i..]
            .iter()
            .take_while(|(u, _)| u - t < period)
            .map(|(_, n)| n)
            .sum();
        assert!(
            added <= 2,
            "more than 2 pods added within {period} s: {ups:?} (history {:?})",
            history_text(&history)
        );
    }
    assert!(
        ups.len() >= 2,
        "1 → 5 takes at least two steps of 2: {ups:?}"
    );

    let down_from = Instant::now();
    ts.kubectl(&[
        "annotate",
        "deploy/x",
        "-n",
        "default",
        "kubedeck.io/load=steady 10rps",
        "--overwrite",
    ])
    .await
    .ok();
    wait_until("the HPA to scale back to 1", WAIT, || async {
        let n = replicas_now(&history);
        if n == 1 {
            Ok(())
        } else {
            Err(format!("spec.replicas {n}"))
        }
    })
    .await;
    let first_down = history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .windows(2)
        .find(|w| w[1].0 > down_from && w[1].1 < w[0].1)
        .map(|w| w[1].0);
    let waited = first_down.map(|t| t.duration_since(down_from));
    // Recommendations of 5 from just before the drop hold for the window
    // (less one sync period).
    assert!(
        waited.is_some_and(|w| w + Duration::from_secs(2) >= DOWN_WINDOW),
        "scaled down after {waited:?}, before the {DOWN_WINDOW:?} window: {:?}",
        history_text(&history)
    );
    let (targets, _) = wait_until("kubectl get hpa to show 1 replica", WAIT, || async {
        let (t, r) = get_hpa(&ts).await?;
        if r == "1" {
            Ok((t, r))
        } else {
            Err(format!("TARGETS {t} REPLICAS {r}"))
        }
    })
    .await;
    // The ReplicaSet may keep a pod from the scale-up (kube deletes pods
    // doubled up on a node first); its CPU counts only after 30 s Ready,
    // so the target may read <unknown> for a while, as in kube.
    assert!(
        targets == "cpu: <unknown>/50%" || utilization(&targets).is_some_and(|u| u < 50),
        "idle again: {targets}"
    );
    let describe = ts
        .kubectl(&["describe", "hpa", "x", "-n", "default"])
        .await
        .ok();
    for want in [
        "SuccessfulRescale",
        "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        "New size: 5; reason: cpu resource utilization (percentage of request) above target",
        "reason: All metrics below target",
        "Min replicas:",
        "Max replicas:",
    ] {
        assert!(
            describe.contains(want),
            "kubectl describe hpa lacks {want:?}:\n{describe}"
        );
    }
    task.abort();
}

fn history_text(history: &History) -> Vec<String> {
    let h = history.lock().unwrap_or_else(|e| e.into_inner());
    let t0 = h.first().map(|(t, _)| *t);
    h.iter()
        .map(|(t, n)| {
            format!(
                "+{:.1}s {n}",
                t0.map_or(0.0, |t0| t.duration_since(t0).as_secs_f64())
            )
        })
        .collect()
}
