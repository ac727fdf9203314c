//! metrics.k8s.io/v1beta1 as metrics-server serves it: PodMetrics for
//! running pods, NodeMetrics as the sum of a node's pods plus the system's
//! own overhead. Enough for `kubectl top` and for dashboards.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::usage::{PodUsage, noise, snapshot};
use crate::controllers::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::resources;
use crate::store::{fmt_time, meta_str};
use kubedeck_kube::quantity::parse_quantity;
use kubedeck_kube::selector::LabelSelector;

const API_VERSION: &str = "metrics.k8s.io/v1beta1";
/// metrics-server's default resolution.
const WINDOW: &str = "30s";
const MIB: f64 = 1_048_576.0;

fn cpu_quantity(cores: f64) -> String {
    format!("{}m", (cores * 1000.0).round().max(0.0) as i64)
}

fn memory_quantity(bytes: f64) -> String {
    format!("{}Ki", (bytes / 1024.0).round().max(0.0) as i64)
}

/// The metrics-server way of saying "no metrics for this one".
fn not_found(kind: &str, name: &str) -> ApiError {
    ApiError {
        details: Some(json!({"name": name, "group": "metrics.k8s.io", "kind": kind})),
        ..ApiError::new(
            404,
            "NotFound",
            format!("{kind}.metrics.k8s.io \"{name}\" not found"),
        )
    }
}

fn pod_item(p: &PodUsage, now: DateTime<Utc>) -> Value {
    let containers: Vec<Value> = p
        .containers
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "usage": {"cpu": cpu_quantity(c.cpu), "memory": memory_quantity(c.memory)},
            })
        })
        .collect();
    let mut meta = json!({
        "name": meta_str(&p.pod, "name"),
        "namespace": meta_str(&p.pod, "namespace"),
        "creationTimestamp": fmt_time(now),
    });
    if p.pod["metadata"]["labels"].is_object() {
        meta["labels"] = p.pod["metadata"]["labels"].clone();
    }
    json!({
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": meta,
        "timestamp": fmt_time(now),
        "window": WINDOW,
        "containers": containers,
    })
}

/// PodMetrics of one pod (`name`, in `ns`), or a PodMetricsList of the
/// running pods of `ns` (None: all) matching `label_selector`.
pub(crate) fn pod_metrics(
    ctx: &Ctx,
    ns: Option<&str>,
    name: Option<&str>,
    label_selector: Option<&LabelSelector>,
    now: DateTime<Utc>,
) -> ApiResult<Value> {
    let snap = snapshot(ctx, ns, now);
    let visible = |p: &&PodUsage| p.running && !p.containers.is_empty();
    if let Some(name) = name {
        let full = format!("{}/{name}", ns.unwrap_or_default());
        return snap
            .pods
            .iter()
            .filter(visible)
            .find(|p| meta_str(&p.pod, "name") == name)
            .map(|p| pod_item(p, now))
            .ok_or_else(|| not_found("podmetrics", &full));
    }
    let items: Vec<Value> = snap
        .pods
        .iter()
        .filter(visible)
        .filter(|p| label_selector.is_none_or(|s| s.matches(&p.pod["metadata"]["labels"])))
        .map(|p| pod_item(p, now))
        .collect();
    Ok(json!({
        "kind": "PodMetricsList",
        "apiVersion": API_VERSION,
        "metadata": {},
        "items": items,
    }))
}

/// A node metrics-server can scrape: not reported NotReady.
fn node_reporting(node: &Value) -> bool {
    node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"].as_str() == Some("Ready")))
        .is_none_or(|c| c["status"].as_str() == Some("True"))
}

/// NodeMetrics of one node, or a NodeMetricsList of every reporting node.
pub(crate) fn node_metrics(ctx: &Ctx, name: Option<&str>, now: DateTime<Utc>) -> ApiResult<Value> {
    let nodes: Vec<_> = match name {
        Some(n) => ctx
            .store
            .get(&resources::NODES, "", n)
            .into_iter()
            .collect(),
        None => ctx.store.list(&resources::NODES, None),
    };
    let snap = snapshot(ctx, None, now);
    let mut per_node: std::collections::HashMap<&str, (f64, f64)> = Default::default();
    for p in snap.pods.iter().filter(|p| p.running) {
        let e = per_node
            .entry(p.pod["spec"]["nodeName"].as_str().unwrap_or_default())
            .or_default();
        e.0 += p.cpu();
        e.1 += p.memory();
    }
    let seed = ctx.config.seed;
    let items: Vec<Value> = nodes
        .iter()
        .filter(|n| node_reporting(n))
        .map(|n| {
            let node_name = meta_str(n, "name");
            let alloc = &n["status"]["allocatable"];
            let cpu_alloc = alloc["cpu"]
                .as_str()
                .and_then(parse_quantity)
                .unwrap_or(0.0);
            let mem_alloc = alloc["memory"]
                .as_str()
                .and_then(parse_quantity)
                .unwrap_or(0.0);
            let uid = meta_str(n, "uid");
            // The kubelet, the runtime and the OS are never free.
            let system_cpu = (0.06 + 0.015 * cpu_alloc) * (1.0 + 0.1 * noise(seed, uid, 1, now));
            let system_mem =
                (420.0 * MIB + 0.03 * mem_alloc) * (1.0 + 0.02 * noise(seed, uid, 2, now));
            let (pods_cpu, pods_mem) = per_node.get(node_name).copied().unwrap_or_default();
            let mut meta = json!({"name": node_name, "creationTimestamp": fmt_time(now)});
            if n["metadata"]["labels"].is_object() {
                meta["labels"] = n["metadata"]["labels"].clone();
            }
            json!({
                "kind": "NodeMetrics",
                "apiVersion": API_VERSION,
                "metadata": meta,
                "timestamp": fmt_time(now),
                "window": WINDOW,
                "usage": {
                    "cpu": cpu_quantity(system_cpu + pods_cpu),
                    "memory": memory_quantity(system_mem + pods_mem),
                },
            })
        })
        .collect();
    if let Some(name) = name {
        return items
            .into_iter()
            .next()
            .ok_or_else(|| not_found("nodemetrics", name));
    }
    Ok(json!({
        "kind": "NodeMetricsList",
        "apiVersion": API_VERSION,
        "metadata": {},
        "items": items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{deployment, ready_pod, t0, test_ctx};

    #[test]
    fn pod_metrics_list_get_and_not_found() {
        let ctx = test_ctx(&["demo"]);
        deployment(&ctx, "web", 2, "steady 200rps");
        ready_pod(&ctx, "web", 0);
        ready_pod(&ctx, "web", 1);
        let list = pod_metrics(&ctx, Some("demo"), None, None, t0()).unwrap();
        assert_eq!(list["kind"], "PodMetricsList");
        assert_eq!(list["apiVersion"], "metrics.k8s.io/v1beta1");
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let cpu = items[0]["containers"][0]["usage"]["cpu"].as_str().unwrap();
        let millis: f64 = cpu.strip_suffix('m').unwrap().parse().unwrap();
        assert!((80.0..=130.0).contains(&millis), "{cpu}");
        assert!(
            items[0]["containers"][0]["usage"]["memory"]
                .as_str()
                .unwrap()
                .ends_with("Ki")
        );
        assert_eq!(items[0]["window"], "30s");

        let one = pod_metrics(&ctx, Some("demo"), Some("web-1"), None, t0()).unwrap();
        assert_eq!(one["kind"], "PodMetrics");
        assert_eq!(one["metadata"]["name"], "web-1");
        let err = pod_metrics(&ctx, Some("demo"), Some("nope"), None, t0()).unwrap_err();
        assert_eq!(err.code, 404);
        assert_eq!(
            err.message,
            "podmetrics.metrics.k8s.io \"demo/nope\" not found"
        );

        let sel = LabelSelector::parse("app=other").unwrap();
        let none = pod_metrics(&ctx, None, None, Some(&sel), t0()).unwrap();
        assert_eq!(none["items"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn node_metrics_add_pods_to_the_system_overhead() {
        let ctx = test_ctx(&["demo"]);
        ctx.store
            .create(
                &resources::NODES,
                json!({"metadata": {"name": "node-1"},
                    "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}}}),
            )
            .unwrap();
        let idle = node_metrics(&ctx, Some("node-1"), t0()).unwrap();
        let millis = |v: &Value| -> f64 {
            v["usage"]["cpu"]
                .as_str()
                .unwrap()
                .trim_end_matches('m')
                .parse()
                .unwrap()
        };
        let idle_cpu = millis(&idle);
        assert!((100.0..=140.0).contains(&idle_cpu), "{idle_cpu}");
        deployment(&ctx, "web", 1, "steady 400rps");
        ready_pod(&ctx, "web", 0);
        let busy = node_metrics(&ctx, None, t0()).unwrap();
        assert_eq!(busy["kind"], "NodeMetricsList");
        assert!(millis(&busy["items"][0]) > idle_cpu + 300.0);
        assert_eq!(
            node_metrics(&ctx, Some("node-9"), t0()).unwrap_err().code,
            404
        );
    }
}
