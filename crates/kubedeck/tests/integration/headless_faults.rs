//! Headless commands through a fault proxy in front of a simulated cluster.
//! A change whose answer is lost is read back: found made, it is reported
//! done (exit 0), saying it was confirmed by reading it back; found not
//! made, failed (exit 1) with nothing changed; unreadable, "outcome
//! unknown" (exit 5, a runbook stopped by one too). The audit log records
//! the same. Read-only commands under a refusing, hung or cutting server
//! fail naming the API server, in bounded time.
//!
//! A gate between the proxy and the simulator holds one request (the
//! change) until the test has set the fault, so that the fault hits that
//! request and not the reads before it; the requests after it wait until
//! the test opens the gate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::Api;
use kube::api::{ListParams, PostParams};
use kubedeck_core::actions::{AuditLog, AuditResult, Record};
use kubedeck_sim::testing::fault_proxy::{FaultProxy, Mode};
use kubedeck_sim::testing::{self, Out, TestSim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

const WAIT: Duration = Duration::from_secs(60);
const CRONJOB: &str = "shop-backup";
/// Request lines of changes.
const WRITES: &[&str] = &["POST ", "PUT ", "PATCH ", "DELETE "];

/// What the gate's connections share.
struct Shared {
    /// Prefixes of the request line to hold; the first match is held.
    hold: &'static [&'static str],
    held: AtomicBool,
    events: mpsc::UnboundedSender<String>,
    /// Whether the held request goes on (true) or is dropped (false).
    verdict: watch::Receiver<Option<bool>>,
    open: watch::Receiver<bool>,
}

impl Shared {
    /// Whether the request starting with `line` goes on, once it may.
    async fn admit(&self, line: &str) -> bool {
        let matches = self.hold.iter().any(|p| line.starts_with(p));
        if matches && !self.held.swap(true, Ordering::SeqCst) {
            let _ = self.events.send(line.to_string());
            let mut verdict = self.verdict.clone();
            return verdict
                .wait_for(Option::is_some)
                .await
                .map(|v| *v == Some(true))
                .unwrap_or(false);
        }
        if self.held.load(Ordering::SeqCst) {
            let mut open = self.open.clone();
            let _ = open.wait_for(|o| *o).await;
        }
        true
    }
}

struct Gate {
    addr: SocketAddr,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    verdict: watch::Sender<Option<bool>>,
    open: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Gate {
    async fn start(upstream: SocketAddr, hold: &'static [&'static str]) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("the gate's address");
        let (events_tx, events) = mpsc::unbounded_channel();
        let (verdict, verdict_rx) = watch::channel(None);
        let (open, open_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            hold,
            held: AtomicBool::new(false),
            events: events_tx,
            verdict: verdict_rx,
            open: open_rx,
        });
        let task = tokio::spawn(async move {
            let mut relays = JoinSet::new();
            loop {
                tokio::select! {
                    conn = listener.accept() => {
                        let Ok((client, _)) = conn else { continue };
                        relays.spawn(relay(client, upstream, shared.clone()));
                    }
                    Some(_) = relays.join_next(), if !relays.is_empty() => {}
                }
            }
        });
        Gate {
            addr,
            events: tokio::sync::Mutex::new(events),
            verdict,
            open,
            task,
        }
    }

    /// Waits for the held request; its request line.
    async fn held(&self) -> String {
        let mut events = self.events.lock().await;
        tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("the request to hold within a minute")
            .expect("the gate runs")
    }

    /// Lets the held request reach the server.
    fn forward(&self) {
        self.verdict.send_replace(Some(true));
    }

    /// Drops the held request: the server never sees it.
    fn drop_request(&self) {
        self.verdict.send_replace(Some(false));
    }

    /// Lets the requests after the held one through.
    fn open(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // The accept loop owns the relays, and they their answer pipes.
        self.task.abort();
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `METHOD path HTTP/1.1` when `chunk` starts a request. Without
/// pipelining, a client sends a request only after the last answer, so a
/// request starts a chunk.
fn request_line(chunk: &[u8]) -> Option<String> {
    let end = chunk.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&chunk[..end]).ok()?;
    let (method, rest) = line.split_once(' ')?;
    let is_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    (is_method && rest.ends_with(" HTTP/1.1")).then(|| line.to_string())
}

async fn relay(client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let Ok(upstream) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    // Answers are read to their end even once the client is gone, so that
    // a change forwarded after the client's connection broke is made.
    let mut answers = AbortOnDrop(tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut client_gone = false;
        while let Ok(n @ 1..) = ur.read(&mut buf).await {
            if !client_gone {
                client_gone = cw.write_all(&buf[..n]).await.is_err();
            }
        }
    }));
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = cr.read(&mut buf).await {
        let chunk = &buf[..n];
        if let Some(line) = request_line(chunk)
            && !shared.admit(&line).await
        {
            return;
        }
        if uw.write_all(chunk).await.is_err() {
            return;
        }
    }
    // The client left: the server's side stays open until it has answered.
    let _ = (&mut answers.0).await;
}

/// A simulator with a suspended backup CronJob in `default`, a gate in
/// front of it and a fault proxy in front of the gate, and a kubeconfig
/// for the proxy.
struct Rig {
    // Dropped first: the proxy and the gate, then the simulator.
    proxy: FaultProxy,
    gate: Gate,
    kubeconfig: PathBuf,
    ts: TestSim,
}

impl Rig {
    async fn start(hold: &'static [&'static str]) -> Rig {
        let ts = testing::start().await;
        let cronjob: CronJob = serde_json::from_value(serde_json::json!({
            "metadata": {"name": CRONJOB, "namespace": "default"},
            "spec": {
                "schedule": "0 2 * * *",
                // Only the test's runs make Jobs.
                "suspend": true,
                "jobTemplate": {"spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "backup", "image": "postgres:16.4",
                                    "command": ["/bin/sh", "-c", "echo backup complete"]}]
                }}}}
            }
        }))
        .expect("a CronJob");
        Api::<CronJob>::namespaced(ts.client(), "default")
            .create(&PostParams::default(), &cronjob)
            .await
            .expect("create the CronJob");
        let gate = Gate::start(ts.sim.addr, hold).await;
        let proxy = FaultProxy::start(gate.addr).await;
        let kubeconfig = proxy.kubeconfig(&ts.kubeconfig, &ts.url(), ts.dir.path());
        Rig {
            proxy,
            gate,
            kubeconfig,
            ts,
        }
    }

    /// Runs kubedeck on the proxied kubeconfig.
    async fn kubedeck(&self, args: &[&str]) -> Out {
        let kubeconfig = self.kubeconfig.to_str().expect("a UTF-8 path");
        let mut all = args.to_vec();
        all.extend(["--kubeconfig", kubeconfig]);
        crate::common::kubedeck(&self.ts, &all).await
    }

    async fn backup_run(&self) -> Out {
        self.kubedeck(&[
            "backup",
            "run",
            &format!("cronjob/{CRONJOB}"),
            "-n",
            "default",
        ])
        .await
    }

    /// The Jobs of `default`, read straight from the simulator.
    async fn jobs(&self) -> Vec<String> {
        Api::<Job>::namespaced(self.ts.client(), "default")
            .list(&ListParams::default())
            .await
            .expect("list the Jobs")
            .items
            .into_iter()
            .filter_map(|j| j.metadata.name)
            .collect()
    }

    /// Waits until the server has made the backup's Job; its name.
    async fn made_job(&self) -> String {
        testing::wait_until("the server to make the Job", WAIT, || async {
            match self.jobs().await.as_slice() {
                [one] => Ok(one.clone()),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    fn audit(&self) -> Vec<Record> {
        let log = AuditLog::new(self.ts.dir.path().join("data/kubedeck/audit.jsonl"));
        let contents = log.read().expect("read the audit log");
        assert!(contents.bad_lines.is_empty(), "{:?}", contents.bad_lines);
        contents.records
    }

    /// The one action the audit log holds.
    fn audited(&self) -> AuditResult {
        let records = self.audit();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].action, "trigger-cronjob");
        records[0].result.clone()
    }
}

fn printed(out: &Out) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.code, out.stdout, out.stderr
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_answer_is_cut_is_read_back_and_reported_done() {
    let rig = Rig::start(WRITES).await;
    let (out, job) = tokio::join!(rig.backup_run(), async {
        let request = rig.gate.held().await;
        assert!(
            request.starts_with("POST /apis/batch/v1/namespaces/default/jobs"),
            "{request}"
        );
        // The change reaches the server; its answer breaks.
        rig.proxy.set_mode(Mode::Cut);
        rig.gate.forward();
        let job = rig.made_job().await;
        // The fault clears before the read back is answered.
        rig.proxy.set_mode(Mode::Pass);
        rig.gate.open();
        job
    });
    assert_eq!(out.code, Some(0), "{}", printed(&out));
    assert!(
        out.stdout.contains(&format!(
            "job/{job} created from cronjob/{CRONJOB}: confirmed by reading it back (job/{job} exists) after the API server's answer was lost ("
        )),
        "{}",
        printed(&out)
    );
    assert!(
        out.stderr
            .contains("reading it back to see whether the change was made"),
        "says what it does: {}",
        printed(&out)
    );
    assert_eq!(rig.audited(), AuditResult::Ok);
    assert_eq!(rig.jobs().await, [job], "made once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_refused_on_the_way_is_read_back_and_reported_not_done() {
    let rig = Rig::start(WRITES).await;
    let (out, ()) = tokio::join!(rig.backup_run(), async {
        rig.gate.held().await;
        // The change's connection is reset and the change never arrives.
        rig.proxy.set_mode(Mode::Refuse);
        rig.gate.drop_request();
        rig.proxy.set_mode(Mode::Pass);
        rig.gate.open();
    });
    assert_eq!(out.code, Some(1), "{}", printed(&out));
    assert!(
        out.stderr
            .contains("kubedeck: not done: the API server's answer was lost (")
            && out
                .stderr
                .contains("shows the change was not made (job/shop-backup-manual-")
            && out.stderr.contains(" does not exist)"),
        "{}",
        printed(&out)
    );
    assert!(!out.stdout.contains("created"), "{}", printed(&out));
    assert_eq!(rig.jobs().await, Vec::<String>::new(), "nothing was made");
    assert!(
        matches!(rig.audited(), AuditResult::Failed { message } if message.starts_with("not done: ")),
        "{:?}",
        rig.audit()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cannot_be_read_back_is_reported_unknown() {
    let rig = Rig::start(WRITES).await;
    let (out, job) = tokio::join!(rig.backup_run(), async {
        rig.gate.held().await;
        rig.proxy.set_mode(Mode::Cut);
        rig.gate.forward();
        let job = rig.made_job().await;
        // The reads back reach the server; their answers break too.
        rig.gate.open();
        job
    });
    assert_eq!(out.code, Some(5), "{}", printed(&out));
    assert!(
        out.stderr
            .contains("kubedeck: outcome unknown: the API server's answer was lost (")
            && out.stderr.contains(&format!(
                "and job/{job} could not be read back (4 attempts, the last: "
            ))
            && out.stderr.contains(&format!(
                "the change may or may not have been made: check job/{job} before trying again"
            )),
        "{}",
        printed(&out)
    );
    assert!(
        out.stderr.contains("trying again in"),
        "the retries are said: {}",
        printed(&out)
    );
    assert!(!out.stdout.contains("created"), "{}", printed(&out));
    // It was made: kubedeck said it could not tell, not that it failed.
    assert_eq!(rig.jobs().await, std::slice::from_ref(&job));
    assert!(
        matches!(rig.audited(), AuditResult::Unknown { message } if message.contains(&format!("job/{job} could not be read back"))),
        "{:?}",
        rig.audit()
    );
}

/// `backup list` (and `chaos pod-kill` before it acts) against a server
/// in `mode` from the start: exit 1, the API server named, nothing audited.
async fn read_only_fails(mode: Mode, cause: &str) {
    let rig = Rig::start(&[]).await;
    rig.proxy.set_mode(mode);
    let server = format!(
        "cannot reach the API server at http://{}/ (context \"kubedeck-sim\")",
        rig.proxy.addr()
    );
    for args in [
        &["backup", "list"][..],
        &["chaos", "pod-kill", "deployment/web", "-n", "demo", "--yes"],
    ] {
        let out = rig.kubedeck(args).await;
        assert_eq!(out.code, Some(1), "{args:?}: {}", printed(&out));
        assert!(
            out.stderr.contains(&server) && out.stderr.contains(cause),
            "{args:?}: {}",
            printed(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", printed(&out));
    }
    assert!(rig.audit().is_empty(), "nothing was attempted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_fail_clearly_when_the_server_refuses() {
    read_only_fails(Mode::Refuse, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_fail_clearly_when_the_answers_break() {
    read_only_fails(Mode::Cut, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_give_up_on_a_hung_server() {
    read_only_fails(Mode::Hang, "no answer in 10s").await;
}

/// A server that stops answering after the connection check: the list
/// gives up with the API server named, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_gives_up_on_a_server_that_hangs_mid_command() {
    let rig = Rig::start(&["GET /apis/batch/v1/cronjobs"]).await;
    let (out, ()) = tokio::join!(rig.kubedeck(&["backup", "list"]), async {
        rig.gate.held().await;
        // The list reaches the server; its answer freezes in the proxy.
        rig.proxy.set_mode(Mode::Hang);
        rig.gate.forward();
        rig.gate.open();
    });
    assert_eq!(out.code, Some(1), "{}", printed(&out));
    assert!(
        out.stderr.contains(
            "kubedeck: the API server of context kubedeck-sim stopped answering: no answer within 30.00s while listing the backup CronJobs; nothing was changed"
        ),
        "{}",
        printed(&out)
    );
}

/// A runbook's action whose outcome is unknown stops the run with exit 5,
/// not 1: the scale may have been made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_stopped_by_an_unknown_outcome_exits_5() {
    let rig = Rig::start(WRITES).await;
    let runbook = rig.ts.write_file(
        "scale.yaml",
        "title: Scale web\nnamespace: demo\nsteps:\n  - id: scale\n    name: Scale web to 3\n    action:\n      scale: {target: \"deployment/web\", replicas: \"3\"}\n",
    );
    let runbook = runbook.to_str().expect("a UTF-8 path");
    let deployments = Api::<Deployment>::namespaced(rig.ts.client(), "demo");
    let args = ["runbook", "run", runbook, "--yes"];
    let (out, ()) = tokio::join!(rig.kubedeck(&args), async {
        let request = rig.gate.held().await;
        assert!(
            request.starts_with("PATCH /apis/apps/v1/namespaces/demo/deployments/web/scale"),
            "{request}"
        );
        rig.proxy.set_mode(Mode::Cut);
        rig.gate.forward();
        testing::wait_until("the server to scale web to 3", WAIT, || async {
            let replicas = deployments
                .get("web")
                .await
                .map_err(|e| e.to_string())?
                .spec
                .and_then(|s| s.replicas);
            if replicas == Some(3) {
                Ok(())
            } else {
                Err(format!("{replicas:?} replicas"))
            }
        })
        .await;
        rig.gate.open();
    });
    assert_eq!(out.code, Some(5), "{}", printed(&out));
    assert!(
        out.stdout.contains("→ FAILED")
            && out.stderr.contains(
                "kubedeck: runbook failed at step scale: outcome unknown: the API server's answer was lost ("
            )
            && out
                .stderr
                .contains("and deployment/web could not be read back (4 attempts"),
        "{}",
        printed(&out)
    );
    let scale = rig
        .audit()
        .into_iter()
        .find(|r| r.action == "scale")
        .expect("the scale's record");
    assert!(
        matches!(&scale.result, AuditResult::Unknown { .. }),
        "{scale:?}"
    );
}
