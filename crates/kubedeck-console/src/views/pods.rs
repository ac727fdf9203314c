//! The pods view: ready containers, kubectl's status (with the reasons an
//! on-call engineer looks for), restarts with the last restart's age, CPU
//! and memory from the metrics API, age, node and IP.

use crate::cluster::SlimPod;
use crate::cluster::slim_pod::SlimContainerStatus;
use std::borrow::Cow;

use chrono::{DateTime, Utc};
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, Sources, TableView, age, age_secs, as_json,
    col, sort_rows, time, visible_object,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct PodsView;

const COLUMNS: &[Column] = &[
    col("NAMESPACE", 10, false).keep(Keep::Whole).priority(2),
    col("NAME", 20, false).keep(Keep::End).priority(0),
    col("READY", 5, true).keep(Keep::Whole).priority(3),
    col("STATUS", 16, false).keep(Keep::Head).priority(1),
    col("RESTARTS", 12, true).keep(Keep::Head).priority(4),
    col("CPU", 4, true).keep(Keep::Whole).priority(6),
    col("MEM", 5, true).keep(Keep::Whole).priority(6),
    col("AGE", 5, true).keep(Keep::Whole).priority(7),
    col("IP", 11, false).keep(Keep::Whole).priority(8),
    col("NODE", 6, false).keep(Keep::End).priority(5),
];

/// A pod's status as kubectl prints it, and how alarming it is.
pub(crate) fn status(pod: &SlimPod) -> (String, Role) {
    let Some(st) = &pod.status else {
        return ("Unknown".into(), Role::Warning);
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return ("Terminating".into(), Role::Muted);
    }
    let mut reason = st
        .reason
        .clone()
        .unwrap_or_else(|| st.phase.clone().unwrap_or_else(|| "Unknown".into()));
    for (i, cs) in st.init_container_statuses.iter().flatten().enumerate() {
        let state = cs.state.as_ref();
        if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            if t.exit_code == 0 {
                continue;
            }
            return (
                format!(
                    "Init:{}",
                    t.reason
                        .clone()
                        .unwrap_or_else(|| format!("ExitCode:{}", t.exit_code))
                ),
                Role::Danger,
            );
        }
        if let Some(w) = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone())
            .filter(|r| r != "PodInitializing")
        {
            return (format!("Init:{w}"), Role::Danger);
        }
        let total = pod
            .spec
            .as_ref()
            .and_then(|s| s.init_containers.as_ref())
            .map_or(0, |c| c.len());
        return (format!("Init:{i}/{total}"), Role::Warning);
    }
    let mut any_running = false;
    // kubectl's reason with why the container failed: a crash loop's cause
    // (OOMKilled 137) is otherwise only in describe.
    let mut detail = None;
    for cs in st.container_statuses.iter().flatten().rev() {
        let state = cs.state.as_ref();
        if let Some(w) = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_ref())
        {
            reason = w.clone();
            // The cause first, so a narrow column still shows it.
            detail = last_failure(cs).map(|last| format!("{last} ({w})"));
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            reason = t.reason.clone().unwrap_or_else(|| match t.signal {
                Some(sig) if sig != 0 => format!("Signal:{sig}"),
                _ => format!("ExitCode:{}", t.exit_code),
            });
            detail = (t.exit_code != 0 && t.reason.is_some())
                .then(|| format!("{reason} (exit {})", t.exit_code));
        } else if state.is_some_and(|s| s.running.is_some()) && cs.ready {
            any_running = true;
        }
    }
    if reason == "Completed" && any_running {
        reason = "Running".into();
    }
    let role = match reason.as_str() {
        "Running" | "Succeeded" | "Completed" => Role::Ok,
        "Pending" | "ContainerCreating" | "PodInitializing" => Role::Warning,
        _ => Role::Danger,
    };
    let role = if role == Role::Ok && reason == "Running" && !ready(pod).0.eq(&ready(pod).1) {
        Role::Warning
    } else {
        role
    };
    match detail {
        Some(d) => (d, role),
        None => (reason, role),
    }
}

/// How a container's previous run ended, when it failed: "OOMKilled 137"
/// (reason and exit code, from describe's Last State), short enough that
/// a table cell keeps it.
pub(crate) fn last_failure(cs: &SlimContainerStatus) -> Option<String> {
    let t = cs.last_state.as_ref()?.terminated.as_ref()?;
    if t.exit_code == 0 {
        return None;
    }
    Some(match &t.reason {
        Some(r) => format!("{r} {}", t.exit_code),
        None => format!("exit {}", t.exit_code),
    })
}

/// (ready containers, containers).
pub(crate) fn ready(pod: &SlimPod) -> (usize, usize) {
    let total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let ready = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().filter(|c| c.ready).count());
    (ready, total)
}

/// Total restarts and when the latest one happened.
fn restarts(pod: &SlimPod) -> (i32, Option<DateTime<Utc>>) {
    let mut count = 0;
    let mut last = None;
    for cs in pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
    {
        count += cs.restart_count;
        let finished = cs
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.finished_at.as_ref())
            .and_then(time);
        if finished > last {
            last = finished;
        }
    }
    (count, last)
}

fn created(pod: &SlimPod) -> Option<DateTime<Utc>> {
    pod.metadata.creation_timestamp.as_ref().and_then(time)
}

fn in_scope(pod: &SlimPod, query: &Query) -> bool {
    if let Scope::Node(node) = &query.scope
        && pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(node.as_str())
    {
        return false;
    }
    visible_object(query, &pod.metadata)
}

/// A pods column's sort value, borrowed where the pod holds it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PodKey<'a> {
    Num(i64),
    Text(Cow<'a, str>),
}

pub(crate) fn get(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<SlimPod>> {
    cache.pods.get(&ObjectRef::new(&key.1).within(&key.0))
}

impl TableView for PodsView {
    fn title(&self) -> &'static str {
        "Pods"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Pod]
    }

    fn enter(&self, _cache: &Cache, key: &RowKey) -> Option<Drill> {
        Some(Drill {
            view: View::Pods,
            scope: Scope::Pod {
                namespace: key.0.clone(),
                name: key.1.clone(),
            },
            crumb: key.1.clone(),
        })
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*get(cache, key)?)
    }

    /// Sorted on keys borrowed from the store: each row's owned key is
    /// made once, at the end. At 10,000 pods every change of any pod lists
    /// them all again, so copies per row are what a refresh costs.
    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let state = src.cache.pods.state();
        let metrics = src.metrics;
        let mut keyed: Vec<(PodKey<'_>, (&str, &str))> = state
            .iter()
            .filter(|p| in_scope(p, query))
            .map(|p| {
                let ns = p.metadata.namespace.as_deref().unwrap_or_default();
                let name = p.metadata.name.as_deref().unwrap_or_default();
                let key = match query.sort_column {
                    0 => PodKey::Text(Cow::Borrowed(ns)),
                    2 => PodKey::Num(ready(p).0 as i64),
                    3 => PodKey::Text(Cow::Owned(status(p).0)),
                    4 => PodKey::Num(restarts(p).0 as i64),
                    // Pods without a sample sort below any that have one.
                    5 | 6 => {
                        let usage = metrics.usage(&(ns.to_string(), name.to_string()));
                        PodKey::Num(usage.map_or(-1, |u| {
                            let v = if query.sort_column == 5 {
                                u.cpu_millis
                            } else {
                                u.memory_bytes
                            };
                            i64::try_from(v).unwrap_or(i64::MAX)
                        }))
                    }
                    7 => PodKey::Num(-age_secs(created(p), now)),
                    8 => PodKey::Text(Cow::Borrowed(
                        p.status
                            .as_ref()
                            .and_then(|s| s.pod_ip.as_deref())
                            .unwrap_or_default(),
                    )),
                    9 => PodKey::Text(Cow::Borrowed(
                        p.spec
                            .as_ref()
                            .and_then(|s| s.node_name.as_deref())
                            .unwrap_or_default(),
                    )),
                    _ => PodKey::Text(Cow::Borrowed(name)),
                };
                (key, (ns, name))
            })
            .collect();
        sort_rows(&mut keyed, query.descending);
        keyed
            .into_iter()
            .map(|(_, (ns, name))| (ns.to_string(), name.to_string()))
            .collect()
    }

    fn judges_faults(&self) -> bool {
        true
    }

    /// A pod that has neither succeeded nor runs with every container ready.
    fn fault(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        let pod = get(src.cache, key)?;
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if phase == Some("Succeeded") {
            return Some(false);
        }
        let (ready, total) = ready(&pod);
        Some(phase != Some("Running") || ready < total)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let pod = get(cache, key)?;
        let (r, total) = ready(&pod);
        let (status, role) = status(&pod);
        let (count, last) = restarts(&pod);
        let restarts = match last {
            Some(t) if count > 0 => format!("{count} ({} ago)", age(Some(t), now)),
            _ => count.to_string(),
        };
        let (cpu, mem) = src.metrics.cells(key);
        Some(vec![
            Cell::new(key.0.clone(), Role::Muted),
            Cell::text(key.1.clone()),
            Cell::new(
                format!("{r}/{total}"),
                if r == total {
                    Role::Text
                } else {
                    Role::Warning
                },
            ),
            Cell::new(status, role),
            Cell::new(restarts, if count > 0 { Role::Warning } else { Role::Text }),
            Cell::text(cpu),
            Cell::text(mem),
            Cell::text(age(created(&pod), now)),
            Cell::text(
                pod.status
                    .as_ref()
                    .and_then(|s| s.pod_ip.clone())
                    .unwrap_or_else(|| "<none>".into()),
            ),
            Cell::text(
                pod.spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_else(|| "<none>".into()),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> SlimPod {
        serde_json::from_value(v).expect("test pod is valid")
    }

    #[test]
    fn statuses_read_as_kubectl_prints_them() {
        let crash = pod(json!({
            "metadata": {"name": "a"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 4, "image": "x", "imageID": "",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }));
        assert_eq!(
            status(&crash),
            ("CrashLoopBackOff".to_string(), Role::Danger)
        );
        let oom = pod(json!({
            "metadata": {"name": "b"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 1, "image": "x", "imageID": "",
                "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}
        }));
        assert_eq!(status(&oom).0, "OOMKilled (exit 137)");
        let terminating = pod(json!({
            "metadata": {"name": "c", "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Running"}
        }));
        assert_eq!(status(&terminating).0, "Terminating");
        let running_unready = pod(json!({
            "metadata": {"name": "d"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 0, "image": "x", "imageID": "",
                "state": {"running": {}}}]}
        }));
        assert_eq!(
            status(&running_unready),
            ("Running".to_string(), Role::Warning)
        );
    }

    #[test]
    fn a_crash_loop_says_what_killed_the_last_run() {
        let looping = pod(json!({
            "metadata": {"name": "e"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "web", "ready": false, "restartCount": 5, "image": "x", "imageID": "",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}
        }));
        assert_eq!(
            status(&looping),
            ("OOMKilled 137 (CrashLoopBackOff)".to_string(), Role::Danger)
        );
    }
}
