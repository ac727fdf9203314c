//! The CronJob controller (`cronjob-controller`), following kube's
//! ControllerV2: it wakes exactly at the next scheduled time (never polls),
//! creates `<cronjob>-<minutes since epoch>` Jobs, applies the concurrency
//! policy and starting deadline, keeps `status.active`, `lastScheduleTime`
//! and `lastSuccessfulTime`, and trims finished Jobs to the history limits.
//!
//! Schedules are standard 5-field cron (via croner), the `@yearly` …
//! `@hourly` descriptors and `@every <duration>`, in `spec.timeZone` (UTC
//! by default, as kube-controller-manager usually runs).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use kubedeck_kube::cron::{Schedule, parse_tz};

use super::job::finished_type;
use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, DeleteOptions, ObjKey, fmt_time, meta_str, obj_key, parse_time};

const COMPONENT: &str = "cronjob-controller";
pub(crate) const SCHEDULED_TIMESTAMP_ANNOTATION: &str =
    "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// kube's `nextScheduleDelta`: wake a little after the scheduled instant.
const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(CronJobController)]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missed {
    None,
    Few,
    Many,
}

/// (earliest time considered, most recent unmet schedule, missed count).
type RecentSchedule = (DateTime<Utc>, Option<DateTime<Utc>>, Missed);

/// kube's `mostRecentScheduleTime`: (earliest time considered, the most
/// recent unmet schedule at or before `now`, how many were missed).
fn most_recent_schedule(
    cj: &Value,
    now: DateTime<Utc>,
    sched: &Schedule,
    with_deadline: bool,
) -> Result<RecentSchedule, String> {
    let created = cj["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(parse_time)
        .unwrap_or(now);
    let mut earliest = cj["status"]["lastScheduleTime"]
        .as_str()
        .and_then(parse_time)
        .unwrap_or(created);
    if with_deadline && let Some(sds) = cj["spec"]["startingDeadlineSeconds"].as_i64() {
        let deadline = now - chrono::Duration::seconds(sds);
        if deadline > earliest {
            earliest = deadline;
        }
    }
    let (Some(t1), Some(t2)) = (
        sched.next(earliest),
        sched.next(earliest).and_then(|t| sched.next(t)),
    ) else {
        return Ok((earliest, None, Missed::None));
    };
    if now < t1 {
        return Ok((earliest, None, Missed::None));
    }
    if now < t2 {
        return Ok((earliest, Some(t1), Missed::None));
    }
    let between = ((t2 - t1).num_milliseconds() + 500) / 1000;
    if between < 1 {
        return Err("time difference between two schedules is less than 1 second".into());
    }
    let elapsed = (now - t1).num_seconds();
    let missed = elapsed / between + 1;
    let mut most_recent = None;
    let potential = t1 + chrono::Duration::seconds((missed - 2) * between);
    let mut t = sched.next(potential);
    while let Some(at) = t.filter(|at| *at <= now) {
        most_recent = Some(at);
        t = sched.next(at);
    }
    let kind = if missed > 100 {
        Missed::Many
    } else {
        Missed::Few
    };
    Ok((earliest, most_recent, kind))
}

/// kube's `nextScheduleTimeDuration`: how long until the next wake-up.
fn next_schedule_delay(cj: &Value, now: DateTime<Utc>, sched: &Schedule) -> Option<Duration> {
    let from = match most_recent_schedule(cj, now, sched, false) {
        Err(_) => now,
        Ok((_, Some(t), _)) => t,
        Ok((earliest, None, Missed::None)) => earliest,
        Ok((_, None, _)) => now,
    };
    let next = sched.next(from)?;
    Some((next - now).to_std().unwrap_or_default() + NEXT_SCHEDULE_DELTA)
}

/// `<cronjob>-<scheduled time in minutes since the epoch>`.
pub(crate) fn job_name(cronjob: &str, scheduled: DateTime<Utc>) -> String {
    format!("{cronjob}-{}", scheduled.timestamp().div_euclid(60))
}

// -------------------------------------------------------------- controller

struct CronJobController;

impl Controller for CronJobController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::CRONJOBS
    }

    fn keys_for(&self, _ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        if std::ptr::eq(change.res, &resources::CRONJOBS) {
            return vec![obj_key(&change.object)];
        }
        if !std::ptr::eq(change.res, &resources::JOBS) {
            return Vec::new();
        }
        wu::owner_keys(change, "CronJob")
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let cj = ctx.store.get(&resources::CRONJOBS, &key.0, &key.1)?;
        sync(ctx, &cj, Utc::now())
    }
}

fn in_active(status: &Value, uid: &str) -> bool {
    status["active"]
        .as_array()
        .is_some_and(|a| a.iter().any(|r| r["uid"].as_str() == Some(uid)))
}

fn remove_active(status: &mut Value, uid: &str) {
    if let Some(a) = status["active"].as_array_mut() {
        a.retain(|r| r["uid"].as_str() != Some(uid));
    }
}

fn job_ref(job: &Value) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": meta_str(job, "name"),
        "namespace": meta_str(job, "namespace"),
        "resourceVersion": meta_str(job, "resourceVersion"),
        "uid": meta_str(job, "uid"),
    })
}

/// One pass of the controller at `now`: returns when to look again.
pub(crate) fn sync(ctx: &Ctx, cj: &Value, now: DateTime<Utc>) -> Option<Duration> {
    let ns = meta_str(cj, "namespace");
    let name = meta_str(cj, "name");
    let jobs: Vec<Value> = ctx
        .store
        .list(&resources::JOBS, Some(ns))
        .into_iter()
        .filter(|j| wu::controller_name(j, "CronJob") == Some(name))
        .map(|j| (*j).clone())
        .collect();
    let mut status = if cj["status"].is_object() {
        cj["status"].clone()
    } else {
        json!({})
    };
    let requeue = sync_cronjob(ctx, cj, &mut status, &jobs, now);
    cleanup_finished_jobs(ctx, cj, &mut status, &jobs);

    if status["active"].as_array().is_some_and(|a| a.is_empty())
        && let Some(m) = status.as_object_mut()
    {
        m.remove("active");
    }
    let current = if cj["status"].is_object() {
        cj["status"].clone()
    } else {
        json!({})
    };
    if status != current {
        let _ = ctx.store.modify(&resources::CRONJOBS, ns, name, |o| {
            o["status"] = status;
        });
    }
    requeue
}

fn warn(ctx: &Ctx, cj: &Value, reason: &str, message: &str) {
    ctx.recorder
        .record(cj, events::WARNING, reason, message, COMPONENT);
}

fn normal(ctx: &Ctx, cj: &Value, reason: &str, message: &str) {
    ctx.recorder
        .record(cj, events::NORMAL, reason, message, COMPONENT);
}

/// kube's `syncCronJob`, editing `status` in place.
fn sync_cronjob(
    ctx: &Ctx,
    cj: &Value,
    status: &mut Value,
    jobs: &[Value],
    now: DateTime<Utc>,
) -> Option<Duration> {
    for j in jobs {
        let uid = meta_str(j, "uid");
        let found = in_active(status, uid);
        let finished = finished_type(j);
        match finished {
            None if !found => warn(
                ctx,
                cj,
                "UnexpectedJob",
                &format!(
                    "Saw a job that the controller did not create or forgot: {}",
                    meta_str(j, "name")
                ),
            ),
            None => {}
            Some(cond) => {
                if found {
                    remove_active(status, uid);
                    normal(
                        ctx,
                        cj,
                        "SawCompletedJob",
                        &format!(
                            "Saw completed job: {}, condition: {cond}",
                            meta_str(j, "name")
                        ),
                    );
                }
                // Manual jobs count too: any owned job that succeeded.
                if cond == "Complete"
                    && let Some(done) = j["status"]["completionTime"].as_str().and_then(parse_time)
                {
                    let last = status["lastSuccessfulTime"].as_str().and_then(parse_time);
                    if last.is_none_or(|l| done > l) {
                        status["lastSuccessfulTime"] = json!(fmt_time(done));
                    }
                }
            }
        }
    }

    // Active entries whose Job is gone.
    let missing: Vec<(String, String)> = status["active"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| {
                    !jobs
                        .iter()
                        .any(|j| meta_str(j, "uid") == r["uid"].as_str().unwrap_or(""))
                })
                .map(|r| {
                    (
                        r["uid"].as_str().unwrap_or("").to_string(),
                        r["name"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for (uid, job_name) in missing {
        normal(
            ctx,
            cj,
            "MissingJob",
            &format!("Active job went missing: {job_name}"),
        );
        remove_active(status, &uid);
    }

    if !cj["metadata"]["deletionTimestamp"].is_null() {
        return None;
    }
    let schedule_str = cj["spec"]["schedule"].as_str().unwrap_or("");
    let tz_name = cj["spec"]["timeZone"].as_str();
    if let Some(tz) = tz_name
        && let Err(e) = parse_tz(tz)
    {
        warn(
            ctx,
            cj,
            "UnknownTimeZone",
            &format!("invalid timeZone: {tz:?}: {e}"),
        );
        return None;
    }
    if cj["spec"]["suspend"].as_bool() == Some(true) {
        return None;
    }
    if schedule_str.contains("TZ") {
        warn(
            ctx,
            cj,
            "UnsupportedSchedule",
            &format!(
                "CRON_TZ or TZ used in schedule {schedule_str:?} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details"
            ),
        );
    }
    let sched = match Schedule::parse(schedule_str, tz_name) {
        Ok(s) => s,
        Err(e) => {
            warn(
                ctx,
                cj,
                "UnparseableSchedule",
                &format!("unparseable schedule: {schedule_str:?} : {e}"),
            );
            return None;
        }
    };
    let scheduled = match most_recent_schedule(&cj_with(cj, status), now, &sched, true) {
        Err(e) => {
            warn(
                ctx,
                cj,
                "InvalidSchedule",
                &format!("invalid schedule: {schedule_str} : {e}"),
            );
            return None;
        }
        Ok((_, most_recent, missed)) => {
            if missed == Missed::Many && most_recent.is_some() {
                warn(
                    ctx,
                    cj,
                    "TooManyMissedTimes",
                    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
                );
            }
            most_recent
        }
    };
    let cj_now = cj_with(cj, status);
    let delay = || next_schedule_delay(&cj_now, now, &sched);
    let Some(scheduled) = scheduled else {
        return delay();
    };

    if let Some(sds) = cj["spec"]["startingDeadlineSeconds"].as_i64()
        && scheduled + chrono::Duration::seconds(sds) < now
    {
        warn(
            ctx,
            cj,
            "MissSchedule",
            &format!(
                "Missed scheduled time to start a job: {}",
                scheduled.format("%a, %d %b %Y %H:%M:%S %z")
            ),
        );
        return delay();
    }
    let name = job_name(meta_str(cj, "name"), scheduled);
    let already = status["active"]
        .as_array()
        .is_some_and(|a| a.iter().any(|r| r["name"].as_str() == Some(name.as_str())))
        || status["lastScheduleTime"].as_str().and_then(parse_time) == Some(scheduled);
    if already {
        return delay();
    }
    let policy = cj["spec"]["concurrencyPolicy"].as_str().unwrap_or("Allow");
    let active_count = status["active"].as_array().map_or(0, Vec::len);
    if policy == "Forbid" && active_count > 0 {
        normal(
            ctx,
            cj,
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid",
        );
        return delay();
    }
    if policy == "Replace" {
        let active: Vec<Value> = status["active"].as_array().cloned().unwrap_or_default();
        for r in active {
            let (jns, jname) = (
                r["namespace"].as_str().unwrap_or(ns_of(cj)),
                r["name"].as_str().unwrap_or(""),
            );
            match ctx.store.get(&resources::JOBS, jns, jname) {
                Some(job) => {
                    if !delete_job(ctx, cj, status, &job) {
                        return None;
                    }
                }
                None => {
                    warn(
                        ctx,
                        cj,
                        "FailedGet",
                        &format!("Get job: jobs.batch \"{jname}\" not found"),
                    );
                    return None;
                }
            }
        }
    }

    let job = job_from_template(cj, &name, scheduled, sched.tz());
    let created = match ctx.store.create(&resources::JOBS, job) {
        Ok(j) => {
            normal(ctx, cj, "SuccessfulCreate", &format!("Created job {name}"));
            j
        }
        Err(e) if e.reason == "AlreadyExists" => {
            let existing = ctx.store.get(&resources::JOBS, ns_of(cj), &name)?;
            let ours = existing["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|a| {
                    a.iter().any(|r| {
                        r["controller"].as_bool() == Some(true)
                            && r["uid"].as_str() == Some(meta_str(cj, "uid"))
                    })
                });
            if !ours || in_active(status, meta_str(&existing, "uid")) {
                return None;
            }
            existing
        }
        Err(e) => {
            warn(
                ctx,
                cj,
                "FailedCreate",
                &format!("Error creating job: {}", e.message),
            );
            return None;
        }
    };
    if !status["active"].is_array() {
        status["active"] = json!([]);
    }
    if let Some(a) = status["active"].as_array_mut() {
        a.push(job_ref(&created));
    }
    status["lastScheduleTime"] = json!(fmt_time(scheduled));
    next_schedule_delay(&cj_with(cj, status), now, &sched)
}

fn ns_of(cj: &Value) -> &str {
    meta_str(cj, "namespace")
}

/// The CronJob as it will be once `status` is written, for the schedule
/// arithmetic that reads `lastScheduleTime`.
fn cj_with(cj: &Value, status: &Value) -> Value {
    let mut v = cj.clone();
    v["status"] = status.clone();
    v
}

/// kube's `getJobFromTemplate2`.
pub(crate) fn job_from_template(cj: &Value, name: &str, scheduled: DateTime<Utc>, tz: Tz) -> Value {
    let tmeta = &cj["spec"]["jobTemplate"]["metadata"];
    let mut annotations = tmeta["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.into(),
        json!(
            scheduled
                .with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
    );
    let mut meta = json!({
        "name": name,
        "namespace": ns_of(cj),
        "annotations": annotations,
        "ownerReferences": [{
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": meta_str(cj, "name"),
            "uid": meta_str(cj, "uid"),
            "controller": true,
            "blockOwnerDeletion": true,
        }],
    });
    if tmeta["labels"].is_object() {
        meta["labels"] = tmeta["labels"].clone();
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": cj["spec"]["jobTemplate"]["spec"].clone(),
    })
}

/// Deletes a Job (background propagation) and drops it from `active`.
fn delete_job(ctx: &Ctx, cj: &Value, status: &mut Value, job: &Value) -> bool {
    let opts = DeleteOptions {
        propagation_policy: Some("Background".into()),
        ..DeleteOptions::default()
    };
    let name = meta_str(job, "name");
    match ctx
        .store
        .delete(&resources::JOBS, meta_str(job, "namespace"), name, &opts)
    {
        Ok(_) => {
            remove_active(status, meta_str(job, "uid"));
            normal(ctx, cj, "SuccessfulDelete", &format!("Deleted job {name}"));
            true
        }
        Err(e) => {
            warn(
                ctx,
                cj,
                "FailedDelete",
                &format!("Deleted job: {}", e.message),
            );
            false
        }
    }
}

/// kube's `cleanupFinishedJobs`: the oldest finished Jobs beyond the
/// history limits go, by start time.
fn cleanup_finished_jobs(ctx: &Ctx, cj: &Value, status: &mut Value, jobs: &[Value]) {
    for (kind, limit_field) in [
        ("Complete", "successfulJobsHistoryLimit"),
        ("Failed", "failedJobsHistoryLimit"),
    ] {
        let Some(limit) = cj["spec"][limit_field].as_i64() else {
            continue;
        };
        let mut finished: Vec<&Value> = jobs
            .iter()
            .filter(|j| finished_type(j) == Some(kind))
            .collect();
        let excess = finished.len() as i64 - limit.max(0);
        if excess <= 0 {
            continue;
        }
        // Jobs without a start time sort last, then by name.
        finished.sort_by_key(|j| {
            let start = j["status"]["startTime"].as_str().and_then(parse_time);
            (start.is_none(), start, meta_str(j, "name").to_string())
        });
        for j in finished.into_iter().take(excess as usize) {
            if ctx
                .store
                .get(
                    &resources::JOBS,
                    meta_str(j, "namespace"),
                    meta_str(j, "name"),
                )
                .is_some()
            {
                delete_job(ctx, cj, status, j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_ctx;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).unwrap()
    }

    fn cronjob(ctx: &Ctx, spec: Value) -> Value {
        let mut s = json!({"schedule": "*/5 * * * *", "jobTemplate": {
            "metadata": {"labels": {"app": "backup"}},
            "spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                "containers": [{"name": "b", "image": "postgres:16"}]}}}}});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), spec.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        (*ctx
            .store
            .create(
                &resources::CRONJOBS,
                json!({"metadata": {"name": "backup", "namespace": "ops"}, "spec": s}),
            )
            .unwrap())
        .clone()
    }

    fn get(ctx: &Ctx) -> Value {
        (*ctx
            .store
            .get(&resources::CRONJOBS, "ops", "backup")
            .unwrap())
        .clone()
    }

    fn jobs(ctx: &Ctx) -> Vec<Value> {
        ctx.store
            .list(&resources::JOBS, Some("ops"))
            .into_iter()
            .map(|j| (*j).clone())
            .collect()
    }

    fn reasons(ctx: &Ctx) -> Vec<String> {
        ctx.store
            .list(&resources::EVENTS, Some("ops"))
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn finish(ctx: &Ctx, name: &str, kind: &str, started: &str, done: &str) {
        ctx.store
            .modify(&resources::JOBS, "ops", name, |j| {
                j["status"] = json!({"startTime": started, "conditions": [
                    {"type": kind, "status": "True", "lastTransitionTime": done}]});
                if kind == "Complete" {
                    j["status"]["completionTime"] = json!(done);
                }
            })
            .unwrap();
    }

    /// A finished job owned by the cronjob, as if created earlier.
    fn old_job(ctx: &Ctx, cj: &Value, name: &str, kind: &str, started: &str) {
        ctx.store
            .create(
                &resources::JOBS,
                json!({"metadata": {"name": name, "namespace": "ops", "ownerReferences": [{
                    "apiVersion": "batch/v1", "kind": "CronJob", "name": "backup",
                    "uid": meta_str(cj, "uid"), "controller": true}]},
                    "spec": {"template": {"spec": {"restartPolicy": "Never",
                        "containers": [{"name": "b", "image": "postgres:16"}]}}}}),
            )
            .unwrap();
        finish(ctx, name, kind, started, started);
    }

    #[test]
    fn job_names_carry_the_scheduled_minute() {
        assert_eq!(
            job_name("backup", t("2024-01-10T02:00:00Z")),
            "backup-28414200"
        );
    }

    #[test]
    fn creates_a_job_at_each_scheduled_time_and_sleeps_until_the_next() {
        let ctx = test_ctx(&["ops"]);
        let cj = cronjob(&ctx, json!({"timeZone": "Europe/Berlin"}));
        let created = t(meta_str(&cj, "creationTimestamp"));
        let sched = Schedule::parse("*/5 * * * *", None).unwrap();
        let first = sched.next(created).unwrap();

        // Before the first time: nothing, and a wake-up right after it.
        let wait = sync(&ctx, &cj, created).unwrap();
        assert!(jobs(&ctx).is_empty());
        assert_eq!(
            wait,
            (first - created).to_std().unwrap() + NEXT_SCHEDULE_DELTA
        );

        let now = first + chrono::Duration::seconds(2);
        let wait = sync(&ctx, &get(&ctx), now).unwrap();
        let js = jobs(&ctx);
        assert_eq!(js.len(), 1);
        let job = &js[0];
        assert_eq!(meta_str(job, "name"), job_name("backup", first));
        assert_eq!(job["metadata"]["labels"]["app"], "backup");
        let stamp = job["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION]
            .as_str()
            .unwrap();
        assert!(
            stamp.ends_with("+01:00") || stamp.ends_with("+02:00"),
            "{stamp}"
        );
        assert_eq!(t(stamp), first);
        assert_eq!(wu::controller_name(job, "CronJob"), Some("backup"));
        assert_eq!(
            job["spec"]["template"]["spec"]["restartPolicy"],
            "OnFailure"
        );
        let st = &get(&ctx)["status"];
        assert_eq!(st["active"][0]["name"], meta_str(job, "name"));
        assert_eq!(st["active"][0]["kind"], "Job");
        assert_eq!(t(st["lastScheduleTime"].as_str().unwrap()), first);
        assert_eq!(wait, Duration::from_secs(298) + NEXT_SCHEDULE_DELTA);
        assert!(reasons(&ctx).contains(&"SuccessfulCreate".to_string()));

        // The same time is never scheduled twice.
        sync(&ctx, &get(&ctx), now + chrono::Duration::seconds(1));
        assert_eq!(jobs(&ctx).len(), 1);

        // The job completes: out of active, lastSuccessfulTime set.
        let done = fmt_time(now + chrono::Duration::seconds(30));
        finish(
            &ctx,
            meta_str(job, "name"),
            "Complete",
            &fmt_time(now),
            &done,
        );
        sync(&ctx, &get(&ctx), now + chrono::Duration::seconds(31));
        let st = &get(&ctx)["status"];
        assert!(st["active"].is_null());
        assert_eq!(st["lastSuccessfulTime"], done);
        assert!(reasons(&ctx).contains(&"SawCompletedJob".to_string()));
    }

    #[test]
    fn forbid_skips_and_replace_replaces_a_running_job() {
        for (policy, expect_jobs) in [("Forbid", 1), ("Replace", 1), ("Allow", 2)] {
            let ctx = test_ctx(&["ops"]);
            let cj = cronjob(&ctx, json!({"concurrencyPolicy": policy}));
            let first = Schedule::parse("*/5 * * * *", None)
                .unwrap()
                .next(t(meta_str(&cj, "creationTimestamp")))
                .unwrap();
            sync(&ctx, &cj, first + chrono::Duration::seconds(1));
            let before = jobs(&ctx);
            sync(&ctx, &get(&ctx), first + chrono::Duration::seconds(301));
            let after = jobs(&ctx);
            assert_eq!(after.len(), expect_jobs, "{policy}");
            let active = get(&ctx)["status"]["active"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            match policy {
                "Forbid" => {
                    assert_eq!(meta_str(&after[0], "uid"), meta_str(&before[0], "uid"));
                    assert!(reasons(&ctx).contains(&"JobAlreadyActive".to_string()));
                }
                "Replace" => {
                    assert_ne!(meta_str(&after[0], "uid"), meta_str(&before[0], "uid"));
                    assert_eq!(active.len(), 1);
                    assert!(reasons(&ctx).contains(&"SuccessfulDelete".to_string()));
                }
                _ => assert_eq!(active.len(), 2),
            }
        }
    }

    #[test]
    fn history_limits_remove_the_oldest_finished_jobs() {
        let ctx = test_ctx(&["ops"]);
        let cj = cronjob(
            &ctx,
            json!({"suspend": true, "successfulJobsHistoryLimit": 2, "failedJobsHistoryLimit": 1}),
        );
        old_job(&ctx, &cj, "backup-1", "Complete", "2024-01-01T00:00:00Z");
        old_job(&ctx, &cj, "backup-2", "Complete", "2024-01-02T00:00:00Z");
        old_job(&ctx, &cj, "backup-3", "Complete", "2024-01-03T00:00:00Z");
        old_job(&ctx, &cj, "backup-4", "Failed", "2024-01-01T12:00:00Z");
        old_job(&ctx, &cj, "backup-5", "Failed", "2024-01-02T12:00:00Z");
        assert_eq!(
            sync(&ctx, &get(&ctx), Utc::now()),
            None,
            "suspended: no wake-up"
        );
        let mut names: Vec<String> = jobs(&ctx)
            .iter()
            .map(|j| meta_str(j, "name").to_string())
            .collect();
        names.sort();
        assert_eq!(names, vec!["backup-2", "backup-3", "backup-5"]);
        assert_eq!(
            get(&ctx)["status"]["lastSuccessfulTime"],
            "2024-01-03T00:00:00Z"
        );
    }

    #[test]
    fn manual_jobs_are_unexpected_but_count_for_last_success() {
        let ctx = test_ctx(&["ops"]);
        let cj = cronjob(&ctx, json!({"schedule": "0 0 1 1 *"}));
        // What `kubectl create job --from=cronjob/backup backup-manual` sends.
        ctx.store
            .create(
                &resources::JOBS,
                json!({"metadata": {"name": "backup-manual", "namespace": "ops",
                    "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                        "name": "backup", "uid": meta_str(&cj, "uid"), "controller": true}]},
                    "spec": cj["spec"]["jobTemplate"]["spec"].clone()}),
            )
            .unwrap();
        let mut rx = ctx.store.subscribe();
        finish(
            &ctx,
            "backup-manual",
            "Failed",
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:01:00Z",
        );
        let change = rx.try_recv().unwrap();
        assert_eq!(
            CronJobController.keys_for(&ctx, &change),
            vec![("ops".to_string(), "backup".to_string())]
        );
        ctx.store
            .modify(&resources::JOBS, "ops", "backup-manual", |j| {
                j["status"] = json!({})
            })
            .unwrap();
        let wait = sync(&ctx, &get(&ctx), Utc::now());
        assert!(wait.is_some());
        assert!(reasons(&ctx).contains(&"UnexpectedJob".to_string()));
        assert!(
            get(&ctx)["status"]["active"].is_null(),
            "manual jobs are not adopted"
        );
        finish(
            &ctx,
            "backup-manual",
            "Complete",
            "2024-03-01T00:00:00Z",
            "2024-03-01T00:02:00Z",
        );
        sync(&ctx, &get(&ctx), Utc::now());
        assert_eq!(
            get(&ctx)["status"]["lastSuccessfulTime"],
            "2024-03-01T00:02:00Z"
        );
    }

    #[test]
    fn bad_schedules_and_zones_are_reported_not_retried() {
        // Validation refuses these on create; an object stored before it
        // (or by a laxer server) still must not make the controller spin.
        let ctx = test_ctx(&["ops"]);
        let mut cj = cronjob(&ctx, json!({}));
        cj["spec"]["schedule"] = json!("every day");
        assert_eq!(sync(&ctx, &cj, Utc::now()), None);
        assert!(reasons(&ctx).contains(&"UnparseableSchedule".to_string()));
        let ctx = test_ctx(&["ops"]);
        let mut cj = cronjob(&ctx, json!({}));
        cj["spec"]["timeZone"] = json!("Nowhere/City");
        assert_eq!(sync(&ctx, &cj, Utc::now()), None);
        assert!(reasons(&ctx).contains(&"UnknownTimeZone".to_string()));
        assert!(jobs(&ctx).is_empty());
    }

    #[test]
    fn a_missed_window_with_a_starting_deadline_is_skipped() {
        let ctx = test_ctx(&["ops"]);
        let cj = cronjob(
            &ctx,
            json!({"schedule": "0 * * * *", "startingDeadlineSeconds": 10}),
        );
        // An hour after the last run and 30 s past the slot: too late.
        let slot = Schedule::parse("0 * * * *", None)
            .unwrap()
            .next(t(meta_str(&cj, "creationTimestamp")))
            .unwrap();
        ctx.store
            .modify(&resources::CRONJOBS, "ops", "backup", |c| {
                c["status"]["lastScheduleTime"] =
                    json!(fmt_time(slot - chrono::Duration::hours(1)));
            })
            .unwrap();
        let wait = sync(&ctx, &get(&ctx), slot + chrono::Duration::seconds(30)).unwrap();
        assert!(jobs(&ctx).is_empty());
        assert!(wait > Duration::from_secs(3500));
        // Within the deadline it runs.
        sync(&ctx, &get(&ctx), slot + chrono::Duration::seconds(5));
        assert_eq!(jobs(&ctx).len(), 1);
    }
}
