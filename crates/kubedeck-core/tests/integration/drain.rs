//! Draining a node through the executor against the simulator, as kubectl
//! drain does: a Deployment's pods behind a PodDisruptionBudget, a
//! DaemonSet pod left alone, an emptyDir pod refused without the flag, a
//! budget that allows nothing (time out, or relaxed half way), and
//! read-only mode. Each outcome is checked by watching the cluster.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kubedeck_core::actions::{
    ActionError, AuditLog, AuditResult, Command, Confirmed, DrainEvent, DrainOptions, DrainOutcome,
    DrainReport, DrainUpdate, Executor, plan,
};
use kubedeck_core::config::Config;
use kubedeck_sim::config::{AuthMode, SimConfig};
use serde_json::json;
use tokio::sync::mpsc;

const CONTEXT: &str = "kubedeck-sim";
const WAIT: Duration = Duration::from_secs(60);
use kubedeck_sim::testing::drain::{MANIFESTS, NODE, OTHER, placement};

struct Env {
    ts: crate::common::TestSim,
    client: kube::Client,
    exec: Executor,
    _manifests: tempfile::TempDir,
}

async fn env() -> Env {
    env_with(SimConfig::default()).await
}

async fn env_with(config: SimConfig) -> Env {
    let manifests = tempfile::tempdir().expect("temporary directory");
    let file = manifests.path().join("drain.yaml");
    std::fs::write(&file, MANIFESTS).expect("write the manifests");
    let ts = crate::common::start_full("empty", config, vec![file]).await;
    // As kubedeck connects: kube-rs would retry an eviction's 429 itself,
    // hiding the budget's answer.
    let client = client_for(&ts, "kubedeck-sim").await;
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), CONTEXT, "admin", false, audit);
    let env = Env {
        ts,
        client,
        exec,
        _manifests: manifests,
    };
    env.pods_on("app=api", NODE, 2).await;
    env.agent_on(NODE).await;
    env
}

/// A client for a context of the simulator's kubeconfig, made as kubedeck
/// makes its own: kube-rs would retry an eviction's 429 itself, hiding the
/// budget's answer.
async fn client_for(ts: &crate::common::TestSim, context: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(&ts.kubeconfig).expect("read the kubeconfig");
    let options = KubeConfigOptions {
        context: Some(context.into()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("a config for the context");
    config.default_retry = false;
    kube::Client::try_from(config).expect("a client")
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

fn node_of(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

impl Env {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "drain")
    }

    /// Waits until `selector` has exactly `n` live pods, all Ready on `node`.
    async fn pods_on(&self, selector: &str, node: &str, n: usize) -> Vec<String> {
        crate::common::watch_until(
            self.pods(),
            watcher::Config::default().labels(selector),
            &format!("{n} Ready {selector} pods on {node}"),
            WAIT,
            |pods| {
                let live: Vec<&Arc<Pod>> = pods
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .collect();
                let seen: Vec<String> = live
                    .iter()
                    .map(|p| format!("{} on {} ready={}", name(p), node_of(p), ready(p)))
                    .collect();
                if live.len() == n && live.iter().all(|p| ready(p) && node_of(p) == node) {
                    Ok(live.iter().map(|p| name(p)).collect())
                } else {
                    Err(seen.join("; "))
                }
            },
        )
        .await
    }

    /// The DaemonSet's pod on `node` (it has one on every node), once Ready.
    async fn agent_on(&self, node: &str) -> String {
        crate::common::watch_until(
            self.pods(),
            watcher::Config::default().labels("app=agent"),
            &format!("the agent pod Ready on {node}"),
            WAIT,
            |pods| {
                let here: Vec<&Arc<Pod>> = pods
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none() && node_of(p) == node)
                    .collect();
                match here.as_slice() {
                    [one] if ready(one) => Ok(name(one)),
                    _ => Err(format!("{} agent pods on {node}", here.len())),
                }
            },
        )
        .await
    }

    async fn set_unschedulable(&self, node: &str, on: bool) {
        let value = if on { json!(true) } else { json!(null) };
        Api::<Node>::all(self.client.clone())
            .patch(
                node,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"unschedulable": value}})),
            )
            .await
            .expect("patch the node");
    }

    async fn unschedulable(&self, node: &str) -> bool {
        let n = Api::<Node>::all(self.client.clone())
            .get(node)
            .await
            .expect("the node");
        n.spec.and_then(|s| s.unschedulable) == Some(true)
    }

    async fn budget_min_available(&self, n: i32) {
        Api::<PodDisruptionBudget>::namespaced(self.client.clone(), "drain")
            .patch(
                "api",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"minAvailable": n}})),
            )
            .await
            .expect("patch the budget");
    }

    /// The plan's confirmation, confirmed: what the dialog shows, and the
    /// only thing the executor runs.
    async fn confirm(&self, options: DrainOptions) -> (Vec<String>, Confirmed) {
        let cmd = Command::Drain {
            node: NODE.into(),
            options,
        };
        let c = plan(&self.client, CONTEXT, &Config::default(), cmd)
            .await
            .expect("the drain can be planned");
        let consequences = c.consequences().to_vec();
        (consequences, c.confirm(None).expect("no typed name needed"))
    }

    async fn drain(
        &self,
        exec: &Executor,
        confirmed: Confirmed,
    ) -> (Result<DrainReport, ActionError>, Vec<DrainUpdate>) {
        let mut updates = Vec::new();
        let mut on = |u: &DrainUpdate| updates.push(u.clone());
        let result = exec.drain(confirmed, &mut on, std::future::pending()).await;
        (result, updates)
    }

    fn audit(&self, exec: &Executor) -> Vec<(String, String, AuditResult)> {
        let c = exec.audit.read().expect("audit log readable");
        assert!(c.bad_lines.is_empty(), "{:?}", c.bad_lines);
        c.records
            .into_iter()
            .map(|r| (r.action, r.object, r.result))
            .collect()
    }
}

fn options() -> DrainOptions {
    DrainOptions {
        ignore_daemonsets: true,
        ..DrainOptions::default()
    }
}

fn lines(updates: &[DrainUpdate]) -> String {
    updates
        .iter()
        .map(|u| u.event.line(NODE))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_holds_the_drain_until_the_replacement_is_ready_elsewhere() {
    let env = env().await;
    let before = env.pods_on("app=api", NODE, 2).await;
    let agent = env.agent_on(NODE).await;
    env.set_unschedulable(OTHER, false).await;

    let (consequences, confirmed) = env.confirm(options()).await;
    assert_eq!(
        confirmed.confirmation().kubectl(),
        "kubectl drain drain-a --ignore-daemonsets --timeout=300s --context kubedeck-sim"
    );
    let mut evicted = before
        .iter()
        .map(|p| format!("drain/{p}"))
        .collect::<Vec<_>>();
    evicted.sort();
    assert_eq!(
        consequences,
        vec![
            format!("evicts 2 pods: {}", evicted.join(", ")),
            format!("leaves 1 pod (DaemonSet-managed): drain/{agent}"),
            "PodDisruptionBudget drain/api allows 1 disruption now and 2 of its Ready pods are here: the drain waits until replacements are Ready elsewhere".to_string(),
            "service drain/api loses all its 2 Ready endpoints until replacements are Ready on another node".to_string(),
        ]
    );

    let (result, updates) = env.drain(&env.exec, confirmed).await;
    let report = result.expect("the drain runs");
    assert_eq!(report.outcome, DrainOutcome::Drained, "{}", lines(&updates));
    assert_eq!(report.evicted, evicted);
    assert_eq!(
        report.skipped,
        vec![(format!("drain/{agent}"), "DaemonSet-managed".to_string())]
    );
    // One pod went at once; the other waited on the budget, by name, until
    // the first one's replacement was Ready on the other node.
    let events: Vec<&DrainEvent> = updates.iter().map(|u| &u.event).collect();
    assert_eq!(events[0], &DrainEvent::Cordoned { already: false });
    let blocked = events
        .iter()
        .position(|e| matches!(e, DrainEvent::Blocked { budget: Some(b), .. } if b == "api"))
        .unwrap_or_else(|| panic!("no wait on the budget:\n{}", lines(&updates)));
    let blocked_pod = match events[blocked] {
        DrainEvent::Blocked { pod, message, .. } => {
            assert_eq!(
                message,
                "The disruption budget api needs 1 healthy pods and has 1 currently"
            );
            pod.clone()
        }
        _ => unreachable!(),
    };
    assert!(
        events[blocked..].contains(&&DrainEvent::Evicted {
            pod: blocked_pod.clone()
        }),
        "{}",
        lines(&updates)
    );
    assert!(
        updates[blocked]
            .status
            .contains("1 waiting on PodDisruptionBudget api"),
        "{}",
        updates[blocked].status
    );

    env.pods_on("app=api", OTHER, 2).await;
    assert!(env.unschedulable(NODE).await, "the node stays cordoned");
    assert_eq!(env.agent_on(NODE).await, agent, "the DaemonSet pod stays");
    let audit = env.audit(&env.exec);
    let drains: Vec<_> = audit.iter().filter(|(a, _, _)| a == "drain").collect();
    assert_eq!(
        drains,
        vec![&("drain".into(), "node/drain-a".into(), AuditResult::Ok)]
    );
    let evictions: Vec<&String> = audit
        .iter()
        .filter(|(a, _, r)| a == "evict-pod" && *r == AuditResult::Ok)
        .map(|(_, o, _)| o)
        .collect();
    assert_eq!(evictions.len(), 2, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_that_allows_nothing_times_out_honestly_then_completes_once_relaxed() {
    let env = env().await;
    env.set_unschedulable(OTHER, false).await;
    env.budget_min_available(2).await;
    let budgets = Api::<PodDisruptionBudget>::namespaced(env.client.clone(), "drain");
    crate::common::watch_until(
        budgets,
        watcher::Config::default(),
        "the budget to need both pods",
        WAIT,
        |pdbs| match pdbs.first().and_then(|p| p.status.as_ref()) {
            Some(s) if s.desired_healthy == 2 && s.disruptions_allowed == 0 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;
    let quick = DrainOptions {
        timeout_seconds: 2,
        ..options()
    };
    let (consequences, confirmed) = env.confirm(quick).await;
    assert!(
        consequences.contains(&"PodDisruptionBudget drain/api needs all 2 of its pods healthy, so it allows no eviction: the drain waits until the budget is relaxed, or times out".to_string()),
        "{consequences:#?}"
    );
    let (result, updates) = env.drain(&env.exec, confirmed).await;
    let report = result.expect("the drain ran");
    assert_eq!(
        report.outcome,
        DrainOutcome::TimedOut(Duration::from_secs(2)),
        "{}",
        lines(&updates)
    );
    assert!(report.evicted.is_empty());
    assert_eq!(report.remaining.len(), 2);
    for (_, why) in &report.remaining {
        assert_eq!(
            why,
            "waiting on PodDisruptionBudget api: The disruption budget api needs 2 healthy pods and has 2 currently"
        );
    }
    assert!(
        report.summary().starts_with(
            "drain of node/drain-a timed out after 2.00s: 0 pods evicted, 2 pods not gone: "
        ) && report.summary().ends_with("node/drain-a stays cordoned"),
        "{}",
        report.summary()
    );
    assert!(env.unschedulable(NODE).await);
    env.pods_on("app=api", NODE, 2).await;
    let audit = env.audit(&env.exec);
    assert!(
        matches!(&audit.last(), Some((a, _, AuditResult::Failed { message })) if a == "drain" && message.contains("timed out")),
        "{audit:?}"
    );

    // Again, and the budget relaxed once the drain says it waits on it.
    let (_, confirmed) = env.confirm(options()).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut on = move |u: &DrainUpdate| {
        log.lock().unwrap().push(u.clone());
        let _ = tx.send(u.event.clone());
    };
    let relax = async {
        while let Some(event) = rx.recv().await {
            if matches!(event, DrainEvent::Blocked { .. }) {
                env.budget_min_available(1).await;
                break;
            }
        }
    };
    let (result, ()) = tokio::join!(
        env.exec.drain(confirmed, &mut on, std::future::pending()),
        relax
    );
    let updates = seen.lock().unwrap().clone();
    let report = result.expect("the drain ran");
    assert_eq!(report.outcome, DrainOutcome::Drained, "{}", lines(&updates));
    assert_eq!(report.evicted.len(), 2);
    assert_eq!(
        updates[0].event,
        DrainEvent::Cordoned { already: true },
        "the first drain left it cordoned"
    );
    env.pods_on("app=api", OTHER, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_storage_and_daemonsets_refuse_the_drain_before_anything_changes() {
    let env = env().await;
    let mut spec = placement();
    spec["containers"] = json!([{"name": "cache", "image": "registry.example/cache:1",
                                 "volumeMounts": [{"name": "scratch", "mountPath": "/data"}]}]);
    spec["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
    let cache: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "cache", "namespace": "drain"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "cache"}},
            "template": {
                "metadata": {"labels": {"app": "cache"}},
                "spec": spec,
            },
        },
    }))
    .expect("a Deployment");
    Api::<Deployment>::namespaced(env.client.clone(), "drain")
        .create(&PostParams::default(), &cache)
        .await
        .expect("create the cache");
    let cache_pod = env.pods_on("app=cache", NODE, 1).await;
    env.set_unschedulable(OTHER, false).await;

    let (consequences, confirmed) = env.confirm(options()).await;
    let refusal = format!(
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): drain/{}",
        cache_pod[0]
    );
    assert_eq!(
        consequences,
        vec![format!(
            "the drain will be refused, nothing changes: {refusal}"
        )]
    );
    let (result, updates) = env.drain(&env.exec, confirmed).await;
    match result {
        Err(ActionError::Precondition(m)) => assert_eq!(
            m,
            format!("cannot drain node/drain-a, nothing was changed: {refusal}")
        ),
        other => panic!("refused, not {other:?}"),
    }
    assert!(updates.is_empty(), "{}", lines(&updates));
    assert!(!env.unschedulable(NODE).await, "nothing was cordoned");

    // Without --ignore-daemonsets the DaemonSet pod refuses it too.
    let (consequences, _) = env
        .confirm(DrainOptions {
            delete_emptydir_data: true,
            ..DrainOptions::default()
        })
        .await;
    assert_eq!(consequences.len(), 1, "{consequences:?}");
    assert!(
        consequences[0].contains(
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): drain/agent-"
        ),
        "{consequences:?}"
    );

    // With the flag the cache pod goes, its data with it.
    let (consequences, confirmed) = env
        .confirm(DrainOptions {
            delete_emptydir_data: true,
            ..options()
        })
        .await;
    assert!(
        consequences.contains(&format!(
            "drain/{}: its emptyDir data is deleted",
            cache_pod[0]
        )),
        "{consequences:?}"
    );
    let (result, updates) = env.drain(&env.exec, confirmed).await;
    let report = result.expect("the drain runs");
    assert!(report.is_complete(), "{}", lines(&updates));
    assert!(report.evicted.contains(&format!("drain/{}", cache_pod[0])));
    env.pods_on("app=cache", OTHER, 1).await;
    let audit = env.audit(&env.exec);
    assert!(
        matches!(&audit[0], (a, _, AuditResult::Refused { reason }) if a == "drain" && reason.contains("local storage")),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_the_drain_itself_and_audits_the_refusal() {
    let env = env().await;
    let audit = AuditLog::new(env.ts.dir.path().join("readonly-audit.jsonl"));
    let readonly = Executor::new(env.client.clone(), CONTEXT, "viewer", true, audit);
    let (_, confirmed) = env.confirm(options()).await;
    let (result, updates) = env.drain(&readonly, confirmed).await;
    assert_eq!(
        result,
        Err(ActionError::ReadOnly {
            context: CONTEXT.into()
        })
    );
    assert!(updates.is_empty());
    assert!(!env.unschedulable(NODE).await, "nothing was cordoned");
    env.pods_on("app=api", NODE, 2).await;
    assert_eq!(
        env.audit(&readonly),
        vec![(
            "drain".to_string(),
            "node/drain-a".to_string(),
            AuditResult::Refused {
                reason: "read-only".into()
            }
        )]
    );
    // And `execute`, which has no way to report progress, runs no drain.
    let (_, confirmed) = env.confirm(options()).await;
    assert!(matches!(
        env.exec.execute(confirmed).await,
        Err(ActionError::Invalid(_))
    ));
    assert!(!env.unschedulable(NODE).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_rbac_does_not_allow_to_drain_is_refused_before_the_node_is_cordoned() {
    let env = env_with(SimConfig {
        auth: AuthMode::Tokens {
            admin: "drain-admin-token-0123456789".into(),
            viewer: "drain-viewer-token-0123456789".into(),
        },
        ..SimConfig::default()
    })
    .await;
    let viewer = client_for(&env.ts, "kubedeck-sim-viewer").await;
    let audit = AuditLog::new(env.ts.dir.path().join("viewer-audit.jsonl"));
    let exec = Executor::new(viewer, CONTEXT, "viewer", false, audit);
    let (_, confirmed) = env.confirm(options()).await;
    let (result, updates) = env.drain(&exec, confirmed).await;
    match &result {
        Err(ActionError::Forbidden { what, .. }) => {
            assert_eq!(what, "patch nodes at cluster scope")
        }
        other => panic!("RBAC refuses it: {other:?}"),
    }
    assert!(updates.is_empty());
    assert!(!env.unschedulable(NODE).await, "nothing was cordoned");
    env.pods_on("app=api", NODE, 2).await;
    let records = env.audit(&exec);
    assert!(
        matches!(records.as_slice(), [(a, o, AuditResult::Denied { message })]
            if a == "drain" && o == "node/drain-a" && message.starts_with("forbidden: you may not patch nodes")),
        "{records:?}"
    );
}
