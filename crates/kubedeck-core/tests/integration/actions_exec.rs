//! Every action through the executor against the simulator, each checked by
//! watching the cluster reach the expected state.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::reflector::Lookup;
use kube::runtime::watcher;
use kubedeck_core::actions::{
    ActionError, Applied, AuditLog, AuditResult, Command, Executor, ObjectRef, Propagation,
    ResourceRef, WorkloadRef, plan,
};
use kubedeck_core::config::Config;
use kubedeck_sim::config::SimConfig;
use kubedeck_sim::testing::cascade;
use serde::de::DeserializeOwned;
use serde_json::json;

const CONTEXT: &str = "kubedeck-sim";
const WAIT: Duration = Duration::from_secs(60);
const OLD_IMAGE: &str = "registry.example/web:1.0.0";

struct Env {
    // Keeps the simulator (and its temporary directory) alive.
    ts: crate::common::TestSim,
    client: kube::Client,
    exec: Executor,
}

async fn env() -> Env {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let client = ts.client();
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), CONTEXT, "admin", false, audit);
    let env = Env { ts, client, exec };
    wait_web_pods(&env, 2, OLD_IMAGE).await;
    env
}

impl Env {
    async fn run(&self, cmd: Command) -> Applied {
        let confirmation = plan(&self.client, CONTEXT, &Config::default(), cmd)
            .await
            .expect("the action can be planned");
        let confirmed = confirmation.confirm(None).expect("no typed name needed");
        self.exec.execute(confirmed).await.expect("the action runs")
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "demo")
    }

    fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), "demo")
    }

    fn audit_results(&self) -> Vec<(String, AuditResult)> {
        let c = self.exec.audit.read().expect("audit log readable");
        assert!(c.bad_lines.is_empty(), "{:?}", c.bad_lines);
        c.records
            .into_iter()
            .map(|r| (r.action, r.result))
            .collect()
    }
}

/// Watches until `check` accepts the objects; fails after `WAIT`.
async fn watch_until<K, T>(
    api: Api<K>,
    config: watcher::Config,
    what: &str,
    check: impl Fn(&[Arc<K>]) -> Result<T, String>,
) -> T
where
    K: kube::Resource + Lookup + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    <K as Lookup>::DynamicType: Eq + Hash + Clone + Default,
{
    crate::common::watch_until(api, config, what, WAIT, check).await
}

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn image(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.as_deref())
        .unwrap_or("")
}

fn name<K: kube::Resource>(o: &K) -> String {
    o.meta().name.clone().unwrap_or_default()
}

fn describe(pods: &[Arc<Pod>]) -> String {
    pods.iter()
        .map(|p| format!("{} {} ready={}", name(p.as_ref()), image(p), ready(p)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Exactly `n` pods of web, all Ready on `image`, none terminating.
async fn wait_web_pods(env: &Env, n: usize, img: &str) -> Vec<Arc<Pod>> {
    watch_until(
        env.pods(),
        watcher::Config::default().labels("app=web"),
        &format!("{n} Ready web pods on {img}"),
        |pods| {
            if pods.len() == n && pods.iter().all(|p| ready(p) && image(p) == img) {
                Ok(pods.to_vec())
            } else {
                Err(describe(pods))
            }
        },
    )
    .await
}

fn web() -> WorkloadRef {
    WorkloadRef::deployment("demo", "web")
}

fn revision(d: &Deployment) -> Option<i64> {
    d.metadata
        .annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_changes_replicas_and_pods_become_ready() {
    let env = env().await;
    let out = env
        .run(Command::Scale {
            target: web(),
            from: 2,
            to: 3,
        })
        .await;
    assert_eq!(out.message, "deployment/web scaled to 3");
    assert!(out.duration > Duration::ZERO);
    watch_until(
        env.deployments(),
        watcher::Config::default().fields("metadata.name=web"),
        "web at 3 ready replicas",
        |ds| match ds.first().and_then(|d| d.status.clone()) {
            Some(s) if s.ready_replicas == Some(3) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;
    wait_web_pods(&env, 3, OLD_IMAGE).await;
    assert_eq!(env.audit_results(), vec![("scale".into(), AuditResult::Ok)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_restart_rolls_out_a_new_replicaset() {
    let env = env().await;
    let rs_api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "demo");
    let before: Vec<String> = rs_api
        .list(&Default::default())
        .await
        .expect("list replicasets")
        .items
        .iter()
        .map(name)
        .collect();
    let old_pods: Vec<String> = wait_web_pods(&env, 2, OLD_IMAGE)
        .await
        .iter()
        .map(|p| name(p.as_ref()))
        .collect();
    let out = env.run(Command::RolloutRestart { target: web() }).await;
    assert_eq!(out.message, "deployment/web restarted");
    let new_rs = watch_until(
        rs_api,
        watcher::Config::default().labels("app=web"),
        "a new ReplicaSet with 2 ready pods and the old one at 0",
        |sets| {
            let fresh: Vec<_> = sets
                .iter()
                .filter(|r| !before.contains(&name(r.as_ref())))
                .collect();
            let old_empty = sets
                .iter()
                .filter(|r| before.contains(&name(r.as_ref())))
                .all(|r| r.spec.as_ref().and_then(|s| s.replicas) == Some(0));
            match fresh.as_slice() {
                [rs] if old_empty
                    && rs.status.as_ref().and_then(|s| s.ready_replicas) == Some(2) =>
                {
                    Ok(name(rs.as_ref()))
                }
                _ => Err(format!(
                    "{:?}",
                    sets.iter()
                        .map(|r| (name(r.as_ref()), r.status.as_ref().map(|s| s.replicas)))
                        .collect::<Vec<_>>()
                )),
            }
        },
    )
    .await;
    let pods = wait_web_pods(&env, 2, OLD_IMAGE).await;
    assert!(pods.iter().all(|p| !old_pods.contains(&name(p.as_ref()))));
    assert!(pods.iter().all(|p| name(p.as_ref()).starts_with(&new_rs)));
    let d = env.deployments().get("web").await.expect("get web");
    let annotations = d
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert!(annotations.contains_key("kubectl.kubernetes.io/restartedAt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_image_rolls_out_the_new_image() {
    let env = env().await;
    let out = env
        .run(Command::SetImage {
            target: web(),
            container: "web".into(),
            from: OLD_IMAGE.into(),
            to: "registry.example/web:1.1.0".into(),
        })
        .await;
    assert_eq!(
        (out.before.as_str(), out.after.as_str()),
        (OLD_IMAGE, "registry.example/web:1.1.0")
    );
    wait_web_pods(&env, 2, "registry.example/web:1.1.0").await;
}

/// The acceptance scenario: a bad image stalls the rollout, a rollback to
/// the previous revision brings every pod back Ready on the old image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_image_stalls_then_rollback_restores_the_old_revision() {
    let env = env().await;
    // A short deadline so that the stall shows as ProgressDeadlineExceeded.
    env.deployments()
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"progressDeadlineSeconds": 3}})),
        )
        .await
        .expect("patch deadline");
    let d = env.deployments().get("web").await.expect("get web");
    assert_eq!(revision(&d), Some(1));
    env.run(Command::SetImage {
        target: web(),
        container: "web".into(),
        from: OLD_IMAGE.into(),
        to: "registry.example/web:notfound".into(),
    })
    .await;
    watch_until(
        env.pods(),
        watcher::Config::default().labels("app=web"),
        "a new pod in ImagePullBackOff",
        |pods| {
            let stuck = pods.iter().any(|p| {
                image(p).ends_with(":notfound")
                    && p.status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .and_then(|cs| cs.first())
                        .and_then(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                        .is_some_and(|r| r == "ImagePullBackOff" || r == "ErrImagePull")
            });
            if stuck { Ok(()) } else { Err(describe(pods)) }
        },
    )
    .await;
    let stalled = watch_until(
        env.deployments(),
        watcher::Config::default().fields("metadata.name=web"),
        "Progressing=False with ProgressDeadlineExceeded",
        |ds| {
            let d = ds.first().ok_or("no deployment")?;
            let cond = d
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Progressing"));
            match cond {
                Some(c) if c.reason.as_deref() == Some("ProgressDeadlineExceeded") => {
                    Ok(d.as_ref().clone())
                }
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert_eq!(revision(&stalled), Some(2));
    // The old pods kept serving while the new one could not start.
    let ready_old = env
        .pods()
        .list(&kube::api::ListParams::default().labels("app=web"))
        .await
        .expect("list pods")
        .items
        .iter()
        .filter(|p| ready(p) && image(p) == OLD_IMAGE)
        .count();
    assert_eq!(ready_old, 2);

    let rollback = Command::Rollback {
        target: web(),
        from_revision: 2,
        to_revision: 1,
    };
    let confirmation = plan(&env.client, CONTEXT, &Config::default(), rollback)
        .await
        .expect("plan rollback");
    assert!(
        confirmation
            .consequences()
            .contains(&format!("revision 1 runs {OLD_IMAGE}")),
        "{:?}",
        confirmation.consequences()
    );
    let out = env
        .exec
        .execute(confirmation.confirm(None).expect("confirm"))
        .await
        .expect("rollback runs");
    assert_eq!(out.message, "deployment/web rolled back to revision 1");
    watch_until(
        env.deployments(),
        watcher::Config::default().fields("metadata.name=web"),
        "web at revision 3 with the old image, all Ready",
        |ds| {
            let d = ds.first().ok_or("no deployment")?;
            let img = d
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone());
            let st = d.status.clone().unwrap_or_default();
            if revision(d) == Some(3)
                && img.as_deref() == Some(OLD_IMAGE)
                && st.ready_replicas == Some(2)
                && st.updated_replicas == Some(2)
            {
                Ok(())
            } else {
                Err(format!("rev {:?} image {img:?} status {st:?}", revision(d)))
            }
        },
    )
    .await;
    wait_web_pods(&env, 2, OLD_IMAGE).await;
    let actions: Vec<String> = env.audit_results().into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, vec!["set-image", "rollback"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_resume_toggle_the_rollout() {
    let env = env().await;
    env.run(Command::PauseRollout { target: web() }).await;
    watch_until(
        env.deployments(),
        watcher::Config::default().fields("metadata.name=web"),
        "web paused",
        |ds| match ds.first().and_then(|d| d.spec.as_ref()?.paused) {
            Some(true) => Ok(()),
            other => Err(format!("paused={other:?}")),
        },
    )
    .await;
    // A rollback of a paused Deployment is refused, as kubectl does.
    let err = env
        .exec
        .execute(
            plan(
                &env.client,
                CONTEXT,
                &Config::default(),
                Command::Rollback {
                    target: web(),
                    from_revision: 1,
                    to_revision: 0,
                },
            )
            .await
            .expect("plan")
            .confirm(None)
            .expect("confirm"),
        )
        .await
        .expect_err("paused deployments are not rolled back");
    assert!(err.to_string().contains("paused"), "{err}");
    env.run(Command::ResumeRollout { target: web() }).await;
    watch_until(
        env.deployments(),
        watcher::Config::default().fields("metadata.name=web"),
        "web resumed",
        |ds| match ds.first().and_then(|d| d.spec.as_ref()?.paused) {
            Some(true) => Err("paused".to_string()),
            _ => Ok(()),
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_evicted_pods_are_replaced() {
    let env = env().await;
    let pods = wait_web_pods(&env, 2, OLD_IMAGE).await;
    let victim = name(pods[0].as_ref());
    let out = env
        .run(Command::DeletePod {
            pod: ObjectRef::new("demo", &victim),
            grace_seconds: Some(1),
            force: false,
        })
        .await;
    assert_eq!(out.message, format!("pod/{victim} deleted"));
    let replaced = watch_until(
        env.pods(),
        watcher::Config::default().labels("app=web"),
        "the deleted pod gone and 2 Ready pods",
        |pods| {
            let names: Vec<String> = pods.iter().map(|p| name(p.as_ref())).collect();
            if !names.contains(&victim) && pods.len() == 2 && pods.iter().all(|p| ready(p)) {
                Ok(names)
            } else {
                Err(describe(pods))
            }
        },
    )
    .await;
    // The PDB (minAvailable 1) allows one disruption with both pods Ready.
    let evicted = replaced[0].clone();
    let out = env
        .run(Command::EvictPod {
            pod: ObjectRef::new("demo", &evicted),
        })
        .await;
    assert_eq!(out.message, format!("pod/{evicted} evicted"));
    watch_until(
        env.pods(),
        watcher::Config::default().labels("app=web"),
        "the evicted pod gone and 2 Ready pods",
        |pods| {
            let gone = pods.iter().all(|p| name(p.as_ref()) != evicted);
            if gone && pods.len() == 2 && pods.iter().all(|p| ready(p)) {
                Ok(())
            } else {
                Err(describe(pods))
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordon_and_uncordon_a_node() {
    let env = env().await;
    let nodes: Api<Node> = Api::all(env.client.clone());
    let unschedulable = |want: bool| {
        move |ns: &[Arc<Node>]| match ns.first() {
            Some(n)
                if n.spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false)
                    == want =>
            {
                Ok(())
            }
            other => Err(format!("{:?}", other.map(|n| n.spec.clone()))),
        }
    };
    let by_name = || watcher::Config::default().fields("metadata.name=sim-node-2");
    let out = env
        .run(Command::Cordon {
            node: "sim-node-2".into(),
        })
        .await;
    assert_eq!(out.message, "node/sim-node-2 cordoned");
    watch_until(
        nodes.clone(),
        by_name(),
        "node cordoned",
        unschedulable(true),
    )
    .await;
    env.run(Command::Uncordon {
        node: "sim-node-2".into(),
    })
    .await;
    watch_until(nodes, by_name(), "node uncordoned", unschedulable(false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_trigger_creates_a_job_and_suspend_resume_toggle() {
    let env = env().await;
    let cronjobs: Api<CronJob> = Api::namespaced(env.client.clone(), "demo");
    let cj: CronJob = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "demo"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {
            "metadata": {"labels": {"app": "nightly"}},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "task", "image": "registry.example/task:1"}]}}}}}
    }))
    .expect("cronjob JSON");
    let cj = cronjobs
        .create(&PostParams::default(), &cj)
        .await
        .expect("create cronjob");
    let uid = cj.metadata.uid.clone().expect("uid");
    env.run(Command::TriggerCronJob {
        cronjob: ObjectRef::new("demo", "nightly"),
        job_name: "nightly-manual-1".into(),
    })
    .await;
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "demo");
    watch_until(
        jobs,
        watcher::Config::default().fields("metadata.name=nightly-manual-1"),
        "the manual Job owned by the CronJob",
        |js| {
            let j = js.first().ok_or("no job yet")?;
            let manual = j
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("cronjob.kubernetes.io/instantiate"))
                .map(String::as_str)
                == Some("manual");
            let owned = j.metadata.owner_references.as_ref().is_some_and(|rs| {
                rs.iter()
                    .any(|r| r.kind == "CronJob" && r.uid == uid && r.controller == Some(true))
            });
            if manual && owned {
                Ok(())
            } else {
                Err(format!("{:?}", j.metadata))
            }
        },
    )
    .await;
    let suspended = |want: bool| {
        move |cs: &[Arc<CronJob>]| match cs.first().and_then(|c| c.spec.as_ref()?.suspend) {
            Some(s) if s == want => Ok(()),
            other => Err(format!("suspend={other:?}")),
        }
    };
    let by_name = || watcher::Config::default().fields("metadata.name=nightly");
    env.run(Command::SuspendCronJob {
        cronjob: ObjectRef::new("demo", "nightly"),
    })
    .await;
    watch_until(cronjobs.clone(), by_name(), "suspended", suspended(true)).await;
    env.run(Command::ResumeCronJob {
        cronjob: ObjectRef::new("demo", "nightly"),
    })
    .await;
    watch_until(cronjobs, by_name(), "resumed", suspended(false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpa_is_named_when_scaling_and_its_bounds_can_change() {
    let env = env().await;
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(env.client.clone(), "demo");
    let hpa: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "demo"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 10,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                     "target": {"type": "Utilization", "averageUtilization": 80}}}]}
    }))
    .expect("hpa JSON");
    hpas.create(&PostParams::default(), &hpa)
        .await
        .expect("create hpa");
    let confirmation = plan(
        &env.client,
        CONTEXT,
        &Config::default(),
        Command::Scale {
            target: web(),
            from: 2,
            to: 0,
        },
    )
    .await
    .expect("plan");
    assert_eq!(
        confirmation.consequences(),
        [
            "HPA web manages this deployment: it will set replicas back to 2–10",
            "2 of 2 ready pods will be killed; service web will have 0 endpoints",
        ]
    );
    env.run(Command::SetHpaBounds {
        hpa: ObjectRef::new("demo", "web"),
        from_min: 2,
        from_max: 10,
        min: 3,
        max: 6,
    })
    .await;
    watch_until(
        hpas,
        watcher::Config::default().fields("metadata.name=web"),
        "HPA bounds 3–6",
        |hs| match hs.first().and_then(|h| h.spec.clone()) {
            Some(s) if s.min_replicas == Some(3) && s.max_replicas == 6 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_rolls_back_from_its_controller_revisions() {
    let env = env().await;
    let sets: Api<StatefulSet> = Api::namespaced(env.client.clone(), "demo");
    let set: StatefulSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "demo"},
        "spec": {"replicas": 2, "serviceName": "db",
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}},
                     "spec": {"containers": [{"name": "db", "image": "registry.example/db:1"}]}}}
    }))
    .expect("statefulset JSON");
    sets.create(&PostParams::default(), &set)
        .await
        .expect("create statefulset");
    let db_ready = |img: &'static str| {
        move |pods: &[Arc<Pod>]| {
            if pods.len() == 2 && pods.iter().all(|p| ready(p) && image(p) == img) {
                Ok(())
            } else {
                Err(describe(pods))
            }
        }
    };
    let db_pods = || watcher::Config::default().labels("app=db");
    watch_until(
        env.pods(),
        db_pods(),
        "db on 1",
        db_ready("registry.example/db:1"),
    )
    .await;
    let target = WorkloadRef::statefulset("demo", "db");
    env.run(Command::SetImage {
        target: target.clone(),
        container: "db".into(),
        from: "registry.example/db:1".into(),
        to: "registry.example/db:2".into(),
    })
    .await;
    watch_until(
        env.pods(),
        db_pods(),
        "db on 2",
        db_ready("registry.example/db:2"),
    )
    .await;
    let out = env
        .run(Command::Rollback {
            target,
            from_revision: 2,
            to_revision: 1,
        })
        .await;
    assert_eq!(out.message, "statefulset/db rolled back to revision 1");
    watch_until(
        env.pods(),
        db_pods(),
        "db back on 1",
        db_ready("registry.example/db:1"),
    )
    .await;
}

/// `kubectl rollout history deployment/web`, once it shows `wanted`.
async fn history_showing(env: &Env, wanted: &str) -> String {
    crate::common::wait_until(
        &format!("the rollout history to show {wanted:?}"),
        WAIT,
        || async {
            let out = env
                .ts
                .kubectl(&["rollout", "history", "deployment/web", "-n", "demo"])
                .await;
            if out.stdout.contains(wanted) {
                Ok(out.stdout)
            } else {
                Err(format!("{}{}", out.stdout, out.stderr))
            }
        },
    )
    .await
}

async fn wait_revision(env: &Env, n: i64) {
    crate::common::wait_until(&format!("web at revision {n}"), WAIT, || async {
        let d = env
            .deployments()
            .get("web")
            .await
            .map_err(|e| e.to_string())?;
        match revision(&d) {
            Some(r) if r == n => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// kubedeck's changes say what and who in `kubectl rollout history`, as
/// `kubectl --record` once did, instead of `<none>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_say_what_and_who_in_the_rollout_history() {
    let env = env().await;
    env.run(Command::RolloutRestart { target: web() }).await;
    let restarted = "kubectl rollout restart deployment/web -n demo (kubedeck, by admin)";
    history_showing(&env, restarted).await;
    wait_revision(&env, 2).await;
    let new_image = "registry.example/web:1.1.0";
    env.run(Command::SetImage {
        target: web(),
        container: "web".into(),
        from: OLD_IMAGE.into(),
        to: new_image.into(),
    })
    .await;
    history_showing(
        &env,
        &format!("kubectl set image deployment/web web={new_image} -n demo (kubedeck, by admin)"),
    )
    .await;
    wait_revision(&env, 3).await;
    env.run(Command::Rollback {
        target: web(),
        from_revision: 3,
        to_revision: 0,
    })
    .await;
    // Revision 2 comes back as 4, with why it came back, not why it was made.
    let history = history_showing(
        &env,
        "kubectl rollout undo deployment/web --to-revision=2 -n demo (kubedeck, by admin)",
    )
    .await;
    let row = |n: &str| {
        history
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("4").contains("rollout undo"), "{history}");
    assert!(row("3").contains("set image"), "{history}");
    assert!(!history.contains(restarted), "{history}");
}

/// A read-only refusal is audited under the name its command has when it
/// runs: the console's key names (`kill`, `trigger`, `restart`, `pause`)
/// do not appear in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_audited_under_the_commands_own_names() {
    let env = env().await;
    let audit = AuditLog::new(env.ts.dir.path().join("readonly-audit.jsonl"));
    let readonly = Executor::new(env.client.clone(), CONTEXT, "viewer", true, audit.clone());
    let cases = [
        ("pod/web-abc", "kill", "delete-pod"),
        ("pod/web-abc", "delete", "delete-pod"),
        ("cronjob/backup", "trigger", "trigger-cronjob"),
        ("deployment/web", "restart", "rollout-restart"),
        ("deployment/web", "scale", "scale"),
        ("deployment/web", "pause", "pause-rollout"),
        ("deployment/web", "recovery-test", "recovery-test"),
    ];
    for (object, key, _) in cases {
        assert_eq!(
            readonly.record_readonly_refusal("demo", object, key).await,
            None
        );
    }
    // `pause` on a paused Deployment would resume it.
    env.run(Command::PauseRollout { target: web() }).await;
    readonly
        .record_readonly_refusal("demo", "deployment/web", "pause")
        .await;
    let records = audit.read().expect("the audit log").records;
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    let mut expected: Vec<&str> = cases.iter().map(|c| c.2).collect();
    expected.push("resume-rollout");
    assert_eq!(actions, expected);
    assert!(records.iter().all(|r| matches!(
        &r.result,
        AuditResult::Refused { reason } if reason == "read-only"
    )));
    // And a delete the executor itself refuses reads the same.
    let pods = env
        .pods()
        .list(&Default::default())
        .await
        .expect("web's pods");
    let pod = name(pods.items.first().expect("a web pod"));
    let confirmation = plan(
        &env.client,
        CONTEXT,
        &Config::default(),
        Command::DeletePod {
            pod: ObjectRef::new("demo", &pod),
            grace_seconds: None,
            force: true,
        },
    )
    .await
    .expect("the delete can be planned");
    let refused = readonly
        .execute(confirmation.confirm(None).expect("confirmed"))
        .await;
    assert!(refused.is_err());
    let last = audit
        .read()
        .expect("the audit log")
        .records
        .pop()
        .expect("a record");
    assert_eq!(
        (last.action.as_str(), last.object),
        ("delete-pod", format!("pod/{pod}"))
    );
}

fn resource(
    group: &str,
    kind: &str,
    plural: &str,
    namespace: Option<&str>,
    name: &str,
) -> ResourceRef {
    ResourceRef {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
        namespace: namespace.map(Into::into),
        name: name.into(),
    }
}

/// Delete of a Deployment with each propagation policy does what
/// kubectl's would: the dialog says what goes or stays, read from the
/// cluster; background collects the ReplicaSet and pods after the
/// Deployment, foreground before it, orphan keeps them without an owner.
/// A read-only executor refuses first, and nothing is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_deployment_follows_each_propagation_policy() {
    let env = env().await;
    let delete = |app: &str, propagation| Command::DeleteResource {
        object: resource("apps", "Deployment", "deployments", Some("demo"), app),
        propagation,
    };
    let readonly = Executor::new(
        env.client.clone(),
        CONTEXT,
        "viewer",
        true,
        AuditLog::new(env.ts.dir.path().join("readonly-audit.jsonl")),
    );
    let refused = readonly
        .execute(
            plan(
                &env.client,
                CONTEXT,
                &Config::default(),
                delete("web", Propagation::Background),
            )
            .await
            .expect("the delete can be planned")
            .confirm(None)
            .expect("confirmed"),
        )
        .await;
    assert!(
        matches!(refused, Err(ActionError::ReadOnly { .. })),
        "{refused:?}"
    );
    env.deployments()
        .get("web")
        .await
        .expect("a refused delete leaves web");
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
        let before = cascade::deployment(&env.client, "demo", app, WAIT).await;
        let confirmation = plan(
            &env.client,
            CONTEXT,
            &Config::default(),
            delete(app, propagation),
        )
        .await
        .expect("the delete can be planned");
        assert_eq!(confirmation.consequences(), [said]);
        assert_eq!(
            confirmation.kubectl(),
            format!(
                "kubectl delete deployment.apps/{app} -n demo --cascade={} --context {CONTEXT}",
                propagation.cascade()
            )
        );
        env.exec
            .execute(confirmation.confirm(None).expect("confirmed"))
            .await
            .expect("the delete runs");
        cascade::expect_cascade(&env.client, "demo", app, policy, &before, WAIT).await;
    }
    assert_eq!(
        env.audit_results(),
        vec![("delete".to_string(), AuditResult::Ok); 3]
    );
    let refusals = readonly.audit.read().expect("the audit log").records;
    assert_eq!(refusals.len(), 1);
    assert_eq!(
        (refusals[0].action.as_str(), refusals[0].object.as_str()),
        ("delete", "deployment.apps/web")
    );
}

/// What the dialog says of other kinds, read from the simulator: what a
/// namespace holds, a ConfigMap that owns nothing, what owns a
/// ReplicaSet; a missing object is not planned at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_any_resource_says_what_goes_with_it() {
    let env = env().await;
    let consequences = |object| async {
        plan(
            &env.client,
            CONTEXT,
            &Config::default(),
            Command::DeleteResource {
                object,
                propagation: Propagation::Background,
            },
        )
        .await
        .map(|c| c.consequences().to_vec())
    };
    let ns = consequences(resource("", "Namespace", "namespaces", None, "demo"))
        .await
        .expect("the namespace can be planned");
    let pods = env.pods().list(&Default::default()).await.expect("pods");
    assert!(
        ns[0].starts_with("deleting namespace/demo deletes everything in it: ")
            && ns[0].contains(&format!("{} pods", pods.items.len()))
            && ns[0].contains("1 deployment"),
        "{ns:?}"
    );
    let settings: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "settings"}, "data": {"a": "b"}
    }))
    .expect("a ConfigMap");
    Api::<ConfigMap>::namespaced(env.client.clone(), "demo")
        .create(&PostParams::default(), &settings)
        .await
        .expect("the ConfigMap is created");
    let cm = consequences(resource(
        "",
        "ConfigMap",
        "configmaps",
        Some("demo"),
        "settings",
    ))
    .await
    .expect("the ConfigMap can be planned");
    assert_eq!(
        cm,
        ["configmap/settings owns no pods, replicasets, jobs or other kinds checked"]
    );
    let rs_api: Api<ReplicaSet> = Api::namespaced(env.client.clone(), "demo");
    let rs = rs_api
        .list(&Default::default())
        .await
        .expect("replicasets")
        .items
        .into_iter()
        .find(|r| r.spec.as_ref().and_then(|s| s.replicas) == Some(2))
        .expect("web's ReplicaSet");
    let rs = consequences(resource(
        "apps",
        "ReplicaSet",
        "replicasets",
        Some("demo"),
        &name(&rs),
    ))
    .await
    .expect("the ReplicaSet can be planned");
    assert_eq!(
        rs[0], "controlled by deployment/web, which may create it again",
        "{rs:?}"
    );
    assert!(rs[1].ends_with("deletes 2 pods"), "{rs:?}");
    let missing = consequences(resource(
        "",
        "ConfigMap",
        "configmaps",
        Some("demo"),
        "nope",
    ))
    .await;
    assert!(
        matches!(missing, Err(ActionError::NotFound(_))),
        "{missing:?}"
    );
}
