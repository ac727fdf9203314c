//! Following a backup run after "backup now" in the backups view: a pane
//! with the Job's pods, the elapsed time, its pod's log as it streams, and
//! the result; on failure the last log lines and the events. The Job, its
//! pods and the events come from the watch cache; only the log is a
//! stream, which the runtime starts and stops on `update`'s effects
//! (`FollowBackupLogs`, `StopBackupLogs`) and reports as `Msg::BackupLog`.

use std::collections::VecDeque;

use crate::cluster::SlimPod;
use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::batch::v1::Job;
use kube::Client;
use kube::runtime::reflector::ObjectRef as StoreRef;
use tokio::task::JoinHandle;

use crate::cluster::{Cache, Kind};
use crate::input::action::{Action, View};
use crate::state::{AppState, Body};
use crate::theme::Role;
use crate::update::{Effect, Msg, Updated};
use crate::view_model::PanelVm;
use crate::views::{Cell, event_time, events_for, truncate};
use kubedeck_core::actions::Command;
use kubedeck_core::logs::buffer::LineKind;
use kubedeck_core::logs::stream::{self, LogSource, StreamOptions, WorkloadKind};
use kubedeck_core::ops::backups::{JobRun, JobState, failure_message};
use kubedeck_kube::age::human_duration;

/// Log lines kept per run; the pane shows the last that fit.
const KEEP_LINES: usize = 500;
/// Pods and events listed at most.
const MAX_PODS: usize = 3;
const MAX_EVENTS: usize = 6;
/// The longest line shown; the terminal cuts what does not fit anyway.
const LINE_CHARS: usize = 200;
/// The kinds whose changes the pane shows.
pub(crate) const KINDS: &[Kind] = &[Kind::Job, Kind::Pod, Kind::Event];

/// A backup Job being followed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BackupRun {
    pub namespace: String,
    pub cronjob: String,
    pub job: String,
    /// When the console heard the Job was created; the elapsed time counts
    /// from here until the Job reports its own start.
    pub created: DateTime<Utc>,
    /// (text, is a note from the log stream rather than the container).
    pub logs: VecDeque<(String, bool)>,
}

/// What the runtime streams the log of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFollow {
    pub(crate) namespace: String,
    pub(crate) job: String,
}

/// After a backup-now from the backups view: opens the run pane over it
/// and asks for the Job's log.
pub(crate) fn on_executed(
    state: &mut AppState,
    command: &Command,
    result: &Result<String, String>,
    now: DateTime<Utc>,
) -> Vec<Effect> {
    let Command::TriggerCronJob { cronjob, job_name } = command else {
        return Vec::new();
    };
    let top = state.screen();
    if result.is_err() || top.view != View::Backups || top.covered() {
        return Vec::new();
    }
    let run = BackupRun {
        namespace: cronjob.namespace.clone(),
        cronjob: cronjob.name.clone(),
        job: job_name.clone(),
        created: now,
        logs: VecDeque::new(),
    };
    state.push_over(format!("run {job_name}"), Body::BackupRun(run));
    vec![Effect::FollowBackupLogs(BackupFollow {
        namespace: cronjob.namespace.clone(),
        job: job_name.clone(),
    })]
}

/// A log line of a followed run; lines of a run no longer shown are dropped.
pub(crate) fn on_log(state: &mut AppState, job: &str, line: String, note: bool) -> Updated {
    match &mut state.screen_mut().body {
        Body::BackupRun(run) if run.job == job => {
            if run.logs.len() == KEEP_LINES {
                run.logs.pop_front();
            }
            run.logs.push_back((line, note));
            Updated::redraw()
        }
        _ => Updated::default(),
    }
}

/// Keys while the pane is shown: table keys do nothing; the rest (Esc,
/// commands, views, quit) work as anywhere.
pub(crate) fn on_action(action: &Action) -> Option<Updated> {
    (action.moves_cursor() || action.acts_on_rows()).then(Updated::default)
}

fn job_of(cache: &Cache, run: &BackupRun) -> Option<std::sync::Arc<Job>> {
    cache
        .jobs
        .get(&StoreRef::new(&run.job).within(&run.namespace))
}

/// The Job's pods, oldest first.
fn pods_of(cache: &Cache, run: &BackupRun) -> Vec<std::sync::Arc<SlimPod>> {
    let mut pods: Vec<_> = cache
        .pods
        .state()
        .into_iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(run.namespace.as_str())
                && p.metadata.labels.as_ref().is_some_and(|l| {
                    ["batch.kubernetes.io/job-name", "job-name"]
                        .iter()
                        .any(|k| l.get(*k) == Some(&run.job))
                })
        })
        .collect();
    pods.sort_by_key(|p| p.metadata.creation_timestamp.clone());
    pods
}

/// A pod's phase, with the reason of a container that waits or ended badly.
fn pod_state(p: &SlimPod) -> (String, Role) {
    let status = p.status.as_ref();
    let phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    let reason = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find_map(|c| {
            let st = c.state.as_ref()?;
            st.waiting
                .as_ref()
                .and_then(|w| w.reason.clone())
                .or_else(|| {
                    st.terminated
                        .as_ref()
                        .filter(|t| t.exit_code != 0)
                        .map(|t| {
                            format!(
                                "{} (exit {})",
                                t.reason.as_deref().unwrap_or("Error"),
                                t.exit_code
                            )
                        })
                })
        });
    let role = match phase.as_str() {
        "Succeeded" => Role::Ok,
        "Failed" => Role::Danger,
        "Running" => Role::Info,
        _ => Role::Warning,
    };
    match reason {
        Some(r) => (format!("{phase}: {r}"), role),
        None => (phase, role),
    }
}

/// The run's state and its start and end, as the cache last saw the Job.
fn progress(cache: &Cache, run: &BackupRun) -> (Option<JobRun>, DateTime<Utc>) {
    let job = job_of(cache, run).map(|j| JobRun::of(&j));
    let start = job.as_ref().and_then(|j| j.started).unwrap_or(run.created);
    (job, start)
}

fn elapsed(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    human_duration((to - from).max(Duration::zero()))
}

/// The pane, in at most `height` lines.
pub(crate) fn panel(run: &BackupRun, cache: &Cache, now: DateTime<Utc>, height: usize) -> PanelVm {
    let (job, start) = progress(cache, run);
    let mut lines: Vec<Vec<Cell>> = Vec::new();
    let label = |t: &str| Cell::new(format!("{t:<9}"), Role::Muted);
    let state = job.as_ref().map(|j| j.state);
    let status = match &job {
        None => Cell::new(
            format!(
                "waiting for job/{} to appear ({} so far)",
                run.job,
                elapsed(start, now)
            ),
            Role::Muted,
        ),
        Some(j) => match j.state {
            JobState::Running => Cell::new(
                format!("running, {} elapsed", elapsed(start, now)),
                Role::Warning,
            ),
            JobState::Succeeded => Cell::new(
                format!("succeeded in {}", elapsed(start, j.finished.unwrap_or(now))),
                Role::Ok,
            ),
            JobState::Failed => {
                let why = job_of(cache, run)
                    .and_then(|j| failure_message(&j))
                    .map_or_else(String::new, |m| format!(": {m}"));
                Cell::new(
                    format!(
                        "FAILED after {}{why}",
                        elapsed(start, j.finished.unwrap_or(now))
                    ),
                    Role::Danger,
                )
            }
        },
    };
    lines.push(vec![label("Result"), status]);
    let pods = pods_of(cache, run);
    if pods.is_empty() {
        lines.push(vec![label("Pods"), Cell::new("none yet", Role::Muted)]);
    }
    for (i, p) in pods.iter().rev().take(MAX_PODS).enumerate() {
        let (text, role) = pod_state(p);
        lines.push(vec![
            label(if i == 0 { "Pods" } else { "" }),
            Cell::text(format!(
                "{}  ",
                p.metadata.name.as_deref().unwrap_or_default()
            )),
            Cell::new(text, role),
        ]);
    }
    lines.push(Vec::new());
    let failed = state == Some(JobState::Failed);
    let events = if failed {
        events(cache, run, &pods)
    } else {
        Vec::new()
    };
    let events_height = if events.is_empty() {
        0
    } else {
        events.len() + 2
    };
    let room = height
        .saturating_sub(lines.len() + 1 + events_height)
        .max(1);
    lines.push(vec![Cell::new(
        if failed { "Last log lines" } else { "Log" },
        Role::Title,
    )]);
    if run.logs.is_empty() {
        lines.push(vec![Cell::new("  (nothing yet)", Role::Muted)]);
    }
    let skip = run.logs.len().saturating_sub(room);
    for (text, note) in run.logs.iter().skip(skip) {
        lines.push(vec![Cell::new(
            format!("  {}", truncate(text, LINE_CHARS)),
            if *note { Role::Muted } else { Role::Text },
        )]);
    }
    if !events.is_empty() {
        lines.push(Vec::new());
        lines.push(vec![Cell::new("Events", Role::Title)]);
        lines.extend(events);
    }
    PanelVm {
        title: format!(
            "Backup job/{} from cronjob/{} in {}",
            run.job, run.cronjob, run.namespace
        ),
        lines,
    }
}

/// The Job's and its pods' events, oldest first, the last few.
fn events(cache: &Cache, run: &BackupRun, pods: &[std::sync::Arc<SlimPod>]) -> Vec<Vec<Cell>> {
    let mut all = events_for(cache, "Job", &run.namespace, &run.job);
    for p in pods {
        all.extend(events_for(
            cache,
            "Pod",
            &run.namespace,
            p.metadata.name.as_deref().unwrap_or_default(),
        ));
    }
    // Timestamps have whole seconds: the resourceVersion orders events
    // recorded within one.
    all.sort_by_key(|e| {
        let rv: u64 = e
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        (event_time(e), rv)
    });
    let skip = all.len().saturating_sub(MAX_EVENTS);
    all.iter()
        .skip(skip)
        .map(|e| {
            let kind = e.type_.as_deref().unwrap_or("Normal");
            let o = &e.involved_object;
            vec![Cell::new(
                truncate(
                    &format!(
                        "  {kind} {} {}/{}: {}",
                        e.reason.as_deref().unwrap_or_default(),
                        o.kind.as_deref().unwrap_or_default().to_ascii_lowercase(),
                        o.name.as_deref().unwrap_or_default(),
                        e.message.as_deref().unwrap_or_default()
                    ),
                    LINE_CHARS,
                ),
                if kind == "Warning" {
                    Role::Warning
                } else {
                    Role::Text
                },
            )]
        })
        .collect()
}

/// When the elapsed time next reads differently: the next whole second
/// while the Job runs; None once it has ended.
pub(crate) fn refresh_at(
    run: &BackupRun,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (job, start) = progress(cache, run);
    if job.is_some_and(|j| j.state != JobState::Running) {
        return None;
    }
    let secs = (now - start).num_seconds().max(0);
    Some(start + Duration::seconds(secs + 1))
}

/// Whether a run pane is still open anywhere in the drill-down; `update`
/// stops the log stream once none is, however the pane was left.
pub(crate) fn following(state: &AppState) -> bool {
    state.stack.iter().any(|s| s.backup_run().is_some())
}

/// The log stream of a run; dropping it stops the stream.
pub(crate) struct LogTask(JoinHandle<()>);

impl Drop for LogTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Streams the logs of the Job's pods (those that appear later too) and
/// hands each line to `send` as a `Msg::BackupLog`.
pub(crate) fn spawn_logs(
    client: &Client,
    follow: BackupFollow,
    send: impl Fn(Msg) -> bool + Send + 'static,
) -> LogTask {
    let mut logs = stream::follow(
        client.clone(),
        LogSource::Workload {
            namespace: follow.namespace,
            kind: WorkloadKind::Job,
            name: follow.job.clone(),
        },
        StreamOptions::default(),
    );
    LogTask(tokio::spawn(async move {
        while let Some(line) = logs.next_line().await {
            let note = matches!(line.kind, LineKind::Status(_));
            let sent = send(Msg::BackupLog {
                job: follow.job.clone(),
                line: line.text,
                note,
            });
            if !sent {
                return;
            }
        }
    }))
}
