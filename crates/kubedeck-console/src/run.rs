//! The console's runtime: the only loop that owns the state. It waits for
//! keys, watch messages, metrics samples, answers from its own background
//! tasks and log activity, drains what is queued, updates, and draws once if
//! anything changed. Nothing here polls. The one timed wake-up is a
//! deadline the view model computes: the moment a visible age would read
//! differently.

use std::collections::VecDeque;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::ControllerRevision;
use kube::Client;
use kube::api::{Api, ListParams};
use tokio::sync::Notify;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::charts::runtime::ChartSource;
use super::cluster::metrics::{self, PodMetrics};
use super::cluster::watch::{self, Pending, WatchMsg};
use super::cluster::{self, Cache, Kind};
use super::input::action::Action;
use super::input::key::Key;
use super::input::keymap::{Keymap, Mode};
use super::logview::task::{self as logtask, LogTask};
use super::state::{AppState, Health, Prompt};
use super::theme::Theme;
use super::update::{Effect, Msg, update};
use super::{view_model, widgets};
use kubedeck_core::actions::{
    AuditLog, Command as ActionCommand, Confirmed, Executor, Rbac, WorkloadRef, kubeconfig_user,
    plan,
};
use kubedeck_core::config::{Config, Paths};
use kubedeck_core::connect::{connect, context_names, read_kubeconfig};
use kubedeck_core::metrics::PrometheusConfig;

/// Where `:ctx` finds other contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contexts {
    /// The kubeconfig the console started from.
    Kubeconfig,
    /// None: one in-process cluster (`kubedeck demo`).
    Fixed,
}

pub struct ConsoleOptions {
    pub context: String,
    pub contexts: Contexts,
    pub namespace: Option<String>,
    pub readonly: bool,
    pub theme: Option<String>,
    pub keymap: Option<String>,
    /// `--prometheus URL`.
    pub prometheus: Option<String>,
}

/// At most this many queued messages are folded into one frame, so a flood
/// of changes cannot starve the keyboard.
const MAX_BATCH: usize = 256;

/// Rung when kubedeck logs anything, so a visible log pane redraws when it
/// has news and not on a timer.
pub static LOG_BELL: Notify = Notify::const_new();

/// A tracing layer that rings `LOG_BELL`; it sits beside tui-logger's.
pub struct LogBell;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogBell {
    fn on_event(
        &self,
        _event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        LOG_BELL.notify_one();
    }
}

/// Restores the terminal however the loop ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// One context's picture of the cluster: the cache, the tasks that fill it,
/// and the channels they report on. Dropping it stops the tasks, and with
/// the channels goes anything they had queued for the old context.
struct Connection {
    cache: Cache,
    /// What actions go through: RBAC checks and the executor, both for
    /// this connection's context and credentials.
    actions: Actions,
    watch_rx: UnboundedReceiver<WatchMsg>,
    metrics_rx: UnboundedReceiver<PodMetrics>,
    /// False once the sampler has stopped (no metrics API).
    sampling: bool,
    pending: Arc<Pending>,
    tasks: Vec<JoinHandle<()>>,
    /// The log view's stream, on this connection's client.
    logs: Option<LogTask>,
    /// Sparkline series for the visible rows and the chart.
    charts: ChartSource,
}

impl Connection {
    fn start(
        client: &Client,
        namespace: Option<&str>,
        actions: Actions,
        prometheus: Option<&PrometheusConfig>,
    ) -> Connection {
        let (mut cache, writers) = cluster::cache::new();
        cache.backup_patterns = Arc::new(actions.config.backups.patterns.clone());
        let (tx, watch_rx) = mpsc::unbounded_channel();
        let (metrics_tx, metrics_rx) = mpsc::unbounded_channel();
        let pending = Arc::new(Pending::default());
        let mut tasks = watch::spawn_all(client, namespace, writers, tx, pending.clone());
        let charts = ChartSource::start(namespace, prometheus, &actions.config.metrics.queries);
        tasks.push(metrics::spawn_sampler(
            client,
            namespace,
            charts.feed(),
            metrics_tx,
        ));
        Connection {
            charts,
            cache,
            actions,
            watch_rx,
            metrics_rx,
            sampling: true,
            pending,
            tasks,
            logs: None,
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The action core for one context: planning reads through `client`,
/// RBAC answers are cached in `rbac`, and only `executor` changes anything.
#[derive(Clone)]
struct Actions {
    client: Client,
    context: String,
    config: Arc<Config>,
    rbac: Arc<Rbac>,
    executor: Arc<Executor>,
    /// This context's Prometheus, for what a recovery test reads.
    prometheus: Option<PrometheusConfig>,
}

impl Actions {
    fn new(
        client: &Client,
        context: &str,
        user: &str,
        readonly: bool,
        config: Arc<Config>,
        prometheus: Option<PrometheusConfig>,
    ) -> Actions {
        let audit = AuditLog::discover().unwrap_or_else(|| {
            let path = std::env::temp_dir().join("kubedeck-audit.jsonl");
            tracing::warn!("no home folder: the audit log goes to {}", path.display());
            AuditLog::new(path)
        });
        Actions {
            client: client.clone(),
            context: context.to_string(),
            config,
            rbac: Arc::new(Rbac::new(client.clone(), Rbac::DEFAULT_TTL)),
            executor: Arc::new(Executor::new(
                client.clone(),
                context,
                user,
                readonly,
                audit,
            )),
            prometheus,
        }
    }

    /// Plans the command and asks RBAC, at once; answers with `Msg::Planned`.
    fn plan(&self, id: u64, command: ActionCommand, tx: UnboundedSender<Background>) {
        let this = self.clone();
        tokio::spawn(async move {
            let (permission, result) = tokio::join!(
                this.rbac.can(&command),
                plan(&this.client, &this.context, &this.config, command.clone())
            );
            if let Err(e) = &result {
                tracing::warn!("cannot plan {}: {e}", command.summary());
            }
            let _ = tx.send(Background::Msg(Msg::Planned {
                id,
                result: result.map_err(|e| e.to_string()),
                permission,
            }));
        });
    }

    fn execute(&self, confirmed: Confirmed, tx: UnboundedSender<Background>) {
        let executor = self.executor.clone();
        tokio::spawn(async move {
            let command = confirmed.command().clone();
            tracing::info!("running {}", confirmed.confirmation().kubectl());
            let result = match executor.execute(confirmed).await {
                Ok(o) => Ok(match o.audit_error {
                    Some(a) => format!("{}; but {a}", o.message),
                    None => o.message,
                }),
                Err(e) => {
                    tracing::warn!("{}: {e}", command.summary());
                    Err(e.to_string())
                }
            };
            let _ = tx.send(Background::Msg(Msg::Executed { command, result }));
        });
    }

    /// What the recovery test and runbook tasks act with.
    fn ops_deps(&self) -> super::oncall::tasks::Deps {
        super::oncall::tasks::Deps {
            client: self.client.clone(),
            context: self.context.clone(),
            config: self.config.clone(),
            executor: self.executor.clone(),
            prometheus: self.prometheus.clone(),
        }
    }

    /// Audits a change the console refused because the context is read-only.
    fn audit_readonly_refusal(&self, namespace: String, object: String, action: String) {
        let executor = self.executor.clone();
        tokio::spawn(async move {
            if let Some(problem) = executor
                .record_readonly_refusal(&namespace, &object, &action)
                .await
            {
                tracing::warn!("{problem}");
            }
        });
    }

    fn load_revisions(&self, target: WorkloadRef, tx: UnboundedSender<Background>) {
        let client = self.client.clone();
        tokio::spawn(async move {
            let api: Api<ControllerRevision> = Api::namespaced(client, &target.namespace);
            let result = api
                .list(&ListParams::default())
                .await
                .map(|l| {
                    l.items
                        .into_iter()
                        .filter_map(|cr| serde_json::to_value(cr).ok())
                        .collect()
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Background::Msg(Msg::Revisions { target, result }));
        });
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

/// What woke the loop.
enum Wake {
    Msg(Msg),
    Background(Background),
    /// A visible age reads differently now.
    Clock,
    Nothing,
}

/// Per-context settings from the config file and the command line.
struct Settings<'a> {
    config: &'a Config,
    opts: &'a ConsoleOptions,
}

impl Settings<'_> {
    fn namespace(&self, context: &str) -> Option<String> {
        self.opts.namespace.clone().or_else(|| {
            self.config
                .contexts
                .get(context)
                .and_then(|c| c.namespace.clone())
        })
    }

    fn readonly(&self, context: &str) -> bool {
        self.opts.readonly || self.config.readonly_for(context)
    }

    /// `--theme`, else the context's theme, else the config's.
    fn theme_name(&self, context: &str) -> Option<String> {
        self.opts
            .theme
            .clone()
            .or_else(|| self.config.contexts.get(context)?.theme.clone())
            .or_else(|| self.config.theme.clone())
    }

    fn prometheus(&self, context: &str) -> Option<PrometheusConfig> {
        self.config
            .prometheus_for(context, self.opts.prometheus.as_deref())
    }

    fn actions(&self, client: &Client, context: &str, user: &str) -> Actions {
        Actions::new(
            client,
            context,
            user,
            self.readonly(context),
            Arc::new(self.config.clone()),
            self.prometheus(context),
        )
    }
}

/// Who the kubeconfig says acts in `context`, for the audit log.
async fn user_for(context: &str) -> String {
    match read_kubeconfig().await {
        Ok(k) => kubeconfig_user(&k, Some(context)),
        Err(_) => "unknown".to_string(),
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
    let settings = Settings {
        config: &config,
        opts: &opts,
    };
    let themes_dir = paths.as_ref().map(|p| p.themes_dir());
    let mut theme_name = settings.theme_name(&opts.context);
    let (mut theme, theme_errs) =
        Theme::load(theme_name.as_deref(), themes_dir.as_deref(), no_color);
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
    let namespace = settings.namespace(&opts.context);
    let user = match opts.contexts {
        Contexts::Kubeconfig => user_for(&opts.context).await,
        Contexts::Fixed => "demo".to_string(),
    };
    let actions = settings.actions(&client, &opts.context, &user);
    let prometheus = settings.prometheus(&opts.context);
    let mut conn = Connection::start(&client, namespace.as_deref(), actions, prometheus.as_ref());
    // The log stream of the backup run being followed, if any; replacing
    // or dropping it stops the stream.
    let mut backup_logs: Option<super::oncall::backup_view::LogTask> = None;
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
    for kind in Kind::ALL {
        state.health.insert(kind, Health::Syncing);
    }
    let (bg_tx, mut bg_rx) = mpsc::unbounded_channel::<Background>();
    let mut ops_tasks = super::oncall::tasks::OpsTasks::default();
    // Numbers `:ctx` requests so a slow answer to an older one is ignored.
    let mut request: u64 = 0;

    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let _guard = TerminalGuard;
    let size = terminal.size().context("cannot read the terminal size")?;
    update(
        &mut state,
        Msg::Resize(size.height),
        &conn.cache,
        &keymap,
        Utc::now(),
    );
    let mut events = EventStream::new();
    let mut dirty = true;
    let mut deadline: Option<Instant> = None;
    let mut width = size.width;

    loop {
        if dirty {
            if state.log_pane {
                tui_logger::move_events();
            }
            let now = Utc::now();
            let vm = view_model::build(&state, &conn.cache, &keymap, now);
            terminal
                .draw(|f| widgets::draw(f, &vm, &theme))
                .context("cannot draw")?;
            deadline = vm.refresh_at.map(|at| instant_at(at, now));
            dirty = false;
        }
        conn.charts.sync(&state, &conn.cache, width);
        let charts_due = conn.charts.deadline;
        let sampling = conn.sampling;
        let log_pane = state.log_pane;
        let streaming = conn.logs.as_ref().is_some_and(LogTask::is_live);
        let wake = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                if let Event::Resize(w, _) = ev {
                    width = w;
                }
                terminal_msg(ev).map_or(Wake::Nothing, Wake::Msg)
            }
                Some(Err(e)) => return Err(anyhow::Error::from(e).context("cannot read the terminal")),
                None => return Ok(()),
            },
            w = conn.watch_rx.recv() => w.map_or(Wake::Nothing, |w| Wake::Msg(watch_msg(w, &conn.pending))),
            m = conn.metrics_rx.recv(), if sampling => match m {
                Some(m) => Wake::Msg(Msg::Metrics(m)),
                None => {
                    conn.sampling = false;
                    Wake::Nothing
                }
            },
            b = bg_rx.recv() => b.map_or(Wake::Nothing, Wake::Background),
            l = logtask::next(&mut conn.logs), if streaming => l.map_or(Wake::Nothing, Wake::Msg),
            () = LOG_BELL.notified(), if log_pane => Wake::Msg(Msg::Logged),
            c = conn.charts.recv() => c.map_or(Wake::Nothing, |c| Wake::Msg(Msg::Charts(c))),
            () = sleep_until(charts_due), if charts_due.is_some() => Wake::Nothing,
            () = sleep_until(deadline), if deadline.is_some() => Wake::Clock,
        };
        let first = match wake {
            Wake::Msg(m) => Some(m),
            Wake::Background(b) => match on_background(b, request, &mut conn, &settings) {
                // A context may have a theme of its own.
                Some(Msg::ContextSwitched {
                    name,
                    namespace,
                    readonly,
                    mut warnings,
                }) => {
                    let wanted = settings.theme_name(&name);
                    if wanted != theme_name {
                        let (t, errors) =
                            Theme::load(wanted.as_deref(), themes_dir.as_deref(), no_color);
                        for e in &errors {
                            tracing::warn!("{e}");
                        }
                        warnings.extend(errors.iter().map(ToString::to_string));
                        theme = t;
                        theme_name = wanted;
                    }
                    Some(Msg::ContextSwitched {
                        name,
                        namespace,
                        readonly,
                        warnings,
                    })
                }
                other => other,
            },
            Wake::Clock => {
                deadline = None;
                dirty = true;
                None
            }
            Wake::Nothing => None,
        };
        let mut queue: VecDeque<Msg> = first.into_iter().collect();
        while queue.len() < MAX_BATCH {
            match conn.watch_rx.try_recv() {
                Ok(w) => queue.push_back(watch_msg(w, &conn.pending)),
                Err(_) => break,
            }
        }
        let now = Utc::now();
        while let Some(msg) = queue.pop_front() {
            log_input(&state, &msg, &keymap);
            let outcome = update(&mut state, msg, &conn.cache, &keymap, now);
            dirty |= outcome.redraw;
            for effect in outcome.effects {
                match effect {
                    Effect::Quit => return Ok(()),
                    Effect::SwitchContext(name) => match opts.contexts {
                        Contexts::Fixed => queue.push_back(Msg::ContextFailed {
                            name,
                            error: "kubedeck demo runs one in-process cluster; start kubedeck on a kubeconfig to switch contexts".into(),
                        }),
                        Contexts::Kubeconfig => {
                            request += 1;
                            tracing::info!("switching to context {name}");
                            spawn_connect(request, name, bg_tx.clone());
                        }
                    },
                    Effect::ListContexts => match opts.contexts {
                        Contexts::Fixed => queue.push_back(Msg::Contexts(Err(format!(
                            "kubedeck demo has one context, {}: there is no other to switch to",
                            state.context
                        )))),
                        Contexts::Kubeconfig => spawn_list_contexts(bg_tx.clone()),
                    },
                    Effect::Plan { id, command } => conn.actions.plan(id, command, bg_tx.clone()),
                    Effect::Execute(confirmed) => conn.actions.execute(confirmed, bg_tx.clone()),
                    Effect::AuditReadonlyRefusal {
                        namespace,
                        object,
                        action,
                    } => conn.actions.audit_readonly_refusal(namespace, object, action),
                    Effect::LoadRevisions(target) => {
                        conn.actions.load_revisions(target, bg_tx.clone());
                    }
                    Effect::LoadFull(target) => {
                        let (client, tx) = (conn.actions.client.clone(), bg_tx.clone());
                        tokio::spawn(async move {
                            let msg = super::full_yaml::fetch(client, target).await;
                            let _ = tx.send(Background::Msg(msg));
                        });
                    }
                    Effect::OpenLogs {
                        stream,
                        target,
                        options,
                    } => {
                        let client = conn.actions.client.clone();
                        conn.logs = Some(LogTask::spawn(client, stream, target, options));
                    }
                    Effect::CloseLogs => conn.logs = None,
                    Effect::SaveLogs {
                        buffer,
                        file_name,
                        timestamps,
                        filtered,
                    } => {
                        let tx = bg_tx.clone();
                        tokio::spawn(async move {
                            let msg = logtask::save(buffer, file_name, timestamps, filtered).await;
                            let _ = tx.send(Background::Msg(msg));
                        });
                    }
                    Effect::FollowBackupLogs(follow) => {
                        let tx = bg_tx.clone();
                        backup_logs = Some(super::oncall::backup_view::spawn_logs(
                            &conn.actions.client,
                            follow,
                            move |m| tx.send(Background::Msg(m)).is_ok(),
                        ));
                    }
                    Effect::Ops(effect) => {
                        let tx = bg_tx.clone();
                        let reply: super::oncall::tasks::Reply = Arc::new(move |m| {
                            let _ = tx.send(Background::Msg(m));
                        });
                        ops_tasks.handle(effect, &conn.actions.ops_deps(), reply);
                    }
                }
            }
        }
        if backup_logs.is_some() && !super::oncall::backup_view::following(&state) {
            backup_logs = None;
        }
    }
}

/// Takes a background task's answer; a new connection replaces the old one
/// here, before `update` sees the message that resets the screens.
fn on_background(
    b: Background,
    latest: u64,
    conn: &mut Connection,
    settings: &Settings,
) -> Option<Msg> {
    match b {
        Background::Connected {
            request,
            name,
            client,
            user,
        } if request == latest => {
            let namespace = settings.namespace(&name);
            let actions = settings.actions(&client, &name, &user);
            let prometheus = settings.prometheus(&name);
            *conn = Connection::start(&client, namespace.as_deref(), actions, prometheus.as_ref());
            tracing::info!(
                "now on context {name} ({})",
                namespace.as_deref().map_or("all namespaces", |n| n)
            );
            Some(Msg::ContextSwitched {
                readonly: settings.readonly(&name),
                name,
                namespace,
                warnings: Vec::new(),
            })
        }
        Background::Failed {
            request,
            name,
            error,
        } if request == latest => {
            tracing::warn!("cannot switch to context {name}: {error}");
            Some(Msg::ContextFailed { name, error })
        }
        // Superseded by a later `:ctx`, whose answer is still to come.
        Background::Connected { .. } | Background::Failed { .. } => None,
        Background::Msg(m) => Some(m),
    }
}

fn spawn_connect(request: u64, name: String, tx: UnboundedSender<Background>) {
    tokio::spawn(async move {
        let result = async {
            let kubeconfig = read_kubeconfig()
                .await
                .context("cannot read the kubeconfig")?;
            let user = kubeconfig_user(&kubeconfig, Some(&name));
            connect(kubeconfig, Some(&name))
                .await
                .map(|(name, client)| (name, client, user))
        }
        .await;
        let _ = tx.send(match result {
            Ok((name, client, user)) => Background::Connected {
                request,
                name,
                client,
                user,
            },
            Err(e) => Background::Failed {
                request,
                name,
                error: format!("{e:#}"),
            },
        });
    });
}

fn spawn_list_contexts(tx: UnboundedSender<Background>) {
    tokio::spawn(async move {
        let names = read_kubeconfig()
            .await
            .map(|k| context_names(&k))
            .map_err(|e| format!("cannot read the kubeconfig: {e:#}"));
        let _ = tx.send(Background::Msg(Msg::Contexts(names)));
    });
}

/// The tokio instant for a wall-clock time the view model computed at `now`.
fn instant_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Instant {
    Instant::now() + (at - now).to_std().unwrap_or_default()
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Logs what the user asked for: commands and actions at info; cursor
/// movement and opening a prompt at debug.
fn log_input(state: &AppState, msg: &Msg, keymap: &Keymap) {
    let Msg::Key(key) = msg else {
        return;
    };
    // Typing in a dialog is not a command; what runs is logged when it runs.
    if state.dialog.is_some() {
        return;
    }
    if let Some(logs) = &state.logs {
        if logs.prompt.is_none()
            && let Some(action) = keymap.resolve(Mode::Logs, *key)
        {
            tracing::info!("{key}: {}", action.describe());
        }
        return;
    }
    match &state.prompt {
        Some(Prompt::Command(line)) => {
            if keymap.resolve(Mode::Input, *key) == Some(&Action::Accept) {
                tracing::info!("command :{line}");
            }
        }
        Some(Prompt::Filter(_)) => {}
        None => match keymap.resolve(Mode::Normal, *key) {
            Some(
                Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
                | Action::Command
                | Action::Filter
                | Action::Help
                | Action::Back,
            ) => tracing::debug!("key {key}"),
            Some(action) => tracing::info!("{key}: {}", action.describe()),
            None => {}
        },
    }
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
