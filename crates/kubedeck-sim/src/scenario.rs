//! Built-in scenarios: the cluster a simulator starts with, as embedded
//! Kubernetes YAML.

use anyhow::bail;
use chrono::{DateTime, Utc};

use super::store::Store;
use super::{backup_history, manifests};

/// The names `--scenario` accepts; the first is the default.
pub(crate) const NAMES: &[&str] = &["seed", "minimal", "empty"];

const BASE: &str = include_str!("scenarios/base.yaml");
const MINIMAL: &str = include_str!("scenarios/minimal.yaml");

/// The seed platforms, one file per seed document, in apply order (nodes and
/// add-ons first, so that workloads land on a ready cluster).
const SEED: &[(&str, &str)] = &[
    ("nodes.yaml", include_str!("scenarios/seed/nodes.yaml")),
    (
        "kube-system.yaml",
        include_str!("scenarios/seed/kube-system.yaml"),
    ),
    (
        "monitoring.yaml",
        include_str!("scenarios/seed/monitoring.yaml"),
    ),
    (
        "selfmonitor.yaml",
        include_str!("scenarios/seed/selfmonitor.yaml"),
    ),
    ("myfin.yaml", include_str!("scenarios/seed/myfin.yaml")),
    ("crds.yaml", include_str!("scenarios/seed/crds.yaml")),
    (
        "tls-certificates.yaml",
        include_str!("scenarios/seed/tls-certificates.yaml"),
    ),
    ("migrate.yaml", include_str!("scenarios/seed/migrate.yaml")),
    (
        "user-whisperer.yaml",
        include_str!("scenarios/seed/user-whisperer.yaml"),
    ),
];

/// Loads the objects every cluster has, then the named scenario.
pub(crate) fn load(store: &Store, name: &str) -> anyhow::Result<()> {
    load_at(store, name, Utc::now())
}

/// Loads a scenario as of `now`, the time its past (the seed's backup
/// history) is relative to.
pub fn load_at(store: &Store, name: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    let files: &[(&str, &str)] = match name {
        "seed" => SEED,
        "minimal" => &[("minimal.yaml", MINIMAL)],
        "empty" => &[],
        other => bail!(
            "unknown scenario {other:?}; the scenarios are: {}",
            NAMES.join(", ")
        ),
    };
    manifests::apply_text(store, BASE, "scenario base")?;
    for (file, text) in files {
        manifests::apply_text(store, text, &format!("scenario {name} ({file})"))?;
    }
    if name == "seed" {
        backup_history::apply(store, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::controllers::scheduler::pod_requests;
    use crate::resources::{self, ResourceDef};
    use crate::store::{meta_str, obj_key};
    use kubedeck_kube::quantity::parse_quantity;
    use kubedeck_kube::selector::LabelSelector;

    fn seed() -> Arc<Store> {
        let store = Store::new(100_000);
        load(&store, "seed").expect("the seed scenario applies");
        store
    }

    const WORKLOADS: [&ResourceDef; 3] = [
        &resources::DEPLOYMENTS,
        &resources::STATEFULSETS,
        &resources::DAEMONSETS,
    ];

    fn hpa_bounds(store: &Store, ns: &str, name: &str) -> (i64, i64, Value) {
        let hpa = store
            .get(&resources::HPAS, ns, name)
            .unwrap_or_else(|| panic!("HPA {ns}/{name} exists"));
        (
            hpa["spec"]["minReplicas"].as_i64().unwrap_or(1),
            hpa["spec"]["maxReplicas"].as_i64().unwrap_or(0),
            hpa["spec"]["metrics"].clone(),
        )
    }

    fn metric(name: &str, target: i64) -> Value {
        serde_json::json!({"type": "Resource", "resource": {"name": name,
            "target": {"type": "Utilization", "averageUtilization": target}}})
    }

    #[test]
    fn every_scenario_applies_into_an_empty_store() {
        for name in NAMES {
            let store = Store::new(100_000);
            load(&store, name).unwrap_or_else(|e| panic!("scenario {name}: {e:#}"));
            assert!(
                store
                    .get(&resources::NAMESPACES, "", "kube-system")
                    .is_some()
            );
        }
        let err = load(&Store::new(10), "nope").unwrap_err().to_string();
        assert!(err.contains("seed") && err.contains("minimal"), "{err}");
    }

    #[test]
    fn the_platforms_namespaces_and_backups_exist() {
        let store = seed();
        for ns in [
            "selfmonitor",
            "selfmonitor-staging",
            "myfin",
            "migrate-platform",
            "user-whisperer",
            "user-whisperer-staging",
            "monitoring",
        ] {
            assert!(store.get(&resources::NAMESPACES, "", ns).is_some(), "{ns}");
        }
        let sm_backup = store
            .get(&resources::CRONJOBS, "selfmonitor", "postgres-backup")
            .expect("selfmonitor backup");
        assert_eq!(sm_backup["spec"]["schedule"], "0 */6 * * *");
        assert_eq!(
            sm_backup["metadata"]["labels"]["kubedeck.io/backup"],
            "true"
        );
        let c = &sm_backup["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "postgres:15");
        assert!(c["command"].to_string().contains("pg_dump -h postgres "));
        let mig_backup = store
            .get(
                &resources::CRONJOBS,
                "migrate-platform",
                "postgres-vector-backup",
            )
            .expect("migrate backup");
        assert_eq!(mig_backup["spec"]["schedule"], "0 2 * * *");
        let pgv = store
            .get(
                &resources::STATEFULSETS,
                "migrate-platform",
                "postgres-vector-primary",
            )
            .expect("pgvector");
        assert_eq!(
            pgv["spec"]["template"]["spec"]["containers"][0]["image"],
            "pgvector/pgvector:pg16"
        );
        let uw_pg = store
            .get(&resources::STATEFULSETS, "user-whisperer", "postgresql")
            .expect("postgresql");
        assert_eq!(uw_pg["spec"]["replicas"], 3);
        let uw_redis = store
            .get(&resources::STATEFULSETS, "user-whisperer", "redis-cluster")
            .expect("redis");
        assert_eq!(uw_redis["spec"]["replicas"], 6);
        let pdb = store
            .get(&resources::PDBS, "myfin", "myfin-api-pdb")
            .expect("myfin pdb");
        assert_eq!(pdb["spec"]["minAvailable"], 1);
        assert!(
            store
                .get(&resources::DAEMONSETS, "monitoring", "node-exporter")
                .is_some()
        );
        for sts in [("selfmonitor", "postgres"), ("myfin", "mysql")] {
            let s = store
                .get(&resources::STATEFULSETS, sts.0, sts.1)
                .expect("database");
            assert!(
                s["spec"]["volumeClaimTemplates"]
                    .as_array()
                    .is_some_and(|v| !v.is_empty())
            );
        }
    }

    #[test]
    fn hpas_have_the_documented_bounds_and_targets() {
        let store = seed();
        type Case<'a> = (&'a str, &'a str, i64, i64, &'a [(&'a str, i64)]);
        let cases: &[Case] = &[
            ("selfmonitor", "ai-agent-service", 2, 10, &[("cpu", 70)]),
            ("selfmonitor", "auth-service", 3, 5, &[("cpu", 80)]),
            ("selfmonitor", "transactions-service", 3, 10, &[("cpu", 70)]),
            ("selfmonitor", "analytics-service", 2, 8, &[("memory", 80)]),
            ("selfmonitor", "nginx-gateway", 5, 10, &[("cpu", 60)]),
            (
                "myfin",
                "myfin-api-hpa",
                2,
                10,
                &[("cpu", 70), ("memory", 80)],
            ),
            ("myfin", "myfin-frontend-hpa", 2, 5, &[("cpu", 75)]),
            (
                "migrate-platform",
                "assessment-worker",
                1,
                10,
                &[("cpu", 70), ("memory", 80)],
            ),
            ("user-whisperer", "event-ingestion", 5, 100, &[("cpu", 70)]),
            (
                "user-whisperer",
                "behavioral-analysis",
                3,
                15,
                &[("cpu", 70), ("memory", 80)],
            ),
            ("user-whisperer", "decision-engine", 2, 10, &[("cpu", 70)]),
            (
                "user-whisperer",
                "content-generation",
                2,
                8,
                &[("cpu", 75), ("memory", 80)],
            ),
            (
                "user-whisperer",
                "channel-orchestration",
                3,
                20,
                &[("cpu", 70)],
            ),
        ];
        for (ns, name, lo, hi, metrics) in cases {
            let (min, max, got) = hpa_bounds(&store, ns, name);
            assert_eq!((min, max), (*lo, *hi), "{ns}/{name}");
            let want: Vec<Value> = metrics.iter().map(|(m, t)| metric(m, *t)).collect();
            assert_eq!(got, Value::Array(want), "{ns}/{name}");
        }
        let api = store
            .get(&resources::HPAS, "myfin", "myfin-api-hpa")
            .expect("myfin hpa");
        let b = &api["spec"]["behavior"];
        assert_eq!(b["scaleDown"]["stabilizationWindowSeconds"], 300);
        assert_eq!(b["scaleDown"]["policies"][0]["value"], 50);
        assert_eq!(b["scaleUp"]["stabilizationWindowSeconds"], 0);
        assert_eq!(b["scaleUp"]["policies"][0]["periodSeconds"], 30);
    }

    #[test]
    fn workloads_select_their_templates_and_hpas_and_services_find_them() {
        let store = seed();
        let mut templates: HashMap<String, Vec<Value>> = HashMap::new();
        let mut names = Vec::new();
        for res in WORKLOADS {
            for w in store.list(res, None) {
                let (ns, name) = obj_key(&w);
                let labels = w["spec"]["template"]["metadata"]["labels"].clone();
                let sel = LabelSelector::from_object(&w["spec"]["selector"])
                    .unwrap_or_else(|e| panic!("{ns}/{name}: bad selector: {e}"));
                assert!(
                    !sel.is_empty() && sel.matches(&labels),
                    "{} {ns}/{name}: selector does not match its template",
                    res.kind
                );
                templates.entry(ns.clone()).or_default().push(labels);
                names.push((res.kind, ns, name));
            }
        }
        assert!(names.len() > 50, "{} workloads", names.len());
        for hpa in store.list(&resources::HPAS, None) {
            let r = &hpa["spec"]["scaleTargetRef"];
            let target = (
                r["kind"].as_str().unwrap_or(""),
                meta_str(&hpa, "namespace").to_string(),
                r["name"].as_str().unwrap_or("").to_string(),
            );
            assert!(names.contains(&target), "HPA target {target:?} missing");
        }
        let mut checked = 0;
        for svc in store.list(&resources::SERVICES, None) {
            let Some(sel) = svc["spec"]["selector"].as_object() else {
                continue;
            };
            let sel = LabelSelector::from_map(&Value::Object(sel.clone()));
            let ns = meta_str(&svc, "namespace");
            let hit = templates
                .get(ns)
                .is_some_and(|ts| ts.iter().any(|labels| sel.matches(labels)));
            assert!(
                hit,
                "Service {ns}/{} selects no workload",
                meta_str(&svc, "name")
            );
            checked += 1;
        }
        assert!(checked > 50, "{checked} services");
    }

    /// Requests (cpu cores, memory bytes) of one pod from a template.
    fn template_requests(template: &Value) -> (f64, f64) {
        pod_requests(&serde_json::json!({"spec": template["spec"]}))
    }

    #[test]
    fn the_nodes_hold_every_hpa_at_its_maximum_and_start_moderately() {
        let store = seed();
        let nodes = store.list(&resources::NODES, None);
        assert!((3..=5).contains(&nodes.len()));
        let alloc = |f: &str| -> f64 {
            nodes
                .iter()
                .map(|n| {
                    n["status"]["allocatable"][f]
                        .as_str()
                        .and_then(parse_quantity)
                        .unwrap_or(0.0)
                })
                .sum()
        };
        let mut max_replicas: HashMap<(String, String, String), i64> = HashMap::new();
        for hpa in store.list(&resources::HPAS, None) {
            let r = &hpa["spec"]["scaleTargetRef"];
            max_replicas.insert(
                (
                    r["kind"].as_str().unwrap_or("").to_string(),
                    meta_str(&hpa, "namespace").to_string(),
                    r["name"].as_str().unwrap_or("").to_string(),
                ),
                hpa["spec"]["maxReplicas"].as_i64().unwrap_or(0),
            );
        }
        let (mut cpu, mut mem, mut pods, mut pods_at_min) = (0.0, 0.0, 0i64, 0i64);
        for res in WORKLOADS {
            for w in store.list(res, None) {
                let (ns, name) = obj_key(&w);
                let replicas = w["spec"]["replicas"].as_i64().unwrap_or(1);
                let (at_min, at_max) = if std::ptr::eq(res, &resources::DAEMONSETS) {
                    (nodes.len() as i64, nodes.len() as i64)
                } else {
                    let max = max_replicas
                        .get(&(res.kind.to_string(), ns, name))
                        .copied()
                        .unwrap_or(replicas);
                    (replicas, max.max(replicas))
                };
                let (c, m) = template_requests(&w["spec"]["template"]);
                assert!(c > 0.0 && m > 0.0, "{} has requests", meta_str(&w, "name"));
                cpu += c * at_max as f64;
                mem += m * at_max as f64;
                pods += at_max;
                pods_at_min += at_min;
            }
        }
        // A backup Job of each CronJob may run at the same time.
        for cj in store.list(&resources::CRONJOBS, None) {
            let (c, m) = template_requests(&cj["spec"]["jobTemplate"]["spec"]["template"]);
            cpu += c;
            mem += m;
            pods += 1;
        }
        assert!(cpu <= alloc("cpu"), "{cpu} cores > {}", alloc("cpu"));
        assert!(mem <= alloc("memory"), "{mem} bytes > {}", alloc("memory"));
        assert!(pods as f64 <= alloc("pods"), "{pods} pods");
        assert!(
            (100..=200).contains(&pods_at_min),
            "{pods_at_min} pods at minimum replicas"
        );
    }
}
