//! Nodes, Namespaces and Events.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{age, arr, int, name, or_none, s, since};
use super::{AGE, Col, NAME, Printer, col, is, wide};
use crate::resources::{self, ResourceDef};

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::EVENTS) || is(res, &resources::EVENTS_V1) {
        Some((
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
        ))
    } else if is(res, &resources::NODES) {
        Some((
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
        ))
    } else if is(res, &resources::NAMESPACES) {
        Some((
            vec![
                NAME,
                col("Status", "string", "The status of the namespace"),
                AGE,
            ],
            namespace_row,
        ))
    } else {
        None
    }
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
