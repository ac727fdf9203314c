//! `autoscaling/v1` HorizontalPodAutoscalers are a second view of the
//! stored autoscaling/v2 objects, as on a real cluster (`kubectl autoscale`
//! still creates v1). v1 has only a CPU utilization target; what it cannot
//! express (other metrics, behavior, conditions, current metrics) travels in
//! the `autoscaling.alpha.kubernetes.io/*` annotations, as the real
//! conversion does, so a read-modify-write through v1 loses nothing.

use serde_json::{Map, Value, json};

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";
const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";

/// The spec and status fields both versions have, copied as they are.
const SHARED_SPEC: [&str; 3] = ["scaleTargetRef", "minReplicas", "maxReplicas"];
const SHARED_STATUS: [&str; 4] = [
    "observedGeneration",
    "lastScaleTime",
    "currentReplicas",
    "desiredReplicas",
];

/// The fields of `from` among `fields` that are set.
fn shared(from: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter(|f| !from[**f].is_null())
        .map(|f| (f.to_string(), from[*f].clone()))
        .collect()
}

fn is_cpu_utilization(m: &Value) -> bool {
    m["type"] == "Resource"
        && m["resource"]["name"] == "cpu"
        && m["resource"]["target"]["type"] == "Utilization"
}

fn is_cpu_current(m: &Value) -> bool {
    m["type"] == "Resource" && m["resource"]["name"] == "cpu"
}

fn annotate(meta: &mut Value, key: &str, items: &[Value]) {
    if items.is_empty() {
        return;
    }
    if !meta["annotations"].is_object() {
        meta["annotations"] = json!({});
    }
    meta["annotations"][key] = json!(Value::Array(items.to_vec()).to_string());
}

/// A stored v2 HPA as autoscaling/v1 shows it.
pub(super) fn from_v2(v2: &Value) -> Value {
    let mut meta = v2["metadata"].clone();
    let spec = &v2["spec"];
    let metrics = spec["metrics"].as_array().cloned().unwrap_or_default();
    let cpu = metrics.iter().find(|m| is_cpu_utilization(m));
    let others: Vec<Value> = metrics
        .iter()
        .filter(|m| !is_cpu_utilization(m))
        .cloned()
        .collect();
    annotate(&mut meta, METRICS, &others);
    if spec["behavior"].is_object() {
        if !meta["annotations"].is_object() {
            meta["annotations"] = json!({});
        }
        meta["annotations"][BEHAVIOR] = json!(spec["behavior"].to_string());
    }
    let mut out_spec = shared(spec, &SHARED_SPEC);
    if let Some(u) = cpu.map(|m| &m["resource"]["target"]["averageUtilization"])
        && !u.is_null()
    {
        out_spec.insert("targetCPUUtilizationPercentage".into(), u.clone());
    }

    let status = &v2["status"];
    let mut out_status = shared(status, &SHARED_STATUS);
    // v1 requires these two.
    for f in ["currentReplicas", "desiredReplicas"] {
        out_status.entry(f).or_insert(json!(0));
    }
    let current = status["currentMetrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(u) = current
        .iter()
        .find(|m| is_cpu_current(m))
        .map(|m| &m["resource"]["current"]["averageUtilization"])
        && !u.is_null()
    {
        out_status.insert("currentCPUUtilizationPercentage".into(), u.clone());
    }
    // All of them: the CPU one may carry more than v1's percentage.
    annotate(&mut meta, CURRENT_METRICS, &current);
    let conditions = status["conditions"].as_array().cloned().unwrap_or_default();
    annotate(&mut meta, CONDITIONS, &conditions);

    json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": out_spec,
        "status": out_status,
    })
}

/// Takes and parses a JSON-array annotation; a malformed one is dropped, as
/// the real conversion ignores what it cannot decode.
fn take(meta: &mut Value, key: &str) -> Option<Value> {
    // `get_mut`, not indexing: indexing would insert a null `annotations`.
    let text = meta.get_mut("annotations")?.as_object_mut()?.remove(key)?;
    serde_json::from_str(text.as_str()?).ok()
}

/// An autoscaling/v1 HPA as v2, for storing.
pub(super) fn to_v2(v1: &Value) -> Value {
    let mut meta = v1["metadata"].clone();
    let spec = &v1["spec"];
    let mut metrics: Vec<Value> = Vec::new();
    if let Some(u) = spec["targetCPUUtilizationPercentage"].as_i64() {
        metrics.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": u}}}));
    }
    if let Some(Value::Array(more)) = take(&mut meta, METRICS) {
        metrics.extend(more);
    }
    let behavior = take(&mut meta, BEHAVIOR);
    let conditions = take(&mut meta, CONDITIONS);
    let current_more = take(&mut meta, CURRENT_METRICS);
    if meta["annotations"].as_object().is_some_and(Map::is_empty) {
        meta.as_object_mut().map(|m| m.remove("annotations"));
    }
    let mut out_spec = shared(spec, &SHARED_SPEC);
    if !metrics.is_empty() {
        out_spec.insert("metrics".into(), Value::Array(metrics));
    }
    if let Some(b) = behavior.filter(Value::is_object) {
        out_spec.insert("behavior".into(), b);
    }

    let status = &v1["status"];
    let mut out_status = shared(status, &SHARED_STATUS);
    let current: Vec<Value> = match (
        current_more,
        status["currentCPUUtilizationPercentage"].as_i64(),
    ) {
        (Some(Value::Array(all)), _) => all,
        (_, Some(u)) => vec![json!({"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": u}}})],
        _ => Vec::new(),
    };
    if !current.is_empty() {
        out_status.insert("currentMetrics".into(), Value::Array(current));
    }
    if let Some(c) = conditions.filter(Value::is_array) {
        out_status.insert("conditions".into(), c);
    }
    let mut out = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": out_spec,
    });
    if !out_status.is_empty() {
        out["status"] = Value::Object(out_status);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2() -> Value {
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "api", "namespace": "shop", "resourceVersion": "7"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
                "minReplicas": 2, "maxReplicas": 10,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "Utilization", "averageUtilization": 80}}}
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}}
            },
            "status": {
                "currentReplicas": 3, "desiredReplicas": 4,
                "currentMetrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": 91, "averageValue": "455m"}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "current": {"averageUtilization": 40}}}
                ],
                "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]
            }
        })
    }

    #[test]
    fn v2_shows_as_v1_with_the_cpu_target_and_the_rest_in_annotations() {
        let v1 = from_v2(&v2());
        assert_eq!(v1["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(v1["spec"]["minReplicas"], 2);
        assert!(v1["spec"].get("metrics").is_none());
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 91);
        assert_eq!(v1["status"]["desiredReplicas"], 4);
        let metrics: Value =
            serde_json::from_str(v1["metadata"]["annotations"][METRICS].as_str().unwrap()).unwrap();
        assert_eq!(metrics[0]["resource"]["name"], "memory");
        assert_eq!(v1["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn a_v1_round_trip_loses_nothing() {
        assert_eq!(to_v2(&from_v2(&v2())), v2());
    }

    #[test]
    fn a_bare_v1_object_becomes_a_cpu_target() {
        let v2 = to_v2(&json!({
            "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                     "maxReplicas": 5, "targetCPUUtilizationPercentage": 80}
        }));
        assert_eq!(
            v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert!(v2.get("status").is_none());
        assert!(v2["metadata"].get("annotations").is_none());
        let bad = to_v2(&json!({"metadata": {"annotations": {METRICS: "not json"}},
                                "spec": {"maxReplicas": 1}}));
        assert!(bad["spec"].get("metrics").is_none());
        let plain = to_v2(&json!({"metadata": {"name": "x"}, "spec": {"maxReplicas": 1}}));
        assert_eq!(plain["metadata"], json!({"name": "x"}));
    }
}
