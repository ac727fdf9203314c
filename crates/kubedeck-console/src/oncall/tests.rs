//! The recovery test and runbooks in the console, through `update` as the
//! keys and the runtime's answers drive them, and snapshots of the panes.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::DateTime;
use chrono::Utc;

use super::recovery_view::{RecoveryMsg, Summary};
use super::runbook_view::{
    Listed, RunbookCmd, RunbookInfo, RunbookMsg, ShowTarget, Snapshot, StepInfo,
};
use super::*;
use crate::cluster::Kind;
use crate::cluster::watch::WatchMsg;
use crate::input::action::View;
use crate::input::keymap::Keymap;
use crate::test_support::{draw, now, resize, rollout_cluster, screen_text};
use crate::update::{Msg, update};
use crate::view_model;
use kubedeck_core::actions::WorkloadRef;
use kubedeck_core::ops::recovery::KillMode;
use kubedeck_core::ops::timeline::{Kill, Milestone, TimelineEvent, Verdict, What};
use kubedeck_core::runbooks::Status;
use kubedeck_core::runbooks::runner::StepState;

struct T {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

impl T {
    /// The workloads view of the rollout cluster, on demo/web.
    fn new(readonly: bool) -> T {
        let cache = rollout_cluster();
        let keymap = Keymap::built_in_default();
        let state = AppState::new("kind-dev", None, readonly);
        let mut t = T {
            state,
            cache,
            keymap,
        };
        t.msg(resize(30));
        t.key("2");
        t.msg(Msg::Watch(WatchMsg::Synced(Kind::Deployment)));
        t
    }

    fn msg(&mut self, msg: Msg) -> Updated {
        update(&mut self.state, msg, &self.cache, &self.keymap, now())
    }

    fn ops(&mut self, msg: OpsMsg) -> Updated {
        self.msg(Msg::Ops(msg))
    }

    fn key(&mut self, k: &str) -> Updated {
        self.msg(Msg::Key(k.parse().expect("test key parses")))
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.msg(Msg::Key(Key::plain(c)));
        }
    }

    fn command(&mut self, line: &str) -> Updated {
        self.key(":");
        self.typed(line);
        self.key("enter")
    }

    fn message(&self) -> String {
        self.state
            .message
            .as_ref()
            .map_or(String::new(), |(m, _)| m.clone())
    }

    fn vm(&self) -> view_model::ScreenVm {
        view_model::build(&self.state, &self.cache, &self.keymap, now())
    }

    fn pane_text(&self) -> String {
        let vm = self.vm();
        vm.panel.map(|p| cells(&p.lines)).unwrap_or_default()
    }

    fn dialog_text(&self) -> String {
        self.vm()
            .dialog
            .map(|d| format!("{}\n{}", d.title, cells(&d.lines)))
            .unwrap_or_default()
    }

    fn screen(&self, width: u16, height: u16) -> String {
        screen_text(&draw(&self.state, &self.cache, &self.keymap, width, height))
    }
}

fn cells(lines: &[Vec<Cell>]) -> String {
    lines
        .iter()
        .map(|l| l.iter().map(|c| c.text.as_str()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn only_effect(out: Updated) -> OpsEffect {
    let mut effects = out.effects;
    assert_eq!(effects.len(), 1, "{effects:?}");
    match effects.remove(0) {
        Effect::Ops(e) => e,
        other => panic!("not an ops effect: {other:?}"),
    }
}

fn at(ms: i64) -> DateTime<Utc> {
    now() + chrono::Duration::milliseconds(ms)
}

fn milestone(ms: i64, pod: &str, m: Milestone, subject: &str) -> RecoveryMsg {
    RecoveryMsg::Event(TimelineEvent {
        at: at(ms),
        offset_ms: ms as u64,
        what: What::Milestone {
            iteration: 1,
            pod: pod.into(),
            milestone: m,
            subject: subject.into(),
        },
    })
}

fn endpoints(ms: i64, ready: u32) -> RecoveryMsg {
    RecoveryMsg::Event(TimelineEvent {
        at: at(ms),
        offset_ms: ms as u64,
        what: What::Endpoints { ready },
    })
}

const OLD: &str = "web-7d4b9c8f6d-q9z7m";
const NEW: &str = "web-7d4b9c8f6d-n3w99";

/// A whole kill of one pod of two, as the runner reports it.
fn one_kill() -> Vec<RecoveryMsg> {
    vec![
        RecoveryMsg::Started {
            target: WorkloadRef::deployment("demo", "web"),
            plan: vec![
                "Kill 1 random pod (1 of 2) of deployment/web in namespace demo, graceful, once"
                    .into(),
                "service web: 2 Ready endpoints now, as low as 1 during a kill".into(),
            ],
            slo: Duration::from_secs(30),
            min_endpoints: 1,
        },
        endpoints(0, 2),
        milestone(100, OLD, Milestone::DeleteSent, OLD),
        milestone(112, OLD, Milestone::Terminating, OLD),
        endpoints(130, 1),
        milestone(160, OLD, Milestone::ReplacementCreated, NEW),
        milestone(210, OLD, Milestone::Scheduled, NEW),
        milestone(1_450, OLD, Milestone::ContainersStarted, NEW),
        milestone(3_300, OLD, Milestone::Ready, NEW),
        milestone(3_340, OLD, Milestone::InEndpoints, NEW),
        endpoints(3_340, 2),
    ]
}

fn finished_kill() -> Kill {
    let mut k = Kill::new(1, OLD, Some("sim-node-1".into()));
    k.replacement = Some(NEW.into());
    for (m, ms) in [
        (Milestone::DeleteSent, 100),
        (Milestone::Terminating, 112),
        (Milestone::ReplacementCreated, 160),
        (Milestone::Scheduled, 210),
        (Milestone::ContainersStarted, 1_450),
        (Milestone::Ready, 3_300),
        (Milestone::InEndpoints, 3_340),
        (Milestone::OldPodGone, 30_150),
    ] {
        k.times.insert(m, at(ms));
    }
    k
}

fn pass() -> RecoveryMsg {
    RecoveryMsg::Finished(Box::new(Summary {
        verdict: Verdict::Pass,
        reasons: Vec::new(),
        kills: vec![finished_kill()],
        with_endpoints: true,
        minimum: 1,
        time_at_zero_ms: 0,
        worst: Some(Duration::from_millis(3_240)),
        saved: Ok("/home/op/.local/share/kubedeck/reports/recovery-web.md".into()),
        service: Some(
            "during the test: peak 5xx ratio 0.41%, peak p95 latency 212 ms (21 samples from http://127.0.0.1:9090)"
                .into(),
        ),
    }))
}

/// From `x` on the web row to a running test: form, plan, confirmation.
fn start(t: &mut T, protected: bool) -> RecoverySpec {
    t.key("x");
    let form = t.dialog_text();
    assert!(
        form.starts_with("Recovery test of deployment/web"),
        "{form}"
    );
    assert!(form.contains("one random pod"), "{form}");
    // Three iterations, 5 s apart, an SLO of 20 s.
    for _ in 0..3 {
        t.key("tab");
    }
    t.key("backspace");
    t.typed("3");
    t.key("tab");
    for _ in 0..3 {
        t.key("backspace");
    }
    t.typed("5s");
    t.key("tab");
    for _ in 0..3 {
        t.key("backspace");
    }
    t.typed("20s");
    let OpsEffect::InspectRecovery { id, spec } = only_effect(t.key("enter")) else {
        panic!("the form asks for the plan");
    };
    assert_eq!(spec.target, WorkloadRef::deployment("demo", "web"));
    assert_eq!(spec.mode, KillMode::One);
    assert_eq!(
        (spec.iterations, spec.interval, spec.slo, spec.min_endpoints),
        (3, Duration::from_secs(5), Duration::from_secs(20), 1)
    );
    assert!(!spec.force);
    t.ops(OpsMsg::RecoveryPlanned {
        id,
        result: Ok(RecoveryPlan {
            lines: vec!["Kill 1 random pod (1 of 2) of deployment/web in namespace demo".into()],
            context: t.state.context.clone(),
            protected,
        }),
    });
    spec
}

#[test]
fn a_recovery_test_from_a_workload_row_shows_its_live_timeline_and_verdict() {
    let mut t = T::new(false);
    let spec = start(&mut t, false);
    let confirm = t.dialog_text();
    assert!(confirm.contains("Kill 1 random pod (1 of 2)"), "{confirm}");
    assert!(!confirm.contains("protected"), "{confirm}");
    let effect = only_effect(t.key("enter"));
    assert_eq!(effect, OpsEffect::StartRecovery { spec });
    assert!(t.state.dialog.is_none());
    assert!(matches!(
        t.state.screen().ops(),
        Some(Pane::Recovery { .. })
    ));

    let mut news = one_kill().into_iter();
    for m in news.by_ref().take(6) {
        assert!(t.ops(OpsMsg::Recovery(m)).redraw, "the shown pane redraws");
    }
    let live = t.pane_text();
    assert!(live.contains("running…"), "{live}");
    assert!(live.contains("delete sent           +0ms"), "{live}");
    assert!(live.contains("pod terminating       +12ms"), "{live}");
    assert!(live.contains("replacement created   +60ms"), "{live}");
    assert!(live.contains("ready                 …"), "{live}");
    assert!(
        live.contains("ready endpoints       1   minimum 1"),
        "{live}"
    );
    for m in news {
        t.ops(OpsMsg::Recovery(m));
    }
    assert!(t.pane_text().contains("in service endpoints  +3.24s"));

    // Esc leaves the test running; :recovery shows it again.
    t.key("esc");
    assert!(t.state.screen().ops().is_none());
    let out = t.ops(OpsMsg::Recovery(pass()));
    assert!(out.redraw);
    assert_eq!(
        t.message(),
        "recovery test of deployment/web in demo: PASS; :recovery shows the timeline"
    );
    t.command("recovery");
    let done = t.pane_text();
    assert!(done.contains("PASS  every pod serving again within the SLO of 30.00s, slowest recovery 3.24s; minimum 1 Ready endpoints"), "{done}");
    assert!(done.contains("old pod gone          +30.05s"), "{done}");
    assert!(
        done.contains(
            "report                /home/op/.local/share/kubedeck/reports/recovery-web.md"
        ),
        "{done}"
    );
}

#[test]
fn a_protected_context_needs_the_workloads_name_typed() {
    let mut t = T::new(false);
    start(&mut t, true);
    assert!(t.dialog_text().contains("type \"web\" to confirm"));
    assert!(t.key("enter").effects.is_empty());
    assert!(
        t.dialog_text()
            .contains("type \"web\" to confirm; nothing was done")
    );
    t.typed("web");
    assert!(matches!(
        only_effect(t.key("enter")),
        OpsEffect::StartRecovery { .. }
    ));
}

#[test]
fn a_read_only_context_refuses_the_test_and_audits_the_refusal() {
    let mut t = T::new(true);
    let out = t.key("x");
    assert!(t.state.dialog.is_none());
    assert!(t.message().contains("read-only"), "{}", t.message());
    assert_eq!(
        out.effects,
        vec![Effect::AuditReadonlyRefusal {
            namespace: "demo".into(),
            object: "deployment/web".into(),
            action: "recovery-test".into(),
        }]
    );
}

#[test]
fn a_bad_form_value_is_explained_and_nothing_starts() {
    let mut t = T::new(false);
    t.key("x");
    for _ in 0..5 {
        t.key("tab");
    }
    t.typed("x");
    assert!(t.key("enter").effects.is_empty());
    assert!(
        t.dialog_text().contains("SLO: \"30sx\""),
        "{}",
        t.dialog_text()
    );
}

fn failover_info() -> RunbookInfo {
    let step = |id: &str, name: &str, kind: &str| StepInfo {
        id: id.into(),
        name: name.into(),
        kind: kind.into(),
        show: None,
    };
    let mut pods = step("pods", "The pods before", "show");
    pods.show = Some(ShowTarget {
        view: "pods".into(),
        namespace: Some("demo".into()),
        filter: Some("app=web".into()),
    });
    RunbookInfo {
        name: "failover-demo".into(),
        title: "Failover demo".into(),
        description: "Kills one pod of a two-replica Deployment with the recovery test\n".into(),
        vars: BTreeMap::from([
            ("deployment".into(), "web".into()),
            ("namespace".into(), "demo".into()),
            ("slo".into(), "30s".into()),
        ]),
        steps: vec![
            step("intro", "What happens", "note"),
            step("two-ready", "Two replicas are Ready", "wait"),
            pods,
            step("gate", "Go", "confirm"),
            step("kill", "Kill a pod and time the recovery", "action"),
            step("recovered", "Fully recovered", "wait"),
        ],
        context: "kind-dev".into(),
        who: "alice".into(),
    }
}

fn states(list: &[(Status, &[&str])]) -> Vec<StepState> {
    list.iter()
        .map(|(status, out)| StepState {
            status: *status,
            output: out.iter().map(|s| (*s).to_string()).collect(),
            started: None,
            finished: None,
        })
        .collect()
}

fn failover_vars() -> Vec<(String, String)> {
    [("deployment", "web"), ("namespace", "demo"), ("slo", "30s")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec()
}

/// Enter on the selected runbook, its variables read, and their dialog
/// accepted as they are; the id of the run being opened.
fn accept_vars(t: &mut T, runbook: &str) -> u64 {
    let OpsEffect::ReadRunbookVars { id, name, .. } = only_effect(t.key("enter")) else {
        panic!("enter reads the runbook's variables");
    };
    assert_eq!(name, runbook);
    t.ops(OpsMsg::RunbookVars {
        id,
        name,
        result: Ok(failover_vars()),
    });
    let OpsEffect::OpenRunbook {
        id: opened, vars, ..
    } = only_effect(t.key("enter"))
    else {
        panic!("enter in the variables dialog opens the runbook");
    };
    assert_eq!(opened, id);
    assert_eq!(vars, failover_vars().into_iter().collect());
    id
}

/// `:runbooks`, the list, Enter on failover-demo, and the opened run.
fn open_failover(t: &mut T) -> u64 {
    assert_eq!(only_effect(t.command("runbooks")), OpsEffect::ListRunbooks);
    t.ops(OpsMsg::Runbooks(vec![
        Listed {
            name: "high-error-rate".into(),
            source: "shipped".into(),
            title: "High error rate".into(),
        },
        Listed {
            name: "failover-demo".into(),
            source: "shipped".into(),
            title: "Failover demo".into(),
        },
    ]));
    assert!(
        t.pane_text()
            .contains("failover-demo          shipped  Failover demo")
    );
    t.key("j");
    let id = accept_vars(t, "failover-demo");
    t.ops(OpsMsg::RunbookOpened {
        id,
        result: Ok(failover_info()),
    });
    assert!(matches!(t.state.screen().ops(), Some(Pane::Runbook { .. })));
    id
}

#[test]
fn a_runbook_runs_to_its_gate_asks_jumps_to_a_show_and_shows_the_timeline() {
    let mut t = T::new(false);
    let id = open_failover(&mut t);
    assert_eq!(
        only_effect(t.key("a")),
        OpsEffect::Runbook {
            id,
            cmd: RunbookCmd::ToGate
        }
    );
    assert_eq!(t.key("enter").effects, vec![], "one command at a time");
    let rb = |msg| OpsMsg::Runbook { id, msg };
    t.ops(rb(RunbookMsg::Snapshot(Snapshot {
        states: states(&[
            (Status::Passed, &["One pod of deployment/web is deleted."]),
            (
                Status::Passed,
                &["deployment/web in demo has 2 Ready (after 0ms)"],
            ),
            (
                Status::Passed,
                &["view: pods, namespace: demo, filter: app=web"],
            ),
            (Status::Pending, &[]),
            (Status::Pending, &[]),
            (Status::Pending, &[]),
        ]),
        current: Some(3),
        stepped: Some((2, Status::Passed)),
        waiting: None,
        outcome: None,
        busy: true,
        inconclusive: Vec::new(),
    })));
    // The show step opened the pods of web above the runbook.
    assert_eq!(t.state.screen().view, View::Pods);
    assert_eq!(t.state.screen().filter_text, "-l app=web");
    assert_eq!(
        t.state.screen().rows.len(),
        3,
        "{:?}",
        t.state.screen().rows
    );
    t.ops(rb(RunbookMsg::Snapshot(Snapshot {
        states: states(&[
            (Status::Passed, &[]),
            (Status::Passed, &[]),
            (Status::Passed, &[]),
            (Status::Running, &[]),
            (Status::Pending, &[]),
            (Status::Pending, &[]),
        ]),
        current: Some(3),
        stepped: None,
        waiting: Some(kubedeck_core::runbooks::Prompt::Confirm(
            "Kill one pod of deployment/web?".into(),
        )),
        outcome: None,
        busy: false,
        inconclusive: Vec::new(),
    })));
    assert!(t.dialog_text().contains("Kill one pod of deployment/web?"));
    assert_eq!(
        only_effect(t.key("enter")),
        OpsEffect::Runbook {
            id,
            cmd: RunbookCmd::Answer(kubedeck_core::runbooks::Input::Yes)
        }
    );
    t.key("esc");
    t.key("esc");
    assert!(matches!(t.state.screen().ops(), Some(Pane::Runbook { .. })));
    let pane = t.pane_text();
    assert!(
        pane.contains("opened the pods view filtered by app=web; esc clears the filter, esc again returns to the runbook"),
        "{pane}"
    );
    for m in one_kill().into_iter().chain([pass()]) {
        t.ops(rb(RunbookMsg::Recovery(m)));
    }
    let pane = t.pane_text();
    assert!(pane.contains("Recovery timeline"), "{pane}");
    assert!(pane.contains("PASS  every pod serving again"), "{pane}");
}

#[test]
fn no_at_a_gate_is_an_answer_and_esc_asks_later() {
    let mut t = T::new(false);
    let id = open_failover(&mut t);
    t.key("enter");
    t.ops(OpsMsg::Runbook {
        id,
        msg: RunbookMsg::Snapshot(Snapshot {
            states: states(&[(Status::Running, &[] as &[&str]); 6]),
            current: Some(0),
            stepped: None,
            waiting: Some(kubedeck_core::runbooks::Prompt::Confirm("Go?".into())),
            outcome: None,
            busy: false,
            inconclusive: Vec::new(),
        }),
    });
    t.key("esc");
    assert!(t.state.dialog.is_none());
    assert!(t.message().contains("waits for your answer"));
    t.key("enter");
    assert!(t.dialog_text().contains("Go?"), "enter asks again");
    assert_eq!(
        only_effect(t.key("n")),
        OpsEffect::Runbook {
            id,
            cmd: RunbookCmd::Answer(kubedeck_core::runbooks::Input::No)
        }
    );
}

#[test]
fn snapshot_recovery_timeline_pane() {
    let mut t = T::new(false);
    start(&mut t, false);
    t.key("enter");
    for m in one_kill().into_iter().chain([pass()]) {
        t.ops(OpsMsg::Recovery(m));
    }
    insta::assert_snapshot!("recovery_timeline", t.screen(120, 40));
}

#[test]
fn snapshot_runbook_pane_with_mixed_statuses() {
    let mut t = T::new(false);
    let id = open_failover(&mut t);
    let rb = |msg| OpsMsg::Runbook { id, msg };
    t.ops(rb(RunbookMsg::Snapshot(Snapshot {
        states: states(&[
            (Status::Passed, &["One pod of deployment/web is deleted."]),
            (
                Status::Failed,
                &["timed out after 2m: deployment/web in demo has 1 Ready"],
            ),
            (Status::Skipped, &[]),
            (
                Status::Passed,
                &["Kill one pod of deployment/web?: yes (alice)"],
            ),
            (Status::Running, &[]),
            (Status::Pending, &[]),
        ]),
        current: Some(4),
        stepped: None,
        waiting: None,
        outcome: None,
        busy: true,
        inconclusive: Vec::new(),
    })));
    t.ops(rb(RunbookMsg::Live(
        "recovery test: kill one pod of deployment/web in demo (SLO 30.00s)".into(),
    )));
    for m in one_kill().into_iter().take(7) {
        t.ops(rb(RunbookMsg::Recovery(m)));
    }
    insta::assert_snapshot!("runbook_pane", t.screen(120, 40));
}

#[test]
fn the_shipped_failover_demo_has_the_steps_the_pane_lists() {
    // The shipped runbook resolves into the steps the pane lists.
    let source = kubedeck_core::runbooks::library::find("failover-demo", None).expect("shipped");
    let rb =
        kubedeck_core::runbooks::parse(&source.name, &source.label, &source.text).expect("parses");
    let plan = rb.resolve(&BTreeMap::new()).expect("resolves");
    let kinds: Vec<&str> = plan.steps.iter().map(|s| s.kind.word()).collect();
    assert_eq!(kinds, ["note", "wait", "show", "confirm", "action", "wait"]);
    let info = failover_info();
    let live = RunbookLive::new(1, info);
    let text = cells(&live.lines());
    assert!(text.contains("→·  1 What happens"), "{text}");
    assert!(
        text.contains("variables  deployment=web  namespace=demo  slo=30s"),
        "{text}"
    );
}

#[test]
fn the_form_chooses_a_percentage_and_a_forced_delete() {
    let mut t = T::new(false);
    t.key("x");
    t.key("right");
    t.key("right");
    t.key("tab");
    t.key("backspace");
    t.typed("50");
    t.key("tab");
    t.key("right");
    let OpsEffect::InspectRecovery { spec, .. } = only_effect(t.key("enter")) else {
        panic!("the form asks for the plan");
    };
    assert_eq!(spec.mode, KillMode::Percent(50));
    assert!(spec.force);
    t.key("esc");
    t.key("x");
    t.key("left");
    assert!(
        t.dialog_text().contains("◀ all pods ▶"),
        "{}",
        t.dialog_text()
    );
    t.key("left");
    t.key("tab");
    t.key("backspace");
    t.typed("0");
    assert!(t.key("enter").effects.is_empty());
    assert!(t.dialog_text().contains("N or percent must be at least 1"));
}

#[test]
fn a_show_logs_step_with_a_label_filter_streams_those_pods_logs() {
    let mut t = T::new(false);
    let mut info = failover_info();
    info.steps[2].show = Some(ShowTarget {
        view: "logs".into(),
        namespace: Some("demo".into()),
        filter: Some("app=web".into()),
    });
    assert_eq!(only_effect(t.command("runbooks")), OpsEffect::ListRunbooks);
    t.ops(OpsMsg::Runbooks(vec![Listed {
        name: "failover-demo".into(),
        source: "shipped".into(),
        title: "Failover demo".into(),
    }]));
    let id = accept_vars(&mut t, "failover-demo");
    t.ops(OpsMsg::RunbookOpened {
        id,
        result: Ok(info),
    });
    t.key("a");
    let out = t.ops(OpsMsg::Runbook {
        id,
        msg: RunbookMsg::Snapshot(Snapshot {
            states: states(&[
                (Status::Passed, &[]),
                (Status::Passed, &[]),
                (Status::Passed, &[]),
                (Status::Pending, &[]),
                (Status::Pending, &[]),
                (Status::Pending, &[]),
            ]),
            current: Some(3),
            stepped: Some((2, Status::Passed)),
            waiting: None,
            outcome: None,
            busy: true,
            inconclusive: Vec::new(),
        }),
    });
    let [Effect::OpenLogs { target, .. }] = out.effects.as_slice() else {
        panic!("one stream opened: {:?}", out.effects);
    };
    assert_eq!(
        *target,
        kubedeck_core::logs::LogSource::Selector {
            namespace: "demo".into(),
            selector: "app=web".into()
        }
    );
    assert!(t.state.logs.is_some(), "the log view is open");
    // Under it, the pods it streams; under those, the runbook.
    assert_eq!(t.state.screen().view, View::Pods);
    t.key("esc");
    assert!(t.state.logs.is_none());
    t.key("esc");
    t.key("esc");
    assert!(matches!(t.state.screen().ops(), Some(Pane::Runbook { .. })));
    assert!(
        t.pane_text()
            .contains("streaming the logs of the pods app=web in demo"),
        "{}",
        t.pane_text()
    );
}

#[test]
fn a_runbooks_variables_are_set_in_a_dialog_before_it_opens() {
    let mut t = T::new(false);
    t.command("runbooks");
    t.ops(OpsMsg::Runbooks(vec![Listed {
        name: "failover-demo".into(),
        source: "shipped".into(),
        title: "Failover demo".into(),
    }]));
    let OpsEffect::ReadRunbookVars { id, name, .. } = only_effect(t.key("enter")) else {
        panic!("enter reads the variables");
    };
    t.ops(OpsMsg::RunbookVars {
        id,
        name,
        result: Ok(failover_vars()),
    });
    let dialog = t.dialog_text();
    assert!(dialog.contains("deployment  web"), "{dialog}");
    assert!(dialog.contains("slo  30s"), "{dialog}");
    for _ in 0..3 {
        t.key("backspace");
    }
    t.typed("api");
    t.key("tab");
    t.key("tab");
    t.key("backspace");
    t.key("backspace");
    t.key("backspace");
    t.typed("10s");
    let OpsEffect::OpenRunbook { vars, .. } = only_effect(t.key("enter")) else {
        panic!("enter opens the runbook");
    };
    assert_eq!(vars["deployment"], "api");
    assert_eq!(vars["namespace"], "demo");
    assert_eq!(vars["slo"], "10s");

    // A runbook that cannot be read says why and opens nothing.
    let OpsEffect::ReadRunbookVars { id, name, .. } = only_effect(t.key("enter")) else {
        panic!("enter reads the variables");
    };
    let out = t.ops(OpsMsg::RunbookVars {
        id,
        name,
        result: Err("failover-demo.yaml:3: unknown field `titel`".into()),
    });
    assert!(out.effects.is_empty());
    assert!(
        t.message().contains("unknown field `titel`"),
        "{}",
        t.message()
    );
}

#[test]
fn an_inconclusive_wait_reads_inconclusive_not_skipped_or_passed() {
    let mut live = RunbookLive::new(1, failover_info());
    live.snapshot.states = states(&[
        (Status::Passed, &[]),
        (
            Status::Skipped,
            &["no Prometheus for this context: the condition cannot be evaluated"],
        ),
        (Status::Skipped, &[]),
        (Status::Pending, &[]),
        (Status::Pending, &[]),
        (Status::Pending, &[]),
    ]);
    live.snapshot.inconclusive = vec![1];
    let lines = live.lines();
    let text = cells(&lines);
    let row = |n: &str| {
        lines
            .iter()
            .find(|l| l.iter().any(|c| c.text.contains(n)))
            .unwrap_or_else(|| panic!("{n}: {text}"))
    };
    let wait = row("Two replicas are Ready");
    assert_eq!(wait[0].text.trim(), "?");
    assert_eq!(wait[3].text.trim(), "inconclusive");
    assert_eq!(wait[3].role, Role::Warning);
    // A step skipped on purpose still says so.
    let pods = row("The pods before");
    assert_eq!(pods[3].text.trim(), "skipped");
    assert_eq!(pods[3].role, Role::Muted);
}

#[test]
fn enter_while_a_recovery_test_is_planned_starts_nothing_and_says_so() {
    let mut t = T::new(false);
    t.key("x");
    let OpsEffect::InspectRecovery { id, spec } = only_effect(t.key("enter")) else {
        panic!("the form asks for the plan");
    };
    let out = t.key("enter");
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    assert!(
        t.dialog_text().contains("Enter did not confirm"),
        "{}",
        t.dialog_text()
    );
    t.ops(OpsMsg::RecoveryPlanned {
        id,
        result: Ok(RecoveryPlan {
            lines: vec!["Kill 1 random pod (1 of 2) of deployment/web in namespace demo".into()],
            context: t.state.context.clone(),
            protected: false,
        }),
    });
    let confirm = t.dialog_text();
    assert!(
        confirm.contains("Enter came before these were shown and confirmed nothing"),
        "{confirm}"
    );
    assert_eq!(
        only_effect(t.key("enter")),
        OpsEffect::StartRecovery { spec }
    );
}

#[test]
fn rb_with_a_name_opens_that_runbook_from_the_list_or_says_there_is_none() {
    let mut t = T::new(false);
    let listed = || {
        vec![
            Listed {
                name: "disk-full".into(),
                source: "shipped".into(),
                title: "Disk full".into(),
            },
            Listed {
                name: "failover-demo".into(),
                source: "shipped".into(),
                title: "Failover demo".into(),
            },
        ]
    };
    assert_eq!(
        only_effect(t.command("rb failover-demo")),
        OpsEffect::ListRunbooks
    );
    let out = t.ops(OpsMsg::Runbooks(listed()));
    let [Effect::Ops(OpsEffect::ReadRunbookVars { name, .. })] = out.effects.as_slice() else {
        panic!("the named runbook's variables are read: {:?}", out.effects);
    };
    assert_eq!(name, "failover-demo");

    let mut t = T::new(false);
    t.command("rb nosuch");
    let out = t.ops(OpsMsg::Runbooks(listed()));
    assert!(out.effects.is_empty());
    let (said, _) = t.state.message.clone().expect("a message");
    assert_eq!(
        said,
        "no runbook \"nosuch\": the list shows those there are"
    );
}
