//! The exec subresource over WebSocket: kube-rs and the real kubectl run
//! commands in a simulated container, get their output and exit status,
//! and are refused for pods that do not run.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, AttachParams, DeleteParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const WAIT: Duration = Duration::from_secs(60);

/// A running pod `shell-1` in `default` with an env var and a ConfigMap
/// mounted at /etc/app.
async fn running_pod(client: &kube::Client) -> Api<Pod> {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "app"}, "data": {"mode": "blue\n"},
    }))
    .unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "shell-1"},
        "spec": {
            "containers": [{
                "name": "app", "image": "nginx:1.27",
                "env": [{"name": "MODE", "value": "blue"}],
                "volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"}],
            }],
            "volumes": [{"name": "cfg", "configMap": {"name": "app"}}],
        },
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    tokio::time::timeout(
        WAIT,
        await_condition(pods.clone(), "shell-1", conditions::is_pod_running()),
    )
    .await
    .expect("the pod runs in time")
    .unwrap();
    pods
}

async fn read_all(r: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let mut s = String::new();
    if let Some(mut r) = r {
        r.read_to_string(&mut s).await.unwrap();
    }
    s
}

/// Runs `cmd` without a tty: stdout, stderr and the final status.
async fn exec(pods: &Api<Pod>, cmd: &[&str]) -> (String, String, serde_json::Value) {
    let ap = AttachParams::default().stdin(false).stderr(true);
    let mut p = pods.exec("shell-1", cmd.to_vec(), &ap).await.unwrap();
    let status = p.take_status().unwrap();
    let (out, err) = tokio::join!(read_all(p.stdout()), read_all(p.stderr()));
    let status = serde_json::to_value(status.await.expect("a status")).unwrap();
    p.join().await.unwrap();
    (out, err, status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_exec_gets_output_and_exit_status() {
    let ts = crate::common::start().await;
    let pods = running_pod(&ts.client()).await;

    let (out, err, status) = exec(&pods, &["echo", "hi", "there"]).await;
    assert_eq!((out.as_str(), err.as_str()), ("hi there\n", ""));
    assert_eq!(status["status"], "Success");

    let (out, _, _) = exec(
        &pods,
        &["sh", "-c", "hostname; echo $MODE; cat /etc/app/mode"],
    )
    .await;
    assert_eq!(out, "shell-1\nblue\nblue\n");

    let (_, err, status) = exec(&pods, &["sh", "-c", "exit 3"]).await;
    assert_eq!(err, "");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");

    let (_, err, status) = exec(&pods, &["curl", "localhost"]).await;
    assert_eq!(err, "sh: curl: command not found\n");
    assert_eq!(status["details"]["causes"][0]["message"], "127");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_tty_shell_echoes_runs_and_exits_with_its_code() {
    let ts = crate::common::start().await;
    let pods = running_pod(&ts.client()).await;
    let ap = AttachParams::interactive_tty();
    let mut p = pods.exec("shell-1", vec!["sh"], &ap).await.unwrap();
    let status = p.take_status().unwrap();
    let mut stdin = p.stdin().unwrap();
    let mut stdout = p.stdout().unwrap();
    stdin.write_all(b"echo $HOSTNAME\r").await.unwrap();
    // The prompt, the echoed line, then the answer, all on one stream.
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("shell-1\r\n") {
        let n = stdout.read(&mut buf).await.unwrap();
        assert!(n > 0, "the stream ended early: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.starts_with("/ # echo $HOSTNAME\r\n"), "{seen:?}");
    stdin.write_all(b"exit 4\r").await.unwrap();
    let status = serde_json::to_value(status.await.expect("a status")).unwrap();
    assert_eq!(status["details"]["causes"][0]["message"], "4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_pod_kills_the_shell() {
    let ts = crate::common::start().await;
    let pods = running_pod(&ts.client()).await;
    let mut p = pods
        .exec("shell-1", vec!["sh"], &AttachParams::interactive_tty())
        .await
        .unwrap();
    let status = p.take_status().unwrap();
    let mut stdout = p.stdout().unwrap();
    let mut prompt = [0u8; 4];
    stdout.read_exact(&mut prompt).await.unwrap();
    pods.delete("shell-1", &DeleteParams::default())
        .await
        .unwrap();
    let status = serde_json::to_value(status.await.expect("a status")).unwrap();
    assert_eq!(status["details"]["causes"][0]["message"], "137");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_is_refused_for_pods_not_running_and_unknown_containers() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    // No node can take it, so it stays Pending.
    let pending: Pod = serde_json::from_value(json!({
        "metadata": {"name": "stuck"},
        "spec": {"nodeSelector": {"nowhere": "true"}, "containers": [{"name": "app", "image": "nginx"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pending).await.unwrap();
    let err = pods
        .exec("stuck", vec!["true"], &AttachParams::default())
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("unable to upgrade connection: container not found (\"app\")"),
        "{err}"
    );
    let running = running_pod(&client).await;
    let err = running
        .exec(
            "shell-1",
            vec!["true"],
            &AttachParams::default().container("nope"),
        )
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("container nope is not valid for pod shell-1"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_prints_the_output_and_passes_the_exit_code() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    running_pod(&ts.client()).await;
    // Repeated: kubectl 1.32's client-go drops output that arrives before
    // it has registered its streams, which the sim must not provoke.
    for _ in 0..5 {
        let out = ts
            .kubectl(&["exec", "shell-1", "-n", "default", "--", "hostname"])
            .await;
        assert_eq!(out.ok(), "shell-1\n");
    }
    let out = ts
        .kubectl(&[
            "exec", "shell-1", "-n", "default", "--", "sh", "-c", "exit 5",
        ])
        .await;
    assert_eq!(out.code, Some(5), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_is_preferred_and_a_v4_only_client_gets_v4_and_the_same_channels() {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let ts = crate::common::start().await;
    running_pod(&ts.client()).await;
    let url = format!(
        "{}/api/v1/namespaces/default/pods/shell-1/exec?command=hostname&stdout=true",
        ts.url().replace("http://", "ws://")
    );
    // Offered both, as kube-rs and kubectl do, v5 is chosen.
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v5.channel.k8s.io, v4.channel.k8s.io".parse().unwrap(),
    );
    let (_, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        "v5.channel.k8s.io"
    );

    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v4.channel.k8s.io".parse().unwrap(),
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        "v4.channel.k8s.io"
    );
    let mut frames = Vec::new();
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Binary(b) = msg {
            frames.push((b[0], String::from_utf8_lossy(&b[1..]).into_owned()));
        }
    }
    assert_eq!(frames[0], (1, "shell-1\n".to_string()));
    assert_eq!(frames[1].0, 3);
    assert!(frames[1].1.contains("\"Success\""), "{frames:?}");
}
