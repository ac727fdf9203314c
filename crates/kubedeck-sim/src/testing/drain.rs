//! A cluster to drain, for the drain tests of every crate: two nodes of a
//! pool of their own (tainted, so no other pod lands there), the second
//! cordoned so that everything starts on the first; a two-replica
//! Deployment behind a Service and a PodDisruptionBudget of one, and a
//! DaemonSet. Uncordon `OTHER` and drain `NODE`: the budget holds the second
//! eviction until the first pod's replacement is Ready on `OTHER`.

/// The node drained.
pub const NODE: &str = "drain-a";
/// Where the replacements go, once uncordoned.
pub const OTHER: &str = "drain-b";
pub const NAMESPACE: &str = "drain";

/// What a pod needs to run on the pool: its selector and the toleration
/// of its taint, as JSON for a pod spec.
pub fn placement() -> serde_json::Value {
    serde_json::json!({
        "nodeSelector": {"kubedeck.io/pool": "drain"},
        "tolerations": [{"key": "kubedeck.io/pool", "operator": "Equal",
                         "value": "drain", "effect": "NoSchedule"}],
    })
}

pub const MANIFESTS: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: drain-a
  labels: {kubernetes.io/hostname: drain-a, kubedeck.io/pool: drain}
spec:
  taints: [{key: kubedeck.io/pool, value: drain, effect: NoSchedule}]
status:
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
---
apiVersion: v1
kind: Node
metadata:
  name: drain-b
  labels: {kubernetes.io/hostname: drain-b, kubedeck.io/pool: drain}
spec:
  unschedulable: true
  taints: [{key: kubedeck.io/pool, value: drain, effect: NoSchedule}]
status:
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: drain}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: drain}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      nodeSelector: {kubedeck.io/pool: drain}
      tolerations: [{key: kubedeck.io/pool, operator: Equal, value: drain, effect: NoSchedule}]
      containers:
      - name: api
        image: registry.example/api:1.0.0
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          initialDelaySeconds: 1
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: drain}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: drain}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: api}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: drain}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubedeck.io/pool: drain}
      tolerations: [{key: kubedeck.io/pool, operator: Equal, value: drain, effect: NoSchedule}]
      containers: [{name: agent, image: registry.example/agent:1.0.0}]
"#;
