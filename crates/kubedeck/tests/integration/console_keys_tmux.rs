//! End to end, by keys: k9s's direct sort keys, the faults-only toggle,
//! the scrolling help, Tab's candidates, the overview's cluster health and
//! the mouse in the real console against the simulator. A Deployment is made to
//! crash-loop with kubectl (named to sort after web by name); Shift-R puts its pod first, again last, and `z`
//! leaves only it, the title saying so.

use std::time::Duration;

use kubedeck_sim::config::SimConfig;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(60);

/// The pod rows on screen, top to bottom: (name, restarts).
fn pod_rows(screen: &str) -> Vec<(String, u32)> {
    screen
        .lines()
        .filter_map(|l| {
            let words: Vec<&str> = l
                .split(|c: char| c.is_whitespace() || c == '│')
                .filter(|w| !w.is_empty())
                .collect();
            let i = words
                .iter()
                .position(|w| w.starts_with("web-") || w.starts_with("wobbly-"))?;
            // NAME READY STATUS RESTARTS
            let restarts = words.get(i + 3)?.parse().ok()?;
            Some((words[i].to_string(), restarts))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_r_sorts_by_restarts_and_z_shows_only_the_crash_loop() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    ts.kubectl(&[
        "-n",
        "demo",
        "create",
        "deployment",
        "wobbly",
        "--image=registry.example/wobbly:1.0",
    ])
    .await
    .ok();
    let tmux = Tmux::new("sortfaults");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "-n demo", (160, 45));
        tmux.keys(&["1"]);
        tmux.wait_for("web's and wobbly's pods running", WAIT, |s| {
            let rows = pod_rows(s);
            rows.iter().any(|(n, _)| n.starts_with("wobbly-"))
                && rows.iter().any(|(n, _)| n.starts_with("web-"))
                && s.lines().filter(|l| l.contains("Running")).count() == rows.len()
        });
    });
    ts.kubectl(&[
        "-n",
        "demo",
        "set",
        "image",
        "deployment/wobbly",
        "wobbly=registry.example/wobbly:crashloop",
    ])
    .await
    .ok();
    tokio::task::block_in_place(|| {
        // The new pod crash-loops; the old one stays, as the rollout waits.
        tmux.keys(&["R"]);
        let screen = tmux.wait_for("the crash loop first, by restarts", WAIT, |s| {
            pod_rows(s)
                .first()
                .is_some_and(|(n, r)| n.starts_with("wobbly-") && *r > 0)
        });
        let rows = pod_rows(&screen);
        let looping = rows[0].0.clone();
        assert!(
            rows[1..].iter().all(|(_, r)| *r <= rows[0].1),
            "not by restarts, most first:\n{screen}"
        );
        assert!(screen.contains("RESTARTS↓"), "{screen}");

        tmux.keys(&["R"]);
        let screen = tmux.wait_for("the crash loop last, reversed", WAIT, |s| {
            pod_rows(s).last().is_some_and(|(n, _)| *n == looping)
        });
        assert!(screen.contains("RESTARTS↑"), "{screen}");

        tmux.keys(&["z"]);
        let screen = tmux.wait_for("only the crash-looping pod", WAIT, |s| {
            s.contains("<faults only>")
                && pod_rows(s)
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    == [looping.as_str()]
        });
        assert!(screen.contains("Pods(demo)[1] <faults only>"), "{screen}");
        tmux.keys(&["z"]);
        tmux.wait_for("every pod again", WAIT, |s| {
            !s.contains("<faults only>") && pod_rows(s).len() >= 3
        });
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_scrolls_tab_shows_candidates_and_a_typo_gets_suggestions() {
    tmux::require_tmux();
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let tmux = Tmux::new("help");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (100, 30));
        tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
        tmux.keys(&["?"]);
        let top = tmux.wait_for("help at its top", WAIT, |s| {
            s.contains("Help: rows 1-") && s.contains("── Navigate")
        });
        assert!(!top.contains(":backups"), "{top}");
        for _ in 0..4 {
            tmux.keys(&["PageDown"]);
        }
        let end = tmux.wait_for("the commands, scrolled to", WAIT, |s| {
            s.contains(":backups (backup, bk)")
        });
        assert!(!end.contains("Help: rows 1-"), "{end}");
        tmux.escape();
        tmux.wait_for("help closed", WAIT, |s| !s.contains("Help: rows"));

        // Tab completes what the candidates share and shows them.
        tmux.keys(&[":"]);
        tmux.type_text("ba");
        tmux.keys(&["Tab"]);
        let screen = tmux.wait_for("the candidates", WAIT, |s| {
            s.lines().any(|l| l.contains("│backups"))
        });
        assert!(screen.contains(":backup"), "{screen}");
        tmux.keys(&["Tab", "Tab", "Enter"]);
        tmux.wait_for("the backups view", WAIT, |s| s.contains("Backups("));

        // An unknown command names the closest ones.
        tmux.keys(&[":"]);
        tmux.type_text("pdos");
        tmux.keys(&["Enter"]);
        tmux.wait_for("a suggestion", WAIT, |s| s.contains("did you mean :pods"));

        // A theme by name, completed; the runtime loads it.
        tmux.keys(&[":"]);
        tmux.type_text("theme li");
        tmux.keys(&["Tab"]);
        tmux.wait_for("the theme completed", WAIT, |s| s.contains(":theme light"));
        tmux.keys(&["Enter"]);
        tmux.wait_for("the theme drawn with", WAIT, |s| {
            s.lines().last().is_some_and(|l| l.contains("theme light"))
        });
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_failing_shows_on_the_overview_with_no_key_pressed() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let tmux = Tmux::new("nodedown");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (160, 45));
        // The latency comes with the first watch request's answer.
        let screen = tmux.wait_for("the overview's health line", WAIT, |s| {
            s.contains("API ok") && s.contains(" ms  ·  nodes 3/3 Ready")
        });
        assert!(screen.contains("Overview(all)["), "{screen}");
        assert!(screen.contains("worst first"), "{screen}");
        assert!(
            !screen.contains("NAMESPACE↑"),
            "no order it does not have:\n{screen}"
        );
    });
    ts.kubectl(&[
        "annotate",
        "node",
        "sim-node-2",
        "sim.kubedeck.io/node-failure=true",
    ])
    .await
    .ok();
    tokio::task::block_in_place(|| {
        tmux.wait_for("the failed node named", WAIT, |s| {
            s.contains("nodes 2/3 Ready, NotReady: sim-node-2")
        });
    });
    ts.kubectl(&["cordon", "sim-node-3"]).await.ok();
    tokio::task::block_in_place(|| {
        tmux.wait_for("the cordoned node named", WAIT, |s| {
            s.contains("NotReady: sim-node-2, cordoned: sim-node-3")
        });
    });
}

/// `n` left clicks at the screen line `row` (0-based), as an xterm sends
/// them with SGR mouse reporting (press, release), in one write: a double
/// click reaches the console as one, however busy the machine.
fn click(tmux: &Tmux, row: usize, n: usize) {
    let at = row + 1;
    let once = format!("\x1b[<0;12;{at}M\x1b[<0;12;{at}m");
    tmux.cmd(&["send-keys", "-t", "t", "-l", &once.repeat(n)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_selects_a_row_and_a_second_click_opens_it() {
    tmux::require_tmux();
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let tmux = Tmux::new("mouse");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "-n demo", (120, 30));
        tmux.keys(&["1"]);
        let screen = tmux.wait_for("web's two pods", WAIT, |s| {
            s.lines().filter(|l| l.contains("web-")).count() == 2
        });
        let (row, line) = screen
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("web-"))
            .last()
            .expect("a pod row");
        let name = line
            .split(|c: char| c.is_whitespace() || c == '│')
            .find(|w| w.starts_with("web-"))
            .expect("its name")
            .to_string();
        // The second row: a click selects it, as d on it shows.
        click(&tmux, row, 1);
        tmux.keys(&["d"]);
        tmux.wait_for("the clicked pod described", WAIT, |s| {
            s.contains(&format!("describe {name}"))
        });
        tmux.escape();
        tmux.wait_for("the pods again", WAIT, |s| s.contains("Pods(demo)"));
        // Clicked twice: it opens, as Enter does (the pod's containers).
        click(&tmux, row, 2);
        tmux.wait_for("the pod opened", WAIT, |s| {
            s.contains("Containers") && s.contains(&name)
        });
    });
}
