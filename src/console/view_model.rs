//! View models: everything a frame shows, already formatted, for the
//! visible rows only. Built from the state, the cache and a clock passed
//! in, so a frame is reproducible in tests.

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Health, Prompt};
use super::theme::Role;
use super::views::{Cell, table_of};

#[derive(Debug, Clone, PartialEq)]
pub struct ScreenVm {
    pub context: String,
    pub namespace: String,
    pub readonly: bool,
    /// Watch trouble to show in the header, e.g. "stale since 14:02:11".
    pub health: Option<(String, Role)>,
    pub breadcrumb: Vec<String>,
    pub table: TableVm,
    /// The bottom line: a prompt being typed, or the latest message, or key hints.
    pub status: (String, Role),
    pub help: Option<Vec<(String, String)>>,
    pub warnings: Vec<String>,
    /// Notes on the selected row under the table (the HPA's "why").
    pub detail: Option<Vec<Cell>>,
    /// Describe or YAML, shown instead of the table.
    pub text: Option<TextVm>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextVm {
    pub title: String,
    /// The visible lines only.
    pub lines: Vec<String>,
    /// "lines 1-40 of 120".
    pub position: String,
}

/// The most lines a detail pane takes, borders included.
pub const DETAIL_MAX: usize = 9;

#[derive(Debug, Clone, PartialEq)]
pub struct TableVm {
    pub title: String,
    pub columns: Vec<(&'static str, u16)>,
    pub sort_column: usize,
    pub descending: bool,
    pub rows: Vec<Vec<Cell>>,
    /// The selected row's index within `rows`.
    pub selected: Option<usize>,
    /// The column that takes the width left over.
    pub flex: usize,
}

pub fn build(state: &AppState, cache: &Cache, keymap: &Keymap, now: DateTime<Utc>) -> ScreenVm {
    let screen = state.screen();
    let table = table_of(screen);
    let detail = match (table, screen.selected_key()) {
        (Some(t), Some(k)) if screen.text.is_none() => t.detail(cache, k, now),
        _ => None,
    };
    // A detail pane takes its lines from the table's; the window still
    // holds the cursor.
    let detail_height = detail.as_ref().map_or(0, |d| (d.len() + 2).min(DETAIL_MAX));
    let page = state.page.saturating_sub(detail_height).max(1);
    let offset = if screen.selected >= screen.offset + page {
        screen.selected + 1 - page
    } else {
        screen.offset
    };
    let table = match table {
        Some(t) => {
            let end = (offset + page).min(screen.rows.len());
            let rows: Vec<Vec<Cell>> = screen.rows[offset.min(end)..end]
                .iter()
                .filter_map(|k| t.cells(cache, k, now))
                .collect();
            let scope = state.namespace.as_deref().unwrap_or("all");
            let mut title = format!("{}({scope})[{}]", t.title(), screen.rows.len());
            if !screen.filter_text.is_empty() {
                title.push_str(&format!(" </{}>", screen.filter_text));
            }
            TableVm {
                title,
                columns: fit_columns(t.columns(), &rows),
                sort_column: screen.query.sort_column,
                descending: screen.query.descending,
                selected: (!rows.is_empty()).then(|| screen.selected.saturating_sub(offset)),
                rows,
                flex: t.flex_column(),
            }
        }
        None => TableVm {
            title: String::new(),
            columns: Vec::new(),
            sort_column: 0,
            descending: false,
            rows: Vec::new(),
            selected: None,
            flex: 0,
        },
    };
    let text = screen.text.as_ref().map(|pane| {
        let shown = state.page + 1;
        let end = (pane.scroll + shown).min(pane.lines.len());
        let start = pane.scroll.min(end);
        TextVm {
            title: pane.title.clone(),
            lines: pane.lines[start..end].to_vec(),
            position: format!("lines {}-{end} of {}", start + 1, pane.lines.len()),
        }
    });
    let health = state
        .health
        .iter()
        .filter_map(|(k, h)| match h {
            Health::Stale(since) => Some((*since, k)),
            _ => None,
        })
        .min()
        .map(|(since, k)| {
            (
                format!("{} stale since {}", k.plural(), since.format("%H:%M:%S")),
                Role::Danger,
            )
        });
    let status = match &state.prompt {
        Some(Prompt::Command(t)) => (format!(":{t}"), Role::Accent),
        Some(Prompt::Filter(t)) => (format!("/{t}"), Role::Accent),
        None => state
            .message
            .clone()
            .unwrap_or_else(|| (hints(keymap), Role::Muted)),
    };
    ScreenVm {
        context: state.context.clone(),
        namespace: state.namespace.clone().unwrap_or_else(|| "all".into()),
        readonly: state.readonly,
        health,
        breadcrumb: state.stack.iter().map(|s| s.crumb.clone()).collect(),
        table,
        status,
        help: state.help.then(|| {
            keymap
                .bindings(Mode::Normal)
                .into_iter()
                .map(|(action, keys)| {
                    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                    (keys.join(" "), action.describe())
                })
                .collect()
        }),
        warnings: state.warnings.clone(),
        detail,
        text,
    }
}

/// The key hint line, from the active keymap so it never lies.
fn hints(keymap: &Keymap) -> String {
    use super::input::action::Action;
    let mut parts = Vec::new();
    let bindings = keymap.bindings(Mode::Normal);
    for (action, label) in [
        (Action::Command, "command"),
        (Action::Filter, "filter"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ] {
        if let Some((_, keys)) = bindings.iter().find(|(a, _)| *a == action)
            && let Some(k) = keys.first()
        {
            parts.push(format!("<{k}> {label}"));
        }
    }
    parts.join("  ")
}

/// The widest a content-sized column grows, so one long value cannot push
/// the other columns off screen.
const MAX_COLUMN_WIDTH: usize = 48;

/// Sizes each column to its header and the visible cells, at least its
/// minimum, so names are not cut while there is room.
fn fit_columns(columns: &[super::views::Column], rows: &[Vec<Cell>]) -> Vec<(&'static str, u16)> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // One more for the sort arrow the header may carry.
            let header = c.name.chars().count() + 1;
            let widest = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|cell| cell.text.chars().count())
                .max()
                .unwrap_or(0);
            let width = header
                .max(widest)
                .min(MAX_COLUMN_WIDTH)
                .max(c.min_width as usize);
            (c.name, width as u16)
        })
        .collect()
}
