//! End to end, by keys: the real binary in tmux on `kubedeck demo` (the
//! seed platforms, myfin-api with two replicas behind its Service). The
//! "Failover demo" runbook runs to its gate, is answered, and ends with the
//! recovery timeline on screen: PASS, at least one Ready endpoint all along.
//! Then a recovery test started from the workload row shows its live
//! timeline and verdict, and `:recovery` brings it back after Esc.

use std::path::Path;
use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

/// Starts `kubedeck demo` in a 160x60 tmux session, in a home of its own so
/// that no user config leaks in and reports land in `home/data`.
fn start_demo(tmux: &Tmux, home: &Path) {
    let script = format!(
        "HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data {bin} demo; echo EXITED $?; sleep 600",
        home = home.display(),
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
        "60",
        "sh",
        "-c",
        &script,
    ]);
}

fn command(tmux: &Tmux, line: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(line);
    tmux.keys(&["Enter"]);
}

/// The number after `minimum ` on the timeline's endpoint line.
fn minimum_endpoints(screen: &str) -> u32 {
    let line = screen
        .lines()
        .find(|l| l.contains("ready endpoints") && l.contains("minimum"))
        .unwrap_or_else(|| panic!("no endpoint line on the screen:\n{screen}"));
    let after = line.split("minimum ").nth(1).unwrap_or_default();
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no minimum in {line:?}"))
}

fn files_in(dir: &Path, ext: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(ext))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_failover_demo_runbook_ends_with_the_recovery_timeline_on_screen() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    let tmux = Tmux::new("runbook");
    start_demo(&tmux, &home);
    let long = Duration::from_secs(120);
    tmux.wait_for("the overview", long, |s| s.contains("Overview(all)"));

    command(&tmux, "runbooks");
    tmux.wait_for("the runbook list", long, |s| {
        s.contains("Runbooks[") && s.contains("failover-demo")
    });
    // Shipped order: high-error-rate, pod-crash-loop, failover-demo.
    tmux.keys(&["j", "j", "Enter"]);
    // Its variables first, with their defaults: Enter keeps them.
    tmux.wait_for("the variables dialog", long, |s| {
        s.contains("Runbook failover-demo") && s.contains("deployment  myfin-api")
    });
    tmux.keys(&["Enter"]);
    // A frame may reach the terminal in parts: wait for the steps too.
    let pane = tmux.wait_for("the failover runbook", long, |s| {
        s.contains("Runbook failover-demo — Failover demo")
            && s.contains("Kill a pod and time the recovery")
    });
    assert!(pane.contains("deployment=myfin-api"), "{pane}");
    assert!(pane.contains("Kill a pod and time the recovery"), "{pane}");

    // Runs until the confirm step, which asks in a dialog; the show step
    // has opened the pods of myfin-api on the way.
    tmux.keys(&["a"]);
    let asked = tmux.wait_for("the gate's question", long, |s| {
        s.contains("Kill one pod of deployment/myfin-api?")
    });
    assert!(asked.contains("-l app=myfin-api"), "{asked}");
    // Yes; `a` goes on to the next gate: the action asks too, as the
    // console's own actions do.
    tmux.keys(&["Enter"]);
    let asked = tmux.wait_for("the action's question", long, |s| {
        s.contains("Run: recovery test: kill one pod of deployment/myfin-api")
    });
    assert!(asked.contains("SLO 30"), "{asked}");
    tmux.keys(&["Enter"]);
    // Esc clears the show step's filter, Esc again is back on the runbook.
    tmux.escape();
    tmux.escape();
    let end = tmux.wait_for("the runbook's end", long, |s| {
        s.contains("runbook succeeded") || s.contains("runbook failed") || s.contains("aborted")
    });
    assert!(end.contains("runbook succeeded"), "{end}");
    // The last frame may still be reaching the terminal.
    let end = tmux.wait_for("the whole timeline", Duration::from_secs(10), |s| {
        s.contains("PASS  every pod serving again") && s.contains("in service endpoints")
    });
    assert!(end.contains("Recovery timeline"), "{end}");
    assert!(end.contains("PASS  every pod serving again"), "{end}");
    assert!(minimum_endpoints(&end) >= 1, "{end}");
    for milestone in ["delete sent", "replacement created", "in service endpoints"] {
        let line = end
            .lines()
            .find(|l| l.contains(milestone))
            .unwrap_or_else(|| panic!("no {milestone} line:\n{end}"));
        assert!(line.contains('+'), "{milestone} has an offset: {line}");
    }
    let data = home.join("data/kubedeck");
    assert!(
        files_in(&data.join("runs"), ".md")
            .iter()
            .any(|n| n.starts_with("failover-demo")),
        "an incident log was written"
    );
    assert!(
        !files_in(&data.join("reports"), ".md").is_empty(),
        "the recovery report was saved"
    );

    // The same test from the workload row.
    tmux.keys(&["2"]);
    tmux.wait_for("the workloads", long, |s| s.contains("Workloads(all)"));
    tmux.keys(&["/"]);
    tmux.type_text("myfin-api");
    tmux.keys(&["Enter"]);
    tmux.wait_for("myfin-api Ready again", long, |s| {
        s.lines()
            .any(|l| l.contains("myfin-api") && l.contains("Deployment") && l.contains("2/2"))
    });
    tmux.keys(&["x"]);
    tmux.wait_for("the recovery form", long, |s| {
        s.contains("Recovery test of deployment/myfin-api") && s.contains("one random pod")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the confirmation", long, |s| s.contains("start the test"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the live timeline", long, |s| {
        s.contains("Recovery test of deployment/myfin-api in myfin") && s.contains("delete sent")
    });
    let done = tmux.wait_for("the verdict", long, |s| {
        s.contains("PASS  every pod") || s.contains("FAIL")
    });
    assert!(done.contains("PASS  every pod serving again"), "{done}");
    assert!(minimum_endpoints(&done) >= 1, "{done}");
    tmux.escape();
    tmux.wait_for("the workloads again", long, |s| {
        s.contains("Workloads(all)")
    });
    command(&tmux, "recovery");
    tmux.wait_for("the timeline again", long, |s| {
        s.contains("PASS  every pod")
    });
}
