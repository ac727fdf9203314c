//! ConfigMaps, Secrets, ServiceAccounts and (Cluster)RoleBindings.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{age, arr, name, s};
use super::{AGE, Col, NAME, Printer, col, is, wide};
use crate::resources::{self, ResourceDef};

/// The columns and row printer of a kind of this group.
pub(super) fn printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    if is(res, &resources::CONFIGMAPS) {
        Some((
            vec![
                NAME,
                col("Data", "integer", "Data contains the configuration data."),
                AGE,
            ],
            configmap_row,
        ))
    } else if is(res, &resources::SECRETS) {
        Some((
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
        ))
    } else if is(res, &resources::SERVICE_ACCOUNTS) {
        // Name and age only: kube dropped the Secrets column when token
        // Secrets stopped being made for ServiceAccounts.
        Some((vec![NAME, AGE], service_account_row))
    } else if is(res, &resources::ROLE_BINDINGS) || is(res, &resources::CLUSTER_ROLE_BINDINGS) {
        Some((
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
        ))
    } else {
        None
    }
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
    (vec![name(o), age(o, now)], None)
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

fn map_len(v: &Value) -> usize {
    v.as_object().map_or(0, |m| m.len())
}
