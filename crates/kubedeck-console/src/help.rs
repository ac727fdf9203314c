//! The help overlay's lines: the active keymap's keys grouped by purpose,
//! then every `:` command with its aliases and arguments. Pure; the widget
//! wraps and scrolls them.

use crate::commands::ALIASES;
use crate::input::action::{Action, View};
use crate::input::keymap::{Keymap, Mode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    Heading(&'static str),
    /// Keys (or a command) and what they do.
    Entry(String, String),
}

/// What the help overlay shows, scrolled to `scroll`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpVm {
    pub lines: Vec<HelpLine>,
    pub scroll: usize,
}

impl HelpVm {
    /// The (keys, description) lines, headings left out.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines.iter().filter_map(|l| match l {
            HelpLine::Entry(k, w) => Some((k.as_str(), w.as_str())),
            HelpLine::Heading(_) => None,
        })
    }
}

const GROUPS: [&str; 5] = ["Navigate", "View", "Act", "On-call operations", "Console"];

/// Which of `GROUPS` an action belongs to.
fn group(action: &Action) -> usize {
    match action {
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom
        | Action::Enter
        | Action::Back
        | Action::Goto(_)
        | Action::Run(_)
        | Action::ScrollLeft
        | Action::ScrollRight
        | Action::NextField
        | Action::PrevField
        | Action::Accept => 0,
        Action::Command
        | Action::Filter
        | Action::SortNext
        | Action::SortReverse
        | Action::SortBy(_)
        | Action::ToggleFaults
        | Action::ToggleWide
        | Action::Describe
        | Action::Yaml
        | Action::Logs
        | Action::MetricsWindow
        | Action::ToggleChart => 1,
        Action::Shell
        | Action::Scale
        | Action::Restart
        | Action::SetImage
        | Action::Rollback
        | Action::Delete
        | Action::Kill
        | Action::Edit
        | Action::Cordon
        | Action::Uncordon
        | Action::Drain
        | Action::Trigger
        | Action::Pause
        | Action::RolloutStatus
        | Action::PortForward
        | Action::Decode => 2,
        Action::RecoveryTest | Action::RunToGate => 3,
        Action::Help | Action::Quit | Action::ToggleLogPane => 4,
        Action::LogsFollow
        | Action::LogsPause
        | Action::LogsPrevious
        | Action::LogsContainer
        | Action::LogsTimestamps
        | Action::LogsWrap
        | Action::LogsSince
        | Action::LogsSearch
        | Action::LogsNextMatch
        | Action::LogsPrevMatch
        | Action::LogsFilter
        | Action::LogsRegex
        | Action::LogsSave => 1,
    }
}

/// The `:` commands that are no view's alias: (command, what it does).
pub(crate) const VERBS: &[(&str, &str)] = &[
    (
        ":ns NAME, :ns all",
        "limit every view to a namespace, or show all",
    ),
    (
        ":ctx [NAME]",
        "switch context; without a name, list the contexts",
    ),
    (
        ":exec CMD",
        "run CMD (through sh -c) in the selected pod or container",
    ),
    (
        ":runbooks (runbook, rb) [NAME]",
        "list the runbooks (Enter runs one), or open NAME",
    ),
    (
        ":theme [NAME]",
        "draw with another theme; without a name, pick one",
    ),
    (":recovery", "the last pod-kill recovery test"),
    (
        ":pf (portforward, port-forwards)",
        "the port-forwards this console runs",
    ),
    (
        ":NAME",
        "any resource the server serves, by plural, singular, short name or plural.group (:ing, :cm, :certificates.cert-manager.io)",
    ),
    (
        ":xray KIND [NAME] [-n NS]",
        "owner tree of deploy, sts, ds, job or cj: ReplicaSets or Jobs, pods, containers, Services, HPAs",
    ),
    (":q (q!, quit)", "quit"),
];

fn view_purpose(view: View) -> &'static str {
    match view {
        View::Overview => "each namespace's health, worst first",
        View::Namespaces => "namespaces",
        View::Services => "services and their endpoints",
        View::Workloads => "Deployments, StatefulSets and DaemonSets",
        View::Hpas => "HPAs and why they scale",
        View::Pods => "pods",
        View::Events => "events",
        View::Jobs => "jobs",
        View::CronJobs => "cron jobs",
        View::Nodes => "nodes",
        View::Backups => "backup CronJobs and their last runs",
        View::Resource => "a resource from discovery",
        View::ApiResources => "every resource the server serves",
        View::Xray => "a workload's owner tree",
    }
}

/// The normal keys by purpose, then the `:` commands.
pub(crate) fn lines(keymap: &Keymap) -> Vec<HelpLine> {
    let bindings = keymap.bindings(Mode::Normal);
    let mut out = Vec::new();
    for (g, heading) in GROUPS.iter().enumerate() {
        let entries: Vec<HelpLine> = bindings
            .iter()
            .filter(|(a, _)| group(a) == g)
            .map(|(action, keys)| {
                let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                HelpLine::Entry(keys.join(" "), action.describe())
            })
            .collect();
        if !entries.is_empty() {
            out.push(HelpLine::Heading(heading));
            out.extend(entries);
        }
    }
    out.push(HelpLine::Heading("Commands (: then Tab completes)"));
    for (view, names) in ALIASES {
        let (first, rest) = names.split_first().unwrap_or((&"", &[]));
        let command = if rest.is_empty() {
            format!(":{first}")
        } else {
            format!(":{first} ({})", rest.join(", "))
        };
        out.push(HelpLine::Entry(command, view_purpose(*view).to_string()));
    }
    out.extend(
        VERBS
            .iter()
            .map(|(c, w)| HelpLine::Entry((*c).to_string(), (*w).to_string())),
    );
    out
}

/// The log view's help: its own keys, then the normal keys still at work.
pub(crate) fn logs(entries: Vec<(String, String)>) -> Vec<HelpLine> {
    let mut out = vec![HelpLine::Heading("Log view")];
    out.extend(entries.into_iter().map(|(k, w)| HelpLine::Entry(k, w)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's key table (### Keys), row by row: (keys cell, row).
    fn readme_key_rows() -> Vec<(String, String)> {
        let readme = include_str!("../../../README.md");
        let start = readme.find("### Keys").expect("a Keys section");
        let section = &readme[start..];
        let end = section[4..].find("\n#").map_or(section.len(), |i| i + 4);
        section[..end]
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Keys") && !l.starts_with("| ---"))
            .map(|l| {
                let keys = l.split(" | ").next().unwrap_or("").to_string();
                (keys, l.to_string())
            })
            .collect()
    }

    /// A key as the README writes it.
    fn readme_name(key: &str) -> String {
        match key {
            "down" => "↓",
            "up" => "↑",
            "left" => "←",
            "right" => "→",
            "pagedown" => "PgDn",
            "pageup" => "PgUp",
            "home" => "Home",
            "end" => "End",
            "enter" => "Enter",
            "esc" => "Esc",
            other => other,
        }
        .to_string()
    }

    fn backticked(cell: &str) -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_readme_key_table_and_the_built_in_help_agree() {
        let keymap = Keymap::built_in_default();
        let rows = readme_key_rows();
        let all: String = rows.iter().map(|(_, r)| r.as_str()).collect();
        let mut bound = Vec::new();
        for line in lines(&keymap) {
            let HelpLine::Entry(keys, what) = line else {
                continue;
            };
            if keys.starts_with(':') && keys.len() > 1 {
                continue;
            }
            for key in keys.split(' ') {
                let name = readme_name(key);
                assert!(
                    all.contains(&format!("`{name}`")),
                    "the help's {key} ({what}) is not in the README's key table"
                );
                bound.push(name);
            }
        }
        for (cell, row) in &rows {
            for key in backticked(cell) {
                assert!(
                    bound.contains(&key),
                    "the README's `{key}` is no key of the default keymap: {row}"
                );
            }
        }
    }

    #[test]
    fn help_groups_every_normal_key_and_lists_every_command() {
        let keymap = Keymap::built_in_default();
        let help = lines(&keymap);
        let headings: Vec<&str> = help
            .iter()
            .filter_map(|l| match l {
                HelpLine::Heading(h) => Some(*h),
                HelpLine::Entry(..) => None,
            })
            .collect();
        assert_eq!(
            headings,
            [
                "Navigate",
                "View",
                "Act",
                "On-call operations",
                "Console",
                "Commands (: then Tab completes)"
            ]
        );
        let vm = HelpVm {
            lines: help,
            scroll: 0,
        };
        let entries: Vec<(&str, &str)> = vm.entries().collect();
        let bound = keymap.bindings(Mode::Normal).len();
        let commands = entries
            .iter()
            .filter(|(k, _)| k.starts_with(':') && k.len() > 1)
            .count();
        assert_eq!(entries.len() - commands, bound, "one line per action");
        assert_eq!(commands, ALIASES.len() + VERBS.len());
        assert!(entries.contains(&(
            ":backups (backup, bk)",
            "backup CronJobs and their last runs"
        )));
        assert!(entries.contains(&("R", "sort by restarts; again: reverse")));
    }
}
