//! The `:` and `/` line: typing it, filtering live as it is typed, and
//! running the command it names.

use chrono::{DateTime, Utc};

use super::{Effect, Updated, navigate, quit};
use crate::cluster::Cache;
use crate::commands::{self, ColonCommand};
use crate::filter::Filter;
use crate::input::action::Action;
use crate::input::key::{Code, Key};
use crate::input::keymap::{Keymap, Mode};
use crate::oncall;
use crate::state::{AppState, Overlay, Prompt};
use crate::theme::Role;

pub(super) fn on_key(
    state: &mut AppState,
    key: Key,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    let Some(Overlay::Prompt(prompt)) = state.overlay.clone() else {
        return Updated::default();
    };
    match keymap.resolve(Mode::Input, key) {
        Some(Action::Back) => {
            state.overlay = None;
            if let Prompt::Filter(_) = prompt {
                // Esc abandons the filter, as in k9s.
                apply_filter(state, "", cache, now);
            }
            return Updated::redraw();
        }
        Some(Action::Accept) => {
            state.overlay = None;
            return match prompt {
                Prompt::Filter(_) => Updated::redraw(),
                Prompt::Command(line) => run_command(state, &line, cache, now),
            };
        }
        Some(Action::NextField) => {
            if let Prompt::Command(line) = &prompt
                && let Some(first) = commands::complete(line.trim(), &state.resources).first()
            {
                state.overlay = Some(Overlay::Prompt(Prompt::Command(first.clone())));
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
        Prompt::Command(_) => state.overlay = Some(Overlay::Prompt(Prompt::Command(text))),
        Prompt::Filter(_) => {
            state.overlay = Some(Overlay::Prompt(Prompt::Filter(text.clone())));
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
            let screen = state.screen_mut();
            let was = std::mem::replace(&mut screen.query.filter, f);
            screen.filter_text = text.to_string();
            screen.selected = 0;
            screen.offset = 0;
            navigate::refilter(state, &was, cache, now);
        }
        Err(e) => state.message = Some((e, Role::Warning)),
    }
}

pub(super) fn run_command(
    state: &mut AppState,
    line: &str,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    if let Some(out) = oncall::on_command(state, line) {
        return out;
    }
    if let Some(out) = crate::shell::on_command(state, cache, line) {
        return out;
    }
    if matches!(line.trim(), "ctx" | "context") {
        return Updated {
            redraw: false,
            effects: vec![Effect::ListContexts],
        };
    }
    match commands::parse(line) {
        Ok(ColonCommand::Goto(view)) => navigate::goto(state, view, cache, now),
        Ok(ColonCommand::Resource(name)) => {
            let found = crate::cluster::discovery::resolve(&state.resources, &name).cloned();
            match found {
                Some(r) => navigate::open_resource(state, r, cache, now),
                None => {
                    let why = commands::unknown(
                        &name,
                        !state.resources.is_empty(),
                        state.discovery_error.as_deref(),
                    );
                    state.message = Some((why, Role::Warning));
                    Updated::redraw()
                }
            }
        }
        Ok(ColonCommand::Quit) => quit(state),
        Ok(ColonCommand::Namespace(Some(ns))) if !namespace_known(cache, &ns) => {
            state.message = Some((unknown_namespace(cache, &ns), Role::Warning));
            Updated::redraw()
        }
        Ok(ColonCommand::Namespace(ns)) => {
            state.namespace = ns.clone();
            for screen in &mut state.stack {
                screen.query.namespace = ns.clone();
            }
            navigate::refresh_current(state, cache, now);
            Updated::redraw()
        }
        Ok(ColonCommand::Context(name)) if name == state.context => {
            state.message = Some((format!("already on context {name}"), Role::Muted));
            Updated::redraw()
        }
        Ok(ColonCommand::Context(name)) => {
            state.message = Some((format!("switching to context {name}…"), Role::Info));
            state.switching = Some(name.clone());
            Updated::with(Effect::SwitchContext(name))
        }
        Err(e) => {
            state.message = Some((e, Role::Warning));
            Updated::redraw()
        }
    }
}

/// Whether the namespace watch knows `ns`. With nothing watched (no list
/// permission, or not synced yet) every name is taken on trust.
fn namespace_known(cache: &Cache, ns: &str) -> bool {
    let all = cache.namespaces.state();
    all.is_empty() || all.iter().any(|n| n.metadata.name.as_deref() == Some(ns))
}

/// "namespace X not found", with the closest names the cluster has.
fn unknown_namespace(cache: &Cache, ns: &str) -> String {
    let mut close: Vec<(f64, String)> = cache
        .namespaces
        .state()
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .map(|name| (strsim::jaro_winkler(ns, &name), name))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0));
    let close: Vec<String> = close.into_iter().take(3).map(|(_, n)| n).collect();
    if close.is_empty() {
        format!("namespace {ns:?} not found; :ns lists them")
    } else {
        format!(
            "namespace {ns:?} not found; did you mean {}?",
            close.join(", ")
        )
    }
}
