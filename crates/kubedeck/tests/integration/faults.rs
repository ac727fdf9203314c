//! The console through a fault proxy in front of a simulated cluster, in
//! tmux: whatever the fault (a hung server, refused connections, answers
//! cut, a restart with other contents), the banner says the API server is
//! not answering while the last data stays on screen, the screen converges
//! to the server's truth once the fault clears, retries stay bounded, and
//! the console still quits to a sane terminal.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use kubedeck_sim::testing::fault_proxy::{FaultProxy, Mode};
use kubedeck_sim::testing::{self, TestSim};
use tokio::runtime::Runtime;

use crate::tmux::{self, BIN, Tmux};

const LONG: Duration = Duration::from_secs(60);
const BANNER: &str = "API server not responding since";

/// The overview lists a namespace as a row of its own.
fn lists(screen: &str, ns: &str) -> bool {
    screen.lines().any(|l| l.contains(&format!("│{ns} ")))
}

async fn create_ns(ts: &TestSim, name: &str) {
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))
        .expect("a namespace");
    Api::<Namespace>::all(ts.client())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create the namespace");
}

async fn delete_ns(ts: &TestSim, name: &str) {
    let api = Api::<Namespace>::all(ts.client());
    api.delete(name, &DeleteParams::default())
        .await
        .expect("delete the namespace");
    testing::wait_until(&format!("namespace {name} gone"), LONG, || async {
        match api.get_opt(name).await {
            Ok(None) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// A simulator with a namespace `doomed`, a proxy in front of it, and the
/// console in tmux on the proxy, showing the overview.
struct Rig {
    tag: String,
    tmux: Tmux,
    proxy: FaultProxy,
    ts: TestSim,
    // Last: the sim's and the proxy's tasks run on it until they drop.
    rt: Runtime,
}

impl Rig {
    fn start(tag: &str) -> Rig {
        tmux::require_tmux();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let (ts, proxy) = rt.block_on(async {
            let ts = testing::start().await;
            create_ns(&ts, "doomed").await;
            let proxy = FaultProxy::start(ts.sim.addr).await;
            (ts, proxy)
        });
        let kubeconfig = proxy.kubeconfig(&ts.kubeconfig, &ts.url(), ts.dir.path());
        let tmux = Tmux::new(tag);
        tmux.start_console(BIN, ts.dir.path(), &kubeconfig, "", (160, 45));
        tmux.wait_for("the overview with doomed", LONG, |s| {
            s.contains("Overview(all)") && lists(s, "doomed")
        });
        Rig {
            tag: tag.to_string(),
            tmux,
            proxy,
            ts,
            rt,
        }
    }

    /// Injects a fault; waits for the banner; changes the cluster behind
    /// it (`doomed` goes, `born` comes); clears the fault and waits for the
    /// screen to show the change.
    fn outage(&self, fault: impl FnOnce(&FaultProxy), clear: impl FnOnce(&FaultProxy)) {
        let start = Instant::now();
        fault(&self.proxy);
        let screen = self
            .tmux
            .wait_for("the banner", LONG, |s| s.contains(BANNER));
        assert!(
            screen.contains(", retrying") && lists(&screen, "doomed"),
            "the banner, over the last data:\n{screen}"
        );
        self.rt.block_on(async {
            create_ns(&self.ts, "born").await;
            delete_ns(&self.ts, "doomed").await;
        });
        self.converge(start, clear);
    }

    /// Clears the fault and waits for the screen to catch up with a
    /// cluster that has `born` and no `doomed`.
    fn converge(&self, start: Instant, clear: impl FnOnce(&FaultProxy)) {
        let screen = self.tmux.screen();
        assert!(
            lists(&screen, "doomed") && !lists(&screen, "born"),
            "the last data stays while the server is away:\n{screen}"
        );
        clear(&self.proxy);
        let cleared = Instant::now();
        self.tmux
            .wait_for("the server's truth, without the banner", LONG, |s| {
                !s.contains(BANNER) && lists(s, "born") && !lists(s, "doomed")
            });
        let burst = self.proxy.max_per_second(start);
        // Figures for the README's Reliability section (--nocapture).
        println!(
            "fault {}: converged {:.1} s after it cleared; at most {burst} connections/s; {} connections in all",
            self.tag,
            cleared.elapsed().as_secs_f64(),
            self.proxy.connections()
        );
        assert!(burst <= 20, "{burst} connections in one second: a hot loop");
    }

    /// Quits and checks the console left a sane terminal behind.
    fn quit(&self) {
        self.tmux.keys(&["q"]);
        let screen = self
            .tmux
            .wait_for("the console to exit", LONG, |s| s.contains("EXITED 0"));
        assert!(!screen.contains("panicked"), "{screen}");
        assert!(
            !self.tmux.alternate_screen(),
            "the alternate screen is gone"
        );
        let stty = self
            .tmux
            .wait_for("stty's settings", LONG, |s| s.contains("icanon"));
        assert!(
            stty.contains(" icanon") && stty.contains(" echo ") && !stty.contains("-icanon"),
            "cooked mode with echo:\n{stty}"
        );
    }
}

#[test]
fn console_survives_a_hung_api_server() {
    let rig = Rig::start("hang");
    rig.outage(|p| p.set_mode(Mode::Hang), |p| p.set_mode(Mode::Pass));
    rig.quit();
}

#[test]
fn console_survives_refused_connections() {
    let rig = Rig::start("refuse");
    rig.outage(|p| p.set_mode(Mode::Refuse), |p| p.set_mode(Mode::Pass));
    rig.quit();
}

#[test]
fn console_survives_cut_streams() {
    let rig = Rig::start("cut");
    rig.outage(|p| p.set_mode(Mode::Cut), |p| p.set_mode(Mode::Pass));
    rig.quit();
}

#[test]
fn console_follows_a_restart_to_a_server_with_other_contents() {
    let rig = Rig::start("restart");
    let start = Instant::now();
    rig.proxy.set_mode(Mode::Refuse);
    rig.tmux.wait_for("the banner", LONG, |s| {
        s.contains(BANNER) && lists(s, "doomed")
    });
    // The server comes back empty of `doomed`, with `born`: another store
    // behind the same address.
    let fresh = rig.rt.block_on(async {
        let fresh = testing::start().await;
        create_ns(&fresh, "born").await;
        fresh
    });
    rig.converge(start, |p| {
        p.switch_upstream(fresh.sim.addr);
        p.set_mode(Mode::Pass);
    });
    rig.quit();
    drop(fresh);
}
