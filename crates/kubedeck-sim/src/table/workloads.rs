//! Deployments, ReplicaSets, StatefulSets, DaemonSets and their ControllerRevisions.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{age, arr, containers_cells, format_labels, int, name, s, selector_string};
use super::{AGE, CONTAINERS, Col, IMAGES, NAME, Printer, SELECTOR, col, is};
use crate::resources::{self, ResourceDef};

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::DEPLOYMENTS) {
        Some((
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
        ))
    } else if is(res, &resources::REPLICASETS) {
        Some((
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
        ))
    } else if is(res, &resources::STATEFULSETS) {
        Some((
            vec![
                NAME,
                col("Ready", "string", "Number of the pod with ready state"),
                AGE,
                CONTAINERS,
                IMAGES,
            ],
            statefulset_row,
        ))
    } else if is(res, &resources::DAEMONSETS) {
        Some((
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
        ))
    } else if is(res, &resources::CONTROLLER_REVISIONS) {
        Some((
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
        ))
    } else {
        None
    }
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
