//! Runbook actions. Each becomes an action-core `Command` that is planned,
//! confirmed and run by the `Executor`, so read-only mode, RBAC (the API
//! server's 403) and the audit log apply as they do to manual actions. The
//! recovery test is `ops::recovery`'s; a backup is the trigger command plus
//! a wait for its Job. Annotations have no action-core command yet, so this
//! module refuses them in read-only mode and audits them itself.

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, LogParams};
use serde_json::Value;

use super::model::{Action, PodChoice};
use crate::actions::{Command, Executor, ObjectRef, WorkloadKind, WorkloadRef, plan};
use crate::config::Config;
use kubedeck_kube::duration::human;

/// Where a long action's lines go as they happen.
pub(crate) type LiveSink = Box<dyn Fn(&str) + Send + Sync>;

/// What a recovery-test step reports as it runs, for a live timeline.
pub enum RecoveryNews<'a> {
    /// The test is about to start: its plan, in the operator's terms.
    Started {
        spec: &'a crate::ops::recovery::TestSpec,
        plan: Vec<String>,
    },
    Event(&'a crate::ops::timeline::TimelineEvent),
    /// The test ran; `saved` is the Markdown report, or why it was not saved.
    Finished {
        report: &'a crate::ops::timeline::Report,
        saved: Result<std::path::PathBuf, String>,
    },
}

/// Where a recovery-test step's structured timeline goes as it happens.
pub(crate) type RecoverySink = Box<dyn Fn(RecoveryNews<'_>) + Send + Sync>;

/// What a run acts with: the cluster, the action core and the settings.
pub struct Env {
    pub client: Client,
    pub executor: Executor,
    pub config: Config,
    /// The Prometheus URL for PromQL checks, if the context has one.
    pub prometheus: Option<String>,
    /// Called with each line of a long action's output as it happens
    /// (the recovery test's timeline, a backup's progress).
    pub live: Option<LiveSink>,
    /// Called with a recovery-test step's events and report (the
    /// console's live timeline).
    pub recovery: Option<RecoverySink>,
    /// Ask before each action, as the console's own actions do; headless,
    /// the runbook's `confirm` steps (or `--yes`) are the gates.
    pub confirm_actions: bool,
}

impl Env {
    /// Adds a line to the step's output, and shows it live.
    pub fn say(&self, out: &mut Vec<String>, line: String) {
        if let Some(live) = &self.live {
            live(&line);
        }
        out.push(line);
    }
}

/// The name a protected context asks to be typed for this action.
pub fn object_name(action: &Action) -> String {
    match action {
        Action::Scale { target, .. }
        | Action::Restart(target)
        | Action::SetImage { target, .. }
        | Action::Rollback { target, .. }
        | Action::RecoveryTest { target, .. } => target.name.clone(),
        Action::KillPod { pod, .. } => match pod {
            PodChoice::Named(p) => p.name.clone(),
            PodChoice::OneOf(w) => w.name.clone(),
        },
        Action::Cordon(node) | Action::Uncordon(node) => node.clone(),
        Action::Backup { cronjob, .. } => cronjob.name.clone(),
        Action::Annotate { target, .. } => target.name.clone(),
    }
}

/// One line for the timeline and the prompt.
pub fn describe(action: &Action) -> String {
    let w = |t: &WorkloadRef| format!("{}/{} in {}", t.kind.singular(), t.name, t.namespace);
    match action {
        Action::Scale { target, replicas } => format!("scale {} to {replicas}", w(target)),
        Action::Restart(t) => format!("restart {}", w(t)),
        Action::SetImage { target, image, .. } => {
            format!("set the image of {} to {image}", w(target))
        }
        Action::Rollback {
            target,
            to_revision: 0,
        } => format!("roll {} back to its previous revision", w(target)),
        Action::Rollback {
            target,
            to_revision,
        } => format!("roll {} back to revision {to_revision}", w(target)),
        Action::KillPod { pod, force } => {
            let how = if *force { "force-kill" } else { "kill" };
            match pod {
                PodChoice::Named(p) => format!("{how} pod/{} in {}", p.name, p.namespace),
                PodChoice::OneOf(t) => format!("{how} one pod of {}", w(t)),
            }
        }
        Action::Cordon(n) => format!("cordon node/{n}"),
        Action::Uncordon(n) => format!("uncordon node/{n}"),
        Action::Backup { cronjob, .. } => {
            format!(
                "run cronjob/{} in {} now and wait for it",
                cronjob.name, cronjob.namespace
            )
        }
        Action::RecoveryTest { target, slo, .. } => {
            format!(
                "recovery test: kill one pod of {} (SLO {})",
                w(target),
                human(*slo)
            )
        }
        Action::Annotate { target, key, value } => match value {
            Some(v) => format!(
                "annotate {} in {} with {key}={v}",
                target.slashed(),
                target.namespace
            ),
            None => format!(
                "remove annotation {key} from {} in {}",
                target.slashed(),
                target.namespace
            ),
        },
    }
}

/// Performs the action; `typed` is the name typed in a protected context.
pub(crate) async fn perform(
    env: &Env,
    action: &Action,
    typed: Option<&str>,
    out: &mut Vec<String>,
) -> Result<(), String> {
    match action {
        Action::Scale { target, replicas } => {
            let cur = workload(&env.client, target).await?;
            let from = cur["spec"]["replicas"]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or(1);
            let cmd = Command::Scale {
                target: target.clone(),
                from,
                to: *replicas,
            };
            run_command(env, cmd, typed, out).await
        }
        Action::Restart(target) => {
            run_command(
                env,
                Command::RolloutRestart {
                    target: target.clone(),
                },
                typed,
                out,
            )
            .await
        }
        Action::SetImage {
            target,
            container,
            image,
        } => {
            let cur = workload(&env.client, target).await?;
            let containers = cur["spec"]["template"]["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let chosen = match container {
                Some(name) => containers.iter().find(|c| c["name"] == name.as_str()),
                None => containers.first(),
            }
            .ok_or_else(|| match container {
                Some(name) => format!("{} has no container {name:?}", target.name),
                None => format!("{} has no container", target.name),
            })?;
            let cmd = Command::SetImage {
                target: target.clone(),
                container: chosen["name"].as_str().unwrap_or_default().to_string(),
                from: chosen["image"].as_str().unwrap_or_default().to_string(),
                to: image.clone(),
            };
            run_command(env, cmd, typed, out).await
        }
        Action::Rollback {
            target,
            to_revision,
        } => {
            let from_revision = current_revision(&env.client, target).await?;
            let cmd = Command::Rollback {
                target: target.clone(),
                from_revision,
                to_revision: *to_revision,
            };
            run_command(env, cmd, typed, out).await
        }
        Action::KillPod { pod, force } => {
            let pod = match pod {
                PodChoice::Named(p) => p.clone(),
                PodChoice::OneOf(t) => one_pod(&env.client, t).await?,
            };
            let cmd = Command::DeletePod {
                pod,
                grace_seconds: None,
                force: *force,
            };
            run_command(env, cmd, typed, out).await
        }
        Action::Cordon(node) => {
            run_command(env, Command::Cordon { node: node.clone() }, typed, out).await
        }
        Action::Uncordon(node) => {
            run_command(env, Command::Uncordon { node: node.clone() }, typed, out).await
        }
        Action::Backup { cronjob, timeout } => backup(env, cronjob, *timeout, typed, out).await,
        Action::RecoveryTest {
            target,
            slo,
            min_ready,
            force,
        } => recovery_test(env, target, *slo, *min_ready, *force, out).await,
        Action::Annotate { target, key, value } => {
            let current = Api::<DynamicObject>::namespaced_with(
                env.client.clone(),
                &target.namespace,
                &crate::actions::plan::annotatable(target.kind),
            )
            .get(&target.name)
            .await
            .map_err(|e| format!("cannot read {}: {e}", target.slashed()))?;
            let from = current
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .cloned();
            let cmd = Command::Annotate {
                kind: target.kind,
                object: ObjectRef::new(&target.namespace, &target.name),
                key: key.clone(),
                from,
                to: value.clone(),
            };
            run_command(env, cmd, typed, out).await
        }
    }
}

/// plan → confirm → execute, as the console's confirm dialog does.
async fn run_command(
    env: &Env,
    cmd: Command,
    typed: Option<&str>,
    out: &mut Vec<String>,
) -> Result<(), String> {
    let confirmation = plan(&env.client, &env.executor.context, &env.config, cmd)
        .await
        .map_err(|e| e.to_string())?;
    env.say(out, format!("$ {}", confirmation.kubectl()));
    for c in confirmation.consequences() {
        env.say(out, format!("  {c}"));
    }
    let confirmed = confirmation.confirm(typed).map_err(|e| e.to_string())?;
    let outcome = env
        .executor
        .execute(confirmed)
        .await
        .map_err(|e| e.to_string())?;
    env.say(out, outcome.message);
    if let Some(a) = outcome.audit_error {
        env.say(out, format!("warning: {a}"));
    }
    Ok(())
}

fn workload_api(client: &Client, target: &WorkloadRef) -> Api<DynamicObject> {
    let kind = match target.kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
    };
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", kind),
        target.kind.plural(),
    );
    Api::namespaced_with(client.clone(), &target.namespace, &ar)
}

async fn workload(client: &Client, target: &WorkloadRef) -> Result<Value, String> {
    let obj = workload_api(client, target)
        .get(&target.name)
        .await
        .map_err(|e| {
            format!(
                "cannot read {}/{} in {}: {e}",
                target.kind.singular(),
                target.name,
                target.namespace
            )
        })?;
    serde_json::to_value(obj).map_err(|e| e.to_string())
}

async fn current_revision(client: &Client, target: &WorkloadRef) -> Result<i64, String> {
    let cur = workload(client, target).await?;
    match target.kind {
        WorkloadKind::Deployment => {
            cur["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("deployment/{} has no revision yet", target.name))
        }
        WorkloadKind::StatefulSet => {
            let update = cur["status"]["updateRevision"].as_str().unwrap_or_default();
            let ar = ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("apps", "v1", "ControllerRevision"),
                "controllerrevisions",
            );
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &target.namespace, &ar);
            let revision = api
                .get(update)
                .await
                .map_err(|e| format!("cannot read controllerrevision/{update}: {e}"))?;
            revision
                .data
                .get("revision")
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("statefulset/{} has no revision yet", target.name))
        }
    }
}

/// The first Ready, live pod of the workload by name, so runs repeat.
async fn one_pod(client: &Client, target: &WorkloadRef) -> Result<ObjectRef, String> {
    let cur = workload(client, target).await?;
    let selector = cur["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let pods = Api::<Pod>::namespaced(client.clone(), &target.namespace)
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| format!("cannot list the pods of {}: {e}", target.name))?;
    let mut ready: Vec<String> = pods
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    ready.sort();
    ready
        .into_iter()
        .next()
        .map(|name| ObjectRef::new(&target.namespace, &name))
        .ok_or_else(|| format!("{} has no Ready pod to kill", target.name))
}

/// `kubectl create job --from=cronjob/NAME`, then follows the Job.
async fn backup(
    env: &Env,
    cronjob: &ObjectRef,
    timeout: Duration,
    typed: Option<&str>,
    out: &mut Vec<String>,
) -> Result<(), String> {
    let suffix: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(5)
        .collect();
    let stem: String = cronjob.name.chars().take(45).collect();
    let job_name = format!("{}-manual-{suffix}", stem.trim_end_matches('-'));
    let cmd = Command::TriggerCronJob {
        cronjob: cronjob.clone(),
        job_name: job_name.clone(),
    };
    run_command(env, cmd, typed, out).await?;
    let api = Api::<Job>::namespaced(env.client.clone(), &cronjob.namespace);
    let start = Instant::now();
    loop {
        let job = api
            .get(&job_name)
            .await
            .map_err(|e| format!("cannot read job/{job_name}: {e}"))?;
        let conditions = job
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        let is = |t: &str| {
            conditions
                .iter()
                .find(|c| c.type_ == t && c.status == "True")
        };
        if is("Complete").is_some() {
            env.say(
                out,
                format!("job/{job_name} completed in {}", human(start.elapsed())),
            );
            return Ok(());
        }
        if let Some(c) = is("Failed") {
            let reason = c
                .message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_default();
            for line in last_log_lines(&env.client, &cronjob.namespace, &job_name).await {
                env.say(out, format!("  | {line}"));
            }
            return Err(format!("job/{job_name} failed: {reason}"));
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "job/{job_name} did not finish within {}",
                human(timeout)
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The last lines of the newest pod of a Job, for a failure's context.
async fn last_log_lines(client: &Client, namespace: &str, job: &str) -> Vec<String> {
    let api = Api::<Pod>::namespaced(client.clone(), namespace);
    let Ok(pods) = api
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
    else {
        return Vec::new();
    };
    let Some(newest) = pods
        .items
        .iter()
        .max_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .and_then(|p| p.metadata.name.clone())
    else {
        return Vec::new();
    };
    let lp = LogParams {
        tail_lines: Some(10),
        ..LogParams::default()
    };
    api.logs(&newest, &lp)
        .await
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

async fn recovery_test(
    env: &Env,
    target: &WorkloadRef,
    slo: Duration,
    min_ready: u32,
    force: bool,
    out: &mut Vec<String>,
) -> Result<(), String> {
    use crate::ops::recovery::{Runner, TestSpec, inspect};
    use crate::ops::timeline::Verdict;
    if let Some(refusal) = env.executor.refusal() {
        return Err(refusal.to_string());
    }
    let found = inspect(&env.client, target)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let mut spec = TestSpec::new(target.clone());
    spec.slo = slo;
    spec.min_endpoints = min_ready;
    spec.force = force;
    let runner = Runner {
        client: &env.client,
        executor: &env.executor,
        config: &env.config,
    };
    if let Some(sink) = &env.recovery {
        sink(RecoveryNews::Started {
            spec: &spec,
            plan: found.plan_lines(&spec),
        });
    }
    let mut lines = Vec::new();
    let mut on_event = |e: &crate::ops::timeline::TimelineEvent| {
        if let Some(sink) = &env.recovery {
            sink(RecoveryNews::Event(e));
        }
        env.say(&mut lines, e.line());
    };
    let report = runner
        .run(&spec, &found, &mut on_event)
        .await
        .map_err(|e| format!("{e:#}"));
    out.append(&mut lines);
    let mut report = report?;
    let prometheus = env
        .prometheus
        .as_deref()
        .and_then(|url| env.config.prometheus_for(&env.executor.context, Some(url)));
    if let Some(line) = crate::ops::service::attach(
        &mut report,
        prometheus.as_ref(),
        &env.config.metrics.queries,
        target,
    )
    .await
    {
        env.say(out, line);
    }
    env.say(
        out,
        format!(
            "minimum Ready endpoints {}, {} at zero",
            report.endpoints.minimum,
            human(Duration::from_millis(report.endpoints.time_at_zero_ms))
        ),
    );
    if let Some(worst) = report.worst_recovery() {
        env.say(
            out,
            format!("recovered in {} (SLO {})", human(worst), human(slo)),
        );
    }
    let saved = crate::ops::report::save(&report, None)
        .map(|(md, _)| md)
        .map_err(|e| format!("{e:#}"));
    match &saved {
        Ok(md) => env.say(out, format!("report: {}", md.display())),
        Err(e) => env.say(out, format!("warning: the report was not saved: {e}")),
    }
    env.say(
        out,
        match report.verdict {
            Verdict::Pass => format!("verdict: PASS (SLO {})", human(slo)),
            Verdict::Fail => format!("verdict: FAIL (SLO {})", human(slo)),
        },
    );
    if let Some(sink) = &env.recovery {
        sink(RecoveryNews::Finished {
            report: &report,
            saved,
        });
    }
    match report.verdict {
        Verdict::Pass => Ok(()),
        Verdict::Fail => Err(format!(
            "recovery test failed: {}",
            report.reasons.join("; ")
        )),
    }
}
