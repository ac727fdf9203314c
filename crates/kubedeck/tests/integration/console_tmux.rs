//! End to end: the real binary in tmux against a simulated cluster started
//! with `kubedeck sim`, driven by keys and changed by the real kubectl.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::tmux::{self, BIN, Sim, Tmux};
const KUBECTL: &str = "/usr/bin/kubectl";

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

fn start_sim(dir: &Path) -> (Sim, PathBuf) {
    let manifest = dir.join("hpa.yaml");
    std::fs::write(&manifest, HPA).expect("write the manifest");
    let manifest = manifest.to_str().expect("utf-8 path").to_string();
    tmux::start_sim(dir, &["--manifests", &manifest])
}

/// Web pod names on the pods screen, in screen order.
fn web_pods(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("web-"))
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn console_lists_filters_follows_changes_and_exits_cleanly() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = start_sim(dir.path());
    // A second context on the same cluster, whose config names a theme.
    let status = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "config",
            "set-context",
            "staging",
            "--cluster=kubedeck-sim",
            "--user=kubedeck-sim-admin",
        ])
        .status()
        .expect("kubectl runs");
    assert!(status.success());
    let config = dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "[contexts.staging]\ntheme = \"no-such-theme\"\n",
    )
    .expect("config.toml");
    let tmux = Tmux {
        socket: format!("kubedeck-test-{}", std::process::id()),
    };
    // A home of its own: no user config, theme or kubectl cache leaks in.
    let script = format!(
        "HOME={home} XDG_CONFIG_HOME={home}/config KUBECONFIG={kc} {bin}; echo EXITED $?; sleep 600",
        home = dir.path().display(),
        kc = kubeconfig.display(),
        bin = BIN,
    );
    tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "160",
        "-y",
        "45",
        "sh",
        "-c",
        &script,
    ]);
    let long = Duration::from_secs(30);

    tmux.wait_for("the overview with the demo namespace", long, |s| {
        s.contains("Overview(all)") && s.lines().any(|l| l.contains("│demo "))
    });
    assert!(
        tmux.alternate_screen(),
        "the console uses the alternate screen"
    );

    tmux.keys(&[":"]);
    tmux.type_text("hpa");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the HPA row", long, |s| {
        s.contains("HorizontalPodAutoscalers(all)[1]") && s.contains("Deployment/web")
    });
    let row: Vec<&str> = screen
        .lines()
        .find(|l| l.contains("Deployment/web"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let at = row
        .iter()
        .position(|w| *w == "Deployment/web")
        .expect("the reference column");
    assert_eq!(
        (row[at + 1], row[at + 4]),
        ("2", "4"),
        "min and max follow the reference: {row:?}"
    );

    tmux.keys(&["1"]);
    let screen = tmux.wait_for("two running web pods", long, |s| {
        s.contains("Pods(all)[2]") && web_pods(s).len() == 2
    });
    let pods = web_pods(&screen);

    tmux.keys(&["/"]);
    tmux.type_text(&pods[1]);
    tmux.wait_for("the filter to narrow the pods to one", long, |s| {
        s.contains("Pods(all)[1]") && web_pods(s) == [pods[1].clone()]
    });
    tmux.keys(&["Enter"]);
    tmux.escape();
    tmux.wait_for("Esc to clear the filter", long, |s| {
        s.contains("Pods(all)[2]")
    });

    let victim = &pods[0];
    let out = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--cache-dir"])
        .arg(dir.path().join("kubectl-cache"))
        .args(["delete", "pod", "-n", "demo", victim, "--wait=false"])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl delete failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screen = tmux.wait_for("the deleted pod to be replaced", long, |s| {
        let now = web_pods(s);
        now.len() == 2 && !now.contains(victim) && now.contains(&pods[1])
    });
    assert!(screen.contains("Pods(all)[2]"));

    // The events view lists Normal events too, which the console watches
    // only while a view reads them.
    tmux.keys(&[":"]);
    tmux.type_text("events");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the Normal events, listed", long, |s| {
        s.contains("Events(all)[") && !s.contains(" loading]") && s.contains("Scheduled")
    });
    // Back on the overview, a new warning shows as it happens.
    tmux.keys(&[":"]);
    tmux.type_text("overview");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the overview", long, |s| s.contains("Overview(all)"));
    let warning = dir.path().join("warning.yaml");
    let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    std::fs::write(
        &warning,
        format!(
            "apiVersion: v1\nkind: Event\nmetadata: {{name: web.probe, namespace: demo}}\n\
             involvedObject: {{kind: Pod, name: {}, namespace: demo}}\n\
             type: Warning\nreason: ProbeSaysNo\nmessage: Readiness probe failed\n\
             lastTimestamp: \"{at}\"\n",
            pods[1]
        ),
    )
    .expect("the event's manifest");
    let out = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--cache-dir"])
        .arg(dir.path().join("kubectl-cache"))
        .args(["apply", "-f"])
        .arg(&warning)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tmux.wait_for("the new warning on the overview", long, |s| {
        s.lines()
            .any(|l| l.contains("│demo ") && l.contains("ProbeSaysNo"))
    });

    // Another context with a theme of its own: the switch loads it (this
    // one is missing, which the warnings say).
    tmux.keys(&[":"]);
    tmux.type_text("ctx staging");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the switch and the theme's warning", long, |s| {
        s.contains("ctx: staging") && s.contains("no-such-theme")
    });
    assert!(
        !screen.contains("Pods(all)"),
        "a switch starts over: {screen}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", long, |s| s.contains("EXITED 0"));
    assert!(
        !tmux.alternate_screen(),
        "the alternate screen is gone after quitting"
    );
}
