//! The seed scenario's backup history, read as the console's backups view
//! and `kubedeck backup list` read it: one backup stale, one fresh.

use chrono::{DateTime, TimeZone as _, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kubedeck_core::ops::backups::{BackupInfo, Freshness, JobState, ago};
use kubedeck_sim::resources;
use kubedeck_sim::scenario;
use kubedeck_sim::store::Store;

/// The seed as of `now`, its history included.
fn seed_at(now: DateTime<Utc>) -> std::sync::Arc<Store> {
    let store = Store::new(100_000);
    scenario::load_at(&store, "seed", now).expect("the seed scenario applies");
    store
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// The seed's backups as the console's view and `kubedeck backup list`
/// read them.
fn backup_info(store: &Store, ns: &str, name: &str, now: DateTime<Utc>) -> BackupInfo {
    let cj = store
        .get(&resources::CRONJOBS, ns, name)
        .expect("the CronJob");
    let cj: CronJob = serde_json::from_value((*cj).clone()).expect("a CronJob");
    let jobs: Vec<Job> = store
        .list(&resources::JOBS, Some(ns))
        .into_iter()
        .map(|j| serde_json::from_value((*j).clone()).expect("a Job"))
        .collect();
    BackupInfo::of(&cj, &jobs, now)
}

#[test]
fn the_backups_read_as_one_stale_and_one_fresh_with_their_runs() {
    let now = at(2026, 3, 5, 9, 0, 0);
    let store = seed_at(now);

    let vector = backup_info(&store, "migrate-platform", "postgres-vector-backup", now);
    assert_eq!(vector.freshness, Freshness::Stale);
    let last = vector.last_success.expect("a success");
    assert_eq!(ago(last, now).split('h').next(), Some("78"), "{last}");
    let states: Vec<JobState> = vector.jobs.iter().map(|r| r.state).collect();
    assert_eq!(states[0], JobState::Failed);
    assert!(states[1..].iter().all(|s| *s == JobState::Succeeded));
    for run in &vector.jobs {
        let took = run.duration().expect("a finished run").as_secs();
        let range = match run.state {
            JobState::Failed => 55..100,
            _ => 130..260,
        };
        assert!(range.contains(&took), "{}: {took}s", run.name);
    }

    let selfmonitor = backup_info(&store, "selfmonitor", "postgres-backup", now);
    assert_eq!(selfmonitor.freshness, Freshness::Fresh);
    let last = selfmonitor.last_success.expect("a success");
    assert!(now - last < chrono::Duration::hours(3), "{last}");
    assert_eq!(
        selfmonitor.last_job().map(|r| r.state),
        Some(JobState::Succeeded)
    );
    assert_eq!(selfmonitor.jobs.len(), 5);
}
