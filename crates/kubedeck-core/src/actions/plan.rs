//! From a command to a confirmation: what the dialog shows (the exact
//! command, context, namespace, before → after and the consequences read
//! from the cluster), and the only way to get a `Confirmed` command, which is
//! all the executor accepts.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::command::{AnnotatableKind, Command, WorkloadKind, WorkloadRef};
use super::error::ActionError;
use crate::config::Config;
use kubedeck_kube::selector::LabelSelector;

/// A command ready to be shown in a confirm dialog. It is built by `plan`
/// (or `new`), and turned into a `Confirmed` only by `confirm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    command: Command,
    context: String,
    consequences: Vec<String>,
    typed_name: Option<String>,
    /// An edit's unified diff, original → edited (a Secret's values
    /// masked); empty for other commands.
    diff: Vec<String>,
}

/// A command the user confirmed; the executor runs nothing else. It has no
/// public constructor and is not Clone, so each confirmation runs once.
#[derive(Debug)]
pub struct Confirmed {
    confirmation: Confirmation,
    at: DateTime<Utc>,
}

impl Confirmed {
    pub fn confirmation(&self) -> &Confirmation {
        &self.confirmation
    }

    pub fn command(&self) -> &Command {
        &self.confirmation.command
    }

    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    #[error("context {context} is protected: type {expected:?} to confirm")]
    NameRequired { context: String, expected: String },
    #[error("typed {typed:?}, but confirming needs {expected:?}; nothing was done")]
    NameMismatch { expected: String, typed: String },
}

impl Confirmation {
    /// A confirmation for `command` in `context`; protected contexts (from
    /// the config's patterns) require the object's name to be typed.
    pub fn new(
        command: Command,
        context: &str,
        config: &Config,
        consequences: Vec<String>,
    ) -> Confirmation {
        let typed_name = config
            .is_protected(context)
            .then(|| command.object_name().to_string());
        Confirmation {
            command,
            context: context.to_string(),
            consequences,
            typed_name,
            diff: Vec::new(),
        }
    }

    /// The confirmation with an edit's diff to show.
    pub fn with_diff(mut self, diff: Vec<String>) -> Confirmation {
        self.diff = diff;
        self
    }

    /// An edit's unified diff lines (`@@`, ` `, `-`, `+`).
    pub fn diff(&self) -> &[String] {
        &self.diff
    }

    pub fn command(&self) -> &Command {
        &self.command
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn namespace(&self) -> Option<&str> {
        self.command.namespace()
    }

    pub fn summary(&self) -> String {
        self.command.summary()
    }

    /// The kubectl line with the context, so it can be pasted as is.
    pub fn kubectl(&self) -> String {
        format!("{} --context {}", self.command.kubectl(), self.context)
    }

    pub fn change(&self) -> (String, String) {
        self.command.change()
    }

    pub fn consequences(&self) -> &[String] {
        &self.consequences
    }

    /// The name the user must type, in a protected context.
    pub fn typed_name(&self) -> Option<&str> {
        self.typed_name.as_deref()
    }

    /// The user's yes. In a protected context `typed` must be the object's
    /// name exactly (surrounding blanks aside).
    pub fn confirm(&self, typed: Option<&str>) -> Result<Confirmed, ConfirmError> {
        if let Some(expected) = &self.typed_name {
            match typed.map(str::trim) {
                None | Some("") => {
                    return Err(ConfirmError::NameRequired {
                        context: self.context.clone(),
                        expected: expected.clone(),
                    });
                }
                Some(t) if t != expected => {
                    return Err(ConfirmError::NameMismatch {
                        expected: expected.clone(),
                        typed: t.to_string(),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Confirmed {
            confirmation: self.clone(),
            at: Utc::now(),
        })
    }
}

/// What the cluster looks like around the command's object, as JSON.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The object acted on (Null when not read).
    pub target: Value,
    /// Pods of the namespace, or of the node for a cordon.
    pub pods: Vec<Value>,
    pub services: Vec<Value>,
    pub hpas: Vec<Value>,
    pub pdbs: Vec<Value>,
    /// A Deployment's ReplicaSets or a StatefulSet's ControllerRevisions.
    pub revisions: Vec<Value>,
    /// Around an object to delete: the kinds searched for its dependents,
    /// a namespace's contents or a CRD's instances (`delete.rs`).
    pub listed: Vec<super::delete::Listed>,
}

/// Validates the command, reads the cluster around it and builds the
/// confirmation with its consequences.
pub async fn plan(
    client: &Client,
    context: &str,
    config: &Config,
    command: Command,
) -> Result<Confirmation, ActionError> {
    command.validate().map_err(ActionError::Invalid)?;
    if let Command::Replace { .. } = &command {
        // The server's dry run is the edit's check: its validation and a
        // change made meanwhile answer as the replace itself would.
        let diff = super::replace::dry_run(client, &command).await?;
        return Ok(Confirmation::new(command, context, config, Vec::new()).with_diff(diff));
    }
    let snapshot = snapshot(client, &command).await?;
    let consequences = consequences(&command, &snapshot);
    Ok(Confirmation::new(command, context, config, consequences))
}

async fn get_json<K>(api: Api<K>, name: &str, cmd: &Command) -> Result<Value, ActionError>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj = api
        .get(name)
        .await
        .map_err(|e| ActionError::from_kube(e, &cmd.access()))?;
    Ok(serde_json::to_value(obj).unwrap_or(Value::Null))
}

async fn list_json<K>(api: Api<K>, lp: &ListParams) -> Vec<Value>
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    // Context is best effort: a list the user may not read just means
    // fewer consequences shown, never a refused dialog.
    api.list(lp)
        .await
        .map(|l| {
            l.items
                .into_iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect()
        })
        .unwrap_or_default()
}

async fn snapshot(client: &Client, cmd: &Command) -> Result<Snapshot, ActionError> {
    let mut s = Snapshot::default();
    let all = ListParams::default();
    let ns = cmd.namespace().unwrap_or_default();
    match cmd {
        Command::Scale { target, .. }
        | Command::RolloutRestart { target }
        | Command::SetImage { target, .. }
        | Command::PauseRollout { target }
        | Command::ResumeRollout { target }
        | Command::Rollback { target, .. } => {
            s.target = get_workload(client, target, cmd).await?;
            (s.pods, s.services) = pods_and_services(client, ns).await;
            s.hpas = list_json(
                Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), ns),
                &all,
            )
            .await;
            if matches!(cmd, Command::Rollback { .. }) {
                s.revisions = match target.kind {
                    WorkloadKind::Deployment => {
                        list_json(Api::<ReplicaSet>::namespaced(client.clone(), ns), &all).await
                    }
                    WorkloadKind::StatefulSet => {
                        list_json(
                            Api::<ControllerRevision>::namespaced(client.clone(), ns),
                            &all,
                        )
                        .await
                    }
                };
            }
        }
        Command::DeletePod { pod, .. } | Command::EvictPod { pod } => {
            s.target = get_json(Api::<Pod>::namespaced(client.clone(), ns), &pod.name, cmd).await?;
            (s.pods, s.services) = pods_and_services(client, ns).await;
            s.pdbs = list_json(
                Api::<PodDisruptionBudget>::namespaced(client.clone(), ns),
                &all,
            )
            .await;
        }
        Command::Drain { node, .. } => return super::drain::snapshot(client, node, cmd).await,
        Command::Cordon { node } | Command::Uncordon { node } => {
            s.target = get_json(Api::<Node>::all(client.clone()), node, cmd).await?;
            s.pods = list_json(
                Api::<Pod>::all(client.clone()),
                &ListParams::default().fields(&format!("spec.nodeName={node}")),
            )
            .await;
        }
        Command::TriggerCronJob { cronjob, .. }
        | Command::SuspendCronJob { cronjob }
        | Command::ResumeCronJob { cronjob } => {
            s.target = get_json(
                Api::<CronJob>::namespaced(client.clone(), ns),
                &cronjob.name,
                cmd,
            )
            .await?;
        }
        Command::SetHpaBounds { hpa, .. } => {
            s.target = get_json(
                Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), ns),
                &hpa.name,
                cmd,
            )
            .await?;
        }
        Command::Annotate { kind, object, .. } => {
            s.target = get_json(
                Api::<DynamicObject>::namespaced_with(client.clone(), ns, &annotatable(*kind)),
                &object.name,
                cmd,
            )
            .await?;
        }
        Command::DeleteResource { object, .. } => {
            (s.target, s.listed) = super::delete::read(client, object, cmd).await?;
        }
        // Planned by its dry run, in `plan`.
        Command::Replace { .. } => {}
    }
    Ok(s)
}

/// How the dynamic API reaches an annotatable kind.
pub(crate) fn annotatable(kind: AnnotatableKind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), kind.version(), kind.kind()),
        kind.plural(),
    )
}

async fn pods_and_services(client: &Client, ns: &str) -> (Vec<Value>, Vec<Value>) {
    let all = ListParams::default();
    let pods = list_json(Api::<Pod>::namespaced(client.clone(), ns), &all).await;
    let services = list_json(Api::<Service>::namespaced(client.clone(), ns), &all).await;
    (pods, services)
}

async fn get_workload(
    client: &Client,
    target: &WorkloadRef,
    cmd: &Command,
) -> Result<Value, ActionError> {
    match target.kind {
        WorkloadKind::Deployment => {
            get_json(
                Api::<Deployment>::namespaced(client.clone(), &target.namespace),
                &target.name,
                cmd,
            )
            .await
        }
        WorkloadKind::StatefulSet => {
            get_json(
                Api::<StatefulSet>::namespaced(client.clone(), &target.namespace),
                &target.name,
                cmd,
            )
            .await
        }
    }
}

fn is_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn is_live(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && !matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        )
}

fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The workload's live pods, by its selector.
fn workload_pods<'a>(workload: &Value, pods: &'a [Value]) -> Vec<&'a Value> {
    let Ok(sel) = LabelSelector::from_object(&workload["spec"]["selector"]) else {
        return Vec::new();
    };
    if sel.is_empty() {
        return Vec::new();
    }
    pods.iter()
        .filter(|p| is_live(p) && sel.matches(&p["metadata"]["labels"]))
        .collect()
}

/// The pods controlled by the same owner as `pod` (itself included).
fn siblings<'a>(pod: &Value, pods: &'a [Value]) -> Vec<&'a Value> {
    let owner = controller_uid(pod);
    pods.iter()
        .filter(|p| {
            is_live(p)
                && match owner {
                    Some(uid) => controller_uid(p) == Some(uid),
                    None => name_of(p) == name_of(pod),
                }
        })
        .collect()
}

fn controller_uid(obj: &Value) -> Option<&str> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)?["uid"]
        .as_str()
}

/// "2 of 2 ready pods will be killed; service web will have 0 endpoints":
/// `killed` ready pods go out of `group` (their workload's pods).
fn killing(killed: &[&Value], group: &[&Value], snap: &Snapshot) -> Option<String> {
    let ready_killed: Vec<&Value> = killed.iter().copied().filter(|p| is_ready(p)).collect();
    if ready_killed.is_empty() {
        return None;
    }
    let ready = group.iter().filter(|p| is_ready(p)).count();
    let mut parts = vec![format!(
        "{} of {ready} ready pods will be killed",
        ready_killed.len()
    )];
    for svc in &snap.services {
        let sel = &svc["spec"]["selector"];
        if sel.as_object().is_none_or(|m| m.is_empty()) {
            continue;
        }
        let sel = LabelSelector::from_map(sel);
        let hit = ready_killed
            .iter()
            .filter(|p| sel.matches(&p["metadata"]["labels"]))
            .count();
        if hit == 0 {
            continue;
        }
        let now = snap
            .pods
            .iter()
            .filter(|p| is_ready(p) && sel.matches(&p["metadata"]["labels"]))
            .count();
        parts.push(format!(
            "service {} will have {}",
            name_of(svc),
            plural(now.saturating_sub(hit), "endpoint", "endpoints")
        ));
    }
    Some(parts.join("; "))
}

fn hpa_for<'a>(target: &WorkloadRef, hpas: &'a [Value]) -> Option<&'a Value> {
    let kind = match target.kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
    };
    hpas.iter().find(|h| {
        let r = &h["spec"]["scaleTargetRef"];
        r["kind"] == kind && r["name"] == target.name.as_str()
    })
}

fn hpa_bounds(hpa: &Value) -> (i64, i64) {
    let min = hpa["spec"]["minReplicas"].as_i64().unwrap_or(1);
    let max = hpa["spec"]["maxReplicas"].as_i64().unwrap_or(min);
    (min, max)
}

/// How replacing every pod of the workload goes.
fn replacement(target: &WorkloadRef, workload: &Value, snap: &Snapshot) -> Vec<String> {
    let n = workload_pods(workload, &snap.pods).len();
    let mut out = Vec::new();
    if workload["spec"]["paused"] == true {
        out.push(format!(
            "{} is paused: nothing rolls out until it is resumed",
            target.kind.singular()
        ));
        return out;
    }
    match target.kind {
        WorkloadKind::Deployment => {
            if workload["spec"]["strategy"]["type"] == "Recreate" {
                out.push(format!(
                    "strategy Recreate: all {} are killed before new ones start",
                    plural(n, "pod", "pods")
                ));
            } else {
                out.push(format!(
                    "all {} will be replaced by a rolling update",
                    plural(n, "pod", "pods")
                ));
            }
        }
        WorkloadKind::StatefulSet => {
            if workload["spec"]["updateStrategy"]["type"] == "OnDelete" {
                out.push(
                    "updateStrategy OnDelete: pods change only when they are deleted".to_string(),
                );
            } else {
                out.push(format!(
                    "all {} will be replaced one at a time, highest ordinal first",
                    plural(n, "pod", "pods")
                ));
            }
        }
    }
    out
}

fn images(template: &Value) -> String {
    template["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["image"].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The workload's revisions (a Deployment's ReplicaSets, a StatefulSet's
/// ControllerRevisions) by number, oldest first.
fn owned_revisions<'a>(
    target: &WorkloadRef,
    workload: &Value,
    revs: &'a [Value],
) -> Vec<(i64, &'a Value)> {
    let Some(uid) = workload["metadata"]["uid"].as_str() else {
        return Vec::new();
    };
    let mut owned: Vec<(i64, &Value)> = revs
        .iter()
        .filter(|r| controller_uid(r) == Some(uid))
        .filter_map(|r| {
            let n = match target.kind {
                WorkloadKind::Deployment => {
                    r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                        .as_str()
                        .and_then(|v| v.parse::<i64>().ok())
                }
                WorkloadKind::StatefulSet => r["revision"].as_i64(),
            }?;
            Some((n, r))
        })
        .collect();
    owned.sort_by_key(|(n, _)| *n);
    owned
}

/// The revision a rollback goes to: `n`, or with 0 the one before the
/// latest, as the executor (and kubectl) picks it.
fn rollback_revision<'a>(
    target: &WorkloadRef,
    workload: &Value,
    revs: &'a [Value],
    n: i64,
) -> Option<(i64, &'a Value)> {
    let owned = owned_revisions(target, workload, revs);
    if n == 0 {
        owned.iter().rev().nth(1).copied()
    } else {
        owned.into_iter().find(|(r, _)| *r == n)
    }
}

/// A revision's pod template: a ReplicaSet's, or a ControllerRevision's data.
fn revision_template(kind: WorkloadKind, rev: &Value) -> &Value {
    match kind {
        WorkloadKind::Deployment => &rev["spec"]["template"],
        WorkloadKind::StatefulSet => &rev["data"]["spec"]["template"],
    }
}

/// Whether `pod` runs revision `rev`: it belongs to the ReplicaSet, or
/// carries the ControllerRevision's hash.
fn runs_revision(kind: WorkloadKind, pod: &Value, rev: &Value) -> bool {
    match kind {
        WorkloadKind::Deployment => {
            rev["metadata"]["uid"].as_str().is_some()
                && controller_uid(pod) == rev["metadata"]["uid"].as_str()
        }
        WorkloadKind::StatefulSet => {
            rev["metadata"]["name"].as_str().is_some()
                && pod["metadata"]["labels"]["controller-revision-hash"].as_str()
                    == rev["metadata"]["name"].as_str()
        }
    }
}

/// What a rollback to revision `n` changes: only the pods not on it. Pods
/// still running it stay, so a rollback from a stalled rollout replaces
/// the stalled pods, not every pod.
fn rollback_changes(
    target: &WorkloadRef,
    workload: &Value,
    snap: &Snapshot,
    n: i64,
    rev: &Value,
) -> Vec<String> {
    let kind = target.kind;
    if workload["spec"]["paused"] == true {
        return vec![format!(
            "{} is paused: nothing rolls out until it is resumed",
            kind.singular()
        )];
    }
    let pods = workload_pods(workload, &snap.pods);
    let (same, other): (Vec<&Value>, Vec<&Value>) =
        pods.iter().partition(|p| runs_revision(kind, p, rev));
    let desired = usize::try_from(workload["spec"]["replicas"].as_i64().unwrap_or(1)).unwrap_or(0);
    let created = desired.saturating_sub(same.len());
    if other.is_empty() && created == 0 {
        return vec![format!(
            "no pod changes: {} already run revision {n}",
            if same.len() == 1 {
                "its 1 pod".to_string()
            } else {
                format!("all {} pods", same.len())
            }
        )];
    }
    let others = plural(
        other.len(),
        "pod of another revision",
        "pods of other revisions",
    );
    let mut parts = Vec::new();
    if !same.is_empty() {
        parts.push(format!(
            "{} already {} revision {n} and {}",
            plural(same.len(), "pod", "pods"),
            if same.len() == 1 { "runs" } else { "run" },
            if same.len() == 1 { "stays" } else { "stay" }
        ));
    }
    match kind {
        WorkloadKind::StatefulSet => {
            if workload["spec"]["updateStrategy"]["type"] == "OnDelete" {
                parts.push(format!(
                    "updateStrategy OnDelete: {others} change only when deleted"
                ));
            } else if !other.is_empty() {
                parts.push(format!(
                    "{others} will be replaced one at a time, highest ordinal first"
                ));
            }
        }
        WorkloadKind::Deployment => {
            let how = if workload["spec"]["strategy"]["type"] == "Recreate" {
                " (strategy Recreate: they go before new ones start)"
            } else {
                ""
            };
            if !other.is_empty() {
                parts.push(format!("{others} will be removed{how}"));
            }
            if created > 0 {
                parts.push(format!(
                    "{} of revision {n} will be created{}",
                    plural(created, "pod", "pods"),
                    if how.is_empty() {
                        " by a rolling update"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    vec![parts.join("; ")]
}

/// The image `container` runs in the workload's template now.
fn template_image<'a>(workload: &'a Value, container: &str) -> Option<&'a str> {
    let spec = &workload["spec"]["template"]["spec"];
    ["containers", "initContainers"].iter().find_map(|list| {
        spec[*list]
            .as_array()?
            .iter()
            .find(|c| c["name"] == container)?["image"]
            .as_str()
    })
}

/// What the action will do beyond its own object, from `snap`.
pub fn consequences(cmd: &Command, snap: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let t = &snap.target;
    match cmd {
        Command::Scale { target, from, to } => {
            if let Some(hpa) = hpa_for(target, &snap.hpas) {
                let (min, max) = hpa_bounds(hpa);
                out.push(format!(
                    "HPA {} manages this {}: it will set replicas back to {min}–{max}",
                    name_of(hpa),
                    target.kind.singular()
                ));
            }
            let pods = workload_pods(t, &snap.pods);
            if to < from {
                let ready: Vec<&Value> = pods.iter().copied().filter(|p| is_ready(p)).collect();
                let keep = usize::try_from(*to).unwrap_or(0);
                let killed: Vec<&Value> = ready.iter().copied().skip(keep).collect();
                out.extend(killing(&killed, &pods, snap));
            } else if to > from {
                out.push(format!(
                    "{} will be created",
                    plural(
                        usize::try_from(to - from).unwrap_or(0),
                        "new pod",
                        "new pods"
                    )
                ));
            }
        }
        Command::SetImage {
            target,
            container,
            to,
            ..
        } if template_image(t, container) == Some(to.as_str()) => {
            out.push(format!(
                "container {container} of {} already runs {to}: no pod changes",
                target.kind.singular()
            ));
        }
        Command::RolloutRestart { target } | Command::SetImage { target, .. } => {
            out.extend(replacement(target, t, snap));
        }
        Command::Rollback {
            target,
            to_revision,
            ..
        } => match rollback_revision(target, t, &snap.revisions, *to_revision) {
            Some((n, rev)) => {
                out.push(format!(
                    "revision {n} runs {}",
                    images(revision_template(target.kind, rev))
                ));
                out.extend(rollback_changes(target, t, snap, n, rev));
            }
            None if *to_revision > 0 => out.push(format!(
                "revision {to_revision} was not found: the rollback will fail"
            )),
            None => out.push("there is no previous revision: the rollback will fail".into()),
        },
        Command::PauseRollout { .. } => {
            out.push("template changes will not roll out until the rollout is resumed".into());
        }
        Command::ResumeRollout { .. } => {
            out.push("template changes made while paused will roll out now".into());
        }
        Command::DeletePod { .. } | Command::EvictPod { .. } if !t.is_null() => {
            let force = matches!(cmd, Command::DeletePod { force: true, .. });
            let group = siblings(t, &snap.pods);
            out.extend(killing(&[t], &group, snap));
            if controller_uid(t).is_none() {
                out.push(format!(
                    "pod {} has no controller: nothing will replace it",
                    name_of(t)
                ));
            }
            if force {
                out.push(
                    "immediate deletion does not wait for the kubelet: the containers may keep running on the node for a while"
                        .into(),
                );
            }
            if matches!(cmd, Command::EvictPod { .. }) {
                out.extend(pdb_effects(t, &snap.pdbs));
            }
        }
        Command::Cordon { node } => {
            let n = snap.pods.iter().filter(|p| is_live(p)).count();
            out.push(format!(
                "{} keep running on {node}; no new pods will be scheduled there",
                plural(n, "pod", "pods")
            ));
        }
        Command::Uncordon { node } => {
            out.push(format!("new pods may be scheduled on {node} again"));
        }
        Command::Drain { node, options } => {
            out.extend(super::drain::consequences(node, options, snap));
        }
        Command::TriggerCronJob { job_name, .. } => {
            let schedule = t["spec"]["schedule"].as_str().unwrap_or("?");
            out.push(format!(
                "job {job_name} starts now, outside the schedule {schedule:?}"
            ));
            let active = t["status"]["active"].as_array().map_or(0, Vec::len);
            if active > 0 {
                out.push(format!(
                    "{} of this CronJob still running; a manual run ignores concurrencyPolicy",
                    plural(active, "job is", "jobs are")
                ));
            }
        }
        Command::SuspendCronJob { .. } => {
            let active = t["status"]["active"].as_array().map_or(0, Vec::len);
            out.push(format!(
                "no new jobs will start; {} keep running",
                plural(active, "active job", "active jobs")
            ));
        }
        Command::ResumeCronJob { .. } => {
            let schedule = t["spec"]["schedule"].as_str().unwrap_or("?");
            out.push(format!("jobs start again on the schedule {schedule:?}"));
        }
        Command::SetHpaBounds { min, max, .. } => {
            let current = t["status"]["currentReplicas"].as_i64().unwrap_or(0);
            let (min, max) = (i64::from(*min), i64::from(*max));
            if current < min {
                out.push(format!(
                    "{current} replicas now: the HPA will scale up to {min}"
                ));
            } else if current > max {
                out.push(format!(
                    "{current} replicas now: the HPA will scale down to {max}"
                ));
            }
        }
        Command::Annotate { key, from, to, .. } => {
            // The value the user saw may be stale: say what is there now.
            let now = t["metadata"]["annotations"][key.as_str()].as_str();
            if now != from.as_deref() {
                out.push(match now {
                    Some(v) => format!("{key} is {v:?} now, and will be replaced"),
                    None => format!("{key} is not set now"),
                });
            }
            if to.is_none() && now.is_none() {
                out.push("nothing to remove: the annotation is not there".to_string());
            }
        }
        Command::DeleteResource {
            object,
            propagation,
        } => {
            out.extend(super::delete::consequences(
                object,
                *propagation,
                t,
                &snap.listed,
            ));
        }
        Command::DeletePod { .. } | Command::EvictPod { .. } | Command::Replace { .. } => {}
    }
    out
}

fn pdb_effects(pod: &Value, pdbs: &[Value]) -> Vec<String> {
    pdbs.iter()
        .filter(|pdb| {
            LabelSelector::from_object(&pdb["spec"]["selector"])
                .is_ok_and(|s| !s.is_empty() && s.matches(&pod["metadata"]["labels"]))
        })
        .map(|pdb| {
            let allowed = pdb["status"]["disruptionsAllowed"].as_i64().unwrap_or(0);
            if allowed > 0 {
                format!(
                    "PodDisruptionBudget {} allows {} now",
                    name_of(pdb),
                    plural(
                        usize::try_from(allowed).unwrap_or(0),
                        "disruption",
                        "disruptions"
                    )
                )
            } else {
                format!(
                    "PodDisruptionBudget {} allows no disruption now: the eviction will be refused",
                    name_of(pdb)
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::command::ObjectRef;
    use serde_json::json;

    fn pod(name: &str, ready: bool, owner: &str) -> Value {
        json!({
            "metadata": {"name": name, "labels": {"app": "myfin-api"},
                         "ownerReferences": [{"uid": owner, "controller": true}]},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
        })
    }

    fn snap() -> Snapshot {
        Snapshot {
            target: json!({"metadata": {"name": "myfin-api", "uid": "d1"},
                           "spec": {"selector": {"matchLabels": {"app": "myfin-api"}}}}),
            pods: vec![pod("a", true, "rs1"), pod("b", true, "rs1")],
            services: vec![
                json!({"metadata": {"name": "myfin-api"}, "spec": {"selector": {"app": "myfin-api"}}}),
                json!({"metadata": {"name": "other"}, "spec": {"selector": {"app": "other"}}}),
                json!({"metadata": {"name": "headless"}, "spec": {}}),
            ],
            hpas: vec![json!({"metadata": {"name": "myfin-api"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "myfin-api"},
                         "minReplicas": 2, "maxReplicas": 10}})],
            ..Snapshot::default()
        }
    }

    fn target() -> WorkloadRef {
        WorkloadRef::deployment("myfin", "myfin-api")
    }

    #[test]
    fn scaling_to_zero_names_the_hpa_and_the_empty_service() {
        let c = consequences(
            &Command::Scale {
                target: target(),
                from: 2,
                to: 0,
            },
            &snap(),
        );
        assert_eq!(
            c,
            vec![
                "HPA myfin-api manages this deployment: it will set replicas back to 2–10",
                "2 of 2 ready pods will be killed; service myfin-api will have 0 endpoints",
            ]
        );
    }

    #[test]
    fn scaling_down_counts_only_ready_pods() {
        let mut s = snap();
        s.hpas.clear();
        s.pods.push(pod("c", false, "rs1"));
        let c = consequences(
            &Command::Scale {
                target: target(),
                from: 3,
                to: 1,
            },
            &s,
        );
        assert_eq!(
            c,
            vec!["1 of 2 ready pods will be killed; service myfin-api will have 1 endpoint"]
        );
        let up = consequences(
            &Command::Scale {
                target: target(),
                from: 3,
                to: 4,
            },
            &s,
        );
        assert_eq!(up, vec!["1 new pod will be created"]);
    }

    #[test]
    fn deleting_a_pod_counts_its_siblings_and_flags_orphans() {
        let mut s = snap();
        s.target = pod("a", true, "rs1");
        let cmd = Command::DeletePod {
            pod: ObjectRef::new("myfin", "a"),
            grace_seconds: None,
            force: false,
        };
        assert_eq!(
            consequences(&cmd, &s),
            vec!["1 of 2 ready pods will be killed; service myfin-api will have 1 endpoint"]
        );
        let mut orphan = pod("a", true, "");
        orphan["metadata"]["ownerReferences"] = Value::Null;
        s.target = orphan;
        let c = consequences(&cmd, &s);
        assert!(
            c.iter().any(|l| l.contains("nothing will replace it")),
            "{c:?}"
        );
    }

    #[test]
    fn eviction_reports_the_pdb_budget() {
        let mut s = snap();
        s.target = pod("a", true, "rs1");
        s.pdbs = vec![json!({"metadata": {"name": "api-pdb"},
            "spec": {"selector": {"matchLabels": {"app": "myfin-api"}}},
            "status": {"disruptionsAllowed": 0}})];
        let c = consequences(
            &Command::EvictPod {
                pod: ObjectRef::new("myfin", "a"),
            },
            &s,
        );
        assert_eq!(
            c.last().map(String::as_str),
            Some(
                "PodDisruptionBudget api-pdb allows no disruption now: the eviction will be refused"
            )
        );
    }

    fn replica_set(revision: i64, uid: &str, image: &str) -> Value {
        json!({
            "metadata": {"uid": uid,
                         "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                         "ownerReferences": [{"uid": "d1", "controller": true}]},
            "spec": {"template": {"spec": {"containers": [{"image": image}]}}},
        })
    }

    fn rollback(to_revision: i64) -> Command {
        Command::Rollback {
            target: target(),
            from_revision: 2,
            to_revision,
        }
    }

    #[test]
    fn rollback_names_the_revision_images() {
        let mut s = snap();
        s.target["spec"]["replicas"] = json!(2);
        s.revisions = vec![
            replica_set(1, "rs1", "api:1.0"),
            replica_set(2, "rs2", "api:2.0"),
        ];
        s.pods = vec![pod("a", true, "rs2"), pod("b", true, "rs2")];
        let c = consequences(&rollback(1), &s);
        assert_eq!(c[0], "revision 1 runs api:1.0");
        assert_eq!(
            c[1],
            "2 pods of other revisions will be removed; 2 pods of revision 1 will be created by a rolling update"
        );
        // 0 is the revision before the latest, as the executor picks it.
        assert_eq!(consequences(&rollback(0), &s), c);
        s.revisions.truncate(1);
        s.revisions[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("2");
        assert_eq!(
            consequences(&rollback(0), &s),
            vec!["there is no previous revision: the rollback will fail"]
        );
    }

    /// The case: a rollback from a stalled rollout to the revision
    /// whose pods still serve replaces only the stalled pod.
    #[test]
    fn rollback_counts_only_the_pods_that_change() {
        let mut s = snap();
        s.target["spec"]["replicas"] = json!(3);
        s.revisions = vec![
            replica_set(1, "rs1", "api:1.0"),
            replica_set(2, "rs2", "api:notfound"),
        ];
        s.pods = vec![
            pod("a", true, "rs1"),
            pod("b", true, "rs1"),
            pod("c", true, "rs1"),
            pod("d", false, "rs2"),
        ];
        let c = consequences(&rollback(1), &s);
        assert_eq!(
            c,
            vec![
                "revision 1 runs api:1.0",
                "3 pods already run revision 1 and stay; 1 pod of another revision will be removed",
            ]
        );
        assert!(!c.iter().any(|l| l.contains("all 3")), "{c:?}");
        s.pods.pop();
        assert_eq!(
            consequences(&rollback(1), &s)[1],
            "no pod changes: all 3 pods already run revision 1"
        );
    }

    #[test]
    fn setting_the_image_a_container_already_runs_changes_no_pod() {
        let mut s = snap();
        s.target["spec"]["template"] =
            json!({"spec": {"containers": [{"name": "api", "image": "api:1.0"}]}});
        let same = Command::SetImage {
            target: target(),
            container: "api".into(),
            from: "api:1.0".into(),
            to: "api:1.0".into(),
        };
        assert_eq!(
            consequences(&same, &s),
            vec!["container api of deployment already runs api:1.0: no pod changes"]
        );
        let other = Command::SetImage {
            target: target(),
            container: "api".into(),
            from: "api:1.0".into(),
            to: "api:2.0".into(),
        };
        assert_eq!(
            consequences(&other, &s),
            vec!["all 2 pods will be replaced by a rolling update"]
        );
    }

    #[test]
    fn protected_contexts_need_the_exact_name() {
        let config = Config::default();
        let cmd = Command::Cordon {
            node: "node-1".into(),
        };
        let c = Confirmation::new(cmd.clone(), "gke_prod-eu", &config, Vec::new());
        assert_eq!(c.typed_name(), Some("node-1"));
        assert!(matches!(
            c.confirm(None),
            Err(ConfirmError::NameRequired { .. })
        ));
        assert!(matches!(
            c.confirm(Some("node-2")),
            Err(ConfirmError::NameMismatch { .. })
        ));
        assert_eq!(c.confirm(Some(" node-1 ")).unwrap().command(), &cmd);
        let dev = Confirmation::new(cmd, "kind-dev", &config, Vec::new());
        assert_eq!(dev.typed_name(), None);
        assert!(dev.confirm(None).is_ok());
        assert_eq!(dev.kubectl(), "kubectl cordon node-1 --context kind-dev");
    }
}
