//! The landing screen: one row per namespace with what hurts there.
//! Namespaces with problems sort first.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, age, as_json,
    backoff_reason, col, event_time, events, finish, hpas, pod_ok, services, visible, workloads,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct OverviewView;

const COLUMNS: &[Column] = &[
    col("NAMESPACE", 16, false).keep(Keep::Whole).priority(0),
    col("WORKLOADS", 17, false).keep(Keep::Text).priority(1),
    col("NOT READY", 9, true).keep(Keep::Whole).priority(2),
    col("CRASHLOOP", 9, true).keep(Keep::Whole).priority(2),
    col("HPA@MAX", 7, true).keep(Keep::Whole).priority(3),
    col("SVC NO EP", 9, true).keep(Keep::Whole).priority(3),
    col("LATEST WARNING", 30, false)
        .keep(Keep::Text)
        .priority(4),
];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub healthy: usize,
    pub degraded: usize,
    pub not_ready: usize,
    pub crashloop: usize,
    pub hpas_at_max: usize,
    pub services_without_endpoints: usize,
    /// (when, "Reason kind/name") of the newest Warning within the
    /// warning window; older ones have faded.
    pub latest_warning: Option<(DateTime<Utc>, String)>,
    /// Warnings within the warning window.
    pub warnings: usize,
}

impl Summary {
    /// How much hurts, for ordering: anything above zero is degraded.
    pub(crate) fn pain(&self) -> usize {
        self.degraded
            + self.not_ready
            + self.crashloop
            + self.hpas_at_max
            + self.services_without_endpoints
    }
}

/// Summaries of the namespaces passed in `only` (all when None), in one pass
/// over each store; warnings older than `window` before `now` are left out.
pub(crate) fn summaries(
    cache: &Cache,
    only: Option<&str>,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> BTreeMap<String, Summary> {
    let mut out: BTreeMap<String, Summary> = BTreeMap::new();
    let wanted = |ns: &str| only.is_none_or(|o| o == ns);
    for n in cache.namespaces.state().iter() {
        if let Some(name) = n.metadata.name.as_deref().filter(|n| wanted(n)) {
            out.entry(name.to_string()).or_default();
        }
    }
    workloads::each_health(cache, |ns, degraded| {
        if !wanted(ns) {
            return;
        }
        let s = out.entry(ns.to_string()).or_default();
        if degraded {
            s.degraded += 1;
        } else {
            s.healthy += 1;
        }
    });
    // Counted per borrowed namespace first: an owned key per pod was most
    // of the overview's time at 10,000 pods.
    let pods = cache.pods.state();
    let mut per_ns: HashMap<&str, (usize, usize)> = HashMap::new();
    for p in pods.iter() {
        let ns = p.metadata.namespace.as_deref().unwrap_or("");
        if !wanted(ns) {
            continue;
        }
        let (not_ready, crashloop) = per_ns.entry(ns).or_default();
        *not_ready += usize::from(!pod_ok(p) && p.metadata.deletion_timestamp.is_none());
        *crashloop += usize::from(backoff_reason(p) == Some("CrashLoopBackOff"));
    }
    for (ns, (not_ready, crashloop)) in per_ns {
        let s = out.entry(ns.to_string()).or_default();
        s.not_ready += not_ready;
        s.crashloop += crashloop;
    }
    for h in cache.hpas.state().iter() {
        let ns = h.metadata.namespace.as_deref().unwrap_or("");
        if wanted(ns) && hpas::at_max(h) {
            out.entry(ns.to_string()).or_default().hpas_at_max += 1;
        }
    }
    for svc in cache.services.state().iter() {
        let (ns, name) = super::key_of(&svc.metadata);
        if wanted(&ns)
            && services::has_selector(svc)
            && services::endpoints(cache, &ns, &name).0 == 0
        {
            out.entry(ns).or_default().services_without_endpoints += 1;
        }
    }
    for e in cache.warnings.state().iter() {
        let ns = e.metadata.namespace.as_deref().unwrap_or("");
        if !wanted(ns) || !events::is_warning(e) {
            continue;
        }
        // A warning with no time cannot be said to be current.
        let Some(when) = event_time(e).filter(|t| now.signed_duration_since(*t) <= window) else {
            continue;
        };
        let s = out.entry(ns.to_string()).or_default();
        s.warnings += 1;
        if s.latest_warning.as_ref().is_none_or(|(t, _)| when > *t) {
            let what = format!(
                "{} {}",
                e.reason.as_deref().unwrap_or(""),
                events::object_name(e)
            );
            s.latest_warning = Some((when, what));
        }
    }
    out
}

/// A namespace's row.
fn summary_cells(ns: &str, s: Summary, now: DateTime<Utc>) -> Vec<Cell> {
    let workloads = if s.degraded > 0 {
        Cell::new(
            format!("{} ok, {} degraded", s.healthy, s.degraded),
            Role::Danger,
        )
    } else {
        Cell::new(format!("{} ok", s.healthy), Role::Ok)
    };
    vec![
        Cell::new(
            ns.to_string(),
            if s.pain() > 0 {
                Role::Warning
            } else {
                Role::Text
            },
        ),
        workloads,
        count_cell(s.not_ready, Role::Warning),
        count_cell(s.crashloop, Role::Danger),
        count_cell(s.hpas_at_max, Role::Warning),
        count_cell(s.services_without_endpoints, Role::Danger),
        match s.latest_warning {
            // The age first: a narrow column cuts the name, not it.
            Some((t, w)) => Cell::new(format!("{} ago {}", age(Some(t), now), w), Role::Warning),
            None => Cell::new("-", Role::Muted),
        },
    ]
}

fn count_cell(n: usize, bad: Role) -> Cell {
    if n == 0 {
        Cell::new("0", Role::Muted)
    } else {
        Cell::new(n.to_string(), bad)
    }
}

impl TableView for OverviewView {
    fn title(&self) -> &'static str {
        "Overview"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn flex_column(&self) -> usize {
        6
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[
            Kind::Namespace,
            Kind::Pod,
            Kind::Service,
            Kind::Endpoints,
            Kind::Warning,
            Kind::Deployment,
            Kind::StatefulSet,
            Kind::DaemonSet,
            Kind::Hpa,
            Kind::Node,
        ]
    }

    /// Order 0 is no column's: where it hurts most comes first.
    fn order_note(&self, _src: Sources<'_>, query: &Query) -> Option<&'static str> {
        (query.sort_column == 0).then_some("worst first")
    }

    /// The cluster at a glance: nodes Ready (those that are not, and the
    /// cordoned, by name), pods not Ready, current warnings.
    fn summary(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let (mut ready, mut down, mut cordoned) = (0, Vec::new(), Vec::new());
        let nodes = cache.nodes.state();
        for n in nodes.iter() {
            let name = n.metadata.name.clone().unwrap_or_default();
            let (text, _) = super::nodes::status(n);
            if text.starts_with("NotReady") {
                down.push(name);
            } else {
                ready += 1;
                if text.contains("SchedulingDisabled") {
                    cordoned.push(name);
                }
            }
        }
        down.sort();
        cordoned.sort();
        let mut nodes_text = format!("nodes {ready}/{} Ready", nodes.len());
        if !down.is_empty() {
            nodes_text.push_str(&format!(", NotReady: {}", down.join(" ")));
        }
        if !cordoned.is_empty() {
            nodes_text.push_str(&format!(", cordoned: {}", cordoned.join(" ")));
        }
        let nodes_role = match (down.is_empty(), cordoned.is_empty()) {
            (false, _) => Role::Danger,
            (true, false) => Role::Warning,
            (true, true) => Role::Ok,
        };
        let all = summaries(cache, query.namespace.as_deref(), now, src.warning_window);
        let not_ready: usize = all.values().map(|s| s.not_ready).sum();
        let warnings: usize = all.values().map(|s| s.warnings).sum();
        let minutes = src.warning_window.num_minutes();
        let sep = || Cell::new("  ·  ", Role::Muted);
        Some(vec![
            Cell::new(nodes_text, nodes_role),
            sep(),
            Cell::new(
                format!("{not_ready} pods not Ready"),
                if not_ready > 0 {
                    Role::Warning
                } else {
                    Role::Ok
                },
            ),
            sep(),
            Cell::new(
                format!("{warnings} warnings in {minutes}m"),
                if warnings > 0 {
                    Role::Warning
                } else {
                    Role::Ok
                },
            ),
        ])
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = summaries(cache, query.namespace.as_deref(), now, src.warning_window)
            .into_iter()
            .filter(|(ns, _)| visible(query, ns, ns, None))
            .map(|(ns, s)| {
                let sort = match query.sort_column {
                    1 => SortKey::Num(-(s.degraded as i64)),
                    2 => SortKey::Num(-(s.not_ready as i64)),
                    3 => SortKey::Num(-(s.crashloop as i64)),
                    4 => SortKey::Num(-(s.hpas_at_max as i64)),
                    5 => SortKey::Num(-(s.services_without_endpoints as i64)),
                    6 => SortKey::Text(s.latest_warning.map(|(_, w)| w).unwrap_or_default()),
                    // Where it hurts most comes first.
                    _ => SortKey::Num(-(s.pain() as i64)),
                };
                (sort, (String::new(), ns))
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let s = summaries(src.cache, Some(&key.1), now, src.warning_window).remove(&key.1)?;
        Some(summary_cells(&key.1, s, now))
    }

    /// One pass over the stores for the whole window: a namespace's
    /// summary reads every pod and workload, so summing them per row cost
    /// a full pass for each row drawn.
    fn window_cells(
        &self,
        src: Sources<'_>,
        rows: &[RowKey],
        window: std::ops::Range<usize>,
        now: DateTime<Utc>,
    ) -> Vec<Option<Vec<Cell>>> {
        let mut all = summaries(src.cache, None, now, src.warning_window);
        rows[window]
            .iter()
            .map(|k| all.remove(&k.1).map(|s| summary_cells(&k.1, s, now)))
            .collect()
    }

    fn enter(&self, _cache: &Cache, key: &RowKey) -> Option<Drill> {
        Some(Drill {
            view: View::Services,
            scope: Scope::Namespace(key.1.clone()),
            crumb: format!("ns/{}", key.1),
        })
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*cache.namespaces.get(&ObjectRef::new(&key.1))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now, sources};

    #[test]
    fn a_window_of_rows_shows_what_each_row_shows_on_its_own() {
        let cache = cluster();
        let rows = OverviewView.rows(sources(&cache), &Query::default(), now());
        assert!(rows.len() > 2, "{rows:?}");
        let one_by_one: Vec<_> = rows
            .iter()
            .map(|k| OverviewView.cells(sources(&cache), k, now()))
            .collect();
        let texts = |cells: &[Option<Vec<Cell>>]| -> Vec<String> {
            cells
                .iter()
                .map(|c| {
                    c.as_ref()
                        .map(|c| {
                            c.iter()
                                .map(|c| c.text.as_str())
                                .collect::<Vec<_>>()
                                .join("|")
                        })
                        .unwrap_or_default()
                })
                .collect()
        };
        assert!(
            texts(&one_by_one).iter().any(|t| t.contains("degraded")),
            "the fixture has a degraded namespace: {:?}",
            texts(&one_by_one)
        );
        for window in [0..rows.len(), 1..rows.len() - 1] {
            let drawn = OverviewView.window_cells(sources(&cache), &rows, window.clone(), now());
            assert_eq!(texts(&drawn), texts(&one_by_one[window]));
        }
    }

    #[test]
    fn the_summary_names_nodes_not_ready_and_cordoned_and_counts_pods_and_warnings() {
        let (cache, mut writers) = crate::test_support::cluster_with_writers();
        let text = |cache: &Cache| -> String {
            OverviewView
                .summary(sources(cache), &Query::default(), now())
                .expect("a summary")
                .iter()
                .map(|c| c.text.as_str())
                .collect()
        };
        let before = text(&cache);
        assert_eq!(
            before,
            "nodes 2/3 Ready, NotReady: node-3, cordoned: node-2  ·  2 pods not Ready  ·  2 warnings in 15m"
        );
        // node-3 comes back, node-1 is cordoned too.
        for (name, cordoned) in [("node-3", false), ("node-1", true)] {
            writers
                .apply_json(&serde_json::json!({
                    "apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name},
                    "spec": {"unschedulable": cordoned},
                    "status": {"conditions": [{"type": "Ready", "status": "True"}]}
                }))
                .expect("a node");
        }
        let after = text(&cache);
        assert!(
            after.starts_with("nodes 3/3 Ready, cordoned: node-1 node-2  ·  "),
            "{after}"
        );
    }

    #[test]
    fn degraded_namespaces_come_first_with_their_symptoms() {
        let cache = cluster();
        let rows = OverviewView.rows(sources(&cache), &Query::default(), now());
        let names: Vec<&str> = rows.iter().map(|k| k.1.as_str()).collect();
        assert_eq!(names, ["shop", "payments", "quiet"]);
        let shop = summaries(&cache, Some("shop"), now(), chrono::Duration::minutes(15))
            .remove("shop")
            .expect("shop");
        assert_eq!(
            shop,
            Summary {
                healthy: 1,
                degraded: 1,
                not_ready: 1,
                crashloop: 1,
                hpas_at_max: 1,
                services_without_endpoints: 1,
                latest_warning: shop.latest_warning.clone(),
                warnings: 1,
            }
        );
        let cells = OverviewView
            .cells(sources(&cache), &rows[0], now())
            .expect("cells");
        assert_eq!(cells[1].text, "1 ok, 1 degraded");
        assert_eq!(cells[6].text, "20s ago BackOff pod/api-5f6b7c8d9f-abcde");
        let quiet = OverviewView
            .cells(sources(&cache), &rows[2], now())
            .expect("cells");
        assert_eq!((quiet[1].text.as_str(), quiet[1].role), ("1 ok", Role::Ok));
    }

    #[test]
    fn the_latest_warning_says_its_age_and_fades_after_the_window() {
        let cache = cluster();
        let shop = ("".to_string(), "shop".to_string());
        let warning = |at, window| {
            let src = Sources {
                warning_window: window,
                ..sources(&cache)
            };
            OverviewView.cells(src, &shop, at).expect("cells")[6].clone()
        };
        let fifteen = chrono::Duration::minutes(15);
        let seen = warning(now() + chrono::Duration::minutes(3), fifteen);
        assert_eq!(seen.text, "3m20s ago BackOff pod/api-5f6b7c8d9f-abcde");
        assert_eq!(seen.role, Role::Warning);
        let faded = warning(now() + chrono::Duration::minutes(16), fifteen);
        assert_eq!((faded.text.as_str(), faded.role), ("-", Role::Muted));
        // The window is the config's: a shorter one fades it sooner.
        let short = warning(now(), chrono::Duration::seconds(10));
        assert_eq!(short.text, "-");
    }
}
