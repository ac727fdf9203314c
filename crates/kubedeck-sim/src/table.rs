//! Server-side printing: `meta.k8s.io/v1` Tables with the columns and cell
//! formats of k8s.io/kubernetes pkg/printers/internalversion/printers.go.
//! The server always fills every column; priority-1 columns are the ones
//! kubectl shows only with `-o wide`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::resources::{self, ResourceDef};
use super::store::{Obj, parse_time};
use kubedeck_kube::age::human_duration;
use kubedeck_kube::selector::LabelSelector;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// The `includeObject` query parameter; Metadata when absent or unknown.
    pub fn parse(s: &str) -> IncludeObject {
        match s {
            "None" => IncludeObject::None,
            "Object" => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// `translateTimestampSince`: "<unknown>" for a missing time.
fn since(v: &Value, now: DateTime<Utc>) -> String {
    match v.as_str().and_then(parse_time) {
        Some(t) => human_duration(now - t),
        None => "<unknown>".into(),
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.to_string()
    }
}

/// `labels.FormatLabels`: sorted `k=v` pairs, "<none>" when empty.
fn format_labels(m: &Value) -> String {
    let Some(m) = m.as_object() else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
    pairs.sort();
    or_none(&pairs.join(","))
}

/// `metav1.FormatLabelSelector`: "<none>" for a missing or empty selector.
fn format_selector(sel: &Value) -> String {
    match LabelSelector::from_object(sel) {
        Ok(sel) => or_none(&sel.to_string()),
        Err(_) => "<error>".into(),
    }
}

/// `layoutContainerCells`: container names and images, comma-joined.
fn containers_cells(pod_spec: &Value) -> (String, String) {
    let cs = arr(&pod_spec["containers"]);
    let names: Vec<&str> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

/// A quantity or IntOrString as the Go printers format it.
fn quantity(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    priority: u8,
    description: &'static str,
}

const fn col(name: &'static str, ty: &'static str, description: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        priority: 0,
        description,
    }
}

const fn wide(name: &'static str, ty: &'static str, description: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        priority: 1,
        description,
    }
}

const NAME: Col = Col {
    name: "Name",
    ty: "string",
    format: "name",
    priority: 0,
    description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
};
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const AGE: Col = col("Age", "string", AGE_DOC);
const CONTAINERS: Col = wide(
    "Containers",
    "string",
    "Names of each container in the template.",
);
const IMAGES: Col = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);
const SELECTOR: Col = wide(
    "Selector",
    "string",
    "A label query over pods that should match the replica count.",
);

type Printer = fn(&Value, DateTime<Utc>) -> (Vec<Value>, Option<Value>);

fn printer_for(res: &'static ResourceDef) -> (Vec<Col>, Printer) {
    let is = |r: &ResourceDef| std::ptr::eq(res, r);
    if is(&resources::PODS) {
        (
            vec![
                NAME,
                col(
                    "Ready",
                    "string",
                    "The aggregate readiness state of this pod for accepting traffic.",
                ),
                col(
                    "Status",
                    "string",
                    "The aggregate status of the containers in this pod.",
                ),
                col(
                    "Restarts",
                    "string",
                    "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
                ),
                AGE,
                wide(
                    "IP",
                    "string",
                    "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
                ),
                wide(
                    "Node",
                    "string",
                    "NodeName indicates in which node this pod is scheduled.",
                ),
                wide(
                    "Nominated Node",
                    "string",
                    "nominatedNodeName is set only when this pod preempts other pods on the node.",
                ),
                wide(
                    "Readiness Gates",
                    "string",
                    "If specified, all readiness gates will be evaluated for pod readiness.",
                ),
            ],
            pod_row,
        )
    } else if is(&resources::DEPLOYMENTS) {
        (
            vec![
                NAME,
                col("Ready", "string", "Number of the pod with ready state"),
                col(
                    "Up-to-date",
                    "integer",
                    "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                ),
                col(
                    "Available",
                    "integer",
                    "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                ),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            deployment_row,
        )
    } else if is(&resources::REPLICASETS) {
        (
            vec![
                NAME,
                col(
                    "Desired",
                    "integer",
                    "Replicas is the number of desired replicas.",
                ),
                col(
                    "Current",
                    "integer",
                    "Replicas is the most recently observed number of replicas.",
                ),
                col(
                    "Ready",
                    "integer",
                    "The number of ready replicas for this replica set.",
                ),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            replicaset_row,
        )
    } else if is(&resources::STATEFULSETS) {
        (
            vec![
                NAME,
                col("Ready", "string", "Number of the pod with ready state"),
                AGE,
                CONTAINERS,
                IMAGES,
            ],
            statefulset_row,
        )
    } else if is(&resources::DAEMONSETS) {
        (
            vec![
                NAME,
                col(
                    "Desired",
                    "integer",
                    "The total number of nodes that should be running the daemon pod.",
                ),
                col(
                    "Current",
                    "integer",
                    "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
                ),
                col(
                    "Ready",
                    "integer",
                    "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
                ),
                col(
                    "Up-to-date",
                    "integer",
                    "The total number of nodes that are running updated daemon pod",
                ),
                col(
                    "Available",
                    "integer",
                    "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
                ),
                col(
                    "Node Selector",
                    "string",
                    "NodeSelector is a selector which must be true for the pod to fit on a node.",
                ),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            daemonset_row,
        )
    } else if is(&resources::SERVICES) {
        (
            vec![
                NAME,
                col(
                    "Type",
                    "string",
                    "type determines how the Service is exposed.",
                ),
                col(
                    "Cluster-IP",
                    "string",
                    "clusterIP is the IP address of the service and is usually assigned randomly.",
                ),
                col(
                    "External-IP",
                    "string",
                    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                ),
                col(
                    "Port(s)",
                    "string",
                    "The list of ports that are exposed by this service.",
                ),
                AGE,
                wide(
                    "Selector",
                    "string",
                    "Route service traffic to pods with label keys and values matching this selector.",
                ),
            ],
            service_row,
        )
    } else if is(&resources::ENDPOINTS) {
        (
            vec![
                NAME,
                col(
                    "Endpoints",
                    "string",
                    "The set of all endpoints is the union of all subsets.",
                ),
                AGE,
            ],
            endpoints_row,
        )
    } else if is(&resources::ENDPOINT_SLICES) {
        (
            vec![
                NAME,
                col(
                    "AddressType",
                    "string",
                    "addressType specifies the type of address carried by this EndpointSlice.",
                ),
                col(
                    "Ports",
                    "string",
                    "ports specifies the list of network ports exposed by each endpoint in this slice.",
                ),
                col(
                    "Endpoints",
                    "string",
                    "endpoints is a list of unique endpoints in this slice.",
                ),
                AGE,
            ],
            endpointslice_row,
        )
    } else if is(&resources::EVENTS) || is(&resources::EVENTS_V1) {
        (
            vec![
                col(
                    "Last Seen",
                    "string",
                    "The time at which the most recent occurrence of this event was recorded.",
                ),
                col(
                    "Type",
                    "string",
                    "Type of this event (Normal, Warning), new types could be added in the future",
                ),
                col(
                    "Reason",
                    "string",
                    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
                ),
                col("Object", "string", "The object that this event is about."),
                wide(
                    "Subobject",
                    "string",
                    "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
                ),
                wide(
                    "Source",
                    "string",
                    "The component reporting this event. Should be a short machine understandable string.",
                ),
                col(
                    "Message",
                    "string",
                    "A human-readable description of the status of this operation.",
                ),
                wide(
                    "First Seen",
                    "string",
                    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
                ),
                wide(
                    "Count",
                    "string",
                    "The number of times this event has occurred.",
                ),
                Col {
                    priority: 1,
                    ..NAME
                },
            ],
            event_row,
        )
    } else if is(&resources::HPAS) {
        (
            vec![
                NAME,
                col(
                    "Reference",
                    "string",
                    "scaleTargetRef points to the target resource to scale.",
                ),
                col(
                    "Targets",
                    "string",
                    "metrics contains the specifications for which to use to calculate the desired replica count.",
                ),
                col(
                    "MinPods",
                    "string",
                    "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
                ),
                col(
                    "MaxPods",
                    "string",
                    "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
                ),
                col(
                    "Replicas",
                    "string",
                    "currentReplicas is current number of replicas of pods managed by this autoscaler.",
                ),
                AGE,
            ],
            hpa_row,
        )
    } else if is(&resources::JOBS) {
        (
            vec![
                NAME,
                col("Status", "string", "Status of the job."),
                col(
                    "Completions",
                    "string",
                    "The desired number of successfully finished pods the job should be run with.",
                ),
                col("Duration", "string", "Time required to complete the job."),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            job_row,
        )
    } else if is(&resources::CRONJOBS) {
        (
            vec![
                NAME,
                col(
                    "Schedule",
                    "string",
                    "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
                ),
                col(
                    "Timezone",
                    "string",
                    "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
                ),
                col(
                    "Suspend",
                    "boolean",
                    "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
                ),
                col(
                    "Active",
                    "integer",
                    "A list of pointers to currently running jobs.",
                ),
                col(
                    "Last Schedule",
                    "string",
                    "Information when was the last time the job was successfully scheduled.",
                ),
                AGE,
                CONTAINERS,
                IMAGES,
                SELECTOR,
            ],
            cronjob_row,
        )
    } else if is(&resources::NODES) {
        (
            vec![
                NAME,
                col("Status", "string", "The status of the node"),
                col("Roles", "string", "The roles of the node"),
                AGE,
                col("Version", "string", "Kubelet Version reported by the node."),
                wide(
                    "Internal-IP",
                    "string",
                    "List of addresses reachable to the node.",
                ),
                wide(
                    "External-IP",
                    "string",
                    "List of addresses reachable to the node.",
                ),
                wide(
                    "OS-Image",
                    "string",
                    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
                ),
                wide(
                    "Kernel-Version",
                    "string",
                    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                ),
                wide(
                    "Container-Runtime",
                    "string",
                    "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
                ),
            ],
            node_row,
        )
    } else if is(&resources::NAMESPACES) {
        (
            vec![
                NAME,
                col("Status", "string", "The status of the namespace"),
                AGE,
            ],
            namespace_row,
        )
    } else if is(&resources::CONFIGMAPS) {
        (
            vec![
                NAME,
                col("Data", "integer", "Data contains the configuration data."),
                AGE,
            ],
            configmap_row,
        )
    } else if is(&resources::SECRETS) {
        (
            vec![
                NAME,
                col(
                    "Type",
                    "string",
                    "Used to facilitate programmatic handling of secret data.",
                ),
                col("Data", "integer", "Data contains the secret data."),
                AGE,
            ],
            secret_row,
        )
    } else if is(&resources::SERVICE_ACCOUNTS) {
        (
            vec![
                NAME,
                col(
                    "Secrets",
                    "integer",
                    "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
                ),
                AGE,
            ],
            service_account_row,
        )
    } else if is(&resources::PVCS) {
        (
            vec![
                NAME,
                col(
                    "Status",
                    "string",
                    "phase represents the current phase of PersistentVolumeClaim.",
                ),
                col(
                    "Volume",
                    "string",
                    "volumeName is the binding reference to the PersistentVolume backing this claim.",
                ),
                col(
                    "Capacity",
                    "string",
                    "capacity represents the actual resources of the underlying volume.",
                ),
                col(
                    "Access Modes",
                    "string",
                    "accessModes contains the desired access modes the volume should have.",
                ),
                col(
                    "StorageClass",
                    "string",
                    "storageClassName is the name of the StorageClass required by the claim.",
                ),
                col(
                    "VolumeAttributesClass",
                    "string",
                    "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.",
                ),
                AGE,
                wide(
                    "VolumeMode",
                    "string",
                    "volumeMode defines what type of volume is required by the claim.",
                ),
            ],
            pvc_row,
        )
    } else if is(&resources::PDBS) {
        (
            vec![
                NAME,
                col(
                    "Min Available",
                    "string",
                    "The minimum number of pods that must be available simultaneously. This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
                ),
                col(
                    "Max Unavailable",
                    "string",
                    "The maximum number of pods that may be unavailable. This can be either an integer or a string specifying a percentage, e.g. \"33%\".",
                ),
                col(
                    "Allowed Disruptions",
                    "integer",
                    "Calculated number of pods that may be disrupted at this time.",
                ),
                AGE,
            ],
            pdb_row,
        )
    } else if is(&resources::CONTROLLER_REVISIONS) {
        (
            vec![
                NAME,
                col("Controller", "string", "Controller of the object"),
                col(
                    "Revision",
                    "integer",
                    "Revision indicates the revision of the state represented by Data.",
                ),
                AGE,
            ],
            controller_revision_row,
        )
    } else if is(&resources::INGRESSES) {
        (
            vec![
                NAME,
                col(
                    "Class",
                    "string",
                    "The name of the IngressClass resource that should be used for this Ingress",
                ),
                col(
                    "Hosts",
                    "string",
                    "Hosts that incoming requests are matched against before the ingress rule",
                ),
                col(
                    "Address",
                    "string",
                    "Address is a list containing ingress points for the load-balancer",
                ),
                col("Ports", "string", "Ports of TLS configurations that open"),
                AGE,
            ],
            ingress_row,
        )
    } else if is(&resources::NETWORK_POLICIES) {
        (
            vec![
                NAME,
                col(
                    "Pod-Selector",
                    "string",
                    "podSelector selects the pods to which this NetworkPolicy object applies.",
                ),
                AGE,
            ],
            network_policy_row,
        )
    } else if is(&resources::STORAGE_CLASSES) {
        (
            vec![
                NAME,
                col(
                    "Provisioner",
                    "string",
                    "provisioner indicates the type of the provisioner.",
                ),
                col(
                    "ReclaimPolicy",
                    "string",
                    "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
                ),
                col(
                    "VolumeBindingMode",
                    "string",
                    "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
                ),
                col(
                    "AllowVolumeExpansion",
                    "string",
                    "allowVolumeExpansion shows whether the storage class allow volume expand.",
                ),
                AGE,
            ],
            storage_class_row,
        )
    } else if is(&resources::PVS) {
        (
            vec![
                NAME,
                col(
                    "Capacity",
                    "string",
                    "capacity is the description of the persistent volume's resources and capacity.",
                ),
                col(
                    "Access Modes",
                    "string",
                    "accessModes contains all ways the volume can be mounted.",
                ),
                col(
                    "Reclaim Policy",
                    "string",
                    "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
                ),
                col(
                    "Status",
                    "string",
                    "phase indicates if a volume is available, bound to a claim, or released by a claim.",
                ),
                col(
                    "Claim",
                    "string",
                    "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
                ),
                col(
                    "StorageClass",
                    "string",
                    "storageClassName is the name of StorageClass to which this persistent volume belongs.",
                ),
                col(
                    "VolumeAttributesClass",
                    "string",
                    "Name of VolumeAttributesClass to which this persistent volume belongs.",
                ),
                col(
                    "Reason",
                    "string",
                    "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
                ),
                AGE,
                wide(
                    "VolumeMode",
                    "string",
                    "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
                ),
            ],
            pv_row,
        )
    } else if is(&resources::ROLE_BINDINGS) || is(&resources::CLUSTER_ROLE_BINDINGS) {
        (
            vec![
                NAME,
                col(
                    "Role",
                    "string",
                    "RoleRef references the Role or ClusterRole being bound.",
                ),
                AGE,
                wide("Users", "string", "Users in the roleBinding"),
                wide("Groups", "string", "Groups in the roleBinding"),
                wide(
                    "ServiceAccounts",
                    "string",
                    "ServiceAccounts in the roleBinding",
                ),
            ],
            role_binding_row,
        )
    } else {
        (vec![NAME, col("Created At", "date", AGE_DOC)], default_row)
    }
}

/// Builds the Table answer for a list (or a single object) of one kind.
pub fn table(
    res: &'static ResourceDef,
    objs: &[Obj],
    include: IncludeObject,
    list_meta: Value,
    now: DateTime<Utc>,
) -> Value {
    let (cols, print) = printer_for(res);
    let column_definitions: Vec<Value> = cols
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.ty,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let (cells, conditions) = print(o, now);
            let mut row = json!({"cells": cells});
            if let Some(c) = conditions {
                row["conditions"] = c;
            }
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"],
                    });
                }
                IncludeObject::Object => row["object"] = (**o).clone(),
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

fn name(o: &Value) -> Value {
    o["metadata"]["name"].clone()
}

fn age(o: &Value, now: DateTime<Utc>) -> Value {
    json!(since(&o["metadata"]["creationTimestamp"], now))
}

fn default_row(o: &Value, _now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![name(o), o["metadata"]["creationTimestamp"].clone()],
        None,
    )
}

fn is_restartable_init(c: Option<&Value>) -> bool {
    c.is_some_and(|c| s(&c["restartPolicy"]) == "Always")
}

fn later(a: Option<DateTime<Utc>>, b: &Value) -> Option<DateTime<Utc>> {
    match (a, b.as_str().and_then(parse_time)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn has_condition(status: &Value, ty: &str) -> bool {
    arr(&status["conditions"])
        .iter()
        .any(|c| s(&c["type"]) == ty && s(&c["status"]) == "True")
}

/// kubectl's pod STATUS, READY and RESTARTS (printers.go `printPod`).
fn pod_row(pod: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let phase = s(&status["phase"]);
    let mut reason = if s(&status["reason"]).is_empty() {
        phase.to_string()
    } else {
        s(&status["reason"]).to_string()
    };
    if arr(&status["conditions"])
        .iter()
        .any(|c| s(&c["type"]) == "PodScheduled" && s(&c["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let conditions = match phase {
        "Succeeded" => Some(json!([{"type": "Completed", "status": "True",
            "reason": "Succeeded", "message": "The pod has completed successfully."}])),
        "Failed" => Some(json!([{"type": "Completed", "status": "True",
            "reason": "Failed", "message": "The pod failed."}])),
        _ => None,
    };
    let init_specs = arr(&spec["initContainers"]);
    let find_init = |n: &str| init_specs.iter().find(|c| s(&c["name"]) == n);
    let total = arr(&spec["containers"]).len()
        + init_specs
            .iter()
            .filter(|c| is_restartable_init(Some(c)))
            .count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let mut last_sidecar_restart: Option<DateTime<Utc>> = None;
    let mut initializing = false;
    for (i, c) in arr(&status["initContainerStatuses"]).iter().enumerate() {
        let count = int(&c["restartCount"]);
        restarts += count;
        let finished = &c["lastState"]["terminated"]["finishedAt"];
        last_restart = later(last_restart, finished);
        let sidecar = is_restartable_init(find_init(s(&c["name"])));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let term = &c["state"]["terminated"];
        let waiting = &c["state"]["waiting"];
        if term.is_object() && int(&term["exitCode"]) == 0 {
            continue;
        }
        if sidecar && c["started"].as_bool() == Some(true) {
            if c["ready"].as_bool() == Some(true) {
                ready += 1;
            }
            continue;
        }
        if term.is_object() {
            reason = if !s(&term["reason"]).is_empty() {
                format!("Init:{}", s(&term["reason"]))
            } else if int(&term["signal"]) != 0 {
                format!("Init:Signal:{}", int(&term["signal"]))
            } else {
                format!("Init:ExitCode:{}", int(&term["exitCode"]))
            };
        } else if waiting.is_object()
            && !s(&waiting["reason"]).is_empty()
            && s(&waiting["reason"]) != "PodInitializing"
        {
            reason = format!("Init:{}", s(&waiting["reason"]));
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    if !initializing || has_condition(status, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in arr(&status["containerStatuses"]).iter().rev() {
            restarts += int(&c["restartCount"]);
            last_restart = later(last_restart, &c["lastState"]["terminated"]["finishedAt"]);
            let waiting = &c["state"]["waiting"];
            let term = &c["state"]["terminated"];
            if !s(&waiting["reason"]).is_empty() {
                reason = s(&waiting["reason"]).to_string();
            } else if term.is_object() && !s(&term["reason"]).is_empty() {
                reason = s(&term["reason"]).to_string();
            } else if term.is_object() {
                reason = if int(&term["signal"]) != 0 {
                    format!("Signal:{}", int(&term["signal"]))
                } else {
                    format!("ExitCode:{}", int(&term["exitCode"]))
                };
            } else if c["ready"].as_bool() == Some(true) && c["state"]["running"].is_object() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(status, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    let terminal = phase == "Succeeded" || phase == "Failed";
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        if s(&status["reason"]) == "NodeLost" {
            reason = "Unknown".into();
        } else if !terminal {
            reason = "Terminating".into();
        }
    }
    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", human_duration(now - t)),
        _ => restarts.to_string(),
    };
    let pod_ip = arr(&status["podIPs"])
        .first()
        .map(|p| s(&p["ip"]).to_string())
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| s(&status["podIP"]).to_string());
    let gates = arr(&spec["readinessGates"]);
    let gates_str = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| {
                arr(&status["conditions"])
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| s(&c["status"]) == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    (
        vec![
            name(pod),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_str),
            age(pod, now),
            json!(or_none(&pod_ip)),
            json!(or_none(s(&spec["nodeName"]))),
            json!(or_none(s(&status["nominatedNodeName"]))),
            json!(gates_str),
        ],
        conditions,
    )
}

fn deployment_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let st = &o["status"];
    let (names, images) = containers_cells(&o["spec"]["template"]["spec"]);
    (
        vec![
            name(o),
            json!(format!(
                "{}/{}",
                int(&st["readyReplicas"]),
                int(&o["spec"]["replicas"])
            )),
            json!(int(&st["updatedReplicas"])),
            json!(int(&st["availableReplicas"])),
            age(o, now),
            json!(names),
            json!(images),
            json!(selector_string(&o["spec"]["selector"])),
        ],
        None,
    )
}

/// A workload's selector as `LabelSelectorAsSelector(...).String()`.
fn selector_string(sel: &Value) -> String {
    LabelSelector::from_object(sel)
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "<invalid>".into())
}

fn replicaset_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let st = &o["status"];
    let (names, images) = containers_cells(&o["spec"]["template"]["spec"]);
    (
        vec![
            name(o),
            json!(int(&o["spec"]["replicas"])),
            json!(int(&st["replicas"])),
            json!(int(&st["readyReplicas"])),
            age(o, now),
            json!(names),
            json!(images),
            json!(selector_string(&o["spec"]["selector"])),
        ],
        None,
    )
}

fn statefulset_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let (names, images) = containers_cells(&o["spec"]["template"]["spec"]);
    (
        vec![
            name(o),
            json!(format!(
                "{}/{}",
                int(&o["status"]["readyReplicas"]),
                int(&o["spec"]["replicas"])
            )),
            age(o, now),
            json!(names),
            json!(images),
        ],
        None,
    )
}

fn daemonset_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let st = &o["status"];
    let tmpl = &o["spec"]["template"]["spec"];
    let (names, images) = containers_cells(tmpl);
    (
        vec![
            name(o),
            json!(int(&st["desiredNumberScheduled"])),
            json!(int(&st["currentNumberScheduled"])),
            json!(int(&st["numberReady"])),
            json!(int(&st["updatedNumberScheduled"])),
            json!(int(&st["numberAvailable"])),
            json!(format_labels(&tmpl["nodeSelector"])),
            age(o, now),
            json!(names),
            json!(images),
            json!(selector_string(&o["spec"]["selector"])),
        ],
        None,
    )
}

fn service_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let ty = s(&spec["type"]);
    let cluster_ip = arr(&spec["clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .or_else(|| spec["clusterIP"].as_str())
        .unwrap_or_default();
    let external: Vec<&str> = arr(&spec["externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external_ip = match ty {
        "ClusterIP" | "NodePort" | "" => or_none(&external.join(",")),
        "LoadBalancer" => {
            let mut ips: Vec<&str> = arr(&o["status"]["loadBalancer"]["ingress"])
                .iter()
                .map(|i| {
                    let ip = s(&i["ip"]);
                    if ip.is_empty() { s(&i["hostname"]) } else { ip }
                })
                .filter(|x| !x.is_empty())
                .collect();
            ips.extend(external.iter());
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => s(&spec["externalName"]).to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(&spec["ports"])
        .iter()
        .map(|p| {
            let proto = s(&p["protocol"]);
            let proto = if proto.is_empty() { "TCP" } else { proto };
            let node_port = int(&p["nodePort"]);
            if node_port > 0 {
                format!("{}:{node_port}/{proto}", int(&p["port"]))
            } else {
                format!("{}/{proto}", int(&p["port"]))
            }
        })
        .collect();
    (
        vec![
            name(o),
            json!(ty),
            json!(or_none(cluster_ip)),
            json!(external_ip),
            json!(or_none(&ports.join(","))),
            age(o, now),
            json!(format_labels(&spec["selector"])),
        ],
        None,
    )
}

/// `host:port` the way Go's `net.JoinHostPort` writes it.
fn join_host_port(ip: &str, port: i64) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn endpoints_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    const MAX: usize = 3;
    let subsets = arr(&o["subsets"]);
    let text = if subsets.is_empty() {
        "<none>".to_string()
    } else {
        let mut list = Vec::new();
        let mut count = 0;
        let mut more = false;
        for ss in subsets {
            let addrs = arr(&ss["addresses"]);
            let ports = arr(&ss["ports"]);
            if ports.is_empty() {
                count += addrs.len();
                for a in addrs {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(s(&a["ip"]).to_string());
                }
                continue;
            }
            for p in ports {
                count += addrs.len();
                for a in addrs {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(join_host_port(s(&a["ip"]), int(&p["port"])));
                }
            }
        }
        let joined = list.join(",");
        if more {
            format!("{joined} + {} more...", count - MAX)
        } else {
            joined
        }
    };
    (vec![name(o), json!(text), age(o, now)], None)
}

/// `listWithMoreString`.
fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - max)
    } else if joined.is_empty() {
        "<unset>".into()
    } else {
        joined
    }
}

fn endpointslice_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    const MAX: usize = 3;
    let ports = arr(&o["ports"]);
    let port_list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(|p| match p["port"].as_i64() {
            Some(n) => n.to_string(),
            None => p["name"].as_str().unwrap_or("*").to_string(),
        })
        .collect();
    let addrs: Vec<String> = arr(&o["endpoints"])
        .iter()
        .flat_map(|e| arr(&e["addresses"]).iter().map(|a| s(a).to_string()))
        .collect();
    let shown: Vec<String> = addrs.iter().take(MAX).cloned().collect();
    (
        vec![
            name(o),
            json!(s(&o["addressType"])),
            json!(list_with_more(
                &port_list,
                ports.len() > MAX,
                ports.len(),
                MAX
            )),
            json!(list_with_more(&shown, addrs.len() > MAX, addrs.len(), MAX)),
            age(o, now),
        ],
        None,
    )
}

fn event_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let first = if o["firstTimestamp"].is_string() {
        since(&o["firstTimestamp"], now)
    } else {
        since(&o["eventTime"], now)
    };
    let mut last = if o["lastTimestamp"].is_string() {
        since(&o["lastTimestamp"], now)
    } else {
        first.clone()
    };
    let mut count = int(&o["count"]);
    if o["series"].is_object() {
        last = since(&o["series"]["lastObservedTime"], now);
        count = int(&o["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let inv = &o["involvedObject"];
    let kind = s(&inv["kind"]).to_lowercase();
    let target = if s(&inv["name"]).is_empty() {
        kind
    } else {
        format!("{kind}/{}", s(&inv["name"]))
    };
    let first_non_empty = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    let component = first_non_empty(s(&o["source"]["component"]), s(&o["reportingComponent"]));
    let instance = first_non_empty(s(&o["source"]["host"]), s(&o["reportingInstance"]));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    (
        vec![
            json!(last),
            o["type"].clone(),
            o["reason"].clone(),
            json!(target),
            json!(s(&inv["fieldPath"])),
            json!(source),
            json!(s(&o["message"]).trim()),
            json!(first),
            json!(count),
            name(o),
        ],
        None,
    )
}

/// `formatHPAMetrics`: at most two targets, then "+ N more...".
fn hpa_targets(spec: &Value, status: &Value) -> String {
    let specs = arr(&spec["metrics"]);
    if specs.is_empty() {
        return "<none>".into();
    }
    let statuses = arr(&status["currentMetrics"]);
    let unknown = || "<unknown>".to_string();
    let mut list = Vec::new();
    for (i, m) in specs.iter().enumerate() {
        let st = statuses.get(i).unwrap_or(&Value::Null);
        let entry = match s(&m["type"]) {
            "Resource" | "ContainerResource" => {
                let key = if s(&m["type"]) == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let src = &m[key];
                let cur = &st[key]["current"];
                let target = &src["target"];
                let rname = s(&src["name"]);
                let prefix = if key == "resource" {
                    rname.to_string()
                } else {
                    format!("{rname} ({})", s(&src["container"]))
                };
                if !target["averageValue"].is_null() {
                    let c = if cur["averageValue"].is_null() {
                        unknown()
                    } else {
                        quantity(&cur["averageValue"])
                    };
                    format!("{prefix}: {c}/{}", quantity(&target["averageValue"]))
                } else {
                    let c = cur["averageUtilization"]
                        .as_i64()
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(unknown);
                    let t = target["averageUtilization"]
                        .as_i64()
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<auto>".into());
                    format!("{prefix}: {c}/{t}")
                }
            }
            "Pods" => {
                let c = if st["pods"].is_object() {
                    quantity(&st["pods"]["current"]["averageValue"])
                } else {
                    unknown()
                };
                format!("{c}/{}", quantity(&m["pods"]["target"]["averageValue"]))
            }
            ty @ ("Object" | "External") => {
                let key = if ty == "Object" { "object" } else { "external" };
                let target = &m[key]["target"];
                let cur = &st[key]["current"];
                if !target["averageValue"].is_null() {
                    let c = if cur["averageValue"].is_null() {
                        unknown()
                    } else {
                        quantity(&cur["averageValue"])
                    };
                    format!("{c}/{} (avg)", quantity(&target["averageValue"]))
                } else {
                    let c = if st[key].is_object() {
                        quantity(&cur["value"])
                    } else {
                        unknown()
                    };
                    format!("{c}/{}", quantity(&target["value"]))
                }
            }
            _ => "<unknown type>".into(),
        };
        list.push(entry);
    }
    const MAX: usize = 2;
    if list.len() > MAX {
        let extra = list.len() - MAX;
        list.truncate(MAX);
        format!("{} + {extra} more...", list.join(", "))
    } else {
        list.join(", ")
    }
}

fn hpa_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let target = &spec["scaleTargetRef"];
    let min = spec["minReplicas"]
        .as_i64()
        .map(|m| m.to_string())
        .unwrap_or_else(|| "<unset>".into());
    (
        vec![
            name(o),
            json!(format!("{}/{}", s(&target["kind"]), s(&target["name"]))),
            json!(hpa_targets(spec, &o["status"])),
            json!(min),
            json!(int(&spec["maxReplicas"])),
            json!(int(&o["status"]["currentReplicas"])),
            age(o, now),
        ],
        None,
    )
}

fn job_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let st = &o["status"];
    let succeeded = int(&st["succeeded"]);
    let completions = match spec["completions"].as_i64() {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let par = int(&spec["parallelism"]);
            if par > 1 {
                format!("{succeeded}/1 of {par}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = st["startTime"].as_str().and_then(parse_time);
    let done = st["completionTime"].as_str().and_then(parse_time);
    let duration = match (start, done) {
        (None, _) => String::new(),
        (Some(s), None) => human_duration(now - s),
        (Some(s), Some(d)) => human_duration(d - s),
    };
    let status = if has_condition(st, "Complete") {
        "Complete"
    } else if has_condition(st, "Failed") {
        "Failed"
    } else if !o["metadata"]["deletionTimestamp"].is_null() {
        "Terminating"
    } else if has_condition(st, "Suspended") {
        "Suspended"
    } else if has_condition(st, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(st, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (names, images) = containers_cells(&spec["template"]["spec"]);
    (
        vec![
            name(o),
            json!(status),
            json!(completions),
            json!(duration),
            age(o, now),
            json!(names),
            json!(images),
            json!(selector_string(&spec["selector"])),
        ],
        None,
    )
}

fn cronjob_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let st = &o["status"];
    let last = if st["lastScheduleTime"].is_string() {
        since(&st["lastScheduleTime"], now)
    } else {
        "<none>".into()
    };
    let suspend = match spec["suspend"].as_bool() {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let job_spec = &spec["jobTemplate"]["spec"];
    let (names, images) = containers_cells(&job_spec["template"]["spec"]);
    (
        vec![
            name(o),
            json!(s(&spec["schedule"])),
            json!(or_none(s(&spec["timeZone"]))),
            json!(suspend),
            json!(arr(&st["active"]).len()),
            json!(last),
            age(o, now),
            json!(names),
            json!(images),
            json!(format_selector(&job_spec["selector"])),
        ],
        None,
    )
}

fn node_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let st = &o["status"];
    let mut status: Vec<String> = arr(&st["conditions"])
        .iter()
        .filter(|c| s(&c["type"]) == "Ready")
        .take(1)
        .map(|c| {
            if s(&c["status"]) == "True" {
                "Ready".to_string()
            } else {
                "NotReady".to_string()
            }
        })
        .collect();
    if status.is_empty() {
        status.push("Unknown".into());
    }
    if o["spec"]["unschedulable"].as_bool() == Some(true) {
        status.push("SchedulingDisabled".into());
    }
    let mut roles = BTreeSet::new();
    if let Some(labels) = o["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" && !s(v).is_empty() {
                roles.insert(s(v).to_string());
            }
        }
    }
    let roles: Vec<String> = roles.into_iter().collect();
    let address = |ty: &str| {
        arr(&st["addresses"])
            .iter()
            .find(|a| s(&a["type"]) == ty)
            .map(|a| s(&a["address"]).to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    let info = &st["nodeInfo"];
    let unknown = |v: &str| {
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v.to_string()
        }
    };
    (
        vec![
            name(o),
            json!(status.join(",")),
            json!(or_none(&roles.join(","))),
            age(o, now),
            json!(s(&info["kubeletVersion"])),
            json!(address("InternalIP")),
            json!(address("ExternalIP")),
            json!(unknown(s(&info["osImage"]))),
            json!(unknown(s(&info["kernelVersion"]))),
            json!(unknown(s(&info["containerRuntimeVersion"]))),
        ],
        None,
    )
}

fn namespace_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![name(o), json!(s(&o["status"]["phase"])), age(o, now)],
        None,
    )
}

fn map_len(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}

fn configmap_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let n = map_len(&o["data"]) + map_len(&o["binaryData"]);
    (vec![name(o), json!(n), age(o, now)], None)
}

fn secret_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![
            name(o),
            json!(s(&o["type"])),
            json!(map_len(&o["data"])),
            age(o, now),
        ],
        None,
    )
}

fn service_account_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![name(o), json!(arr(&o["secrets"]).len()), age(o, now)],
        None,
    )
}

fn pvc_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let st = &o["status"];
    let phase = if o["metadata"]["deletionTimestamp"].is_null() {
        s(&st["phase"]).to_string()
    } else {
        "Terminating".into()
    };
    let volume = s(&spec["volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(&st["capacity"]["storage"]),
            access_modes(&st["accessModes"]),
        )
    };
    let class = o["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"]
        .as_str()
        .unwrap_or_else(|| s(&spec["storageClassName"]));
    let vac = s(&spec["volumeAttributesClassName"]);
    let vac = if vac.is_empty() { "<unset>" } else { vac };
    let mode = s(&spec["volumeMode"]);
    let mode = if mode.is_empty() { "<unset>" } else { mode };
    (
        vec![
            name(o),
            json!(phase),
            json!(volume),
            json!(capacity),
            json!(modes),
            json!(class),
            json!(vac),
            age(o, now),
            json!(mode),
        ],
        None,
    )
}

fn pdb_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let na = |v: &Value| {
        if v.is_null() {
            "N/A".to_string()
        } else {
            quantity(v)
        }
    };
    (
        vec![
            name(o),
            json!(na(&spec["minAvailable"])),
            json!(na(&spec["maxUnavailable"])),
            json!(int(&o["status"]["disruptionsAllowed"])),
            age(o, now),
        ],
        None,
    )
}

fn controller_revision_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let controller = arr(&o["metadata"]["ownerReferences"])
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .map(|r| {
            let group = s(&r["apiVersion"])
                .split_once('/')
                .map(|(g, _)| g)
                .unwrap_or_default();
            let kind = s(&r["kind"]).to_lowercase();
            let gk = if group.is_empty() {
                kind
            } else {
                format!("{kind}.{group}")
            };
            format!("{gk}/{}", s(&r["name"]))
        })
        .unwrap_or_else(|| "<none>".into());
    (
        vec![
            name(o),
            json!(controller),
            json!(int(&o["revision"])),
            age(o, now),
        ],
        None,
    )
}

/// `ACCESS MODES` as kubectl abbreviates them.
fn access_modes(modes: &Value) -> String {
    let short: Vec<&str> = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| arr(modes).iter().any(|x| s(x) == *m))
    .map(|(_, short)| *short)
    .collect();
    short.join(",")
}

fn ingress_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    const MAX: usize = 3;
    let spec = &o["spec"];
    let rules = arr(&spec["rules"]);
    let hosts: Vec<&str> = rules
        .iter()
        .map(|r| s(&r["host"]))
        .take(MAX)
        .filter(|h| !h.is_empty())
        .collect();
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if rules.len() > MAX {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX)
    } else {
        hosts.join(",")
    };
    let address: Vec<&str> = arr(&o["status"]["loadBalancer"]["ingress"])
        .iter()
        .map(|i| {
            let ip = s(&i["ip"]);
            if ip.is_empty() { s(&i["hostname"]) } else { ip }
        })
        .filter(|a| !a.is_empty())
        .collect();
    let ports = if arr(&spec["tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    (
        vec![
            name(o),
            json!(or_none(s(&spec["ingressClassName"]))),
            json!(hosts),
            json!(address.join(",")),
            json!(ports),
            age(o, now),
        ],
        None,
    )
}

fn network_policy_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![
            name(o),
            json!(format_selector(&o["spec"]["podSelector"])),
            age(o, now),
        ],
        None,
    )
}

fn storage_class_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let ann = &o["metadata"]["annotations"];
    let is_default = s(&ann["storageclass.kubernetes.io/is-default-class"]) == "true"
        || s(&ann["storageclass.beta.kubernetes.io/is-default-class"]) == "true";
    let mut n = s(&o["metadata"]["name"]).to_string();
    if is_default {
        n.push_str(" (default)");
    }
    let or = |v: &str, d: &str| {
        if v.is_empty() {
            d.to_string()
        } else {
            v.to_string()
        }
    };
    // A raw bool cell, as printers.go emits it (kubectl prints "false").
    let expand = o["allowVolumeExpansion"].as_bool() == Some(true);
    (
        vec![
            json!(n),
            json!(s(&o["provisioner"])),
            json!(or(s(&o["reclaimPolicy"]), "Delete")),
            json!(or(s(&o["volumeBindingMode"]), "Immediate")),
            json!(expand),
            age(o, now),
        ],
        None,
    )
}

fn pv_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let claim = &spec["claimRef"];
    let claim = if claim.is_object() {
        format!("{}/{}", s(&claim["namespace"]), s(&claim["name"]))
    } else {
        String::new()
    };
    let phase = if o["metadata"]["deletionTimestamp"].is_null() {
        s(&o["status"]["phase"]).to_string()
    } else {
        "Terminating".into()
    };
    let class = o["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"]
        .as_str()
        .unwrap_or_else(|| s(&spec["storageClassName"]));
    let unset = |v: &str| {
        if v.is_empty() {
            "<unset>".to_string()
        } else {
            v.to_string()
        }
    };
    (
        vec![
            name(o),
            json!(quantity(&spec["capacity"]["storage"])),
            json!(access_modes(&spec["accessModes"])),
            json!(s(&spec["persistentVolumeReclaimPolicy"])),
            json!(phase),
            json!(claim),
            json!(class),
            json!(unset(s(&spec["volumeAttributesClassName"]))),
            json!(s(&o["status"]["reason"])),
            age(o, now),
            json!(unset(s(&spec["volumeMode"]))),
        ],
        None,
    )
}

fn role_binding_row(o: &Value, now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let subjects = arr(&o["subjects"]);
    let of_kind = |kind: &str| -> String {
        subjects
            .iter()
            .filter(|x| s(&x["kind"]) == kind)
            .map(|x| {
                if kind == "ServiceAccount" {
                    format!("{}/{}", s(&x["namespace"]), s(&x["name"]))
                } else {
                    s(&x["name"]).to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    (
        vec![
            name(o),
            json!(format!(
                "{}/{}",
                s(&o["roleRef"]["kind"]),
                s(&o["roleRef"]["name"])
            )),
            age(o, now),
            json!(of_kind("User")),
            json!(of_kind("Group")),
            json!(of_kind("ServiceAccount")),
        ],
        None,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()
    }

    fn one(res: &'static ResourceDef, obj: Value) -> Value {
        let t = table(
            res,
            &[Arc::new(obj)],
            IncludeObject::Metadata,
            json!({"resourceVersion": "7"}),
            now(),
        );
        t["rows"][0]["cells"].clone()
    }

    fn columns(res: &'static ResourceDef) -> Vec<String> {
        let t = table(res, &[], IncludeObject::None, json!({}), now());
        t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}{}",
                    c["name"].as_str().unwrap(),
                    if c["priority"] == 1 { "*" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn pod_columns_and_a_running_pod_row() {
        assert_eq!(
            columns(&resources::PODS),
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP*",
                "Node*",
                "Nominated Node*",
                "Readiness Gates*"
            ]
        );
        let pod = json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2025-01-01T11:57:58Z"},
            "spec": {"nodeName": "sim-node-1", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}},
                     "lastState": {"terminated": {"finishedAt": "2025-01-01T11:59:15Z"}}},
                    {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
                ]}
        });
        assert_eq!(
            one(&resources::PODS, pod),
            json!([
                "web-1",
                "2/2",
                "Running",
                "2 (45s ago)",
                "2m2s",
                "10.244.1.5",
                "sim-node-1",
                "<none>",
                "<none>"
            ])
        );
    }

    #[test]
    fn pod_status_reasons() {
        let base = |status: Value| json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}, "status": status});
        let cell = |pod: Value| one(&resources::PODS, pod)[2].clone();
        assert_eq!(
            cell(base(
                json!({"phase": "Running", "containerStatuses": [{"name": "a", "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})
            )),
            "CrashLoopBackOff"
        );
        assert_eq!(
            cell(base(
                json!({"phase": "Pending", "containerStatuses": [{"name": "a",
                "state": {"waiting": {"reason": "ContainerCreating"}}}]})
            )),
            "ContainerCreating"
        );
        assert_eq!(
            cell(base(
                json!({"phase": "Succeeded", "containerStatuses": [{"name": "a",
                "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]})
            )),
            "Completed"
        );
        assert_eq!(
            cell(base(
                json!({"phase": "Running", "containerStatuses": [{"name": "a",
                "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]})
            )),
            "OOMKilled"
        );
        let mut init = base(json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
            {"name": "i2", "state": {"running": {}}}]}));
        init["spec"]["initContainers"] = json!([{"name": "i1"}, {"name": "i2"}]);
        assert_eq!(cell(init), "Init:1/2");
        let mut deleting = base(json!({"phase": "Running"}));
        deleting["metadata"]["deletionTimestamp"] = json!("2025-01-01T12:00:00Z");
        assert_eq!(cell(deleting), "Terminating");
    }

    #[test]
    fn service_and_deployment_rows() {
        let svc = json!({"metadata": {"name": "web", "creationTimestamp": "2025-01-01T10:00:00Z"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP", "nodePort": 30443}],
                "selector": {"app": "web"}}});
        assert_eq!(
            one(&resources::SERVICES, svc),
            json!([
                "web",
                "ClusterIP",
                "10.96.0.10",
                "<none>",
                "80/TCP,443:30443/TCP",
                "120m",
                "app=web"
            ])
        );
        let dep = json!({"metadata": {"name": "web", "creationTimestamp": "2024-12-30T08:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        assert_eq!(
            one(&resources::DEPLOYMENTS, dep),
            json!(["web", "2/3", 3, 2, "2d4h", "web", "nginx:1.25", "app=web"])
        );
    }

    #[test]
    fn node_hpa_and_event_rows() {
        let node = json!({"metadata": {"name": "n1", "creationTimestamp": "2025-01-01T11:00:00Z",
            "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
                "nodeInfo": {"kubeletVersion": "v1.31.4"}}});
        assert_eq!(
            one(&resources::NODES, node),
            json!([
                "n1",
                "Ready,SchedulingDisabled",
                "control-plane",
                "60m",
                "v1.31.4",
                "172.18.0.2",
                "<none>",
                "<unknown>",
                "<unknown>",
                "<unknown>"
            ])
        );
        let hpa = json!({"metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
            "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45}}}]}});
        let cells = one(&resources::HPAS, hpa);
        assert_eq!(cells[1], "Deployment/web");
        assert_eq!(cells[2], "cpu: 45%/70%, memory: <unknown>/80%");
        assert_eq!(
            (cells[3].clone(), cells[4].clone(), cells[5].clone()),
            (json!("1"), json!(5), json!(2))
        );
        let ev = json!({"metadata": {"name": "web-1.abc"}, "type": "Warning", "reason": "BackOff",
            "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
            "source": {"component": "kubelet", "host": "n1"}, "message": "Back-off restarting failed container\n",
            "firstTimestamp": "2025-01-01T11:00:00Z", "lastTimestamp": "2025-01-01T11:59:30Z", "count": 7});
        assert_eq!(
            one(&resources::EVENTS, ev),
            json!([
                "30s",
                "Warning",
                "BackOff",
                "pod/web-1",
                "spec.containers{web}",
                "kubelet, n1",
                "Back-off restarting failed container",
                "60m",
                7,
                "web-1.abc"
            ])
        );
    }

    #[test]
    fn rows_carry_partial_metadata_or_the_object() {
        let cm = Arc::new(
            json!({"metadata": {"name": "c", "creationTimestamp": "2025-01-01T11:59:00Z"},
            "data": {"a": "1", "b": "2"}}),
        );
        let t = table(
            &resources::CONFIGMAPS,
            std::slice::from_ref(&cm),
            IncludeObject::Metadata,
            json!({"resourceVersion": "9"}),
            now(),
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["metadata"]["resourceVersion"], "9");
        assert_eq!(t["rows"][0]["cells"], json!(["c", 2, "60s"]));
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["rows"][0]["object"]["metadata"]["name"], "c");
        let t = table(
            &resources::CONFIGMAPS,
            std::slice::from_ref(&cm),
            IncludeObject::Object,
            json!({}),
            now(),
        );
        assert_eq!(t["rows"][0]["object"]["data"]["a"], "1");
        let t = table(
            &resources::CONFIGMAPS,
            &[cm],
            IncludeObject::None,
            json!({}),
            now(),
        );
        assert!(t["rows"][0].get("object").is_none());
        assert_eq!(IncludeObject::parse(""), IncludeObject::Metadata);
    }

    #[test]
    fn ingress_storage_class_and_binding_rows() {
        let ing = json!({"metadata": {"name": "web", "creationTimestamp": "2025-01-01T11:59:00Z"},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}],
                "tls": [{"hosts": ["a.example.com"]}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.10"}]}}});
        assert_eq!(
            one(&resources::INGRESSES, ing),
            json!([
                "web",
                "nginx",
                "a.example.com,b.example.com",
                "172.18.0.10",
                "80, 443",
                "60s"
            ])
        );
        let sc = json!({"metadata": {"name": "standard", "creationTimestamp": "2025-01-01T11:59:00Z",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            one(&resources::STORAGE_CLASSES, sc),
            json!([
                "standard (default)",
                "rancher.io/local-path",
                "Delete",
                "WaitForFirstConsumer",
                false,
                "60s"
            ])
        );
        let rb = json!({"metadata": {"name": "view", "creationTimestamp": "2025-01-01T11:59:00Z"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "demo"}, {"kind": "User", "name": "jane"}]});
        assert_eq!(
            one(&resources::ROLE_BINDINGS, rb),
            json!([
                "view",
                "ClusterRole/view",
                "60s",
                "jane",
                "",
                "demo/default"
            ])
        );
        let np = json!({"metadata": {"name": "deny", "creationTimestamp": "2025-01-01T11:59:00Z"}, "spec": {"podSelector": {}}});
        assert_eq!(
            one(&resources::NETWORK_POLICIES, np),
            json!(["deny", "<none>", "60s"])
        );
    }

    #[test]
    fn default_table_for_other_kinds_and_job_rows() {
        assert_eq!(columns(&resources::ROLES), ["Name", "Created At"]);
        let job = json!({"metadata": {"name": "j", "creationTimestamp": "2025-01-01T11:50:00Z"},
            "spec": {"completions": 3, "parallelism": 1, "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}},
            "status": {"succeeded": 3, "startTime": "2025-01-01T11:50:00Z", "completionTime": "2025-01-01T11:50:40Z",
                "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            one(&resources::JOBS, job),
            json!([
                "j",
                "Complete",
                "3/3",
                "40s",
                "10m",
                "c",
                "busybox",
                "batch.kubernetes.io/controller-uid=u1"
            ])
        );
    }
}
