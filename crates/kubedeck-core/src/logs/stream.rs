//! Log streaming from a pod, a container or a whole workload, stern-style.
//!
//! [`follow`] resolves the target to a label (or field) selector and, when
//! following, watches the matching pods with a kube-runtime watcher: every
//! pod that appears (a replacement after a kill, a scale-up) joins without
//! any polling, and every selected container of it gets its own task reading
//! `pods/log`. Each line comes out tagged with its pod and container.
//!
//! A container's stream that ends or fails while the container still runs is
//! reconnected with exponential back-off, and a status line says so
//! (`reconnecting to web-abc (attempt 2): …`). Streams always ask for
//! timestamps and resume from the last line's second (`sinceTime` has
//! whole seconds), skipping the lines already delivered, so a reconnect
//! neither loses nor repeats lines. A container that exits waits for its
//! restart; a deleted pod's streams end with a status line, once the server
//! has sent the pod's last lines.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::io::{AsyncBufRead, AsyncBufReadExt};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, LogParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::buffer::{LineKind, LogLine, MAX_LINE_BYTES, StatusKind, cap_line, sanitize};
use super::container_state::{Standing, container_status, has_log, selected_containers, standing};

/// What to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// One pod (all or one of its containers, see [`Containers`]). A pod
    /// that is deleted and recreated under the same name, as a
    /// StatefulSet's is, joins again.
    Pod { namespace: String, name: String },
    /// Every pod matching a workload's selector.
    Workload {
        namespace: String,
        kind: WorkloadKind,
        name: String,
    },
    /// Every pod matching a label selector (`app=web,tier in (a,b)`).
    Selector { namespace: String, selector: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    Service,
}

impl WorkloadKind {
    /// The kind for a Kubernetes kind name (`Deployment`, …).
    pub fn from_kind(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "Job" => WorkloadKind::Job,
            "Service" => WorkloadKind::Service,
            _ => return None,
        })
    }

    fn api_resource(self) -> ApiResource {
        use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
        match self {
            WorkloadKind::Deployment => ApiResource::erase::<apps::Deployment>(&()),
            WorkloadKind::StatefulSet => ApiResource::erase::<apps::StatefulSet>(&()),
            WorkloadKind::DaemonSet => ApiResource::erase::<apps::DaemonSet>(&()),
            WorkloadKind::ReplicaSet => ApiResource::erase::<apps::ReplicaSet>(&()),
            WorkloadKind::Job => ApiResource::erase::<batch::Job>(&()),
            WorkloadKind::Service => ApiResource::erase::<core::Service>(&()),
        }
    }
}

/// Which containers of each pod to stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Containers {
    /// Every regular container (init and ephemeral containers are left out).
    #[default]
    All,
    /// Only the container with this name; pods without it are skipped.
    One(String),
}

/// Where the log starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Since {
    /// From the container's start.
    #[default]
    Start,
    Time(DateTime<Utc>),
    /// This many seconds before the request.
    Seconds(i64),
}

/// How to stream. Timestamps are always fetched (resuming needs them) and
/// kept in [`LogLine::time`]; whether to show them is the view's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// Keep streaming new lines, follow new pods, reconnect. Off: fetch
    /// what is there once, then the stream ends.
    pub follow: bool,
    /// The previous (crashed) container instance's log; implies no follow.
    pub previous: bool,
    pub containers: Containers,
    /// For the pods present at the start; pods joining later are streamed
    /// from their start, so a replacement's first lines are not missed.
    pub since: Since,
    /// Only the last lines of each container present at the start.
    pub tail_lines: Option<i64>,
    /// First reconnect delay; doubles per failed attempt up to
    /// `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Lines buffered between the stream tasks and the consumer; when the
    /// consumer lags, reading from the server waits.
    pub channel: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            follow: true,
            previous: false,
            containers: Containers::All,
            since: Since::Start,
            tail_lines: None,
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            channel: 1024,
        }
    }
}

/// The lines of a followed target, status notes included. Dropping it stops
/// every request it made.
pub struct LogStream {
    rx: mpsc::Receiver<LogLine>,
    task: JoinHandle<()>,
}

impl LogStream {
    /// The next line; None once the stream is over (never, when following).
    pub async fn next_line(&mut self) -> Option<LogLine> {
        self.rx.recv().await
    }

    /// A line if one is ready, without waiting (for a UI's tick).
    pub fn try_next_line(&mut self) -> Option<LogLine> {
        self.rx.try_recv().ok()
    }
}

impl Stream for LogStream {
    type Item = LogLine;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<LogLine>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for LogStream {
    fn drop(&mut self) {
        // The supervisor owns the per-container tasks in a JoinSet, which
        // aborts them as it is dropped.
        self.task.abort();
    }
}

/// Starts streaming `target`'s logs. Must be called within a Tokio
/// runtime: the streams run as tasks until the [`LogStream`] is dropped.
pub fn follow(client: Client, target: LogSource, opts: StreamOptions) -> LogStream {
    let (tx, rx) = mpsc::channel(opts.channel.max(1));
    let task = tokio::spawn(supervise(client, target, opts, tx));
    LogStream { rx, task }
}

fn note(pod: &str, container: &str, kind: StatusKind, text: String) -> LogLine {
    LogLine {
        pod: pod.into(),
        container: container.into(),
        time: Some(Utc::now()),
        text,
        kind: LineKind::Status(kind),
    }
}

/// Turns a `metav1.LabelSelector` (as JSON) into selector syntax. None when
/// it selects nothing usable (missing, or an unknown operator).
pub(crate) fn label_selector(sel: &Value) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(labels) = sel["matchLabels"].as_object() {
        for (k, v) in labels {
            parts.push(format!("{k}={}", v.as_str()?));
        }
    }
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str()?;
        let values = || -> Option<String> {
            let vs: Option<Vec<&str>> = e["values"].as_array()?.iter().map(Value::as_str).collect();
            Some(vs?.join(","))
        };
        parts.push(match e["operator"].as_str()? {
            "In" => format!("{key} in ({})", values()?),
            "NotIn" => format!("{key} notin ({})", values()?),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The label and field selectors for the target's pods.
async fn selectors(
    client: &Client,
    target: &LogSource,
) -> Result<(String, Option<String>, Option<String>), String> {
    match target {
        LogSource::Pod { namespace, name } => Ok((
            namespace.clone(),
            None,
            Some(format!("metadata.name={name}")),
        )),
        LogSource::Selector {
            namespace,
            selector,
        } => Ok((namespace.clone(), Some(selector.clone()), None)),
        LogSource::Workload {
            namespace,
            kind,
            name,
        } => {
            let ar = kind.api_resource();
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
            let obj = api
                .get_opt(name)
                .await
                .map_err(|e| format!("cannot read {} {namespace}/{name}: {e}", ar.kind))?
                .ok_or_else(|| format!("{} {namespace}/{name} not found", ar.kind))?;
            let spec_sel = &obj.data["spec"]["selector"];
            let sel = if *kind == WorkloadKind::Service {
                // A Service's selector is a plain map.
                label_selector(&serde_json::json!({ "matchLabels": spec_sel }))
            } else {
                label_selector(spec_sel)
            };
            let sel =
                sel.ok_or_else(|| format!("{} {namespace}/{name} has no pod selector", ar.kind))?;
            Ok((namespace.clone(), Some(sel), None))
        }
    }
}

/// The status line name for a target, for notes not tied to one pod.
fn target_name(target: &LogSource) -> &str {
    match target {
        LogSource::Pod { name, .. } | LogSource::Workload { name, .. } => name,
        LogSource::Selector { selector, .. } => selector,
    }
}

/// Where a container's log request starts.
#[derive(Debug, Clone, Copy)]
struct Start {
    since: Since,
    tail_lines: Option<i64>,
}

const FROM_START: Start = Start {
    since: Since::Start,
    tail_lines: None,
};

struct Shared {
    api: Api<Pod>,
    opts: StreamOptions,
    tx: mpsc::Sender<LogLine>,
}

async fn supervise(
    client: Client,
    target: LogSource,
    opts: StreamOptions,
    tx: mpsc::Sender<LogLine>,
) {
    let (namespace, labels, fields) = match selectors(&client, &target).await {
        Ok(s) => s,
        Err(e) => {
            let _ = tx
                .send(note(target_name(&target), "", StatusKind::Error, e))
                .await;
            return;
        }
    };
    let initial = Start {
        since: opts.since,
        tail_lines: opts.tail_lines,
    };
    let shared = Arc::new(Shared {
        api: Api::namespaced(client, &namespace),
        opts,
        tx,
    });
    if !shared.opts.follow || shared.opts.previous {
        fetch_once(&shared, &target, labels, fields, initial).await;
    } else {
        watch_pods(&shared, &target, labels, fields, initial).await;
    }
}

/// Fetches each matching container's log once, then returns.
async fn fetch_once(
    shared: &Arc<Shared>,
    target: &LogSource,
    labels: Option<String>,
    fields: Option<String>,
    start: Start,
) {
    let lp = ListParams {
        label_selector: labels,
        field_selector: fields,
        ..ListParams::default()
    };
    let pods = match shared.api.list(&lp).await {
        Ok(list) => list.items,
        Err(e) => {
            let text = format!("cannot list pods: {e}");
            let _ = shared
                .tx
                .send(note(target_name(target), "", StatusKind::Error, text))
                .await;
            return;
        }
    };
    if pods.is_empty() {
        let text = format!("no pods match {}", target_name(target));
        let _ = shared
            .tx
            .send(note(target_name(target), "", StatusKind::Ended, text))
            .await;
        return;
    }
    let mut tasks = JoinSet::new();
    for pod in pods {
        let name: Arc<str> = pod.metadata.name.clone().unwrap_or_default().into();
        for c in selected_containers(&pod, &shared.opts.containers) {
            let shared = shared.clone();
            let name = name.clone();
            tasks.spawn(async move {
                let container: Arc<str> = c.into();
                let mut cursor = Cursor::new(start.since);
                let lp = log_params(&shared.opts, &container, &cursor, start);
                let (_, _, result) =
                    read_stream(&shared, &name, &container, &lp, &mut cursor, None).await;
                if let Err(e) = result {
                    let _ = shared
                        .tx
                        .send(note(&name, &container, StatusKind::Ended, message(&e)))
                        .await;
                }
            });
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// One pod being followed: its latest state goes to its container tasks,
/// and dropping the entry tells them the pod is gone.
struct Followed {
    state: watch::Sender<Option<Pod>>,
    started: HashSet<String>,
}

/// Watches the target's pods and follows every selected container of each.
async fn watch_pods(
    shared: &Arc<Shared>,
    target: &LogSource,
    labels: Option<String>,
    fields: Option<String>,
    initial: Start,
) {
    let mut cfg = watcher::Config::default();
    if let Some(l) = &labels {
        cfg = cfg.labels(l);
    }
    if let Some(f) = &fields {
        cfg = cfg.fields(f);
    }
    let mut events = watcher::watcher(shared.api.clone(), cfg)
        .default_backoff()
        .boxed();
    let mut pods: HashMap<String, Followed> = HashMap::new();
    let mut tasks = JoinSet::new();
    // Pods in the first listing get the user's since/tail; later ones are
    // new and streamed from their start.
    let mut first_listing = true;
    let mut relisted: HashSet<String> = HashSet::new();
    let mut watch_failing = false;
    loop {
        let event = tokio::select! {
            ev = events.next() => ev,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            _ = shared.tx.closed() => return,
        };
        let event = match event {
            None => return,
            Some(Err(e)) => {
                if !watch_failing {
                    watch_failing = true;
                    let text = format!("watching pods failed: {e}; retrying");
                    let _ = shared
                        .tx
                        .send(note(
                            target_name(target),
                            "",
                            StatusKind::Reconnecting,
                            text,
                        ))
                        .await;
                }
                continue;
            }
            Some(Ok(ev)) => ev,
        };
        watch_failing = false;
        let start = if first_listing { initial } else { FROM_START };
        match event {
            Event::Init => relisted.clear(),
            Event::InitApply(pod) => {
                if let Some(uid) = pod.metadata.uid.clone() {
                    relisted.insert(uid);
                }
                apply(shared, &mut pods, &mut tasks, pod, start);
            }
            Event::InitDone => {
                // Pods missing from a relist were deleted while the watch
                // was down.
                pods.retain(|uid, _| relisted.contains(uid));
                if first_listing && pods.is_empty() {
                    let text = format!("no pods match {} yet; waiting", target_name(target));
                    let _ = shared
                        .tx
                        .send(note(target_name(target), "", StatusKind::Waiting, text))
                        .await;
                }
                first_listing = false;
            }
            Event::Apply(pod) => apply(shared, &mut pods, &mut tasks, pod, start),
            Event::Delete(pod) => {
                if let Some(uid) = &pod.metadata.uid {
                    pods.remove(uid);
                }
            }
        }
    }
}

/// Records a pod's new state and starts tasks for selected containers that
/// now have a log to read.
fn apply(
    shared: &Arc<Shared>,
    pods: &mut HashMap<String, Followed>,
    tasks: &mut JoinSet<()>,
    pod: Pod,
    start: Start,
) {
    let (Some(uid), Some(name)) = (pod.metadata.uid.clone(), pod.metadata.name.clone()) else {
        return;
    };
    let entry = pods.entry(uid).or_insert_with(|| Followed {
        state: watch::Sender::new(None),
        started: HashSet::new(),
    });
    let ready: Vec<String> = selected_containers(&pod, &shared.opts.containers)
        .into_iter()
        .filter(|c| !entry.started.contains(c))
        .filter(|c| container_status(&pod, c).is_some_and(has_log))
        .collect();
    entry.state.send_replace(Some(pod));
    for c in ready {
        entry.started.insert(c.clone());
        let state = entry.state.subscribe();
        tasks.spawn(follow_container(
            shared.clone(),
            name.as_str().into(),
            c.into(),
            state,
            start,
        ));
    }
}

/// Where a container's stream got to, so that a resumed stream skips what
/// was delivered: the last line's time and the texts delivered at exactly
/// that time.
struct Cursor {
    /// Lines before this are dropped (the user's since-time, to the
    /// nanosecond, where the request has whole seconds).
    not_before: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    at_last: Vec<String>,
    /// Texts at `last` still to be skipped in the resumed stream.
    skip: Vec<String>,
}

impl Cursor {
    fn new(since: Since) -> Cursor {
        Cursor {
            not_before: match since {
                Since::Time(t) => Some(t),
                _ => None,
            },
            last: None,
            at_last: Vec::new(),
            skip: Vec::new(),
        }
    }

    /// Prepares for a reconnect from the last line's second.
    fn resume(&mut self) {
        self.skip = self.at_last.clone();
    }

    /// Whether a line is new, recording it if so.
    fn accept(&mut self, time: Option<DateTime<Utc>>, text: &str) -> bool {
        let Some(t) = time else {
            return true;
        };
        if self.not_before.is_some_and(|nb| t < nb) {
            return false;
        }
        match self.last {
            Some(last) if t < last => false,
            Some(last) if t == last => {
                if let Some(i) = self.skip.iter().position(|s| s == text) {
                    self.skip.swap_remove(i);
                    false
                } else {
                    self.at_last.push(text.to_string());
                    true
                }
            }
            _ => {
                self.last = Some(t);
                self.at_last.clear();
                self.at_last.push(text.to_string());
                self.skip.clear();
                true
            }
        }
    }
}

fn log_params(opts: &StreamOptions, container: &str, cursor: &Cursor, start: Start) -> LogParams {
    let mut lp = LogParams {
        container: Some(container.to_string()),
        follow: opts.follow && !opts.previous,
        previous: opts.previous,
        timestamps: true,
        ..LogParams::default()
    };
    let since = match cursor.last {
        Some(last) => Since::Time(last),
        None => {
            lp.tail_lines = start.tail_lines;
            start.since
        }
    };
    match since {
        Since::Start => {}
        Since::Seconds(s) => lp.since_seconds = Some(s),
        // Whole seconds, rounded down: the request would otherwise round
        // to the nearest second and could skip lines.
        Since::Time(t) => {
            lp.since_time = k8s_openapi::jiff::Timestamp::from_second(t.timestamp()).ok();
        }
    }
    lp
}

/// Splits the kubelet's `RFC3339Nano text` line.
fn parse_line(raw: &str) -> (Option<DateTime<Utc>>, &str) {
    if let Some((ts, rest)) = raw.split_once(' ')
        && let Ok(t) = DateTime::parse_from_rfc3339(ts)
    {
        return (Some(t.with_timezone(&Utc)), rest);
    }
    (None, raw)
}

/// Reads one line of at most `max` bytes into `buf` (newline dropped),
/// discarding the rest of a longer line. Returns false at the end of the
/// stream, and the number of bytes discarded.
async fn read_line_capped<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(bool, usize)> {
    buf.clear();
    let mut discarded = 0;
    loop {
        let avail = reader.fill_buf().await?;
        if avail.is_empty() {
            return Ok((!buf.is_empty() || discarded > 0, discarded));
        }
        let (chunk, found) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (&avail[..i], Some(i + 1)),
            None => (avail, None),
        };
        let room = max.saturating_sub(buf.len());
        let keep = chunk.len().min(room);
        buf.extend_from_slice(&chunk[..keep]);
        discarded += chunk.len() - keep;
        let used = found.unwrap_or(avail.len());
        reader.consume_unpin(used);
        if found.is_some() {
            return Ok((true, discarded));
        }
    }
}

/// How long a deleted pod's stream may go on delivering its last lines
/// before it is closed from this side.
const DELETED_GRACE: Duration = Duration::from_secs(3);

/// Streams one log request into the channel. Returns whether any line was
/// delivered, whether the pod was seen deleted meanwhile, and how the
/// request ended.
async fn read_stream(
    shared: &Shared,
    pod: &Arc<str>,
    container: &Arc<str>,
    lp: &LogParams,
    cursor: &mut Cursor,
    mut state: Option<&mut watch::Receiver<Option<Pod>>>,
) -> (bool, bool, Result<(), kube::Error>) {
    let mut got = false;
    let mut deleted = false;
    let reader = match shared.api.log_stream(pod, lp).await {
        Ok(r) => r,
        Err(e) => return (got, deleted, Err(e)),
    };
    let mut reader = Box::pin(reader);
    let mut buf = Vec::new();
    let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
    let mut deadline = far;
    loop {
        let read = tokio::select! {
            r = read_line_capped(&mut reader, &mut buf, MAX_LINE_BYTES + 64) => r,
            gone = wait_deleted(&mut state), if deadline == far => {
                if gone {
                    deleted = true;
                    deadline = tokio::time::Instant::now() + DELETED_GRACE;
                }
                continue;
            }
            _ = tokio::time::sleep_until(deadline) => return (got, deleted, Ok(())),
        };
        match read {
            Ok((false, _)) => return (got, deleted, Ok(())),
            Ok((true, discarded)) => {
                let raw = String::from_utf8_lossy(&buf);
                let (time, text) = parse_line(&raw);
                if !cursor.accept(time, text) {
                    continue;
                }
                let text = cap_line(sanitize(text).into_owned(), discarded);
                let line = LogLine {
                    pod: pod.clone(),
                    container: container.clone(),
                    time,
                    text,
                    kind: LineKind::Log,
                };
                if shared.tx.send(line).await.is_err() {
                    return (got, deleted, Ok(()));
                }
                got = true;
            }
            Err(e) => return (got, deleted, Err(kube::Error::ReadEvents(e))),
        }
    }
}

/// Resolves once the pod's state says it is gone (true), or never when
/// there is no state to watch.
async fn wait_deleted(state: &mut Option<&mut watch::Receiver<Option<Pod>>>) -> bool {
    let Some(rx) = state else {
        return std::future::pending().await;
    };
    loop {
        if rx.borrow_and_update().is_none() {
            return true;
        }
        if rx.changed().await.is_err() {
            return true;
        }
    }
}

/// A short, user-facing message for a request error.
fn message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => other.to_string(),
    }
}

/// Whether retrying the request cannot help.
fn is_permanent(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 401 || s.code == 403)
}

/// Follows one container of one pod until the pod is gone or the container
/// is finished for good.
async fn follow_container(
    shared: Arc<Shared>,
    pod: Arc<str>,
    container: Arc<str>,
    mut state: watch::Receiver<Option<Pod>>,
    start: Start,
) {
    let send = |kind, text: String| {
        let tx = shared.tx.clone();
        let line = note(&pod, &container, kind, text);
        async move { tx.send(line).await.is_ok() }
    };
    let (uid, mut restarts) = {
        let current = state.borrow();
        let Some(p) = current.as_ref() else {
            return;
        };
        let restarts = container_status(p, &container).map_or(0, |c| c.restart_count);
        (p.metadata.uid.clone().unwrap_or_default(), restarts)
    };
    if !send(StatusKind::Joined, format!("+ {pod}/{container}")).await {
        return;
    }
    let mut cursor = Cursor::new(start.since);
    let mut attempt = 0u32;
    loop {
        let lp = log_params(&shared.opts, &container, &cursor, start);
        let (got, deleted, result) = read_stream(
            &shared,
            &pod,
            &container,
            &lp,
            &mut cursor,
            Some(&mut state),
        )
        .await;
        if shared.tx.is_closed() {
            return;
        }
        if got {
            attempt = 0;
        }
        if let Err(e) = &result
            && is_permanent(e)
        {
            send(StatusKind::Error, format!("{pod}: {}", message(e))).await;
            return;
        }
        // Ask the server where the pod stands: the watch may lag behind
        // the end of the stream.
        let fresh = if deleted {
            Ok(None)
        } else {
            shared.api.get_opt(&pod).await
        };
        let why = match (&fresh, &result) {
            (Err(e), _) | (_, Err(e)) => message(e),
            _ => "stream ended".to_string(),
        };
        let mut standing = match &fresh {
            Ok(p) => standing(p.as_ref(), &uid, &container, restarts),
            Err(_) => Standing::Running,
        };
        // A container's log ends when it exits, a moment before its status
        // says so: give the status that moment before calling it a lost
        // connection.
        if matches!(standing, Standing::Running) && result.is_ok() {
            standing = settle(&mut state, &uid, &container, restarts).await;
        }
        match standing {
            Standing::Gone => {
                send(StatusKind::Ended, format!("{pod} deleted; stream ended")).await;
                return;
            }
            Standing::Finished(code) => {
                let code = code.map_or(String::new(), |c| format!(" with code {c}"));
                send(
                    StatusKind::Ended,
                    format!("{container} exited{code}; stream ended"),
                )
                .await;
                return;
            }
            Standing::Restarted(n) => {
                restarts = n;
                attempt = 0;
                cursor.resume();
                if !send(
                    StatusKind::Restarted,
                    format!("{container} restarted (restart {n})"),
                )
                .await
                {
                    return;
                }
                continue;
            }
            Standing::Exited(code) => {
                let code = code.map_or(String::new(), |c| format!(" with code {c}"));
                let text = format!("{container} exited{code}; waiting for it to restart");
                if !send(StatusKind::Restarted, text).await {
                    return;
                }
                match wait_restart(&mut state, &uid, &container, restarts).await {
                    Some(n) => {
                        restarts = n;
                        attempt = 0;
                        cursor.resume();
                        let text = format!("{container} restarted (restart {n})");
                        if !send(StatusKind::Restarted, text).await {
                            return;
                        }
                    }
                    None => {
                        send(StatusKind::Ended, format!("{pod} deleted; stream ended")).await;
                        return;
                    }
                }
            }
            Standing::Running => {
                attempt += 1;
                let text = format!("reconnecting to {pod} (attempt {attempt}): {why}");
                if !send(StatusKind::Reconnecting, text).await {
                    return;
                }
                let delay = backoff(&shared.opts, attempt);
                let mut watched = Some(&mut state);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = wait_deleted(&mut watched) => {
                        send(StatusKind::Ended, format!("{pod} deleted; stream ended")).await;
                        return;
                    }
                }
                cursor.resume();
            }
        }
    }
}

/// How long a cleanly ended stream waits for the container's status to
/// catch up before it counts as a lost connection.
const SETTLE: Duration = Duration::from_secs(1);

/// The container's standing once its status changes from running the
/// streamed instance, or Running if that does not happen within
/// [`SETTLE`].
async fn settle(
    state: &mut watch::Receiver<Option<Pod>>,
    uid: &str,
    container: &str,
    restarts: i32,
) -> Standing {
    let changed = async {
        loop {
            let now = standing(state.borrow_and_update().as_ref(), uid, container, restarts);
            if !matches!(now, Standing::Running) {
                return now;
            }
            if state.changed().await.is_err() {
                return Standing::Gone;
            }
        }
    };
    tokio::time::timeout(SETTLE, changed)
        .await
        .unwrap_or(Standing::Running)
}

/// Waits until the container runs a newer instance (its restart count), or
/// None when the pod goes away or finishes.
async fn wait_restart(
    state: &mut watch::Receiver<Option<Pod>>,
    uid: &str,
    container: &str,
    restarts: i32,
) -> Option<i32> {
    loop {
        match standing(state.borrow_and_update().as_ref(), uid, container, restarts) {
            Standing::Restarted(n) => return Some(n),
            Standing::Gone | Standing::Finished(_) => return None,
            Standing::Running | Standing::Exited(_) => {}
        }
        state.changed().await.ok()?;
    }
}

/// The delay before reconnect `attempt` (1-based): doubling from the
/// initial delay, capped.
fn backoff(opts: &StreamOptions, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    opts.backoff_initial
        .saturating_mul(factor)
        .min(opts.backoff_max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn label_selectors_render_match_labels_and_expressions() {
        let sel = json!({
            "matchLabels": {"app": "web", "tier": "front"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "stage"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "team", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["c"]},
            ],
        });
        assert_eq!(
            label_selector(&sel).as_deref(),
            Some("app=web,tier=front,env in (prod,stage),!canary,team,zone notin (c)")
        );
        assert_eq!(label_selector(&json!({})), None);
        assert_eq!(label_selector(&Value::Null), None);
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(label_selector(&bad), None);
        assert_eq!(label_selector(&json!({"matchLabels": {"a": 1}})), None);
    }

    #[test]
    fn timestamps_are_split_from_the_text() {
        let (time, text) = parse_line("2026-01-01T10:00:02.123456789Z GET / 200 3ms");
        assert_eq!(time, Some(t("2026-01-01T10:00:02.123456789Z")));
        assert_eq!(text, "GET / 200 3ms");
        assert_eq!(parse_line("no timestamp here"), (None, "no timestamp here"));
        assert_eq!(parse_line(""), (None, ""));
    }

    #[test]
    fn resuming_skips_lines_already_delivered() {
        let mut c = Cursor::new(Since::Start);
        assert!(c.accept(Some(t("2026-01-01T10:00:01.2Z")), "a"));
        assert!(c.accept(Some(t("2026-01-01T10:00:01.5Z")), "b"));
        assert!(c.accept(Some(t("2026-01-01T10:00:01.5Z")), "c"));
        c.resume();
        // The resumed request starts at 10:00:01 and repeats all three.
        assert!(!c.accept(Some(t("2026-01-01T10:00:01.2Z")), "a"));
        assert!(!c.accept(Some(t("2026-01-01T10:00:01.5Z")), "b"));
        assert!(!c.accept(Some(t("2026-01-01T10:00:01.5Z")), "c"));
        // A line written at the same instant that was not seen is new.
        assert!(c.accept(Some(t("2026-01-01T10:00:01.5Z")), "d"));
        assert!(c.accept(Some(t("2026-01-01T10:00:02Z")), "e"));
        let lp = log_params(&StreamOptions::default(), "web", &c, FROM_START);
        assert_eq!(
            lp.since_time.map(|s| s.to_string()).as_deref(),
            Some("2026-01-01T10:00:02Z")
        );
        assert!(lp.timestamps && lp.follow && lp.tail_lines.is_none());
    }

    #[test]
    fn first_request_uses_tail_and_since_and_drops_lines_before_since() {
        let start = Start {
            since: Since::Time(t("2026-01-01T10:00:01.5Z")),
            tail_lines: Some(10),
        };
        let mut c = Cursor::new(start.since);
        let lp = log_params(&StreamOptions::default(), "web", &c, start);
        assert_eq!(lp.tail_lines, Some(10));
        // Rounded down so that nothing after the since-time is lost.
        assert_eq!(
            lp.since_time.map(|s| s.to_string()).as_deref(),
            Some("2026-01-01T10:00:01Z")
        );
        assert!(!c.accept(Some(t("2026-01-01T10:00:01.2Z")), "early"));
        assert!(c.accept(Some(t("2026-01-01T10:00:01.6Z")), "late"));
        // Once lines arrived, a reconnect resumes from them, not the tail.
        let lp = log_params(&StreamOptions::default(), "web", &c, start);
        assert_eq!(lp.tail_lines, None);
        let prev = StreamOptions {
            previous: true,
            ..StreamOptions::default()
        };
        let lp = log_params(&prev, "web", &Cursor::new(Since::Start), FROM_START);
        assert!(lp.previous && !lp.follow);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let opts = StreamOptions {
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(5),
            ..StreamOptions::default()
        };
        let delays: Vec<_> = (1..=6).map(|a| backoff(&opts, a).as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(backoff(&opts, u32::MAX), Duration::from_secs(5));
    }

    #[tokio::test]
    async fn long_lines_are_capped_while_reading() {
        let mut input = vec![b'x'; 100];
        input.push(b'\n');
        input.extend_from_slice(b"short\nlast-without-newline");
        let mut reader = futures::io::BufReader::with_capacity(7, &input[..]);
        let mut buf = Vec::new();
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 10).await.ok(),
            Some((true, 90))
        );
        assert_eq!(buf, b"xxxxxxxxxx");
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 10).await.ok(),
            Some((true, 0))
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 64).await.ok(),
            Some((true, 0))
        );
        assert_eq!(buf, b"last-without-newline");
        assert_eq!(
            read_line_capped(&mut reader, &mut buf, 64).await.ok(),
            Some((false, 0))
        );
    }

    fn pod(uid: &str, phase: &str, state: Value, restarts: i32, deleting: bool) -> Pod {
        let mut p = json!({
            "metadata": {"name": "web-1", "uid": uid},
            "spec": {"containers": [{"name": "web"}, {"name": "sidecar"}]},
            "status": {"phase": phase, "containerStatuses": [{
                "name": "web", "image": "web", "imageID": "", "ready": false,
                "restartCount": restarts, "state": state,
                "lastState": {"terminated": {"exitCode": 1}},
            }]},
        });
        if deleting {
            p["metadata"]["deletionTimestamp"] = json!("2026-01-01T10:00:00Z");
        }
        serde_json::from_value(p).unwrap_or_default()
    }

    #[test]
    fn standing_tells_restarts_exits_and_deletion_apart() {
        let running = json!({"running": {}});
        let waiting = json!({"waiting": {"reason": "CrashLoopBackOff"}});
        let done = json!({"terminated": {"exitCode": 0}});
        let s = |p: &Pod, r| standing(Some(p), "u1", "web", r);
        assert!(matches!(
            s(&pod("u1", "Running", running.clone(), 0, false), 0),
            Standing::Running
        ));
        assert!(matches!(
            s(&pod("u1", "Running", running.clone(), 2, false), 1),
            Standing::Restarted(2)
        ));
        assert!(matches!(
            s(&pod("u1", "Running", waiting.clone(), 1, false), 1),
            Standing::Exited(Some(1))
        ));
        // A newer instance that is only waiting has no log yet.
        assert!(matches!(
            s(&pod("u1", "Running", waiting, 2, false), 1),
            Standing::Exited(_)
        ));
        assert!(matches!(
            s(&pod("u1", "Succeeded", done.clone(), 0, false), 0),
            Standing::Finished(Some(0))
        ));
        // A terminating pod whose container stopped is as good as gone.
        assert!(matches!(
            s(&pod("u1", "Running", done, 0, true), 0),
            Standing::Gone
        ));
        // Another pod under the same name (a StatefulSet's replacement).
        assert!(matches!(
            s(&pod("u2", "Running", running.clone(), 0, false), 0),
            Standing::Gone
        ));
        assert!(matches!(standing(None, "u1", "web", 0), Standing::Gone));
        let p = pod("u1", "Running", running, 0, false);
        assert_eq!(
            selected_containers(&p, &Containers::All),
            ["web", "sidecar"]
        );
        assert_eq!(
            selected_containers(&p, &Containers::One("sidecar".into())),
            ["sidecar"]
        );
        assert!(selected_containers(&p, &Containers::One("nope".into())).is_empty());
    }
}
