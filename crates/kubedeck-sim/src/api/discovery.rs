//! Version and discovery documents (`/version`, `/api`, `/apis`, `/api/v1`,
//! `/apis/G/V`), built from the resource registry, custom kinds included.
//! `/api` and `/apis` answer aggregated discovery (apidiscovery.k8s.io/v2,
//! every group's resources in one document) to clients that ask for it, as
//! kube-apiserver does since 1.30; the others get the legacy documents.

use serde_json::{Value, json};

use crate::crd::Registry;
use crate::resources::ResourceDef;

/// The Kubernetes release the simulator claims to be. kubectl's dispatcher
/// picks its binary from the minor version.
pub(super) const GIT_VERSION: &str = "v1.31.4";

pub(super) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "31",
        "gitVersion": GIT_VERSION,
        "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
        "gitTreeState": "clean",
        "buildDate": "2024-12-10T11:37:34Z",
        "goVersion": "go1.22.9",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub(super) fn api_versions(host: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    })
}

fn group_doc(gvs: &[(&str, &str)], group: &str) -> Value {
    let versions: Vec<Value> = gvs
        .iter()
        .filter(|(g, _)| *g == group)
        .map(|(g, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

pub(super) fn api_group_list(reg: &Registry) -> Value {
    let gvs = reg.group_versions();
    let mut names: Vec<&str> = Vec::new();
    for (g, _) in &gvs {
        if !names.contains(g) {
            names.push(g);
        }
    }
    let groups: Vec<Value> = names.into_iter().map(|g| group_doc(&gvs, g)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`; None for a group the server does not serve.
pub(super) fn api_group(reg: &Registry, group: &str) -> Option<Value> {
    let gvs = reg.group_versions();
    if !gvs.iter().any(|(g, _)| *g == group) {
        return None;
    }
    let mut doc = group_doc(&gvs, group);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    // apiextensions-apiserver answers for a group of CRDs and writes the
    // unused `resources` field as null.
    if reg.custom().iter().any(|r| r.group == group) {
        doc["resources"] = Value::Null;
    }
    Some(doc)
}

fn subresource_entry(r: &ResourceDef, sub: &str) -> Value {
    let mut e = json!({
        "name": format!("{}/{sub}", r.plural),
        "singularName": "",
        "namespaced": r.namespaced,
    });
    let (kind, verbs, gv): (&str, &[&str], Option<(&str, &str)>) = match sub {
        "scale" => (
            "Scale",
            &["get", "patch", "update"],
            Some(("autoscaling", "v1")),
        ),
        "log" => (r.kind, &["get"], None),
        "eviction" => ("Eviction", &["create"], Some(("policy", "v1"))),
        "binding" => ("Binding", &["create"], None),
        "finalize" => (r.kind, &["update"], None),
        _ => (r.kind, &["get", "patch", "update"], None),
    };
    e["kind"] = json!(kind);
    e["verbs"] = json!(verbs);
    if let Some((g, v)) = gv {
        e["group"] = json!(g);
        e["version"] = json!(v);
    }
    e
}

/// `/api/v1` or `/apis/{group}/{version}`; None when not served.
pub(super) fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let kinds: Vec<&ResourceDef> = reg
        .all()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for r in kinds {
        let singular = if r.singular.is_empty() {
            r.kind.to_ascii_lowercase()
        } else {
            r.singular.to_string()
        };
        let mut e = json!({
            "name": r.plural,
            "singularName": singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        list.push(e);
        for sub in r.subresources {
            list.push(subresource_entry(r, sub));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": list,
    }))
}

/// The media type of an aggregated discovery answer.
pub(super) const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether an Accept header asks for aggregated discovery v2 (clients list
/// it first, the legacy documents after).
pub(super) fn wants_aggregated(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|m| {
            let params: Vec<&str> = m.split(';').map(str::trim).collect();
            params.contains(&"g=apidiscovery.k8s.io")
                && params.contains(&"v=v2")
                && params.contains(&"as=APIGroupDiscoveryList")
        })
    })
}

/// A response kind: kube-apiserver leaves a built-in kind's group and
/// version empty when they are the entry's own, and spells out a custom
/// kind's (apiextensions builds its entries itself).
fn gvk(r: &ResourceDef, group: &str, version: &str, kind: &str) -> Value {
    let own = !r.custom && group == r.group && version == r.version;
    let (group, version) = if own { ("", "") } else { (group, version) };
    json!({"group": group, "version": version, "kind": kind})
}

/// A kind's entry in an aggregated version, with its subresources (in name
/// order, as kube-apiserver lists them).
fn aggregated_resource(r: &ResourceDef) -> Value {
    let mut e = json!({
        "resource": r.plural,
        "responseKind": gvk(r, r.group, r.version, r.kind),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": if r.singular.is_empty() { r.kind.to_ascii_lowercase() } else { r.singular.to_string() },
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        e["categories"] = json!(r.categories);
    }
    let mut names: Vec<&str> = r.subresources.to_vec();
    names.sort_unstable();
    let subs: Vec<Value> = names
        .into_iter()
        .map(|sub| {
            let legacy = subresource_entry(r, sub);
            let group = legacy["group"].as_str().unwrap_or(r.group);
            let version = legacy["version"].as_str().unwrap_or(r.version);
            json!({
                "subresource": sub,
                "responseKind": gvk(r, group, version, legacy["kind"].as_str().unwrap_or(r.kind)),
                "verbs": legacy["verbs"],
            })
        })
        .collect();
    if !subs.is_empty() {
        e["subresources"] = json!(subs);
    }
    e
}

/// `/api` (the core group) or `/apis` (every other group) as one
/// APIGroupDiscoveryList, versions in preference order.
pub(super) fn aggregated(reg: &Registry, core: bool) -> Value {
    let kinds = reg.all();
    let groups: Vec<(&str, Vec<&str>)> = if core {
        vec![("", vec!["v1"])]
    } else {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for (g, v) in reg.group_versions() {
            match groups.iter_mut().find(|(name, _)| *name == g) {
                Some((_, versions)) => versions.push(v),
                None => groups.push((g, vec![v])),
            }
        }
        groups
    };
    let items: Vec<Value> = groups
        .into_iter()
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .into_iter()
                .map(|v| {
                    let resources: Vec<Value> = kinds
                        .iter()
                        .filter(|r| r.group == g && r.version == v)
                        .map(|r| aggregated_resource(r))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_has_pods_and_their_subresources() {
        let doc = resource_list(&Registry::default(), "", "v1").unwrap();
        assert_eq!(doc["groupVersion"], "v1");
        let res = doc["resources"].as_array().unwrap();
        let pods = res.iter().find(|r| r["name"] == "pods").unwrap();
        assert_eq!(pods["kind"], "Pod");
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["namespaced"], true);
        let evict = res.iter().find(|r| r["name"] == "pods/eviction").unwrap();
        assert_eq!(evict["group"], "policy");
        assert_eq!(evict["verbs"], json!(["create"]));
        assert!(res.iter().any(|r| r["name"] == "pods/log"));
    }

    #[test]
    fn groups_and_unknown_versions() {
        let scale = resource_list(&Registry::default(), "apps", "v1").unwrap()["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .cloned()
            .unwrap();
        assert_eq!(scale["kind"], "Scale");
        assert!(resource_list(&Registry::default(), "apps", "v2").is_none());
        assert!(api_group(&Registry::default(), "widgets.example.com").is_none());
        let list = api_group_list(&Registry::default());
        assert!(
            list["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["preferredVersion"]["groupVersion"] == "apps/v1")
        );
    }

    #[test]
    fn aggregated_discovery_is_served_to_clients_that_list_it() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated(Some(kubectl)));
        assert!(!wants_aggregated(Some("application/json")));
        assert!(!wants_aggregated(None));
        let apis = aggregated(&Registry::default(), false);
        let apps = apis["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "apps")
            .unwrap();
        let deploy = apps["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "deployments")
            .unwrap();
        assert_eq!(
            deploy["responseKind"],
            json!({"group": "", "version": "", "kind": "Deployment"})
        );
        assert_eq!(deploy["subresources"][0]["subresource"], "scale");
        assert_eq!(
            deploy["subresources"][0]["responseKind"]["group"],
            "autoscaling"
        );
        let core = aggregated(&Registry::default(), true);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
    }
}
