//! The safety rails around actions, against the simulator: read-only mode
//! enforced by the executor, RBAC answers for the viewer token, typed
//! confirmation in protected contexts, and the audit log with `kubedeck audit`.

use std::io::Write;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubedeck_core::actions::{
    ActionError, AuditLog, AuditResult, Command, ConfirmError, Confirmation, Executor, ObjectRef,
    Permission, Rbac, WorkloadRef, kubeconfig_user, plan,
};
use kubedeck_core::config::Config;
use kubedeck_sim::config::{AuthMode, SimConfig};

const ADMIN: &str = "actions-admin-token-0123456789";
const VIEWER: &str = "actions-viewer-token-0123456789";

fn web() -> WorkloadRef {
    WorkloadRef::deployment("demo", "web")
}

/// One command of every kind, all aimed at the minimal scenario.
fn every_command(pod: &str) -> Vec<Command> {
    let pod = ObjectRef::new("demo", pod);
    let cronjob = ObjectRef::new("demo", "nightly");
    vec![
        Command::Scale {
            target: web(),
            from: 2,
            to: 5,
        },
        Command::RolloutRestart { target: web() },
        Command::SetImage {
            target: web(),
            container: "web".into(),
            from: "registry.example/web:1.0.0".into(),
            to: "registry.example/web:9".into(),
        },
        Command::PauseRollout { target: web() },
        Command::ResumeRollout { target: web() },
        Command::Rollback {
            target: web(),
            from_revision: 1,
            to_revision: 0,
        },
        Command::DeletePod {
            pod: pod.clone(),
            grace_seconds: None,
            force: true,
        },
        Command::EvictPod { pod },
        Command::Cordon {
            node: "sim-node-1".into(),
        },
        Command::Uncordon {
            node: "sim-node-1".into(),
        },
        Command::TriggerCronJob {
            cronjob: cronjob.clone(),
            job_name: "nightly-now".into(),
        },
        Command::SuspendCronJob {
            cronjob: cronjob.clone(),
        },
        Command::ResumeCronJob { cronjob },
        Command::SetHpaBounds {
            hpa: ObjectRef::new("demo", "web"),
            from_min: 1,
            from_max: 3,
            min: 2,
            max: 4,
        },
    ]
}

async fn web_pods(client: &kube::Client) -> Vec<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "demo");
    let list = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list pods");
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    names.sort();
    names
}

/// web's pods, each with whether it is being deleted.
async fn web_pods_deleting(client: &kube::Client) -> Vec<(String, bool)> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "demo");
    let list = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("list pods");
    let mut pods: Vec<(String, bool)> = list
        .items
        .into_iter()
        .map(|p| {
            let deleting = p.metadata.deletion_timestamp.is_some();
            (p.metadata.name.unwrap_or_default(), deleting)
        })
        .collect();
    pods.sort();
    pods
}

/// What read-only mode must leave alone: web's spec, its pods, the node, jobs.
async fn observable_state(client: &kube::Client) -> String {
    let d = Api::<Deployment>::namespaced(client.clone(), "demo")
        .get("web")
        .await
        .expect("get web");
    let node = Api::<Node>::all(client.clone())
        .get("sim-node-1")
        .await
        .expect("get node");
    let jobs = Api::<Job>::namespaced(client.clone(), "demo")
        .list(&ListParams::default())
        .await
        .expect("list jobs")
        .items
        .len();
    format!(
        "generation={:?} spec={:?} pods={:?} unschedulable={:?} jobs={jobs}",
        d.metadata.generation,
        serde_json::to_string(&d.spec),
        web_pods_deleting(client).await,
        node.spec.and_then(|s| s.unschedulable),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_executor_refuses_every_command_and_audits_it() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let client = ts.client();
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, Duration::from_secs(30)).await;
    let before = observable_state(&client).await;
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), "kubedeck-sim", "admin", true, audit);
    let pod = web_pods(&client).await.remove(0);
    let commands = every_command(&pod);
    for cmd in &commands {
        let confirmation =
            Confirmation::new(cmd.clone(), "kubedeck-sim", &Config::default(), vec![]);
        let err = exec
            .execute(confirmation.confirm(None).expect("confirm"))
            .await
            .expect_err("read-only refuses");
        assert_eq!(
            err,
            ActionError::ReadOnly {
                context: "kubedeck-sim".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "refused: context kubedeck-sim is read-only, so nothing was changed"
        );
    }
    // Every write the executor makes is done when it returns, and a pod's
    // deletion shows at once as its deletionTimestamp.
    assert_eq!(observable_state(&client).await, before);
    let log = exec.audit.read().expect("read audit");
    assert_eq!(log.records.len(), commands.len());
    for (record, cmd) in log.records.iter().zip(&commands) {
        assert_eq!(record.action, cmd.action());
        assert_eq!(
            record.result,
            AuditResult::Refused {
                reason: "read-only".into()
            }
        );
        assert_eq!(record.result.to_string(), "refused(read-only)");
    }
}

fn tokens() -> SimConfig {
    SimConfig {
        auth: AuthMode::Tokens {
            admin: ADMIN.into(),
            viewer: VIEWER.into(),
        },
        ..SimConfig::default()
    }
}

async fn client_for(ts: &crate::common::TestSim, context: &str) -> (kube::Client, String) {
    let kubeconfig = Kubeconfig::read_from(&ts.kubeconfig).expect("read kubeconfig");
    let user = kubeconfig_user(&kubeconfig, Some(context));
    let options = KubeConfigOptions {
        context: Some(context.into()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("kube config from kubeconfig");
    (kube::Client::try_from(config).expect("client"), user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_sees_actions_denied_and_a_forced_attempt_gets_a_clear_403() {
    let ts = crate::common::start_with("minimal", tokens()).await;
    let (viewer, viewer_user) = client_for(&ts, "kubedeck-sim-viewer").await;
    let (admin, _) = client_for(&ts, "kubedeck-sim").await;
    assert_eq!(viewer_user, "viewer");
    let pod = web_pods(&admin).await.remove(0);

    let rbac = Rbac::new(viewer.clone(), Rbac::DEFAULT_TTL);
    let admin_rbac = Rbac::new(admin.clone(), Rbac::DEFAULT_TTL);
    for cmd in every_command(&pod) {
        match rbac.can(&cmd).await {
            Permission::Denied(reason) => assert!(
                reason.contains(&cmd.access().describe()),
                "{cmd:?}: {reason}"
            ),
            Permission::Allowed => panic!("the viewer may not {:?}", cmd.access()),
        }
        assert_eq!(admin_rbac.can(&cmd).await, Permission::Allowed, "{cmd:?}");
    }
    let scale = Command::Scale {
        target: web(),
        from: 2,
        to: 5,
    };
    assert_eq!(
        rbac.can(&scale).await,
        Permission::Denied(
            "RBAC does not let you patch deployments.apps/scale in namespace demo".into()
        )
    );

    // The UI would not offer it; forcing it anyway meets the API's 403.
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(
        viewer.clone(),
        "kubedeck-sim-viewer",
        &viewer_user,
        false,
        audit,
    );
    let confirmation = plan(&viewer, "kubedeck-sim-viewer", &Config::default(), scale)
        .await
        .expect("the viewer can read what the dialog shows");
    let err = exec
        .execute(confirmation.confirm(None).expect("confirm"))
        .await
        .expect_err("403");
    let ActionError::Forbidden { what, message } = &err else {
        panic!("expected Forbidden, got {err:?}");
    };
    assert_eq!(what, "patch deployments.apps/scale in namespace demo");
    assert!(
        message.contains("User \"viewer\" cannot patch resource \"deployments/scale\""),
        "{message}"
    );
    assert!(err.to_string().starts_with(
        "forbidden: you may not patch deployments.apps/scale in namespace demo; nothing was changed"
    ));
    let d = Api::<Deployment>::namespaced(admin, "demo")
        .get("web")
        .await
        .expect("get web");
    assert_eq!(d.spec.and_then(|s| s.replicas), Some(2));
    let log = exec.audit.read().expect("read audit");
    assert_eq!(log.records.len(), 1);
    assert_eq!(log.records[0].user, "viewer");
    assert!(
        matches!(&log.records[0].result, AuditResult::Denied { message } if message.contains("forbidden"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_context_needs_the_typed_name_and_confirmations_stay_in_their_context() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let client = ts.client();
    let context = "acme-prod-eu";
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), context, "admin", false, audit);
    let cmd = Command::Scale {
        target: web(),
        from: 2,
        to: 3,
    };
    let confirmation = plan(&client, context, &Config::default(), cmd.clone())
        .await
        .expect("plan");
    assert_eq!(confirmation.typed_name(), Some("web"));
    assert_eq!(
        confirmation.kubectl(),
        "kubectl scale deployment/web --replicas=3 -n demo --context acme-prod-eu"
    );
    assert!(matches!(
        confirmation.confirm(None),
        Err(ConfirmError::NameRequired { .. })
    ));
    let wrong = confirmation.confirm(Some("api")).expect_err("wrong name");
    assert_eq!(
        wrong.to_string(),
        "typed \"api\", but confirming needs \"web\"; nothing was done"
    );
    let out = exec
        .execute(confirmation.confirm(Some("web")).expect("typed name"))
        .await
        .expect("runs");
    assert_eq!(out.message, "deployment/web scaled to 3");

    // A confirmation made for another context is refused and audited.
    let elsewhere = Confirmation::new(cmd, "kind-dev", &Config::default(), vec![]);
    let err = exec
        .execute(elsewhere.confirm(None).expect("confirm"))
        .await
        .expect_err("wrong context");
    assert!(matches!(err, ActionError::WrongContext { .. }), "{err:?}");
    let results: Vec<String> = exec
        .audit
        .read()
        .expect("read audit")
        .records
        .iter()
        .map(|r| r.result.to_string())
        .collect();
    assert_eq!(results, vec!["ok", "refused(wrong context)"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_has_one_full_record_per_action_and_tolerates_a_truncated_line() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let client = ts.client();
    let path = ts.dir.path().join("audit.jsonl");
    let exec = Executor::new(
        client.clone(),
        "kubedeck-sim",
        "alice",
        false,
        AuditLog::new(path.clone()),
    );
    let run = |cmd: Command| {
        let client = client.clone();
        let exec = &exec;
        async move {
            let c = plan(&client, "kubedeck-sim", &Config::default(), cmd)
                .await
                .expect("plan");
            exec.execute(c.confirm(None).expect("confirm")).await
        }
    };
    run(Command::Scale {
        target: web(),
        from: 2,
        to: 3,
    })
    .await
    .expect("scale");
    run(Command::Cordon {
        node: "sim-node-3".into(),
    })
    .await
    .expect("cordon");
    let failed = run(Command::Rollback {
        target: web(),
        from_revision: 1,
        to_revision: 7,
    })
    .await
    .expect_err("no revision 7");
    assert_eq!(
        failed.to_string(),
        "unable to find the specified revision 7 in history"
    );

    let log = AuditLog::new(path.clone()).read().expect("read");
    assert_eq!(log.records.len(), 3);
    let scale = &log.records[0];
    assert_eq!(scale.user, "alice");
    assert_eq!(scale.context, "kubedeck-sim");
    assert_eq!(scale.namespace, "demo");
    assert_eq!(scale.object, "deployment/web");
    assert_eq!(scale.action, "scale");
    assert_eq!(scale.parameters["to"], 3);
    assert_eq!(
        (scale.before.as_str(), scale.after.as_str()),
        ("replicas 2", "replicas 3")
    );
    assert_eq!(scale.result, AuditResult::Ok);
    assert!(scale.time <= chrono::Utc::now());
    let cordon = &log.records[1];
    assert_eq!(
        (cordon.namespace.as_str(), cordon.object.as_str()),
        ("", "node/sim-node-3")
    );
    assert_eq!(
        log.records[2].result.to_string(),
        "failed(unable to find the specified revision 7 in history)"
    );

    // A crash mid-write leaves half a record at the end.
    let text = std::fs::read_to_string(&path).expect("read log");
    let first = text.lines().next().expect("a line");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open log");
    f.write_all(&first.as_bytes()[..first.len() / 2])
        .expect("write half a line");
    drop(f);

    let kubedeck = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubedeck"))
            .arg("audit")
            .arg("--file")
            .arg(&path)
            .args(args)
            .output()
            .expect("run kubedeck audit");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = kubedeck(&[]);
    assert!(ok, "{stderr}");
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    assert!(rows[0].starts_with("TIME") && rows[0].contains("RESULT"));
    assert!(rows[1].contains("deployment/web") && rows[1].contains("replicas 2 → replicas 3"));
    assert!(rows[2].contains("node/sim-node-3") && rows[2].contains(" ok "));
    assert!(
        stderr.contains("line 4 is corrupted and was skipped"),
        "{stderr}"
    );

    let (_, stdout, _) = kubedeck(&["--namespace", "demo", "--json"]);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["namespace"] == "demo"));

    let (_, stdout, _) = kubedeck(&["--since", "2999-01-01T00:00:00Z"]);
    assert_eq!(stdout.lines().count(), 1, "only the header: {stdout}");
    let (ok, _, stderr) = kubedeck(&["--since", "soon"]);
    assert!(!ok);
    assert!(stderr.contains("--since \"soon\""), "{stderr}");

    // Appending after the debris starts a fresh line.
    run(Command::Uncordon {
        node: "sim-node-3".into(),
    })
    .await
    .expect("uncordon");
    let log = AuditLog::new(path).read().expect("read");
    assert_eq!(log.records.len(), 4);
    assert_eq!(log.bad_lines.len(), 1);
}
