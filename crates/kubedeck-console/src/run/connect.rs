//! Connections: one context's cache and the tasks that fill it, the
//! settings each context gets, and switching to another context (`:ctx`),
//! which replaces the connection whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kube::Client;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::task::JoinHandle;

use super::actions::Actions;
use super::{Answers, Background, ConsoleOptions};
use crate::charts::runtime::ChartSource;
use crate::cluster::browse::{self, BrowseTarget};
use crate::cluster::discovery;
use crate::cluster::metrics::{self, PodMetrics};
use crate::cluster::watch::{self, Pending, WatchMsg};
use crate::cluster::{self, Cache, Kind};
use crate::logview::task::LogTask;
use crate::update::Msg;
use kubedeck_core::actions::kubeconfig_user;
use kubedeck_core::config::Config;
use kubedeck_core::connect::{connect, context_names, read_kubeconfig_file};
use kubedeck_core::metrics::PrometheusConfig;

/// One context's picture of the cluster: the cache, the tasks that fill it,
/// and the channels they report on. Dropping it stops the tasks, and with
/// the channels goes anything they had queued for the old context.
pub(super) struct Connection {
    pub(super) cache: Cache,
    /// What actions go through: RBAC checks and the executor, both for
    /// this connection's context and credentials.
    pub(super) actions: Actions,
    pub(super) watch_rx: UnboundedReceiver<WatchMsg>,
    pub(super) metrics_rx: UnboundedReceiver<PodMetrics>,
    /// False once the sampler has stopped (no metrics API).
    pub(super) sampling: bool,
    /// Where the pod metrics sampler will send, until it starts.
    sampler_tx: Option<mpsc::UnboundedSender<PodMetrics>>,
    pub(super) pending: Arc<Pending>,
    tasks: Vec<JoinHandle<()>>,
    /// Where the browser's tasks report, and the tasks, while a generic view is open.
    watch_tx: mpsc::UnboundedSender<WatchMsg>,
    browse_tasks: Vec<JoinHandle<()>>,
    /// The log view's stream, on this connection's client.
    pub(super) logs: Option<LogTask>,
    /// Sparkline series for the visible rows and the chart.
    pub(super) charts: ChartSource,
    /// The watch of every event, while a screen reads Normal events.
    pub(super) all_events: Option<EventsWatch>,
    client: Client,
    namespace: Option<String>,
}

/// The running watch of every event: its messages come on a channel of
/// their own, which goes with it, so a stopped watch's queued news is
/// dropped rather than read as a later watch's.
pub(super) struct EventsWatch {
    pub(super) rx: UnboundedReceiver<WatchMsg>,
    pending: Arc<Pending>,
    task: JoinHandle<()>,
}

impl Drop for EventsWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Connection {
    pub(super) fn start(
        client: &Client,
        namespace: Option<&str>,
        actions: Actions,
        prometheus: Option<&PrometheusConfig>,
    ) -> Connection {
        let (cache, writers) = cluster::cache::new();
        let (tx, watch_rx) = mpsc::unbounded_channel();
        let (metrics_tx, metrics_rx) = mpsc::unbounded_channel();
        let pending = Arc::new(Pending::default());
        let mut tasks = watch::spawn_all(client, namespace, writers, tx.clone(), pending.clone());
        tasks.push(spawn_discovery(client.clone(), tx.clone()));
        let charts = ChartSource::start(namespace, prometheus, &actions.config().metrics.queries);
        Connection {
            charts,
            cache,
            actions,
            watch_rx,
            metrics_rx,
            sampling: true,
            sampler_tx: Some(metrics_tx),
            pending,
            tasks,
            watch_tx: tx,
            browse_tasks: Vec::new(),
            logs: None,
            all_events: None,
            client: client.clone(),
            namespace: namespace.map(str::to_string),
        }
    }

    /// Browses `target` (stopping what was browsed), or nothing.
    pub(super) fn browse(&mut self, target: Option<BrowseTarget>) {
        browse::stop(&self.cache.browse, &mut self.browse_tasks);
        if let Some(target) = target {
            tracing::info!("browsing {}", target.resource.full_name());
            self.browse_tasks = browse::start(
                self.actions.client(),
                target,
                &self.cache.browse,
                self.watch_tx.clone(),
                self.pending.clone(),
                self.cache.loading.clone(),
            );
        }
    }

    /// Starts or stops the watch of every event; stopping drops its store.
    pub(super) fn watch_all_events(&mut self, on: bool) {
        if on == self.all_events.is_some() {
            return;
        }
        if !on {
            tracing::info!("no screen reads Normal events: stopping the watch of every event");
            self.cache.all_events = None;
            self.all_events = None;
            return;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(Pending::default());
        let (store, task) =
            watch::spawn_events(&self.client, self.namespace.as_deref(), tx, pending.clone());
        self.cache.all_events = Some(store);
        self.all_events = Some(EventsWatch { rx, pending, task });
    }

    /// A message of the watch of every event, as `watch_msg`.
    pub(super) fn events_msg(&self, w: WatchMsg) -> Msg {
        if let (WatchMsg::Changed(kind), Some(watch)) = (&w, &self.all_events) {
            watch.pending.take(*kind);
        }
        Msg::Watch(w)
    }

    /// A watch message for `update`; a change lowers its kind's flag, so
    /// the next change is news again. The pods' first list starts the
    /// metrics sampler.
    pub(super) fn watch_msg(&mut self, w: WatchMsg) -> Msg {
        match w {
            WatchMsg::Changed(kind) => self.pending.take(kind),
            // The pods' first list has gone as far as it will.
            WatchMsg::Synced(Kind::Pod)
            | WatchMsg::Failed(Kind::Pod, _)
            | WatchMsg::Unreachable(Kind::Pod, _) => self.start_sampling(),
            _ => {}
        }
        Msg::Watch(w)
    }

    /// Pod metrics are listed once the pods are: at 10,000 pods a
    /// PodMetrics list is as large as the pods' first pages, and the server
    /// (metrics-server, or the simulator, which computes it) answered it
    /// while the rows a user waits for were still coming.
    fn start_sampling(&mut self) {
        if let Some(tx) = self.sampler_tx.take() {
            self.tasks.push(metrics::spawn_sampler(
                &self.client,
                self.namespace.as_deref(),
                self.charts.feed(),
                tx,
            ));
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for t in self.tasks.iter().chain(&self.browse_tasks) {
            t.abort();
        }
    }
}

/// Reads the server's resource list, for `:NAME` and `:api-resources`, and
/// again whenever the CRDs change, so a new custom kind needs no restart.
fn spawn_discovery(client: Client, tx: mpsc::UnboundedSender<WatchMsg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut changes = discovery::CrdChanges::new(client.clone());
        loop {
            let result = discovery::fetch(client.clone()).await;
            match &result {
                Ok(list) => tracing::info!("discovery: {} resources", list.len()),
                Err(e) => tracing::warn!("discovery failed: {e}"),
            }
            let failed = result.is_err();
            if tx
                .send(WatchMsg::Discovered(result.map(Arc::from)))
                .is_err()
            {
                return;
            }
            if changes.next(failed).await.is_none() {
                return;
            }
        }
    })
}

/// Per-context settings from the config file and the command line.
pub(super) struct Settings<'a> {
    pub(super) config: &'a Config,
    pub(super) opts: &'a ConsoleOptions,
}

impl Settings<'_> {
    pub(super) fn namespace(&self, context: &str) -> Option<String> {
        if self.opts.all_namespaces {
            return None;
        }
        self.opts.namespace.clone().or_else(|| {
            self.config
                .contexts
                .get(context)
                .and_then(|c| c.namespace.clone())
        })
    }

    pub(super) fn readonly(&self, context: &str) -> bool {
        self.opts.readonly || self.config.readonly_for(context)
    }

    /// `--theme`, else the context's theme, else the config's.
    pub(super) fn theme_name(&self, context: &str) -> Option<String> {
        self.opts
            .theme
            .clone()
            .or_else(|| self.config.contexts.get(context)?.theme.clone())
            .or_else(|| self.config.theme.clone())
    }

    /// A connection to `context` through `client`, acting as `user`.
    pub(super) fn connect(&self, client: &Client, context: &str, user: &str) -> Connection {
        let namespace = self.namespace(context);
        let prometheus = self
            .config
            .prometheus_for(context, self.opts.prometheus.as_deref());
        let actions = Actions::new(
            client,
            context,
            user,
            self.readonly(context),
            Arc::new(self.config.clone()),
            prometheus.clone(),
        );
        Connection::start(client, namespace.as_deref(), actions, prometheus.as_ref())
    }
}

/// Who the kubeconfig says acts in `context`, for the audit log.
pub(super) async fn user_for(file: Option<&Path>, context: &str) -> String {
    match read_kubeconfig_file(file).await {
        Ok(k) => kubeconfig_user(&k, Some(context)),
        Err(_) => "unknown".to_string(),
    }
}

/// Takes a background task's answer; a new connection replaces the old one
/// here, before `update` sees the message that resets the screens.
pub(super) fn on_background(
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
            *conn = settings.connect(&client, &name, &user);
            let namespace = settings.namespace(&name);
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

/// Connects to `name` from the kubeconfig; answers `Connected` or `Failed`.
pub(super) fn spawn_connect(file: Option<PathBuf>, request: u64, name: String, answers: Answers) {
    tokio::spawn(async move {
        let result = async {
            let kubeconfig = read_kubeconfig_file(file.as_deref()).await?;
            let user = kubeconfig_user(&kubeconfig, Some(&name));
            connect(kubeconfig, Some(&name))
                .await
                .map(|(name, client)| (name, client, user))
        }
        .await;
        answers.background(match result {
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

/// Reads the kubeconfig's context names; answers with `Msg::Contexts`.
pub(super) fn spawn_list_contexts(file: Option<PathBuf>, answers: Answers) {
    tokio::spawn(async move {
        let names = read_kubeconfig_file(file.as_deref())
            .await
            .map(|k| context_names(&k))
            .map_err(|e| format!("cannot read the kubeconfig: {e:#}"));
        answers.send(Msg::Contexts(names));
    });
}
