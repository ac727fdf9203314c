//! Object metadata as the slim projections decode it: every field but
//! `managedFields`. A real apiserver sends each object's field managers, a
//! tree of nested maps per manager (about 1.5 KB of JSON a pod); no view
//! reads them, and decoding them only to drop them cost an allocation per
//! map, 10,000 pods at a time. serde skips the field without building it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Deserializer};

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Wire {
    annotations: Option<BTreeMap<String, String>>,
    creation_timestamp: Option<Time>,
    deletion_grace_period_seconds: Option<i64>,
    deletion_timestamp: Option<Time>,
    finalizers: Option<Vec<String>>,
    generate_name: Option<String>,
    generation: Option<i64>,
    labels: Option<BTreeMap<String, String>>,
    name: Option<String>,
    namespace: Option<String>,
    owner_references: Option<Vec<OwnerReference>>,
    resource_version: Option<String>,
    self_link: Option<String>,
    uid: Option<String>,
}

/// `#[serde(deserialize_with)]` for a projection's `metadata`.
pub(crate) fn without_managed_fields<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<ObjectMeta, D::Error> {
    let w = Option::<Wire>::deserialize(d)?.unwrap_or_default();
    Ok(ObjectMeta {
        annotations: w.annotations,
        creation_timestamp: w.creation_timestamp,
        deletion_grace_period_seconds: w.deletion_grace_period_seconds,
        deletion_timestamp: w.deletion_timestamp,
        finalizers: w.finalizers,
        generate_name: w.generate_name,
        generation: w.generation,
        labels: w.labels,
        managed_fields: None,
        name: w.name,
        namespace: w.namespace,
        owner_references: w.owner_references,
        resource_version: w.resource_version,
        self_link: w.self_link,
        uid: w.uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Slim {
        #[serde(default, deserialize_with = "without_managed_fields")]
        metadata: ObjectMeta,
    }

    /// Metadata with every field set, as a real apiserver sends a pod's.
    fn full() -> serde_json::Value {
        serde_json::json!({
            "name": "api-5f6b7c8d9f-abcde", "generateName": "api-5f6b7c8d9f-",
            "namespace": "shop", "uid": "1b2c", "resourceVersion": "1325", "generation": 2,
            "selfLink": "/api/v1/namespaces/shop/pods/api-5f6b7c8d9f-abcde",
            "creationTimestamp": "2026-12-07T08:14:15Z",
            "deletionTimestamp": "2026-12-07T09:00:00Z", "deletionGracePeriodSeconds": 30,
            "labels": {"app": "api", "pod-template-hash": "5f6b7c8d9f"},
            "annotations": {"team": "core"},
            "finalizers": ["example.com/hold"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "api-5f6b7c8d9f", "uid": "e551", "controller": true,
                "blockOwnerDeletion": true}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                "apiVersion": "v1", "time": "2026-12-07T08:14:15Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]
        })
    }

    #[test]
    fn metadata_decodes_whole_but_for_its_field_managers() {
        let slim: Slim =
            serde_json::from_value(serde_json::json!({"metadata": full()})).expect("slim metadata");
        let mut whole: ObjectMeta = serde_json::from_value(full()).expect("whole metadata");
        assert!(
            whole.managed_fields.is_some(),
            "the sample has field managers"
        );
        whole.managed_fields = None;
        assert_eq!(slim.metadata, whole);
    }

    #[test]
    fn missing_or_null_metadata_is_empty() {
        for body in [serde_json::json!({}), serde_json::json!({"metadata": null})] {
            let slim: Slim = serde_json::from_value(body).expect("slim metadata");
            assert_eq!(slim.metadata, ObjectMeta::default());
        }
    }
}
