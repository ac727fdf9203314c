//! The real kubectl's `get` (plain, `-o wide`, `-o json`) and `get -w`
//! against the simulator's minimal scenario.

use std::time::Duration;

use crate::common::{TestSim, cell, row, table, wait_pods_ready, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

async fn started() -> TestSim {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    ts
}

/// `kubectl get ... -o json` items, checking every item's kind.
fn items(list: &Value, kind: &str) -> Vec<Value> {
    let items = list["items"].as_array().cloned().unwrap_or_default();
    for i in &items {
        assert_eq!(i["kind"], kind, "item kind in {i}");
    }
    items
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[track_caller]
fn header_has(text: &str, cols: &[&str]) {
    let header = text.lines().next().unwrap_or("");
    for c in cols {
        assert!(header.contains(c), "header {header:?} lacks {c}\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_namespaces() {
    let ts = started().await;
    let plain = ts.kubectl(&["get", "namespaces"]).await.ok();
    let t = table(&plain);
    assert_eq!(t[0], ["NAME", "STATUS", "AGE"], "{plain}");
    for ns in [
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "demo",
    ] {
        assert_eq!(cell(&t, row(&t, "NAME", ns), "STATUS"), "Active");
    }
    let wide = ts.kubectl(&["get", "ns", "-o", "wide"]).await.ok();
    header_has(&wide, &["NAME", "STATUS", "AGE"]);
    assert!(wide.contains("demo"));
    let json = ts.kubectl(&["get", "ns", "-o", "json"]).await.json();
    let n = names(&items(&json, "Namespace"));
    assert!(
        n.contains(&"demo".into()) && n.contains(&"default".into()),
        "{n:?}"
    );
    assert!(
        items(&json, "Namespace")
            .iter()
            .all(|i| i["status"]["phase"] == "Active")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_nodes() {
    let ts = started().await;
    let plain = ts.kubectl(&["get", "nodes"]).await.ok();
    let t = table(&plain);
    assert_eq!(
        t[0],
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        "{plain}"
    );
    for n in ["sim-node-1", "sim-node-2", "sim-node-3"] {
        let r = row(&t, "NAME", n);
        assert_eq!(cell(&t, r, "STATUS"), "Ready", "{plain}");
        assert!(cell(&t, r, "VERSION").starts_with('v'), "{plain}");
    }
    let wide = ts.kubectl(&["get", "nodes", "-o", "wide"]).await.ok();
    header_has(
        &wide,
        &[
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME",
        ],
    );
    let json = ts.kubectl(&["get", "nodes", "-o", "json"]).await.json();
    let nodes = items(&json, "Node");
    assert_eq!(names(&nodes).len(), 3);
    for n in &nodes {
        let ready = n["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready").cloned())
            .unwrap_or_default();
        assert_eq!(ready["status"], "True", "{n}");
        assert!(n["status"]["nodeInfo"]["kubeletVersion"].is_string(), "{n}");
        let has_internal_ip = n["status"]["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["type"] == "InternalIP"));
        assert!(has_internal_ip, "{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_all_namespaces() {
    let ts = started().await;
    let plain = ts.kubectl(&["get", "pods", "-A"]).await.ok();
    let t = table(&plain);
    assert_eq!(
        t[0],
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{plain}"
    );
    let web: Vec<&Vec<String>> = t.iter().filter(|r| r[1].starts_with("web-")).collect();
    assert_eq!(web.len(), 2, "{plain}");
    for r in web {
        assert_eq!(r[0], "demo");
        assert_eq!(r[2], "1/1", "{plain}");
        assert_eq!(r[3], "Running", "{plain}");
        assert_eq!(r[4], "0", "{plain}");
    }
    let wide = ts.kubectl(&["get", "pods", "-A", "-o", "wide"]).await.ok();
    header_has(&wide, &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
    for line in wide.lines().filter(|l| l.contains("web-")) {
        assert!(line.contains("sim-node-"), "no node in {line:?}");
        assert!(
            line.split_whitespace()
                .any(|c| c.parse::<std::net::Ipv4Addr>().is_ok()),
            "no pod IP in {line:?}"
        );
    }
    let json = ts
        .kubectl(&["get", "pods", "-A", "-o", "json"])
        .await
        .json();
    let pods = items(&json, "Pod");
    let web: Vec<&Value> = pods
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "web")
        .collect();
    assert_eq!(web.len(), 2);
    for p in web {
        assert_eq!(p["metadata"]["namespace"], "demo");
        assert_eq!(p["status"]["phase"], "Running");
        assert!(
            p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| n.starts_with("sim-node-"))
        );
        assert!(p["status"]["podIP"].is_string(), "{p}");
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_deployments() {
    let ts = started().await;
    let out = wait_until("deployment web 2/2 available", WAIT, || async {
        let out = ts.kubectl(&["get", "deployments", "-n", "demo"]).await.ok();
        let t = table(&out);
        let good =
            t.len() == 2 && t[1].get(..4) == Some(&["web", "2/2", "2", "2"].map(String::from)[..]);
        if good { Ok(out) } else { Err(out) }
    })
    .await;
    assert_eq!(
        table(&out)[0],
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    let wide = ts
        .kubectl(&["get", "deploy", "-n", "demo", "-o", "wide"])
        .await
        .ok();
    let t = table(&wide);
    assert_eq!(
        t[0],
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(t[1][5..], ["web", "registry.example/web:1.0.0", "app=web"]);
    let json = ts
        .kubectl(&["get", "deployments", "-n", "demo", "-o", "json"])
        .await
        .json();
    let d = &items(&json, "Deployment")[0];
    assert_eq!(d["metadata"]["name"], "web");
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["status"]["readyReplicas"], 2);
    assert_eq!(d["status"]["availableReplicas"], 2);
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_replicasets() {
    let ts = started().await;
    let plain = ts.kubectl(&["get", "replicasets", "-n", "demo"]).await.ok();
    let t = table(&plain);
    assert_eq!(
        t[0],
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        "{plain}"
    );
    assert_eq!(t.len(), 2, "{plain}");
    assert!(t[1][0].starts_with("web-"), "{plain}");
    assert_eq!(t[1][1..4], ["2", "2", "2"], "{plain}");
    let wide = ts
        .kubectl(&["get", "rs", "-n", "demo", "-o", "wide"])
        .await
        .ok();
    let t = table(&wide);
    assert_eq!(
        t[0],
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(t[1][5..7], ["web", "registry.example/web:1.0.0"]);
    assert!(
        t[1][7].contains("app=web") && t[1][7].contains("pod-template-hash="),
        "{wide}"
    );
    let json = ts
        .kubectl(&["get", "rs", "-n", "demo", "-o", "json"])
        .await
        .json();
    let rs = &items(&json, "ReplicaSet")[0];
    let owner = &rs["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Deployment");
    assert_eq!(owner["name"], "web");
    assert_eq!(owner["controller"], true);
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .expect("pod-template-hash label");
    assert_eq!(rs["metadata"]["name"], format!("web-{hash}"));
    assert_eq!(rs["status"]["readyReplicas"], 2);
}

const STATEFULSET: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: demo
spec:
  clusterIP: None
  selector:
    app: db
  ports:
  - port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: demo
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
      - name: postgres
        image: registry.example/postgres:15
        ports:
        - containerPort: 5432
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_statefulsets() {
    let ts = started().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], STATEFULSET)
        .await
        .ok();
    let pods = wait_pods_ready(&ts, "demo", "app=db", 2, None, WAIT).await;
    let mut pod_names: Vec<String> = names(&pods);
    pod_names.sort();
    assert_eq!(
        pod_names,
        ["db-0", "db-1"],
        "StatefulSet pods have ordinal names"
    );
    let plain = wait_until("statefulset db 2/2", WAIT, || async {
        let out = ts
            .kubectl(&["get", "statefulsets", "-n", "demo"])
            .await
            .ok();
        let t = table(&out);
        if t.len() == 2 && t[1][0] == "db" && t[1][1] == "2/2" {
            Ok(out)
        } else {
            Err(out)
        }
    })
    .await;
    assert_eq!(table(&plain)[0], ["NAME", "READY", "AGE"]);
    let wide = ts
        .kubectl(&["get", "sts", "-n", "demo", "-o", "wide"])
        .await
        .ok();
    let t = table(&wide);
    assert_eq!(t[0], ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"]);
    assert_eq!(t[1][3..], ["postgres", "registry.example/postgres:15"]);
    let json = ts
        .kubectl(&["get", "sts", "-n", "demo", "-o", "json"])
        .await
        .json();
    let s = &items(&json, "StatefulSet")[0];
    assert_eq!(s["metadata"]["name"], "db");
    assert_eq!(s["status"]["readyReplicas"], 2);
    assert_eq!(s["spec"]["serviceName"], "db");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_services() {
    let ts = started().await;
    let plain = ts.kubectl(&["get", "services", "-A"]).await.ok();
    let t = table(&plain);
    assert_eq!(
        t[0],
        [
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ],
        "{plain}"
    );
    let k = row(&t, "NAME", "kubernetes");
    assert_eq!(
        k[..6],
        [
            "default",
            "kubernetes",
            "ClusterIP",
            "10.96.0.1",
            "<none>",
            "443/TCP"
        ]
    );
    let web = row(&t, "NAME", "web");
    assert_eq!(web[0], "demo");
    assert_eq!(web[2], "ClusterIP");
    assert!(
        web[3].parse::<std::net::Ipv4Addr>().is_ok(),
        "cluster IP {plain}"
    );
    assert_eq!(web[4..6], ["<none>", "80/TCP"]);
    let wide = ts
        .kubectl(&["get", "svc", "-n", "demo", "-o", "wide"])
        .await
        .ok();
    let t = table(&wide);
    assert_eq!(t[0].last().map(String::as_str), Some("SELECTOR"), "{wide}");
    assert_eq!(t[1].last().map(String::as_str), Some("app=web"), "{wide}");
    let json = ts
        .kubectl(&["get", "svc", "-n", "demo", "-o", "json"])
        .await
        .json();
    let s = &items(&json, "Service")[0];
    assert_eq!(s["spec"]["type"], "ClusterIP");
    assert_eq!(s["spec"]["ports"][0]["port"], 80);
    assert_eq!(s["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(s["spec"]["ports"][0]["targetPort"], "http");
    assert!(s["spec"]["clusterIP"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_endpoints() {
    let ts = started().await;
    let pods = crate::common::pods_json(&ts, "demo", "app=web").await;
    let mut ips: Vec<String> = pods
        .iter()
        .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
        .collect();
    ips.sort();
    assert_eq!(ips.len(), 2, "pods have IPs");
    let plain = wait_until("endpoints web with both pods", WAIT, || async {
        let out = ts.kubectl(&["get", "endpoints", "-n", "demo"]).await.ok();
        if ips.iter().all(|ip| out.contains(&format!("{ip}:8080"))) {
            Ok(out)
        } else {
            Err(out)
        }
    })
    .await;
    let t = table(&plain);
    assert_eq!(t[0], ["NAME", "ENDPOINTS", "AGE"], "{plain}");
    assert_eq!(row(&t, "NAME", "web")[0], "web");
    let wide = ts
        .kubectl(&["get", "ep", "-n", "demo", "-o", "wide"])
        .await
        .ok();
    assert!(wide.contains(&format!("{}:8080", ips[0])), "{wide}");
    let json = ts
        .kubectl(&["get", "endpoints", "web", "-n", "demo", "-o", "json"])
        .await
        .json();
    assert_eq!(json["kind"], "Endpoints");
    let subset = &json["subsets"][0];
    let mut got: Vec<String> = subset["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| a["ip"].as_str().unwrap_or("").to_string())
        .collect();
    got.sort();
    assert_eq!(got, ips);
    assert_eq!(subset["ports"][0]["port"], 8080);
    assert_eq!(subset["ports"][0]["name"], "http");
    assert_eq!(subset["addresses"][0]["targetRef"]["kind"], "Pod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events() {
    let ts = started().await;
    let plain = ts.kubectl(&["get", "events", "-n", "demo"]).await.ok();
    header_has(
        &plain,
        &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
    );
    for reason in [
        "Scheduled",
        "Pulled",
        "Created",
        "Started",
        "SuccessfulCreate",
        "ScalingReplicaSet",
    ] {
        assert!(
            plain
                .lines()
                .any(|l| l.contains("Normal") && l.contains(reason)),
            "no Normal {reason} event in:\n{plain}"
        );
    }
    assert!(plain.contains("deployment/web"), "{plain}");
    assert!(plain.contains("pod/web-"), "{plain}");
    let wide = ts
        .kubectl(&["get", "events", "-n", "demo", "-o", "wide"])
        .await
        .ok();
    header_has(
        &wide,
        &["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
    );
    assert!(wide.contains("default-scheduler"), "{wide}");
    let json = ts
        .kubectl(&["get", "events", "-n", "demo", "-o", "json"])
        .await
        .json();
    let evs = items(&json, "Event");
    let sched = evs
        .iter()
        .find(|e| e["reason"] == "Scheduled")
        .expect("a Scheduled event");
    assert_eq!(sched["involvedObject"]["kind"], "Pod");
    assert_eq!(sched["type"], "Normal");
    assert!(
        sched["message"].as_str().is_some_and(
            |m| m.contains("Successfully assigned demo/web-") && m.contains("sim-node-")
        ),
        "{sched}"
    );
    // The scheduler reports through events.k8s.io/v1, as the real one does:
    // an action and an eventTime, no count or first/last timestamps.
    assert_eq!(sched["action"], "Binding", "{sched}");
    assert_eq!(sched["reportingComponent"], "default-scheduler", "{sched}");
    assert!(sched["eventTime"].is_string(), "{sched}");
    assert!(
        sched["count"].is_null() && sched["lastTimestamp"].is_null(),
        "{sched}"
    );
    let controller_event = evs
        .iter()
        .find(|e| e["reason"] == "SuccessfulCreate")
        .expect("a SuccessfulCreate event");
    assert!(controller_event["count"].as_i64().unwrap_or(0) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_pods_watch_sees_a_change() {
    let ts = started().await;
    let mut w =
        crate::common::Streaming::spawn(ts.kubectl_cmd(&["get", "pods", "-n", "demo", "-w"]));
    w.wait_line(WAIT, |l| l.starts_with("web-") && l.contains("Running"))
        .await;
    ts.kubectl(&["scale", "deployment/web", "-n", "demo", "--replicas=3"])
        .await
        .ok();
    let pods = wait_pods_ready(&ts, "demo", "app=web", 3, None, WAIT).await;
    let before: Vec<String> = w
        .seen
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let new = names(&pods)
        .into_iter()
        .find(|n| !before.contains(n))
        .expect("a new pod after scaling up");
    w.wait_line(WAIT, |l| {
        l.starts_with(&new) && l.contains("1/1") && l.contains("Running")
    })
    .await;
    w.stop().await;
}
