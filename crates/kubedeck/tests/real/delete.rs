//! Delete of a Deployment with each propagation policy, through kubedeck's
//! planner and executor against the real API server and its garbage
//! collector: the dialog's consequences as read from the cluster, then
//! what the collector does, watched (`kubedeck_sim::testing::cascade`, the
//! same checks the simulator passes), and kubectl as the last witness.

use kubedeck_core::actions::{
    AuditLog, AuditResult, Command, Executor, Propagation, ResourceRef, plan,
};
use kubedeck_core::config::Config;
use kubedeck_sim::testing::cascade;

use crate::cluster::{CONTEXT, Cluster, WAIT};

pub async fn a_deployment_deleted_with_each_propagation_policy_does_what_kubectls_would(
    c: &'static Cluster,
) {
    let ns = c.namespace("real-delete").await;
    let home = tempfile::tempdir().expect("temporary directory");
    let client = c.client().await;
    let audit = AuditLog::new(home.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), CONTEXT, "admin", false, audit.clone());
    let cases = [
        (
            "bg",
            Propagation::Background,
            "Background",
            "deleting deployment.apps/bg deletes 1 replicaset and 2 pods",
        ),
        (
            "fg",
            Propagation::Foreground,
            "Foreground",
            "deleting deployment.apps/fg deletes 1 replicaset and 2 pods first; it stays, being deleted, until they are gone",
        ),
        (
            "orph",
            Propagation::Orphan,
            "Orphan",
            "orphan: its 1 replicaset is kept, without an owner, with the 2 pods under it",
        ),
    ];
    for (app, propagation, policy, said) in cases {
        let before = cascade::deployment(&client, &ns, app, WAIT).await;
        let command = Command::DeleteResource {
            object: ResourceRef {
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into(),
                plural: "deployments".into(),
                namespace: Some(ns.clone()),
                name: app.into(),
            },
            propagation,
        };
        let confirmation = plan(&client, CONTEXT, &Config::default(), command)
            .await
            .expect("the delete can be planned");
        assert_eq!(confirmation.consequences(), [said]);
        exec.execute(confirmation.confirm(None).expect("confirmed"))
            .await
            .unwrap_or_else(|e| panic!("delete {app} {policy}: {e}"));
        cascade::expect_cascade(&client, &ns, app, policy, &before, WAIT).await;
        let left = c
            .kubectl(&[
                "get",
                "deploy",
                app,
                "-n",
                &ns,
                "--ignore-not-found",
                "-o",
                "name",
            ])
            .await
            .ok();
        assert_eq!(left.trim(), "", "kubectl still finds deployment {app}");
    }
    // Orphaned, the ReplicaSet and its pods are still there for kubectl.
    let kept = c
        .kubectl(&["get", "rs,pods", "-n", &ns, "-l", "app=orph", "-o", "name"])
        .await
        .ok();
    assert_eq!(kept.lines().count(), 3, "{kept}");
    let records = audit.read().expect("the audit log").records;
    assert_eq!(
        records
            .iter()
            .map(|r| (r.action.as_str(), r.result.clone()))
            .collect::<Vec<_>>(),
        vec![("delete", AuditResult::Ok); 3]
    );
}
