//! HorizontalPodAutoscalers and PodDisruptionBudgets: how far a workload
//! scales, and how far it may be disrupted.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{age, arr, int, name, quantity, s};
use super::{AGE, Col, NAME, Printer, col, is};
use crate::resources::{self, ResourceDef};

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::HPAS) {
        Some((
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
        ))
    } else if is(res, &resources::PDBS) {
        Some((
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
        ))
    } else {
        None
    }
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
