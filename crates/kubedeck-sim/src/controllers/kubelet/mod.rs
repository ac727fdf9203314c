//! The kubelet: one simulated kubelet for every node. It runs each pod bound
//! to a Ready node through the lifecycle a real kubelet reports: sandbox and
//! IP, image pull, container create and start, readiness, exits, restarts
//! with back-off, and graceful termination. Each pod's runtime lives in
//! memory (as a container runtime's would); the pod's status is rendered
//! from it, and reconcile asks to be called again at the next transition.
//!
//! Image conventions (by the image's tag, so any repository works):
//! - tag starting `notfound` (`web:notfound`, `web:notfound-2.0`): the pull
//!   fails; the container alternates `ErrImagePull` and `ImagePullBackOff`
//!   with growing back-off and never starts.
//! - tag starting `crashloop`: the container starts, runs `crash_after`,
//!   exits with code 1, and is restarted with doubling back-off
//!   (`CrashLoopBackOff`); it is never Ready, and a readiness probe reports
//!   `Unhealthy`.
//! - tag starting `exit0` / `exit1`: the container runs `crash_after` and
//!   exits with that code; the pod's restartPolicy decides what follows
//!   (`Never` and `OnFailure` give Succeeded or Failed pods, as a Job's do).
//! - anything else pulls and runs until deleted. Init containers run for
//!   `start` and exit 0 unless their tag says otherwise.
//!
//! A readiness probe's `initialDelaySeconds` delays Ready after the start;
//! without a probe a container is ready as soon as it runs.

mod runtime;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::scheduler::node_is_ready;
use super::{Controller, Ctx};
use crate::events;
use crate::hash::fnv64_parts;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, DeleteOptions, ObjKey, fmt_time, meta_str, obj_key};

pub(crate) use runtime::{Behavior, behavior, image_tag};
use runtime::{Ev, PodRt, Stage, chrono_dur};

/// How long pods stay on a NotReady node before they are evicted, when they
/// carry no toleration of their own or the admission default (300s), which
/// is far too slow for a simulation.
pub(crate) const NOT_READY_TOLERATION: Duration = Duration::from_secs(5);
const ADMISSION_DEFAULT_TOLERATION: i64 = 300;

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(Kubelet::default())]
}

/// Whether a workload's load annotations (`kubedeck.io/load…`) changed.
fn load_changed(change: &Change) -> bool {
    let load = |o: &Value| -> Vec<(String, Value)> {
        o["metadata"]["annotations"]
            .as_object()
            .map(|a| {
                a.iter()
                    .filter(|(k, _)| k.starts_with("kubedeck.io/load"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    change
        .old
        .as_ref()
        .is_some_and(|old| load(old) != load(&change.object))
}

/// `web-abc_demo(uid)`, as the kubelet names pods in messages.
fn pod_ref(pod: &Value) -> String {
    format!(
        "{}_{}({})",
        meta_str(pod, "name"),
        meta_str(pod, "namespace"),
        meta_str(pod, "uid")
    )
}

/// Merges the kubelet's conditions into the pod's, keeping the scheduler's
/// and each unchanged condition's lastTransitionTime.
fn merge_status(pod: &mut Value, mut status: Value, now: &str) {
    let old = pod["status"].clone();
    let mut conds: Vec<Value> = old["conditions"].as_array().cloned().unwrap_or_default();
    for mut c in status["conditions"].as_array().cloned().unwrap_or_default() {
        match conds.iter_mut().find(|o| o["type"] == c["type"]) {
            Some(o) => {
                let ltt = if o["status"] == c["status"] && !o["lastTransitionTime"].is_null() {
                    o["lastTransitionTime"].clone()
                } else {
                    json!(now)
                };
                c["lastTransitionTime"] = ltt;
                *o = c;
            }
            None => {
                c["lastTransitionTime"] = json!(now);
                conds.push(c);
            }
        }
    }
    // Keep kube's order: PodReadyToStartContainers, Initialized, Ready,
    // ContainersReady, PodScheduled.
    let rank = |c: &Value| match c["type"].as_str().unwrap_or("") {
        "PodReadyToStartContainers" => 0,
        "Initialized" => 1,
        "Ready" => 2,
        "ContainersReady" => 3,
        "PodScheduled" => 4,
        _ => 5,
    };
    conds.sort_by_key(rank);
    status["conditions"] = json!(conds);
    if let (Some(s), Some(o)) = (status.as_object_mut(), old.as_object()) {
        for (k, v) in o {
            if !s.contains_key(k) && k != "containerStatuses" && k != "initContainerStatuses" {
                s.insert(k.clone(), v.clone());
            }
        }
    }
    pod["status"] = status;
}

#[derive(Default)]
struct State {
    pods: HashMap<ObjKey, PodRt>,
    /// Host numbers in use per node subnet.
    ips: HashMap<String, BTreeSet<u32>>,
}

impl State {
    fn alloc_ip(&mut self, prefix: &str) -> Option<String> {
        let used = self.ips.entry(prefix.to_string()).or_default();
        let host = (2..=254).find(|h| !used.contains(h))?;
        used.insert(host);
        Some(format!("{prefix}.{host}"))
    }

    fn release(&mut self, rt: &PodRt) {
        if let Some(ip) = &rt.ip
            && let Some((prefix, host)) = ip.rsplit_once('.')
            && let Ok(h) = host.parse::<u32>()
            && let Some(set) = self.ips.get_mut(prefix)
        {
            set.remove(&h);
        }
    }
}

#[derive(Default)]
pub(crate) struct Kubelet {
    state: Mutex<State>,
}

/// The node's pod subnet prefix (`10.244.2`): from spec.podCIDR, else from
/// the node's position among all nodes.
fn subnet_prefix(ctx: &Ctx, node: &Value) -> String {
    if let Some(cidr) = node["spec"]["podCIDR"].as_str()
        && let Some((net, _)) = cidr.split_once('/')
        && let Some((prefix, _)) = net.rsplit_once('.')
    {
        return prefix.to_string();
    }
    let name = meta_str(node, "name");
    let index = ctx
        .store
        .list(&resources::NODES, None)
        .iter()
        .position(|n| meta_str(n, "name") == name)
        .unwrap_or(0);
    format!("10.244.{index}")
}

fn host_ip(node: &Value) -> String {
    node["status"]["addresses"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["type"] == "InternalIP"))
        .and_then(|x| x["address"].as_str())
        .map_or_else(
            || {
                format!(
                    "172.18.0.{}",
                    2 + fnv64_parts(&[meta_str(node, "name")], 0) % 250
                )
            },
            str::to_string,
        )
}

/// The NoExecute taint a NotReady node carries: unreachable when its
/// kubelet stopped reporting (Unknown), not-ready when it reports False.
fn not_ready_taint(node: &Value) -> &'static str {
    let unknown = node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .is_some_and(|c| c["status"] == "Unknown");
    if unknown {
        "node.kubernetes.io/unreachable"
    } else {
        "node.kubernetes.io/not-ready"
    }
}

/// How long a pod stays on a NotReady node before eviction: the smallest
/// tolerationSeconds among its tolerations of the taint, as the taint
/// manager computes it; forever when they set none.
fn not_ready_toleration(pod: &Value, taint: &str) -> Duration {
    let matching: Vec<&Value> = pod["spec"]["tolerations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            let key = t["key"].as_str().unwrap_or("");
            let op = t["operator"].as_str().unwrap_or("Equal");
            (key == taint || (key.is_empty() && op == "Exists"))
                && t["effect"]
                    .as_str()
                    .is_none_or(|e| e.is_empty() || e == "NoExecute")
        })
        .collect();
    if matching.is_empty() {
        return NOT_READY_TOLERATION;
    }
    match matching
        .iter()
        .filter_map(|t| t["tolerationSeconds"].as_i64())
        .min()
    {
        None => Duration::MAX,
        Some(ADMISSION_DEFAULT_TOLERATION) => NOT_READY_TOLERATION,
        Some(s) => Duration::from_secs(s.max(0) as u64),
    }
}

fn until(now: DateTime<Utc>, t: DateTime<Utc>) -> Duration {
    (t - now).to_std().unwrap_or_default() + Duration::from_millis(1)
}

impl Kubelet {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forget(&self, key: &ObjKey) {
        let mut st = self.lock();
        if let Some(rt) = st.pods.remove(key) {
            st.release(&rt);
        }
    }

    fn sync(&self, ctx: &Ctx, key: &ObjKey, pod: &Value, node: &Value) -> Option<Duration> {
        let now = Utc::now();
        let node_name = meta_str(node, "name").to_string();
        let node_ready = node_is_ready(node);
        let terminating = !pod["metadata"]["deletionTimestamp"].is_null();
        let mut st = self.lock();
        let fresh = st
            .pods
            .get(key)
            .is_none_or(|rt| rt.uid != meta_str(pod, "uid") || rt.node != node_name);
        if fresh {
            if !node_ready {
                return None;
            }
            if let Some(old) = st.pods.remove(key) {
                st.release(&old);
            }
            let ip = st.alloc_ip(&subnet_prefix(ctx, node));
            st.pods.insert(
                key.clone(),
                PodRt::new(pod, &node_name, ip, host_ip(node), now),
            );
        }
        let rt = st.pods.get_mut(key)?;
        let pod_ref = pod_ref(pod);
        let mut evs = Vec::new();
        let mut wake: Option<DateTime<Utc>>;

        if !node_ready {
            // The node's kubelet is gone: nothing advances; after the
            // toleration the pod is evicted so its controller replaces it.
            let since = *rt.not_ready_since.get_or_insert(now);
            let evict_at = since
                .checked_add_signed(chrono_dur(not_ready_toleration(pod, not_ready_taint(node))))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let status = rt.render(pod, false, now);
            drop(st);
            self.write(ctx, key, status, Vec::new(), &node_name);
            if terminating {
                return None;
            }
            if now >= evict_at {
                if let Ok(p) =
                    ctx.store
                        .delete(&resources::PODS, &key.0, &key.1, &DeleteOptions::default())
                {
                    let msg = format!("Marking for deletion Pod {}/{}", key.0, key.1);
                    ctx.recorder.record(
                        &p,
                        events::NORMAL,
                        "TaintManagerEviction",
                        &msg,
                        "taint-eviction-controller",
                    );
                }
                return None;
            }
            return Some(until(now, evict_at));
        }
        rt.not_ready_since = None;

        if terminating {
            if rt.killing.is_none() {
                let grace = pod["metadata"]["deletionGracePeriodSeconds"]
                    .as_i64()
                    .unwrap_or(30)
                    .max(0) as u64;
                let stop = ctx.config.delays.stop.min(Duration::from_secs(grace));
                rt.killing = Some((now, now + chrono_dur(stop)));
                for c in rt.ctrs.iter().filter(|c| c.stage == Stage::Running) {
                    evs.push((
                        c.field_path(),
                        events::NORMAL,
                        "Killing",
                        format!("Stopping container {}", c.name),
                    ));
                }
            }
            let stop_at = rt.killing.map_or(now, |(_, s)| s);
            if now >= stop_at {
                let uid = rt.uid.clone();
                if let Some(rt) = st.pods.remove(key) {
                    st.release(&rt);
                }
                drop(st);
                self.emit(ctx, pod, evs, &node_name);
                let current = ctx.store.get(&resources::PODS, &key.0, &key.1);
                if current.is_some_and(|p| meta_str(&p, "uid") == uid) {
                    ctx.store.remove(&resources::PODS, &key.0, &key.1);
                }
                return None;
            }
            wake = Some(stop_at);
        } else {
            evs = rt.apply_image_changes(pod, now);
            rt.plan_oom(ctx, pod, now);
            evs.extend(rt.advance(ctx, pod, &pod_ref, now));
            wake = rt.next_wakeup(now);
        }
        let status = rt.render(pod, true, now);
        if rt.killing.is_some() {
            wake = rt.killing.map(|(_, s)| s);
        }
        drop(st);
        self.write(ctx, key, status, evs, &node_name);
        wake.map(|t| until(now, t))
    }

    fn write(&self, ctx: &Ctx, key: &ObjKey, status: Value, evs: Vec<Ev>, node: &str) {
        let now = fmt_time(Utc::now());
        let written = ctx.store.modify(&resources::PODS, &key.0, &key.1, |p| {
            merge_status(p, status, &now)
        });
        match written {
            Ok(Some(p)) => self.emit(ctx, &p, evs, node),
            Ok(None) => {}
            Err(e) => tracing::warn!(pod = %key.1, "kubelet status update failed: {e}"),
        }
    }

    fn emit(&self, ctx: &Ctx, pod: &Value, evs: Vec<Ev>, node: &str) {
        for (fp, type_, reason, msg) in evs {
            ctx.recorder
                .record_at(pod, Some(&fp), type_, reason, &msg, "kubelet", Some(node));
        }
    }
}

impl Controller for Kubelet {
    fn name(&self) -> &'static str {
        "kubelet"
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::PODS
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, &resources::PODS) {
            let bound = !change.object["spec"]["nodeName"]
                .as_str()
                .unwrap_or("")
                .is_empty();
            if bound || change.kind == ChangeType::Deleted {
                return vec![obj_key(&change.object)];
            }
            return Vec::new();
        }
        let workload = std::ptr::eq(change.res, &resources::DEPLOYMENTS)
            || std::ptr::eq(change.res, &resources::STATEFULSETS);
        if workload && load_changed(change) {
            // A new load can push a pod past its memory limit (or spare it).
            let ns = meta_str(&change.object, "namespace");
            return ctx
                .store
                .list(&resources::PODS, Some(ns))
                .iter()
                .filter(|p| !p["spec"]["nodeName"].as_str().unwrap_or("").is_empty())
                .map(|p| obj_key(p))
                .collect();
        }
        if std::ptr::eq(change.res, &resources::NODES) {
            let flipped = change
                .old
                .as_ref()
                .is_none_or(|o| node_is_ready(o) != node_is_ready(&change.object));
            if flipped {
                let name = meta_str(&change.object, "name").to_string();
                let (pods, _, _) =
                    ctx.store
                        .list_page(&resources::PODS, None, None, usize::MAX, &|p| {
                            p["spec"]["nodeName"].as_str() == Some(name.as_str())
                        });
                return pods.iter().map(|p| obj_key(p)).collect();
            }
        }
        Vec::new()
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let Some(pod) = ctx.store.get(&resources::PODS, &key.0, &key.1) else {
            self.forget(key);
            return None;
        };
        let node_name = pod["spec"]["nodeName"].as_str().unwrap_or("");
        if node_name.is_empty() {
            return None;
        }
        let Some(node) = ctx.store.get(&resources::NODES, "", node_name) else {
            // No kubelet serves an unknown node: the pod stays as it is.
            self.forget(key);
            return None;
        };
        self.sync(ctx, key, &pod, &node)
    }
}

#[cfg(test)]
mod tests {
    use super::runtime::backoff;
    use super::*;
    use crate::config::{Delays, SimConfig};
    use crate::controllers::workload_util::pod_is_ready;
    use crate::test_support::test_ctx_with;

    /// Fast delays, the namespaces `default` and `demo`, and a Ready node `n1`.
    fn fast_ctx() -> Ctx {
        let config = SimConfig {
            delays: fast(),
            ..SimConfig::default()
        };
        let ctx = test_ctx_with(config, &["default", "demo"]);
        ctx.store
            .create(
                &resources::NODES,
                json!({"metadata": {"name": "n1"}, "spec": {"podCIDR": "10.244.1.0/24"},
                       "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                  "addresses": [{"type": "InternalIP", "address": "172.18.0.3"}]}}),
            )
            .unwrap();
        ctx
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn fast() -> Delays {
        Delays {
            schedule: ms(0),
            pull: ms(30),
            start: ms(20),
            crash_after: ms(40),
            backoff_base: ms(50),
            backoff_max: ms(200),
            stop: ms(30),
            log_interval: ms(100),
        }
    }

    fn bound_pod(ctx: &Ctx, name: &str, image: &str, extra: Value) -> ObjKey {
        let mut p = json!({"metadata": {"name": name, "namespace": "demo"},
            "spec": {"nodeName": "n1", "restartPolicy": "Always",
                     "containers": [{"name": "web", "image": image}]}});
        if let (Some(spec), Some(more)) = (p["spec"].as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                spec.insert(k.clone(), v.clone());
            }
        }
        obj_key(&ctx.store.create(&resources::PODS, p).expect("pod"))
    }

    fn get(ctx: &Ctx, key: &ObjKey) -> Value {
        ctx.store
            .get(&resources::PODS, &key.0, &key.1)
            .map(|p| (*p).clone())
            .unwrap_or(Value::Null)
    }

    /// Runs the kubelet for a pod as the work queue would, until `done`
    /// holds or the deadline passes.
    fn run_until(
        k: &Kubelet,
        ctx: &Ctx,
        key: &ObjKey,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = std::time::Instant::now();
        loop {
            let after = k.reconcile(ctx, key);
            let pod = get(ctx, key);
            if done(&pod) || start.elapsed() > limit {
                return pod;
            }
            std::thread::sleep(after.unwrap_or(ms(5)).min(ms(20)));
        }
    }

    fn reasons(ctx: &Ctx) -> Vec<String> {
        let mut evs: Vec<_> = ctx.store.list(&resources::EVENTS, Some("demo"));
        evs.sort_by_key(|e| {
            e["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
        });
        evs.iter()
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn a_plain_pod_pulls_starts_and_becomes_ready_after_its_probe_delay() {
        let ctx = fast_ctx();
        let k = Kubelet::default();
        let key = bound_pod(
            &ctx,
            "web-1",
            "nginx:1.27",
            json!({"containers": [{"name": "web", "image": "nginx:1.27",
                                   "readinessProbe": {"initialDelaySeconds": 1}}]}),
        );
        let after = k.reconcile(&ctx, &key).expect("requeue while pulling");
        assert!(after <= ms(31), "next step is the pull: {after:?}");
        let pod = get(&ctx, &key);
        assert_eq!(pod["status"]["phase"], "Pending");
        assert_eq!(pod["status"]["podIP"], "10.244.1.2");
        assert_eq!(pod["status"]["hostIP"], "172.18.0.3");
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(1), |p| {
            p["status"]["phase"] == "Running"
        });
        let cs = &pod["status"]["containerStatuses"][0];
        assert!(cs["state"]["running"]["startedAt"].is_string());
        assert_eq!(cs["started"], true);
        assert_eq!(
            cs["ready"], false,
            "the probe's initial delay has not passed"
        );
        assert!(!pod_is_ready(&pod));
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(3), pod_is_ready);
        assert!(pod_is_ready(&pod));
        let types: Vec<&str> = pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["type"].as_str())
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady"
            ]
        );
        assert_eq!(reasons(&ctx), ["Pulling", "Pulled", "Created", "Started"]);
        let evs = ctx.store.list(&resources::EVENTS, Some("demo"));
        let pulled = evs
            .iter()
            .find(|e| e["reason"] == "Pulled")
            .expect("pulled");
        assert!(pulled["message"].as_str().unwrap_or("").starts_with("Successfully pulled image \"nginx:1.27\" in 30ms (30ms including waiting). Image size: "));
        assert_eq!(
            pulled["involvedObject"]["fieldPath"],
            "spec.containers{web}"
        );
        assert_eq!(pulled["source"]["host"], "n1");
    }

    #[test]
    fn crashloop_restarts_with_doubling_back_off() {
        let d = fast();
        assert_eq!(backoff(d.backoff_base, d.backoff_max, 1), ms(50));
        assert_eq!(backoff(d.backoff_base, d.backoff_max, 2), ms(100));
        assert_eq!(backoff(d.backoff_base, d.backoff_max, 3), ms(200));
        assert_eq!(backoff(d.backoff_base, d.backoff_max, 9), ms(200));
        assert_eq!(
            backoff(Duration::from_secs(10), Duration::from_secs(300), 6),
            Duration::from_secs(300)
        );

        let ctx = fast_ctx();
        let k = Kubelet::default();
        let key = bound_pod(&ctx, "db-1", "db:crashloop", json!({}));
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(3), |p| {
            p["status"]["containerStatuses"][0]["restartCount"].as_u64() >= Some(3)
        });
        let cs = &pod["status"]["containerStatuses"][0];
        assert_eq!(cs["ready"], false);
        assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);
        assert_eq!(cs["lastState"]["terminated"]["reason"], "Error");
        assert_eq!(pod["status"]["phase"], "Running");
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(3), |p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        });
        let msg = pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
            .as_str()
            .unwrap_or("");
        let uid = meta_str(&pod, "uid");
        assert!(
            msg.starts_with("back-off ")
                && msg.ends_with(&format!(
                    "restarting failed container=web pod=db-1_demo({uid})"
                )),
            "{msg}"
        );
        assert!(reasons(&ctx).iter().any(|r| r == "BackOff"));
        assert!(!pod_is_ready(&pod));
    }

    #[test]
    fn notfound_images_alternate_err_image_pull_and_back_off() {
        let ctx = fast_ctx();
        let k = Kubelet::default();
        let key = bound_pod(&ctx, "web-2", "web:notfound-2.0", json!({}));
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(2), |p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImagePull"
        });
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
            "rpc error: code = NotFound desc = failed to pull and unpack image \"web:notfound-2.0\": not found"
        );
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(2), |p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
        });
        assert_eq!(pod["status"]["phase"], "Pending");
        let evs = ctx.store.list(&resources::EVENTS, Some("demo"));
        assert!(evs.iter().any(|e| e["reason"] == "Failed"
            && e["message"] == "Failed to pull image \"web:notfound-2.0\": rpc error: code = NotFound desc = failed to pull and unpack image \"web:notfound-2.0\": not found"));
        assert!(evs.iter().any(|e| e["reason"] == "BackOff"
            && e["message"] == "Back-off pulling image \"web:notfound-2.0\""));
    }

    #[test]
    fn init_containers_then_job_like_exit_codes_decide_the_phase() {
        let ctx = fast_ctx();
        let k = Kubelet::default();
        let ok = bound_pod(
            &ctx,
            "job-ok",
            "tool:exit0",
            json!({"restartPolicy": "Never",
            "initContainers": [{"name": "setup", "image": "busybox"}]}),
        );
        let pod = run_until(&k, &ctx, &ok, Duration::from_secs(2), |p| {
            p["status"]["phase"] == "Succeeded"
        });
        assert_eq!(pod["status"]["phase"], "Succeeded");
        assert_eq!(
            pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            0
        );
        let bad = bound_pod(
            &ctx,
            "job-bad",
            "tool:exit1",
            json!({"restartPolicy": "Never"}),
        );
        let pod = run_until(&k, &ctx, &bad, Duration::from_secs(2), |p| {
            p["status"]["phase"] == "Failed"
        });
        assert_eq!(pod["status"]["phase"], "Failed");
        assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 0);
    }

    #[test]
    fn deleting_stops_the_containers_and_removes_the_pod_after_the_stop_delay() {
        let ctx = fast_ctx();
        let k = Kubelet::default();
        let key = bound_pod(&ctx, "web-3", "nginx", json!({}));
        run_until(&k, &ctx, &key, Duration::from_secs(1), |p| {
            p["status"]["phase"] == "Running"
        });
        ctx.store
            .delete(&resources::PODS, "demo", "web-3", &DeleteOptions::default())
            .expect("delete");
        assert!(
            ctx.store.get(&resources::PODS, "demo", "web-3").is_some(),
            "kept until the kubelet stops it"
        );
        let after = k.reconcile(&ctx, &key).expect("waits for the stop");
        assert!(after <= ms(31));
        assert!(!pod_is_ready(&get(&ctx, &key)));
        std::thread::sleep(after);
        assert_eq!(k.reconcile(&ctx, &key), None);
        assert!(ctx.store.get(&resources::PODS, "demo", "web-3").is_none());
        assert!(reasons(&ctx).iter().any(|r| r == "Killing"));
        // The IP is free again for the next pod.
        let next = bound_pod(&ctx, "web-4", "nginx", json!({}));
        k.reconcile(&ctx, &next);
        assert_eq!(get(&ctx, &next)["status"]["podIP"], "10.244.1.2");
    }

    #[test]
    fn a_new_image_restarts_the_container_from_a_fresh_pull() {
        let ctx = fast_ctx();
        let k = Kubelet::default();
        let key = bound_pod(&ctx, "web-6", "nginx:1.26", json!({}));
        run_until(&k, &ctx, &key, Duration::from_secs(1), pod_is_ready);
        ctx.store
            .modify(&resources::PODS, "demo", "web-6", |p| {
                p["spec"]["containers"][0]["image"] = json!("nginx:notfound")
            })
            .expect("image update");
        let pod = run_until(&k, &ctx, &key, Duration::from_secs(2), |p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImagePull"
        });
        let cs = &pod["status"]["containerStatuses"][0];
        assert_eq!(cs["image"], "nginx:notfound");
        assert_eq!(cs["restartCount"], 1);
        assert!(!pod_is_ready(&pod));
    }

    #[test]
    fn pods_on_a_not_ready_node_lose_readiness_and_are_evicted_after_the_toleration() {
        let ctx = fast_ctx();
        let k = Kubelet::default();
        let key = bound_pod(
            &ctx,
            "web-5",
            "nginx",
            json!({"tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}]}),
        );
        run_until(&k, &ctx, &key, Duration::from_secs(1), pod_is_ready);
        ctx.store
            .modify(&resources::NODES, "", "n1", |n| {
                n["status"]["conditions"][0]["status"] = json!("False")
            })
            .ok();
        k.reconcile(&ctx, &key);
        let pod = get(&ctx, &key);
        assert!(!pod_is_ready(&pod));
        assert!(
            !pod["metadata"]["deletionTimestamp"].is_null(),
            "evicted at once with tolerationSeconds 0"
        );
        let key = "node.kubernetes.io/unreachable";
        assert_eq!(not_ready_toleration(&json!({}), key), NOT_READY_TOLERATION);
        assert_eq!(
            not_ready_toleration(
                &json!({"spec": {"tolerations": [{"key": "node.kubernetes.io/unreachable",
                "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]}}),
                key
            ),
            NOT_READY_TOLERATION
        );
        // The smallest matching toleration wins; other taints' don't count.
        let pod = json!({"spec": {"tolerations": [
            {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
            {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 1}]}});
        assert_eq!(not_ready_toleration(&pod, key), Duration::from_secs(30));
    }
}
