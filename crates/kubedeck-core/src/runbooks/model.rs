//! A runbook ready to run: variables substituted, every value typed.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::actions::{AnnotatableKind, ObjectRef, WorkloadRef};

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub name: String,
    pub title: String,
    pub description: String,
    pub vars: BTreeMap<String, String>,
    pub steps: Vec<Step>,
}

impl Plan {
    pub(crate) fn index_of(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub name: String,
    /// Where the step starts in its file (1-based).
    pub line: usize,
    pub kind: StepKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Note(String),
    Check(Condition),
    Show(Show),
    Action(Action),
    Wait {
        until: Condition,
        timeout: Duration,
        interval: Duration,
    },
    Confirm(String),
    Branch {
        on: String,
        if_passed: Option<BranchTarget>,
        if_failed: Option<BranchTarget>,
        if_skipped: Option<BranchTarget>,
    },
}

impl StepKind {
    pub fn word(&self) -> &'static str {
        match self {
            StepKind::Note(_) => "note",
            StepKind::Check(_) => "check",
            StepKind::Show(_) => "show",
            StepKind::Action(_) => "action",
            StepKind::Wait { .. } => "wait",
            StepKind::Confirm(_) => "confirm",
            StepKind::Branch { .. } => "branch",
        }
    }
}

/// Where a branch goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchTarget {
    Step(String),
    /// `end`: the run stops there, successfully.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Op {
    pub const ALL: [(&'static str, Op); 6] = [
        (">", Op::Gt),
        (">=", Op::Ge),
        ("<", Op::Lt),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
    ];

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL
            .iter()
            .find(|(text, _)| *text == s.trim())
            .map(|(_, op)| *op)
    }

    pub fn symbol(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(text, _)| text)
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Eq => value == threshold,
            Op::Ne => value != threshold,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Promql {
        query: String,
        op: Op,
        threshold: f64,
    },
    DeploymentReady {
        target: ObjectRef,
        ready: Option<i32>,
    },
    NoCrashLoop {
        namespace: String,
        selector: Option<String>,
    },
    HpaAtMax(ObjectRef),
    HpaAboveMin(ObjectRef),
    /// A change: the HPA runs more replicas than when the step began.
    HpaScaledUp(ObjectRef),
    RolloutStalled(ObjectRef),
    LastJobSucceeded(ObjectRef),
}

impl Condition {
    /// Whether it claims a change, seen only over time: a `wait` then.
    pub fn is_change(&self) -> bool {
        matches!(self, Condition::HpaScaledUp(_))
    }

    /// One line for the timeline.
    pub fn describe(&self) -> String {
        match self {
            Condition::Promql {
                query,
                op,
                threshold,
            } => format!("{query} {} {threshold}", op.symbol()),
            Condition::DeploymentReady {
                target,
                ready: Some(n),
            } => format!(
                "deployment/{} in {} has {n} Ready",
                target.name, target.namespace
            ),
            Condition::DeploymentReady {
                target,
                ready: None,
            } => format!(
                "deployment/{} in {} has rolled out, all Ready",
                target.name, target.namespace
            ),
            Condition::NoCrashLoop {
                namespace,
                selector,
            } => match selector {
                Some(s) => format!("no pod {s} in {namespace} in CrashLoopBackOff"),
                None => format!("no pod in {namespace} in CrashLoopBackOff"),
            },
            Condition::HpaAtMax(h) => format!("hpa/{} in {} at max", h.name, h.namespace),
            Condition::HpaAboveMin(h) => {
                format!("hpa/{} in {} above its minimum", h.name, h.namespace)
            }
            Condition::HpaScaledUp(h) => format!(
                "hpa/{} in {} scales up from where it was when the step began",
                h.name, h.namespace
            ),
            Condition::RolloutStalled(d) => {
                format!(
                    "the rollout of deployment/{} in {} stalled",
                    d.name, d.namespace
                )
            }
            Condition::LastJobSucceeded(c) => format!(
                "the last job of cronjob/{} in {} succeeded",
                c.name, c.namespace
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    pub view: String,
    pub namespace: Option<String>,
    pub filter: Option<String>,
}

/// Views a `show` step may open, as the console names them.
pub(crate) const VIEWS: &[&str] = &[
    "pods",
    "logs",
    "events",
    "deployments",
    "statefulsets",
    "services",
    "hpa",
    "nodes",
    "jobs",
    "cronjobs",
    "backups",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Scale {
        target: WorkloadRef,
        replicas: i32,
    },
    Restart(WorkloadRef),
    SetImage {
        target: WorkloadRef,
        container: Option<String>,
        image: String,
    },
    Rollback {
        target: WorkloadRef,
        /// 0: the previous revision.
        to_revision: i64,
    },
    KillPod {
        pod: PodChoice,
        force: bool,
    },
    Cordon(String),
    Uncordon(String),
    Backup {
        cronjob: ObjectRef,
        timeout: Duration,
    },
    RecoveryTest {
        target: WorkloadRef,
        slo: Duration,
        min_ready: u32,
        force: bool,
    },
    Annotate {
        target: AnnotateTarget,
        key: String,
        value: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodChoice {
    Named(ObjectRef),
    OneOf(WorkloadRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotateTarget {
    pub kind: AnnotatableKind,
    pub namespace: String,
    pub name: String,
}

impl AnnotateTarget {
    pub(crate) fn slashed(&self) -> String {
        format!("{}/{}", self.kind.singular(), self.name)
    }
}
