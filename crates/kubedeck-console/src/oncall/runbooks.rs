//! Runbooks in the console: the `:runbooks` list, the dialog of a
//! runbook's variables, the run's pane driven step by step, its questions
//! (gates), and the views its `show` steps open. The run's model and lines
//! are `runbook_view`'s; the run itself is a task of the runtime's.

use chrono::{DateTime, Utc};

use super::recovery_view::{RecoveryLive, RecoveryMsg};
use super::runbook_view::{Listed, RunbookCmd, RunbookInfo, RunbookLive, RunbookMsg, ShowTarget};
use super::{OpsDialog, OpsEffect, Pane, PaneParts, edit, effect, push_pane, say, scrolled};
use crate::cluster::Cache;
use crate::dialog::Dialog;
use crate::filter::Filter;
use crate::input::action::{Action, View};
use crate::input::key::{Code, Key};
use crate::input::keymap::{Keymap, Mode};
use crate::logview;
use crate::panels::{hints, name_field};
use crate::state::{AppState, Body, Screen};
use crate::theme::Role;
use crate::update::{Effect, Updated, refresh_current};
use crate::view_model::DialogVm;
use crate::views::{Cell, Query};
use kubedeck_core::runbooks::{Input, Prompt, Status};

/// Keys on the list of runbooks; Enter opens the one selected.
pub(super) fn list_key(state: &mut AppState, selected: usize, action: &Action) -> Option<Updated> {
    let n = state.ops.listed.len();
    let next = match action {
        Action::Down => (selected + 1).min(n.saturating_sub(1)),
        Action::Up => selected.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => n.saturating_sub(1),
        Action::Enter => {
            let listed = state.ops.listed.get(selected)?.clone();
            return Some(open(state, listed));
        }
        Action::PageUp
        | Action::PageDown
        | Action::Filter
        | Action::SortNext
        | Action::SortReverse
        | Action::SortBy(_)
        | Action::ToggleFaults
        | Action::Describe
        | Action::Yaml
        | Action::RecoveryTest
        | Action::RunToGate => {
            return Some(Updated::default());
        }
        _ => return None,
    };
    state.screen_mut().body = Body::Ops(Pane::Runbooks { selected: next });
    Some(Updated::redraw())
}

/// Opens a listed runbook: back to its pane while it runs, else its
/// variables are read for the dialog that sets them.
fn open(state: &mut AppState, listed: Listed) -> Updated {
    if let Some(rb) = &state.ops.runbook
        && !rb.finished()
        && rb
            .snapshot
            .states
            .iter()
            .any(|s| s.status != Status::Pending)
    {
        if rb.info.name == listed.name {
            push_pane(
                state,
                Pane::Runbook { scroll: 0 },
                &format!("runbook {}", listed.name),
            );
            return Updated::redraw();
        }
        let text = format!(
            "runbook {} is still running: finish it before starting another",
            rb.info.name
        );
        return say(state, text, Role::Warning);
    }
    state.requests += 1;
    let id = state.requests;
    state.ops.opening = Some(id);
    state.message = Some((format!("opening runbook {}…", listed.name), Role::Info));
    effect(OpsEffect::ReadRunbookVars {
        id,
        name: listed.name,
        namespace: state.namespace.clone(),
    })
}

/// Keys on a run's pane: Enter runs the next step or asks the pending
/// question again, `a` runs until the next gate.
pub(super) fn run_key(state: &mut AppState, scroll: usize, action: &Action) -> Option<Updated> {
    if let Some(next) = scrolled(scroll, action) {
        state.screen_mut().body = Body::Ops(Pane::Runbook { scroll: next });
        return Some(Updated::redraw());
    }
    let cmd = match action {
        Action::Enter => RunbookCmd::Step,
        Action::RunToGate => RunbookCmd::ToGate,
        Action::Bottom
        | Action::Filter
        | Action::SortNext
        | Action::SortReverse
        | Action::SortBy(_)
        | Action::ToggleFaults
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

/// Keys on the dialog of a runbook's variables.
pub(super) fn vars_key(state: &mut AppState, key: Key, action: Option<&Action>) -> Updated {
    let Some(Dialog::Ops(OpsDialog::RunbookVars {
        id,
        name,
        vars,
        focus,
    })) = &mut state.dialog
    else {
        return Updated::default();
    };
    let n = vars.len().max(1);
    match action {
        Some(Action::Back) => {
            state.dialog = None;
            state.ops.opening = None;
            say(state, "cancelled: the runbook was not opened", Role::Muted)
        }
        Some(Action::Accept) => {
            let out = OpsEffect::OpenRunbook {
                id: *id,
                name: name.clone(),
                vars: vars.iter().cloned().collect(),
            };
            state.dialog = None;
            effect(out)
        }
        Some(Action::NextField) => {
            *focus = (*focus + 1) % n;
            Updated::redraw()
        }
        Some(Action::PrevField) => {
            *focus = (*focus + n - 1) % n;
            Updated::redraw()
        }
        _ => {
            let redraw = vars.get_mut(*focus).is_some_and(|(_, v)| edit(v, key));
            Updated {
                redraw,
                effects: Vec::new(),
            }
        }
    }
}

/// Keys on a run's question: yes or no, or the typed name.
pub(super) fn gate_key(state: &mut AppState, key: Key, action: Option<&Action>) -> Updated {
    let Some(Dialog::Ops(OpsDialog::Gate { id, prompt, typed })) = &mut state.dialog else {
        return Updated::default();
    };
    let id = *id;
    let answer = match (&*prompt, action, key.code) {
        (_, Some(Action::Back), _) => {
            state.dialog = None;
            return say(
                state,
                "the runbook waits for your answer: enter in its pane asks again",
                Role::Muted,
            );
        }
        (Prompt::Confirm(_), Some(Action::Accept), _) => Input::Yes,
        (Prompt::Confirm(_), _, Code::Char('y' | 'Y')) => Input::Yes,
        (Prompt::Confirm(_), _, Code::Char('n' | 'N')) => Input::No,
        (Prompt::TypeName { .. }, Some(Action::Accept), _) => {
            Input::Typed(typed.trim().to_string())
        }
        (Prompt::TypeName { .. }, _, _) => {
            return Updated {
                redraw: edit(typed, key),
                effects: Vec::new(),
            };
        }
        _ => return Updated::default(),
    };
    state.dialog = None;
    if let Some(rb) = &mut state.ops.runbook {
        rb.snapshot.waiting = None;
        rb.snapshot.busy = true;
    }
    effect(OpsEffect::Runbook {
        id,
        cmd: RunbookCmd::Answer(answer),
    })
}

/// The `:runbooks` listing.
pub(super) fn on_listed(state: &mut AppState, listed: Vec<Listed>) -> Updated {
    state.ops.listed = listed;
    push_pane(state, Pane::Runbooks { selected: 0 }, "runbooks");
    // `:rb NAME` opens it from the list, or says there is none.
    if let Some(name) = state.ops.open_named.take() {
        match state.ops.listed.iter().position(|l| l.name == name) {
            Some(i) => {
                state.screen_mut().body = Body::Ops(Pane::Runbooks { selected: i });
                let chosen = state.ops.listed[i].clone();
                return open(state, chosen);
            }
            None => {
                return say(
                    state,
                    format!("no runbook {name:?}: the list shows those there are"),
                    Role::Warning,
                );
            }
        }
    }
    Updated::redraw()
}

/// A runbook's variables: a dialog to set them, or straight on to opening
/// it when it has none.
pub(super) fn on_vars(
    state: &mut AppState,
    id: u64,
    name: String,
    result: Result<Vec<(String, String)>, String>,
) -> Updated {
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

/// The runbook is loaded into a task: its pane opens.
pub(super) fn on_opened(
    state: &mut AppState,
    id: u64,
    result: Result<RunbookInfo, String>,
) -> Updated {
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

/// News of the run: its steps' states, live output, a question to ask, a
/// view a `show` step opens.
pub(super) fn on_run_msg(
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
            if let Some((i, Status::Passed)) = snap.stepped
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
    target: &ShowTarget,
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
    state.stack.push(screen);
    refresh_current(state, cache, now);
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
            let out = logview::open_selector(state, &ns, selector);
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

pub(super) fn vars_vm(
    name: &str,
    vars: &[(String, String)],
    focus: usize,
    keymap: &Keymap,
) -> DialogVm {
    let width = vars
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Vec<Cell>> = vec![
        vec![Cell::new(
            "Its variables, with their defaults; change any before it starts.",
            Role::Muted,
        )],
        Vec::new(),
    ];
    for (i, (k, v)) in vars.iter().enumerate() {
        let (value, role) = if i == focus {
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

pub(super) fn gate_vm(prompt: &Prompt, typed: &str, keymap: &Keymap) -> DialogVm {
    let text = |s: String, role: Role| vec![Cell::new(s, role)];
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
            lines.push(name_field(typed));
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

pub(super) fn list_pane(state: &AppState, selected: usize) -> PaneParts {
    let mut lines = Vec::new();
    for (i, l) in state.ops.listed.iter().enumerate() {
        let role = if i == selected {
            Role::Selection
        } else {
            Role::Text
        };
        lines.push(vec![Cell::new(
            format!("{:<22} {:<8} {}", l.name, l.source, l.title),
            role,
        )]);
    }
    PaneParts {
        title: format!("Runbooks[{}]", state.ops.listed.len()),
        lines,
        scroll: 0,
        keys: vec![(Action::Enter, "open"), (Action::Back, "back")],
    }
}

pub(super) fn run_pane(state: &AppState, scroll: usize) -> PaneParts {
    match &state.ops.runbook {
        Some(rb) => PaneParts {
            title: format!("Runbook {} — {}", rb.info.name, rb.info.title),
            lines: rb.lines(),
            scroll,
            keys: vec![
                (Action::Enter, "next step / answer"),
                (Action::RunToGate, "run to the next gate"),
                (Action::Back, "back"),
            ],
        },
        None => PaneParts {
            title: "Runbook".into(),
            lines: Vec::new(),
            scroll: 0,
            keys: vec![(Action::Back, "back")],
        },
    }
}
