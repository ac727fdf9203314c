//! Server-side printing: `meta.k8s.io/v1` Tables with the columns and cell
//! formats of k8s.io/kubernetes pkg/printers/internalversion/printers.go.
//! The server always fills every column; priority-1 columns are the ones
//! kubectl shows only with `-o wide`.

mod autoscaling;
mod batch;
mod cells;
mod cluster;
mod config;
mod custom;
mod network;
mod pods;
mod storage;
#[cfg(test)]
mod tests;
mod workloads;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::resources::ResourceDef;
use crate::store::Obj;
use cells::name;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// The `includeObject` query parameter; Metadata when absent or unknown.
    pub(crate) fn parse(s: &str) -> IncludeObject {
        match s {
            "None" => IncludeObject::None,
            "Object" => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
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
pub(crate) const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
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

/// A row's cells and, for some kinds, its conditions.
type PrintedRow = (Vec<Value>, Option<Value>);
type Printer = fn(&Value, DateTime<Utc>) -> PrintedRow;
/// A printer with its clock (and, for custom kinds, its columns).
type RowPrinter<'a> = dyn Fn(&Value) -> PrintedRow + 'a;

fn is(res: &ResourceDef, kind: &ResourceDef) -> bool {
    std::ptr::eq(res, kind)
}

/// The columns and the row printer for a kind: its group's, else the
/// default table of name and creation time.
fn printer_for(res: &'static ResourceDef) -> (Vec<Col>, Printer) {
    pods::printer(res)
        .or_else(|| workloads::printer(res))
        .or_else(|| batch::printer(res))
        .or_else(|| autoscaling::printer(res))
        .or_else(|| network::printer(res))
        .or_else(|| storage::printer(res))
        .or_else(|| cluster::printer(res))
        .or_else(|| config::printer(res))
        .or_else(|| custom::crd_printer(res))
        .unwrap_or_else(|| (vec![NAME, col("Created At", "date", AGE_DOC)], default_row))
}

/// Builds the Table answer for a list (or a single object) of one kind.
pub(crate) fn table(
    res: &'static ResourceDef,
    objs: &[Obj],
    include: IncludeObject,
    list_meta: Value,
    now: DateTime<Utc>,
) -> Value {
    let (column_definitions, print): (Vec<Value>, Box<RowPrinter>) = if res.custom {
        (
            custom::column_definitions(res),
            Box::new(move |o| (custom::row(res, o, now), None)),
        )
    } else {
        let (cols, print) = printer_for(res);
        let defs = cols
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
        (defs, Box::new(move |o| print(o, now)))
    };
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let (cells, conditions) = print(o);
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

fn default_row(o: &Value, _now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    (
        vec![name(o), o["metadata"]["creationTimestamp"].clone()],
        None,
    )
}
