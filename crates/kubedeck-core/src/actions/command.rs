//! Every mutating action as plain data: the exact change, with all its
//! parameters, that a confirm dialog shows, the executor runs and the audit
//! log records. A command can describe itself (summary, kubectl equivalent,
//! before → after) and say which RBAC permission it needs.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::drain::DrainOptions;
use super::edit::EditedText;

/// A workload that can be scaled, restarted and rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

impl WorkloadKind {
    /// The plural resource name, as RBAC and URLs spell it.
    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
        }
    }

    /// The singular lower-case name kubectl uses in `deployment/web`.
    pub fn singular(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
}

impl WorkloadRef {
    pub fn deployment(namespace: &str, name: &str) -> WorkloadRef {
        WorkloadRef {
            kind: WorkloadKind::Deployment,
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn statefulset(namespace: &str, name: &str) -> WorkloadRef {
        WorkloadRef {
            kind: WorkloadKind::StatefulSet,
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn slashed(&self) -> String {
        format!("{}/{}", self.kind.singular(), self.name)
    }
}

/// The kinds an annotation can be set on (runbooks mark workloads and HPAs
/// with what an incident did to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum AnnotatableKind {
    Deployment,
    StatefulSet,
    HorizontalPodAutoscaler,
}

impl AnnotatableKind {
    pub fn group(self) -> &'static str {
        match self {
            AnnotatableKind::Deployment | AnnotatableKind::StatefulSet => "apps",
            AnnotatableKind::HorizontalPodAutoscaler => "autoscaling",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            AnnotatableKind::Deployment | AnnotatableKind::StatefulSet => "v1",
            AnnotatableKind::HorizontalPodAutoscaler => "v2",
        }
    }

    /// The kind as the API names it.
    pub fn kind(self) -> &'static str {
        match self {
            AnnotatableKind::Deployment => "Deployment",
            AnnotatableKind::StatefulSet => "StatefulSet",
            AnnotatableKind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            AnnotatableKind::Deployment => "deployments",
            AnnotatableKind::StatefulSet => "statefulsets",
            AnnotatableKind::HorizontalPodAutoscaler => "horizontalpodautoscalers",
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            AnnotatableKind::Deployment => "deployment",
            AnnotatableKind::StatefulSet => "statefulset",
            AnnotatableKind::HorizontalPodAutoscaler => "horizontalpodautoscaler",
        }
    }
}

/// A namespaced object other than a workload (pod, CronJob, HPA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// Any object the API server serves, named as discovery names its
/// resource: what a generic action (delete, edit) acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The plural resource name, as RBAC and URLs spell it.
    pub plural: String,
    /// None for a cluster-scoped object.
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceRef {
    /// `deployments.apps`, `configmaps`: kubectl's name for the resource.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `configmap/app-config`, `ingress.networking.k8s.io/web`: kubectl's
    /// name for the object.
    pub fn slashed(&self) -> String {
        let kind = self.kind.to_lowercase();
        if self.group.is_empty() {
            format!("{kind}/{}", self.name)
        } else {
            format!("{kind}.{}/{}", self.group, self.name)
        }
    }

    /// `apps/v1`, `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The permission to `verb` this object.
    pub fn access(&self, verb: &'static str) -> Access {
        Access {
            verb,
            group: self.group.clone().into(),
            resource: self.plural.clone().into(),
            subresource: "",
            namespace: self.namespace.clone().unwrap_or_default(),
            name: self.name.clone(),
        }
    }
    /// The object's API path, for a GET.
    pub fn path(&self) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match &self.namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}/{}", self.plural, self.name),
            None => format!("{base}/{}/{}", self.plural, self.name),
        }
    }
}

/// What deleting an owner does to the objects it owns, as `kubectl delete
/// --cascade` chooses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub enum Propagation {
    /// The owner goes at once; the garbage collector deletes its
    /// dependents after (kubectl's default).
    #[default]
    Background,
    /// The dependents go first; the owner stays, being deleted, until
    /// they are gone.
    Foreground,
    /// The dependents are kept, without an owner.
    Orphan,
}

impl Propagation {
    pub const ALL: [Propagation; 3] = [
        Propagation::Background,
        Propagation::Foreground,
        Propagation::Orphan,
    ];

    /// kubectl's `--cascade` value.
    pub fn cascade(self) -> &'static str {
        match self {
            Propagation::Background => "background",
            Propagation::Foreground => "foreground",
            Propagation::Orphan => "orphan",
        }
    }

    pub fn from_cascade(word: &str) -> Option<Propagation> {
        Propagation::ALL.into_iter().find(|p| p.cascade() == word)
    }
}

/// One mutating action with all its parameters. `from`/`before` fields hold
/// what the user saw when they chose the action, so that the dialog and the
/// audit log can show before → after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Command {
    Scale {
        target: WorkloadRef,
        from: i32,
        to: i32,
    },
    RolloutRestart {
        target: WorkloadRef,
    },
    SetImage {
        target: WorkloadRef,
        container: String,
        from: String,
        to: String,
    },
    PauseRollout {
        target: WorkloadRef,
    },
    ResumeRollout {
        target: WorkloadRef,
    },
    Rollback {
        target: WorkloadRef,
        from_revision: i64,
        to_revision: i64,
    },
    DeletePod {
        pod: ObjectRef,
        grace_seconds: Option<i64>,
        force: bool,
    },
    EvictPod {
        pod: ObjectRef,
    },
    Cordon {
        node: String,
    },
    Uncordon {
        node: String,
    },
    /// `kubectl drain`: cordon, then evict the node's pods. It runs long and
    /// reports progress, so `Executor::drain` runs it, not `execute`.
    Drain {
        node: String,
        options: DrainOptions,
    },
    TriggerCronJob {
        cronjob: ObjectRef,
        job_name: String,
    },
    SuspendCronJob {
        cronjob: ObjectRef,
    },
    ResumeCronJob {
        cronjob: ObjectRef,
    },
    SetHpaBounds {
        hpa: ObjectRef,
        from_min: i32,
        from_max: i32,
        min: i32,
        max: i32,
    },
    /// Set an annotation (`to` Some) or remove it (`to` None).
    Annotate {
        kind: AnnotatableKind,
        object: ObjectRef,
        key: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// `kubectl delete` of any object (a pod has `DeletePod`, with its
    /// grace period).
    DeleteResource {
        object: ResourceRef,
        propagation: Propagation,
    },
    /// `kubectl edit`: the object replaced by the user's edit of it, sent
    /// with the resourceVersion it was read at, so that a change made
    /// meanwhile is refused (409), never overwritten.
    /// Boxed, so that every command stays small.
    Replace {
        object: Box<ResourceRef>,
        resource_version: String,
        /// What the edit changed, as paths (`data.mode`); never values.
        changed: Vec<String>,
        /// The texts themselves: never serialized, so never audited.
        #[serde(skip)]
        text: Box<EditedText>,
    },
}

/// The RBAC permission a command needs, as a SelfSubjectAccessReview asks it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    pub verb: &'static str,
    /// Owned where discovery names it (any resource), borrowed for the
    /// built-in kinds.
    pub group: Cow<'static, str>,
    pub resource: Cow<'static, str>,
    pub subresource: &'static str,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl Access {
    /// `deployments.apps/scale`, the way kubectl names a resource.
    pub(crate) fn resource_name(&self) -> String {
        let mut s = self.resource.to_string();
        if !self.group.is_empty() {
            s = format!("{s}.{}", self.group);
        }
        if !self.subresource.is_empty() {
            s = format!("{s}/{}", self.subresource);
        }
        s
    }

    /// "delete pods in namespace demo", for messages.
    pub fn describe(&self) -> String {
        let scope = if self.namespace.is_empty() {
            "at cluster scope".to_string()
        } else {
            format!("in namespace {}", self.namespace)
        };
        format!("{} {} {scope}", self.verb, self.resource_name())
    }
}

impl Command {
    /// The action's stable name, as the audit log records it.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Scale { .. } => "scale",
            Command::RolloutRestart { .. } => "rollout-restart",
            Command::SetImage { .. } => "set-image",
            Command::PauseRollout { .. } => "pause-rollout",
            Command::ResumeRollout { .. } => "resume-rollout",
            Command::Rollback { .. } => "rollback",
            Command::DeletePod { .. } => "delete-pod",
            Command::EvictPod { .. } => "evict-pod",
            Command::Cordon { .. } => "cordon",
            Command::Uncordon { .. } => "uncordon",
            Command::Drain { .. } => "drain",
            Command::TriggerCronJob { .. } => "trigger-cronjob",
            Command::SuspendCronJob { .. } => "suspend-cronjob",
            Command::ResumeCronJob { .. } => "resume-cronjob",
            Command::SetHpaBounds { .. } => "set-hpa-bounds",
            Command::Annotate { .. } => "annotate",
            Command::DeleteResource { .. } => "delete",
            Command::Replace { .. } => "edit",
        }
    }

    fn workload(&self) -> Option<&WorkloadRef> {
        match self {
            Command::Scale { target, .. }
            | Command::RolloutRestart { target }
            | Command::SetImage { target, .. }
            | Command::PauseRollout { target }
            | Command::ResumeRollout { target }
            | Command::Rollback { target, .. } => Some(target),
            _ => None,
        }
    }

    fn object_ref(&self) -> Option<&ObjectRef> {
        match self {
            Command::DeletePod { pod, .. } | Command::EvictPod { pod } => Some(pod),
            Command::TriggerCronJob { cronjob, .. }
            | Command::SuspendCronJob { cronjob }
            | Command::ResumeCronJob { cronjob } => Some(cronjob),
            Command::SetHpaBounds { hpa, .. } => Some(hpa),
            Command::Annotate { object, .. } => Some(object),
            _ => None,
        }
    }

    /// The namespace acted in; None for nodes and other cluster-scoped objects.
    pub fn namespace(&self) -> Option<&str> {
        if let Command::DeleteResource { object, .. } = self {
            return object.namespace.as_deref();
        }
        if let Command::Replace { object, .. } = self {
            return object.namespace.as_deref();
        }
        if let Some(w) = self.workload() {
            return Some(&w.namespace);
        }
        self.object_ref().map(|o| o.namespace.as_str())
    }

    /// The name a protected context asks to be typed.
    pub fn object_name(&self) -> &str {
        match self {
            Command::Cordon { node } | Command::Uncordon { node } | Command::Drain { node, .. } => {
                node
            }
            Command::DeleteResource { object, .. } => &object.name,
            Command::Replace { object, .. } => &object.name,
            _ => self
                .workload()
                .map(|w| w.name.as_str())
                .or_else(|| self.object_ref().map(|o| o.name.as_str()))
                .unwrap_or_default(),
        }
    }

    /// `deployment/web`, `pod/web-1`, `node/n1`.
    pub fn object(&self) -> String {
        if let Some(w) = self.workload() {
            return w.slashed();
        }
        match self {
            Command::DeletePod { pod, .. } | Command::EvictPod { pod } => {
                format!("pod/{}", pod.name)
            }
            Command::Cordon { node } | Command::Uncordon { node } | Command::Drain { node, .. } => {
                format!("node/{node}")
            }
            Command::TriggerCronJob { cronjob, .. }
            | Command::SuspendCronJob { cronjob }
            | Command::ResumeCronJob { cronjob } => format!("cronjob/{}", cronjob.name),
            Command::SetHpaBounds { hpa, .. } => {
                format!("horizontalpodautoscaler/{}", hpa.name)
            }
            Command::Annotate { kind, object, .. } => {
                format!("{}/{}", kind.singular(), object.name)
            }
            Command::DeleteResource { object, .. } => object.slashed(),
            Command::Replace { object, .. } => object.slashed(),
            _ => String::new(),
        }
    }

    /// One line for the confirm dialog's title.
    pub fn summary(&self) -> String {
        let object = self.object();
        match self {
            Command::Scale { from, to, .. } => format!("Scale {object} from {from} to {to}"),
            Command::RolloutRestart { .. } => format!("Restart {object} (rolling)"),
            Command::SetImage { container, to, .. } => {
                format!("Set image of container {container} in {object} to {to}")
            }
            Command::PauseRollout { .. } => format!("Pause the rollout of {object}"),
            Command::ResumeRollout { .. } => format!("Resume the rollout of {object}"),
            Command::Rollback {
                from_revision,
                to_revision,
                ..
            } if *to_revision == 0 => {
                format!("Roll {object} back from revision {from_revision} to the previous one")
            }
            Command::Rollback {
                from_revision,
                to_revision,
                ..
            } => format!("Roll {object} back from revision {from_revision} to {to_revision}"),
            Command::DeletePod {
                grace_seconds,
                force,
                ..
            } => match (force, grace_seconds) {
                (true, _) => format!("Force-delete {object}"),
                (false, Some(g)) => format!("Delete {object} with a {g}s grace period"),
                (false, None) => format!("Delete {object}"),
            },
            Command::EvictPod { .. } => format!("Evict {object} (honouring its PDBs)"),
            Command::Cordon { .. } => format!("Cordon {object}"),
            Command::Uncordon { .. } => format!("Uncordon {object}"),
            Command::Drain { .. } => format!("Drain {object}: cordon it and evict its pods"),
            Command::TriggerCronJob { job_name, .. } => {
                format!("Run {object} now as job/{job_name}")
            }
            Command::SuspendCronJob { .. } => format!("Suspend {object}"),
            Command::ResumeCronJob { .. } => format!("Resume {object}"),
            Command::SetHpaBounds { min, max, .. } => {
                format!("Set {object} bounds to {min}–{max} replicas")
            }
            Command::Annotate { key, to, .. } => match to {
                Some(v) => format!("Annotate {object} with {key}={v}"),
                None => format!("Remove the annotation {key} from {object}"),
            },
            Command::DeleteResource { propagation, .. } => match propagation {
                Propagation::Background => format!("Delete {object}"),
                Propagation::Foreground => {
                    format!("Delete {object} once what it owns is deleted (foreground)")
                }
                Propagation::Orphan => {
                    format!("Delete {object}, keeping what it owns (orphan)")
                }
            },
            Command::Replace { changed, .. } => {
                format!("Edit {object}: {}", plural_fields(changed.len()))
            }
        }
    }

    /// The equivalent kubectl command line (without `--context`).
    pub fn kubectl(&self) -> String {
        let object = self.object();
        let ns = self
            .namespace()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        match self {
            Command::Scale { to, .. } => format!("kubectl scale {object} --replicas={to}{ns}"),
            Command::RolloutRestart { .. } => format!("kubectl rollout restart {object}{ns}"),
            Command::SetImage { container, to, .. } => {
                format!("kubectl set image {object} {container}={to}{ns}")
            }
            Command::PauseRollout { .. } => format!("kubectl rollout pause {object}{ns}"),
            Command::ResumeRollout { .. } => format!("kubectl rollout resume {object}{ns}"),
            Command::Rollback { to_revision, .. } => {
                format!("kubectl rollout undo {object} --to-revision={to_revision}{ns}")
            }
            Command::DeletePod {
                grace_seconds,
                force,
                ..
            } => {
                let mut s = format!("kubectl delete {object}{ns}");
                match (force, grace_seconds) {
                    (true, g) => {
                        s.push_str(&format!(" --grace-period={} --force", g.unwrap_or(0)));
                    }
                    (false, Some(g)) => s.push_str(&format!(" --grace-period={g}")),
                    (false, None) => {}
                }
                s
            }
            Command::EvictPod { pod } => format!(
                "kubectl create --raw /api/v1/namespaces/{}/pods/{}/eviction -f eviction.json",
                pod.namespace, pod.name
            ),
            Command::Cordon { node } => format!("kubectl cordon {node}"),
            Command::Uncordon { node } => format!("kubectl uncordon {node}"),
            Command::Drain { node, options } => format!("kubectl drain {node}{}", options.flags()),
            Command::TriggerCronJob { job_name, .. } => {
                format!("kubectl create job {job_name} --from={object}{ns}")
            }
            Command::SuspendCronJob { .. } => {
                format!("kubectl patch {object}{ns} -p '{{\"spec\":{{\"suspend\":true}}}}'")
            }
            Command::ResumeCronJob { .. } => {
                format!("kubectl patch {object}{ns} -p '{{\"spec\":{{\"suspend\":false}}}}'")
            }
            Command::SetHpaBounds { min, max, .. } => format!(
                "kubectl patch {object}{ns} -p '{{\"spec\":{{\"minReplicas\":{min},\"maxReplicas\":{max}}}}}'"
            ),
            Command::Annotate { key, to, .. } => match to {
                Some(v) => format!(
                    "kubectl annotate {object} {key}={} --overwrite{ns}",
                    shell_word(v)
                ),
                None => format!("kubectl annotate {object} {key}-{ns}"),
            },
            Command::DeleteResource { propagation, .. } => format!(
                "kubectl delete {object}{ns} --cascade={}",
                propagation.cascade()
            ),
            // The edited object, resourceVersion and all, on stdin: a PUT
            // that a change made meanwhile fails, as kubedeck's does.
            Command::Replace { .. } => format!("kubectl replace -f -{ns}"),
        }
    }

    /// What changes, before → after, in the user's terms.
    pub fn change(&self) -> (String, String) {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        match self {
            Command::Scale { from, to, .. } => {
                (format!("replicas {from}"), format!("replicas {to}"))
            }
            Command::RolloutRestart { .. } => pair("running pods", "new pods"),
            Command::SetImage { from, to, .. } => (from.clone(), to.clone()),
            Command::PauseRollout { .. } => pair("rolling out", "paused"),
            Command::ResumeRollout { .. } => pair("paused", "rolling out"),
            Command::Rollback {
                from_revision,
                to_revision,
                ..
            } => (
                format!("revision {from_revision}"),
                // 0 asks for the previous revision, as `kubectl rollout undo` does.
                if *to_revision == 0 {
                    "the previous revision".to_string()
                } else {
                    format!("revision {to_revision}")
                },
            ),
            Command::DeletePod { .. } | Command::EvictPod { .. } => pair("running", "deleted"),
            Command::Cordon { .. } => pair("schedulable", "unschedulable"),
            Command::Uncordon { .. } => pair("unschedulable", "schedulable"),
            Command::Drain { .. } => pair("pods running here", "cordoned, pods evicted"),
            Command::TriggerCronJob { job_name, .. } => {
                ("no job".to_string(), format!("job/{job_name}"))
            }
            Command::SuspendCronJob { .. } => pair("scheduling", "suspended"),
            Command::ResumeCronJob { .. } => pair("suspended", "scheduling"),
            Command::SetHpaBounds {
                from_min,
                from_max,
                min,
                max,
                ..
            } => (
                format!("replicas {from_min}–{from_max}"),
                format!("replicas {min}–{max}"),
            ),
            Command::Annotate { key, from, to, .. } => {
                let show = |v: &Option<String>| {
                    v.as_ref()
                        .map_or_else(|| format!("no {key}"), |v| format!("{key}={v}"))
                };
                (show(from), show(to))
            }
            Command::DeleteResource { propagation, .. } => match propagation {
                Propagation::Orphan => pair("present", "deleted, its dependents kept"),
                _ => pair("present", "deleted"),
            },
            Command::Replace {
                resource_version,
                changed,
                ..
            } => (
                format!("resourceVersion {resource_version}"),
                format!("edited {}", some_paths(changed)),
            ),
        }
    }

    /// The permission the action needs.
    pub fn access(&self) -> Access {
        let ns = self.namespace().unwrap_or_default().to_string();
        let name = self.object_name().to_string();
        let (verb, group, resource, subresource) = match self {
            Command::Scale { target, .. } => ("patch", "apps", target.kind.plural(), "scale"),
            Command::RolloutRestart { target }
            | Command::SetImage { target, .. }
            | Command::PauseRollout { target }
            | Command::ResumeRollout { target }
            | Command::Rollback { target, .. } => ("patch", "apps", target.kind.plural(), ""),
            Command::DeletePod { .. } => ("delete", "", "pods", ""),
            Command::EvictPod { .. } => ("create", "", "pods", "eviction"),
            Command::Cordon { .. } | Command::Uncordon { .. } | Command::Drain { .. } => {
                ("patch", "", "nodes", "")
            }
            Command::TriggerCronJob { .. } => ("create", "batch", "jobs", ""),
            Command::SuspendCronJob { .. } | Command::ResumeCronJob { .. } => {
                ("patch", "batch", "cronjobs", "")
            }
            Command::SetHpaBounds { .. } => {
                ("patch", "autoscaling", "horizontalpodautoscalers", "")
            }
            Command::Annotate { kind, .. } => ("patch", kind.group(), kind.plural(), ""),
            Command::DeleteResource { object, .. } => return object.access("delete"),
            Command::Replace { object, .. } => return object.access("update"),
        };
        // A Job's name is chosen by the command, not an existing object.
        let name = if matches!(self, Command::TriggerCronJob { .. }) {
            String::new()
        } else {
            name
        };
        Access {
            verb,
            group: group.into(),
            resource: resource.into(),
            subresource,
            namespace: ns,
            name,
        }
    }

    /// Every permission the action needs: `access`, and for a drain the
    /// evictions too, in whichever namespaces the node's pods are.
    pub fn accesses(&self) -> Vec<Access> {
        let mut all = vec![self.access()];
        if matches!(self, Command::Drain { .. }) {
            all.push(Access {
                verb: "create",
                group: "".into(),
                resource: "pods".into(),
                subresource: "eviction",
                namespace: String::new(),
                name: String::new(),
            });
        }
        all
    }

    /// Checks the parameters before anything is sent; the message says what
    /// is wrong in the user's terms.
    pub fn validate(&self) -> Result<(), String> {
        if let Command::DeleteResource { object, .. } = self {
            return check_resource(object);
        }
        if let Command::Replace { .. } = self {
            return self.validate_replace();
        }
        if let Some(ns) = self.namespace() {
            check_name("namespace", ns)?;
        }
        check_name("name", self.object_name())?;
        match self {
            Command::Scale { to, .. } if *to < 0 => {
                Err(format!("replicas must be 0 or more, not {to}"))
            }
            Command::SetImage { container, to, .. } => {
                check_name("container", container)?;
                if to.trim().is_empty() || to.chars().any(char::is_whitespace) {
                    Err(format!("{to:?} is not an image reference"))
                } else {
                    Ok(())
                }
            }
            Command::PauseRollout { target } | Command::ResumeRollout { target }
                if target.kind != WorkloadKind::Deployment =>
            {
                Err(format!(
                    "{} do not support pause and resume",
                    target.kind.plural()
                ))
            }
            Command::Rollback { to_revision, .. } if *to_revision < 0 => Err(format!(
                "revision must be positive (0 means the previous one), not {to_revision}"
            )),
            Command::DeletePod {
                grace_seconds: Some(g),
                ..
            } if *g < 0 => Err(format!("grace period must be 0 or more seconds, not {g}")),
            Command::TriggerCronJob { job_name, .. } => check_name("job name", job_name),
            Command::SetHpaBounds { min, max, .. } if *min < 1 || max < min => Err(format!(
                "HPA bounds need 1 ≤ min ≤ max, not min {min} and max {max}"
            )),
            Command::Annotate { key, .. } => check_annotation_key(key),
            _ => Ok(()),
        }
    }
}

impl Command {
    /// Names come from the server here, and some kinds allow more than a
    /// DNS subdomain (`system:controller:…` roles): only what would break
    /// the request's path is refused.
    fn validate_replace(&self) -> Result<(), String> {
        let Command::Replace {
            object, changed, ..
        } = self
        else {
            return Ok(());
        };
        if let Some(ns) = &object.namespace {
            check_name("namespace", ns)?;
        }
        for (what, v) in [
            ("name", &object.name),
            ("resource", &object.plural),
            ("version", &object.version),
        ] {
            if v.is_empty() || v.contains('/') || v == "." || v == ".." {
                return Err(format!("{what} {v:?} cannot name an object"));
            }
        }
        if changed.is_empty() {
            return Err("the edit changes nothing".into());
        }
        Ok(())
    }
}

/// "1 field changed", "3 fields changed".
fn plural_fields(n: usize) -> String {
    if n == 1 {
        "1 field changed".into()
    } else {
        format!("{n} fields changed")
    }
}

/// The first few changed paths, and how many more.
fn some_paths(changed: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut s = changed
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if changed.len() > SHOWN {
        s.push_str(&format!(" and {} more", changed.len() - SHOWN));
    }
    s
}

/// An annotation key as Kubernetes requires it: an optional DNS subdomain
/// prefix and `/`, then a name of at most 63 alphanumerics, `-`, `_` or `.`
/// that starts and ends alphanumeric.
fn check_annotation_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        check_name("annotation key prefix", p)?;
    }
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{key:?} is not an annotation key: the name part must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

/// Any resource's object: its names as discovery gives them, and a name the
/// API can address. Names need not be DNS subdomains (RBAC's
/// `system:…` roles are not), so only what a URL path segment cannot hold
/// is refused, as the API server does.
fn check_resource(r: &ResourceRef) -> Result<(), String> {
    if r.version.is_empty() || r.plural.is_empty() || r.kind.is_empty() {
        return Err(format!(
            "{} is not a resource the server named (version, kind and plural are needed)",
            r.slashed()
        ));
    }
    if let Some(ns) = &r.namespace {
        check_name("namespace", ns)?;
    }
    if r.name.is_empty() || r.name == "." || r.name == ".." || r.name.contains(['/', '%']) {
        return Err(format!(
            "name {:?} is not a name the API server can address",
            r.name
        ));
    }
    Ok(())
}

/// A value as a shell word: quoted when it holds anything but plain characters.
fn shell_word(v: &str) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+=,".contains(c))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// A DNS-1123 subdomain, as Kubernetes requires for object names.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {name:?} is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_as_tagged_json() {
        let cmd = Command::Scale {
            target: WorkloadRef::deployment("demo", "web"),
            from: 2,
            to: 5,
        };
        let json = serde_json::to_value(&cmd).unwrap();
        assert_eq!(json["action"], "scale");
        assert_eq!(json["target"]["kind"], "Deployment");
        assert_eq!(json["to"], 5);
        let back: Command = serde_json::from_value(json).unwrap();
        assert_eq!(back, cmd);
    }

    fn annotate(key: &str, from: Option<&str>, to: Option<&str>) -> Command {
        Command::Annotate {
            kind: AnnotatableKind::HorizontalPodAutoscaler,
            object: ObjectRef::new("myfin", "api-hpa"),
            key: key.into(),
            from: from.map(Into::into),
            to: to.map(Into::into),
        }
    }

    #[test]
    fn annotations_read_as_kubectl_annotate_and_need_patch_on_the_kind() {
        let set = annotate(
            "kubedeck.io/load",
            Some("steady 100rps"),
            Some("spike 1 2 3m"),
        );
        assert_eq!(
            set.kubectl(),
            "kubectl annotate horizontalpodautoscaler/api-hpa kubedeck.io/load='spike 1 2 3m' --overwrite -n myfin"
        );
        assert_eq!(
            set.change(),
            (
                "kubedeck.io/load=steady 100rps".into(),
                "kubedeck.io/load=spike 1 2 3m".into()
            )
        );
        let access = set.access();
        assert_eq!(
            (access.verb, access.resource_name().as_str()),
            ("patch", "horizontalpodautoscalers.autoscaling")
        );
        let unset = annotate("note", Some("x"), None);
        assert_eq!(
            unset.kubectl(),
            "kubectl annotate horizontalpodautoscaler/api-hpa note- -n myfin"
        );
        assert_eq!(unset.change().1, "no note");
        let json = serde_json::to_value(&set).unwrap();
        assert_eq!(json["action"], "annotate");
        assert_eq!(serde_json::from_value::<Command>(json).unwrap(), set);
    }

    #[test]
    fn bad_annotation_keys_are_refused_before_anything_is_sent() {
        for key in [
            "",
            "has space",
            "-leading",
            "a/b/",
            "x".repeat(64).as_str(),
            "Bad_Prefix!/k",
        ] {
            let err = annotate(key, None, Some("v")).validate().unwrap_err();
            assert!(
                err.contains("annotation key") || err.contains("not a valid"),
                "{key:?}: {err}"
            );
        }
        annotate("sim.kubedeck.io/sync-period-seconds", None, Some("1"))
            .validate()
            .expect("a prefixed key is valid");
    }

    #[test]
    fn descriptions_match_kubectl() {
        let cmd = Command::Rollback {
            target: WorkloadRef::deployment("demo", "web"),
            from_revision: 3,
            to_revision: 2,
        };
        assert_eq!(
            cmd.kubectl(),
            "kubectl rollout undo deployment/web --to-revision=2 -n demo"
        );
        assert_eq!(cmd.change(), ("revision 3".into(), "revision 2".into()));
        let undo = Command::Rollback {
            target: WorkloadRef::deployment("demo", "web"),
            from_revision: 3,
            to_revision: 0,
        };
        assert_eq!(undo.change().1, "the previous revision");
        let del = Command::DeletePod {
            pod: ObjectRef::new("demo", "web-1"),
            grace_seconds: None,
            force: true,
        };
        assert_eq!(
            del.kubectl(),
            "kubectl delete pod/web-1 -n demo --grace-period=0 --force"
        );
        assert_eq!(Command::Cordon { node: "n1".into() }.namespace(), None);
    }

    #[test]
    fn access_names_verb_resource_and_subresource() {
        let scale = Command::Scale {
            target: WorkloadRef::statefulset("db", "mysql"),
            from: 1,
            to: 3,
        }
        .access();
        assert_eq!(
            (
                scale.verb,
                &*scale.group,
                &*scale.resource,
                scale.subresource
            ),
            ("patch", "apps", "statefulsets", "scale")
        );
        assert_eq!(
            scale.describe(),
            "patch statefulsets.apps/scale in namespace db"
        );
        let evict = Command::EvictPod {
            pod: ObjectRef::new("demo", "p"),
        }
        .access();
        assert_eq!(evict.resource_name(), "pods/eviction");
        let cordon = Command::Cordon { node: "n1".into() }.access();
        assert_eq!(cordon.describe(), "patch nodes at cluster scope");
    }

    fn delete(
        group: &str,
        kind: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
        propagation: Propagation,
    ) -> Command {
        Command::DeleteResource {
            object: ResourceRef {
                group: group.into(),
                version: "v1".into(),
                kind: kind.into(),
                plural: plural.into(),
                namespace: namespace.map(Into::into),
                name: name.into(),
            },
            propagation,
        }
    }

    fn replace(changed: &[&str]) -> Command {
        Command::Replace {
            object: Box::new(ResourceRef {
                group: String::new(),
                version: "v1".into(),
                kind: "Secret".into(),
                plural: "secrets".into(),
                namespace: Some("demo".into()),
                name: "db".into(),
            }),
            resource_version: "41".into(),
            changed: changed.iter().map(|c| c.to_string()).collect(),
            text: Box::new(EditedText {
                original: "data:\n  password: c2VjcmV0MQ==\n".into(),
                edited: "data:\n  password: c2VjcmV0Mg==\n".into(),
                status: String::new(),
            }),
        }
    }

    #[test]
    fn a_generic_delete_reads_as_kubectl_delete_with_its_cascade() {
        let web = |p| delete("apps", "Deployment", "deployments", Some("shop"), "web", p);
        let bg = web(Propagation::Background);
        assert_eq!(
            bg.kubectl(),
            "kubectl delete deployment.apps/web -n shop --cascade=background"
        );
        assert_eq!(bg.summary(), "Delete deployment.apps/web");
        assert_eq!(bg.action(), "delete");
        assert_eq!(bg.object(), "deployment.apps/web");
        assert_eq!(bg.change(), ("present".into(), "deleted".into()));
        let fg = web(Propagation::Foreground);
        assert_eq!(
            fg.kubectl(),
            "kubectl delete deployment.apps/web -n shop --cascade=foreground"
        );
        assert_eq!(
            fg.summary(),
            "Delete deployment.apps/web once what it owns is deleted (foreground)"
        );
        let orphan = web(Propagation::Orphan);
        assert_eq!(
            orphan.kubectl(),
            "kubectl delete deployment.apps/web -n shop --cascade=orphan"
        );
        assert_eq!(
            orphan.summary(),
            "Delete deployment.apps/web, keeping what it owns (orphan)"
        );
        assert_eq!(orphan.change().1, "deleted, its dependents kept");
        let access = bg.access();
        assert_eq!(
            (
                access.verb,
                access.resource_name().as_str(),
                access.name.as_str()
            ),
            ("delete", "deployments.apps", "web")
        );
        assert_eq!(
            access.describe(),
            "delete deployments.apps in namespace shop"
        );
        let json = serde_json::to_value(&orphan).unwrap();
        assert_eq!(json["action"], "delete-resource");
        assert_eq!(json["propagation"], "Orphan");
        assert_eq!(serde_json::from_value::<Command>(json).unwrap(), orphan);
    }

    #[test]
    fn a_cluster_scoped_delete_has_no_namespace() {
        let ns = delete(
            "",
            "Namespace",
            "namespaces",
            None,
            "scratch",
            Propagation::Background,
        );
        assert_eq!(
            ns.kubectl(),
            "kubectl delete namespace/scratch --cascade=background"
        );
        assert_eq!(ns.namespace(), None);
        assert_eq!(ns.access().describe(), "delete namespaces at cluster scope");
        let role = delete(
            "rbac.authorization.k8s.io",
            "ClusterRole",
            "clusterroles",
            None,
            "system:aggregate-to-view",
            Propagation::Background,
        );
        assert!(role.validate().is_ok(), "RBAC names hold colons");
        let cm = |name: &str| {
            delete(
                "",
                "ConfigMap",
                "configmaps",
                Some("demo"),
                name,
                Propagation::Background,
            )
        };
        assert!(
            cm("a/b")
                .validate()
                .unwrap_err()
                .contains("API server can address")
        );
        assert!(cm("..").validate().is_err());
        let bad_ns = delete(
            "",
            "ConfigMap",
            "configmaps",
            Some("Bad NS"),
            "x",
            Propagation::Background,
        );
        assert!(bad_ns.validate().is_err());
    }

    #[test]
    fn an_edit_is_a_replace_that_needs_update_and_never_serializes_its_text() {
        let cmd = replace(&["data.password"]);
        assert_eq!(cmd.action(), "edit");
        assert_eq!(cmd.object(), "secret/db");
        assert_eq!(cmd.summary(), "Edit secret/db: 1 field changed");
        assert_eq!(cmd.kubectl(), "kubectl replace -f - -n demo");
        assert_eq!(
            cmd.change(),
            ("resourceVersion 41".into(), "edited data.password".into())
        );
        let access = cmd.access();
        assert_eq!(access.describe(), "update secrets in namespace demo");
        assert_eq!(access.name, "db");
        let json = serde_json::to_value(&cmd).unwrap();
        let text = json.to_string();
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert_eq!(json["changed"][0], "data.password");
        let back: Command = serde_json::from_value(json).unwrap();
        assert!(matches!(back, Command::Replace { text, .. } if *text == EditedText::default()));
        assert!(!format!("{cmd:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn an_edit_names_its_object_as_the_server_does_and_must_change_something() {
        assert!(replace(&["data.a"]).validate().is_ok());
        assert_eq!(
            replace(&[]).validate().unwrap_err(),
            "the edit changes nothing"
        );
        let mut role = replace(&["rules"]);
        if let Command::Replace { object, .. } = &mut role {
            object.name = "system:controller:x".into();
            object.namespace = None;
        }
        assert!(role.validate().is_ok(), "{:?}", role.validate());
        let mut bad = replace(&["a"]);
        if let Command::Replace { object, .. } = &mut bad {
            object.name = "../x".into();
        }
        assert!(bad.validate().is_err());
        let many = replace(&["a", "b", "c", "d", "e", "f"]);
        assert_eq!(many.change().1, "edited a, b, c, d and 2 more");
    }

    #[test]
    fn validation_rejects_bad_parameters() {
        let scale = |to| Command::Scale {
            target: WorkloadRef::deployment("demo", "web"),
            from: 1,
            to,
        };
        assert!(scale(0).validate().is_ok());
        assert!(scale(-1).validate().is_err());
        let bad_name = Command::Cordon {
            node: "Bad Name".into(),
        };
        assert!(bad_name.validate().unwrap_err().contains("not a valid"));
        let hpa = Command::SetHpaBounds {
            hpa: ObjectRef::new("demo", "web"),
            from_min: 1,
            from_max: 3,
            min: 5,
            max: 2,
        };
        assert!(hpa.validate().is_err());
        let pause = Command::PauseRollout {
            target: WorkloadRef::statefulset("db", "mysql"),
        };
        assert!(pause.validate().unwrap_err().contains("statefulsets"));
        let image = Command::SetImage {
            target: WorkloadRef::deployment("demo", "web"),
            container: "web".into(),
            from: "a:1".into(),
            to: "a 2".into(),
        };
        assert!(image.validate().is_err());
    }
}
