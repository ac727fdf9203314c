//! What deleting any object does, read from the cluster for its confirm
//! dialog: what owns it, what it owns (through `ownerReferences`, to the
//! end of the chain, among the kinds that are owned in practice), what a
//! namespace holds and how many instances a CRD takes with it. Only what
//! was read is said; a list that could not be read is named as unchecked.

use std::collections::HashSet;

use futures::future::join_all;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::{Value, json};

use super::command::{Command, Propagation, ResourceRef};
use super::error::ActionError;

/// One kind listed around the deleted object: its objects' metadata (as
/// `{"metadata": …}`), or why they could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The kind's plural and singular, as the consequences name it.
    pub many: String,
    pub one: String,
    pub objects: Result<Vec<Value>, String>,
}

/// A kind searched: group, version, kind, plural.
type Searched = (&'static str, &'static str, &'static str, &'static str);

/// The kinds other objects own in practice: searched, in the deleted
/// object's namespace, for its dependents.
const DEPENDENTS: &[Searched] = &[
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("", "v1", "Pod", "pods"),
    ("batch", "v1", "Job", "jobs"),
    ("apps", "v1", "ControllerRevision", "controllerrevisions"),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("", "v1", "ConfigMap", "configmaps"),
    ("", "v1", "Secret", "secrets"),
    ("", "v1", "Service", "services"),
    ("apps", "v1", "Deployment", "deployments"),
    ("apps", "v1", "StatefulSet", "statefulsets"),
    ("apps", "v1", "DaemonSet", "daemonsets"),
];

/// The kinds counted in a namespace about to be deleted.
const CONTENTS: &[Searched] = &[
    ("apps", "v1", "Deployment", "deployments"),
    ("apps", "v1", "StatefulSet", "statefulsets"),
    ("apps", "v1", "DaemonSet", "daemonsets"),
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("", "v1", "Pod", "pods"),
    ("batch", "v1", "CronJob", "cronjobs"),
    ("batch", "v1", "Job", "jobs"),
    ("", "v1", "Service", "services"),
    ("networking.k8s.io", "v1", "Ingress", "ingresses"),
    ("", "v1", "ConfigMap", "configmaps"),
    ("", "v1", "Secret", "secrets"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("", "v1", "ServiceAccount", "serviceaccounts"),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
    ),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
    ),
];

/// Finalizers the API server adds for a propagation policy itself.
const POLICY_FINALIZERS: &[&str] = &["foregroundDeletion", "orphan"];

fn is_namespace(r: &ResourceRef) -> bool {
    r.group.is_empty() && r.plural == "namespaces"
}

fn is_crd(r: &ResourceRef) -> bool {
    r.group == "apiextensions.k8s.io" && r.plural == "customresourcedefinitions"
}

/// How the dynamic API reaches the object's resource.
pub(crate) fn api_resource(r: &ResourceRef) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&r.group, &r.version, &r.kind),
        &r.plural,
    )
}

/// The object's resource, in its namespace or at cluster scope.
pub(crate) fn api(client: &Client, r: &ResourceRef) -> Api<DynamicObject> {
    let ar = api_resource(r);
    match &r.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// The API server's own words for a failed read.
fn reason(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

/// Reads the object (its metadata only: a Secret's values are never
/// fetched; a CRD whole, for its served versions) and the kinds around it.
pub(crate) async fn read(
    client: &Client,
    r: &ResourceRef,
    cmd: &Command,
) -> Result<(Value, Vec<Listed>), ActionError> {
    let api = api(client, r);
    let target = if is_crd(r) {
        let crd = api
            .get(&r.name)
            .await
            .map_err(|e| ActionError::from_kube(e, &cmd.access()))?;
        serde_json::to_value(crd).unwrap_or(Value::Null)
    } else {
        let meta = api
            .get_metadata(&r.name)
            .await
            .map_err(|e| ActionError::from_kube(e, &cmd.access()))?;
        json!({ "metadata": meta.metadata })
    };
    let listed = if is_namespace(r) {
        list_kinds(client, &r.name, CONTENTS).await
    } else if is_crd(r) {
        instances(client, &target).await.into_iter().collect()
    } else if let Some(ns) = &r.namespace {
        list_kinds(client, ns, DEPENDENTS).await
    } else {
        Vec::new()
    };
    Ok((target, listed))
}

async fn list_kinds(client: &Client, ns: &str, kinds: &[Searched]) -> Vec<Listed> {
    join_all(kinds.iter().map(|&(group, version, kind, plural)| {
        let ar =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let api = Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar);
        list(api, kind, plural)
    }))
    .await
}

async fn list(api: Api<DynamicObject>, kind: &str, plural: &str) -> Listed {
    let objects = api
        .list_metadata(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .into_iter()
                .map(|o| json!({ "metadata": o.metadata }))
                .collect()
        })
        .map_err(|e| reason(&e));
    Listed {
        many: plural.to_string(),
        one: kind.to_lowercase(),
        objects,
    }
}

/// Every instance of the CRD, in every namespace: they go with it.
async fn instances(client: &Client, crd: &Value) -> Option<Listed> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str()?;
    let kind = spec["names"]["kind"].as_str()?;
    let plural = spec["names"]["plural"].as_str()?;
    let versions = spec["versions"].as_array()?;
    let version = versions
        .iter()
        .find(|v| v["storage"] == true)
        .or_else(|| versions.iter().find(|v| v["served"] == true))?["name"]
        .as_str()?;
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    let api = Api::<DynamicObject>::all_with(client.clone(), &ar);
    Some(list(api, kind, &format!("{plural}.{group}")).await)
}

fn uid(obj: &Value) -> &str {
    obj["metadata"]["uid"].as_str().unwrap_or_default()
}

fn owner_uids(obj: &Value) -> Vec<&str> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|refs| refs.iter().filter_map(|r| r["uid"].as_str()).collect())
        .unwrap_or_default()
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "2 replicasets and 3 pods".
fn and_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Counts by kind, in the order the kinds were listed.
fn counts(found: &[(usize, &Value)], listed: &[Listed]) -> Vec<String> {
    listed
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let n = found.iter().filter(|(k, _)| *k == i).count();
            (n > 0).then(|| count(n, &l.one, &l.many))
        })
        .collect()
}

/// The lists that could not be read: "could not check its pods: …".
fn unchecked(listed: &[Listed], whose: &str) -> Option<String> {
    let failed: Vec<(&str, &str)> = listed
        .iter()
        .filter_map(|l| {
            l.objects
                .as_ref()
                .err()
                .map(|e| (l.many.as_str(), e.as_str()))
        })
        .collect();
    let (_, first) = failed.first()?;
    let names: Vec<String> = failed.iter().map(|(m, _)| m.to_string()).collect();
    Some(format!(
        "could not check {whose} {}: {first}",
        and_list(&names)
    ))
}

/// The objects that go with the target, to the end of the ownership
/// chain: (index of their kind in `listed`, object, owned by the target
/// directly). One owned by something else too is kept by it, as the
/// garbage collector keeps it, and is left out.
fn dependents<'a>(target: &Value, listed: &'a [Listed]) -> Vec<(usize, &'a Value, bool)> {
    let root = uid(target);
    if root.is_empty() {
        return Vec::new();
    }
    let mut owners: HashSet<&str> = HashSet::from([root]);
    let mut found: Vec<(usize, &Value, bool)> = Vec::new();
    loop {
        let mut more = Vec::new();
        for (i, l) in listed.iter().enumerate() {
            for o in l.objects.iter().flatten() {
                let refs = owner_uids(o);
                let id = uid(o);
                if !refs.is_empty()
                    && !owners.contains(id)
                    && refs.iter().all(|r| owners.contains(r))
                {
                    more.push((i, o, refs.contains(&root)));
                }
            }
        }
        if more.is_empty() {
            return found;
        }
        for (_, o, _) in &more {
            owners.insert(uid(o));
        }
        found.extend(more);
    }
}

/// What the dialog says about deleting `r` with `propagation`, from the
/// object as read (`target`) and the kinds listed around it.
pub(crate) fn consequences(
    r: &ResourceRef,
    propagation: Propagation,
    target: &Value,
    listed: &[Listed],
) -> Vec<String> {
    let object = r.slashed();
    let mut out = Vec::new();
    let meta = &target["metadata"];
    if !meta["deletionTimestamp"].is_null() {
        out.push(format!("{object} is already being deleted"));
    }
    if is_namespace(r) {
        out.extend(namespace_contents(&object, propagation, listed));
    } else if is_crd(r) {
        out.extend(crd_instances(listed));
    } else {
        out.extend(owners(meta));
        if r.namespace.is_some() {
            out.extend(owned(&object, propagation, target, listed));
        } else {
            out.push(format!(
                "{object} is cluster-scoped: what it may own in namespaces was not checked"
            ));
        }
    }
    let finalizers: Vec<&str> = meta["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|f| !POLICY_FINALIZERS.contains(f))
        .collect();
    if !finalizers.is_empty() {
        out.push(format!(
            "finalizers {}: it stays, being deleted, until their controllers remove them",
            finalizers.join(", ")
        ));
    }
    out
}

fn owners(meta: &Value) -> Vec<String> {
    meta["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            let owner = format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?").to_lowercase(),
                o["name"].as_str().unwrap_or("?")
            );
            if o["controller"] == true {
                format!("controlled by {owner}, which may create it again")
            } else {
                format!("owned by {owner}")
            }
        })
        .collect()
}

fn owned(object: &str, propagation: Propagation, target: &Value, listed: &[Listed]) -> Vec<String> {
    let mut out = Vec::new();
    let found = dependents(target, listed);
    let all: Vec<(usize, &Value)> = found.iter().map(|(i, o, _)| (*i, *o)).collect();
    if found.is_empty() {
        if listed.iter().all(|l| l.objects.is_ok()) {
            out.push(format!(
                "{object} owns no pods, replicasets, jobs or other kinds checked"
            ));
        } else if listed.iter().any(|l| l.objects.is_ok()) {
            out.push(format!(
                "{object} owns nothing among the kinds that could be read"
            ));
        }
    } else {
        let everything = and_list(&counts(&all, listed));
        out.push(match propagation {
            Propagation::Background => format!("deleting {object} deletes {everything}"),
            Propagation::Foreground => format!(
                "deleting {object} deletes {everything} first; it stays, being deleted, until they are gone"
            ),
            Propagation::Orphan => {
                let direct: Vec<(usize, &Value)> = found
                    .iter()
                    .filter(|(_, _, d)| *d)
                    .map(|(i, o, _)| (*i, *o))
                    .collect();
                let under: Vec<(usize, &Value)> = found
                    .iter()
                    .filter(|(_, _, d)| !*d)
                    .map(|(i, o, _)| (*i, *o))
                    .collect();
                let (verb, them) = if direct.len() == 1 {
                    ("is", "it")
                } else {
                    ("are", "them")
                };
                let mut line = format!(
                    "orphan: its {} {verb} kept, without an owner",
                    and_list(&counts(&direct, listed))
                );
                if !under.is_empty() {
                    line.push_str(&format!(
                        ", with the {} under {them}",
                        and_list(&counts(&under, listed))
                    ));
                }
                line
            }
        });
    }
    out.extend(unchecked(listed, "whether it owns"));
    out
}

fn namespace_contents(object: &str, propagation: Propagation, listed: &[Listed]) -> Vec<String> {
    let mut out = Vec::new();
    let all: Vec<(usize, &Value)> = listed
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.objects.iter().flatten().map(move |o| (i, o)))
        .collect();
    if all.is_empty() {
        out.push(format!(
            "{object} holds none of the common kinds (pods, deployments, services, configmaps, secrets…); anything else in it is deleted with it"
        ));
    } else {
        out.push(format!(
            "deleting {object} deletes everything in it: {}, and any other kind (custom resources too)",
            and_list(&counts(&all, listed))
        ));
    }
    if propagation == Propagation::Orphan {
        out.push("orphan keeps nothing here: a namespace's objects go with it".into());
    }
    out.extend(unchecked(listed, "its"));
    out
}

fn crd_instances(listed: &[Listed]) -> Vec<String> {
    let mut out = Vec::new();
    for l in listed {
        if let Ok(objects) = &l.objects {
            out.push(if objects.is_empty() {
                format!("there are no {} to delete with it", l.many)
            } else {
                format!(
                    "deleting the CRD deletes every {} in the cluster: {}",
                    l.one,
                    count(objects.len(), &l.one, &l.many)
                )
            });
        }
    }
    if listed.is_empty() {
        out.push("its instances could not be counted: the CRD names no served version".into());
    }
    out.extend(unchecked(listed, "its"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, uid: &str, owners: &[&str]) -> Value {
        let refs: Vec<Value> = owners
            .iter()
            .map(|o| json!({"uid": o, "kind": "Deployment", "name": "web", "controller": true}))
            .collect();
        json!({"metadata": {"name": name, "uid": uid, "ownerReferences": refs}})
    }

    fn listed(many: &str, one: &str, objects: Vec<Value>) -> Listed {
        Listed {
            many: many.into(),
            one: one.into(),
            objects: Ok(objects),
        }
    }

    fn web() -> ResourceRef {
        ResourceRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespace: Some("demo".into()),
            name: "web".into(),
        }
    }

    fn around() -> Vec<Listed> {
        vec![
            listed(
                "replicasets",
                "replicaset",
                vec![obj("web-1", "rs1", &["d1"]), obj("web-2", "rs2", &["d1"])],
            ),
            listed(
                "pods",
                "pod",
                vec![
                    obj("web-2-a", "p1", &["rs2"]),
                    obj("web-2-b", "p2", &["rs2"]),
                    obj("web-1-a", "p3", &["rs1"]),
                    obj("other", "p4", &["rs9"]),
                ],
            ),
        ]
    }

    #[test]
    fn each_policy_says_what_happens_to_the_dependents() {
        let target = obj("web", "d1", &[]);
        let say = |p| consequences(&web(), p, &target, &around());
        assert_eq!(
            say(Propagation::Background),
            vec!["deleting deployment.apps/web deletes 2 replicasets and 3 pods"]
        );
        assert_eq!(
            say(Propagation::Foreground),
            vec![
                "deleting deployment.apps/web deletes 2 replicasets and 3 pods first; it stays, being deleted, until they are gone"
            ]
        );
        assert_eq!(
            say(Propagation::Orphan),
            vec![
                "orphan: its 2 replicasets are kept, without an owner, with the 3 pods under them"
            ]
        );
    }

    #[test]
    fn an_owner_and_unread_lists_are_named() {
        let rs = ResourceRef {
            kind: "ReplicaSet".into(),
            plural: "replicasets".into(),
            name: "web-2".into(),
            ..web()
        };
        let mut around = around();
        around.push(Listed {
            many: "jobs".into(),
            one: "job".into(),
            objects: Err("jobs.batch is forbidden".into()),
        });
        let mut target = obj("web-2", "rs2", &["d1"]);
        target["metadata"]["finalizers"] = json!(["example.com/hold", "foregroundDeletion"]);
        assert_eq!(
            consequences(&rs, Propagation::Background, &target, &around),
            vec![
                "controlled by deployment/web, which may create it again",
                "deleting replicaset.apps/web-2 deletes 2 pods",
                "could not check whether it owns jobs: jobs.batch is forbidden",
                "finalizers example.com/hold: it stays, being deleted, until their controllers remove them",
            ]
        );
    }

    #[test]
    fn an_object_owned_by_another_too_is_kept() {
        let mut around = around();
        if let Ok(pods) = &mut around[1].objects {
            pods.push(obj("shared", "p5", &["rs1", "elsewhere"]));
        }
        let c = consequences(
            &web(),
            Propagation::Background,
            &obj("web", "d1", &[]),
            &around,
        );
        assert_eq!(
            c,
            vec!["deleting deployment.apps/web deletes 2 replicasets and 3 pods"]
        );
        let lonely = consequences(
            &web(),
            Propagation::Background,
            &obj("web", "d9", &[]),
            &around,
        );
        assert_eq!(
            lonely,
            vec!["deployment.apps/web owns no pods, replicasets, jobs or other kinds checked"]
        );
        around.push(Listed {
            many: "secrets".into(),
            one: "secret".into(),
            objects: Err("forbidden".into()),
        });
        let unsure = consequences(
            &web(),
            Propagation::Background,
            &obj("web", "d9", &[]),
            &around,
        );
        assert_eq!(
            unsure,
            vec![
                "deployment.apps/web owns nothing among the kinds that could be read",
                "could not check whether it owns secrets: forbidden",
            ]
        );
    }

    #[test]
    fn a_namespace_counts_what_it_holds() {
        let ns = ResourceRef {
            group: String::new(),
            version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
            namespace: None,
            name: "demo".into(),
        };
        let c = consequences(&ns, Propagation::Orphan, &obj("demo", "n1", &[]), &around());
        assert_eq!(
            c,
            vec![
                "deleting namespace/demo deletes everything in it: 2 replicasets and 4 pods, and any other kind (custom resources too)",
                "orphan keeps nothing here: a namespace's objects go with it",
            ]
        );
    }
}
