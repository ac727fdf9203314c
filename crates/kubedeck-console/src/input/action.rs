//! Everything a key can ask the console to do. Keymap files deserialize
//! straight into this enum, so a typo in a keymap is a parse error that
//! names the line, never a silently dead key.

use serde::{Deserialize, Serialize};

/// A resource view reachable with `:name` or a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum View {
    Overview,
    Namespaces,
    Services,
    Workloads,
    Hpas,
    Pods,
    Events,
    Jobs,
    CronJobs,
    Nodes,
    Backups,
    /// Any resource from discovery, in the generic view.
    Resource,
    /// The list of every resource the server serves.
    ApiResources,
    /// A workload's owner tree (`:xray KIND [NAME]`).
    Xray,
}

/// A column a sort key names, by its header; a view without it says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SortColumn {
    Name,
    Namespace,
    Age,
    Status,
    Ready,
    Restarts,
    Cpu,
    Mem,
    Node,
}

impl SortColumn {
    /// The header of the column it sorts by.
    pub(crate) fn header(self) -> &'static str {
        match self {
            SortColumn::Name => "NAME",
            SortColumn::Namespace => "NAMESPACE",
            SortColumn::Age => "AGE",
            SortColumn::Status => "STATUS",
            SortColumn::Ready => "READY",
            SortColumn::Restarts => "RESTARTS",
            SortColumn::Cpu => "CPU",
            SortColumn::Mem => "MEM",
            SortColumn::Node => "NODE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Drill down into the selected row.
    Enter,
    /// Back up one level, or close a dialog.
    Back,
    /// Open the `:` command line.
    Command,
    /// Open the `/` filter.
    Filter,
    Help,
    Quit,
    /// Sort by the next column, or flip the order of the current one.
    SortNext,
    SortReverse,
    /// Sort by one column (k9s's shift keys); again, the other direction.
    SortBy(SortColumn),
    /// Show only the rows that are not healthy, or every row again.
    ToggleFaults,
    Describe,
    Yaml,
    Logs,
    /// A shell in the selected container (on a workload, scale, as k9s's `s`).
    Shell,
    Scale,
    Restart,
    SetImage,
    Rollback,
    Delete,
    Kill,
    /// Edit the selected object's YAML in `$KUBE_EDITOR`, else `$EDITOR`,
    /// else vi, as `kubectl edit`.
    Edit,
    Cordon,
    Uncordon,
    /// Drain a node (cordon, then evict its pods); on a node being drained,
    /// stop the drain. `restart` does the same on a node row, as k9s's `r`.
    Drain,
    Trigger,
    /// Pause or resume a Deployment's rollout; suspend or resume a CronJob.
    Pause,
    /// Show the selected workload's rollout progress.
    RolloutStatus,
    ToggleLogPane,
    /// Every column at full width, scrolled sideways; or the layout that fits.
    ToggleWide,
    /// Wide mode: scroll one column left or right.
    ScrollLeft,
    ScrollRight,
    /// Cycle the sparklines' and chart's window: 5m, 15m, 1h, 6h.
    MetricsWindow,
    /// Show or hide the chart of the selected workload, HPA or pod.
    ToggleChart,
    Goto(View),
    /// Run a `:` command, as typed after the colon (`{ run = "runbooks" }`):
    /// a key for any command, the on-call panes' included.
    Run(String),
    /// Confirm a dialog.
    Accept,
    /// Move the focus within a dialog or form.
    NextField,
    PrevField,
    /// Log view: follow the newest line, or stop following.
    LogsFollow,
    /// Log view: freeze the view while lines keep arriving, or resume.
    LogsPause,
    /// Log view: the previous (crashed) container's log, or the current one.
    LogsPrevious,
    /// Log view: the next container, or all of them.
    LogsContainer,
    LogsTimestamps,
    LogsWrap,
    /// Log view: cycle how far back the log starts (tail or since).
    LogsSince,
    /// Log view: search prompt, highlighting matches.
    LogsSearch,
    LogsNextMatch,
    LogsPrevMatch,
    /// Log view: filter prompt, keeping only matching lines.
    LogsFilter,
    /// Log view prompts: switch between substring and regex.
    LogsRegex,
    /// Log view: save the lines to a file.
    LogsSave,
    /// Kill pods of the selected workload and time the recovery.
    RecoveryTest,
    /// In a runbook: run steps until the next human gate.
    RunToGate,
    /// Forward a local port to the selected pod, service or workload.
    PortForward,
    /// Reveal one key of the selected Secret, decoded (k9s's `x`; the
    /// default keymap's `x` does it on a Secret, see `recovery-test`).
    Decode,
}

impl Action {
    /// Whether the action moves a table's cursor.
    pub(crate) fn moves_cursor(&self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
        )
    }

    /// Whether the action works on a table's rows (open, filter, sort,
    /// describe); a pane in the table's place takes these and does nothing.
    pub(crate) fn acts_on_rows(&self) -> bool {
        matches!(
            self,
            Action::Enter
                | Action::Filter
                | Action::SortNext
                | Action::SortReverse
                | Action::SortBy(_)
                | Action::ToggleFaults
                | Action::Describe
                | Action::Yaml
        )
    }

    /// A short description for the help screen.
    pub(crate) fn describe(&self) -> String {
        let text = match self {
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to the first row",
            Action::Bottom => "go to the last row",
            Action::Enter => "open the selection",
            Action::Back => "go back",
            Action::Command => "command line (:pods, :svc, :ns …)",
            Action::Filter => "filter rows (text, or -l selector)",
            Action::Help => "this help",
            Action::Quit => "quit",
            Action::SortNext => "sort by the next column",
            Action::SortReverse => "reverse the sort order",
            Action::Describe => "describe",
            Action::Yaml => "show YAML",
            Action::Logs => "logs",
            Action::Shell => "shell in the container (on a workload: scale)",
            Action::Scale => "scale",
            Action::Restart => "rollout restart; on a node: drain (again: stop it)",
            Action::SetImage => "update image",
            Action::Rollback => "revision history and rollback; on a node: uncordon",
            Action::Delete => "delete",
            Action::Kill => "kill pod",
            Action::Edit => "edit the YAML in $EDITOR (diff, dry run, confirm)",
            Action::Cordon => "cordon node",
            Action::Uncordon => "uncordon node",
            Action::Drain => "drain node (again: stop the drain)",
            Action::Trigger => "run a CronJob now",
            Action::Pause => "pause/resume a rollout, suspend/resume a CronJob",
            Action::RolloutStatus => "rollout progress",
            Action::ToggleLogPane => "show or hide kubedeck's own log",
            Action::ToggleWide => "wide: every column, scrolled sideways; again: fit",
            Action::ScrollLeft => "wide: scroll one column left",
            Action::ScrollRight => "wide: scroll one column right",
            Action::MetricsWindow => "metrics window: 5m, 15m, 1h, 6h",
            Action::ToggleChart => "show or hide the metrics chart of the selection",
            Action::Accept => "confirm",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::LogsFollow => "logs: follow the newest line, or stop",
            Action::LogsPause => "logs: pause or resume",
            Action::LogsPrevious => "logs: previous container instance, or current",
            Action::LogsContainer => "logs: next container, or all",
            Action::LogsTimestamps => "logs: timestamps on/off",
            Action::LogsWrap => "logs: wrap long lines on/off",
            Action::LogsSince => "logs: tail 200, 1000, since 5m, 1h, all",
            Action::LogsSearch => "logs: search (highlight and jump)",
            Action::LogsNextMatch => "logs: next match",
            Action::LogsPrevMatch => "logs: previous match",
            Action::LogsFilter => "logs: keep only matching lines",
            Action::LogsRegex => "logs prompt: substring or regex",
            Action::LogsSave => "logs: save to a file",
            Action::RecoveryTest => {
                "pod-kill recovery test (:recovery shows it); on a Secret: reveal a key, decoded"
            }
            Action::Decode => "reveal a key of the selected Secret, decoded",
            Action::RunToGate => "runbook: run until the next gate",
            Action::PortForward => "port-forward to the selection (:pf lists them)",
            Action::ToggleFaults => "faults only: rows that are not healthy; again: all",
            Action::Goto(view) => return format!("go to {}", view_name(*view)),
            Action::Run(line) => return format!(":{line}"),
            Action::SortBy(c) => {
                return format!("sort by {}; again: reverse", c.header().to_lowercase());
            }
        };
        text.to_string()
    }
}

fn view_name(view: View) -> &'static str {
    match view {
        View::Overview => "the overview",
        View::Namespaces => "namespaces",
        View::Services => "services",
        View::Workloads => "workloads",
        View::Hpas => "HPAs",
        View::Pods => "pods",
        View::Events => "events",
        View::Jobs => "jobs",
        View::CronJobs => "cron jobs",
        View::Nodes => "nodes",
        View::Backups => "backups",
        View::Resource => "the resource",
        View::ApiResources => "API resources",
        View::Xray => "the owner tree",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_keymap_spelling() {
        for (text, action) in [
            ("\"page-down\"", Action::PageDown),
            ("\"toggle-log-pane\"", Action::ToggleLogPane),
            ("{\"goto\":\"cron-jobs\"}", Action::Goto(View::CronJobs)),
            (
                "{\"sort-by\":\"restarts\"}",
                Action::SortBy(SortColumn::Restarts),
            ),
            ("\"toggle-faults\"", Action::ToggleFaults),
            ("{\"run\":\"runbooks\"}", Action::Run("runbooks".into())),
        ] {
            let parsed: Action = serde_json::from_str(text).expect(text);
            assert_eq!(parsed, action);
            assert_eq!(serde_json::to_string(&action).expect("serializes"), text);
        }
    }

    #[test]
    fn unknown_action_names_are_rejected() {
        let err = serde_json::from_str::<Action>("\"dwon\"").unwrap_err();
        assert!(err.to_string().contains("unknown variant `dwon`"), "{err}");
    }
}
