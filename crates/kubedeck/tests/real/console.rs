//! The console in tmux against the real cluster: its views follow the real
//! controllers with no key pressed, and the HPA pane explains what the real
//! HPA controller decided from metrics-server's numbers.

use std::path::Path;
use std::time::Duration;

use kubedeck_sim::testing::tmux::{Tmux, require_tmux};

use crate::cluster::Cluster;

const LONG: Duration = Duration::from_secs(60);

/// Starts the console on the cluster in tmux (160x45), limited to `ns`,
/// with a home of its own.
fn console(c: &Cluster, home: &Path, tag: &str, ns: &str) -> Tmux {
    require_tmux();
    let tmux = Tmux::new(tag);
    tmux.start_console(
        env!("CARGO_BIN_EXE_kubedeck"),
        home,
        &c.kubeconfig(),
        &format!("-n {ns}"),
        (160, 45),
    );
    tmux
}

fn command(tmux: &Tmux, text: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(text);
    tmux.keys(&["Enter"]);
}

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

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0.0
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";

pub async fn views_follow_the_real_controllers_with_no_key_pressed(c: &'static Cluster) {
    let ns = c.namespace("real-views").await;
    c.apply(&ns, WEB).await;
    let home = tempfile::tempdir().expect("temporary home");
    let tmux = console(c, home.path(), "real-views", &ns);

    tmux.wait_for("the console", LONG, |s| s.contains("Overview("));
    command(&tmux, "pods");
    let screen = tmux.wait_for("the pods view", LONG, |s| {
        s.contains("Pods(real-views)[2]") && web_pods(s).len() == 2 && s.contains("Running")
    });
    let pods = web_pods(&screen);

    command(&tmux, "deploy");
    tmux.wait_for("the workload", LONG, |s| {
        s.contains("Deployment") && s.contains("web") && s.contains("2/2")
    });
    command(&tmux, "svc");
    tmux.wait_for("the service", LONG, |s| {
        s.contains("Services(real-views)[1]") && s.contains("web")
    });
    command(&tmux, "ev");
    tmux.wait_for("the real controllers' events", LONG, |s| {
        s.contains("ScalingReplicaSet") || s.contains("SuccessfulCreate") || s.contains("Scheduled")
    });

    // A pod deleted behind the console's back: the real ReplicaSet
    // controller and scheduler replace it, and the view follows.
    command(&tmux, "pods");
    tmux.wait_for("the pods view again", LONG, |s| {
        s.contains("Pods(real-views)[2]")
    });
    let victim = pods[0].clone();
    c.kubectl(&["delete", "pod", &victim, "-n", &ns, "--wait=false"])
        .await
        .ok();
    tmux.wait_for("the deleted pod replaced", LONG, |s| {
        let now = web_pods(s);
        now.len() == 2 && !now.contains(&victim) && now.contains(&pods[1])
    });

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", LONG, |s| s.contains("EXITED 0"));
}

pub async fn the_real_hpa_scales_on_emulated_cpu_and_the_console_says_why(c: &'static Cluster) {
    let ns = c.namespace("real-hpa").await;
    // Each pod uses 200m of its 100m request (kwok's emulated usage, read
    // by metrics-server): 200% against a 50% target.
    let busy = WEB.replace(
        "    metadata: {labels: {app: web}}\n",
        "    metadata:\n      labels: {app: web}\n      annotations: {kwok.x-k8s.io/usage-cpu: 200m, kwok.x-k8s.io/usage-memory: 50Mi}\n",
    );
    c.apply(&ns, &busy).await;
    c.apply(
        &ns,
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n",
    )
    .await;

    let home = tempfile::tempdir().expect("temporary home");
    let tmux = console(c, home.path(), "real-hpa", &ns);
    tmux.wait_for("the console", LONG, |s| s.contains("Overview("));
    command(&tmux, "hpa");
    // The real controller reads metrics-server (15 s resolution), scales to
    // its maximum, and says why in its conditions; the pane explains them.
    let screen = tmux.wait_for(
        "the HPA at its maximum, with the reason",
        Duration::from_secs(150),
        |s| s.contains("at max (3)") && s.contains("TooManyReplicas"),
    );
    assert!(
        screen.contains("cpu"),
        "the metric that drives it:\n{screen}"
    );

    let replicas = c
        .kubectl(&[
            "get",
            "deploy/web",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .await
        .ok();
    assert_eq!(
        replicas.trim(),
        "3",
        "the real HPA controller scaled the Deployment"
    );
    // metrics-server reports the emulated usage as a rate: about 200m.
    let top = c.kubectl(&["top", "pods", "-n", &ns]).await.ok();
    let cpu: Vec<u32> = top
        .lines()
        .filter(|l| l.starts_with("web-"))
        .filter_map(|l| l.split_whitespace().nth(1)?.strip_suffix('m')?.parse().ok())
        .collect();
    assert!(
        !cpu.is_empty() && cpu.iter().all(|m| (180..=220).contains(m)),
        "kubectl top reads metrics-server: {top}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", LONG, |s| s.contains("EXITED 0"));
}
