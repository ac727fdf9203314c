//! `kubedeck drain` end to end against the simulator, with kubectl as the
//! witness: the plan it prints, each step as it happens, a budget that
//! holds the drain until a replacement is Ready elsewhere, one that allows
//! nothing (an honest time-out, exit 1, the node left cordoned) and the
//! same relaxed with kubectl half way (it completes), read-only refusals
//! and `uncordon`. And the console by keys in tmux: `r` on the node, the
//! dialog with its consequences, the progress and the result.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_sim::config::SimConfig;
use kubedeck_sim::testing::drain::{MANIFESTS, NAMESPACE, NODE, OTHER};
use kubedeck_sim::testing::{Streaming, TestSim};
use serde_json::Value;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(60);

async fn sim() -> TestSim {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("drain.yaml");
    std::fs::write(&file, MANIFESTS).expect("write the manifests");
    let ts = crate::common::start_full("minimal", SimConfig::default(), vec![file]).await;
    api_ready_on(&ts, NODE).await;
    ts
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// Waits for the two api pods, Ready on `node`; their names.
async fn api_ready_on(ts: &TestSim, node: &str) -> Vec<String> {
    crate::common::watch_until(
        Api::<Pod>::namespaced(ts.client(), NAMESPACE),
        watcher::Config::default().labels("app=api"),
        &format!("2 Ready api pods on {node}"),
        WAIT,
        |pods: &[Arc<Pod>]| {
            let live: Vec<&Arc<Pod>> = pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            let here = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node);
            let ready = |p: &Pod| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            };
            if live.len() == 2 && live.iter().all(|p| here(p) && ready(p)) {
                Ok(live.iter().map(|p| name(p)).collect())
            } else {
                Err(format!("{} live", live.len()))
            }
        },
    )
    .await
}

async fn unschedulable(ts: &TestSim, node: &str) -> String {
    ts.kubectl(&["get", "node", node, "-o", "jsonpath={.spec.unschedulable}"])
        .await
        .ok()
}

async fn uncordon_other(ts: &TestSim) {
    ts.kubectl(&["uncordon", OTHER]).await.ok();
}

async fn set_min_available(ts: &TestSim, n: u32) {
    let patch = format!("{{\"spec\":{{\"minAvailable\":{n}}}}}");
    ts.kubectl(&["patch", "pdb", "api", "-n", NAMESPACE, "-p", &patch])
        .await
        .ok();
}

/// The audit log's records as (action, object, result status).
fn audit(ts: &TestSim) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (s(&r["action"]), s(&r["object"]), s(&r["result"]["status"]))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_prints_the_plan_waits_on_the_budget_and_exits_0_when_done() {
    let ts = sim().await;
    uncordon_other(&ts).await;
    let out = crate::common::kubedeck(&ts, &["drain", NODE, "--ignore-daemonsets", "--yes"]).await;
    assert!(out.success, "{}\n{}", out.stdout, out.stderr);
    let text = &out.stdout;
    for expected in [
        "Drain node/drain-a: cordon it and evict its pods on context kubedeck-sim",
        "  kubectl drain drain-a --ignore-daemonsets --timeout=300s --context kubedeck-sim",
        "  • evicts 2 pods: drain/api-",
        "  • leaves 1 pod (DaemonSet-managed): drain/agent-",
        "  • PodDisruptionBudget drain/api allows 1 disruption now and 2 of its Ready pods are here: the drain waits until replacements are Ready elsewhere",
        "  • service drain/api loses all its 2 Ready endpoints until replacements are Ready on another node",
        "node/drain-a cordoned",
        "waiting on PodDisruptionBudget api: The disruption budget api needs 1 healthy pods and has 1 currently; retrying",
        "node/drain-a drained in ",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let evicted = text.lines().filter(|l| l.ends_with(" evicted")).count();
    let gone = text.lines().filter(|l| l.ends_with(" gone")).count();
    assert_eq!((evicted, gone), (2, 2), "{text}");
    api_ready_on(&ts, OTHER).await;
    assert_eq!(unschedulable(&ts, NODE).await, "true");
    let agents = ts
        .kubectl(&[
            "get",
            "pods",
            "-n",
            NAMESPACE,
            "-l",
            "app=agent",
            "-o",
            "jsonpath={.items[*].spec.nodeName}",
        ])
        .await
        .ok();
    assert!(agents.contains(NODE), "the DaemonSet pod stays: {agents}");
    let records = audit(&ts);
    assert_eq!(
        records.last(),
        Some(&("drain".into(), "node/drain-a".into(), "ok".into())),
        "{records:?}"
    );
    assert_eq!(
        records
            .iter()
            .filter(|(a, _, r)| a == "evict-pod" && r == "ok")
            .count(),
        2,
        "{records:?}"
    );

    let out = crate::common::kubedeck(&ts, &["uncordon", NODE, "--yes"]).await;
    assert!(out.success, "{}", out.stderr);
    assert!(
        out.stdout.contains("node/drain-a uncordoned"),
        "{}",
        out.stdout
    );
    assert_eq!(unschedulable(&ts, NODE).await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_that_allows_nothing_times_out_exits_1_and_completes_once_relaxed() {
    let ts = sim().await;
    uncordon_other(&ts).await;
    set_min_available(&ts, 2).await;
    ts.kubectl(&[
        "wait",
        "pdb/api",
        "-n",
        NAMESPACE,
        "--for=jsonpath={.status.desiredHealthy}=2",
        "--timeout=60s",
    ])
    .await
    .ok();

    let out = crate::common::kubedeck(
        &ts,
        &[
            "drain",
            NODE,
            "--ignore-daemonsets",
            "--yes",
            "--timeout",
            "2s",
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("PodDisruptionBudget drain/api needs all 2 of its pods healthy, so it allows no eviction"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.starts_with("kubedeck: drain of node/drain-a timed out after 2.00s: 0 pods evicted, 2 pods not gone: ")
            && out.stderr.contains("(waiting on PodDisruptionBudget api: The disruption budget api needs 2 healthy pods and has 2 currently)")
            && out.stderr.trim_end().ends_with("node/drain-a stays cordoned"),
        "{}",
        out.stderr
    );
    assert_eq!(unschedulable(&ts, NODE).await, "true");
    api_ready_on(&ts, NODE).await;
    assert!(
        matches!(audit(&ts).last(), Some((a, _, r)) if a == "drain" && r == "failed"),
        "{:?}",
        audit(&ts)
    );

    // With no limit it waits; ctrl-c stops it where it is, audited, and
    // exits 1 with the node still cordoned.
    let stderr = ts.dir.path().join("drain-stderr");
    let mut drain = Streaming::spawn(drain_cmd(&ts, &stderr));
    drain
        .wait_line(WAIT, |l| l.contains("waiting on PodDisruptionBudget api"))
        .await;
    let pid = drain.child.id().expect("the drain runs").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = drain.child.wait().await.expect("the drain exits");
    assert_eq!(status.code(), Some(1), "{}", drain.seen.join("\n"));
    let said = std::fs::read_to_string(&stderr).expect("its stderr");
    assert!(
        said.starts_with("kubedeck: drain of node/drain-a stopped after ")
            && said.trim_end().ends_with("node/drain-a stays cordoned"),
        "{said}"
    );
    assert!(
        matches!(audit(&ts).last(), Some((a, _, r)) if a == "drain" && r == "failed"),
        "{:?}",
        audit(&ts)
    );
    assert_eq!(unschedulable(&ts, NODE).await, "true");

    // Again: it waits and says why; relaxed with kubectl, it completes.
    let mut drain = Streaming::spawn(drain_cmd(&ts, &stderr));
    drain
        .wait_line(WAIT, |l| l.contains("waiting on PodDisruptionBudget api"))
        .await;
    set_min_available(&ts, 1).await;
    drain
        .wait_line(WAIT, |l| l.starts_with("node/drain-a drained in "))
        .await;
    let status = drain.child.wait().await.expect("the drain exits");
    assert!(status.success(), "{:?}\n{}", status, drain.seen.join("\n"));
    api_ready_on(&ts, OTHER).await;
}

/// `kubedeck drain` with no time limit, its stdout piped, its stderr to `stderr`.
fn drain_cmd(ts: &TestSim, stderr: &Path) -> tokio::process::Command {
    let file = std::fs::File::create(stderr).expect("a file for stderr");
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args([
        "drain",
        NODE,
        "--ignore-daemonsets",
        "--yes",
        "--timeout",
        "0s",
    ])
    .env("KUBECONFIG", &ts.kubeconfig)
    .env("HOME", ts.dir.path())
    .env("XDG_DATA_HOME", ts.dir.path().join("data"))
    .env("XDG_CONFIG_HOME", ts.dir.path().join("config"))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(file)
    .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_the_drain_audited_and_nothing_runs_unconfirmed() {
    let ts = sim().await;
    let out = crate::common::kubedeck(&ts, &["drain", NODE, "--readonly", "--yes"]).await;
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr.trim(),
        "kubedeck: refused: context kubedeck-sim is read-only, so nothing was changed"
    );
    assert_eq!(
        audit(&ts),
        vec![("drain".into(), "node/drain-a".into(), "refused".into())]
    );
    // Without --yes and without a terminal, nothing is confirmed.
    let out = crate::common::kubedeck(&ts, &["drain", NODE, "--ignore-daemonsets"]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("refusing to run without confirmation: stdin is not a terminal; pass --yes"),
        "{}",
        out.stderr
    );
    // A pod kubectl would refuse refuses the drain before it cordons.
    let out = crate::common::kubedeck(&ts, &["drain", NODE, "--yes"]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout.contains("the drain will be refused, nothing changes: cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): drain/agent-"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("kubedeck: cannot drain node/drain-a, nothing was changed: cannot delete DaemonSet-managed Pods"),
        "{}",
        out.stderr
    );
    assert_eq!(unschedulable(&ts, NODE).await, "");
    api_ready_on(&ts, NODE).await;

    // A protected context needs the node's name typed, or given.
    let config = ts.dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&config).expect("the config folder");
    std::fs::write(
        config.join("config.toml"),
        "protected-contexts = [\"*sim*\"]\n",
    )
    .expect("write config.toml");
    let out = crate::common::kubedeck(&ts, &["drain", NODE, "--ignore-daemonsets", "--yes"]).await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("context kubedeck-sim is protected: pass --confirm-name drain-a to confirm without a terminal; nothing was done"),
        "{}",
        out.stderr
    );
    assert_eq!(unschedulable(&ts, NODE).await, "");
    let out = crate::common::kubedeck(&ts, &["cordon", NODE, "--confirm-name", NODE]).await;
    assert!(
        out.stdout.contains("node/drain-a cordoned"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(unschedulable(&ts, NODE).await, "true");
}

/// Starts the console in a 160x45 tmux session, in a home of its own.
fn start_console(tmux: &Tmux, home: &Path, kubeconfig: &Path) {
    tmux.start_console(BIN, home, kubeconfig, "", (160, 45));
}

/// kubectl on the `kubedeck sim` process's cluster, run to completion.
fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(kubedeck_sim::testing::KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn r_on_a_node_shows_the_consequences_then_the_drain_to_its_end() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let manifests = dir.path().join("drain.yaml");
    std::fs::write(&manifests, MANIFESTS).expect("write the manifests");
    let manifests = manifests.display().to_string();
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &["--manifests", &manifests]);
    let cache = dir.path().join("kubectl-cache");
    kubectl(
        &kubeconfig,
        &cache,
        &[
            "wait",
            "pods",
            "-n",
            NAMESPACE,
            "-l",
            "app=api",
            "--for=condition=Ready",
            "--timeout=60s",
        ],
    );
    kubectl(&kubeconfig, &cache, &["uncordon", OTHER]);
    let tmux = Tmux {
        socket: format!("kubedeck-drain-{}", std::process::id()),
    };
    let home = dir.path().join("home");
    start_console(&tmux, &home, &kubeconfig);
    let long = Duration::from_secs(30);
    tmux.wait_for("the overview", long, |s| s.contains("Overview(all)"));
    tmux.keys(&[":"]);
    tmux.type_text("nodes");
    tmux.keys(&["Enter"]);
    tmux.keys(&["/"]);
    tmux.type_text(NODE);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the node's row alone", long, |s| {
        s.contains(NODE) && !s.contains(OTHER) && !s.contains("sim-node-1")
    });

    // r, as k9s: kubectl drain's choices.
    tmux.keys(&["r"]);
    tmux.wait_for("the drain's choices", long, |s| {
        s.contains("Drain node/drain-a") && s.contains("ignore DaemonSets") && s.contains("◀ yes ▶")
    });
    tmux.keys(&["Enter"]);
    let dialog = tmux.wait_for("the confirm dialog with the consequences", long, |s| {
        s.contains(
            "kubectl drain drain-a --ignore-daemonsets --timeout=300s --context kubedeck-sim",
        ) && s.contains("service drain/api loses all its 2 Ready endpoints")
    });
    for expected in [
        "Drain node/drain-a: cordon it and evict its pods",
        "• evicts 2 pods: drain/api-",
        "• leaves 1 pod (DaemonSet-managed): drain/agent-",
        "• PodDisruptionBudget drain/api allows 1 disruption now and 2 of its Ready pods are here",
    ] {
        assert!(dialog.contains(expected), "missing {expected:?}:\n{dialog}");
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for("the status line waiting on the budget", long, |s| {
        s.contains("draining node/drain-a: ") && s.contains("waiting on PodDisruptionBudget api")
    });
    let done = tmux.wait_for("the drain's result", long, |s| {
        s.contains("node/drain-a drained in ")
    });
    assert!(
        done.contains("2 pods evicted; left 1 pod on purpose"),
        "{done}"
    );
    assert_eq!(
        kubectl(
            &kubeconfig,
            &cache,
            &["get", "node", NODE, "-o", "jsonpath={.spec.unschedulable}"]
        ),
        "true"
    );
    let audit = std::fs::read_to_string(home.join("data/kubedeck/audit.jsonl"))
        .expect("the drain was audited");
    let actions: Vec<String> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| {
            format!(
                "{} {}",
                r["action"].as_str().unwrap_or(""),
                r["result"]["status"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        actions,
        ["evict-pod ok", "evict-pod ok", "drain ok"],
        "{audit}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", long, |s| s.contains("EXITED 0"));
}
