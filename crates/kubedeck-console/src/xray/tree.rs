//! The owner tree, built from the watch stores: a workload's ReplicaSets
//! (or Jobs), their pods and the pods' containers, found by the
//! ownerReferences' uids, never by labels, so an orphan (or another
//! workload's pod with the same labels) is not shown; then the Services
//! whose selector selects the pod template and the HPAs whose
//! scaleTargetRef names the workload.
//!
//! A row's key is (namespace, path): the kind and name of each node from
//! the root, `Deployment/web/ReplicaSet/web-5d/Pod/web-5d-x/Container/app`.
//! Kubernetes names hold no `/`, so a path reads back unambiguously, a node
//! keeps its key as its siblings come and go (the cursor stays on it), and
//! its depth is in its key, which is all the branches need.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;

use super::{Target, XrayKind};
use crate::cluster::{Cache, SlimPod};
use crate::filter::Filter;
use crate::views::{RowKey, created, selects};

/// One node as its path names it: kind and name.
pub(crate) type Segment<'a> = (&'a str, &'a str);

pub(crate) const REPLICA_SET: &str = "ReplicaSet";
pub(crate) const POD: &str = "Pod";
pub(crate) const CONTAINER: &str = "Container";
pub(crate) const SERVICE: &str = "Service";
pub(crate) const HPA: &str = "HorizontalPodAutoscaler";

/// The nodes of a path, root first; None for a path no tree makes.
pub(crate) fn segments(path: &str) -> Option<Vec<Segment<'_>>> {
    let parts: Vec<&str> = path.split('/').collect();
    if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(parts.chunks(2).map(|c| (c[0], c[1])).collect())
}

/// How deep a row is: 0 for a root. Counts without allocating, since the
/// view counts every row after the window on each frame.
pub(crate) fn depth(path: &str) -> usize {
    // A path of n nodes has 2n - 1 slashes.
    path.bytes().filter(|b| *b == b'/').count() / 2
}

struct Node<'a> {
    path: String,
    name: &'a str,
    labels: Option<&'a BTreeMap<String, String>>,
    children: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    fn of(parent: Option<&str>, kind: &str, meta: &'a ObjectMeta) -> Node<'a> {
        let name = meta.name.as_deref().unwrap_or("");
        Node {
            path: match parent {
                Some(p) => format!("{p}/{kind}/{name}"),
                None => format!("{kind}/{name}"),
            },
            name,
            labels: meta.labels.as_ref(),
            children: Vec::new(),
        }
    }
}

/// Objects by the uid of each of their owners, in the namespace (None:
/// all).
fn by_owner<'a, K: Resource>(
    objects: &'a [Arc<K>],
    namespace: Option<&str>,
) -> HashMap<&'a str, Vec<&'a K>> {
    let mut out: HashMap<&str, Vec<&K>> = HashMap::new();
    for o in objects {
        let meta = o.meta();
        if namespace.is_some_and(|ns| meta.namespace.as_deref() != Some(ns)) {
            continue;
        }
        for owner in meta.owner_references.iter().flatten() {
            out.entry(owner.uid.as_str()).or_default().push(&**o);
        }
    }
    out
}

/// A name's trailing number, so that `db-10` follows `db-9`.
fn natural(name: &str) -> (&str, u64, &str) {
    match name.rsplit_once('-') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (head, n.parse().unwrap_or(u64::MAX), name)
        }
        _ => (name, 0, name),
    }
}

fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or("")
}

/// The containers of a pod: init containers first, as the pod runs them.
fn containers<'a>(parent: &str, pod: &'a SlimPod) -> Vec<Node<'a>> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| Node {
            path: format!("{parent}/{CONTAINER}/{}", c.name),
            name: &c.name,
            labels: None,
            children: Vec::new(),
        })
        .collect()
}

/// The pods an owner (by uid) owns, by name, each with its containers.
fn pods<'a>(parent: &str, owner: &str, index: &HashMap<&str, Vec<&'a SlimPod>>) -> Vec<Node<'a>> {
    let mut list = index.get(owner).cloned().unwrap_or_default();
    list.sort_by(|a, b| {
        let (a, b) = (a.metadata.name.as_deref(), b.metadata.name.as_deref());
        natural(a.unwrap_or("")).cmp(&natural(b.unwrap_or("")))
    });
    list.into_iter()
        .map(|p| {
            let mut node = Node::of(Some(parent), POD, &p.metadata);
            node.children = containers(&node.path, p);
            node
        })
        .collect()
}

/// The Services in the namespace whose selector selects the pod template.
fn services<'a>(
    parent: &str,
    namespace: &str,
    template: Option<&BTreeMap<String, String>>,
    all: &'a [Arc<Service>],
) -> Vec<Node<'a>> {
    let mut out: Vec<Node<'a>> = all
        .iter()
        .filter(|s| {
            s.metadata.namespace.as_deref() == Some(namespace)
                && s.spec
                    .as_ref()
                    .and_then(|spec| spec.selector.as_ref())
                    .is_some_and(|sel| selects(sel, template))
        })
        .map(|s| Node::of(Some(parent), SERVICE, &s.metadata))
        .collect();
    out.sort_by(|a, b| a.name.cmp(b.name));
    out
}

/// The HPAs whose scale target is this workload.
fn hpas<'a>(
    parent: &str,
    kind: XrayKind,
    meta: &ObjectMeta,
    all: &'a [Arc<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>],
) -> Vec<Node<'a>> {
    let mut out: Vec<Node<'a>> = all
        .iter()
        .filter(|h| {
            h.metadata.namespace == meta.namespace
                && h.spec.as_ref().is_some_and(|s| {
                    s.scale_target_ref.kind == kind.kind()
                        && Some(s.scale_target_ref.name.as_str()) == meta.name.as_deref()
                })
        })
        .map(|h| Node::of(Some(parent), HPA, &h.metadata))
        .collect();
    out.sort_by(|a, b| a.name.cmp(b.name));
    out
}

/// A ReplicaSet's revision, as its Deployment numbered it.
pub(crate) fn revision(meta: &ObjectMeta) -> i64 {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// A workload that owns its pods directly (StatefulSet, DaemonSet): its
/// pods, then the Services and HPAs of its pod template.
fn direct_root<'a>(
    kind: XrayKind,
    meta: &'a ObjectMeta,
    template: Option<&ObjectMeta>,
    pods_by_owner: &HashMap<&str, Vec<&'a SlimPod>>,
    extras: &Extras<'a>,
) -> (RowKey, Node<'a>) {
    let mut root = Node::of(None, kind.kind(), meta);
    root.children = pods(&root.path, uid(meta), pods_by_owner);
    extras.add(&mut root, meta, template.and_then(|m| m.labels.as_ref()));
    (crate::views::key_of(meta), root)
}

/// What a workload's root shows after its pods: Services and HPAs.
struct Extras<'a> {
    kind: XrayKind,
    services: &'a [Arc<Service>],
    hpas: &'a [Arc<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>],
}

impl<'a> Extras<'a> {
    fn add(
        &self,
        root: &mut Node<'a>,
        meta: &ObjectMeta,
        template: Option<&BTreeMap<String, String>>,
    ) {
        let ns = meta.namespace.as_deref().unwrap_or("");
        let found = services(&root.path, ns, template, self.services);
        root.children.extend(found);
        let found = hpas(&root.path, self.kind, meta, self.hpas);
        root.children.extend(found);
    }
}

/// Whether the root is one the target names, in its namespace.
fn wanted(meta: &ObjectMeta, target: &Target, namespace: Option<&str>) -> bool {
    namespace.is_none_or(|ns| meta.namespace.as_deref() == Some(ns))
        && target
            .name
            .as_deref()
            .is_none_or(|n| meta.name.as_deref() == Some(n))
}

/// The rows of the target's trees, roots by namespace and name, with the
/// filter: a node shows when it, a node above it or a node below it
/// matches (by its own name or labels), so a match keeps its branch.
pub(crate) fn rows(
    cache: &Cache,
    target: &Target,
    namespace: Option<&str>,
    filter: &Filter,
) -> Vec<RowKey> {
    let kind = target.kind;
    let with_pod_template = !matches!(kind, XrayKind::Job | XrayKind::CronJob);
    let all_pods = cache.pods.state();
    let pods_by_owner = by_owner(&all_pods, namespace);
    let all_services = if with_pod_template {
        cache.services.state()
    } else {
        Vec::new()
    };
    let all_hpas = if with_pod_template {
        cache.hpas.state()
    } else {
        Vec::new()
    };
    let extras = Extras {
        kind,
        services: &all_services,
        hpas: &all_hpas,
    };

    let deployments;
    let replicasets;
    let statefulsets;
    let daemonsets;
    let cronjobs;
    let jobs;
    let mut roots: Vec<(RowKey, Node<'_>)> = Vec::new();
    match kind {
        XrayKind::Deployment => {
            deployments = cache.deployments.state();
            replicasets = cache.replicasets.state();
            let rs_by_owner = by_owner(&replicasets, namespace);
            for d in deployments
                .iter()
                .filter(|d| wanted(&d.metadata, target, namespace))
            {
                let mut root = Node::of(None, kind.kind(), &d.metadata);
                let mut owned = rs_by_owner
                    .get(uid(&d.metadata))
                    .cloned()
                    .unwrap_or_default();
                owned.sort_by(|a, b| {
                    revision(&b.metadata)
                        .cmp(&revision(&a.metadata))
                        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
                });
                for rs in owned {
                    let mut node = Node::of(Some(&root.path), REPLICA_SET, &rs.metadata);
                    node.children = pods(&node.path, uid(&rs.metadata), &pods_by_owner);
                    root.children.push(node);
                }
                let (_, labels) = d
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .map(|t| t.images_and_labels())
                    .unwrap_or_default();
                extras.add(&mut root, &d.metadata, Some(&labels));
                roots.push((crate::views::key_of(&d.metadata), root));
            }
        }
        XrayKind::StatefulSet => {
            statefulsets = cache.statefulsets.state();
            for s in statefulsets
                .iter()
                .filter(|s| wanted(&s.metadata, target, namespace))
            {
                let template = s.spec.as_ref().and_then(|s| s.template.metadata.as_ref());
                roots.push(direct_root(
                    kind,
                    &s.metadata,
                    template,
                    &pods_by_owner,
                    &extras,
                ));
            }
        }
        XrayKind::DaemonSet => {
            daemonsets = cache.daemonsets.state();
            for d in daemonsets
                .iter()
                .filter(|d| wanted(&d.metadata, target, namespace))
            {
                let template = d.spec.as_ref().and_then(|s| s.template.metadata.as_ref());
                roots.push(direct_root(
                    kind,
                    &d.metadata,
                    template,
                    &pods_by_owner,
                    &extras,
                ));
            }
        }
        XrayKind::Job => {
            jobs = cache.jobs.state();
            for j in jobs
                .iter()
                .filter(|j| wanted(&j.metadata, target, namespace))
            {
                let mut root = Node::of(None, kind.kind(), &j.metadata);
                root.children = pods(&root.path, uid(&j.metadata), &pods_by_owner);
                roots.push((crate::views::key_of(&j.metadata), root));
            }
        }
        XrayKind::CronJob => {
            cronjobs = cache.cronjobs.state();
            jobs = cache.jobs.state();
            let jobs_by_owner = by_owner(&jobs, namespace);
            for c in cronjobs
                .iter()
                .filter(|c| wanted(&c.metadata, target, namespace))
            {
                let mut root = Node::of(None, kind.kind(), &c.metadata);
                let mut owned = jobs_by_owner
                    .get(uid(&c.metadata))
                    .cloned()
                    .unwrap_or_default();
                // The newest run first, as the CronJob's history reads.
                owned.sort_by(|a, b| {
                    created(&b.metadata)
                        .cmp(&created(&a.metadata))
                        .then_with(|| b.metadata.name.cmp(&a.metadata.name))
                });
                for j in owned {
                    let mut node = Node::of(Some(&root.path), XrayKind::Job.kind(), &j.metadata);
                    node.children = pods(&node.path, uid(&j.metadata), &pods_by_owner);
                    root.children.push(node);
                }
                roots.push((crate::views::key_of(&c.metadata), root));
            }
        }
    }
    roots.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for ((ns, _), root) in &roots {
        emit(root, ns, filter, false, &mut out);
    }
    out
}

/// Appends the node and the nodes below it that the filter leaves; whether
/// the node was kept.
fn emit(node: &Node<'_>, ns: &str, filter: &Filter, shown: bool, out: &mut Vec<RowKey>) -> bool {
    // Every node of a tree is in its root's namespace: the filter reads
    // names and labels alone, or a namespace's name would match them all.
    let shown = shown || filter.matches("", node.name, node.labels);
    let at = out.len();
    out.push((ns.to_string(), node.path.clone()));
    let mut below = false;
    for child in &node.children {
        below |= emit(child, ns, filter, shown, out);
    }
    if !shown && !below {
        out.truncate(at);
        return false;
    }
    true
}
