//! The seed scenario's backup history: the finished Jobs a cluster that has
//! run for days keeps for its backup CronJobs, at their past schedule times
//! relative to when the simulator starts. The selfmonitor backup is fresh;
//! the migrate-platform one last succeeded three runs ago, so it is stale.
//! Jobs are written as the CronJob and Job controllers leave them (scheduled
//! names, owner, conditions, times) and only within the history limits, so
//! the controllers find nothing to do until the next schedule.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::controllers::cronjob::{job_from_template, job_name};
use super::controllers::job::{MSG_BACKOFF, MSG_COMPLETIONS};
use super::resources;
use super::store::{Store, fmt_time, meta_str};
use kubedeck_kube::cron::Schedule;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Done,
    Failed,
}

use Run::{Done, Failed};

/// One CronJob's past runs, newest first, and how long its runs take.
struct History {
    namespace: &'static str,
    cronjob: &'static str,
    runs: &'static [Run],
    /// Seconds a successful run takes, from..to.
    ok_secs: (i64, i64),
    /// Seconds until a failing run's pod has used up its restarts.
    failed_secs: (i64, i64),
}

const HISTORIES: &[History] = &[
    History {
        namespace: "selfmonitor",
        cronjob: "postgres-backup",
        runs: &[Done, Done, Done, Done, Failed, Done],
        ok_secs: (38, 150),
        failed_secs: (50, 95),
    },
    History {
        namespace: "migrate-platform",
        cronjob: "postgres-vector-backup",
        runs: &[
            Failed, Failed, Failed, Done, Done, Done, Done, Done, Done, Done, Done,
        ],
        ok_secs: (130, 260),
        failed_secs: (55, 100),
    },
];

/// How far back schedule times are looked for.
const LOOKBACK_DAYS: i64 = 21;

/// Writes every history as of `now`.
pub(crate) fn apply(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    for h in HISTORIES {
        apply_one(store, h, now)
            .with_context(|| format!("backup history of {}/{}", h.namespace, h.cronjob))?;
    }
    Ok(())
}

/// A finished run at its schedule time.
struct Past {
    scheduled: DateTime<Utc>,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    run: Run,
}

fn apply_one(store: &Store, h: &History, now: DateTime<Utc>) -> anyhow::Result<()> {
    let cj = store
        .get(&resources::CRONJOBS, h.namespace, h.cronjob)
        .ok_or_else(|| anyhow!("the CronJob is missing"))?;
    let sched = Schedule::parse(
        cj["spec"]["schedule"].as_str().unwrap_or(""),
        cj["spec"]["timeZone"].as_str(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    let past = past_runs(&sched, h, now);
    let Some(oldest) = past.last() else {
        return Ok(());
    };
    // The CronJob existed before its first run.
    store.backdate(
        &resources::CRONJOBS,
        h.namespace,
        h.cronjob,
        oldest.scheduled - chrono::Duration::hours(3),
    );

    // Kubernetes' defaults when a limit is unset: 3 and 1.
    let limit =
        |field: &str, default: i64| cj["spec"][field].as_i64().unwrap_or(default).max(0) as usize;
    let kept_ok = past
        .iter()
        .filter(|p| p.run == Done)
        .take(limit("successfulJobsHistoryLimit", 3));
    let kept_failed = past
        .iter()
        .filter(|p| p.run == Failed)
        .take(limit("failedJobsHistoryLimit", 1));
    for p in kept_ok.chain(kept_failed) {
        create_job(store, &cj, &sched, p)?;
    }

    let mut status = json!({"lastScheduleTime": fmt_time(past[0].scheduled)});
    if let Some(ok) = past.iter().find(|p| p.run == Done) {
        status["lastSuccessfulTime"] = json!(fmt_time(ok.finished));
    }
    store
        .modify(&resources::CRONJOBS, h.namespace, h.cronjob, |o| {
            o["status"] = status;
        })
        .map_err(|e| anyhow!("{}", e.message))?;
    Ok(())
}

/// The history's runs at the latest schedule times before `now`, newest
/// first. A run that would still be going at `now` ends then; a schedule
/// time less than a second ago is left for the CronJob controller.
fn past_runs(sched: &Schedule, h: &History, now: DateTime<Utc>) -> Vec<Past> {
    let mut times = Vec::new();
    let mut t = sched.next(now - chrono::Duration::days(LOOKBACK_DAYS));
    while let Some(at) = t.filter(|at| *at <= now) {
        times.push(at);
        t = sched.next(at);
    }
    times
        .into_iter()
        .rev()
        .filter_map(|scheduled| {
            // The controller wakes just after the schedule time; the Job
            // controller starts the Job within the second.
            let started = scheduled + chrono::Duration::seconds(1);
            (started < now).then_some((scheduled, started))
        })
        .zip(h.runs)
        .map(|((scheduled, started), run)| {
            let (lo, hi) = match run {
                Done => h.ok_secs,
                Failed => h.failed_secs,
            };
            let finished =
                (started + chrono::Duration::seconds(jitter(scheduled, lo, hi))).min(now);
            Past {
                scheduled,
                started,
                finished,
                run: *run,
            }
        })
        .collect()
}

/// A duration in `lo..hi` seconds that differs from run to run but is the
/// same for the same schedule time.
fn jitter(scheduled: DateTime<Utc>, lo: i64, hi: i64) -> i64 {
    let span = (hi - lo).max(1) as u64;
    let h = (scheduled.timestamp() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    lo + (h % span) as i64
}

/// Creates the Job the CronJob controller made at `p.scheduled`, with the
/// status the Job controller left when it finished.
fn create_job(store: &Store, cj: &Value, sched: &Schedule, p: &Past) -> anyhow::Result<()> {
    let cronjob = meta_str(cj, "name");
    let ns = meta_str(cj, "namespace");
    let name = job_name(cronjob, p.scheduled);
    let job = job_from_template(cj, &name, p.scheduled, sched.tz());
    store
        .create(&resources::JOBS, job)
        .map_err(|e| anyhow!("cannot create Job {name}: {}", e.message))?;
    let (started, finished) = (fmt_time(p.started), fmt_time(p.finished));
    let condition = |type_: &str, reason: &str, message: &str| {
        json!({
            "type": type_,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastProbeTime": finished,
            "lastTransitionTime": finished,
        })
    };
    let mut status = json!({
        "startTime": started,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    });
    match p.run {
        Done => {
            status["succeeded"] = json!(1);
            status["completionTime"] = json!(finished);
            status["conditions"] = json!([
                condition("SuccessCriteriaMet", "CompletionsReached", MSG_COMPLETIONS),
                condition("Complete", "CompletionsReached", MSG_COMPLETIONS),
            ]);
        }
        Failed => {
            status["failed"] = json!(1);
            status["conditions"] = json!([
                condition("FailureTarget", "BackoffLimitExceeded", MSG_BACKOFF),
                condition("Failed", "BackoffLimitExceeded", MSG_BACKOFF),
            ]);
        }
    }
    store
        .modify(&resources::JOBS, ns, &name, |j| j["status"] = status)
        .map_err(|e| anyhow!("cannot finish Job {name}: {}", e.message))?;
    store.backdate(&resources::JOBS, ns, &name, p.scheduled);
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::controllers::cronjob;
    use crate::controllers::job::finished_type;
    use crate::scenario;
    use crate::store::parse_time;
    use crate::test_support::test_ctx;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    /// The seed as of `now`, its history included.
    fn seed_at(now: DateTime<Utc>) -> std::sync::Arc<Store> {
        let store = Store::new(100_000);
        scenario::load_at(&store, "seed", now).expect("the seed scenario applies");
        store
    }

    fn jobs_of(store: &Store, ns: &str, cronjob: &str) -> Vec<Value> {
        let mut jobs: Vec<Value> = store
            .list(&resources::JOBS, Some(ns))
            .into_iter()
            .filter(|j| j["metadata"]["ownerReferences"][0]["name"] == cronjob)
            .map(|j| (*j).clone())
            .collect();
        jobs.sort_by_key(|j| meta_str(j, "creationTimestamp").to_string());
        jobs.reverse();
        jobs
    }

    fn time(v: &Value) -> DateTime<Utc> {
        v.as_str().and_then(parse_time).expect("a time")
    }

    #[test]
    fn the_selfmonitor_backup_has_four_recent_successes_and_an_older_failure() {
        let now = at(2026, 3, 5, 9, 0, 0);
        let store = seed_at(now);
        let jobs = jobs_of(&store, "selfmonitor", "postgres-backup");
        let names: Vec<&str> = jobs.iter().map(|j| meta_str(j, "name")).collect();
        // 06:00, 00:00, 18:00 and 12:00 succeeded; 06:00 the day before failed.
        let minutes = |t: DateTime<Utc>| format!("postgres-backup-{}", t.timestamp() / 60);
        assert_eq!(
            names,
            [
                minutes(at(2026, 3, 5, 6, 0, 0)),
                minutes(at(2026, 3, 5, 0, 0, 0)),
                minutes(at(2026, 3, 4, 18, 0, 0)),
                minutes(at(2026, 3, 4, 12, 0, 0)),
                minutes(at(2026, 3, 4, 6, 0, 0)),
            ]
        );
        let kinds: Vec<_> = jobs.iter().map(finished_type).collect();
        assert_eq!(
            kinds,
            [
                Some("Complete"),
                Some("Complete"),
                Some("Complete"),
                Some("Complete"),
                Some("Failed")
            ]
        );
        for j in &jobs {
            let created = time(&j["metadata"]["creationTimestamp"]);
            let start = time(&j["status"]["startTime"]);
            let owner = &j["metadata"]["ownerReferences"][0];
            assert_eq!(owner["kind"], "CronJob");
            assert_eq!(owner["controller"], true);
            assert_eq!(start - created, chrono::Duration::seconds(1));
            assert_eq!(
                j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"],
                fmt_time(created)
            );
            if finished_type(j) == Some("Complete") {
                let took = time(&j["status"]["completionTime"]) - start;
                assert!((38..150).contains(&took.num_seconds()), "{took}");
                assert_eq!(j["status"]["succeeded"], 1);
            } else {
                assert!(j["status"]["completionTime"].is_null());
                assert_eq!(j["status"]["failed"], 1);
                assert_eq!(
                    j["status"]["conditions"][1]["reason"],
                    "BackoffLimitExceeded"
                );
            }
        }
        let cj = store
            .get(&resources::CRONJOBS, "selfmonitor", "postgres-backup")
            .expect("the CronJob");
        assert_eq!(
            time(&cj["status"]["lastScheduleTime"]),
            at(2026, 3, 5, 6, 0, 0)
        );
        assert_eq!(
            cj["status"]["lastSuccessfulTime"],
            jobs[0]["status"]["completionTime"]
        );
        assert!(time(&cj["metadata"]["creationTimestamp"]) < at(2026, 3, 4, 6, 0, 0));
    }

    #[test]
    fn the_vector_backup_last_succeeded_three_days_ago_and_failed_since() {
        let now = at(2026, 3, 5, 9, 0, 0);
        let store = seed_at(now);
        let jobs = jobs_of(&store, "migrate-platform", "postgres-vector-backup");
        // The newest failure (today 02:00) and seven successes, the newest
        // on the 2nd: the two failures between are past the history limit.
        assert_eq!(jobs.len(), 8);
        assert_eq!(finished_type(&jobs[0]), Some("Failed"));
        assert_eq!(
            time(&jobs[0]["metadata"]["creationTimestamp"]),
            at(2026, 3, 5, 2, 0, 0)
        );
        assert!(
            jobs[1..]
                .iter()
                .all(|j| finished_type(j) == Some("Complete"))
        );
        assert_eq!(
            time(&jobs[1]["metadata"]["creationTimestamp"]),
            at(2026, 3, 2, 2, 0, 0)
        );
        let cj = store
            .get(
                &resources::CRONJOBS,
                "migrate-platform",
                "postgres-vector-backup",
            )
            .expect("the CronJob");
        let last_ok = time(&cj["status"]["lastSuccessfulTime"]);
        assert_eq!(last_ok, time(&jobs[1]["status"]["completionTime"]));
        assert!(now - last_ok > chrono::Duration::days(3), "{last_ok}");
        assert_eq!(
            time(&cj["status"]["lastScheduleTime"]),
            at(2026, 3, 5, 2, 0, 0)
        );
    }

    #[test]
    fn a_run_still_going_at_start_ends_then_and_one_not_started_is_left() {
        // 02:00:30: today's run has started and is cut short at `now`.
        let now = at(2026, 3, 5, 2, 0, 30);
        let store = seed_at(now);
        let jobs = jobs_of(&store, "migrate-platform", "postgres-vector-backup");
        assert_eq!(
            time(&jobs[0]["metadata"]["creationTimestamp"]),
            at(2026, 3, 5, 2, 0, 0)
        );
        assert_eq!(
            time(&jobs[0]["status"]["conditions"][1]["lastTransitionTime"]),
            now
        );
        // 02:00:00 exactly: the controller has yet to start today's run.
        let now = at(2026, 3, 5, 2, 0, 0);
        let store = seed_at(now);
        let jobs = jobs_of(&store, "migrate-platform", "postgres-vector-backup");
        assert_eq!(
            time(&jobs[0]["metadata"]["creationTimestamp"]),
            at(2026, 3, 4, 2, 0, 0)
        );
        assert!(
            jobs.iter()
                .all(|j| time(&j["metadata"]["creationTimestamp"]) < now)
        );
    }

    #[test]
    fn the_cronjob_controller_keeps_the_history_then_schedules_and_prunes() {
        let now = at(2026, 3, 5, 9, 0, 0);
        let ctx = test_ctx(&[]);
        scenario::load_at(&ctx.store, "seed", now).expect("the seed scenario applies");
        let (ns, name) = ("selfmonitor", "postgres-backup");
        let cj = || {
            ctx.store
                .get(&resources::CRONJOBS, ns, name)
                .expect("the CronJob")
        };
        let before = jobs_of(&ctx.store, ns, name);
        // At start: nothing to run, nothing to prune; it wakes at 12:00.
        let wake = cronjob::sync(&ctx, &cj(), now).expect("a next schedule");
        assert_eq!(wake.as_secs(), 3 * 3600);
        assert_eq!(jobs_of(&ctx.store, ns, name), before);

        // 12:00: the next run, then its success prunes the oldest one.
        let noon = at(2026, 3, 5, 12, 0, 1);
        cronjob::sync(&ctx, &cj(), noon);
        let jobs = jobs_of(&ctx.store, ns, name);
        assert_eq!(jobs.len(), 6);
        let new = meta_str(&jobs[0], "name").to_string();
        assert_eq!(new, format!("postgres-backup-{}", noon.timestamp() / 60));
        ctx.store
            .modify(&resources::JOBS, ns, &new, |j| {
                j["status"] = json!({"succeeded": 1, "completionTime": fmt_time(noon),
                    "startTime": fmt_time(noon),
                    "conditions": [{"type": "Complete", "status": "True"}]});
            })
            .expect("the run finishes");
        cronjob::sync(&ctx, &cj(), noon + chrono::Duration::minutes(1));
        let after: Vec<String> = jobs_of(&ctx.store, ns, name)
            .iter()
            .map(|j| meta_str(j, "name").to_string())
            .collect();
        let mut want: Vec<String> = before[..3]
            .iter()
            .map(|j| meta_str(j, "name").to_string())
            .collect();
        want.insert(0, new);
        want.push(meta_str(&before[4], "name").to_string());
        assert_eq!(after, want, "the oldest success goes, the failure stays");
    }
}
