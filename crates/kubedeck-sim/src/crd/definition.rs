//! What a CustomResourceDefinition object says: the kinds it serves, the
//! defaults and status kube-apiserver gives it, and the checks it must pass.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::resources::{self, PrinterColumn, ResourceDef};
use crate::store::now_rfc3339;

/// A custom kind's verbs, in the order apiextensions-apiserver lists them.
const CUSTOM_VERBS: &[&str] = &[
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];

/// The owned content of a custom kind, the interning key of its leaked
/// `ResourceDef`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct DefSpec {
    group: String,
    version: String,
    plural: String,
    singular: String,
    kind: String,
    namespaced: bool,
    short_names: Vec<String>,
    categories: Vec<String>,
    status: bool,
    columns: Vec<ColumnSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ColumnSpec {
    name: String,
    ty: String,
    format: String,
    description: String,
    priority: i64,
    json_path: String,
}

/// A `&'static str` for this text, leaked once per distinct text.
fn leak_str(s: &str) -> &'static str {
    static STRS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = STRS.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(s) = set.get(s) {
        return s;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn leak_strs(v: &[String]) -> &'static [&'static str] {
    Box::leak(
        v.iter()
            .map(|s| leak_str(s))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

impl DefSpec {
    pub(super) fn leak(&self) -> ResourceDef {
        let columns: Vec<PrinterColumn> = self
            .columns
            .iter()
            .map(|c| PrinterColumn {
                name: leak_str(&c.name),
                ty: leak_str(&c.ty),
                format: leak_str(&c.format),
                description: leak_str(&c.description),
                priority: c.priority,
                json_path: leak_str(&c.json_path),
            })
            .collect();
        ResourceDef {
            group: leak_str(&self.group),
            version: leak_str(&self.version),
            plural: leak_str(&self.plural),
            singular: leak_str(&self.singular),
            kind: leak_str(&self.kind),
            namespaced: self.namespaced,
            short_names: leak_strs(&self.short_names),
            verbs: CUSTOM_VERBS,
            subresources: if self.status { &["status"] } else { &[] },
            categories: leak_strs(&self.categories),
            stored: true,
            custom: true,
            columns: Box::leak(columns.into_boxed_slice()),
        }
    }
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The columns a version prints: its `additionalPrinterColumns`, or Age
/// when it has none (apiextensions' `serveDefaultColumnsIfEmpty`). Name
/// always comes first and is not listed here.
fn columns(version: &Value) -> Vec<ColumnSpec> {
    let cols = version["additionalPrinterColumns"]
        .as_array()
        .filter(|a| !a.is_empty());
    let Some(cols) = cols else {
        return vec![ColumnSpec {
            name: "Age".into(),
            ty: "date".into(),
            format: String::new(),
            description: crate::table::AGE_DOC.into(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        }];
    };
    cols.iter()
        .map(|c| {
            let json_path = text(&c["jsonPath"]);
            let description = match c["description"].as_str() {
                Some(d) if !d.is_empty() => d.to_string(),
                _ => format!("Custom resource definition column (in JSONPath format): {json_path}"),
            };
            ColumnSpec {
                name: text(&c["name"]),
                ty: text(&c["type"]),
                format: text(&c["format"]),
                description,
                priority: c["priority"].as_i64().unwrap_or(0),
                json_path,
            }
        })
        .collect()
}

/// The kinds an established CRD serves, one per served version, the
/// preferred version first.
pub(super) fn served_specs(crd: &Value) -> Vec<DefSpec> {
    let established = crd["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    });
    if !established {
        return Vec::new();
    }
    let spec = &crd["spec"];
    let names = &crd["status"]["acceptedNames"];
    let mut versions: Vec<&Value> = spec["versions"]
        .as_array()
        .map(|a| a.iter().filter(|v| v["served"] == true).collect())
        .unwrap_or_default();
    versions.sort_by(|a, b| {
        version_priority(b["name"].as_str().unwrap_or_default())
            .cmp(&version_priority(a["name"].as_str().unwrap_or_default()))
    });
    versions
        .into_iter()
        .map(|v| DefSpec {
            group: text(&spec["group"]),
            version: text(&v["name"]),
            plural: text(&names["plural"]),
            singular: text(&names["singular"]),
            kind: text(&names["kind"]),
            namespaced: spec["scope"] == "Namespaced",
            short_names: strs(&names["shortNames"]),
            categories: strs(&names["categories"]),
            status: v["subresources"]["status"].is_object(),
            columns: columns(v),
        })
        .collect()
}

/// Kubernetes' version order: GA before beta before alpha, higher numbers
/// first, then any other name (ordered by `Reverse` of the name, so that
/// sorting descending puts it alphabetically).
fn version_priority(v: &str) -> (u8, u64, u64, std::cmp::Reverse<String>) {
    let parsed = v.strip_prefix('v').and_then(|rest| {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let major: u64 = rest[..digits].parse().ok()?;
        match &rest[digits..] {
            "" => Some((3, major, 0)),
            tail => {
                let (level, n) = if let Some(n) = tail.strip_prefix("beta") {
                    (2, n)
                } else {
                    (1, tail.strip_prefix("alpha")?)
                };
                Some((level, major, n.parse().ok()?))
            }
        }
    });
    match parsed {
        Some((level, major, minor)) => (level, major, minor, std::cmp::Reverse(String::new())),
        None => (0, 0, 0, std::cmp::Reverse(v.to_string())),
    }
}

fn set_default(obj: &mut Value, field: &str, v: Value) {
    if obj[field].is_null() {
        obj[field] = v;
    }
}

/// A condition as the apiextensions controllers set it; its transition time
/// is kept while its status does not change.
fn condition(old: &Value, ty: &str, reason: &str, message: &str) -> Value {
    let kept = old.as_array().and_then(|a| {
        a.iter()
            .find(|c| c["type"] == ty && c["status"] == "True")
            .map(|c| c["lastTransitionTime"].clone())
    });
    json!({
        "type": ty,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": kept.unwrap_or_else(|| json!(now_rfc3339())),
    })
}

/// The defaults and status kube-apiserver gives a CRD. Its names controller
/// and establishing controller do it asynchronously, within milliseconds;
/// here it happens on the write, so the kinds are served as soon as the
/// create returns (the simulator knows no name conflicts to wait on).
pub(crate) fn apply_defaults(crd: &mut Value) {
    let names = &mut crd["spec"]["names"];
    if names.is_object() {
        let kind = text(&names["kind"]);
        set_default(names, "singular", json!(kind.to_ascii_lowercase()));
        set_default(names, "listKind", json!(format!("{kind}List")));
    }
    set_default(&mut crd["spec"], "conversion", json!({"strategy": "None"}));
    let accepted = crd["spec"]["names"].clone();
    let old = crd["status"]["conditions"].clone();
    let mut stored = strs(&crd["status"]["storedVersions"]);
    if let Some(v) = crd["spec"]["versions"]
        .as_array()
        .and_then(|a| a.iter().find(|v| v["storage"] == true))
        .and_then(|v| v["name"].as_str())
        && !stored.iter().any(|s| s == v)
    {
        stored.push(v.to_string());
    }
    crd["status"] = json!({
        "acceptedNames": accepted,
        "conditions": [
            condition(&old, "NamesAccepted", "NoConflicts", "no conflicts found"),
            condition(&old, "Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "storedVersions": stored,
    });
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The checks of apiextensions' CRD validation that a user meets first:
/// the name is `<plural>.<group>`, names and scope are set, exactly one
/// version is stored, and the identity does not change on update.
pub(crate) fn validate(crd: &Value, old: Option<&Value>) -> ApiResult<()> {
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    let kind = spec["names"]["kind"].as_str().unwrap_or_default();
    let mut errs: Vec<(String, String)> = Vec::new();
    let mut err = |f: &str, m: String| errs.push((f.to_string(), m));
    if !plural.is_empty() && !group.is_empty() && name != format!("{plural}.{group}") {
        err(
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        );
    }
    if group.is_empty() {
        err("spec.group", "Required value".into());
    } else if !group.contains('.') {
        err(
            "spec.group",
            format!("Invalid value: \"{group}\": should be a domain with at least one dot"),
        );
    }
    if plural.is_empty() {
        err("spec.names.plural", "Required value".into());
    } else if !is_dns_label(plural) {
        err(
            "spec.names.plural",
            format!("Invalid value: \"{plural}\": a lowercase RFC 1123 label is required"),
        );
    }
    if kind.is_empty() {
        err("spec.names.kind", "Required value".into());
    }
    match spec["scope"].as_str() {
        Some("Namespaced" | "Cluster") => {}
        Some(s) => err(
            "spec.scope",
            format!("Unsupported value: \"{s}\": supported values: \"Cluster\", \"Namespaced\""),
        ),
        None => err("spec.scope", "Required value".into()),
    }
    let versions = spec["versions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if versions.iter().filter(|v| v["storage"] == true).count() != 1 {
        err(
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version".into(),
        );
    }
    for (i, v) in versions.iter().enumerate() {
        for (j, c) in v["additionalPrinterColumns"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let at = format!("spec.versions[{i}].additionalPrinterColumns[{j}]");
            let ty = c["type"].as_str().unwrap_or_default();
            if !matches!(ty, "integer" | "number" | "string" | "boolean" | "date") {
                err(
                    &format!("{at}.type"),
                    format!(
                        "Unsupported value: \"{ty}\": supported values: \"boolean\", \"date\", \"integer\", \"number\", \"string\""
                    ),
                );
            }
            if !c["jsonPath"].as_str().is_some_and(|p| p.starts_with('.')) {
                err(
                    &format!("{at}.jsonPath"),
                    "Invalid value: must be a simple json path starting with .".into(),
                );
            }
        }
    }
    if let Some(old) = old {
        for field in ["group", "scope"] {
            if !old["spec"][field].is_null() && old["spec"][field] != spec[field] {
                err(
                    &format!("spec.{field}"),
                    "Invalid value: field is immutable".into(),
                );
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&resources::CRDS, name, &errs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_as_kubernetes_prefers_them() {
        let mut v = vec!["v1alpha1", "foo", "v2", "v1beta2", "v1", "v1beta1", "bar"];
        v.sort_by_key(|s| std::cmp::Reverse(version_priority(s)));
        assert_eq!(
            v,
            ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "bar", "foo"]
        );
    }

    #[test]
    fn defaults_establish_the_crd_and_record_the_stored_version() {
        let mut crd = json!({"spec": {"names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}});
        apply_defaults(&mut crd);
        assert_eq!(crd["spec"]["names"]["singular"], "widget");
        assert_eq!(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
        assert_eq!(crd["status"]["conditions"][1]["type"], "Established");
        assert_eq!(served_specs(&crd).len(), 1);
    }

    #[test]
    fn bad_definitions_are_invalid_with_the_field_named() {
        let crd = json!({"metadata": {"name": "widget.example.com"},
            "spec": {"group": "example.com", "scope": "Everywhere",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": false,
                    "additionalPrinterColumns": [{"name": "X", "type": "map", "jsonPath": "spec.x"}]}]}});
        let e = validate(&crd, None).unwrap_err();
        assert_eq!(e.code, 422);
        for field in [
            "metadata.name",
            "spec.scope",
            "spec.versions",
            "type",
            "jsonPath",
        ] {
            assert!(e.message.contains(field), "{field} in {}", e.message);
        }
    }
}
