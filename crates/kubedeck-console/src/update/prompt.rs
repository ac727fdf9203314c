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
use crate::state::{AppState, Completion, Overlay, Prompt};
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
    if let Some(out) = choose(state, key) {
        return out;
    }
    match keymap.resolve(Mode::Input, key) {
        Some(Action::Back) => {
            state.overlay = None;
            state.completion = None;
            if let Prompt::Filter(_) = prompt {
                // Esc abandons the filter, as in k9s.
                apply_filter(state, "", cache, now);
            }
            return Updated::redraw();
        }
        Some(Action::Accept) => {
            state.overlay = None;
            state.completion = None;
            return match prompt {
                Prompt::Filter(_) => Updated::redraw(),
                Prompt::Command(line) => run_command(state, &line, cache, now),
            };
        }
        Some(Action::NextField) => {
            return match &prompt {
                Prompt::Command(line) => tab(state, line, cache),
                Prompt::Filter(_) => Updated::default(),
            };
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
        Prompt::Command(_) => {
            // Open candidates follow what is typed.
            if state.completion.is_some() {
                let candidates = candidates(state, cache, &text);
                state.completion = Some(Completion {
                    candidates,
                    ..Completion::default()
                });
            }
            state.overlay = Some(Overlay::Prompt(Prompt::Command(text)));
        }
        Prompt::Filter(_) => {
            state.overlay = Some(Overlay::Prompt(Prompt::Filter(text.clone())));
            apply_filter(state, &text, cache, now);
        }
    }
    Updated::redraw()
}

/// The cluster's namespaces for `:ns `: the config's favourites first (in
/// its order, those the cluster has), then the others by name.
fn namespaces(state: &AppState, cache: &Cache) -> Vec<String> {
    let mut all: Vec<String> = cache
        .namespaces
        .state()
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    all.sort();
    let mut out: Vec<String> = state
        .favourites
        .iter()
        .filter(|f| all.contains(f))
        .cloned()
        .collect();
    all.retain(|n| !out.contains(n));
    out.extend(all);
    out
}

/// The command line's completions, with the cluster's namespaces and the
/// contexts as listed.
fn candidates(state: &AppState, cache: &Cache, line: &str) -> Vec<String> {
    let namespaces = namespaces(state, cache);
    let xray = if line.trim_start().starts_with("xray ") {
        crate::xray::names(cache, state.namespace.as_deref())
    } else {
        Vec::new()
    };
    commands::complete(
        line,
        commands::Known {
            resources: &state.resources,
            namespaces: &namespaces,
            contexts: &state.contexts,
            themes: &state.themes,
            runbooks: &state.runbooks,
            xray: &xray,
        },
    )
}

/// Tab: fills the line with what its candidates share and shows them; when
/// that adds nothing, puts the next candidate on the line.
fn tab(state: &mut AppState, line: &str, cache: &Cache) -> Updated {
    if let Some(c) = state.completion.as_mut()
        && c.candidates.len() > 1
        && (c.selected.map(|i| c.candidates[i].as_str()) == Some(line)
            || commands::common_prefix(&c.candidates) == line)
    {
        let next = c.selected.map_or(0, |i| (i + 1) % c.candidates.len());
        c.selected = Some(next);
        let text = c.candidates[next].clone();
        state.overlay = Some(Overlay::Prompt(Prompt::Command(text)));
        return Updated::redraw();
    }
    let is_ctx = matches!(line.split_once(' '), Some(("ctx" | "context", _)));
    let candidates = candidates(state, cache, line);
    let mut text = line.to_string();
    let mut out = Updated::redraw();
    if is_ctx && state.contexts.is_empty() {
        out.effects.push(Effect::ListContexts);
    }
    match candidates.len() {
        1 => {
            text.clone_from(&candidates[0]);
            state.completion = None;
        }
        _ => {
            let prefix = commands::common_prefix(&candidates);
            if prefix.len() > text.len() {
                text = prefix.to_string();
            }
            state.completion = Some(Completion {
                candidates,
                selected: None,
                loading: is_ctx && state.contexts.is_empty(),
            });
        }
    }
    state.overlay = Some(Overlay::Prompt(Prompt::Command(text)));
    out
}

/// Up and Down move through open candidates, putting each on the line.
fn choose(state: &mut AppState, key: Key) -> Option<Updated> {
    let c = state.completion.as_mut()?;
    if c.candidates.is_empty() || key.ctrl || key.alt {
        return None;
    }
    let n = c.candidates.len();
    let next = match (key.code, c.selected) {
        (Code::Down, None) => 0,
        (Code::Down, Some(i)) => (i + 1) % n,
        (Code::Up, None) => n - 1,
        (Code::Up, Some(i)) => (i + n - 1) % n,
        _ => return None,
    };
    c.selected = Some(next);
    let text = c.candidates[next].clone();
    state.overlay = Some(Overlay::Prompt(Prompt::Command(text)));
    Some(Updated::redraw())
}

/// `:ctx` alone: the command line, waiting for the contexts to pick from.
fn pick_context(state: &mut AppState) -> Updated {
    state.overlay = Some(Overlay::Prompt(Prompt::Command("ctx ".into())));
    let candidates = commands::complete(
        "ctx ",
        commands::Known {
            contexts: &state.contexts,
            ..commands::Known::default()
        },
    );
    state.completion = Some(Completion {
        candidates,
        selected: None,
        loading: true,
    });
    Updated::with(Effect::ListContexts)
}

/// The contexts, listed: candidates for an open `:ctx` line, else a message.
pub(super) fn on_contexts(state: &mut AppState, names: Vec<String>) -> Updated {
    state.contexts = names;
    if let (Some(Overlay::Prompt(Prompt::Command(line))), Some(c)) =
        (&state.overlay, state.completion.as_mut())
        && c.loading
    {
        c.loading = false;
        c.candidates = commands::complete(
            line,
            commands::Known {
                contexts: &state.contexts,
                ..commands::Known::default()
            },
        );
        c.selected = None;
        return Updated::redraw();
    }
    let listed: Vec<String> = state
        .contexts
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
        return pick_context(state);
    }
    if line.trim() == "theme" {
        let candidates = candidates(state, cache, "theme ");
        state.overlay = Some(Overlay::Prompt(Prompt::Command("theme ".into())));
        state.completion = Some(Completion {
            candidates,
            ..Completion::default()
        });
        return Updated::redraw();
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
                        &state.resources,
                        state.discovery_error.as_deref(),
                    );
                    state.message = Some((why, Role::Warning));
                    Updated::redraw()
                }
            }
        }
        Ok(ColonCommand::Xray(target)) => crate::xray::open(state, target, cache, now),
        Ok(ColonCommand::Quit) => quit(state),
        Ok(ColonCommand::Theme(name)) => {
            state.message = Some((format!("theme {name}…"), Role::Info));
            Updated {
                redraw: true,
                effects: vec![Effect::SetTheme(name)],
            }
        }
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
    let names: Vec<String> = cache
        .namespaces
        .state()
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let close = commands::close_to(ns, names);
    if close.is_empty() {
        format!("namespace {ns:?} not found; :ns lists them")
    } else {
        format!(
            "namespace {ns:?} not found; did you mean {}?",
            close.join(", ")
        )
    }
}
