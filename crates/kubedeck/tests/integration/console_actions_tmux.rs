//! End to end, by keys: the real binary in tmux against `kubedeck sim`.
//! Set the web Deployment's image to one that cannot be pulled, see the
//! rollout stall with its reason, roll back to the previous revision from
//! the history, and see every pod Ready on the old image again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::tmux::{self, BIN, Sim, Tmux};
use serde_json::Value;
const KUBECTL: &str = "/usr/bin/kubectl";
const OLD_IMAGE: &str = "registry.example/web:1.0.0";
const BAD_IMAGE: &str = "registry.example/web:notfound";

fn start_sim(dir: &Path, extra: &[&str]) -> (Sim, PathBuf) {
    tmux::start_sim(dir, extra)
}

/// The demo namespace's live pods: (name, image, ready).
fn pods(kubeconfig: &Path, cache: &Path) -> Vec<(String, String, bool)> {
    let out = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(["get", "pods", "-n", "demo", "-o", "json"])
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl get pods failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("kubectl prints JSON");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                ready,
            )
        })
        .collect()
}

/// Starts the console in a 160x45 tmux session with `args`, in a home of
/// its own so that no user config leaks in and the audit log lands in
/// `home/data`.
fn start_console(tmux: &Tmux, home: &Path, kubeconfig: &Path, args: &str) {
    tmux.start_console(BIN, home, kubeconfig, args, (160, 45));
}

/// Goes to the workloads view and narrows it to the web Deployment.
fn select_web(tmux: &Tmux, timeout: Duration) {
    tmux.wait_for("the overview", timeout, |s| s.contains("Overview(all)"));
    tmux.keys(&["2"]);
    tmux.wait_for("the web deployment", timeout, |s| {
        s.lines()
            .any(|l| l.contains("web") && l.contains("Deployment") && l.contains("2/2"))
    });
    tmux.keys(&["/"]);
    tmux.type_text("web");
    tmux.keys(&["Enter"]);
}

#[test]
fn set_a_bad_image_see_the_stall_and_roll_back_by_keys() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = start_sim(dir.path(), &[]);
    let kubectl_cache = dir.path().join("kubectl-cache");
    let tmux = Tmux {
        socket: format!("kubedeck-actions-{}", std::process::id()),
    };
    let home = dir.path().join("home");
    start_console(&tmux, &home, &kubeconfig, "");
    let long = Duration::from_secs(30);
    let slow = Duration::from_secs(90);
    select_web(&tmux, long);

    // i: the image form, focused on the image, prefilled with the current one.
    tmux.keys(&["i"]);
    tmux.wait_for("the image form", long, |s| {
        s.contains("Set image of deployment/web") && s.contains(OLD_IMAGE)
    });
    for _ in 0..OLD_IMAGE.len() {
        tmux.keys(&["BSpace"]);
    }
    tmux.type_text(BAD_IMAGE);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the confirm dialog with the exact command", long, |s| {
        s.contains(&format!(
            "kubectl set image deployment/web web={BAD_IMAGE} -n demo --context"
        )) && s.contains("all 2 pods will be replaced by a rolling update")
    });
    tmux.keys(&["Enter"]);
    let stalled = tmux.wait_for("the rollout to stall with its reason", slow, |s| {
        s.contains("Rollout deployment/web in demo")
            && (s.contains("STALLED: ImagePullBackOff") || s.contains("STALLED: ErrImagePull"))
    });
    assert!(
        stalled.contains(&format!("({BAD_IMAGE})")),
        "the stuck pod's image is named:\n{stalled}"
    );

    // u: the history, with the previous revision chosen and the diff shown.
    tmux.keys(&["u"]);
    tmux.wait_for("the history with the template diff", long, |s| {
        s.contains("History deployment/web in demo")
            && s.contains("2 (current)")
            && s.lines().any(|l| l.contains("▶  1 "))
            && s.contains(&format!("-   - image: {BAD_IMAGE}"))
            && s.contains(&format!("+   - image: {OLD_IMAGE}"))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the rollback's confirm dialog", long, |s| {
        s.contains("Roll deployment/web back from revision 2 to 1")
            && s.contains("kubectl rollout undo deployment/web --to-revision=1 -n demo")
    });
    tmux.keys(&["Enter"]);

    let deadline = Instant::now() + slow;
    loop {
        let now = pods(&kubeconfig, &kubectl_cache);
        if now.len() == 2
            && now
                .iter()
                .all(|(_, image, ready)| image == OLD_IMAGE && *ready)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pods never came back Ready on {OLD_IMAGE}: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let done = tmux.wait_for("the console to show the rollout complete", long, |s| {
        s.contains("Rollout deployment/web in demo") && s.contains("rollout complete")
    });
    assert!(!done.contains("STALLED"), "{done}");
    assert!(
        done.contains("rolled back"),
        "the status line has the executor's message:\n{done}"
    );

    let audit = std::fs::read_to_string(home.join("data/kubedeck/audit.jsonl"))
        .expect("the actions were audited");
    let actions: Vec<String> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| r["action"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(actions, ["set-image", "rollback"], "{audit}");

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", long, |s| s.contains("EXITED 0"));
}

#[test]
fn the_viewer_sees_actions_unavailable_and_read_only_refuses_them() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = start_sim(dir.path(), &["--auth", "tokens"]);
    let long = Duration::from_secs(30);
    let tmux = Tmux {
        socket: format!("kubedeck-viewer-{}", std::process::id()),
    };
    let home = dir.path().join("home");
    start_console(&tmux, &home, &kubeconfig, "--context kubedeck-sim-viewer");
    select_web(&tmux, long);
    tmux.keys(&["r"]);
    tmux.wait_for(
        "the restart marked unavailable with the reason",
        long,
        |s| {
            s.contains("Restart deployment/web (rolling)")
                && s.contains(
                    "not allowed: RBAC does not let you patch deployments.apps in namespace demo",
                )
        },
    );
    // Forced: the API server refuses, and says so.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the 403 in the status line", long, |s| {
        s.lines().last().is_some_and(|l| l.starts_with("forbidden: you may not patch deployments.apps in namespace demo; nothing was changed"))
    });
    assert!(!screen.contains("Rollout deployment/web"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", long, |s| s.contains("EXITED 0"));
    tmux.cmd(&["kill-session", "-t", "t"]);

    // Read-only: refused before any dialog; the header says so.
    start_console(&tmux, &home, &kubeconfig, "--readonly");
    select_web(&tmux, long);
    tmux.keys(&["s"]);
    let screen = tmux.wait_for("the refusal", long, |s| {
        s.contains("refused: context kubedeck-sim is read-only, so nothing was changed")
    });
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.contains("[read-only]")),
        "{screen}"
    );
    assert!(
        !screen.contains("Scale deployment/web"),
        "no dialog opens:\n{screen}"
    );
    // The forced attempt is audited as denied, the read-only refusal as
    // refused (written in the background: wait for it).
    let path = home.join("data/kubedeck/audit.jsonl");
    let deadline = std::time::Instant::now() + long;
    let records: Vec<Value> = loop {
        let audit = std::fs::read_to_string(&path).unwrap_or_default();
        let records: Vec<Value> = audit
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        if records.len() >= 2 || std::time::Instant::now() > deadline {
            break records;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["result"]["status"], "denied", "{records:?}");
    assert_eq!(records[1]["result"]["status"], "refused", "{records:?}");
    assert_eq!(records[1]["result"]["reason"], "read-only", "{records:?}");
    assert_eq!(records[1]["object"], "deployment/web", "{records:?}");
    assert_eq!(records[1]["action"], "scale", "{records:?}");
}
