//! `kubectl --as`: the admin acts as another user, whose rights are the
//! stored RBAC objects', as on kube-apiserver; a caller without the
//! `impersonate` right is refused in the real server's words.

use crate::common::TestSim;
use kubedeck_sim::config::{AuthMode, SimConfig};

const ADMIN: &str = "imp-admin-token-0123456789";
const VIEWER: &str = "imp-viewer-token-0123456789";
const SA: &str = "system:serviceaccount:demo:default";

async fn started() -> TestSim {
    crate::common::require_kubectl();
    crate::common::start_with(
        "minimal",
        SimConfig {
            auth: AuthMode::Tokens {
                admin: ADMIN.into(),
                viewer: VIEWER.into(),
            },
            ..Default::default()
        },
    )
    .await
}

async fn can_i(ts: &TestSim, args: &[&str]) -> String {
    let out = ts.kubectl(&[&["auth", "can-i"], args].concat()).await;
    out.stdout.trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impersonated_user_has_its_own_rbac_rights() {
    let ts = started().await;
    let as_sa = format!("--as={SA}");
    assert_eq!(can_i(&ts, &["list", "pods", "-n", "demo"]).await, "yes");
    assert_eq!(
        can_i(&ts, &["list", "pods", "-n", "demo", &as_sa]).await,
        "no",
        "a service account without bindings may not list pods"
    );
    let refused = ts.kubectl(&["get", "pods", "-n", "demo", &as_sa]).await;
    assert!(!refused.success);
    assert!(
        refused.stderr.contains(&format!(
            "pods is forbidden: User \"{SA}\" cannot list resource \"pods\" in API group \"\" in the namespace \"demo\""
        )),
        "{refused:?}"
    );

    ts.kubectl(&[
        "create",
        "role",
        "pod-reader",
        "-n",
        "demo",
        "--verb=get,list",
        "--resource=pods",
    ])
    .await
    .ok();
    ts.kubectl(&[
        "create",
        "rolebinding",
        "sa-reads",
        "-n",
        "demo",
        "--role=pod-reader",
        "--serviceaccount=demo:default",
    ])
    .await
    .ok();
    assert_eq!(
        can_i(&ts, &["list", "pods", "-n", "demo", &as_sa]).await,
        "yes"
    );
    assert_eq!(
        can_i(&ts, &["delete", "pods", "-n", "demo", &as_sa]).await,
        "no"
    );
    assert_eq!(
        can_i(&ts, &["list", "pods", "-n", "default", &as_sa]).await,
        "no",
        "a RoleBinding grants in its own namespace only"
    );
    let listed = ts.kubectl(&["get", "pods", "-n", "demo", &as_sa]).await;
    assert!(listed.success, "{listed:?}");

    // A user bound to the bootstrap `view` ClusterRole reads but not secrets.
    ts.kubectl(&[
        "create",
        "rolebinding",
        "bob-view",
        "-n",
        "demo",
        "--clusterrole=view",
        "--user=bob",
    ])
    .await
    .ok();
    assert_eq!(
        can_i(&ts, &["list", "deployments.apps", "-n", "demo", "--as=bob"]).await,
        "yes"
    );
    assert_eq!(
        can_i(&ts, &["get", "secrets", "-n", "demo", "--as=bob"]).await,
        "no"
    );
    // Groups come along: system:masters may do anything.
    assert_eq!(
        can_i(
            &ts,
            &["delete", "nodes", "--as=alice", "--as-group=system:masters"]
        )
        .await,
        "yes"
    );

    let who = ts
        .kubectl(&["auth", "whoami", "-o", "json", &as_sa])
        .await
        .json();
    assert_eq!(who["status"]["userInfo"]["username"], SA);
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        serde_json::json!([
            "system:serviceaccounts",
            "system:serviceaccounts:demo",
            "system:authenticated"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_may_not_impersonate() {
    let ts = started().await;
    let as_alice = ["--context", "kubedeck-sim-viewer", "--as=alice"];
    let raw = ts
        .kubectl(
            &[
                &as_alice[..],
                &["get", "--raw", "/api/v1/namespaces/demo/pods"],
            ]
            .concat(),
        )
        .await;
    assert!(!raw.success);
    assert!(
        raw.stderr.contains(
            "pods is forbidden: User \"viewer\" cannot impersonate-on:user-info:list resource \"pods\" in API group \"\" in the namespace \"demo\""
        ),
        "{raw:?}"
    );
    let can = ts
        .kubectl(&[&as_alice[..], &["auth", "can-i", "list", "pods"]].concat())
        .await;
    assert!(
        can.stderr.contains(
            "selfsubjectaccessreviews.authorization.k8s.io is forbidden: User \"viewer\" cannot impersonate-on:user-info:create resource \"selfsubjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope"
        ),
        "{can:?}"
    );
}
