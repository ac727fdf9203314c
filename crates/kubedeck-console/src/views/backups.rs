//! Backups: the CronJobs that are database backups (by the configured name
//! patterns or the `kubedeck.io/backup=true` label), with their schedule in
//! words, last success, freshness and last Job; the detail pane lists the
//! recent Jobs. Everything comes from the watch cache.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::runtime::reflector::ObjectRef;

use super::{
    Cell, Column, Drill, Keep, Query, RowKey, Scope, SortKey, Sources, TableView, as_json, col,
    finish,
};
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::theme::Role;
use kubedeck_core::ops::backups::{BackupInfo, Freshness, JobRun, JobState, is_backup};
use kubedeck_kube::age::human_duration;

pub(crate) struct BackupsView;

const COLUMNS: &[Column] = &[
    col("NAMESPACE", 10, false).keep(Keep::Whole).priority(2),
    col("NAME", 12, false).keep(Keep::End).priority(0),
    col("SCHEDULE", 10, false).keep(Keep::Text).priority(4),
    col("CRON", 9, false).keep(Keep::Whole).priority(6),
    col("SUSPEND", 7, false).keep(Keep::Whole).priority(5),
    col("SUCCEEDED", 9, true).keep(Keep::Whole).priority(3),
    col("FRESHNESS", 10, false).keep(Keep::Head).priority(1),
    col("LAST JOB", 9, false).keep(Keep::End).priority(5),
    col("TOOK", 4, true).keep(Keep::Whole).priority(6),
];

/// Recent Jobs the detail pane lists, under its column header.
const HISTORY: usize = 6;

fn cronjob(cache: &Cache, key: &RowKey) -> Option<Arc<CronJob>> {
    cache.cronjobs.get(&ObjectRef::new(&key.1).within(&key.0))
}

/// Whether the CronJob is a backup under the configured patterns.
fn is_backup_cronjob(patterns: &[String], cj: &CronJob) -> bool {
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    is_backup(
        cj.metadata.name.as_deref().unwrap_or_default(),
        cj.metadata.labels.as_ref(),
        &patterns,
    )
}

/// The uid of the CronJob controlling a Job.
fn owner_uid(j: &Job) -> Option<&str> {
    j.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true) && o.kind == "CronJob")
        .map(|o| o.uid.as_str())
}

/// The Jobs each of `uids` controls, in one pass over the cache.
fn jobs_by_owner(cache: &Cache, uids: &[&str]) -> HashMap<String, Vec<Job>> {
    let mut out: HashMap<String, Vec<Job>> = HashMap::new();
    for j in cache.jobs.state() {
        if let Some(uid) = owner_uid(&j).filter(|u| uids.contains(u)) {
            out.entry(uid.to_string()).or_default().push((*j).clone());
        }
    }
    out
}

/// One backup as the view shows it, from the CronJob and its Jobs.
pub(crate) fn info(cache: &Cache, cj: &CronJob, now: DateTime<Utc>) -> BackupInfo {
    let uid = cj.metadata.uid.as_deref().unwrap_or_default();
    let jobs = jobs_by_owner(cache, &[uid]).remove(uid).unwrap_or_default();
    BackupInfo::of(cj, &jobs, now)
}

pub(crate) fn freshness_cell(f: Freshness) -> Cell {
    match f {
        Freshness::Fresh => Cell::new("fresh", Role::Ok),
        Freshness::Stale => Cell::new("stale", Role::Danger),
        Freshness::NoRunYet => Cell::new("no run yet", Role::Muted),
        Freshness::Unknown => Cell::new("unknown", Role::Warning),
    }
}

pub(crate) fn state_role(s: JobState) -> Role {
    match s {
        JobState::Succeeded => Role::Ok,
        JobState::Failed => Role::Danger,
        JobState::Running => Role::Warning,
    }
}

/// A run's duration: start to end, or to now while it runs.
pub(crate) fn run_duration(run: &JobRun, now: DateTime<Utc>) -> Option<chrono::Duration> {
    // Only a running job's clock is still going; a finished one with no
    // recorded end has no known duration.
    let end = match (run.state, run.finished) {
        (_, Some(end)) => end,
        (JobState::Running, None) => now,
        _ => return None,
    };
    Some(end - run.started?)
}

fn ago(t: Option<DateTime<Utc>>, now: DateTime<Utc>, none: &str) -> String {
    t.map_or_else(
        || none.to_string(),
        |t| format!("{} ago", human_duration(now - t)),
    )
}

fn duration_text(run: Option<&JobRun>, now: DateTime<Utc>) -> String {
    run.and_then(|r| run_duration(r, now))
        .map_or_else(|| "-".into(), human_duration)
}

impl TableView for BackupsView {
    fn title(&self) -> &'static str {
        "Backups"
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn depends_on(&self) -> &'static [Kind] {
        &[Kind::CronJob, Kind::Job]
    }

    /// The schedule in words can be long.
    fn flex_column(&self) -> usize {
        2
    }

    fn detail_title(&self) -> &'static str {
        "Recent jobs"
    }

    fn rows(&self, src: Sources<'_>, query: &Query, now: DateTime<Utc>) -> Vec<RowKey> {
        let cache = src.cache;
        let cronjobs: Vec<Arc<CronJob>> = cache
            .cronjobs
            .state()
            .into_iter()
            .filter(|c| {
                is_backup_cronjob(src.backup_patterns, c)
                    && super::visible_object(query, &c.metadata)
            })
            .collect();
        // Only sorting by a computed column needs the Jobs.
        let by_owner = if query.sort_column >= 5 {
            let uids: Vec<&str> = cronjobs
                .iter()
                .filter_map(|c| c.metadata.uid.as_deref())
                .collect();
            jobs_by_owner(cache, &uids)
        } else {
            HashMap::new()
        };
        let keyed = cronjobs
            .iter()
            .map(|c| {
                let key = super::key_of(&c.metadata);
                let spec = c.spec.as_ref();
                let sort = match query.sort_column {
                    0 => SortKey::Text(key.0.clone()),
                    2 => SortKey::Text(kubedeck_core::ops::backups::humanize(
                        spec.map_or("", |s| s.schedule.as_str()),
                    )),
                    3 => SortKey::Text(spec.map(|s| s.schedule.clone()).unwrap_or_default()),
                    4 => SortKey::Num(i64::from(spec.and_then(|s| s.suspend).unwrap_or(false))),
                    5..=8 => {
                        let uid = c.metadata.uid.as_deref().unwrap_or_default();
                        let jobs = by_owner.get(uid).map_or(&[][..], Vec::as_slice);
                        let b = BackupInfo::of(c, jobs, now);
                        match query.sort_column {
                            5 => SortKey::Num(b.last_success.map_or(i64::MIN, |t| t.timestamp())),
                            6 => SortKey::Text(freshness_cell(b.freshness).text),
                            7 => SortKey::Text(
                                b.last_job().map_or("", |j| j.state.word()).to_string(),
                            ),
                            _ => SortKey::Num(
                                b.last_job()
                                    .and_then(|j| run_duration(j, now))
                                    .map_or(0, |d| d.num_seconds()),
                            ),
                        }
                    }
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
        let b = info(cache, &c, now);
        let last = b.last_job();
        Some(vec![
            Cell::new(key.0.clone(), Role::Muted),
            Cell::text(key.1.clone()),
            Cell::text(b.words.clone()),
            Cell::new(b.schedule.clone(), Role::Muted),
            if b.suspended {
                Cell::new("yes", Role::Warning)
            } else {
                Cell::text("no")
            },
            Cell::text(ago(b.last_success, now, "never")),
            freshness_cell(b.freshness),
            last.map_or_else(
                || Cell::new("-", Role::Muted),
                |j| Cell::new(j.state.word(), state_role(j.state)),
            ),
            Cell::text(duration_text(last, now)),
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

    fn detail(&self, cache: &Cache, key: &RowKey, now: DateTime<Utc>) -> Option<Vec<Cell>> {
        let c = cronjob(cache, key)?;
        let b = info(cache, &c, now);
        let width = b
            .jobs
            .iter()
            .take(HISTORY)
            .map(|j| j.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(3);
        let line = |name: &str, started: &str, took: &str, result: &str| {
            format!("{name:<width$}  {started:<10}  {took:>8}  {result}")
        };
        let mut out = vec![Cell::new(
            line("JOB", "STARTED", "DURATION", "RESULT"),
            Role::Muted,
        )];
        if b.jobs.is_empty() {
            out.push(Cell::new(
                format!("no Jobs of cronjob/{} in the cluster yet", b.name),
                Role::Muted,
            ));
        }
        for j in b.jobs.iter().take(HISTORY) {
            out.push(Cell::new(
                line(
                    &j.name,
                    &ago(j.started, now, "-"),
                    &duration_text(Some(j), now),
                    j.state.word(),
                ),
                state_role(j.state),
            ));
        }
        Some(out)
    }
}
