//! Namespaces: phase, how many pods are ready, how many workloads are
//! degraded.

use chrono::{DateTime, Utc};
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, age, age_secs,
    as_json, col, created, finish, pod_ok, visible, workloads,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct NamespacesView;

const COLUMNS: &[Column] = &[
    col("NAME", 16, false).keep(Keep::Whole).priority(0),
    col("STATUS", 11, false).keep(Keep::Whole).priority(2),
    col("PODS", 9, true).keep(Keep::Whole).priority(1),
    col("DEGRADED", 8, true).keep(Keep::Whole).priority(1),
    col("AGE", 5, true).keep(Keep::Whole).priority(3),
];

/// (ready pods, pods) in a namespace.
pub(crate) fn pod_counts(cache: &Cache, ns: &str) -> (usize, usize) {
    cache
        .pods
        .state()
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns))
        .fold((0, 0), |(r, t), p| (r + usize::from(pod_ok(p)), t + 1))
}

pub(crate) fn degraded_workloads(cache: &Cache, ns: &str) -> usize {
    workloads::all(cache)
        .iter()
        .filter(|w| w.namespace == ns && w.degraded())
        .count()
}

impl TableView for NamespacesView {
    fn title(&self) -> &'static str {
        "Namespaces"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn flex_column(&self) -> usize {
        0
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[
            Kind::Namespace,
            Kind::Pod,
            Kind::Deployment,
            Kind::StatefulSet,
            Kind::DaemonSet,
        ]
    }

    /// With favourites, order 0 is theirs first, then by name.
    fn order_note(&self, src: Sources<'_>, query: &Query) -> Option<&'static str> {
        (query.sort_column == 0 && !src.favourites.is_empty()).then_some("favourites first")
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = cache
            .namespaces
            .state()
            .iter()
            .filter(|n| {
                let name = n.metadata.name.as_deref().unwrap_or("");
                query.namespace.as_deref().is_none_or(|q| q == name)
                    && visible(query, "", name, n.metadata.labels.as_ref())
            })
            .map(|n| {
                let name = n.metadata.name.clone().unwrap_or_default();
                let sort = match query.sort_column {
                    1 => SortKey::Text(
                        n.status
                            .as_ref()
                            .and_then(|s| s.phase.clone())
                            .unwrap_or_default(),
                    ),
                    2 => SortKey::Num(pod_counts(cache, &name).1 as i64),
                    3 => SortKey::Num(degraded_workloads(cache, &name) as i64),
                    4 => SortKey::Num(-age_secs(created(&n.metadata), now)),
                    // The config's favourites first, in its order.
                    _ => match src.favourites.iter().position(|f| *f == name) {
                        Some(i) => SortKey::Text(format!("0{i:04}")),
                        None => SortKey::Text(format!("1{name}")),
                    },
                };
                (sort, (String::new(), name))
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let ns = cache.namespaces.get(&ObjectRef::new(&key.1))?;
        let phase = ns
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Active".into());
        let (ready, total) = pod_counts(cache, &key.1);
        let degraded = degraded_workloads(cache, &key.1);
        Some(vec![
            Cell::text(key.1.clone()),
            Cell::new(
                phase.clone(),
                if phase == "Active" {
                    Role::Ok
                } else {
                    Role::Warning
                },
            ),
            Cell::new(
                format!("{ready}/{total}"),
                if ready < total {
                    Role::Warning
                } else {
                    Role::Text
                },
            ),
            Cell::new(
                degraded.to_string(),
                if degraded > 0 {
                    Role::Danger
                } else {
                    Role::Muted
                },
            ),
            Cell::text(age(created(&ns.metadata), now)),
        ])
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
    fn counts_ready_pods_and_degraded_workloads_per_namespace() {
        let cache = cluster();
        let rows = NamespacesView.rows(sources(&cache), &Query::default(), now());
        let names: Vec<&str> = rows.iter().map(|k| k.1.as_str()).collect();
        assert_eq!(names, ["payments", "quiet", "shop"]);
        let shop = NamespacesView
            .cells(sources(&cache), &rows[2], now())
            .expect("shop");
        let text: Vec<&str> = shop.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(text, ["shop", "Active", "2/3", "1", "30d"]);
        assert_eq!(shop[3].role, Role::Danger);
    }
}
