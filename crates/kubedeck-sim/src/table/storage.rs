//! PersistentVolumeClaims, PersistentVolumes and StorageClasses.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{age, arr, name, quantity, s};
use super::{AGE, Col, NAME, Printer, col, is, wide};
use crate::resources::{self, ResourceDef};

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::PVCS) {
        Some((
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
        ))
    } else if is(res, &resources::STORAGE_CLASSES) {
        Some((
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
        ))
    } else if is(res, &resources::PVS) {
        Some((
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
        ))
    } else {
        None
    }
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
