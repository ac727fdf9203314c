//! The demo's platforms on the real cluster: the simulator's seed manifests,
//! applied by kubectl, run under the real controllers, and the console
//! shows them.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_sim::testing::tmux::{Tmux, require_tmux};
use kubedeck_sim::testing::watch_until;

use crate::cluster::{Cluster, WAIT};

pub async fn the_seed_applies_and_the_console_shows_its_platforms(c: &'static Cluster) {
    let status = std::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbed/real-cluster"),
    )
    .args(["seed", "--kubeconfig"])
    .arg(c.kubeconfig())
    .status()
    .expect("run testbed/real-cluster seed");
    assert!(
        status.success(),
        "every seed manifest applies to the real API"
    );

    // The real ReplicaSet controller, scheduler and kwok bring myfin up.
    let deployments: Api<Deployment> = Api::namespaced(c.client().await, "myfin");
    watch_until(
        deployments,
        watcher::Config::default(),
        "myfin's Deployments available",
        WAIT,
        |ds: &[Arc<Deployment>]| {
            let short: Vec<String> = ds
                .iter()
                .filter(|d| {
                    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                    d.status
                        .as_ref()
                        .and_then(|s| s.available_replicas)
                        .unwrap_or(0)
                        < want
                })
                .filter_map(|d| d.metadata.name.clone())
                .collect();
            if !ds.is_empty() && short.is_empty() {
                Ok(())
            } else {
                Err(format!("short: {short:?}"))
            }
        },
    )
    .await;

    require_tmux();
    let home = tempfile::tempdir().expect("temporary home");
    let tmux = Tmux::new("real-seed");
    tmux.start_console(
        env!("CARGO_BIN_EXE_kubedeck"),
        home.path(),
        &c.kubeconfig(),
        "",
        (160, 45),
    );
    tmux.wait_for(
        "the seed's platforms on the overview",
        Duration::from_secs(60),
        |s| {
            ["myfin", "selfmonitor", "user-whisperer", "migrate-platform"]
                .iter()
                .all(|ns| s.lines().any(|l| l.split(['│', ' ']).any(|w| w == *ns)))
        },
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", Duration::from_secs(30), |s| {
        s.contains("EXITED 0")
    });
}
