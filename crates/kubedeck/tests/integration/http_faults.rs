//! The console through an HTTP fault proxy in front of a simulated cluster,
//! in tmux: the answers a failing API server gives rather than a broken
//! network (`faults.rs`). 500s on every request bring the banner over the
//! last data; 503s on every second request still let the screen reach the
//! server's truth; a 410 on a resumed watch makes the console relist, so a
//! change it could not have watched shows and nothing deleted stays. Retries
//! stay bounded and the console quits to a sane terminal.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use kubedeck_sim::testing::http_fault_proxy::{Fault, HttpFaultProxy};
use kubedeck_sim::testing::{self, TestSim};
use tokio::runtime::Runtime;

use crate::tmux::{self, BIN, Tmux};

const LONG: Duration = Duration::from_secs(60);
const BANNER: &str = "API server not responding since";
/// Requests in any one second, well above what a console that backs off
/// sends (one session of list and watch per kind, paced) and far below a
/// loop that retries at once.
const BURST: usize = 40;
/// Errors to serve before a fault clears: about three per watched kind.
const ERRORS: usize = 40;

/// The overview lists a namespace as a row of its own.
fn lists(screen: &str, ns: &str) -> bool {
    screen.lines().any(|l| l.contains(&format!("│{ns} ")))
}

/// The screen shows the cluster after the change: `born`, no `doomed`.
fn truth(screen: &str) -> bool {
    lists(screen, "born") && !lists(screen, "doomed")
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

/// A simulator with a namespace `doomed`, the HTTP proxy in front of it,
/// and the console in tmux on the proxy, showing the overview.
struct Rig {
    tag: String,
    tmux: Tmux,
    proxy: HttpFaultProxy,
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
            let upstream = kube::Config::new(ts.url().parse().expect("the sim's URL"));
            let proxy = HttpFaultProxy::start(upstream).await;
            (ts, proxy)
        });
        let kubeconfig = proxy.kubeconfig(ts.dir.path());
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

    /// `doomed` goes, `born` comes, behind the proxy.
    fn change(&self) {
        self.rt.block_on(async {
            create_ns(&self.ts, "born").await;
            delete_ns(&self.ts, "doomed").await;
        });
    }

    /// The screen still shows the cluster before the change.
    fn assert_last_data(&self, why: &str) {
        let screen = self.tmux.screen();
        assert!(
            lists(&screen, "doomed") && !lists(&screen, "born"),
            "the last data stays while {why}:\n{screen}"
        );
    }

    /// Waits for the server's truth without the banner; prints the figures
    /// since `from` for the README (--nocapture) and checks the rate of
    /// requests since `start` was bounded.
    fn converged(&self, start: Instant, from: Instant, what: &str) {
        self.tmux
            .wait_for("the server's truth, without the banner", LONG, |s| {
                !s.contains(BANNER) && truth(s)
            });
        let burst = self.proxy.max_per_second(start);
        println!(
            "http fault {}: converged {:.1} s after {what}; at most {burst} requests/s; {} requests in all, {} errors injected, {} 410s",
            self.tag,
            from.elapsed().as_secs_f64(),
            self.proxy.requests(),
            self.proxy.statuses_served(),
            self.proxy.gone_served(),
        );
        assert!(burst <= BURST, "{burst} requests in one second: a hot loop");
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
fn console_rides_out_500s_on_every_request() {
    let rig = Rig::start("http500");
    let start = Instant::now();
    rig.proxy.set_fault(Fault::Status {
        code: 500,
        every: 1,
    });
    let screen = rig
        .tmux
        .wait_for("the banner", LONG, |s| s.contains(BANNER));
    assert!(
        screen.contains(", retrying") && lists(&screen, "doomed"),
        "the banner, over the last data:\n{screen}"
    );
    rig.change();
    // Every kind fails a few times over: the back-off, not one failure,
    // is what is measured.
    rig.rt.block_on(rig.proxy.until_statuses(ERRORS, LONG));
    rig.assert_last_data("every request fails");
    rig.proxy.set_fault(Fault::Pass);
    rig.converged(start, Instant::now(), "the 500s stopped");
    rig.quit();
}

#[test]
fn console_converges_while_every_second_request_fails_with_503() {
    let rig = Rig::start("http503");
    let start = Instant::now();
    // Setting it cuts the open watches: every kind lists again through it.
    rig.proxy.set_fault(Fault::Status {
        code: 503,
        every: 2,
    });
    rig.change();
    let changed = Instant::now();
    rig.tmux
        .wait_for("the server's truth through the 503s", LONG, truth);
    let burst = rig.proxy.max_per_second(start);
    println!(
        "http fault 503 on every 2nd request: converged {:.1} s after the change, the fault still on; at most {burst} requests/s; {} 503s",
        changed.elapsed().as_secs_f64(),
        rig.proxy.statuses_served(),
    );
    assert!(rig.proxy.statuses_served() > 0, "the 503s were served");
    assert!(burst <= BURST, "{burst} requests in one second: a hot loop");
    rig.proxy.set_fault(Fault::Pass);
    rig.converged(start, Instant::now(), "the 503s stopped");
    rig.quit();
}

#[test]
fn console_relists_after_a_410_on_a_watch_resume() {
    let rig = Rig::start("http410");
    let start = Instant::now();
    // The namespaces' watch resumes when its window ends; the proxy holds
    // it, so the console has no watch of namespaces while they change.
    rig.proxy.expire_next_watch("/api/v1/namespaces");
    rig.rt.block_on(rig.proxy.until_expiring(LONG));
    rig.change();
    rig.assert_last_data("the namespaces' watch is held");
    let released = Instant::now();
    rig.proxy.release_expired();
    rig.converged(start, released, "the 410");
    assert_eq!(rig.proxy.gone_served(), 1, "one 410 was served");
    rig.quit();
}
