//! `update`: the one place the console's state changes. Pure: it reads the
//! cache and the clock it is given, and returns what the runtime must do.

use chrono::{DateTime, Utc};

use super::cluster::metrics::PodMetrics;
use super::cluster::watch::WatchMsg;
use super::cluster::{Cache, Kind};
use super::commands::{self, ColonCommand};
use super::filter::Filter;
use super::input::action::{Action, View};
use super::input::key::{Code, Key};
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Health, Prompt, Screen};
use super::theme::Role;
use super::views::describe::{self, TextPane};
use super::views::{Query, Scope, table_for, table_of};
use kubedeck_core::actions::{
    Command as ActionCommand, Confirmation, Confirmed, Permission, WorkloadRef,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    Watch(WatchMsg),
    /// The terminal's new height in rows.
    Resize(u16),
    /// A pod metrics sample, or word that the cluster has none.
    Metrics(PodMetrics),
    /// kubedeck logged something; the log pane, if shown, has news.
    Logged,
    /// Sparkline series, or news of the metrics source.
    Charts(super::charts::ChartMsg),
    /// The runtime now watches this context, into a fresh cache.
    ContextSwitched {
        name: String,
        namespace: Option<String>,
        readonly: bool,
        /// Problems with the new context's own files (its theme).
        warnings: Vec<String>,
    },
    /// A `:ctx` failed; the console stays on the context it was on.
    ContextFailed {
        name: String,
        error: String,
    },
    /// The kubeconfig's contexts, for `:ctx` without a name.
    Contexts(Result<Vec<String>, String>),
    /// The answer to `Effect::Plan`: the confirmation to show (or why there
    /// is none) and what RBAC says.
    Planned {
        id: u64,
        result: Result<Confirmation, String>,
        permission: Permission,
    },
    /// The answer to `Effect::Execute`: the API's message either way.
    Executed {
        command: ActionCommand,
        result: Result<String, String>,
    },
    /// A StatefulSet's ControllerRevisions, for its history panel.
    Revisions {
        target: WorkloadRef,
        result: Result<Vec<serde_json::Value>, String>,
    },
    /// The answer to `Effect::LoadFull`: the full object, without managedFields.
    FullLoaded {
        target: super::full_yaml::FullRef,
        result: Result<serde_json::Value, String>,
    },
    /// Lines of the log view's stream number `stream`, all that were ready.
    LogLines {
        stream: u64,
        lines: Vec<kubedeck_core::logs::LogLine>,
    },
    /// The answer to `Effect::SaveLogs`: what was written, or why not.
    LogsSaved(Result<String, String>),
    /// A log line of a followed backup Job; `note` for the stream's own
    /// notes (joined, ended).
    BackupLog {
        job: String,
        line: String,
        note: bool,
    },
    /// News from a recovery test or a runbook run.
    Ops(super::oncall::OpsMsg),
}

/// What the runtime does after an update.
#[derive(Debug)]
pub enum Effect {
    Quit,
    /// Reconnect to another kubeconfig context.
    SwitchContext(String),
    /// Read the kubeconfig's context names.
    ListContexts,
    /// Read the cluster around a command and ask RBAC about it, answering
    /// with `Msg::Planned`.
    Plan {
        id: u64,
        command: ActionCommand,
    },
    /// Run a confirmed command in the executor, answering with `Msg::Executed`.
    Execute(Confirmed),
    /// List a StatefulSet's ControllerRevisions, answering with `Msg::Revisions`.
    LoadRevisions(WorkloadRef),
    /// Read a pod or event in full for its YAML pane, answering with
    /// `Msg::FullLoaded`.
    LoadFull(super::full_yaml::FullRef),
    /// Append an action refused because the context is read-only to the audit log.
    AuditReadonlyRefusal {
        namespace: String,
        object: String,
        action: String,
    },
    /// Stream a target's logs, replacing any stream open, answering with
    /// `Msg::LogLines` numbered `stream`.
    OpenLogs {
        stream: u64,
        target: kubedeck_core::logs::LogSource,
        options: kubedeck_core::logs::StreamOptions,
    },
    /// Stop the log view's stream.
    CloseLogs,
    /// Write a copy of the log view's buffer to `file_name` in the logs
    /// folder, answering with `Msg::LogsSaved`.
    SaveLogs {
        buffer: Box<kubedeck_core::logs::LogBuffer>,
        file_name: String,
        timestamps: bool,
        filtered: bool,
    },
    /// Stream a backup Job's log, answering with `Msg::BackupLog`, while a
    /// run pane is open; replaces the stream of an earlier run.
    FollowBackupLogs(super::oncall::backup_view::BackupFollow),
    /// Start or drive a recovery test or a runbook run.
    Ops(super::oncall::OpsEffect),
}

/// A `Confirmed` is neither Clone nor comparable; two effects are equal
/// when they would run the same confirmation.
impl PartialEq for Effect {
    fn eq(&self, other: &Effect) -> bool {
        match (self, other) {
            (Effect::Quit, Effect::Quit) | (Effect::ListContexts, Effect::ListContexts) => true,
            (Effect::SwitchContext(a), Effect::SwitchContext(b)) => a == b,
            (Effect::Plan { id: a, command: ca }, Effect::Plan { id: b, command: cb }) => {
                a == b && ca == cb
            }
            (Effect::Execute(a), Effect::Execute(b)) => a.confirmation() == b.confirmation(),
            (Effect::LoadRevisions(a), Effect::LoadRevisions(b)) => a == b,
            (Effect::LoadFull(a), Effect::LoadFull(b)) => a == b,
            (Effect::FollowBackupLogs(a), Effect::FollowBackupLogs(b)) => a == b,
            (
                Effect::OpenLogs {
                    stream: sa,
                    target: ta,
                    options: oa,
                },
                Effect::OpenLogs {
                    stream: sb,
                    target: tb,
                    options: ob,
                },
            ) => sa == sb && ta == tb && oa == ob,
            (Effect::CloseLogs, Effect::CloseLogs) => true,
            (
                Effect::SaveLogs {
                    file_name: fa,
                    timestamps: ta,
                    filtered: la,
                    ..
                },
                Effect::SaveLogs {
                    file_name: fb,
                    timestamps: tb,
                    filtered: lb,
                    ..
                },
            ) => fa == fb && ta == tb && la == lb,
            (
                Effect::AuditReadonlyRefusal {
                    namespace: na,
                    object: oa,
                    action: aa,
                },
                Effect::AuditReadonlyRefusal {
                    namespace: nb,
                    object: ob,
                    action: ab,
                },
            ) => na == nb && oa == ob && aa == ab,
            (Effect::Ops(a), Effect::Ops(b)) => a == b,
            _ => false,
        }
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Updated {
    pub redraw: bool,
    pub effects: Vec<Effect>,
}

impl Updated {
    pub(crate) fn redraw() -> Updated {
        Updated {
            redraw: true,
            effects: Vec::new(),
        }
    }
}

/// Lines of the screen that are not table rows: header, breadcrumb, table
/// title and column header, status line.
pub const CHROME_ROWS: u16 = 6;

/// The log pane's height, borders included, for a terminal this high: ten
/// rows, but never more than a third of the screen.
pub fn log_pane_height(height: u16) -> u16 {
    (height / 3).min(10)
}

/// Table rows that fit: the terminal less the chrome and the log pane.
fn table_page(state: &AppState) -> usize {
    let log = if state.log_pane {
        log_pane_height(state.height)
    } else {
        0
    };
    state.height.saturating_sub(CHROME_ROWS + log).max(1) as usize
}

pub fn update(
    state: &mut AppState,
    msg: Msg,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    match msg {
        Msg::Resize(height) => {
            state.height = height;
            state.page = table_page(state);
            let page = state.page;
            clamp_offset(state.screen_mut(), page);
            Updated::redraw()
        }
        Msg::Watch(w) => on_watch(state, w, cache, now),
        Msg::Metrics(metrics) => on_metrics(state, metrics, cache, now),
        Msg::Charts(msg) => super::charts::on_msg(state, msg, cache, now),
        Msg::Logged => Updated {
            redraw: state.log_pane,
            effects: Vec::new(),
        },
        Msg::ContextSwitched {
            name,
            namespace,
            readonly,
            warnings,
        } => {
            let mut fresh = AppState::new(name.clone(), namespace, readonly);
            fresh.height = state.height;
            fresh.page = state.page;
            fresh.log_pane = state.log_pane;
            fresh.warnings = std::mem::take(&mut state.warnings);
            fresh.warnings.extend(warnings);
            fresh.requests = state.requests;
            fresh.ops = std::mem::take(&mut state.ops);
            fresh.charts = state.charts;
            for kind in Kind::ALL {
                fresh.health.insert(kind, Health::Syncing);
            }
            fresh.message = Some((format!("switched to context {name}"), Role::Ok));
            *state = fresh;
            refresh_current(state, cache, now);
            Updated::redraw()
        }
        Msg::ContextFailed { name, error } => {
            // Only the latest request's answer matters.
            if state.switching.as_deref() == Some(name.as_str()) {
                state.switching = None;
            }
            state.message = Some((
                format!(
                    "cannot switch to context {name}: {error}; staying on {}",
                    state.context
                ),
                Role::Warning,
            ));
            Updated::redraw()
        }
        Msg::Contexts(Ok(names)) => {
            let listed: Vec<String> = names
                .iter()
                .map(|n| {
                    if *n == state.context {
                        format!("*{n}")
                    } else {
                        n.clone()
                    }
                })
                .collect();
            state.message = Some((
                format!("contexts: {}  (:ctx NAME switches)", listed.join(" ")),
                Role::Info,
            ));
            Updated::redraw()
        }
        Msg::Contexts(Err(e)) => {
            state.message = Some((e, Role::Warning));
            Updated::redraw()
        }
        Msg::Planned {
            id,
            result,
            permission,
        } => super::act::on_planned(state, id, result, permission),
        Msg::Executed { command, result } => {
            let follow = super::oncall::backup_view::on_executed(state, &command, &result, now);
            let mut out = super::act::on_executed(state, command, result);
            out.effects.extend(follow);
            out
        }
        Msg::BackupLog { job, line, note } => {
            super::oncall::backup_view::on_log(state, &job, line, note)
        }
        Msg::Revisions { target, result } => super::act::on_revisions(state, target, result),
        Msg::FullLoaded { target, result } => super::full_yaml::on_loaded(state, target, result),
        Msg::LogLines { stream, lines } => super::logview::on_lines(state, stream, lines),
        Msg::LogsSaved(result) => super::logview::on_saved(state, result),
        Msg::Ops(m) => super::oncall::on_msg(state, m, cache, now),
        Msg::Key(key) => {
            if let Some(out) = super::oncall::on_dialog_key(state, key, keymap) {
                out
            } else if state.dialog.is_some() {
                super::act::on_dialog_key(state, key, keymap)
            } else if state.prompt.is_some() {
                on_prompt_key(state, key, cache, keymap, now)
            } else if state.help {
                match keymap.resolve(Mode::Normal, key) {
                    Some(Action::Quit | Action::Back | Action::Help) => {
                        state.help = false;
                        Updated::redraw()
                    }
                    _ => Updated::default(),
                }
            } else if state.logs.is_some() {
                let out = super::logview::on_key(state, key, keymap, now);
                if state.logs.is_none() {
                    // Back at the table, which did not follow changes meanwhile.
                    refresh_current(state, cache, now);
                }
                out
            } else {
                match keymap.resolve(Mode::Normal, key).cloned() {
                    Some(action) => on_action(state, action, cache, now),
                    None => Updated::default(),
                }
            }
        }
    }
}

fn on_watch(state: &mut AppState, w: WatchMsg, cache: &Cache, now: DateTime<Utc>) -> Updated {
    let kind = match &w {
        WatchMsg::Changed(k) | WatchMsg::Synced(k) | WatchMsg::Failed(k, _) => *k,
    };
    match w {
        WatchMsg::Synced(_) | WatchMsg::Changed(_) => {
            state.health.insert(kind, Health::Live);
        }
        WatchMsg::Failed(_, err) => {
            if !matches!(state.health.get(&kind), Some(Health::Stale(_))) {
                state.health.insert(kind, Health::Stale(now));
            }
            state.message = Some((
                format!("watch of {} failed: {err}; retrying", kind.plural()),
                Role::Warning,
            ));
            return Updated::redraw();
        }
    }
    if state.logs.is_some() {
        // The table is hidden; it is refreshed when the log view closes.
        return Updated::default();
    }
    if let Some(out) = super::oncall::backup_view::on_watch(state, kind) {
        return out;
    }
    // A recovery timeline or a runbook does not read the cache.
    if state.screen().ops.is_some() {
        return Updated::default();
    }
    if state.screen().panel.is_some() {
        return Updated {
            redraw: super::act::PANEL_KINDS.contains(&kind),
            effects: Vec::new(),
        };
    }
    // A describe or YAML pane is a snapshot: it does not follow changes.
    let shown = state.screen().text.is_none()
        && table_of(state.screen()).is_some_and(|t| t.depends_on().contains(&kind));
    if shown {
        refresh_current(state, cache, now);
    }
    Updated {
        redraw: shown,
        effects: Vec::new(),
    }
}

/// Keeps the latest sample in the cache; the pods view reads it there.
fn on_metrics(
    state: &mut AppState,
    metrics: PodMetrics,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    cache.metrics.set(metrics);
    let screen = state.screen();
    let shown = !screen.covered()
        && state.logs.is_none()
        && screen.view == View::Pods
        && !matches!(screen.query.scope, Scope::Pod { .. });
    if shown {
        // A sort by CPU or MEM reorders with each sample.
        refresh_current(state, cache, now);
    }
    Updated {
        redraw: shown,
        effects: Vec::new(),
    }
}

fn refresh_current(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) {
    let page = state.page;
    refresh(state.screen_mut(), cache, now, page);
}

/// Rebuilds the row list, keeping the cursor on the same object if it is
/// still listed.
pub fn refresh(screen: &mut Screen, cache: &Cache, now: DateTime<Utc>, page: usize) {
    if screen.covered() {
        return;
    }
    let Some(table) = table_of(screen) else {
        screen.rows.clear();
        return;
    };
    let keep = screen.selected_key().cloned();
    screen.rows = table.rows(cache, &screen.query, now);
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

fn move_cursor(state: &mut AppState, delta: isize) -> Updated {
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

fn goto(state: &mut AppState, view: View, cache: &Cache, now: DateTime<Utc>) -> Updated {
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

/// Drills into the selected row: pushes the screen its view leads to.
fn enter(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) -> Updated {
    let screen = state.screen();
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

/// Opens describe or YAML of the selected row's object as a pane on the
/// stack, so Esc returns to the table.
fn open_text(state: &mut AppState, yaml: bool, cache: &Cache, now: DateTime<Utc>) -> Updated {
    let screen = state.screen();
    let (Some(table), Some(key)) = (table_of(screen), screen.selected_key().cloned()) else {
        return Updated::default();
    };
    let Some(obj) = table.object(cache, &key) else {
        state.message = Some(("the object is gone".into(), Role::Warning));
        return Updated::redraw();
    };
    let kind = obj["kind"].as_str().unwrap_or("object").to_string();
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let (verb, lines) = if yaml {
        ("yaml", describe::yaml(&obj))
    } else {
        ("describe", describe::describe(&obj, cache, now))
    };
    let mut pane = Screen::new(screen.view, screen.query.clone(), format!("{verb} {name}"));
    let mut text = TextPane {
        title: format!("{verb} {}/{name}", kind.to_lowercase()),
        lines,
        scroll: 0,
        loading: None,
    };
    let mut out = Updated::redraw();
    if yaml && let Some(projected) = super::full_yaml::Projected::of(&kind) {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
        out.effects
            .push(super::full_yaml::start(&mut text, projected, ns, &name));
    }
    pane.text = Some(text);
    state.stack.push(pane);
    out
}

fn scroll_text(state: &mut AppState, action: &Action) -> Updated {
    let page = state.page;
    let Some(pane) = state.screen_mut().text.as_mut() else {
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

fn on_action(state: &mut AppState, action: Action, cache: &Cache, now: DateTime<Utc>) -> Updated {
    state.message = None;
    let page = state.page as isize;
    if state.screen().text.is_some() {
        match action {
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => return scroll_text(state, &action),
            Action::Filter
            | Action::SortNext
            | Action::SortReverse
            | Action::Enter
            | Action::Describe
            | Action::Yaml => return Updated::default(),
            _ => {}
        }
    }
    if state.screen().panel.is_some()
        && let Some(out) = super::act::on_panel_action(state, &action, cache)
    {
        return out;
    }
    if let Some(out) = super::oncall::backup_view::on_action(state, &action) {
        return out;
    }
    if let Some(out) = super::oncall::on_action(state, &action) {
        return out;
    }
    match action {
        Action::Down => move_cursor(state, 1),
        Action::Up => move_cursor(state, -1),
        Action::PageDown => move_cursor(state, page),
        Action::PageUp => move_cursor(state, -page),
        Action::Top => move_cursor(state, isize::MIN / 2),
        Action::Bottom => move_cursor(state, isize::MAX / 2),
        Action::Command => {
            state.prompt = Some(Prompt::Command(String::new()));
            Updated::redraw()
        }
        Action::Filter => {
            state.prompt = Some(Prompt::Filter(state.screen().filter_text.clone()));
            Updated::redraw()
        }
        Action::Help => {
            state.help = true;
            Updated::redraw()
        }
        Action::ToggleLogPane => {
            state.log_pane = !state.log_pane;
            state.page = table_page(state);
            let page = state.page;
            clamp_offset(state.screen_mut(), page);
            Updated::redraw()
        }
        Action::MetricsWindow => super::charts::next_window(state),
        Action::ToggleChart => super::charts::toggle_chart(state),
        Action::Quit => {
            state.quit = true;
            Updated {
                redraw: false,
                effects: vec![Effect::Quit],
            }
        }
        Action::Back if !state.warnings.is_empty() => {
            state.warnings.clear();
            Updated::redraw()
        }
        Action::Back => {
            let screen = state.screen_mut();
            if !screen.filter_text.is_empty() {
                screen.filter_text.clear();
                screen.query.filter = Filter::All;
                refresh_current(state, cache, now);
            } else if state.stack.len() > 1 {
                state.stack.pop();
                refresh_current(state, cache, now);
            } else {
                return Updated::default();
            }
            Updated::redraw()
        }
        Action::SortNext | Action::SortReverse => {
            let Some(table) = table_of(state.screen()) else {
                return Updated::default();
            };
            let screen = state.screen_mut();
            if action == Action::SortNext {
                screen.query.sort_column = (screen.query.sort_column + 1) % table.columns().len();
                screen.query.descending = table.columns()[screen.query.sort_column].numeric;
            } else {
                screen.query.descending = !screen.query.descending;
            }
            refresh_current(state, cache, now);
            Updated::redraw()
        }
        Action::Goto(view) => goto(state, view, cache, now),
        Action::Enter => enter(state, cache, now),
        Action::Describe => open_text(state, false, cache, now),
        Action::Yaml => open_text(state, true, cache, now),
        Action::Logs => super::logview::open(state, cache),
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
        | Action::RolloutStatus => super::act::on_action(state, &action, cache, now),
        other => {
            state.message = Some((
                format!("{} is not available here yet", other.describe()),
                Role::Muted,
            ));
            Updated::redraw()
        }
    }
}

fn on_prompt_key(
    state: &mut AppState,
    key: Key,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    let Some(prompt) = state.prompt.clone() else {
        return Updated::default();
    };
    match keymap.resolve(Mode::Input, key) {
        Some(Action::Back) => {
            state.prompt = None;
            if let Prompt::Filter(_) = prompt {
                // Esc abandons the filter, as in k9s.
                apply_filter(state, "", cache, now);
            }
            return Updated::redraw();
        }
        Some(Action::Accept) => {
            state.prompt = None;
            return match prompt {
                Prompt::Filter(_) => Updated::redraw(),
                Prompt::Command(line) => run_command(state, &line, cache, now),
            };
        }
        Some(Action::NextField) => {
            if let Prompt::Command(line) = &prompt
                && let Some(first) = commands::complete(line.trim()).first()
            {
                state.prompt = Some(Prompt::Command(first.to_string()));
                return Updated::redraw();
            }
            return Updated::default();
        }
        _ => {}
    }
    let mut text = match &prompt {
        Prompt::Command(t) | Prompt::Filter(t) => t.clone(),
    };
    match key.code {
        Code::Backspace => {
            text.pop();
        }
        Code::Char(c) if !key.ctrl && !key.alt => text.push(c),
        _ => return Updated::default(),
    }
    match prompt {
        Prompt::Command(_) => state.prompt = Some(Prompt::Command(text)),
        Prompt::Filter(_) => {
            state.prompt = Some(Prompt::Filter(text.clone()));
            apply_filter(state, &text, cache, now);
        }
    }
    Updated::redraw()
}

/// Filters live as the user types; a selector that does not parse yet
/// leaves the rows as they were and says why.
fn apply_filter(state: &mut AppState, text: &str, cache: &Cache, now: DateTime<Utc>) {
    match Filter::parse(text) {
        Ok(f) => {
            state.message = None;
            let page = state.page;
            let screen = state.screen_mut();
            screen.query.filter = f;
            screen.filter_text = text.to_string();
            screen.selected = 0;
            screen.offset = 0;
            refresh(screen, cache, now, page);
        }
        Err(e) => state.message = Some((e, Role::Warning)),
    }
}

fn run_command(state: &mut AppState, line: &str, cache: &Cache, now: DateTime<Utc>) -> Updated {
    if let Some(out) = super::oncall::on_command(state, line) {
        return out;
    }
    if matches!(line.trim(), "ctx" | "context") {
        return Updated {
            redraw: false,
            effects: vec![Effect::ListContexts],
        };
    }
    match commands::parse(line) {
        Ok(ColonCommand::Goto(view)) => goto(state, view, cache, now),
        Ok(ColonCommand::Quit) => {
            state.quit = true;
            Updated {
                redraw: false,
                effects: vec![Effect::Quit],
            }
        }
        Ok(ColonCommand::Namespace(ns)) => {
            state.namespace = ns.clone();
            for screen in &mut state.stack {
                screen.query.namespace = ns.clone();
            }
            refresh_current(state, cache, now);
            Updated::redraw()
        }
        Ok(ColonCommand::Context(name)) if name == state.context => {
            state.message = Some((format!("already on context {name}"), Role::Muted));
            Updated::redraw()
        }
        Ok(ColonCommand::Context(name)) => {
            state.message = Some((format!("switching to context {name}…"), Role::Info));
            state.switching = Some(name.clone());
            Updated {
                redraw: true,
                effects: vec![Effect::SwitchContext(name)],
            }
        }
        Err(e) => {
            state.message = Some((e, Role::Warning));
            Updated::redraw()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{cluster, now};

    fn key(s: &str) -> Msg {
        Msg::Key(s.parse().expect("test key parses"))
    }

    /// The pods view as the root screen, which these tests exercise.
    fn pods_state() -> AppState {
        let mut state = AppState::new("test", None, false);
        state.stack = vec![Screen::new(View::Pods, Query::default(), "pods")];
        state
    }

    fn setup() -> (AppState, Cache, Keymap) {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = pods_state();
        update(&mut state, Msg::Resize(12), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        (state, cache, keymap)
    }

    fn names(state: &AppState) -> Vec<&str> {
        state
            .screen()
            .rows
            .iter()
            .map(|(_, n)| n.as_str())
            .collect()
    }

    fn type_keys(state: &mut AppState, cache: &Cache, keymap: &Keymap, text: &str) {
        for c in text.chars() {
            let k = if c == ' ' {
                "space".to_string()
            } else {
                c.to_string()
            };
            update(state, key(&k), cache, keymap, now());
        }
    }

    #[test]
    fn a_synced_watch_lists_pods_by_namespace_then_name() {
        let (state, _, _) = setup();
        assert_eq!(
            names(&state),
            [
                "ledger-0",
                "worker-6c7d8e9f5b-zzzzz",
                "api-5f6b7c8d9f-abcde",
                "web-7d4b9c8f6d-q9z7m",
                "web-7d4b9c8f6d-x2x4k"
            ]
        );
    }

    #[test]
    fn typing_a_filter_narrows_rows_live_and_esc_restores_them() {
        let (mut state, cache, keymap) = setup();
        update(&mut state, key("/"), &cache, &keymap, now());
        type_keys(&mut state, &cache, &keymap, "web");
        assert_eq!(
            names(&state),
            ["web-7d4b9c8f6d-q9z7m", "web-7d4b9c8f6d-x2x4k"]
        );
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert!(state.prompt.is_none());
        assert_eq!(state.screen().rows.len(), 2, "the filter stays after enter");
        update(&mut state, key("esc"), &cache, &keymap, now());
        assert_eq!(
            state.screen().rows.len(),
            5,
            "esc on the table clears the filter"
        );
    }

    #[test]
    fn label_selector_filters_and_explains_a_bad_one() {
        let (mut state, cache, keymap) = setup();
        update(&mut state, key("/"), &cache, &keymap, now());
        type_keys(&mut state, &cache, &keymap, "-l app in (api,ledger");
        assert!(
            state
                .message
                .as_ref()
                .is_some_and(|(m, _)| m.starts_with("bad label selector"))
        );
        type_keys(&mut state, &cache, &keymap, ")");
        assert_eq!(names(&state), ["ledger-0", "api-5f6b7c8d9f-abcde"]);
        assert!(state.message.is_none());
    }

    #[test]
    fn cursor_moves_and_the_window_follows_it() {
        let (mut state, cache, keymap) = setup();
        update(
            &mut state,
            Msg::Resize(CHROME_ROWS + 2),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(state.page, 2);
        for _ in 0..3 {
            update(&mut state, key("j"), &cache, &keymap, now());
        }
        assert_eq!((state.screen().selected, state.screen().offset), (3, 2));
        update(&mut state, key("G"), &cache, &keymap, now());
        assert_eq!((state.screen().selected, state.screen().offset), (4, 3));
        update(&mut state, key("g"), &cache, &keymap, now());
        assert_eq!((state.screen().selected, state.screen().offset), (0, 0));
        let out = update(&mut state, key("k"), &cache, &keymap, now());
        assert!(!out.redraw, "nothing changed at the top, so no redraw");
    }

    #[test]
    fn sorting_by_restarts_puts_the_crash_loop_first() {
        let (mut state, cache, keymap) = setup();
        for _ in 0..4 {
            update(&mut state, key(">"), &cache, &keymap, now());
        }
        assert_eq!(state.screen().query.sort_column, 4);
        assert_eq!(names(&state)[0], "api-5f6b7c8d9f-abcde");
        update(&mut state, key("<"), &cache, &keymap, now());
        assert_ne!(names(&state)[0], "api-5f6b7c8d9f-abcde");
    }

    #[test]
    fn the_cursor_stays_on_its_pod_when_rows_change() {
        let (cache, mut writers) = crate::test_support::cluster_with_writers();
        let keymap = Keymap::built_in_default();
        let mut state = pods_state();
        update(&mut state, Msg::Resize(12), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        update(&mut state, key("G"), &cache, &keymap, now());
        let chosen = state.screen().selected_key().cloned();
        assert_eq!(state.screen().selected, 4);
        let newcomer = crate::test_support::pod("alpha", "first", "x", "node-1", 1, 0, None);
        writers.apply_json(&newcomer).expect("valid pod");
        update(
            &mut state,
            Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(state.screen().rows.len(), 6);
        assert_eq!(state.screen().selected, 5, "the row moved down");
        assert_eq!(
            state.screen().selected_key().cloned(),
            chosen,
            "the cursor followed its pod"
        );
    }

    #[test]
    fn commands_switch_views_and_namespaces_and_quit() {
        let (mut state, cache, keymap) = setup();
        update(&mut state, key(":"), &cache, &keymap, now());
        type_keys(&mut state, &cache, &keymap, "ns shop");
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert_eq!(state.namespace.as_deref(), Some("shop"));
        assert_eq!(state.screen().rows.len(), 3);
        update(&mut state, key(":"), &cache, &keymap, now());
        type_keys(&mut state, &cache, &keymap, "nope");
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert!(
            state
                .message
                .as_ref()
                .is_some_and(|(m, _)| m.contains("unknown command \"nope\""))
        );
        let out = update(&mut state, key("q"), &cache, &keymap, now());
        assert_eq!(out.effects, vec![Effect::Quit]);
    }

    #[test]
    fn a_failed_watch_marks_the_data_stale_but_keeps_it() {
        let (mut state, cache, keymap) = setup();
        update(
            &mut state,
            Msg::Watch(WatchMsg::Failed(
                crate::cluster::Kind::Pod,
                "connection refused".into(),
            )),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(
            state.health.get(&crate::cluster::Kind::Pod),
            Some(&Health::Stale(now()))
        );
        assert_eq!(state.screen().rows.len(), 5);
    }

    fn crumbs(state: &AppState) -> Vec<&str> {
        state.stack.iter().map(|s| s.crumb.as_str()).collect()
    }

    fn select(state: &mut AppState, name: &str) {
        let screen = state.screen_mut();
        screen.selected = screen
            .rows
            .iter()
            .position(|k| k.1 == name)
            .unwrap_or_else(|| panic!("{name} is listed in {:?}", screen.rows));
    }

    #[test]
    fn the_console_lands_on_the_overview_worst_namespace_first() {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        let out = update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Namespace)),
            &cache,
            &keymap,
            now(),
        );
        assert!(out.redraw);
        assert_eq!(state.screen().view, View::Overview);
        assert_eq!(names(&state), ["shop", "payments", "quiet"]);
    }

    #[test]
    fn enter_drills_from_a_namespace_to_a_pods_containers_and_esc_climbs_back() {
        let (mut state, cache, keymap) = setup();
        run_command(&mut state, "ns", &cache, now());
        select(&mut state, "shop");
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Services);
        assert_eq!(names(&state), ["api", "web"]);
        select(&mut state, "web");
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Workloads);
        assert_eq!(names(&state), ["Deployment/web"]);
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Pods);
        assert_eq!(
            names(&state),
            ["web-7d4b9c8f6d-q9z7m", "web-7d4b9c8f6d-x2x4k"]
        );
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert_eq!(names(&state), ["web-7d4b9c8f6d-q9z7m/web"]);
        assert_eq!(
            crumbs(&state),
            [
                "namespaces",
                "ns/shop",
                "svc/web",
                "deploy/web",
                "web-7d4b9c8f6d-q9z7m"
            ]
        );
        let vm = crate::view_model::build(&state, &cache, &keymap, now());
        assert_eq!(vm.table.title, "Containers(all)[1]");
        update(&mut state, key("esc"), &cache, &keymap, now());
        update(&mut state, key("esc"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Workloads);
        assert_eq!(crumbs(&state).len(), 3);
    }

    #[test]
    fn a_service_without_a_workload_opens_its_pods() {
        let (cache, mut writers) = crate::test_support::cluster_with_writers();
        writers
            .apply_json(&serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "loose", "namespace": "shop"},
                "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}
            }))
            .expect("valid service");
        writers
            .apply_json(&serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"selector": {"matchLabels": {"app": "api"}},
                         "template": {"metadata": {"labels": {"app": "other"}}, "spec": {"containers": []}}}
            }))
            .expect("valid deployment");
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        run_command(&mut state, "svc", &cache, now());
        select(&mut state, "loose");
        update(&mut state, key("enter"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Pods);
        assert_eq!(names(&state), ["api-5f6b7c8d9f-abcde"]);
    }

    #[test]
    fn describe_and_yaml_open_a_scrollable_pane_that_esc_closes() {
        let (mut state, cache, keymap) = setup();
        update(
            &mut state,
            Msg::Resize(CHROME_ROWS + 4),
            &cache,
            &keymap,
            now(),
        );
        select(&mut state, "api-5f6b7c8d9f-abcde");
        update(&mut state, key("y"), &cache, &keymap, now());
        let pane = state.screen().text.clone().expect("a YAML pane");
        assert_eq!(pane.title, "yaml pod/api-5f6b7c8d9f-abcde");
        assert_eq!(pane.lines[..2], ["apiVersion: v1", "kind: Pod"]);
        update(&mut state, key("j"), &cache, &keymap, now());
        update(&mut state, key("pagedown"), &cache, &keymap, now());
        assert_eq!(state.screen().text.as_ref().map(|p| p.scroll), Some(5));
        update(&mut state, key("G"), &cache, &keymap, now());
        let last = pane.lines.len() - 5;
        assert_eq!(state.screen().text.as_ref().map(|p| p.scroll), Some(last));
        let vm = crate::view_model::build(&state, &cache, &keymap, now());
        let text = vm.text.expect("the pane is drawn");
        assert_eq!(text.lines.len(), 5);
        assert_eq!(text.lines.last(), pane.lines.last());
        let out = update(
            &mut state,
            Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        assert!(!out.redraw, "the pane is a snapshot");
        update(&mut state, key("esc"), &cache, &keymap, now());
        assert!(state.screen().text.is_none());
        assert_eq!(
            state.screen().selected_key().map(|k| k.1.as_str()),
            Some("api-5f6b7c8d9f-abcde")
        );
        update(&mut state, key("d"), &cache, &keymap, now());
        let pane = state.screen().text.clone().expect("a describe pane");
        assert!(
            pane.lines
                .iter()
                .any(|l| l == "Status:         CrashLoopBackOff")
        );
    }

    #[test]
    fn number_keys_go_to_views_and_the_hpa_view_explains_the_selection() {
        let (mut state, cache, keymap) = setup();
        update(&mut state, key("4"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Hpas);
        assert_eq!(names(&state), ["ledger", "web"]);
        select(&mut state, "web");
        let vm = crate::view_model::build(&state, &cache, &keymap, now());
        let detail = vm.detail.expect("an HPA has a detail pane");
        assert!(detail[0].text.starts_with("at max (2)"), "{detail:?}");
        assert!(
            detail
                .iter()
                .any(|c| c.text.starts_with("scale-down: window 300s"))
        );
        update(&mut state, key("5"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Events);
        update(&mut state, key("0"), &cache, &keymap, now());
        assert_eq!(state.screen().view, View::Overview);
    }

    fn command(state: &mut AppState, cache: &Cache, keymap: &Keymap, line: &str) -> Updated {
        update(state, key(":"), cache, keymap, now());
        type_keys(state, cache, keymap, line);
        update(state, key("enter"), cache, keymap, now())
    }

    fn message(state: &AppState) -> &str {
        state.message.as_ref().map_or("", |(m, _)| m.as_str())
    }

    #[test]
    fn the_log_pane_toggles_and_takes_its_rows_from_the_table() {
        let (mut state, cache, keymap) = setup();
        update(&mut state, Msg::Resize(40), &cache, &keymap, now());
        assert_eq!(state.page, 34);
        update(&mut state, key("G"), &cache, &keymap, now());
        let out = update(&mut state, key("ctrl-l"), &cache, &keymap, now());
        assert!(out.redraw && state.log_pane);
        assert_eq!(state.page, 24, "ten rows for the pane");
        let vm = crate::view_model::build(&state, &cache, &keymap, now());
        let log = vm.log.expect("the pane is in the view model");
        assert_eq!(log.height, 10);
        assert_eq!(log.title, "kubedeck log  <ctrl-l> hides");
        update(&mut state, Msg::Resize(15), &cache, &keymap, now());
        assert_eq!(state.page, 4, "a third of a short screen");
        update(&mut state, key("ctrl-l"), &cache, &keymap, now());
        assert!(!state.log_pane);
        assert_eq!(state.page, 9);
        assert_eq!(
            state.screen().selected,
            4,
            "the cursor kept its row throughout"
        );
    }

    #[test]
    fn log_activity_redraws_only_a_visible_log_pane() {
        let (mut state, cache, keymap) = setup();
        assert!(!update(&mut state, Msg::Logged, &cache, &keymap, now()).redraw);
        update(&mut state, key("ctrl-l"), &cache, &keymap, now());
        assert!(update(&mut state, Msg::Logged, &cache, &keymap, now()).redraw);
    }

    #[test]
    fn ctx_asks_the_runtime_to_switch_unless_already_there() {
        let (mut state, cache, keymap) = setup();
        let out = command(&mut state, &cache, &keymap, "ctx staging");
        assert_eq!(out.effects, vec![Effect::SwitchContext("staging".into())]);
        assert_eq!(message(&state), "switching to context staging…");
        assert_eq!(state.switching.as_deref(), Some("staging"));
        assert_eq!(state.context, "test", "nothing changes until it connects");
        let out = command(&mut state, &cache, &keymap, "ctx test");
        assert!(out.effects.is_empty());
        assert_eq!(message(&state), "already on context test");
        let out = command(&mut state, &cache, &keymap, "ctx");
        assert_eq!(out.effects, vec![Effect::ListContexts]);
        update(
            &mut state,
            Msg::Contexts(Ok(vec!["prod".into(), "test".into()])),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(
            message(&state),
            "contexts: prod *test  (:ctx NAME switches)"
        );
    }

    #[test]
    fn a_switched_context_starts_over_on_the_landing_view() {
        let (mut state, cache, keymap) = setup();
        update(&mut state, key("ctrl-l"), &cache, &keymap, now());
        command(&mut state, &cache, &keymap, "ns shop");
        command(&mut state, &cache, &keymap, "ctx prod");
        let page = state.page;
        let (fresh, _) = crate::cluster::cache::new();
        let out = update(
            &mut state,
            Msg::ContextSwitched {
                name: "prod".into(),
                namespace: Some("payments".into()),
                readonly: true,
                warnings: vec!["theme \"prod-red\": no such theme".into()],
            },
            &fresh,
            &keymap,
            now(),
        );
        assert!(out.redraw);
        assert_eq!(state.context, "prod");
        assert_eq!(state.namespace.as_deref(), Some("payments"));
        assert!(state.readonly, "a protected context is read-only");
        assert_eq!(state.stack.len(), 1);
        assert_eq!(state.screen().view, View::Overview);
        assert!(state.screen().rows.is_empty(), "the fresh cache is empty");
        assert!(state.health.values().all(|h| *h == Health::Syncing));
        assert_eq!((state.page, state.log_pane), (page, true));
        assert_eq!(state.switching, None);
        assert_eq!(message(&state), "switched to context prod");
        assert_eq!(state.warnings, ["theme \"prod-red\": no such theme"]);
    }

    #[test]
    fn a_failed_switch_stays_on_the_old_context_and_says_why() {
        let (mut state, cache, keymap) = setup();
        command(&mut state, &cache, &keymap, "ctx nope");
        update(
            &mut state,
            Msg::ContextFailed {
                name: "nope".into(),
                error: "no context \"nope\" in the kubeconfig; it has: prod, test".into(),
            },
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(
            message(&state),
            "cannot switch to context nope: no context \"nope\" in the kubeconfig; it has: prod, test; staying on test"
        );
        assert_eq!(state.context, "test");
        assert_eq!(state.switching, None);
        assert_eq!(state.screen().view, View::Pods);
        assert_eq!(state.screen().rows.len(), 5);
    }

    #[test]
    fn a_metrics_sample_fills_and_sorts_the_cpu_and_mem_columns() {
        use crate::cluster::metrics::Usage;
        let (mut state, cache, keymap) = setup();
        let cells = |state: &AppState| -> Vec<(String, String, String)> {
            let vm = crate::view_model::build(state, &cache, &keymap, now());
            vm.table
                .rows
                .iter()
                .map(|r| (r[1].text.clone(), r[5].text.clone(), r[6].text.clone()))
                .collect()
        };
        let vm = crate::view_model::build(&state, &cache, &keymap, now());
        assert_eq!(vm.table.columns[5].0, "CPU");
        assert_eq!(vm.table.columns[6].0, "MEM");
        assert!(cells(&state).iter().all(|(_, c, m)| c == "-" && m == "-"));
        let usage = |cpu_millis, mib: u64| Usage {
            cpu_millis,
            memory_bytes: mib << 20,
        };
        let sample = PodMetrics::Sample(std::collections::HashMap::from([
            (
                ("shop".into(), "web-7d4b9c8f6d-x2x4k".into()),
                usage(12, 45),
            ),
            (
                ("shop".into(), "web-7d4b9c8f6d-q9z7m".into()),
                usage(250, 80),
            ),
            (("payments".into(), "ledger-0".into()), usage(3, 300)),
        ]));
        let out = update(&mut state, Msg::Metrics(sample), &cache, &keymap, now());
        assert!(out.redraw, "the pods view shows metrics");
        assert!(cells(&state).contains(&(
            "web-7d4b9c8f6d-x2x4k".into(),
            "12m".into(),
            "45Mi".into()
        )));
        assert!(cells(&state).contains(&("api-5f6b7c8d9f-abcde".into(), "-".into(), "-".into())));
        for _ in 0..5 {
            update(&mut state, key(">"), &cache, &keymap, now());
        }
        assert_eq!(state.screen().query.sort_column, 5);
        assert_eq!(
            &names(&state)[..3],
            ["web-7d4b9c8f6d-q9z7m", "web-7d4b9c8f6d-x2x4k", "ledger-0"],
            "busiest first"
        );
        update(
            &mut state,
            Msg::Metrics(PodMetrics::Unavailable),
            &cache,
            &keymap,
            now(),
        );
        assert!(
            cells(&state)
                .iter()
                .all(|(_, c, m)| c == "n/a" && m == "n/a")
        );
        update(&mut state, key("0"), &cache, &keymap, now());
        let out = update(
            &mut state,
            Msg::Metrics(PodMetrics::Pending),
            &cache,
            &keymap,
            now(),
        );
        assert!(!out.redraw, "no view but pods shows metrics");
    }
}
