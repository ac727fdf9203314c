//! Tables of custom resources, as apiextensions-apiserver's tableconvertor
//! prints them: Name, then the CRD version's printer columns (or Age), each
//! cell the first value its JSONPath finds, typed as the column says. Also
//! the Table of the CRDs themselves.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::cells::{arr, name, s};
use super::{AGE_DOC, Col, NAME, Printer, col, is, wide};
use crate::resources::{self, PrinterColumn, ResourceDef};
use crate::store::parse_time;
use jsonpath_rust::JsonPath as _;
use kubedeck_kube::age::human_duration;

/// The CRDs' own columns, as kube-apiserver (1.37, the real testbed's)
/// prints them.
pub(super) fn crd_printer(res: &ResourceDef) -> Option<(Vec<Col>, Printer)> {
    is(res, &resources::CRDS).then(|| {
        (
            vec![
                NAME,
                col("Scope", "string", "Cluster/Namespaced"),
                col("Versions", "string", "Served versions"),
                col("Created At", "date", AGE_DOC),
                wide("Group", "string", "API group"),
                wide("Kind", "string", "CustomResource kind"),
                wide("ShortNames", "string", "Short names"),
                wide("Established", "boolean", "Established status"),
            ],
            crd_row as Printer,
        )
    })
}

fn crd_row(o: &Value, _now: DateTime<Utc>) -> (Vec<Value>, Option<Value>) {
    let spec = &o["spec"];
    let versions: Vec<String> = arr(&spec["versions"])
        .iter()
        .filter(|v| v["served"] == true)
        .map(|v| {
            let name = s(&v["name"]);
            if v["storage"] == true {
                format!("{name}(storage)")
            } else {
                name.to_string()
            }
        })
        .collect();
    let short: Vec<&str> = arr(&spec["names"]["shortNames"]).iter().map(s).collect();
    let established = arr(&o["status"]["conditions"])
        .iter()
        .any(|c| c["type"] == "Established" && c["status"] == "True");
    let cells = vec![
        name(o),
        json!(s(&spec["scope"])),
        json!(versions.join(",")),
        o["metadata"]["creationTimestamp"].clone(),
        json!(s(&spec["group"])),
        json!(s(&spec["names"]["kind"])),
        json!(short.join(",")),
        json!(established),
    ];
    (cells, None)
}

pub(super) fn column_definitions(res: &ResourceDef) -> Vec<Value> {
    let mut defs = vec![json!({
        "name": NAME.name, "type": NAME.ty, "format": NAME.format,
        "description": NAME.description, "priority": NAME.priority,
    })];
    defs.extend(res.columns.iter().map(|c| {
        json!({
            "name": c.name, "type": c.ty, "format": c.format,
            "description": c.description, "priority": c.priority,
        })
    }));
    defs
}

pub(super) fn row(res: &ResourceDef, o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut cells = vec![name(o)];
    cells.extend(res.columns.iter().map(|c| cell(c, o, now)));
    cells
}

/// The first value a Kubernetes JSONPath (`.status.conditions[?(@.type=="Ready")].status`)
/// finds, through its RFC 9535 spelling (`$` in front, braces dropped).
fn first(path: &str, o: &Value) -> Option<Value> {
    let inner = path
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path.trim());
    let found = o.query(&format!("${inner}")).ok()?;
    found.first().map(|v| (*v).clone())
}

fn cell(c: &PrinterColumn, o: &Value, now: DateTime<Utc>) -> Value {
    let Some(v) = first(c.json_path, o).filter(|v| !v.is_null()) else {
        return Value::Null;
    };
    match c.ty {
        // jsonpath's text output: strings as they are, maps and lists as
        // JSON, numbers and booleans as Go prints them.
        "string" => match &v {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
        "integer" => match v.as_i64() {
            Some(i) => json!(i),
            None => v.as_f64().map_or(Value::Null, |f| json!(f.trunc() as i64)),
        },
        "number" => v.as_f64().map_or(Value::Null, go_float),
        "boolean" => v.as_bool().map_or(Value::Null, |b| json!(b)),
        // The server prints dates as ages (`ConvertToHumanReadableDateType`).
        "date" => match v.as_str() {
            Some(s) => parse_time(s).map_or(json!("<invalid>"), |t| json!(human_duration(now - t))),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// A float64 as Go's encoding/json writes it: integral values without a
/// fraction (`2`, not `2.0`).
fn go_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(ty: &'static str, json_path: &'static str) -> PrinterColumn {
        PrinterColumn {
            name: "X",
            ty,
            format: "",
            description: "",
            priority: 0,
            json_path,
        }
    }

    #[test]
    fn cells_take_the_first_match_typed_as_the_column() {
        let o = json!({
            "metadata": {"name": "w", "creationTimestamp": "2024-01-02T03:04:05Z"},
            "spec": {"size": 3.7, "tags": ["a", "b"], "on": true, "ratio": 2},
            "status": {"conditions": [
                {"type": "Synced", "status": "False"},
                {"type": "Ready", "status": "True"}]},
        });
        let now = parse_time("2024-01-02T05:04:05Z").unwrap();
        let at = |ty, p| cell(&column(ty, p), &o, now);
        assert_eq!(at("integer", ".spec.size"), json!(3));
        assert_eq!(at("number", ".spec.ratio").to_string(), "2");
        assert_eq!(at("number", ".spec.size").to_string(), "3.7");
        assert_eq!(at("string", ".spec.tags"), json!(r#"["a","b"]"#));
        assert_eq!(at("string", ".spec.tags[*]"), json!("a"));
        assert_eq!(at("string", ".spec.size"), json!("3.7"));
        assert_eq!(at("boolean", ".spec.on"), json!(true));
        assert_eq!(
            at("string", r#".status.conditions[?(@.type=="Ready")].status"#),
            json!("True")
        );
        assert_eq!(at("date", ".metadata.creationTimestamp"), json!("120m"));
        assert_eq!(at("string", ".spec.missing"), Value::Null);
        assert_eq!(at("integer", ".spec.tags"), Value::Null);
        assert_eq!(at("date", ".spec.tags[0]"), json!("<invalid>"));
    }
}
