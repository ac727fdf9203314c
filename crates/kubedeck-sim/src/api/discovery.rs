//! Version and legacy discovery documents (`/version`, `/api`, `/apis`,
//! `/api/v1`, `/apis/G/V`), built from the resource registry, custom kinds
//! included. Clients that ask for aggregated discovery get the legacy
//! documents, which they accept.

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
}
