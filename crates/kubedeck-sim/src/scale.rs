//! Synthetic scale (`kubedeck sim --pods N`): namespaces of Deployments and
//! the nodes to run them, so that N pods exist. Only the Deployments are
//! written; the pods come from the deployment, ReplicaSet, scheduler and
//! kubelet machinery, which is the point: it runs at that size.

use anyhow::Context as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::resources;
use crate::store::Store;

/// Replicas of each synthetic Deployment.
const REPLICAS: usize = 10;
/// Deployments per synthetic namespace.
const DEPLOYMENTS_PER_NAMESPACE: usize = 10;
/// Synthetic pods per node: room is left below the kubelet's 110 for the
/// DaemonSets every node also runs.
const PODS_PER_NODE: usize = 100;
/// The node label the synthetic Deployments select, so they never take
/// the room the scenario's own autoscalers need.
const POOL_LABEL: &str = "kubedeck.io/pool";
const POOL: &str = "load";

const WORKLOADS: &[&str] = &[
    "api",
    "worker",
    "frontend",
    "gateway",
    "indexer",
    "billing",
    "search",
    "mailer",
    "reports",
    "ledger",
    "scheduler",
    "notifier",
    "catalog",
    "checkout",
    "sessions",
    "thumbnails",
];

const IMAGES: &[&str] = &[
    "nginx:1.27.2-alpine",
    "httpd:2.4.62-alpine",
    "ghcr.io/stefanprodan/podinfo:6.7.0",
    "traefik/whoami:v1.10.3",
    "hashicorp/http-echo:1.0.0",
    "registry.k8s.io/e2e-test-images/agnhost:2.52",
    "quay.io/prometheus/pushgateway:v1.9.0",
    "caddy:2.8.4-alpine",
];

const ZONES: &[&str] = &["eu-west-2a", "eu-west-2b", "eu-west-2c"];

/// Adds synthetic namespaces (`load-000`, …), Deployments totalling `pods`
/// replicas and nodes (`sim-load-node-001`, …) to hold them. `seed` makes
/// the names, images and requests repeat from run to run.
pub fn add_synthetic(store: &Store, pods: usize, seed: u64) -> anyhow::Result<()> {
    if pods == 0 {
        return Ok(());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..pods.div_ceil(PODS_PER_NODE) {
        store
            .create(&resources::NODES, node(i + 1))
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("synthetic node {}", i + 1))?;
    }
    let deployments = pods.div_ceil(REPLICAS);
    for d in 0..deployments {
        let ns = format!("load-{:03}", d / DEPLOYMENTS_PER_NAMESPACE);
        if d % DEPLOYMENTS_PER_NAMESPACE == 0 {
            store
                .create(&resources::NAMESPACES, namespace(&ns))
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| format!("synthetic namespace {ns}"))?;
        }
        let replicas = REPLICAS.min(pods - d * REPLICAS);
        let workload = WORKLOADS[rng.random_range(0..WORKLOADS.len())];
        let name = format!("{workload}-{:02}", d % DEPLOYMENTS_PER_NAMESPACE);
        let image = IMAGES[rng.random_range(0..IMAGES.len())];
        let cpu_m = 5 * rng.random_range(1..=6);
        let mem_mi = 16 * rng.random_range(1..=4);
        let obj = deployment(&ns, &name, image, replicas, cpu_m, mem_mi);
        store
            .create(&resources::DEPLOYMENTS, obj)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("synthetic deployment {ns}/{name}"))?;
    }
    Ok(())
}

fn node(i: usize) -> Value {
    let name = format!("sim-load-node-{i:03}");
    let zone = ZONES[i % ZONES.len()];
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "",
                "node.kubernetes.io/instance-type": "m6i.2xlarge",
                "topology.kubernetes.io/region": "eu-west-2",
                "topology.kubernetes.io/zone": zone,
                POOL_LABEL: POOL,
            }
        },
        "spec": {"podCIDR": format!("10.{}.{}.0/24", 64 + i / 256, i % 256)},
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "7910m", "memory": "30Gi", "pods": "110"},
            "addresses": [
                {"type": "InternalIP", "address": format!("10.1.{}.{}", i / 250, 4 + i % 250)},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 22.04.5 LTS",
                "kernelVersion": "6.8.0-1019-aws",
                "kubeletVersion": "v1.31.4",
                "kubeProxyVersion": "v1.31.4",
                "containerRuntimeVersion": "containerd://1.7.24",
            },
        },
    })
}

fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/metadata.name": name,
            "kubedeck.io/synthetic": "true",
        }},
    })
}

fn deployment(
    ns: &str,
    name: &str,
    image: &str,
    replicas: usize,
    cpu_m: u32,
    mem_mi: u32,
) -> Value {
    let labels = json!({
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": "synthetic-load",
        "kubedeck.io/synthetic": "true",
    });
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {POOL_LABEL: POOL},
                    "containers": [{
                        "name": name.split('-').next().unwrap_or(name),
                        "image": image,
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": {
                            "requests": {"cpu": format!("{cpu_m}m"), "memory": format!("{mem_mi}Mi")},
                            "limits": {"cpu": format!("{}m", cpu_m * 4), "memory": format!("{}Mi", mem_mi * 2)},
                        },
                    }],
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::scheduler::pod_requests;
    use crate::scenario;
    use kubedeck_kube::quantity::parse_quantity;

    #[test]
    fn synthetic_deployments_total_the_requested_pods_and_fit_their_nodes() {
        let store = Store::new(100_000);
        scenario::load(&store, "minimal").unwrap();
        add_synthetic(&store, 1234, 7).unwrap();
        let deps: Vec<_> = store
            .list(&resources::DEPLOYMENTS, None)
            .into_iter()
            .filter(|d| d["metadata"]["labels"]["kubedeck.io/synthetic"] == "true")
            .collect();
        let replicas: i64 = deps
            .iter()
            .map(|d| d["spec"]["replicas"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(replicas, 1234);
        assert_eq!(deps.len(), 124);
        let load_nodes: Vec<_> = store
            .list(&resources::NODES, None)
            .into_iter()
            .filter(|n| n["metadata"]["labels"][POOL_LABEL] == POOL)
            .collect();
        assert_eq!(load_nodes.len(), 13);
        let cpu: f64 = deps
            .iter()
            .map(|d| {
                let pod = json!({"spec": d["spec"]["template"]["spec"]});
                pod_requests(&pod).0 * d["spec"]["replicas"].as_f64().unwrap_or(0.0)
            })
            .sum();
        let alloc: f64 = load_nodes
            .iter()
            .filter_map(|n| n["status"]["allocatable"]["cpu"].as_str())
            .filter_map(parse_quantity)
            .sum();
        assert!(cpu < alloc, "{cpu} > {alloc}");
        assert!(store.get(&resources::NAMESPACES, "", "load-012").is_some());
        assert!(store.get(&resources::NAMESPACES, "", "load-013").is_none());

        // The same seed gives the same cluster.
        let again = Store::new(100_000);
        scenario::load(&again, "minimal").unwrap();
        add_synthetic(&again, 1234, 7).unwrap();
        let names = |s: &Store| -> Vec<String> {
            s.list(&resources::DEPLOYMENTS, None)
                .iter()
                .map(|d| format!("{}/{}", d["metadata"]["namespace"], d["metadata"]["name"]))
                .collect()
        };
        assert_eq!(names(&store), names(&again));
    }

    #[test]
    fn zero_pods_adds_nothing() {
        let store = Store::new(1000);
        scenario::load(&store, "empty").unwrap();
        let before = store.resource_version();
        add_synthetic(&store, 0, 1).unwrap();
        assert_eq!(store.resource_version(), before);
    }
}
