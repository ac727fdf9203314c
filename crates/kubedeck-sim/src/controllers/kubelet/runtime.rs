//! A pod's containers as the container runtime runs them: image pulls,
//! creates and starts, readiness, exits, restarts with back-off and stops,
//! all from the image conventions and delays, and the pod status they add up
//! to. Each pod's runtime lives in memory, as a real runtime's would.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::pod_ref;
use crate::controllers::Ctx;
use crate::hash::fnv64_parts;
use crate::store::{fmt_time, meta_str};
use crate::{behaviour, events};

/// Guards a reconcile against zero delays looping at one instant.
const MAX_STEPS: usize = 1000;

/// The tag of an image reference (`latest` when none is given).
pub(crate) fn image_tag(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':').map_or("latest", |(_, t)| t)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Behavior {
    Serve,
    PullFails,
    Crash,
    Exit(i32),
}

pub(crate) fn behavior(image: &str, init: bool) -> Behavior {
    let tag = image_tag(image).to_ascii_lowercase();
    if tag.starts_with("notfound") {
        Behavior::PullFails
    } else if tag.starts_with("crashloop") {
        Behavior::Crash
    } else if tag.starts_with("exit1") {
        Behavior::Exit(1)
    } else if tag.starts_with("exit0") || init {
        Behavior::Exit(0)
    } else {
        Behavior::Serve
    }
}

/// The exit code of a container the kernel killed for memory (128 + SIGKILL).
const OOM_EXIT_CODE: i32 = 137;

/// A container's spec in the pod, by name.
fn container_spec<'a>(pod: &'a Value, name: &str, init: bool) -> &'a Value {
    let list = if init { "initContainers" } else { "containers" };
    pod["spec"][list]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .unwrap_or(&Value::Null)
}

/// The back-off before the n-th (1-based) retry: base, doubling, capped.
pub(super) fn backoff(base: Duration, max: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(max)
}

/// A duration as Go prints it (`10s`, `1m20s`, `500ms`), as the kubelet's
/// messages show it.
fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        if ms.is_multiple_of(1000) {
            format!("{secs}s")
        } else {
            format!("{:.1}s", d.as_secs_f64())
        }
    } else {
        format!("{}m{}s", secs / 60, secs % 60)
    }
}

pub(super) fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn hex64(seed: &str) -> String {
    (0..4)
        .map(|i| format!("{:016x}", fnv64_parts(&[seed, &i.to_string()], 0)))
        .collect()
}

fn image_ref(image: &str) -> String {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => r,
        _ => repo,
    };
    let full = match repo.split_once('/') {
        Some((host, _)) if host.contains('.') || host.contains(':') => repo.to_string(),
        Some(_) => format!("docker.io/{repo}"),
        None => format!("docker.io/library/{repo}"),
    };
    format!("{full}@sha256:{}", hex64(image))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Stage {
    /// Waits for the init containers before it.
    Blocked,
    Pull,
    PullWait,
    PullErr,
    PullBackOff,
    Create,
    Running,
    /// Terminated; `due` is the restart, if any.
    Exited,
    CrashBackOff,
}

#[derive(Clone, Debug)]
struct Term {
    code: i32,
    reason: &'static str,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    container_id: String,
}

impl Term {
    fn to_json(&self) -> Value {
        json!({"terminated": {
            "exitCode": self.code,
            "reason": self.reason,
            "startedAt": fmt_time(self.started),
            "finishedAt": fmt_time(self.finished),
            "containerID": self.container_id,
        }})
    }
}

#[derive(Clone, Debug)]
pub(super) struct Ctr {
    pub(super) name: String,
    image: String,
    init: bool,
    behavior: Behavior,
    /// The readiness probe's initial delay; None without a probe.
    probe_delay: Option<i64>,
    pub(super) stage: Stage,
    due: Option<DateTime<Utc>>,
    /// How a running instance of a serving image ends, when its workload
    /// decides it does (batch and backup jobs): exit code and reason.
    planned_exit: Option<(i32, &'static str)>,
    started: Option<DateTime<Utc>>,
    term: Option<Term>,
    last: Option<Term>,
    restarts: u32,
    crashes: u32,
    pull_failures: u32,
    image_present: bool,
    container_id: String,
}

impl Ctr {
    pub(super) fn field_path(&self) -> String {
        let list = if self.init {
            "initContainers"
        } else {
            "containers"
        };
        format!("spec.{list}{{{}}}", self.name)
    }

    fn finished_for_good(&self) -> bool {
        self.stage == Stage::Exited && self.due.is_none()
    }
}

pub(super) struct PodRt {
    pub(super) uid: String,
    pub(super) node: String,
    pub(super) ip: Option<String>,
    host_ip: String,
    bound_at: DateTime<Utc>,
    pub(super) ctrs: Vec<Ctr>,
    restart_policy: String,
    /// When termination began, and when the containers are stopped.
    pub(super) killing: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub(super) not_ready_since: Option<DateTime<Utc>>,
}

pub(super) type Ev = (String, &'static str, &'static str, String);

impl PodRt {
    pub(super) fn new(
        pod: &Value,
        node: &str,
        ip: Option<String>,
        host_ip: String,
        now: DateTime<Utc>,
    ) -> PodRt {
        let mut ctrs = Vec::new();
        for (list, init) in [("initContainers", true), ("containers", false)] {
            for c in pod["spec"][list].as_array().into_iter().flatten() {
                let image = c["image"].as_str().unwrap_or("").to_string();
                let probe = &c["readinessProbe"];
                ctrs.push(Ctr {
                    name: c["name"].as_str().unwrap_or("").to_string(),
                    behavior: behavior(&image, init),
                    image,
                    init,
                    probe_delay: probe
                        .is_object()
                        .then(|| probe["initialDelaySeconds"].as_i64().unwrap_or(0).max(0)),
                    stage: Stage::Blocked,
                    due: None,
                    planned_exit: None,
                    started: None,
                    term: None,
                    last: None,
                    restarts: 0,
                    crashes: 0,
                    pull_failures: 0,
                    image_present: false,
                    container_id: String::new(),
                });
            }
        }
        let mut rt = PodRt {
            uid: meta_str(pod, "uid").to_string(),
            node: node.to_string(),
            ip,
            host_ip,
            bound_at: now,
            ctrs,
            restart_policy: pod["spec"]["restartPolicy"]
                .as_str()
                .unwrap_or("Always")
                .to_string(),
            killing: None,
            not_ready_since: None,
        };
        rt.unblock_next(now);
        rt
    }

    /// Starts the next init container, or every app container once the
    /// init containers are done.
    fn unblock_next(&mut self, at: DateTime<Utc>) {
        if let Some(c) = self
            .ctrs
            .iter_mut()
            .find(|c| c.init && !c.finished_for_good())
        {
            if c.stage == Stage::Blocked {
                c.stage = Stage::Pull;
                c.due = Some(at);
            }
            return;
        }
        for c in self
            .ctrs
            .iter_mut()
            .filter(|c| !c.init && c.stage == Stage::Blocked)
        {
            c.stage = Stage::Pull;
            c.due = Some(at);
        }
    }

    fn inits_done(&self) -> bool {
        self.ctrs
            .iter()
            .filter(|c| c.init)
            .all(|c| c.finished_for_good() && c.term.as_ref().is_some_and(|t| t.code == 0))
    }

    fn init_failed(&self) -> bool {
        self.ctrs.iter().any(|c| {
            c.init && c.finished_for_good() && c.term.as_ref().is_some_and(|t| t.code != 0)
        })
    }

    /// Plans the OOM kill of a running serving container whose memory will
    /// pass its limit under the current load, or drops a plan the load no
    /// longer supports. Called before each advance, so a plan is checked
    /// again when it falls due.
    pub(super) fn plan_oom(&mut self, ctx: &Ctx, pod: &Value, now: DateTime<Utc>) {
        let serving = |c: &Ctr| {
            c.stage == Stage::Running
                && !c.init
                && c.behavior == Behavior::Serve
                && c.planned_exit.is_none_or(|(code, _)| code == OOM_EXIT_CODE)
        };
        if !self.ctrs.iter().any(serving) {
            return;
        }
        for c in self
            .ctrs
            .iter_mut()
            .filter(|c| serving(c) && c.planned_exit.is_some())
        {
            c.planned_exit = None;
            c.due = None;
        }
        if let Some((name, at)) = crate::metrics::oom_at(ctx, pod, now)
            && let Some(c) = self.ctrs.iter_mut().find(|c| c.name == name && serving(c))
        {
            c.planned_exit = Some((OOM_EXIT_CODE, "OOMKilled"));
            c.due = Some(at.max(now));
        }
    }

    fn restarts_after(&self, c: &Ctr, code: i32) -> bool {
        if c.init {
            code != 0 && self.restart_policy != "Never"
        } else {
            self.restart_policy == "Always" || (self.restart_policy == "OnFailure" && code != 0)
        }
    }

    /// A changed image (the one mutable part of a pod's containers) stops
    /// the container and starts it again from a fresh pull, as the kubelet
    /// does when a container's definition changes.
    pub(super) fn apply_image_changes(&mut self, pod: &Value, now: DateTime<Utc>) -> Vec<Ev> {
        let mut evs = Vec::new();
        for (list, init) in [("initContainers", true), ("containers", false)] {
            for spec in pod["spec"][list].as_array().into_iter().flatten() {
                let image = spec["image"].as_str().unwrap_or("");
                let Some(c) = self
                    .ctrs
                    .iter_mut()
                    .find(|c| c.init == init && c.name == spec["name"].as_str().unwrap_or(""))
                else {
                    continue;
                };
                if c.image == image || (init && c.finished_for_good()) {
                    continue;
                }
                if c.stage == Stage::Running {
                    let msg = format!("Container {} definition changed, will be restarted", c.name);
                    evs.push((c.field_path(), events::NORMAL, "Killing", msg));
                    c.last = Some(Term {
                        code: 0,
                        reason: "Completed",
                        started: c.started.unwrap_or(now),
                        finished: now,
                        container_id: c.container_id.clone(),
                    });
                    c.restarts += 1;
                }
                c.image = image.to_string();
                c.behavior = behavior(image, init);
                c.image_present = false;
                c.pull_failures = 0;
                c.crashes = 0;
                c.started = None;
                c.term = None;
                if c.stage != Stage::Blocked {
                    c.stage = Stage::Pull;
                    c.due = Some(now);
                }
            }
        }
        evs
    }

    /// Applies every transition due by `now`, oldest first.
    pub(super) fn advance(
        &mut self,
        ctx: &Ctx,
        pod: &Value,
        pod_ref: &str,
        now: DateTime<Utc>,
    ) -> Vec<Ev> {
        let d = &ctx.config.delays;
        let mut evs: Vec<Ev> = Vec::new();
        for _ in 0..MAX_STEPS {
            let next = self
                .ctrs
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.due.filter(|t| *t <= now).map(|t| (t, i)))
                .min();
            let Some((at, i)) = next else {
                break;
            };
            let restart_code = self.ctrs[i].term.as_ref().map(|t| t.code);
            let c = &mut self.ctrs[i];
            let fp = c.field_path();
            let image = c.image.clone();
            match c.stage {
                Stage::Blocked => c.due = None,
                Stage::Pull => {
                    evs.push((
                        fp,
                        events::NORMAL,
                        "Pulling",
                        format!("Pulling image \"{image}\""),
                    ));
                    c.stage = Stage::PullWait;
                    c.due = Some(at + chrono_dur(d.pull));
                }
                Stage::PullWait if c.behavior == Behavior::PullFails => {
                    c.pull_failures += 1;
                    evs.push((
                        fp.clone(),
                        events::WARNING,
                        "Failed",
                        format!("Failed to pull image \"{image}\": {}", pull_error(&image)),
                    ));
                    evs.push((fp, events::WARNING, "Failed", "Error: ErrImagePull".into()));
                    c.stage = Stage::PullErr;
                    c.due = Some(at + chrono_dur(d.pull.max(Duration::from_millis(500))));
                }
                Stage::PullWait => {
                    c.image_present = true;
                    let ms = d.pull.as_millis();
                    let size = 10_000_000 + fnv64_parts(&[&image], 0) % 90_000_000;
                    evs.push((
                        fp,
                        events::NORMAL,
                        "Pulled",
                        format!(
                            "Successfully pulled image \"{image}\" in {ms}ms ({ms}ms including waiting). Image size: {size} bytes."
                        ),
                    ));
                    c.stage = Stage::Create;
                    c.due = Some(at + chrono_dur(d.start));
                }
                Stage::PullErr => {
                    evs.push((
                        fp.clone(),
                        events::NORMAL,
                        "BackOff",
                        format!("Back-off pulling image \"{image}\""),
                    ));
                    evs.push((
                        fp,
                        events::WARNING,
                        "Failed",
                        "Error: ImagePullBackOff".into(),
                    ));
                    c.stage = Stage::PullBackOff;
                    c.due = Some(
                        at + chrono_dur(backoff(d.backoff_base, d.backoff_max, c.pull_failures)),
                    );
                }
                Stage::PullBackOff => {
                    c.stage = Stage::Pull;
                    c.due = Some(at);
                }
                Stage::Create => {
                    c.container_id = format!(
                        "containerd://{}",
                        hex64(&format!("{}/{}/{}/{at}", self.uid, c.name, c.restarts))
                    );
                    evs.push((
                        fp.clone(),
                        events::NORMAL,
                        "Created",
                        format!("Created container: {}", c.name),
                    ));
                    evs.push((
                        fp.clone(),
                        events::NORMAL,
                        "Started",
                        format!("Started container {}", c.name),
                    ));
                    if c.behavior == Behavior::Crash && c.probe_delay.is_some() {
                        evs.push((
                            fp,
                            events::WARNING,
                            "Unhealthy",
                            "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
                        ));
                    }
                    c.stage = Stage::Running;
                    c.started = Some(at);
                    c.due = match c.behavior {
                        Behavior::Crash | Behavior::Exit(_) if c.init => {
                            Some(at + chrono_dur(d.start))
                        }
                        Behavior::Crash | Behavior::Exit(_) => Some(at + chrono_dur(d.crash_after)),
                        // Decided at each start, so a backup judges its database when it runs.
                        Behavior::Serve => {
                            match behaviour::outcome(ctx, pod, container_spec(pod, &c.name, c.init))
                            {
                                behaviour::ContainerFate::Exit {
                                    after,
                                    code,
                                    reason,
                                } => {
                                    c.planned_exit = Some((code, reason));
                                    Some(at + chrono_dur(after))
                                }
                                behaviour::ContainerFate::RunForever => None,
                            }
                        }
                        Behavior::PullFails => None,
                    };
                }
                Stage::Running => {
                    let (code, reason) = match (c.planned_exit.take(), c.behavior) {
                        (Some(planned), _) => planned,
                        (None, Behavior::Exit(code)) => {
                            (code, if code == 0 { "Completed" } else { "Error" })
                        }
                        (None, _) => (1, "Error"),
                    };
                    c.term = Some(Term {
                        code,
                        reason,
                        started: c.started.unwrap_or(at),
                        finished: at,
                        container_id: c.container_id.clone(),
                    });
                    c.started = None;
                    c.stage = Stage::Exited;
                    c.due = None;
                    let (name, crashes) = (c.name.clone(), c.crashes);
                    if self.restarts_after(&self.ctrs[i], code) {
                        let c = &mut self.ctrs[i];
                        c.crashes += 1;
                        if crashes == 0 {
                            // The first restart is immediate, as the kubelet's.
                            c.due = Some(at + chrono_dur(d.start));
                        } else {
                            let wait = backoff(d.backoff_base, d.backoff_max, crashes);
                            c.last = c.term.take();
                            c.stage = Stage::CrashBackOff;
                            c.due = Some(at + chrono_dur(wait));
                            evs.push((
                                fp,
                                events::WARNING,
                                "BackOff",
                                format!(
                                    "Back-off restarting failed container {name} in pod {pod_ref}"
                                ),
                            ));
                        }
                    } else if self.ctrs[i].init && code == 0 {
                        self.unblock_next(at);
                    }
                }
                Stage::Exited | Stage::CrashBackOff => {
                    if restart_code.is_some() {
                        c.last = c.term.take();
                    }
                    c.restarts += 1;
                    let msg = format!("Container image \"{image}\" already present on machine");
                    evs.push((fp, events::NORMAL, "Pulled", msg));
                    c.stage = Stage::Create;
                    c.due = Some(at);
                }
            }
        }
        evs
    }

    /// When something next changes on its own: a transition or a readiness
    /// probe passing.
    pub(super) fn next_wakeup(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut next = self.ctrs.iter().filter_map(|c| c.due).min();
        for c in &self.ctrs {
            if let (Stage::Running, Some(started), Some(delay)) =
                (c.stage, c.started, c.probe_delay)
            {
                let ready_at = started + chrono::Duration::seconds(delay);
                if ready_at > now {
                    next = Some(next.map_or(ready_at, |n| n.min(ready_at)));
                }
            }
        }
        next
    }

    fn ctr_ready(&self, c: &Ctr, now: DateTime<Utc>) -> bool {
        if c.init {
            return c.finished_for_good() && c.term.as_ref().is_some_and(|t| t.code == 0);
        }
        match (c.stage, c.started) {
            (Stage::Running, Some(started)) => {
                c.behavior != Behavior::Crash
                    && c.probe_delay
                        .is_none_or(|d| now >= started + chrono::Duration::seconds(d))
            }
            _ => false,
        }
    }

    fn phase(&self) -> &'static str {
        if self.init_failed() {
            return "Failed";
        }
        if !self.inits_done() {
            return "Pending";
        }
        let mains: Vec<&Ctr> = self.ctrs.iter().filter(|c| !c.init).collect();
        if mains.iter().any(|c| c.stage == Stage::Running) {
            return "Running";
        }
        if !mains.is_empty() && mains.iter().all(|c| c.finished_for_good()) {
            let ok = mains
                .iter()
                .all(|c| c.term.as_ref().is_some_and(|t| t.code == 0));
            return if ok { "Succeeded" } else { "Failed" };
        }
        if mains.iter().any(|c| c.term.is_some() || c.last.is_some()) {
            return "Running";
        }
        "Pending"
    }

    fn ctr_status(&self, c: &Ctr, pod_ref: &str, now: DateTime<Utc>) -> Value {
        let d_waiting = |reason: &str, message: Option<String>| {
            let mut w = json!({"reason": reason});
            if let Some(m) = message {
                w["message"] = json!(m);
            }
            json!({"waiting": w})
        };
        let creating = if c.init {
            "PodInitializing"
        } else {
            "ContainerCreating"
        };
        let state = match c.stage {
            Stage::Blocked => d_waiting("PodInitializing", None),
            // A retried pull keeps showing the back-off, as the kubelet's does.
            Stage::Pull | Stage::PullWait if c.pull_failures > 0 => d_waiting(
                "ImagePullBackOff",
                Some(format!("Back-off pulling image \"{}\"", c.image)),
            ),
            Stage::Pull | Stage::PullWait | Stage::Create => d_waiting(creating, None),
            Stage::PullErr => d_waiting("ErrImagePull", Some(pull_error(&c.image))),
            Stage::PullBackOff => d_waiting(
                "ImagePullBackOff",
                Some(format!("Back-off pulling image \"{}\"", c.image)),
            ),
            Stage::Running => json!({"running": {
                "startedAt": c.started.map(fmt_time).unwrap_or_default()
            }}),
            Stage::Exited => c.term.as_ref().map_or_else(|| json!({}), Term::to_json),
            Stage::CrashBackOff => {
                let wait = c
                    .due
                    .and_then(|due| {
                        (due - c.last.as_ref().map_or(now, |t| t.finished))
                            .to_std()
                            .ok()
                    })
                    .unwrap_or_default();
                d_waiting(
                    "CrashLoopBackOff",
                    Some(format!(
                        "back-off {} restarting failed container={} pod={pod_ref}",
                        go_duration(wait),
                        c.name
                    )),
                )
            }
        };
        let mut s = json!({
            "name": c.name,
            "image": c.image,
            "imageID": if c.image_present { image_ref(&c.image) } else { String::new() },
            "ready": self.ctr_ready(c, now) && self.killing.is_none(),
            "restartCount": c.restarts,
            "started": c.stage == Stage::Running,
            "state": state,
            "lastState": c.last.as_ref().map_or_else(|| json!({}), Term::to_json),
        });
        if !c.container_id.is_empty() {
            s["containerID"] = json!(c.container_id);
        }
        s
    }

    pub(super) fn render(&self, pod: &Value, node_ready: bool, now: DateTime<Utc>) -> Value {
        let pod_ref = pod_ref(pod);
        let phase = self.phase();
        let completed = matches!(phase, "Succeeded" | "Failed");
        let mains: Vec<&Ctr> = self.ctrs.iter().filter(|c| !c.init).collect();
        let unready: Vec<&str> = mains
            .iter()
            .filter(|c| !self.ctr_ready(c, now))
            .map(|c| c.name.as_str())
            .collect();
        let containers_ready = unready.is_empty() && self.killing.is_none() && !completed;
        // A NotReady node makes its pods unready, not their containers.
        let ready = containers_ready && node_ready;
        let cond = |t: &str, ok: bool, reason: &str, message: String| {
            let mut c = json!({"type": t, "status": if ok { "True" } else { "False" },
                               "lastProbeTime": null});
            if !ok && !reason.is_empty() {
                c["reason"] = json!(reason);
                if !message.is_empty() {
                    c["message"] = json!(message);
                }
            }
            c
        };
        let (reason, message) = if completed {
            ("PodCompleted", String::new())
        } else if unready.is_empty() {
            ("ContainersNotReady", String::new())
        } else {
            (
                "ContainersNotReady",
                format!("containers with unready status: [{}]", unready.join(" ")),
            )
        };
        let pending_inits: Vec<&str> = self
            .ctrs
            .iter()
            .filter(|c| c.init && !self.ctr_ready(c, now))
            .map(|c| c.name.as_str())
            .collect();
        let initialized = pending_inits.is_empty() || completed;
        let conditions = vec![
            cond("PodReadyToStartContainers", !completed, "", String::new()),
            cond(
                "Initialized",
                initialized,
                "ContainersNotInitialized",
                format!(
                    "containers with incomplete status: [{}]",
                    pending_inits.join(" ")
                ),
            ),
            cond("Ready", ready, reason, message.clone()),
            cond("ContainersReady", containers_ready, reason, message),
        ];
        let mut status = json!({
            "phase": phase,
            "conditions": conditions,
            "hostIP": self.host_ip,
            "hostIPs": [{"ip": self.host_ip}],
            "startTime": fmt_time(self.bound_at),
            "qosClass": qos_class(pod),
            "containerStatuses": mains.iter().map(|c| self.ctr_status(c, &pod_ref, now)).collect::<Vec<_>>(),
        });
        let inits: Vec<Value> = self
            .ctrs
            .iter()
            .filter(|c| c.init)
            .map(|c| self.ctr_status(c, &pod_ref, now))
            .collect();
        if !inits.is_empty() {
            status["initContainerStatuses"] = json!(inits);
        }
        if let Some(ip) = &self.ip {
            status["podIP"] = json!(ip);
            status["podIPs"] = json!([{"ip": ip}]);
        }
        status
    }
}

fn pull_error(image: &str) -> String {
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
    )
}

/// The pod's QoS class, as the API server computes it.
fn qos_class(pod: &Value) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    let ctrs = pod["spec"]["containers"].as_array().into_iter().flatten();
    let inits = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten();
    for c in ctrs.chain(inits) {
        let r = &c["resources"];
        for res in ["cpu", "memory"] {
            let req = r["requests"][res].as_str().or(r["limits"][res].as_str());
            let lim = r["limits"][res].as_str();
            any |= req.is_some() || lim.is_some();
            guaranteed &= lim.is_some() && req == lim;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        _ => "Burstable",
    }
}
