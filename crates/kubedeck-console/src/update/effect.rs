//! `Effect`: what `update` asks the runtime to do, and `Updated`, what an
//! update returns. `update` does no I/O; every effect is carried out by the
//! runtime (`run::effects`), and its answers come back as messages.

use crate::full_yaml::FullRef;
use crate::oncall::OpsEffect;
use crate::oncall::backup_view::BackupFollow;
use kubedeck_core::actions::{Command as ActionCommand, Confirmed, WorkloadRef};
use kubedeck_core::logs::{LogBuffer, LogSource, StreamOptions};
use kubedeck_core::metrics::ViewRequest;

#[derive(Debug)]
pub enum Effect {
    Quit,
    /// Reconnect to another kubeconfig context.
    SwitchContext(String),
    /// Read the kubeconfig's context names.
    ListContexts,
    /// Draw with the theme of this name (the runtime loads it: files).
    SetTheme(String),
    /// Read the cluster around a command and ask RBAC about it, answering
    /// with `Msg::Planned`.
    Plan {
        id: u64,
        command: ActionCommand,
    },
    /// Run a confirmed command in the executor, answering with `Msg::Executed`
    /// (a drain with `Msg::Progress` as it goes).
    Execute(Confirmed),
    /// Stop the running drain of this node; its `Msg::Executed` says where it stopped.
    StopDrain(String),
    /// List a StatefulSet's ControllerRevisions, answering with `Msg::Revisions`.
    LoadRevisions(WorkloadRef),
    /// Read a pod or event in full for its YAML pane, answering with
    /// `Msg::FullLoaded`.
    LoadFull(FullRef),
    /// Append an action refused because the context is read-only to the audit log.
    AuditReadonlyRefusal {
        namespace: String,
        object: String,
        action: String,
    },
    /// Stream a target's logs, replacing any stream open, answering with
    /// `Msg::LogLines` numbered `stream`.
    OpenLogs {
        stream: u64,
        target: LogSource,
        options: StreamOptions,
    },
    /// Stop the log view's stream.
    CloseLogs,
    /// Write a copy of the log view's buffer to `file_name` in the logs
    /// folder, answering with `Msg::LogsSaved`.
    SaveLogs {
        buffer: Box<LogBuffer>,
        file_name: String,
        timestamps: bool,
        filtered: bool,
    },
    /// Stream a backup Job's log, answering with `Msg::BackupLog`; replaces
    /// the stream of an earlier run.
    FollowBackupLogs(BackupFollow),
    /// No run pane is open any more: stop the backup Job's log stream.
    StopBackupLogs,
    /// Start (true) or stop the watch of every event: a screen reads
    /// Normal events, or none does any more. Stopping drops its store.
    WatchAllEvents(bool),
    /// The series the screen needs now; the runtime asks the metrics source
    /// for those without a fresh answer, and again as answers age.
    RequestCharts(Vec<ViewRequest>),
    /// Start or drive a recovery test or a runbook run.
    Ops(OpsEffect),
    /// Hand the terminal to a shell in the container, and take it back
    /// when it ends, answering with `Msg::ShellEnded`.
    Shell(kubedeck_core::exec::Target),
    /// Run a command without a terminal, answering with `Msg::ExecOutput`.
    Exec {
        target: kubedeck_core::exec::Target,
        command: Vec<String>,
    },
    /// Watch this resource for the generic view, replacing what was
    /// browsed; None stops browsing.
    Browse(Option<crate::cluster::browse::BrowseTarget>),
    /// Read a Secret's key names (not its values), answering with
    /// `Msg::SecretKeys`.
    SecretKeys(crate::reveal::SecretRef),
    /// Reveal one key through the core's gate, answering with `Msg::Revealed`.
    Reveal(kubedeck_core::reveal::SecretKey),
    /// Hand the terminal to the editor on an object (read fresh, or the
    /// user's text again), and take it back when it closes, answering
    /// with `Msg::Edited`.
    Edit(crate::edit::EditRequest),
}

/// A `Confirmed` is neither Clone nor comparable; two effects are equal
/// when they would run the same confirmation.
impl PartialEq for Effect {
    fn eq(&self, other: &Effect) -> bool {
        match (self, other) {
            (Effect::Quit, Effect::Quit)
            | (Effect::ListContexts, Effect::ListContexts)
            | (Effect::CloseLogs, Effect::CloseLogs)
            | (Effect::StopBackupLogs, Effect::StopBackupLogs) => true,
            (Effect::SwitchContext(a), Effect::SwitchContext(b))
            | (Effect::SetTheme(a), Effect::SetTheme(b)) => a == b,
            (Effect::StopDrain(a), Effect::StopDrain(b)) => a == b,
            (Effect::WatchAllEvents(a), Effect::WatchAllEvents(b)) => a == b,
            (Effect::Plan { id: a, command: ca }, Effect::Plan { id: b, command: cb }) => {
                a == b && ca == cb
            }
            (Effect::Execute(a), Effect::Execute(b)) => a.confirmation() == b.confirmation(),
            (Effect::LoadRevisions(a), Effect::LoadRevisions(b)) => a == b,
            (Effect::LoadFull(a), Effect::LoadFull(b)) => a == b,
            (Effect::FollowBackupLogs(a), Effect::FollowBackupLogs(b)) => a == b,
            (Effect::RequestCharts(a), Effect::RequestCharts(b)) => a == b,
            (
                Effect::OpenLogs {
                    stream: sa,
                    target: ta,
                    options: oa,
                },
                Effect::OpenLogs {
                    stream: sb,
                    target: tb,
                    options: ob,
                },
            ) => sa == sb && ta == tb && oa == ob,
            (
                Effect::SaveLogs {
                    file_name: fa,
                    timestamps: ta,
                    filtered: la,
                    ..
                },
                Effect::SaveLogs {
                    file_name: fb,
                    timestamps: tb,
                    filtered: lb,
                    ..
                },
            ) => fa == fb && ta == tb && la == lb,
            (
                Effect::AuditReadonlyRefusal {
                    namespace: na,
                    object: oa,
                    action: aa,
                },
                Effect::AuditReadonlyRefusal {
                    namespace: nb,
                    object: ob,
                    action: ab,
                },
            ) => na == nb && oa == ob && aa == ab,
            (Effect::Ops(a), Effect::Ops(b)) => a == b,
            (Effect::Browse(a), Effect::Browse(b)) => a == b,
            (Effect::Shell(a), Effect::Shell(b)) => a == b,
            (Effect::SecretKeys(a), Effect::SecretKeys(b)) => a == b,
            (Effect::Reveal(a), Effect::Reveal(b)) => a == b,
            (Effect::Edit(a), Effect::Edit(b)) => a == b,
            (
                Effect::Exec {
                    target: ta,
                    command: ca,
                },
                Effect::Exec {
                    target: tb,
                    command: cb,
                },
            ) => ta == tb && ca == cb,
            _ => false,
        }
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Updated {
    pub redraw: bool,
    pub effects: Vec<Effect>,
}

impl Updated {
    pub(crate) fn redraw() -> Updated {
        Updated {
            redraw: true,
            effects: Vec::new(),
        }
    }

    /// A redraw and one effect.
    pub(crate) fn with(effect: Effect) -> Updated {
        Updated {
            redraw: true,
            effects: vec![effect],
        }
    }
}
