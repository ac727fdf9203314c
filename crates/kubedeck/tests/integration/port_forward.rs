//! `kubedeck port-forward` end to end on the simulator: plain HTTP through
//! the local port gets the pod's answer, Ctrl-C ends it with 0, a deleted
//! pod is replaced by another of its controller, a pod with none says it
//! cannot be, and read-only mode and RBAC refuse it, audited.

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use kube::runtime::watcher;
use kubedeck_sim::config::{AuthMode, SimConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::common::{self, Streaming, TestSim};

const WAIT: Duration = Duration::from_secs(60);

/// `kubedeck ARGS` on the test's cluster, its stdout read line by line.
fn spawn(ts: &TestSim, args: &[&str]) -> Streaming {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubedeck"));
    cmd.args(args)
        .env("KUBECONFIG", &ts.kubeconfig)
        .env("HOME", ts.dir.path())
        .env("XDG_DATA_HOME", ts.dir.path().join("data"))
        .env("XDG_CONFIG_HOME", ts.dir.path().join("config"))
        .env_remove("KUBEDECK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Streaming::spawn(cmd)
}

/// The local port of "Forwarding from 127.0.0.1:PORT -> REMOTE".
async fn forwarding(pf: &mut Streaming, remote: &str) -> u16 {
    let line = pf
        .wait_line(WAIT, |l| l.starts_with("Forwarding from 127.0.0.1:"))
        .await;
    let rest = line.trim_start_matches("Forwarding from 127.0.0.1:");
    let (port, to) = rest.split_once(" -> ").unwrap();
    assert_eq!(to, remote, "{line}");
    port.parse().unwrap()
}

/// A plain HTTP/1.1 GET to 127.0.0.1:port: (status line, body).
async fn http_get(port: u16, path: &str) -> (String, String) {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    // A refused connection may be reset rather than closed: what came is
    // the answer.
    let _ = sock.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

async fn running_pods(client: &kube::Client, selector: &str, n: usize) -> Vec<String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), "demo");
    common::watch_until(
        api,
        watcher::Config::default().labels(selector),
        &format!("{n} Running pods ({selector})"),
        WAIT,
        |pods| {
            let names: Vec<String> = pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .filter_map(|p| p.metadata.name.clone())
                .collect();
            if names.len() >= n {
                Ok(names)
            } else {
                Err(format!("Running: {names:?}"))
            }
        },
    )
    .await
}

fn stderr_lines(pf: &mut Streaming) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use tokio::io::AsyncBufReadExt as _;
    let stderr = pf.child.stderr.take().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// SIGINT, as Ctrl-C sends; the exit code.
async fn interrupt(mut pf: Streaming) -> Option<i32> {
    let pid = pf.child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    tokio::time::timeout(WAIT, pf.child.wait())
        .await
        .expect("kubedeck port-forward ends on SIGINT")
        .unwrap()
        .code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_forward_answers_http_and_ends_on_ctrl_c() {
    let ts = common::start().await;
    running_pods(&ts.client(), "app=web", 2).await;
    // Port 80 of the Service maps to the pods' named port `http` (8080).
    let mut pf = spawn(&ts, &["port-forward", "svc/web", ":80", "-n", "demo"]);
    let port = forwarding(&mut pf, "80").await;

    let (status, body) = http_get(port, "/healthz").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "ok\n");
    let (status, body) = http_get(port, "/").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.starts_with("web-"), "the pod's name: {body:?}");
    pf.wait_line(WAIT, |l| l == format!("Handling connection for {port}"))
        .await;

    assert_eq!(interrupt(pf).await, Some(0));
    let audit = common::kubedeck(&ts, &["audit", "--json"]).await;
    let record = audit
        .stdout
        .lines()
        .find(|l| l.contains("\"action\":\"port-forward\""))
        .unwrap_or_else(|| panic!("no port-forward record: {audit:?}"));
    assert!(record.contains("\"object\":\"svc/web\""), "{record}");
    assert!(
        record.contains(&format!("127.0.0.1:{port} -> 80 (pod web-")),
        "{record}"
    );
    assert!(record.contains("\"status\":\"ok\""), "{record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_to_a_deleted_pod_follows_its_replacement() {
    let ts = common::start().await;
    let client = ts.client();
    let first = running_pods(&client, "app=web", 2).await[0].clone();
    let target = format!("pod/{first}");
    let mut pf = spawn(&ts, &["port-forward", &target, ":http", "-n", "demo"]);
    let port = forwarding(&mut pf, "http").await;
    assert_eq!(http_get(port, "/").await.1, format!("{first}\n"));

    Api::<Pod>::namespaced(client.clone(), "demo")
        .delete(&first, &DeleteParams::default())
        .await
        .unwrap();
    let (status, body) = http_get(port, "/").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let second = body.trim_end().to_string();
    assert!(
        second.starts_with("web-") && second != first,
        "another pod of web answers: {body:?}"
    );
    pf.wait_line(WAIT, |l| {
        l == format!("Pod {first} is gone; forwarding to pod {second}")
    })
    .await;
    pf.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_to_a_lone_pod_says_it_cannot_be_replaced() {
    let ts = common::start().await;
    let applied = ts
        .kubectl_stdin(
            &["apply", "-f", "-"],
            "apiVersion: v1\nkind: Pod\nmetadata: {name: lone, namespace: demo, labels: {app: lone}}\nspec:\n  containers:\n  - name: app\n    image: registry.example/lone:1\n    ports: [{containerPort: 8080}]\n",
        )
        .await;
    assert!(applied.success, "{applied:?}");
    running_pods(&ts.client(), "app=lone", 1).await;
    let mut cmd = spawn(&ts, &["port-forward", "lone", ":8080", "-n", "demo"]);
    let port = forwarding(&mut cmd, "8080").await;
    assert_eq!(http_get(port, "/").await.1, "lone\n");

    Api::<Pod>::namespaced(ts.client(), "demo")
        .delete("lone", &DeleteParams::default())
        .await
        .unwrap();
    let mut errors = stderr_lines(&mut cmd);
    // The connection is closed: nothing answers.
    let (status, _) = http_get(port, "/").await;
    assert_eq!(status, "");
    let said = tokio::time::timeout(WAIT, async {
        while let Some(line) = errors.recv().await {
            if line.starts_with("kubedeck: pod lone is gone and cannot be replaced: ") {
                return line;
            }
        }
        panic!("stderr ended without saying why");
    })
    .await
    .expect("kubedeck says why it cannot forward");
    assert!(
        said.contains("pod lone in demo ") && said.contains("no controller to replace it"),
        "{said}"
    );
    assert_eq!(interrupt(cmd).await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_a_forward_and_audits_it() {
    let ts = common::start().await;
    let out = common::kubedeck(
        &ts,
        &["port-forward", "svc/web", ":80", "-n", "demo", "--readonly"],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(
            "kubedeck: refused: context kubedeck-sim is read-only, and a port-forward opens a connection into a pod; nothing was started"
        ),
        "{out:?}"
    );
    assert!(!out.stdout.contains("Forwarding from"), "{out:?}");
    let audit = common::kubedeck(&ts, &["audit"]).await;
    let line = audit
        .stdout
        .lines()
        .find(|l| l.contains("port-forward"))
        .unwrap_or_else(|| panic!("{audit:?}"));
    assert!(line.contains("svc/web"), "{line}");
    assert!(line.contains("refused(read-only)"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_pods_portforward_is_refused() {
    let ts = common::start_with(
        "minimal",
        SimConfig {
            auth: AuthMode::Tokens {
                admin: "pf-admin-token-0123456789".into(),
                viewer: "pf-viewer-token-0123456789".into(),
            },
            ..Default::default()
        },
    )
    .await;
    let out = common::kubedeck(
        &ts,
        &[
            "port-forward",
            "svc/web",
            ":80",
            "-n",
            "demo",
            "--context",
            "kubedeck-sim-viewer",
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(
            "kubedeck: refused: RBAC does not let you create pods/portforward in namespace demo"
        ),
        "{out:?}"
    );
    let audit = common::kubedeck(&ts, &["audit"]).await;
    assert!(
        audit
            .stdout
            .lines()
            .any(|l| l.contains("port-forward") && l.contains("denied(403)")),
        "{audit:?}"
    );
}
