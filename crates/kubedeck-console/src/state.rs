//! The console's state. Only the UI loop holds it and only `update` changes
//! it; network tasks write the cluster cache, never this.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::cluster::Kind;
use super::dialog::Dialog;
use super::input::action::View;
use super::theme::Role;
use super::views::describe::TextPane;
use super::views::{Query, RowKey};
use kubedeck_core::actions::WorkloadRef;

/// One level of the drill-down: a view, what it lists and where the cursor is.
#[derive(Debug, Clone)]
pub struct Screen {
    pub view: View,
    pub query: Query,
    /// The label the breadcrumb shows for this level.
    pub crumb: String,
    /// Keys of the listed rows, in order; rebuilt when the cache or query changes.
    pub rows: Vec<RowKey>,
    pub selected: usize,
    /// The first visible row.
    pub offset: usize,
    /// The filter text as typed, for the prompt and the title.
    pub filter_text: String,
    /// Describe or YAML text shown instead of the table.
    pub text: Option<TextPane>,
    /// Rollout progress or revision history shown instead of the table.
    pub panel: Option<Panel>,
    /// A backup run being followed, shown instead of the table.
    pub backup_run: Option<super::oncall::backup_view::BackupRun>,
    /// A recovery-test timeline or a runbook shown instead of the table.
    pub ops: Option<super::oncall::Pane>,
}

/// A live pane about one workload, computed from the cache at each frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
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
    pub fn target(&self) -> &WorkloadRef {
        match self {
            Panel::Rollout { target } | Panel::History { target, .. } => target,
        }
    }
}

impl Screen {
    pub fn new(view: View, query: Query, crumb: impl Into<String>) -> Screen {
        Screen {
            view,
            query,
            crumb: crumb.into(),
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            filter_text: String::new(),
            text: None,
            panel: None,
            backup_run: None,
            ops: None,
        }
    }

    /// Whether a describe/YAML pane or a panel covers the table.
    pub fn covered(&self) -> bool {
        self.text.is_some()
            || self.panel.is_some()
            || self.backup_run.is_some()
            || self.ops.is_some()
    }

    pub fn selected_key(&self) -> Option<&RowKey> {
        self.rows.get(self.selected)
    }
}

/// A line of text being typed after `:` or `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Command(String),
    Filter(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Listing for the first time.
    Syncing,
    Live,
    /// The watch failed at this time; the data shown is from before.
    Stale(DateTime<Utc>),
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub context: String,
    /// The namespace the console is limited to; None shows all.
    pub namespace: Option<String>,
    pub readonly: bool,
    /// The drill-down stack; never empty.
    pub stack: Vec<Screen>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    /// Problems with the user's files, shown until dismissed.
    pub warnings: Vec<String>,
    pub message: Option<(String, Role)>,
    pub health: HashMap<Kind, Health>,
    /// The terminal's height in rows, from the last resize.
    pub height: u16,
    /// Table rows that fit on screen: the height less the chrome and the
    /// log pane.
    pub page: usize,
    /// Whether kubedeck's own log shows under the table.
    pub log_pane: bool,
    /// The context a `:ctx` is connecting to; the console stays on the old
    /// one until it succeeds.
    pub switching: Option<String>,
    /// An action's form or confirm dialog, over everything else.
    pub dialog: Option<Dialog>,
    /// The log view, in place of the table while open.
    pub logs: Option<super::logview::LogView>,
    /// Numbers action plans so that an answer for a dialog the user has
    /// since closed is ignored.
    pub requests: u64,
    /// Recovery tests and runbook runs, which outlive the screens showing them.
    pub ops: super::oncall::OpsState,
    pub quit: bool,
    /// The metrics window, and whether the chart of the selection shows.
    pub charts: super::charts::ChartUi,
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
            prompt: None,
            help: false,
            warnings: Vec::new(),
            message: None,
            health: HashMap::new(),
            height: 26,
            page: 20,
            log_pane: false,
            switching: None,
            dialog: None,
            logs: None,
            requests: 0,
            ops: super::oncall::OpsState::default(),
            quit: false,
            charts: super::charts::ChartUi::default(),
        }
    }

    pub fn screen(&self) -> &Screen {
        // The stack is never empty: `back` keeps the root.
        &self.stack[self.stack.len() - 1]
    }

    pub fn screen_mut(&mut self) -> &mut Screen {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }
}
