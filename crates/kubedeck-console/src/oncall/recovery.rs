//! The pod-kill recovery test in the console: the form started from a
//! workload row, the confirmation once the runtime has inspected the
//! workload, and the live timeline fed by the test's news. The timeline's
//! model and lines are `recovery_view`'s.

use std::time::Duration;

use super::recovery_view::{RecoveryLive, RecoveryMsg, RecoverySpec};
use super::{OpsDialog, OpsEffect, Pane, PaneParts, RecoveryPlan, edit, effect, push_pane, say};
use crate::dialog::{Dialog, EARLY_ACCEPT_NOTE, EarlyKey, Field, Form, FormKind};
use crate::input::action::{Action, View};
use crate::input::key::Key;
use crate::input::keymap::Keymap;
use crate::panels::{dialog_footer, protected_lines};
use crate::state::AppState;
use crate::theme::Role;
use crate::update::{Effect, Updated};
use crate::view_model::DialogVm;
use crate::views::Cell;
use kubedeck_core::actions::WorkloadRef;
use kubedeck_core::ops::recovery::KillMode;
use kubedeck_core::ops::timeline::Verdict;
use kubedeck_kube::duration;

/// The workload of the selected row, or of the panel shown.
fn selected_workload(state: &AppState) -> Option<WorkloadRef> {
    let screen = state.screen();
    if let Some(panel) = screen.panel() {
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

fn choice(label: &'static str, choices: &[&str]) -> Field {
    Field::choice(label, choices.iter().map(|c| (*c).to_string()).collect())
}

/// `x`: the form of a recovery test of the selected workload.
pub(super) fn form(state: &mut AppState) -> Updated {
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
            choice("kill", &MODES),
            Field::text("N or percent", "1"),
            choice("deletion", &[GRACEFUL, FORCED]),
            Field::text("iterations", "1"),
            Field::text("interval", "10s"),
            Field::text("SLO", "30s"),
            Field::text("min endpoints", "1"),
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
pub(super) fn spec(form: &Form) -> Result<RecoverySpec, String> {
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

/// Enter on the form: the runtime inspects the workload for the
/// confirmation while a dialog waits; other keys are the form's own.
pub(super) fn form_key(state: &mut AppState, action: Option<&Action>) -> Option<Updated> {
    if action != Some(&Action::Accept) {
        return None;
    }
    let Some(Dialog::Form(form)) = &mut state.dialog else {
        return None;
    };
    match spec(form) {
        Ok(spec) => {
            let summary = format!(
                "Recovery test of {}",
                form.title.trim_start_matches("Recovery test of ")
            );
            state.requests += 1;
            let id = state.requests;
            state.dialog = Some(Dialog::Planning {
                id,
                summary,
                early: None,
            });
            state.ops.pending = Some((id, spec.clone()));
            Some(effect(OpsEffect::InspectRecovery { id, spec }))
        }
        Err(e) => {
            form.error = Some(e);
            Some(Updated::redraw())
        }
    }
}

/// Keys on the confirmation: Enter starts the test (with the typed name in
/// a protected context) and shows its timeline.
pub(super) fn confirm_key(state: &mut AppState, key: Key, action: Option<&Action>) -> Updated {
    let Some(Dialog::Ops(OpsDialog::RecoveryConfirm {
        spec,
        plan,
        typed,
        error,
        ..
    })) = &mut state.dialog
    else {
        return Updated::default();
    };
    match action {
        Some(Action::Back) => {
            state.dialog = None;
            say(state, "cancelled: nothing was changed", Role::Muted)
        }
        Some(Action::Accept) => {
            if plan.protected && typed.trim() != spec.target.name {
                *error = Some(format!(
                    "type {:?} to confirm; nothing was done",
                    spec.target.name
                ));
                return Updated::redraw();
            }
            let spec = spec.clone();
            state.dialog = None;
            state.ops.recovery = Some(RecoveryLive::new(&spec.target));
            push_pane(state, Pane::Recovery { scroll: 0 }, "recovery");
            state.message = Some((
                "recovery test started; esc leaves it running, :recovery shows it again".into(),
                Role::Info,
            ));
            effect(OpsEffect::StartRecovery { spec })
        }
        _ => Updated {
            redraw: plan.protected && edit(typed, key),
            effects: Vec::new(),
        },
    }
}

/// The runtime's inspection: the confirmation, unless the dialog waiting
/// for it was closed.
pub(super) fn on_planned(
    state: &mut AppState,
    id: u64,
    result: Result<RecoveryPlan, String>,
) -> Updated {
    let (waiting, early_accept) = match &state.dialog {
        Some(Dialog::Planning { id: w, early, .. }) if *w == id => {
            (true, *early == Some(EarlyKey::Accept))
        }
        _ => (false, false),
    };
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
                early_accept,
            }));
            Updated::redraw()
        }
        Err(e) => {
            state.dialog = None;
            say(state, e, Role::Danger)
        }
    }
}

/// News of the running test; its end is said wherever the user is.
pub(super) fn on_news(state: &mut AppState, news: RecoveryMsg) -> Updated {
    let shown = matches!(state.screen().ops(), Some(Pane::Recovery { .. }));
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

pub(super) fn confirm_vm(
    spec: &RecoverySpec,
    plan: &RecoveryPlan,
    typed: &str,
    error: Option<&String>,
    early_accept: bool,
    keymap: &Keymap,
) -> DialogVm {
    let text = |s: String, role: Role| vec![Cell::new(s, role)];
    let mut lines: Vec<Vec<Cell>> = vec![vec![
        Cell::new(format!("{:<14}", "context"), Role::Muted),
        Cell::text(plan.context.clone()),
    ]];
    for l in &plan.lines {
        lines.push(text(format!("  • {l}"), Role::Text));
    }
    if plan.protected {
        protected_lines(&mut lines, &plan.context, &spec.target.name, typed);
    }
    if early_accept {
        lines.push(Vec::new());
        lines.push(text(EARLY_ACCEPT_NOTE.into(), Role::Warning));
    }
    dialog_footer(
        &mut lines,
        error,
        keymap,
        &[(Action::Accept, "start the test"), (Action::Back, "cancel")],
    );
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

pub(super) fn pane(state: &AppState, scroll: usize) -> PaneParts {
    let r = state.ops.recovery.clone().unwrap_or_default();
    PaneParts {
        title: format!("Recovery test of {}", r.title),
        lines: r.lines(8, true),
        scroll,
        keys: vec![(Action::Back, "back (the test keeps running)")],
    }
}
