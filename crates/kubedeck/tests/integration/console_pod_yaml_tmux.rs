//! End to end: the console caches a projection of pods, so a pod's YAML
//! pane fetches the full object from the API; fields the cache drops show
//! up once it arrives.

use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

#[test]
fn a_pods_yaml_shows_fields_the_cache_does_not_keep() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &[]);
    let tmux = Tmux::new("podyaml");
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
        "70",
        "sh",
        "-c",
        &script,
    ]);
    let long = Duration::from_secs(30);
    tmux.wait_for("the overview", long, |s| s.contains("Overview(all)"));
    tmux.keys(&["1"]);
    tmux.wait_for("running pods", long, |s| s.contains(" Running "));
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the full pod's YAML", long, |s| {
        s.contains("yaml pod/") && s.contains("dnsPolicy: ClusterFirst")
    });
    assert!(
        !screen.contains("# loading…"),
        "the loading note is gone once the pod arrived:\n{screen}"
    );
    assert!(
        !screen.contains("managedFields"),
        "the YAML leaves out managedFields as before:\n{screen}"
    );
    tmux.escape();
    tmux.wait_for("the pods table again", long, |s| {
        !s.contains("yaml pod/") && s.contains(" Running ")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("a clean exit", long, |s| s.contains("EXITED 0"));
}
