//! Reading a runbook file and checking it, with the line of every error.
//!
//! serde_norway gives the position of syntax and shape errors (unknown keys,
//! wrong types), but only of the first one in a document. So the document
//! is read once with the steps left untyped, then each step's own lines are
//! typed separately (padded with blank lines so that positions stay those of
//! the file), and every step's errors are found. Semantic errors (undefined
//! variables, bad durations, unknown branch targets...) are placed on the
//! line of the offending key within the step's lines.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use super::format::{
    RawAction, RawBranch, RawCondition, RawRunbook, RawShow, RawStep, RawWait, Text,
};
use super::model::{
    Action, AnnotateTarget, BranchTarget, Condition, Op, Plan, PodChoice, Show, Step, StepKind,
    VIEWS,
};
use crate::actions::{AnnotatableKind, ObjectRef, WorkloadKind, WorkloadRef};
use kubedeck_kube::duration;

/// One problem in a runbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A parsed runbook, its steps still holding `${variables}`.
#[derive(Debug, Clone)]
pub struct Runbook {
    /// The short name `runbook run NAME` accepts.
    pub name: String,
    /// The path (or `shipped:NAME`) errors are reported against.
    pub file: String,
    pub title: String,
    pub description: String,
    /// Declared variables and their defaults.
    pub variables: BTreeMap<String, String>,
    namespace: Option<Text>,
    lines: Vec<String>,
    steps: Vec<(RawStep, Span)>,
}

/// A step's lines: `start` (its `- ` line) to `end`, exclusive, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

const KINDS: &str = "note, check, show, action, wait, confirm or branch";

/// The byte offset of the first `\r` not followed by `\n`.
fn lone_carriage_return(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
}

/// Reads a runbook. Errors here are those of the file's shape: syntax,
/// unknown keys and kinds, wrong types, missing or duplicate fields.
pub fn parse(name: &str, file: &str, text: &str) -> Result<Runbook, Vec<Diagnostic>> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let diag = |line: usize, message: String| Diagnostic {
        file: file.to_string(),
        line: line.max(1),
        message,
    };
    // YAML ends a line at a lone carriage return, editors mostly don't:
    // the lines reported would not be the ones the user sees.
    if let Some(at) = lone_carriage_return(text) {
        let line = text[..at].lines().count().max(1);
        return Err(vec![diag(
            line,
            "a carriage return without a line feed; save the file with \\n or \\r\\n line endings"
                .into(),
        )]);
    }
    let raw: RawRunbook = match serde_norway::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.location().map_or(1, |l| l.line());
            return Err(vec![diag(line, serde_message(&e))]);
        }
    };
    let mut diags = Vec::new();
    let steps_line = top_key_line(&lines, "steps").unwrap_or(1);
    if raw.steps.is_empty() {
        diags.push(diag(steps_line, "a runbook needs at least one step".into()));
    }
    let spans = step_spans(&lines, steps_line);
    let located = spans.len() == raw.steps.len();
    let mut steps = Vec::new();
    for (i, value) in raw.steps.iter().enumerate() {
        let span = if located {
            spans[i]
        } else {
            Span {
                start: steps_line,
                end: lines.len() + 1,
            }
        };
        let typed = if located {
            parse_step_lines(&lines, span)
        } else {
            serde_norway::from_value::<RawStep>(value.clone()).map_err(|e| (span.start, e))
        };
        match typed {
            Ok(step) => steps.push((step, span)),
            Err((line, e)) => diags.push(diag(line, serde_message(&e))),
        }
    }
    let mut variables = BTreeMap::new();
    for (k, v) in raw.variables {
        if !valid_var_name(&k) {
            let line = block_key_line(&lines, "variables", &k).unwrap_or(1);
            diags.push(diag(
                line,
                format!(
                    "variable name {k:?} may hold only letters, digits, '_' and '-' (it is used as ${{{k}}})"
                ),
            ));
        }
        variables.insert(k, v.0);
    }
    let mut seen: HashSet<&str> = HashSet::new();
    for (step, span) in &steps {
        let id_line = key_line(&lines, *span, "id").unwrap_or(span.start);
        if !valid_id(&step.id) {
            diags.push(diag(
                id_line,
                format!(
                    "step id {:?} may hold only letters, digits, '_' and '-'",
                    step.id
                ),
            ));
        }
        if step.id == "end" {
            diags.push(diag(
                id_line,
                "step id \"end\" is reserved: branches use it to stop the run".into(),
            ));
        }
        if !seen.insert(step.id.as_str()) {
            diags.push(diag(id_line, format!("duplicate step id {:?}", step.id)));
        }
        match step.kinds().as_slice() {
            [] => diags.push(diag(
                span.start,
                format!("step {:?} has no kind: give it one of {KINDS}", step.id),
            )),
            [_] => {}
            [first, second, ..] => diags.push(diag(
                key_line(&lines, *span, second).unwrap_or(span.start),
                format!(
                    "step {:?} has two kinds, {first} and {second}: a step has exactly one",
                    step.id
                ),
            )),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Runbook {
        name: name.to_string(),
        file: file.to_string(),
        title: raw.title,
        description: raw.description,
        variables,
        namespace: raw.namespace,
        lines,
        steps,
    })
}

/// Parses and resolves with the defaults: every error a file can have.
pub fn check(name: &str, file: &str, text: &str) -> Vec<Diagnostic> {
    match parse(name, file, text) {
        Ok(rb) => rb.resolve(&BTreeMap::new()).err().unwrap_or_default(),
        Err(diags) => diags,
    }
}

impl Runbook {
    /// Substitutes the variables (defaults overridden by `overrides`) and
    /// types every value.
    pub fn resolve(&self, overrides: &BTreeMap<String, String>) -> Result<Plan, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        let mut vars = self.variables.clone();
        for (k, v) in overrides {
            if vars.contains_key(k) {
                vars.insert(k.clone(), v.clone());
            } else {
                let declared: Vec<&str> = self.variables.keys().map(String::as_str).collect();
                diags.push(Diagnostic {
                    file: self.file.clone(),
                    line: top_key_line(&self.lines, "variables").unwrap_or(1),
                    message: format!(
                        "--var {k}: the runbook has no such variable (it has: {})",
                        if declared.is_empty() {
                            "none".to_string()
                        } else {
                            declared.join(", ")
                        }
                    ),
                });
            }
        }
        let top_ns_line = top_key_line(&self.lines, "namespace").unwrap_or(1);
        let mut r = Resolver {
            rb: self,
            vars: &vars,
            diags: Vec::new(),
            span: Span {
                start: top_ns_line,
                end: top_ns_line + 1,
            },
        };
        let namespace = self.namespace.as_ref().and_then(|t| r.text(t, "namespace"));
        let mut steps = Vec::new();
        let mut earlier: BTreeMap<String, &'static str> = BTreeMap::new();
        for (raw, span) in &self.steps {
            r.span = *span;
            let resolved = r.kind(raw, namespace.as_deref(), &earlier);
            // A step with errors is still a branch's valid `on`.
            if let Some(word) = raw.kinds().first() {
                earlier.insert(raw.id.clone(), word);
            }
            if let Some(kind) = resolved {
                steps.push(Step {
                    id: raw.id.clone(),
                    name: r.subst_or_raw(&raw.name, "name"),
                    line: span.start,
                    kind,
                });
            }
        }
        // Forward targets are allowed: check them once every id is known.
        let ids: HashSet<&str> = self.steps.iter().map(|(s, _)| s.id.as_str()).collect();
        for step in &steps {
            if let StepKind::Branch {
                if_passed,
                if_failed,
                if_skipped,
                ..
            } = &step.kind
            {
                for (key, target) in [
                    ("if-passed", if_passed),
                    ("if-failed", if_failed),
                    ("if-skipped", if_skipped),
                ] {
                    if let Some(BranchTarget::Step(id)) = target
                        && !ids.contains(id.as_str())
                    {
                        r.span = self
                            .steps
                            .iter()
                            .map(|(_, span)| *span)
                            .find(|span| span.start == step.line)
                            .unwrap_or(r.span);
                        r.err(
                            key,
                            format!("branch target {id:?} is not a step id (nor \"end\")"),
                        );
                    }
                }
            }
        }
        diags.append(&mut r.diags);
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(Plan {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            vars,
            steps,
        })
    }
}

struct Resolver<'a> {
    rb: &'a Runbook,
    vars: &'a BTreeMap<String, String>,
    diags: Vec<Diagnostic>,
    span: Span,
}

impl Resolver<'_> {
    fn line_of(&self, key: &str) -> usize {
        key_line(&self.rb.lines, self.span, key).unwrap_or(self.span.start)
    }

    fn err(&mut self, key: &str, message: String) {
        let line = self.line_of(key);
        self.push(line, message);
    }

    fn push(&mut self, line: usize, message: String) {
        self.diags.push(Diagnostic {
            file: self.rb.file.clone(),
            line,
            message,
        });
    }

    /// The text with its variables substituted; None (with an error) when
    /// one is undefined or a `${` is not closed.
    fn text(&mut self, t: &Text, key: &str) -> Option<String> {
        match substitute(&t.0, self.vars) {
            Ok(s) => Some(s),
            Err(SubstError::Undefined(name)) => {
                let needle = format!("${{{name}}}");
                let line = (self.span.start..self.span.end)
                    .find(|l| {
                        self.rb
                            .lines
                            .get(l - 1)
                            .is_some_and(|text| text.contains(&needle))
                    })
                    .unwrap_or_else(|| self.line_of(key));
                self.push(
                    line,
                    format!("undefined variable ${{{name}}}: declare it under `variables`"),
                );
                None
            }
            Err(SubstError::Unclosed) => {
                self.err(key, format!("{key}: unclosed ${{ in {:?}", t.0));
                None
            }
        }
    }

    fn subst_or_raw(&mut self, s: &str, key: &str) -> String {
        self.text(&Text(s.to_string()), key)
            .unwrap_or_else(|| s.to_string())
    }

    fn opt(&mut self, t: Option<&Text>, key: &str) -> Option<Option<String>> {
        match t {
            None => Some(None),
            Some(t) => self.text(t, key).map(Some),
        }
    }

    fn duration(&mut self, t: &Text, key: &str) -> Option<Duration> {
        let s = self.text(t, key)?;
        match duration::parse(&s) {
            Ok(d) if d.is_zero() => {
                self.err(key, format!("{key}: the duration must be more than 0"));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.err(key, format!("{key}: bad duration: {e}"));
                None
            }
        }
    }

    fn int<T: std::str::FromStr>(&mut self, t: &Text, key: &str, what: &str) -> Option<T> {
        let s = self.text(t, key)?;
        match s.trim().parse::<T>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.err(key, format!("{key}: {s:?} is not {what}"));
                None
            }
        }
    }

    fn boolean(&mut self, t: Option<&Text>, key: &str) -> Option<bool> {
        let Some(t) = t else { return Some(false) };
        let s = self.text(t, key)?;
        match s.trim() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            other => {
                self.err(key, format!("{key}: {other:?} is not true or false"));
                None
            }
        }
    }

    fn namespace(&mut self, t: Option<&Text>, default: Option<&str>) -> Option<String> {
        match t {
            Some(t) => self.text(t, "namespace"),
            None => match default {
                Some(ns) => Some(ns.to_string()),
                None => {
                    let line = self.span.start;
                    self.push(
                        line,
                        "no namespace: set `namespace` on the step or at the top of the runbook"
                            .into(),
                    );
                    None
                }
            },
        }
    }

    fn object(
        &mut self,
        name: &Text,
        key: &str,
        ns: Option<&Text>,
        d: Option<&str>,
    ) -> Option<ObjectRef> {
        let name = self.text(name, key);
        let ns = self.namespace(ns, d);
        Some(ObjectRef::new(&ns?, &name?))
    }

    fn workload(&mut self, t: &Text, ns: Option<&Text>, d: Option<&str>) -> Option<WorkloadRef> {
        let target = self.text(t, "target");
        let ns = self.namespace(ns, d);
        let target = target?;
        let (kind, name) = match target.split_once('/') {
            Some(("deployment" | "deployments" | "deploy", n)) => (WorkloadKind::Deployment, n),
            Some(("statefulset" | "statefulsets" | "sts", n)) => (WorkloadKind::StatefulSet, n),
            _ => {
                self.err(
                    "target",
                    format!("target {target:?} is not deployment/NAME or statefulset/NAME"),
                );
                return None;
            }
        };
        Some(WorkloadRef {
            kind,
            namespace: ns?,
            name: name.to_string(),
        })
    }

    fn kind(
        &mut self,
        raw: &RawStep,
        ns: Option<&str>,
        earlier: &BTreeMap<String, &'static str>,
    ) -> Option<StepKind> {
        if let Some(note) = &raw.note {
            return Some(StepKind::Note(self.subst_or_raw(note, "note")));
        }
        if let Some(c) = &raw.check {
            let cond = self.condition(c, ns)?;
            if cond.is_change() {
                // One evaluation cannot see a change.
                self.err(
                    "check",
                    "check: a condition that claims a change (hpa-scaled-up) is seen over time: use it in a wait".into(),
                );
                return None;
            }
            return Some(StepKind::Check(cond));
        }
        if let Some(s) = &raw.show {
            return self.show(s, ns).map(StepKind::Show);
        }
        if let Some(a) = &raw.action {
            return self.action(a, ns).map(StepKind::Action);
        }
        if let Some(w) = &raw.wait {
            return self.wait(w, ns);
        }
        if let Some(c) = &raw.confirm {
            return self.text(c, "confirm").map(StepKind::Confirm);
        }
        if let Some(b) = &raw.branch {
            return self.branch(b, earlier);
        }
        None
    }

    fn condition(&mut self, c: &RawCondition, d: Option<&str>) -> Option<Condition> {
        match c {
            RawCondition::Promql {
                query,
                op,
                threshold,
            } => {
                let query = self.text(query, "query");
                let op = self.text(op, "op").and_then(|s| match Op::parse(&s) {
                    Some(op) => Some(op),
                    None => {
                        let ops: Vec<&str> = Op::ALL.iter().map(|(t, _)| *t).collect();
                        self.err(
                            "op",
                            format!("op: {s:?} is not a comparison (one of {})", ops.join(" ")),
                        );
                        None
                    }
                });
                let threshold =
                    self.text(threshold, "threshold")
                        .and_then(|s| match s.trim().parse::<f64>() {
                            Ok(v) if v.is_finite() => Some(v),
                            _ => {
                                self.err("threshold", format!("threshold: {s:?} is not a number"));
                                None
                            }
                        });
                let query = query?;
                if query.trim().is_empty() {
                    self.err("query", "query: the PromQL expression is empty".into());
                    return None;
                }
                Some(Condition::Promql {
                    query,
                    op: op?,
                    threshold: threshold?,
                })
            }
            RawCondition::DeploymentReady {
                deployment,
                namespace,
                ready,
            } => {
                let target = self.object(deployment, "deployment", namespace.as_ref(), d);
                let ready = match ready {
                    None => Some(None),
                    Some(t) => self
                        .int::<i32>(t, "ready", "a replica count")
                        .and_then(|n| {
                            if n < 0 {
                                self.err("ready", format!("ready: {n} is below 0"));
                                None
                            } else {
                                Some(Some(n))
                            }
                        }),
                };
                Some(Condition::DeploymentReady {
                    target: target?,
                    ready: ready?,
                })
            }
            RawCondition::NoCrashLoop {
                namespace,
                selector,
            } => {
                let namespace = self.namespace(namespace.as_ref(), d);
                let selector = self.opt(selector.as_ref(), "selector")?;
                if let Some(s) = &selector
                    && let Err(e) = kubedeck_kube::selector::LabelSelector::parse(s)
                {
                    self.err("selector", format!("selector: {e}"));
                    return None;
                }
                Some(Condition::NoCrashLoop {
                    namespace: namespace?,
                    selector,
                })
            }
            RawCondition::HpaAtMax { hpa, namespace } => self
                .object(hpa, "hpa", namespace.as_ref(), d)
                .map(Condition::HpaAtMax),
            RawCondition::HpaAboveMin { hpa, namespace } => self
                .object(hpa, "hpa", namespace.as_ref(), d)
                .map(Condition::HpaAboveMin),
            RawCondition::HpaScaledUp { hpa, namespace } => self
                .object(hpa, "hpa", namespace.as_ref(), d)
                .map(Condition::HpaScaledUp),
            RawCondition::RolloutStalled {
                deployment,
                namespace,
            } => self
                .object(deployment, "deployment", namespace.as_ref(), d)
                .map(Condition::RolloutStalled),
            RawCondition::LastJobSucceeded { cronjob, namespace } => self
                .object(cronjob, "cronjob", namespace.as_ref(), d)
                .map(Condition::LastJobSucceeded),
        }
    }

    fn show(&mut self, s: &RawShow, d: Option<&str>) -> Option<Show> {
        let view = self.text(&s.view, "view")?;
        if !VIEWS.contains(&view.as_str()) {
            self.err(
                "view",
                format!("view: unknown view {view:?} (one of {})", VIEWS.join(", ")),
            );
            return None;
        }
        let namespace = match &s.namespace {
            Some(t) => Some(self.text(t, "namespace")?),
            None => d.map(str::to_string),
        };
        let filter = self.opt(s.filter.as_ref(), "filter")?;
        // A `-l` filter is a label selector: one the console could not
        // parse would show nothing, or everything.
        if let Some(sel) = filter.as_deref().and_then(|f| f.strip_prefix("-l")) {
            let sel = sel.trim();
            let problem = if sel.is_empty() {
                Some("-l needs a label selector, e.g. -l app=web".to_string())
            } else {
                kubedeck_kube::selector::LabelSelector::parse(sel).err()
            };
            if let Some(e) = problem {
                self.err("filter", format!("filter: label selector {sel:?}: {e}"));
                return None;
            }
        }
        Some(Show {
            view,
            namespace,
            filter,
        })
    }

    fn wait(&mut self, w: &RawWait, d: Option<&str>) -> Option<StepKind> {
        let until = self.condition(&w.until, d);
        let timeout = self.duration(&w.timeout, "timeout");
        let interval = match &w.interval {
            Some(t) => self.duration(t, "interval"),
            None => Some(Duration::from_secs(1)),
        };
        Some(StepKind::Wait {
            until: until?,
            timeout: timeout?,
            interval: interval?,
        })
    }

    fn branch(
        &mut self,
        b: &RawBranch,
        earlier: &BTreeMap<String, &'static str>,
    ) -> Option<StepKind> {
        let on = self.text(&b.on, "on")?;
        match earlier.get(&on) {
            Some(&("check" | "wait")) => {}
            Some(kind) => {
                self.err(
                    "on",
                    format!("on: step {on:?} is a {kind} step; a branch follows a check or a wait"),
                );
                return None;
            }
            None => {
                self.err(
                    "on",
                    format!("on: {on:?} is not the id of an earlier check or wait step"),
                );
                return None;
            }
        }
        let target = |r: &mut Self, t: Option<&Text>, key: &str| -> Option<Option<BranchTarget>> {
            Some(r.opt(t, key)?.map(|s| {
                if s == "end" {
                    BranchTarget::End
                } else {
                    BranchTarget::Step(s)
                }
            }))
        };
        let if_passed = target(self, b.if_passed.as_ref(), "if-passed")?;
        let if_failed = target(self, b.if_failed.as_ref(), "if-failed")?;
        let if_skipped = target(self, b.if_skipped.as_ref(), "if-skipped")?;
        if if_passed.is_none() && if_failed.is_none() && if_skipped.is_none() {
            self.err(
                "branch",
                "branch: give if-passed, if-failed or if-skipped (a step id or end)".into(),
            );
            return None;
        }
        Some(StepKind::Branch {
            on,
            if_passed,
            if_failed,
            if_skipped,
        })
    }

    fn action(&mut self, a: &RawAction, d: Option<&str>) -> Option<Action> {
        match a {
            RawAction::Scale {
                target,
                namespace,
                replicas,
            } => {
                let target = self.workload(target, namespace.as_ref(), d);
                let replicas = self.int::<i32>(replicas, "replicas", "a replica count");
                if let Some(n) = replicas
                    && n < 0
                {
                    self.err("replicas", format!("replicas: {n} is below 0"));
                    return None;
                }
                Some(Action::Scale {
                    target: target?,
                    replicas: replicas?,
                })
            }
            RawAction::Restart { target, namespace } => self
                .workload(target, namespace.as_ref(), d)
                .map(Action::Restart),
            RawAction::SetImage {
                target,
                namespace,
                container,
                image,
            } => {
                let target = self.workload(target, namespace.as_ref(), d);
                let container = self.opt(container.as_ref(), "container");
                let image = self.text(image, "image");
                if let Some(i) = &image
                    && (i.trim().is_empty() || i.contains(char::is_whitespace))
                {
                    self.err("image", format!("image: {i:?} is not an image reference"));
                    return None;
                }
                Some(Action::SetImage {
                    target: target?,
                    container: container?,
                    image: image?,
                })
            }
            RawAction::Rollback {
                target,
                namespace,
                to_revision,
            } => {
                let target = self.workload(target, namespace.as_ref(), d);
                let to_revision = match to_revision {
                    Some(t) => self.int::<i64>(t, "to-revision", "a revision number"),
                    None => Some(0),
                };
                Some(Action::Rollback {
                    target: target?,
                    to_revision: to_revision?,
                })
            }
            RawAction::KillPod {
                target,
                pod,
                namespace,
                force,
            } => {
                let force = self.boolean(force.as_ref(), "force");
                let pod = match (target, pod) {
                    (Some(t), None) => self
                        .workload(t, namespace.as_ref(), d)
                        .map(PodChoice::OneOf),
                    (None, Some(p)) => self
                        .object(p, "pod", namespace.as_ref(), d)
                        .map(PodChoice::Named),
                    _ => {
                        self.err(
                            "kill-pod",
                            "kill-pod: give either `target` (a workload) or `pod` (a name)".into(),
                        );
                        None
                    }
                };
                Some(Action::KillPod {
                    pod: pod?,
                    force: force?,
                })
            }
            RawAction::Cordon { node } => self.text(node, "node").map(Action::Cordon),
            RawAction::Uncordon { node } => self.text(node, "node").map(Action::Uncordon),
            RawAction::Backup {
                cronjob,
                namespace,
                timeout,
            } => {
                let cronjob = self.object(cronjob, "cronjob", namespace.as_ref(), d);
                let timeout = match timeout {
                    Some(t) => self.duration(t, "timeout"),
                    None => Some(Duration::from_secs(600)),
                };
                Some(Action::Backup {
                    cronjob: cronjob?,
                    timeout: timeout?,
                })
            }
            RawAction::RecoveryTest {
                target,
                namespace,
                slo,
                min_ready,
                force,
            } => {
                let target = self.workload(target, namespace.as_ref(), d);
                let slo = match slo {
                    Some(t) => self.duration(t, "slo"),
                    None => Some(Duration::from_secs(30)),
                };
                let min_ready = match min_ready {
                    Some(t) => self.int::<u32>(t, "min-ready", "a count of 0 or more"),
                    None => Some(1),
                };
                let force = self.boolean(force.as_ref(), "force");
                Some(Action::RecoveryTest {
                    target: target?,
                    slo: slo?,
                    min_ready: min_ready?,
                    force: force?,
                })
            }
            RawAction::Annotate {
                target,
                namespace,
                key,
                value,
            } => {
                let ns = self.namespace(namespace.as_ref(), d);
                let t = self.text(target, "target");
                let key = self.text(key, "key");
                let value = self.opt(value.as_ref(), "value");
                let t = t?;
                let (kind, name) = match t.split_once('/') {
                    Some(("deployment" | "deploy", n)) => (AnnotatableKind::Deployment, n),
                    Some(("statefulset" | "sts", n)) => (AnnotatableKind::StatefulSet, n),
                    Some(("hpa" | "horizontalpodautoscaler", n)) => {
                        (AnnotatableKind::HorizontalPodAutoscaler, n)
                    }
                    _ => {
                        self.err(
                            "target",
                            format!(
                                "target {t:?} is not deployment/NAME, statefulset/NAME or hpa/NAME"
                            ),
                        );
                        return None;
                    }
                };
                let key = key?;
                if key.is_empty() || key.contains(char::is_whitespace) {
                    self.err("key", format!("key: {key:?} is not an annotation key"));
                    return None;
                }
                Some(Action::Annotate {
                    target: AnnotateTarget {
                        kind,
                        namespace: ns?,
                        name: name.to_string(),
                    },
                    key,
                    value: value?,
                })
            }
        }
    }
}

enum SubstError {
    Undefined(String),
    Unclosed,
}

/// `${name}` → its value; `$${` stays a literal `${`.
fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<String, SubstError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix("${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail.find('}').ok_or(SubstError::Unclosed)?;
            let name = &tail[..end];
            let value = vars
                .get(name)
                .ok_or_else(|| SubstError::Undefined(name.to_string()))?;
            out.push_str(value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn valid_var_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn valid_id(s: &str) -> bool {
    valid_var_name(s)
}

/// serde_norway's message without the position it appends (the line is
/// reported separately) and without the `[0]` path of a step typed alone.
fn serde_message(e: &serde_norway::Error) -> String {
    let mut text = e.to_string();
    while let Some(i) = text.find(" at line ") {
        let rest = &text[i + " at line ".len()..];
        let end = rest
            .find(" column ")
            .map(|c| c + " column ".len())
            .map_or(0, |c| {
                c + rest[c..]
                    .find(|ch: char| !ch.is_ascii_digit())
                    .unwrap_or(rest.len() - c)
            });
        text = format!("{}{}", &text[..i], &rest[end..]);
    }
    if text.contains("flow mapping") {
        text.push_str(" (inside { }, quote a value that holds a ${variable})");
    }
    let text = text
        .strip_prefix(".[0].")
        .or_else(|| text.strip_prefix(".[0]: "))
        .map_or(text.clone(), str::to_string);
    text.replace("steps[", "step [")
}

fn parse_step_lines(lines: &[String], span: Span) -> Result<RawStep, (usize, serde_norway::Error)> {
    // Only the step's own lines, so that checking stays linear in the
    // file's size; serde's positions are shifted back to the file's.
    let mut text = String::new();
    for l in &lines[span.start - 1..span.end - 1] {
        text.push_str(l);
        text.push('\n');
    }
    let mut steps: Vec<RawStep> = serde_norway::from_str(&text).map_err(|e| {
        let line = e
            .location()
            .map_or(span.start, |l| l.line() + span.start - 1);
        (line, e)
    })?;
    match steps.len() {
        1 => Ok(steps.remove(0)),
        _ => {
            let e = <serde_norway::Error as serde::de::Error>::custom("expected one step here");
            Err((span.start, e))
        }
    }
}

/// Strips indentation and a sequence item's `- `.
fn content(line: &str) -> &str {
    let t = line.trim_start();
    t.strip_prefix("- ").map_or(t, str::trim_start)
}

/// The line holds `key:` as a block key or inside a flow mapping.
fn is_key(line: &str, key: &str) -> bool {
    let block = content(line)
        .strip_prefix(key)
        .is_some_and(|rest| rest.starts_with(':'));
    block
        || ["{", ",", "{ ", ", "]
            .iter()
            .any(|before| line.contains(&format!("{before}{key}:")))
}

fn top_key_line(lines: &[String], key: &str) -> Option<usize> {
    lines
        .iter()
        .position(|l| !l.starts_with(char::is_whitespace) && is_key(l, key))
        .map(|i| i + 1)
}

/// The line of `key` inside the top-level block `block`.
fn block_key_line(lines: &[String], block: &str, key: &str) -> Option<usize> {
    let start = top_key_line(lines, block)?;
    lines[start..]
        .iter()
        .take_while(|l| !is_top_level(l))
        .position(|l| is_key(l, key))
        .map(|i| start + i + 1)
}

fn is_top_level(line: &str) -> bool {
    !line.is_empty()
        && !line.starts_with(char::is_whitespace)
        && !line.starts_with('#')
        && !line.starts_with('-')
}

/// The first line in the span that holds `key:`.
fn key_line(lines: &[String], span: Span, key: &str) -> Option<usize> {
    (span.start..span.end).find(|l| lines.get(l - 1).is_some_and(|t| is_key(t, key)))
}

/// The spans of the block sequence under `steps:` (empty for flow style).
fn step_spans(lines: &[String], steps_line: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut indent: Option<usize> = None;
    let mut end = lines.len() + 1;
    for (i, line) in lines.iter().enumerate().skip(steps_line) {
        let n = i + 1;
        if is_top_level(line) {
            end = n;
            break;
        }
        let trimmed = line.trim_start();
        let at = line.len() - trimmed.len();
        let item = trimmed == "-" || trimmed.starts_with("- ");
        if item && indent.is_none_or(|d| d == at) {
            indent = Some(at);
            if let Some(last) = spans.last_mut() {
                let last: &mut Span = last;
                last.end = n;
            }
            spans.push(Span { start: n, end: n });
        }
    }
    if let Some(last) = spans.last_mut() {
        last.end = end;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(usize, String)> {
        check("t", "t.yaml", text)
            .into_iter()
            .map(|d| (d.line, d.message))
            .collect()
    }

    const GOOD: &str = "\
title: T
namespace: demo
variables:
  replicas: 3
  app: web
steps:
  - id: scale
    name: Scale ${app}
    action:
      scale: {target: \"deployment/${app}\", replicas: \"${replicas}\"}
  - id: ready
    name: Ready
    check:
      deployment-ready: {deployment: \"${app}\"}
  - id: fork
    name: Fork
    branch: {on: ready, if-failed: end}
";

    #[test]
    fn resolves_variables_and_overrides() {
        let rb = parse("t", "t.yaml", GOOD).unwrap();
        let plan = rb.resolve(&BTreeMap::new()).unwrap();
        assert_eq!(plan.steps[0].name, "Scale web");
        assert_eq!(
            plan.steps[0].kind,
            StepKind::Action(Action::Scale {
                target: WorkloadRef::deployment("demo", "web"),
                replicas: 3
            })
        );
        let over = BTreeMap::from([("replicas".to_string(), "5".to_string())]);
        let plan = rb.resolve(&over).unwrap();
        assert!(matches!(
            plan.steps[0].kind,
            StepKind::Action(Action::Scale { replicas: 5, .. })
        ));
        let bad = BTreeMap::from([("nope".to_string(), "1".to_string())]);
        let e = rb.resolve(&bad).unwrap_err();
        assert!(e[0].message.contains("no such variable"), "{e:?}");
        let typo = BTreeMap::from([("replicas".to_string(), "many".to_string())]);
        let e = rb.resolve(&typo).unwrap_err();
        assert_eq!(e[0].line, 10, "{e:?}");
    }

    #[test]
    fn every_step_error_is_reported_on_its_line() {
        let text = "\
title: T
namespace: demo
steps:
  - id: a
    name: A
    chek: {}
  - id: b
    name: B
    wait:
      until: {hpa-at-max: {hpa: web}}
      timeout: 10 parsecs
  - id: a
    name: C
    check:
      promql: {query: up, op: '=>', threshold: 1}
  - id: d
    name: D
    branch: {on: b, if-passed: nowhere}
";
        let e = errors(text);
        assert_eq!(e.len(), 1, "shape errors stop before semantics: {e:?}");
        assert_eq!(e[0].0, 6);
        assert!(e[0].1.contains("unknown field `chek`"), "{e:?}");
        let fixed = text.replace("chek: {}", "note: hi");
        let e = errors(&fixed);
        let lines: Vec<usize> = e.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![12], "{e:?}");
        let fixed = fixed.replace("  - id: a\n    name: C", "  - id: c\n    name: C");
        let e = errors(&fixed);
        let lines: Vec<usize> = e.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![11, 15, 18], "{e:?}");
        assert!(e[0].1.contains("bad duration"));
        assert!(e[1].1.contains("not a comparison"));
        assert!(e[2].1.contains("\"nowhere\""));
    }

    /// Issue #19: an 80 KB runbook took 13 s to check, each step being
    /// parsed behind as many blank lines as came before it.
    #[test]
    fn a_large_runbook_is_checked_with_its_errors_on_their_lines() {
        let mut text = "title: Big\nnamespace: demo\nsteps:\n".to_string();
        let n = 20_000;
        for i in 0..n {
            text.push_str(&format!("  - id: s{i}\n    name: N{i}\n    note: x\n"));
        }
        assert!(text.len() > 500_000);
        assert_eq!(errors(&text), vec![]);
        let plan = parse("big", "big.yaml", &text)
            .expect("parses")
            .resolve(&BTreeMap::new())
            .expect("resolves");
        assert_eq!(plan.steps.len(), n);
        assert_eq!(plan.steps[n - 1].line, 4 + 3 * (n - 1));
        // A shape error in the last step, and a semantic one, on their lines.
        let last = 4 + 3 * (n - 1);
        let shape = format!("{text}  - id: late\n    name: L\n    chek: {{}}\n");
        assert_eq!(errors(&shape)[0].0, last + 5);
        let semantic = format!(
            "{text}  - id: late\n    name: L\n    wait:\n      until: {{hpa-at-max: {{hpa: web}}}}\n      timeout: 10 parsecs\n"
        );
        let e = errors(&semantic);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, last + 7, "{e:?}");
    }

    /// Found by the `runbook` fuzz target: YAML counted a lone `\r` as a
    /// line break, so errors named lines past the end of the file.
    #[test]
    fn a_lone_carriage_return_is_reported_on_the_line_the_user_sees() {
        let text = "title: t\nsteps:\n  - id: a\r    note: x\n  - {id: b, nope: 1}\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, 3, "{errs:?}");
        assert!(errs[0].1.contains("carriage return"), "{errs:?}");
        let crlf = errors("title: t\r\nsteps:\r\n  - id: a\r\n    name: A\r\n    note: x\r\n");
        assert!(crlf.is_empty(), "{crlf:?}");
    }

    #[test]
    fn substitution_escapes_and_reports_undefined() {
        let vars = BTreeMap::from([("a".to_string(), "1".to_string())]);
        assert_eq!(
            substitute("x${a}y$${a}$z", &vars).ok(),
            Some("x1y${a}$z".into())
        );
        assert!(matches!(
            substitute("${b}", &vars),
            Err(SubstError::Undefined(n)) if n == "b"
        ));
        assert!(matches!(
            substitute("${a", &vars),
            Err(SubstError::Unclosed)
        ));
        let e = errors(
            "title: T\nnamespace: n\nsteps:\n- id: a\n  name: A\n  note: hi\n- id: b\n  name: B\n  confirm: go to ${there}\n",
        );
        assert_eq!(
            e,
            vec![(
                9,
                "undefined variable ${there}: declare it under `variables`".into()
            )]
        );
    }

    #[test]
    fn a_step_needs_exactly_one_kind_and_a_unique_id() {
        let e = errors(
            "title: T\nsteps:\n  - id: a\n    name: A\n  - id: a\n    name: B\n    note: x\n    confirm: y\n",
        );
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0].0, 3);
        assert!(e[0].1.contains("has no kind"));
        assert_eq!(e[1].0, 5);
        assert!(e[1].1.contains("duplicate step id"));
        assert_eq!(e[2].0, 8);
        assert!(e[2].1.contains("two kinds"));
    }
}
