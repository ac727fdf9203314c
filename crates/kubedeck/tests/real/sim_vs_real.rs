//! The simulator judged against the real thing: the same manifests applied
//! to an in-process simulator and to the real control plane, then what a
//! client sees compared side by side, with the testbed's kubectl (the
//! server's version) as the one client: `get -o json` of every kind,
//! server-side tables, `describe`, `rollout history`, events, `top`,
//! `auth can-i`, a PodDisruptionBudget's refusal of an eviction, and
//! lists, gets and watches at a resourceVersion from the future.
//!
//! What legitimately differs is normalised away before comparing: generated
//! names' random suffixes, uids, hashes, timestamps, resourceVersions, IPs,
//! node names, and what the kubelet reports (kwok plays the real cluster's
//! kubelets, so the judge has no real kubelet). Every other difference fails
//! the test, unless `KNOWN` names it with the reason it is not fixed yet; a
//! `KNOWN` entry that no longer happens fails too, so the list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kubedeck_sim::config::SimConfig;
use kubedeck_sim::testing::{Out, TestSim, run, run_with_stdin, start_with};
use serde_json::Value;

use crate::cluster::Cluster;

const NS: &str = "sim-vs-real";
/// The label that puts the DaemonSet on two chosen nodes of each cluster,
/// whatever other nodes (the seed's) the real cluster has.
const NODE_LABEL: &str = "kubedeck.io/sim-vs-real";

const MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0.0
        ports: [{containerPort: 8080, name: http}]
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: 500m, memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: postgres
        image: registry.example/postgres:15
        ports: [{containerPort: 5432}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {kubedeck.io/sim-vs-real: agent}
      containers:
      - name: agent
        image: registry.example/agent:1.0
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: once
        image: registry.example/once:1.0
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: registry.example/backup:1.0
";

/// The kinds compared with `get -o json`, as kubectl names them.
const KINDS: &[(&str, &str)] = &[
    ("Namespace", "namespaces"),
    ("Deployment", "deployments.apps"),
    ("ReplicaSet", "replicasets.apps"),
    ("Pod", "pods"),
    ("Service", "services"),
    ("EndpointSlice", "endpointslices.discovery.k8s.io"),
    ("StatefulSet", "statefulsets.apps"),
    ("DaemonSet", "daemonsets.apps"),
    ("Job", "jobs.batch"),
    ("CronJob", "cronjobs.batch"),
    (
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers.v2.autoscaling",
    ),
    ("PodDisruptionBudget", "poddisruptionbudgets.policy"),
    ("ConfigMap", "configmaps"),
    ("ServiceAccount", "serviceaccounts"),
];

/// Differences that are not the simulator's to match: each is the judge's
/// own quirk or a value that depends on the machine, not on Kubernetes.
/// `(area, path prefix, why)`; the area is the kind (or the command) and
/// the path is a JSON path with list items named by their `name`/`type`.
const LEGIT: &[(&str, &str, &str)] = &[
    // What the kubelet reports: kwok is the real cluster's kubelet, and it
    // leaves out what a real kubelet writes (container IDs, image IDs,
    // `started`, PodReadyToStartContainers) and marks a completed pod Ready.
    ("Pod", ".status.containerStatuses", "kwok plays the kubelet"),
    (
        "Pod",
        ".status.initContainerStatuses",
        "kwok plays the kubelet",
    ),
    (
        "Pod",
        ".status.conditions[PodReadyToStartContainers]",
        "kwok plays the kubelet",
    ),
    ("Pod", ".status.conditions[Ready]", "kwok plays the kubelet"),
    (
        "Pod",
        ".status.conditions[ContainersReady]",
        "kwok plays the kubelet",
    ),
    (
        "Pod",
        ".status.conditions[Initialized]",
        "kwok plays the kubelet",
    ),
    (
        "Pod",
        ".status.observedGeneration",
        "kwok plays the kubelet",
    ),
    ("Pod", ".status.startTime", "kwok plays the kubelet"),
    // The nodes are each cluster's own: the simulator's scenario gives
    // zones, kwok's nodes have none.
    (
        "EndpointSlice",
        ".endpoints[*].zone",
        "the nodes' labels differ",
    ),
    // Copied from the node a pod is bound to (PodTopologyLabels); which
    // nodes have zones differs between the clusters.
    (
        "Pod",
        ".metadata.labels.topology.kubernetes.io/",
        "the nodes' labels differ",
    ),
    // Each cluster has its own CA.
    ("ConfigMap", ".data.ca.crt", "each cluster's own CA"),
    // How many updates an object has had depends on the controllers'
    // timing (an EndpointSlice is rewritten as each pod turns Ready).
    ("EndpointSlice", ".metadata.generation", "update count"),
    // Emulated usage: the simulator's model against kwok's fixed 1m.
    (
        "HorizontalPodAutoscaler",
        ".status.currentMetrics[Resource].resource.current",
        "usage differs",
    ),
];

/// Known differences, not fixed yet: `(area, path prefix, why)`. Each must
/// still happen, or the test fails asking for its removal. None at present.
const KNOWN: &[(&str, &str, &str)] = &[];

/// Differences that may or may not happen on a run (the real controllers'
/// timing decides); listed so that neither outcome fails.
const RACY: &[(&str, &str, &str)] = &[
    // Which pods the metrics API has samples for when the autoscaler
    // syncs: kube counts a pod without one as using its whole request
    // (which can bring the recommendation back to the current size) and
    // ignores pods that turned Ready after their sample. metrics-server
    // scrapes every 15 s, the simulator's usage exists from a pod's start,
    // so the first minute's conditions and errors differ by timing alone.
    (
        "HorizontalPodAutoscaler",
        ".status.conditions[AbleToScale]",
        "which pods have metrics yet",
    ),
    (
        "Event",
        "horizontal-pod-autoscaler/HorizontalPodAutoscaler/FailedGetResourceMetric.message",
        "which pods have metrics yet",
    ),
    (
        "Event",
        "horizontal-pod-autoscaler/HorizontalPodAutoscaler/FailedComputeMetricsReplicas.message",
        "which pods have metrics yet",
    ),
    // The real disruption controller says NoPods when it sees the budget
    // before the Deployment's pods exist; whether it does is a race.
    (
        "Event",
        "controllermanager/PodDisruptionBudget/NoPods",
        "the budget may be seen before its pods",
    ),
];

#[derive(Debug)]
struct Diff {
    area: String,
    path: String,
    sim: String,
    real: String,
    object: String,
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}: sim {} | real {}",
            self.area, self.object, self.path, self.sim, self.real
        )
    }
}

#[derive(Default)]
struct Diffs(Vec<Diff>);

impl Diffs {
    fn add(&mut self, area: &str, object: &str, path: &str, sim: &str, real: &str) {
        self.0.push(Diff {
            area: area.to_string(),
            path: path.to_string(),
            sim: sim.to_string(),
            real: real.to_string(),
            object: object.to_string(),
        });
    }

    /// Fails with every difference neither legitimate nor known, and with
    /// every known one that no longer happens.
    fn verdict(self) {
        let matches = |d: &Diff, (area, prefix, _): &(&str, &str, &str)| {
            d.area == *area && glob_prefix(prefix, &d.path)
        };
        let mut unexplained = Vec::new();
        let mut known_seen = BTreeSet::new();
        for d in &self.0 {
            if LEGIT.iter().any(|l| matches(d, l)) || RACY.iter().any(|r| matches(d, r)) {
                continue;
            }
            match KNOWN.iter().position(|k| matches(d, k)) {
                Some(i) => {
                    known_seen.insert(i);
                    eprintln!("known difference: {d}");
                }
                None => unexplained.push(d.to_string()),
            }
        }
        let gone: Vec<String> = KNOWN
            .iter()
            .enumerate()
            .filter(|(i, _)| !known_seen.contains(i))
            .map(|(_, (area, prefix, why))| format!("{area} {prefix} ({why})"))
            .collect();
        assert!(
            unexplained.is_empty() && gone.is_empty(),
            "the simulator differs from the real cluster:\n  {}\n\nknown differences that no longer happen (remove them from KNOWN):\n  {}",
            unexplained.join("\n  "),
            gone.join("\n  ")
        );
    }
}

/// Whether `path` starts with `pattern`, where `*` in the pattern stands
/// for any run of characters (`.endpoints[*].zone`).
fn glob_prefix(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return true;
    };
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// One cluster as kubectl sees it.
struct Side<'a> {
    name: &'static str,
    c: &'a Cluster,
    kubeconfig: &'a Path,
}

impl Side<'_> {
    async fn kubectl(&self, args: &[&str]) -> Out {
        run(self.c.kubectl_cmd(self.kubeconfig, args), args).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert!(
            out.success,
            "{}: kubectl {args:?} failed: {}{}",
            self.name, out.stdout, out.stderr
        );
        out.stdout
    }

    async fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args).await;
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: kubectl {args:?} printed no JSON ({e})", self.name))
    }

    async fn stdin(&self, args: &[&str], input: &str) -> Out {
        run_with_stdin(self.c.kubectl_cmd(self.kubeconfig, args), args, input).await
    }
}

/// Both clusters, run alike.
struct Pair<'a> {
    sim: Side<'a>,
    real: Side<'a>,
}

impl Pair<'_> {
    /// Runs the same kubectl command on both.
    async fn both(&self, args: &[&str]) -> (Out, Out) {
        let sim = self.sim.kubectl(args).await;
        let real = self.real.kubectl(args).await;
        (sim, real)
    }

    /// Waits for a state with kubectl on both (`wait`, `rollout status`):
    /// the real cluster must get there; the simulator not getting there is
    /// a difference.
    async fn wait(&self, d: &mut Diffs, what: &str, args: &[&str]) {
        let (sim, real) = self.both(args).await;
        assert!(
            real.success,
            "the real cluster: {what}: kubectl {args:?}: {}{}",
            real.stdout, real.stderr
        );
        if !sim.success {
            d.add(
                "wait",
                what,
                "",
                &format!("fails: {}", sim.stderr.trim()),
                "ok",
            );
        }
    }
}

pub async fn kubectl_sees_the_same_cluster_on_the_simulator_and_the_real_one(c: &'static Cluster) {
    let ts: TestSim = start_with("minimal", SimConfig::default()).await;
    let pair = Pair {
        sim: Side {
            name: "sim",
            c,
            kubeconfig: &ts.kubeconfig,
        },
        real: Side {
            name: "real",
            c,
            kubeconfig: &c.kubeconfig(),
        },
    };
    let mut d = Diffs::default();

    // The DaemonSet's nodes: two of each cluster's own.
    let real_nodes: Vec<String> = c.var("NODES").split(',').map(str::to_string).collect();
    let sim_nodes = ["sim-node-1", "sim-node-2"];
    let label = format!("{NODE_LABEL}=agent");
    pair.real
        .ok(&[
            "label",
            "node",
            &real_nodes[0],
            &real_nodes[1],
            &label,
            "--overwrite",
        ])
        .await;
    pair.sim
        .ok(&[
            "label",
            "node",
            sim_nodes[0],
            sim_nodes[1],
            &label,
            "--overwrite",
        ])
        .await;

    // The namespace, as a manifest: `kubectl create namespace` is compared
    // on its own below.
    c.namespace(NS).await;
    let ns_doc = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{{\"name\":\"{NS}\"}}}}"
    );
    let out = pair.sim.stdin(&["apply", "-f", "-"], &ns_doc).await;
    assert!(
        out.success,
        "the simulator takes a Namespace: {}",
        out.stderr
    );
    for side in [&pair.sim, &pair.real] {
        let out = side.stdin(&["apply", "-n", NS, "-f", "-"], MANIFESTS).await;
        assert!(out.success, "{}: kubectl apply: {}", side.name, out.stderr);
    }

    converge(&pair, &mut d).await;
    compare_objects(&pair, &mut d, KINDS).await;
    compare_nodes(&pair, &mut d, &real_nodes[0], sim_nodes[0]).await;
    compare_events(&pair, &mut d).await;
    compare_tables(&pair, &mut d).await;
    compare_describe(&pair, &mut d).await;
    compare_top(&pair, &mut d).await;
    compare_auth(&pair, &mut d).await;
    compare_create(&pair, &mut d).await;
    compare_evictions(&pair, &mut d, &ts, c).await;
    compare_rollouts(&pair, &mut d).await;
    compare_future_versions(&mut d, &ts, c).await;

    pair.real
        .ok(&[
            "label",
            "node",
            &real_nodes[0],
            &real_nodes[1],
            &format!("{NODE_LABEL}-"),
        ])
        .await;
    d.verdict();
}

/// Waits, on both, for everything applied to settle: rollouts done, the
/// Job complete, the budget counting both pods, both Services' slices
/// holding Ready endpoints, and the autoscaler reading metrics.
async fn converge(pair: &Pair<'_>, d: &mut Diffs) {
    let t = "--timeout=120s";
    for w in ["deployment/web", "statefulset/db", "daemonset/agent"] {
        pair.wait(
            d,
            &format!("rollout {w}"),
            &["rollout", "status", "-n", NS, w, t],
        )
        .await;
    }
    pair.wait(
        d,
        "job complete",
        &["wait", "-n", NS, "--for=condition=Complete", "job/once", t],
    )
    .await;
    pair.wait(
        d,
        "budget healthy",
        &[
            "wait",
            "-n",
            NS,
            "--for=jsonpath={.status.currentHealthy}=2",
            "pdb/web",
            t,
        ],
    )
    .await;
    for svc in ["web", "db"] {
        pair.wait(
            d,
            &format!("{svc} endpoints ready"),
            &[
                "wait",
                "-n",
                NS,
                "endpointslices",
                "-l",
                &format!("kubernetes.io/service-name={svc}"),
                "--for=jsonpath={.endpoints[1].conditions.ready}=true",
                t,
            ],
        )
        .await;
    }
    pair.wait(
        d,
        "autoscaler reads metrics",
        &[
            "wait",
            "-n",
            NS,
            "hpa/web",
            "--for=jsonpath={.status.currentMetrics[0].type}=Resource",
            t,
        ],
    )
    .await;
}

// ---------------------------------------------------------------------------
// Normalisation

/// Replacements of one cluster's incidental strings (uids, hashes, node
/// names, generated names) by placeholders, longest first.
struct Norm {
    subs: Vec<(String, String)>,
}

impl Norm {
    fn new(objects: &[Value], nodes: &[String]) -> Norm {
        let mut base: BTreeMap<String, String> = BTreeMap::new();
        for n in nodes {
            base.insert(n.clone(), "<node>".into());
        }
        for o in objects {
            if let Some(uid) = o["metadata"]["uid"].as_str() {
                base.insert(uid.to_string(), "<uid>".into());
            }
            let labels = &o["metadata"]["labels"];
            if let Some(h) = labels["pod-template-hash"].as_str() {
                base.insert(h.to_string(), "<hash>".into());
            }
            if let Some(h) = labels["controller-revision-hash"].as_str() {
                base.insert(h.to_string(), "<revision>".into());
            }
            for r in ["currentRevision", "updateRevision"] {
                if let Some(h) = o["status"][r].as_str() {
                    base.insert(h.to_string(), "<revision>".into());
                }
            }
        }
        let mut norm = Norm {
            subs: Self::sorted(base.clone()),
        };
        // Generated names: the (normalised) prefix, then a placeholder.
        for o in objects {
            if let (Some(name), Some(prefix)) = (
                o["metadata"]["name"].as_str(),
                o["metadata"]["generateName"].as_str(),
            ) && name.starts_with(prefix)
                && name.len() == prefix.len() + 5
            {
                base.insert(name.to_string(), format!("{}<rand>", norm.text(prefix)));
            }
        }
        // The service account token's volume: `kube-api-access-` and a
        // random suffix.
        for o in objects {
            for v in o["spec"]["volumes"].as_array().into_iter().flatten() {
                if let Some(name) = v["name"].as_str()
                    && name.starts_with("kube-api-access-")
                {
                    base.insert(name.to_string(), "kube-api-access-<rand>".into());
                }
            }
        }
        norm.subs = Self::sorted(base);
        norm
    }

    fn sorted(map: BTreeMap<String, String>) -> Vec<(String, String)> {
        let mut subs: Vec<(String, String)> =
            map.into_iter().filter(|(k, _)| !k.is_empty()).collect();
        subs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        subs
    }

    /// A string with the replacements, and IPs, CIDRs and times masked.
    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (from, to) in &self.subs {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        if chrono::DateTime::parse_from_rfc3339(&out).is_ok() {
            return "<time>".into();
        }
        mask_ips(&out)
    }

    fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (self.text(k), self.value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// IPv4 addresses (and CIDRs) inside a string, as `<ip>` (`<cidr>`).
fn mask_ips(s: &str) -> String {
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let (addr, cidr) = match token.split_once('/') {
            Some((a, bits)) if bits.parse::<u8>().is_ok() => (a, true),
            _ => (token.as_str(), false),
        };
        if addr.parse::<std::net::Ipv4Addr>().is_ok() {
            out.push_str(if cidr { "<cidr>" } else { "<ip>" });
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for ch in s.chars() {
        if ch.is_ascii_digit() || ch == '.' || ch == '/' {
            token.push(ch);
        } else {
            flush(&mut token, &mut out);
            out.push(ch);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// An object as `path → value` lines; list items are named by their
/// `name`, `type` or `targetRef.name` where they have one.
fn flatten(v: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                flatten(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for (i, x) in a.iter().enumerate() {
                let named = ["name", "type"]
                    .iter()
                    .find_map(|k| x[*k].as_str().filter(|s| !s.is_empty()))
                    .or_else(|| x["targetRef"]["name"].as_str())
                    .map(str::to_string);
                let key = match named {
                    Some(k) => {
                        let n = seen.entry(k.clone()).or_insert(0);
                        *n += 1;
                        if *n > 1 { format!("{k}#{n}") } else { k }
                    }
                    None => i.to_string(),
                };
                flatten(x, &format!("{path}[{key}]"), out);
            }
        }
        other => {
            out.insert(path.to_string(), other.to_string());
        }
    }
}

const ABSENT: &str = "<absent>";

/// Every path whose value differs between two normalised objects.
fn diff_objects(d: &mut Diffs, area: &str, object: &str, sim: &Value, real: &Value) {
    let (mut s, mut r) = (BTreeMap::new(), BTreeMap::new());
    flatten(sim, "", &mut s);
    flatten(real, "", &mut r);
    let paths: BTreeSet<&String> = s.keys().chain(r.keys()).collect();
    for p in paths {
        if is_incidental(p) {
            continue;
        }
        let a = s.get(p).map_or(ABSENT, String::as_str);
        let b = r.get(p).map_or(ABSENT, String::as_str);
        if a != b {
            d.add(area, object, p, a, b);
        }
    }
}

/// Paths that differ between any two clusters: identity and history.
fn is_incidental(path: &str) -> bool {
    [
        ".metadata.resourceVersion",
        ".metadata.managedFields",
        ".metadata.annotations.kubectl.kubernetes.io/last-applied-configuration",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

// ---------------------------------------------------------------------------
// get -o json

async fn list(side: &Side<'_>, plural: &str, namespaced: bool) -> Vec<Value> {
    let mut args = vec!["get", plural, "-o", "json"];
    if namespaced {
        args.extend(["-n", NS]);
    }
    side.json(&args).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn node_names(side: &Side<'_>) -> Vec<String> {
    list(side, "nodes", false)
        .await
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

/// Both clusters' normalisers, from everything in the namespace.
async fn norms(pair: &Pair<'_>) -> (Norm, Norm) {
    let mut out = Vec::new();
    for side in [&pair.sim, &pair.real] {
        let mut objects = Vec::new();
        for (_, plural) in KINDS {
            if *plural != "namespaces" {
                objects.extend(list(side, plural, true).await);
            }
        }
        objects.extend(list(side, "controllerrevisions.apps", true).await);
        objects.push(side.json(&["get", "namespace", NS, "-o", "json"]).await);
        out.push(Norm::new(&objects, &node_names(side).await));
    }
    let real = out.pop().expect("two sides");
    let sim = out.pop().expect("two sides");
    (sim, real)
}

async fn compare_objects(pair: &Pair<'_>, d: &mut Diffs, kinds: &[(&str, &str)]) {
    let (sn, rn) = norms(pair).await;
    for (kind, plural) in kinds {
        let (sim, real) = if *plural == "namespaces" {
            let args = ["get", "namespace", NS, "-o", "json"];
            (
                vec![pair.sim.json(&args).await],
                vec![pair.real.json(&args).await],
            )
        } else {
            (
                list(&pair.sim, plural, true).await,
                list(&pair.real, plural, true).await,
            )
        };
        let group = |items: &[Value], n: &Norm| {
            let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for i in items {
                let v = n.value(i);
                let name = v["metadata"]["name"].as_str().unwrap_or("").to_string();
                by.entry(name).or_default().push(v);
            }
            // Alike objects (a Deployment's ReplicaSets) in revision order.
            for v in by.values_mut() {
                v.sort_by_key(|o| {
                    o["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                        .as_str()
                        .and_then(|r| r.parse::<u32>().ok())
                        .unwrap_or(0)
                });
            }
            by
        };
        let (s, r) = (group(&sim, &sn), group(&real, &rn));
        let names: BTreeSet<&String> = s.keys().chain(r.keys()).collect();
        for name in names {
            match (s.get(name), r.get(name)) {
                (Some(a), Some(b)) => {
                    if a.len() != b.len() {
                        d.add(
                            kind,
                            name,
                            "(count)",
                            &a.len().to_string(),
                            &b.len().to_string(),
                        );
                    }
                    let first = |v: &Vec<Value>| v.first().cloned().unwrap_or_default();
                    diff_objects(d, kind, name, &first(a), &first(b));
                }
                (a, b) => d.add(
                    kind,
                    name,
                    "(object)",
                    if a.is_some() { "present" } else { ABSENT },
                    if b.is_some() { "present" } else { ABSENT },
                ),
            }
        }
    }
}

/// A node of each: only what the control plane writes, since the nodes
/// themselves (capacity, labels, node info, conditions' details) are the
/// scenario's and kwok's.
async fn compare_nodes(pair: &Pair<'_>, d: &mut Diffs, real_node: &str, sim_node: &str) {
    let sim = pair
        .sim
        .json(&["get", "node", sim_node, "-o", "json"])
        .await;
    let real = pair
        .real
        .json(&["get", "node", real_node, "-o", "json"])
        .await;
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    for part in ["", "metadata", "spec"] {
        let (a, b) = if part.is_empty() {
            (keys(&sim), keys(&real))
        } else {
            (keys(&sim[part]), keys(&real[part]))
        };
        for k in a.symmetric_difference(&b) {
            d.add(
                "Node",
                "",
                &format!(".{part}.{k}"),
                if a.contains(k) { "present" } else { ABSENT },
                if b.contains(k) { "present" } else { ABSENT },
            );
        }
    }
    // The TTL controller's annotation, on every node.
    let ttl = |v: &Value| v["metadata"]["annotations"]["node.alpha.kubernetes.io/ttl"].to_string();
    if ttl(&sim) != ttl(&real) {
        d.add(
            "Node",
            "",
            ".metadata.annotations.node.alpha.kubernetes.io/ttl",
            &ttl(&sim),
            &ttl(&real),
        );
    }
    let types = |v: &Value| -> BTreeSet<String> {
        v["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["type"].as_str().map(str::to_string))
            .collect()
    };
    let (a, b) = (types(&sim), types(&real));
    for t in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
        if a.contains(t) != b.contains(t) {
            d.add(
                "Node",
                "",
                &format!(".status.conditions[{t}]"),
                &a.contains(t).to_string(),
                &b.contains(t).to_string(),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Events

/// Events by `component/kind/reason`, without the kubelet's: kwok, the
/// real cluster's kubelet, reports none.
fn events_by_reason(items: &[Value], n: &Norm) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for e in items {
        let component = e["source"]["component"]
            .as_str()
            .filter(|s| !s.is_empty())
            .or_else(|| e["reportingComponent"].as_str())
            .unwrap_or("");
        if component == "kubelet" {
            continue;
        }
        let key = format!(
            "{component}/{}/{}",
            e["involvedObject"]["kind"].as_str().unwrap_or(""),
            e["reason"].as_str().unwrap_or("")
        );
        // Of several, the one about the first object (by normalised name),
        // so that both sides pick alike.
        let e = n.value(e);
        let rank = |e: &Value| {
            format!(
                "{} {}",
                e["involvedObject"]["name"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            )
        };
        match out.get(&key) {
            Some(old) if rank(old) <= rank(&e) => {}
            _ => {
                out.insert(key, e);
            }
        }
    }
    out
}

/// An event name's shape: `<object>.<hex nanoseconds>` as client-go makes
/// them, or something else.
fn event_name_shape(name: &str) -> &'static str {
    match name.rsplit_once('.') {
        Some((_, suffix))
            if suffix.len() >= 12 && suffix.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            "<object>.<hex time>"
        }
        _ => "other",
    }
}

async fn compare_events(pair: &Pair<'_>, d: &mut Diffs) {
    let (sn, rn) = norms(pair).await;
    let sim = events_by_reason(&list(&pair.sim, "events", true).await, &sn);
    let real = events_by_reason(&list(&pair.real, "events", true).await, &rn);
    let keys: BTreeSet<&String> = sim.keys().chain(real.keys()).collect();
    for k in keys {
        match (sim.get(k), real.get(k)) {
            (Some(a), Some(b)) => {
                let shape =
                    |e: &Value| event_name_shape(e["metadata"]["name"].as_str().unwrap_or(""));
                if shape(a) != shape(b) {
                    d.add("Event", k, ".metadata.name", shape(a), shape(b));
                }
                let strip = |e: &Value| {
                    let mut e = e.clone();
                    e["metadata"]["name"] = Value::Null;
                    e["metadata"]["uid"] = Value::Null;
                    // `<component>-<host>`: the host is the machine's.
                    if let (Some(c), Some(i)) = (
                        e["reportingComponent"].as_str(),
                        e["reportingInstance"].as_str(),
                    ) && !c.is_empty()
                        && i.starts_with(&format!("{c}-"))
                    {
                        e["reportingInstance"] = Value::from(format!("{c}-<host>"));
                    }
                    // How often it happened and to which object is timing.
                    if e.get("count").is_some() {
                        e["count"] = Value::from("<count>");
                    }
                    for f in ["name", "resourceVersion", "uid"] {
                        e["involvedObject"][f] = Value::Null;
                    }
                    e
                };
                // Paths named `<component>/<kind>/<reason>.<field>`.
                let mut one = Diffs::default();
                diff_objects(&mut one, "Event", k, &strip(a), &strip(b));
                for x in one.0 {
                    d.add("Event", k, &format!("{k}{}", x.path), &x.sim, &x.real);
                }
            }
            (a, b) => d.add(
                "Event",
                "",
                k,
                if a.is_some() { "present" } else { ABSENT },
                if b.is_some() { "present" } else { ABSENT },
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Tables

/// A kubectl table's cells: columns are split where kubectl pads (two
/// spaces or more), so a cell such as `cpu: 1%/80%` stays whole.
fn cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Columns whose values are the clock's or the machine's.
const TIMING_COLUMNS: &[&str] = &[
    "AGE",
    "DURATION",
    "LAST SEEN",
    "FIRST SEEN",
    "COUNT",
    "TARGETS",
    "CPU(cores)",
    "MEMORY(bytes)",
    "CPU(%)",
    "MEMORY(%)",
];

async fn compare_tables(pair: &Pair<'_>, d: &mut Diffs) {
    let (sn, rn) = norms(pair).await;
    let mut kinds: Vec<&str> = KINDS.iter().map(|(_, p)| *p).collect();
    kinds.push("events");
    kinds.push("endpoints");
    for plural in kinds {
        for wide in [false, true] {
            let mut args = vec!["get", plural];
            if plural == "namespaces" {
                args.push(NS);
            } else {
                args.extend(["-n", NS]);
            }
            if wide {
                args.extend(["-o", "wide"]);
            }
            let what = format!("get {plural}{}", if wide { " -o wide" } else { "" });
            let (s, r) = pair.both(&args).await;
            compare_table(d, &what, &s.ok(), &r.ok(), &sn, &rn, plural != "events");
        }
    }
    let (s, r) = pair.both(&["get", "nodes"]).await;
    let header = |t: &str| t.lines().next().map(cells).unwrap_or_default();
    let (a, b) = (header(&s.ok()), header(&r.ok()));
    if a != b {
        d.add(
            "table",
            "get nodes",
            "(header)",
            &a.join(" | "),
            &b.join(" | "),
        );
    }
}

fn compare_table(
    d: &mut Diffs,
    what: &str,
    sim: &str,
    real: &str,
    sn: &Norm,
    rn: &Norm,
    rows: bool,
) {
    let parse = |t: &str, n: &Norm| -> (Vec<String>, BTreeSet<String>) {
        let mut lines = t.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().map(cells).unwrap_or_default();
        let keep: Vec<bool> = header
            .iter()
            .map(|h| !TIMING_COLUMNS.contains(&h.as_str()))
            .collect();
        let rows = lines
            .map(|l| {
                cells(l)
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(c, _)| n.text(c))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        (header, rows)
    };
    let (sh, sr) = parse(sim, sn);
    let (rh, rr) = parse(real, rn);
    if sh != rh {
        d.add("table", what, "(header)", &sh.join(" | "), &rh.join(" | "));
        return;
    }
    if rows {
        for row in sr.symmetric_difference(&rr) {
            d.add(
                "table",
                what,
                &format!("(row) {row}"),
                if sr.contains(row) { "present" } else { ABSENT },
                if rr.contains(row) { "present" } else { ABSENT },
            );
        }
    }
}

// ---------------------------------------------------------------------------
// describe

/// The labels of `describe`'s lines (`Name:`, `  Containers:`), with their
/// indentation, up to the Events table.
fn describe_labels(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("Events:") {
            out.push("Events:".to_string());
            break;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let Some((label, _)) = trimmed.split_once(':') else {
            continue;
        };
        let is_label = label.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " -()/".contains(c));
        if is_label {
            out.push(format!("{}{label}:", " ".repeat(indent)));
        }
    }
    out
}

async fn first_name(side: &Side<'_>, kind: &str, selector: &str) -> String {
    side.ok(&[
        "get",
        kind,
        "-n",
        NS,
        "-l",
        selector,
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ])
    .await
}

async fn compare_describe(pair: &Pair<'_>, d: &mut Diffs) {
    let fixed = [
        "deployment/web",
        "statefulset/db",
        "daemonset/agent",
        "job/once",
        "cronjob/nightly",
        "hpa/web",
        "pdb/web",
        "service/web",
        "service/db",
        "configmap/settings",
    ];
    let mut targets: Vec<(String, String)> = fixed
        .iter()
        .map(|t| (t.to_string(), t.to_string()))
        .collect();
    for (kind, selector) in [
        ("pods", "app=web"),
        ("pods", "app=agent"),
        ("pods", "job-name=once"),
        ("replicasets", "app=web"),
        ("endpointslices", "kubernetes.io/service-name=web"),
    ] {
        targets.push((
            format!("{kind}/{}", first_name(&pair.sim, kind, selector).await),
            format!("{kind}/{}", first_name(&pair.real, kind, selector).await),
        ));
    }
    for (s, r) in &targets {
        let real = pair.real.ok(&["describe", "-n", NS, r]).await;
        let sim = pair.sim.kubectl(&["describe", "-n", NS, s]).await;
        if !sim.success {
            let first = sim.stderr.lines().next().unwrap_or("").to_string();
            d.add(
                &format!("describe {r}"),
                "",
                "(answer)",
                &format!("fails: {first}"),
                "ok",
            );
            continue;
        }
        let sim = sim.stdout;
        diff_lines(
            d,
            &format!("describe {}", r.split('/').next().unwrap_or("")),
            &describe_labels(&sim),
            &describe_labels(&real),
        );
    }
    let sim = pair.sim.ok(&["describe", "namespace", NS]).await;
    let real = pair.real.ok(&["describe", "namespace", NS]).await;
    diff_lines(
        d,
        "describe namespace",
        &describe_labels(&sim),
        &describe_labels(&real),
    );
}

/// Lines in one list and not the other (with multiplicity), or the same
/// lines in another order.
fn diff_lines(d: &mut Diffs, what: &str, sim: &[String], real: &[String]) {
    let count = |v: &[String]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for l in v {
            *m.entry(l.clone()).or_default() += 1;
        }
        m
    };
    let (a, b) = (count(sim), count(real));
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut any = false;
    for k in keys {
        let (x, y) = (
            a.get(k).copied().unwrap_or(0),
            b.get(k).copied().unwrap_or(0),
        );
        if x != y {
            any = true;
            d.add(
                what,
                "",
                &format!("(line) {}", k.trim_end()),
                &x.to_string(),
                &y.to_string(),
            );
        }
    }
    if !any && sim != real {
        d.add(what, "", "(order)", &sim.join(" "), &real.join(" "));
    }
}

// ---------------------------------------------------------------------------
// top, auth can-i, create

async fn compare_top(pair: &Pair<'_>, d: &mut Diffs) {
    let (sn, rn) = norms(pair).await;
    let (s, r) = pair.both(&["top", "pods", "-n", NS]).await;
    let web = |t: &str, n: &Norm| -> BTreeSet<String> {
        t.lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .filter(|p| p.starts_with("web-"))
            .map(|p| n.text(p))
            .collect()
    };
    let (st, rt) = (s.ok(), r.ok());
    compare_table(d, "top pods", &st, &rt, &sn, &rn, false);
    if web(&st, &sn) != web(&rt, &rn) {
        d.add(
            "top pods",
            "",
            "(web pods)",
            &format!("{:?}", web(&st, &sn)),
            &format!("{:?}", web(&rt, &rn)),
        );
    }
    let (s, r) = pair.both(&["top", "nodes"]).await;
    compare_table(d, "top nodes", &s.ok(), &r.ok(), &sn, &rn, false);
}

async fn compare_auth(pair: &Pair<'_>, d: &mut Diffs) {
    let queries: &[&[&str]] = &[
        &["auth", "can-i", "create", "deployments.apps", "-n", NS],
        &[
            "auth",
            "can-i",
            "delete",
            "pods",
            "--subresource=eviction",
            "-n",
            NS,
        ],
        &["auth", "can-i", "list", "secrets", "-A"],
        &[
            "auth",
            "can-i",
            "list",
            "pods",
            "-n",
            NS,
            "--as=system:serviceaccount:sim-vs-real:default",
        ],
    ];
    for q in queries {
        let (s, r) = pair.both(q).await;
        let what = q[2..].join(" ");
        let answer = |o: &Out| format!("{} {:?}", o.stdout.trim(), o.code);
        if answer(&s) != answer(&r) {
            d.add(
                "auth can-i",
                "",
                &format!("(answer) {what}"),
                &format!("{} {}", answer(&s), s.stderr.trim()),
                &answer(&r),
            );
        }
    }
    let (s, r) = pair.both(&["auth", "can-i", "--list", "-n", NS]).await;
    let rows = |o: &Out| -> Vec<String> {
        let mut v: Vec<String> = o
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        v.sort();
        v
    };
    if !s.success {
        d.add(
            "auth can-i",
            "--list",
            "(answer)",
            &format!("fails: {}", s.stderr.trim()),
            "ok",
        );
    } else {
        diff_lines(d, "auth can-i --list", &rows(&s), &rows(&r));
    }
}

/// kubectl's `create` subcommands: since v1.35 they send protobuf (typed
/// clients), where older ones sent JSON; the workloads' specs must come out
/// the same.
async fn compare_create(pair: &Pair<'_>, d: &mut Diffs) {
    let tries: &[&[&str]] = &[
        &[
            "create",
            "configmap",
            "made",
            "--from-literal=a=b",
            "-n",
            NS,
        ],
        &["create", "namespace", "sim-vs-real-made"],
        &[
            "create",
            "deployment",
            "made",
            "--image=registry.example/made:1",
            "--port=8080",
            "--replicas=3",
            "-n",
            NS,
        ],
        &[
            "create",
            "cronjob",
            "made",
            "--image=registry.example/made:1",
            "--schedule=0 4 * * *",
            "-n",
            NS,
        ],
    ];
    for t in tries {
        let (s, r) = pair.both(t).await;
        assert!(r.success, "the real cluster: kubectl {t:?}: {}", r.stderr);
        if !s.success {
            d.add(
                "create",
                &t[1..3].join(" "),
                &format!("(answer) {}", t[1]),
                &format!("fails: {}", s.stderr.trim()),
                r.stdout.trim(),
            );
        }
    }
    // What the protobuf bodies decoded to, defaults included.
    for kind in ["deployment", "cronjob"] {
        let get = ["get", kind, "made", "-n", NS, "-o", "jsonpath={.spec}"];
        let (s, r) = pair.both(&get).await;
        let spec = |o: &Out| serde_json::from_str(&o.stdout).unwrap_or(Value::Null);
        diff_objects(d, "create", &format!("{kind} made"), &spec(&s), &spec(&r));
    }
    for side in [&pair.sim, &pair.real] {
        side.kubectl(&["delete", "namespace", "sim-vs-real-made", "--wait=false"])
            .await;
        side.kubectl(&["delete", "deployment,cronjob", "made", "-n", NS])
            .await;
    }
}

// ---------------------------------------------------------------------------
// Evictions

/// What a client gets back from an eviction: the code, the Retry-After
/// header and the Status body.
async fn evict(client: &kube::Client, pod: &str) -> (u16, Option<String>, Value) {
    let body = serde_json::json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": pod, "namespace": NS},
    });
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("/api/v1/namespaces/{NS}/pods/{pod}/eviction"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(kube::client::Body::from(
            serde_json::to_vec(&body).expect("JSON"),
        ))
        .expect("a request");
    let resp = client.send(req).await.expect("the server answers");
    let code = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp
        .into_body()
        .collect_bytes()
        .await
        .expect("the answer's body");
    let status = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (code, retry, status)
}

async fn compare_evictions(pair: &Pair<'_>, d: &mut Diffs, ts: &TestSim, c: &Cluster) {
    // Clients made as kubedeck makes its own: without kube-rs's retry of a
    // 429, which would turn a refusal into minutes of back-off.
    let (sc, rc) = (c.client_for(&ts.kubeconfig).await, c.client().await);
    let sp = first_name(&pair.sim, "pods", "app=web").await;
    let rp = first_name(&pair.real, "pods", "app=web").await;
    type Answer = (u16, Option<String>, Value);
    let compare = |d: &mut Diffs, what: &str, s: Answer, r: Answer| {
        if s.0 != r.0 {
            d.add(
                "eviction",
                what,
                "(code)",
                &s.0.to_string(),
                &r.0.to_string(),
            );
        }
        if s.1 != r.1 {
            d.add(
                "eviction",
                what,
                "(Retry-After)",
                &format!("{:?}", s.1),
                &format!("{:?}", r.1),
            );
        }
        diff_objects(d, "eviction", what, &s.2, &r.2);
    };
    // minAvailable 2 of 2: refused.
    compare(d, "refused", evict(&sc, &sp).await, evict(&rc, &rp).await);
    // minAvailable 1, once the budget's controller has seen it: allowed.
    for side in [&pair.sim, &pair.real] {
        side.ok(&[
            "patch",
            "pdb/web",
            "-n",
            NS,
            "--type=merge",
            "-p",
            r#"{"spec":{"minAvailable":1}}"#,
        ])
        .await;
    }
    pair.wait(
        d,
        "budget allows one",
        &[
            "wait",
            "-n",
            NS,
            "pdb/web",
            "--for=jsonpath={.status.disruptionsAllowed}=1",
            "--timeout=60s",
        ],
    )
    .await;
    compare(d, "allowed", evict(&sc, &sp).await, evict(&rc, &rp).await);
}

// ---------------------------------------------------------------------------
// Rollouts

async fn compare_rollouts(pair: &Pair<'_>, d: &mut Diffs) {
    for side in [&pair.sim, &pair.real] {
        for (w, image) in [
            ("deployment/web", "web=registry.example/web:1.1.0"),
            ("statefulset/db", "postgres=registry.example/postgres:16"),
            ("daemonset/agent", "agent=registry.example/agent:1.1"),
        ] {
            side.ok(&["set", "image", "-n", NS, w, image]).await;
        }
    }
    for w in ["deployment/web", "statefulset/db", "daemonset/agent"] {
        pair.wait(
            d,
            &format!("rollout {w} again"),
            &["rollout", "status", "-n", NS, w, "--timeout=120s"],
        )
        .await;
    }
    let (sn, rn) = norms(pair).await;
    for w in ["deployment/web", "statefulset/db", "daemonset/agent"] {
        for rev in [None, Some("--revision=1"), Some("--revision=2")] {
            let mut args = vec!["rollout", "history", "-n", NS, w];
            args.extend(rev);
            let (s, r) = pair.both(&args).await;
            let lines = |t: &str, n: &Norm| -> Vec<String> {
                t.lines().map(|l| n.text(l.trim_end())).collect()
            };
            diff_lines(
                d,
                &format!("rollout history {w} {}", rev.unwrap_or("")),
                &lines(&s.ok(), &sn),
                &lines(&r.ok(), &rn),
            );
        }
    }
    // The objects after a rollout: revisions, old ReplicaSets, conditions.
    compare_objects(
        pair,
        d,
        &[
            ("Deployment", "deployments.apps"),
            ("ReplicaSet", "replicasets.apps"),
            ("StatefulSet", "statefulsets.apps"),
            ("DaemonSet", "daemonsets.apps"),
        ],
    )
    .await;
}

// ---------------------------------------------------------------------------
// Resource versions from the future

/// A version neither cluster has reached (a client resuming after the
/// server lost its history, say).
const FUTURE_RV: u64 = 1_000_000_000_000;

/// The digits after "current: " in a too-large message, which are each
/// server's own version.
fn mask_current(text: &str) -> String {
    match text.split_once("current: ") {
        Some((head, tail)) => format!(
            "{head}current: N{}",
            tail.trim_start_matches(|c: char| c.is_ascii_digit())
        ),
        None => text.to_string(),
    }
}

/// What a client gets from a GET: the code, Retry-After, and the body's
/// first JSON document (a watch's first event; null when it sent none).
async fn raw_get(client: &kube::Client, path: &str) -> (u16, Option<String>, Value) {
    let req = http::Request::builder()
        .uri(path)
        .header("accept", "application/json")
        .body(kube::client::Body::empty())
        .expect("a request");
    let resp = client.send(req).await.expect("the server answers");
    let code = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.into_body().collect_bytes().await.expect("a body");
    let text = mask_current(&String::from_utf8_lossy(&bytes));
    let first = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or(Value::Null);
    (code, retry, first)
}

async fn compare_future_versions(d: &mut Diffs, ts: &TestSim, c: &Cluster) {
    let (sc, rc) = (c.client_for(&ts.kubeconfig).await, c.client().await);
    let cms = format!("/api/v1/namespaces/{NS}/configmaps");
    let f = FUTURE_RV;
    let cases = [
        ("list", format!("{cms}?resourceVersion={f}")),
        (
            "list NotOlderThan",
            format!("{cms}?resourceVersion={f}&resourceVersionMatch=NotOlderThan"),
        ),
        ("list paged", format!("{cms}?resourceVersion={f}&limit=1")),
        ("get", format!("{cms}/settings?resourceVersion={f}")),
        // A plain watch waits for the version in silence until its timeout.
        (
            "watch",
            format!("{cms}?watch=1&resourceVersion={f}&timeoutSeconds=1"),
        ),
        (
            "streaming watch",
            format!(
                "{cms}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion={f}&timeoutSeconds=10"
            ),
        ),
    ];
    for (what, path) in &cases {
        let (s, r) = (raw_get(&sc, path).await, raw_get(&rc, path).await);
        if s.0 != r.0 {
            d.add(
                "future resourceVersion",
                what,
                "(code)",
                &s.0.to_string(),
                &r.0.to_string(),
            );
        }
        if s.1 != r.1 {
            d.add(
                "future resourceVersion",
                what,
                "(Retry-After)",
                &format!("{:?}", s.1),
                &format!("{:?}", r.1),
            );
        }
        diff_objects(d, "future resourceVersion", what, &s.2, &r.2);
    }
}
