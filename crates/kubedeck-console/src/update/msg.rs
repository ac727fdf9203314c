//! `Msg`: everything that reaches `update`, from the terminal, the watches,
//! the samplers and the runtime's own background tasks.

use crate::charts::ChartMsg;
use crate::cluster::metrics::PodMetrics;
use crate::cluster::watch::WatchMsg;
use crate::full_yaml::FullRef;
use crate::input::key::Key;
use crate::oncall::OpsMsg;
use kubedeck_core::actions::{
    ActionError, Command as ActionCommand, Confirmation, Permission, WorkloadRef,
};
use kubedeck_core::logs::LogLine;

/// What the console does with the mouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mouse {
    ScrollUp,
    ScrollDown,
    /// The left button, pressed at this column and row.
    Click {
        column: u16,
        row: u16,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(Key),
    /// The wheel, or a click at a terminal cell.
    Mouse(Mouse),
    Watch(WatchMsg),
    /// The terminal's new size.
    Resize {
        width: u16,
        height: u16,
    },
    /// A pod metrics sample, or word that the cluster has none.
    Metrics(PodMetrics),
    /// kubedeck logged something; the log pane, if shown, has news.
    Logged,
    /// Sparkline series, or news of the metrics source.
    Charts(ChartMsg),
    /// The runtime now watches this context, into a fresh cache.
    ContextSwitched {
        name: String,
        namespace: Option<String>,
        readonly: bool,
        /// Problems with the new context's own files (its theme).
        warnings: Vec<String>,
    },
    /// A `:ctx` failed; the console stays on the context it was on.
    /// The theme drawn with now, and what is wrong with its files.
    ThemeSet {
        name: String,
        warnings: Vec<String>,
    },
    ContextFailed {
        name: String,
        error: String,
    },
    /// The kubeconfig's contexts, for `:ctx` without a name.
    Contexts(Result<Vec<String>, String>),
    /// The answer to `Effect::Plan`: the confirmation to show (or why there
    /// is none) and what RBAC says.
    Planned {
        id: u64,
        result: Result<Confirmation, String>,
        permission: Permission,
    },
    /// The answer to `Effect::Execute`: the API's message either way.
    Executed {
        command: ActionCommand,
        result: Result<String, String>,
    },
    /// Where a running action stands (a drain: pods gone, waiting on a
    /// budget, time spent), for the status line.
    Progress {
        command: ActionCommand,
        status: String,
    },
    /// A StatefulSet's ControllerRevisions, for its history panel.
    Revisions {
        target: WorkloadRef,
        result: Result<Vec<serde_json::Value>, String>,
    },
    /// The answer to `Effect::LoadFull`: the full object, without managedFields.
    FullLoaded {
        target: FullRef,
        result: Result<serde_json::Value, String>,
    },
    /// Lines of the log view's stream number `stream`, all that were ready.
    LogLines {
        stream: u64,
        lines: Vec<LogLine>,
    },
    /// The answer to `Effect::SaveLogs`: what was written, or why not.
    LogsSaved(Result<String, String>),
    /// A log line of a followed backup Job; `note` for the stream's own
    /// notes (joined, ended).
    BackupLog {
        job: String,
        line: String,
        note: bool,
    },
    /// News from a recovery test or a runbook run.
    Ops(OpsMsg),
    /// A one-shot `:exec`'s output pane, already made safe to draw.
    ExecOutput {
        title: String,
        lines: Vec<String>,
    },
    /// The console has the terminal back from a shell: how it ended.
    ShellEnded {
        text: String,
        ok: bool,
    },
    /// A Secret's key names and value sizes, for the reveal picker.
    SecretKeys {
        secret: crate::reveal::SecretRef,
        result: Result<Vec<(String, usize)>, String>,
    },
    /// A revealed key's value (its `Debug` shows only its size), or why not.
    Revealed {
        target: kubedeck_core::reveal::SecretKey,
        result: Result<kubedeck_core::reveal::Revealed, String>,
    },
    /// The console has the terminal back from the editor (or never gave
    /// it): what was saved.
    Edited(Box<crate::edit::Edited>),
    /// An edit's dry run (`plan`: the planning dialog's id) or replace
    /// (None) refused, typed: a conflict offers a reload, anything else
    /// the editor again.
    EditRefused {
        plan: Option<u64>,
        /// The object whose edit was refused: a refusal for another than
        /// the edit under way (a second edit started meanwhile) only says so.
        object: Box<kubedeck_core::actions::ResourceRef>,
        error: ActionError,
    },
}
