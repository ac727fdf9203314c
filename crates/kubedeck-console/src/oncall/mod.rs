//! On-call operations in the console: the pod-kill recovery test started
//! from a workload row (form → confirmation → live timeline) and runbooks
//! run step by step (`:runbooks`). Pure like `update`: the work happens in
//! background tasks (`tasks`) that the runtime starts from `OpsEffect`s and
//! that answer with `OpsMsg`s.
//!
//! A recovery test keeps running when its pane is left with Esc: the kills
//! are already under way and stopping half-way would leave nothing to
//! measure; `:recovery` shows the pane again.

#[cfg(test)]
mod backup_tests;
pub mod backup_view;
pub mod recovery_view;
pub mod runbook_view;
pub mod tasks;
#[cfg(test)]
mod tests;

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::dialog::{Dialog, Field, Form, FormKind};
use super::filter::Filter;
use super::input::action::{Action, View};
use super::input::key::{Code, Key};
use super::input::keymap::{Keymap, Mode};
use super::panels::hints;
use super::state::{AppState, Screen};
use super::theme::Role;
use super::update::{Effect, Updated, refresh};
use super::view_model::{DialogVm, PanelVm};
use super::views::{Cell, Query};
use kubedeck_core::actions::WorkloadRef;
use kubedeck_core::ops::recovery::KillMode;
use kubedeck_core::ops::timeline::Verdict;
use kubedeck_core::runbooks::{Input, Prompt};
use kubedeck_kube::duration;
use recovery_view::{RecoveryLive, RecoveryMsg, RecoverySpec};
use runbook_view::{Listed, RunbookCmd, RunbookInfo, RunbookLive, RunbookMsg};

/// What an ops screen shows instead of a table; the data is in `OpsState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pane {
    Recovery { scroll: usize },
    Runbooks { selected: usize },
    Runbook { scroll: usize },
}

/// Recovery tests and runbook runs outlive the screens that show them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsState {
    /// The latest recovery test started from a workload row.
    pub recovery: Option<RecoveryLive>,
    /// The test whose form was accepted, while the runtime inspects it.
    pending: Option<(u64, RecoverySpec)>,
    /// The last `:runbooks` listing.
    pub listed: Vec<Listed>,
    /// The runbook run in the runbook pane.
    pub runbook: Option<RunbookLive>,
    /// The runbook being opened.
    opening: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpsMsg {
    /// The answer to `InspectRecovery`: the plan to confirm.
    RecoveryPlanned {
        id: u64,
        result: Result<RecoveryPlan, String>,
    },
    Recovery(RecoveryMsg),
    Runbooks(Vec<Listed>),
    /// The answer to `ReadRunbookVars`: each variable and its default.
    RunbookVars {
        id: u64,
        name: String,
        result: Result<Vec<(String, String)>, String>,
    },
    RunbookOpened {
        id: u64,
        result: Result<RunbookInfo, String>,
    },
    Runbook {
        id: u64,
        msg: RunbookMsg,
    },
}

/// What the confirmation of a recovery test shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPlan {
    pub lines: Vec<String>,
    pub context: String,
    /// A protected context: the workload's name must be typed.
    pub protected: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpsEffect {
    /// Read the workload, its pods and Services for the confirmation.
    InspectRecovery {
        id: u64,
        spec: RecoverySpec,
    },
    /// Run the confirmed test, answering with `OpsMsg::Recovery`.
    StartRecovery {
        spec: RecoverySpec,
    },
    ListRunbooks,
    /// Read a runbook's variables and their defaults, for the dialog that
    /// sets them; the console's namespace, when it has one, is the
    /// `namespace` variable's default.
    ReadRunbookVars {
        id: u64,
        name: String,
        namespace: Option<String>,
    },
    /// Read, check and load a runbook into a task of its own, its
    /// variables set to `vars`.
    OpenRunbook {
        id: u64,
        name: String,
        vars: std::collections::BTreeMap<String, String>,
    },
    Runbook {
        id: u64,
        cmd: RunbookCmd,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpsDialog {
    RecoveryConfirm {
        spec: RecoverySpec,
        plan: RecoveryPlan,
        typed: String,
        error: Option<String>,
    },
    /// A runbook's variables, set before it is opened.
    RunbookVars {
        id: u64,
        name: String,
        vars: Vec<(String, String)>,
        focus: usize,
    },
    /// A runbook's question: a `confirm` step, or a protected context's
    /// typed name for an action.
    Gate {
        id: u64,
        prompt: Prompt,
        typed: String,
    },
}

fn say(state: &mut AppState, text: impl Into<String>, role: Role) -> Updated {
    state.message = Some((text.into(), role));
    Updated::redraw()
}

fn effect(effect: OpsEffect) -> Updated {
    Updated {
        redraw: true,
        effects: vec![Effect::Ops(effect)],
    }
}

fn push_pane(state: &mut AppState, pane: Pane, crumb: &str) {
    let same = |p: &Pane| std::mem::discriminant(p) == std::mem::discriminant(&pane);
    if state.screen().ops.as_ref().is_some_and(same) {
        state.screen_mut().ops = Some(pane);
        return;
    }
    let mut screen = Screen::new(state.screen().view, state.screen().query.clone(), crumb);
    screen.ops = Some(pane);
    state.stack.push(screen);
}

/// `:recovery` and `:runbooks`; None for every other command.
pub fn on_command(state: &mut AppState, line: &str) -> Option<Updated> {
    match line.trim() {
        "recovery" => Some(if state.ops.recovery.is_some() {
            push_pane(state, Pane::Recovery { scroll: 0 }, "recovery");
            Updated::redraw()
        } else {
            say(
                state,
                "no recovery test yet: select a Deployment or StatefulSet and press x",
                Role::Muted,
            )
        }),
        "runbooks" | "runbook" | "rb" => Some(effect(OpsEffect::ListRunbooks)),
        _ => None,
    }
}

/// Keys on an ops pane, and the recovery-test key on a workload row.
pub fn on_action(state: &mut AppState, action: &Action) -> Option<Updated> {
    let pane = state.screen().ops.clone();
    match (pane, action) {
        (None, Action::RecoveryTest) => Some(recovery_form(state)),
        (None, Action::RunToGate) => Some(say(
            state,
            "run until the next gate works in a runbook: open one with :runbooks",
            Role::Muted,
        )),
        (None, _) => None,
        (Some(Pane::Runbooks { selected }), a) => runbooks_key(state, selected, a),
        (Some(Pane::Runbook { scroll }), a) => runbook_key(state, scroll, a),
        (Some(Pane::Recovery { scroll }), a) => {
            let next = scrolled(scroll, a)?;
            state.screen_mut().ops = Some(Pane::Recovery { scroll: next });
            Some(Updated::redraw())
        }
    }
}

/// The new scroll offset for a movement key; None for other keys.
fn scrolled(scroll: usize, action: &Action) -> Option<usize> {
    Some(match action {
        Action::Down => scroll + 1,
        Action::Up => scroll.saturating_sub(1),
        Action::PageDown => scroll + 10,
        Action::PageUp => scroll.saturating_sub(10),
        Action::Top => 0,
        _ => return None,
    })
}

fn selected_workload(state: &AppState) -> Option<WorkloadRef> {
    let screen = state.screen();
    if let Some(panel) = &screen.panel {
        return Some(panel.target().clone());
    }
    if screen.covered() || screen.view != View::Workloads {
        return None;
    }
    let (ns, name) = screen.selected_key()?;
    match name.split_once('/')? {
        ("Deployment", n) => Some(WorkloadRef::deployment(ns, n)),
        ("StatefulSet", n) => Some(WorkloadRef::statefulset(ns, n)),
        _ => None,
    }
}

const MODES: [&str; 4] = [
    "one random pod",
    "N pods",
    "percent of the pods",
    "all pods",
];
const GRACEFUL: &str = "graceful";
const FORCED: &str = "forced (grace period 0)";

fn field(label: &'static str, value: &str, choices: &[&str]) -> Field {
    Field {
        label,
        value: value.to_string(),
        choices: choices.iter().map(|c| (*c).to_string()).collect(),
    }
}

fn recovery_form(state: &mut AppState) -> Updated {
    let Some(target) = selected_workload(state) else {
        return say(
            state,
            "the recovery test applies to a Deployment or StatefulSet: select one in the workloads view",
            Role::Muted,
        );
    };
    let object = format!("{}/{}", target.kind.singular(), target.name);
    if state.readonly {
        let e = kubedeck_core::actions::ActionError::ReadOnly {
            context: state.context.clone(),
        };
        let mut out = say(state, e.to_string(), Role::Warning);
        out.effects.push(Effect::AuditReadonlyRefusal {
            namespace: target.namespace.clone(),
            object,
            action: "recovery-test".into(),
        });
        return out;
    }
    if let Some(r) = &state.ops.recovery
        && r.running()
    {
        let text = format!(
            "a recovery test of {} is still running: :recovery shows it",
            r.title
        );
        return say(state, text, Role::Warning);
    }
    let form = Form {
        title: format!("Recovery test of {object}"),
        kind: FormKind::RecoveryTest { target },
        fields: vec![
            field("kill", MODES[0], &MODES),
            field("N or percent", "1", &[]),
            field("deletion", GRACEFUL, &[GRACEFUL, FORCED]),
            field("iterations", "1", &[]),
            field("interval", "10s", &[]),
            field("SLO", "30s", &[]),
            field("min endpoints", "1", &[]),
        ],
        focus: 0,
        notes: vec![
            (
                "Kills pods through the action log and times each recovery from the watch streams."
                    .into(),
                Role::Muted,
            ),
            (
                "←/→ change a choice; tab moves; N or percent counts for those modes.".into(),
                Role::Muted,
            ),
        ],
        error: None,
    };
    state.dialog = Some(Dialog::Form(form));
    Updated::redraw()
}

fn number(form: &Form, i: usize) -> Result<u32, String> {
    let f = &form.fields[i];
    f.value
        .trim()
        .parse()
        .map_err(|_| format!("{} must be a whole number, not {:?}", f.label, f.value))
}

fn span(form: &Form, i: usize) -> Result<Duration, String> {
    let f = &form.fields[i];
    duration::parse(&f.value).map_err(|e| format!("{}: {e}", f.label))
}

/// The test the form describes.
pub fn recovery_spec(form: &Form) -> Result<RecoverySpec, String> {
    let FormKind::RecoveryTest { target } = &form.kind else {
        return Err("not a recovery test".into());
    };
    let n = || -> Result<u32, String> {
        let n = number(form, 1)?;
        if n == 0 {
            return Err("N or percent must be at least 1".into());
        }
        Ok(n)
    };
    let mode = match form.fields[0].value.as_str() {
        "N pods" => KillMode::Count(n()?),
        "percent of the pods" => {
            let p = n()?;
            if p > 100 {
                return Err(format!("a percentage is at most 100, not {p}"));
            }
            KillMode::Percent(p)
        }
        "all pods" => KillMode::All,
        _ => KillMode::One,
    };
    let iterations = number(form, 3)?;
    if iterations == 0 {
        return Err("iterations must be at least 1".into());
    }
    Ok(RecoverySpec {
        target: target.clone(),
        mode,
        force: form.fields[2].value == FORCED,
        iterations,
        interval: span(form, 4)?,
        slo: span(form, 5)?,
        min_endpoints: number(form, 6)?,
    })
}

/// Keys for the dialogs this module owns; None leaves the key to `act`.
pub fn on_dialog_key(state: &mut AppState, key: Key, keymap: &Keymap) -> Option<Updated> {
    let action = keymap.resolve(Mode::Dialog, key).cloned();
    match state.dialog.as_mut()? {
        Dialog::Form(form) if matches!(form.kind, FormKind::RecoveryTest { .. }) => {
            if action != Some(Action::Accept) {
                return None;
            }
            match recovery_spec(form) {
                Ok(spec) => {
                    state.requests += 1;
                    let id = state.requests;
                    let summary = format!(
                        "Recovery test of {}",
                        form.title.trim_start_matches("Recovery test of ")
                    );
                    state.dialog = Some(Dialog::Planning { id, summary });
                    state.ops.pending = Some((id, spec.clone()));
                    Some(effect(OpsEffect::InspectRecovery { id, spec }))
                }
                Err(e) => {
                    form.error = Some(e);
                    Some(Updated::redraw())
                }
            }
        }
        Dialog::Ops(OpsDialog::RecoveryConfirm {
            spec,
            plan,
            typed,
            error,
        }) => match action {
            Some(Action::Back) => {
                state.dialog = None;
                Some(say(state, "cancelled: nothing was changed", Role::Muted))
            }
            Some(Action::Accept) => {
                if plan.protected && typed.trim() != spec.target.name {
                    *error = Some(format!(
                        "type {:?} to confirm; nothing was done",
                        spec.target.name
                    ));
                    return Some(Updated::redraw());
                }
                let spec = spec.clone();
                state.dialog = None;
                state.ops.recovery = Some(RecoveryLive::new(&spec.target));
                push_pane(state, Pane::Recovery { scroll: 0 }, "recovery");
                state.message = Some((
                    "recovery test started; esc leaves it running, :recovery shows it again".into(),
                    Role::Info,
                ));
                Some(effect(OpsEffect::StartRecovery { spec }))
            }
            _ => Some(Updated {
                redraw: plan.protected && edit(typed, key),
                effects: Vec::new(),
            }),
        },
        Dialog::Ops(OpsDialog::RunbookVars {
            id,
            name,
            vars,
            focus,
        }) => {
            let n = vars.len().max(1);
            match action {
                Some(Action::Back) => {
                    state.dialog = None;
                    state.ops.opening = None;
                    Some(say(
                        state,
                        "cancelled: the runbook was not opened",
                        Role::Muted,
                    ))
                }
                Some(Action::Accept) => {
                    let out = OpsEffect::OpenRunbook {
                        id: *id,
                        name: name.clone(),
                        vars: vars.iter().cloned().collect(),
                    };
                    state.dialog = None;
                    Some(effect(out))
                }
                Some(Action::NextField) => {
                    *focus = (*focus + 1) % n;
                    Some(Updated::redraw())
                }
                Some(Action::PrevField) => {
                    *focus = (*focus + n - 1) % n;
                    Some(Updated::redraw())
                }
                _ => {
                    let redraw = vars.get_mut(*focus).is_some_and(|(_, v)| edit(v, key));
                    Some(Updated {
                        redraw,
                        effects: Vec::new(),
                    })
                }
            }
        }
        Dialog::Ops(OpsDialog::Gate { id, prompt, typed }) => {
            let id = *id;
            let answer = match (&*prompt, action, key.code) {
                (_, Some(Action::Back), _) => {
                    state.dialog = None;
                    return Some(say(
                        state,
                        "the runbook waits for your answer: enter in its pane asks again",
                        Role::Muted,
                    ));
                }
                (Prompt::Confirm(_), Some(Action::Accept), _) => Input::Yes,
                (Prompt::Confirm(_), _, Code::Char('y' | 'Y')) => Input::Yes,
                (Prompt::Confirm(_), _, Code::Char('n' | 'N')) => Input::No,
                (Prompt::TypeName { .. }, Some(Action::Accept), _) => {
                    Input::Typed(typed.trim().to_string())
                }
                (Prompt::TypeName { .. }, _, _) => {
                    return Some(Updated {
                        redraw: edit(typed, key),
                        effects: Vec::new(),
                    });
                }
                _ => return Some(Updated::default()),
            };
            state.dialog = None;
            if let Some(rb) = &mut state.ops.runbook {
                rb.snapshot.waiting = None;
                rb.snapshot.busy = true;
            }
            Some(effect(OpsEffect::Runbook {
                id,
                cmd: RunbookCmd::Answer(answer),
            }))
        }
        _ => None,
    }
}

fn edit(typed: &mut String, key: Key) -> bool {
    if key.ctrl || key.alt {
        return false;
    }
    match key.code {
        Code::Backspace => typed.pop().is_some(),
        Code::Char(c) => {
            typed.push(c);
            true
        }
        _ => false,
    }
}

fn runbooks_key(state: &mut AppState, selected: usize, action: &Action) -> Option<Updated> {
    let n = state.ops.listed.len();
    let next = match action {
        Action::Down => (selected + 1).min(n.saturating_sub(1)),
        Action::Up => selected.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => n.saturating_sub(1),
        Action::Enter => {
            let listed = state.ops.listed.get(selected)?.clone();
            if let Some(rb) = &state.ops.runbook
                && !rb.finished()
                && rb
                    .snapshot
                    .states
                    .iter()
                    .any(|s| s.status != kubedeck_core::runbooks::Status::Pending)
            {
                if rb.info.name == listed.name {
                    push_pane(
                        state,
                        Pane::Runbook { scroll: 0 },
                        &format!("runbook {}", listed.name),
                    );
                    return Some(Updated::redraw());
                }
                let text = format!(
                    "runbook {} is still running: finish it before starting another",
                    rb.info.name
                );
                return Some(say(state, text, Role::Warning));
            }
            state.requests += 1;
            let id = state.requests;
            state.ops.opening = Some(id);
            state.message = Some((format!("opening runbook {}…", listed.name), Role::Info));
            return Some(effect(OpsEffect::ReadRunbookVars {
                id,
                name: listed.name,
                namespace: state.namespace.clone(),
            }));
        }
        Action::PageUp
        | Action::PageDown
        | Action::Filter
        | Action::SortNext
        | Action::SortReverse
        | Action::Describe
        | Action::Yaml
        | Action::RecoveryTest
        | Action::RunToGate => {
            return Some(Updated::default());
        }
        _ => return None,
    };
    state.screen_mut().ops = Some(Pane::Runbooks { selected: next });
    Some(Updated::redraw())
}

fn runbook_key(state: &mut AppState, scroll: usize, action: &Action) -> Option<Updated> {
    if let Some(next) = scrolled(scroll, action) {
        state.screen_mut().ops = Some(Pane::Runbook { scroll: next });
        return Some(Updated::redraw());
    }
    let cmd = match action {
        Action::Enter => RunbookCmd::Step,
        Action::RunToGate => RunbookCmd::ToGate,
        Action::Bottom
        | Action::Filter
        | Action::SortNext
        | Action::SortReverse
        | Action::Describe
        | Action::Yaml
        | Action::RecoveryTest => return Some(Updated::default()),
        _ => return None,
    };
    let Some(rb) = &mut state.ops.runbook else {
        return Some(Updated::default());
    };
    if rb.finished() {
        let text = format!(
            "runbook {} has ended: :runbooks opens it again",
            rb.info.name
        );
        return Some(say(state, text, Role::Muted));
    }
    if rb.snapshot.busy {
        return Some(say(state, "a step is running…", Role::Muted));
    }
    if let Some(prompt) = rb.snapshot.waiting.clone() {
        let id = rb.id;
        state.dialog = Some(Dialog::Ops(OpsDialog::Gate {
            id,
            prompt,
            typed: String::new(),
        }));
        return Some(Updated::redraw());
    }
    rb.snapshot.busy = true;
    let id = rb.id;
    state.message = None;
    Some(effect(OpsEffect::Runbook { id, cmd }))
}

pub fn on_msg(state: &mut AppState, msg: OpsMsg, cache: &Cache, now: DateTime<Utc>) -> Updated {
    match msg {
        OpsMsg::RecoveryPlanned { id, result } => {
            let waiting = matches!(&state.dialog, Some(Dialog::Planning { id: w, .. }) if *w == id);
            let pending = state.ops.pending.take();
            let Some((_, spec)) = pending.filter(|(p, _)| *p == id && waiting) else {
                return Updated::default();
            };
            match result {
                Ok(plan) => {
                    state.dialog = Some(Dialog::Ops(OpsDialog::RecoveryConfirm {
                        spec,
                        plan,
                        typed: String::new(),
                        error: None,
                    }));
                    Updated::redraw()
                }
                Err(e) => {
                    state.dialog = None;
                    say(state, e, Role::Danger)
                }
            }
        }
        OpsMsg::Recovery(news) => {
            let shown = matches!(state.screen().ops, Some(Pane::Recovery { .. }));
            let Some(r) = &mut state.ops.recovery else {
                return Updated::default();
            };
            let done = matches!(news, RecoveryMsg::Finished(_) | RecoveryMsg::Failed(_));
            r.apply(news);
            if done {
                let verdict = |v: Verdict| match v {
                    Verdict::Pass => "PASS",
                    Verdict::Fail => "FAIL",
                };
                let text = match (&r.outcome, shown) {
                    (Some(Ok(s)), true) => {
                        format!("recovery test of {}: {}", r.title, verdict(s.verdict))
                    }
                    (Some(Ok(s)), false) => format!(
                        "recovery test of {}: {}; :recovery shows the timeline",
                        r.title,
                        verdict(s.verdict)
                    ),
                    _ => format!(
                        "recovery test of {} did not run; :recovery says why",
                        r.title
                    ),
                };
                return say(state, text, Role::Info);
            }
            Updated {
                redraw: shown,
                effects: Vec::new(),
            }
        }
        OpsMsg::Runbooks(listed) => {
            state.ops.listed = listed;
            push_pane(state, Pane::Runbooks { selected: 0 }, "runbooks");
            Updated::redraw()
        }
        OpsMsg::RunbookVars { id, name, result } => {
            if state.ops.opening != Some(id) {
                return Updated::default();
            }
            match result {
                Ok(vars) if vars.is_empty() => effect(OpsEffect::OpenRunbook {
                    id,
                    name,
                    vars: Default::default(),
                }),
                Ok(vars) => {
                    state.message = None;
                    state.dialog = Some(Dialog::Ops(OpsDialog::RunbookVars {
                        id,
                        name,
                        vars,
                        focus: 0,
                    }));
                    Updated::redraw()
                }
                Err(e) => {
                    state.ops.opening = None;
                    say(state, e, Role::Danger)
                }
            }
        }
        OpsMsg::RunbookOpened { id, result } => {
            if state.ops.opening != Some(id) {
                return Updated::default();
            }
            state.ops.opening = None;
            match result {
                Ok(info) => {
                    let crumb = format!("runbook {}", info.name);
                    state.message = Some((
                        format!(
                            "{}: enter runs the next step, a runs until the next gate",
                            info.title
                        ),
                        Role::Info,
                    ));
                    state.ops.runbook = Some(RunbookLive::new(id, info));
                    push_pane(state, Pane::Runbook { scroll: 0 }, &crumb);
                    Updated::redraw()
                }
                Err(e) => say(state, e, Role::Danger),
            }
        }
        OpsMsg::Runbook { id, msg } => on_runbook_msg(state, id, msg, cache, now),
    }
}

fn on_runbook_msg(
    state: &mut AppState,
    id: u64,
    msg: RunbookMsg,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    let Some(rb) = state.ops.runbook.as_mut().filter(|r| r.id == id) else {
        return Updated::default();
    };
    let mut show = None;
    let mut ask = None;
    match msg {
        RunbookMsg::Live(line) => rb.live.push(line),
        RunbookMsg::Recovery(news) => {
            if let RecoveryMsg::Started { target, .. } = &news {
                rb.recovery = Some(RecoveryLive::new(target));
            }
            if let Some(r) = &mut rb.recovery {
                r.apply(news);
            }
        }
        RunbookMsg::Saved(saved) => rb.saved = Some(saved),
        RunbookMsg::Snapshot(snap) => {
            if snap.busy {
                rb.live.clear();
            }
            if let Some((i, kubedeck_core::runbooks::Status::Passed)) = snap.stepped
                && let Some(target) = rb.info.steps.get(i).and_then(|s| s.show.clone())
            {
                show = Some((i, target));
            }
            if snap.waiting.is_some() && state.dialog.is_none() {
                ask = snap.waiting.clone();
            }
            rb.snapshot = snap;
        }
    }
    if let Some(prompt) = ask {
        state.dialog = Some(Dialog::Ops(OpsDialog::Gate {
            id,
            prompt,
            typed: String::new(),
        }));
    }
    let mut out = Updated::redraw();
    if let Some((i, target)) = show {
        out.effects = open_show(state, i, &target, cache, now);
    }
    out
}

/// A `show` step: the named view with its filter, pushed above the
/// runbook so that Esc returns to it. `logs` with a label filter streams the
/// matching pods' logs over their pods view.
fn open_show(
    state: &mut AppState,
    step: usize,
    target: &runbook_view::ShowTarget,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Vec<Effect> {
    let namespace = target.namespace.clone().or_else(|| state.namespace.clone());
    let label_filter = target
        .filter
        .as_deref()
        .map(|f| f.trim().trim_start_matches("-l").trim())
        .filter(|f| f.contains('='));
    let (view, note) = match target.view.as_str() {
        "pods" => (View::Pods, None),
        "logs" if label_filter.is_some() && namespace.is_some() => (View::Pods, None),
        "logs" => (
            View::Pods,
            Some(
                "logs: opened the pods view filtered by name (a label filter such as app=web streams the logs); select a pod and press l",
            ),
        ),
        "events" => (View::Events, None),
        "deployments" | "statefulsets" => (View::Workloads, None),
        "services" => (View::Services, None),
        "hpa" => (View::Hpas, None),
        "nodes" => (View::Nodes, None),
        "jobs" => (View::Jobs, None),
        "cronjobs" => (View::CronJobs, None),
        "backups" => (View::Backups, None),
        other => {
            let text = format!("show: kubedeck has no {other} view");
            push_note(state, step, text);
            return Vec::new();
        }
    };
    let filter_text = match &target.filter {
        Some(f) if f.contains('=') && !f.trim_start().starts_with("-l") => format!("-l {f}"),
        Some(f) => f.clone(),
        None => String::new(),
    };
    let filter = match Filter::parse(&filter_text) {
        Ok(f) => f,
        Err(e) => {
            push_note(
                state,
                step,
                format!("show: the filter {filter_text:?} is not valid: {e}"),
            );
            Filter::All
        }
    };
    let query = Query {
        namespace: namespace.clone(),
        filter,
        ..Query::default()
    };
    let crumb = format!("show {}", target.view);
    let mut screen = Screen::new(view, query, crumb);
    screen.filter_text = filter_text;
    let page = state.page;
    refresh(&mut screen, cache, now, page);
    state.stack.push(screen);
    let mut text = format!("opened the {} view", target.view);
    if let Some(f) = &target.filter {
        text.push_str(&format!(" filtered by {f}"));
    }
    text.push_str(if target.filter.is_some() {
        "; esc clears the filter, esc again returns to the runbook"
    } else {
        "; esc returns to the runbook"
    });
    push_note(state, step, note.map_or(text, str::to_string));
    match (target.view.as_str(), label_filter, namespace) {
        ("logs", Some(selector), Some(ns)) => {
            let out = super::logview::open_selector(state, &ns, selector);
            push_note(
                state,
                step,
                format!(
                    "streaming the logs of the pods {selector} in {ns}; esc returns to their pods view"
                ),
            );
            out.effects
        }
        _ => Vec::new(),
    }
}

fn push_note(state: &mut AppState, step: usize, text: String) {
    if let Some(rb) = &mut state.ops.runbook {
        rb.notes.entry(step).or_default().push(text);
    }
}

pub fn dialog_vm(dialog: &OpsDialog, keymap: &Keymap) -> DialogVm {
    let text = |s: String, role: Role| vec![Cell::new(s, role)];
    match dialog {
        OpsDialog::RecoveryConfirm {
            spec,
            plan,
            typed,
            error,
        } => {
            let mut lines: Vec<Vec<Cell>> = vec![vec![
                Cell::new(format!("{:<14}", "context"), Role::Muted),
                Cell::text(plan.context.clone()),
            ]];
            for l in &plan.lines {
                lines.push(text(format!("  • {l}"), Role::Text));
            }
            if plan.protected {
                lines.push(Vec::new());
                lines.push(text(
                    format!(
                        "context {} is protected: type {:?} to confirm",
                        plan.context, spec.target.name
                    ),
                    Role::Warning,
                ));
                lines.push(vec![
                    Cell::new(format!("{:>14}", "name  "), Role::Accent),
                    Cell::new(format!("{typed}▏"), Role::Selection),
                ]);
            }
            if let Some(e) = error {
                lines.push(Vec::new());
                lines.push(text(e.clone(), Role::Danger));
            }
            lines.push(Vec::new());
            lines.push(hints(
                keymap,
                Mode::Dialog,
                &[(Action::Accept, "start the test"), (Action::Back, "cancel")],
            ));
            DialogVm {
                title: format!(
                    "Recovery test of {}/{}",
                    spec.target.kind.singular(),
                    spec.target.name
                ),
                lines,
                danger: true,
            }
        }
        OpsDialog::RunbookVars {
            name, vars, focus, ..
        } => {
            let width = vars
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            let mut lines: Vec<Vec<Cell>> = vec![
                text(
                    "Its variables, with their defaults; change any before it starts.".into(),
                    Role::Muted,
                ),
                Vec::new(),
            ];
            for (i, (k, v)) in vars.iter().enumerate() {
                let (value, role) = if i == *focus {
                    (format!("{v}▏"), Role::Selection)
                } else {
                    (v.clone(), Role::Text)
                };
                lines.push(vec![
                    Cell::new(format!("{k:>width$}  "), Role::Accent),
                    Cell::new(value, role),
                ]);
            }
            lines.push(Vec::new());
            lines.push(hints(
                keymap,
                Mode::Dialog,
                &[
                    (Action::Accept, "open"),
                    (Action::NextField, "next"),
                    (Action::Back, "cancel"),
                ],
            ));
            DialogVm {
                title: format!("Runbook {name}"),
                lines,
                danger: false,
            }
        }
        OpsDialog::Gate { prompt, typed, .. } => {
            let mut lines = Vec::new();
            match prompt {
                Prompt::Confirm(q) => {
                    lines.push(text(q.clone(), Role::Text));
                    lines.push(Vec::new());
                    let mut keys = hints(keymap, Mode::Dialog, &[(Action::Accept, "yes")]);
                    keys.push(Cell::new("  <n>", Role::Key));
                    keys.push(Cell::new(" no", Role::Muted));
                    keys.push(Cell::text("  "));
                    keys.extend(hints(keymap, Mode::Dialog, &[(Action::Back, "later")]));
                    lines.push(keys);
                }
                Prompt::TypeName { expected, action } => {
                    lines.push(text(action.clone(), Role::Text));
                    lines.push(text(
                        format!("this context is protected: type {expected:?} to confirm"),
                        Role::Warning,
                    ));
                    lines.push(vec![
                        Cell::new(format!("{:>14}", "name  "), Role::Accent),
                        Cell::new(format!("{typed}▏"), Role::Selection),
                    ]);
                    lines.push(Vec::new());
                    lines.push(hints(
                        keymap,
                        Mode::Dialog,
                        &[(Action::Accept, "confirm"), (Action::Back, "later")],
                    ));
                }
            }
            DialogVm {
                title: "Runbook".into(),
                lines,
                danger: matches!(prompt, Prompt::TypeName { .. }),
            }
        }
    }
}

pub fn pane_vm(state: &AppState, pane: &Pane, keymap: &Keymap) -> PanelVm {
    type Parts<'a> = (String, Vec<Vec<Cell>>, usize, Vec<(Action, &'a str)>);
    let (title, lines, scroll, keys): Parts = match pane {
        Pane::Recovery { scroll } => {
            let r = state.ops.recovery.clone().unwrap_or_default();
            (
                format!("Recovery test of {}", r.title),
                r.lines(8, true),
                *scroll,
                vec![(Action::Back, "back (the test keeps running)")],
            )
        }
        Pane::Runbooks { selected } => {
            let mut lines = Vec::new();
            for (i, l) in state.ops.listed.iter().enumerate() {
                let role = if i == *selected {
                    Role::Selection
                } else {
                    Role::Text
                };
                lines.push(vec![Cell::new(
                    format!("{:<22} {:<8} {}", l.name, l.source, l.title),
                    role,
                )]);
            }
            (
                format!("Runbooks[{}]", state.ops.listed.len()),
                lines,
                0,
                vec![(Action::Enter, "open"), (Action::Back, "back")],
            )
        }
        Pane::Runbook { scroll } => match &state.ops.runbook {
            Some(rb) => (
                format!("Runbook {} — {}", rb.info.name, rb.info.title),
                rb.lines(),
                *scroll,
                vec![
                    (Action::Enter, "next step / answer"),
                    (Action::RunToGate, "run to the next gate"),
                    (Action::Back, "back"),
                ],
            ),
            None => (
                "Runbook".into(),
                Vec::new(),
                0,
                vec![(Action::Back, "back")],
            ),
        },
    };
    let scroll = scroll.min(lines.len().saturating_sub(1));
    let mut lines: Vec<Vec<Cell>> = lines.into_iter().skip(scroll).collect();
    lines.insert(0, hints(keymap, Mode::Normal, &keys));
    PanelVm { title, lines }
}
