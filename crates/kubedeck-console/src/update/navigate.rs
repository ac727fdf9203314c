//! Moving around: the cursor and the visible window, views, the drill-down
//! stack, describe and YAML panes, sorting, and keeping the rows current.

use chrono::{DateTime, Utc};

use super::Updated;
use crate::cluster::discovery::ResourceInfo;
use crate::cluster::{Cache, Kind};
use crate::commands;
use crate::filter::{self, Filter, Unfiltered};
use crate::full_yaml;
use crate::input::action::{Action, SortColumn, View};
use crate::state::{AppState, Body, Screen};
use crate::theme::Role;
use crate::views::describe::{self, TextPane};
use crate::views::{Query, RowKey, Sources, table_for, table_of};

/// Lines of the screen that are not table rows: header, breadcrumb, table
/// title and column header, status line.
pub(crate) const CHROME_ROWS: u16 = 6;

/// The log pane's height, borders included, for a terminal this high: ten
/// rows, but never more than a third of the screen.
pub(crate) fn log_pane_height(height: u16) -> u16 {
    (height / 3).min(10)
}

/// Table rows that fit: the terminal less the chrome and the log pane.
pub(super) fn table_page(state: &AppState) -> usize {
    let log = if state.log_pane {
        log_pane_height(state.height)
    } else {
        0
    };
    state.height.saturating_sub(CHROME_ROWS + log).max(1) as usize
}

/// Fits the page to the terminal, keeping the cursor in view.
pub(super) fn fit_page(state: &mut AppState) {
    state.page = table_page(state);
    let page = state.page;
    clamp_offset(state.screen_mut(), page);
}

pub(crate) fn refresh_current(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) {
    let page = state.page;
    let (metrics, patterns) = (state.pod_metrics.clone(), state.backup_patterns.clone());
    let (resources, favourites) = (state.resources.clone(), state.favourites.clone());
    let src = Sources {
        cache,
        metrics: &metrics,
        backup_patterns: &patterns,
        warning_window: state.warning_window,
        resources: &resources,
        favourites: &favourites,
    };
    refresh(state.screen_mut(), src, now, page);
}

/// Rebuilds the row list, keeping the cursor on the same object if it is
/// still listed. Where the filter reads only row keys, the screen keeps
/// the rows before the filter too, so that another filter needs neither
/// the store nor a sort (`refilter`).
pub(crate) fn refresh(screen: &mut Screen, src: Sources<'_>, now: DateTime<Utc>, page: usize) {
    screen.unfiltered = None;
    if screen.covered() {
        return;
    }
    let Some(table) = table_of(screen) else {
        screen.rows.clear();
        return;
    };
    let keep = screen.selected_key().cloned();
    let query = &screen.query;
    if query.faults_only {
        // Health is read from the store: no unfiltered rows to reuse.
        let mut rows = table.rows(src, query, now);
        rows.retain(|k| table.fault(src, k, now) == Some(true));
        screen.rows = rows;
    } else if !filter::by_key(screen) || !query.filter.reads_keys_only() {
        screen.rows = table.rows(src, query, now);
    } else if let Filter::All = query.filter {
        screen.rows = table.rows(src, query, now);
        screen.unfiltered = Some(Unfiltered::new(query, None));
    } else {
        let all = Query {
            filter: Filter::All,
            ..query.clone()
        };
        let rows = table.rows(src, &all, now);
        screen.unfiltered = Some(Unfiltered::new(&all, Some(rows)));
        filter::from_unfiltered(screen);
    }
    settle(screen, keep, page);
}

/// Lists the rows again after only the filter changed, from `was`: a
/// growing filter narrows the rows listed, another filter of row keys
/// filters the rows the last refresh kept unfiltered (neither reads the
/// store nor sorts); any other filter refreshes. The rows are those a
/// refresh would list, as every store change refreshes.
pub(crate) fn refilter(state: &mut AppState, was: &Filter, cache: &Cache, now: DateTime<Utc>) {
    let page = state.page;
    let screen = state.screen_mut();
    let keep = screen.selected_key().cloned();
    if screen.query.faults_only {
        refresh_current(state, cache, now);
        return;
    }
    if filter::by_key(screen) && screen.query.filter.narrows(was) {
        filter::narrow(screen);
    } else if !filter::from_unfiltered(screen) {
        refresh_current(state, cache, now);
        return;
    }
    settle(screen, keep, page);
}

/// Puts the cursor back on `keep` if it is still listed, else keeps it in
/// the rows, and the window on the cursor.
fn settle(screen: &mut Screen, keep: Option<RowKey>, page: usize) {
    if let Some(k) = keep
        && let Some(i) = screen.rows.iter().position(|r| *r == k)
    {
        screen.selected = i;
    }
    screen.selected = screen.selected.min(screen.rows.len().saturating_sub(1));
    clamp_offset(screen, page);
}

fn clamp_offset(screen: &mut Screen, page: usize) {
    if screen.selected < screen.offset {
        screen.offset = screen.selected;
    } else if screen.selected >= screen.offset + page {
        screen.offset = screen.selected + 1 - page;
    }
    let max_offset = screen.rows.len().saturating_sub(page);
    screen.offset = screen.offset.min(max_offset);
}

/// Up, down, a page, the top or the bottom of the table.
pub(super) fn move_cursor(state: &mut AppState, action: &Action) -> Updated {
    let page = state.page as isize;
    let delta = match action {
        Action::Down => 1,
        Action::Up => -1,
        Action::PageDown => page,
        Action::PageUp => -page,
        Action::Top => isize::MIN / 2,
        _ => isize::MAX / 2,
    };
    let page = state.page;
    let screen = state.screen_mut();
    if screen.rows.is_empty() {
        return Updated::default();
    }
    let last = screen.rows.len() - 1;
    let next = (screen.selected as isize + delta).clamp(0, last as isize) as usize;
    if next == screen.selected {
        return Updated::default();
    }
    screen.selected = next;
    clamp_offset(screen, page);
    Updated::redraw()
}

pub(super) fn goto(state: &mut AppState, view: View, cache: &Cache, now: DateTime<Utc>) -> Updated {
    if view == View::Xray {
        // A tree needs its kind: the command line, ready for it.
        state.overlay = Some(crate::state::Overlay::Prompt(
            crate::state::Prompt::Command("xray ".into()),
        ));
        return Updated::redraw();
    }
    if table_for(view).is_none() {
        state.message = Some((
            format!("the {view:?} view is not part of this build yet"),
            Role::Warning,
        ));
        return Updated::redraw();
    }
    let query = Query {
        namespace: state.namespace.clone(),
        ..Query::default()
    };
    let crumb = commands::ALIASES
        .iter()
        .find(|(v, _)| *v == view)
        .map_or("view", |(_, n)| n[0]);
    state.stack = vec![Screen::new(view, query, crumb)];
    refresh_current(state, cache, now);
    Updated::redraw()
}

/// Opens a resource: its built-in view if it has one, else the generic
/// view, which the browser then watches (see `update::browse`).
pub(super) fn open_resource(
    state: &mut AppState,
    resource: ResourceInfo,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    if let Some(view) = commands::builtin_view(&resource) {
        return goto(state, view, cache, now);
    }
    if !resource.watchable {
        state.message = Some((
            format!("{} cannot be listed and watched", resource.full_name()),
            Role::Warning,
        ));
        return Updated::redraw();
    }
    let query = Query {
        namespace: state.namespace.clone(),
        resource: Some(std::sync::Arc::new(resource.clone())),
        ..Query::default()
    };
    state.stack = vec![Screen::new(View::Resource, query, resource.plural)];
    refresh_current(state, cache, now);
    Updated::redraw()
}

/// Drills into the selected row: pushes the screen its view leads to.
pub(super) fn enter(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) -> Updated {
    let screen = state.screen();
    if screen.view == View::ApiResources
        && !screen.covered()
        && let Some(key) = screen.selected_key()
    {
        return match crate::views::api_resources::find(&state.resources, key).cloned() {
            Some(r) => open_resource(state, r, cache, now),
            None => Updated::default(),
        };
    }
    if screen.view == View::Xray && !screen.covered() {
        // A tree has nothing below its rows: Enter describes the node.
        return open_text(state, false, cache, now);
    }
    let (Some(table), Some(key)) = (table_of(screen), screen.selected_key().cloned()) else {
        return Updated::default();
    };
    let Some(drill) = table.enter(cache, &key) else {
        state.message = Some(("nothing to open below this row".into(), Role::Muted));
        return Updated::redraw();
    };
    let query = Query {
        namespace: state.namespace.clone(),
        scope: drill.scope,
        ..Query::default()
    };
    state
        .stack
        .push(Screen::new(drill.view, query, drill.crumb));
    refresh_current(state, cache, now);
    Updated::redraw()
}

/// Esc: dismisses the warnings, else clears the filter, else climbs a level.
pub(super) fn back(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) -> Updated {
    if !state.warnings.is_empty() {
        state.warnings.clear();
        return Updated::redraw();
    }
    let screen = state.screen_mut();
    if !screen.filter_text.is_empty() {
        screen.filter_text.clear();
        let was = std::mem::take(&mut screen.query.filter);
        refilter(state, &was, cache, now);
    } else if state.stack.len() > 1 {
        state.stack.pop();
        refresh_current(state, cache, now);
    } else {
        return Updated::default();
    }
    Updated::redraw()
}

/// Wide mode on or off, or scrolled a column sideways (within the
/// table's columns); scrolling outside wide mode does nothing.
pub(super) fn wide(state: &mut AppState, action: &Action) -> Updated {
    let last = table_of(state.screen()).map_or(0, |t| t.columns().len().saturating_sub(1));
    state.wide = match (action, state.wide) {
        (Action::ToggleWide, None) => Some(0),
        (Action::ToggleWide, Some(_)) => None,
        (Action::ScrollLeft, Some(from)) => Some(from.saturating_sub(1)),
        (Action::ScrollRight, Some(from)) => Some((from + 1).min(last)),
        _ => return Updated::default(),
    };
    Updated::redraw()
}

/// The current table and its columns for the current query.
fn table_columns(
    state: &AppState,
    cache: &Cache,
) -> Option<(
    &'static dyn crate::views::TableView,
    Vec<crate::views::Column>,
)> {
    let table = table_of(state.screen())?;
    let columns = table.columns_in(state.sources(cache), &state.screen().query);
    Some((table, columns.into_owned()))
}

/// The next sort column, or the other direction.
pub(super) fn sort(
    state: &mut AppState,
    action: &Action,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    let Some((_, columns)) = table_columns(state, cache) else {
        return Updated::default();
    };
    let screen = state.screen_mut();
    if columns.is_empty() {
        return Updated::default();
    }
    if *action == Action::SortNext {
        screen.query.sort_column = (screen.query.sort_column + 1) % columns.len();
        screen.query.descending = columns[screen.query.sort_column].numeric;
    } else {
        screen.query.descending = !screen.query.descending;
    }
    refresh_current(state, cache, now);
    Updated::redraw()
}

/// Sorts by the column `column` names (default direction: numbers largest
/// first), or flips the order when it is the sort column already.
pub(super) fn sort_by(
    state: &mut AppState,
    column: SortColumn,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    let Some((table, columns)) = table_columns(state, cache) else {
        return Updated::default();
    };
    let header = column.header();
    let Some(i) = columns.iter().position(|c| c.name == header) else {
        let title = table.title_in(state.sources(cache), &state.screen().query);
        state.message = Some((format!("{title} has no {header} column"), Role::Muted));
        return Updated::redraw();
    };
    let query = &mut state.screen_mut().query;
    if query.sort_column == i {
        query.descending = !query.descending;
    } else {
        query.sort_column = i;
        query.descending = columns[i].numeric;
    }
    refresh_current(state, cache, now);
    Updated::redraw()
}

/// Shows only the rows the view judges unhealthy, or every row again; a
/// view that cannot judge its rows says so and shows them all.
pub(super) fn toggle_faults(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) -> Updated {
    let Some(table) = table_of(state.screen()) else {
        return Updated::default();
    };
    if !table.judges_faults() {
        let title = table.title_in(state.sources(cache), &state.screen().query);
        state.message = Some((
            format!("faults only: kubedeck cannot tell a fault in {title}"),
            Role::Muted,
        ));
        return Updated::redraw();
    }
    let query = &mut state.screen_mut().query;
    query.faults_only = !query.faults_only;
    refresh_current(state, cache, now);
    Updated::redraw()
}

/// The selected row and its object as the API serves it; else what to show
/// instead.
pub(crate) fn selected_object(
    state: &mut AppState,
    cache: &Cache,
) -> Result<(RowKey, serde_json::Value), Updated> {
    let screen = state.screen();
    let (Some(table), Some(key)) = (table_of(screen), screen.selected_key().cloned()) else {
        return Err(Updated::default());
    };
    match table.object(cache, &key) {
        Some(obj) => Ok((key, obj)),
        None => {
            state.message = Some(("the object is gone".into(), Role::Warning));
            Err(Updated::redraw())
        }
    }
}

/// Opens describe or YAML of the selected row's object as a pane on the
/// stack, so Esc returns to the table.
pub(super) fn open_text(
    state: &mut AppState,
    yaml: bool,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    let obj = match selected_object(state, cache) {
        Ok((_, obj)) => obj,
        Err(out) => return out,
    };
    let kind = obj["kind"].as_str().unwrap_or("object").to_string();
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let (verb, lines) = if yaml {
        ("yaml", describe::yaml(&obj))
    } else {
        ("describe", describe::describe(&obj, cache, now))
    };
    let waits = !yaml && kind != "Event" && cache.loading(Kind::Event);
    let mut text = TextPane {
        title: format!("{verb} {}/{name}", kind.to_lowercase()),
        lines,
        scroll: 0,
        loading: None,
        awaiting_events: waits.then(|| Box::new(obj.clone())),
        tail: Vec::new(),
    };
    let mut out = Updated::redraw();
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
    let generic = (state.screen().view == View::Resource)
        .then(|| state.screen().query.resource.clone())
        .flatten();
    // A ConfigMap's or Secret's describe shows its data by key, read from
    // the API (the watch keeps metadata only); a Secret's values as sizes.
    let has_data = |r: &ResourceInfo| {
        r.group.is_empty() && matches!(r.plural.as_str(), "configmaps" | "secrets")
    };
    if !yaml && let Some(resource) = generic.clone().filter(|r| has_data(r)) {
        out.effects.push(full_yaml::start(
            &mut text,
            full_yaml::Projected::Resource,
            ns,
            &name,
            Some(resource),
        ));
        text.tail = text.lines.last().cloned().into_iter().collect();
    } else if yaml && let Some(resource) = generic {
        let projected = full_yaml::Projected::Resource;
        out.effects.push(full_yaml::start(
            &mut text,
            projected,
            ns,
            &name,
            Some(resource),
        ));
    } else if yaml && let Some(projected) = full_yaml::Projected::of(&kind) {
        out.effects
            .push(full_yaml::start(&mut text, projected, ns, &name, None));
    }
    state.push_over(format!("{verb} {name}"), Body::Text(text));
    out
}

/// Keys on a describe or YAML pane: movement scrolls it, and what acts on
/// table rows does nothing; None leaves the key to the table's handling.
pub(super) fn text_action(state: &mut AppState, action: &Action) -> Option<Updated> {
    if action.moves_cursor() {
        Some(scroll_text(state, action))
    } else {
        action.acts_on_rows().then(Updated::default)
    }
}

fn scroll_text(state: &mut AppState, action: &Action) -> Updated {
    let page = state.page;
    let Body::Text(pane) = &mut state.screen_mut().body else {
        return Updated::default();
    };
    // The pane shows one line more than the table, which has a header.
    let max = pane.lines.len().saturating_sub(page + 1);
    let next = match action {
        Action::Down => pane.scroll + 1,
        Action::Up => pane.scroll.saturating_sub(1),
        Action::PageDown => pane.scroll + page,
        Action::PageUp => pane.scroll.saturating_sub(page),
        Action::Top => 0,
        _ => max,
    }
    .min(max);
    if next == pane.scroll {
        return Updated::default();
    }
    pane.scroll = next;
    Updated::redraw()
}

/// Shows or hides kubedeck's own log under the table.
pub(super) fn toggle_log_pane(state: &mut AppState) -> Updated {
    state.log_pane = !state.log_pane;
    fit_page(state);
    Updated::redraw()
}
