//! A restricted user (its own client certificate, bound to a namespaced
//! Role by the real RBAC authorizer): what it sees, what kubedeck's
//! pre-check says it may do, and that both agree with the server's 403.

use kubedeck_core::actions::{
    ActionError, AuditLog, AuditResult, Command, Executor, ObjectRef, Permission, Rbac,
    WorkloadRef, plan,
};
use kubedeck_core::config::Config;

use crate::cluster::{CONTEXT, Cluster};

const ROLE: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: operator}
rules:
- apiGroups: ['']
  resources: [pods, services, endpoints, events]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, replicasets]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-operator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: operator}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example/web:1.0.0}]
";

pub async fn a_restricted_user_sees_its_namespace_and_the_executor_agrees_with_the_server(
    c: &'static Cluster,
) {
    let ns = c.namespace("real-rbac").await;
    c.apply(&ns, ROLE).await;
    let alice = c.dir().join("alice.yaml");
    let status = std::process::Command::new(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testbed/real-cluster"),
    )
    .args(["user", "--dir"])
    .arg(c.dir())
    .args(["--name", "alice", "--kubeconfig-out"])
    .arg(&alice)
    .status()
    .expect("run testbed/real-cluster user");
    assert!(status.success(), "a certificate for alice");

    // kubectl as alice: her namespace yes, another no (the server's 403).
    let mine = crate::cluster::run_kubectl(c, &alice, &["get", "deployments", "-n", &ns]).await;
    assert!(mine.success, "{}", mine.stderr);
    let other = crate::cluster::run_kubectl(c, &alice, &["get", "pods", "-n", "default"]).await;
    assert!(
        !other.success && other.stderr.contains("Forbidden"),
        "{}",
        other.stderr
    );

    let client = c.client_for(&alice).await;
    let rbac = Rbac::new(client.clone(), Rbac::DEFAULT_TTL);
    let scale = Command::Scale {
        target: WorkloadRef::deployment(&ns, "web"),
        from: 1,
        to: 2,
    };
    let pod = c
        .kubectl(&[
            "get",
            "pods",
            "-n",
            &ns,
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ])
        .await
        .ok();
    let delete = Command::DeletePod {
        pod: ObjectRef::new(&ns, pod.trim()),
        grace_seconds: None,
        force: false,
    };
    assert_eq!(rbac.can(&scale).await, Permission::Allowed);
    assert!(matches!(rbac.can(&delete).await, Permission::Denied(_)));

    let home = tempfile::tempdir().expect("temporary directory");
    let exec = Executor::new(
        client.clone(),
        CONTEXT,
        "alice",
        false,
        AuditLog::new(home.path().join("audit.jsonl")),
    );
    let run = |cmd: Command| {
        let client = client.clone();
        let exec = &exec;
        async move {
            let confirmation = plan(&client, CONTEXT, &Config::default(), cmd)
                .await
                .map_err(|e| ActionError::Api(e.to_string()))?;
            let confirmed = confirmation.confirm(None).expect("no typed name needed");
            exec.execute(confirmed).await
        }
    };
    run(scale).await.expect("alice may scale");
    let replicas = c
        .kubectl(&[
            "get",
            "deploy/web",
            "-n",
            &ns,
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .await
        .ok();
    assert_eq!(replicas.trim(), "2");
    match run(delete).await {
        Err(ActionError::Forbidden { message, .. }) => {
            assert!(
                message.contains("forbidden"),
                "the server's words: {message}"
            )
        }
        other => panic!("the server refuses alice's delete with 403: {other:?}"),
    }
    let audit = exec.audit.read().expect("the audit log");
    let results: Vec<(&str, &AuditResult)> = audit
        .records
        .iter()
        .map(|r| (r.action.as_str(), &r.result))
        .collect();
    assert!(
        results
            .iter()
            .any(|(a, r)| *a == "delete-pod" && matches!(r, AuditResult::Denied { .. })),
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|(a, r)| *a == "scale" && **r == AuditResult::Ok),
        "{results:?}"
    );
}
