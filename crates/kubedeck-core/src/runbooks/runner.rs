//! Running a runbook as a state machine: `advance` runs the current step
//! and moves on, or stops at a human gate and waits for `Input`. The
//! headless command drives it in a loop; the console can drive it one step
//! at a time and show every step's status and output.
//!
//! A check or wait that could not be evaluated is inconclusive: its status
//! is `Skipped` and `Run::inconclusive` says why. A run with one never
//! ends "succeeded": unbranched, it stops there; branched on (`if-skipped`),
//! the run goes on and ends "incomplete".

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::act::{self, Env};
use super::conditions::{Baseline, Eval, evaluate};
use super::model::{BranchTarget, Plan, StepKind};
use kubedeck_kube::duration::human;

/// Steps a run may execute in all: a branch back to an earlier step makes
/// a loop, and a loop whose condition never changes must still end.
const MAX_STEPS_RUN: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Running,
    Passed,
    Failed,
    Skipped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepState {
    pub status: Status,
    pub output: Vec<String>,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
}

/// One line of the run's timeline: what ran, when, with what result, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// When the step started.
    pub time: DateTime<Utc>,
    pub step: String,
    pub name: String,
    pub kind: &'static str,
    pub result: Status,
    pub who: String,
    pub duration_ms: u64,
    /// The step's last line of output.
    pub detail: String,
    /// A check or wait that could not be evaluated (its result is
    /// `skipped`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inconclusive: bool,
}

/// A check or wait that could not be evaluated, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inconclusive {
    pub index: usize,
    pub step: String,
    pub reason: String,
}

/// What the driver must ask the human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A `confirm` step: yes or no.
    Confirm(String),
    /// An action in a protected context: the object's name must be typed.
    TypeName { expected: String, action: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Yes,
    No,
    Typed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The current step waits for the human; call `advance` with the answer.
    Waiting(Prompt),
    /// Step `index` ran and ended with `status`.
    Stepped {
        index: usize,
        status: Status,
    },
    Finished,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum RunOutcome {
    Succeeded,
    Failed {
        step: String,
        reason: String,
    },
    /// The human said no.
    Aborted {
        step: String,
        reason: String,
    },
    /// Nothing failed, but a check could not be evaluated: kubedeck cannot
    /// say the runbook's claims hold.
    Incomplete {
        /// The inconclusive steps' ids.
        steps: Vec<String>,
        /// Why the first of them could not be evaluated.
        reason: String,
    },
}

impl std::fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunOutcome::Succeeded => write!(f, "succeeded"),
            RunOutcome::Failed { step, reason } => write!(f, "failed at step {step}: {reason}"),
            RunOutcome::Aborted { step, reason } => write!(f, "aborted at step {step}: {reason}"),
            RunOutcome::Incomplete { steps, reason } => {
                let which = match steps.as_slice() {
                    [one] => format!("step {one} was"),
                    many => format!("steps {} were", many.join(", ")),
                };
                write!(f, "incomplete: {which} inconclusive ({reason})")
            }
        }
    }
}

pub struct Run {
    pub plan: Plan,
    pub who: String,
    pub states: Vec<StepState>,
    pub timeline: Vec<Entry>,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    cursor: Option<usize>,
    outcome: Option<RunOutcome>,
    /// check/wait id → passed.
    results: HashMap<String, bool>,
    /// Checks a branch looks at: their failure is an answer, not an error.
    branched_on: HashSet<String>,
    steps_run: usize,
    /// The checks and waits that could not be evaluated, in run order.
    inconclusive: Vec<Inconclusive>,
}

impl Run {
    pub fn new(plan: Plan, who: &str) -> Run {
        let states = plan
            .steps
            .iter()
            .map(|_| StepState {
                status: Status::Pending,
                output: Vec::new(),
                started: None,
                finished: None,
            })
            .collect();
        let branched_on = plan
            .steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Branch { on, .. } => Some(on.clone()),
                _ => None,
            })
            .collect();
        let cursor = (!plan.steps.is_empty()).then_some(0);
        let mut run = Run {
            plan,
            who: who.to_string(),
            states,
            timeline: Vec::new(),
            started: Utc::now(),
            finished: None,
            cursor,
            outcome: None,
            results: HashMap::new(),
            branched_on,
            steps_run: 0,
            inconclusive: Vec::new(),
        };
        if run.cursor.is_none() {
            run.finish(RunOutcome::Succeeded);
        }
        run
    }

    /// The step `advance` runs next; None once finished.
    pub fn current(&self) -> Option<usize> {
        self.cursor
    }

    pub fn outcome(&self) -> Option<&RunOutcome> {
        self.outcome.as_ref()
    }

    /// The checks and waits that could not be evaluated, in run order.
    pub fn inconclusive(&self) -> &[Inconclusive] {
        &self.inconclusive
    }

    /// Whether step `index`, as it last ran, was inconclusive.
    pub fn is_inconclusive(&self, index: usize) -> bool {
        self.states
            .get(index)
            .is_some_and(|s| s.status == Status::Skipped)
            && self.inconclusive.iter().any(|i| i.index == index)
    }

    /// The step's result in words: its status, or "inconclusive".
    pub fn result_word(&self, index: usize) -> String {
        if self.is_inconclusive(index) {
            "inconclusive".to_string()
        } else {
            self.states
                .get(index)
                .map_or_else(String::new, |s| s.status.to_string())
        }
    }

    /// Runs the current step. `input` answers the prompt a previous call
    /// returned; without one, a gate returns `Waiting` and nothing runs.
    pub async fn advance(&mut self, env: &Env, input: Option<Input>) -> Progress {
        let Some(i) = self.cursor else {
            return Progress::Finished;
        };
        let step = self.plan.steps[i].clone();
        if self.states[i].status != Status::Running {
            self.inconclusive.retain(|x| x.index != i);
            self.states[i] = StepState {
                status: Status::Running,
                output: Vec::new(),
                started: Some(Utc::now()),
                finished: None,
            };
        }
        let clock = Instant::now();
        let mut out = Vec::new();
        let mut next = Some(i + 1);
        let status = match &step.kind {
            StepKind::Note(text) => {
                out.extend(text.lines().map(str::to_string));
                Status::Passed
            }
            StepKind::Show(show) => {
                let mut line = format!("view: {}", show.view);
                if let Some(ns) = &show.namespace {
                    line.push_str(&format!(", namespace: {ns}"));
                }
                if let Some(f) = &show.filter {
                    line.push_str(&format!(", filter: {f}"));
                }
                out.push(line);
                Status::Passed
            }
            StepKind::Check(cond) => {
                out.push(format!("check: {}", cond.describe()));
                let mut baseline = Baseline::default();
                let eval =
                    evaluate(&env.client, env.prometheus.as_deref(), cond, &mut baseline).await;
                self.judge(i, &step.id, eval, &mut out)
            }
            StepKind::Wait {
                until,
                timeout,
                interval,
            } => {
                env.say(
                    &mut out,
                    format!(
                        "waiting up to {} until {}",
                        human(*timeout),
                        until.describe()
                    ),
                );
                // A change is measured from this step's start.
                let mut baseline = Baseline::default();
                let status = loop {
                    let eval =
                        evaluate(&env.client, env.prometheus.as_deref(), until, &mut baseline)
                            .await;
                    match eval {
                        Ok(Eval::Holds(d)) => {
                            out.push(format!("{d} (after {})", human(clock.elapsed())));
                            break Status::Passed;
                        }
                        Ok(Eval::Inconclusive(d)) => {
                            self.mark_inconclusive(i, &step.id, &d);
                            out.push(d);
                            break Status::Skipped;
                        }
                        other => {
                            if clock.elapsed() >= *timeout {
                                let last = match other {
                                    Ok(e) => e.detail().to_string(),
                                    Err(e) => e,
                                };
                                out.push(format!("timed out after {}: {last}", human(*timeout)));
                                break Status::Failed;
                            }
                        }
                    }
                    tokio::time::sleep(*interval).await;
                };
                self.record_result(&step.id, status);
                status
            }
            StepKind::Confirm(question) => match input {
                None => return Progress::Waiting(Prompt::Confirm(question.clone())),
                Some(Input::Yes) => {
                    out.push(format!("{question}: yes ({})", self.who));
                    Status::Passed
                }
                Some(Input::Typed(t)) if matches!(t.trim(), "y" | "yes") => {
                    out.push(format!("{question}: yes ({})", self.who));
                    Status::Passed
                }
                Some(_) => {
                    out.push(format!("{question}: no ({})", self.who));
                    self.outcome = Some(RunOutcome::Aborted {
                        step: step.id.clone(),
                        reason: "not confirmed".into(),
                    });
                    Status::Failed
                }
            },
            StepKind::Action(action) => {
                let protected = env.config.is_protected(&env.executor.context);
                let typed = match (protected, input) {
                    (true, None) => {
                        return Progress::Waiting(Prompt::TypeName {
                            expected: act::object_name(action),
                            action: act::describe(action),
                        });
                    }
                    (false, None) if env.confirm_actions => {
                        return Progress::Waiting(Prompt::Confirm(format!(
                            "Run: {}?",
                            act::describe(action)
                        )));
                    }
                    (_, Some(Input::No)) => {
                        out.push(format!("{}: declined", act::describe(action)));
                        self.outcome = Some(RunOutcome::Aborted {
                            step: step.id.clone(),
                            reason: "the action was declined".into(),
                        });
                        None
                    }
                    (true, Some(Input::Typed(t))) => {
                        let expected = act::object_name(action);
                        if t.trim() != expected {
                            // Checked here too: the recovery test and
                            // annotations do not go through `confirm`.
                            out.push(format!(
                                "typed {:?}, but confirming needs {expected:?}; nothing was done",
                                t.trim()
                            ));
                            self.outcome = Some(RunOutcome::Aborted {
                                step: step.id.clone(),
                                reason: "the typed name did not match".into(),
                            });
                        }
                        Some(t)
                    }
                    (false, Some(Input::Typed(t))) => Some(t),
                    _ => None,
                };
                if self.outcome.is_some() {
                    Status::Failed
                } else {
                    env.say(&mut out, act::describe(action));
                    match act::perform(env, action, typed.as_deref(), &mut out).await {
                        Ok(()) => Status::Passed,
                        Err(e) => {
                            out.push(e);
                            Status::Failed
                        }
                    }
                }
            }
            StepKind::Branch {
                on,
                if_passed,
                if_failed,
                if_skipped,
            } => {
                let skipped = if self.inconclusive.iter().any(|x| &x.step == on) {
                    "was inconclusive"
                } else {
                    "did not run"
                };
                let target = match self.results.get(on) {
                    Some(true) => if_passed.as_ref().map(|t| (t, "passed")),
                    Some(false) => if_failed.as_ref().map(|t| (t, "failed")),
                    None => if_skipped.as_ref().map(|t| (t, skipped)),
                };
                match target {
                    Some((BranchTarget::End, how)) => {
                        out.push(format!("{on} {how}: end of the runbook"));
                        next = None;
                    }
                    Some((BranchTarget::Step(id), how)) => {
                        out.push(format!("{on} {how}: go to {id}"));
                        next = self.plan.index_of(id);
                    }
                    None => out.push(match self.results.get(on) {
                        Some(_) => format!("{on}: no branch for this result, go on"),
                        None => format!("{on} {skipped}: go on"),
                    }),
                }
                Status::Passed
            }
        };
        self.steps_run += 1;
        let now = Utc::now();
        let detail = out.last().cloned().unwrap_or_default();
        let state = &mut self.states[i];
        state.status = status;
        state.output = out;
        state.finished = Some(now);
        let started = state.started.unwrap_or(now);
        self.timeline.push(Entry {
            time: started,
            step: step.id.clone(),
            name: step.name.clone(),
            kind: step.kind.word(),
            result: status,
            who: self.who.clone(),
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            detail: detail.clone(),
            inconclusive: self.is_inconclusive(i),
        });
        let tolerated = matches!(step.kind, StepKind::Check(_) | StepKind::Wait { .. })
            && self.branched_on.contains(&step.id);
        if let Some(outcome) = self.outcome.clone() {
            self.finish(outcome);
        } else if status == Status::Failed && !tolerated {
            self.finish(RunOutcome::Failed {
                step: step.id.clone(),
                reason: detail,
            });
        } else if self.is_inconclusive(i) && !tolerated {
            // Nothing after it may assume it held.
            self.finish(RunOutcome::Succeeded);
        } else if self.steps_run >= MAX_STEPS_RUN {
            self.finish(RunOutcome::Failed {
                step: step.id.clone(),
                reason: format!("{MAX_STEPS_RUN} steps run: the branches loop"),
            });
        } else {
            match next.filter(|n| *n < self.plan.steps.len()) {
                Some(n) => {
                    // Steps jumped over are skipped; a step run again starts afresh.
                    for s in self.states.iter_mut().take(n).skip(i + 1) {
                        if s.status == Status::Pending {
                            s.status = Status::Skipped;
                        }
                    }
                    self.states[n].status = Status::Pending;
                    self.cursor = Some(n);
                }
                None => self.finish(RunOutcome::Succeeded),
            }
        }
        Progress::Stepped { index: i, status }
    }

    fn judge(
        &mut self,
        index: usize,
        id: &str,
        eval: Result<Eval, String>,
        out: &mut Vec<String>,
    ) -> Status {
        let status = match eval {
            Ok(Eval::Holds(d)) => {
                out.push(d);
                Status::Passed
            }
            Ok(Eval::DoesNotHold(d)) => {
                out.push(d);
                Status::Failed
            }
            Ok(Eval::Inconclusive(d)) => {
                self.mark_inconclusive(index, id, &d);
                out.push(d);
                Status::Skipped
            }
            Err(e) => {
                out.push(e);
                Status::Failed
            }
        };
        self.record_result(id, status);
        status
    }

    fn record_result(&mut self, id: &str, status: Status) {
        match status {
            Status::Passed => {
                self.results.insert(id.to_string(), true);
            }
            Status::Failed => {
                self.results.insert(id.to_string(), false);
            }
            _ => {
                self.results.remove(id);
            }
        }
    }

    fn mark_inconclusive(&mut self, index: usize, id: &str, reason: &str) {
        // A step run again (a loop) counts once, with its latest reason.
        self.inconclusive.retain(|x| x.index != index);
        self.inconclusive.push(Inconclusive {
            index,
            step: id.to_string(),
            reason: reason.trim_start_matches("inconclusive: ").to_string(),
        });
    }

    /// Ends the run. A success with inconclusive steps is incomplete.
    fn finish(&mut self, outcome: RunOutcome) {
        for s in &mut self.states {
            if s.status == Status::Pending {
                s.status = Status::Skipped;
            }
        }
        let outcome = match (outcome, self.inconclusive.first()) {
            (RunOutcome::Succeeded, Some(first)) => RunOutcome::Incomplete {
                steps: self.inconclusive.iter().map(|x| x.step.clone()).collect(),
                reason: first.reason.clone(),
            },
            (other, _) => other,
        };
        self.cursor = None;
        self.outcome = Some(outcome);
        self.finished = Some(Utc::now());
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::actions::{AuditLog, Executor};
    use crate::config::Config;
    use crate::runbooks::validate::parse;

    /// An environment whose cluster is unreachable: the steps tested here
    /// never call it.
    fn env(dir: &std::path::Path) -> Env {
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let audit = AuditLog::new(dir.join("audit.jsonl"));
        Env {
            executor: Executor::new(client.clone(), "test", "alice", false, audit),
            client,
            config: Config::default(),
            prometheus: None,
            live: None,
            recovery: None,
            confirm_actions: false,
        }
    }

    fn run_of(text: &str) -> Run {
        let plan = parse("t", "t.yaml", text)
            .unwrap()
            .resolve(&BTreeMap::new())
            .unwrap();
        Run::new(plan, "alice")
    }

    const GATED: &str = "\
title: T
steps:
  - id: intro
    name: Intro
    note: hello
  - id: errors
    name: Errors
    check:
      promql: {query: up, op: '<', threshold: 1}
  - id: fork
    name: Fork
    branch: {on: errors, if-skipped: gate, if-passed: end}
  - id: skipped-over
    name: Never
    note: jumped over
  - id: gate
    name: Gate
    confirm: Go on?
  - id: last
    name: Last
    note: bye
";

    #[tokio::test]
    async fn in_the_console_an_action_asks_first_and_no_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = env(dir.path());
        env.confirm_actions = true;
        let mut run = run_of(
            "title: T\nsteps:\n  - id: cordon\n    name: Cordon\n    action: {cordon: {node: node-a}}\n",
        );
        assert_eq!(
            run.advance(&env, None).await,
            Progress::Waiting(Prompt::Confirm("Run: cordon node/node-a?".into()))
        );
        assert_eq!(
            run.advance(&env, Some(Input::No)).await,
            Progress::Stepped {
                index: 0,
                status: Status::Failed
            }
        );
        assert!(matches!(run.outcome(), Some(RunOutcome::Aborted { .. })));
        let audit = AuditLog::new(dir.path().join("audit.jsonl"));
        assert!(
            audit.read().map_or(true, |a| a.records.is_empty()),
            "nothing was executed"
        );
    }

    #[tokio::test]
    async fn a_skipped_check_branches_and_a_gate_waits_for_its_answer() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let mut run = run_of(GATED);
        assert_eq!(
            run.advance(&env, None).await,
            Progress::Stepped {
                index: 0,
                status: Status::Passed
            }
        );
        assert_eq!(
            run.advance(&env, None).await,
            Progress::Stepped {
                index: 1,
                status: Status::Skipped
            }
        );
        run.advance(&env, None).await;
        assert_eq!(run.current(), Some(4), "the branch jumps to the gate");
        assert_eq!(run.states[3].status, Status::Skipped);
        assert_eq!(
            run.advance(&env, None).await,
            Progress::Waiting(Prompt::Confirm("Go on?".into()))
        );
        assert_eq!(run.states[4].status, Status::Running);
        assert_eq!(run.current(), Some(4), "nothing moves without an answer");
        run.advance(&env, Some(Input::Yes)).await;
        run.advance(&env, None).await;
        assert_eq!(run.advance(&env, None).await, Progress::Finished);
        // Every step ran, but the error rate was never known.
        let outcome = run.outcome().unwrap();
        assert!(
            matches!(outcome, RunOutcome::Incomplete { steps, .. } if steps == &["errors"]),
            "{outcome:?}"
        );
        let text = outcome.to_string();
        for way in ["--prometheus", "[contexts.NAME]", "[metrics.prometheus]"] {
            assert!(text.contains(way), "{way} in {text}");
        }
        assert!(
            text.starts_with("incomplete: step errors was inconclusive"),
            "{text}"
        );
        assert_eq!(run.result_word(1), "inconclusive");
        assert!(run.states[1].output[1].starts_with("inconclusive: no Prometheus"));
        assert_eq!(
            run.states[2].output[0],
            "errors was inconclusive: go to gate"
        );
        let steps: Vec<&str> = run.timeline.iter().map(|e| e.step.as_str()).collect();
        assert_eq!(steps, ["intro", "errors", "fork", "gate", "last"]);
        assert!(run.timeline.iter().all(|e| e.who == "alice"));
        assert!(run.timeline[1].inconclusive && !run.timeline[0].inconclusive);
        let md = crate::runbooks::record::markdown(&run, "test");
        assert!(
            md.contains("outcome: **incomplete: step errors was inconclusive"),
            "{md}"
        );
        assert!(
            md.contains("| Errors (errors) | check | inconclusive |"),
            "{md}"
        );
        assert!(md.contains("## Inconclusive"), "{md}");
    }

    #[tokio::test]
    async fn an_unbranched_inconclusive_check_stops_the_run_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let mut run = run_of(
            "title: T\nsteps:\n  - id: errors\n    name: Errors\n    check:\n      promql: {query: up, op: '<', threshold: 1}\n  - id: act\n    name: Act\n    action: {cordon: {node: n1}}\n",
        );
        assert_eq!(
            run.advance(&env, None).await,
            Progress::Stepped {
                index: 0,
                status: Status::Skipped
            }
        );
        assert_eq!(run.advance(&env, None).await, Progress::Finished);
        assert!(matches!(run.outcome(), Some(RunOutcome::Incomplete { .. })));
        assert_eq!(
            run.states[1].status,
            Status::Skipped,
            "the action never ran"
        );
        let audit = env.executor.audit.read().unwrap();
        assert!(audit.records.is_empty(), "nothing reached the executor");
        let record = crate::runbooks::record::audit_record(&run, "test");
        assert!(
            matches!(&record.result, crate::actions::AuditResult::Failed { message } if message.starts_with("incomplete")),
            "{:?}",
            record.result
        );
    }

    #[tokio::test]
    async fn a_no_at_a_gate_aborts_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let mut run = run_of(GATED);
        for _ in 0..3 {
            run.advance(&env, None).await;
        }
        run.advance(&env, None).await;
        assert_eq!(
            run.advance(&env, Some(Input::No)).await,
            Progress::Stepped {
                index: 4,
                status: Status::Failed
            }
        );
        assert!(matches!(run.outcome(), Some(RunOutcome::Aborted { step, .. }) if step == "gate"));
        assert_eq!(run.states[5].status, Status::Skipped);
        let md = crate::runbooks::record::markdown(&run, "test");
        assert!(md.contains("aborted at step gate"), "{md}");
        assert!(md.contains("| Gate (gate) | confirm | failed |"), "{md}");
        let record = crate::runbooks::record::audit_record(&run, "test");
        assert_eq!(record.action, "runbook");
        assert_eq!(
            record.parameters["timeline"].as_array().map(Vec::len),
            Some(4)
        );
    }

    #[tokio::test]
    async fn a_protected_context_asks_for_the_name_and_refuses_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = env(dir.path());
        env.executor.context = "prod-eu".into();
        let mut run = run_of(
            "title: T\nsteps:\n  - id: c\n    name: C\n    action:\n      cordon: {node: n1}\n",
        );
        assert_eq!(
            run.advance(&env, None).await,
            Progress::Waiting(Prompt::TypeName {
                expected: "n1".into(),
                action: "cordon node/n1".into()
            })
        );
        run.advance(&env, Some(Input::Typed("n2".into()))).await;
        assert!(matches!(run.outcome(), Some(RunOutcome::Aborted { .. })));
        assert!(run.states[0].output[0].contains("nothing was done"));
        let audit = env.executor.audit.read().unwrap();
        assert!(audit.records.is_empty(), "nothing reached the executor");
    }

    #[tokio::test]
    async fn an_unbranched_failure_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let env = env(dir.path());
        let mut run = run_of(
            "title: T\nsteps:\n  - id: down\n    name: Down\n    check:\n      deployment-ready: {deployment: web, namespace: demo}\n  - id: after\n    name: After\n    note: never\n",
        );
        let p = run.advance(&env, None).await;
        assert_eq!(
            p,
            Progress::Stepped {
                index: 0,
                status: Status::Failed
            }
        );
        assert!(matches!(run.outcome(), Some(RunOutcome::Failed { step, .. }) if step == "down"));
        assert_eq!(run.states[1].status, Status::Skipped);
        assert!(
            run.states[0]
                .output
                .iter()
                .any(|l| l.contains("cannot read deployment/web"))
        );
    }
}
