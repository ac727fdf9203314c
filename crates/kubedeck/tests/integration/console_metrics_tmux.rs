//! End to end: the console's metrics in the real binary, in tmux, against
//! `kubedeck sim`: a Prometheus that is down is shown as down without
//! stopping anything, and without one the sparklines fill from
//! metrics.k8s.io.

use std::path::Path;
use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

const HPA: &str = "\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: demo
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
";

/// Starts the console in tmux with `args`, in a home of its own.
fn console(dir: &Path, kubeconfig: &Path, tag: &str, args: &str) -> Tmux {
    let tmux = Tmux::new(tag);
    let script = format!(
        "HOME={home} XDG_CONFIG_HOME={home}/config KUBECONFIG={kc} {bin} {args}; echo EXITED $?; sleep 600",
        home = dir.display(),
        kc = kubeconfig.display(),
        bin = BIN,
    );
    tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "180",
        "-y",
        "45",
        "sh",
        "-c",
        &script,
    ]);
    tmux
}

/// The chart's title line: `pod/NAME · last 5m`.
fn chart_title(screen: &str) -> Option<String> {
    screen
        .lines()
        .find_map(|l| l.split_once("pod/").map(|(_, rest)| rest.to_string()))
        .and_then(|rest| rest.split_whitespace().next().map(str::to_string))
}

#[test]
fn a_prometheus_that_is_down_shows_as_down_and_the_console_stays_responsive() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("hpa.yaml");
    std::fs::write(&manifest, HPA).expect("write the manifest");
    let manifest = manifest.to_str().expect("utf-8 path").to_string();
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &["--manifests", &manifest]);
    let closed = kubedeck_sim::testing::ClosedPort::new();
    let port = closed.port();
    let tmux = console(
        dir.path(),
        &kubeconfig,
        "metrics-down",
        &format!("--prometheus http://127.0.0.1:{port}"),
    );
    let long = Duration::from_secs(30);
    let endpoint = format!("metrics: prometheus http://127.0.0.1:{port}");
    tmux.wait_for("the Prometheus named in the header", long, |s| {
        s.lines().next().is_some_and(|l| l.contains(&endpoint))
    });

    // The pods view renders, with its sparkline columns as placeholders.
    tmux.keys(&["1"]);
    tmux.wait_for("two ready web pods", long, |s| {
        s.contains("CPU~")
            && s.lines()
                .filter(|l| l.contains("web-") && l.contains("Running"))
                .count()
                >= 2
    });
    let screen = tmux.wait_for("the header to say down", long, |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains(&format!("{endpoint}: down")))
    });
    assert!(
        screen
            .lines()
            .any(|l| l.contains("web-") && l.contains("··········")),
        "no data, a placeholder:\n{screen}"
    );

    // Keys still move the cursor: the chart follows the selection.
    tmux.keys(&["m"]);
    let first = tmux.wait_for("the chart of the selected pod", long, |s| {
        chart_title(s).is_some()
    });
    let before = chart_title(&first).unwrap_or_default();
    tmux.keys(&["j"]);
    let moved = tmux.wait_for("the chart of the next pod", long, |s| {
        chart_title(s).is_some_and(|t| t != before)
    });
    assert!(
        moved.lines().next().is_some_and(|l| l.contains(": down")),
        "still down:\n{moved}"
    );
    tmux.keys(&["4"]);
    let hpa = tmux.wait_for("the HPA chart with its target", long, |s| {
        s.contains("hpa/web") && s.contains("── 70%")
    });
    assert!(hpa.contains("target 70%"), "{hpa}");

    tmux.keys(&["q"]);
    tmux.wait_for("a clean exit", long, |s| s.contains("EXITED 0"));
}

#[test]
fn without_prometheus_cpu_and_memory_sparklines_fill_from_metrics_server() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &[]);
    let tmux = console(dir.path(), &kubeconfig, "metrics-fallback", "");
    let long = Duration::from_secs(30);
    tmux.wait_for("metrics-server named in the header", long, |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("metrics: metrics-server: ok, history since"))
    });
    tmux.keys(&["1"]);
    let blocks = |l: &str| l.chars().filter(|c| ('▁'..='█').contains(c)).count();
    // The sampler lists every 15 s; rows ask again once their step (30 s
    // at 5m over 10 columns) has passed.
    let screen = tmux.wait_for(
        "CPU and MEM sparklines on the web pods",
        Duration::from_secs(90),
        |s| s.lines().any(|l| l.contains("web-") && blocks(l) >= 2),
    );
    let row = screen
        .lines()
        .find(|l| l.contains("web-") && blocks(l) >= 2)
        .unwrap_or_default();
    assert!(
        row.contains("··········"),
        "restarts need Prometheus: {row}"
    );

    tmux.keys(&["2", "m"]);
    // The request-rate panel, drawn once the chart's data has come, says
    // which source it lacks.
    tmux.wait_for(
        "the workload chart from metrics-server, its rate panel needing Prometheus",
        long,
        |s| {
            s.contains("deploy/web")
                && s.contains("history since")
                && s.contains("needs Prometheus")
        },
    );
    tmux.keys(&["q"]);
    tmux.wait_for("a clean exit", long, |s| s.contains("EXITED 0"));
}
