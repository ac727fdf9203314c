//! A shell session through `exec::start` and `exec::pump` against the
//! simulator: keystrokes reach the container, its output comes back, the
//! exit code ends the session, and a dropped connection ends it as lost.

use std::time::Duration;

use kubedeck_core::actions::{AuditLog, Executor};
use kubedeck_core::exec::{self, Ended, Mode, Target};
use kubedeck_sim::config::SimConfig;
use kubedeck_sim::testing::fault_proxy::FaultProxy;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(30);

/// Output as a test can wait on it.
struct Screen(watch::Sender<Vec<u8>>);

impl std::io::Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.send_modify(|b| b.extend_from_slice(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn until_shown(rx: &mut watch::Receiver<Vec<u8>>, text: &str) {
    let seen = tokio::time::timeout(
        WAIT,
        rx.wait_for(|b| String::from_utf8_lossy(b).contains(text)),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    let shown = String::from_utf8_lossy(&rx.borrow()).into_owned();
    assert!(seen, "{text:?} never shown: {shown:?}");
}

/// One shell session: types `lines` once the prompt shows, cuts the
/// proxy after them when `cut`, and returns how the session ended.
async fn session(
    executor: &Executor,
    target: &Target,
    lines: &[&str],
    cut: Option<&FaultProxy>,
) -> (Ended, String) {
    let process = exec::start(executor, target, &["sh".to_string()], Mode::SHELL)
        .await
        .expect("the shell starts");
    let (keys, input) = tokio::io::duplex(1024);
    let (tx, mut rx) = watch::channel(Vec::new());
    let mut out = Screen(tx);
    let mut err = std::io::sink();
    let pump = exec::pump(
        process,
        Some(input),
        &mut out,
        &mut err,
        futures::stream::empty(),
    );
    let drive = async {
        let mut keys = keys;
        until_shown(&mut rx, "/ # ").await;
        for l in lines {
            keys.write_all(format!("{l}\r").as_bytes()).await.unwrap();
        }
        if let Some(proxy) = cut {
            until_shown(&mut rx, &target.pod).await;
            proxy.cut();
        }
        // Held open: the session must end by itself.
        std::future::pending::<()>().await;
    };
    // Longer than the waits inside, so that theirs say what was shown.
    let ended = tokio::time::timeout(2 * WAIT, async {
        tokio::select! {
            ended = pump => ended,
            () = drive => unreachable!(),
        }
    })
    .await
    .expect("the session ends");
    let shown = String::from_utf8_lossy(&rx.borrow()).into_owned();
    (ended, shown)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_session_ends_with_its_exit_code_or_as_lost_when_the_connection_drops() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let pods = crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    let pod = pods[0]["metadata"]["name"].as_str().unwrap().to_string();
    let proxy = FaultProxy::start(ts.sim.addr).await;
    let url = format!("http://{}", proxy.addr());
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let executor = Executor::new(client, "kubedeck-sim", "admin", false, audit.clone());
    let target = Target::new("demo", &pod, None);

    let (ended, shown) = session(&executor, &target, &["echo $HOSTNAME", "exit 3"], None).await;
    assert_eq!(ended, Ended::Exited(3), "{shown}");
    assert!(shown.contains(&format!("\r\n{pod}\r\n")), "{shown:?}");

    let (ended, shown) = session(&executor, &target, &["hostname"], Some(&proxy)).await;
    assert!(matches!(ended, Ended::Lost(_)), "{ended:?}: {shown:?}");
    assert!(ended.to_string().starts_with("connection lost"), "{ended}");

    // Both sessions audited with the command, none with what was typed.
    let records = audit.read().unwrap().records;
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| r.action == "exec" && r.parameters["command"] == serde_json::json!(["sh"]))
    );
    let log = std::fs::read_to_string(audit.path()).unwrap();
    assert!(!log.contains("HOSTNAME"), "{log}");
}
