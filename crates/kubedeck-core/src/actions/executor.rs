//! Runs confirmed commands through the Kubernetes API (kube-rs only), as
//! kubectl would, and audits every attempt. Read-only mode is enforced here,
//! not only in the UI: a read-only executor refuses every command. Auditing
//! fails closed: a command whose record cannot be written does not run.
//! A change whose answer is lost (the connection broke once it was sent, no
//! answer in time, a 5xx) is read back (`readback.rs`): found made, it is
//! done and says so; found not made, it failed; unreadable, its outcome is
//! unknown. The audit record, written after, says which.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, EvictParams, GroupVersionKind, ListParams,
    Patch, PatchParams, PostParams, PropagationPolicy,
};
use kube::config::Kubeconfig;
use serde_json::{Value, json};

use super::audit::{AuditLog, AuditResult, Record};
use super::command::{Access, Command, ObjectRef, Propagation, WorkloadKind, WorkloadRef};
use super::edit;
use super::error::ActionError;
use super::plan::Confirmed;
use super::readback::{self, Expect, ReadBack, ReadBackPolicy, Seen};
use super::replace;
use kubedeck_kube::duration;

/// How long one action may take before its answer counts as lost (and a
/// change already sent is read back).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// What `kubectl rollout history` shows for a revision: the controllers
/// copy it from the workload to the revision they make.
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const REVISION: &str = "deployment.kubernetes.io/revision";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// Deployment annotations `kubectl rollout undo` keeps instead of copying
/// them from the ReplicaSet.
const ROLLBACK_SKIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];
/// client-go's `retry.DefaultRetry`: five attempts, 10 ms apart.
const CONFLICT_ATTEMPTS: u32 = 5;

/// What a successful action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// kubectl-style: `deployment/web scaled`.
    pub message: String,
    pub before: String,
    pub after: String,
    pub duration: Duration,
    /// Set when the action happened but its audit record could not be written.
    pub audit_error: Option<String>,
}

pub struct Executor {
    pub client: Client,
    pub context: String,
    /// Who acts, as the kubeconfig names them (see `kubeconfig_user`).
    pub user: String,
    pub readonly: bool,
    /// Why every command is refused whatever `readonly` says (a broken
    /// config.toml); set with [`Executor::blocked_by`].
    pub blocked: Option<String>,
    pub audit: AuditLog,
    pub timeout: Duration,
    /// How a change whose answer was lost is read back.
    pub read_back: ReadBackPolicy,
}

/// The user a kubeconfig context authenticates as, or "unknown".
pub fn kubeconfig_user(kubeconfig: &Kubeconfig, context: Option<&str>) -> String {
    let name = context.or(kubeconfig.current_context.as_deref());
    kubeconfig
        .contexts
        .iter()
        .find(|c| Some(c.name.as_str()) == name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

impl Executor {
    pub fn new(client: Client, context: &str, user: &str, readonly: bool, audit: AuditLog) -> Self {
        Executor {
            client,
            context: context.to_string(),
            user: user.to_string(),
            readonly,
            blocked: None,
            audit,
            timeout: DEFAULT_TIMEOUT,
            read_back: ReadBackPolicy::default(),
        }
    }

    /// Refuses every command for `reason` (e.g. `Config::refusal`).
    pub fn blocked_by(mut self, reason: Option<String>) -> Self {
        if reason.is_some() {
            self.readonly = true;
        }
        self.blocked = reason;
        self
    }

    /// Why this executor refuses every change, if it does: blocked, else
    /// read-only.
    pub fn refusal(&self) -> Option<ActionError> {
        if let Some(reason) = &self.blocked {
            return Some(ActionError::Blocked(reason.clone()));
        }
        self.readonly.then(|| ActionError::ReadOnly {
            context: self.context.clone(),
        })
    }

    /// Whether the audit log can take a record now: the check made before
    /// anything is changed, so that no change goes unrecorded.
    pub async fn check_audit(&self) -> Result<(), ActionError> {
        let log = self.audit.clone();
        let path = log.path().display().to_string();
        tokio::task::spawn_blocking(move || log.check_writable())
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            .map_err(|e| {
                ActionError::AuditUnavailable(format!(
                    "the audit log {path} cannot be written: {e}"
                ))
            })
    }

    /// Runs a confirmed command and appends its audit record, whatever
    /// the result.
    pub async fn execute(&self, confirmed: Confirmed) -> Result<Applied, ActionError> {
        // No record, no action: a refusal that cannot be audited is still
        // a refusal, but nothing runs unaudited.
        if self.blocked.is_none() && !self.readonly {
            self.check_audit().await?;
        }
        let start = Instant::now();
        let cmd = confirmed.command().clone();
        let result = self.checked_run(&confirmed).await;
        let duration = start.elapsed();
        let audit_result = AuditResult::of(&result);
        let record = Record::new(&self.user, &self.context, &cmd, audit_result, duration);
        let audit_error = self.write_audit(record).await;
        match result {
            Ok(message) => {
                let (before, after) = cmd.change();
                Ok(Applied {
                    message,
                    before,
                    after,
                    duration,
                    audit_error,
                })
            }
            Err(e) => {
                if let Some(a) = audit_error {
                    tracing::warn!("{a}");
                }
                Err(e)
            }
        }
    }

    /// Records an action refused before its command was built, because the
    /// context is read-only; returns a problem writing the log. The action
    /// is named as its command names it when done (`delete-pod`, not the
    /// console's key name `kill`), so one query finds both.
    pub async fn record_readonly_refusal(
        &self,
        namespace: &str,
        object: &str,
        action: &str,
    ) -> Option<String> {
        let action = self.command_action(action, namespace, object).await;
        let result = AuditResult::Refused {
            reason: self.blocked.clone().unwrap_or_else(|| "read-only".into()),
        };
        let none = (String::new(), String::new());
        self.record_decision(namespace, object, &action, none, result, Duration::ZERO)
            .await
    }

    /// Records what is not a command of its own (a refusal before any
    /// command, an override of a safety check, a whole recovery test);
    /// returns a problem writing the log.
    pub async fn record_decision(
        &self,
        namespace: &str,
        object: &str,
        action: &str,
        (before, after): (String, String),
        result: AuditResult,
        duration: Duration,
    ) -> Option<String> {
        let record = Record {
            time: chrono::Utc::now(),
            user: self.user.clone(),
            context: self.context.clone(),
            namespace: namespace.to_string(),
            object: object.to_string(),
            action: action.to_string(),
            parameters: serde_json::Value::Null,
            before,
            after,
            result,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        };
        self.write_audit(record).await
    }

    /// The command's action name for an action named by a key or a
    /// caller. `pause` toggles, so what it would have done is read from
    /// the object; if it cannot be read, `pause` stays.
    async fn command_action(&self, action: &str, namespace: &str, object: &str) -> String {
        let (kind, name) = object.split_once('/').unwrap_or(("", object));
        if let Some(fixed) = command_action_name(action, kind) {
            return fixed.to_string();
        }
        if action != "pause" {
            return action.to_string();
        }
        let (path, field, on, off) = match kind {
            "deployment" => (
                format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"),
                "paused",
                "resume-rollout",
                "pause-rollout",
            ),
            "cronjob" => (
                format!("/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}"),
                "suspend",
                "resume-cronjob",
                "suspend-cronjob",
            ),
            _ => return action.to_string(),
        };
        let Ok(req) = http::Request::get(path).body(Vec::new()) else {
            return action.to_string();
        };
        match self.client.request::<Value>(req).await {
            Ok(obj) if obj["spec"][field] == true => on.to_string(),
            Ok(_) => off.to_string(),
            Err(_) => action.to_string(),
        }
    }

    async fn write_audit(&self, record: Record) -> Option<String> {
        let log = self.audit.clone();
        let path = log.path().display().to_string();
        // The append fsyncs: keep it off the async workers.
        let written = tokio::task::spawn_blocking(move || log.append(&record)).await;
        match written {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("could not write the audit log {path}: {e}")),
            Err(e) => Some(format!("could not write the audit log {path}: {e}")),
        }
    }

    async fn checked_run(&self, confirmed: &Confirmed) -> Result<String, ActionError> {
        let confirmation = confirmed.confirmation();
        if confirmation.context() != self.context {
            return Err(ActionError::WrongContext {
                confirmed: confirmation.context().to_string(),
                current: self.context.clone(),
            });
        }
        if let Some(refusal) = self.refusal() {
            return Err(refusal);
        }
        let cmd = confirmed.command();
        cmd.validate().map_err(ActionError::Invalid)?;
        let sending = Sending::default();
        let attempt =
            tokio::time::timeout(self.timeout, retry_conflicts(|| self.apply(cmd, &sending))).await;
        let cause = match attempt {
            Ok(Ok(message)) => return Ok(message),
            Ok(Err(Failed::Definite(e))) => return Err(e),
            Ok(Err(Failed::Lost(cause))) => cause,
            Err(_) => format!(
                "no answer from the API server within {}",
                duration::human(self.timeout)
            ),
        };
        let sent = sending.lock().unwrap_or_else(|e| e.into_inner()).take();
        match sent {
            Some(rb) => self.settle(rb, cause).await,
            // Timed out before the change was armed, so before it was sent.
            None => Err(ActionError::TimeoutBeforeChange(self.timeout)),
        }
    }

    /// Decides a change whose answer was lost by reading its object back.
    async fn settle(&self, rb: ReadBack, cause: String) -> Result<String, ActionError> {
        tracing::warn!(
            "{}: {cause}; reading it back to see whether the change was made",
            rb.object
        );
        match readback::read_back(&self.client, &rb, self.read_back).await {
            Ok(Seen::Done(seen)) => Ok(format!(
                "{}: confirmed by reading it back ({seen}) after {cause}",
                rb.message
            )),
            Ok(Seen::NotDone(seen)) => Err(ActionError::NotDone {
                object: rb.object,
                cause,
                seen,
            }),
            Err(read_error) => Err(ActionError::OutcomeUnknown {
                object: rb.object,
                cause,
                read_error,
            }),
        }
    }

    /// One attempt at the command. Just before its change is sent, it
    /// leaves in `sending` how to read that change back, in case the
    /// answer is lost.
    async fn apply(&self, cmd: &Command, sending: &Sending) -> Result<String, Failed> {
        *sending.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let arm = |object: &str, path: String, expect: Expect, message: &str| {
            *sending.lock().unwrap_or_else(|e| e.into_inner()) = Some(ReadBack {
                object: object.to_string(),
                path,
                expect,
                message: message.to_string(),
            });
        };
        let access = cmd.access();
        let err = |e: kube::Error| ActionError::from_kube(e, &access);
        let lost = |e: kube::Error| write_failed(e, &access);
        let object = cmd.object();
        let pp = PatchParams::default();
        match cmd {
            Command::Scale { target, to, .. } => {
                let message = format!("{object} scaled to {to}");
                arm(
                    &object,
                    workload_path(target),
                    Expect::Fields(vec![("/spec/replicas".into(), json!(to))]),
                    &message,
                );
                let patch = Patch::Merge(json!({"spec": {"replicas": to}}));
                self.workload_api(target)
                    .patch_scale(&target.name, &pp, &patch)
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            Command::RolloutRestart { target } => {
                let current = self.get_workload(target, &access).await?;
                if current["spec"]["paused"] == true {
                    return Err(ActionError::Precondition(format!(
                        "can't restart paused {object} (run rollout resume first)"
                    ))
                    .into());
                }
                let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
                let message = format!("{object} restarted");
                arm(
                    &object,
                    workload_path(target),
                    Expect::Fields(vec![(
                        readback::annotation("/spec/template/metadata", RESTARTED_AT),
                        json!(now),
                    )]),
                    &message,
                );
                let patch = Patch::Strategic(json!({
                    "metadata": {"annotations": {CHANGE_CAUSE: self.change_cause(cmd)}},
                    "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}},
                }));
                self.workload_api(target)
                    .patch(&target.name, &pp, &patch)
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            Command::SetImage {
                target,
                container,
                from,
                to,
            } => {
                let current = self.get_workload(target, &access).await?;
                let spec = &current["spec"]["template"]["spec"];
                let (list, now) = ["containers", "initContainers"]
                    .into_iter()
                    .find_map(|list| {
                        spec[list].as_array()?.iter().find_map(|c| {
                            (c["name"] == container.as_str())
                                .then(|| (list, c["image"].as_str().unwrap_or_default()))
                        })
                    })
                    .ok_or_else(|| {
                        ActionError::Precondition(format!(
                            "unable to find container named {container:?} in {object}"
                        ))
                    })?;
                if now != from && now != to {
                    return Err(ActionError::Precondition(format!(
                        "container {container} of {object} now runs {now}, not {from} as confirmed; review the change again"
                    ))
                    .into());
                }
                let message = format!("{object} container {container} image updated to {to}");
                arm(
                    &object,
                    workload_path(target),
                    Expect::Image {
                        container: container.clone(),
                        image: to.clone(),
                    },
                    &message,
                );
                let patch = Patch::Strategic(json!({
                    "metadata": {"annotations": {CHANGE_CAUSE: self.change_cause(cmd)}},
                    "spec": {"template": {"spec": {list: [{"name": container, "image": to}]}}},
                }));
                self.workload_api(target)
                    .patch(&target.name, &pp, &patch)
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            Command::PauseRollout { target } | Command::ResumeRollout { target } => {
                let pause = matches!(cmd, Command::PauseRollout { .. });
                let current = self.get_workload(target, &access).await?;
                let word = if pause { "paused" } else { "resumed" };
                if (current["spec"]["paused"] == true) == pause {
                    return Ok(format!("{object} is already {word}"));
                }
                let message = format!("{object} {word}");
                arm(
                    &object,
                    workload_path(target),
                    Expect::Fields(vec![("/spec/paused".into(), json!(pause))]),
                    &message,
                );
                let patch = Patch::Merge(json!({"spec": {"paused": pause}}));
                self.workload_api(target)
                    .patch(&target.name, &pp, &patch)
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            Command::Rollback {
                target,
                from_revision,
                to_revision,
            } => match target.kind {
                WorkloadKind::Deployment => {
                    self.rollback_deployment(target, *from_revision, *to_revision, &access, sending)
                        .await
                }
                WorkloadKind::StatefulSet => {
                    self.rollback_statefulset(
                        target,
                        *from_revision,
                        *to_revision,
                        &access,
                        sending,
                    )
                    .await
                }
            },
            Command::DeletePod {
                pod,
                grace_seconds,
                force,
            } => {
                let grace = match (force, grace_seconds) {
                    (true, g) => Some(g.unwrap_or(0)),
                    // As kubectl: a zero grace period without --force means 1s.
                    (false, Some(0)) => Some(1),
                    (false, g) => *g,
                };
                let grace = grace
                    .map(|g| {
                        u32::try_from(g).map_err(|_| {
                            ActionError::Invalid(format!("grace period {g}s is out of range"))
                        })
                    })
                    .transpose()?;
                let dp = DeleteParams {
                    grace_period_seconds: grace,
                    ..DeleteParams::default()
                };
                let message = if *force {
                    format!("{object} force deleted")
                } else {
                    format!("{object} deleted")
                };
                let api = Api::<Pod>::namespaced(self.client.clone(), &pod.namespace);
                arm(
                    &object,
                    pod_path(pod),
                    self.deleted(&api, &pod.name, &access).await?,
                    &message,
                );
                api.delete(&pod.name, &dp).await.map_err(lost)?;
                Ok(message)
            }
            Command::EvictPod { pod } => {
                let message = format!("{object} evicted");
                let api = Api::<Pod>::namespaced(self.client.clone(), &pod.namespace);
                arm(
                    &object,
                    pod_path(pod),
                    self.deleted(&api, &pod.name, &access).await?,
                    &message,
                );
                api.evict(&pod.name, &EvictParams::default())
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            // Long, with progress to report: `Executor::drain` (drain.rs).
            Command::Drain { .. } => Err(Failed::Definite(ActionError::Invalid(
                "a drain runs through Executor::drain, which reports its progress".into(),
            ))),
            Command::Cordon { node } | Command::Uncordon { node } => {
                let cordon = matches!(cmd, Command::Cordon { .. });
                let api = Api::<k8s_openapi::api::core::v1::Node>::all(self.client.clone());
                let current = api.get(node).await.map_err(err)?;
                let word = if cordon { "cordoned" } else { "uncordoned" };
                let now = current
                    .spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false);
                if now == cordon {
                    return Ok(format!("{object} already {word}"));
                }
                let message = format!("{object} {word}");
                arm(
                    &object,
                    format!("/api/v1/nodes/{node}"),
                    Expect::Fields(vec![("/spec/unschedulable".into(), json!(cordon))]),
                    &message,
                );
                // kubectl's two-way merge of `unschedulable: false` drops
                // the field rather than writing false.
                let value = if cordon { json!(true) } else { Value::Null };
                api.patch(
                    node,
                    &pp,
                    &Patch::Merge(json!({"spec": {"unschedulable": value}})),
                )
                .await
                .map_err(lost)?;
                Ok(message)
            }
            Command::TriggerCronJob { cronjob, job_name } => {
                let cj = Api::<CronJob>::namespaced(self.client.clone(), &cronjob.namespace)
                    .get(&cronjob.name)
                    .await
                    .map_err(err)?;
                let job = job_from_cronjob(&cj, job_name)?;
                let message = format!("job/{job_name} created from {object}");
                // The Job's name is new (random): if it exists, this made it.
                arm(
                    &format!("job/{job_name}"),
                    format!(
                        "/apis/batch/v1/namespaces/{}/jobs/{job_name}",
                        cronjob.namespace
                    ),
                    Expect::Exists,
                    &message,
                );
                Api::<Job>::namespaced(self.client.clone(), &cronjob.namespace)
                    .create(&PostParams::default(), &job)
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            Command::SuspendCronJob { cronjob } | Command::ResumeCronJob { cronjob } => {
                let suspend = matches!(cmd, Command::SuspendCronJob { .. });
                let message = format!("{object} {}", if suspend { "suspended" } else { "resumed" });
                arm(
                    &object,
                    format!(
                        "/apis/batch/v1/namespaces/{}/cronjobs/{}",
                        cronjob.namespace, cronjob.name
                    ),
                    Expect::Fields(vec![("/spec/suspend".into(), json!(suspend))]),
                    &message,
                );
                Api::<CronJob>::namespaced(self.client.clone(), &cronjob.namespace)
                    .patch(
                        &cronjob.name,
                        &pp,
                        &Patch::Merge(json!({"spec": {"suspend": suspend}})),
                    )
                    .await
                    .map_err(lost)?;
                Ok(message)
            }
            Command::SetHpaBounds { hpa, min, max, .. } => {
                let message = format!("{object} now keeps {min}–{max} replicas");
                arm(
                    &object,
                    format!(
                        "/apis/autoscaling/v2/namespaces/{}/horizontalpodautoscalers/{}",
                        hpa.namespace, hpa.name
                    ),
                    Expect::Fields(vec![
                        ("/spec/minReplicas".into(), json!(min)),
                        ("/spec/maxReplicas".into(), json!(max)),
                    ]),
                    &message,
                );
                Api::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>::namespaced(
                    self.client.clone(),
                    &hpa.namespace,
                )
                .patch(
                    &hpa.name,
                    &pp,
                    &Patch::Merge(json!({"spec": {"minReplicas": min, "maxReplicas": max}})),
                )
                .await
                .map_err(lost)?;
                Ok(message)
            }
            Command::Annotate {
                kind,
                object: o,
                key,
                to,
                ..
            } => {
                let message = match to {
                    Some(v) => format!("{object} annotated {key}={v}"),
                    None => format!("{object}: annotation {key} removed"),
                };
                arm(
                    &object,
                    format!(
                        "/apis/{}/{}/namespaces/{}/{}/{}",
                        kind.group(),
                        kind.version(),
                        o.namespace,
                        kind.plural(),
                        o.name
                    ),
                    Expect::Fields(vec![(readback::annotation("/metadata", key), json!(to))]),
                    &message,
                );
                // A null in a merge patch removes the key.
                let patch = Patch::Merge(json!({"metadata": {"annotations": {key.as_str(): to}}}));
                Api::<DynamicObject>::namespaced_with(
                    self.client.clone(),
                    &o.namespace,
                    &super::plan::annotatable(*kind),
                )
                .patch(&o.name, &pp, &patch)
                .await
                .map_err(lost)?;
                Ok(message)
            }
            Command::DeleteResource {
                object: r,
                propagation,
            } => {
                let api = super::delete::api(&self.client, r);
                let current = api.get_metadata(&r.name).await.map_err(err)?;
                let message = match propagation {
                    Propagation::Background => format!("{object} deleted"),
                    Propagation::Foreground => {
                        format!("{object} deleting: what it owns goes first (foreground)")
                    }
                    Propagation::Orphan => format!("{object} deleted; what it owned is kept"),
                };
                arm(
                    &object,
                    r.path(),
                    Expect::Deleted {
                        uid: current.metadata.uid.unwrap_or_default(),
                    },
                    &message,
                );
                let dp = DeleteParams {
                    propagation_policy: Some(match propagation {
                        Propagation::Background => PropagationPolicy::Background,
                        Propagation::Foreground => PropagationPolicy::Foreground,
                        Propagation::Orphan => PropagationPolicy::Orphan,
                    }),
                    ..DeleteParams::default()
                };
                api.delete(&r.name, &dp).await.map_err(lost)?;
                Ok(message)
            }
            Command::Replace {
                object: target,
                resource_version,
                text,
                ..
            } => {
                let (before, after) = replace::body(resource_version, text)?;
                let mut shown = after.clone();
                if let Some(map) = shown.as_object_mut() {
                    map.remove("status");
                }
                let message = format!("{object} edited");
                arm(
                    &object,
                    replace::path(target),
                    Expect::Edited(edit::changes(&before, &shown)),
                    &message,
                );
                match replace::send(&self.client, target, &after).await? {
                    Ok(()) => Ok(message),
                    Err(e) if readback::answer_lost(&e).is_some() => Err(lost(e)),
                    Err(e) => Err(replace::refused(e, cmd).into()),
                }
            }
        }
    }

    /// What a deleted pod looks like when read back: gone, or not the pod
    /// of this uid (a StatefulSet's pod comes back under its name), or
    /// being deleted. Reads the pod for its uid.
    async fn deleted(
        &self,
        api: &Api<Pod>,
        name: &str,
        access: &Access,
    ) -> Result<Expect, ActionError> {
        let pod = api
            .get(name)
            .await
            .map_err(|e| ActionError::from_kube(e, access))?;
        Ok(Expect::Deleted {
            uid: pod.metadata.uid.unwrap_or_default(),
        })
    }

    /// The change-cause of a new revision, what and who, as `kubectl
    /// --record` once wrote it.
    fn change_cause(&self, cmd: &Command) -> String {
        format!("{} (kubedeck, by {})", cmd.kubectl(), self.user)
    }

    fn workload_api(&self, target: &WorkloadRef) -> Api<DynamicObject> {
        let kind = match target.kind {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        };
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apps", "v1", kind),
            target.kind.plural(),
        );
        Api::namespaced_with(self.client.clone(), &target.namespace, &ar)
    }

    async fn get_workload(
        &self,
        target: &WorkloadRef,
        access: &Access,
    ) -> Result<Value, ActionError> {
        let obj = self
            .workload_api(target)
            .get(&target.name)
            .await
            .map_err(|e| ActionError::from_kube(e, access))?;
        serde_json::to_value(obj).map_err(|e| ActionError::Api(e.to_string()))
    }

    async fn list_json(
        &self,
        ns: &str,
        kind: &str,
        plural: &str,
        access: &Access,
    ) -> Result<Vec<Value>, ActionError> {
        let ar =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("apps", "v1", kind), plural);
        let list = Api::<DynamicObject>::namespaced_with(self.client.clone(), ns, &ar)
            .list(&ListParams::default())
            .await
            .map_err(|e| ActionError::from_kube(e, access))?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect())
    }

    /// `kubectl rollout undo --to-revision` for a Deployment: the chosen
    /// ReplicaSet's template (minus its pod-template-hash) replaces the
    /// Deployment's, with the ReplicaSet's annotations, in one JSON patch.
    async fn rollback_deployment(
        &self,
        target: &WorkloadRef,
        from_revision: i64,
        to_revision: i64,
        access: &Access,
        sending: &Sending,
    ) -> Result<String, Failed> {
        let d = self.get_workload(target, access).await?;
        let object = format!("deployment/{}", target.name);
        if d["spec"]["paused"] == true {
            return Err(ActionError::Precondition(format!(
                "you cannot roll back a paused deployment; resume {object} first"
            ))
            .into());
        }
        let current = revision_of(&d);
        if current != Some(from_revision) {
            return Err(ActionError::Precondition(format!(
                "{object} is now at revision {}, not {from_revision} as confirmed; review the rollback again",
                current.map_or("?".to_string(), |r| r.to_string())
            ))
            .into());
        }
        let uid = d["metadata"]["uid"].as_str().unwrap_or_default();
        let mut owned: Vec<(i64, Value)> = self
            .list_json(&target.namespace, "ReplicaSet", "replicasets", access)
            .await?
            .into_iter()
            .filter(|rs| controlled_by(rs, uid))
            .filter_map(|rs| revision_of(&rs).map(|r| (r, rs)))
            .collect();
        owned.sort_by_key(|(r, _)| *r);
        let (to, rs) = pick_revision(&owned, to_revision)?;
        let mut template = rs["spec"]["template"].clone();
        if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
            labels.remove(POD_TEMPLATE_HASH);
        }
        if equal_ignoring_hash(&template, &d["spec"]["template"]) {
            return Ok(format!(
                "skipped rollback (current template already matches revision {to})"
            ));
        }
        let mut annotations = serde_json::Map::new();
        for k in ROLLBACK_SKIPPED_ANNOTATIONS {
            if let Some(v) = d["metadata"]["annotations"].get(*k) {
                annotations.insert((*k).to_string(), v.clone());
            }
        }
        if let Some(rs_ann) = rs["metadata"]["annotations"].as_object() {
            for (k, v) in rs_ann {
                if !ROLLBACK_SKIPPED_ANNOTATIONS.contains(&k.as_str()) {
                    annotations.insert(k.clone(), v.clone());
                }
            }
        }
        // The revision's old cause would say why it was made, not why it
        // is back.
        annotations.insert(
            CHANGE_CAUSE.to_string(),
            json!(self.change_cause(&Command::Rollback {
                target: target.clone(),
                from_revision,
                to_revision: to,
            })),
        );
        let message = format!("{object} rolled back to revision {to}");
        *sending.lock().unwrap_or_else(|e| e.into_inner()) = Some(ReadBack {
            object: object.clone(),
            path: workload_path(target),
            expect: Expect::Template(template.clone()),
            message: message.clone(),
        });
        let ops = json!([
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]);
        self.json_patch(&workload_path(target), &ops, access)
            .await?;
        Ok(message)
    }

    /// `kubectl rollout undo` for a StatefulSet: the ControllerRevision's
    /// data is itself a strategic-merge patch that restores the template.
    async fn rollback_statefulset(
        &self,
        target: &WorkloadRef,
        from_revision: i64,
        to_revision: i64,
        access: &Access,
        sending: &Sending,
    ) -> Result<String, Failed> {
        let set = self.get_workload(target, access).await?;
        let object = format!("statefulset/{}", target.name);
        let uid = set["metadata"]["uid"].as_str().unwrap_or_default();
        let mut owned: Vec<(i64, Value)> = self
            .list_json(
                &target.namespace,
                "ControllerRevision",
                "controllerrevisions",
                access,
            )
            .await?
            .into_iter()
            .filter(|cr| controlled_by(cr, uid))
            .filter_map(|cr| cr["revision"].as_i64().map(|r| (r, cr)))
            .collect();
        owned.sort_by_key(|(r, _)| *r);
        let update = set["status"]["updateRevision"].as_str();
        let current = owned
            .iter()
            .find(|(_, cr)| cr["metadata"]["name"].as_str() == update)
            .map(|(r, _)| *r);
        if current != Some(from_revision) {
            return Err(ActionError::Precondition(format!(
                "{object} is now at revision {}, not {from_revision} as confirmed; review the rollback again",
                current.map_or("?".to_string(), |r| r.to_string())
            ))
            .into());
        }
        let (to, cr) = pick_revision(&owned, to_revision)?;
        let mut data = cr["data"].clone();
        let mut wanted = data["spec"]["template"].clone();
        if let Some(m) = wanted.as_object_mut() {
            m.remove("$patch");
        }
        if wanted == set["spec"]["template"] {
            return Ok(format!(
                "skipped rollback (current template already matches revision {to})"
            ));
        }
        data["metadata"]["annotations"][CHANGE_CAUSE] =
            json!(self.change_cause(&Command::Rollback {
                target: target.clone(),
                from_revision,
                to_revision: to,
            }));
        let message = format!("{object} rolled back to revision {to}");
        *sending.lock().unwrap_or_else(|e| e.into_inner()) = Some(ReadBack {
            object: object.clone(),
            path: workload_path(target),
            expect: Expect::Template(wanted),
            message: message.clone(),
        });
        self.workload_api(target)
            .patch(
                &target.name,
                &PatchParams::default(),
                &Patch::Strategic(data),
            )
            .await
            .map_err(|e| write_failed(e, access))?;
        Ok(message)
    }

    /// A JSON patch (RFC 6902) through the client's raw request: kube's
    /// `Patch::Json` takes json-patch 4's type, while the project uses
    /// json-patch 5, and one request is cheaper than two versions of a crate.
    async fn json_patch(&self, path: &str, ops: &Value, access: &Access) -> Result<(), Failed> {
        let body = serde_json::to_vec(ops).map_err(|e| ActionError::Api(e.to_string()))?;
        let req = http::Request::patch(path)
            .header(http::header::CONTENT_TYPE, "application/json-patch+json")
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .map_err(|e| ActionError::Api(e.to_string()))?;
        self.client
            .request::<Value>(req)
            .await
            .map(|_| ())
            .map_err(|e| write_failed(e, access))
    }
}

/// The command's name for an action the console's keymap names otherwise
/// (`kill`, `delete`, `trigger`, `restart`); None when the names agree, or
/// when (`pause`) it depends on the object's state.
fn command_action_name(action: &str, kind: &str) -> Option<&'static str> {
    Some(match (action, kind) {
        ("kill" | "delete", "pod") => "delete-pod",
        ("trigger", "cronjob") => "trigger-cronjob",
        ("restart", "deployment" | "statefulset") => "rollout-restart",
        _ => return None,
    })
}

fn revision_of(obj: &Value) -> Option<i64> {
    obj["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|v| v.parse().ok())
}

fn controlled_by(obj: &Value, uid: &str) -> bool {
    !uid.is_empty()
        && obj["metadata"]["ownerReferences"]
            .as_array()
            .is_some_and(|refs| {
                refs.iter()
                    .any(|r| r["controller"] == true && r["uid"] == uid)
            })
}

/// The revision asked for; 0 means the one before the latest, as kubectl.
fn pick_revision(owned: &[(i64, Value)], to_revision: i64) -> Result<(i64, &Value), ActionError> {
    let found = if to_revision == 0 {
        owned.iter().rev().nth(1)
    } else {
        owned.iter().find(|(r, _)| *r == to_revision)
    };
    match found {
        Some((r, v)) => Ok((*r, v)),
        None if to_revision == 0 => Err(ActionError::Precondition(
            "no rollout history found: there is no previous revision".into(),
        )),
        None => Err(ActionError::Precondition(format!(
            "unable to find the specified revision {to_revision} in history"
        ))),
    }
}

pub(crate) fn equal_ignoring_hash(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(labels) = v["metadata"]["labels"].as_object_mut() {
            labels.remove(POD_TEMPLATE_HASH);
        }
        v
    };
    strip(a) == strip(b)
}

/// `kubectl create job NAME --from=cronjob/X`: the job template with the
/// manual-instantiation annotation and the CronJob as controller.
pub(crate) fn job_from_cronjob(cj: &CronJob, name: &str) -> Result<Job, ActionError> {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .ok_or_else(|| ActionError::Precondition("the CronJob has no spec".into()))?;
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = std::collections::BTreeMap::new();
    annotations.insert(
        "cronjob.kubernetes.io/instantiate".to_string(),
        "manual".to_string(),
    );
    annotations.extend(meta.annotations.unwrap_or_default());
    let uid = cj
        .metadata
        .uid
        .clone()
        .ok_or_else(|| ActionError::Precondition("the CronJob has no uid".into()))?;
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            annotations: Some(annotations),
            labels: meta.labels,
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "CronJob".into(),
                name: cj.metadata.name.clone().unwrap_or_default(),
                uid,
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(template.spec.unwrap_or_else(JobSpec::default)),
        status: None,
    })
}

/// Why one attempt at a command failed: surely, or with its change sent
/// and the answer lost, so that only reading back can tell.
enum Failed {
    Definite(ActionError),
    /// Why the answer was lost.
    Lost(String),
}

impl From<ActionError> for Failed {
    fn from(e: ActionError) -> Self {
        Failed::Definite(e)
    }
}

/// The change an attempt is sending, and how to read it back.
type Sending = std::sync::Mutex<Option<ReadBack>>;

/// A failed change: lost when the server may have applied it.
fn write_failed(e: kube::Error, access: &Access) -> Failed {
    match readback::answer_lost(&e) {
        Some(cause) => Failed::Lost(cause),
        None => Failed::Definite(ActionError::from_kube(e, access)),
    }
}

fn workload_path(target: &WorkloadRef) -> String {
    format!(
        "/apis/apps/v1/namespaces/{}/{}/{}",
        target.namespace,
        target.kind.plural(),
        target.name
    )
}

fn pod_path(pod: &ObjectRef) -> String {
    format!("/api/v1/namespaces/{}/pods/{}", pod.namespace, pod.name)
}

/// An error that a conflict retry looks at.
trait MaybeConflict {
    fn is_conflict(&self) -> bool;
}

impl MaybeConflict for ActionError {
    fn is_conflict(&self) -> bool {
        ActionError::is_conflict(self)
    }
}

impl MaybeConflict for Failed {
    fn is_conflict(&self) -> bool {
        matches!(self, Failed::Definite(e) if e.is_conflict())
    }
}

/// Re-runs `f` on 409 Conflict, as client-go's `RetryOnConflict` does for
/// kubectl's read-modify-write updates.
async fn retry_conflicts<T, E, F, Fut>(mut f: F) -> Result<T, E>
where
    E: MaybeConflict,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if e.is_conflict() && attempt < CONFLICT_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{CronJobSpec, JobTemplateSpec};

    #[test]
    fn a_manual_job_carries_the_annotation_and_the_owner() {
        let cj = CronJob {
            metadata: ObjectMeta {
                name: Some("backup".into()),
                uid: Some("u1".into()),
                ..ObjectMeta::default()
            },
            spec: Some(CronJobSpec {
                schedule: "0 3 * * *".into(),
                job_template: JobTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("app".to_string(), "backup".to_string())].into()),
                        annotations: Some([("team".to_string(), "db".to_string())].into()),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(JobSpec {
                        backoff_limit: Some(2),
                        ..JobSpec::default()
                    }),
                },
                ..CronJobSpec::default()
            }),
            status: None,
        };
        let job = job_from_cronjob(&cj, "backup-manual-1").unwrap();
        let ann = job.metadata.annotations.unwrap();
        assert_eq!(ann["cronjob.kubernetes.io/instantiate"], "manual");
        assert_eq!(ann["team"], "db");
        assert_eq!(job.metadata.labels.unwrap()["app"], "backup");
        let owner = &job.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("CronJob", "backup", "u1")
        );
        assert_eq!(owner.controller, Some(true));
        assert_eq!(job.spec.unwrap().backoff_limit, Some(2));
    }

    #[test]
    fn revision_zero_means_the_previous_one() {
        let owned = vec![(1, json!("a")), (2, json!("b")), (4, json!("c"))];
        assert_eq!(pick_revision(&owned, 0).unwrap().0, 2);
        assert_eq!(pick_revision(&owned, 1).unwrap().0, 1);
        assert!(matches!(
            pick_revision(&owned, 3),
            Err(ActionError::Precondition(m)) if m.contains("revision 3")
        ));
        assert!(pick_revision(&owned[..1], 0).is_err());
    }

    #[test]
    fn templates_compare_without_the_hash_label() {
        let a =
            json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {}});
        let b = json!({"metadata": {"labels": {"app": "web"}}, "spec": {}});
        assert!(equal_ignoring_hash(&a, &b));
        let c = json!({"metadata": {"labels": {"app": "api"}}, "spec": {}});
        assert!(!equal_ignoring_hash(&a, &c));
    }

    #[test]
    fn kubeconfig_user_follows_the_context() {
        let kc: Kubeconfig = serde_norway::from_str(
            "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: alice}\n- name: b\n  context: {cluster: c}\n",
        )
        .unwrap();
        assert_eq!(kubeconfig_user(&kc, None), "alice");
        assert_eq!(kubeconfig_user(&kc, Some("b")), "unknown");
        assert_eq!(kubeconfig_user(&kc, Some("zzz")), "unknown");
    }

    #[tokio::test]
    async fn conflicts_are_retried_then_reported() {
        let mut calls = 0;
        let r: Result<(), ActionError> = retry_conflicts(|| {
            calls += 1;
            async { Err(ActionError::Conflict("x".into())) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, CONFLICT_ATTEMPTS);
        let mut calls = 0;
        let r = retry_conflicts(|| {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(ActionError::Conflict("x".into()))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(r, Ok(3));
    }
}
