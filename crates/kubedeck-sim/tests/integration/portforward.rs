//! The portforward subresource through kube-rs's own client: a declared
//! port answers HTTP as the pod's application, an undeclared one is
//! refused on the error channel in the kubelet's words, and RBAC asks for
//! `create` on pods/portforward.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::watcher;
use kubedeck_sim::config::{AuthMode, SimConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const WAIT: Duration = Duration::from_secs(60);

/// The name of a Running pod of demo/web, once there is one.
async fn running_web_pod(client: &kube::Client) -> String {
    let api: Api<Pod> = Api::namespaced(client.clone(), "demo");
    kubedeck_sim::testing::watch_until(
        api,
        watcher::Config::default().labels("app=web"),
        "a Running pod of demo/web",
        WAIT,
        |pods| {
            pods.iter()
                .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .and_then(|p| p.metadata.name.clone())
                .ok_or_else(|| "no Running pod yet".to_string())
        },
    )
    .await
}

/// One HTTP/1.1 GET through a forwarded stream; the whole response.
async fn get(stream: &mut tokio::io::DuplexStream, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_port_answers_as_the_pods_application() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let pod = running_web_pod(&client).await;
    let api: Api<Pod> = Api::namespaced(client, "demo");

    let mut pf = api.portforward(&pod, &[8080]).await.unwrap();
    let mut stream = pf.take_stream(8080).unwrap();
    let resp = get(&mut stream, "/").await;
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with(&format!("\r\n\r\n{pod}\n")), "{resp}");
    // The app closed the connection (Connection: close), and with it the
    // server closed the WebSocket.
    drop((stream, pf));

    let mut pf = api.portforward(&pod, &[8080]).await.unwrap();
    let mut stream = pf.take_stream(8080).unwrap();
    let resp = get(&mut stream, "/healthz").await;
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(resp.ends_with("\r\n\r\nok\n"), "{resp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_path_serves_the_pods_application_series() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let pod = running_web_pod(&client).await;
    let api: Api<Pod> = Api::namespaced(client, "demo");
    let mut pf = api.portforward(&pod, &[8080]).await.unwrap();
    let mut stream = pf.take_stream(8080).unwrap();
    let resp = get(&mut stream, "/metrics").await;
    assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
    assert!(
        resp.contains("# TYPE http_requests_total counter"),
        "{resp}"
    );
    for line in resp.lines().filter(|l| l.starts_with("http_")) {
        assert!(line.contains(&format!("pod=\"{pod}\"")), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_port_is_refused_on_the_error_channel() {
    let ts = crate::common::start().await;
    let client = ts.client();
    let pod = running_web_pod(&client).await;
    let api: Api<Pod> = Api::namespaced(client, "demo");
    let mut pf = api.portforward(&pod, &[9999]).await.unwrap();
    let error = pf.take_error(9999).unwrap().await.unwrap_or_default();
    assert!(
        error.starts_with("error forwarding port 9999 to pod "),
        "{error}"
    );
    assert!(
        error.contains("dial tcp4 127.0.0.1:9999: connect: connection refused"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_pod_is_not_found() {
    let ts = crate::common::start().await;
    let api: Api<Pod> = Api::namespaced(ts.client(), "demo");
    let err = api.portforward("no-such-pod", &[8080]).await.err().unwrap();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 404);
            assert_eq!(s.message, "pods \"no-such-pod\" not found");
        }
        other => panic!("expected a 404, got {other:?}"),
    }
}

async fn client_for(ts: &crate::common::TestSim, context: &str) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(&ts.kubeconfig).unwrap();
    let options = kube::config::KubeConfigOptions {
        context: Some(context.into()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_may_not_forward() {
    let ts = crate::common::start_with(
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
    let pod = running_web_pod(&client_for(&ts, "kubedeck-sim").await).await;
    let viewer = client_for(&ts, "kubedeck-sim-viewer").await;
    let api: Api<Pod> = Api::namespaced(viewer, "demo");
    // The viewer reads pods...
    assert!(
        !api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // ...but may not open a connection into one.
    let err = api.portforward(&pod, &[8080]).await.err().unwrap();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message
                    .contains("cannot create resource \"pods/portforward\""),
                "{}",
                s.message
            );
        }
        other => panic!("expected a 403, got {other:?}"),
    }
}
