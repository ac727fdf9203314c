//! The console's projection of a pod: only the fields its views read.
//! k8s-openapi's `Pod` carries every field of the API (its `PodSpec` alone
//! is kilobytes inline); at 10k pods that was most of the console's memory.
//! serde skips every field not named here, so the watch decodes straight
//! into the projection. Describe reads only projected fields; YAML fetches
//! the full object on demand.

use k8s_openapi::api::core::v1::{
    ContainerPort, ContainerStatus, PodCondition, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct SlimPod {
    #[serde(default)]
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
    pub resources: Option<ResourceRequirements>,
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
    pub conditions: Option<Vec<PodCondition>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_statuses: Option<Vec<ContainerStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
}

/// Serialized as the API would serve it (apiVersion and kind first), so
/// describe, which reads JSON, sees the projected fields where a full pod
/// has them.
impl Serialize for SlimPod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Pod", 5)?;
        st.serialize_field("apiVersion", "v1")?;
        st.serialize_field("kind", "Pod")?;
        st.serialize_field("metadata", &self.metadata)?;
        if let Some(spec) = &self.spec {
            st.serialize_field("spec", spec)?;
        }
        if let Some(status) = &self.status {
            st.serialize_field("status", status)?;
        }
        st.end()
    }
}

core_v1_resource!(SlimPod, "Pod", "pods");

/// A container status carries the runtime's container and image IDs (long
/// strings), the resources and mounts the kubelet applied, which no view
/// reads: describe shows the spec's resources, as kubectl does.
impl super::watch::Trim for SlimPod {
    fn trim(&mut self) {
        self.metadata.managed_fields = None;
        let Some(status) = self.status.as_mut() else {
            return;
        };
        let statuses = [
            status.container_statuses.as_mut(),
            status.init_container_statuses.as_mut(),
        ];
        for cs in statuses.into_iter().flatten().flatten() {
            cs.container_id = None;
            cs.image_id = String::new();
            cs.allocated_resources = None;
            cs.resources = None;
            cs.volume_mounts = None;
            cs.user = None;
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
        assert_eq!(json["status"]["containerStatuses"][0]["imageID"], "");
        assert!(json["status"]["containerStatuses"][0]["containerID"].is_null());
    }
}
