//! Where a key goes. `focus` is the one statement of precedence: a dialog
//! over everything, then help or a prompt, then the log view, then the top
//! screen. `update` routes keys by it and the runtime logs them by it, so
//! the two cannot disagree.

use chrono::{DateTime, Utc};

use super::{Updated, navigate, prompt, quit};
use crate::cluster::Cache;
use crate::input::action::Action;
use crate::input::key::Key;
use crate::input::keymap::{Keymap, Mode};
use crate::logview::{self, LogView};
use crate::oncall::{self, backup_view};
use crate::state::{AppState, Body, Overlay, Prompt};
use crate::theme::Role;
use crate::{act, charts};

/// What takes the next key: the first of these that is open.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Focus<'a> {
    /// A dialog, modal over everything.
    Dialog,
    /// A `:` or `/` line being typed.
    Prompt(&'a Prompt),
    Help,
    /// The log view, its own search or filter line included.
    Logs(&'a LogView),
    /// The top screen: its table, or the pane in its place.
    Screen,
}

pub(crate) fn focus(state: &AppState) -> Focus<'_> {
    if state.dialog.is_some() {
        return Focus::Dialog;
    }
    match &state.overlay {
        Some(Overlay::Prompt(prompt)) => Focus::Prompt(prompt),
        Some(Overlay::Help) => Focus::Help,
        None => match &state.logs {
            Some(view) => Focus::Logs(view),
            None => Focus::Screen,
        },
    }
}

/// Scrolls the help a line or a page, within its lines.
fn scroll_help(state: &mut AppState, action: &Action, keymap: &Keymap) -> Updated {
    let last = crate::view_model::help_lines(state, keymap)
        .len()
        .saturating_sub(1);
    let page = state.page.max(1);
    let at = state.help_scroll;
    let next = match action {
        Action::Down => at + 1,
        Action::Up => at.saturating_sub(1),
        Action::PageDown => at + page,
        Action::PageUp => at.saturating_sub(page),
        Action::Top => 0,
        _ => last,
    }
    .min(last);
    state.help_scroll = next;
    Updated {
        redraw: next != at,
        effects: Vec::new(),
    }
}

pub(super) fn on_key(
    state: &mut AppState,
    key: Key,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    match focus(state) {
        Focus::Dialog => oncall::on_dialog_key(state, key, keymap)
            .or_else(|| crate::reveal::on_dialog_key(state, key, keymap))
            .unwrap_or_else(|| act::on_dialog_key(state, key, keymap)),
        Focus::Prompt(_) => prompt::on_key(state, key, cache, keymap, now),
        Focus::Help => match keymap.resolve(Mode::Normal, key) {
            Some(Action::Quit | Action::Back | Action::Help) => {
                state.overlay = None;
                Updated::redraw()
            }
            Some(a) if a.moves_cursor() => scroll_help(state, a, keymap),
            _ => Updated::default(),
        },
        Focus::Logs(_) => {
            let out = logview::on_key(state, key, keymap, now);
            if state.logs.is_none() {
                // Back at the table, which did not follow changes meanwhile.
                navigate::refresh_current(state, cache, now);
            }
            out
        }
        Focus::Screen => match keymap.resolve(Mode::Normal, key).cloned() {
            Some(action) => on_action(state, action, cache, now),
            None => Updated::default(),
        },
    }
}

/// A key of the normal keymap on the top screen: the pane covering the
/// table takes it first, then what works on any screen.
fn on_action(state: &mut AppState, action: Action, cache: &Cache, now: DateTime<Utc>) -> Updated {
    state.message = None;
    // `x` on a Secret reveals a key, as k9s's decode; elsewhere it is the recovery test.
    if let Some(out) = crate::reveal::on_action(state, &action) {
        return out;
    }
    let taken = match &state.screen().body {
        Body::Table => oncall::on_action(state, &action),
        Body::Text(_) => {
            navigate::text_action(state, &action).or_else(|| oncall::on_action(state, &action))
        }
        Body::Panel(_) => act::on_panel_action(state, &action, cache)
            .or_else(|| oncall::on_action(state, &action)),
        Body::BackupRun(_) => {
            backup_view::on_action(&action).or_else(|| oncall::on_action(state, &action))
        }
        Body::Ops(pane) => {
            let pane = pane.clone();
            oncall::on_pane_action(state, pane, &action)
        }
    };
    if let Some(out) = taken {
        return out;
    }
    match action {
        Action::Down
        | Action::Up
        | Action::PageDown
        | Action::PageUp
        | Action::Top
        | Action::Bottom => navigate::move_cursor(state, &action),
        Action::Command => {
            state.overlay = Some(Overlay::Prompt(Prompt::Command(String::new())));
            Updated::redraw()
        }
        Action::Filter => {
            let text = state.screen().filter_text.clone();
            state.overlay = Some(Overlay::Prompt(Prompt::Filter(text)));
            Updated::redraw()
        }
        Action::Help => {
            state.overlay = Some(Overlay::Help);
            state.help_scroll = 0;
            Updated::redraw()
        }
        Action::ToggleLogPane => navigate::toggle_log_pane(state),
        Action::ToggleWide | Action::ScrollLeft | Action::ScrollRight => {
            navigate::wide(state, &action)
        }
        Action::MetricsWindow => charts::next_window(state),
        Action::ToggleChart => charts::toggle_chart(state),
        Action::Quit => quit(state),
        Action::Back => navigate::back(state, cache, now),
        Action::SortNext | Action::SortReverse => navigate::sort(state, &action, cache, now),
        Action::SortBy(column) => navigate::sort_by(state, column, cache, now),
        Action::ToggleFaults => navigate::toggle_faults(state, cache, now),
        Action::Goto(view) => navigate::goto(state, view, cache, now),
        Action::Run(line) => super::prompt::run_command(state, &line, cache, now),
        Action::Enter => navigate::enter(state, cache, now),
        Action::Describe => navigate::open_text(state, false, cache, now),
        Action::Yaml => navigate::open_text(state, true, cache, now),
        Action::Logs => logview::open(state, cache),
        Action::Shell => crate::shell::on_shell(state, cache, now),
        Action::Edit => crate::edit::on_edit(state, cache),
        Action::Scale
        | Action::Restart
        | Action::SetImage
        | Action::Rollback
        | Action::Delete
        | Action::Kill
        | Action::Cordon
        | Action::Uncordon
        | Action::Trigger
        | Action::Pause
        | Action::RolloutStatus => act::on_action(state, &action, cache, now),
        other => {
            state.message = Some((
                format!("{} is not available here yet", other.describe()),
                Role::Muted,
            ));
            Updated::redraw()
        }
    }
}
