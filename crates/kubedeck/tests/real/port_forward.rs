//! `kubedeck port-forward` through the real API server: kwok plays the
//! kubelet and, by a ClusterPortForward of this test's namespace, sends the
//! pod's port to an HTTP server the test runs on 127.0.0.1. A request to
//! the local port reaches it through the apiserver's portforward
//! subresource, as kube-rs speaks it (WebSocket, `v4.channel.k8s.io`).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_sim::testing::{Streaming, wait_until, watch_until};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::cluster::{Cluster, WAIT};

const BODY: &str = "answered by the test's backend\n";

/// An HTTP server on 127.0.0.1 standing in for the pod's application.
async fn backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                    BODY.len()
                );
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    port
}

fn manifest(ns: &str, backend: u16) -> String {
    format!(
        "apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata: {{name: {ns}}}
spec:
  selector: {{matchNamespaces: [{ns}]}}
  forwards:
  - ports: [8080]
    target: {{port: {backend}, address: 127.0.0.1}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
        ports: [{{containerPort: 8080, name: http}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"
    )
}

/// A GET through the forward; the body, or what went wrong. It reads by
/// Content-Length, as curl does: kwok keeps the pod's side of a forwarded
/// connection open until the client closes its own, though the backend
/// has closed.
async fn get(port: u16) -> Result<String, String> {
    let mut sock = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    sock.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if let Some(n) = length
                && body.len() >= n
            {
                return if head.starts_with("HTTP/1.1 200 OK") {
                    Ok(body.to_string())
                } else {
                    Err(format!("answer: {text:?}"))
                };
            }
        }
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return Err(format!("closed after {text:?}")),
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

pub async fn a_service_forward_reaches_the_pod_through_the_real_api_server(c: &'static Cluster) {
    let ns = c.namespace("real-port-forward").await;
    let backend = backend().await;
    c.apply(&ns, &manifest(&ns, backend)).await;
    let pods: Api<Pod> = Api::namespaced(c.client().await, &ns);
    watch_until(
        pods,
        watcher::Config::default().labels("app=web"),
        "the web pod running",
        WAIT,
        |ps: &[Arc<Pod>]| match ps.first().and_then(|p| p.status.as_ref()?.phase.clone()) {
            Some(phase) if phase == "Running" => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;

    let home = c.dir().join("home-port-forward");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedeck"));
    cmd.args(["port-forward", "svc/web", ":80", "-n", &ns])
        .env("KUBECONFIG", c.kubeconfig())
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("KUBEDECK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut pf = Streaming::spawn(cmd);
    let line = pf
        .wait_line(WAIT, |l| l.starts_with("Forwarding from 127.0.0.1:"))
        .await;
    let rest = line.trim_start_matches("Forwarding from 127.0.0.1:");
    let (port, remote) = rest.split_once(" -> ").unwrap();
    assert_eq!(remote, "80", "{line}");
    let port: u16 = port.parse().unwrap();

    // kwok takes up the ClusterPortForward when its informer has it.
    let body = wait_until("the backend's answer through the forward", WAIT, || {
        get(port)
    })
    .await;
    assert_eq!(body, BODY);

    let pid = pf.child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), pf.child.wait())
        .await
        .expect("kubedeck port-forward ends on SIGINT")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    c.kubectl(&["delete", "clusterportforward", &ns]).await.ok();
}
