//! What a recovery test records: the milestones of each kill, the Ready
//! endpoint count over time, the events as they were seen, and the verdict.
//! Times are when kubedeck saw each change on a watch stream, so they
//! measure recovery from the outside, as a client of the service would.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use kubedeck_kube::duration::{human, human_chrono};

/// The steps of one kill, in causal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Milestone {
    DeleteSent,
    Terminating,
    ReplacementCreated,
    Scheduled,
    ContainersStarted,
    Ready,
    InEndpoints,
    OldPodGone,
}

impl Milestone {
    pub const ALL: [Milestone; 8] = [
        Milestone::DeleteSent,
        Milestone::Terminating,
        Milestone::ReplacementCreated,
        Milestone::Scheduled,
        Milestone::ContainersStarted,
        Milestone::Ready,
        Milestone::InEndpoints,
        Milestone::OldPodGone,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Milestone::DeleteSent => "delete sent",
            Milestone::Terminating => "pod terminating",
            Milestone::ReplacementCreated => "replacement created",
            Milestone::Scheduled => "scheduled",
            Milestone::ContainersStarted => "containers started",
            Milestone::Ready => "ready",
            Milestone::InEndpoints => "in service endpoints",
            Milestone::OldPodGone => "old pod gone",
        }
    }

    /// The milestone that must come before this one (the causal chain:
    /// the old pod's branch and the replacement's branch both start at the
    /// delete).
    pub fn after(self) -> Option<Milestone> {
        match self {
            Milestone::DeleteSent => None,
            Milestone::Terminating | Milestone::ReplacementCreated => Some(Milestone::DeleteSent),
            Milestone::Scheduled => Some(Milestone::ReplacementCreated),
            Milestone::ContainersStarted => Some(Milestone::Scheduled),
            Milestone::Ready => Some(Milestone::ContainersStarted),
            Milestone::InEndpoints => Some(Milestone::Ready),
            Milestone::OldPodGone => Some(Milestone::Terminating),
        }
    }
}

/// One pod killed and what replaced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kill {
    pub iteration: u32,
    pub pod: String,
    pub node: Option<String>,
    pub replacement: Option<String>,
    pub times: BTreeMap<Milestone, DateTime<Utc>>,
    /// Why the delete itself failed, if it did.
    pub error: Option<String>,
}

impl Kill {
    pub fn new(iteration: u32, pod: &str, node: Option<String>) -> Kill {
        Kill {
            iteration,
            pod: pod.to_string(),
            node,
            replacement: None,
            times: BTreeMap::new(),
            error: None,
        }
    }

    pub fn at(&self, m: Milestone) -> Option<DateTime<Utc>> {
        self.times.get(&m).copied()
    }

    /// Time from the delete to `m`.
    pub fn since_delete(&self, m: Milestone) -> Option<Duration> {
        let start = self.at(Milestone::DeleteSent)?;
        (self.at(m)? - start).to_std().ok()
    }

    /// The milestone that ends the recovery: back in the Service's
    /// endpoints, or Ready when no Service selects the pods.
    pub(crate) fn recovery_milestone(with_endpoints: bool) -> Milestone {
        if with_endpoints {
            Milestone::InEndpoints
        } else {
            Milestone::Ready
        }
    }

    /// Delete sent → serving again.
    pub fn recovery(&self, with_endpoints: bool) -> Option<Duration> {
        self.since_delete(Kill::recovery_milestone(with_endpoints))
    }

    /// Milestones not seen; InEndpoints only counts with a Service.
    pub fn missing(&self, with_endpoints: bool) -> Vec<Milestone> {
        Milestone::ALL
            .into_iter()
            .filter(|m| (with_endpoints || *m != Milestone::InEndpoints) && self.at(*m).is_none())
            .collect()
    }

    /// Whether the kill is over: the delete failed, or every step was
    /// seen. A step implied by a later one seen first on another watch
    /// stream is still waited for, so that the report has every step.
    pub fn finished(&self, with_endpoints: bool) -> bool {
        self.error.is_some() || self.missing(with_endpoints).is_empty()
    }
}

/// The Ready endpoint count over the test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub initial: u32,
    pub minimum: u32,
    pub last: u32,
    /// Total time with no Ready endpoint.
    pub time_at_zero_ms: u64,
    /// How many times the count fell to zero.
    pub zero_periods: u32,
}

/// Something seen during the test, for the live timeline and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    /// Since the test started.
    pub offset_ms: u64,
    #[serde(flatten)]
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum What {
    Milestone {
        iteration: u32,
        /// The killed pod.
        pod: String,
        milestone: Milestone,
        /// The pod the milestone is about (the replacement's, or the old one's).
        subject: String,
    },
    Endpoints {
        ready: u32,
    },
    Note {
        text: String,
    },
}

impl TimelineEvent {
    /// One line of the live timeline: `+1.23s  #1 web-abc  ready (web-xyz)`.
    pub fn line(&self) -> String {
        let offset = format!("+{}", human(Duration::from_millis(self.offset_ms)));
        match &self.what {
            What::Milestone {
                iteration,
                pod,
                milestone,
                subject,
            } => {
                let about = if subject == pod {
                    String::new()
                } else {
                    format!(" ({subject})")
                };
                format!(
                    "{offset:>9}  #{iteration} {pod}  {}{about}",
                    milestone.label()
                )
            }
            What::Endpoints { ready } => format!("{offset:>9}  ready endpoints: {ready}"),
            What::Note { text } => format!("{offset:>9}  {text}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// Everything a recovery test measured: the record for a post-incident
/// review or a game-day log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub test: String,
    pub context: String,
    pub user: String,
    pub namespace: String,
    /// `deployment/web`.
    pub target: String,
    /// "1 pod", "50% of the pods", "all pods".
    pub mode: String,
    pub force: bool,
    pub iterations: u32,
    pub interval_ms: u64,
    pub slo_ms: u64,
    pub min_endpoints: u32,
    pub abort_after_ms: u64,
    /// The Services whose endpoints were watched; empty means Ready pods
    /// were counted instead.
    pub services: Vec<String>,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub kills: Vec<Kill>,
    pub endpoints: EndpointStats,
    pub events: Vec<TimelineEvent>,
    /// Why the test stopped early.
    pub aborted: Option<String>,
    pub verdict: Verdict,
    /// What failed; empty on a pass.
    pub reasons: Vec<String>,
    /// The service's 5xx ratio and p95 latency during the test, when a
    /// Prometheus was there to ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<super::service::ServiceMetrics>,
}

impl Report {
    pub fn with_endpoints(&self) -> bool {
        !self.services.is_empty()
    }

    pub fn slo(&self) -> Duration {
        Duration::from_millis(self.slo_ms)
    }

    /// The slowest recovery, if any kill recovered.
    pub fn worst_recovery(&self) -> Option<Duration> {
        self.kills
            .iter()
            .filter_map(|k| k.recovery(self.with_endpoints()))
            .max()
    }

    /// Decides the verdict from what was measured.
    pub(crate) fn judge(&mut self) {
        let with_ep = self.with_endpoints();
        let slo = self.slo();
        let mut reasons = Vec::new();
        if let Some(why) = &self.aborted {
            reasons.push(format!("aborted: {why}"));
        }
        for k in &self.kills {
            if let Some(e) = &k.error {
                reasons.push(format!("pod {}: the delete failed: {e}", k.pod));
                continue;
            }
            match k.recovery(with_ep) {
                Some(r) if r > slo => reasons.push(format!(
                    "pod {}: recovered in {}, over the SLO of {}",
                    k.pod,
                    human(r),
                    human(slo)
                )),
                Some(_) => {}
                None => reasons.push(format!(
                    "pod {}: never {} during the test",
                    k.pod,
                    Kill::recovery_milestone(with_ep).label()
                )),
            }
        }
        if self.kills.is_empty() && self.aborted.is_none() {
            reasons.push("no pod was killed".into());
        }
        if self.endpoints.minimum < self.min_endpoints {
            reasons.push(format!(
                "Ready endpoints fell to {}, under the minimum of {} ({} at zero)",
                self.endpoints.minimum,
                self.min_endpoints,
                human(Duration::from_millis(self.endpoints.time_at_zero_ms))
            ));
        }
        self.verdict = if reasons.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        self.reasons = reasons;
    }

    /// The duration of the whole test.
    pub fn duration(&self) -> String {
        human_chrono(self.finished - self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds(ms)
    }

    fn kill(times: &[(Milestone, i64)]) -> Kill {
        let mut k = Kill::new(1, "web-a", None);
        for (m, ms) in times {
            k.times.insert(*m, t(*ms));
        }
        k
    }

    fn report(kills: Vec<Kill>, minimum: u32) -> Report {
        Report {
            test: "pod-kill".into(),
            context: "c".into(),
            user: "u".into(),
            namespace: "demo".into(),
            target: "deployment/web".into(),
            mode: "1 pod".into(),
            force: false,
            iterations: 1,
            interval_ms: 0,
            slo_ms: 5000,
            min_endpoints: 1,
            abort_after_ms: 60_000,
            services: vec!["web".into()],
            started: t(0),
            finished: t(9000),
            kills,
            endpoints: EndpointStats {
                initial: 2,
                minimum,
                last: 2,
                time_at_zero_ms: 0,
                zero_periods: 0,
            },
            events: Vec::new(),
            aborted: None,
            verdict: Verdict::Pass,
            reasons: Vec::new(),
            service: None,
        }
    }

    #[test]
    fn recovery_ends_in_the_endpoints_when_a_service_selects_the_pods() {
        let k = kill(&[
            (Milestone::DeleteSent, 1000),
            (Milestone::Ready, 3000),
            (Milestone::InEndpoints, 3200),
        ]);
        assert_eq!(k.recovery(true), Some(Duration::from_millis(2200)));
        assert_eq!(k.recovery(false), Some(Duration::from_millis(2000)));
        assert!(k.missing(true).contains(&Milestone::OldPodGone));
        assert!(!k.missing(false).contains(&Milestone::InEndpoints));
        assert!(!k.finished(true), "the old pod is not gone yet");
    }

    #[test]
    fn the_verdict_follows_the_slo_and_the_endpoint_minimum() {
        let fast = kill(&[(Milestone::DeleteSent, 0), (Milestone::InEndpoints, 4000)]);
        let mut r = report(vec![fast.clone()], 1);
        r.judge();
        assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.reasons);

        let slow = kill(&[(Milestone::DeleteSent, 0), (Milestone::InEndpoints, 6000)]);
        let mut r = report(vec![slow], 1);
        r.judge();
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.reasons,
            vec!["pod web-a: recovered in 6.00s, over the SLO of 5.00s"]
        );

        let mut r = report(vec![fast], 0);
        r.endpoints.time_at_zero_ms = 1500;
        r.judge();
        assert_eq!(
            r.reasons,
            vec!["Ready endpoints fell to 0, under the minimum of 1 (1.50s at zero)"]
        );

        let mut r = report(vec![kill(&[(Milestone::DeleteSent, 0)])], 1);
        r.judge();
        assert_eq!(
            r.reasons,
            vec!["pod web-a: never in service endpoints during the test"]
        );
    }

    #[test]
    fn events_serialise_flat_and_print_one_line() {
        let e = TimelineEvent {
            at: t(1234),
            offset_ms: 1234,
            what: What::Milestone {
                iteration: 1,
                pod: "web-a".into(),
                milestone: Milestone::Ready,
                subject: "web-b".into(),
            },
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "milestone");
        assert_eq!(json["milestone"], "ready");
        assert_eq!(e.line(), "   +1.23s  #1 web-a  ready (web-b)");
    }
}
