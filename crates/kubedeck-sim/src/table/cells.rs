//! How values become cells: the helpers of kube's printers that every
//! kind's printer shares.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::store::parse_time;
use kubedeck_kube::age::human_duration;
use kubedeck_kube::selector::LabelSelector;

/// `translateTimestampSince`: "<unknown>" for a missing time.
pub(super) fn since(v: &Value, now: DateTime<Utc>) -> String {
    match v.as_str().and_then(parse_time) {
        Some(t) => human_duration(now - t),
        None => "<unknown>".into(),
    }
}

pub(super) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

pub(super) fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

pub(super) fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

pub(super) fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.to_string()
    }
}

/// `labels.FormatLabels`: sorted `k=v` pairs, "<none>" when empty.
pub(super) fn format_labels(m: &Value) -> String {
    let Some(m) = m.as_object() else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
    pairs.sort();
    or_none(&pairs.join(","))
}

/// `metav1.FormatLabelSelector`: "<none>" for a missing or empty selector.
pub(super) fn format_selector(sel: &Value) -> String {
    match LabelSelector::from_object(sel) {
        Ok(sel) => or_none(&sel.to_string()),
        Err(_) => "<error>".into(),
    }
}

/// `layoutContainerCells`: container names and images, comma-joined.
pub(super) fn containers_cells(pod_spec: &Value) -> (String, String) {
    let cs = arr(&pod_spec["containers"]);
    let names: Vec<&str> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

/// A quantity or IntOrString as the Go printers format it.
pub(super) fn quantity(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(super) fn name(o: &Value) -> Value {
    o["metadata"]["name"].clone()
}

pub(super) fn age(o: &Value, now: DateTime<Utc>) -> Value {
    json!(since(&o["metadata"]["creationTimestamp"], now))
}

pub(super) fn has_condition(status: &Value, ty: &str) -> bool {
    arr(&status["conditions"])
        .iter()
        .any(|c| s(&c["type"]) == ty && s(&c["status"]) == "True")
}

/// A workload's selector as `LabelSelectorAsSelector(...).String()`.
pub(super) fn selector_string(sel: &Value) -> String {
    LabelSelector::from_object(sel)
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "<invalid>".into())
}
