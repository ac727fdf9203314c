//! Database backup CronJobs: which CronJobs are backups, their schedule in
//! words, freshness (stale when the last success is older than twice the
//! schedule's interval), recent Jobs, and running one now through the
//! action core, followed to its end with the pod's logs.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::{AsyncBufReadExt as _, StreamExt};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Client;
use kube::api::{Api, ListParams, LogParams};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event, watcher};
use rand::Rng as _;
use tokio::sync::mpsc;

use crate::actions::{Applied, Command, Executor, ObjectRef, plan};
use crate::config::Config;
use kubedeck_kube::cron::Schedule;
use kubedeck_kube::duration::human;

/// A CronJob with this label set to "true" is a backup whatever its name.
pub const BACKUP_LABEL: &str = "kubedeck.io/backup";
/// Name parts that make a CronJob a backup.
pub(crate) const DEFAULT_PATTERNS: &[&str] = &["backup", "dump"];
/// The label the Job controller puts on a Job's pods.
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
/// Log lines kept to show when a run fails.
const LAST_LINES: usize = 20;
/// Fire times looked at to find a schedule's interval.
const FIRES: usize = 8;

/// Whether a CronJob is a backup: its name contains a pattern, or it has
/// `kubedeck.io/backup=true`.
pub fn is_backup(name: &str, labels: Option<&BTreeMap<String, String>>, patterns: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    patterns
        .iter()
        .any(|p| lower.contains(&p.to_ascii_lowercase()))
        || labels
            .and_then(|l| l.get(BACKUP_LABEL))
            .is_some_and(|v| v == "true")
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn num(field: &str, max: u32) -> Option<u32> {
    field.parse::<u32>().ok().filter(|n| *n <= max)
}

fn day_name(field: &str) -> Option<String> {
    if let Some(d) = num(field, 7) {
        return DAYS
            .get(usize::try_from(d % 7).ok()?)
            .map(|d| (*d).to_string());
    }
    let lower = field.to_ascii_lowercase();
    DAYS.iter()
        .find(|d| d.to_ascii_lowercase().starts_with(&lower) && lower.len() == 3)
        .map(|d| (*d).to_string())
}

fn days(field: &str) -> Option<String> {
    match field.to_ascii_lowercase().as_str() {
        "1-5" | "mon-fri" => return Some("on weekdays".into()),
        "0,6" | "6,0" | "sat,sun" | "sun,sat" => return Some("on weekends".into()),
        _ => {}
    }
    let names: Option<Vec<String>> = field.split(',').map(day_name).collect();
    let names = names?;
    Some(format!("on {}", join_and(&names)))
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The times of day for minute `m` and an hour field (`2` or `0,12`).
fn times_of_day(m: u32, hours: &str) -> Option<String> {
    let hs: Option<Vec<u32>> = hours.split(',').map(|h| num(h, 23)).collect();
    let list: Vec<String> = hs?.iter().map(|h| format!("{h:02}:{m:02}")).collect();
    Some(join_and(&list))
}

/// A schedule in words for the common patterns, the raw form otherwise:
/// `0 */6 * * *` → "every 6 hours", `0 2 * * *` → "daily at 02:00".
pub fn humanize(schedule: &str) -> String {
    let raw = schedule.trim();
    let (zone, spec) = match raw.split_once(char::is_whitespace) {
        Some((prefix, rest)) if prefix.starts_with("TZ=") || prefix.starts_with("CRON_TZ=") => (
            prefix.split_once('=').map(|(_, z)| z.to_string()),
            rest.trim(),
        ),
        _ => (None, raw),
    };
    let words = words(spec).unwrap_or_else(|| spec.to_string());
    match zone {
        Some(z) => format!("{words} ({z})"),
        None => words,
    }
}

fn words(spec: &str) -> Option<String> {
    let lower = spec.to_ascii_lowercase();
    match lower.as_str() {
        "@hourly" => return Some("every hour".into()),
        "@daily" | "@midnight" => return Some("daily at 00:00".into()),
        "@weekly" => return Some("weekly on Sunday at 00:00".into()),
        "@monthly" => return Some("monthly on day 1 at 00:00".into()),
        "@yearly" | "@annually" => return Some("yearly on 1 January at 00:00".into()),
        _ => {}
    }
    if let Some(every) = lower.strip_prefix("@every ") {
        return Some(format!("every {}", every.trim()));
    }
    let f: Vec<&str> = spec.split_whitespace().collect();
    let [min, hour, dom, mon, dow] = f.as_slice() else {
        return None;
    };
    let (min, hour, dom, mon, dow) = (*min, *hour, *dom, *mon, *dow);
    if mon != "*" {
        return None;
    }
    let step = |f: &str| f.strip_prefix("*/").and_then(|n| n.parse::<u32>().ok());
    let plural = |n: u32, one: &str, many: &str| {
        if n == 1 {
            format!("every {one}")
        } else {
            format!("every {n} {many}")
        }
    };
    if dom == "*" && dow == "*" {
        if min == "*" && hour == "*" {
            return Some("every minute".into());
        }
        if let (Some(n), "*") = (step(min), hour) {
            return Some(plural(n, "minute", "minutes"));
        }
        if let Some(m) = num(min, 59) {
            if hour == "*" {
                return Some(if m == 0 {
                    "every hour".into()
                } else {
                    format!("every hour at :{m:02}")
                });
            }
            if let Some(n) = step(hour) {
                let base = plural(n, "hour", "hours");
                return Some(if m == 0 {
                    base
                } else {
                    format!("{base} at :{m:02}")
                });
            }
            return times_of_day(m, hour).map(|t| format!("daily at {t}"));
        }
        return None;
    }
    let m = num(min, 59)?;
    let at = times_of_day(m, hour)?;
    if dom == "*" {
        let d = days(dow)?;
        return Some(if d.starts_with("on week") {
            format!("{d} at {at}")
        } else {
            format!("weekly {d} at {at}")
        });
    }
    if dow == "*" {
        let day = num(dom, 31)?;
        return Some(format!("monthly on day {day} at {at}"));
    }
    None
}

/// The schedule's interval: the longest gap between its next few fire
/// times after `from`, in its time zone. Taking the longest rather than
/// just the next two keeps a weekday-only backup from going stale every
/// Monday.
pub fn interval(
    schedule: &str,
    time_zone: Option<&str>,
    from: DateTime<Utc>,
) -> Result<Duration, String> {
    let s = Schedule::parse(schedule, time_zone)?;
    let mut prev = s
        .next(from)
        .ok_or_else(|| format!("schedule {schedule:?} never fires"))?;
    let mut longest = chrono::Duration::zero();
    for _ in 1..FIRES {
        let Some(next) = s.next(prev) else { break };
        longest = longest.max(next - prev);
        prev = next;
    }
    longest
        .to_std()
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("schedule {schedule:?} fires only once"))
}

/// How recent a backup's last success is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// The last success (or, with none, the CronJob's creation) is older
    /// than twice the interval.
    Stale,
    /// No success yet, and none overdue.
    NoRunYet,
    /// The schedule could not be read.
    Unknown,
}

impl Freshness {
    pub fn word(self) -> &'static str {
        match self {
            Freshness::Fresh => "fresh",
            Freshness::Stale => "STALE",
            Freshness::NoRunYet => "no run yet",
            Freshness::Unknown => "unknown",
        }
    }
}

pub fn freshness(
    last_success: Option<DateTime<Utc>>,
    created: Option<DateTime<Utc>>,
    interval: Option<Duration>,
    now: DateTime<Utc>,
) -> Freshness {
    let Some(limit) = interval.and_then(|i| chrono::Duration::from_std(i * 2).ok()) else {
        return Freshness::Unknown;
    };
    match (last_success, created) {
        (Some(t), _) if now - t > limit => Freshness::Stale,
        (Some(_), _) => Freshness::Fresh,
        (None, Some(c)) if now - c > limit => Freshness::Stale,
        (None, _) => Freshness::NoRunYet,
    }
}

/// A k8s-openapi time (jiff) as chrono.
fn time(t: &Time) -> Option<DateTime<Utc>> {
    jiff_time(&t.0)
}

fn jiff_time(t: &k8s_openapi::jiff::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(
        t.as_second(),
        u32::try_from(t.subsec_nanosecond()).unwrap_or(0),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn word(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
}

/// One run of a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub name: String,
    pub state: JobState,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
}

impl JobRun {
    pub fn of(job: &Job) -> JobRun {
        let status = job.status.as_ref();
        let condition = |ty: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == ty && c.status == "True"))
        };
        let (state, finished) = if let Some(c) = condition("Complete") {
            (
                JobState::Succeeded,
                status
                    .and_then(|s| s.completion_time.as_ref())
                    .or(c.last_transition_time.as_ref())
                    .and_then(time),
            )
        } else if let Some(c) = condition("Failed") {
            (
                JobState::Failed,
                c.last_transition_time.as_ref().and_then(time),
            )
        } else {
            (JobState::Running, None)
        };
        JobRun {
            name: job.metadata.name.clone().unwrap_or_default(),
            state,
            started: status
                .and_then(|s| s.start_time.as_ref())
                .and_then(time)
                .or_else(|| job.metadata.creation_timestamp.as_ref().and_then(time)),
            finished,
        }
    }

    pub fn duration(&self) -> Option<Duration> {
        (self.finished? - self.started?).to_std().ok()
    }
}

/// A backup CronJob as the backups list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupInfo {
    pub namespace: String,
    pub name: String,
    pub schedule: String,
    pub words: String,
    pub time_zone: Option<String>,
    pub suspended: bool,
    pub last_success: Option<DateTime<Utc>>,
    pub interval: Option<Duration>,
    pub freshness: Freshness,
    /// Its Jobs, newest first.
    pub jobs: Vec<JobRun>,
}

impl BackupInfo {
    /// Reads a CronJob and the Jobs it owns (others in `jobs` are ignored).
    pub fn of(cj: &CronJob, jobs: &[Job], now: DateTime<Utc>) -> BackupInfo {
        let spec = cj.spec.as_ref();
        let schedule = spec.map(|s| s.schedule.clone()).unwrap_or_default();
        let time_zone = spec.and_then(|s| s.time_zone.clone());
        let uid = cj.metadata.uid.as_deref();
        let mut runs: Vec<JobRun> = jobs
            .iter()
            .filter(|j| {
                uid.is_some()
                    && j.metadata.owner_references.as_ref().is_some_and(|os| {
                        os.iter()
                            .any(|o| o.controller == Some(true) && Some(o.uid.as_str()) == uid)
                    })
            })
            .map(JobRun::of)
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.started));
        // The CronJob's status can lag its Jobs: the newer of the two wins.
        let from_jobs = runs
            .iter()
            .filter(|r| r.state == JobState::Succeeded)
            .filter_map(|r| r.finished)
            .max();
        let from_status = cj
            .status
            .as_ref()
            .and_then(|s| s.last_successful_time.as_ref())
            .and_then(time);
        let last_success = from_jobs.max(from_status);
        let interval = interval(&schedule, time_zone.as_deref(), now).ok();
        let created = cj.metadata.creation_timestamp.as_ref().and_then(time);
        BackupInfo {
            namespace: cj.metadata.namespace.clone().unwrap_or_default(),
            name: cj.metadata.name.clone().unwrap_or_default(),
            words: humanize(&schedule),
            schedule,
            time_zone,
            suspended: spec.and_then(|s| s.suspend).unwrap_or(false),
            last_success,
            interval,
            freshness: freshness(last_success, created, interval, now),
            jobs: runs,
        }
    }

    pub fn last_job(&self) -> Option<&JobRun> {
        self.jobs.first()
    }
}

/// The backup CronJobs of a namespace (None: all namespaces), by
/// namespace and name; `patterns` as `is_backup` takes them.
pub async fn discover(
    client: &Client,
    namespace: Option<&str>,
    patterns: &[String],
) -> anyhow::Result<Vec<BackupInfo>> {
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let (cjs, jobs): (Api<CronJob>, Api<Job>) = match namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let lp = ListParams::default();
    let cjs = cjs.list(&lp).await.context("cannot list CronJobs")?;
    let jobs = jobs.list(&lp).await.context("cannot list Jobs")?;
    let now = Utc::now();
    let mut out: Vec<BackupInfo> = cjs
        .items
        .iter()
        .filter(|cj| {
            is_backup(
                cj.metadata.name.as_deref().unwrap_or_default(),
                cj.metadata.labels.as_ref(),
                &patterns,
            )
        })
        .map(|cj| BackupInfo::of(cj, &jobs.items, now))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(out)
}

/// A name for a manual run, as the console names them:
/// `<cronjob>-manual-<5 random characters>`, within the 63 characters a
/// Job's name may have (it becomes a label value).
pub fn manual_job_name(cronjob: &str) -> String {
    const SUFFIX: usize = "-manual-".len() + 5;
    let mut rng = rand::rng();
    let random: String = (0..5)
        .map(|_| {
            let i = rng.random_range(0..36u32);
            char::from_digit(i, 36).unwrap_or('x')
        })
        .collect();
    let base: String = cronjob.chars().take(63 - SUFFIX).collect();
    format!("{}-manual-{random}", base.trim_end_matches(['-', '.']))
}

/// Creates a Job from the CronJob through plan → confirm → execute.
/// `typed` is the CronJob's name as the operator typed it, needed in
/// protected contexts.
pub async fn trigger(
    client: &Client,
    executor: &Executor,
    config: &Config,
    cronjob: &ObjectRef,
    typed: Option<&str>,
) -> anyhow::Result<(String, Applied)> {
    let job_name = manual_job_name(&cronjob.name);
    let cmd = Command::TriggerCronJob {
        cronjob: cronjob.clone(),
        job_name: job_name.clone(),
    };
    let confirmation = plan(client, &executor.context, config, cmd).await?;
    let confirmed = confirmation.confirm(typed)?;
    let outcome = executor.execute(confirmed).await?;
    Ok((job_name, outcome))
}

/// What following a run shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEvent {
    Pod { pod: String, phase: String },
    Log { pod: String, line: String },
}

/// How a followed run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    pub job: String,
    /// None when the run did not finish in time.
    pub state: Option<JobState>,
    pub elapsed: Duration,
    /// The Failed condition's reason and message, when it failed.
    pub message: Option<String>,
    /// The last log lines of the run's pods.
    pub last_lines: Vec<String>,
    /// Events of the Job and its pods, oldest first.
    pub events: Vec<String>,
}

impl RunResult {
    pub fn succeeded(&self) -> bool {
        self.state == Some(JobState::Succeeded)
    }
}

/// A watch event, boxed: a Job and a Pod differ much in size.
enum Seen {
    Job(Box<Result<Event<Job>, watcher::Error>>),
    Pod(Box<Result<Event<Pod>, watcher::Error>>),
}

/// Follows Job `job` until it succeeds or fails, or `timeout` passes:
/// its pods, their logs as they are written, and on failure the last log
/// lines and the events.
pub async fn follow(
    client: &Client,
    namespace: &str,
    job: &str,
    timeout: Duration,
    on_event: &mut (dyn FnMut(FollowEvent) + Send),
) -> anyhow::Result<RunResult> {
    let start = tokio::time::Instant::now();
    let deadline = start + timeout;
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let job_watch = watcher(
        jobs.clone(),
        watcher::Config::default().fields(&format!("metadata.name={job}")),
    )
    .default_backoff()
    .map(|e| Seen::Job(Box::new(e)));
    let pod_watch = watcher(
        pods.clone(),
        watcher::Config::default().labels(&format!("{JOB_NAME_LABEL}={job}")),
    )
    .default_backoff()
    .map(|e| Seen::Pod(Box::new(e)));
    let mut watches = futures::stream::select(job_watch.boxed(), pod_watch.boxed());
    let (log_tx, mut log_rx) = mpsc::unbounded_channel::<(String, String)>();
    let mut following: HashSet<String> = HashSet::new();
    let mut phases: BTreeMap<String, String> = BTreeMap::new();
    let mut last_lines: VecDeque<String> = VecDeque::new();
    let mut keep = |pod: &str, line: String, on: &mut (dyn FnMut(FollowEvent) + Send)| {
        if last_lines.len() == LAST_LINES {
            last_lines.pop_front();
        }
        last_lines.push_back(line.clone());
        on(FollowEvent::Log {
            pod: pod.to_string(),
            line,
        });
    };
    let mut ended: Option<(JobState, Option<String>)> = None;
    let mut log_tasks = Vec::new();
    while ended.is_none() {
        tokio::select! {
            item = watches.next() => match item {
                Some(Seen::Job(e)) => {
                    if let Ok(Event::Apply(j) | Event::InitApply(j)) = *e {
                        let run = JobRun::of(&j);
                        if run.state != JobState::Running {
                            ended = Some((run.state, failure_message(&j)));
                        }
                    }
                }
                Some(Seen::Pod(e)) => {
                    let Ok(Event::Apply(p) | Event::InitApply(p)) = *e else { continue };
                    let name = p.metadata.name.clone().unwrap_or_default();
                    let phase = p
                        .status
                        .as_ref()
                        .and_then(|s| s.phase.clone())
                        .unwrap_or_else(|| "Pending".into());
                    if phases.get(&name) != Some(&phase) {
                        phases.insert(name.clone(), phase.clone());
                        on_event(FollowEvent::Pod { pod: name.clone(), phase });
                    }
                    if has_started(&p) && following.insert(name.clone()) {
                        log_tasks.push(spawn_logs(pods.clone(), name, log_tx.clone()));
                    }
                }
                None => anyhow::bail!("the watch on job/{job} ended"),
            },
            Some((pod, line)) = log_rx.recv() => keep(&pod, line, on_event),
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    // The logs end with their containers: let them finish printing.
    drop(log_tx);
    let drain_until = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some((pod, line))) = tokio::time::timeout_at(drain_until, log_rx.recv()).await {
        keep(&pod, line, on_event);
    }
    for t in &log_tasks {
        t.abort();
    }
    let elapsed = start.elapsed();
    let (state, message) = match ended {
        Some((s, m)) => (Some(s), m),
        None => (None, None),
    };
    let mut result = RunResult {
        job: job.to_string(),
        state,
        elapsed,
        message,
        last_lines: last_lines.into_iter().collect(),
        events: Vec::new(),
    };
    if !result.succeeded() {
        let names: Vec<String> = phases.keys().cloned().collect();
        if result.last_lines.is_empty() {
            result.last_lines = tail_logs(&pods, &names).await;
        }
        result.events = events_of(client, namespace, job, &names).await;
    }
    Ok(result)
}

/// A failed Job's reason and message, from its Failed condition.
pub fn failure_message(job: &Job) -> Option<String> {
    let c = job
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Failed" && c.status == "True")?;
    Some(format!(
        "{}: {}",
        c.reason.as_deref().unwrap_or("Failed"),
        c.message.as_deref().unwrap_or_default()
    ))
}

/// Whether the pod's containers have logs to read.
fn has_started(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.state
                    .as_ref()
                    .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
            })
        })
}

fn spawn_logs(
    pods: Api<Pod>,
    name: String,
    tx: mpsc::UnboundedSender<(String, String)>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let lp = LogParams {
            follow: true,
            ..LogParams::default()
        };
        let stream = match pods.log_stream(&name, &lp).await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send((name, format!("(cannot read the logs: {e})")));
                return;
            }
        };
        let mut lines = stream.lines();
        while let Some(Ok(line)) = lines.next().await {
            if tx.send((name.clone(), line)).is_err() {
                return;
            }
        }
    })
}

async fn tail_logs(pods: &Api<Pod>, names: &[String]) -> Vec<String> {
    let lp = LogParams {
        tail_lines: Some(i64::try_from(LAST_LINES).unwrap_or(20)),
        ..LogParams::default()
    };
    let mut out = Vec::new();
    for n in names {
        if let Ok(text) = pods.logs(n, &lp).await {
            out.extend(text.lines().map(str::to_string));
        }
    }
    let skip = out.len().saturating_sub(LAST_LINES);
    out.split_off(skip)
}

/// The events of the Job and its pods, as `kubectl describe` lists them.
async fn events_of(client: &Client, namespace: &str, job: &str, pods: &[String]) -> Vec<String> {
    let Ok(list) = Api::<CoreEvent>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await
    else {
        return Vec::new();
    };
    let mut events: Vec<(Option<DateTime<Utc>>, u64, String)> = list
        .items
        .iter()
        .filter_map(|e| {
            let o = &e.involved_object;
            let name = o.name.as_deref()?;
            let kind = o.kind.as_deref().unwrap_or_default();
            let ours =
                (kind == "Job" && name == job) || (kind == "Pod" && pods.iter().any(|p| p == name));
            ours.then(|| {
                // Timestamps have a second's precision and come from two
                // fields: the resourceVersion orders the events as they
                // were last recorded.
                let at = e
                    .event_time
                    .as_ref()
                    .and_then(|t| jiff_time(&t.0))
                    .or_else(|| e.last_timestamp.as_ref().and_then(time));
                let rv = e
                    .metadata
                    .resource_version
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                (
                    at,
                    rv,
                    format!(
                        "{} {} {}/{}: {}",
                        e.type_.as_deref().unwrap_or("Normal"),
                        e.reason.as_deref().unwrap_or_default(),
                        kind.to_ascii_lowercase(),
                        name,
                        e.message.as_deref().unwrap_or_default()
                    ),
                )
            })
        })
        .collect();
    events.sort_by_key(|e| (e.1, e.0));
    events.into_iter().map(|(_, _, s)| s).collect()
}

/// "2h ago" style age for the list.
pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "{} ago",
        human((now - t).to_std().unwrap_or(Duration::ZERO))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn backups_are_found_by_name_or_label() {
        let mut labels = BTreeMap::new();
        assert!(is_backup("shop-Backup", None, DEFAULT_PATTERNS));
        assert!(is_backup("pg-dump-nightly", None, DEFAULT_PATTERNS));
        assert!(!is_backup("report-mailer", Some(&labels), DEFAULT_PATTERNS));
        labels.insert(BACKUP_LABEL.to_string(), "true".to_string());
        assert!(is_backup("report-mailer", Some(&labels), DEFAULT_PATTERNS));
        labels.insert(BACKUP_LABEL.to_string(), "false".to_string());
        assert!(!is_backup("report-mailer", Some(&labels), DEFAULT_PATTERNS));
    }

    #[test]
    fn common_schedules_read_as_words() {
        for (cron, words) in [
            ("0 */6 * * *", "every 6 hours"),
            ("0 2 * * *", "daily at 02:00"),
            ("30 1 * * *", "daily at 01:30"),
            ("0 0,12 * * *", "daily at 00:00 and 12:00"),
            ("*/15 * * * *", "every 15 minutes"),
            ("* * * * *", "every minute"),
            ("0 * * * *", "every hour"),
            ("5 * * * *", "every hour at :05"),
            ("0 3 * * 0", "weekly on Sunday at 03:00"),
            ("0 3 * * 1-5", "on weekdays at 03:00"),
            ("0 4 1 * *", "monthly on day 1 at 04:00"),
            ("@daily", "daily at 00:00"),
            ("@every 5s", "every 5s"),
            (
                "CRON_TZ=Europe/Paris 0 2 * * *",
                "daily at 02:00 (Europe/Paris)",
            ),
            ("0 2 * 1 *", "0 2 * 1 *"),
            ("15 2 L * *", "15 2 L * *"),
        ] {
            assert_eq!(humanize(cron), words, "{cron}");
        }
    }

    #[test]
    fn the_interval_comes_from_the_fire_times() {
        let now = at(2026, 3, 4, 10, 17);
        assert_eq!(interval("0 */6 * * *", None, now), Ok(6 * HOUR));
        assert_eq!(interval("0 2 * * *", None, now), Ok(24 * HOUR));
        assert_eq!(
            interval("@every 5m", None, now),
            Ok(Duration::from_secs(300))
        );
        // Weekdays only: the weekend gap is the interval.
        assert_eq!(interval("0 3 * * 1-5", None, now), Ok(72 * HOUR));
        assert!(interval("not a schedule", None, now).is_err());
        assert!(interval("0 2 * * *", Some("Mars/Olympus"), now).is_err());
    }

    #[test]
    fn time_zones_with_daylight_saving_change_the_interval() {
        // Europe/Paris goes back to winter time on 25 October 2026: the
        // daily 02:30 run (00:30 UTC in summer, 01:30 UTC in winter) is
        // 25 hours after the one before it.
        let before = at(2026, 10, 22, 12, 0);
        let utc = interval("30 2 * * *", None, before).unwrap();
        let paris = interval("30 2 * * *", Some("Europe/Paris"), before).unwrap();
        let prefixed = interval("CRON_TZ=Europe/Paris 30 2 * * *", None, before).unwrap();
        assert_eq!(utc, 24 * HOUR);
        assert_eq!(paris, 25 * HOUR);
        assert_eq!(prefixed, 25 * HOUR);
    }

    #[test]
    fn freshness_is_stale_after_two_intervals() {
        let now = at(2026, 3, 4, 10, 0);
        let six = Some(6 * HOUR);
        let day = Some(24 * HOUR);
        let ago = |h: i64| Some(now - chrono::Duration::hours(h));
        // Every 6 hours: 11 h since the last success is fine, 13 h is not.
        assert_eq!(freshness(ago(11), ago(100), six, now), Freshness::Fresh);
        assert_eq!(freshness(ago(13), ago(100), six, now), Freshness::Stale);
        // Daily at 02:00: yesterday's run is fresh, three days ago is stale.
        assert_eq!(freshness(ago(32), ago(100), day, now), Freshness::Fresh);
        assert_eq!(freshness(ago(72), ago(100), day, now), Freshness::Stale);
        // Never succeeded: stale once the CronJob is older than two intervals.
        assert_eq!(freshness(None, ago(5), six, now), Freshness::NoRunYet);
        assert_eq!(freshness(None, ago(50), day, now), Freshness::Stale);
        assert_eq!(freshness(ago(1), None, None, now), Freshness::Unknown);
    }

    #[test]
    fn a_cronjob_reads_its_own_jobs_and_the_newest_success() {
        let now = at(2026, 3, 4, 10, 0);
        let cj: CronJob = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "shop-backup", "namespace": "db", "uid": "cj1",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"schedule": "0 */6 * * *", "suspend": true,
                     "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}},
            "status": {"lastSuccessfulTime": "2026-03-03T18:00:40Z"},
        }))
        .unwrap();
        let job = |name: &str, owner: &str, start: &str, cond: &str, end: &str| -> Job {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "ownerReferences": [{"apiVersion": "batch/v1",
                    "kind": "CronJob", "name": "x", "uid": owner, "controller": true}]},
                "status": {"startTime": start, "completionTime": if cond == "Complete" {Some(end)} else {None},
                           "conditions": [{"type": cond, "status": "True", "lastTransitionTime": end}]},
            }))
            .unwrap()
        };
        let jobs = vec![
            job(
                "a",
                "cj1",
                "2026-03-04T00:00:00Z",
                "Complete",
                "2026-03-04T00:01:30Z",
            ),
            job(
                "b",
                "cj1",
                "2026-03-04T06:00:00Z",
                "Failed",
                "2026-03-04T06:00:20Z",
            ),
            job(
                "c",
                "other",
                "2026-03-04T09:00:00Z",
                "Complete",
                "2026-03-04T09:00:10Z",
            ),
        ];
        let info = BackupInfo::of(&cj, &jobs, now);
        assert_eq!(info.words, "every 6 hours");
        assert!(info.suspended);
        assert_eq!(info.jobs.len(), 2, "job c belongs to another CronJob");
        let last = info.last_job().unwrap();
        assert_eq!((last.name.as_str(), last.state), ("b", JobState::Failed));
        assert_eq!(last.duration(), Some(Duration::from_secs(20)));
        assert_eq!(
            info.last_success,
            Some(at(2026, 3, 4, 0, 1) + chrono::Duration::seconds(30))
        );
        assert_eq!(info.freshness, Freshness::Fresh);
        let later = BackupInfo::of(&cj, &jobs, now + chrono::Duration::hours(3));
        assert_eq!(later.freshness, Freshness::Stale);
    }

    #[test]
    fn manual_job_names_fit_in_a_label() {
        let n = manual_job_name(&"x".repeat(80));
        assert_eq!(n.len(), 63);
        assert!(n.contains("-manual-"));
        let short = manual_job_name("shop-backup");
        assert!(
            short.starts_with("shop-backup-manual-") && short.len() == 24,
            "{short}"
        );
    }
}
