//! The `/` filter: a substring of the row's name and namespace, or with a
//! leading `-l`, a label selector in kubectl's syntax.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use kubedeck_kube::selector::LabelSelector;

use crate::input::action::View;
use crate::state::Screen;
use crate::views::{Query, RowKey, Scope};

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

impl Filter {
    /// Whether the filter reads a row's namespace and name alone, so that
    /// it can filter row keys without their objects.
    pub(crate) fn reads_keys_only(&self) -> bool {
        matches!(self, Filter::All | Filter::Text(_))
    }
}

/// A screen's rows as its last refresh listed them before the filter, in
/// their order, and what they were listed for. A refresh replaces them,
/// and every store change the screen shows refreshes it, so they hold no
/// row a watch has deleted once the deletion is taken.
#[derive(Debug, Clone)]
pub(crate) struct Unfiltered {
    namespace: Option<String>,
    scope: Scope,
    sort_column: usize,
    descending: bool,
    /// The rows; None while the screen's rows are they, unfiltered, so
    /// that they are not held twice until a filter is typed.
    rows: Option<Vec<RowKey>>,
}

impl Unfiltered {
    /// What `query`, less its filter, lists: `rows`, or the screen's rows
    /// when None.
    pub(crate) fn new(query: &Query, rows: Option<Vec<RowKey>>) -> Unfiltered {
        Unfiltered {
            namespace: query.namespace.clone(),
            scope: query.scope.clone(),
            sort_column: query.sort_column,
            descending: query.descending,
            rows,
        }
    }

    /// Whether these are the rows of `query` but for its filter.
    fn lists(&self, query: &Query) -> bool {
        self.namespace == query.namespace
            && self.scope == query.scope
            && self.sort_column == query.sort_column
            && self.descending == query.descending
    }
}

/// Lists the rows the screen's filter leaves of those its last refresh
/// kept unfiltered, in their order: what filtering and sorting every
/// object again would list, without reading the store or sorting. False,
/// changing nothing, when no such rows are kept for this query or the
/// filter reads more than row keys.
pub(crate) fn from_unfiltered(screen: &mut Screen) -> bool {
    if !by_key(screen) || !screen.query.filter.reads_keys_only() {
        return false;
    }
    let Screen {
        rows,
        unfiltered,
        query,
        ..
    } = screen;
    let Some(kept) = unfiltered.as_mut().filter(|k| k.lists(query)) else {
        return false;
    };
    let all = kept.rows.get_or_insert_with(|| std::mem::take(rows));
    *rows = match &query.filter {
        Filter::All => all.clone(),
        f => all
            .iter()
            .filter(|(ns, name)| f.matches(ns, name, None))
            .cloned()
            .collect(),
    };
    true
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
/// filter that `narrows` the one they were listed with. Unfiltered rows
/// are kept aside for a filter that widens.
pub(crate) fn narrow(screen: &mut Screen) {
    let Screen {
        rows,
        unfiltered,
        query,
        ..
    } = screen;
    let f = &query.filter;
    match unfiltered {
        Some(kept @ Unfiltered { rows: None, .. }) => {
            let all = std::mem::take(rows);
            *rows = all
                .iter()
                .filter(|(ns, name)| f.matches(ns, name, None))
                .cloned()
                .collect();
            kept.rows = Some(all);
        }
        _ => rows.retain(|(ns, name)| f.matches(ns, name, None)),
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
            let top = state.screen().rows.first().cloned();
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
            } else if k != "/" && top.is_some() {
                // Widened or cleared: the cursor stays on the row that was
                // on top, as after a refresh.
                assert_eq!(state.screen().selected_key(), top.as_ref(), "after {k:?}");
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

        // Between keystrokes the watch deletes a pod the filter hides and
        // adds one: widening and clearing list neither the deleted pod nor
        // fewer than the store holds.
        let hidden: crate::cluster::SlimPod =
            serde_json::from_value(pods[1].clone()).expect("a slim pod");
        let hidden_key = (
            "load-001".to_string(),
            "web-01-7d4b9c8f6d-a0001".to_string(),
        );
        assert!(!state.screen().rows.contains(&hidden_key), "hidden");
        writers
            .pods
            .apply_watcher_event(&kube::runtime::watcher::Event::Delete(hidden));
        let added_key = ("load-001".to_string(), "worker-00-new".to_string());
        writers
            .apply_json(&pod(
                "load-001",
                "worker-00-new",
                "worker",
                "node-1",
                5,
                0,
                None,
            ))
            .expect("a pod");
        send(
            &mut state,
            Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
        );
        let mut text = "worker-01".to_string();
        for k in ["backspace", "backspace", "backspace", "backspace", "esc"] {
            send(&mut state, Msg::Key(k.parse().expect("key")));
            if k == "esc" {
                text.clear();
            } else {
                text.pop();
            }
            let rows = &state.screen().rows;
            assert_eq!(*rows, fresh(&state), "{text:?}");
            assert!(!rows.contains(&gone_key) && !rows.contains(&hidden_key));
            assert_eq!(
                rows.contains(&added_key),
                added_key.1.contains(&text),
                "{text:?}"
            );
        }
        assert_eq!(state.screen().rows.len(), 300 - 2 + 1, "every pod, exactly");

        // A sort changed while filtered: clearing lists the new order.
        let by_namespace = state.screen().rows.clone();
        for k in ["/", "a", "p", "i", "enter", ">"] {
            send(&mut state, Msg::Key(k.parse().expect("key")));
        }
        assert_eq!(state.screen().rows, fresh(&state));
        send(&mut state, Msg::Key("esc".parse().expect("key")));
        assert!(
            state.screen().filter_text.is_empty(),
            "Esc cleared the filter"
        );
        assert_eq!(state.screen().rows, fresh(&state));
        assert_eq!(state.screen().rows.len(), by_namespace.len());
        assert_ne!(state.screen().rows, by_namespace, "sorted by name now");
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
