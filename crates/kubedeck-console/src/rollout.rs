//! Rollout progress and revision history, computed from the watch cache
//! (and, for StatefulSets, ControllerRevisions fetched on demand): new and
//! old ReplicaSet counts, finished or stalled with its reason, each
//! revision's images and ready pods, and a line diff of pod templates.

use crate::cluster::slim_workload::PodTemplate;
use crate::cluster::{SlimDeployment, SlimPod, SlimReplicaSet};
use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::runtime::reflector::ObjectRef;
use serde_json::Value;

use super::cluster::Cache;
use super::views::{backoff_reason, created};
use kubedeck_core::actions::{WorkloadKind, WorkloadRef};

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";
const REVISION_HASH: &str = "controller-revision-hash";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RolloutState {
    Complete,
    Progressing(String),
    Paused,
    /// Not moving, with the reason: ProgressDeadlineExceeded, or the new
    /// pods' ImagePullBackOff or CrashLoopBackOff.
    Stalled(String),
}

/// One ReplicaSet (or revision's pods) in a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generation {
    pub name: String,
    pub revision: String,
    pub ready: i32,
    pub replicas: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Progress {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub new: Option<Generation>,
    /// Older generations that still have pods.
    pub old: Vec<Generation>,
    pub state: RolloutState,
    /// New pods that are stuck, with why: "web-1: ImagePullBackOff (img)".
    pub problems: Vec<String>,
}

fn annotation<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    key: &str,
) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn controlled_by(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    uid: &str,
) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

fn deployment(cache: &Cache, target: &WorkloadRef) -> Option<std::sync::Arc<SlimDeployment>> {
    cache
        .deployments
        .get(&ObjectRef::new(&target.name).within(&target.namespace))
}

fn statefulset(cache: &Cache, target: &WorkloadRef) -> Option<std::sync::Arc<StatefulSet>> {
    cache
        .statefulsets
        .get(&ObjectRef::new(&target.name).within(&target.namespace))
}

/// A Deployment's ReplicaSets, newest revision first.
fn replicasets(cache: &Cache, d: &SlimDeployment) -> Vec<std::sync::Arc<SlimReplicaSet>> {
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let mut out: Vec<_> = cache
        .replicasets
        .state()
        .into_iter()
        .filter(|rs| {
            rs.metadata.namespace.as_deref() == Some(ns.as_str())
                && controlled_by(&rs.metadata, &uid)
        })
        .collect();
    out.sort_by_key(|rs| std::cmp::Reverse(rs_revision(rs)));
    out
}

fn rs_revision(rs: &SlimReplicaSet) -> i64 {
    annotation(&rs.metadata, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Pods controlled by the object with this uid, or carrying this label.
fn pods_where(
    cache: &Cache,
    ns: &str,
    keep: impl Fn(&SlimPod) -> bool,
) -> Vec<std::sync::Arc<SlimPod>> {
    let mut out: Vec<_> = cache
        .pods
        .state()
        .into_iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(ns)
                && p.metadata.deletion_timestamp.is_none()
                && keep(p)
        })
        .collect();
    out.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    out
}

fn stuck(pods: &[std::sync::Arc<SlimPod>]) -> Vec<String> {
    pods.iter()
        .filter_map(|p| {
            let reason = backoff_reason(p)?;
            let image = p
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .filter_map(|c| c.image.as_deref())
                .collect::<Vec<_>>()
                .join(", ");
            Some(format!(
                "{}: {reason} ({image})",
                p.metadata.name.as_deref().unwrap_or_default()
            ))
        })
        .collect()
}

fn stalled_by_pods(problems: &[String]) -> Option<RolloutState> {
    let first = problems.first()?;
    let reason = first
        .split_once(": ")
        .and_then(|(_, r)| r.split(' ').next())
        .unwrap_or("failing");
    Some(RolloutState::Stalled(format!(
        "{reason} on the new pods ({} of them)",
        problems.len()
    )))
}

/// The rollout of a Deployment or StatefulSet, from the cache.
pub(crate) fn progress(cache: &Cache, target: &WorkloadRef) -> Option<Progress> {
    match target.kind {
        WorkloadKind::Deployment => deployment_progress(cache, deployment(cache, target)?.as_ref()),
        WorkloadKind::StatefulSet => {
            statefulset_progress(cache, statefulset(cache, target)?.as_ref())
        }
    }
}

fn deployment_progress(cache: &Cache, d: &SlimDeployment) -> Option<Progress> {
    let spec = d.spec.as_ref()?;
    let st = d.status.clone().unwrap_or_default();
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(1);
    let current = annotation(&d.metadata, REVISION)
        .unwrap_or_default()
        .to_string();
    let rss = replicasets(cache, d);
    let generation = |rs: &SlimReplicaSet| Generation {
        name: rs.metadata.name.clone().unwrap_or_default(),
        revision: annotation(&rs.metadata, REVISION)
            .unwrap_or("?")
            .to_string(),
        ready: rs
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0),
        replicas: rs.status.as_ref().map_or(0, |s| s.replicas),
    };
    let new_rs = rss.iter().find(|rs| {
        !current.is_empty() && annotation(&rs.metadata, REVISION) == Some(current.as_str())
    });
    let old: Vec<Generation> = rss
        .iter()
        .filter(|rs| Some(rs.metadata.uid.as_deref()) != new_rs.map(|n| n.metadata.uid.as_deref()))
        .map(|rs| generation(rs))
        .filter(|g| g.replicas > 0)
        .collect();
    let problems = match new_rs {
        Some(rs) => {
            let uid = rs.metadata.uid.clone().unwrap_or_default();
            stuck(&pods_where(cache, &ns, |p| {
                controlled_by(&p.metadata, &uid)
            }))
        }
        None => Vec::new(),
    };
    let updated = st.updated_replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let deadline = st.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    let state = if spec.paused == Some(true) {
        RolloutState::Paused
    } else if let Some(c) = deadline {
        RolloutState::Stalled(format!(
            "ProgressDeadlineExceeded: {}",
            c.message.clone().unwrap_or_default()
        ))
    } else if let Some(s) = stalled_by_pods(&problems) {
        s
    } else if !observed {
        RolloutState::Progressing("waiting for the deployment controller to see the change".into())
    } else if updated < desired {
        RolloutState::Progressing(format!(
            "{updated} of {desired} new replicas have been updated"
        ))
    } else if st.replicas.unwrap_or(0) > updated {
        RolloutState::Progressing(format!(
            "{} old replicas are pending termination",
            st.replicas.unwrap_or(0) - updated
        ))
    } else if available < updated {
        RolloutState::Progressing(format!(
            "{available} of {updated} updated replicas are available"
        ))
    } else {
        RolloutState::Complete
    };
    Some(Progress {
        desired,
        updated,
        ready: new_rs
            .and_then(|rs| rs.status.as_ref()?.ready_replicas)
            .unwrap_or(0),
        available,
        new: new_rs.map(|rs| generation(rs)),
        old,
        state,
        problems,
    })
}

fn statefulset_progress(cache: &Cache, s: &StatefulSet) -> Option<Progress> {
    let spec = s.spec.as_ref()?;
    let st = s.status.clone().unwrap_or_default();
    let ns = s.metadata.namespace.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(1);
    let update = st.update_revision.clone().unwrap_or_default();
    let current = st.current_revision.clone().unwrap_or_default();
    let uid = s.metadata.uid.clone().unwrap_or_default();
    let owned = pods_where(cache, &ns, |p| controlled_by(&p.metadata, &uid));
    let of = |rev: &str| -> Vec<std::sync::Arc<SlimPod>> {
        owned
            .iter()
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(REVISION_HASH))
                    .is_some_and(|h| h == rev)
            })
            .cloned()
            .collect()
    };
    let generation = |rev: &str| {
        let pods = of(rev);
        Generation {
            name: rev.to_string(),
            revision: rev.rsplit('-').next().unwrap_or(rev).to_string(),
            ready: pods.iter().filter(|p| super::views::pod_ok(p)).count() as i32,
            replicas: pods.len() as i32,
        }
    };
    let new_pods = of(&update);
    let problems = stuck(&new_pods);
    let updated = st.updated_replicas.unwrap_or(0);
    let ready = st.ready_replicas.unwrap_or(0);
    let old = if current != update && !current.is_empty() {
        vec![generation(&current)]
            .into_iter()
            .filter(|g| g.replicas > 0)
            .collect()
    } else {
        Vec::new()
    };
    let observed = st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(0);
    let state = if let Some(s) = stalled_by_pods(&problems) {
        s
    } else if !observed {
        RolloutState::Progressing("waiting for the statefulset controller to see the change".into())
    } else if current != update {
        RolloutState::Progressing(format!("{updated} of {desired} pods run the new revision"))
    } else if ready < desired {
        RolloutState::Progressing(format!("{ready} of {desired} pods are ready"))
    } else {
        RolloutState::Complete
    };
    Some(Progress {
        desired,
        updated,
        ready: new_pods.iter().filter(|p| super::views::pod_ok(p)).count() as i32,
        available: st.available_replicas.unwrap_or(0),
        new: Some(generation(&update)),
        old,
        state,
        problems,
    })
}

/// One revision of a workload, for the history view.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Revision {
    pub number: i64,
    pub images: Vec<String>,
    pub change_cause: String,
    pub created: Option<DateTime<Utc>>,
    pub ready: i32,
    pub replicas: i32,
    /// The pod template, without pod-template-hash / controller-revision-hash.
    pub template: Value,
}

/// The workload's current template and revision number, and its
/// revisions, newest first. StatefulSets need the ControllerRevisions
/// (`revisions`), which the cache does not hold.
pub(crate) fn history(
    cache: &Cache,
    target: &WorkloadRef,
    controller_revisions: Option<&[Value]>,
) -> Option<(i64, Value, Vec<Revision>)> {
    match target.kind {
        WorkloadKind::Deployment => {
            let d = deployment(cache, target)?;
            let current = annotation(&d.metadata, REVISION)
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            // A template the API left out reads as the empty one, as
            // k8s-openapi's default template serialized.
            let template = d
                .spec
                .as_ref()?
                .template
                .as_ref()
                .map_or_else(|| Value::Object(serde_json::Map::new()), PodTemplate::value);
            let template = clean_template(template);
            let revs = replicasets(cache, &d)
                .iter()
                .map(|rs| {
                    let template = rs
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.as_ref())
                        .map(|t| clean_template(t.value()))
                        .unwrap_or(Value::Null);
                    Revision {
                        number: rs_revision(rs),
                        images: images(&template),
                        change_cause: annotation(&rs.metadata, CHANGE_CAUSE)
                            .unwrap_or_default()
                            .to_string(),
                        created: created(&rs.metadata),
                        ready: rs
                            .status
                            .as_ref()
                            .and_then(|s| s.ready_replicas)
                            .unwrap_or(0),
                        replicas: rs.status.as_ref().map_or(0, |s| s.replicas),
                        template,
                    }
                })
                .collect();
            Some((current, template, revs))
        }
        WorkloadKind::StatefulSet => {
            let s = statefulset(cache, target)?;
            let uid = s.metadata.uid.clone().unwrap_or_default();
            let ns = target.namespace.as_str();
            let template = clean_template(serde_json::to_value(&s.spec.as_ref()?.template).ok()?);
            let update = s
                .status
                .as_ref()
                .and_then(|st| st.update_revision.clone())
                .unwrap_or_default();
            let mut current = 0;
            let mut revs: Vec<Revision> = controller_revisions
                .unwrap_or_default()
                .iter()
                .filter(|cr| {
                    cr["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|rs| {
                            rs.iter()
                                .any(|r| r["controller"] == true && r["uid"] == uid.as_str())
                        })
                })
                .map(|cr| {
                    let name = cr["metadata"]["name"].as_str().unwrap_or_default();
                    let number = cr["revision"].as_i64().unwrap_or(0);
                    if name == update {
                        current = number;
                    }
                    let pods = pods_where(cache, ns, |p| {
                        p.metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(REVISION_HASH))
                            .is_some_and(|h| h == name)
                    });
                    let template = clean_template(cr["data"]["spec"]["template"].clone());
                    Revision {
                        number,
                        images: images(&template),
                        change_cause: cr["metadata"]["annotations"][CHANGE_CAUSE]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        created: cr["metadata"]["creationTimestamp"]
                            .as_str()
                            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                            .map(|t| t.with_timezone(&Utc)),
                        ready: pods.iter().filter(|p| super::views::pod_ok(p)).count() as i32,
                        replicas: pods.len() as i32,
                        template,
                    }
                })
                .collect();
            revs.sort_by_key(|r| std::cmp::Reverse(r.number));
            Some((current, template, revs))
        }
    }
}

/// A template as a revision compares: without the hash labels the
/// controllers add, and without the `$patch` marker ControllerRevisions carry.
fn clean_template(mut t: Value) -> Value {
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove(POD_TEMPLATE_HASH);
        labels.remove(REVISION_HASH);
    }
    if let Some(obj) = t.as_object_mut() {
        obj.remove("$patch");
    }
    t
}

fn images(template: &Value) -> Vec<String> {
    template["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["image"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The template as YAML lines, for the diff.
pub(crate) fn yaml_lines(template: &Value) -> Vec<String> {
    serde_norway::to_string(template)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// A line diff of `a` → `b` from their longest common subsequence.
pub(crate) fn line_diff(a: &[String], b: &[String]) -> Vec<DiffLine> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the LCS length of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push(DiffLine::Same(a[i].clone()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals first, as diff(1) prints them.
            out.push(DiffLine::Removed(a[i].clone()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].clone()));
            j += 1;
        }
    }
    out
}

/// The changed lines with `context` unchanged lines around each change;
/// None stands for skipped lines.
pub(crate) fn hunks(diff: &[DiffLine], context: usize) -> Vec<Option<&DiffLine>> {
    let changed: Vec<usize> = diff
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, DiffLine::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let keep = |i: usize| {
        changed
            .iter()
            .any(|&c| i + context >= c && i <= c + context)
    };
    let mut out = Vec::new();
    let mut skipped = false;
    for (i, line) in diff.iter().enumerate() {
        if keep(i) {
            if skipped {
                out.push(None);
            }
            skipped = false;
            out.push(Some(line));
        } else {
            skipped = true;
        }
    }
    if skipped && !out.is_empty() {
        out.push(None);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn the_diff_keeps_common_lines_and_marks_changes() {
        let a = lines("spec:\n  containers:\n  - image: web:1\n    name: web");
        let b = lines("spec:\n  containers:\n  - image: web:2\n    name: web");
        assert_eq!(
            line_diff(&a, &b),
            vec![
                DiffLine::Same("spec:".into()),
                DiffLine::Same("  containers:".into()),
                DiffLine::Removed("  - image: web:1".into()),
                DiffLine::Added("  - image: web:2".into()),
                DiffLine::Same("    name: web".into()),
            ]
        );
        assert!(
            line_diff(&a, &a)
                .iter()
                .all(|l| matches!(l, DiffLine::Same(_)))
        );
        let empty: Vec<String> = Vec::new();
        assert_eq!(
            line_diff(&empty, &a[..1]),
            vec![DiffLine::Added("spec:".into())]
        );
    }

    #[test]
    fn hunks_skip_far_unchanged_lines() {
        let a = lines("a\nb\nc\nd\ne\nf\ng");
        let b = lines("a\nb\nc\nD\ne\nf\ng");
        let diff = line_diff(&a, &b);
        let shown: Vec<String> = hunks(&diff, 1)
            .into_iter()
            .map(|l| match l {
                None => "…".to_string(),
                Some(DiffLine::Same(s)) => format!(" {s}"),
                Some(DiffLine::Removed(s)) => format!("-{s}"),
                Some(DiffLine::Added(s)) => format!("+{s}"),
            })
            .collect();
        assert_eq!(shown, ["…", " c", "-d", "+D", " e", "…"]);
    }

    #[test]
    fn a_statefulset_history_comes_from_its_controller_revisions() {
        use serde_json::json;
        let (cache, mut writers) = crate::cluster::cache::new();
        let owner = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                            "uid": "uid-db", "controller": true}]);
        for obj in [
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                   "metadata": {"name": "db", "namespace": "demo", "uid": "uid-db"},
                   "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                            "template": {"metadata": {"labels": {"app": "db"}},
                                         "spec": {"containers": [{"name": "db", "image": "db:2"}]}}},
                   "status": {"replicas": 1, "currentRevision": "db-aaa", "updateRevision": "db-bbb"}}),
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "db-0", "namespace": "demo", "ownerReferences": owner,
                                "labels": {"app": "db", "controller-revision-hash": "db-aaa"}},
                   "spec": {"containers": [{"name": "db", "image": "db:1"}]},
                   "status": {"phase": "Running", "containerStatuses": [{"name": "db", "ready": true,
                       "restartCount": 0, "image": "db:1", "imageID": "", "state": {"running": {}}}]}}),
        ] {
            writers.apply_json(&obj).expect("valid object");
        }
        let cr = |name: &str, rev: i64, image: &str| {
            json!({"metadata": {"name": name, "ownerReferences": owner},
                   "revision": rev,
                   "data": {"spec": {"template": {"$patch": "replace",
                       "metadata": {"labels": {"app": "db"}},
                       "spec": {"containers": [{"name": "db", "image": image}]}}}}})
        };
        let mut foreign = cr("other-aaa", 7, "x:1");
        foreign["metadata"]["ownerReferences"][0]["uid"] = json!("uid-other");
        let revs = [cr("db-aaa", 1, "db:1"), cr("db-bbb", 2, "db:2"), foreign];
        let target = WorkloadRef::statefulset("demo", "db");
        let (current, template, list) =
            history(&cache, &target, Some(&revs)).expect("the statefulset is cached");
        assert_eq!(current, 2, "the update revision's number");
        let summary: Vec<(i64, Vec<String>, i32)> = list
            .iter()
            .map(|r| (r.number, r.images.clone(), r.ready))
            .collect();
        assert_eq!(
            summary,
            [
                (2, vec!["db:2".to_string()], 0),
                (1, vec!["db:1".to_string()], 1)
            ]
        );
        assert_eq!(list[1].template["$patch"], Value::Null);
        let diff = line_diff(&yaml_lines(&template), &yaml_lines(&list[1].template));
        assert!(
            diff.contains(&DiffLine::Removed("  - image: db:2".into())),
            "{diff:?}"
        );
        let p = progress(&cache, &target).expect("progress");
        assert_eq!(p.old.first().map(|g| (g.ready, g.replicas)), Some((1, 1)));
        assert!(
            matches!(p.state, RolloutState::Progressing(_)),
            "{:?}",
            p.state
        );
    }

    #[test]
    fn templates_compare_without_hash_labels() {
        let t = serde_json::json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
                                   "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
        let clean = clean_template(t);
        assert_eq!(
            clean["metadata"]["labels"],
            serde_json::json!({"app": "web"})
        );
        assert_eq!(images(&clean), ["web:1"]);
    }
}
