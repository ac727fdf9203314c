//! The seed scenario starts with a backup history, as a cluster that has
//! run for days has: `kubedeck backup list -A` on a fresh seed simulator
//! reports the migrate-platform backup stale (last success three daily runs
//! ago, failures since) with a non-zero exit and the selfmonitor backup
//! fresh; kubectl lists the finished Jobs and the CronJobs' last schedule.
//! Without -n or -A the list covers every namespace too, as its help says,
//! so a monitoring check written that way fires.

use chrono::{DateTime, Duration, Timelike, Utc};
use kubedeck_kube::duration;
use kubedeck_sim::config::SimConfig;

/// The latest time at or before `now` whose hour is a multiple of `every`
/// hours past `offset`, at minute 0 (`0 */6 * * *`, `0 2 * * *`).
fn last_fire(now: DateTime<Utc>, every: u32, offset: u32) -> DateTime<Utc> {
    let hour = now
        .with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .expect("a whole hour");
    (0..48)
        .map(|h| hour - Duration::hours(h))
        .find(|t| t.hour() >= offset && (t.hour() - offset).is_multiple_of(every))
        .expect("a fire time within two days")
}

/// "78h42m ago" as a duration.
fn ago(cell: &str) -> Duration {
    let text = cell
        .strip_suffix(" ago")
        .unwrap_or_else(|| panic!("not an age: {cell:?}"));
    Duration::from_std(duration::parse(text).unwrap_or_else(|e| panic!("{cell:?}: {e}")))
        .expect("a duration in range")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_seed_has_a_stale_and_a_fresh_backup_with_their_history() {
    crate::common::require_kubectl();
    // Both schedules fire at minute 0: a start in its first seconds would
    // see the CronJob controller begin a fresh run beside the history.
    let t = Utc::now();
    if t.minute() == 0 && t.second() < 10 {
        tokio::time::sleep(std::time::Duration::from_secs(11 - u64::from(t.second()))).await;
    }
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    let now = Utc::now();

    let out = crate::common::kubedeck(&ts, &["backup", "list", "-A"]).await;
    assert!(
        !out.success,
        "a stale backup fails the list:\n{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("1 backup is stale: migrate-platform/postgres-vector-backup"),
        "{}",
        out.stderr
    );
    let rows = crate::common::columns(&out.stdout);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["NAME"] == name)
            .unwrap_or_else(|| panic!("no backup {name}:\n{}", out.stdout))
    };

    // Daily at 02:00: succeeded three runs before the latest one, a run of
    // 130 to 260 seconds starting a second after its schedule.
    let vector = row("postgres-vector-backup");
    assert_eq!(vector["FRESHNESS"], "STALE", "{vector:?}");
    assert!(vector["LAST JOB"].ends_with(" failed"), "{vector:?}");
    let success = last_fire(now, 24, 2) - Duration::days(3);
    let age = ago(&vector["LAST SUCCESS"]);
    let (newest, oldest) = (
        now - (success + Duration::seconds(261)),
        now - (success + Duration::seconds(131)) + Duration::minutes(1),
    );
    assert!(
        age > Duration::days(3) && newest - Duration::minutes(1) <= age && age <= oldest,
        "last success {age} ago, expected {newest}..{oldest}"
    );

    // Every 6 hours: the latest run succeeded, in 38 to 150 seconds.
    let selfmonitor = row("postgres-backup");
    assert_eq!(selfmonitor["FRESHNESS"], "fresh", "{selfmonitor:?}");
    assert!(
        selfmonitor["LAST JOB"].ends_with(" succeeded"),
        "{selfmonitor:?}"
    );
    let age = ago(&selfmonitor["LAST SUCCESS"]);
    let since_fire = now - last_fire(now, 6, 0);
    assert!(
        age <= since_fire && age >= since_fire - Duration::seconds(152) - Duration::minutes(1),
        "last success {age} ago, the last fire {since_fire} ago"
    );

    // kubectl: the history within the limits, finished, with no pods.
    let jobs = ts.kubectl(&["get", "jobs", "-A"]).await.ok();
    let jobs = crate::common::columns(&jobs);
    let count = |ns: &str, status: &str| {
        jobs.iter()
            .filter(|j| j["NAMESPACE"] == ns && j["STATUS"] == status)
            .count()
    };
    assert_eq!(count("migrate-platform", "Complete"), 7, "{jobs:?}");
    assert_eq!(count("migrate-platform", "Failed"), 1, "{jobs:?}");
    assert_eq!(count("selfmonitor", "Complete"), 4, "{jobs:?}");
    assert_eq!(count("selfmonitor", "Failed"), 1, "{jobs:?}");
    let pods = ts
        .kubectl(&[
            "get",
            "pods",
            "-A",
            "-l",
            "batch.kubernetes.io/job-name",
            "-o",
            "name",
        ])
        .await
        .ok();
    assert!(
        pods.trim().is_empty(),
        "finished Jobs start no pods: {pods}"
    );
    let cronjobs = ts.kubectl(&["get", "cronjobs", "-A"]).await.ok();
    for cj in crate::common::columns(&cronjobs) {
        assert_ne!(cj["LAST SCHEDULE"], "<none>", "{cj:?}");
        assert_eq!(cj["ACTIVE"], "0", "{cj:?}");
    }
}

/// The issue's case: `backup list` with neither -n nor -A printed "No
/// backup CronJobs in namespace default" and exited 0 while a backup was
/// stale elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_list_covers_every_namespace_by_default() {
    let t = Utc::now();
    if t.minute() == 0 && t.second() < 10 {
        tokio::time::sleep(std::time::Duration::from_secs(11 - u64::from(t.second()))).await;
    }
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    let out = crate::common::kubedeck(&ts, &["backup", "list"]).await;
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("1 backup is stale: migrate-platform/postgres-vector-backup"),
        "{}",
        out.stderr
    );
    let listed: Vec<(String, String)> = crate::common::columns(&out.stdout)
        .iter()
        .map(|r| (r["NAMESPACE"].clone(), r["NAME"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            ("migrate-platform".into(), "postgres-vector-backup".into()),
            ("selfmonitor".into(), "postgres-backup".into()),
        ]
    );
    // -n narrows it: the fresh one alone passes.
    let one = crate::common::kubedeck(&ts, &["backup", "list", "-n", "selfmonitor"]).await;
    assert!(one.success, "{}{}", one.stdout, one.stderr);
    assert!(
        !one.stdout.contains("postgres-vector-backup"),
        "{}",
        one.stdout
    );
}
