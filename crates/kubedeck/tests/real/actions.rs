//! Every console action through kubedeck's executor against the real API
//! server, each seen through a watch and confirmed by the testbed's kubectl.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_core::actions::{
    ActionError, Applied, AuditLog, AuditResult, Command, Executor, ObjectRef, WorkloadRef, plan,
};
use kubedeck_core::config::Config;
use kubedeck_sim::testing::watch_until;

use crate::cluster::{CONTEXT, Cluster, WAIT};

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  revisionHistoryLimit: 5
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: registry.example/web:1.0.0}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";

struct Env {
    client: kube::Client,
    exec: Executor,
    ns: String,
    _home: tempfile::TempDir,
}

async fn env(c: &Cluster, ns: &str) -> Env {
    let ns = c.namespace(ns).await;
    let home = tempfile::tempdir().expect("temporary directory");
    let client = c.client().await;
    let audit = AuditLog::new(home.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), CONTEXT, "admin", false, audit);
    Env {
        client,
        exec,
        ns,
        _home: home,
    }
}

impl Env {
    async fn try_run(&self, cmd: Command) -> Result<Applied, ActionError> {
        let confirmation = plan(&self.client, CONTEXT, &Config::default(), cmd)
            .await
            .expect("the action can be planned");
        let confirmed = confirmation.confirm(None).expect("no typed name needed");
        self.exec.execute(confirmed).await
    }

    async fn run(&self, cmd: Command) -> Applied {
        let what = format!("{cmd:?}");
        self.try_run(cmd)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    fn web(&self) -> WorkloadRef {
        WorkloadRef::deployment(&self.ns, "web")
    }

    /// Waits for `n` Ready web pods, all running `image`.
    async fn web_ready(&self, n: usize, image: &str) -> Vec<String> {
        watch_until(
            self.pods(),
            watcher::Config::default().labels("app=web"),
            &format!("{n} Ready web pods on {image}"),
            WAIT,
            |pods: &[Arc<Pod>]| {
                let live: Vec<&Arc<Pod>> = pods
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .collect();
                let ok = live.len() == n && live.iter().all(|p| ready(p) && image_of(p) == image);
                let names = live.iter().map(|p| name(p)).collect::<Vec<_>>();
                if ok {
                    Ok(names)
                } else {
                    Err(format!("{names:?}"))
                }
            },
        )
        .await
    }
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

fn image_of(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.as_deref())
        .unwrap_or("")
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub async fn scale_restart_set_image_and_rollback_reach_the_real_deployment(c: &'static Cluster) {
    let e = env(c, "real-actions").await;
    c.apply(&e.ns, WEB).await;
    e.web_ready(2, "registry.example/web:1.0.0").await;

    // Scale through the /scale subresource; the real ReplicaSet controller
    // and scheduler make the third pod.
    e.run(Command::Scale {
        target: e.web(),
        from: 2,
        to: 3,
    })
    .await;
    e.web_ready(3, "registry.example/web:1.0.0").await;
    let replicas = c
        .kubectl(&[
            "get",
            "deploy/web",
            "-n",
            &e.ns,
            "-o",
            "jsonpath={.spec.replicas}",
        ])
        .await
        .ok();
    assert_eq!(replicas.trim(), "3");

    // A rollout restart replaces every pod.
    let before = e.web_ready(3, "registry.example/web:1.0.0").await;
    e.run(Command::RolloutRestart { target: e.web() }).await;
    let after = watch_until(
        e.pods(),
        watcher::Config::default().labels("app=web"),
        "three new Ready pods after the restart",
        WAIT,
        |pods: &[Arc<Pod>]| {
            let fresh: Vec<String> = pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none() && ready(p))
                .map(|p| name(p))
                .filter(|n| !before.contains(n))
                .collect();
            if fresh.len() == 3 {
                Ok(fresh)
            } else {
                Err(format!("{fresh:?}"))
            }
        },
    )
    .await;
    assert_eq!(after.len(), 3);
    let annotation = c
        .kubectl(&[
            "get",
            "deploy/web",
            "-n",
            &e.ns,
            "-o",
            "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
        ])
        .await
        .ok();
    assert!(
        !annotation.trim().is_empty(),
        "restartedAt is set as kubectl sets it"
    );

    // Set image: the real rollout replaces the pods with the new image.
    e.run(Command::SetImage {
        target: e.web(),
        container: "web".into(),
        from: "registry.example/web:1.0.0".into(),
        to: "registry.example/web:2.0.0".into(),
    })
    .await;
    e.web_ready(3, "registry.example/web:2.0.0").await;
    let history = c
        .kubectl(&["rollout", "history", "deploy/web", "-n", &e.ns])
        .await
        .ok();
    assert!(
        history.lines().count() >= 4,
        "revisions 1–3 (or more): {history}"
    );

    // Roll back to the first revision, as `kubectl rollout undo --to-revision=1`.
    let revision = |d: &Deployment| {
        d.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let deploy: Api<Deployment> = Api::namespaced(e.client.clone(), &e.ns);
    let current = revision(&deploy.get("web").await.expect("the deployment"));
    e.run(Command::Rollback {
        target: e.web(),
        from_revision: current,
        to_revision: 1,
    })
    .await;
    e.web_ready(3, "registry.example/web:1.0.0").await;
    let image = c
        .kubectl(&[
            "get",
            "deploy/web",
            "-n",
            &e.ns,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .await
        .ok();
    assert_eq!(image.trim(), "registry.example/web:1.0.0");

    let audit = e.exec.audit.read().expect("the audit log");
    let actions: Vec<(String, AuditResult)> = audit
        .records
        .into_iter()
        .map(|r| (r.action, r.result))
        .collect();
    for action in ["scale", "rollout-restart", "set-image", "rollback"] {
        assert!(
            actions
                .iter()
                .any(|(a, r)| a == action && *r == AuditResult::Ok),
            "{action} audited as ok: {actions:?}"
        );
    }
}

pub async fn a_pod_disruption_budget_refuses_an_eviction_and_the_refusal_is_audited(
    c: &'static Cluster,
) {
    let e = env(c, "real-pdb").await;
    c.apply(&e.ns, WEB).await;
    c.apply(
        &e.ns,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 2\n  selector: {matchLabels: {app: web}}\n",
    )
    .await;
    let pods = e.web_ready(2, "registry.example/web:1.0.0").await;
    // The disruption controller computes what the budget allows.
    let budget: Api<k8s_openapi::api::policy::v1::PodDisruptionBudget> =
        Api::namespaced(e.client.clone(), &e.ns);
    watch_until(
        budget,
        watcher::Config::default(),
        "the PDB's status",
        WAIT,
        |pdbs| match pdbs.first().and_then(|p| p.status.as_ref()) {
            Some(s) if s.current_healthy == 2 && s.disruptions_allowed == 0 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;

    let refused = e
        .try_run(Command::EvictPod {
            pod: ObjectRef::new(&e.ns, &pods[0]),
        })
        .await;
    match refused {
        Err(ActionError::Rejected(message)) => {
            assert!(
                message.contains("disruption budget"),
                "the server's reason: {message}"
            )
        }
        other => panic!("the PDB must refuse the eviction (429): {other:?}"),
    }
    let still = c
        .kubectl(&["get", "pod", &pods[0], "-n", &e.ns, "-o", "name"])
        .await
        .ok();
    assert!(still.contains(&pods[0]), "the pod is still there");
    let audit = e.exec.audit.read().expect("the audit log");
    let evict = audit
        .records
        .iter()
        .find(|r| r.action == "evict-pod")
        .expect("the eviction is audited");
    assert!(
        matches!(
            evict.result,
            AuditResult::Failed { .. } | AuditResult::Refused { .. }
        ),
        "{:?}",
        evict.result
    );
}

pub async fn delete_pod_cordon_and_cronjob_trigger_and_suspend(c: &'static Cluster) {
    let e = env(c, "real-misc").await;
    c.apply(&e.ns, WEB).await;
    let pods = e.web_ready(2, "registry.example/web:1.0.0").await;

    // Delete: the real ReplicaSet controller replaces the pod.
    e.run(Command::DeletePod {
        pod: ObjectRef::new(&e.ns, &pods[0]),
        grace_seconds: None,
        force: false,
    })
    .await;
    let now = e.web_ready(2, "registry.example/web:1.0.0").await;
    assert!(!now.contains(&pods[0]), "{now:?} replaced {}", pods[0]);

    // Cordon a node, then uncordon it, as kubectl sees it.
    let node = c
        .var("NODES")
        .split(',')
        .next()
        .expect("a node")
        .to_string();
    e.run(Command::Cordon { node: node.clone() }).await;
    let nodes: Api<Node> = Api::all(e.client.clone());
    let field = format!("metadata.name={node}");
    watch_until(
        nodes.clone(),
        watcher::Config::default().fields(&field),
        "the node cordoned",
        WAIT,
        |ns| match ns.first().and_then(|n| n.spec.as_ref()?.unschedulable) {
            Some(true) => Ok(()),
            other => Err(format!("unschedulable {other:?}")),
        },
    )
    .await;
    let flag = c
        .kubectl(&["get", "node", &node, "-o", "jsonpath={.spec.unschedulable}"])
        .await
        .ok();
    assert_eq!(flag.trim(), "true");
    e.run(Command::Uncordon { node: node.clone() }).await;

    // A CronJob triggered by hand: the real Job controller runs it (kwok
    // completes Job pods) and the Job belongs to the CronJob.
    c.apply(
        &e.ns,
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: job, image: registry.example/job:1}]\n",
    )
    .await;
    e.run(Command::TriggerCronJob {
        cronjob: ObjectRef::new(&e.ns, "nightly"),
        job_name: "nightly-manual-1".into(),
    })
    .await;
    let jobs: Api<Job> = Api::namespaced(e.client.clone(), &e.ns);
    watch_until(
        jobs,
        watcher::Config::default(),
        "the triggered Job to complete",
        WAIT,
        |js| match js
            .iter()
            .find(|j| j.metadata.name.as_deref() == Some("nightly-manual-1"))
        {
            Some(j) if j.status.as_ref().and_then(|s| s.succeeded) == Some(1) => Ok(()),
            Some(j) => Err(format!("{:?}", j.status)),
            None => Err("no job yet".into()),
        },
    )
    .await;
    let owner = c
        .kubectl(&[
            "get",
            "job/nightly-manual-1",
            "-n",
            &e.ns,
            "-o",
            "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
        ])
        .await
        .ok();
    assert_eq!(owner.trim(), "CronJob/nightly");

    e.run(Command::SuspendCronJob {
        cronjob: ObjectRef::new(&e.ns, "nightly"),
    })
    .await;
    let cronjobs: Api<CronJob> = Api::namespaced(e.client.clone(), &e.ns);
    let suspended = cronjobs.get("nightly").await.expect("the cronjob");
    assert_eq!(suspended.spec.and_then(|s| s.suspend), Some(true));
}
