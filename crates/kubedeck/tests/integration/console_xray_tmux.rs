//! End to end, by keys: `:xray deploy myfin-api -n myfin` on the seed
//! simulator draws the owner tree (ReplicaSet, pods, containers, the
//! Service and the HPA), `/` and Enter work on it, and a rollout started
//! with kubectl shows up in the tree with no key pressed: the new
//! ReplicaSet, its pods replacing the old ones, the old one scaled down.

use std::time::Duration;

use kubedeck_sim::config::SimConfig;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(90);

fn command(tmux: &Tmux, line: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(line);
    tmux.keys(&["Enter"]);
}

/// The tree's lines naming `node` (`rs/myfin-api-`, `container/api`).
fn nodes<'a>(screen: &'a str, node: &str) -> Vec<&'a str> {
    screen.lines().filter(|l| l.contains(node)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xray_draws_a_deployments_tree_and_follows_a_rollout_live() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    let tmux = Tmux::new("xray");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (160, 45));
        tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
        command(&tmux, "xray deploy myfin-api -n myfin");
        let screen = tmux.wait_for("the tree of myfin-api", WAIT, |s| {
            let rs = nodes(s, "rs/myfin-api-");
            rs.len() == 1
                && rs[0].contains("current")
                && rs[0].contains("myfin-api:6.5.1")
                && nodes(s, "pod/myfin-api-").len() == 2
                && nodes(s, "container/api").len() == 2
        });
        assert!(screen.contains("Xray deploy/myfin-api(myfin)"), "{screen}");
        assert!(screen.contains("│deploy/myfin-api"), "{screen}");
        assert!(screen.contains("├─ rs/myfin-api-"), "{screen}");
        assert!(screen.contains("│  │  └─ container/api"), "{screen}");
        assert!(screen.contains("├─ svc/myfin-api"), "{screen}");
        assert!(screen.contains("└─ hpa/myfin-api-hpa"), "{screen}");

        // `/` keeps a match with its branch; Esc clears it.
        tmux.keys(&["/"]);
        tmux.type_text("hpa");
        tmux.keys(&["Enter"]);
        tmux.wait_for("the HPA with its Deployment", WAIT, |s| {
            s.contains("</hpa>")
                && s.contains("└─ hpa/myfin-api-hpa")
                && nodes(s, "container/api").is_empty()
        });
        tmux.keys(&["Escape"]);
        tmux.wait_for("the whole tree again", WAIT, |s| {
            nodes(s, "container/api").len() == 2
        });
        // Enter on the root describes the Deployment; Esc comes back.
        tmux.keys(&["Enter"]);
        tmux.wait_for("the Deployment described", WAIT, |s| {
            s.contains("describe deployment/myfin-api") && s.contains("2 desired")
        });
        tmux.keys(&["Escape"]);
        tmux.wait_for("the tree again", WAIT, |s| {
            nodes(s, "container/api").len() == 2
        });
    });

    ts.kubectl(&[
        "set",
        "image",
        "-n",
        "myfin",
        "deployment/myfin-api",
        "api=ghcr.io/afaneca/myfin-api:6.5.2",
    ])
    .await
    .ok();

    tokio::task::block_in_place(|| {
        let screen = tmux.wait_for("the new ReplicaSet, current", WAIT, |s| {
            nodes(s, "rs/myfin-api-")
                .iter()
                .any(|l| l.contains("current") && l.contains("rev 2 · afaneca/myfin-api:6.5.2"))
        });
        assert!(
            nodes(&screen, "rs/myfin-api-")
                .iter()
                .any(|l| l.contains("old") && l.contains("myfin-api:6.5.1")),
            "the old ReplicaSet stays in the tree:\n{screen}"
        );
        let done = tmux.wait_for("the new pods in place of the old", WAIT, |s| {
            let containers = nodes(s, "container/api");
            containers.len() == 2
                && containers
                    .iter()
                    .all(|l| l.contains("Running") && l.contains("myfin-api:6.5.2"))
                && nodes(s, "rs/myfin-api-")
                    .iter()
                    .any(|l| l.contains("old") && l.contains("0/0"))
        });
        // The new ReplicaSet is listed first, newest revision on top.
        let rs = nodes(&done, "rs/myfin-api-");
        assert!(rs[0].contains("rev 2") && rs[0].contains("2/2"), "{done}");
        tmux.keys(&["q"]);
    });
}
