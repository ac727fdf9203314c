//! End to end: the log view of the real binary in tmux, streaming a
//! workload's pods from `kubedeck sim`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

/// The pods whose log lines containing `needle` are on screen.
fn pods_with(screen: &str, needle: &str) -> BTreeSet<String> {
    screen
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            l.trim_start_matches('│')
                .split_whitespace()
                .next()
                .filter(|w| w.starts_with("web-"))
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn a_workloads_log_shows_its_pods_filters_saves_and_quits_cleanly() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &[]);
    let tmux = Tmux::new("logs");
    tmux.start_console(BIN, dir.path(), &kubeconfig, "", (160, 45));
    let long = Duration::from_secs(30);
    tmux.wait_for("the overview", long, |s| s.contains("Overview(all)"));

    tmux.keys(&["2"]);
    tmux.keys(&["/"]);
    tmux.type_text("web");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the web Deployment, selected", long, |s| {
        s.contains("Workloads(all)[1] </web>")
            && s.lines()
                .any(|l| l.contains(" web ") && l.contains("Deployment"))
    });
    tmux.keys(&["l"]);
    let screen = tmux.wait_for("request lines from both web pods", long, |s| {
        s.contains("Logs deploy/web") && pods_with(s, "GET /").len() == 2
    });
    assert!(
        screen.contains("<logs deploy/web>"),
        "the breadcrumb names the log view:\n{screen}"
    );

    tmux.keys(&["&"]);
    tmux.type_text("listening");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("only the matching lines", long, |s| {
        s.contains("filter \"listening\"")
            && !s.contains("GET /")
            && pods_with(s, "listening on :8080").len() == 2
    });
    for line in screen.lines().filter(|l| l.starts_with("│web-")) {
        assert!(
            line.contains("listening") || line.contains("» "),
            "a line the filter should hide: {line}"
        );
    }

    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("the save to finish", long, |s| s.contains("saved "));
    let logs_dir = dir.path().join("data/kubedeck/logs");
    let saved: Vec<_> = std::fs::read_dir(&logs_dir)
        .unwrap_or_else(|e| panic!("{}: {e}\n{screen}", logs_dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let text = std::fs::read_to_string(&saved[0]).expect("the saved log reads");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() >= 2 && lines.iter().all(|l| l.contains("listening on :8080")),
        "the filtered lines, prefixed with pod and container: {text}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", long, |s| s.contains("EXITED 0"));
    assert!(
        !tmux.alternate_screen(),
        "the alternate screen is gone after quitting"
    );
}
