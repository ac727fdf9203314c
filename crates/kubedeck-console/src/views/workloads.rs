//! Deployments, StatefulSets and DaemonSets in one table: readiness, the
//! rollout's state and revision, images, and whether an HPA drives it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, age, age_secs,
    as_json, backoff_reason, col, created, finish, selects, visible,
};
use crate::cluster::slim_workload::PodTemplate;
use crate::cluster::{Cache, Kind, SlimDeployment};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct WorkloadsView;

const COLUMNS: &[Column] = &[
    col("NAMESPACE", 9, false).keep(Keep::Whole).priority(2),
    col("NAME", 14, false).keep(Keep::End).priority(0),
    col("KIND", 11, false).keep(Keep::Whole).priority(4),
    col("READY", 5, true).keep(Keep::Whole).priority(1),
    col("UP-TO-DATE", 10, true).keep(Keep::Whole).priority(6),
    col("AVAIL", 5, true).keep(Keep::Whole).priority(6),
    col("IMAGES", 14, false).keep(Keep::Image).priority(3),
    col("REV", 5, false).keep(Keep::Whole).priority(7),
    col("ROLLOUT", 11, false).keep(Keep::Head).priority(2),
    col("HPA", 6, false).keep(Keep::End).priority(7),
    col("AGE", 5, true).keep(Keep::Whole).priority(8),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// kubectl's short resource name, for `deploy/web` labels.
    pub(crate) fn short(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deploy",
            WorkloadKind::StatefulSet => "sts",
            WorkloadKind::DaemonSet => "ds",
        }
    }

    fn parse(s: &str) -> Option<WorkloadKind> {
        match s {
            "Deployment" => Some(WorkloadKind::Deployment),
            "StatefulSet" => Some(WorkloadKind::StatefulSet),
            "DaemonSet" => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }
}

/// What the console needs of any workload, read from its typed object.
#[derive(Debug, Clone)]
pub(crate) struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    pub images: Vec<String>,
    pub revision: String,
    pub template_labels: BTreeMap<String, String>,
    pub match_labels: BTreeMap<String, String>,
    pub created: Option<DateTime<Utc>>,
    /// The controller says the rollout stopped making progress.
    pub deadline_exceeded: bool,
    /// Every replica runs the newest template and is available.
    pub converged: bool,
    /// A label that only the newest template's pods carry.
    pub new_pods: Option<(String, String)>,
}

impl Workload {
    /// The row key: the kind travels in the name so that a Deployment and a
    /// StatefulSet of the same name are different rows.
    pub(crate) fn key(&self) -> RowKey {
        (
            self.namespace.clone(),
            format!("{}/{}", self.kind.as_str(), self.name),
        )
    }

    pub(crate) fn degraded(&self) -> bool {
        self.ready < self.desired
    }
}

/// Desired and ready replicas: a Deployment's or StatefulSet's spec says
/// how many (one when unset), a DaemonSet's status how many nodes.
fn deployment_replicas(d: &SlimDeployment) -> (i32, i32) {
    (
        d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        d.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0),
    )
}

fn statefulset_replicas(s: &StatefulSet) -> (i32, i32) {
    (
        s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        s.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0),
    )
}

fn daemonset_replicas(d: &DaemonSet) -> (i32, i32) {
    d.status
        .as_ref()
        .map_or((0, 0), |s| (s.desired_number_scheduled, s.number_ready))
}

/// Each workload's namespace and whether it is degraded (`Workload::degraded`),
/// without building its row: the overview counts them for every frame,
/// and a row reads its pod template.
pub(crate) fn each_health(cache: &Cache, mut each: impl FnMut(&str, bool)) {
    fn ns(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
        m.namespace.as_deref().unwrap_or_default()
    }
    for d in cache.deployments.state().iter() {
        let (desired, ready) = deployment_replicas(d);
        each(ns(&d.metadata), ready < desired);
    }
    for s in cache.statefulsets.state().iter() {
        let (desired, ready) = statefulset_replicas(s);
        each(ns(&s.metadata), ready < desired);
    }
    for d in cache.daemonsets.state().iter() {
        let (desired, ready) = daemonset_replicas(d);
        each(ns(&d.metadata), ready < desired);
    }
}

fn template_parts(t: &PodTemplateSpec) -> (Vec<String>, BTreeMap<String, String>) {
    let images = t
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| c.image.clone())
        .collect();
    let labels = t
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    (images, labels)
}

const REVISION: &str = "deployment.kubernetes.io/revision";

pub(crate) fn from_deployment(d: &SlimDeployment) -> Workload {
    let (namespace, name) = super::key_of(&d.metadata);
    let spec = d.spec.as_ref();
    let st = d.status.as_ref();
    let (desired, ready) = deployment_replicas(d);
    let (images, template_labels) = spec
        .and_then(|s| s.template.as_ref())
        .map(PodTemplate::images_and_labels)
        .unwrap_or_default();
    let revision = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION).cloned())
        .unwrap_or_default();
    let updated = st.and_then(|s| s.updated_replicas).unwrap_or(0);
    let available = st.and_then(|s| s.available_replicas).unwrap_or(0);
    let total = st.and_then(|s| s.replicas).unwrap_or(0);
    let observed = st.and_then(|s| s.observed_generation).unwrap_or(0);
    let deadline_exceeded = st
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| {
            c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        });
    Workload {
        kind: WorkloadKind::Deployment,
        desired,
        ready,
        updated,
        available,
        images,
        revision,
        template_labels,
        match_labels: spec
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default(),
        created: created(&d.metadata),
        deadline_exceeded,
        converged: updated == desired
            && available == desired
            && total == desired
            && observed >= d.metadata.generation.unwrap_or(0),
        // Found from the ReplicaSets only when a rollout state is needed.
        new_pods: None,
        namespace,
        name,
    }
}

pub(crate) fn from_statefulset(s: &StatefulSet) -> Workload {
    let (namespace, name) = super::key_of(&s.metadata);
    let spec = s.spec.as_ref();
    let st = s.status.as_ref();
    let (desired, ready) = statefulset_replicas(s);
    let (images, template_labels) = spec
        .map(|s| template_parts(&s.template))
        .unwrap_or_default();
    let current = st
        .and_then(|s| s.current_revision.clone())
        .unwrap_or_default();
    let update = st
        .and_then(|s| s.update_revision.clone())
        .unwrap_or_default();
    let updated = st.and_then(|s| s.updated_replicas).unwrap_or(0);
    let available = st.and_then(|s| s.available_replicas).unwrap_or(0);
    Workload {
        kind: WorkloadKind::StatefulSet,
        desired,
        ready,
        updated,
        available,
        images,
        // The revision is "<name>-<hash>"; the hash is what tells them apart.
        revision: current.rsplit('-').next().unwrap_or_default().to_string(),
        template_labels,
        match_labels: spec
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default(),
        created: created(&s.metadata),
        deadline_exceeded: false,
        converged: current == update && ready == desired && updated == desired,
        new_pods: (!update.is_empty()).then(|| ("controller-revision-hash".to_string(), update)),
        namespace,
        name,
    }
}

pub(crate) fn from_daemonset(d: &DaemonSet) -> Workload {
    let (namespace, name) = super::key_of(&d.metadata);
    let spec = d.spec.as_ref();
    let st = d.status.as_ref();
    let (desired, ready) = daemonset_replicas(d);
    let (images, template_labels) = spec
        .map(|s| template_parts(&s.template))
        .unwrap_or_default();
    let updated = st.and_then(|s| s.updated_number_scheduled).unwrap_or(0);
    let available = st.and_then(|s| s.number_available).unwrap_or(0);
    Workload {
        kind: WorkloadKind::DaemonSet,
        desired,
        ready,
        updated,
        available,
        images,
        revision: d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deprecated.daemonset.template.generation").cloned())
            .unwrap_or_default(),
        template_labels,
        match_labels: spec
            .and_then(|s| s.selector.match_labels.clone())
            .unwrap_or_default(),
        created: created(&d.metadata),
        deadline_exceeded: false,
        converged: updated == desired && available == desired,
        new_pods: None,
        namespace,
        name,
    }
}

/// Every workload in the cache.
pub(crate) fn all(cache: &Cache) -> Vec<Workload> {
    let mut out: Vec<Workload> = cache
        .deployments
        .state()
        .iter()
        .map(|d| from_deployment(d))
        .collect();
    out.extend(
        cache
            .statefulsets
            .state()
            .iter()
            .map(|s| from_statefulset(s)),
    );
    out.extend(cache.daemonsets.state().iter().map(|d| from_daemonset(d)));
    out
}

/// The workload a row key names.
pub(crate) fn get(cache: &Cache, key: &RowKey) -> Option<Workload> {
    let (kind, name) = key.1.split_once('/')?;
    let r = |n: &str| (n.to_string(), key.0.clone());
    match WorkloadKind::parse(kind)? {
        WorkloadKind::Deployment => {
            let (n, ns) = r(name);
            let d = cache.deployments.get(&ObjectRef::new(&n).within(&ns))?;
            Some(from_deployment(&d))
        }
        WorkloadKind::StatefulSet => {
            let (n, ns) = r(name);
            Some(from_statefulset(
                &*cache.statefulsets.get(&ObjectRef::new(&n).within(&ns))?,
            ))
        }
        WorkloadKind::DaemonSet => {
            let (n, ns) = r(name);
            Some(from_daemonset(
                &*cache.daemonsets.get(&ObjectRef::new(&n).within(&ns))?,
            ))
        }
    }
}

/// Progressing, Complete or Stalled: stalled when the controller gave up
/// or the newest pods are stuck in a back-off.
pub(crate) fn rollout(cache: &Cache, w: &Workload) -> (String, Role) {
    if w.deadline_exceeded {
        return ("Stalled".into(), Role::Danger);
    }
    let stuck = cache.pods.state().iter().any(|p| {
        p.metadata.namespace.as_deref() == Some(w.namespace.as_str())
            && selects(&w.match_labels, p.metadata.labels.as_ref())
            && w.new_pods
                .as_ref()
                .is_none_or(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
            && backoff_reason(p).is_some()
    });
    if stuck {
        ("Stalled".into(), Role::Danger)
    } else if w.converged {
        ("Complete".into(), Role::Ok)
    } else {
        ("Progressing".into(), Role::Warning)
    }
}

/// The HPA whose scale target is this workload.
pub(crate) fn hpa_for(cache: &Cache, w: &Workload) -> Option<String> {
    cache.hpas.state().iter().find_map(|h| {
        let t = &h.spec.as_ref()?.scale_target_ref;
        (h.metadata.namespace.as_deref() == Some(w.namespace.as_str())
            && t.kind == w.kind.as_str()
            && t.name == w.name)
            .then(|| h.metadata.name.clone().unwrap_or_default())
    })
}

/// An image without its registry host, which rarely tells images apart.
fn short_image(image: &str) -> &str {
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => image,
    }
}

/// The first container's image, and how many more there are.
pub(crate) fn images(list: &[String]) -> String {
    match list {
        [] => "<none>".into(),
        [one] => short_image(one).to_string(),
        [first, rest @ ..] => format!("{} +{}", short_image(first), rest.len()),
    }
}

impl TableView for WorkloadsView {
    fn title(&self) -> &'static str {
        "Workloads"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[
            Kind::Deployment,
            Kind::StatefulSet,
            Kind::DaemonSet,
            Kind::ReplicaSet,
            Kind::Hpa,
            Kind::Pod,
        ]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = all(cache)
            .into_iter()
            .filter(|w| visible(query, &w.namespace, &w.name, Some(&w.template_labels)))
            .map(|w| {
                let sort = match query.sort_column {
                    0 => SortKey::Text(w.namespace.clone()),
                    2 => SortKey::Text(w.kind.as_str().into()),
                    3 => SortKey::Num(i64::from(w.ready - w.desired)),
                    4 => SortKey::Num(w.updated.into()),
                    5 => SortKey::Num(w.available.into()),
                    6 => SortKey::Text(images(&w.images)),
                    7 => SortKey::Text(w.revision.clone()),
                    8 => SortKey::Text(rollout(cache, &w).0),
                    9 => SortKey::Text(hpa_for(cache, &w).unwrap_or_default()),
                    10 => SortKey::Num(-age_secs(w.created, now)),
                    _ => SortKey::Text(w.name.clone()),
                };
                (sort, w.key())
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn judges_faults(&self) -> bool {
        true
    }

    /// Fewer ready replicas than desired, or a rollout past its deadline.
    fn fault(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        let w = get(src.cache, key)?;
        Some(w.degraded() || w.deadline_exceeded)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let w = get(cache, key)?;
        let (state, role) = rollout(cache, &w);
        let count = |n: i32| {
            Cell::new(
                n.to_string(),
                if n < w.desired {
                    Role::Warning
                } else {
                    Role::Text
                },
            )
        };
        Some(vec![
            Cell::new(w.namespace.clone(), Role::Muted),
            Cell::text(w.name.clone()),
            Cell::new(w.kind.as_str(), Role::Muted),
            Cell::new(
                format!("{}/{}", w.ready, w.desired),
                if w.degraded() {
                    Role::Danger
                } else {
                    Role::Text
                },
            ),
            count(w.updated),
            count(w.available),
            Cell::text(images(&w.images)),
            Cell::text(if w.revision.is_empty() {
                "-".to_string()
            } else {
                w.revision.clone()
            }),
            Cell::new(state, role),
            match hpa_for(cache, &w) {
                Some(h) => Cell::new(h, Role::Info),
                None => Cell::new("-", Role::Muted),
            },
            Cell::text(age(w.created, now)),
        ])
    }

    fn enter(&self, cache: &Cache, key: &RowKey) -> Option<Drill> {
        let w = get(cache, key)?;
        Some(Drill {
            view: View::Pods,
            scope: Scope::Selector {
                namespace: w.namespace.clone(),
                labels: w.match_labels.clone(),
            },
            crumb: format!("{}/{}", w.kind.short(), w.name),
        })
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        let (kind, name) = key.1.split_once('/')?;
        let r = ObjectRef::new(name).within(&key.0);
        match WorkloadKind::parse(kind)? {
            WorkloadKind::Deployment => as_json(&*cache.deployments.get(&r)?),
            WorkloadKind::StatefulSet => as_json(
                &*cache
                    .statefulsets
                    .get(&ObjectRef::new(name).within(&key.0))?,
            ),
            WorkloadKind::DaemonSet => {
                as_json(&*cache.daemonsets.get(&ObjectRef::new(name).within(&key.0))?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now, sources};

    #[test]
    fn the_overviews_health_count_agrees_with_the_workload_rows() {
        let cache = cluster();
        let mut rows: Vec<(String, bool)> = all(&cache)
            .iter()
            .map(|w| (w.namespace.clone(), w.degraded()))
            .collect();
        let mut counted = Vec::new();
        each_health(&cache, |ns, degraded| {
            counted.push((ns.to_string(), degraded))
        });
        rows.sort();
        counted.sort();
        assert!(
            rows.iter().any(|(_, d)| *d),
            "the fixture has a degraded workload"
        );
        assert!(rows.iter().any(|(_, d)| !*d), "and a healthy one");
        assert_eq!(counted, rows);
    }

    fn row(name: &str) -> Vec<String> {
        let cache = cluster();
        let key = WorkloadsView
            .rows(sources(&cache), &Query::default(), now())
            .into_iter()
            .find(|k| k.1.ends_with(&format!("/{name}")))
            .expect("workload listed");
        WorkloadsView
            .cells(sources(&cache), &key, now())
            .expect("cells")
            .into_iter()
            .map(|c| c.text)
            .collect()
    }

    #[test]
    fn lists_every_kind_with_readiness_rollout_and_hpa() {
        let web = row("web");
        assert_eq!(&web[2..6], ["Deployment", "2/2", "2", "2"]);
        assert_eq!(web[7], "3", "the deployment's revision annotation");
        assert_eq!(web[8], "Complete");
        assert_eq!(web[9], "web", "the web HPA targets it");
        let api = row("api");
        assert_eq!(api[3], "0/1");
        assert_eq!(api[8], "Stalled", "its new pod is crash-looping");
        assert_eq!(api[6], "api:2.0 +1");
        let ledger = row("ledger");
        assert_eq!(&ledger[2..4], ["StatefulSet", "1/1"]);
        assert_eq!(ledger[8], "Complete");
        let agent = row("node-agent");
        assert_eq!(&agent[2..4], ["DaemonSet", "3/3"]);
    }

    #[test]
    fn a_deadline_exceeded_rollout_is_stalled_even_without_pods() {
        let cache = cluster();
        let key = ("payments".to_string(), "Deployment/worker".to_string());
        let w = get(&cache, &key).expect("worker");
        assert!(w.deadline_exceeded);
        assert_eq!(rollout(&cache, &w), ("Stalled".into(), Role::Danger));
    }

    #[test]
    fn a_selector_scope_lists_the_workloads_whose_pods_it_selects() {
        let cache = cluster();
        let query = Query {
            scope: Scope::Selector {
                namespace: "shop".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
            },
            ..Query::default()
        };
        let rows = WorkloadsView.rows(sources(&cache), &query, now());
        assert_eq!(rows, [("shop".to_string(), "Deployment/web".to_string())]);
        let drill = WorkloadsView.enter(&cache, &rows[0]).expect("drills");
        assert_eq!(drill.view, View::Pods);
        assert_eq!(drill.crumb, "deploy/web");
    }
}
