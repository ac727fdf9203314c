//! The live timeline of a recovery test: each kill's milestones as offsets
//! from its delete, the Ready endpoint count with its minimum and time at
//! zero, and at the end the verdict and where the report was saved. Fed
//! `RecoveryMsg`s by `update`; drawn as a pane of styled lines.

use std::time::Duration;

use crate::theme::Role;
use crate::views::{Cell, truncate};
use kubedeck_core::actions::WorkloadRef;
use kubedeck_core::ops::recovery::KillMode;
use kubedeck_core::ops::timeline::{Kill, Milestone, Report, TimelineEvent, Verdict, What};
use kubedeck_kube::duration::human;

/// What the operator chose in the form.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoverySpec {
    pub(crate) target: WorkloadRef,
    pub(crate) mode: KillMode,
    pub(crate) force: bool,
    pub(crate) iterations: u32,
    pub(crate) interval: Duration,
    pub(crate) slo: Duration,
    pub(crate) min_endpoints: u32,
}

/// A finished test, as the pane shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub(crate) verdict: Verdict,
    pub(crate) reasons: Vec<String>,
    pub(crate) kills: Vec<Kill>,
    pub(crate) with_endpoints: bool,
    pub(crate) minimum: u32,
    pub(crate) time_at_zero_ms: u64,
    pub(crate) worst: Option<Duration>,
    /// The Markdown report's path, or why it was not saved.
    pub(crate) saved: Result<String, String>,
    /// The service's peak 5xx ratio and p95 latency, from Prometheus.
    pub(crate) service: Option<String>,
}

impl Summary {
    pub(crate) fn of(report: &Report, saved: Result<String, String>) -> Summary {
        Summary {
            verdict: report.verdict,
            reasons: report.reasons.clone(),
            kills: report.kills.clone(),
            with_endpoints: report.with_endpoints(),
            minimum: report.endpoints.minimum,
            time_at_zero_ms: report.endpoints.time_at_zero_ms,
            worst: report.worst_recovery(),
            saved,
            service: report.service.as_ref().map(|m| m.summary()),
        }
    }
}

/// News from a running test.
#[derive(Debug, Clone, PartialEq)]
pub enum RecoveryMsg {
    Started {
        target: WorkloadRef,
        plan: Vec<String>,
        slo: Duration,
        min_endpoints: u32,
    },
    Event(TimelineEvent),
    Finished(Box<Summary>),
    /// The test could not run at all (refused, no pods, no watch).
    Failed(String),
}

/// One test, from its confirmation to its verdict.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RecoveryLive {
    /// `deployment/web in shop`.
    pub title: String,
    pub plan: Vec<String>,
    pub slo: Duration,
    pub min_endpoints: u32,
    pub events: Vec<TimelineEvent>,
    /// Built from the events as they come; the report's at the end.
    pub kills: Vec<Kill>,
    pub ready: Option<u32>,
    pub minimum: Option<u32>,
    /// Time at zero up to the latest endpoint event.
    pub zero_ms: u64,
    zero_since_ms: Option<u64>,
    pub outcome: Option<Result<Summary, String>>,
}

impl RecoveryLive {
    pub(crate) fn new(target: &WorkloadRef) -> RecoveryLive {
        RecoveryLive {
            title: format!(
                "{}/{} in {}",
                target.kind.singular(),
                target.name,
                target.namespace
            ),
            ..RecoveryLive::default()
        }
    }

    pub(crate) fn running(&self) -> bool {
        self.outcome.is_none()
    }

    pub(crate) fn apply(&mut self, msg: RecoveryMsg) {
        match msg {
            RecoveryMsg::Started {
                target,
                plan,
                slo,
                min_endpoints,
            } => {
                self.title = RecoveryLive::new(&target).title;
                self.plan = plan;
                self.slo = slo;
                self.min_endpoints = min_endpoints;
            }
            RecoveryMsg::Event(e) => self.event(e),
            RecoveryMsg::Finished(summary) => {
                self.kills = summary.kills.clone();
                self.minimum = Some(summary.minimum);
                self.zero_ms = summary.time_at_zero_ms;
                self.zero_since_ms = None;
                self.outcome = Some(Ok(*summary));
            }
            RecoveryMsg::Failed(e) => self.outcome = Some(Err(e)),
        }
    }

    fn event(&mut self, e: TimelineEvent) {
        match &e.what {
            What::Milestone {
                iteration,
                pod,
                milestone,
                subject,
            } => {
                let at = self
                    .kills
                    .iter()
                    .position(|k| k.iteration == *iteration && k.pod == *pod);
                let i = at.unwrap_or_else(|| {
                    self.kills.push(Kill::new(*iteration, pod, None));
                    self.kills.len() - 1
                });
                let kill = &mut self.kills[i];
                kill.times.insert(*milestone, e.at);
                if subject != pod {
                    kill.replacement = Some(subject.clone());
                }
            }
            What::Endpoints { ready } => {
                if let Some(since) = self.zero_since_ms.take() {
                    self.zero_ms += e.offset_ms.saturating_sub(since);
                }
                if *ready == 0 {
                    self.zero_since_ms = Some(e.offset_ms);
                }
                self.ready = Some(*ready);
                self.minimum = Some(self.minimum.map_or(*ready, |m| m.min(*ready)));
            }
            What::Note { .. } => {}
        }
        self.events.push(e);
    }

    /// The pane's lines; `events` is how many of the latest timeline lines
    /// to show under the milestones.
    /// `plan`: whether to repeat the plan the operator confirmed.
    pub(crate) fn lines(&self, events: usize, plan: bool) -> Vec<Vec<Cell>> {
        let label = |s: &str| Cell::new(format!("{s:<22}"), Role::Muted);
        let mut lines = vec![vec![label("target"), Cell::text(self.title.clone())]];
        for (i, p) in self.plan.iter().enumerate().filter(|_| plan) {
            lines.push(vec![label(if i == 0 { "test" } else { "" }), Cell::text(p)]);
        }
        let state = match &self.outcome {
            None => Cell::new("running…", Role::Info),
            Some(Ok(s)) if s.verdict == Verdict::Pass => Cell::new("finished", Role::Ok),
            Some(Ok(_)) => Cell::new("finished", Role::Danger),
            Some(Err(_)) => Cell::new("did not run", Role::Danger),
        };
        lines.push(vec![label("status"), state]);
        let min_role = match self.minimum {
            Some(m) if m < self.min_endpoints => Role::Danger,
            Some(_) => Role::Ok,
            None => Role::Muted,
        };
        let at_zero = if self.zero_since_ms.is_some() {
            format!("{} at zero, and at zero now", human(ms(self.zero_ms)))
        } else {
            format!("{} at zero", human(ms(self.zero_ms)))
        };
        lines.push(vec![
            label("ready endpoints"),
            Cell::text(self.ready.map_or("-".into(), |r| r.to_string())),
            Cell::new("   minimum ", Role::Muted),
            Cell::new(self.minimum.map_or("-".into(), |m| m.to_string()), min_role),
            Cell::new(
                format!(" (≥ {} wanted)   ", self.min_endpoints),
                Role::Muted,
            ),
            Cell::new(
                at_zero,
                if self.zero_ms > 0 || self.zero_since_ms.is_some() {
                    Role::Warning
                } else {
                    Role::Text
                },
            ),
        ]);
        lines.push(Vec::new());
        lines.extend(self.grid());
        match &self.outcome {
            Some(Ok(s)) => {
                lines.push(Vec::new());
                let worst = s.worst.map_or(String::new(), |w| {
                    format!(", slowest recovery {}", human(w))
                });
                match s.verdict {
                    Verdict::Pass => lines.push(vec![
                        Cell::new("PASS", Role::Ok),
                        Cell::text(format!(
                            "  every pod serving again within the SLO of {}{worst}; minimum {} Ready endpoints",
                            human(self.slo),
                            s.minimum
                        )),
                    ]),
                    Verdict::Fail => {
                        lines.push(vec![
                            Cell::new("FAIL", Role::Danger),
                            Cell::text(format!("  against the SLO of {}{worst}", human(self.slo))),
                        ]);
                        for r in &s.reasons {
                            lines.push(vec![Cell::new(format!("  • {r}"), Role::Danger)]);
                        }
                    }
                }
                if let Some(service) = &s.service {
                    lines.push(vec![label("service"), Cell::text(service.clone())]);
                }
                lines.push(match &s.saved {
                    Ok(path) => vec![label("report"), Cell::text(path.clone())],
                    Err(e) => vec![Cell::new(
                        format!("the report was not saved: {e}"),
                        Role::Warning,
                    )],
                });
            }
            Some(Err(e)) => {
                lines.push(Vec::new());
                lines.push(vec![Cell::new(e.clone(), Role::Danger)]);
            }
            None => {}
        }
        if events > 0 && !self.events.is_empty() {
            lines.push(Vec::new());
            lines.push(vec![Cell::new("latest events", Role::Header)]);
            let skip = self.events.len().saturating_sub(events);
            for e in &self.events[skip..] {
                lines.push(vec![Cell::new(e.line(), Role::Muted)]);
            }
        }
        lines
    }

    /// One row per milestone, one column per kill: offsets from its delete.
    fn grid(&self) -> Vec<Vec<Cell>> {
        const COL: usize = 30;
        const MAX_KILLS: usize = 3;
        let mut lines = Vec::new();
        if self.kills.is_empty() {
            lines.push(vec![Cell::new(
                if self.running() {
                    "waiting for the first kill…"
                } else {
                    "no pod was killed"
                },
                Role::Muted,
            )]);
            return lines;
        }
        let shown = &self.kills[..self.kills.len().min(MAX_KILLS)];
        let mut header = vec![Cell::new(format!("{:<22}", "MILESTONE"), Role::Header)];
        for k in shown {
            header.push(Cell::new(
                format!(
                    "{:<COL$}",
                    truncate(&format!("#{} {}", k.iteration, k.pod), COL - 2)
                ),
                Role::Header,
            ));
        }
        lines.push(header);
        for m in Milestone::ALL {
            let mut row = vec![Cell::new(format!("{:<22}", m.label()), Role::Muted)];
            for k in shown {
                let (text, role) = match (k.since_delete(m), k.at(m)) {
                    (Some(d), _) => (format!("+{}", human(d)), Role::Text),
                    (None, Some(_)) => ("seen".to_string(), Role::Text),
                    (None, None) if k.error.is_some() => ("-".to_string(), Role::Muted),
                    (None, None) => ("…".to_string(), Role::Muted),
                };
                row.push(Cell::new(format!("{text:<COL$}"), role));
            }
            lines.push(row);
        }
        let with_ep = self.with_endpoints();
        let mut replacement = vec![Cell::new(format!("{:<22}", "replacement"), Role::Muted)];
        let mut recovery = vec![Cell::new(format!("{:<22}", "recovery"), Role::Muted)];
        for k in shown {
            let name = k.error.clone().map_or_else(
                || k.replacement.clone().unwrap_or_else(|| "…".into()),
                |e| format!("delete failed: {e}"),
            );
            replacement.push(Cell::text(format!("{:<COL$}", truncate(&name, COL - 2))));
            let (text, role) = match k.recovery(with_ep) {
                Some(d) if d > self.slo && !self.slo.is_zero() => (human(d), Role::Danger),
                Some(d) => (human(d), Role::Ok),
                None => ("…".into(), Role::Muted),
            };
            recovery.push(Cell::new(format!("{text:<COL$}"), role));
        }
        lines.push(replacement);
        lines.push(recovery);
        if self.kills.len() > MAX_KILLS {
            lines.push(vec![Cell::new(
                format!(
                    "… and {} more kills in the report",
                    self.kills.len() - MAX_KILLS
                ),
                Role::Muted,
            )]);
        }
        lines
    }

    /// Whether recovery ends at the endpoints: once endpoints were counted.
    fn with_endpoints(&self) -> bool {
        match &self.outcome {
            Some(Ok(s)) => s.with_endpoints,
            _ => {
                self.kills
                    .iter()
                    .any(|k| k.at(Milestone::InEndpoints).is_some())
                    || self.plan.iter().any(|l| l.starts_with("service "))
            }
        }
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
