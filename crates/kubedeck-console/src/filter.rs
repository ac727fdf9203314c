//! The `/` filter: a substring of the row's name and namespace, or with a
//! leading `-l`, a label selector in kubectl's syntax.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use kubedeck_kube::selector::LabelSelector;

#[derive(Debug, Clone, Default)]
pub(crate) enum Filter {
    #[default]
    All,
    /// Lower-cased text to find in the name or namespace.
    Text(String),
    Labels(LabelSelector),
}

impl Filter {
    /// Parses what the user typed after `/`.
    pub(crate) fn parse(input: &str) -> Result<Filter, String> {
        let input = input.trim();
        if let Some(sel) = input.strip_prefix("-l") {
            let sel = sel.trim();
            if sel.is_empty() {
                return Err("-l needs a label selector, e.g. -l app=web,tier!=db".into());
            }
            return LabelSelector::parse(sel)
                .map(Filter::Labels)
                .map_err(|e| format!("bad label selector: {e}"));
        }
        if input.is_empty() {
            return Ok(Filter::All);
        }
        Ok(Filter::Text(input.to_lowercase()))
    }

    pub(crate) fn matches(
        &self,
        namespace: &str,
        name: &str,
        labels: Option<&BTreeMap<String, String>>,
    ) -> bool {
        match self {
            Filter::All => true,
            Filter::Text(t) => contains_ci(name, t) || contains_ci(namespace, t),
            Filter::Labels(sel) => {
                let map: Map<String, Value> = labels
                    .map(|l| {
                        l.iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect()
                    })
                    .unwrap_or_default();
                sel.matches(&Value::Object(map))
            }
        }
    }
}

/// Case-insensitive containment without allocating for ASCII names, which
/// Kubernetes names always are.
fn contains_ci(haystack: &str, lower_needle: &str) -> bool {
    if lower_needle.len() > haystack.len() {
        return false;
    }
    haystack
        .as_bytes()
        .windows(lower_needle.len())
        .any(|w| w.eq_ignore_ascii_case(lower_needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn text_filters_match_name_or_namespace_ignoring_case() {
        let f = Filter::parse("Web").expect("parses");
        assert!(f.matches("demo", "web-7d4b9c8f6d-x2x4k", None));
        assert!(f.matches("webshop", "api-1", None));
        assert!(!f.matches("demo", "api-1", None));
    }

    #[test]
    fn dash_l_filters_by_label_selector() {
        let f = Filter::parse("-l app=web,tier notin (db)").expect("parses");
        assert!(f.matches("demo", "x", Some(&labels(&[("app", "web")]))));
        assert!(!f.matches(
            "demo",
            "x",
            Some(&labels(&[("app", "web"), ("tier", "db")]))
        ));
        assert!(!f.matches("demo", "x", None));
    }

    #[test]
    fn bad_selectors_and_empty_selectors_are_explained() {
        assert!(
            Filter::parse("-l")
                .unwrap_err()
                .contains("needs a label selector")
        );
        assert!(
            Filter::parse("-l app in (a")
                .unwrap_err()
                .starts_with("bad label selector")
        );
        assert!(matches!(Filter::parse("  ").expect("parses"), Filter::All));
    }
}
