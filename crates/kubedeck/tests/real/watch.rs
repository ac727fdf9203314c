//! Watch semantics on a real server: the console keeps up across a
//! kube-apiserver restart (etcd keeps the data; resourceVersions go on), and
//! across one after which its resourceVersions are compacted away (410
//! Gone): it relists and converges, with no key pressed and no restart.

use std::time::Duration;

use kubedeck_sim::testing::tmux::{Tmux, require_tmux};

use crate::cluster::Cluster;

const LONG: Duration = Duration::from_secs(90);

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: app, image: registry.example/{name}:1}}]\n"
    )
}

fn shows(screen: &str, name: &str) -> bool {
    screen
        .lines()
        .any(|l| l.split_whitespace().any(|w| w == name))
}

pub async fn the_console_converges_after_an_apiserver_restart_and_a_compaction(
    c: &'static Cluster,
) {
    require_tmux();
    let ns = c.namespace("real-watch").await;
    c.apply(&ns, &deployment("before")).await;
    let home = tempfile::tempdir().expect("temporary home");
    let tmux = Tmux::new("real-watch");
    tmux.start_console(
        env!("CARGO_BIN_EXE_kubedeck"),
        home.path(),
        &c.kubeconfig(),
        &format!("-n {ns}"),
        (160, 45),
    );
    tmux.wait_for("the console", LONG, |s| s.contains("Overview("));
    tmux.keys(&[":"]);
    tmux.type_text("deploy");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first deployment", LONG, |s| shows(s, "before"));

    // A plain restart: the watches resume from their resourceVersions.
    c.restart_apiserver(async {}).await;
    c.apply(&ns, &deployment("second")).await;
    c.kubectl(&["delete", "deployment", "before", "-n", &ns])
        .await
        .ok();
    tmux.wait_for("the changes after a restart", LONG, |s| {
        shows(s, "second") && !shows(s, "before")
    });

    // A restart after which the console's resourceVersions are compacted:
    // its resumed watches get 410 Gone and must relist.
    c.restart_apiserver(async {
        let revision = c.etcd_write().await;
        c.etcd_compact(revision).await;
    })
    .await;
    c.apply(&ns, &deployment("third")).await;
    c.kubectl(&["delete", "deployment", "second", "-n", &ns])
        .await
        .ok();
    let screen = tmux.wait_for("the changes after a compaction", LONG, |s| {
        shows(s, "third") && !shows(s, "second")
    });
    assert!(!shows(&screen, "before"), "no ghost rows:\n{screen}");

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", LONG, |s| s.contains("EXITED 0"));
}
