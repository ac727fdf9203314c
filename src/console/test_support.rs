//! Deterministic clusters for the console's unit and snapshot tests.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::cluster::Cache;
use super::cluster::cache;

/// The instant the test clusters are seen at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
        .single()
        .expect("valid time")
}

/// A running, ready pod created `age_secs` before `now()`.
pub fn pod(
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
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app}, "creationTimestamp": created.to_rfc3339()},
        "spec": {"nodeName": node, "containers": [{"name": app, "image": format!("registry.example/{app}:1.0")}]},
        "status": status
    })
}

/// A small cluster: a healthy web service, a crash-looping api, a pod that
/// can't pull its image.
pub fn cluster() -> Cache {
    cluster_with_writers().0
}

/// As `cluster`, with the writers to change it afterwards.
pub fn cluster_with_writers() -> (Cache, cache::Writers) {
    let (cache, mut writers) = cache::new();
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
    (cache, writers)
}
