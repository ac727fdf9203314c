//! The console through an HTTP fault proxy in front of the real API server
//! (`kubedeck_sim::testing::http_fault_proxy`, whose client does the TLS
//! and the credentials): a hung server, 500s on every request and answers
//! cut bring the banner over the last data, and once the fault clears the
//! screen shows what changed meanwhile; a 410 on a resumed watch makes the
//! console relist, with no ghost row. Retries stay bounded. The change is
//! made with the server's own kubectl, straight to the server.

use std::time::{Duration, Instant};

use kube::config::KubeConfigOptions;
use kubedeck_core::connect::read_kubeconfig_file;
use kubedeck_sim::testing::http_fault_proxy::{Fault, HttpFaultProxy};
use kubedeck_sim::testing::tmux::{Tmux, require_tmux};
use tempfile::TempDir;

use crate::cluster::Cluster;

const LONG: Duration = Duration::from_secs(90);
const BANNER: &str = "API server not responding since";
/// Requests in any one second, well above what a console that backs off
/// sends (one session of list and watch per kind, paced) and far below a
/// loop that retries at once.
const BURST: usize = 40;
/// Errors to serve before a fault clears: about three per watched kind.
const ERRORS: usize = 40;

fn service(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  ports: [{{port: 80}}]\n"
    )
}

/// A row of the services view names `name`.
fn shows(screen: &str, name: &str) -> bool {
    screen.lines().any(|l| {
        l.split(|c: char| c.is_whitespace() || c == '│')
            .any(|w| w == name)
    })
}

/// The screen shows the namespace after the change: `born`, no `doomed`.
fn truth(screen: &str) -> bool {
    shows(screen, "born") && !shows(screen, "doomed")
}

/// A namespace of the test's own with a Service `doomed`, the proxy in
/// front of the real server, and the console on the proxy in tmux,
/// limited to the namespace and showing its services.
struct Rig {
    c: &'static Cluster,
    tag: &'static str,
    ns: String,
    proxy: HttpFaultProxy,
    tmux: Tmux,
    _home: TempDir,
}

impl Rig {
    async fn start(c: &'static Cluster, tag: &'static str) -> Rig {
        require_tmux();
        let ns = c.namespace(&format!("real-fault-{tag}")).await;
        c.apply(&ns, &service("doomed")).await;
        let kubeconfig = read_kubeconfig_file(Some(&c.kubeconfig()))
            .await
            .expect("the testbed's kubeconfig");
        let upstream =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("a client config for the testbed");
        let proxy = HttpFaultProxy::start(upstream).await;
        let home = tempfile::tempdir().expect("temporary home");
        let tmux = Tmux::new(&format!("real-fault-{tag}"));
        tmux.start_console(
            env!("CARGO_BIN_EXE_kubedeck"),
            home.path(),
            &proxy.kubeconfig(home.path()),
            &format!("-n {ns}"),
            (160, 45),
        );
        tmux.wait_for("the console", LONG, |s| s.contains("Overview("));
        tmux.keys(&[":"]);
        tmux.type_text("svc");
        tmux.keys(&["Enter"]);
        tmux.wait_for("the service doomed", LONG, |s| {
            s.contains(&format!("Services({ns})")) && shows(s, "doomed")
        });
        Rig {
            c,
            tag,
            ns,
            proxy,
            tmux,
            _home: home,
        }
    }

    /// `doomed` goes, `born` comes, straight to the server.
    async fn change(&self) {
        self.c.apply(&self.ns, &service("born")).await;
        self.c
            .kubectl(&["delete", "service", "doomed", "-n", &self.ns])
            .await
            .ok();
    }

    fn assert_last_data(&self, why: &str) {
        let screen = self.tmux.screen();
        assert!(
            shows(&screen, "doomed") && !shows(&screen, "born"),
            "the last data stays while {why}:\n{screen}"
        );
    }

    /// Injects a fault; waits for the banner over the last data; changes
    /// the namespace behind it; clears the fault and waits for the truth.
    async fn outage(&self, fault: Fault) {
        let start = Instant::now();
        self.proxy.set_fault(fault);
        let screen = self
            .tmux
            .wait_for("the banner", LONG, |s| s.contains(BANNER));
        assert!(
            screen.contains(", retrying") && shows(&screen, "doomed"),
            "the banner, over the last data:\n{screen}"
        );
        self.change().await;
        if matches!(fault, Fault::Status { .. }) {
            // Every kind fails a few times over: the back-off, not one
            // failure, is what is measured.
            self.proxy.until_statuses(ERRORS, LONG).await;
        }
        self.assert_last_data("the server is away");
        self.proxy.set_fault(Fault::Pass);
        self.converged(start, Instant::now(), "the fault cleared");
    }

    /// Waits for the server's truth without the banner; prints the figures
    /// (--nocapture) and checks the rate of requests since `start`.
    fn converged(&self, start: Instant, from: Instant, what: &str) {
        self.tmux
            .wait_for("the server's truth, without the banner", LONG, |s| {
                !s.contains(BANNER) && truth(s)
            });
        let burst = self.proxy.max_per_second(start);
        println!(
            "real http fault {}: converged {:.1} s after {what}; at most {burst} requests/s; {} requests in all, {} errors injected, {} 410s",
            self.tag,
            from.elapsed().as_secs_f64(),
            self.proxy.requests(),
            self.proxy.statuses_served(),
            self.proxy.gone_served(),
        );
        assert!(burst <= BURST, "{burst} requests in one second: a hot loop");
    }

    fn quit(&self) {
        self.tmux.keys(&["q"]);
        let screen = self
            .tmux
            .wait_for("the console to exit", LONG, |s| s.contains("EXITED 0"));
        assert!(!screen.contains("panicked"), "{screen}");
        let stty = self
            .tmux
            .wait_for("stty's settings", LONG, |s| s.contains("icanon"));
        assert!(
            stty.contains(" icanon") && stty.contains(" echo ") && !stty.contains("-icanon"),
            "cooked mode with echo:\n{stty}"
        );
    }
}

pub async fn a_hung_api_server_brings_the_banner_and_the_console_converges_after(
    c: &'static Cluster,
) {
    let rig = Rig::start(c, "hang").await;
    rig.outage(Fault::Hang).await;
    rig.quit();
}

pub async fn answers_of_500_bring_the_banner_and_the_console_converges_after(c: &'static Cluster) {
    let rig = Rig::start(c, "http500").await;
    rig.outage(Fault::Status {
        code: 500,
        every: 1,
    })
    .await;
    assert!(rig.proxy.statuses_served() > 0, "the 500s were served");
    rig.quit();
}

pub async fn cut_answers_bring_the_banner_and_the_console_converges_after(c: &'static Cluster) {
    let rig = Rig::start(c, "cut").await;
    rig.outage(Fault::Cut).await;
    rig.quit();
}

pub async fn a_410_on_a_resumed_watch_makes_the_console_relist(c: &'static Cluster) {
    let rig = Rig::start(c, "gone").await;
    let start = Instant::now();
    // The services' watch resumes when its window ends; the proxy holds it,
    // so the console has no watch of services while they change.
    rig.proxy
        .expire_next_watch(&format!("/api/v1/namespaces/{}/services", rig.ns));
    rig.proxy.until_expiring(LONG).await;
    rig.change().await;
    rig.assert_last_data("the services' watch is held");
    let released = Instant::now();
    rig.proxy.release_expired();
    rig.converged(start, released, "the 410");
    assert_eq!(rig.proxy.gone_served(), 1, "one 410 was served");
    rig.quit();
}
