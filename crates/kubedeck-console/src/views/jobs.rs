//! Jobs (completions, duration, status) and CronJobs (schedule, suspend,
//! active jobs, last schedule).

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::runtime::reflector::ObjectRef;
use kubedeck_core::ops::backups::JobRun;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, age, age_secs,
    as_json, col, created, finish, time, visible_object,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;

pub(crate) struct JobsView;
pub(crate) struct CronJobsView;

const JOB_COLUMNS: &[Column] = &[
    col("NAMESPACE", 10, false).keep(Keep::Whole).priority(2),
    col("NAME", 20, false).keep(Keep::End).priority(0),
    col("STATUS", 12, false).keep(Keep::Head).priority(1),
    col("COMPLETIONS", 11, true).keep(Keep::Whole).priority(3),
    col("DURATION", 8, true).keep(Keep::Whole).priority(4),
    col("AGE", 5, true).keep(Keep::Whole).priority(5),
];

const CRON_COLUMNS: &[Column] = &[
    col("NAMESPACE", 10, false).keep(Keep::Whole).priority(2),
    col("NAME", 20, false).keep(Keep::End).priority(0),
    col("SCHEDULE", 14, false).keep(Keep::Text).priority(3),
    col("SUSPEND", 7, false).keep(Keep::Whole).priority(4),
    col("ACTIVE", 6, true).keep(Keep::Whole).priority(1),
    col("LAST SCHEDULE", 13, true).keep(Keep::Whole).priority(5),
    col("AGE", 5, true).keep(Keep::Whole).priority(6),
];

fn job(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<Job>> {
    cache.jobs.get(&ObjectRef::new(&key.1).within(&key.0))
}

fn cronjob(cache: &Cache, key: &RowKey) -> Option<std::sync::Arc<CronJob>> {
    cache.cronjobs.get(&ObjectRef::new(&key.1).within(&key.0))
}

/// Complete, Failed, Suspended or Running, from the job's conditions.
pub(crate) fn job_status(j: &Job) -> (String, Role) {
    let conds = j.status.as_ref().and_then(|s| s.conditions.as_ref());
    let has = |t: &str| {
        conds
            .into_iter()
            .flatten()
            .any(|c| c.type_ == t && c.status == "True")
    };
    if has("Complete") {
        ("Complete".into(), Role::Ok)
    } else if has("Failed") {
        ("Failed".into(), Role::Danger)
    } else if has("Suspended") || j.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
        ("Suspended".into(), Role::Muted)
    } else {
        ("Running".into(), Role::Warning)
    }
}

pub(crate) fn completions(j: &Job) -> String {
    let succeeded = j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
    match j.spec.as_ref().and_then(|s| s.completions) {
        Some(c) => format!("{succeeded}/{c}"),
        None => format!(
            "{succeeded}/1 of {}",
            j.spec.as_ref().and_then(|s| s.parallelism).unwrap_or(1)
        ),
    }
}

/// From start to completion (a failed job's Failed condition), or to now
/// while it runs: what the backups view says of the same run.
fn duration(j: &Job, now: DateTime<Utc>) -> Option<chrono::Duration> {
    j.status.as_ref()?.start_time.as_ref()?;
    super::backups::run_duration(&JobRun::of(j), now)
}

impl TableView for JobsView {
    fn title(&self) -> &'static str {
        "Jobs"
    }

    fn columns(&self) -> &'static [Column] {
        JOB_COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::Job]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = cache
            .jobs
            .state()
            .iter()
            .filter(|j| visible_object(query, &j.metadata))
            .map(|j| {
                let key = super::key_of(&j.metadata);
                let sort = match query.sort_column {
                    0 => SortKey::Text(key.0.clone()),
                    2 => SortKey::Text(job_status(j).0),
                    3 => SortKey::Text(completions(j)),
                    4 => SortKey::Num(duration(j, now).map_or(0, |d| d.num_seconds())),
                    5 => SortKey::Num(-age_secs(created(&j.metadata), now)),
                    _ => SortKey::Text(key.1.clone()),
                };
                (sort, key)
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn judges_faults(&self) -> bool {
        true
    }

    /// A failed Job.
    fn fault(&self, src: Sources<'_>, key: &RowKey, _now: DateTime<Utc>) -> Option<bool> {
        let j = job(src.cache, key)?;
        Some(job_status(&j).1 == Role::Danger)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let j = job(cache, key)?;
        let (status, role) = job_status(&j);
        Some(vec![
            Cell::new(key.0.clone(), Role::Muted),
            Cell::text(key.1.clone()),
            Cell::new(status, role),
            Cell::text(completions(&j)),
            Cell::text(
                duration(&j, now).map_or_else(|| "-".into(), kubedeck_kube::age::human_duration),
            ),
            Cell::text(age(created(&j.metadata), now)),
        ])
    }

    fn enter(&self, cache: &Cache, key: &RowKey) -> Option<Drill> {
        let j = job(cache, key)?;
        let labels = j
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .and_then(|s| s.match_labels.clone())
            .unwrap_or_else(|| [("job-name".to_string(), key.1.clone())].into());
        Some(Drill {
            view: View::Pods,
            scope: Scope::Selector {
                namespace: key.0.clone(),
                labels,
            },
            crumb: format!("job/{}", key.1),
        })
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*job(cache, key)?)
    }
}

impl TableView for CronJobsView {
    fn title(&self) -> &'static str {
        "CronJobs"
    }

    fn columns(&self) -> &'static [Column] {
        CRON_COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::CronJob]
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let keyed = cache
            .cronjobs
            .state()
            .iter()
            .filter(|c| visible_object(query, &c.metadata))
            .map(|c| {
                let key = super::key_of(&c.metadata);
                let st = c.status.as_ref();
                let sort = match query.sort_column {
                    0 => SortKey::Text(key.0.clone()),
                    2 => SortKey::Text(
                        c.spec
                            .as_ref()
                            .map(|s| s.schedule.clone())
                            .unwrap_or_default(),
                    ),
                    4 => {
                        SortKey::Num(st.and_then(|s| s.active.as_ref()).map_or(0, Vec::len) as i64)
                    }
                    5 => SortKey::Num(-age_secs(
                        st.and_then(|s| s.last_schedule_time.as_ref())
                            .and_then(time),
                        now,
                    )),
                    6 => SortKey::Num(-age_secs(created(&c.metadata), now)),
                    _ => SortKey::Text(key.1.clone()),
                };
                (sort, key)
            })
            .collect();
        finish(keyed, query.descending)
    }

    fn cells(&self, src: Sources<'_>, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let cache = src.cache;
        let c = cronjob(cache, key)?;
        let spec = c.spec.as_ref();
        let st = c.status.as_ref();
        let suspended = spec.and_then(|s| s.suspend).unwrap_or(false);
        let active = st.and_then(|s| s.active.as_ref()).map_or(0, Vec::len);
        Some(vec![
            Cell::new(key.0.clone(), Role::Muted),
            Cell::text(key.1.clone()),
            Cell::text(spec.map(|s| s.schedule.clone()).unwrap_or_default()),
            Cell::new(
                if suspended { "True" } else { "False" },
                if suspended { Role::Warning } else { Role::Text },
            ),
            Cell::text(active.to_string()),
            Cell::text(
                match st
                    .and_then(|s| s.last_schedule_time.as_ref())
                    .and_then(time)
                {
                    Some(t) => age(Some(t), now),
                    None => "<none>".into(),
                },
            ),
            Cell::text(age(created(&c.metadata), now)),
        ])
    }

    fn enter(&self, _cache: &Cache, key: &RowKey) -> Option<Drill> {
        Some(Drill {
            view: View::Jobs,
            scope: Scope::Namespace(key.0.clone()),
            crumb: format!("cj/{}", key.1),
        })
    }

    fn object(&self, cache: &Cache, key: &RowKey) -> Option<serde_json::Value> {
        as_json(&*cronjob(cache, key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now, sources};

    fn texts(cells: Vec<Cell>) -> Vec<String> {
        cells.into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn jobs_show_status_completions_and_duration() {
        let cache = cluster();
        let rows = JobsView.rows(sources(&cache), &Query::default(), now());
        assert_eq!(rows.len(), 2);
        let report = JobsView
            .cells(
                sources(&cache),
                &("shop".into(), "report-29000000".into()),
                now(),
            )
            .expect("report");
        assert_eq!(texts(report)[2..], ["Complete", "1/1", "42s", "5m"]);
        let migrate = JobsView
            .cells(
                sources(&cache),
                &("payments".into(), "migrate".into()),
                now(),
            )
            .expect("migrate");
        assert_eq!(
            (migrate[2].text.as_str(), migrate[2].role),
            ("Failed", Role::Danger)
        );
    }

    #[test]
    fn a_failed_jobs_duration_ends_when_it_failed_not_now() {
        let cache = cluster();
        let key = ("payments".to_string(), "migrate".to_string());
        // Started 30m ago, failed 83s later: hours on, it still took 83s.
        let later = now() + chrono::Duration::hours(6);
        let cells = JobsView
            .cells(sources(&cache), &key, later)
            .expect("migrate");
        assert_eq!(cells[4].text, "83s");
    }

    #[test]
    fn cronjobs_show_schedule_and_last_run() {
        let cache = cluster();
        let report = CronJobsView
            .cells(sources(&cache), &("shop".into(), "report".into()), now())
            .expect("report");
        assert_eq!(
            texts(report)[2..],
            ["*/5 * * * *", "False", "0", "5m", "7d"]
        );
    }
}
