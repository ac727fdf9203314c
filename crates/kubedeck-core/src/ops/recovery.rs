//! The pod-kill recovery test: kill pods of a Deployment or StatefulSet
//! through the action core and timestamp, from watch streams only, every
//! step of the recovery, while counting the Service's Ready endpoints.
//! Nothing is killed unless the workload is in its steady state first.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, Resource};
use rand::seq::SliceRandom as _;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use super::recovery_target::{
    KillMode, NotSteady, PodBrief, RecoveryTarget, TestSpec, inspect,
};
use super::recovery_target::{
    Observed, desired_replicas, read_workload, rollout_in_progress, steady_state_problems,
};
use super::timeline::{EndpointStats, Kill, Milestone, Report, TimelineEvent, Verdict, What};
use crate::actions::{ActionError, AuditResult, Command, Executor, ObjectRef, WorkloadKind, plan};
use crate::config::Config;
use kubedeck_kube::duration::human;

/// The label that ties an EndpointSlice to its Service.
pub(super) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// How the audit log names a recovery test, refused or run.
const ACTION: &str = "recovery-test";
/// How long the test waits for the steady state before it refuses: long
/// enough for an EndpointSlice to catch up with a pod that just became
/// Ready, short enough to say no while someone is watching.
pub const STEADY_WAIT: Duration = Duration::from_secs(10);
/// How often the workload's status is read again while waiting for it.
const RECHECK: Duration = Duration::from_millis(500);

/// How long the watches may take to list the pods and endpoints.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the zero-endpoint abort threshold is checked.
const TICK: Duration = Duration::from_millis(100);

/// What the recovery test needs to run its deletes.
pub struct Runner<'a> {
    pub client: &'a Client,
    pub executor: &'a Executor,
    pub config: &'a Config,
}

impl Runner<'_> {
    /// Audits the refusal and returns it.
    async fn refuse(&self, spec: &TestSpec, problems: Vec<String>) -> NotSteady {
        let refusal = NotSteady {
            object: object(spec),
            namespace: spec.target.namespace.clone(),
            waited: STEADY_WAIT,
            problems,
        };
        let result = AuditResult::Refused {
            reason: format!("steady state: {}", refusal.problems.join("; ")),
        };
        let none = (String::new(), String::new());
        if let Some(problem) = self
            .executor
            .record_decision(
                &refusal.namespace,
                &refusal.object,
                ACTION,
                none,
                result,
                Duration::ZERO,
            )
            .await
        {
            tracing::warn!("{problem}");
        }
        refusal
    }

    /// Waits, following the watches, until the steady state holds: an
    /// error (audited) when it does not within `STEADY_WAIT`; with the
    /// check skipped, the audited override's note at once.
    async fn await_steady_state(
        &self,
        spec: &TestSpec,
        e: &mut Engine<'_>,
        rx: &mut mpsc::UnboundedReceiver<(DateTime<Utc>, Obs)>,
    ) -> anyhow::Result<Option<String>> {
        let deadline = tokio::time::Instant::now() + STEADY_WAIT;
        loop {
            e.drain(rx);
            let workload = read_workload(self.client, &spec.target).await?;
            let (pods, endpoints) = (e.live_pods(), e.endpoint_counts());
            let problems = steady_state_problems(
                &Observed {
                    rollout: rollout_in_progress(&workload, spec.target.kind),
                    desired: desired_replicas(&workload),
                    pods: &pods,
                    endpoints: &endpoints,
                },
                spec.min_endpoints,
            );
            if problems.is_empty() {
                return Ok(None);
            }
            if spec.skip_steady_state_check {
                return Ok(Some(self.override_steady_state(spec, &problems).await));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(self.refuse(spec, problems).await.into());
            }
            // The workload's status has no watch here: read it again soon.
            let next = (now + RECHECK).min(deadline);
            tokio::select! {
                got = rx.recv() => match got {
                    Some((t, obs)) => e.handle(t, obs),
                    None => bail!("the watches of {} stopped", object(spec)),
                },
                () = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// Audits killing although the steady state does not hold; the note
    /// for the timeline.
    async fn override_steady_state(&self, spec: &TestSpec, problems: &[String]) -> String {
        let before = format!("steady state does not hold: {}", problems.join("; "));
        let after = "killing anyway (--skip-steady-state-check)".to_string();
        let note = format!("{before}; {after}");
        if let Some(problem) = self
            .executor
            .record_decision(
                &spec.target.namespace,
                &object(spec),
                ACTION,
                (before, after),
                AuditResult::Ok,
                Duration::ZERO,
            )
            .await
        {
            tracing::warn!("{problem}");
        }
        note
    }

    /// Runs the test on `target` (from `inspect`), calling `on_event` for
    /// each event as it is seen. Errors are for a test that could not run
    /// at all, or refused to (`NotSteady`); a test that ran always gives
    /// its report, pass or fail.
    pub async fn run(
        &self,
        spec: &TestSpec,
        target: &RecoveryTarget,
        on_event: &mut (dyn FnMut(&TimelineEvent) + Send),
    ) -> anyhow::Result<Report> {
        // A test whose kills could not be audited does not start.
        self.executor.check_audit().await?;
        let ns = &spec.target.namespace;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut tasks = vec![spawn_watch(
            Api::<Pod>::namespaced(self.client.clone(), ns),
            watcher::Config::default().labels(&target.selector),
            tx.clone(),
            |e| Obs::Pod(Box::new(e)),
        )];
        if !target.services.is_empty() {
            let sel = format!("{SERVICE_NAME_LABEL} in ({})", target.services.join(","));
            tasks.push(spawn_watch(
                Api::<EndpointSlice>::namespaced(self.client.clone(), ns),
                watcher::Config::default().labels(&sel),
                tx.clone(),
                |e| Obs::Slice(Box::new(e)),
            ));
        }
        drop(tx);
        let _tasks = AbortOnDrop(tasks);
        let mut e = Engine::new(spec, target, on_event);
        let synced = tokio::time::timeout(SYNC_TIMEOUT, async {
            while !e.synced() {
                match rx.recv().await {
                    Some((t, obs)) => e.handle(t, obs),
                    None => return false,
                }
            }
            true
        })
        .await;
        if synced != Ok(true) {
            bail!(
                "could not watch the pods and endpoints of {} within {}",
                target.object(),
                human(SYNC_TIMEOUT)
            );
        }
        let overridden = self.await_steady_state(spec, &mut e, &mut rx).await?;
        e.start_tracking(Utc::now());
        if let Some(note) = overridden {
            e.note(Utc::now(), note);
        }
        for it in 1..=spec.iterations {
            if it > 1 {
                e.note(
                    Utc::now(),
                    format!("waiting {} before iteration {it}", human(spec.interval)),
                );
                let until = tokio::time::Instant::now() + spec.interval;
                e.pump(&mut rx, until, |_| false).await;
                if e.aborted.is_some() {
                    break;
                }
            }
            e.drain(&mut rx);
            let victims = e.choose(spec.mode);
            if victims.is_empty() {
                e.note(Utc::now(), format!("iteration {it}: no live pod to kill"));
                continue;
            }
            e.begin_iteration();
            for (uid, name, node) in victims {
                self.kill(&mut e, it, &uid, &name, node).await;
                if e.aborted.is_some() {
                    break;
                }
            }
            if e.aborted.is_some() {
                break;
            }
            let until = tokio::time::Instant::now() + spec.recovery_timeout;
            let done = e.pump(&mut rx, until, |e| e.iteration_finished()).await;
            if !done && e.aborted.is_none() {
                e.note(
                    Utc::now(),
                    format!(
                        "iteration {it}: not recovered within {}",
                        human(spec.recovery_timeout)
                    ),
                );
            }
            if e.aborted.is_some() {
                break;
            }
        }
        let report = e.finish(Utc::now(), &self.executor.context, &self.executor.user);
        self.record_test(spec, &report).await;
        Ok(report)
    }

    /// Audits the test as a whole, as a runbook's run is: its deletes have
    /// their own records.
    async fn record_test(&self, spec: &TestSpec, report: &Report) {
        let (after, result) = match report.verdict {
            Verdict::Pass => ("PASS".to_string(), AuditResult::Ok),
            Verdict::Fail => (
                "FAIL".to_string(),
                AuditResult::Failed {
                    message: report.reasons.join("; "),
                },
            ),
        };
        let before = format!("kill {}, {} iteration(s)", report.mode, report.iterations);
        let took = (report.finished - report.started)
            .to_std()
            .unwrap_or(Duration::ZERO);
        if let Some(problem) = self
            .executor
            .record_decision(
                &spec.target.namespace,
                &object(spec),
                ACTION,
                (before, after),
                result,
                took,
            )
            .await
        {
            tracing::warn!("{problem}");
        }
    }

    /// Deletes one pod through plan → confirm → execute. The operator
    /// confirmed the whole test (typing the workload's name where the
    /// context is protected), which stands for each of its pods.
    async fn kill(&self, e: &mut Engine<'_>, it: u32, uid: &str, name: &str, node: Option<String>) {
        let cmd = Command::DeletePod {
            pod: ObjectRef::new(&e.spec.target.namespace, name),
            grace_seconds: e.spec.force.then_some(0),
            force: e.spec.force,
        };
        let confirmed = match plan(self.client, &self.executor.context, self.config, cmd).await {
            Ok(c) => c.confirm(Some(name)).map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        let index = e.add_track(it, uid, name, node, Utc::now());
        let result = match confirmed {
            Ok(c) => self.executor.execute(c).await.map_err(|err| {
                let fatal = matches!(
                    err,
                    ActionError::ReadOnly { .. }
                        | ActionError::Blocked(_)
                        | ActionError::AuditUnavailable(_)
                        | ActionError::Forbidden { .. }
                        | ActionError::WrongContext { .. }
                );
                (err.to_string(), fatal)
            }),
            Err(msg) => Err((msg, false)),
        };
        if let Err((msg, fatal)) = result {
            e.fail_track(index, Utc::now(), &msg);
            if fatal {
                e.aborted = Some(msg);
            }
        }
    }
}

/// `deployment/web`, as the audit log names the workload.
fn object(spec: &TestSpec) -> String {
    format!("{}/{}", spec.target.kind.singular(), spec.target.name)
}

/// The names of a slice's Ready endpoints.
pub(super) fn ready_endpoint_names(s: &EndpointSlice) -> Vec<String> {
    SliceView::of(s).ready.into_iter().map(|e| e.name).collect()
}

/// A change seen on a watch.
enum Obs {
    Pod(Box<Event<Pod>>),
    Slice(Box<Event<EndpointSlice>>),
    WatchError(String),
}

struct AbortOnDrop(Vec<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Forwards a watcher's events, stamped when they arrive.
fn spawn_watch<K>(
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::UnboundedSender<(DateTime<Utc>, Obs)>,
    wrap: fn(Event<K>) -> Obs,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
{
    tokio::spawn(async move {
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            let obs = match item {
                Ok(ev) => wrap(ev),
                Err(err) => Obs::WatchError(err.to_string()),
            };
            if tx.send((Utc::now(), obs)).is_err() {
                break;
            }
        }
    })
}

/// The parts of a pod the test follows.
pub(super) struct PodView {
    uid: String,
    name: String,
    node: Option<String>,
    terminating: bool,
    scheduled: bool,
    started: bool,
    pub(super) ready: bool,
}

impl PodView {
    pub(super) fn of(p: &Pod) -> PodView {
        let status = p.status.as_ref();
        let condition = |ty: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == ty && c.status == "True"))
        };
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        let terminating = p.metadata.deletion_timestamp.is_some();
        let started = status
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| {
                !cs.is_empty()
                    && cs.iter().all(|c| {
                        c.started == Some(true)
                            || c.state.as_ref().is_some_and(|s| s.running.is_some())
                    })
            });
        PodView {
            uid: p.metadata.uid.clone().unwrap_or_default(),
            name: p.metadata.name.clone().unwrap_or_default(),
            scheduled: node.is_some() || condition("PodScheduled"),
            node,
            terminating,
            started,
            ready: condition("Ready") && !terminating,
        }
    }
}

struct Track {
    kill: Kill,
    victim_uid: String,
    replacement_uid: Option<String>,
}

/// A Ready endpoint: the pod's name and, when the slice gives it, its uid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Endpoint {
    name: String,
    uid: Option<String>,
}

struct SliceView {
    service: String,
    ready: Vec<Endpoint>,
}

impl SliceView {
    fn of(s: &EndpointSlice) -> SliceView {
        let service = s
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
            .cloned()
            .unwrap_or_default();
        let ready = s
            .endpoints
            .iter()
            // A nil ready condition means ready, as the API documents.
            .filter(|ep| ep.conditions.as_ref().and_then(|c| c.ready) != Some(false))
            .filter_map(|ep| {
                let r = ep.target_ref.as_ref()?;
                Some(Endpoint {
                    name: r.name.clone()?,
                    uid: r.uid.clone(),
                })
            })
            .collect();
        SliceView { service, ready }
    }
}

/// The test's state: what the watches showed, the kills and the count.
struct Engine<'a> {
    spec: &'a TestSpec,
    services: Vec<String>,
    on_event: &'a mut (dyn FnMut(&TimelineEvent) + Send),
    start: DateTime<Utc>,
    pods: HashMap<String, PodView>,
    /// Uids seen during a re-list of the pods, to find those deleted
    /// while the watch was down.
    pod_relist: Option<HashSet<String>>,
    pods_synced: bool,
    slices: HashMap<String, SliceView>,
    slice_relist: Option<HashSet<String>>,
    slices_synced: bool,
    tracks: Vec<Track>,
    /// First track of the current iteration.
    iteration_start: usize,
    /// Pods that existed when the iteration began: never replacements.
    baseline: HashSet<String>,
    tracking: bool,
    stats: EndpointStats,
    current: u32,
    zero_since: Option<DateTime<Utc>>,
    events: Vec<TimelineEvent>,
    aborted: Option<String>,
    watch_errors: u32,
}

impl<'a> Engine<'a> {
    fn new(
        spec: &'a TestSpec,
        target: &RecoveryTarget,
        on_event: &'a mut (dyn FnMut(&TimelineEvent) + Send),
    ) -> Engine<'a> {
        Engine {
            spec,
            services: target.services.clone(),
            on_event,
            start: Utc::now(),
            pods: HashMap::new(),
            pod_relist: None,
            pods_synced: false,
            slices: HashMap::new(),
            slice_relist: None,
            slices_synced: target.services.is_empty(),
            tracks: Vec::new(),
            iteration_start: 0,
            baseline: HashSet::new(),
            tracking: false,
            stats: EndpointStats::default(),
            current: 0,
            zero_since: None,
            events: Vec::new(),
            aborted: None,
            watch_errors: 0,
        }
    }

    fn synced(&self) -> bool {
        self.pods_synced && self.slices_synced
    }

    /// The pods not terminating, as the steady state is judged on them.
    fn live_pods(&self) -> Vec<PodBrief> {
        let mut pods: Vec<PodBrief> = self
            .pods
            .values()
            .filter(|p| !p.terminating)
            .map(|p| PodBrief {
                name: p.name.clone(),
                ready: p.ready,
            })
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        pods
    }

    /// Each Service's Ready endpoints now.
    fn endpoint_counts(&self) -> Vec<(String, usize)> {
        self.services
            .iter()
            .map(|s| (s.clone(), self.ready_endpoints(s).len()))
            .collect()
    }

    fn emit(&mut self, at: DateTime<Utc>, what: What) {
        let offset_ms = u64::try_from((at - self.start).num_milliseconds()).unwrap_or(0);
        let ev = TimelineEvent {
            at,
            offset_ms,
            what,
        };
        (self.on_event)(&ev);
        self.events.push(ev);
    }

    fn note(&mut self, at: DateTime<Utc>, text: String) {
        self.emit(at, What::Note { text });
    }

    fn start_tracking(&mut self, now: DateTime<Utc>) {
        self.start = now;
        self.tracking = true;
        let n = self.count();
        self.current = n;
        self.stats = EndpointStats {
            initial: n,
            minimum: n,
            last: n,
            ..EndpointStats::default()
        };
        if n == 0 {
            self.zero_since = Some(now);
            self.stats.zero_periods = 1;
        }
        let what = if self.services.is_empty() {
            format!(
                "watching {} pods ({n} Ready; no Service selects them)",
                self.pods.len()
            )
        } else {
            format!(
                "watching {} pods and service {} ({n} Ready endpoints)",
                self.pods.len(),
                self.services.join(", ")
            )
        };
        self.note(now, what);
    }

    /// Live pods in random order, the first `mode.victims` of them.
    fn choose(&self, mode: KillMode) -> Vec<(String, String, Option<String>)> {
        let mut live: Vec<&PodView> = self.pods.values().filter(|p| !p.terminating).collect();
        live.shuffle(&mut rand::rng());
        let n = mode.victims(live.len());
        live.into_iter()
            .take(n)
            .map(|p| (p.uid.clone(), p.name.clone(), p.node.clone()))
            .collect()
    }

    fn begin_iteration(&mut self) {
        self.iteration_start = self.tracks.len();
        self.baseline = self.pods.keys().cloned().collect();
    }

    fn add_track(
        &mut self,
        it: u32,
        uid: &str,
        name: &str,
        node: Option<String>,
        sent: DateTime<Utc>,
    ) -> usize {
        self.tracks.push(Track {
            kill: Kill::new(it, name, node),
            victim_uid: uid.to_string(),
            replacement_uid: None,
        });
        let i = self.tracks.len() - 1;
        self.mark(i, Milestone::DeleteSent, sent, name.to_string());
        i
    }

    fn fail_track(&mut self, i: usize, at: DateTime<Utc>, msg: &str) {
        if let Some(t) = self.tracks.get_mut(i) {
            t.kill.error = Some(msg.to_string());
            let pod = t.kill.pod.clone();
            self.note(at, format!("delete of {pod} failed: {msg}"));
        }
    }

    /// Records a milestone once. Seeing a later step proves the earlier
    /// ones happened by then, so a step seen late on another watch stream
    /// takes the earliest time that proves it.
    fn mark(&mut self, i: usize, m: Milestone, at: DateTime<Utc>, subject: String) {
        if self
            .tracks
            .get(i)
            .is_none_or(|t| t.kill.times.contains_key(&m))
        {
            return;
        }
        // A step proves the steps before it on its branch (a Ready endpoint
        // seen before the pod's own update means its containers had
        // started): they are marked first, so the timeline is printed in
        // causal order with offsets that never go back.
        if let Some(before) = m.after() {
            self.mark(i, before, at, subject.clone());
        }
        let Some(t) = self.tracks.get_mut(i) else {
            return;
        };
        let proven = t
            .kill
            .times
            .iter()
            .filter(|(later, _)| is_ancestor(m, **later))
            .map(|(_, time)| *time)
            .min();
        let at = proven.map_or(at, |p| p.min(at));
        t.kill.times.insert(m, at);
        let what = What::Milestone {
            iteration: t.kill.iteration,
            pod: t.kill.pod.clone(),
            milestone: m,
            subject,
        };
        self.emit(at, what);
    }

    fn handle(&mut self, at: DateTime<Utc>, obs: Obs) {
        match obs {
            Obs::Pod(ev) => self.pod_event(at, *ev),
            Obs::Slice(ev) => self.slice_event(*ev),
            Obs::WatchError(msg) => {
                self.watch_errors += 1;
                // The watcher retries with back-off; one note is enough.
                if self.watch_errors == 1 {
                    self.note(at, format!("watch error (retrying): {msg}"));
                }
            }
        }
        if self.tracking {
            self.endpoints_changed(at);
        }
    }

    fn pod_event(&mut self, at: DateTime<Utc>, ev: Event<Pod>) {
        match ev {
            Event::Init => self.pod_relist = Some(HashSet::new()),
            Event::InitApply(p) => {
                let view = PodView::of(&p);
                if let Some(seen) = &mut self.pod_relist {
                    seen.insert(view.uid.clone());
                }
                self.pod_changed(at, view);
            }
            Event::InitDone => {
                if let Some(seen) = self.pod_relist.take() {
                    let gone: Vec<String> = self
                        .pods
                        .keys()
                        .filter(|uid| !seen.contains(*uid))
                        .cloned()
                        .collect();
                    for uid in gone {
                        self.pod_gone(at, &uid);
                    }
                }
                self.pods_synced = true;
            }
            Event::Apply(p) => self.pod_changed(at, PodView::of(&p)),
            Event::Delete(p) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                self.pod_gone(at, &uid);
            }
        }
    }

    fn slice_event(&mut self, ev: Event<EndpointSlice>) {
        match ev {
            Event::Init => self.slice_relist = Some(HashSet::new()),
            Event::InitApply(s) => {
                let name = s.metadata.name.clone().unwrap_or_default();
                if let Some(seen) = &mut self.slice_relist {
                    seen.insert(name.clone());
                }
                self.slices.insert(name, SliceView::of(&s));
            }
            Event::InitDone => {
                if let Some(seen) = self.slice_relist.take() {
                    self.slices.retain(|name, _| seen.contains(name));
                }
                self.slices_synced = true;
            }
            Event::Apply(s) => {
                let name = s.metadata.name.clone().unwrap_or_default();
                self.slices.insert(name, SliceView::of(&s));
            }
            Event::Delete(s) => {
                self.slices
                    .remove(&s.metadata.name.clone().unwrap_or_default());
            }
        }
    }

    fn pod_changed(&mut self, at: DateTime<Utc>, p: PodView) {
        let is_new = !self.pods.contains_key(&p.uid);
        for i in 0..self.tracks.len() {
            if self.tracks[i].victim_uid == p.uid && p.terminating {
                self.mark(i, Milestone::Terminating, at, p.name.clone());
            }
        }
        if is_new && self.tracking && !self.baseline.contains(&p.uid) {
            let stateful = self.spec.target.kind == WorkloadKind::StatefulSet;
            let slot = (self.iteration_start..self.tracks.len()).find(|&i| {
                let t = &self.tracks[i];
                t.replacement_uid.is_none()
                    && t.kill.error.is_none()
                    && (!stateful || t.kill.pod == p.name)
            });
            if let Some(i) = slot {
                self.tracks[i].replacement_uid = Some(p.uid.clone());
                self.tracks[i].kill.replacement = Some(p.name.clone());
                self.mark(i, Milestone::ReplacementCreated, at, p.name.clone());
            }
        }
        if let Some(i) = self.replacing(&p.uid) {
            if p.scheduled {
                self.mark(i, Milestone::Scheduled, at, p.name.clone());
            }
            if p.started {
                self.mark(i, Milestone::ContainersStarted, at, p.name.clone());
            }
            if p.ready {
                self.mark(i, Milestone::Ready, at, p.name.clone());
            }
        }
        self.pods.insert(p.uid.clone(), p);
    }

    fn replacing(&self, uid: &str) -> Option<usize> {
        self.tracks
            .iter()
            .position(|t| t.replacement_uid.as_deref() == Some(uid))
    }

    fn pod_gone(&mut self, at: DateTime<Utc>, uid: &str) {
        let name = self.pods.remove(uid).map(|p| p.name).unwrap_or_default();
        for i in 0..self.tracks.len() {
            if self.tracks[i].victim_uid == uid {
                // A forced delete removes the pod at once: its Terminating
                // and its end are the same instant.
                self.mark(i, Milestone::Terminating, at, name.clone());
                self.mark(i, Milestone::OldPodGone, at, name.clone());
            }
        }
        if let Some(i) = self.replacing(uid)
            && self.tracks[i].kill.at(Milestone::Ready).is_none()
        {
            let pod = self.tracks[i].kill.pod.clone();
            self.note(
                at,
                format!("replacement {name} of {pod} was deleted before it was Ready"),
            );
        }
    }

    /// Ready endpoints per Service (the lowest), or Ready pods without one.
    fn count(&self) -> u32 {
        let n = if self.services.is_empty() {
            self.pods.values().filter(|p| p.ready).count()
        } else {
            self.services
                .iter()
                .map(|s| self.ready_endpoints(s).len())
                .min()
                .unwrap_or(0)
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn ready_endpoints(&self, service: &str) -> HashSet<&Endpoint> {
        self.slices
            .values()
            .filter(|s| s.service == service)
            .flat_map(|s| s.ready.iter())
            .collect()
    }

    fn endpoints_changed(&mut self, at: DateTime<Utc>) {
        if !self.services.is_empty() {
            for i in 0..self.tracks.len() {
                let t = &self.tracks[i];
                let (Some(uid), Some(name)) = (&t.replacement_uid, &t.kill.replacement) else {
                    continue;
                };
                if t.kill.times.contains_key(&Milestone::InEndpoints) {
                    continue;
                }
                let listed = self.services.iter().all(|s| {
                    self.ready_endpoints(s)
                        .iter()
                        .any(|ep| &ep.name == name && ep.uid.as_ref().is_none_or(|u| u == uid))
                });
                if listed {
                    let name = name.clone();
                    // A ready endpoint is proof the pod was Ready.
                    self.mark(i, Milestone::Ready, at, name.clone());
                    self.mark(i, Milestone::InEndpoints, at, name);
                }
            }
        }
        let n = self.count();
        if n == self.current {
            return;
        }
        self.current = n;
        self.stats.minimum = self.stats.minimum.min(n);
        match (n, self.zero_since) {
            (0, None) => {
                self.zero_since = Some(at);
                self.stats.zero_periods += 1;
            }
            (1.., Some(since)) => {
                self.stats.time_at_zero_ms += ms(at - since);
                self.zero_since = None;
            }
            _ => {}
        }
        self.emit(at, What::Endpoints { ready: n });
    }

    fn check_abort(&mut self, now: DateTime<Utc>) {
        if let Some(since) = self.zero_since
            && self.aborted.is_none()
            && (now - since).to_std().unwrap_or(Duration::ZERO) > self.spec.abort_after
        {
            let why = format!(
                "no Ready endpoint for more than {}",
                human(self.spec.abort_after)
            );
            self.note(now, format!("aborting: {why}"));
            self.aborted = Some(why);
        }
    }

    fn iteration_finished(&self) -> bool {
        let with_ep = !self.services.is_empty();
        self.tracks[self.iteration_start..]
            .iter()
            .all(|t| t.kill.finished(with_ep))
    }

    /// Applies what is already queued, without waiting.
    fn drain(&mut self, rx: &mut mpsc::UnboundedReceiver<(DateTime<Utc>, Obs)>) {
        while let Ok((t, obs)) = rx.try_recv() {
            self.handle(t, obs);
        }
    }

    /// Follows the watches until `done`, the deadline or an abort; true
    /// when `done` was reached.
    async fn pump(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<(DateTime<Utc>, Obs)>,
        until: tokio::time::Instant,
        done: impl Fn(&Self) -> bool,
    ) -> bool {
        loop {
            self.check_abort(Utc::now());
            if self.aborted.is_some() {
                return false;
            }
            if done(self) {
                return true;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
            let tick = (tokio::time::Instant::now() + TICK).min(until);
            tokio::select! {
                got = rx.recv() => match got {
                    Some((t, obs)) => self.handle(t, obs),
                    None => {
                        self.aborted = Some("the watches stopped".into());
                        return false;
                    }
                },
                () = tokio::time::sleep_until(tick) => {}
            }
        }
    }

    fn finish(mut self, now: DateTime<Utc>, context: &str, user: &str) -> Report {
        if let Some(since) = self.zero_since.take() {
            self.stats.time_at_zero_ms += ms(now - since);
        }
        self.stats.last = self.current;
        let spec = self.spec;
        let mut report = Report {
            test: "pod-kill".into(),
            context: context.to_string(),
            user: user.to_string(),
            namespace: spec.target.namespace.clone(),
            target: format!("{}/{}", spec.target.kind.singular(), spec.target.name),
            mode: spec.mode.describe(),
            force: spec.force,
            iterations: spec.iterations,
            interval_ms: ms_std(spec.interval),
            slo_ms: ms_std(spec.slo),
            min_endpoints: spec.min_endpoints,
            abort_after_ms: ms_std(spec.abort_after),
            services: self.services.clone(),
            started: self.start,
            finished: now,
            kills: self.tracks.into_iter().map(|t| t.kill).collect(),
            endpoints: self.stats,
            events: self.events,
            aborted: self.aborted,
            verdict: Verdict::Fail,
            reasons: Vec::new(),
            service: None,
        };
        report.judge();
        report
    }
}

/// Whether `earlier` comes before `later` on the causal chain.
fn is_ancestor(earlier: Milestone, later: Milestone) -> bool {
    let mut m = later.after();
    while let Some(x) = m {
        if x == earlier {
            return true;
        }
        m = x.after();
    }
    false
}

fn ms(d: chrono::Duration) -> u64 {
    u64::try_from(d.num_milliseconds()).unwrap_or(0)
}

fn ms_std(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::WorkloadRef;
    use serde_json::json;

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds(ms)
    }

    /// A pod of deployment web: `state` is pending, scheduled, running,
    /// ready or terminating.
    fn pod(name: &str, state: &str) -> Pod {
        let scheduled = state != "pending";
        let running = matches!(state, "running" | "ready" | "terminating");
        let ready = matches!(state, "ready" | "terminating");
        serde_json::from_value(json!({
            "metadata": {"name": name, "uid": format!("uid-{name}"), "namespace": "demo",
                         "labels": {"app": "web"},
                         "deletionTimestamp": (state == "terminating").then_some("2026-01-01T00:00:00Z")},
            "spec": {"containers": [{"name": "web"}],
                     "nodeName": scheduled.then_some("n1")},
            "status": {
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
                "containerStatuses": if scheduled {
                    json!([{"name": "web", "image": "web", "imageID": "", "ready": ready,
                            "restartCount": 0, "started": running,
                            "state": if running {json!({"running": {}})} else {json!({"waiting": {}})}}])
                } else { json!([]) },
            },
        }))
        .unwrap()
    }

    fn slice(ready: &[&str]) -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {"name": "web-abc", "labels": {SERVICE_NAME_LABEL: "web"}},
            "addressType": "IPv4",
            "endpoints": ready.iter().map(|n| json!({
                "addresses": ["10.0.0.1"], "conditions": {"ready": true},
                "targetRef": {"kind": "Pod", "name": n, "uid": format!("uid-{n}")},
            })).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    fn target(services: &[&str]) -> RecoveryTarget {
        RecoveryTarget {
            workload: WorkloadRef::deployment("demo", "web"),
            selector: "app=web".into(),
            services: services.iter().map(|s| (*s).to_string()).collect(),
            pods: Vec::new(),
            desired: 2,
            rollout: None,
            endpoints: Vec::new(),
        }
    }

    fn brief(name: &str, ready: bool) -> PodBrief {
        PodBrief {
            name: name.into(),
            ready,
        }
    }

    #[test]
    fn the_steady_state_needs_every_replica_ready_and_enough_endpoints() {
        let pods = [brief("a", true), brief("b", false)];
        let endpoints = [("web".to_string(), 0)];
        let observed = Observed {
            rollout: None,
            desired: 2,
            pods: &pods,
            endpoints: &endpoints,
        };
        // The case: 0 Ready endpoints, not every replica Ready.
        assert_eq!(
            steady_state_problems(&observed, 1),
            vec![
                "1 of 2 replicas Ready (not Ready: b)",
                "service web has 0 Ready endpoints, under the minimum of 1",
            ]
        );
        let pods = [brief("a", true), brief("b", true)];
        let endpoints = [("web".to_string(), 2)];
        let healthy = Observed {
            rollout: None,
            desired: 2,
            pods: &pods,
            endpoints: &endpoints,
        };
        assert!(steady_state_problems(&healthy, 2).is_empty());
        assert_eq!(
            steady_state_problems(&healthy, 3),
            vec!["service web has 2 Ready endpoints, under the minimum of 3"]
        );
        // Without a Service, Ready pods stand for endpoints.
        let alone = Observed {
            endpoints: &[],
            ..healthy
        };
        assert_eq!(
            steady_state_problems(&alone, 3),
            vec!["2 Ready pods (no Service selects them), under the minimum of 3"]
        );
    }

    #[test]
    fn a_rollout_in_progress_is_not_a_steady_state() {
        let d = |generation: i64, observed: i64, updated: i64, total: i64, available: i64| {
            json!({"metadata": {"name": "web", "generation": generation},
                   "spec": {"replicas": 2},
                   "status": {"observedGeneration": observed, "updatedReplicas": updated,
                              "replicas": total, "availableReplicas": available}})
        };
        let kind = WorkloadKind::Deployment;
        assert_eq!(rollout_in_progress(&d(3, 3, 2, 2, 2), kind), None);
        let cases = [
            (d(4, 3, 2, 2, 2), "has not yet seen generation 4"),
            (d(3, 3, 1, 3, 3), "1 of 2 new replicas updated"),
            (d(3, 3, 2, 3, 2), "1 old replicas pending termination"),
            (d(3, 3, 2, 2, 1), "1 of 2 updated replicas available"),
        ];
        for (w, why) in cases {
            let got = rollout_in_progress(&w, kind).unwrap_or_default();
            assert!(got.contains(why), "{got:?} should say {why:?}");
        }
        let sts = json!({"metadata": {"name": "db", "generation": 1},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "updatedReplicas": 1,
                       "currentRevision": "db-1", "updateRevision": "db-2"}});
        assert!(
            rollout_in_progress(&sts, WorkloadKind::StatefulSet)
                .is_some_and(|r| r.contains("rolling update of statefulset/db"))
        );
        let not_steady = NotSteady {
            object: "deployment/web".into(),
            namespace: "demo".into(),
            waited: STEADY_WAIT,
            problems: vec!["1 of 2 replicas Ready".into()],
        };
        let text = not_steady.to_string();
        assert!(text.starts_with("refused: deployment/web in demo was not in its steady state within 10.00s, so nothing was killed: 1 of 2 replicas Ready"), "{text}");
        assert!(text.contains("--skip-steady-state-check"), "{text}");
    }

    fn pods(e: &mut Engine<'_>, at: i64, event: Event<Pod>) {
        e.handle(t(at), Obs::Pod(Box::new(event)));
    }

    fn slices(e: &mut Engine<'_>, at: i64, event: Event<EndpointSlice>) {
        e.handle(t(at), Obs::Slice(Box::new(event)));
    }

    #[test]
    fn a_kill_is_timed_from_watch_events_alone() {
        let spec = TestSpec::new(WorkloadRef::deployment("demo", "web"));
        let target = target(&["web"]);
        let mut lines = Vec::new();
        let mut on = |ev: &TimelineEvent| lines.push(ev.line());
        let mut e = Engine::new(&spec, &target, &mut on);
        pods(&mut e, 0, Event::Init);
        pods(&mut e, 0, Event::InitApply(pod("a", "ready")));
        pods(&mut e, 0, Event::InitApply(pod("b", "ready")));
        pods(&mut e, 0, Event::InitDone);
        assert!(!e.synced(), "the endpoints are not listed yet");
        slices(&mut e, 0, Event::Init);
        slices(&mut e, 0, Event::InitApply(slice(&["a", "b"])));
        slices(&mut e, 0, Event::InitDone);
        assert!(e.synced());
        e.start_tracking(t(0));
        e.begin_iteration();
        e.add_track(1, "uid-a", "a", Some("n1".into()), t(10));
        pods(&mut e, 30, Event::Apply(pod("a", "terminating")));
        slices(&mut e, 35, Event::Apply(slice(&["b"])));
        pods(&mut e, 40, Event::Apply(pod("c", "pending")));
        pods(&mut e, 150, Event::Apply(pod("c", "scheduled")));
        // The endpoints show c ready before the pod watch does: that is
        // proof enough, and the steps before it cannot be later.
        slices(&mut e, 2000, Event::Apply(slice(&["b", "c"])));
        pods(&mut e, 2010, Event::Apply(pod("c", "ready")));
        pods(&mut e, 2500, Event::Delete(pod("a", "terminating")));
        assert!(e.iteration_finished());
        let report = e.finish(t(3000), "ctx", "me");
        let k = &report.kills[0];
        assert_eq!(k.replacement.as_deref(), Some("c"));
        assert!(k.missing(true).is_empty(), "{k:?}");
        assert_eq!(k.at(Milestone::Terminating), Some(t(30)));
        assert_eq!(k.at(Milestone::ReplacementCreated), Some(t(40)));
        assert_eq!(k.at(Milestone::Scheduled), Some(t(150)));
        assert_eq!(k.at(Milestone::ContainersStarted), Some(t(2000)));
        assert_eq!(k.at(Milestone::Ready), Some(t(2000)));
        assert_eq!(k.at(Milestone::InEndpoints), Some(t(2000)));
        assert_eq!(k.at(Milestone::OldPodGone), Some(t(2500)));
        assert_eq!(k.recovery(true), Some(Duration::from_millis(1990)));
        assert_eq!(
            (
                report.endpoints.initial,
                report.endpoints.minimum,
                report.endpoints.last
            ),
            (2, 1, 2)
        );
        assert_eq!(report.verdict, Verdict::Pass, "{:?}", report.reasons);
        drop(report);
        assert!(
            lines.contains(&"    +35ms  ready endpoints: 1".to_string()),
            "{lines:?}"
        );
        // Printed as they happened: each step after its cause, though the
        // endpoints showed c Ready before the pod watch said it had started.
        let step = |label: &str| {
            lines
                .iter()
                .position(|l| l.ends_with(label))
                .unwrap_or_else(|| panic!("no {label:?} in {lines:?}"))
        };
        let order = [
            "replacement created (c)",
            "scheduled (c)",
            "containers started (c)",
            "ready (c)",
            "in service endpoints (c)",
        ];
        for pair in order.windows(2) {
            assert!(step(pair[0]) < step(pair[1]), "{pair:?}: {lines:?}");
        }
    }

    #[test]
    fn a_long_outage_aborts_the_test_and_counts_the_time_at_zero() {
        let spec = TestSpec {
            abort_after: Duration::from_secs(5),
            ..TestSpec::new(WorkloadRef::deployment("demo", "web"))
        };
        let target = target(&[]);
        let mut on = |_: &TimelineEvent| {};
        let mut e = Engine::new(&spec, &target, &mut on);
        pods(&mut e, 0, Event::Init);
        pods(&mut e, 0, Event::InitApply(pod("a", "ready")));
        pods(&mut e, 0, Event::InitDone);
        e.start_tracking(t(0));
        e.begin_iteration();
        e.add_track(1, "uid-a", "a", None, t(10));
        // Forced: the pod is gone at once.
        pods(&mut e, 20, Event::Delete(pod("a", "ready")));
        pods(&mut e, 30, Event::Apply(pod("b", "pending")));
        e.check_abort(t(5000));
        assert!(
            e.aborted.is_none(),
            "4.98 s at zero is within the threshold"
        );
        e.check_abort(t(5100));
        let report = e.finish(t(6020), "ctx", "me");
        let k = &report.kills[0];
        assert_eq!(k.at(Milestone::Terminating), k.at(Milestone::OldPodGone));
        assert_eq!(report.endpoints.minimum, 0);
        assert_eq!(report.endpoints.time_at_zero_ms, 6000);
        assert_eq!(report.verdict, Verdict::Fail);
        assert_eq!(
            report.reasons[0],
            "aborted: no Ready endpoint for more than 5.00s"
        );
    }

    #[test]
    fn modes_pick_at_least_one_and_never_more_than_there_are() {
        assert_eq!(KillMode::One.victims(3), 1);
        assert_eq!(KillMode::One.victims(0), 0);
        assert_eq!(KillMode::Count(5).victims(3), 3);
        assert_eq!(KillMode::Percent(50).victims(3), 2);
        assert_eq!(KillMode::Percent(10).victims(3), 1);
        assert_eq!(KillMode::Percent(100).victims(4), 4);
        assert_eq!(KillMode::All.victims(4), 4);
    }

    #[test]
    fn the_causal_chain_links_endpoints_back_to_the_delete() {
        assert!(is_ancestor(Milestone::DeleteSent, Milestone::InEndpoints));
        assert!(is_ancestor(Milestone::Ready, Milestone::InEndpoints));
        assert!(is_ancestor(Milestone::Terminating, Milestone::OldPodGone));
        assert!(!is_ancestor(Milestone::Terminating, Milestone::Ready));
        assert!(!is_ancestor(Milestone::Ready, Milestone::Ready));
    }
}
