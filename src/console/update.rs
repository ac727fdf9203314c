//! `update`: the one place the console's state changes. Pure: it reads the
//! cache and the clock it is given, and returns what the runtime must do.

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::cluster::watch::WatchMsg;
use super::commands::{self, Command};
use super::filter::Filter;
use super::input::action::{Action, View};
use super::input::key::{Code, Key};
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Health, Prompt, Screen};
use super::theme::Role;
use super::views::{Query, table_for};

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    Watch(WatchMsg),
    /// The terminal's new height in rows.
    Resize(u16),
}

/// What the runtime does after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Reconnect to another kubeconfig context.
    SwitchContext(String),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub redraw: bool,
    pub effects: Vec<Effect>,
}

impl Outcome {
    fn redraw() -> Outcome {
        Outcome {
            redraw: true,
            effects: Vec::new(),
        }
    }
}

/// Lines of the screen that are not table rows: header, breadcrumb, table
/// title and column header, status line.
pub const CHROME_ROWS: u16 = 6;

pub fn update(
    state: &mut AppState,
    msg: Msg,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Outcome {
    match msg {
        Msg::Resize(height) => {
            state.page = height.saturating_sub(CHROME_ROWS).max(1) as usize;
            let page = state.page;
            clamp_offset(state.screen_mut(), page);
            Outcome::redraw()
        }
        Msg::Watch(w) => on_watch(state, w, cache, now),
        Msg::Key(key) => {
            if state.prompt.is_some() {
                on_prompt_key(state, key, cache, keymap, now)
            } else if state.help {
                match keymap.resolve(Mode::Normal, key) {
                    Some(Action::Quit | Action::Back | Action::Help) => {
                        state.help = false;
                        Outcome::redraw()
                    }
                    _ => Outcome::default(),
                }
            } else {
                match keymap.resolve(Mode::Normal, key).cloned() {
                    Some(action) => on_action(state, action, cache, now),
                    None => Outcome::default(),
                }
            }
        }
    }
}

fn on_watch(state: &mut AppState, w: WatchMsg, cache: &Cache, now: DateTime<Utc>) -> Outcome {
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
            return Outcome::redraw();
        }
    }
    let shown = table_for(state.screen().view).is_some_and(|t| t.depends_on().contains(&kind));
    if shown {
        refresh_current(state, cache, now);
    }
    Outcome {
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
    let Some(table) = table_for(screen.view) else {
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

fn move_cursor(state: &mut AppState, delta: isize) -> Outcome {
    let page = state.page;
    let screen = state.screen_mut();
    if screen.rows.is_empty() {
        return Outcome::default();
    }
    let last = screen.rows.len() - 1;
    let next = (screen.selected as isize + delta).clamp(0, last as isize) as usize;
    if next == screen.selected {
        return Outcome::default();
    }
    screen.selected = next;
    clamp_offset(screen, page);
    Outcome::redraw()
}

fn goto(state: &mut AppState, view: View, cache: &Cache, now: DateTime<Utc>) -> Outcome {
    if table_for(view).is_none() {
        state.message = Some((
            format!("the {view:?} view is not part of this build yet"),
            Role::Warning,
        ));
        return Outcome::redraw();
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
    Outcome::redraw()
}

fn on_action(state: &mut AppState, action: Action, cache: &Cache, now: DateTime<Utc>) -> Outcome {
    state.message = None;
    let page = state.page as isize;
    match action {
        Action::Down => move_cursor(state, 1),
        Action::Up => move_cursor(state, -1),
        Action::PageDown => move_cursor(state, page),
        Action::PageUp => move_cursor(state, -page),
        Action::Top => move_cursor(state, isize::MIN / 2),
        Action::Bottom => move_cursor(state, isize::MAX / 2),
        Action::Command => {
            state.prompt = Some(Prompt::Command(String::new()));
            Outcome::redraw()
        }
        Action::Filter => {
            state.prompt = Some(Prompt::Filter(state.screen().filter_text.clone()));
            Outcome::redraw()
        }
        Action::Help => {
            state.help = true;
            Outcome::redraw()
        }
        Action::Quit => {
            state.quit = true;
            Outcome {
                redraw: false,
                effects: vec![Effect::Quit],
            }
        }
        Action::Back if !state.warnings.is_empty() => {
            state.warnings.clear();
            Outcome::redraw()
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
                return Outcome::default();
            }
            Outcome::redraw()
        }
        Action::SortNext | Action::SortReverse => {
            let Some(table) = table_for(state.screen().view) else {
                return Outcome::default();
            };
            let screen = state.screen_mut();
            if action == Action::SortNext {
                screen.query.sort_column = (screen.query.sort_column + 1) % table.columns().len();
                screen.query.descending = table.columns()[screen.query.sort_column].numeric;
            } else {
                screen.query.descending = !screen.query.descending;
            }
            refresh_current(state, cache, now);
            Outcome::redraw()
        }
        Action::Goto(view) => goto(state, view, cache, now),
        other => {
            state.message = Some((
                format!("{} is not available here yet", other.describe()),
                Role::Muted,
            ));
            Outcome::redraw()
        }
    }
}

fn on_prompt_key(
    state: &mut AppState,
    key: Key,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Outcome {
    let Some(prompt) = state.prompt.clone() else {
        return Outcome::default();
    };
    match keymap.resolve(Mode::Input, key) {
        Some(Action::Back) => {
            state.prompt = None;
            if let Prompt::Filter(_) = prompt {
                // Esc abandons the filter, as in k9s.
                apply_filter(state, "", cache, now);
            }
            return Outcome::redraw();
        }
        Some(Action::Accept) => {
            state.prompt = None;
            return match prompt {
                Prompt::Filter(_) => Outcome::redraw(),
                Prompt::Command(line) => run_command(state, &line, cache, now),
            };
        }
        Some(Action::NextField) => {
            if let Prompt::Command(line) = &prompt
                && let Some(first) = commands::complete(line.trim()).first()
            {
                state.prompt = Some(Prompt::Command(first.to_string()));
                return Outcome::redraw();
            }
            return Outcome::default();
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
        _ => return Outcome::default(),
    }
    match prompt {
        Prompt::Command(_) => state.prompt = Some(Prompt::Command(text)),
        Prompt::Filter(_) => {
            state.prompt = Some(Prompt::Filter(text.clone()));
            apply_filter(state, &text, cache, now);
        }
    }
    Outcome::redraw()
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

fn run_command(state: &mut AppState, line: &str, cache: &Cache, now: DateTime<Utc>) -> Outcome {
    match commands::parse(line) {
        Ok(Command::Goto(view)) => goto(state, view, cache, now),
        Ok(Command::Quit) => {
            state.quit = true;
            Outcome {
                redraw: false,
                effects: vec![Effect::Quit],
            }
        }
        Ok(Command::Namespace(ns)) => {
            state.namespace = ns.clone();
            for screen in &mut state.stack {
                screen.query.namespace = ns.clone();
            }
            refresh_current(state, cache, now);
            Outcome::redraw()
        }
        Ok(Command::Context(name)) => Outcome {
            redraw: true,
            effects: vec![Effect::SwitchContext(name)],
        },
        Err(e) => {
            state.message = Some((e, Role::Warning));
            Outcome::redraw()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::test_support::{cluster, now};

    fn key(s: &str) -> Msg {
        Msg::Key(s.parse().expect("test key parses"))
    }

    fn setup() -> (AppState, Cache, Keymap) {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        update(&mut state, Msg::Resize(12), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::console::cluster::Kind::Pod)),
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
        let (cache, mut writers) = crate::console::test_support::cluster_with_writers();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        update(&mut state, Msg::Resize(12), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(crate::console::cluster::Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        update(&mut state, key("G"), &cache, &keymap, now());
        let chosen = state.screen().selected_key().cloned();
        assert_eq!(state.screen().selected, 4);
        let newcomer =
            crate::console::test_support::pod("alpha", "first", "x", "node-1", 1, 0, None);
        writers.apply_json(&newcomer).expect("valid pod");
        update(
            &mut state,
            Msg::Watch(WatchMsg::Changed(crate::console::cluster::Kind::Pod)),
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
                crate::console::cluster::Kind::Pod,
                "connection refused".into(),
            )),
            &cache,
            &keymap,
            now(),
        );
        assert_eq!(
            state.health.get(&crate::console::cluster::Kind::Pod),
            Some(&Health::Stale(now()))
        );
        assert_eq!(state.screen().rows.len(), 5);
    }
}
