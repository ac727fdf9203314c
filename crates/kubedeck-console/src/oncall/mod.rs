//! On-call operations in the console: the pod-kill recovery test started
//! from a workload row (form → confirmation → live timeline, `recovery`)
//! and runbooks run step by step (`:runbooks`, `runbooks`), and following a
//! backup run (`backup_view`). Pure like `update`: the work happens in
//! background tasks (`tasks`) that the runtime starts from `OpsEffect`s and
//! that answer with `OpsMsg`s. This file holds what they share and routes
//! keys, messages and drawing to them.
//!
//! A recovery test keeps running when its pane is left with Esc: the kills
//! are already under way and stopping half-way would leave nothing to
//! measure; `:recovery` shows the pane again.

#[cfg(test)]
mod backup_tests;
pub(crate) mod backup_view;
mod pf_tasks;
pub(crate) mod portforward;
mod recovery;
pub(crate) mod recovery_view;
pub(crate) mod runbook_view;
mod runbooks;
pub(crate) mod tasks;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::dialog::{Dialog, FormKind};
use super::input::action::Action;
use super::input::key::{Code, Key};
use super::input::keymap::{Keymap, Mode};
use super::panels::hints;
use super::state::{AppState, Body};
use super::theme::Role;
use super::update::{Effect, Updated};
use super::view_model::{DialogVm, PanelVm};
use super::views::Cell;
use kubedeck_core::runbooks::Prompt;
use recovery_view::{RecoveryLive, RecoveryMsg, RecoverySpec};
use runbook_view::{Listed, RunbookCmd, RunbookInfo, RunbookLive, RunbookMsg};

/// What an ops screen shows instead of a table; the data is in `OpsState`
/// (`PortForwards` is `:pf`, the forwards running).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pane {
    Recovery { scroll: usize },
    Runbooks { selected: usize },
    Runbook { scroll: usize },
    PortForwards { selected: usize },
}

/// Recovery tests and runbook runs outlive the screens that show them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OpsState {
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
    /// `:rb NAME`: the runbook to open once the list comes.
    pub(crate) open_named: Option<String>,
    /// The port-forwards running, as the runtime last reported them.
    pub forwards: Vec<portforward::ForwardRow>,
    /// The port-forward whose ports are being read for its form.
    pf_pending: Option<(u64, kubedeck_core::portforward::Target)>,
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
    /// The answer to `InspectPortForward`: the target's ports to offer.
    PortForwardPorts {
        id: u64,
        result: Result<Vec<kubedeck_core::portforward::Offer>, String>,
    },
    /// A forward started or stopped (what to say), or why not.
    PortForwardNote(Result<String, String>),
    /// The forwards running now, with their traffic.
    Forwards(Vec<portforward::ForwardRow>),
}

/// What the confirmation of a recovery test shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPlan {
    pub(crate) lines: Vec<String>,
    pub(crate) context: String,
    /// A protected context: the workload's name must be typed.
    pub(crate) protected: bool,
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
    /// Read the ports a port-forward target offers, answering with
    /// `OpsMsg::PortForwardPorts`.
    InspectPortForward {
        id: u64,
        target: kubedeck_core::portforward::Target,
    },
    /// Check (read-only, RBAC), start and audit a forward; it runs until
    /// stopped or the console exits.
    StartPortForward {
        target: kubedeck_core::portforward::Target,
        spec: kubedeck_core::portforward::PortSpec,
    },
    StopPortForward {
        id: u64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OpsDialog {
    RecoveryConfirm {
        spec: RecoverySpec,
        plan: RecoveryPlan,
        typed: String,
        error: Option<String>,
        /// Enter came while the test was being planned: it started nothing.
        early_accept: bool,
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
    Updated::with(Effect::Ops(effect))
}

/// Shows `pane`: in place of one of its kind on top, else over the screen.
fn push_pane(state: &mut AppState, pane: Pane, crumb: &str) {
    let same = |p: &Pane| std::mem::discriminant(p) == std::mem::discriminant(&pane);
    if state.screen().ops().is_some_and(same) {
        state.screen_mut().body = Body::Ops(pane);
        return;
    }
    state.push_over(crumb, Body::Ops(pane));
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

/// Types into a dialog's text: a character, or Backspace.
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

/// `:recovery` and `:runbooks`; None for every other command.
pub(crate) fn on_command(state: &mut AppState, line: &str) -> Option<Updated> {
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
        line if line
            .split_once(' ')
            .is_some_and(|(c, _)| matches!(c, "runbooks" | "runbook" | "rb")) =>
        {
            let name = line.split_once(' ').map_or("", |(_, n)| n.trim());
            state.ops.open_named = Some(name.to_string());
            Some(effect(OpsEffect::ListRunbooks))
        }
        "pf" | "portforward" | "portforwards" | "port-forward" | "port-forwards" => {
            push_pane(state, Pane::PortForwards { selected: 0 }, "port-forwards");
            Some(Updated::redraw())
        }
        _ => None,
    }
}

/// This module's keys on any screen but its own panes: the recovery test
/// of the selected workload, and word of where run-to-gate works.
pub(crate) fn on_action(state: &mut AppState, action: &Action) -> Option<Updated> {
    match action {
        Action::RecoveryTest => Some(recovery::form(state)),
        Action::PortForward => Some(portforward::open(state)),
        Action::RunToGate => Some(say(
            state,
            "run until the next gate works in a runbook: open one with :runbooks",
            Role::Muted,
        )),
        _ => None,
    }
}

/// Keys on an ops pane; None leaves the key to what works on any screen.
pub(crate) fn on_pane_action(state: &mut AppState, pane: Pane, action: &Action) -> Option<Updated> {
    match pane {
        Pane::Runbooks { selected } => runbooks::list_key(state, selected, action),
        Pane::Runbook { scroll } => runbooks::run_key(state, scroll, action),
        Pane::PortForwards { selected } => portforward::pane_key(state, selected, action),
        Pane::Recovery { scroll } => {
            let next = scrolled(scroll, action)?;
            state.screen_mut().body = Body::Ops(Pane::Recovery { scroll: next });
            Some(Updated::redraw())
        }
    }
}

/// Keys for the dialogs this module owns; None leaves the key to `act`.
pub(crate) fn on_dialog_key(state: &mut AppState, key: Key, keymap: &Keymap) -> Option<Updated> {
    let action = keymap.resolve(Mode::Dialog, key);
    match state.dialog.as_ref()? {
        Dialog::Form(form) if matches!(form.kind, FormKind::RecoveryTest { .. }) => {
            recovery::form_key(state, action)
        }
        Dialog::Form(form) if matches!(form.kind, FormKind::PortForward { .. }) => {
            portforward::form_key(state, action)
        }
        Dialog::Ops(OpsDialog::RecoveryConfirm { .. }) => {
            Some(recovery::confirm_key(state, key, action))
        }
        Dialog::Ops(OpsDialog::RunbookVars { .. }) => Some(runbooks::vars_key(state, key, action)),
        Dialog::Ops(OpsDialog::Gate { .. }) => Some(runbooks::gate_key(state, key, action)),
        _ => None,
    }
}

pub(crate) fn on_msg(
    state: &mut AppState,
    msg: OpsMsg,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    match msg {
        OpsMsg::RecoveryPlanned { id, result } => recovery::on_planned(state, id, result),
        OpsMsg::Recovery(news) => recovery::on_news(state, news),
        OpsMsg::Runbooks(listed) => runbooks::on_listed(state, listed),
        OpsMsg::RunbookVars { id, name, result } => runbooks::on_vars(state, id, name, result),
        OpsMsg::RunbookOpened { id, result } => runbooks::on_opened(state, id, result),
        OpsMsg::Runbook { id, msg } => runbooks::on_run_msg(state, id, msg, cache, now),
        OpsMsg::PortForwardPorts { id, result } => portforward::on_ports(state, id, result),
        OpsMsg::PortForwardNote(note) => portforward::on_note(state, note),
        OpsMsg::Forwards(rows) => portforward::on_rows(state, rows),
    }
}

pub(crate) fn dialog_vm(dialog: &OpsDialog, keymap: &Keymap) -> DialogVm {
    match dialog {
        OpsDialog::RecoveryConfirm {
            spec,
            plan,
            typed,
            error,
            early_accept,
        } => recovery::confirm_vm(spec, plan, typed, error.as_ref(), *early_accept, keymap),
        OpsDialog::RunbookVars {
            name, vars, focus, ..
        } => runbooks::vars_vm(name, vars, *focus, keymap),
        OpsDialog::Gate { prompt, typed, .. } => runbooks::gate_vm(prompt, typed, keymap),
    }
}

/// What an ops pane shows: its title, its lines from the first shown, and
/// the keys its hint line names.
struct PaneParts {
    title: String,
    lines: Vec<Vec<Cell>>,
    scroll: usize,
    keys: Vec<(Action, &'static str)>,
}

pub(crate) fn pane_vm(state: &AppState, pane: &Pane, keymap: &Keymap) -> PanelVm {
    let PaneParts {
        title,
        lines,
        scroll,
        keys,
    } = match pane {
        Pane::Recovery { scroll } => recovery::pane(state, *scroll),
        Pane::Runbooks { selected } => runbooks::list_pane(state, *selected),
        Pane::Runbook { scroll } => runbooks::run_pane(state, *scroll),
        Pane::PortForwards { selected } => portforward::pane(state, *selected),
    };
    let scroll = scroll.min(lines.len().saturating_sub(1));
    let mut lines: Vec<Vec<Cell>> = lines.into_iter().skip(scroll).collect();
    lines.insert(0, hints(keymap, Mode::Normal, &keys));
    PanelVm { title, lines }
}
