//! What unit tests share: one simulated cluster's context, its store holding
//! the namespaces a test names, with no server or control plane running;
//! and fixtures several modules' tests build on.

use chrono::{DateTime, TimeZone as _, Utc};
use serde_json::{Value, json};

use crate::config::SimConfig;
use crate::controllers::Ctx;
use crate::controllers::workload_util::controller_ref_to;
use crate::resources;
use crate::store::{Store, fmt_time, meta_str};

/// A context with the default configuration.
pub(crate) fn test_ctx(namespaces: &[&str]) -> Ctx {
    test_ctx_with(SimConfig::default(), namespaces)
}

/// A context with `config`; its watch window sizes the store's history.
pub(crate) fn test_ctx_with(config: SimConfig, namespaces: &[&str]) -> Ctx {
    let ctx = Ctx::new(Store::new(config.watch_window), config);
    for ns in namespaces {
        ctx.store
            .create(&resources::NAMESPACES, json!({"metadata": {"name": ns}}))
            .unwrap();
    }
    ctx
}

/// Marks a pod scheduled, Running and Ready since `ago` seconds.
pub(crate) fn make_ready(ctx: &Ctx, pod: &Value, ago: i64) {
    let since = fmt_time(Utc::now() - chrono::Duration::seconds(ago));
    ctx.store
        .modify(
            &resources::PODS,
            meta_str(pod, "namespace"),
            meta_str(pod, "name"),
            |p| {
                p["spec"]["nodeName"] = json!("node-1");
                p["status"] = json!({"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": since}]});
            },
        )
        .unwrap();
}

/// The instant the usage model's tests measure at.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().unwrap()
}

/// `secs` seconds after `t0`.
pub(crate) fn t0_plus(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

/// A Deployment `name` in `demo` with the load annotation `load` and one
/// ReplicaSet, selecting `app: name`.
pub(crate) fn deployment(ctx: &Ctx, name: &str, replicas: i64, load: &str) {
    let d = ctx
        .store
        .create(
            &resources::DEPLOYMENTS,
            json!({
                "metadata": {"name": name, "namespace": "demo",
                    "annotations": {"kubedeck.io/load": load}},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}}, "spec": {"restartPolicy": "Always", "containers": [
                        {"name": "app", "image": "registry.example/app:1",
                         "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                       "limits": {"cpu": "1", "memory": "512Mi"}}}]}}}
            }),
        )
        .unwrap();
    let rs = json!({
        "metadata": {"name": format!("{name}-rs"), "namespace": "demo",
            "ownerReferences": [controller_ref_to(&d)]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": d["spec"]["template"].clone()}
    });
    ctx.store.create(&resources::REPLICASETS, rs).unwrap();
}

/// A Running pod of `name`'s ReplicaSet, Ready since `ready_since`.
pub(crate) fn pod(
    ctx: &Ctx,
    name: &str,
    idx: usize,
    ready_since: Option<DateTime<Utc>>,
    image: &str,
) {
    let rs = ctx
        .store
        .get(&resources::REPLICASETS, "demo", &format!("{name}-rs"))
        .unwrap();
    let started = fmt_time(t0() - chrono::Duration::minutes(10));
    let ready = match ready_since {
        Some(t) => {
            json!({"type": "Ready", "status": "True", "lastTransitionTime": fmt_time(t)})
        }
        None => json!({"type": "Ready", "status": "False", "lastTransitionTime": started}),
    };
    let mut spec = rs["spec"]["template"]["spec"].clone();
    spec["containers"][0]["image"] = json!(image);
    spec["nodeName"] = json!("node-1");
    ctx.store
        .create(
            &resources::PODS,
            json!({
                "metadata": {"name": format!("{name}-{idx}"), "namespace": "demo",
                    "labels": {"app": name},
                    "ownerReferences": [controller_ref_to(&rs)]},
                "spec": spec,
                "status": {"phase": "Running", "startTime": started, "conditions": [ready],
                    "containerStatuses": [{"name": "app", "ready": ready_since.is_some(), "restartCount": 0,
                        "state": {"running": {"startedAt": started}}}]}
            }),
        )
        .unwrap();
}

/// Pod `idx` of `name`'s ReplicaSet on `app:1`, Ready for the five minutes
/// before `t0`.
pub(crate) fn ready_pod(ctx: &Ctx, name: &str, idx: usize) {
    pod(
        ctx,
        name,
        idx,
        Some(t0() - chrono::Duration::minutes(5)),
        "app:1",
    );
}
