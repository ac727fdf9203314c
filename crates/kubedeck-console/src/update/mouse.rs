//! The mouse: the wheel moves as the keys bound to up and down do, wherever
//! they work (tables, panes, help, the log view); a click selects a table
//! row, and a second click on it soon after opens it, as Enter does.

use chrono::{DateTime, Utc};

use super::{Updated, keys, navigate};
use crate::cluster::Cache;
use crate::input::action::Action;
use crate::input::keymap::{Keymap, Mode};
use crate::state::{AppState, Body};

use super::Mouse;

/// Rows the wheel moves per notch.
const WHEEL_ROWS: usize = 3;

/// Two clicks on one row within this long open it.
const DOUBLE_CLICK_MS: i64 = 500;

/// The first table row's terminal row: the header and breadcrumb lines,
/// the table's border and its column headers; a summary line (the
/// overview's) comes before the border.
fn first_row(summary: bool) -> usize {
    4 + usize::from(summary)
}

pub(super) fn on_mouse(
    state: &mut AppState,
    m: Mouse,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    match m {
        Mouse::ScrollDown => wheel(state, Action::Down, cache, keymap, now),
        Mouse::ScrollUp => wheel(state, Action::Up, cache, keymap, now),
        Mouse::Click { row, .. } => click(state, usize::from(row), cache, keymap, now),
    }
}

fn wheel(
    state: &mut AppState,
    action: Action,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    if state.dialog.is_some() {
        return Updated::default();
    }
    // The key bound to the action: the wheel goes where it would.
    let Some(key) = keymap.first_key(Mode::Normal, &action) else {
        return Updated::default();
    };
    let mut out = Updated::default();
    for _ in 0..WHEEL_ROWS {
        let step = keys::on_key(state, key, cache, keymap, now);
        out.redraw |= step.redraw;
        out.effects.extend(step.effects);
    }
    out
}

/// Selects the clicked table row; a second click on it opens it.
fn click(
    state: &mut AppState,
    row: usize,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    let on_table = state.dialog.is_none()
        && state.overlay.is_none()
        && state.logs.is_none()
        && matches!(state.screen().body, Body::Table);
    if !on_table {
        return Updated::default();
    }
    // The rows as drawn: the window a detail pane, chart or summary line
    // shortens, and where it starts.
    let vm = crate::view_model::build(state, cache, keymap, now).table;
    let Some(at) = vm.selected else {
        return Updated::default();
    };
    let offset = state.screen().selected.saturating_sub(at);
    let Some(i) = row
        .checked_sub(first_row(vm.summary.is_some()))
        .filter(|i| *i < vm.rows.len())
    else {
        return Updated::default();
    };
    let screen = state.screen_mut();
    let index = offset + i;
    let Some(key) = screen.rows.get(index).cloned() else {
        return Updated::default();
    };
    screen.selected = index;
    let again = state
        .last_click
        .take()
        .is_some_and(|(k, at)| k == key && (now - at).num_milliseconds() <= DOUBLE_CLICK_MS);
    if again {
        return navigate::enter(state, cache, now);
    }
    state.last_click = Some((key, now));
    Updated::redraw()
}
