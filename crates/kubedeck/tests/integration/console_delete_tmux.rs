//! End to end, by keys: delete works on any resource. A ConfigMap is
//! deleted from `:cm` through the cascade form and the confirm dialog
//! (kubectl's line and what goes with it shown), the row goes when the
//! watch says so, kubectl finds it gone and the audit log has it; in
//! read-only mode the same key is refused, audited, and nothing goes.

use std::path::Path;
use std::time::Duration;

use kubedeck_sim::config::SimConfig;
use serde_json::Value;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(60);

fn command(tmux: &Tmux, line: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(line);
    tmux.keys(&["Enter"]);
}

/// The table's row naming `name`, if shown.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.split_whitespace()
            .any(|w| w == name || w == format!("│{name}"))
    })
}

/// `:cm`, narrowed to `name`.
fn select_configmap(tmux: &Tmux, name: &str) {
    tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
    command(tmux, "cm");
    tmux.wait_for("the ConfigMap listed", WAIT, |s| {
        s.contains("configmaps(all)") && row(s, name).is_some()
    });
    tmux.keys(&["/"]);
    tmux.type_text(name);
    tmux.keys(&["Enter"]);
    tmux.wait_for("only that ConfigMap", WAIT, |s| {
        s.contains("configmaps(all)[1]")
    });
}

/// The audit log's records, once there are `n` of them.
async fn audit_records(home: &Path, n: usize) -> Vec<Value> {
    let path = home.join("data/kubedeck/audit.jsonl");
    kubedeck_sim::testing::wait_until(&format!("{n} audit records"), WAIT, || async {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let records: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if records.len() >= n {
            Ok(records)
        } else {
            Err(text)
        }
    })
    .await
}

async fn configmap_exists(ts: &crate::common::TestSim, name: &str) -> bool {
    let out = ts
        .kubectl(&["get", "configmap", name, "-n", "demo", "-o", "name"])
        .await;
    if !out.success {
        assert!(out.stderr.contains("NotFound"), "{}", out.stderr);
    }
    out.success
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_is_deleted_through_the_dialog_and_read_only_refuses_it() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    for name in ["doomed", "kept"] {
        ts.kubectl(&[
            "create",
            "configmap",
            name,
            "-n",
            "demo",
            "--from-literal=a=1",
        ])
        .await
        .ok();
    }
    let tmux = Tmux::new("delete");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (160, 45));
        select_configmap(&tmux, "doomed");
        tmux.keys(&["C-d"]);
        tmux.wait_for("the cascade form, background first", WAIT, |s| {
            s.contains("Delete configmap/doomed") && s.contains("background")
        });
        tmux.keys(&["Enter"]);
        let dialog = tmux.wait_for("the confirm dialog, with what goes", WAIT, |s| {
            s.contains("kubectl delete configmap/doomed -n demo --cascade=background --context")
                && s.contains(
                    "configmap/doomed owns no pods, replicasets, jobs or other kinds checked",
                )
        });
        assert!(
            row(&dialog, "doomed").is_some(),
            "the row stays until confirmed:\n{dialog}"
        );
        tmux.keys(&["Enter"]);
        tmux.wait_for("the result, and the row gone with the watch", WAIT, |s| {
            s.contains("configmap/doomed deleted") && row(s, "doomed").is_none()
        });
    });
    assert!(
        !configmap_exists(&ts, "doomed").await,
        "kubectl finds it gone"
    );
    let records = audit_records(&home, 1).await;
    assert_eq!(
        (
            records[0]["action"].as_str(),
            records[0]["object"].as_str(),
            records[0]["namespace"].as_str(),
            records[0]["result"]["status"].as_str(),
        ),
        (
            Some("delete"),
            Some("configmap/doomed"),
            Some("demo"),
            Some("ok")
        ),
        "{records:?}"
    );

    tokio::task::block_in_place(|| {
        tmux.keys(&["q"]);
        tmux.wait_for("the console to exit", WAIT, |s| s.contains("EXITED 0"));
        tmux.cmd(&["kill-session", "-t", "t"]);
        tmux.start_console(BIN, &home, &kubeconfig, "--readonly", (160, 45));
        select_configmap(&tmux, "kept");
        tmux.keys(&["C-d"]);
        let screen = tmux.wait_for("the refusal", WAIT, |s| {
            s.contains("refused: context kubedeck-sim is read-only, so nothing was changed")
        });
        assert!(
            !screen.contains("Delete configmap/kept"),
            "no form opens:\n{screen}"
        );
    });
    let records = audit_records(&home, 2).await;
    assert_eq!(
        (
            records[1]["action"].as_str(),
            records[1]["object"].as_str(),
            records[1]["result"]["status"].as_str(),
            records[1]["result"]["reason"].as_str(),
        ),
        (
            Some("delete"),
            Some("configmap/kept"),
            Some("refused"),
            Some("read-only")
        ),
        "{records:?}"
    );
    assert!(configmap_exists(&ts, "kept").await, "nothing was deleted");
    tokio::task::block_in_place(|| {
        tmux.keys(&["q"]);
        tmux.wait_for("the console to exit", WAIT, |s| s.contains("EXITED 0"));
    });
}
