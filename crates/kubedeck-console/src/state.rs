//! The console's state. Only the UI loop holds it and only `update` changes
//! it; network tasks send messages, never write here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::charts::{ChartData, ChartUi};
use super::cluster::metrics::PodMetrics;
use super::cluster::{Cache, Kind};
use super::dialog::Dialog;
use super::filter::Unfiltered;
use super::input::action::View;
use super::logview::LogView;
use super::oncall::backup_view::BackupRun;
use super::oncall::{OpsState, Pane};
use super::theme::Role;
use super::views::describe::TextPane;
use super::views::{Query, RowKey, Sources};
use kubedeck_core::actions::WorkloadRef;

/// One level of the drill-down: a view, what it lists and where the cursor is.
#[derive(Debug, Clone)]
pub(crate) struct Screen {
    pub(crate) view: View,
    pub(crate) query: Query,
    /// The label the breadcrumb shows for this level.
    pub(crate) crumb: String,
    /// Keys of the listed rows, in order; rebuilt when the cache or query changes.
    pub(crate) rows: Vec<RowKey>,
    pub(crate) selected: usize,
    /// The first visible row.
    pub(crate) offset: usize,
    /// The filter text as typed, for the prompt and the title.
    pub(crate) filter_text: String,
    /// The rows of the last full listing before the filter, when the
    /// filter reads only row keys; replaced at every refresh.
    pub(crate) unfiltered: Option<Unfiltered>,
    pub(crate) body: Body,
}

/// What a screen shows: its table, or one pane in the table's place. A pane
/// is pushed as a level of its own over the table it came from, so that Esc
/// returns to that table.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Table,
    /// Describe or YAML: a snapshot that does not follow changes.
    Text(TextPane),
    /// Rollout progress or revision history, computed from the cache at each frame.
    Panel(Panel),
    /// A backup run being followed.
    BackupRun(BackupRun),
    /// A recovery-test timeline or a runbook; their data is in `OpsState`.
    Ops(Pane),
}

/// A live pane about one workload, computed from the cache at each frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Panel {
    Rollout {
        target: WorkloadRef,
    },
    History {
        target: WorkloadRef,
        /// The revision under the cursor; None: the newest.
        selected: Option<i64>,
        /// A StatefulSet's ControllerRevisions, fetched on opening (the
        /// cache does not hold them); None until they arrive.
        controller_revisions: Option<Vec<serde_json::Value>>,
    },
}

impl Panel {
    pub(crate) fn target(&self) -> &WorkloadRef {
        match self {
            Panel::Rollout { target } | Panel::History { target, .. } => target,
        }
    }
}

impl Screen {
    pub(crate) fn new(view: View, query: Query, crumb: impl Into<String>) -> Screen {
        Screen {
            view,
            query,
            crumb: crumb.into(),
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            filter_text: String::new(),
            unfiltered: None,
            body: Body::Table,
        }
    }

    /// Whether a pane covers the table.
    pub(crate) fn covered(&self) -> bool {
        !matches!(self.body, Body::Table)
    }

    pub(crate) fn text(&self) -> Option<&TextPane> {
        match &self.body {
            Body::Text(pane) => Some(pane),
            _ => None,
        }
    }

    pub(crate) fn panel(&self) -> Option<&Panel> {
        match &self.body {
            Body::Panel(panel) => Some(panel),
            _ => None,
        }
    }

    pub(crate) fn backup_run(&self) -> Option<&BackupRun> {
        match &self.body {
            Body::BackupRun(run) => Some(run),
            _ => None,
        }
    }

    pub(crate) fn ops(&self) -> Option<&Pane> {
        match &self.body {
            Body::Ops(pane) => Some(pane),
            _ => None,
        }
    }

    pub(crate) fn selected_key(&self) -> Option<&RowKey> {
        self.rows.get(self.selected)
    }
}

/// A line of text being typed after `:` or `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prompt {
    Command(String),
    Filter(String),
}

/// What shows over the screen and takes its keys; one at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Overlay {
    /// The key bindings.
    Help,
    Prompt(Prompt),
}

/// The command line's completions: whole lines, and the one Tab or the
/// arrows put on the line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Completion {
    pub(crate) candidates: Vec<String>,
    pub(crate) selected: Option<usize>,
    /// Waiting for the contexts to be listed.
    pub(crate) loading: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// Listing for the first time.
    Syncing,
    Live,
    /// The watch failed at this time; the data shown is from before.
    Stale(DateTime<Utc>),
    /// The API server has not answered this kind's watch since this time;
    /// the data shown is from before.
    Unreachable(DateTime<Utc>),
}

impl Health {
    /// Since when the data shown for the kind may be out of date.
    pub(crate) fn stale_since(self) -> Option<DateTime<Utc>> {
        match self {
            Health::Stale(t) | Health::Unreachable(t) => Some(t),
            Health::Syncing | Health::Live => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) context: String,
    /// The namespace the console is limited to; None shows all.
    pub(crate) namespace: Option<String>,
    pub(crate) readonly: bool,
    /// The drill-down stack; never empty.
    pub(crate) stack: Vec<Screen>,
    /// Help or a prompt over the screen.
    pub(crate) overlay: Option<Overlay>,
    /// Tab's candidates for the command line, shown while it is open.
    pub(crate) completion: Option<Completion>,
    /// The kubeconfig's contexts, once listed, for `:ctx` completion.
    pub(crate) contexts: Vec<String>,
    /// The themes and runbooks there are, for `:theme` and `:rb` completion.
    pub(crate) themes: Vec<String>,
    pub(crate) runbooks: Vec<String>,
    /// How long the API server last took to answer a watch request.
    pub(crate) api_latency: Option<std::time::Duration>,
    /// The table row last clicked and when, so a second click on it soon
    /// after opens it.
    pub(crate) last_click: Option<(crate::views::RowKey, DateTime<Utc>)>,
    /// An action's form or confirm dialog, modal over everything else. It
    /// can open while an overlay shows (a runbook's question comes when
    /// its step is reached), and the overlay is back once it closes.
    pub(crate) dialog: Option<Dialog>,
    /// The log view, in place of the top screen while open; help, a prompt
    /// and a dialog can still show over it.
    pub logs: Option<LogView>,
    /// Problems with the user's files, shown until dismissed.
    pub(crate) warnings: Vec<String>,
    pub(crate) message: Option<(String, Role)>,
    pub(crate) health: HashMap<Kind, Health>,
    /// The terminal's size, from the last resize.
    pub(crate) width: u16,
    pub(crate) height: u16,
    /// Table rows that fit on screen: the height less the chrome and the
    /// log pane.
    pub(crate) page: usize,
    /// The first help line shown while help is open.
    pub(crate) help_scroll: usize,
    /// Whether kubedeck's own log shows under the table.
    pub(crate) log_pane: bool,
    /// Wide mode: every column at full width, from this column on.
    pub(crate) wide: Option<usize>,
    /// The context a `:ctx` is connecting to; the console stays on the old
    /// one until it succeeds.
    pub(crate) switching: Option<String>,
    /// Numbers action plans so that an answer for a dialog the user has
    /// since closed is ignored.
    pub(crate) requests: u64,
    /// Recovery tests and runbook runs, which outlive the screens showing them.
    pub(crate) ops: OpsState,
    pub(crate) quit: bool,
    /// The metrics window, and whether the chart of the selection shows.
    pub(crate) charts: ChartUi,
    /// Sparkline series and the metrics source's status, as its messages
    /// brought them.
    pub(crate) chart_data: ChartData,
    /// The latest pod metrics sample, which no watch delivers.
    pub(crate) pod_metrics: Arc<PodMetrics>,
    /// Name parts that make a CronJob a backup, from the config file; the
    /// backups view lists what matches them.
    pub(crate) backup_patterns: Arc<[String]>,
    /// The config's favourite namespaces, which `:ns ` offers first.
    pub(crate) favourites: Arc<[String]>,
    /// How long a Warning event stays the latest warning, from the config
    /// file (`warning-window`).
    pub(crate) warning_window: chrono::Duration,
    /// Why nothing may change whatever the context (a broken config.toml);
    /// what a refusal says instead of "read-only".
    pub(crate) blocked: Option<String>,
    /// Nodes whose drain runs now; the drain key on one stops it.
    pub(crate) draining: std::collections::BTreeSet<String>,
    /// The server's resources, from discovery; empty until it answers.
    pub(crate) resources: Arc<[crate::cluster::discovery::ResourceInfo]>,
    /// Why discovery failed, for a `:NAME` that needs it.
    pub(crate) discovery_error: Option<String>,
    /// What the browser watches now (the runtime was told); see `update::browse`.
    pub(crate) browsing: Option<crate::cluster::browse::BrowseTarget>,
    /// Whether the watch of every event runs, as `update` last asked.
    pub(crate) all_events: bool,
    /// The config's `allow-reveal-in-read-only`: a Secret's key may be
    /// revealed in a read-only context.
    pub(crate) reveal_in_read_only: bool,
    /// The key whose reveal was asked for and not yet answered: an answer
    /// for another (after `:ctx`, which starts a fresh state) opens nothing.
    pub(crate) reveal_asked: Option<kubedeck_core::reveal::SecretKey>,
    /// The edit under way (`e`), until it is applied or cancelled.
    pub(crate) edit: Option<crate::edit::EditSession>,
}

impl AppState {
    pub fn new(context: impl Into<String>, namespace: Option<String>, readonly: bool) -> AppState {
        let query = Query {
            namespace: namespace.clone(),
            ..Query::default()
        };
        AppState {
            context: context.into(),
            namespace,
            readonly,
            stack: vec![Screen::new(View::Overview, query, "overview")],
            overlay: None,
            completion: None,
            contexts: Vec::new(),
            themes: Vec::new(),
            runbooks: Vec::new(),
            api_latency: None,
            last_click: None,
            dialog: None,
            logs: None,
            warnings: Vec::new(),
            message: None,
            health: HashMap::new(),
            width: 80,
            height: 26,
            page: 20,
            help_scroll: 0,
            log_pane: false,
            wide: None,
            switching: None,
            requests: 0,
            ops: OpsState::default(),
            quit: false,
            charts: ChartUi::default(),
            chart_data: ChartData::default(),
            pod_metrics: Arc::new(PodMetrics::Pending),
            favourites: Arc::from([]),
            backup_patterns: kubedeck_core::config::BackupsConfig::default()
                .patterns
                .into(),
            warning_window: warning_window(&kubedeck_core::config::Config::default()),
            blocked: None,
            draining: std::collections::BTreeSet::new(),
            resources: Arc::from([]),
            discovery_error: None,
            browsing: None,
            all_events: false,
            reveal_in_read_only: false,
            reveal_asked: None,
            edit: None,
        }
    }

    pub(crate) fn screen(&self) -> &Screen {
        // The stack is never empty: `back` keeps the root.
        &self.stack[self.stack.len() - 1]
    }

    pub(crate) fn screen_mut(&mut self) -> &mut Screen {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// Pushes `body` as a level over the top screen, with its view and
    /// query, so that the pane's keys and breadcrumb read from there.
    pub(crate) fn push_over(&mut self, crumb: impl Into<String>, body: Body) {
        let top = self.screen();
        let mut screen = Screen::new(top.view, top.query.clone(), crumb);
        screen.body = body;
        self.stack.push(screen);
    }

    /// A kind as messages name it: the browsed resource by its name.
    pub(crate) fn kind_name(&self, kind: Kind) -> String {
        match (kind, &self.browsing) {
            (Kind::Resource, Some(b)) => b.resource.full_name(),
            _ => kind.plural().to_string(),
        }
    }

    /// What the tables read: the watch stores, and what this state keeps
    /// beside them.
    pub(crate) fn sources<'a>(&'a self, cache: &'a Cache) -> Sources<'a> {
        Sources {
            cache,
            metrics: &self.pod_metrics,
            backup_patterns: &self.backup_patterns,
            warning_window: self.warning_window,
            resources: &self.resources,
            favourites: &self.favourites,
        }
    }
}

/// The config's warning window as the clock's duration; one too long for it
/// (centuries) never fades.
pub(crate) fn warning_window(config: &kubedeck_core::config::Config) -> chrono::Duration {
    chrono::Duration::from_std(config.warning_window).unwrap_or(chrono::Duration::MAX)
}
