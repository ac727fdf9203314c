//! The console's runtime: the only loop that owns the state. It waits for
//! keys, watch messages, metrics samples, answers from its own background
//! tasks and log activity, drains what is queued, updates, carries out the
//! effects, and draws once if anything changed. Nothing here polls. The
//! timed wake-ups are a deadline the view model computes (the moment a
//! visible age would read differently) and the one at which a chart's
//! answer is a step old.
//!
//! `connect` owns a context's connection and switching contexts,
//! `actions` the action core of a context, `effects` carries out
//! `update`'s effects, `logging` is kubedeck's own log as the console sees
//! it, `terminal` takes the terminal and gives it back on every way out.

mod actions;
mod connect;
mod edit;
mod effects;
mod logging;
mod shell;
mod terminal;

use std::collections::VecDeque;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind, MouseButton, MouseEventKind};
use futures::StreamExt;
use kube::Client;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::time::Instant;

pub use logging::{LogBell, LogBellLayer};

use crate::cluster::Kind;
use crate::cluster::watch::WatchMsg;
use crate::input::key::Key;
use crate::input::keymap::Keymap;
use crate::logview::task as logtask;
use crate::oncall::backup_view;
use crate::oncall::tasks::OpsTasks;
use crate::state::{AppState, Health};
use crate::theme::Theme;
use crate::update::{Mouse, Msg, update};
use crate::{view_model, widgets};
use connect::{Connection, Settings, on_background, user_for};
use kubedeck_core::config::{Config, Paths};

/// Where `:ctx` finds other contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contexts {
    /// The kubeconfig the console started from: the file `--kubeconfig`
    /// named, or None for kubectl's search (`KUBECONFIG`, `~/.kube/config`).
    Kubeconfig(Option<std::path::PathBuf>),
    /// None: one in-process cluster (`kubedeck demo`).
    Fixed,
}

pub struct ConsoleOptions {
    pub context: String,
    pub contexts: Contexts,
    pub namespace: Option<String>,
    /// `-A`: every namespace, whatever a context's configured one.
    pub all_namespaces: bool,
    pub readonly: bool,
    pub theme: Option<String>,
    pub keymap: Option<String>,
    /// `--prometheus URL`.
    pub prometheus: Option<String>,
    /// Rung by the tracing layer made with it, so that a visible log pane
    /// redraws when kubedeck logs.
    pub log_bell: LogBell,
}

/// At most this many queued messages are folded into one frame, so a flood
/// of changes cannot starve the keyboard.
const MAX_BATCH: usize = 256;

/// Restores the terminal however the loop ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        terminal::give_back();
    }
}

/// What the runtime's own background tasks report.
enum Background {
    Connected {
        request: u64,
        name: String,
        client: Client,
        user: String,
    },
    Failed {
        request: u64,
        name: String,
        error: String,
    },
    Msg(Msg),
}

/// Where background tasks answer; the loop takes each answer in turn.
#[derive(Clone)]
struct Answers(UnboundedSender<Background>);

impl Answers {
    /// Whether the loop is still there to take it.
    fn send(&self, msg: Msg) -> bool {
        self.background(Background::Msg(msg))
    }

    fn background(&self, b: Background) -> bool {
        self.0.send(b).is_ok()
    }
}

/// What the loop owns besides the state and the screen.
struct Runtime<'a> {
    settings: Settings<'a>,
    /// The current context's connection; a `:ctx` replaces it.
    conn: Connection,
    answers: Answers,
    /// Numbers `:ctx` requests so a slow answer to an older one is ignored.
    request: u64,
    /// The log stream of the backup run being followed; replacing or
    /// dropping it stops the stream.
    backup_logs: Option<backup_view::LogTask>,
    /// Recovery tests and runbook runs, which outlive a context.
    ops_tasks: OpsTasks,
    /// A shell asked for: the loop hands it the terminal.
    shell: Option<kubedeck_core::exec::Target>,
    /// An edit asked for: the loop hands the terminal to the editor.
    edit: Option<crate::edit::EditRequest>,
    /// The theme drawn with; `:theme` and a context's own change it.
    looks: Looks,
}

/// What woke the loop.
enum Wake {
    Msg(Msg),
    Background(Background),
    /// A visible age reads differently now.
    Clock,
    /// ctrl-z or SIGTSTP.
    Suspend,
    /// A terminating signal: exit with this status.
    Exit(i32),
    Nothing,
}

/// The theme drawn with; a context may have its own.
struct Looks {
    theme: Theme,
    name: Option<String>,
    dir: Option<PathBuf>,
    no_color: bool,
}

impl Looks {
    /// The theme `name`, and what is wrong with the user's files for it.
    fn load(name: Option<String>, dir: Option<PathBuf>) -> (Looks, Vec<String>) {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (theme, errors) = Theme::load(name.as_deref(), dir.as_deref(), no_color);
        let looks = Looks {
            theme,
            name,
            dir,
            no_color,
        };
        (looks, errors.iter().map(ToString::to_string).collect())
    }

    /// Switches to the theme `name` unless it is the one drawn with; says
    /// what is wrong with its files.
    pub(super) fn choose(&mut self, name: Option<String>) -> Vec<String> {
        if name == self.name {
            return Vec::new();
        }
        let (theme, errors) = Theme::load(name.as_deref(), self.dir.as_deref(), self.no_color);
        for e in &errors {
            tracing::warn!("{e}");
        }
        self.theme = theme;
        self.name = name;
        errors.iter().map(ToString::to_string).collect()
    }
}

/// Set in the environment, the console panics at the first key after its
/// first frame: the end-to-end tests prove a panic gives the terminal back.
const TEST_PANIC: &str = "KUBEDECK_TEST_PANIC";

#[allow(clippy::panic, reason = "the test-only trigger of the panic path")]
fn test_only_panic() {
    panic!("{TEST_PANIC} is set: a test of the panic path");
}

pub async fn run(client: Client, opts: ConsoleOptions) -> anyhow::Result<()> {
    let paths = Paths::discover();
    let (config, config_err) = match &paths {
        Some(p) => Config::load(&p.config_file()),
        None => (Config::default(), None),
    };
    let mut warnings: Vec<String> = config_err.iter().map(|e| e.to_string()).collect();
    let settings = Settings {
        config: &config,
        opts: &opts,
    };
    let (looks, theme_errs) = Looks::load(
        settings.theme_name(&opts.context),
        paths.as_ref().map(|p| p.themes_dir()),
    );
    let keymap_name = opts.keymap.clone().or_else(|| config.keymap.clone());
    let (keymap, keymap_errs) = Keymap::load(
        keymap_name.as_deref(),
        paths.as_ref().map(|p| p.keymaps_dir()).as_deref(),
    );
    warnings.extend(theme_errs);
    warnings.extend(keymap_errs.iter().map(ToString::to_string));
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let namespace = settings.namespace(&opts.context);
    let user = match &opts.contexts {
        Contexts::Kubeconfig(file) => user_for(file.as_deref(), &opts.context).await,
        Contexts::Fixed => "demo".to_string(),
    };
    let conn = settings.connect(&client, &opts.context, &user);
    tracing::info!(
        "watching context {} ({})",
        opts.context,
        namespace.as_deref().map_or("all namespaces", |n| n)
    );
    let mut state = AppState::new(
        opts.context.clone(),
        namespace,
        settings.readonly(&opts.context),
    );
    state.warnings = warnings;
    state.backup_patterns = config.backups.patterns.clone().into();
    state.favourites = config.favourite_namespaces.clone().into();
    // Names only (directory listings, no file read), for completion.
    state.themes = crate::theme::names(paths.as_ref().map(|p| p.themes_dir()).as_deref());
    state.runbooks = kubedeck_core::runbooks::library::names(
        paths.as_ref().map(|p| p.runbooks_dir()).as_deref(),
    );
    state.warning_window = crate::state::warning_window(&config);
    state.blocked = config.refusal();
    state.reveal_in_read_only = config.allow_reveal_in_read_only;
    for kind in Kind::ALL {
        state.health.insert(kind, Health::Syncing);
    }
    let (bg_tx, mut bg_rx) = mpsc::unbounded_channel::<Background>();
    let mut rt = Runtime {
        settings,
        conn,
        answers: Answers(bg_tx),
        request: 0,
        backup_logs: None,
        ops_tasks: OpsTasks::default(),
        shell: None,
        edit: None,
        looks,
    };

    let mut signals = terminal::Signals::install().context("cannot handle signals")?;
    let mut terminal = terminal::take(config.mouse).context("cannot set up the terminal")?;
    let _guard = TerminalGuard;
    let size = terminal.size().context("cannot read the terminal size")?;
    let mut queue = VecDeque::from([Msg::Resize {
        width: size.width,
        height: size.height,
    }]);
    let mut events = EventStream::new();
    let mut dirty = true;
    let mut deadline: Option<Instant> = None;
    let test_panic = std::env::var_os(TEST_PANIC).is_some();

    loop {
        let now = Utc::now();
        while let Some(msg) = queue.pop_front() {
            if let Msg::Key(key) = &msg {
                logging::log_input(&state, *key, &keymap);
                if test_panic {
                    test_only_panic();
                }
            }
            let outcome = update(&mut state, msg, &rt.conn.cache, &keymap, now);
            dirty |= outcome.redraw;
            for effect in outcome.effects {
                if rt.execute(effect, &mut queue).is_break() {
                    return Ok(());
                }
            }
        }
        if dirty {
            // Always, so the hot buffer never overflows while the pane is
            // shut (there is no mover thread).
            tui_logger::move_events();
            let now = Utc::now();
            let vm = view_model::build(&state, &rt.conn.cache, &keymap, now);
            terminal
                .draw(|f| widgets::draw(f, &vm, &rt.looks.theme))
                .context("cannot draw")?;
            deadline = vm.refresh_at.map(|at| instant_at(at, now));
            dirty = false;
        }
        // After the draw, so that "opening a shell…" shows while it connects.
        if let Some(target) = rt.shell.take() {
            // crossterm's reader must not compete with the shell for keys:
            // the old stream stops, the new one reads once polled after.
            events = EventStream::new();
            let actions = &rt.conn.actions;
            let deps = actions.ops_deps();
            let command = &deps.config.shell;
            let msg = shell::run(&mut terminal, &deps.executor, &target, command).await;
            queue.push_back(msg);
            // The window may have changed size while the shell had it.
            let size = terminal.size().context("cannot read the terminal size")?;
            queue.push_back(Msg::Resize {
                width: size.width,
                height: size.height,
            });
            dirty = true;
            continue;
        }
        // After the draw, so that "opening … in the editor" shows while the
        // object is read; nothing is drawn until the editor closes.
        if let Some(request) = rt.edit.take() {
            events = EventStream::new();
            let client = rt.conn.actions.client().clone();
            let timeout = rt.conn.actions.ops_deps().executor.timeout;
            let handover = edit::Handover {
                client: &client,
                timeout,
                edits_dir: paths.as_ref().map(Paths::edits_dir),
            };
            match handover.run(&mut terminal, &mut signals, request).await {
                Ok(msg) => queue.push_back(msg),
                Err(code) => {
                    tracing::info!("exiting on a signal (status {code})");
                    terminal::give_back();
                    std::process::exit(code);
                }
            }
            let size = terminal.size().context("cannot read the terminal size")?;
            queue.push_back(Msg::Resize {
                width: size.width,
                height: size.height,
            });
            dirty = true;
            continue;
        }
        rt.conn.charts.send_due();
        let charts_due = rt.conn.charts.deadline;
        let conn = &mut rt.conn;
        let sampling = conn.sampling;
        let log_pane = state.log_pane;
        let streaming = conn.logs.as_ref().is_some_and(logtask::LogTask::is_live);
        let wake = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) if terminal::is_suspend(&ev) => Wake::Suspend,
                Some(Ok(ev)) => terminal_msg(ev).map_or(Wake::Nothing, Wake::Msg),
                Some(Err(e)) => return Err(anyhow::Error::from(e).context("cannot read the terminal")),
                None => return Ok(()),
            },
            w = conn.watch_rx.recv() => w.map_or(Wake::Nothing, |w| Wake::Msg(conn.watch_msg(w))),
            w = next_event(&mut conn.all_events), if conn.all_events.is_some() => match w {
                Some(w) => Wake::Msg(conn.events_msg(w)),
                // Its task is gone (it cannot be without a panic): not
                // listening to a closed channel for ever.
                None => {
                    conn.watch_all_events(false);
                    Wake::Nothing
                }
            },
            m = conn.metrics_rx.recv(), if sampling => match m {
                Some(m) => Wake::Msg(Msg::Metrics(m)),
                None => {
                    conn.sampling = false;
                    Wake::Nothing
                }
            },
            b = bg_rx.recv() => b.map_or(Wake::Nothing, Wake::Background),
            l = logtask::next(&mut conn.logs), if streaming => l.map_or(Wake::Nothing, Wake::Msg),
            () = rt.settings.opts.log_bell.rung(), if log_pane => Wake::Msg(Msg::Logged),
            c = conn.charts.recv() => c.map_or(Wake::Nothing, |c| Wake::Msg(Msg::Charts(c))),
            () = sleep_until(charts_due), if charts_due.is_some() => Wake::Nothing,
            () = sleep_until(deadline), if deadline.is_some() => Wake::Clock,
            caught = signals.recv() => match caught {
                terminal::Caught::Exit(code) => Wake::Exit(code),
                terminal::Caught::Suspend => Wake::Suspend,
            },
        };
        match wake {
            Wake::Msg(m) => queue.push_back(m),
            Wake::Background(b) => {
                match on_background(b, rt.request, &mut rt.conn, &rt.settings) {
                    // A context may have a theme of its own.
                    Some(Msg::ContextSwitched {
                        name,
                        namespace,
                        readonly,
                        mut warnings,
                    }) => {
                        warnings.extend(rt.looks.choose(rt.settings.theme_name(&name)));
                        queue.push_back(Msg::ContextSwitched {
                            name,
                            namespace,
                            readonly,
                            warnings,
                        });
                    }
                    Some(other) => queue.push_back(other),
                    None => {}
                }
            }
            Wake::Clock => {
                deadline = None;
                dirty = true;
            }
            Wake::Suspend => {
                terminal::suspend(&mut terminal).context("cannot take the terminal back")?;
                // The terminal may have been resized while stopped.
                let size = terminal.size().context("cannot read the terminal size")?;
                queue.push_back(Msg::Resize {
                    width: size.width,
                    height: size.height,
                });
                dirty = true;
            }
            Wake::Exit(code) => {
                tracing::info!("exiting on a signal (status {code})");
                terminal::give_back();
                std::process::exit(code);
            }
            Wake::Nothing => {}
        }
        while queue.len() < MAX_BATCH {
            match rt.conn.watch_rx.try_recv() {
                Ok(w) => queue.push_back(rt.conn.watch_msg(w)),
                Err(_) => break,
            }
        }
        while queue.len() < MAX_BATCH {
            match rt.conn.all_events.as_mut().map(|e| e.rx.try_recv()) {
                Some(Ok(w)) => queue.push_back(rt.conn.events_msg(w)),
                _ => break,
            }
        }
    }
}

/// The tokio instant for a wall-clock time the view model computed at `now`.
fn instant_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Instant {
    Instant::now() + (at - now).to_std().unwrap_or_default()
}

/// The next message of the watch of every event; never, when none runs.
async fn next_event(watch: &mut Option<connect::EventsWatch>) -> Option<WatchMsg> {
    match watch {
        Some(w) => w.rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn terminal_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Key::from_event(&k).map(Msg::Key),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Msg::Mouse(Mouse::ScrollDown)),
            MouseEventKind::ScrollUp => Some(Msg::Mouse(Mouse::ScrollUp)),
            MouseEventKind::Down(MouseButton::Left) => Some(Msg::Mouse(Mouse::Click {
                column: m.column,
                row: m.row,
            })),
            _ => None,
        },
        _ => None,
    }
}
