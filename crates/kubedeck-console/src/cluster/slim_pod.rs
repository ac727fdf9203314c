//! The console's projection of a pod: only the fields its views read.
//! k8s-openapi's `Pod` carries every field of the API (its `PodSpec` alone
//! is kilobytes inline); at 10k pods that was most of the console's memory.
//! serde skips every field not named here, so the watch decodes straight
//! into the projection. Describe reads only projected fields; YAML fetches
//! the full object on demand.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerPort, ContainerState};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct SlimPod {
    #[serde(default, deserialize_with = "super::slim_meta::without_managed_fields")]
    pub metadata: ObjectMeta,
    pub spec: Option<SlimPodSpec>,
    pub status: Option<SlimPodStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimPodSpec {
    #[serde(default)]
    pub containers: Vec<SlimContainer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_containers: Option<Vec<SlimContainer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimContainer {
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ContainerPort>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<SlimResources>,
}

/// A container's requests and limits, read only by describe. A `BTreeMap`
/// allocates a node for eleven entries however few it holds: two maps of
/// two quantities were a kilobyte a pod.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct SlimResources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Quantities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Quantities>,
}

/// Resource names and quantities in one exact-sized slice, read and
/// written as the API's map.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(
    from = "BTreeMap<String, Quantity>",
    into = "BTreeMap<String, Quantity>"
)]
pub(crate) struct Quantities(Box<[(String, Quantity)]>);

impl From<BTreeMap<String, Quantity>> for Quantities {
    fn from(m: BTreeMap<String, Quantity>) -> Self {
        Quantities(m.into_iter().collect())
    }
}

impl From<Quantities> for BTreeMap<String, Quantity> {
    fn from(q: Quantities) -> Self {
        q.0.into_vec().into_iter().collect()
    }
}

/// What the views and describe read of a container's status. The API's
/// `ContainerStatus` holds the runtime's IDs, the applied resources and
/// mounts, and is over a kilobyte inline before any of them is set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimContainerStatus {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ContainerState>,
    /// Boxed: most containers never restarted, and a state is two
    /// hundred bytes inline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_state: Option<Box<ContainerState>>,
}

/// A pod condition as describe prints it; the API's carries the probe
/// time and generation too, and a pod has five of them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimPodCondition {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimPodStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(rename = "podIP", skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<SlimPodCondition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_statuses: Option<Vec<SlimContainerStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_container_statuses: Option<Vec<SlimContainerStatus>>,
}

serialize_as_served!(SlimPod, "v1", "Pod");
core_v1_resource!(SlimPod, "Pod", "pods");

/// No view reads a pod's own UID, version or name prefix; the store's key
/// would copy the first two again. A terminated state's container ID is
/// a long string no view reads either.
impl super::watch::Trim for SlimPod {
    fn trim(&mut self) {
        let meta = &mut self.metadata;
        meta.uid = None;
        meta.resource_version = None;
        meta.generate_name = None;
        let Some(status) = self.status.as_mut() else {
            return;
        };
        let statuses = [
            status.container_statuses.as_mut(),
            status.init_container_statuses.as_mut(),
        ];
        for cs in statuses.into_iter().flatten().flatten() {
            let last = cs.last_state.as_deref_mut();
            for st in [cs.state.as_mut(), last].into_iter().flatten() {
                if let Some(t) = st.terminated.as_mut() {
                    t.container_id = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now};
    use crate::views::{as_json, describe};
    use k8s_openapi::api::core::v1::Pod;

    /// A pod with every field describe and the views read, and many they
    /// do not.
    fn rich() -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-5f6b7c8d9f-abcde", "namespace": "shop",
                "labels": {"app": "api"}, "annotations": {"team": "core"},
                "creationTimestamp": "2026-11-24T02:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "api-5f6b7c8d9f", "uid": "u1", "controller": true}],
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
            "spec": {"nodeName": "node-a", "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "api", "tolerations": [{"key": "k", "operator": "Exists"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "initContainers": [{"name": "migrate", "image": "registry.example/migrate:1",
                    "command": ["migrate", "up"]}],
                "containers": [{"name": "api", "image": "registry.example/api:1.0",
                    "env": [{"name": "A", "value": "b"}],
                    "ports": [{"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}],
                    "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}},
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]},
            "status": {"phase": "Running", "podIP": "10.244.0.9", "hostIP": "10.0.0.1",
                "qosClass": "Burstable", "startTime": "2026-11-24T02:00:01Z",
                "conditions": [{"type": "Ready", "status": "False"}],
                "initContainerStatuses": [{"name": "migrate", "ready": true, "restartCount": 0,
                    "image": "registry.example/migrate:1", "imageID": "",
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                "containerStatuses": [{"name": "api", "ready": false, "restartCount": 7,
                    "image": "registry.example/api:1.0",
                    "imageID": "registry.example/api@sha256:0123456789abcdef",
                    "containerID": "containerd://0123456789abcdef",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        })
    }

    #[test]
    fn describe_of_the_projection_is_describe_of_the_full_pod() {
        let cache = cluster();
        let full: Pod = serde_json::from_value(rich()).expect("a pod");
        let mut slim: SlimPod = serde_json::from_value(rich()).expect("a slim pod");
        super::super::watch::Trim::trim(&mut slim);
        let from_full = describe::describe(&as_json(&full).expect("json"), &cache, now());
        let from_slim = describe::describe(&as_json(&slim).expect("json"), &cache, now());
        assert_eq!(from_slim, from_full);
        assert!(
            from_full
                .iter()
                .any(|l| l == "    Ports:        8080/TCP, 53/UDP")
        );
    }

    #[test]
    fn the_projection_keeps_what_the_views_read_and_drops_the_rest() {
        let mut slim: SlimPod = serde_json::from_value(rich()).expect("a slim pod");
        super::super::watch::Trim::trim(&mut slim);
        assert_eq!(crate::views::pods::status(&slim).0, "CrashLoopBackOff");
        let json = as_json(&slim).expect("json");
        assert_eq!(json["kind"], "Pod");
        assert_eq!(json["spec"]["initContainers"][0]["name"], "migrate");
        assert!(json["spec"]["restartPolicy"].is_null());
        assert!(json["spec"]["containers"][0]["env"].is_null());
        assert!(json["status"]["qosClass"].is_null());
        assert!(slim.metadata.managed_fields.is_none());
        assert!(json["status"]["containerStatuses"][0]["imageID"].is_null());
        assert!(json["status"]["containerStatuses"][0]["containerID"].is_null());
        assert_eq!(
            json["spec"]["containers"][0]["resources"],
            serde_json::json!({"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}})
        );
    }
}
