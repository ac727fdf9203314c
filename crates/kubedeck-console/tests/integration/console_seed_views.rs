//! Snapshots of every console view over the simulator's seed cluster: the
//! simulator runs in-process until its workloads are Ready, its objects are
//! copied into a console cache with the volatile fields (times, generated
//! name suffixes, IPs) made deterministic, and each view is drawn to a
//! 160x45 `TestBackend` at a fixed clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, PostParams};
use kubedeck_console::cluster::watch::WatchMsg;
use kubedeck_console::cluster::{Cache, Kind, cache};
use kubedeck_console::input::keymap::Keymap;
use kubedeck_console::state::AppState;
use kubedeck_console::theme::Theme;
use kubedeck_console::update::{Msg, update};
use kubedeck_console::{view_model, widgets};
use kubedeck_sim::config::SimConfig;
use kubedeck_sim::resources::{self, ResourceDef};
use kubedeck_sim::{self as sim, SimOptions};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 45;

/// The kinds the console caches, as the simulator stores them.
const CACHED: &[&ResourceDef] = &[
    &resources::NAMESPACES,
    &resources::NODES,
    &resources::PODS,
    &resources::SERVICES,
    &resources::ENDPOINTS,
    &resources::EVENTS,
    &resources::DEPLOYMENTS,
    &resources::REPLICASETS,
    &resources::STATEFULSETS,
    &resources::DAEMONSETS,
    &resources::HPAS,
    &resources::JOBS,
    &resources::CRONJOBS,
];

/// Every time in every object becomes this instant…
fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// …and the console's clock reads this, so every age is 3h25m.
fn now() -> DateTime<Utc> {
    created() + chrono::Duration::minutes(205)
}

/// The seed cluster's objects once it has settled, as the simulator stores
/// them; shared by every test.
fn raw_seed() -> &'static [Value] {
    static RAW: OnceLock<Vec<Value>> = OnceLock::new();
    RAW.get_or_init(|| {
        // The simulator lives on a runtime of its own, dropped once the
        // objects are copied.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(settled_seed())
    })
}

/// The settled seed cluster, normalized.
fn seed_objects() -> &'static [Value] {
    static OBJECTS: OnceLock<Vec<Value>> = OnceLock::new();
    OBJECTS.get_or_init(|| normalize(raw_seed().to_vec()))
}

async fn settled_seed() -> Vec<Value> {
    let sim = sim::start(SimOptions {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        kubeconfig_out: None,
        scenario: "seed".into(),
        manifests: Vec::new(),
        config: SimConfig::default(),
    })
    .await
    .expect("the simulator starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let pending = not_ready(&sim);
        if pending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the seed cluster did not settle within 180s; still waiting for: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    run_backup_now(&sim).await;
    CACHED
        .iter()
        .flat_map(|res| sim.store().list(res, None))
        .map(|obj| Value::clone(&obj))
        .collect()
}

/// The namespace and CronJob whose backup is run by hand, so that the jobs
/// view has a Job to show.
const BACKUP: (&str, &str) = ("migrate-platform", "postgres-vector-backup");
const MANUAL: &str = "cronjob.kubernetes.io/instantiate";

/// Runs the backup CronJob once, as `kubectl create job --from=cronjob/…`
/// does, and waits for the Job to finish.
async fn run_backup_now(sim: &sim::Sim) {
    let (ns, cronjob) = BACKUP;
    let store = sim.store();
    let cj = store
        .list(&resources::CRONJOBS, Some(ns))
        .into_iter()
        .find(|c| c["metadata"]["name"] == cronjob)
        .expect("the seed has the backup CronJob");
    let name = format!("{cronjob}-manual");
    let job: Job = serde_json::from_value(serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": ns,
            "annotations": {MANUAL: "manual"},
            "ownerReferences": [{
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": cronjob,
                "uid": cj["metadata"]["uid"],
                "controller": true
            }]
        },
        "spec": cj["spec"]["jobTemplate"]["spec"]
    }))
    .expect("a valid Job");
    // Through the API, as kubectl would create it.
    let config = kube::Config::new(sim.url().parse().expect("the simulator's URL"));
    let client = kube::Client::try_from(config).expect("a client of the simulator");
    Api::<Job>::namespaced(client, ns)
        .create(&PostParams::default(), &job)
        .await
        .expect("the manual Job is created");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = store
            .list(&resources::JOBS, Some(ns))
            .into_iter()
            .find(|j| j["metadata"]["name"] == name.as_str());
        let status = job
            .as_ref()
            .map(|j| j["status"].clone())
            .unwrap_or_default();
        // The Job controller's Completed event is the last write the
        // backup causes (a manual Job is not in the CronJob's active list).
        let recorded = store
            .list(&resources::EVENTS, Some(ns))
            .iter()
            .any(|e| e["reason"] == "Completed" && e["involvedObject"]["name"] == name.as_str());
        if status["succeeded"].as_i64() >= Some(1) && recorded {
            return;
        }
        assert!(
            status["failed"].is_null(),
            "the manual backup failed: {status}"
        );
        assert!(
            Instant::now() < deadline,
            "the manual backup did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// What keeps the seed cluster from being settled: pods that are not Ready
/// and workloads whose ready count is short of the desired one.
fn not_ready(sim: &sim::Sim) -> Vec<String> {
    let store = sim.store();
    let mut pending = Vec::new();
    for pod in store.list(&resources::PODS, None) {
        let ready = pod["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        if !ready && pod["status"]["phase"] != "Succeeded" {
            pending.push(format!("pod {}", name_of(&pod)));
        }
    }
    for (res, desired, ready) in [
        (
            &resources::DEPLOYMENTS,
            "/spec/replicas",
            "/status/readyReplicas",
        ),
        (
            &resources::STATEFULSETS,
            "/spec/replicas",
            "/status/readyReplicas",
        ),
        (
            &resources::DAEMONSETS,
            "/status/desiredNumberScheduled",
            "/status/numberReady",
        ),
    ] {
        for obj in store.list(res, None) {
            let want = obj.pointer(desired).and_then(Value::as_i64).unwrap_or(1);
            let have = obj.pointer(ready).and_then(Value::as_i64).unwrap_or(0);
            if want != have {
                pending.push(format!("{} {} {have}/{want}", res.kind, name_of(&obj)));
            }
        }
    }
    // Each HPA has had a sync that read every metric it names: until then
    // its conditions depend on how the syncs fell against pod readiness.
    for hpa in store.list(&resources::HPAS, None) {
        let named = hpa["spec"]["metrics"].as_array().map_or(0, Vec::len);
        let read = hpa["status"]["currentMetrics"]
            .as_array()
            .map_or(0, |ms| ms.iter().filter(|m| has_value(m)).count());
        if read < named {
            pending.push(format!("hpa {} {read}/{named} metrics", name_of(&hpa)));
        }
    }
    pending
}

/// Whether a current metric of an HPA's status carries a value.
fn has_value(metric: &Value) -> bool {
    metric
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .any(|source| {
            let current = &source["current"];
            !current["averageUtilization"].is_null()
                || !current["averageValue"].is_null()
                || !current["value"].is_null()
        })
}

fn name_of(obj: &Value) -> String {
    format!(
        "{}/{}",
        obj["metadata"]["namespace"].as_str().unwrap_or(""),
        obj["metadata"]["name"].as_str().unwrap_or("")
    )
}

/// Letters Kubernetes uses for generated suffixes (no vowels, no look-alikes).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A stable stand-in for a random suffix: FNV-1a of `seed`, spelled in
/// Kubernetes' suffix alphabet.
fn suffix(seed: &str, len: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize];
            h /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}

/// Makes the seed objects the same on every run:
/// - Jobs other than the manual backup, and their pods, are dropped: the
///   seed's backup history is named after the schedule times before the
///   simulator started, and a CronJob whose schedule falls during the run
///   would add one.
/// - ReplicaSet hashes and generated pod suffixes are derived from their
///   owners' names; event names from what they report.
/// - Pod and cluster IPs are numbered in name order.
/// - Every time is `created()`, and every event's count 1: how often a
///   controller repeated a warning depends on how its syncs fell.
/// - The HPAs' warm-up warnings are dropped: how many syncs fell before
///   the first metrics depends on timing. Their current metric values are
///   set to their targets: the usage model's noise is seeded by pod UIDs,
///   which differ on every run.
fn normalize(mut objects: Vec<Value>) -> Vec<Value> {
    let manual: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == "Job" && !o["metadata"]["annotations"][MANUAL].is_null())
        .map(name_of)
        .collect();
    objects.retain(|o| {
        let job = format!(
            "{}/{}",
            o["metadata"]["namespace"].as_str().unwrap_or_default(),
            o["metadata"]["ownerReferences"][0]["name"]
                .as_str()
                .unwrap_or_default()
        );
        (o["kind"] != "Job" || manual.contains(&name_of(o)))
            && (!owned_by(o, "Job") || manual.contains(&job))
    });
    objects.retain(|o| {
        o["kind"] != "Event"
            || !matches!(
                o["reason"].as_str(),
                Some("FailedGetResourceMetric" | "FailedComputeMetricsReplicas")
            )
    });
    for hpa in objects
        .iter_mut()
        .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
    {
        let targets = hpa["spec"]["metrics"].clone();
        if let Some(current) = hpa
            .pointer_mut("/status/currentMetrics")
            .and_then(Value::as_array_mut)
        {
            for metric in current {
                at_target(metric, &targets);
            }
        }
    }
    for o in &mut objects {
        if o["kind"] == "CronJob"
            && let Some(status) = o.get_mut("status").and_then(Value::as_object_mut)
        {
            status.remove("active");
        }
    }

    // Old name → new name of every generated name, by namespace (the same
    // template hashes alike in two namespaces); replaced wherever it
    // appears in that namespace (owner references, event messages,
    // endpoints' targets…).
    let mut renames: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for rs in objects.iter().filter(|o| o["kind"] == "ReplicaSet") {
        let meta = &rs["metadata"];
        let ns = meta["namespace"].as_str().unwrap_or_default();
        let hash = meta["labels"]["pod-template-hash"]
            .as_str()
            .unwrap_or_default();
        let name = meta["name"].as_str().unwrap_or_default();
        if let Some(owner) = name
            .strip_suffix(&format!("-{hash}"))
            .filter(|_| !hash.is_empty())
        {
            // A Deployment's ReplicaSets differ by revision.
            let revision = meta["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .unwrap_or_default();
            let new_hash = suffix(&format!("{ns}/{owner}/{revision}"), 10);
            let list = renames.entry(ns.to_string()).or_default();
            list.push((name.to_string(), format!("{owner}-{new_hash}")));
            list.push((hash.to_string(), new_hash));
        }
    }
    let rename_prefix = |ns: &str, s: &str| -> String {
        renames
            .get(ns)
            .into_iter()
            .flatten()
            .filter(|(old, _)| s.starts_with(old.as_str()) && old.contains('-'))
            .max_by_key(|(old, _)| old.len())
            .map_or(s.to_string(), |(old, new)| s.replacen(old.as_str(), new, 1))
    };
    // Pods with a generated name, by namespace and (renamed) prefix; ordered
    // by node so that the same pod gets the same suffix on every run.
    let mut generated: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    for pod in objects.iter().filter(|o| o["kind"] == "Pod") {
        let meta = &pod["metadata"];
        // A StatefulSet names its pods itself (`db-0`) beside a generateName.
        let owned_by_set = pod["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet";
        if let (Some(prefix), Some(name), false) = (
            meta["generateName"].as_str(),
            meta["name"].as_str(),
            owned_by_set,
        ) {
            let ns = meta["namespace"].as_str().unwrap_or_default();
            let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
            generated
                .entry((ns.to_string(), rename_prefix(ns, prefix)))
                .or_default()
                .push((node.to_string(), name.to_string()));
        }
    }
    for ((ns, prefix), mut pods) in generated {
        pods.sort();
        let list = renames.entry(ns.clone()).or_default();
        for (i, (_, old)) in pods.into_iter().enumerate() {
            list.push((
                old,
                format!("{prefix}{}", suffix(&format!("{ns}/{prefix}{i}"), 5)),
            ));
        }
    }
    for list in renames.values_mut() {
        // Longest first, so that a pod's name is replaced before its ReplicaSet's.
        list.sort_by_key(|(old, _)| std::cmp::Reverse(old.len()));
    }
    for o in &mut objects {
        let ns = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(list) = renames.get(&ns) else {
            continue;
        };
        rewrite_strings(o, &|s| {
            let mut s = s.to_string();
            for (old, new) in list {
                if s.contains(old.as_str()) {
                    s = s.replace(old.as_str(), new);
                }
            }
            s
        });
    }

    place_pods(&mut objects);

    let ips = new_ips(&objects);
    for o in &mut objects {
        rewrite_strings(o, &|s| {
            if let Some(ip) = ips.get(s) {
                ip.clone()
            } else if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
                created().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            } else {
                s.to_string()
            }
        });
    }
    name_events(&mut objects);
    for ev in objects.iter_mut().filter(|o| o["kind"] == "Event") {
        ev["count"] = Value::from(1);
    }
    objects
}

/// The order a pod's events happen in; other reasons follow, by name.
const POD_LIFECYCLE: &[&str] = &["Scheduled", "Pulling", "Pulled", "Created", "Started"];

/// Names each event after its object and its place among that object's
/// events, as Kubernetes' time-based names sort: a pod's events in
/// lifecycle order, others by reason and message.
fn name_events(objects: &mut [Value]) {
    // (namespace, object) → its events as (lifecycle rank, reason, what
    // they say, index in `objects`).
    type Keyed = Vec<(usize, String, String, usize)>;
    let mut by_object: BTreeMap<(String, String), Keyed> = BTreeMap::new();
    for (i, ev) in objects.iter().enumerate() {
        if ev["kind"] != "Event" {
            continue;
        }
        let involved = &ev["involvedObject"];
        let reason = ev["reason"].as_str().unwrap_or_default();
        let rank = POD_LIFECYCLE
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(POD_LIFECYCLE.len());
        by_object
            .entry((
                ev["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
                involved["name"].as_str().unwrap_or_default().into(),
            ))
            .or_default()
            .push((
                rank,
                reason.to_string(),
                format!(
                    "{} {}",
                    involved["fieldPath"].as_str().unwrap_or_default(),
                    ev["message"].as_str().unwrap_or_default()
                ),
                i,
            ));
    }
    for ((_, object), mut events) in by_object {
        events.sort();
        for (n, (_, _, _, i)) in events.into_iter().enumerate() {
            objects[i]["metadata"]["name"] = Value::String(format!(
                "{object}.{:x}",
                0x1890_0000_0000_0000u64 + n as u64
            ));
        }
    }
}

/// Where the scheduler puts a pod depends on the order it saw them in, so
/// pods are re-placed: DaemonSet pods stay on their node; the pods of one
/// owner go round the nodes in name order from a node chosen by the owner's
/// name, so replicas still spread. The node name follows into the pod's
/// host IP, its endpoints and its events.
fn place_pods(objects: &mut [Value]) {
    let mut nodes: Vec<(String, String)> = objects
        .iter()
        .filter(|o| o["kind"] == "Node")
        .map(|n| {
            let ip = n["status"]["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["type"] == "InternalIP")
                .and_then(|a| a["address"].as_str())
                .unwrap_or_default();
            (
                name_of(n).trim_start_matches('/').to_string(),
                ip.to_string(),
            )
        })
        .collect();
    nodes.sort();
    if nodes.is_empty() {
        return;
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pod in objects.iter().filter(|o| o["kind"] == "Pod") {
        if owned_by(pod, "DaemonSet") || pod["spec"]["nodeName"].is_null() {
            continue;
        }
        let meta = &pod["metadata"];
        let owner = meta["ownerReferences"][0]["name"]
            .as_str()
            .or(meta["name"].as_str())
            .unwrap_or_default();
        groups
            .entry(format!(
                "{}/{owner}",
                meta["namespace"].as_str().unwrap_or_default()
            ))
            .or_default()
            .push(name_of(pod));
    }
    // Pod (ns/name) → (old node, new node, new node's IP).
    let mut moves: HashMap<String, (String, String, String)> = HashMap::new();
    for (owner, mut pods) in groups {
        pods.sort();
        let start = suffix(&owner, 4).bytes().map(usize::from).sum::<usize>();
        for (i, pod) in pods.into_iter().enumerate() {
            let (node, ip) = &nodes[(start + i) % nodes.len()];
            moves.insert(pod, (String::new(), node.clone(), ip.clone()));
        }
    }
    for pod in objects.iter_mut().filter(|o| o["kind"] == "Pod") {
        if let Some(m) = moves.get_mut(&name_of(pod)) {
            m.0 = pod["spec"]["nodeName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            pod["spec"]["nodeName"] = Value::String(m.1.clone());
            pod["status"]["hostIP"] = Value::String(m.2.clone());
            pod["status"]["hostIPs"] = serde_json::json!([{ "ip": m.2 }]);
        }
    }
    for o in objects.iter_mut() {
        let ns = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match o["kind"].as_str() {
            Some("Event") if o["involvedObject"]["kind"] == "Pod" => {
                let pod = format!(
                    "{ns}/{}",
                    o["involvedObject"]["name"].as_str().unwrap_or_default()
                );
                if let Some((old, new, _)) = moves.get(&pod).filter(|m| !m.0.is_empty()) {
                    rewrite_strings(o, &|s| {
                        if s.contains(old.as_str()) {
                            s.replace(old.as_str(), new)
                        } else {
                            s.to_string()
                        }
                    });
                }
            }
            Some("Endpoints") => {
                for subset in o
                    .get_mut("subsets")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    for list in ["addresses", "notReadyAddresses"] {
                        for addr in subset
                            .get_mut(list)
                            .and_then(Value::as_array_mut)
                            .into_iter()
                            .flatten()
                        {
                            let pod = format!(
                                "{ns}/{}",
                                addr["targetRef"]["name"].as_str().unwrap_or_default()
                            );
                            if let Some((_, new, _)) = moves.get(&pod) {
                                addr["nodeName"] = Value::String(new.clone());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Sets an HPA's current metric to the target its spec names for it.
fn at_target(metric: &mut Value, targets: &Value) {
    let Some(source) = metric["type"].as_str().map(lower_first) else {
        return;
    };
    let name = metric[&source]["name"].clone();
    let Some(target) = targets.as_array().and_then(|ts| {
        ts.iter()
            .find(|t| t["type"] == metric["type"] && t[&source]["name"] == name)
            .map(|t| t[&source]["target"].clone())
    }) else {
        return;
    };
    let current = &mut metric[&source]["current"];
    match target["type"].as_str() {
        Some("Utilization") => {
            current["averageUtilization"] = target["averageUtilization"].clone();
            if let Some(c) = current.as_object_mut() {
                c.remove("averageValue");
            }
        }
        Some("AverageValue") => current["averageValue"] = target["averageValue"].clone(),
        Some("Value") => current["value"] = target["value"].clone(),
        _ => {}
    }
}

/// `ContainerResource` → `containerResource`, the status field of a metric type.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

fn owned_by(obj: &Value, kind: &str) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["kind"] == kind))
}

/// New pod IPs (10.244.x.y) in the order of the pods' normalized names, and
/// new cluster IPs (10.96.x.y) in the order of the services' names.
fn new_ips(objects: &[Value]) -> HashMap<String, String> {
    let mut pods: Vec<(String, String)> = Vec::new();
    let mut services: Vec<(String, String)> = Vec::new();
    for o in objects {
        match o["kind"].as_str() {
            Some("Pod") if o["spec"]["hostNetwork"] != true => {
                if let Some(ip) = o["status"]["podIP"].as_str() {
                    pods.push((name_of(o), ip.to_string()));
                }
            }
            Some("Service") => {
                if let Some(ip) = o["spec"]["clusterIP"].as_str().filter(|ip| *ip != "None") {
                    services.push((name_of(o), ip.to_string()));
                }
            }
            _ => {}
        }
    }
    pods.sort();
    services.sort();
    let mut map = HashMap::new();
    for (i, (_, ip)) in pods.into_iter().enumerate() {
        map.insert(ip, format!("10.244.{}.{}", i / 250, i % 250 + 2));
    }
    for (i, (_, ip)) in services.into_iter().enumerate() {
        map.insert(ip, format!("10.96.{}.{}", i / 250, i % 250 + 10));
    }
    map
}

/// Applies `f` to every string value (not to keys) of a JSON tree.
fn rewrite_strings(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|i| rewrite_strings(i, f)),
        Value::Object(map) => map.values_mut().for_each(|i| rewrite_strings(i, f)),
        _ => {}
    }
}

/// The console over a cache filled with the normalized seed cluster.
struct Console {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

impl Console {
    fn new() -> Console {
        // As the console is once a view has listed every event.
        let (cache, mut writers) = cache::with_all_events();
        for obj in seed_objects() {
            writers
                .apply_json(obj)
                .unwrap_or_else(|e| panic!("{}: {e}", name_of(obj)));
        }
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("kubedeck-sim", None, false);
        update(
            &mut state,
            Msg::Resize {
                width: WIDTH,
                height: HEIGHT,
            },
            &cache,
            &keymap,
            now(),
        );
        for kind in Kind::ALL {
            update(
                &mut state,
                Msg::Watch(WatchMsg::Synced(kind)),
                &cache,
                &keymap,
                now(),
            );
        }
        Console {
            state,
            cache,
            keymap,
        }
    }

    fn keys(&mut self, keys: &[&str]) -> &mut Console {
        for k in keys {
            let key = k.parse().expect("test key parses");
            update(
                &mut self.state,
                Msg::Key(key),
                &self.cache,
                &self.keymap,
                now(),
            );
        }
        self
    }

    /// Types `:line` and Enter.
    fn command(&mut self, line: &str) -> &mut Console {
        self.keys(&[":"]);
        for c in line.chars() {
            let k = if c == ' ' {
                "space".to_string()
            } else {
                c.to_string()
            };
            self.keys(&[&k]);
        }
        self.keys(&["enter"])
    }

    /// The screen as text, one trimmed line per terminal row.
    fn screen(&self) -> String {
        let (theme, errs) = Theme::load(None, None, false);
        assert!(errs.is_empty(), "{errs:?}");
        let vm = view_model::build(&self.state, &self.cache, &self.keymap, now());
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test terminal");
        terminal
            .draw(|f| widgets::draw(f, &vm, &theme))
            .expect("draws");
        let buf = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[test]
fn overview() {
    insta::assert_snapshot!("overview", Console::new().screen());
}

#[test]
fn namespaces() {
    insta::assert_snapshot!("namespaces", Console::new().command("ns").screen());
}

#[test]
fn services() {
    insta::assert_snapshot!("services", Console::new().command("svc").screen());
}

#[test]
fn workloads() {
    insta::assert_snapshot!("workloads", Console::new().command("deploy").screen());
}

#[test]
fn hpas() {
    insta::assert_snapshot!("hpas", Console::new().command("hpa").screen());
}

#[test]
fn pods_of_one_namespace() {
    let mut console = Console::new();
    console.command("ns myfin").command("pods");
    insta::assert_snapshot!("pods_myfin", console.screen());
}

#[test]
fn events() {
    insta::assert_snapshot!("events", Console::new().command("events").screen());
}

#[test]
fn jobs_and_cronjobs() {
    let mut console = Console::new();
    insta::assert_snapshot!("jobs", console.command("jobs").screen());
    insta::assert_snapshot!("cronjobs", console.command("cj").screen());
}

#[test]
fn xray_trees() {
    let mut console = Console::new();
    let deployment = console.command("xray deploy myfin-api -n myfin").screen();
    insta::assert_snapshot!("xray_myfin_api", deployment);
    insta::assert_snapshot!("xray_cronjobs", console.command("xray cj").screen());
}

#[test]
fn nodes() {
    insta::assert_snapshot!("nodes", Console::new().command("nodes").screen());
}

/// The normalization must not depend on the order the store lists objects
/// in, or the snapshots would only be stable by luck; and it must keep
/// every object distinct.
#[test]
fn normalization_is_independent_of_listing_order() {
    let sorted = |mut objects: Vec<Value>| {
        objects.sort_by_key(|o| (o["kind"].to_string(), name_of(o)));
        objects
    };
    let forward = sorted(seed_objects().to_vec());
    let backward = sorted(normalize(raw_seed().iter().rev().cloned().collect()));
    assert_eq!(forward.len(), backward.len());
    for (f, b) in forward.iter().zip(&backward) {
        assert!(
            f == b,
            "{} {} differs by listing order:\n{f:#}\n{b:#}",
            f["kind"],
            name_of(f)
        );
    }

    let pods = forward.iter().filter(|o| o["kind"] == "Pod").count();
    assert!(pods > 20, "the seed cluster has its pods: {pods}");
    let mut keys: Vec<(String, String)> = forward
        .iter()
        .map(|o| (o["kind"].to_string(), name_of(o)))
        .collect();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before, "renaming kept every object distinct");
    let fixed = created().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(
        forward
            .iter()
            .all(|o| o["metadata"]["creationTimestamp"].as_str() == Some(fixed.as_str())),
        "every object has the fixed creation time"
    );
}
