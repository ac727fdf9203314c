//! The Job controller (`job-controller`) and the TTL-after-finished
//! controller, as kube-controller-manager runs them (v1.31+ semantics).
//!
//! Pods carry the `batch.kubernetes.io/job-tracking` finalizer: a finished
//! or deleted pod is added to the Job's `succeeded`/`failed` counters before
//! the finalizer comes off, so counts never go back when pods disappear. A
//! pod removed while still holding it (a forced delete) is remembered from
//! the change feed and counted on the next reconcile.
//!
//! Not simulated: podFailurePolicy, successPolicy, backoffLimitPerIndex,
//! adoption of orphan pods through the selector, and the slow-start batches
//! of pod creation.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::workload_util::{
    self as wu, controller_name, controller_ref, is_terminal, is_terminating, owner_keys, phase,
    pod_is_ready,
};
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{
    Change, ChangeType, DeleteOptions, ObjKey, fmt_time, meta_str, obj_key, parse_time,
};

const COMPONENT: &str = "job-controller";
const TTL_COMPONENT: &str = "ttl-after-finished-controller";

pub(crate) const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
pub(crate) const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
pub(crate) const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
pub(crate) const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
const LEGACY_JOB_NAME_LABEL: &str = "job-name";
const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";

pub(crate) const MSG_BACKOFF: &str = "Job has reached the specified backoff limit";
const MSG_DEADLINE: &str = "Job was active longer than specified deadline";
pub(crate) const MSG_COMPLETIONS: &str = "Reached expected number of succeeded pods";

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![
        Arc::new(JobController::default()),
        Arc::new(TtlAfterFinished),
    ]
}

/// A pod that left the store before its finish was counted.
#[derive(Debug, Clone)]
struct GonePod {
    job_uid: String,
    pod_uid: String,
    succeeded: bool,
    index: Option<i64>,
}

#[derive(Default)]
pub(crate) struct JobController {
    /// Job key → pods removed with the tracking finalizer still on.
    gone: Mutex<HashMap<ObjKey, Vec<GonePod>>>,
    /// Job uid → when its latest pod failure was counted (for back-off).
    last_failure: Mutex<HashMap<String, DateTime<Utc>>>,
}

// ---------------------------------------------------------------- helpers

fn has_finalizer(obj: &Value) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == TRACKING_FINALIZER))
}

fn completion_index(pod: &Value) -> Option<i64> {
    pod["metadata"]["annotations"][COMPLETION_INDEX]
        .as_str()
        .or_else(|| pod["metadata"]["labels"][COMPLETION_INDEX].as_str())
        .and_then(|s| s.parse().ok())
}

fn condition<'a>(job: &'a Value, type_: &str) -> Option<&'a Value> {
    job["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn condition_true(job: &Value, type_: &str) -> bool {
    condition(job, type_).is_some_and(|c| c["status"] == "True")
}

/// Complete or Failed, as kube's `IsJobFinished`.
pub(crate) fn finished_type(job: &Value) -> Option<&'static str> {
    ["Complete", "Failed"]
        .into_iter()
        .find(|t| condition_true(job, t))
}

/// When the Job finished: its completionTime, or when it became Failed.
pub(crate) fn finish_time(job: &Value) -> Option<DateTime<Utc>> {
    match finished_type(job)? {
        "Complete" => job["status"]["completionTime"]
            .as_str()
            .and_then(parse_time)
            .or_else(|| condition_time(job, "Complete")),
        t => condition_time(job, t),
    }
}

fn condition_time(job: &Value, type_: &str) -> Option<DateTime<Utc>> {
    condition(job, type_)?["lastTransitionTime"]
        .as_str()
        .and_then(parse_time)
}

/// Sets a condition, keeping lastTransitionTime when the status stays.
fn set_condition(
    conds: &mut Vec<Value>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    if let Some(c) = conds.iter_mut().find(|c| c["type"] == type_) {
        if c["status"] != status {
            c["lastTransitionTime"] = json!(now);
        }
        c["status"] = json!(status);
        c["reason"] = json!(reason);
        c["message"] = json!(message);
        c["lastProbeTime"] = json!(now);
        return;
    }
    conds.push(json!({
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }));
}

/// `0-2,4,6-7`, as `status.completedIndexes` is written.
fn format_indexes(set: &BTreeSet<i64>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    out.join(",")
}

fn parse_indexes(s: &str) -> BTreeSet<i64> {
    let mut set = BTreeSet::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>()) {
                    // A bound keeps a hostile status from allocating forever.
                    for i in a..=b.min(a.saturating_add(100_000)) {
                        set.insert(i);
                    }
                }
            }
            None => {
                if let Ok(i) = part.parse() {
                    set.insert(i);
                }
            }
        }
    }
    set
}

/// The spec as kube defaults it: (parallelism, completions, backoffLimit).
fn job_numbers(job: &Value) -> (i64, Option<i64>, i64) {
    let spec = &job["spec"];
    let parallelism = spec["parallelism"].as_i64();
    let completions = spec["completions"].as_i64();
    let (parallelism, completions) = match (parallelism, completions) {
        (None, None) => (1, Some(1)),
        (p, c) => (p.unwrap_or(1), c),
    };
    (
        parallelism.max(0),
        completions.map(|c| c.max(0)),
        spec["backoffLimit"].as_i64().unwrap_or(6).max(0),
    )
}

fn indexed(job: &Value) -> bool {
    job["spec"]["completionMode"].as_str() == Some("Indexed")
}

/// A pod for `job` from its template, with the labels, finalizer and owner
/// reference the real controller sets, and for Indexed jobs the index.
fn new_pod(job: &Value, index: Option<i64>) -> Value {
    let name = meta_str(job, "name");
    let uid = meta_str(job, "uid");
    let template = &job["spec"]["template"];
    let mut labels = template["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in [
        (CONTROLLER_UID_LABEL, uid),
        (JOB_NAME_LABEL, name),
        (LEGACY_CONTROLLER_UID_LABEL, uid),
        (LEGACY_JOB_NAME_LABEL, name),
    ] {
        labels.insert(k.into(), json!(v));
    }
    let mut annotations = template["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut spec = template["spec"].clone();
    let mut meta = Map::new();
    match index {
        Some(i) => {
            meta.insert("generateName".into(), json!(format!("{name}-{i}-")));
            labels.insert(COMPLETION_INDEX.into(), json!(i.to_string()));
            annotations.insert(COMPLETION_INDEX.into(), json!(i.to_string()));
            if spec["hostname"].is_null() {
                spec["hostname"] = json!(format!("{name}-{i}"));
            }
            let env = json!({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                "apiVersion": "v1",
                "fieldPath": format!("metadata.labels['{COMPLETION_INDEX}']")}}});
            for key in ["initContainers", "containers"] {
                if let Some(cs) = spec[key].as_array_mut() {
                    for c in cs {
                        if !c["env"].is_array() {
                            c["env"] = json!([]);
                        }
                        if let Some(list) = c["env"].as_array_mut()
                            && !list.iter().any(|e| e["name"] == "JOB_COMPLETION_INDEX")
                        {
                            list.push(env.clone());
                        }
                    }
                }
            }
        }
        None => {
            meta.insert("generateName".into(), json!(format!("{name}-")));
        }
    }
    meta.insert("namespace".into(), json!(meta_str(job, "namespace")));
    meta.insert("labels".into(), Value::Object(labels));
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    let mut finalizers: Vec<Value> = template["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    finalizers.push(json!(TRACKING_FINALIZER));
    meta.insert("finalizers".into(), json!(finalizers));
    meta.insert(
        "ownerReferences".into(),
        json!([{
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": name,
            "uid": uid,
            "controller": true,
            "blockOwnerDeletion": true,
        }]),
    );
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
}

fn remove_finalizer(ctx: &Ctx, pod: &Value) {
    let _ = ctx.store.modify(
        &resources::PODS,
        meta_str(pod, "namespace"),
        meta_str(pod, "name"),
        |p| {
            if let Some(f) = p["metadata"]["finalizers"].as_array_mut() {
                f.retain(|x| x != TRACKING_FINALIZER);
            }
        },
    );
}

fn delete_pod(ctx: &Ctx, job: &Value, pod: &Value) {
    let msg = format!("Deleted pod: {}", meta_str(pod, "name"));
    if let Err(e) = wu::delete_pod(ctx, job, pod, COMPONENT, &msg) {
        ctx.recorder.record(
            job,
            events::WARNING,
            "FailedDelete",
            &format!("Error deleting: {}", e.message),
            COMPONENT,
        );
    }
}

/// Sum of container restarts of running or pending pods, for OnFailure.
fn restarts(pods: &[Value]) -> i64 {
    pods.iter()
        .filter(|p| matches!(phase(p), "Running" | "Pending"))
        .flat_map(|p| {
            ["initContainerStatuses", "containerStatuses"]
                .into_iter()
                .flat_map(move |k| p["status"][k].as_array().into_iter().flatten())
        })
        .map(|s| s["restartCount"].as_i64().unwrap_or(0))
        .sum()
}

fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or_default() + Duration::from_millis(50)
}

fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

// ------------------------------------------------------------- controller

impl Controller for JobController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::JOBS
    }

    fn keys_for(&self, _ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, &resources::JOBS) {
            return vec![obj_key(&change.object)];
        }
        if !std::ptr::eq(change.res, &resources::PODS) {
            return Vec::new();
        }
        let keys = owner_keys(change, "Job");
        let pod = &change.object;
        if change.kind == ChangeType::Deleted
            && has_finalizer(pod)
            && let (Some(key), Some(owner)) = (keys.first(), controller_ref(pod))
        {
            self.gone
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key.clone())
                .or_default()
                .push(GonePod {
                    job_uid: owner["uid"].as_str().unwrap_or("").to_string(),
                    pod_uid: meta_str(pod, "uid").to_string(),
                    succeeded: phase(pod) == "Succeeded",
                    index: completion_index(pod),
                });
        }
        keys
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let Some(job) = ctx.store.get(&resources::JOBS, &key.0, &key.1) else {
            self.release_orphans(ctx, key);
            return None;
        };
        self.sync(ctx, &job, Utc::now())
    }
}

impl JobController {
    /// The Job is gone: its pods must not keep the finalizer.
    fn release_orphans(&self, ctx: &Ctx, key: &ObjKey) {
        self.gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        for pod in ctx.store.list(&resources::PODS, Some(&key.0)) {
            if controller_name(&pod, "Job") == Some(key.1.as_str()) && has_finalizer(&pod) {
                remove_finalizer(ctx, &pod);
            }
        }
    }

    fn take_gone(&self, key: &ObjKey, job_uid: &str) -> Vec<GonePod> {
        let mut gone = self.gone.lock().unwrap_or_else(|e| e.into_inner());
        let list = gone.remove(key).unwrap_or_default();
        list.into_iter().filter(|g| g.job_uid == job_uid).collect()
    }

    fn sync(&self, ctx: &Ctx, job: &Value, now: DateTime<Utc>) -> Option<Duration> {
        let key = obj_key(job);
        let uid = meta_str(job, "uid").to_string();
        let ns = key.0.as_str();
        let pods = wu::owned(ctx, &resources::PODS, ns, &uid);
        let gone = self.take_gone(&key, &uid);

        if finished_type(job).is_some() {
            for p in pods.iter().filter(|p| has_finalizer(p)) {
                remove_finalizer(ctx, p);
            }
            return None;
        }

        let now_s = fmt_time(now);
        let (parallelism, completions, backoff_limit) = job_numbers(job);
        let is_indexed = indexed(job) && completions.is_some();
        let mut status = job["status"].clone();
        if !status.is_object() {
            status = json!({});
        }
        let mut succeeded = status["succeeded"].as_i64().unwrap_or(0);
        let mut failed = status["failed"].as_i64().unwrap_or(0);
        let mut completed = parse_indexes(status["completedIndexes"].as_str().unwrap_or(""));
        let mut conds: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
        let pending_finish = ["FailureTarget", "SuccessCriteriaMet"]
            .into_iter()
            .find(|t| {
                conds
                    .iter()
                    .any(|c| c["type"] == *t && c["status"] == "True")
            });

        // Count finished and deleted pods, then let them go.
        let mut counted: Vec<&Value> = Vec::new();
        let mut new_failures = 0;
        let mut count = |ok: bool, index: Option<i64>| {
            if ok {
                match (is_indexed, index) {
                    (true, Some(i)) if completions.is_some_and(|c| i >= 0 && i < c) => {
                        completed.insert(i);
                    }
                    (true, _) => {}
                    (false, _) => succeeded += 1,
                }
            } else {
                failed += 1;
                new_failures += 1;
            }
        };
        for p in pods.iter().filter(|p| has_finalizer(p)) {
            let ok = phase(p) == "Succeeded";
            if ok || phase(p) == "Failed" || is_terminating(p) || pending_finish.is_some() {
                count(ok, completion_index(p));
                counted.push(p);
            }
        }
        let counted_uids: Vec<&str> = counted.iter().map(|p| meta_str(p, "uid")).collect();
        for g in gone
            .iter()
            .filter(|g| !counted_uids.contains(&g.pod_uid.as_str()))
        {
            count(g.succeeded, g.index);
        }
        if is_indexed {
            succeeded = completed.len() as i64;
        }
        if new_failures > 0 {
            self.last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(uid.clone(), now);
        }

        let is_counted = |p: &Value| counted_uids.contains(&meta_str(p, "uid"));
        let active: Vec<&Value> = pods
            .iter()
            .filter(|p| !is_terminal(p) && !is_terminating(p) && !is_counted(p))
            .collect();
        let mut requeue = None;
        let mut finish: Option<(&str, &str, &str)> = None; // (final type, reason, message)

        if let Some(t) = pending_finish {
            let c = conds
                .iter()
                .find(|c| c["type"] == t)
                .cloned()
                .unwrap_or_default();
            let final_type = if t == "FailureTarget" {
                "Failed"
            } else {
                "Complete"
            };
            let reason = c["reason"].as_str().unwrap_or("").to_string();
            let message = c["message"].as_str().unwrap_or("").to_string();
            for p in &active {
                delete_pod(ctx, job, p);
            }
            self.finish(
                ctx,
                job,
                &pods,
                &mut conds,
                &mut status,
                final_type,
                &reason,
                &message,
                &now_s,
            );
        } else {
            let restart_policy = job["spec"]["template"]["spec"]["restartPolicy"].as_str();
            let owned: Vec<Value> = active.iter().map(|p| (*p).clone()).collect();
            let on_failure_exceeded = restart_policy == Some("OnFailure") && {
                let r = restarts(&owned);
                if backoff_limit == 0 {
                    r > 0
                } else {
                    r >= backoff_limit
                }
            };
            let start_time = status["startTime"].as_str().and_then(parse_time);
            let deadline = job["spec"]["activeDeadlineSeconds"]
                .as_i64()
                .zip(start_time)
                .map(|(s, t)| t + chrono::Duration::seconds(s));
            let complete = match completions {
                Some(c) => succeeded >= c,
                None => succeeded > 0 && active.is_empty(),
            };
            if failed > backoff_limit || on_failure_exceeded {
                finish = Some(("FailureTarget", "BackoffLimitExceeded", MSG_BACKOFF));
            } else if deadline.is_some_and(|d| d <= now) {
                finish = Some(("FailureTarget", "DeadlineExceeded", MSG_DEADLINE));
            } else if complete {
                finish = Some(("SuccessCriteriaMet", "CompletionsReached", MSG_COMPLETIONS));
            }
            if let Some((t, reason, message)) = finish {
                set_condition(&mut conds, t, "True", reason, message, &now_s);
                for p in &active {
                    delete_pod(ctx, job, p);
                }
                let final_type = if t == "FailureTarget" {
                    "Failed"
                } else {
                    "Complete"
                };
                self.finish(
                    ctx,
                    job,
                    &pods,
                    &mut conds,
                    &mut status,
                    final_type,
                    reason,
                    message,
                    &now_s,
                );
            } else if job["spec"]["suspend"].as_bool() == Some(true) {
                for p in &active {
                    delete_pod(ctx, job, p);
                }
                if !condition_true(job, "Suspended") {
                    set_condition(
                        &mut conds,
                        "Suspended",
                        "True",
                        "JobSuspended",
                        "Job suspended",
                        &now_s,
                    );
                    ctx.recorder.record(
                        job,
                        events::NORMAL,
                        "Suspended",
                        "Job suspended",
                        COMPONENT,
                    );
                }
            } else {
                if condition_true(job, "Suspended") {
                    set_condition(
                        &mut conds,
                        "Suspended",
                        "False",
                        "JobResumed",
                        "Job resumed",
                        &now_s,
                    );
                    ctx.recorder
                        .record(job, events::NORMAL, "Resumed", "Job resumed", COMPONENT);
                    status["startTime"] = json!(now_s);
                } else if start_time.is_none() {
                    status["startTime"] = json!(now_s);
                }
                if let Some(d) = deadline {
                    requeue = Some(until(d, now));
                } else if let Some(s) = job["spec"]["activeDeadlineSeconds"].as_i64() {
                    requeue =
                        Some(Duration::from_secs(s.max(0) as u64) + Duration::from_millis(50));
                }
                let wait = self.manage(
                    ctx,
                    job,
                    &active,
                    &pods,
                    &completed,
                    (parallelism, completions, succeeded, failed),
                    now,
                );
                requeue = min_opt(requeue, wait);
            }
        }

        // Status, as the real controller writes it.
        let active_now = wu::owned(ctx, &resources::PODS, ns, &uid);
        let live = |p: &&Value| !is_terminal(p) && !is_terminating(p) && !is_counted(p);
        let n_active = active_now.iter().filter(live).count();
        let n_ready = active_now
            .iter()
            .filter(live)
            .filter(|p| pod_is_ready(p))
            .count();
        let n_terminating = active_now
            .iter()
            .filter(|p| is_terminating(p) && !is_terminal(p))
            .count();
        let obj = status.as_object_mut()?;
        for (k, v) in [
            ("active", n_active as i64),
            ("succeeded", succeeded),
            ("failed", failed),
        ] {
            if v > 0 {
                obj.insert(k.into(), json!(v));
            } else {
                obj.remove(k);
            }
        }
        obj.insert("ready".into(), json!(n_ready));
        obj.insert("terminating".into(), json!(n_terminating));
        obj.insert("uncountedTerminatedPods".into(), json!({}));
        if is_indexed && !completed.is_empty() {
            obj.insert("completedIndexes".into(), json!(format_indexes(&completed)));
        }
        if conds.is_empty() {
            obj.remove("conditions");
        } else {
            obj.insert("conditions".into(), json!(conds));
        }
        if job["status"] != status {
            let _ = ctx.store.modify(&resources::JOBS, ns, &key.1, |j| {
                j["status"] = status;
            });
        }
        // Only now that the counts are stored may the pods go.
        for p in counted {
            remove_finalizer(ctx, p);
        }
        requeue
    }

    /// Adds the final condition once no pod is still terminating.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        ctx: &Ctx,
        job: &Value,
        pods: &[Value],
        conds: &mut Vec<Value>,
        status: &mut Value,
        final_type: &str,
        reason: &str,
        message: &str,
        now: &str,
    ) {
        let still_running = ctx
            .store
            .list(&resources::PODS, Some(meta_str(job, "namespace")))
            .iter()
            .filter(|p| {
                pods.iter()
                    .any(|o| meta_str(o, "uid") == meta_str(p, "uid"))
            })
            // Unscheduled pods vanish with their finalizer; pods on a node
            // wait for their kubelet to stop them.
            .any(|p| !is_terminal(p) && !p["spec"]["nodeName"].as_str().unwrap_or("").is_empty());
        if still_running {
            return;
        }
        set_condition(conds, final_type, "True", reason, message, now);
        if final_type == "Complete" {
            status["completionTime"] = json!(now);
            ctx.recorder
                .record(job, events::NORMAL, "Completed", "Job completed", COMPONENT);
        } else {
            ctx.recorder
                .record(job, events::WARNING, reason, message, COMPONENT);
        }
        if status["startTime"].is_null() {
            status["startTime"] = json!(now);
        }
    }

    /// Creates or deletes pods toward the wanted number of active ones.
    /// Returns when to look again while a back-off delays creation.
    #[allow(clippy::too_many_arguments)]
    fn manage(
        &self,
        ctx: &Ctx,
        job: &Value,
        active: &[&Value],
        pods: &[Value],
        completed: &BTreeSet<i64>,
        (parallelism, completions, succeeded, failed): (i64, Option<i64>, i64, i64),
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        let n_active = active.len() as i64;
        let is_indexed = indexed(job) && completions.is_some();
        let want = match completions {
            None if succeeded > 0 => n_active,
            None => parallelism,
            Some(c) => parallelism.min(c - succeeded).max(0),
        };
        if n_active > want {
            let mut victims: Vec<&Value> = active.to_vec();
            // Not-ready and newest first, as kube's ranking roughly does.
            victims.sort_by_key(|p| {
                (
                    pod_is_ready(p),
                    std::cmp::Reverse(meta_str(p, "creationTimestamp").to_string()),
                )
            });
            for p in victims.into_iter().take((n_active - want) as usize) {
                delete_pod(ctx, job, p);
            }
            return None;
        }
        if n_active == want {
            return None;
        }
        // Failed pods are replaced after an exponential back-off.
        if failed > 0 {
            let last = self
                .last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(meta_str(job, "uid"))
                .copied();
            if let Some(last) = last {
                let d = &ctx.config.delays;
                let exp = u32::try_from(failed - 1).unwrap_or(u32::MAX).min(16);
                let delay = d.backoff_base.saturating_mul(1 << exp).min(d.backoff_max);
                let ready_at = last + chrono::Duration::from_std(delay).unwrap_or_default();
                if ready_at > now {
                    return Some(until(ready_at, now));
                }
            }
        }
        let to_create = (want - n_active) as usize;
        let indexes: Vec<Option<i64>> = if is_indexed {
            let busy: BTreeSet<i64> = pods
                .iter()
                .filter(|p| !is_terminal(p))
                .filter_map(completion_index)
                .collect();
            (0..completions.unwrap_or(0))
                .filter(|i| !completed.contains(i) && !busy.contains(i))
                .take(to_create)
                .map(Some)
                .collect()
        } else {
            vec![None; to_create]
        };
        for index in indexes {
            match ctx.store.create(&resources::PODS, new_pod(job, index)) {
                Ok(pod) => ctx.recorder.record(
                    job,
                    events::NORMAL,
                    "SuccessfulCreate",
                    &format!("Created pod: {}", meta_str(&pod, "name")),
                    COMPONENT,
                ),
                Err(e) => {
                    ctx.recorder.record(
                        job,
                        events::WARNING,
                        "FailedCreate",
                        &format!("Error creating: {}", e.message),
                        COMPONENT,
                    );
                    break;
                }
            }
        }
        None
    }
}

/// Deletes finished Jobs `ttlSecondsAfterFinished` after they finished.
struct TtlAfterFinished;

impl Controller for TtlAfterFinished {
    fn name(&self) -> &'static str {
        TTL_COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::JOBS
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let job = ctx.store.get(&resources::JOBS, &key.0, &key.1)?;
        if is_terminating(&job) {
            return None;
        }
        let ttl = job["spec"]["ttlSecondsAfterFinished"].as_i64()?;
        let finished = finish_time(&job)?;
        let now = Utc::now();
        let expire = finished + chrono::Duration::seconds(ttl.max(0));
        if expire > now {
            return Some(until(expire, now));
        }
        let opts = DeleteOptions {
            propagation_policy: Some("Foreground".into()),
            precondition_uid: Some(meta_str(&job, "uid").to_string()),
            ..DeleteOptions::default()
        };
        let _ = ctx.store.delete(&resources::JOBS, &key.0, &key.1, &opts);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_ctx;

    fn job(ctx: &Ctx, spec: Value) -> Value {
        let mut s = json!({"template": {"metadata": {"labels": {"app": "pi"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), spec.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        (*ctx
            .store
            .create(
                &resources::JOBS,
                json!({"metadata": {"name": "pi", "namespace": "default"}, "spec": s}),
            )
            .unwrap())
        .clone()
    }

    fn pods(ctx: &Ctx) -> Vec<Value> {
        ctx.store
            .list(&resources::PODS, Some("default"))
            .into_iter()
            .map(|p| (*p).clone())
            .collect()
    }

    fn get(ctx: &Ctx) -> Value {
        (*ctx.store.get(&resources::JOBS, "default", "pi").unwrap()).clone()
    }

    fn set_phase(ctx: &Ctx, pod: &Value, phase: &str) {
        ctx.store
            .modify(&resources::PODS, "default", meta_str(pod, "name"), |p| {
                p["status"] = json!({"phase": phase});
            })
            .unwrap();
    }

    fn reasons(ctx: &Ctx) -> Vec<String> {
        ctx.store
            .list(&resources::EVENTS, Some("default"))
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn key() -> ObjKey {
        ("default".into(), "pi".into())
    }

    #[test]
    fn runs_to_completion_with_parallelism_and_completions() {
        let ctx = test_ctx(&["default"]);
        let c = JobController::default();
        let j = job(&ctx, json!({"completions": 3, "parallelism": 2}));
        c.reconcile(&ctx, &key());
        let ps = pods(&ctx);
        assert_eq!(ps.len(), 2);
        let p = &ps[0];
        assert!(meta_str(p, "name").starts_with("pi-"));
        assert_eq!(p["metadata"]["labels"][JOB_NAME_LABEL], "pi");
        assert_eq!(p["metadata"]["labels"]["job-name"], "pi");
        assert_eq!(
            p["metadata"]["labels"][CONTROLLER_UID_LABEL],
            meta_str(&j, "uid")
        );
        assert_eq!(p["metadata"]["labels"]["app"], "pi");
        assert_eq!(p["metadata"]["finalizers"], json!([TRACKING_FINALIZER]));
        let owner = controller_ref(p).unwrap();
        assert_eq!(
            (owner["kind"].as_str(), owner["name"].as_str()),
            (Some("Job"), Some("pi"))
        );
        let st = &get(&ctx)["status"];
        assert_eq!(
            (st["active"].as_i64(), st["ready"].as_i64()),
            (Some(2), Some(0))
        );
        assert!(st["startTime"].is_string());

        set_phase(&ctx, &ps[0], "Succeeded");
        c.reconcile(&ctx, &key());
        let st = &get(&ctx)["status"];
        assert_eq!(st["succeeded"], 1);
        assert_eq!(st["active"], 2, "one more pod replaces the finished one");
        let done = ctx
            .store
            .get(&resources::PODS, "default", meta_str(&ps[0], "name"))
            .unwrap();
        assert!(!has_finalizer(&done), "counted pods lose the finalizer");

        for p in pods(&ctx).iter().filter(|p| phase(p) != "Succeeded") {
            set_phase(&ctx, p, "Succeeded");
        }
        c.reconcile(&ctx, &key());
        let j = get(&ctx);
        let st = &j["status"];
        assert_eq!(st["succeeded"], 3);
        assert!(st["active"].is_null());
        assert!(st["completionTime"].is_string());
        let types: Vec<&str> = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, vec!["SuccessCriteriaMet", "Complete"]);
        assert_eq!(
            condition(&j, "Complete").unwrap()["reason"],
            "CompletionsReached"
        );
        assert_eq!(pods(&ctx).len(), 3, "finished pods are kept");
        assert!(reasons(&ctx).contains(&"Completed".to_string()));
        assert_eq!(
            reasons(&ctx)
                .iter()
                .filter(|r| *r == "SuccessfulCreate")
                .count(),
            3
        );
    }

    #[test]
    fn backoff_limit_fails_the_job_and_stops_active_pods() {
        let ctx = test_ctx(&["default"]);
        let c = JobController::default();
        job(
            &ctx,
            json!({"backoffLimit": 1, "parallelism": 2, "completions": 4}),
        );
        c.reconcile(&ctx, &key());
        let ps = pods(&ctx);
        set_phase(&ctx, &ps[0], "Failed");
        c.reconcile(&ctx, &key());
        assert_eq!(get(&ctx)["status"]["failed"], 1);
        // The failed pod is not replaced before the back-off has passed.
        assert_eq!(pods(&ctx).iter().filter(|p| !is_terminal(p)).count(), 1);
        set_phase(&ctx, &ps[1], "Failed");
        c.reconcile(&ctx, &key());
        let j = get(&ctx);
        assert_eq!(j["status"]["failed"], 2);
        let failed = condition(&j, "Failed").expect("Failed condition");
        assert_eq!(failed["reason"], "BackoffLimitExceeded");
        assert_eq!(failed["message"], MSG_BACKOFF);
        assert!(condition_true(&j, "FailureTarget"));
        assert!(j["status"]["completionTime"].is_null());
        assert!(reasons(&ctx).contains(&"BackoffLimitExceeded".to_string()));
    }

    #[test]
    fn deleted_pods_count_as_failed_even_when_removed_at_once() {
        let ctx = test_ctx(&["default"]);
        let c = JobController::default();
        job(&ctx, json!({}));
        c.reconcile(&ctx, &key());
        let pod = pods(&ctx).remove(0);
        // A forced removal bypasses the finalizer: the change feed tells.
        let mut rx = ctx.store.subscribe();
        ctx.store
            .remove(&resources::PODS, "default", meta_str(&pod, "name"));
        let change = rx.try_recv().unwrap();
        assert_eq!(c.keys_for(&ctx, &change), vec![key()]);
        let wait = c.reconcile(&ctx, &key());
        assert_eq!(get(&ctx)["status"]["failed"], 1);
        assert!(wait.is_some(), "the replacement waits for the back-off");
        assert!(pods(&ctx).is_empty());
    }

    #[test]
    fn deadline_suspend_and_indexed_completion() {
        let ctx = test_ctx(&["default"]);
        let c = JobController::default();
        job(&ctx, json!({"activeDeadlineSeconds": 30}));
        assert!(
            c.reconcile(&ctx, &key())
                .is_some_and(|d| d <= Duration::from_secs(31))
        );
        ctx.store
            .modify(&resources::JOBS, "default", "pi", |j| {
                j["status"]["startTime"] =
                    json!(fmt_time(Utc::now() - chrono::Duration::seconds(60)));
            })
            .unwrap();
        c.reconcile(&ctx, &key());
        let j = get(&ctx);
        assert_eq!(
            condition(&j, "Failed").unwrap()["reason"],
            "DeadlineExceeded"
        );
        assert!(pods(&ctx).iter().all(is_terminating));

        let ctx = test_ctx(&["default"]);
        job(&ctx, json!({"suspend": true}));
        c.reconcile(&ctx, &key());
        assert!(pods(&ctx).is_empty());
        assert!(condition_true(&get(&ctx), "Suspended"));
        assert!(get(&ctx)["status"]["startTime"].is_null());
        ctx.store
            .modify(&resources::JOBS, "default", "pi", |j| {
                j["spec"]["suspend"] = json!(false)
            })
            .unwrap();
        c.reconcile(&ctx, &key());
        assert_eq!(pods(&ctx).len(), 1);
        assert_eq!(
            condition(&get(&ctx), "Suspended").unwrap()["reason"],
            "JobResumed"
        );

        let ctx = test_ctx(&["default"]);
        job(
            &ctx,
            json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"}),
        );
        c.reconcile(&ctx, &key());
        let mut idx: Vec<i64> = pods(&ctx).iter().filter_map(completion_index).collect();
        idx.sort_unstable();
        assert_eq!(idx, vec![0, 1, 2]);
        let p2 = pods(&ctx)
            .into_iter()
            .find(|p| completion_index(p) == Some(2))
            .unwrap();
        assert!(meta_str(&p2, "name").starts_with("pi-2-"));
        assert_eq!(p2["spec"]["hostname"], "pi-2");
        set_phase(&ctx, &p2, "Succeeded");
        c.reconcile(&ctx, &key());
        assert_eq!(get(&ctx)["status"]["completedIndexes"], "2");
        assert_eq!(get(&ctx)["status"]["succeeded"], 1);
    }

    #[test]
    fn ttl_deletes_finished_jobs_and_index_ranges_format() {
        let ctx = test_ctx(&["default"]);
        job(&ctx, json!({"ttlSecondsAfterFinished": 100}));
        let long_ago = fmt_time(Utc::now() - chrono::Duration::seconds(500));
        ctx.store
            .modify(&resources::JOBS, "default", "pi", |j| {
                j["status"] = json!({"completionTime": long_ago, "conditions": [
                    {"type": "Complete", "status": "True", "lastTransitionTime": long_ago}]});
            })
            .unwrap();
        assert_eq!(TtlAfterFinished.reconcile(&ctx, &key()), None);
        let j = ctx.store.get(&resources::JOBS, "default", "pi").unwrap();
        assert!(is_terminating(&j), "foreground deletion marks the job");

        let ctx = test_ctx(&["default"]);
        job(&ctx, json!({"ttlSecondsAfterFinished": 100}));
        let now = fmt_time(Utc::now());
        ctx.store
            .modify(&resources::JOBS, "default", "pi", |j| {
                j["status"] = json!({"conditions": [
                    {"type": "Failed", "status": "True", "lastTransitionTime": now}]});
            })
            .unwrap();
        let wait = TtlAfterFinished.reconcile(&ctx, &key()).unwrap();
        assert!(wait > Duration::from_secs(98) && wait <= Duration::from_secs(101));

        let set: BTreeSet<i64> = [0, 1, 2, 4, 6, 7].into_iter().collect();
        assert_eq!(format_indexes(&set), "0-2,4,6-7");
        assert_eq!(parse_indexes("0-2,4,6-7"), set);
    }
}
