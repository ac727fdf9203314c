//! View models: everything a frame shows, already formatted, for the
//! visible rows only. Built from the state, the cache and a clock passed
//! in, so a frame is reproducible in tests.

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Health, Prompt};
use super::theme::Role;
use super::views::{Cell, table_for};

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
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableVm {
    pub title: String,
    pub columns: Vec<(&'static str, u16)>,
    pub sort_column: usize,
    pub descending: bool,
    pub rows: Vec<Vec<Cell>>,
    /// The selected row's index within `rows`.
    pub selected: Option<usize>,
}

pub fn build(state: &AppState, cache: &Cache, keymap: &Keymap, now: DateTime<Utc>) -> ScreenVm {
    let screen = state.screen();
    let table = match table_for(screen.view) {
        Some(t) => {
            let end = (screen.offset + state.page).min(screen.rows.len());
            let rows: Vec<Vec<Cell>> = screen.rows[screen.offset.min(end)..end]
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
                columns: t.columns().iter().map(|c| (c.name, c.min_width)).collect(),
                sort_column: screen.query.sort_column,
                descending: screen.query.descending,
                selected: (!rows.is_empty()).then(|| screen.selected.saturating_sub(screen.offset)),
                rows,
            }
        }
        None => TableVm {
            title: String::new(),
            columns: Vec::new(),
            sort_column: 0,
            descending: false,
            rows: Vec::new(),
            selected: None,
        },
    };
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
