//! The log view: a pod's, a container's or a whole workload's log in place
//! of the table, stern-style. This module owns the view's state and its pure
//! key handling; the runtime streams lines in ([`task`]) and only `update`
//! pushes them into the buffer.

pub(crate) mod task;
pub(crate) mod view_model;
pub(crate) mod widget;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::input::action::Action;
use super::input::key::{Code, Key};
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Overlay};
use super::theme::Role;
use super::update::{Effect, Updated, quit, selected_object};
use kubedeck_core::logs::buffer::Pattern;
use kubedeck_core::logs::stream::WorkloadKind;
use kubedeck_core::logs::{Containers, LogBuffer, LogLine, LogSource, Since, StreamOptions};

/// How far back a stream starts; `s` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Range {
    Tail(i64),
    /// The last this many seconds.
    Since(i64),
    All,
}

pub(crate) const RANGES: [Range; 5] = [
    Range::Tail(200),
    Range::Tail(1000),
    Range::Since(300),
    Range::Since(3600),
    Range::All,
];

impl Range {
    pub(crate) fn label(self) -> String {
        match self {
            Range::Tail(n) => format!("tail {n}"),
            Range::Since(s) if s % 3600 == 0 => format!("since {}h", s / 3600),
            Range::Since(s) => format!("since {}m", s / 60),
            Range::All => "all".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PromptKind {
    /// `/`: highlight and jump.
    Search,
    /// `&`: keep only matching lines, as in less.
    Filter,
}

/// A search or filter being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogPrompt {
    pub kind: PromptKind,
    pub text: String,
    pub regex: bool,
}

/// Keys of the normal keymap that keep working in the log view.
const FALLBACK: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::PageUp,
    Action::PageDown,
    Action::Top,
    Action::Bottom,
    Action::Back,
    Action::Quit,
    Action::Help,
];

#[derive(Debug, Clone)]
pub struct LogView {
    pub(crate) target: LogSource,
    /// What is shown: `deploy/web`, `pod/web-abc`.
    pub(crate) title: String,
    /// Lines come from several pods, so each carries its pod's name.
    pub(crate) many_pods: bool,
    /// The containers to choose among (the pod's, or the pod template's).
    pub(crate) containers: Vec<String>,
    /// The chosen container; None streams all of them.
    pub(crate) container: Option<usize>,
    pub(crate) previous: bool,
    /// Index into [`RANGES`].
    pub(crate) range: usize,
    pub(crate) timestamps: bool,
    pub(crate) wrap: bool,
    /// The first line shown, by sequence number, while scrolled; None
    /// follows the newest line.
    pub(crate) top: Option<u64>,
    pub(crate) buffer: LogBuffer,
    /// The match `n` and `N` move from.
    pub(crate) current: Option<u64>,
    pub(crate) prompt: Option<LogPrompt>,
    /// Numbers the stream, so lines of a stream since replaced are dropped.
    pub stream: u64,
}

impl LogView {
    pub fn new(
        target: LogSource,
        title: String,
        many_pods: bool,
        containers: Vec<String>,
    ) -> LogView {
        LogView {
            target,
            title,
            many_pods,
            containers,
            container: None,
            previous: false,
            range: 0,
            timestamps: false,
            wrap: false,
            top: None,
            buffer: LogBuffer::default(),
            current: None,
            prompt: None,
            stream: 0,
        }
    }

    pub(crate) fn following(&self) -> bool {
        self.top.is_none()
    }

    pub(crate) fn range(&self) -> Range {
        RANGES[self.range % RANGES.len()]
    }

    pub(crate) fn options(&self) -> StreamOptions {
        let range = self.range();
        StreamOptions {
            previous: self.previous,
            containers: match self.container.and_then(|i| self.containers.get(i)) {
                Some(c) => Containers::One(c.clone()),
                None => Containers::All,
            },
            since: match range {
                Range::Since(s) => Since::Seconds(s),
                _ => Since::Start,
            },
            tail_lines: match range {
                Range::Tail(n) => Some(n),
                _ => None,
            },
            ..StreamOptions::default()
        }
    }

    /// The view index of the first line shown in a window of `rows` lines.
    pub(crate) fn first_shown(&self, rows: usize) -> usize {
        let len = self.buffer.view_len();
        let bottom = len.saturating_sub(rows);
        match self.top {
            None => bottom,
            Some(seq) => self.buffer.view_position(seq).min(bottom),
        }
    }

    fn seq_at(&self, index: usize) -> Option<u64> {
        self.buffer.view(index..index + 1).next().map(|(s, _)| s)
    }

    /// Scrolls by `delta` lines; reaching the bottom going down follows.
    fn scroll(&mut self, delta: isize, rows: usize) -> bool {
        let len = self.buffer.view_len();
        let bottom = len.saturating_sub(rows);
        let from = self.first_shown(rows);
        let to = (from as isize + delta).clamp(0, bottom as isize) as usize;
        let top = if to == bottom && (delta > 0 || self.following()) {
            None
        } else {
            self.seq_at(to)
        };
        let changed = top != self.top;
        self.top = top;
        changed
    }

    /// Shows `seq` a third of the way down the window and stops following.
    fn reveal(&mut self, seq: u64, rows: usize) {
        let index = self.buffer.view_position(seq);
        let bottom = self.buffer.view_len().saturating_sub(rows);
        let first = index.saturating_sub(rows / 3).min(bottom);
        self.top = self.seq_at(first);
    }

    /// Applies a typed filter; a regex that does not compile is an error
    /// and leaves the filter as it was.
    fn set_filter(&mut self, text: &str, regex: bool) -> Result<(), String> {
        self.buffer.set_filter_pattern(pattern(text, regex)?);
        Ok(())
    }

    fn set_search(&mut self, text: &str, regex: bool) -> Result<(), String> {
        self.buffer.set_search_pattern(pattern(text, regex)?);
        self.current = None;
        Ok(())
    }
}

fn pattern(text: &str, regex: bool) -> Result<Option<Pattern>, String> {
    if regex {
        Pattern::regex(text)
    } else {
        Ok(Pattern::new(text))
    }
}

/// The short kind for a title, as kubectl spells it.
fn short_kind(kind: &str) -> &str {
    match kind {
        "Deployment" => "deploy",
        "StatefulSet" => "sts",
        "DaemonSet" => "ds",
        "Job" => "job",
        "Service" => "svc",
        "Pod" => "pod",
        other => other,
    }
}

fn container_names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// Opens the log view on the selected row: a pod, one container of a pod,
/// or a workload's pods.
pub(crate) fn open(state: &mut AppState, cache: &Cache) -> Updated {
    if state.screen().covered() {
        return Updated::default();
    }
    let (key, obj) = match selected_object(state, cache) {
        Ok(found) => found,
        Err(out) => return out,
    };
    let screen = state.screen();
    let kind = obj["kind"].as_str().unwrap_or("object").to_string();
    let namespace = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let title = format!("{}/{name}", short_kind(&kind));
    let view = if kind == "Pod" {
        let containers = container_names(&obj["spec"]["containers"]);
        // A container's row (a pod's containers, an owner tree's node)
        // names the one to show.
        let chosen = crate::views::table_of(screen)
            .and_then(|t| t.container(&key))
            .and_then(|c| containers.iter().position(|n| *n == c));
        let mut view = LogView::new(LogSource::Pod { namespace, name }, title, false, containers);
        view.container = chosen;
        view
    } else {
        match WorkloadKind::from_kind(&kind) {
            Some(wk) => LogView::new(
                LogSource::Workload {
                    namespace,
                    kind: wk,
                    name,
                },
                title,
                true,
                container_names(&obj["spec"]["template"]["spec"]["containers"]),
            ),
            None => {
                state.message = Some((
                    format!("a {kind} has no logs: choose a pod, a container or a workload"),
                    Role::Muted,
                ));
                return Updated::redraw();
            }
        }
    };
    state.message = None;
    start(state, view)
}

/// Opens the log view on every pod matching a label selector, as a
/// runbook's `show: logs` step with a filter such as `app=web` asks.
pub(crate) fn open_selector(state: &mut AppState, namespace: &str, selector: &str) -> Updated {
    let view = LogView::new(
        LogSource::Selector {
            namespace: namespace.to_string(),
            selector: selector.to_string(),
        },
        format!("-l {selector}"),
        true,
        Vec::new(),
    );
    start(state, view)
}

fn start(state: &mut AppState, mut view: LogView) -> Updated {
    let effect = restart(state, &mut view);
    state.logs = Some(view);
    Updated::with(effect)
}

/// Starts the view's stream afresh with its current options: a new stream
/// number and an empty buffer that keeps the search and filter.
fn restart(state: &mut AppState, view: &mut LogView) -> Effect {
    state.requests += 1;
    view.stream = state.requests;
    let mut buffer = LogBuffer::new(view.buffer.bound());
    buffer.set_filter_pattern(view.buffer.filter().cloned());
    buffer.set_search_pattern(view.buffer.search().cloned());
    view.buffer = buffer;
    view.top = None;
    view.current = None;
    Effect::OpenLogs {
        stream: view.stream,
        target: view.target.clone(),
        options: view.options(),
    }
}

/// Lines from the runtime's stream task.
pub(crate) fn on_lines(state: &mut AppState, stream: u64, lines: Vec<LogLine>) -> Updated {
    let Some(view) = state.logs.as_mut() else {
        return Updated::default();
    };
    if view.stream != stream || lines.is_empty() {
        return Updated::default();
    }
    for line in lines {
        view.buffer.push(line);
    }
    Updated::redraw()
}

/// The runtime's answer to `Effect::SaveLogs`.
pub(crate) fn on_saved(state: &mut AppState, result: Result<String, String>) -> Updated {
    state.message = Some(match result {
        Ok(m) => (m, Role::Ok),
        Err(e) => (e, Role::Warning),
    });
    Updated::redraw()
}

/// Lines of log text the view shows at once.
pub(crate) fn rows(state: &AppState) -> usize {
    // As the describe pane: the table's rows and its header line.
    state.page + 1
}

/// What a key means in the log view: its own keymap, then the normal one's
/// movement, Esc, quit and help.
pub(crate) fn action(keymap: &Keymap, key: Key) -> Option<&Action> {
    keymap.resolve(Mode::Logs, key).or_else(|| {
        keymap
            .resolve(Mode::Normal, key)
            .filter(|a| FALLBACK.contains(a))
    })
}

/// A key while the log view is open; Esc (once no filter is left) closes it.
pub(crate) fn on_key(
    state: &mut AppState,
    key: Key,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    let rows = rows(state);
    let Some(view) = state.logs.as_mut() else {
        return Updated::default();
    };
    if view.prompt.is_some() {
        return on_prompt_key(state, key, keymap, rows);
    }
    let Some(action) = action(keymap, key).cloned() else {
        return Updated::default();
    };
    let had_message = state.message.take().is_some();
    let Some(view) = state.logs.as_mut() else {
        return Updated::default();
    };
    let page = rows.max(1) as isize;
    let changed = match action {
        Action::Down => view.scroll(1, rows),
        Action::Up => view.scroll(-1, rows),
        Action::PageDown => view.scroll(page, rows),
        Action::PageUp => view.scroll(-page, rows),
        Action::Top => view.scroll(isize::MIN / 2, rows),
        Action::Bottom | Action::LogsFollow if view.top.is_some() => {
            view.top = None;
            true
        }
        Action::Bottom => false,
        Action::LogsFollow => {
            let first = view.first_shown(rows);
            view.top = view.seq_at(first);
            view.top.is_some()
        }
        Action::Back if view.buffer.filter().is_some() => {
            // As in the tables: Esc clears the filter before going back.
            view.buffer.set_filter_pattern(None);
            true
        }
        Action::Back => {
            state.logs = None;
            return Updated::with(Effect::CloseLogs);
        }
        Action::Quit => return quit(state),
        Action::Help => {
            state.overlay = Some(Overlay::Help);
            state.help_scroll = 0;
            true
        }
        Action::LogsPause => {
            if view.buffer.is_paused() {
                view.buffer.resume();
            } else {
                view.buffer.pause();
            }
            true
        }
        Action::LogsTimestamps => {
            view.timestamps = !view.timestamps;
            true
        }
        Action::LogsWrap => {
            view.wrap = !view.wrap;
            true
        }
        Action::LogsPrevious | Action::LogsContainer | Action::LogsSince => {
            return change_stream(state, &action);
        }
        Action::LogsSearch | Action::LogsFilter => {
            let (kind, current) = if action == Action::LogsSearch {
                (PromptKind::Search, view.buffer.search())
            } else {
                (PromptKind::Filter, view.buffer.filter())
            };
            // A search starts afresh, as in less; a filter is edited.
            let text = match (kind, current) {
                (PromptKind::Filter, Some(p)) => p.as_str().to_string(),
                _ => String::new(),
            };
            view.prompt = Some(LogPrompt {
                kind,
                text,
                regex: current.is_some_and(Pattern::is_regex),
            });
            true
        }
        Action::LogsNextMatch | Action::LogsPrevMatch => {
            return jump(state, action == Action::LogsNextMatch, rows);
        }
        Action::LogsSave => return save(state, now),
        _ => false,
    };
    Updated {
        redraw: changed || had_message,
        effects: Vec::new(),
    }
}

/// Previous container, container choice, or since/tail: each restarts the
/// stream.
fn change_stream(state: &mut AppState, action: &Action) -> Updated {
    let Some(mut view) = state.logs.take() else {
        return Updated::default();
    };
    let note = match action {
        Action::LogsPrevious => {
            view.previous = !view.previous;
            if view.previous {
                "the previous container instance's log".to_string()
            } else {
                "the current container's log, following".to_string()
            }
        }
        Action::LogsContainer if view.containers.len() < 2 => {
            let only = match view.containers.first() {
                Some(c) => format!("{c} is the only container"),
                None => "no containers to choose among".to_string(),
            };
            state.message = Some((only, Role::Muted));
            state.logs = Some(view);
            return Updated::redraw();
        }
        Action::LogsContainer => {
            view.container = match view.container {
                None => Some(0),
                Some(i) if i + 1 < view.containers.len() => Some(i + 1),
                Some(_) => None,
            };
            match view.container.and_then(|i| view.containers.get(i)) {
                Some(c) => format!("container {c}"),
                None => "all containers".to_string(),
            }
        }
        _ => {
            view.range = (view.range + 1) % RANGES.len();
            format!("logs from {}", view.range().label())
        }
    };
    let effect = restart(state, &mut view);
    state.message = Some((note, Role::Info));
    state.logs = Some(view);
    Updated::with(effect)
}

/// `n` / `N`: the next or previous match from the current one.
fn jump(state: &mut AppState, forward: bool, rows: usize) -> Updated {
    let Some(view) = state.logs.as_mut() else {
        return Updated::default();
    };
    let Some(search) = view.buffer.search().map(|p| p.as_str().to_string()) else {
        state.message = Some(("no search: / searches".into(), Role::Muted));
        return Updated::redraw();
    };
    let from = view.current;
    let found = if forward {
        view.buffer.next_match(from)
    } else {
        view.buffer.prev_match(from)
    };
    match found {
        Some(seq) => {
            view.current = Some(seq);
            view.reveal(seq, rows);
        }
        None => state.message = Some((format!("no match for {search}"), Role::Muted)),
    }
    Updated::redraw()
}

fn save(state: &mut AppState, now: DateTime<Utc>) -> Updated {
    let Some(view) = state.logs.as_ref() else {
        return Updated::default();
    };
    let name: String = view
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let effect = Effect::SaveLogs {
        buffer: Box::new(view.buffer.clone()),
        file_name: format!("{name}-{}.log", now.format("%Y%m%d-%H%M%S")),
        timestamps: view.timestamps,
        filtered: view.buffer.filter().is_some(),
    };
    state.message = Some(("saving the log…".into(), Role::Muted));
    Updated::with(effect)
}

fn on_prompt_key(state: &mut AppState, key: Key, keymap: &Keymap, rows: usize) -> Updated {
    let Some(view) = state.logs.as_mut() else {
        return Updated::default();
    };
    let Some(mut prompt) = view.prompt.clone() else {
        return Updated::default();
    };
    match keymap.resolve(Mode::Input, key) {
        Some(Action::Back) => {
            // Esc abandons the prompt and what it set, as the table filter does.
            view.prompt = None;
            match prompt.kind {
                PromptKind::Filter => view.buffer.set_filter_pattern(None),
                PromptKind::Search => view.buffer.set_search_pattern(None),
            }
            state.message = None;
            return Updated::redraw();
        }
        Some(Action::Accept) => return accept(state, prompt, rows),
        _ => {}
    }
    if keymap.resolve(Mode::Logs, key) == Some(&Action::LogsRegex) {
        prompt.regex = !prompt.regex;
    } else {
        match key.code {
            Code::Backspace => {
                prompt.text.pop();
            }
            Code::Char(c) if !key.ctrl && !key.alt => prompt.text.push(c),
            _ => return Updated::default(),
        }
    }
    view.prompt = Some(prompt.clone());
    // The filter applies as it is typed; an unfinished regex keeps the
    // lines as they were and says why.
    if prompt.kind == PromptKind::Filter {
        state.message = view
            .set_filter(&prompt.text, prompt.regex)
            .err()
            .map(|e| (e, Role::Warning));
    }
    Updated::redraw()
}

fn accept(state: &mut AppState, prompt: LogPrompt, rows: usize) -> Updated {
    let Some(view) = state.logs.as_mut() else {
        return Updated::default();
    };
    let applied = match prompt.kind {
        PromptKind::Filter => view.set_filter(&prompt.text, prompt.regex),
        PromptKind::Search => view.set_search(&prompt.text, prompt.regex),
    };
    if let Err(e) = applied {
        // The prompt stays open so the pattern can be fixed.
        state.message = Some((e, Role::Warning));
        return Updated::redraw();
    }
    view.prompt = None;
    state.message = None;
    if prompt.kind == PromptKind::Search && view.buffer.search().is_some() {
        // From the bottom the newest match, else the first below the top.
        let found = if view.following() {
            view.buffer.prev_match(None)
        } else {
            let first = view.first_shown(rows);
            let before = first.checked_sub(1).and_then(|i| view.seq_at(i));
            match before {
                Some(seq) => view.buffer.next_match(Some(seq)),
                None => view.buffer.next_match(None),
            }
        };
        match found {
            Some(seq) => {
                view.current = Some(seq);
                view.reveal(seq, rows);
            }
            None => {
                state.message = Some((format!("no match for {}", prompt.text), Role::Muted));
            }
        }
    }
    Updated::redraw()
}
