//! Services: type, addresses, ports, how many endpoints are ready, and the
//! workload whose pods the selector picks.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::runtime::reflector::ObjectRef;

use super::workloads::{self, Workload};
use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, age, age_secs,
    as_json, col, created, finish, selects, visible_object,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct ServicesView;

const COLUMNS: &[Column] = &[
    col("NAMESPACE", 9, false).keep(Keep::Whole).priority(2),
    col("NAME", 12, false).keep(Keep::End).priority(0),
    col("TYPE", 9, false).keep(Keep::Whole).priority(5),
    col("CLUSTER-IP", 13, false).keep(Keep::Whole).priority(6),
    col("PORTS", 16, false).keep(Keep::Text).priority(4),
    col("ENDPOINTS", 9, true).keep(Keep::Whole).priority(1),
    col("WORKLOAD", 16, false).keep(Keep::End).priority(3),
    col("AGE", 5, true).keep(Keep::Whole).priority(7),
];

pub(crate) fn get(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<Service>> {
    cache.services.get(&ObjectRef::new(&key.1).within(&key.0))
}

/// `80/TCP→8080`, with `:nodePort` when the service has one.
pub(crate) fn ports(svc: &Service) -> String {
    let ports: Vec<String> = svc
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .map(|p| {
            let proto = p.protocol.as_deref().unwrap_or("TCP");
            let node = p.node_port.map(|n| format!(":{n}")).unwrap_or_default();
            let target = match &p.target_port {
                Some(IntOrString::Int(t)) => t.to_string(),
                Some(IntOrString::String(t)) => t.clone(),
                None => p.port.to_string(),
            };
            format!("{}{node}/{proto}→{target}", p.port)
        })
        .collect();
    if ports.is_empty() {
        "<none>".into()
    } else {
        ports.join(",")
    }
}

/// (ready, total) endpoint addresses of the service's Endpoints.
pub(crate) fn endpoints(cache: &Cache, ns: &str, name: &str) -> (usize, usize) {
    let Some(ep) = cache.endpoints.get(&ObjectRef::new(name).within(ns)) else {
        return (0, 0);
    };
    ep.subsets.iter().flatten().fold((0, 0), |(r, t), s| {
        let ready = s.addresses.as_ref().map_or(0, Vec::len);
        let not_ready = s.not_ready_addresses.as_ref().map_or(0, Vec::len);
        (r + ready, t + ready + not_ready)
    })
}

/// Whether a service is meant to have endpoints: it selects pods.
pub(crate) fn has_selector(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty())
}

/// The Deployment or StatefulSet whose pod template the selector matches.
pub(crate) fn workload_behind(cache: &Cache, svc: &Service) -> Option<Workload> {
    let selector = svc.spec.as_ref()?.selector.as_ref()?;
    let ns = svc.metadata.namespace.as_deref().unwrap_or("");
    let mut found: Vec<Workload> = workloads::all(cache)
        .into_iter()
        .filter(|w| {
            w.namespace == ns
                && w.kind != workloads::WorkloadKind::DaemonSet
                && selects(selector, Some(&w.template_labels))
        })
        .collect();
    found.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    found.into_iter().next()
}

impl TableView for ServicesView {
    fn title(&self) -> &'static str {
        "Services"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[
            Kind::Service,
            Kind::Endpoints,
            Kind::Deployment,
            Kind::StatefulSet,
        ]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = cache
            .services
            .state()
            .iter()
            .filter(|s| visible_object(query, &s.metadata))
            .map(|s| {
                let key = super::key_of(&s.metadata);
                let spec = s.spec.as_ref();
                let sort = match query.sort_column {
                    0 => SortKey::Text(key.0.clone()),
                    2 => SortKey::Text(spec.and_then(|s| s.type_.clone()).unwrap_or_default()),
                    3 => SortKey::Text(spec.and_then(|s| s.cluster_ip.clone()).unwrap_or_default()),
                    4 => SortKey::Text(ports(s)),
                    5 => SortKey::Num(endpoints(cache, &key.0, &key.1).0 as i64),
                    6 => SortKey::Text(
                        workload_behind(cache, s).map_or_else(String::new, |w| w.name),
                    ),
                    7 => SortKey::Num(-age_secs(created(&s.metadata), now)),
                    _ => SortKey::Text(key.1.clone()),
                };
                (sort, key)
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let svc = get(cache, key)?;
        let spec = svc.spec.as_ref();
        let (ready, total) = endpoints(cache, &key.0, &key.1);
        let ep_role = if !has_selector(&svc) {
            Role::Muted
        } else if ready == 0 {
            Role::Danger
        } else if ready < total {
            Role::Warning
        } else {
            Role::Ok
        };
        Some(vec![
            Cell::new(key.0.clone(), Role::Muted),
            Cell::text(key.1.clone()),
            Cell::text(
                spec.and_then(|s| s.type_.clone())
                    .unwrap_or_else(|| "ClusterIP".into()),
            ),
            Cell::text(
                spec.and_then(|s| s.cluster_ip.clone())
                    .unwrap_or_else(|| "<none>".into()),
            ),
            Cell::text(ports(&svc)),
            Cell::new(format!("{ready}/{total}"), ep_role),
            match workload_behind(cache, &svc) {
                Some(w) => Cell::text(format!("{}/{}", w.kind.short(), w.name)),
                None => Cell::new("-", Role::Muted),
            },
            Cell::text(age(created(&svc.metadata), now)),
        ])
    }

    /// The workload behind the service, or its pods when no workload's
    /// template matches the selector.
    fn enter(&self, cache: &Cache, key: &RowKey) -> Option<Drill> {
        let svc = get(cache, key)?;
        let selector = svc.spec.as_ref()?.selector.clone()?;
        let scope = Scope::Selector {
            namespace: key.0.clone(),
            labels: selector,
        };
        Some(match workload_behind(cache, &svc) {
            Some(_) => Drill {
                view: View::Workloads,
                scope,
                crumb: format!("svc/{}", key.1),
            },
            None => Drill {
                view: View::Pods,
                scope,
                crumb: format!("svc/{}", key.1),
            },
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
    fn rows_show_ports_endpoints_and_the_workload_behind() {
        let cache = cluster();
        let rows = ServicesView.rows(sources(&cache), &Query::default(), now());
        assert_eq!(rows.len(), 3);
        let web = ServicesView
            .cells(sources(&cache), &("shop".into(), "web".into()), now())
            .expect("web");
        assert_eq!(web[4].text, "80/TCP→8080");
        assert_eq!((web[5].text.as_str(), web[5].role), ("2/2", Role::Ok));
        assert_eq!(web[6].text, "deploy/web");
        let api = ServicesView
            .cells(sources(&cache), &("shop".into(), "api".into()), now())
            .expect("api");
        assert_eq!((api[5].text.as_str(), api[5].role), ("0/1", Role::Danger));
        let ledger = ServicesView
            .cells(
                sources(&cache),
                &("payments".into(), "ledger".into()),
                now(),
            )
            .expect("ledger");
        assert_eq!(ledger[6].text, "sts/ledger");
    }

    #[test]
    fn a_namespace_scope_lists_only_that_namespace() {
        let cache = cluster();
        let query = Query {
            scope: Scope::Namespace("payments".into()),
            ..Query::default()
        };
        let rows = ServicesView.rows(sources(&cache), &query, now());
        assert_eq!(rows, [("payments".to_string(), "ledger".to_string())]);
    }
}
