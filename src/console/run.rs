//! The console's runtime: the only loop that owns the state. It waits for
//! keys and watch messages, drains what is queued, updates, and draws once
//! if anything changed. Nothing here polls or redraws on a timer.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use kube::Client;
use tokio::sync::mpsc;

use super::cluster::watch::{self, Pending, WatchMsg};
use super::cluster::{self, Kind};
use super::config::{Config, Paths};
use super::input::key::Key;
use super::input::keymap::Keymap;
use super::state::{AppState, Health};
use super::theme::Theme;
use super::update::{Effect, Msg, update};
use super::{view_model, widgets};

pub struct ConsoleOptions {
    pub context: String,
    pub namespace: Option<String>,
    pub readonly: bool,
    pub theme: Option<String>,
    pub keymap: Option<String>,
}

/// At most this many queued messages are folded into one frame, so a flood
/// of changes cannot starve the keyboard.
const MAX_BATCH: usize = 256;

/// Restores the terminal however the loop ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

pub async fn run(client: Client, opts: ConsoleOptions) -> anyhow::Result<()> {
    let paths = Paths::discover();
    let (config, config_err) = match &paths {
        Some(p) => Config::load(&p.config_file()),
        None => (Config::default(), None),
    };
    let mut warnings: Vec<String> = config_err.iter().map(|e| e.to_string()).collect();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let context_cfg = config.contexts.get(&opts.context);
    let theme_name = opts
        .theme
        .clone()
        .or_else(|| context_cfg.and_then(|c| c.theme.clone()))
        .or_else(|| config.theme.clone());
    let (theme, theme_errs) = Theme::load(
        theme_name.as_deref(),
        paths.as_ref().map(|p| p.themes_dir()).as_deref(),
        no_color,
    );
    let keymap_name = opts.keymap.clone().or_else(|| config.keymap.clone());
    let (keymap, keymap_errs) = Keymap::load(
        keymap_name.as_deref(),
        paths.as_ref().map(|p| p.keymaps_dir()).as_deref(),
    );
    warnings.extend(
        theme_errs
            .iter()
            .chain(keymap_errs.iter())
            .map(|e| e.to_string()),
    );
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let readonly = opts.readonly || config.readonly_for(&opts.context);
    let namespace = opts
        .namespace
        .clone()
        .or_else(|| context_cfg.and_then(|c| c.namespace.clone()));

    let (cache, writers) = cluster::cache::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<WatchMsg>();
    let pending = Arc::new(Pending::default());
    let watchers = watch::spawn_all(&client, namespace.as_deref(), writers, tx, pending.clone());

    let mut state = AppState::new(opts.context.clone(), namespace, readonly);
    state.warnings = warnings;
    for kind in Kind::ALL {
        state.health.insert(kind, Health::Syncing);
    }

    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let _guard = TerminalGuard;
    let size = terminal.size().context("cannot read the terminal size")?;
    update(
        &mut state,
        Msg::Resize(size.height),
        &cache,
        &keymap,
        Utc::now(),
    );
    let mut events = EventStream::new();
    let mut dirty = true;

    let result = loop {
        if dirty {
            let vm = view_model::build(&state, &cache, &keymap, Utc::now());
            if let Err(e) = terminal.draw(|f| widgets::draw(f, &vm, &theme)) {
                break Err(anyhow::Error::from(e).context("cannot draw"));
            }
            dirty = false;
        }
        let first = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => terminal_msg(ev),
                Some(Err(e)) => break Err(anyhow::Error::from(e).context("cannot read the terminal")),
                None => break Ok(()),
            },
            w = rx.recv() => w.map(|w| watch_msg(w, &pending)),
        };
        let mut batch: Vec<Msg> = first.into_iter().collect();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(watch_msg(w, &pending)),
                Err(_) => break,
            }
        }
        let now = Utc::now();
        let mut quit = false;
        for msg in batch {
            let outcome = update(&mut state, msg, &cache, &keymap, now);
            dirty |= outcome.redraw;
            for effect in outcome.effects {
                match effect {
                    Effect::Quit => quit = true,
                    Effect::SwitchContext(name) => {
                        state.message = Some((
                            format!(
                                "switching to context {name} needs a restart in this build: kubedeck --context {name}"
                            ),
                            super::theme::Role::Warning,
                        ));
                        dirty = true;
                    }
                }
            }
        }
        if quit {
            break Ok(());
        }
    };
    for w in watchers {
        w.abort();
    }
    result
}

fn watch_msg(w: WatchMsg, pending: &Pending) -> Msg {
    if let WatchMsg::Changed(kind) = w {
        pending.take(kind);
    }
    Msg::Watch(w)
}

fn terminal_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Key::from_event(&k).map(Msg::Key),
        Event::Resize(_, h) => Some(Msg::Resize(h)),
        _ => None,
    }
}
