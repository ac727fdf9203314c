//! The log view's view model: the visible lines only, already split into
//! styled cells (pod prefix, timestamp, text with search highlights).

use super::{LogView, PromptKind};
use crate::input::action::Action;
use crate::input::keymap::{Keymap, Mode};
use crate::state::AppState;
use crate::theme::Role;
use crate::views::Cell;
use kubedeck_core::logs::{LogLine, sanitize};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogViewVm {
    pub title: String,
    /// "lines 1-40 of 120".
    pub position: String,
    /// The visible lines: at most one screen of them, oldest first.
    pub lines: Vec<Vec<Cell>>,
    pub wrap: bool,
    /// Following: when wrapped lines overflow, the newest rows stay in view.
    pub from_bottom: bool,
}

pub(crate) fn build(view: &LogView, rows: usize) -> LogViewVm {
    let len = view.buffer.view_len();
    let start = view.first_shown(rows);
    let end = (start + rows).min(len);
    let lines = view
        .buffer
        .view(start..end)
        .map(|(seq, line)| line_cells(view, line, view.current == Some(seq)))
        .collect();
    LogViewVm {
        title: title(view),
        position: if len == 0 {
            "no lines yet".into()
        } else {
            format!("lines {}-{end} of {len}", (start + 1).min(end))
        },
        lines,
        wrap: view.wrap,
        from_bottom: view.following(),
    }
}

fn title(view: &LogView) -> String {
    let mut t = format!("Logs {}", view.title);
    match view.container.and_then(|i| view.containers.get(i)) {
        Some(c) => t.push_str(&format!(" [{c}]")),
        None if view.containers.len() > 1 => t.push_str(" [all containers]"),
        None => {}
    }
    if view.previous {
        t.push_str(" previous");
    }
    t.push_str(&format!(" · {}", view.range().label()));
    if view.buffer.is_paused() {
        t.push_str(&format!(" · paused, {} new", view.buffer.unseen()));
    } else if view.following() {
        t.push_str(" · following");
    } else {
        t.push_str(" · scrolled");
    }
    if let Some(f) = view.buffer.filter() {
        let kind = if f.is_regex() { "regex" } else { "filter" };
        t.push_str(&format!(" · {kind} {:?}", f.as_str()));
    }
    if let Some(s) = view.buffer.search() {
        t.push_str(&format!(" · search {:?}", s.as_str()));
    }
    t
}

/// Tabs as spaces, so the terminal's tab stops cannot shift the columns.
fn untab(text: &str) -> String {
    text.replace('\t', "    ")
}

fn line_cells(view: &LogView, line: &LogLine, current: bool) -> Vec<Cell> {
    let mut cells = Vec::new();
    if view.many_pods {
        cells.push(Cell::new(
            format!("{} ", sanitize(&line.pod)),
            Role::log_pod(line.colour()),
        ));
    }
    if view.container.is_none() && view.containers.len() > 1 && !line.container.is_empty() {
        cells.push(Cell::new(
            format!("{} ", sanitize(&line.container)),
            Role::Muted,
        ));
    }
    if view.timestamps
        && let Some(t) = line.time
    {
        cells.push(Cell::new(
            format!("{} ", t.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            Role::Muted,
        ));
    }
    if line.is_status() {
        cells.push(Cell::new(format!("» {}", untab(&line.text)), Role::Muted));
        return cells;
    }
    if current {
        cells.push(Cell::new("▶ ", Role::Highlight));
    }
    let mut at = 0;
    for range in view.buffer.highlights(line) {
        if range.start > at {
            cells.push(Cell::text(untab(&line.text[at..range.start])));
        }
        cells.push(Cell::new(untab(&line.text[range.clone()]), Role::Highlight));
        at = range.end;
    }
    if at < line.text.len() || cells.is_empty() {
        cells.push(Cell::text(untab(&line.text[at..])));
    }
    cells
}

/// The status line while the log view is open: its prompt, else the
/// latest message, else its key hints.
pub(crate) fn status(state: &AppState, keymap: &Keymap) -> Option<(String, Role)> {
    let view = state.logs.as_ref()?;
    if let Some(p) = &view.prompt {
        let lead = match p.kind {
            PromptKind::Search => "/",
            PromptKind::Filter => "&",
        };
        let regex = match key_for(keymap, Action::LogsRegex) {
            Some(k) if p.regex => format!("   (regex; <{k}> substring)"),
            Some(k) => format!("   (substring; <{k}> regex)"),
            None if p.regex => "   (regex)".into(),
            None => String::new(),
        };
        return Some((format!("{lead}{}{regex}", p.text), Role::Accent));
    }
    if let Some(m) = &state.message {
        return Some(m.clone());
    }
    let mut parts = Vec::new();
    for (action, label) in [
        (Action::LogsPause, "pause"),
        (Action::LogsFollow, "follow"),
        (Action::LogsSearch, "search"),
        (Action::LogsFilter, "filter"),
        (Action::LogsSince, "since"),
        (Action::LogsSave, "save"),
        (Action::Back, "back"),
        (Action::Help, "help"),
    ] {
        if let Some(k) = key_for(keymap, action) {
            parts.push(format!("<{k}> {label}"));
        }
    }
    Some((parts.join("  "), Role::Muted))
}

/// The first key for an action in the log view, or in normal mode for the
/// keys it falls back to.
fn key_for(keymap: &Keymap, action: Action) -> Option<String> {
    [Mode::Logs, Mode::Normal].into_iter().find_map(|mode| {
        keymap
            .bindings(mode)
            .into_iter()
            .find(|(a, _)| *a == action)
            .and_then(|(_, keys)| keys.first().map(|k| k.to_string()))
    })
}

/// The help screen's lines while the log view is open: its own keys, then
/// the normal keys that still work in it.
pub(crate) fn help(keymap: &Keymap) -> Vec<(String, String)> {
    let logs = keymap.bindings(Mode::Logs);
    let normal = keymap
        .bindings(Mode::Normal)
        .into_iter()
        .filter(|(a, _)| super::FALLBACK.contains(a))
        .map(|(a, keys)| {
            // A key the log view rebinds does not fall back.
            let keys: Vec<_> = keys
                .into_iter()
                .filter(|k| keymap.resolve(Mode::Logs, *k).is_none())
                .collect();
            (a, keys)
        })
        .filter(|(_, keys)| !keys.is_empty());
    logs.into_iter()
        .chain(normal)
        .map(|(action, keys)| {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            (keys.join(" "), action.describe())
        })
        .collect()
}
