//! View models of the action panes: rollout progress, revision history with
//! its template diff, and the dialogs (form, planning, confirm). Text only,
//! from the cache and a clock, so frames are reproducible in tests.

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::dialog::{ConfirmDialog, Dialog, Form, FormKind};
use super::input::action::Action;
use super::input::keymap::{Keymap, Mode};
use super::rollout::{self, DiffLine, Progress, RolloutState};
use super::state::Panel;
use super::theme::Role;
use super::view_model::{DialogVm, PanelVm};
use super::views::{Cell, age, truncate};

/// Width of the progress bar, in cells.
const BAR: usize = 30;
/// Unchanged lines shown around each change of a template diff.
const DIFF_CONTEXT: usize = 2;

fn text(s: impl Into<String>, role: Role) -> Vec<Cell> {
    vec![Cell::new(s, role)]
}

fn key_in(keymap: &Keymap, mode: Mode, action: Action) -> String {
    keymap
        .bindings(mode)
        .into_iter()
        .find(|(a, _)| *a == action)
        .and_then(|(_, keys)| keys.first().map(|k| k.to_string()))
        .unwrap_or_else(|| "?".into())
}

/// "<u> history  <esc> back", from the keymap so hints never lie.
pub(crate) fn hints(keymap: &Keymap, mode: Mode, items: &[(Action, &str)]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (action, label) in items {
        if !cells.is_empty() {
            cells.push(Cell::text("  "));
        }
        cells.push(Cell::new(
            format!("<{}>", key_in(keymap, mode, action.clone())),
            Role::Key,
        ));
        cells.push(Cell::new(format!(" {label}"), Role::Muted));
    }
    cells
}

pub(crate) fn panel(panel: &Panel, cache: &Cache, keymap: &Keymap, now: DateTime<Utc>) -> PanelVm {
    match panel {
        Panel::Rollout { target } => {
            let title = format!(
                "Rollout {}/{} in {}",
                target.kind.singular(),
                target.name,
                target.namespace
            );
            let mut lines = match rollout::progress(cache, target) {
                Some(p) => progress_lines(&p),
                None => vec![text(
                    format!(
                        "{} is not in the cache (deleted, or not synced yet)",
                        target.name
                    ),
                    Role::Warning,
                )],
            };
            lines.push(Vec::new());
            lines.push(hints(
                keymap,
                Mode::Normal,
                &[
                    (Action::Rollback, "history and rollback"),
                    (Action::Pause, "pause/resume"),
                    (Action::Restart, "restart"),
                    (Action::SetImage, "set image"),
                    (Action::Back, "back"),
                ],
            ));
            PanelVm { title, lines }
        }
        Panel::History {
            target,
            selected,
            controller_revisions,
        } => {
            let title = format!(
                "History {}/{} in {}",
                target.kind.singular(),
                target.name,
                target.namespace
            );
            let waiting = target.kind == kubedeck_core::actions::WorkloadKind::StatefulSet
                && controller_revisions.is_none();
            let lines = if waiting {
                vec![text("listing ControllerRevisions…", Role::Muted)]
            } else {
                match rollout::history(cache, target, controller_revisions.as_deref()) {
                    Some((current, template, revs)) => {
                        history_lines(current, &template, &revs, *selected, keymap, now)
                    }
                    None => vec![text(
                        format!(
                            "{} is not in the cache (deleted, or not synced yet)",
                            target.name
                        ),
                        Role::Warning,
                    )],
                }
            };
            PanelVm { title, lines }
        }
    }
}

/// `[██████░░░░] 1/2`
fn bar(done: i32, total: i32) -> String {
    let total_u = total.max(0) as usize;
    let filled = (done.clamp(0, total.max(0)) as usize * BAR)
        .checked_div(total_u)
        .unwrap_or(BAR);
    format!(
        "[{}{}] {done}/{total}",
        "█".repeat(filled),
        "░".repeat(BAR - filled)
    )
}

fn progress_lines(p: &Progress) -> Vec<Vec<Cell>> {
    let (state, role) = match &p.state {
        RolloutState::Complete => ("rollout complete".to_string(), Role::Ok),
        RolloutState::Paused => (
            "paused: changes wait until the rollout is resumed".to_string(),
            Role::Warning,
        ),
        RolloutState::Progressing(why) => (format!("progressing: {why}"), Role::Info),
        RolloutState::Stalled(why) => (format!("STALLED: {why}"), Role::Danger),
    };
    let bar_role = match p.state {
        RolloutState::Complete => Role::Ok,
        RolloutState::Stalled(_) => Role::Danger,
        _ => Role::Info,
    };
    let mut lines = vec![
        text(state, role),
        Vec::new(),
        vec![
            Cell::new("ready on the new revision  ", Role::Muted),
            Cell::new(bar(p.ready, p.desired), bar_role),
        ],
        vec![Cell::new(
            format!(
                "desired {}   updated {}   available {}",
                p.desired, p.updated, p.available
            ),
            Role::Text,
        )],
        Vec::new(),
    ];
    let generation = |label: &str, g: &rollout::Generation, role: Role| {
        vec![
            Cell::new(format!("{label:<4}"), Role::Muted),
            Cell::new(
                format!(
                    "{} (revision {}): {} of {} ready",
                    g.name, g.revision, g.ready, g.replicas
                ),
                role,
            ),
        ]
    };
    match &p.new {
        Some(g) => lines.push(generation("new", g, Role::Text)),
        None => lines.push(text("new  (not created yet)", Role::Muted)),
    }
    if p.old.is_empty() {
        lines.push(text("old  none left", Role::Muted));
    }
    for g in &p.old {
        lines.push(generation("old", g, Role::Muted));
    }
    if !p.problems.is_empty() {
        lines.push(Vec::new());
        lines.push(text("new pods that are stuck:", Role::Warning));
        for problem in &p.problems {
            lines.push(text(format!("  {problem}"), Role::Danger));
        }
    }
    lines
}

fn history_lines(
    current: i64,
    template: &serde_json::Value,
    revs: &[rollout::Revision],
    selected: Option<i64>,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Vec<Vec<Cell>> {
    let numbers: Vec<i64> = revs.iter().map(|r| r.number).collect();
    let chosen = selected.or_else(|| super::act::default_revision(current, &numbers));
    let mut lines = vec![text(
        format!(
            "{:<3}{:<14}{:<44}{:<28}{:<8}{}",
            "", "REVISION", "IMAGES", "CHANGE-CAUSE", "READY", "AGE"
        ),
        Role::Header,
    )];
    if revs.is_empty() {
        lines.push(text("no revisions found", Role::Muted));
    }
    for r in revs {
        let mark = if Some(r.number) == chosen { "▶" } else { "" };
        let number = if r.number == current {
            format!("{} (current)", r.number)
        } else {
            r.number.to_string()
        };
        let role = if Some(r.number) == chosen {
            Role::Selection
        } else {
            Role::Text
        };
        lines.push(text(
            format!(
                "{mark:<3}{number:<14}{:<44}{:<28}{:<8}{}",
                truncate(&r.images.join(", "), 42),
                truncate(
                    if r.change_cause.is_empty() {
                        "<none>"
                    } else {
                        &r.change_cause
                    },
                    26
                ),
                format!("{}/{}", r.ready, r.replicas),
                age(r.created, now),
            ),
            role,
        ));
    }
    lines.push(Vec::new());
    if let Some(rev) = chosen.and_then(|n| revs.iter().find(|r| r.number == n)) {
        if rev.number == current {
            lines.push(text(
                format!("revision {current} is the current one: choose another to compare"),
                Role::Muted,
            ));
        } else {
            lines.push(text(
                format!(
                    "pod template: - revision {current} (current)   + revision {}",
                    rev.number
                ),
                Role::Title,
            ));
            let diff = rollout::line_diff(
                &rollout::yaml_lines(template),
                &rollout::yaml_lines(&rev.template),
            );
            let shown = rollout::hunks(&diff, DIFF_CONTEXT);
            if shown.is_empty() {
                lines.push(text("  the templates are the same", Role::Muted));
            }
            for l in shown {
                lines.push(match l {
                    None => text("  …", Role::Muted),
                    Some(DiffLine::Same(s)) => text(format!("  {s}"), Role::Muted),
                    Some(DiffLine::Removed(s)) => text(format!("- {s}"), Role::Danger),
                    Some(DiffLine::Added(s)) => text(format!("+ {s}"), Role::Ok),
                });
            }
        }
        lines.push(Vec::new());
    }
    let mut keys = vec![Cell::new(
        format!(
            "<{}>/<{}>",
            key_in(keymap, Mode::Normal, Action::Up),
            key_in(keymap, Mode::Normal, Action::Down)
        ),
        Role::Key,
    )];
    keys.push(Cell::new(" choose  ", Role::Muted));
    keys.extend(hints(
        keymap,
        Mode::Normal,
        &[
            (Action::Enter, "roll back to the chosen revision"),
            (Action::Back, "back"),
        ],
    ));
    lines.push(keys);
    lines
}

pub(crate) fn dialog(dialog: &Dialog, keymap: &Keymap) -> DialogVm {
    match dialog {
        Dialog::Form(form) => form_vm(form, keymap),
        Dialog::Planning { summary, early, .. } => {
            let mut lines = vec![text(
                "reading the cluster and checking permissions…",
                Role::Muted,
            )];
            if let Some(early) = early {
                lines.push(text(early.note(), Role::Warning));
            }
            lines.push(hints(keymap, Mode::Dialog, &[(Action::Back, "cancel")]));
            DialogVm {
                title: summary.clone(),
                lines,
                danger: false,
            }
        }
        Dialog::Confirm(c) => confirm_vm(c, keymap),
        Dialog::Ops(d) => super::oncall::dialog_vm(d, keymap),
        Dialog::Edit(p) => edit_problem_vm(p, keymap),
    }
}

/// The most diff lines a confirm dialog shows; the rest are counted.
const DIFF_LINES: usize = 16;

/// An edit's diff, coloured as `diff -u` is read: removed, added, context.
fn diff_lines(lines: &mut Vec<Vec<Cell>>, diff: &[String]) {
    lines.push(Vec::new());
    lines.push(text(
        "diff (as opened → as saved; the server's dry run accepts it)",
        Role::Warning,
    ));
    for l in diff.iter().take(DIFF_LINES) {
        let role = match l.chars().next() {
            Some('+') => Role::Ok,
            Some('-') => Role::Danger,
            Some('@') => Role::Muted,
            _ => Role::Text,
        };
        lines.push(text(
            format!("  {}", kubedeck_core::terminal::safe(l)),
            role,
        ));
    }
    if diff.len() > DIFF_LINES {
        lines.push(text(
            format!("  … {} more diff lines", diff.len() - DIFF_LINES),
            Role::Muted,
        ));
    }
}

fn edit_problem_vm(p: &crate::edit::EditProblem, keymap: &Keymap) -> DialogVm {
    let offer = match (&p.remedy, p.kept) {
        (crate::edit::Remedy::EditAgain, true) => "back to the editor (your edit is kept)",
        (crate::edit::Remedy::EditAgain, false) => "back to the editor",
        (crate::edit::Remedy::Reload, _) => "reload the latest version and edit it",
    };
    let mut lines = vec![text(kubedeck_core::terminal::safe(&p.message), Role::Text)];
    dialog_footer(
        &mut lines,
        None,
        keymap,
        &[(Action::Accept, offer), (Action::Back, "cancel the edit")],
    );
    DialogVm {
        title: p.title.clone(),
        lines,
        danger: true,
    }
}

/// The lines that ask for a protected context's typed name: why, then the
/// name as typed so far.
pub(crate) fn protected_lines(
    lines: &mut Vec<Vec<Cell>>,
    context: &str,
    expected: &str,
    typed: &str,
) {
    lines.push(Vec::new());
    lines.push(text(
        format!("context {context} is protected: type {expected:?} to confirm"),
        Role::Warning,
    ));
    lines.push(name_field(typed));
}

/// A typed name, with the cursor after it.
pub(crate) fn name_field(typed: &str) -> Vec<Cell> {
    vec![
        Cell::new(format!("{:>14}", "name  "), Role::Accent),
        Cell::new(format!("{typed}▏"), Role::Selection),
    ]
}

/// A dialog's last lines: its error, if any, and the keys it takes.
pub(crate) fn dialog_footer(
    lines: &mut Vec<Vec<Cell>>,
    error: Option<&String>,
    keymap: &Keymap,
    keys: &[(Action, &str)],
) {
    if let Some(e) = error {
        lines.push(Vec::new());
        lines.push(text(e.clone(), Role::Danger));
    }
    lines.push(Vec::new());
    lines.push(hints(keymap, Mode::Dialog, keys));
}

fn form_vm(form: &Form, keymap: &Keymap) -> DialogVm {
    let mut lines: Vec<Vec<Cell>> = form
        .notes
        .iter()
        .map(|(n, role)| text(n.clone(), *role))
        .collect();
    if !lines.is_empty() {
        lines.push(Vec::new());
    }
    for (i, f) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let value = if !f.choices.is_empty() {
            format!("◀ {} ▶", f.value)
        } else if focused {
            format!("{}▏", f.value)
        } else {
            f.value.clone()
        };
        lines.push(vec![
            Cell::new(
                format!("{:>18}  ", f.label),
                if focused { Role::Accent } else { Role::Muted },
            ),
            Cell::new(value, if focused { Role::Selection } else { Role::Text }),
        ]);
    }
    // A reveal has nothing to review: Enter shows the key.
    let accept = match form.kind {
        FormKind::RevealKey { .. } => "reveal",
        _ => "review",
    };
    dialog_footer(
        &mut lines,
        form.error.as_ref(),
        keymap,
        &[
            (Action::Accept, accept),
            (Action::NextField, "next field"),
            (Action::Back, "cancel"),
        ],
    );
    DialogVm {
        title: form.title.clone(),
        lines,
        danger: false,
    }
}

fn confirm_vm(c: &ConfirmDialog, keymap: &Keymap) -> DialogVm {
    let conf = &c.confirmation;
    let label = |s: &str| Cell::new(format!("{s:<14}"), Role::Muted);
    let (before, after) = conf.change();
    let mut lines = vec![
        vec![
            label("context"),
            Cell::new(conf.context(), Role::Text),
            Cell::new("   namespace ", Role::Muted),
            Cell::new(conf.namespace().unwrap_or("(cluster-wide)"), Role::Text),
        ],
        vec![label("command"), Cell::new(conf.kubectl(), Role::Accent)],
        vec![
            label("change"),
            Cell::new(before, Role::Text),
            Cell::new(" → ", Role::Muted),
            Cell::new(after, Role::Warning),
        ],
    ];
    if !conf.consequences().is_empty() {
        lines.push(Vec::new());
        lines.push(text("consequences", Role::Warning));
        for c in conf.consequences() {
            lines.push(text(format!("  • {c}"), Role::Text));
        }
    }
    if !conf.diff().is_empty() {
        diff_lines(&mut lines, conf.diff());
    }
    if let Some(reason) = &c.denied {
        lines.push(Vec::new());
        lines.push(text(format!("not allowed: {reason}"), Role::Danger));
        lines.push(text(
            "The action is unavailable to you; confirming sends it anyway and the API server will refuse it.",
            Role::Muted,
        ));
    }
    if let Some(name) = conf.typed_name() {
        protected_lines(&mut lines, conf.context(), name, &c.typed);
    }
    if c.early_accept {
        lines.push(Vec::new());
        lines.push(text(crate::dialog::EARLY_ACCEPT_NOTE, Role::Warning));
    }
    dialog_footer(
        &mut lines,
        c.error.as_ref(),
        keymap,
        &[(Action::Accept, "confirm"), (Action::Back, "cancel")],
    );
    DialogVm {
        title: conf.summary(),
        danger: c.denied.is_some() || !conf.consequences().is_empty(),
        lines,
    }
}
