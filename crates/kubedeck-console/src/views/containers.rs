//! One pod's containers: image, readiness, state and restarts. Keys are
//! (namespace, "pod/container").

use crate::cluster::SlimPod;
use crate::cluster::slim_pod::{SlimContainer, SlimContainerStatus};
use chrono::{DateTime, Utc};

use super::{Cell, Column, Keep, Query, RowKey, Scope, Sources, TableView, as_json, col, pods};
use crate::cluster::{Cache, Kind};
use crate::theme::Role;

pub(crate) struct ContainersView;

const COLUMNS: &[Column] = &[
    col("NAME", 14, false).keep(Keep::End).priority(0),
    col("IMAGE", 24, false).keep(Keep::Image).priority(1),
    col("READY", 5, false).keep(Keep::Whole).priority(2),
    col("STATE", 22, false).keep(Keep::Head).priority(1),
    col("RESTARTS", 8, true).keep(Keep::Whole).priority(3),
];

/// The container's state, and why its last run ended when that failed
/// (a crash loop's OOMKilled and exit code).
fn state_text(cs: Option<&SlimContainerStatus>) -> (String, Role) {
    let Some(s) = cs.and_then(|c| c.state.as_ref()) else {
        return ("Waiting".into(), Role::Warning);
    };
    if let Some(w) = &s.waiting {
        let reason = w.reason.clone().unwrap_or_else(|| "Waiting".into());
        let role = if reason.contains("BackOff") || reason.starts_with("Err") {
            Role::Danger
        } else {
            Role::Warning
        };
        return match cs.and_then(pods::last_failure) {
            Some(last) => (format!("{last} ({reason})"), role),
            None => (reason, role),
        };
    }
    if let Some(t) = &s.terminated {
        let reason = match &t.reason {
            Some(r) if t.exit_code != 0 => format!("{r} (exit {})", t.exit_code),
            Some(r) => r.clone(),
            None => format!("ExitCode:{}", t.exit_code),
        };
        return (
            format!("Terminated: {reason}"),
            if t.exit_code == 0 {
                Role::Muted
            } else {
                Role::Danger
            },
        );
    }
    ("Running".into(), Role::Ok)
}

/// A pod's container (init containers included) by name, with its status
/// if the kubelet has reported one, and whether it is an init container.
pub(crate) fn container_in<'a>(
    pod: &'a SlimPod,
    name: &str,
) -> Option<(&'a SlimContainer, Option<&'a SlimContainerStatus>, bool)> {
    let spec = pod.spec.as_ref()?;
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .any(|c| c.name == name);
    let container = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .find(|c| c.name == name)?;
    let st = pod.status.as_ref();
    let statuses = if init {
        st.and_then(|s| s.init_container_statuses.as_ref())
    } else {
        st.and_then(|s| s.container_statuses.as_ref())
    };
    let cs = statuses.into_iter().flatten().find(|c| c.name == name);
    Some((container, cs, init))
}

fn pod_of(cache: &Cache, key: &RowKey) -> Option<(std::sync::Arc<SlimPod>, String)> {
    let (pod, container) = key.1.split_once('/')?;
    let p = pods::get(cache, &(key.0.clone(), pod.to_string()))?;
    Some((p, container.to_string()))
}

impl TableView for ContainersView {
    fn title(&self) -> &'static str {
        "Containers"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Pod]
    }

    /// Init containers first, in the order the pod runs them.
    fn rows(&self, src: Sources<'_>, query: &Query, _now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let Scope::Pod { namespace, name } = &query.scope else {
            return Vec::new();
        };
        let Some(pod) = pods::get(cache, &(namespace.clone(), name.clone())) else {
            return Vec::new();
        };
        let Some(spec) = pod.spec.as_ref() else {
            return Vec::new();
        };
        spec.init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .filter(|c| query.filter.matches(namespace, &c.name, None))
            .map(|c| (namespace.clone(), format!("{name}/{}", c.name)))
            .collect()
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let (pod, name) = pod_of(cache, key)?;
        let (container, cs, init) = container_in(&pod, &name)?;
        let (state, role) = state_text(cs);
        let ready = cs.is_some_and(|c| c.ready);
        let restarts = cs.map_or(0, |c| c.restart_count);
        Some(vec![
            Cell::text(if init {
                format!("{name} (init)")
            } else {
                name.clone()
            }),
            Cell::text(container.image.clone().unwrap_or_default()),
            Cell::new(
                if ready { "true" } else { "false" },
                if ready || init {
                    Role::Text
                } else {
                    Role::Warning
                },
            ),
            Cell::new(state, role),
            Cell::new(
                restarts.to_string(),
                if restarts > 0 {
                    Role::Warning
                } else {
                    Role::Text
                },
            ),
        ])
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*pod_of(cache, key)?.0)
    }

    fn container(&self, key: &RowKey) -> Option<String> {
        key.1.split_once('/').map(|(_, c)| c.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now, sources};

    #[test]
    fn lists_a_pods_containers_with_their_state() {
        let cache = cluster();
        let query = Query {
            scope: Scope::Pod {
                namespace: "shop".into(),
                name: "api-5f6b7c8d9f-abcde".into(),
            },
            ..Query::default()
        };
        let rows = ContainersView.rows(sources(&cache), &query, now());
        assert_eq!(
            rows,
            [("shop".to_string(), "api-5f6b7c8d9f-abcde/api".to_string())]
        );
        let cells = ContainersView
            .cells(sources(&cache), &rows[0], now())
            .expect("cells");
        let text: Vec<&str> = cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            text,
            [
                "api",
                "registry.example/api:1.0",
                "false",
                "Error 1 (CrashLoopBackOff)",
                "7"
            ]
        );
        assert_eq!(cells[3].role, Role::Danger);
    }

    #[test]
    fn a_crash_looping_container_shows_its_last_termination() {
        let (cache, mut writers) = crate::test_support::cluster_with_writers();
        let mut p = crate::test_support::pod(
            "shop",
            "oom-0",
            "web",
            "node-1",
            600,
            4,
            Some("CrashLoopBackOff"),
        );
        p["status"]["containerStatuses"][0]["lastState"] =
            serde_json::json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}});
        writers.apply_json(&p).expect("valid pod");
        let key = ("shop".to_string(), "oom-0/web".to_string());
        let cells = ContainersView
            .cells(sources(&cache), &key, now())
            .expect("cells");
        assert_eq!(cells[3].text, "OOMKilled 137 (CrashLoopBackOff)");
        assert_eq!(cells[3].role, Role::Danger);
    }
}
