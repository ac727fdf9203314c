//! The console's Deployments and ReplicaSets: every field but the pod
//! template as the API has it, the template as its JSON text. k8s-openapi's
//! `PodTemplateSpec` is kilobytes inline (its `PodSpec`, each `Container`,
//! their maps) before a field is set; a Deployment and each of its old
//! ReplicaSets carry one. The rollout diff and the actions read a template
//! whole, the views its labels and images, so it is kept exact and parsed
//! only when read.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DeploymentStatus, DeploymentStrategy, ReplicaSetStatus};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A pod template as its JSON text, exactly as served.
#[derive(Debug, Clone)]
pub(crate) struct PodTemplate(Box<RawValue>);

impl PodTemplate {
    /// The template as a JSON tree: what the rollout history compares.
    pub(crate) fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// The template as the API's type, for an action or a chart that
    /// reads its containers.
    pub(crate) fn spec(&self) -> Option<PodTemplateSpec> {
        serde_json::from_str(self.0.get()).ok()
    }

    /// The container images and the labels, read on every refresh of the
    /// workload views: decoded without the rest of the template.
    pub(crate) fn images_and_labels(&self) -> (Vec<String>, BTreeMap<String, String>) {
        #[derive(Deserialize)]
        struct Parts {
            #[serde(default)]
            metadata: Option<Meta>,
            #[serde(default)]
            spec: Option<Spec>,
        }
        #[derive(Deserialize)]
        struct Meta {
            #[serde(default)]
            labels: Option<BTreeMap<String, String>>,
        }
        #[derive(Deserialize)]
        struct Spec {
            #[serde(default)]
            containers: Vec<Image>,
        }
        #[derive(Deserialize)]
        struct Image {
            #[serde(default)]
            image: Option<String>,
        }
        let Ok(parts) = serde_json::from_str::<Parts>(self.0.get()) else {
            return Default::default();
        };
        let labels = parts.metadata.and_then(|m| m.labels).unwrap_or_default();
        let images = parts
            .spec
            .into_iter()
            .flat_map(|s| s.containers)
            .filter_map(|c| c.image)
            .collect();
        (images, labels)
    }
}

impl PartialEq for PodTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// Decoded through a JSON tree rather than read as raw text: a watch
/// event whose object comes before its type reaches here through serde's
/// buffering, from which `RawValue` cannot be read. The text is the tree's
/// compact form, whatever the server's spacing.
impl<'de> Deserialize<'de> for PodTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        serde_json::value::to_raw_value(&value)
            .map(PodTemplate)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for PodTemplate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct SlimDeployment {
    #[serde(default, deserialize_with = "super::slim_meta::without_managed_fields")]
    pub metadata: ObjectMeta,
    pub spec: Option<SlimDeploymentSpec>,
    pub status: Option<DeploymentStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimDeploymentSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<DeploymentStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplate>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct SlimReplicaSet {
    #[serde(default, deserialize_with = "super::slim_meta::without_managed_fields")]
    pub metadata: ObjectMeta,
    pub spec: Option<SlimReplicaSetSpec>,
    pub status: Option<ReplicaSetStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SlimReplicaSetSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default)]
    pub selector: LabelSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplate>,
}

serialize_as_served!(SlimDeployment, "apps/v1", "Deployment");
serialize_as_served!(SlimReplicaSet, "apps/v1", "ReplicaSet");

namespaced_resource!(
    SlimDeployment,
    "apps",
    "v1",
    "apps/v1",
    "Deployment",
    "deployments"
);
namespaced_resource!(
    SlimReplicaSet,
    "apps",
    "v1",
    "apps/v1",
    "ReplicaSet",
    "replicasets"
);

impl super::watch::Trim for SlimDeployment {}
impl super::watch::Trim for SlimReplicaSet {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now};
    use crate::views::{as_json, describe};
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use kubedeck_core::actions::WorkloadRef;
    use serde_json::{Value, json};

    /// A pod template with many of the fields a real one has, each of
    /// which the rollout diff must show.
    fn template(image: &str, hash: Option<&str>) -> Value {
        let mut labels = json!({"app": "web", "tier": "front"});
        if let Some(h) = hash {
            labels["pod-template-hash"] = json!(h);
        }
        json!({
            "metadata": {"labels": labels, "annotations": {"prometheus.io/scrape": "true"}},
            "spec": {
                "serviceAccountName": "web", "terminationGracePeriodSeconds": 30,
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}],
                "volumes": [{"name": "config", "configMap": {"name": "web-config"}}],
                "initContainers": [{"name": "migrate", "image": "registry.example/migrate:1", "command": ["migrate", "up"]}],
                "containers": [
                    {"name": "web", "image": image,
                     "args": ["--port", "8080"],
                     "env": [{"name": "MODE", "value": "prod"},
                             {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                     "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                     "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                     "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
                     "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}]},
                    {"name": "proxy", "image": "registry.example/proxy:3"}
                ]
            }
        })
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "uid-web", "generation": 4,
                "labels": {"app": "web"},
                "annotations": {"deployment.kubernetes.io/revision": "2"},
                "creationTimestamp": "2026-11-24T02:00:00Z",
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
            "spec": {"replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                "minReadySeconds": 5, "paused": false,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                "template": template("registry.example/web:2", None)},
            "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
                "readyReplicas": 2, "availableReplicas": 2, "unavailableReplicas": 1,
                "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                    "message": "ReplicaSet \"web-b\" has successfully progressed.",
                    "lastUpdateTime": "2026-11-24T02:01:00Z", "lastTransitionTime": "2026-11-24T02:00:00Z"}]}
        })
    }

    fn replicaset(hash: &str, revision: &str, image: &str, replicas: i32) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("web-{hash}"), "namespace": "shop", "uid": format!("uid-{hash}"),
                "labels": {"app": "web", "pod-template-hash": hash},
                "annotations": {"deployment.kubernetes.io/revision": revision,
                    "kubernetes.io/change-cause": format!("image {image}")},
                "creationTimestamp": "2026-11-24T02:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                    "uid": "uid-web", "controller": true}]},
            "spec": {"replicas": replicas, "minReadySeconds": 5,
                "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash}},
                "template": template(image, Some(hash))},
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                "fullyLabeledReplicas": replicas, "observedGeneration": 1}
        })
    }

    #[test]
    fn the_template_is_kept_exactly_as_served() {
        let wire = serde_json::to_string(&deployment()).expect("json");
        let d: SlimDeployment = serde_json::from_str(&wire).expect("a slim deployment");
        let kept = d.spec.as_ref().and_then(|s| s.template.as_ref());
        assert_eq!(
            kept.map(PodTemplate::value),
            Some(template("registry.example/web:2", None))
        );
        let full: Deployment = serde_json::from_value(deployment()).expect("a deployment");
        let typed = kept.and_then(PodTemplate::spec);
        assert_eq!(typed.as_ref(), full.spec.as_ref().map(|s| &s.template));
    }

    /// The watch's list and its events decode into the slim objects,
    /// whatever the order of an event's fields.
    #[test]
    fn lists_and_watch_events_decode() {
        let rs = replicaset("a", "1", "registry.example/web:1", 0);
        let list = json!({"apiVersion": "apps/v1", "kind": "ReplicaSetList",
            "metadata": {"resourceVersion": "7"}, "items": [rs]});
        let wire = serde_json::to_string(&list).expect("json");
        let decoded: kube::core::ObjectList<SlimReplicaSet> =
            serde_json::from_str(&wire).expect("a list");
        let mut objects = decoded.items;
        for event in [
            format!(r#"{{"type":"MODIFIED","object":{rs}}}"#),
            format!(r#"{{"object":{rs},"type":"MODIFIED"}}"#),
        ] {
            match serde_json::from_str(&event).expect("an event") {
                kube::api::WatchEvent::Modified(o) => objects.push(o),
                _ => panic!("not the event sent: {event}"),
            }
        }
        let want = template("registry.example/web:1", Some("a"));
        for o in objects {
            let kept = o.spec.as_ref().and_then(|s| s.template.as_ref());
            assert_eq!(kept.map(PodTemplate::value).as_ref(), Some(&want));
        }
    }

    #[test]
    fn describe_of_the_slim_objects_is_describe_of_the_full_ones() {
        let cache = cluster();
        let rs = replicaset("b", "2", "registry.example/web:2", 3);
        let full_d: Deployment = serde_json::from_value(deployment()).expect("a deployment");
        let slim_d: SlimDeployment = serde_json::from_value(deployment()).expect("slim");
        let full_rs: ReplicaSet = serde_json::from_value(rs.clone()).expect("a replicaset");
        let slim_rs: SlimReplicaSet = serde_json::from_value(rs).expect("slim");
        let lines = |v: Option<Value>| describe::describe(&v.expect("json"), &cache, now());
        let from_full = lines(as_json(&full_d));
        assert_eq!(lines(as_json(&slim_d)), from_full);
        assert!(from_full.iter().any(|l| l.contains("RollingUpdate")));
        assert!(from_full.iter().any(|l| l.contains("8080/TCP")));
        assert_eq!(lines(as_json(&slim_rs)), lines(as_json(&full_rs)));
        assert_eq!(as_json(&slim_d), as_json(&full_d), "the YAML view's object");
    }

    /// The history panel compares the templates the full objects had.
    #[test]
    fn the_rollout_history_diffs_the_full_templates() {
        let (cache, mut writers) = crate::cluster::cache::new();
        for obj in [
            deployment(),
            replicaset("a", "1", "registry.example/web:1", 0),
            replicaset("b", "2", "registry.example/web:2", 3),
        ] {
            writers.apply_json(&obj).expect("valid object");
        }
        let target = WorkloadRef::deployment("shop", "web");
        let (current, now_template, revs) =
            crate::rollout::history(&cache, &target, None).expect("the deployment is cached");
        assert_eq!(current, 2);
        assert_eq!(now_template, template("registry.example/web:2", None));
        let numbers: Vec<(i64, Vec<String>)> =
            revs.iter().map(|r| (r.number, r.images.clone())).collect();
        let images = |web: &str| vec![web.to_string(), "registry.example/proxy:3".to_string()];
        assert_eq!(
            numbers,
            [
                (2, images("registry.example/web:2")),
                (1, images("registry.example/web:1"))
            ]
        );
        assert_eq!(
            revs[0].template, now_template,
            "the hash label is not a change"
        );
        let yaml = crate::rollout::yaml_lines;
        let diff = crate::rollout::line_diff(&yaml(&now_template), &yaml(&revs[1].template));
        let changed: Vec<_> = diff
            .iter()
            .filter(|l| !matches!(l, crate::rollout::DiffLine::Same(_)))
            .collect();
        assert_eq!(
            changed,
            [
                &crate::rollout::DiffLine::Removed("    image: registry.example/web:2".into()),
                &crate::rollout::DiffLine::Added("    image: registry.example/web:1".into()),
            ]
        );
        assert!(
            yaml(&now_template)
                .iter()
                .any(|l| l.contains("fieldPath: metadata.name")),
            "a field no view names is still in the template"
        );
    }

    #[test]
    fn the_workloads_row_reads_the_slim_deployment() {
        let (cache, mut writers) = crate::cluster::cache::new();
        writers.apply_json(&deployment()).expect("valid object");
        let key = ("shop".to_string(), "Deployment/web".to_string());
        let w = crate::views::workloads::get(&cache, &key).expect("the deployment");
        assert_eq!((w.desired, w.ready, w.updated, w.available), (3, 2, 3, 2));
        assert_eq!(w.revision, "2");
        assert_eq!(
            w.images,
            ["registry.example/web:2", "registry.example/proxy:3"]
        );
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            w.template_labels,
            labels(&[("app", "web"), ("tier", "front")])
        );
        assert_eq!(w.match_labels, labels(&[("app", "web")]));
        assert!(!w.converged, "one replica is not yet available");
        assert!(!w.deadline_exceeded);
    }
}
