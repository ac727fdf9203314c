//! Field selectors (`fieldSelector=`), restricted to the fields the real
//! API server supports for each kind, as k8s.io/apimachinery's `fields`
//! package parses and matches them.

use serde_json::Value;

use crate::error::ApiError;
use crate::resources::{self, ResourceDef};

#[derive(Debug, Clone, PartialEq)]
struct FieldTerm {
    field: String,
    value: String,
    negate: bool,
}

/// A field selector (`fieldSelector=`), restricted to the fields the real
/// API server supports for each kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector {
    terms: Vec<FieldTerm>,
    res: Option<&'static ResourceDef>,
}

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
];
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

fn supported_fields(res: &ResourceDef) -> &'static [&'static str] {
    if std::ptr::eq(res, &resources::PODS) {
        POD_FIELDS
    } else if std::ptr::eq(res, &resources::EVENTS) || std::ptr::eq(res, &resources::EVENTS_V1) {
        EVENT_FIELDS
    } else if std::ptr::eq(res, &resources::NODES) {
        &["spec.unschedulable"]
    } else if std::ptr::eq(res, &resources::NAMESPACES) {
        &["status.phase"]
    } else if std::ptr::eq(res, &resources::SECRETS) {
        &["type"]
    } else if std::ptr::eq(res, &resources::JOBS) {
        &["status.successful"]
    } else if std::ptr::eq(res, &resources::REPLICASETS) {
        &["status.replicas"]
    } else {
        &[]
    }
}

/// Splits on separators not preceded by a backslash escape.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence: {s}"
                    ));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Finds the first unescaped `!=`, `==` or `=` in a term.
fn split_term(term: &str) -> Option<(&str, &str, &str)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        for op in ["!=", "==", "="] {
            // Bytes, not str: `i` may sit inside a multi-byte character.
            if bytes[i..].starts_with(op.as_bytes()) {
                return Some((&term[..i], op, &term[i + op.len()..]));
            }
        }
        i += 1;
    }
    None
}

impl FieldSelector {
    /// Parses `fieldSelector=` for a kind; unknown fields are a 400 as on a
    /// real server.
    pub(crate) fn parse(res: &'static ResourceDef, s: &str) -> Result<FieldSelector, ApiError> {
        let mut terms = Vec::new();
        let s = s.trim();
        if !s.is_empty() {
            for term in split_unescaped(s, ',') {
                let Some((field, op, value)) = split_term(&term) else {
                    return Err(ApiError::bad_request(format!(
                        "invalid selector: '{s}'; can't understand '{term}'"
                    )));
                };
                let field = field.trim();
                let value = unescape(value).map_err(ApiError::bad_request)?;
                if field != "metadata.name"
                    && field != "metadata.namespace"
                    && !supported_fields(res).contains(&field)
                {
                    return Err(ApiError::bad_request(format!(
                        "field label not supported: {field}"
                    )));
                }
                terms.push(FieldTerm {
                    field: field.to_string(),
                    value,
                    negate: op == "!=",
                });
            }
        }
        Ok(FieldSelector {
            terms,
            res: Some(res),
        })
    }

    /// Whether the object passes every term; a missing field reads as "".
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|t| {
            let have = self.field_value(obj, &t.field);
            (have == t.value) != t.negate
        })
    }

    fn field_value(&self, obj: &Value, field: &str) -> String {
        let is = |r: &ResourceDef| self.res.is_some_and(|s| std::ptr::eq(s, r));
        let path: &[&str] = match field {
            "source" => &["source", "component"],
            "status.successful" if is(&resources::JOBS) => {
                return obj["status"]["succeeded"].as_i64().unwrap_or(0).to_string();
            }
            "spec.unschedulable" => {
                return obj["spec"]["unschedulable"]
                    .as_bool()
                    .unwrap_or(false)
                    .to_string();
            }
            "spec.hostNetwork" => {
                return obj["spec"]["hostNetwork"]
                    .as_bool()
                    .unwrap_or(false)
                    .to_string();
            }
            "status.replicas" => {
                return obj["status"]["replicas"].as_i64().unwrap_or(0).to_string();
            }
            "status.podIPs" => &["status", "podIP"],
            "reportingComponent" => {
                let v = obj["reportingComponent"].as_str().unwrap_or_default();
                let v = if v.is_empty() {
                    obj["reportingController"].as_str().unwrap_or_default()
                } else {
                    v
                };
                return v.to_string();
            }
            _ => {
                let mut cur = obj;
                for part in field.split('.') {
                    cur = &cur[part];
                }
                return scalar_string(cur);
            }
        };
        let mut cur = obj;
        for part in path {
            cur = &cur[*part];
        }
        scalar_string(cur)
    }
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Found by the `field_selector` fuzz target: a multi-byte character
    /// in a term panicked the server's request handler.
    #[test]
    fn non_ascii_terms_are_an_error_not_a_panic() {
        for s in ["spec.nodeNameő", "ő=x", "spec.nodeName=ő", "a\\ő=1"] {
            let _ = FieldSelector::parse(&resources::PODS, s);
        }
        let sel = FieldSelector::parse(&resources::PODS, "spec.nodeName=nődé").expect("parses");
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "nődé"}});
        assert!(sel.matches(&pod));
        assert!(FieldSelector::parse(&resources::PODS, "spec.nodeNameő").is_err());
    }

    #[test]
    fn field_selectors_check_supported_fields_per_kind() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "demo"},
            "spec": {"nodeName": "n1", "restartPolicy": "Always"},
            "status": {"phase": "Running"}
        });
        let sel = FieldSelector::parse(&resources::PODS, "spec.nodeName=n1,status.phase!=Failed")
            .unwrap();
        assert!(sel.matches(&pod));
        let sel = FieldSelector::parse(&resources::PODS, "spec.nodeName==").unwrap();
        assert!(!sel.matches(&pod));
        let sel = FieldSelector::parse(&resources::PODS, "status.nominatedNodeName=").unwrap();
        assert!(sel.matches(&pod));
        let err = FieldSelector::parse(&resources::CONFIGMAPS, "spec.nodeName=n1").unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(err.message, "field label not supported: spec.nodeName");
        assert!(FieldSelector::parse(&resources::PODS, "nonsense").is_err());
        let by_name = FieldSelector::parse(&resources::CONFIGMAPS, "metadata.name=p").unwrap();
        assert!(by_name.matches(&pod));
    }

    #[test]
    fn field_selectors_for_events_nodes_and_jobs() {
        let ev = json!({
            "involvedObject": {"kind": "Pod", "name": "web-1"},
            "source": {"component": "kubelet"},
            "type": "Warning"
        });
        let sel = FieldSelector::parse(
            &resources::EVENTS,
            "involvedObject.kind=Pod,involvedObject.name=web-1,source=kubelet,type=Warning",
        )
        .unwrap();
        assert!(sel.matches(&ev));
        let node = json!({"metadata": {"name": "n"}, "spec": {}});
        assert!(
            FieldSelector::parse(&resources::NODES, "spec.unschedulable=false")
                .unwrap()
                .matches(&node)
        );
        let job = json!({"status": {"succeeded": 2}});
        assert!(
            FieldSelector::parse(&resources::JOBS, "status.successful=2")
                .unwrap()
                .matches(&job)
        );
        let escaped = FieldSelector::parse(&resources::CONFIGMAPS, r"metadata.name=a\,b").unwrap();
        assert!(escaped.matches(&json!({"metadata": {"name": "a,b"}})));
    }
}
