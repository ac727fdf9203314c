//! Deterministic clusters for the console's unit and snapshot tests.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use super::cluster::Cache;
use super::cluster::cache;
use super::cluster::metrics::PodMetrics;
use super::input::keymap::Keymap;
use super::state::AppState;
use super::theme::Theme;
use super::update::Msg;
use super::view_model;
use super::views::Sources;

/// No pod metrics sample yet.
static NO_METRICS: PodMetrics = PodMetrics::Pending;

static DEFAULT_BACKUP_PATTERNS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| kubedeck_core::config::BackupsConfig::default().patterns);

/// What a table reads from `cache`, as a fresh console sees it: no pod
/// metrics yet, the default backup patterns.
pub(crate) fn sources(cache: &Cache) -> Sources<'_> {
    Sources {
        cache,
        metrics: &NO_METRICS,
        backup_patterns: &DEFAULT_BACKUP_PATTERNS,
        warning_window: crate::state::warning_window(&kubedeck_core::config::Config::default()),
        resources: &[],
        favourites: &[],
    }
}

/// The frame `state` shows, drawn with the default theme at
/// `width`x`height`.
pub(crate) fn draw(
    state: &AppState,
    cache: &Cache,
    keymap: &Keymap,
    width: u16,
    height: u16,
) -> Buffer {
    let (theme, errs) = Theme::load(None, None, false);
    assert!(errs.is_empty(), "{errs:?}");
    let vm = view_model::build(state, cache, keymap, now());
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|f| crate::widgets::draw(f, &vm, &theme))
        .expect("draws");
    terminal.backend().buffer().clone()
}

/// The screen as text: each row without its trailing blanks, and a newline.
pub(crate) fn screen_text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The foreground colour where `needle` is first drawn.
pub(crate) fn fg_of(buf: &Buffer, needle: &str) -> Color {
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        if let Some(col) = row.find(needle) {
            // Columns count characters, not bytes.
            let x = row[..col].chars().count() as u16;
            return buf[(x, y)].fg;
        }
    }
    panic!("{needle:?} is not on screen:\n{}", screen_text(buf));
}

/// The terminal resized to `height` rows and 120 columns, as the widget
/// tests draw it.
pub(crate) fn resize(height: u16) -> Msg {
    Msg::Resize { width: 120, height }
}

/// The instant the test clusters are seen at.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
        .single()
        .expect("valid time")
}

/// A running, ready pod created `age_secs` before `now()`.
pub(crate) fn pod(
    ns: &str,
    name: &str,
    app: &str,
    node: &str,
    age_secs: i64,
    restarts: i32,
    waiting: Option<&str>,
) -> Value {
    let created = now() - chrono::Duration::seconds(age_secs);
    let ready = waiting.is_none();
    let state = match waiting {
        Some(reason) => json!({"waiting": {"reason": reason}}),
        None => json!({"running": {"startedAt": created.to_rfc3339()}}),
    };
    let mut status = json!({
        "phase": "Running",
        "podIP": format!("10.244.0.{}", 10 + name.len()),
        "containerStatuses": [{
            "name": app, "ready": ready, "restartCount": restarts, "image": format!("registry.example/{app}:1.0"),
            "imageID": "", "state": state
        }]
    });
    if restarts > 0 {
        status["containerStatuses"][0]["lastState"] = json!({"terminated": {
            "exitCode": 1, "reason": "Error",
            "finishedAt": (now() - chrono::Duration::seconds(30)).to_rfc3339()
        }});
    }
    let mut labels = json!({"app": app});
    // Deployment pods are named <deployment>-<pod-template-hash>-<suffix>.
    if let [_, hash, _] = name.split('-').collect::<Vec<_>>()[..] {
        labels["pod-template-hash"] = json!(hash);
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "creationTimestamp": created.to_rfc3339()},
        "spec": {"nodeName": node, "containers": [{"name": app, "image": format!("registry.example/{app}:1.0")}]},
        "status": status
    })
}

/// A small cluster: a healthy web service, a crash-looping api, a pod that
/// can't pull its image.
pub(crate) fn cluster() -> Cache {
    cluster_with_writers().0
}

/// As `cluster`, with the writers to change it afterwards.
pub(crate) fn cluster_with_writers() -> (Cache, cache::Writers) {
    let (cache, mut writers) = cache::with_all_events();
    for p in [
        pod(
            "shop",
            "web-7d4b9c8f6d-x2x4k",
            "web",
            "node-1",
            7200,
            0,
            None,
        ),
        pod(
            "shop",
            "web-7d4b9c8f6d-q9z7m",
            "web",
            "node-2",
            7100,
            0,
            None,
        ),
        pod(
            "shop",
            "api-5f6b7c8d9f-abcde",
            "api",
            "node-1",
            300,
            7,
            Some("CrashLoopBackOff"),
        ),
        pod(
            "payments",
            "ledger-0",
            "ledger",
            "node-3",
            86_400 * 3,
            0,
            None,
        ),
        pod(
            "payments",
            "worker-6c7d8e9f5b-zzzzz",
            "worker",
            "node-2",
            45,
            0,
            Some("ImagePullBackOff"),
        ),
    ] {
        writers.apply_json(&p).expect("test pod is valid");
    }
    for obj in others() {
        writers.apply_json(&obj).expect("test object is valid");
    }
    (cache, writers)
}

fn ago(secs: i64) -> String {
    (now() - chrono::Duration::seconds(secs)).to_rfc3339()
}

fn meta(ns: &str, name: &str, age_secs: i64) -> Value {
    let mut m = json!({"name": name, "creationTimestamp": ago(age_secs), "uid": format!("uid-{ns}-{name}")});
    if !ns.is_empty() {
        m["namespace"] = json!(ns);
    }
    m
}

fn deployment(
    ns: &str,
    name: &str,
    images: &[&str],
    replicas: i32,
    ready: i32,
    revision: &str,
    conditions: Value,
) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, img)| json!({"name": if i == 0 { name.to_string() } else { format!("c{i}") }, "image": img}))
        .collect();
    let mut m = meta(ns, name, 86_400);
    m["generation"] = json!(2);
    m["annotations"] = json!({"deployment.kubernetes.io/revision": revision});
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": m,
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}},
        "status": {"observedGeneration": 2, "replicas": replicas, "readyReplicas": ready, "updatedReplicas": replicas,
                   "availableReplicas": ready, "conditions": conditions}
    })
}

fn replicaset(ns: &str, owner: &str, hash: &str, revision: &str) -> Value {
    let mut m = meta(ns, &format!("{owner}-{hash}"), 3600);
    m["labels"] = json!({"app": owner, "pod-template-hash": hash});
    m["annotations"] = json!({"deployment.kubernetes.io/revision": revision});
    m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner, "uid": format!("uid-{ns}-{owner}"), "controller": true}]);
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": m,
        "spec": {"selector": {"matchLabels": {"app": owner, "pod-template-hash": hash}}},
    })
}

fn service(
    ns: &str,
    name: &str,
    ip: &str,
    port: i32,
    target: i32,
    ready: &[&str],
    not_ready: &[&str],
) -> [Value; 2] {
    let addrs = |ips: &[&str]| -> Vec<Value> { ips.iter().map(|ip| json!({"ip": ip})).collect() };
    let mut subset = json!({"ports": [{"port": target, "protocol": "TCP"}]});
    if !ready.is_empty() {
        subset["addresses"] = json!(addrs(ready));
    }
    if !not_ready.is_empty() {
        subset["notReadyAddresses"] = json!(addrs(not_ready));
    }
    [
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": meta(ns, name, 86_400),
            "spec": {"type": "ClusterIP", "clusterIP": ip, "selector": {"app": name},
                     "ports": [{"port": port, "protocol": "TCP", "targetPort": target}]}
        }),
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(ns, name, 86_400), "subsets": [subset]}),
    ]
}

/// An event about `object` ("Kind/name"): (type, reason, message), seen
/// `count` times, last `secs` ago.
fn event(
    ns: &str,
    name: &str,
    object: &str,
    (type_, reason, message): (&str, &str, &str),
    count: i32,
    secs: i64,
) -> Value {
    let (kind, object) = object.split_once('/').unwrap_or(("", object));
    json!({
        "apiVersion": "v1", "kind": "Event", "metadata": meta(ns, name, secs),
        "involvedObject": {"kind": kind, "name": object, "namespace": ns},
        "type": type_, "reason": reason, "message": message, "count": count,
        "firstTimestamp": ago(secs + 600), "lastTimestamp": ago(secs),
    })
}

fn node(name: &str, ready: bool, unschedulable: bool, role: Option<&str>) -> Value {
    let mut m = meta("", name, 86_400 * 10);
    m["labels"] = json!({"kubernetes.io/hostname": name});
    if let Some(r) = role {
        m["labels"][format!("node-role.kubernetes.io/{r}")] = json!("");
    }
    json!({
        "apiVersion": "v1", "kind": "Node", "metadata": m,
        "spec": {"unschedulable": unschedulable},
        "status": {
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "Unknown" }, "reason": if ready { "KubeletReady" } else { "NodeStatusUnknown" }}],
            "nodeInfo": {"kubeletVersion": "v1.31.4", "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://1.7", "kernelVersion": "6.1", "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux", "osImage": "Debian", "systemUUID": ""}
        }
    })
}

/// Everything but the pods: namespaces, nodes, services with endpoints,
/// workloads, HPAs, events, jobs.
fn others() -> Vec<Value> {
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta("", "shop", 86_400 * 30), "status": {"phase": "Active"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta("", "payments", 86_400 * 20), "status": {"phase": "Active"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta("", "quiet", 86_400 * 2), "status": {"phase": "Active"}}),
        node("node-1", true, false, Some("control-plane")),
        node("node-2", true, true, None),
        node("node-3", false, false, None),
        deployment(
            "shop",
            "web",
            &["registry.example/web:1.0"],
            2,
            2,
            "3",
            json!([
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]),
        ),
        replicaset("shop", "web", "7d4b9c8f6d", "3"),
        deployment(
            "shop",
            "api",
            &["registry.example/api:2.0", "registry.example/proxy:1.2"],
            1,
            0,
            "2",
            json!([
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]),
        ),
        replicaset("shop", "api", "5f6b7c8d9f", "2"),
        deployment(
            "payments",
            "worker",
            &["registry.example/worker:9.9"],
            1,
            0,
            "1",
            json!([
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"worker-6c7d8e9f5b\" has timed out progressing."}]),
        ),
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("payments", "ledger", 86_400 * 3),
            "spec": {"replicas": 1, "serviceName": "ledger", "selector": {"matchLabels": {"app": "ledger"}},
                     "template": {"metadata": {"labels": {"app": "ledger"}}, "spec": {"containers": [{"name": "ledger", "image": "registry.example/ledger:1.0"}]}}},
            "status": {"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1,
                       "currentRevision": "ledger-6d5f7b8c9", "updateRevision": "ledger-6d5f7b8c9"}
        }),
        json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("quiet", "node-agent", 86_400),
            "spec": {"selector": {"matchLabels": {"app": "node-agent"}},
                     "template": {"metadata": {"labels": {"app": "node-agent"}}, "spec": {"containers": [{"name": "agent", "image": "registry.example/agent:0.3"}]}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0, "numberReady": 3,
                       "numberAvailable": 3, "updatedNumberScheduled": 3}
        }),
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("shop", "web", 86_400),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 1, "maxReplicas": 2,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": 2, "desiredReplicas": 2, "lastScaleTime": ago(600),
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 95, "averageValue": "95m"}}}],
                       "conditions": [
                           {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "recommended size matches current size"},
                           {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound", "message": "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
                           {"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas", "message": "the desired replica count is more than the maximum replica count"}]}
        }),
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("payments", "ledger", 3600),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "ledger"},
                     "minReplicas": 1, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "512Mi"}}}]},
            "status": {"currentReplicas": 1, "desiredReplicas": 1,
                       "conditions": [
                           {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
                           {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric", "message": "the HPA was unable to compute the replica count: unable to get metrics for resource memory: no metrics returned from resource metrics API"}]}
        }),
        event(
            "shop",
            "api.1",
            "Pod/api-5f6b7c8d9f-abcde",
            (
                "Warning",
                "BackOff",
                "Back-off restarting failed container api in pod api-5f6b7c8d9f-abcde_shop",
            ),
            12,
            20,
        ),
        event(
            "shop",
            "web.1",
            "HorizontalPodAutoscaler/web",
            (
                "Normal",
                "SuccessfulRescale",
                "New size: 2; reason: cpu resource utilization (percentage of request) above target",
            ),
            1,
            600,
        ),
        event(
            "shop",
            "web.2",
            "Pod/web-7d4b9c8f6d-x2x4k",
            (
                "Normal",
                "Scheduled",
                "Successfully assigned shop/web-7d4b9c8f6d-x2x4k to node-1",
            ),
            1,
            7200,
        ),
        event(
            "payments",
            "worker.1",
            "Pod/worker-6c7d8e9f5b-zzzzz",
            ("Warning", "Failed", "Error: ImagePullBackOff"),
            3,
            40,
        ),
        json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": meta("shop", "report-29000000", 300),
            "spec": {"completions": 1, "template": {"spec": {"containers": [{"name": "report", "image": "registry.example/report:1"}], "restartPolicy": "Never"}}},
            "status": {"succeeded": 1, "startTime": ago(300), "completionTime": ago(258),
                       "conditions": [{"type": "Complete", "status": "True"}]}
        }),
        json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": meta("payments", "migrate", 1800),
            "spec": {"completions": 1, "backoffLimit": 2, "template": {"spec": {"containers": [{"name": "migrate", "image": "registry.example/migrate:1"}], "restartPolicy": "Never"}}},
            "status": {"failed": 3, "startTime": ago(1800),
                       "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                       "lastTransitionTime": ago(1717)}]}
        }),
        json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("shop", "report", 86_400 * 7),
            "spec": {"schedule": "*/5 * * * *", "suspend": false, "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "report", "image": "registry.example/report:1"}], "restartPolicy": "Never"}}}}},
            "status": {"lastScheduleTime": ago(300), "lastSuccessfulTime": ago(258)}
        }),
    ];
    out.extend(service(
        "shop",
        "web",
        "10.96.0.10",
        80,
        8080,
        &["10.244.0.30", "10.244.0.31"],
        &[],
    ));
    out.extend(service(
        "shop",
        "api",
        "10.96.0.11",
        80,
        9090,
        &[],
        &["10.244.0.32"],
    ));
    out.extend(service(
        "payments",
        "ledger",
        "10.96.0.12",
        5432,
        5432,
        &["10.244.0.18"],
        &[],
    ));
    out
}

/// A Deployment `demo/web` mid-rollout to an image that cannot be pulled:
/// revision 1 (web:1.0.0) still runs two ready pods, revision 2
/// (web:notfound) has one pod in ImagePullBackOff. With an HPA (2–4).
pub(crate) fn rollout_cluster() -> Cache {
    let (cache, mut writers) = cache::with_all_events();
    let template = |image: &str, hash: &str| {
        json!({"metadata": {"labels": {"app": "web", "pod-template-hash": hash}},
               "spec": {"containers": [{"name": "web", "image": image,
                                        "ports": [{"containerPort": 8080, "name": "http"}]}]}})
    };
    let rs = |hash: &str, rev: &str, image: &str, replicas: i32, ready: i32, cause: &str| {
        let mut m = meta(
            "demo",
            &format!("web-{hash}"),
            if rev == "1" { 7200 } else { 90 },
        );
        m["labels"] = json!({"app": "web", "pod-template-hash": hash});
        m["annotations"] = json!({"deployment.kubernetes.io/revision": rev});
        if !cause.is_empty() {
            m["annotations"]["kubernetes.io/change-cause"] = json!(cause);
        }
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                       "uid": "uid-demo-web", "controller": true}]);
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": m,
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash}},
                        "template": template(image, hash)},
               "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready}})
    };
    let owned_pod = |name: &str, hash: &str, image: &str, waiting: Option<&str>| {
        let mut p = pod("demo", name, "web", "sim-node-1", 60, 0, waiting);
        let ready = if waiting.is_none() { "True" } else { "False" };
        p["status"]["conditions"] = json!([{"type": "Ready", "status": ready}]);
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": format!("web-{hash}"), "uid": format!("uid-demo-web-{hash}"), "controller": true}]);
        p["spec"]["containers"][0]["image"] = json!(image);
        p
    };
    let mut d = meta("demo", "web", 7200);
    d["generation"] = json!(2);
    d["annotations"] = json!({"deployment.kubernetes.io/revision": "2"});
    let mut dtemplate = template("registry.example/web:notfound", "");
    dtemplate["metadata"]["labels"] = json!({"app": "web"});
    for obj in [
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": d,
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": dtemplate},
               "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2,
                          "availableReplicas": 2, "unavailableReplicas": 1,
                          "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}}),
        rs("5d8f7c6b4", "1", "registry.example/web:1.0.0", 2, 2, ""),
        rs(
            "7f9b8d5c2",
            "2",
            "registry.example/web:notfound",
            1,
            0,
            "image update to notfound",
        ),
        owned_pod(
            "web-5d8f7c6b4-aaaaa",
            "5d8f7c6b4",
            "registry.example/web:1.0.0",
            None,
        ),
        owned_pod(
            "web-5d8f7c6b4-bbbbb",
            "5d8f7c6b4",
            "registry.example/web:1.0.0",
            None,
        ),
        owned_pod(
            "web-7f9b8d5c2-ccccc",
            "7f9b8d5c2",
            "registry.example/web:notfound",
            Some("ImagePullBackOff"),
        ),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("demo", "web", 7200),
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("demo", "web", 3600),
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                        "minReplicas": 2, "maxReplicas": 4}}),
    ] {
        writers.apply_json(&obj).expect("valid fixture object");
    }
    cache
}
