//! The `/` filter: a substring of the row's name and namespace, or with a
//! leading `-l`, a label selector in kubectl's syntax.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use kubedeck_kube::selector::LabelSelector;

use crate::input::action::View;
use crate::state::Screen;
use crate::views::Scope;

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

impl Filter {
    /// Whether every row this filter passes also passed `before`, judged
    /// by namespace and name alone: then the rows `before` left can be
    /// narrowed in their order, without filtering and sorting every object
    /// again. A label selector reads the object, so it never narrows.
    pub(crate) fn narrows(&self, before: &Filter) -> bool {
        match (self, before) {
            (Filter::All, Filter::All) | (Filter::Text(_), Filter::All) => true,
            (Filter::Text(now), Filter::Text(was)) => now.contains(was.as_str()),
            _ => false,
        }
    }
}

/// Whether the screen's rows are filtered by their own keys: the pods
/// table keys a row by the pod's namespace and name, which is all a text
/// filter reads, so narrowing its rows equals filtering every pod again.
/// (A pod's containers table keys rows otherwise.)
pub(crate) fn by_key(screen: &Screen) -> bool {
    !screen.covered()
        && screen.view == View::Pods
        && !matches!(screen.query.scope, Scope::Pod { .. })
}

/// Narrows the listed rows to the screen's filter, in their order, for a
/// filter that `narrows` the one they were listed with.
pub(crate) fn narrow(screen: &mut Screen) {
    let f = &screen.query.filter;
    screen.rows.retain(|(ns, name)| f.matches(ns, name, None));
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
    fn a_longer_text_narrows_a_selector_or_another_text_does_not() {
        let f = |s: &str| Filter::parse(s).expect("parses");
        assert!(f("web").narrows(&f("")));
        assert!(f("web-7").narrows(&f("WEB")));
        assert!(f("b-7").narrows(&f("b-")));
        assert!(!f("we").narrows(&f("web")), "shorter: widens");
        assert!(!f("api").narrows(&f("web")));
        assert!(!f("").narrows(&f("web")));
        assert!(!f("-l app=web").narrows(&f("")));
        assert!(!f("web").narrows(&f("-l app=web")));
    }

    /// Types `keys` into the pods view's filter of a cluster of `n` pods;
    /// after every key, the rows are those of a fresh filter of every pod.
    #[test]
    fn the_incremental_filter_equals_a_fresh_filter_of_every_row() {
        use crate::cluster::{cache, watch::WatchMsg};
        use crate::input::keymap::Keymap;
        use crate::state::AppState;
        use crate::test_support::{now, pod, resize};
        use crate::update::{Msg, update};
        use crate::views::{Query, table_of};

        let (cache, mut writers) = cache::new();
        let apps = ["api", "web", "worker"];
        let mut pods = Vec::new();
        for i in 0..300 {
            let ns = format!("load-{:03}", i % 7);
            let name = format!("{}-{:02}-7d4b9c8f6d-a{i:04}", apps[i % 3], i % 13);
            let p = pod(&ns, &name, apps[i % 3], "node-1", 60 + i as i64, 0, None);
            writers.apply_json(&p).expect("a pod");
            pods.push(p);
        }
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        state.stack = vec![Screen::new(View::Pods, Query::default(), "pods")];
        let send = |state: &mut AppState, msg: Msg| {
            update(state, msg, &cache, &keymap, now());
        };
        send(&mut state, resize(30));
        send(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Pod)),
        );
        send(&mut state, Msg::Key("/".parse().expect("key")));
        let fresh = |state: &AppState| {
            let screen = state.screen();
            let table = table_of(screen).expect("the pods table");
            table.rows(state.sources(&cache), &screen.query, now())
        };
        let names: Vec<(String, String)> = fresh(&state);
        let expected = |text: &str| {
            let t = text.to_lowercase();
            names
                .iter()
                .filter(|(ns, name)| ns.contains(&t) || name.contains(&t))
                .count()
        };
        let mut text = String::new();
        let keys = "load-003".chars().map(|c| c.to_string()).chain(
            [
                "backspace",
                "5",
                "esc",
                "/",
                "W",
                "o",
                "r",
                "k",
                "e",
                "r",
                "-",
                "0",
                "4",
            ]
            .map(String::from),
        );
        for k in keys {
            send(&mut state, Msg::Key(k.parse().expect("key")));
            match k.as_str() {
                "backspace" => {
                    text.pop();
                }
                "esc" => text.clear(),
                "/" => {}
                c => text.push_str(c),
            }
            let rows = &state.screen().rows;
            assert_eq!(*rows, fresh(&state), "after {k:?}");
            assert_eq!(rows.len(), expected(&text), "{text:?}");
            if k.len() == 1 && k != "/" {
                // Narrowed: the cursor is on the first row, as after a refresh.
                assert_eq!((state.screen().selected, state.screen().offset), (0, 0));
            }
        }
        assert_eq!(expected("load-005"), 43, "the filter narrowed");
        assert_eq!(expected("worker-04"), 8);

        // A pod the watch deletes leaves the filtered rows, and the count
        // is exact, once its change is taken; narrowing goes on from there.
        let gone: crate::cluster::SlimPod =
            serde_json::from_value(pods[17].clone()).expect("a slim pod");
        let gone_key = (
            "load-003".to_string(),
            "worker-04-7d4b9c8f6d-a0017".to_string(),
        );
        assert!(state.screen().rows.contains(&gone_key));
        writers
            .pods
            .apply_watcher_event(&kube::runtime::watcher::Event::Delete(gone));
        send(
            &mut state,
            Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
        );
        assert!(!state.screen().rows.contains(&gone_key));
        assert_eq!(state.screen().rows.len(), 7);
        send(&mut state, Msg::Key("backspace".parse().expect("key")));
        assert_eq!(state.screen().rows.len(), expected("worker-0") - 1);
        send(&mut state, Msg::Key("1".parse().expect("key")));
        assert_eq!(state.screen().rows, fresh(&state));
        assert!(!state.screen().rows.contains(&gone_key));
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
