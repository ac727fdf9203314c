//! `-A` against a context whose config names a namespace: the flag wins,
//! as kubectl's `-A` does over the kubeconfig context's namespace.

use std::path::Path;
use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

/// The console in a tmux session of its own, with `args`, in a home whose
/// config gives the sim's context the namespace `demo`.
fn console(home: &Path, kubeconfig: &Path, tag: &str, args: &str) -> Tmux {
    let tmux = Tmux::new(tag);
    let script = format!(
        "HOME={home} XDG_CONFIG_HOME={home}/config KUBECONFIG={kc} {BIN} {args}; sleep 600",
        home = home.display(),
        kc = kubeconfig.display(),
    );
    tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "140",
        "-y",
        "30",
        "sh",
        "-c",
        &script,
    ]);
    tmux
}

#[test]
fn all_namespaces_overrides_the_contexts_configured_namespace() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &[]);
    let config = dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "[contexts.kubedeck-sim]\nnamespace = \"demo\"\n",
    )
    .expect("config.toml");
    let long = Duration::from_secs(30);

    // Without the flag the context's namespace applies: the config is read.
    let scoped = console(dir.path(), &kubeconfig, "ns-ctx", "");
    scoped.wait_for("the console scoped to demo", long, |s| {
        s.contains("ns: demo") && s.contains("Overview(demo)")
    });

    let all = console(dir.path(), &kubeconfig, "ns-all", "-A");
    let screen = all.wait_for("the console on every namespace", long, |s| {
        s.contains("Overview(all)")
    });
    assert!(screen.contains("ns: all"), "{screen}");
}
