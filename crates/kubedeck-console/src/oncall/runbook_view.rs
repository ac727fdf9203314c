//! A runbook run as the console shows it: every step with its status and
//! output, the variables, the question it waits on, and a recovery-test
//! step's live timeline under the steps. The run itself lives in a
//! background task (`tasks`); this is the picture `update` keeps of it.

use std::collections::BTreeMap;

use super::recovery_view::{RecoveryLive, RecoveryMsg};
use crate::theme::Role;
use crate::views::Cell;
use kubedeck_core::runbooks::runner::StepState;
use kubedeck_core::runbooks::{Input, Prompt, RunOutcome, Status};

/// A runbook in `:runbooks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub(crate) name: String,
    /// "shipped" or "user".
    pub(crate) source: String,
    /// The title, or why the file could not be read.
    pub(crate) title: String,
}

/// Where a `show` step sends the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowTarget {
    pub(crate) view: String,
    pub(crate) namespace: Option<String>,
    pub(crate) filter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    /// note, check, show, action, wait, confirm, branch.
    pub(crate) kind: String,
    pub(crate) show: Option<ShowTarget>,
}

/// A runbook as opened: what the pane lists before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookInfo {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) vars: BTreeMap<String, String>,
    pub(crate) steps: Vec<StepInfo>,
    pub(crate) context: String,
    pub(crate) who: String,
}

/// The run's state after a step, or while one runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub(crate) states: Vec<StepState>,
    pub(crate) current: Option<usize>,
    /// The step that just ran and how it ended.
    pub(crate) stepped: Option<(usize, Status)>,
    pub(crate) waiting: Option<Prompt>,
    pub(crate) outcome: Option<RunOutcome>,
    /// A step is running in the background.
    pub(crate) busy: bool,
    /// The skipped checks and waits that could not be evaluated: they say
    /// "inconclusive", never read as a pass or a deliberate skip.
    pub(crate) inconclusive: Vec<usize>,
}

/// News from the task that runs a runbook.
#[derive(Debug, Clone, PartialEq)]
pub enum RunbookMsg {
    Snapshot(Snapshot),
    /// A line of a long step's output, as it happens.
    Live(String),
    Recovery(RecoveryMsg),
    /// Where the incident log went, once the run ended.
    Saved(Result<String, String>),
}

/// What the pane asks the task to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunbookCmd {
    /// Run the current step.
    Step,
    /// Run steps until a human gate or the end.
    ToGate,
    Answer(Input),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunbookLive {
    pub id: u64,
    pub info: RunbookInfo,
    pub snapshot: Snapshot,
    /// Lines the running step printed so far.
    pub live: Vec<String>,
    /// What the console did for a step (a `show` it opened), by step.
    pub notes: BTreeMap<usize, Vec<String>>,
    /// The recovery test a step runs or ran.
    pub recovery: Option<RecoveryLive>,
    pub saved: Option<Result<String, String>>,
}

/// Output lines a finished step shows under it.
const OUTPUT_LINES: usize = 3;

impl RunbookLive {
    pub(crate) fn new(id: u64, info: RunbookInfo) -> RunbookLive {
        let states = info
            .steps
            .iter()
            .map(|_| StepState {
                status: Status::Pending,
                output: Vec::new(),
                started: None,
                finished: None,
            })
            .collect();
        let current = (!info.steps.is_empty()).then_some(0);
        RunbookLive {
            id,
            info,
            snapshot: Snapshot {
                states,
                current,
                stepped: None,
                waiting: None,
                outcome: None,
                busy: false,
                inconclusive: Vec::new(),
            },
            live: Vec::new(),
            notes: BTreeMap::new(),
            recovery: None,
            saved: None,
        }
    }

    pub(crate) fn finished(&self) -> bool {
        self.snapshot.outcome.is_some()
    }

    pub(crate) fn lines(&self) -> Vec<Vec<Cell>> {
        let info = &self.info;
        let mut lines = Vec::new();
        for l in info.description.lines().filter(|l| !l.trim().is_empty()) {
            lines.push(vec![Cell::new(l.trim().to_string(), Role::Muted)]);
        }
        if !info.vars.is_empty() {
            let mut row = vec![Cell::new("variables  ", Role::Muted)];
            for (k, v) in &info.vars {
                row.push(Cell::new(format!("{k}="), Role::Muted));
                row.push(Cell::text(format!("{v}  ")));
            }
            lines.push(row);
        }
        lines.push(vec![
            Cell::new("context    ", Role::Muted),
            Cell::text(format!("{}, as {}", info.context, info.who)),
        ]);
        lines.push(Vec::new());
        let s = &self.snapshot;
        for (i, step) in info.steps.iter().enumerate() {
            let state = s.states.get(i);
            let status = state.map_or(Status::Pending, |st| st.status);
            let inconclusive = status == Status::Skipped && s.inconclusive.contains(&i);
            let (mark, role) = match status {
                _ if inconclusive => ("?", Role::Warning),
                Status::Pending => ("·", Role::Muted),
                Status::Running => ("▶", Role::Info),
                Status::Passed => ("✓", Role::Ok),
                Status::Failed => ("✗", Role::Danger),
                Status::Skipped => ("-", Role::Muted),
            };
            let word = if inconclusive {
                "inconclusive".to_string()
            } else {
                status.to_string()
            };
            let cursor = if s.current == Some(i) && !self.finished() {
                "→"
            } else {
                " "
            };
            lines.push(vec![
                Cell::new(format!("{cursor}{mark} "), role),
                Cell::new(
                    format!("{:>2} {:<40}", i + 1, step.name),
                    if s.current == Some(i) {
                        Role::Accent
                    } else {
                        Role::Text
                    },
                ),
                Cell::new(format!(" {:<8}", step.kind), Role::Muted),
                Cell::new(format!(" {word}"), role),
            ]);
            let output: Vec<String> = if status == Status::Running {
                self.live.clone()
            } else {
                state.map(|st| st.output.clone()).unwrap_or_default()
            };
            // A recovery test's timeline has a pane of its own below.
            let timeline_step = step.kind == "action"
                && self.recovery.is_some()
                && output.iter().any(|l| l.starts_with("recovery test"));
            let mut shown: Vec<&String> = output.iter().collect();
            if timeline_step {
                shown.retain(|l| !l.trim_start().starts_with('+'));
            }
            // Passed steps keep their last line; the others say more.
            let keep = if status == Status::Passed {
                1
            } else {
                OUTPUT_LINES
            };
            // A note reads from its start; anything else ends with its result.
            let range = if step.kind == "note" {
                0..shown.len().min(OUTPUT_LINES)
            } else {
                shown.len().saturating_sub(keep)..shown.len()
            };
            for line in &shown[range] {
                lines.push(vec![Cell::new(format!("       {line}"), Role::Muted)]);
            }
            for note in self.notes.get(&i).into_iter().flatten() {
                lines.push(vec![Cell::new(format!("       {note}"), Role::Info)]);
            }
        }
        lines.push(Vec::new());
        match (&s.outcome, &s.waiting) {
            (Some(RunOutcome::Succeeded), _) => {
                lines.push(vec![Cell::new("runbook succeeded", Role::Ok)]);
            }
            (Some(o), _) => lines.push(vec![Cell::new(format!("runbook {o}"), Role::Danger)]),
            (None, Some(Prompt::Confirm(q))) => lines.push(vec![
                Cell::new("waiting for you: ", Role::Warning),
                Cell::text(q.clone()),
            ]),
            (None, Some(Prompt::TypeName { expected, action })) => lines.push(vec![
                Cell::new("waiting for you: ", Role::Warning),
                Cell::text(format!("type {expected} to {action}")),
            ]),
            (None, None) if s.busy => lines.push(vec![Cell::new("running…", Role::Info)]),
            (None, None) => {}
        }
        match &self.saved {
            Some(Ok(path)) => lines.push(vec![
                Cell::new("incident log ", Role::Muted),
                Cell::text(path.clone()),
            ]),
            Some(Err(e)) => lines.push(vec![Cell::new(
                format!("the incident log was not written: {e}"),
                Role::Warning,
            )]),
            None => {}
        }
        if let Some(r) = &self.recovery {
            lines.push(Vec::new());
            lines.push(vec![Cell::new("Recovery timeline", Role::Title)]);
            lines.extend(r.lines(0, false));
        }
        lines
    }
}
