//! Token authentication: an admin and a read-only viewer, as seen by the
//! real kubectl (`auth can-i`, Forbidden, Unauthorized).

use std::time::Duration;

use crate::common::{TestSim, wait_pods_ready};
use kubedeck_sim::config::{AuthMode, SimConfig};

const ADMIN: &str = "test-admin-token-0123456789";
const VIEWER: &str = "test-viewer-token-0123456789";

async fn started() -> TestSim {
    crate::common::require_kubectl();
    let ts = crate::common::start_with(
        "minimal",
        SimConfig {
            auth: AuthMode::Tokens {
                admin: ADMIN.into(),
                viewer: VIEWER.into(),
            },
            ..Default::default()
        },
    )
    .await;
    wait_pods_ready(&ts, "demo", "app=web", 2, None, Duration::from_secs(30)).await;
    ts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn can_i_as_admin_and_viewer() {
    let ts = started().await;
    let admin_delete = ts
        .kubectl(&["auth", "can-i", "delete", "pods", "-n", "demo"])
        .await;
    assert_eq!(admin_delete.stdout.trim(), "yes", "{admin_delete:?}");
    assert!(admin_delete.success);
    let admin_list = ts.kubectl(&["auth", "can-i", "list", "pods"]).await;
    assert_eq!(admin_list.stdout.trim(), "yes", "{admin_list:?}");

    let viewer = ["--context", "kubedeck-sim-viewer"];
    let v_delete = ts
        .kubectl(
            &[
                &viewer[..],
                &["auth", "can-i", "delete", "pods", "-n", "demo"],
            ]
            .concat(),
        )
        .await;
    assert_eq!(v_delete.stdout.trim(), "no", "{v_delete:?}");
    assert!(!v_delete.success, "can-i exits non-zero on no");
    let v_list = ts
        .kubectl(&[&viewer[..], &["auth", "can-i", "list", "pods"]].concat())
        .await;
    assert_eq!(v_list.stdout.trim(), "yes", "{v_list:?}");
    assert!(v_list.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_reads_but_cannot_write() {
    let ts = started().await;
    let viewer = ["--context", "kubedeck-sim-viewer"];
    let pods = ts
        .kubectl(&[&viewer[..], &["get", "pods", "-n", "demo", "-o", "name"]].concat())
        .await
        .ok();
    let first = pods.lines().next().expect("a web pod").to_string();
    assert!(first.starts_with("pod/web-"), "{pods}");

    let del = ts
        .kubectl(
            &[
                &viewer[..],
                &["delete", &first, "-n", "demo", "--wait=false"],
            ]
            .concat(),
        )
        .await;
    assert!(!del.success, "{del:?}");
    assert!(
        del.stderr.contains("Error from server (Forbidden)"),
        "viewer delete: {del:?}"
    );
    let scale = ts
        .kubectl(
            &[
                &viewer[..],
                &["scale", "deployment/web", "-n", "demo", "--replicas=3"],
            ]
            .concat(),
        )
        .await;
    assert!(
        !scale.success && scale.stderr.contains("Forbidden"),
        "{scale:?}"
    );
    // The pod is still there: the forbidden delete did nothing.
    let again = ts.kubectl(&["get", &first, "-n", "demo"]).await;
    assert!(again.success, "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_token_is_unauthorized() {
    let ts = started().await;
    let text = std::fs::read_to_string(&ts.kubeconfig).expect("kubeconfig");
    let wrong = ts.write_file("wrong", &text.replace(ADMIN, "not-a-valid-token"));
    let out = ts
        .kubectl(&[
            "--kubeconfig",
            wrong.to_str().expect("path"),
            "get",
            "pods",
            "-n",
            "demo",
        ])
        .await;
    assert!(!out.success);
    assert!(out.stderr.contains("Unauthorized"), "{out:?}");

    // Without credentials kubectl would prompt for a password over HTTPS, so
    // the anonymous request goes through kube-rs.
    let mut config = kube::Config::new(ts.url().parse().expect("simulator URL"));
    config.accept_invalid_certs = true;
    let client = kube::Client::try_from(config).expect("kube client");
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, "demo");
    match pods.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401, "{status:?}"),
        other => panic!("an anonymous list must be refused with 401, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_kubeconfig_has_admin_and_viewer_contexts() {
    crate::common::require_kubectl();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let sim = kubedeck_sim::start(kubedeck_sim::SimOptions {
        listen: "127.0.0.1:0".parse().expect("addr"),
        kubeconfig_out: Some(path.clone()),
        scenario: "minimal".into(),
        manifests: vec![],
        config: SimConfig {
            auth: AuthMode::Tokens {
                admin: ADMIN.into(),
                viewer: VIEWER.into(),
            },
            ..Default::default()
        },
    })
    .await
    .expect("sim");
    let run = |args: &'static [&'static str]| {
        let mut cmd = tokio::process::Command::new(crate::common::KUBECTL);
        cmd.arg("--kubeconfig")
            .arg(&path)
            .args(args)
            .env("KUBECACHEDIR", dir.path().join("cache"))
            .env_remove("KUBECONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        crate::common::run(cmd, args)
    };
    let admin = run(&["auth", "can-i", "delete", "pods"]).await;
    assert_eq!(admin.stdout.trim(), "yes", "{admin:?}");
    let viewer = run(&[
        "--context",
        "kubedeck-sim-viewer",
        "auth",
        "can-i",
        "delete",
        "pods",
    ])
    .await;
    assert_eq!(viewer.stdout.trim(), "no", "{viewer:?}");
    let viewer_list = run(&[
        "--context",
        "kubedeck-sim-viewer",
        "get",
        "ns",
        "-o",
        "name",
    ])
    .await;
    assert!(viewer_list.ok().contains("namespace/demo"));
    drop(sim);
}
