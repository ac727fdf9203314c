//! Metrics: `kubectl top` through metrics.k8s.io, the simulator's
//! `/metrics` checked by `promtool`, and a real Prometheus (the Debian
//! package's binary, run by hand) scraping it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::prometheus::Prometheus;
use crate::common::{TestSim, wait_pods_ready, wait_until};

const WAIT: Duration = Duration::from_secs(45);
const WEB_HPA: &str = "\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: demo
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 80
";

async fn started() -> TestSim {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    ts
}

/// The first CPU value in millicores (`12m`, or whole cores `1`).
fn millicores(cell: &str) -> Option<f64> {
    match cell.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => cell.parse::<f64>().ok().map(|c| c * 1000.0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_top_pods_and_nodes() {
    let ts = started().await;
    let rows = wait_until("kubectl top pods -n demo", WAIT, || async {
        let out = ts.kubectl(&["top", "pods", "-n", "demo"]).await;
        if !out.success {
            return Err(out.stderr);
        }
        let rows = crate::common::columns(&out.stdout);
        if rows.len() == 2 {
            Ok(rows)
        } else {
            Err(out.stdout)
        }
    })
    .await;
    for r in &rows {
        let name = r.get("NAME").map(String::as_str).unwrap_or("");
        assert!(name.starts_with("web-"), "{rows:?}");
        let cpu = r.get("CPU(cores)").and_then(|c| millicores(c));
        assert!(cpu.is_some_and(|c| c > 0.0), "a CPU figure: {rows:?}");
        let mem = r.get("MEMORY(bytes)").map(String::as_str).unwrap_or("");
        assert!(
            mem.ends_with("Mi")
                && mem
                    .trim_end_matches("Mi")
                    .parse::<u64>()
                    .is_ok_and(|m| m > 0),
            "a memory figure: {rows:?}"
        );
    }

    let out = ts.kubectl(&["top", "nodes"]).await.ok();
    let rows = crate::common::columns(&out);
    let nodes = crate::common::columns(&ts.kubectl(&["get", "nodes"]).await.ok());
    assert_eq!(rows.len(), nodes.len(), "one row per node:\n{out}");
    for r in &rows {
        let pct = r
            .get("CPU(%)")
            .or_else(|| r.get("CPU%"))
            .map(|p| p.trim_end_matches('%'))
            .and_then(|p| p.parse::<u32>().ok());
        assert!(pct.is_some_and(|p| p <= 100), "a CPU percentage:\n{out}");
        assert!(
            r.get("MEMORY(bytes)").is_some_and(|m| m.ends_with("Mi")),
            "memory in Mi:\n{out}"
        );
    }

    // One pod by name, and the containers of it.
    let pod = rows_first_pod(&ts).await;
    let out = ts
        .kubectl(&["top", "pod", &pod, "-n", "demo", "--containers"])
        .await
        .ok();
    assert!(out.contains("POD") && out.contains(&pod), "{out}");
}

async fn rows_first_pod(ts: &TestSim) -> String {
    crate::common::pods_json(ts, "demo", "app=web")
        .await
        .first()
        .and_then(|p| p["metadata"]["name"].as_str())
        .map(str::to_string)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_exposition() {
    let ts = started().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], WEB_HPA).await.ok();
    let text = ts.kubectl(&["get", "--raw", "/metrics"]).await.ok();
    for family in [
        "# TYPE http_requests_total counter",
        "# TYPE http_request_duration_seconds histogram",
        "# TYPE kube_pod_status_phase gauge",
        "# TYPE kube_horizontalpodautoscaler_spec_max_replicas gauge",
    ] {
        assert!(text.contains(family), "/metrics lacks {family:?}");
    }
    let path = ts.write_file("metrics.txt", &text);
    let file = std::fs::File::open(&path).expect("open the metrics file");
    let out = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(file)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool check metrics ({:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn promtool() -> &'static str {
    let p = "/usr/bin/promtool";
    assert!(
        Path::new(p).exists(),
        "{p} is missing: apt-get install prometheus (.ci/run does)"
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_simulator() {
    let ts = started().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], WEB_HPA).await.ok();
    let mut prom = Prometheus::scraping(&ts);

    let rate = prom
        .wait_for("sum by (namespace) (rate(http_requests_total{namespace=\"demo\"}[1m]))")
        .await;
    assert!(
        rate.iter().all(|(_, v)| *v > 0.0),
        "demo/web serves traffic: {rate:?}"
    );

    let hpa = prom
        .wait_for("kube_horizontalpodautoscaler_spec_max_replicas")
        .await;
    assert!(
        hpa.iter()
            .any(|(labels, v)| labels.contains("namespace=demo") && *v == 4.0),
        "the web HPA's maxReplicas: {hpa:?}"
    );
    let current = prom
        .query("kube_horizontalpodautoscaler_status_current_replicas{namespace=\"demo\"}")
        .await;
    assert!(
        current
            .as_ref()
            .is_ok_and(|v| v.iter().any(|(_, n)| *n == 2.0)),
        "the web HPA's current replicas: {current:?}"
    );
    drop(prom);
}
