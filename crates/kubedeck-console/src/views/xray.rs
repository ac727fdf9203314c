//! `:xray`: a workload's owner tree as a table, one node a row, its
//! branches drawn in the NAME column (`├─ └─ │`). The rows come from
//! `xray::tree`; a row's cells read its object from the stores, so the
//! tree follows every watch with no key pressed. Enter and `d` describe
//! the node, `y` shows its YAML, `l` its logs (a container's alone).

use std::borrow::Cow;
use std::ops::Range;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Keep, Query, RowKey, Scope, Sources, TableView, age, as_json, col, created, hpas,
    jobs, pods, services, time, workloads,
};
use crate::cluster::slim_pod::SlimContainerStatus;
use crate::cluster::{Cache, Kind, SlimPod};
use crate::theme::Role;
use crate::xray::tree::{self, CONTAINER, HPA, POD, REPLICA_SET, SERVICE, Segment};

pub(crate) struct XrayView;

const COLUMNS: &[Column] = &[
    col("NAME", 24, false).keep(Keep::End).priority(0),
    col("READY", 5, false).keep(Keep::Whole).priority(2),
    col("STATUS", 14, false).keep(Keep::Head).priority(1),
    col("RESTARTS", 8, true).keep(Keep::Whole).priority(3),
    col("INFO", 16, false).keep(Keep::Text).priority(2),
    col("NODE", 6, false).keep(Keep::End).priority(5),
    col("AGE", 5, true).keep(Keep::Whole).priority(6),
    // Filled on roots only; before NODE and AGE, as `:xray` across all
    // namespaces needs it.
    col("NAMESPACE", 9, false).keep(Keep::Whole).priority(4),
];

/// The node a key names: its kind and name, the segments above it, and
/// the namespace.
struct At<'k> {
    ns: &'k str,
    path: Vec<Segment<'k>>,
}

impl<'k> At<'k> {
    fn new(key: &'k RowKey) -> Option<At<'k>> {
        Some(At {
            ns: &key.0,
            path: tree::segments(&key.1)?,
        })
    }

    fn node(&self) -> Segment<'k> {
        self.path[self.path.len() - 1]
    }

    /// The node above, if any.
    fn parent(&self) -> Option<Segment<'k>> {
        self.path.len().checked_sub(2).map(|i| self.path[i])
    }

    fn depth(&self) -> usize {
        self.path.len() - 1
    }

    fn get<K>(
        &self,
        store: &kube::runtime::reflector::Store<K>,
        name: &str,
    ) -> Option<std::sync::Arc<K>>
    where
        K: kube::Resource<DynamicType = ()> + Clone,
    {
        store.get(&ObjectRef::new(name).within(self.ns))
    }

    /// The pod of a pod's or a container's row.
    fn pod(&self, cache: &Cache) -> Option<std::sync::Arc<SlimPod>> {
        let (kind, name) = self.node();
        let pod = match kind {
            POD => name,
            CONTAINER => self.parent()?.1,
            _ => return None,
        };
        self.get(&cache.pods, pod)
    }
}

/// The short kind a node's label starts with, as kubectl spells it.
fn short(kind: &str) -> &str {
    match kind {
        "Deployment" => "deploy",
        "StatefulSet" => "sts",
        "DaemonSet" => "ds",
        "Job" => "job",
        "CronJob" => "cj",
        REPLICA_SET => "rs",
        POD => "pod",
        CONTAINER => "container",
        SERVICE => "svc",
        HPA => "hpa",
        other => other,
    }
}

/// The branches before each row of `window`: `│  ` where a node above
/// has a sibling still to come, then `├─ ` or, for the last child, `└─ `.
/// Read from the rows' depths, walking back from the next root after the
/// window (nothing past it bears on these rows).
pub(crate) fn branches(rows: &[RowKey], window: Range<usize>) -> Vec<String> {
    let stop = rows[window.end..]
        .iter()
        .position(|k| tree::depth(&k.1) == 0)
        .map_or(rows.len(), |i| window.end + i);
    // follows[d]: a row of depth d comes later, before any shallower one.
    let mut follows: Vec<bool> = Vec::new();
    let mut out = vec![String::new(); window.len()];
    for j in (window.start..stop).rev() {
        let d = tree::depth(&rows[j].1);
        if follows.len() <= d {
            follows.resize(d + 1, false);
        }
        if j < window.end {
            let mut prefix = String::new();
            for open in &follows[1.min(d)..d] {
                prefix.push_str(if *open { "│  " } else { "   " });
            }
            if d > 0 {
                prefix.push_str(if follows[d] { "├─ " } else { "└─ " });
            }
            out[j - window.start] = prefix;
        }
        follows[d] = true;
        follows.truncate(d + 1);
    }
    out
}

/// The revision of a Deployment's newest ReplicaSet: its current one, as
/// the controller numbers them (a rollback renumbers the old one newest).
fn current_revision(cache: &Cache, deployment: &ObjectMeta) -> i64 {
    cache
        .replicasets
        .state()
        .iter()
        .filter(|rs| {
            rs.metadata.namespace == deployment.namespace
                && rs
                    .metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| Some(&o.uid) == deployment.uid.as_ref())
        })
        .map(|rs| tree::revision(&rs.metadata))
        .max()
        .unwrap_or(0)
}

fn ready_cell(ready: i64, desired: i64) -> Cell {
    Cell::new(
        format!("{ready}/{desired}"),
        if ready < desired {
            Role::Warning
        } else {
            Role::Text
        },
    )
}

fn restarts_cell(n: i32) -> Cell {
    Cell::new(
        n.to_string(),
        if n > 0 { Role::Warning } else { Role::Text },
    )
}

/// A container's state: Running, the waiting reason, or how it ended.
fn container_state(cs: Option<&SlimContainerStatus>) -> (String, Role) {
    let Some(state) = cs.and_then(|c| c.state.as_ref()) else {
        return ("Waiting".into(), Role::Warning);
    };
    if let Some(w) = &state.waiting {
        let reason = w.reason.clone().unwrap_or_else(|| "Waiting".into());
        let role = if reason.contains("BackOff") || reason.starts_with("Err") {
            Role::Danger
        } else {
            Role::Warning
        };
        return (reason, role);
    }
    if let Some(t) = &state.terminated {
        let reason = t.reason.clone().unwrap_or_else(|| "Terminated".into());
        return if t.exit_code == 0 {
            (reason, Role::Muted)
        } else {
            (format!("{reason} (exit {})", t.exit_code), Role::Danger)
        };
    }
    let ready = cs.is_some_and(|c| c.ready);
    (
        "Running".into(),
        if ready { Role::Ok } else { Role::Warning },
    )
}

/// How the container's previous run ended: `last: OOMKilled (exit 137)`.
fn last_state(cs: &SlimContainerStatus) -> Option<Cell> {
    let t = cs.last_state.as_ref()?.terminated.as_ref()?;
    let reason = t.reason.as_deref().unwrap_or("Terminated");
    Some(Cell::new(
        format!("last: {reason} (exit {})", t.exit_code),
        if t.exit_code == 0 {
            Role::Muted
        } else {
            Role::Danger
        },
    ))
}

/// The cells of every column; the NAME and AGE cells are the caller's.
struct Cells {
    ready: Cell,
    status: Cell,
    restarts: Cell,
    info: Cell,
    node: Cell,
    created: Option<DateTime<Utc>>,
}

impl Cells {
    fn new(status: (String, Role), meta: Option<&ObjectMeta>) -> Cells {
        Cells {
            ready: Cell::text(""),
            status: Cell::new(status.0, status.1),
            restarts: Cell::text(""),
            info: Cell::text(""),
            node: Cell::text(""),
            created: meta.and_then(created),
        }
    }
}

fn workload_cells(cache: &Cache, w: &workloads::Workload, meta: &ObjectMeta) -> Cells {
    let mut c = Cells::new(workloads::rollout(cache, w), Some(meta));
    c.ready = ready_cell(w.ready.into(), w.desired.into());
    c.info = Cell::text(if w.revision.is_empty() {
        workloads::images(&w.images)
    } else {
        format!("rev {} · {}", w.revision, workloads::images(&w.images))
    });
    c
}

fn node_cells(src: Sources<'_>, at: &At<'_>, now: DateTime<Utc>) -> Option<Cells> {
    let cache = src.cache;
    let (kind, name) = at.node();
    Some(match kind {
        "Deployment" => {
            let d = at.get(&cache.deployments, name)?;
            workload_cells(cache, &workloads::from_deployment(&d), &d.metadata)
        }
        "StatefulSet" => {
            let s = at.get(&cache.statefulsets, name)?;
            workload_cells(cache, &workloads::from_statefulset(&s), &s.metadata)
        }
        "DaemonSet" => {
            let d = at.get(&cache.daemonsets, name)?;
            workload_cells(cache, &workloads::from_daemonset(&d), &d.metadata)
        }
        REPLICA_SET => {
            let rs = at.get(&cache.replicasets, name)?;
            let revision = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .cloned()
                .unwrap_or_default();
            let current = at
                .parent()
                .and_then(|(_, d)| at.get(&cache.deployments, d))
                .map(|d| current_revision(cache, &d.metadata));
            let status = if current == revision.parse().ok() {
                ("current".to_string(), Role::Ok)
            } else {
                ("old".to_string(), Role::Muted)
            };
            let mut c = Cells::new(status, Some(&rs.metadata));
            let desired = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let ready = rs
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            c.ready = ready_cell(ready.into(), desired.into());
            let (images, _) = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .map(|t| t.images_and_labels())
                .unwrap_or_default();
            c.info = Cell::text(format!("rev {revision} · {}", workloads::images(&images)));
            c
        }
        "Job" => {
            let j = at.get(&cache.jobs, name)?;
            let mut c = Cells::new(jobs::job_status(&j), Some(&j.metadata));
            c.ready = Cell::text(jobs::completions(&j));
            c
        }
        "CronJob" => {
            let cj = at.get(&cache.cronjobs, name)?;
            let spec = cj.spec.as_ref();
            let status = if spec.and_then(|s| s.suspend) == Some(true) {
                ("Suspended".to_string(), Role::Muted)
            } else {
                ("Scheduled".to_string(), Role::Ok)
            };
            let mut c = Cells::new(status, Some(&cj.metadata));
            let st = cj.status.as_ref();
            let active = st.and_then(|s| s.active.as_ref()).map_or(0, Vec::len);
            c.ready = Cell::text(format!("{active} active"));
            let last = st
                .and_then(|s| s.last_schedule_time.as_ref())
                .and_then(time)
                .map(|t| format!(" · last {} ago", age(Some(t), now)))
                .unwrap_or_default();
            c.info = Cell::text(format!(
                "{}{last}",
                spec.map_or("", |s| s.schedule.as_str())
            ));
            c
        }
        POD => {
            let p = at.pod(cache)?;
            let mut c = Cells::new(pods::status(&p), Some(&p.metadata));
            let (ready, total) = pods::ready(&p);
            c.ready = ready_cell(ready as i64, total as i64);
            let restarts = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .map_or(0, |cs| cs.iter().map(|c| c.restart_count).sum());
            c.restarts = restarts_cell(restarts);
            c.node = Cell::text(
                p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_default(),
            );
            // A StatefulSet's or DaemonSet's pods name their revision.
            if let Some(hash) = p
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("controller-revision-hash"))
            {
                let hash = hash.rsplit('-').next().unwrap_or(hash);
                c.info = Cell::text(format!("rev {hash}"));
            }
            c
        }
        CONTAINER => {
            let p = at.pod(cache)?;
            let (container, cs, _) = super::containers::container_in(&p, name)?;
            let mut c = Cells::new(container_state(cs), None);
            c.ready = Cell::text(match cs {
                Some(s) if s.ready => "true",
                _ => "false",
            });
            c.restarts = restarts_cell(cs.map_or(0, |s| s.restart_count));
            c.info = cs.and_then(last_state).unwrap_or_else(|| {
                Cell::new(container.image.clone().unwrap_or_default(), Role::Muted)
            });
            // A container's age is its current run's.
            c.created = cs
                .and_then(|s| s.state.as_ref()?.running.as_ref()?.started_at.as_ref())
                .and_then(time);
            c
        }
        SERVICE => {
            let svc = at.get(&cache.services, name)?;
            let spec = svc.spec.as_ref();
            let kind = spec
                .and_then(|s| s.type_.clone())
                .unwrap_or_else(|| "ClusterIP".into());
            let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
            let kind = if headless {
                format!("{kind} (headless)")
            } else {
                kind
            };
            let mut c = Cells::new((kind, Role::Text), Some(&svc.metadata));
            let (ready, total) = services::endpoints(cache, at.ns, name);
            c.ready = ready_cell(ready as i64, total as i64);
            c.info = Cell::text(services::ports(&svc));
            c
        }
        HPA => {
            let h = at.get(&cache.hpas, name)?;
            let mut c = Cells::new(hpas::conditions_summary(&h), Some(&h.metadata));
            let st = h.status.as_ref();
            let current = st.and_then(|s| s.current_replicas).unwrap_or(0);
            let desired = st.map_or(0, |s| s.desired_replicas);
            c.ready = ready_cell(current.into(), desired.into());
            let spec = h.spec.as_ref();
            let bounds = format!(
                "{}-{}",
                spec.and_then(|s| s.min_replicas).unwrap_or(1),
                spec.map_or(0, |s| s.max_replicas)
            );
            let metrics: Vec<String> = hpas::metrics(&h).iter().map(|m| m.summary()).collect();
            c.info = Cell::text(if metrics.is_empty() {
                bounds
            } else {
                format!("{bounds} · {}", metrics.join(", "))
            });
            c
        }
        _ => return None,
    })
}

impl XrayView {
    fn row(
        &self,
        src: Sources<'_>,
        key: &RowKey,
        branch: &str,
        now: DateTime<Utc>,
    ) -> Option<Vec<Cell>> {
        let at = At::new(key)?;
        let c = node_cells(src, &at, now)?;
        let (kind, name) = at.node();
        let name_role = if at.depth() == 0 {
            Role::Info
        } else {
            Role::Text
        };
        Some(vec![
            Cell::new(format!("{branch}{}/{name}", short(kind)), name_role),
            c.ready,
            c.status,
            c.restarts,
            c.info,
            c.node,
            Cell::text(c.created.map(|t| age(Some(t), now)).unwrap_or_default()),
            Cell::text(if at.depth() == 0 { at.ns } else { "" }),
        ])
    }
}

impl TableView for XrayView {
    fn title(&self) -> &'static str {
        "Xray"
    }

    fn title_in(&self, _src: Sources<'_>, query: &Query) -> Cow<'static, str> {
        match &query.scope {
            Scope::Xray(target) => Cow::Owned(format!("Xray {}", target.what())),
            _ => Cow::Borrowed(self.title()),
        }
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn flex_column(&self) -> usize {
        0
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[
            Kind::Deployment,
            Kind::ReplicaSet,
            Kind::StatefulSet,
            Kind::DaemonSet,
            Kind::Job,
            Kind::CronJob,
            Kind::Pod,
            Kind::Service,
            Kind::Endpoints,
            Kind::Hpa,
        ]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, _now: DateTime<Utc>) -> Vec<RowKey> {
        let Scope::Xray(target) = &query.scope else {
            return Vec::new();
        };
        let ns = target.namespace(query.namespace.as_deref());
        tree::rows(src.cache, target, ns, &query.filter)
    }

    /// The row alone, indented by its depth: `window_cells` draws the branches.
    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let indent = "   ".repeat(tree::depth(&key.1));
        self.row(src, key, &indent, now)
    }

    fn window_cells(
        &self,
        src: Sources<'_>,
        rows: &[RowKey],
        window: Range<usize>,
        now: DateTime<Utc>,
    ) -> Vec<Option<Vec<Cell>>> {
        let branches = branches(rows, window.clone());
        rows[window]
            .iter()
            .zip(branches)
            .map(|(key, branch)| self.row(src, key, &branch, now))
            .collect()
    }

    fn order_note(&self, _src: Sources<'_>, _query: &Query) -> Option<&'static str> {
        Some("owner tree")
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        let at = At::new(key)?;
        let (kind, name) = at.node();
        match kind {
            "Deployment" => as_json(&*at.get(&cache.deployments, name)?),
            "StatefulSet" => as_json(&*at.get(&cache.statefulsets, name)?),
            "DaemonSet" => as_json(&*at.get(&cache.daemonsets, name)?),
            "Job" => as_json(&*at.get(&cache.jobs, name)?),
            "CronJob" => as_json(&*at.get(&cache.cronjobs, name)?),
            REPLICA_SET => as_json(&*at.get(&cache.replicasets, name)?),
            POD | CONTAINER => as_json(&*at.pod(cache)?),
            SERVICE => as_json(&*at.get(&cache.services, name)?),
            HPA => as_json(&*at.get(&cache.hpas, name)?),
            _ => None,
        }
    }

    fn container(&self, key: &RowKey) -> Option<String> {
        let at = At::new(key)?;
        let (kind, name) = at.node();
        (kind == CONTAINER).then(|| name.to_string())
    }
}
