//! Nodes: readiness and cordons, roles, pods scheduled there, allocatable
//! CPU and memory, kubelet version.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Node;
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, age, age_secs,
    as_json, col, created, finish, visible,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct NodesView;

const COLUMNS: &[Column] = &[
    col("NAME", 16, false).keep(Keep::End).priority(0),
    col("STATUS", 26, false).keep(Keep::Head).priority(1),
    col("ROLES", 13, false).keep(Keep::Text).priority(4),
    col("PODS", 4, true).keep(Keep::Whole).priority(3),
    col("CPU", 5, true).keep(Keep::Whole).priority(2),
    col("MEMORY", 7, true).keep(Keep::Whole).priority(2),
    col("AGE", 5, true).keep(Keep::Whole).priority(5),
    col("VERSION", 8, false).keep(Keep::Whole).priority(6),
];

fn get(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<Node>> {
    cache.nodes.get(&ObjectRef::new(&key.1))
}

/// kubectl's node status: Ready or NotReady, plus SchedulingDisabled.
pub(crate) fn status(node: &Node) -> (String, Role) {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .is_some_and(|c| c.status == "True");
    let cordoned = node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true);
    let mut text = if ready { "Ready" } else { "NotReady" }.to_string();
    if cordoned {
        text.push_str(",SchedulingDisabled");
    }
    let role = match (ready, cordoned) {
        (false, _) => Role::Danger,
        (true, true) => Role::Warning,
        (true, false) => Role::Ok,
    };
    (text, role)
}

pub(crate) fn roles(node: &Node) -> String {
    let roles: Vec<&str> = node
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

fn pods_on(cache: &Cache, node: &str) -> usize {
    cache
        .pods
        .state()
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
        .count()
}

fn allocatable(node: &Node, resource: &str) -> String {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get(resource))
        .map_or_else(|| "-".into(), |q| q.0.clone())
}

impl TableView for NodesView {
    fn title(&self) -> &'static str {
        "Nodes"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn flex_column(&self) -> usize {
        0
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Node, Kind::Pod]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let unscoped = Query {
            namespace: None,
            ..query.clone()
        };
        let keyed = cache
            .nodes
            .state()
            .iter()
            .filter(|n| {
                visible(
                    &unscoped,
                    "",
                    n.metadata.name.as_deref().unwrap_or(""),
                    n.metadata.labels.as_ref(),
                )
            })
            .map(|n| {
                let name = n.metadata.name.clone().unwrap_or_default();
                let sort = match query.sort_column {
                    1 => SortKey::Text(status(n).0),
                    2 => SortKey::Text(roles(n)),
                    3 => SortKey::Num(pods_on(cache, &name) as i64),
                    6 => SortKey::Num(-age_secs(created(&n.metadata), now)),
                    7 => SortKey::Text(
                        n.status
                            .as_ref()
                            .and_then(|s| s.node_info.as_ref())
                            .map(|i| i.kubelet_version.clone())
                            .unwrap_or_default(),
                    ),
                    _ => SortKey::Text(name.clone()),
                };
                (sort, (String::new(), name))
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn judges_faults(&self) -> bool {
        true
    }

    /// NotReady or cordoned.
    fn fault(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        let node = get(src.cache, key)?;
        Some(status(&node).1 != Role::Ok)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let n = get(cache, key)?;
        let (st, role) = status(&n);
        Some(vec![
            Cell::text(key.1.clone()),
            Cell::new(st, role),
            Cell::text(roles(&n)),
            Cell::text(pods_on(cache, &key.1).to_string()),
            Cell::text(allocatable(&n, "cpu")),
            Cell::text(allocatable(&n, "memory")),
            Cell::text(age(created(&n.metadata), now)),
            Cell::text(
                n.status
                    .as_ref()
                    .and_then(|s| s.node_info.as_ref())
                    .map_or_else(String::new, |i| i.kubelet_version.clone()),
            ),
        ])
    }

    fn enter(&self, _cache: &Cache, key: &RowKey) -> Option<Drill> {
        Some(Drill {
            view: View::Pods,
            scope: Scope::Node(key.1.clone()),
            crumb: format!("node/{}", key.1),
        })
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*get(cache, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now, sources};

    #[test]
    fn status_roles_and_pod_counts() {
        let cache = cluster();
        let rows = NodesView.rows(sources(&cache), &Query::default(), now());
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|k| {
                NodesView.cells(sources(&cache), k, now()).expect("cells")[..4]
                    .iter()
                    .map(|c| c.text.clone())
                    .collect()
            })
            .collect();
        assert_eq!(
            cells,
            [
                ["node-1", "Ready", "control-plane", "2"],
                ["node-2", "Ready,SchedulingDisabled", "<none>", "2"],
                ["node-3", "NotReady", "<none>", "1"],
            ]
        );
        let drill = NodesView.enter(&cache, &rows[0]).expect("drills");
        let pods = super::super::pods::PodsView.rows(
            sources(&cache),
            &Query {
                scope: drill.scope,
                ..Query::default()
            },
            now(),
        );
        assert_eq!(pods.len(), 2, "the pods on node-1");
    }
}
