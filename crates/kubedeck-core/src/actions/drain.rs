//! `kubectl drain` through the API. Planning: which pods a drain evicts,
//! leaves or refuses (kubectl's filters, in its order), and what that does
//! to PodDisruptionBudgets and Services, for the confirmation. Running
//! (`Executor::drain`): refused read-only like every action, RBAC-checked
//! before anything changes, then cordon, evict each pod through the
//! eviction subresource (429s retried with a back-off), and follow a watch
//! until the pods are gone or the timeout passes. Audited: each eviction,
//! and the drain as a whole with its outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, EvictParams, ListParams, Patch, PatchParams};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::reflector::{self, ObjectRef as StoreRef};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::audit::{AuditResult, Record};
use super::command::{Access, Command, ObjectRef};
use super::error::ActionError;
use super::executor::Executor;
use super::plan::{Confirmed, Snapshot};
use super::rbac::{Permission, Rbac};
use kubedeck_kube::duration::human;
use kubedeck_kube::selector::LabelSelector;

/// How long a drain may take when nobody says: long enough for replacements
/// to start elsewhere, short enough that a budget that never allows a
/// disruption is reported rather than waited on forever.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The first wait after a 429; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// kubectl retries every 5 s; kubedeck starts faster and settles there.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How many pods a consequence line names before it counts the rest.
const NAMED: usize = 12;
/// The annotation of a static pod's mirror on the API server.
const MIRROR: &str = "kubernetes.io/config.mirror";

/// kubectl drain's choices. The defaults are kubectl's: nothing forced, no
/// DaemonSet ignored, and (unlike kubectl, which waits forever) five minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainOptions {
    /// `--ignore-daemonsets`: leave DaemonSet pods (their controller
    /// tolerates the cordon and would put them back anyway).
    pub ignore_daemonsets: bool,
    /// `--delete-emptydir-data`: evict pods with emptyDir volumes, whose
    /// data is lost.
    pub delete_emptydir_data: bool,
    /// `--force`: evict pods no controller will replace.
    pub force: bool,
    /// `--timeout`: how long the whole drain may take; 0 waits as long as
    /// it takes, as kubectl's `--timeout=0s`.
    pub timeout_seconds: u64,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions {
            ignore_daemonsets: false,
            delete_emptydir_data: false,
            force: false,
            timeout_seconds: DEFAULT_TIMEOUT.as_secs(),
        }
    }
}

impl DrainOptions {
    /// None: no limit.
    pub fn timeout(&self) -> Option<Duration> {
        (self.timeout_seconds > 0).then(|| Duration::from_secs(self.timeout_seconds))
    }

    /// The kubectl flags these options are, each with its leading space.
    pub(crate) fn flags(&self) -> String {
        let mut s = String::new();
        for (on, flag) in [
            (self.ignore_daemonsets, " --ignore-daemonsets"),
            (self.delete_emptydir_data, " --delete-emptydir-data"),
            (self.force, " --force"),
        ] {
            if on {
                s.push_str(flag);
            }
        }
        s.push_str(&format!(" --timeout={}s", self.timeout_seconds));
        s
    }
}

/// What a drain does with one pod, as kubectl's filters decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Evicted; `warning` says what that costs beyond the pod.
    Evict { warning: Option<String> },
    /// Left on the node (a DaemonSet pod with --ignore-daemonsets, a mirror
    /// pod), and why.
    Skip(String),
    /// The drain will not run while this pod is here: kubectl's error, with
    /// the flag that overrides it.
    Refuse(String),
}

const DAEMONSET_ERROR: &str =
    "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
const DAEMONSET_SKIP: &str = "DaemonSet-managed";
const MIRROR_SKIP: &str = "mirror pod (the kubelet's static pod)";
const LOCAL_STORAGE_ERROR: &str =
    "cannot delete Pods with local storage (use --delete-emptydir-data to override)";
const UNREPLICATED_ERROR: &str =
    "cannot delete Pods that declare no controller (use --force to override)";

fn controller_kind(pod: &Value) -> Option<&str> {
    pod["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)?["kind"]
        .as_str()
}

fn finished(pod: &Value) -> bool {
    matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    )
}

/// kubectl's filters in its order (DaemonSet, mirror, local storage, no
/// controller); the first that keeps the pod decides.
pub fn classify(pod: &Value, options: &DrainOptions) -> Disposition {
    if controller_kind(pod) == Some("DaemonSet") {
        return if options.ignore_daemonsets {
            Disposition::Skip(DAEMONSET_SKIP.into())
        } else {
            Disposition::Refuse(DAEMONSET_ERROR.into())
        };
    }
    if !pod["metadata"]["annotations"][MIRROR].is_null() {
        return Disposition::Skip(MIRROR_SKIP.into());
    }
    let mut warning = None;
    let local_storage = pod["spec"]["volumes"]
        .as_array()
        .is_some_and(|vs| vs.iter().any(|v| !v["emptyDir"].is_null()));
    if local_storage && !finished(pod) {
        if !options.delete_emptydir_data {
            return Disposition::Refuse(LOCAL_STORAGE_ERROR.into());
        }
        warning = Some("its emptyDir data is deleted".to_string());
    }
    if controller_kind(pod).is_none() && !finished(pod) {
        if !options.force {
            return Disposition::Refuse(UNREPLICATED_ERROR.into());
        }
        warning = Some(match warning {
            Some(w) => format!("{w}; it declares no controller: nothing replaces it"),
            None => "it declares no controller: nothing replaces it".into(),
        });
    }
    Disposition::Evict { warning }
}

fn ns_of(obj: &Value) -> &str {
    obj["metadata"]["namespace"].as_str().unwrap_or_default()
}

fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

/// `namespace/name`, as the drain names pods.
fn key_of(obj: &Value) -> String {
    format!("{}/{}", ns_of(obj), name_of(obj))
}

fn is_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn on_node(pod: &Value, node: &str) -> bool {
    pod["spec"]["nodeName"].as_str() == Some(node)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `a, b, c` or `a, b, … and 3 more`.
fn names(list: &[String]) -> String {
    let mut s = list
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > NAMED {
        s.push_str(&format!(" and {} more", list.len() - NAMED));
    }
    s
}

/// The pods on a node, each with what the drain does with it, by name.
fn dispositions<'a>(
    node: &str,
    options: &DrainOptions,
    pods: &'a [Value],
) -> Vec<(&'a Value, Disposition)> {
    let mut out: Vec<(&Value, Disposition)> = pods
        .iter()
        .filter(|p| on_node(p, node))
        .map(|p| (p, classify(p, options)))
        .collect();
    out.sort_by_key(|(p, _)| key_of(p));
    out
}

/// kubectl's refusal: each reason with the pods it holds, in kubectl's words.
fn refusals(found: &[(&Value, Disposition)]) -> Vec<String> {
    let mut by_reason: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (p, d) in found {
        if let Disposition::Refuse(why) = d {
            by_reason.entry(why.as_str()).or_default().push(key_of(p));
        }
    }
    by_reason
        .into_iter()
        .map(|(why, pods)| format!("{why}: {}", names(&pods)))
        .collect()
}

/// A budget's selector; policy/v1: a missing one selects nothing, an empty
/// one every pod of its namespace.
fn budget_selects(pdb: &Value, pod: &Value) -> bool {
    let sel = &pdb["spec"]["selector"];
    ns_of(pdb) == ns_of(pod)
        && !sel.is_null()
        && LabelSelector::from_object(sel).is_ok_and(|s| s.matches(&pod["metadata"]["labels"]))
}

/// What draining `node` will do, from `snap` (its `pods` are those of the
/// namespaces with pods on the node, its `services` and `pdbs` theirs).
pub fn consequences(node: &str, options: &DrainOptions, snap: &Snapshot) -> Vec<String> {
    let found = dispositions(node, options, &snap.pods);
    let mut out = Vec::new();
    let refused = refusals(&found);
    if !refused.is_empty() {
        for r in refused {
            out.push(format!("the drain will be refused, nothing changes: {r}"));
        }
        return out;
    }
    let evicted: Vec<&Value> = found
        .iter()
        .filter(|(_, d)| matches!(d, Disposition::Evict { .. }))
        .map(|(p, _)| *p)
        .collect();
    if evicted.is_empty() {
        out.push(format!(
            "no pod to evict: the drain only cordons {node}; no new pods will be scheduled there"
        ));
    } else {
        let keys: Vec<String> = evicted.iter().map(|p| key_of(p)).collect();
        out.push(format!(
            "evicts {}: {}",
            plural(keys.len(), "pod", "pods"),
            names(&keys)
        ));
    }
    let mut skipped: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (p, d) in &found {
        match d {
            Disposition::Skip(why) => skipped.entry(why.as_str()).or_default().push(key_of(p)),
            Disposition::Evict { warning: Some(w) } => out.push(format!("{}: {w}", key_of(p))),
            _ => {}
        }
    }
    for (why, pods) in skipped {
        out.push(format!(
            "leaves {} ({why}): {}",
            plural(pods.len(), "pod", "pods"),
            names(&pods)
        ));
    }
    out.extend(budget_holds(&evicted, &snap.pdbs));
    out.extend(endpoint_losses(node, &evicted, snap));
    out
}

/// The budgets that will hold the drain up: those allowing fewer
/// disruptions now than they have Ready pods to evict here.
fn budget_holds(evicted: &[&Value], pdbs: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    let mut sorted: Vec<&Value> = pdbs.iter().collect();
    sorted.sort_by_key(|p| key_of(p));
    for pdb in sorted {
        let here = evicted
            .iter()
            .filter(|p| is_ready(p) && budget_selects(pdb, p))
            .count();
        if here == 0 {
            continue;
        }
        let status = &pdb["status"];
        let allowed = status["disruptionsAllowed"].as_i64().unwrap_or(0);
        let desired = status["desiredHealthy"].as_i64().unwrap_or(0);
        let expected = status["expectedPods"].as_i64().unwrap_or(0);
        let name = key_of(pdb);
        if expected > 0 && desired >= expected {
            out.push(format!(
                "PodDisruptionBudget {name} needs all {expected} of its pods healthy, so it allows no eviction: the drain waits until the budget is relaxed, or times out"
            ));
        } else if allowed < i64::try_from(here).unwrap_or(i64::MAX) {
            out.push(format!(
                "PodDisruptionBudget {name} allows {} now and {} here: the drain waits until replacements are Ready elsewhere",
                plural(
                    usize::try_from(allowed.max(0)).unwrap_or(0),
                    "disruption",
                    "disruptions"
                ),
                plural(here, "of its Ready pods is", "of its Ready pods are")
            ));
        }
    }
    out
}

/// Services whose Ready endpoints are among the evicted pods.
fn endpoint_losses(node: &str, evicted: &[&Value], snap: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let mut services: Vec<&Value> = snap.services.iter().collect();
    services.sort_by_key(|s| key_of(s));
    for svc in services {
        let sel = &svc["spec"]["selector"];
        if sel.as_object().is_none_or(|m| m.is_empty()) {
            continue;
        }
        let sel = LabelSelector::from_map(sel);
        let selected = |p: &Value| ns_of(p) == ns_of(svc) && sel.matches(&p["metadata"]["labels"]);
        let lost = evicted
            .iter()
            .filter(|p| is_ready(p) && selected(p))
            .count();
        if lost == 0 {
            continue;
        }
        let ready = snap
            .pods
            .iter()
            .filter(|p| is_ready(p) && selected(p))
            .count();
        if lost >= ready {
            out.push(format!(
                "service {} loses all its {} until replacements are Ready on another node",
                key_of(svc),
                plural(ready, "Ready endpoint", "Ready endpoints")
            ));
        } else {
            out.push(format!(
                "service {} loses {lost} of its {ready} Ready endpoints (those on {node})",
                key_of(svc)
            ));
        }
    }
    out
}

async fn list_values<K>(api: Api<K>, lp: &ListParams) -> Result<Vec<Value>, kube::Error>
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    Ok(api
        .list(lp)
        .await?
        .items
        .into_iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect())
}

fn node_pods(node: &str) -> ListParams {
    ListParams::default().fields(&format!("spec.nodeName={node}"))
}

/// The node, the pods of every namespace with a pod on it, and those
/// namespaces' Services and budgets. The node's pods must be read; the
/// rest is context, and a list the user may not read means fewer
/// consequences, never a refused plan.
pub(crate) async fn snapshot(
    client: &Client,
    node: &str,
    cmd: &Command,
) -> Result<Snapshot, ActionError> {
    let access = cmd.access();
    let err = |e| ActionError::from_kube(e, &access);
    let target = Api::<Node>::all(client.clone())
        .get(node)
        .await
        .map_err(err)?;
    let here = list_values(Api::<Pod>::all(client.clone()), &node_pods(node))
        .await
        .map_err(err)?;
    let namespaces: BTreeSet<String> = here.iter().map(|p| ns_of(p).to_string()).collect();
    let mut snap = Snapshot {
        target: serde_json::to_value(target).unwrap_or(Value::Null),
        ..Snapshot::default()
    };
    let all = ListParams::default();
    for ns in &namespaces {
        let pods = list_values(Api::<Pod>::namespaced(client.clone(), ns), &all).await;
        // Without the namespace's pods the node's still count.
        snap.pods.extend(pods.unwrap_or_else(|_| {
            here.iter()
                .filter(|p| ns_of(p) == ns.as_str())
                .cloned()
                .collect()
        }));
        let services = list_values(Api::<Service>::namespaced(client.clone(), ns), &all).await;
        snap.services.extend(services.unwrap_or_default());
        let pdbs = list_values(
            Api::<PodDisruptionBudget>::namespaced(client.clone(), ns),
            &all,
        )
        .await;
        snap.pdbs.extend(pdbs.unwrap_or_default());
    }
    Ok(snap)
}

/// Something that happened during a drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainEvent {
    Cordoned {
        already: bool,
    },
    /// What the drain evicts and leaves, once the node is cordoned.
    Started {
        evict: Vec<String>,
        left: Vec<(String, String)>,
    },
    Evicted {
        pod: String,
    },
    /// A 429: a budget does not allow the disruption now.
    Blocked {
        pod: String,
        budget: Option<String>,
        message: String,
    },
    /// Refused again for the same reason: the status moves on (time spent),
    /// nothing else does.
    StillBlocked {
        pod: String,
    },
    /// An answer worth another try (a conflict, no answer).
    Retrying {
        pod: String,
        error: String,
    },
    Failed {
        pod: String,
        error: String,
    },
    Gone {
        pod: String,
    },
}

impl DrainEvent {
    /// One line for a log or a terminal.
    pub fn line(&self, node: &str) -> String {
        match self {
            DrainEvent::Cordoned { already: false } => format!("node/{node} cordoned"),
            DrainEvent::Cordoned { already: true } => format!("node/{node} was already cordoned"),
            DrainEvent::Started { evict, left } => {
                let mut s = if evict.is_empty() {
                    "no pod to evict".to_string()
                } else {
                    format!(
                        "evicting {}: {}",
                        plural(evict.len(), "pod", "pods"),
                        names(evict)
                    )
                };
                if !left.is_empty() {
                    let keys: Vec<String> = left
                        .iter()
                        .map(|(pod, why)| format!("{pod} ({why})"))
                        .collect();
                    s.push_str(&format!("; leaving {}", names(&keys)));
                }
                s
            }
            DrainEvent::Evicted { pod } => format!("pod {pod} evicted"),
            DrainEvent::Blocked {
                pod,
                budget,
                message,
            } => format!(
                "pod {pod} waiting on {}: {message}; retrying",
                budget.as_ref().map_or_else(
                    || "its PodDisruptionBudget".to_string(),
                    |b| format!("PodDisruptionBudget {b}")
                )
            ),
            DrainEvent::StillBlocked { pod } => format!("pod {pod} still waiting"),
            DrainEvent::Retrying { pod, error } => format!("pod {pod}: {error}; retrying"),
            DrainEvent::Failed { pod, error } => format!("pod {pod} could not be evicted: {error}"),
            DrainEvent::Gone { pod } => format!("pod {pod} gone"),
        }
    }
}

/// An event, when it came, and where the drain stands then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainUpdate {
    pub elapsed: Duration,
    pub event: DrainEvent,
    /// "node/n1: 2 of 3 pods gone, 1 waiting on PodDisruptionBudget demo/web (4.20s)".
    pub status: String,
}

/// How a drain that started ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainOutcome {
    /// Every pod it evicts is gone.
    Drained,
    TimedOut(Duration),
    /// Stopped by the operator.
    Aborted,
    /// A pod could not be evicted, or the drain could not follow the node.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainReport {
    pub node: String,
    pub outcome: DrainOutcome,
    /// The evicted pods that are gone.
    pub evicted: Vec<String>,
    /// Pods the drain meant to evict that are still there, and why.
    pub remaining: Vec<(String, String)>,
    /// Pods left on purpose (DaemonSet, mirror), and why.
    pub skipped: Vec<(String, String)>,
    pub duration: Duration,
}

impl DrainReport {
    pub fn is_complete(&self) -> bool {
        self.outcome == DrainOutcome::Drained
    }

    /// One line: the outcome, the counts, and for an unfinished drain what
    /// is left and that the node stays cordoned.
    pub fn summary(&self) -> String {
        let node = &self.node;
        let evicted = plural(self.evicted.len(), "pod evicted", "pods evicted");
        let skipped = if self.skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; left {}",
                plural(self.skipped.len(), "pod on purpose", "pods on purpose")
            )
        };
        let remaining = || {
            let keys: Vec<String> = self
                .remaining
                .iter()
                .map(|(pod, why)| format!("{pod} ({why})"))
                .collect();
            format!(
                "{} not gone: {}",
                plural(self.remaining.len(), "pod", "pods"),
                names(&keys)
            )
        };
        match &self.outcome {
            DrainOutcome::Drained => format!(
                "node/{node} drained in {}: {evicted}{skipped}",
                human(self.duration)
            ),
            DrainOutcome::TimedOut(limit) => format!(
                "drain of node/{node} timed out after {}: {evicted}, {}; node/{node} stays cordoned",
                human(*limit),
                remaining()
            ),
            DrainOutcome::Aborted => format!(
                "drain of node/{node} stopped after {}: {evicted}, {}; node/{node} stays cordoned",
                human(self.duration),
                remaining()
            ),
            DrainOutcome::Failed(why) => {
                let left = if self.remaining.is_empty() {
                    String::new()
                } else {
                    format!(", {}", remaining())
                };
                format!(
                    "drain of node/{node} failed: {why}; {evicted}{left}; node/{node} stays cordoned"
                )
            }
        }
    }
}

/// Where one pod the drain evicts stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// Not evicted yet: the next attempt is due at `next`.
    Pending,
    /// The eviction was accepted; the pod is terminating.
    Evicted,
    Gone,
    Failed(String),
}

struct Tracked {
    ns: String,
    name: String,
    uid: String,
    /// Its namespace and labels, to find the budget that covers it.
    pod: Value,
    stage: Stage,
    next: Instant,
    backoff: Duration,
    /// Why the last attempt was refused, if a budget refused it.
    blocked: Option<String>,
    /// What the last attempt got instead of an answer, if it did.
    last_error: Option<String>,
    budget: Option<String>,
    first_attempt: Option<Instant>,
}

impl Tracked {
    fn key(&self) -> String {
        format!("{}/{}", self.ns, self.name)
    }

    /// Schedules the next attempt after a refusal worth retrying.
    fn retry_later(&mut self, now: Instant, retry_after: Duration) {
        self.next = now + self.backoff.max(retry_after).min(MAX_BACKOFF);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Why it is not gone, for a drain that ends before it is.
    fn why_not_gone(&self) -> String {
        match &self.stage {
            Stage::Pending => match (&self.blocked, &self.budget) {
                (Some(m), Some(b)) => format!("waiting on PodDisruptionBudget {b}: {m}"),
                (Some(m), None) => m.clone(),
                (None, _) => self
                    .last_error
                    .as_ref()
                    .map_or_else(|| "not evicted yet".into(), |e| format!("last try: {e}")),
            },
            Stage::Evicted => "evicted, still terminating".into(),
            Stage::Failed(e) => e.clone(),
            Stage::Gone => "gone".into(),
        }
    }
}

/// The permission one eviction needs.
fn eviction_access(ns: &str) -> Access {
    Access {
        verb: "create",
        group: "".into(),
        resource: "pods".into(),
        subresource: "eviction",
        namespace: ns.to_string(),
        name: String::new(),
    }
}

/// What a refused eviction answer says: the budget's own cause when the
/// server gives one, and the retry it suggests.
fn refusal_of(status: &kube::core::Status) -> (String, Duration) {
    let details = status.details.as_ref();
    let cause = details
        .and_then(|d| d.causes.iter().find(|c| !c.message.is_empty()))
        .map(|c| c.message.clone());
    let message = cause.unwrap_or_else(|| status.message.clone());
    let after = details.map_or(0, |d| d.retry_after_seconds);
    (message, Duration::from_secs(u64::from(after)))
}

impl Executor {
    /// Drains a confirmed `Command::Drain` as `kubectl drain` does, calling
    /// `on_update` as it goes; `abort` resolving stops it (the node stays
    /// cordoned). Errors are for a drain refused before anything changed;
    /// once the node is cordoned every ending is a report, complete or not.
    pub async fn drain(
        &self,
        confirmed: Confirmed,
        on_update: &mut (dyn FnMut(&DrainUpdate) + Send),
        abort: impl Future<Output = ()>,
    ) -> Result<DrainReport, ActionError> {
        let cmd = confirmed.command().clone();
        let Command::Drain { node, options } = &cmd else {
            return Err(ActionError::Invalid(format!(
                "{} is not a drain",
                cmd.summary()
            )));
        };
        if self.blocked.is_none() && !self.readonly {
            self.check_audit().await?;
        }
        let start = Instant::now();
        let started = async {
            let found = self.drain_checks(&confirmed, node, options).await?;
            let already = cordon(self, node).await?;
            Ok::<_, ActionError>((found, already))
        };
        let (found, already) = match started.await {
            Ok(started) => started,
            Err(e) => {
                let result = match &e {
                    ActionError::ReadOnly { .. } => AuditResult::Refused {
                        reason: "read-only".into(),
                    },
                    ActionError::WrongContext { .. } => AuditResult::Refused {
                        reason: "wrong context".into(),
                    },
                    ActionError::Blocked(reason) => AuditResult::Refused {
                        reason: reason.clone(),
                    },
                    ActionError::Precondition(reason) => AuditResult::Refused {
                        reason: reason.clone(),
                    },
                    ActionError::Forbidden { .. } => AuditResult::Denied {
                        message: e.to_string(),
                    },
                    other => AuditResult::Failed {
                        message: other.to_string(),
                    },
                };
                let record = Record::new(&self.user, &self.context, &cmd, result, start.elapsed());
                self.append_audit(record).await;
                return Err(e);
            }
        };
        let mut run = DrainRun {
            exec: self,
            node,
            start,
            on_update,
            tracked: Vec::new(),
            skipped: Vec::new(),
            budgets: Vec::new(),
        };
        run.emit(DrainEvent::Cordoned { already });
        let outcome = run.run(options, found, abort).await;
        let report = run.report(outcome);
        let (result, after) = match &report.outcome {
            DrainOutcome::Drained => (
                AuditResult::Ok,
                format!(
                    "cordoned, {}",
                    plural(report.evicted.len(), "pod evicted", "pods evicted")
                ),
            ),
            _ => (
                AuditResult::Failed {
                    message: report.summary(),
                },
                format!(
                    "cordoned, {} of {} evicted",
                    report.evicted.len(),
                    report.evicted.len() + report.remaining.len()
                ),
            ),
        };
        let mut record = Record::new(&self.user, &self.context, &cmd, result, report.duration);
        record.before = format!(
            "schedulable, {}",
            plural(
                report.evicted.len() + report.remaining.len() + report.skipped.len(),
                "pod",
                "pods"
            )
        );
        record.after = after;
        self.append_audit(record).await;
        Ok(report)
    }

    /// Everything checked before the node is touched: the confirmation's
    /// context, read-only mode, the pods kubectl would refuse, and RBAC.
    /// Returns the node's pods.
    async fn drain_checks(
        &self,
        confirmed: &Confirmed,
        node: &str,
        options: &DrainOptions,
    ) -> Result<Vec<Value>, ActionError> {
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
        let access = cmd.access();
        let pods = self
            .timed(list_values(
                Api::<Pod>::all(self.client.clone()),
                &node_pods(node),
            ))
            .await?
            .map_err(|e| ActionError::from_kube(e, &access))?;
        let found = dispositions(node, options, &pods);
        let refused = refusals(&found);
        if !refused.is_empty() {
            return Err(ActionError::Precondition(format!(
                "cannot drain node/{node}, nothing was changed: {}",
                refused.join("; ")
            )));
        }
        // Asked before anything changes, so a drain that would fail half
        // way does not leave a cordoned node behind; a review that cannot
        // be made leaves the decision to the API server.
        let rbac = Rbac::new(self.client.clone(), Duration::ZERO);
        let namespaces: BTreeSet<&str> = found
            .iter()
            .filter(|(_, d)| matches!(d, Disposition::Evict { .. }))
            .map(|(p, _)| ns_of(p))
            .collect();
        let mut needed = vec![access];
        needed.extend(namespaces.into_iter().map(eviction_access));
        for access in needed {
            match rbac.review(&access).await {
                Ok(Permission::Denied(reason)) => {
                    return Err(ActionError::Forbidden {
                        what: access.describe(),
                        message: reason,
                    });
                }
                Ok(Permission::Allowed) => {}
                Err(e) => tracing::debug!("cannot review {}: {e}", access.describe()),
            }
        }
        Ok(pods)
    }

    /// One API call, within the executor's timeout.
    async fn timed<T>(&self, call: impl Future<Output = T>) -> Result<T, ActionError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| ActionError::Timeout(self.timeout))
    }

    async fn append_audit(&self, record: Record) {
        let log = self.audit.clone();
        let path = log.path().display().to_string();
        // The append fsyncs: keep it off the async workers.
        let written = tokio::task::spawn_blocking(move || log.append(&record)).await;
        let problem = match written {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!("could not write the audit log {path}: {problem}");
    }
}

/// Sets `spec.unschedulable` as `kubectl cordon` does; true when it
/// already was.
async fn cordon(exec: &Executor, node: &str) -> Result<bool, ActionError> {
    let api = Api::<Node>::all(exec.client.clone());
    let access = Command::Cordon {
        node: node.to_string(),
    }
    .access();
    let err = |e| ActionError::from_kube(e, &access);
    let current = exec.timed(api.get(node)).await?.map_err(err)?;
    if current.spec.and_then(|s| s.unschedulable) == Some(true) {
        return Ok(true);
    }
    let patch = Patch::Merge(json!({"spec": {"unschedulable": true}}));
    exec.timed(api.patch(node, &PatchParams::default(), &patch))
        .await?
        .map_err(err)?;
    Ok(false)
}

/// One drain under way.
struct DrainRun<'a, 'f> {
    exec: &'a Executor,
    node: &'a str,
    start: Instant,
    on_update: &'f mut (dyn FnMut(&DrainUpdate) + Send),
    tracked: Vec<Tracked>,
    skipped: Vec<(String, String)>,
    /// The budgets of the namespaces drained, to name the one that refuses.
    budgets: Vec<Value>,
}

impl DrainRun<'_, '_> {
    fn emit(&mut self, event: DrainEvent) {
        let elapsed = self.start.elapsed();
        let update = DrainUpdate {
            status: self.status(elapsed),
            elapsed,
            event,
        };
        (self.on_update)(&update);
    }

    fn status(&self, elapsed: Duration) -> String {
        let count = |f: &dyn Fn(&Tracked) -> bool| self.tracked.iter().filter(|t| f(t)).count();
        let gone = count(&|t| t.stage == Stage::Gone);
        let terminating = count(&|t| t.stage == Stage::Evicted);
        let failed = count(&|t| matches!(t.stage, Stage::Failed(_)));
        let waiting: BTreeSet<String> = self
            .tracked
            .iter()
            .filter(|t| t.stage == Stage::Pending && t.blocked.is_some())
            .map(|t| {
                t.budget.as_ref().map_or_else(
                    || "a PodDisruptionBudget".to_string(),
                    |b| format!("PodDisruptionBudget {b}"),
                )
            })
            .collect();
        let blocked = count(&|t| t.stage == Stage::Pending && t.blocked.is_some());
        let mut s = format!(
            "draining node/{}: {gone} of {} gone",
            self.node,
            plural(self.tracked.len(), "pod", "pods")
        );
        if terminating > 0 {
            s.push_str(&format!(", {terminating} terminating"));
        }
        if blocked > 0 {
            s.push_str(&format!(
                ", {blocked} waiting on {}",
                waiting.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        if failed > 0 {
            s.push_str(&format!(", {failed} failed"));
        }
        s.push_str(&format!(" ({})", human(elapsed)));
        s
    }

    /// Evicts and follows, the node cordoned; the outcome.
    async fn run(
        &mut self,
        options: &DrainOptions,
        before: Vec<Value>,
        abort: impl Future<Output = ()>,
    ) -> DrainOutcome {
        let deadline = options.timeout().map(|t| (self.start + t, t));
        // Listed again now that nothing new can land: what the drain evicts.
        let listed = self
            .exec
            .timed(list_values(
                Api::<Pod>::all(self.exec.client.clone()),
                &node_pods(self.node),
            ))
            .await;
        let pods = match listed {
            Ok(Ok(pods)) => pods,
            Ok(Err(e)) => {
                return DrainOutcome::Failed(format!("cannot list the node's pods: {e}"));
            }
            Err(e) => return DrainOutcome::Failed(e.to_string()),
        };
        let found = dispositions(self.node, options, &pods);
        let refused = refusals(&found);
        if !refused.is_empty() {
            let known: BTreeSet<String> = before.iter().map(key_of).collect();
            let new: Vec<String> = found
                .iter()
                .map(|(p, _)| key_of(p))
                .filter(|k| !known.contains(k))
                .collect();
            return DrainOutcome::Failed(format!(
                "pods arrived while cordoning ({}): {}",
                names(&new),
                refused.join("; ")
            ));
        }
        let now = Instant::now();
        for (p, d) in &found {
            match d {
                Disposition::Evict { .. } => self.tracked.push(Tracked {
                    ns: ns_of(p).to_string(),
                    name: name_of(p).to_string(),
                    uid: p["metadata"]["uid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    pod: json!({"metadata": {
                        "namespace": ns_of(p),
                        "labels": p["metadata"]["labels"],
                    }}),
                    stage: Stage::Pending,
                    next: now,
                    backoff: FIRST_BACKOFF,
                    blocked: None,
                    last_error: None,
                    budget: None,
                    first_attempt: None,
                }),
                Disposition::Skip(why) => self.skipped.push((key_of(p), why.clone())),
                Disposition::Refuse(_) => {}
            }
        }
        let namespaces: BTreeSet<String> = self.tracked.iter().map(|t| t.ns.clone()).collect();
        for ns in namespaces {
            let api = Api::<PodDisruptionBudget>::namespaced(self.exec.client.clone(), &ns);
            if let Ok(Ok(list)) = self
                .exec
                .timed(list_values(api, &ListParams::default()))
                .await
            {
                self.budgets.extend(list);
            }
        }
        self.emit(DrainEvent::Started {
            evict: self.tracked.iter().map(Tracked::key).collect(),
            left: self.skipped.clone(),
        });
        self.follow(deadline, abort).await
    }

    /// Evicts what is due and follows the node's pods until every one is
    /// gone or failed, the deadline passes, or `abort` resolves.
    async fn follow(
        &mut self,
        deadline: Option<(Instant, Duration)>,
        abort: impl Future<Output = ()>,
    ) -> DrainOutcome {
        let api = Api::<Pod>::all(self.exec.client.clone());
        let config = watcher::Config::default().fields(&format!("spec.nodeName={}", self.node));
        let (store, writer) = reflector::store::<Pod>();
        let mut events = std::pin::pin!(reflector::reflector(
            writer,
            watcher(api, config).default_backoff()
        ));
        let mut abort = std::pin::pin!(abort);
        let mut synced = false;
        loop {
            self.attempt_due().await;
            if synced {
                self.mark_gone(&store);
            }
            if self
                .tracked
                .iter()
                .all(|t| matches!(t.stage, Stage::Gone | Stage::Failed(_)))
            {
                let failed: Vec<String> = self
                    .tracked
                    .iter()
                    .filter_map(|t| match &t.stage {
                        Stage::Failed(e) => Some(format!("{}: {e}", t.key())),
                        _ => None,
                    })
                    .collect();
                return if failed.is_empty() {
                    DrainOutcome::Drained
                } else {
                    DrainOutcome::Failed(failed.join("; "))
                };
            }
            let next_attempt = self
                .tracked
                .iter()
                .filter(|t| t.stage == Stage::Pending)
                .map(|t| t.next)
                .min();
            let wake = match (next_attempt, deadline.map(|(d, _)| d)) {
                (Some(a), Some(d)) => Some(a.min(d)),
                (a, d) => a.or(d),
            };
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(Event::InitDone)) => synced = true,
                    Some(Ok(_)) => {}
                    // The watcher backs off and relists by itself.
                    Some(Err(e)) => tracing::debug!("watch of node/{}'s pods: {e}", self.node),
                    None => {
                        return DrainOutcome::Failed(format!(
                            "the watch of node/{}'s pods ended",
                            self.node
                        ));
                    }
                },
                () = async {
                    match wake {
                        Some(w) => tokio::time::sleep_until(w).await,
                        None => std::future::pending().await,
                    }
                } => {}
                () = &mut abort => return DrainOutcome::Aborted,
            }
            if let Some((d, limit)) = deadline
                && Instant::now() >= d
            {
                return DrainOutcome::TimedOut(limit);
            }
        }
    }

    /// Tries every eviction that is due, at once, taking each answer as it
    /// comes: the API server may hold one for seconds (it retries its own
    /// budget conflicts), and the others' news should not wait for it.
    async fn attempt_due(&mut self) {
        let now = Instant::now();
        let exec = self.exec;
        let mut calls: FuturesUnordered<_> = self
            .tracked
            .iter()
            .enumerate()
            .filter(|(_, t)| t.stage == Stage::Pending && t.next <= now)
            .map(|(i, t)| {
                let api = Api::<Pod>::namespaced(exec.client.clone(), &t.ns);
                let name = t.name.clone();
                // The client must not retry 429s itself (kubedeck's `connect`
                // turns kube-rs's retry off): retried, the budget's answer
                // would come back as a timeout, and the drain could not say
                // what it waits on. No delete options: the pod's own grace
                // period, as kubectl's default -1 (kube's EvictParams would
                // send them under a field name the API server does not read).
                async move {
                    let answer = exec.timed(api.evict(&name, &EvictParams::default())).await;
                    (i, answer)
                }
            })
            .collect();
        while let Some((i, answer)) = calls.next().await {
            self.answered(i, answer).await;
        }
    }

    async fn answered(
        &mut self,
        i: usize,
        answer: Result<Result<kube::core::Status, kube::Error>, ActionError>,
    ) {
        let now = Instant::now();
        let budget = self.budget_of(i);
        let t = &mut self.tracked[i];
        let first = *t.first_attempt.get_or_insert(now);
        let pod = t.key();
        let event = match answer {
            Ok(Ok(_)) => {
                t.stage = Stage::Evicted;
                Some(DrainEvent::Evicted { pod: pod.clone() })
            }
            Ok(Err(kube::Error::Api(status))) if status.code == 404 => {
                t.stage = Stage::Gone;
                Some(DrainEvent::Gone { pod: pod.clone() })
            }
            Ok(Err(kube::Error::Api(status))) if status.code == 429 => {
                let (message, after) = refusal_of(&status);
                t.retry_later(now, after);
                let news = t.blocked.as_ref() != Some(&message);
                t.last_error = None;
                t.blocked = Some(message.clone());
                t.budget.clone_from(&budget);
                Some(if news {
                    DrainEvent::Blocked {
                        pod: pod.clone(),
                        budget,
                        message,
                    }
                } else {
                    DrainEvent::StillBlocked { pod: pod.clone() }
                })
            }
            // A budget updated by another eviction at the same moment.
            Ok(Err(kube::Error::Api(status))) if status.code == 409 => {
                t.retry_later(now, Duration::ZERO);
                t.last_error = Some(status.message.clone());
                Some(DrainEvent::Retrying {
                    pod: pod.clone(),
                    error: status.message.clone(),
                })
            }
            Ok(Err(e @ kube::Error::Api(_))) => {
                let error = ActionError::from_kube(e, &eviction_access(&t.ns)).to_string();
                t.stage = Stage::Failed(error.clone());
                Some(DrainEvent::Failed {
                    pod: pod.clone(),
                    error,
                })
            }
            // No answer, or none that could be read: the eviction may be
            // tried again safely (an evicted pod answers 404).
            Ok(Err(e)) => {
                t.retry_later(now, Duration::ZERO);
                t.last_error = Some(e.to_string());
                Some(DrainEvent::Retrying {
                    pod: pod.clone(),
                    error: e.to_string(),
                })
            }
            Err(e) => {
                t.retry_later(now, Duration::ZERO);
                t.last_error = Some(e.to_string());
                Some(DrainEvent::Retrying {
                    pod: pod.clone(),
                    error: e.to_string(),
                })
            }
        };
        let audited = match &t.stage {
            Stage::Evicted => Some(AuditResult::Ok),
            Stage::Failed(message) if message.starts_with("forbidden") => {
                Some(AuditResult::Denied {
                    message: message.clone(),
                })
            }
            Stage::Failed(message) => Some(AuditResult::Failed {
                message: message.clone(),
            }),
            _ => None,
        };
        let evict = Command::EvictPod {
            pod: ObjectRef::new(&t.ns, &t.name),
        };
        if let Some(result) = audited {
            let record = Record::new(
                &self.exec.user,
                &self.exec.context,
                &evict,
                result,
                now - first,
            );
            self.exec.append_audit(record).await;
        }
        if let Some(event) = event {
            self.emit(event);
        }
    }

    /// The budget that covers pod `i`, when exactly one does (the eviction
    /// API refuses a pod with more).
    fn budget_of(&self, i: usize) -> Option<String> {
        let pod = &self.tracked[i].pod;
        let mut covering = self.budgets.iter().filter(|b| budget_selects(b, pod));
        match (covering.next(), covering.next()) {
            (Some(b), None) => Some(name_of(b).to_string()),
            _ => None,
        }
    }

    /// Pods the watch no longer shows (or shows with another uid, as a
    /// StatefulSet's replacement) are gone.
    fn mark_gone(&mut self, store: &reflector::Store<Pod>) {
        let mut gone = Vec::new();
        for t in &mut self.tracked {
            if !matches!(t.stage, Stage::Pending | Stage::Evicted) {
                continue;
            }
            let still = store
                .get(&StoreRef::new(&t.name).within(&t.ns))
                .is_some_and(|p| p.metadata.uid.as_deref() == Some(t.uid.as_str()));
            if !still {
                t.stage = Stage::Gone;
                gone.push(t.key());
            }
        }
        for pod in gone {
            self.emit(DrainEvent::Gone { pod });
        }
    }

    fn report(&self, outcome: DrainOutcome) -> DrainReport {
        DrainReport {
            node: self.node.to_string(),
            evicted: self
                .tracked
                .iter()
                .filter(|t| t.stage == Stage::Gone)
                .map(Tracked::key)
                .collect(),
            remaining: self
                .tracked
                .iter()
                .filter(|t| t.stage != Stage::Gone)
                .map(|t| (t.key(), t.why_not_gone()))
                .collect(),
            skipped: self.skipped.clone(),
            duration: self.start.elapsed(),
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, owner: Option<&str>) -> Value {
        let mut p = json!({
            "metadata": {"namespace": ns, "name": name, "uid": name, "labels": {"app": name}},
            "spec": {"nodeName": "n1"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        });
        if let Some(kind) = owner {
            p["metadata"]["ownerReferences"] = json!([{"kind": kind, "controller": true}]);
        }
        p
    }

    fn labelled(mut p: Value, app: &str) -> Value {
        p["metadata"]["labels"] = json!({"app": app});
        p
    }

    fn with_empty_dir(mut p: Value) -> Value {
        p["spec"]["volumes"] = json!([{"name": "cache", "emptyDir": {}}]);
        p
    }

    fn opts() -> DrainOptions {
        DrainOptions::default()
    }

    #[test]
    fn kubectls_filters_decide_in_kubectls_order() {
        let ds = pod("kube-system", "agent", Some("DaemonSet"));
        assert_eq!(
            classify(&ds, &opts()),
            Disposition::Refuse(DAEMONSET_ERROR.into())
        );
        let ignore = DrainOptions {
            ignore_daemonsets: true,
            ..opts()
        };
        assert_eq!(
            classify(&ds, &ignore),
            Disposition::Skip(DAEMONSET_SKIP.into())
        );
        let mut mirror = pod("kube-system", "etcd-n1", Some("Node"));
        mirror["metadata"]["annotations"] = json!({MIRROR: "abc"});
        assert_eq!(
            classify(&mirror, &opts()),
            Disposition::Skip(MIRROR_SKIP.into())
        );
        let cache = with_empty_dir(pod("shop", "cache", Some("ReplicaSet")));
        assert_eq!(
            classify(&cache, &opts()),
            Disposition::Refuse(LOCAL_STORAGE_ERROR.into())
        );
        let delete_data = DrainOptions {
            delete_emptydir_data: true,
            ..opts()
        };
        assert_eq!(
            classify(&cache, &delete_data),
            Disposition::Evict {
                warning: Some("its emptyDir data is deleted".into())
            }
        );
        let bare = pod("shop", "debug", None);
        assert_eq!(
            classify(&bare, &opts()),
            Disposition::Refuse(UNREPLICATED_ERROR.into())
        );
        let force = DrainOptions {
            force: true,
            ..opts()
        };
        assert!(matches!(
            classify(&bare, &force),
            Disposition::Evict { warning: Some(w) } if w.contains("nothing replaces it")
        ));
        // A finished pod loses nothing: kubectl evicts it whatever it has.
        let mut done = with_empty_dir(pod("shop", "job-x", None));
        done["status"]["phase"] = json!("Succeeded");
        assert_eq!(
            classify(&done, &opts()),
            Disposition::Evict { warning: None }
        );
        assert_eq!(
            classify(&pod("shop", "web", Some("ReplicaSet")), &opts()),
            Disposition::Evict { warning: None }
        );
    }

    #[test]
    fn the_kubectl_line_carries_every_choice() {
        let cmd = Command::Drain {
            node: "n1".into(),
            options: DrainOptions {
                ignore_daemonsets: true,
                delete_emptydir_data: true,
                force: false,
                timeout_seconds: 120,
            },
        };
        assert_eq!(
            cmd.kubectl(),
            "kubectl drain n1 --ignore-daemonsets --delete-emptydir-data --timeout=120s"
        );
        assert_eq!(cmd.object(), "node/n1");
        assert_eq!(cmd.action(), "drain");
        let needs: Vec<String> = cmd.accesses().iter().map(Access::describe).collect();
        assert_eq!(
            needs,
            [
                "patch nodes at cluster scope",
                "create pods/eviction at cluster scope"
            ]
        );
        let json = serde_json::to_value(&cmd).unwrap();
        assert_eq!(json["options"]["ignore_daemonsets"], true);
        assert_eq!(serde_json::from_value::<Command>(json).unwrap(), cmd);
    }

    fn snap() -> Snapshot {
        let mut elsewhere = labelled(pod("shop", "web-3", Some("ReplicaSet")), "web");
        elsewhere["spec"]["nodeName"] = json!("n2");
        Snapshot {
            pods: vec![
                labelled(pod("shop", "web-1", Some("ReplicaSet")), "web"),
                labelled(pod("shop", "web-2", Some("ReplicaSet")), "web"),
                elsewhere,
                labelled(pod("shop", "api-1", Some("ReplicaSet")), "api"),
                pod("kube-system", "agent-x", Some("DaemonSet")),
            ],
            services: vec![
                json!({"metadata": {"namespace": "shop", "name": "web"}, "spec": {"selector": {"app": "web"}}}),
                json!({"metadata": {"namespace": "shop", "name": "api"}, "spec": {"selector": {"app": "api"}}}),
                json!({"metadata": {"namespace": "shop", "name": "headless"}, "spec": {}}),
            ],
            pdbs: vec![
                json!({"metadata": {"namespace": "shop", "name": "web"},
                       "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
                       "status": {"disruptionsAllowed": 1, "desiredHealthy": 2, "expectedPods": 3}}),
                json!({"metadata": {"namespace": "shop", "name": "api"},
                       "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "api"}}},
                       "status": {"disruptionsAllowed": 0, "desiredHealthy": 1, "expectedPods": 1}}),
            ],
            ..Snapshot::default()
        }
    }

    #[test]
    fn consequences_name_the_pods_the_budgets_that_hold_and_the_services_that_empty() {
        let options = DrainOptions {
            ignore_daemonsets: true,
            ..opts()
        };
        assert_eq!(
            consequences("n1", &options, &snap()),
            vec![
                "evicts 3 pods: shop/api-1, shop/web-1, shop/web-2",
                "leaves 1 pod (DaemonSet-managed): kube-system/agent-x",
                "PodDisruptionBudget shop/api needs all 1 of its pods healthy, so it allows no eviction: the drain waits until the budget is relaxed, or times out",
                "PodDisruptionBudget shop/web allows 1 disruption now and 2 of its Ready pods are here: the drain waits until replacements are Ready elsewhere",
                "service shop/api loses all its 1 Ready endpoint until replacements are Ready on another node",
                "service shop/web loses 2 of its 3 Ready endpoints (those on n1)",
            ]
        );
    }

    #[test]
    fn a_refused_pod_is_all_the_plan_says() {
        let mut s = snap();
        s.pods
            .push(with_empty_dir(pod("shop", "cache-0", Some("StatefulSet"))));
        s.pods.push(pod("shop", "debug", None));
        assert_eq!(
            consequences("n1", &opts(), &s),
            vec![
                format!(
                    "the drain will be refused, nothing changes: {DAEMONSET_ERROR}: kube-system/agent-x"
                ),
                format!(
                    "the drain will be refused, nothing changes: {UNREPLICATED_ERROR}: shop/debug"
                ),
                format!(
                    "the drain will be refused, nothing changes: {LOCAL_STORAGE_ERROR}: shop/cache-0"
                ),
            ]
        );
        let empty = Snapshot::default();
        assert_eq!(
            consequences("n1", &opts(), &empty),
            vec!["no pod to evict: the drain only cordons n1; no new pods will be scheduled there"]
        );
    }

    #[test]
    fn an_unfinished_drain_says_what_is_left_and_that_the_node_stays_cordoned() {
        let report = DrainReport {
            node: "n1".into(),
            outcome: DrainOutcome::TimedOut(Duration::from_secs(30)),
            evicted: vec!["shop/web-1".into()],
            remaining: vec![(
                "shop/web-2".into(),
                "waiting on PodDisruptionBudget web: needs 2".into(),
            )],
            skipped: vec![("kube-system/agent-x".into(), DAEMONSET_SKIP.into())],
            duration: Duration::from_secs(30),
        };
        assert!(!report.is_complete());
        assert_eq!(
            report.summary(),
            "drain of node/n1 timed out after 30.00s: 1 pod evicted, 1 pod not gone: shop/web-2 (waiting on PodDisruptionBudget web: needs 2); node/n1 stays cordoned"
        );
        let done = DrainReport {
            outcome: DrainOutcome::Drained,
            evicted: vec!["shop/web-1".into(), "shop/web-2".into()],
            remaining: Vec::new(),
            duration: Duration::from_millis(4200),
            ..report
        };
        assert!(done.is_complete());
        assert_eq!(
            done.summary(),
            "node/n1 drained in 4.20s: 2 pods evicted; left 1 pod on purpose"
        );
    }

    #[test]
    fn backoff_doubles_to_kubectls_five_seconds_and_honours_a_longer_retry_after() {
        let now = Instant::now();
        let mut t = Tracked {
            ns: "shop".into(),
            name: "web-1".into(),
            uid: "u".into(),
            pod: Value::Null,
            stage: Stage::Pending,
            next: now,
            backoff: FIRST_BACKOFF,
            blocked: None,
            last_error: None,
            budget: None,
            first_attempt: None,
        };
        let mut waits = Vec::new();
        for _ in 0..5 {
            t.retry_later(now, Duration::ZERO);
            waits.push((t.next - now).as_secs());
        }
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        t.backoff = FIRST_BACKOFF;
        t.retry_later(now, Duration::from_secs(3));
        assert_eq!((t.next - now).as_secs(), 3);
    }
}
