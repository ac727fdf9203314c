//! `update`: the one place the console's state changes. Pure: it reads the
//! watch stores and the clock it is given, takes no locks and does no I/O,
//! and returns what the runtime must do.
//!
//! This file dispatches each message; `keys` decides where a key goes,
//! `prompt` owns the `:` and `/` line, `navigate` the cursor, views and the
//! drill-down stack, `mouse` the wheel and clicks.

mod effect;
pub(crate) mod keys;
mod mouse;
mod msg;
mod navigate;
mod prompt;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use effect::{Effect, Updated};
pub use msg::{Mouse, Msg};
#[cfg(test)]
pub(crate) use navigate::CHROME_ROWS;
pub(crate) use navigate::{log_pane_height, refresh_current, selected_object};

use crate::cluster::browse::BrowseTarget;
use crate::cluster::discovery::ResourceInfo;
use crate::cluster::metrics::PodMetrics;
use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::input::keymap::Keymap;
use crate::oncall::{self, backup_view};
use crate::state::{AppState, Body, Health};
use crate::theme::Role;
use crate::views::{Scope, table_of};
use crate::{act, charts, full_yaml, logview};

pub fn update(
    state: &mut AppState,
    msg: Msg,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    let following = backup_view::following(state);
    let mut out = dispatch(state, msg, cache, keymap, now);
    if following && !backup_view::following(state) {
        // However the run pane went (Esc, another view, another context),
        // its log stream goes with it.
        out.effects.push(Effect::StopBackupLogs);
    }
    out.effects.extend(charts::sync(state, cache));
    out.effects.extend(browse(state));
    out.effects.extend(watch_all_events(state));
    out
}

/// The browser watches the resource of the generic view on the stack, in
/// the console's namespace, and nothing once no generic view is left: the
/// effect that says so whenever that changes.
fn browse(state: &mut AppState) -> Option<Effect> {
    let want = state
        .stack
        .iter()
        .rev()
        .find(|s| s.view == View::Resource)
        .and_then(|s| s.query.resource.clone())
        .map(|resource| BrowseTarget {
            resource,
            namespace: state.namespace.clone(),
        });
    if want == state.browsing {
        return None;
    }
    if want.is_some() {
        state.health.insert(Kind::Resource, Health::Syncing);
    } else {
        state.health.remove(&Kind::Resource);
    }
    state.browsing.clone_from(&want);
    Some(Effect::Browse(want))
}

/// Keeps the server's resource list; the `:api-resources` view shows it.
fn on_discovered(
    state: &mut AppState,
    result: Result<Arc<[ResourceInfo]>, String>,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    match result {
        Ok(list) => {
            state.resources = list;
            state.discovery_error = None;
        }
        Err(e) => state.discovery_error = Some(e),
    }
    let shown = state.screen().view == View::ApiResources;
    if shown {
        navigate::refresh_current(state, cache, now);
    }
    redraw_if(shown)
}

/// Whether a screen on the stack reads Normal events: the events view, an
/// HPA's reasons to scale, a describe waiting for its object's events, a
/// backup run's events.
fn reads_all_events(state: &AppState) -> bool {
    state.stack.iter().any(|s| match &s.body {
        Body::Table => matches!(s.view, View::Events | View::Hpas),
        Body::Text(pane) => pane.awaiting_events.is_some(),
        Body::BackupRun(_) => true,
        Body::Panel(_) | Body::Ops(_) => false,
    })
}

/// Asks for the watch of every event when a screen starts reading Normal
/// events, and to drop it when none does. A stopped watch's health goes
/// with it, so its outage cannot outlive it on the screen.
fn watch_all_events(state: &mut AppState) -> Option<Effect> {
    let wanted = reads_all_events(state);
    if wanted == state.all_events {
        return None;
    }
    state.all_events = wanted;
    if wanted {
        state.health.insert(Kind::Event, Health::Syncing);
    } else {
        state.health.remove(&Kind::Event);
    }
    Some(Effect::WatchAllEvents(wanted))
}

fn dispatch(
    state: &mut AppState,
    msg: Msg,
    cache: &Cache,
    keymap: &Keymap,
    now: DateTime<Utc>,
) -> Updated {
    match msg {
        Msg::Key(key) => {
            // A key between two clicks makes them no double click.
            state.last_click = None;
            keys::on_key(state, key, cache, keymap, now)
        }
        Msg::Mouse(m) => mouse::on_mouse(state, m, cache, keymap, now),
        Msg::Resize { width, height } => {
            state.width = width;
            state.height = height;
            navigate::fit_page(state);
            Updated::redraw()
        }
        Msg::Watch(WatchMsg::Discovered(result)) => on_discovered(state, result, cache, now),
        Msg::Watch(WatchMsg::Latency(d)) => {
            // Shown on the overview, to 10 ms: a change below that is noise.
            let shown = crate::view_model::latency_text(Some(d));
            let was = crate::view_model::latency_text(state.api_latency);
            state.api_latency = Some(d);
            redraw_if(shown != was && state.screen().view == View::Overview)
        }
        Msg::Watch(w) => on_watch(state, w, cache, now),
        Msg::Metrics(metrics) => on_metrics(state, metrics, cache, now),
        Msg::Charts(msg) => charts::on_msg(state, msg, now),
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
            fresh.width = state.width;
            fresh.height = state.height;
            fresh.page = state.page;
            fresh.log_pane = state.log_pane;
            fresh.warnings = std::mem::take(&mut state.warnings);
            fresh.warnings.extend(warnings);
            fresh.requests = state.requests;
            fresh.ops = std::mem::take(&mut state.ops);
            fresh.charts = state.charts;
            fresh.backup_patterns = state.backup_patterns.clone();
            fresh.favourites = state.favourites.clone();
            fresh.warning_window = state.warning_window;
            fresh.reveal_in_read_only = state.reveal_in_read_only;
            // A broken config.toml blocks every context, the new one too.
            fresh.blocked = state.blocked.clone();
            // The new context's discovery answers on the new connection.
            for kind in Kind::ALL {
                fresh.health.insert(kind, Health::Syncing);
            }
            fresh.message = Some((format!("switched to context {name}"), Role::Ok));
            *state = fresh;
            navigate::refresh_current(state, cache, now);
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
        Msg::Contexts(Ok(names)) => prompt::on_contexts(state, names),
        Msg::ThemeSet { name, warnings } => {
            if warnings.is_empty() {
                state.message = Some((format!("theme {name}"), Role::Ok));
            } else {
                state.message = Some((
                    format!("theme {name}: {} (see the warnings)", warnings.len()),
                    Role::Warning,
                ));
                state.warnings.extend(warnings);
            }
            Updated::redraw()
        }
        Msg::Contexts(Err(e)) => {
            if let Some(c) = state.completion.as_mut() {
                c.loading = false;
            }
            state.message = Some((e, Role::Warning));
            Updated::redraw()
        }
        Msg::Planned {
            id,
            result,
            permission,
        } => act::on_planned(state, id, result, permission),
        Msg::Executed { command, result } => {
            crate::edit::on_executed(state, &command);
            let follow = backup_view::on_executed(state, &command, &result, now);
            let mut out = act::on_executed(state, command, result);
            out.effects.extend(follow);
            out
        }
        Msg::BackupLog { job, line, note } => backup_view::on_log(state, &job, line, note),
        Msg::Progress { command, status } => act::on_progress(state, &command, status),
        Msg::Revisions { target, result } => act::on_revisions(state, target, result),
        Msg::FullLoaded { target, result } => full_yaml::on_loaded(state, target, result),
        Msg::LogLines { stream, lines } => logview::on_lines(state, stream, lines),
        Msg::LogsSaved(result) => logview::on_saved(state, result),
        Msg::Ops(m) => oncall::on_msg(state, m, cache, now),
        Msg::ExecOutput { title, lines } => crate::shell::on_output(state, title, lines),
        Msg::ShellEnded { text, ok } => crate::shell::on_shell_ended(state, text, ok),
        Msg::SecretKeys { secret, result } => crate::reveal::on_keys(state, secret, result),
        Msg::Revealed { target, result } => crate::reveal::on_revealed(state, target, result),
        Msg::Edited(edited) => crate::edit::on_edited(state, *edited),
        Msg::EditRefused {
            plan,
            object,
            error,
        } => crate::edit::on_refused(state, plan, &object, error),
    }
}

/// Quits, from wherever the key was.
pub(crate) fn quit(state: &mut AppState) -> Updated {
    state.quit = true;
    Updated {
        redraw: false,
        effects: vec![Effect::Quit],
    }
}

fn on_watch(state: &mut AppState, w: WatchMsg, cache: &Cache, now: DateTime<Utc>) -> Updated {
    let kind = match &w {
        WatchMsg::Changed(k)
        | WatchMsg::Synced(k)
        | WatchMsg::Failed(k, _)
        | WatchMsg::Unreachable(k, _) => *k,
        WatchMsg::Discovered(_) | WatchMsg::Latency(_) => return Updated::default(),
    };
    match w {
        WatchMsg::Synced(_) | WatchMsg::Changed(_) => {
            let back = state
                .health
                .insert(kind, Health::Live)
                .is_some_and(|h| h.stale_since().is_some());
            let updated = follow_change(state, kind, cache, now);
            // The banner and the stale line are on every screen: a kind
            // back from an outage redraws them, shown in the body or not.
            Updated {
                redraw: updated.redraw || back,
                ..updated
            }
        }
        WatchMsg::Failed(_, err) => {
            if !matches!(state.health.get(&kind), Some(Health::Stale(_))) {
                state.health.insert(kind, Health::Stale(now));
            }
            state.message = Some((
                format!("watch of {} failed: {err}; retrying", state.kind_name(kind)),
                Role::Warning,
            ));
            Updated::redraw()
        }
        WatchMsg::Discovered(_) | WatchMsg::Latency(_) => Updated::default(),
        WatchMsg::Unreachable(..) => {
            // The banner says it; the time is the outage's first.
            let since = state.health.get(&kind).and_then(|h| h.stale_since());
            state
                .health
                .insert(kind, Health::Unreachable(since.unwrap_or(now)));
            Updated::redraw()
        }
    }
}

/// Refreshes the body if it shows `kind`, which changed.
fn follow_change(state: &mut AppState, kind: Kind, cache: &Cache, now: DateTime<Utc>) -> Updated {
    if state.logs.is_some() {
        // The table is hidden; it is refreshed when the log view closes.
        return Updated::default();
    }
    let screen = state.screen();
    let redraw = match &screen.body {
        Body::Table => table_of(screen).is_some_and(|t| t.depends_on().contains(&kind)),
        // A describe or YAML pane is a snapshot: it does not follow changes,
        // but for the events it waited for.
        Body::Text(_) => return describe_again(state, kind, cache, now),
        Body::Panel(_) => return redraw_if(act::PANEL_KINDS.contains(&kind)),
        Body::BackupRun(_) => return redraw_if(backup_view::KINDS.contains(&kind)),
        // A recovery timeline or a runbook does not read the cache.
        Body::Ops(_) => return Updated::default(),
    };
    if redraw {
        navigate::refresh_current(state, cache, now);
    }
    redraw_if(redraw)
}

/// A describe opened before every event was listed is described again,
/// with its object's events, once they are.
fn describe_again(state: &mut AppState, kind: Kind, cache: &Cache, now: DateTime<Utc>) -> Updated {
    if kind != Kind::Event || cache.loading(Kind::Event) {
        return Updated::default();
    }
    let Body::Text(pane) = &mut state.screen_mut().body else {
        return Updated::default();
    };
    let Some(obj) = pane.awaiting_events.take() else {
        return Updated::default();
    };
    pane.lines = crate::views::describe::describe(&obj, cache, now);
    pane.lines.extend(pane.tail.iter().cloned());
    Updated::redraw()
}

fn redraw_if(redraw: bool) -> Updated {
    Updated {
        redraw,
        effects: Vec::new(),
    }
}

/// Keeps the latest sample; the pods view reads it.
fn on_metrics(
    state: &mut AppState,
    metrics: PodMetrics,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    state.pod_metrics = Arc::new(metrics);
    let screen = state.screen();
    let shown = !screen.covered()
        && state.logs.is_none()
        && screen.view == View::Pods
        && !matches!(screen.query.scope, Scope::Pod { .. });
    // A sort by CPU or MEM reorders with each sample; any other order
    // stands, and only the cells change (10,000 pods are not sorted again
    // every 15 s for nothing).
    let by_metrics = crate::views::table_of(screen)
        .and_then(|t| {
            t.columns()
                .get(screen.query.sort_column)
                .map(|c| matches!(c.name, "CPU" | "MEM"))
        })
        .unwrap_or(false);
    if shown && by_metrics {
        navigate::refresh_current(state, cache, now);
    }
    redraw_if(shown)
}
