//! A minimal OpenAPI v3 for each group/version. kubectl needs it for one
//! thing: before `create`/`apply` it checks, in the v3 document, that the
//! PATCH operation of the kind accepts the `fieldValidation` query parameter;
//! if it does, validation happens on the server. Without a v3 document it
//! falls back to v2 client-side validation, and a 404 there fails the command
//! unless `--validate=false`. The PATCH operations declare no request body,
//! so `kubectl apply` computes its patches from its built-in types instead of
//! from schemas. v2 stays a 404, which kubectl tolerates once v3 answers.
//! Schemas carry just enough (the GVK, a description, top-level fields) for
//! `kubectl explain` to name the kind.

use serde_json::{Map, Value, json};

use super::discovery::GIT_VERSION;
use crate::crd::Registry;
use crate::resources::ResourceDef;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group/version's document is.
pub(super) fn root(reg: &Registry) -> Value {
    let mut paths = Map::new();
    let mut gvs = vec![("", "v1")];
    gvs.extend(reg.group_versions());
    for (g, v) in gvs {
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(&p))}),
        );
    }
    json!({"paths": paths})
}

/// A stable tag for a document: it only changes with the simulator build.
fn hash(path: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in GIT_VERSION.bytes().chain(path.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

fn schema_name(r: &ResourceDef) -> String {
    if r.custom {
        // As kube-apiserver names a CRD's schema: the group reversed.
        let group: Vec<&str> = r.group.split('.').rev().collect();
        return format!("{}.{}.{}", group.join("."), r.version, r.kind);
    }
    let group = match r.group {
        "" => "core".to_string(),
        g => g.split('.').next().unwrap_or(g).to_string(),
    };
    format!("io.k8s.api.{group}.{}.{}", r.version, r.kind)
}

fn object_path(r: &ResourceDef) -> String {
    let prefix = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    if r.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
    } else {
        format!("{prefix}/{}/{{name}}", r.plural)
    }
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/G/V`; None when not served.
pub(super) fn group_version(reg: &Registry, path: &str) -> Option<Value> {
    let kinds: Vec<&ResourceDef> = reg
        .all()
        .into_iter()
        .filter(|r| gv_path(r.group, r.version) == path && r.verbs.contains(&"patch"))
        .collect();
    let served = path == "api/v1"
        || reg
            .group_versions()
            .iter()
            .any(|(g, v)| gv_path(g, v) == path);
    if !served {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for r in kinds {
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        paths.insert(
            object_path(r),
            json!({"patch": {
                "description": format!("partially update the specified {}", r.kind),
                "operationId": format!("patch{}", r.kind),
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        );
        schemas.insert(
            schema_name(r),
            json!({
                "description": format!("{} is a {} object served by the kubedeck simulated cluster.", r.kind, r.api_version()),
                "type": "object",
                "properties": {
                    "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object.", "type": "string"},
                    "kind": {"description": "Kind is a string value representing the REST resource this object represents.", "type": "string"},
                    "metadata": {"description": "Standard object's metadata.", "type": "object"},
                    "spec": {"description": format!("The desired state of the {}.", r.kind), "type": "object"},
                    "status": {"description": format!("The observed state of the {}.", r.kind), "type": "object"},
                },
                "x-kubernetes-group-version-kind": [gvk],
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_points_at_every_group_version() {
        let r = root(&Registry::default());
        let url = r["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        assert!(r["paths"]["api/v1"].is_object());
    }

    #[test]
    fn patch_operations_declare_field_validation_for_their_kind() {
        let doc = group_version(&Registry::default(), "apis/apps/v1").unwrap();
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(doc["paths"]["/api/v1/nodes/{name}"].is_null());
        let core = group_version(&Registry::default(), "api/v1").unwrap();
        assert!(core["paths"]["/api/v1/nodes/{name}"]["patch"].is_object());
        assert!(group_version(&Registry::default(), "apis/apps/v9").is_none());
    }
}
