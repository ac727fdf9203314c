//! The service's health during a recovery test, from Prometheus: the
//! workload's 5xx ratio and p95 latency over the test's span, using the
//! same PromQL templates as the console's sparklines (`[metrics.queries]`).
//! Prometheus is optional: without one, or when it fails, the report says
//! so and the test's verdict is unaffected.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::actions::{WorkloadKind, WorkloadRef};
use crate::metrics::promql::{Bindings, render_with_rate};
use crate::metrics::source::connect;
use crate::metrics::{Metric, ObjectKind, PrometheusConfig, Queries};

/// The `rate()` range: short enough that a seconds-long outage shows,
/// long enough to hold two scrapes at the common 15–30 s intervals.
const RATE: &str = "1m";

/// About this many points over the test, whatever its length.
const POINTS: i64 = 60;

/// Longer than this, Prometheus has not answered.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSample {
    pub at: DateTime<Utc>,
    /// The share of requests answered 5xx, 0..1.
    pub error_ratio: Option<f64>,
    pub p95_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceMetrics {
    /// The Prometheus asked.
    pub source: String,
    pub step_ms: u64,
    pub samples: Vec<ServiceSample>,
    pub max_error_ratio: Option<f64>,
    pub max_p95_seconds: Option<f64>,
    /// Why the samples are missing or partial.
    pub error: Option<String>,
}

impl ServiceMetrics {
    /// One line for the terminal and the report's summary.
    pub fn summary(&self) -> String {
        let pct = |v: f64| format!("{:.2}%", v * 100.0);
        let lat = |v: f64| format!("{:.0} ms", v * 1000.0);
        match (&self.error, self.max_error_ratio, self.max_p95_seconds) {
            (Some(e), None, None) => format!("service metrics unavailable: {e}"),
            (_, e, p) => format!(
                "during the test: peak 5xx ratio {}, peak p95 latency {} ({} samples from {})",
                e.map_or_else(|| "n/a".to_string(), pct),
                p.map_or_else(|| "n/a".to_string(), lat),
                self.samples.len(),
                self.source
            ),
        }
    }
}

/// Adds the service's health over the test to `report` when there is a
/// Prometheus to ask; the one line to show for it, if any.
pub async fn attach(
    report: &mut crate::ops::timeline::Report,
    prometheus: Option<&PrometheusConfig>,
    templates: &Queries,
    target: &WorkloadRef,
) -> Option<String> {
    let prometheus = prometheus?;
    let m = sample(
        prometheus,
        templates,
        target,
        report.started,
        report.finished,
    )
    .await;
    let line = m.summary();
    report.service = Some(m);
    Some(line)
}

/// The step that gives about `POINTS` samples over the span, at least 1 s.
pub fn step_for(start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
    let span = (end - start).num_seconds().max(1);
    Duration::from_secs((span / POINTS).max(1) as u64)
}

fn object_kind(kind: WorkloadKind) -> ObjectKind {
    match kind {
        WorkloadKind::Deployment => ObjectKind::Deployment,
        WorkloadKind::StatefulSet => ObjectKind::StatefulSet,
    }
}

/// The two queries for `target`, with a short rate window.
pub fn queries(queries: &Queries, target: &WorkloadRef, step: Duration) -> [(Metric, String); 2] {
    let names = [target.name.clone()];
    let kind = object_kind(target.kind);
    let b = Bindings {
        kind,
        namespace: &target.namespace,
        names: &names,
        step,
    };
    [Metric::ErrorRatio, Metric::P95Latency].map(|m| {
        let template = queries.template(kind, m).unwrap_or_default();
        (m, render_with_rate(template, &b, RATE))
    })
}

/// Samples the service over `[start, end]`. Never fails: problems land in
/// `error`.
pub async fn sample(
    prometheus: &PrometheusConfig,
    templates: &Queries,
    target: &WorkloadRef,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ServiceMetrics {
    let url = prometheus.url.as_str();
    let step = step_for(start, end);
    let mut out = ServiceMetrics {
        source: url.to_string(),
        step_ms: u64::try_from(step.as_millis()).unwrap_or(u64::MAX),
        samples: Vec::new(),
        max_error_ratio: None,
        max_p95_seconds: None,
        error: None,
    };
    let (client, authorization) = match connect(prometheus) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    let mut points: std::collections::BTreeMap<i64, ServiceSample> = Default::default();
    let mut errors = Vec::new();
    for (metric, q) in queries(templates, target, step) {
        let mut ask =
            client.query_range(&q, start.timestamp(), end.timestamp(), step.as_secs_f64());
        if let Some(h) = &authorization {
            ask = ask.header(http::header::AUTHORIZATION, h.clone());
        }
        let timeout = prometheus.timeout.min(TIMEOUT);
        let answer = match tokio::time::timeout(timeout, ask.get()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                errors.push(format!("{url}: {e}"));
                continue;
            }
            Err(_) => {
                errors.push(format!(
                    "{url}: no answer within {}s",
                    timeout.as_secs_f64()
                ));
                continue;
            }
        };
        // The templates aggregate by the workload, so one series is expected;
        // should there be more, the worst value at each time counts.
        for rv in answer.data().as_matrix().into_iter().flatten() {
            for s in rv.samples() {
                let v = s.value();
                if !v.is_finite() {
                    continue;
                }
                let t = s.timestamp().round() as i64;
                let Some(at) = Utc.timestamp_opt(t, 0).single() else {
                    continue;
                };
                let p = points.entry(t).or_insert(ServiceSample {
                    at,
                    error_ratio: None,
                    p95_seconds: None,
                });
                let slot = match metric {
                    Metric::ErrorRatio => &mut p.error_ratio,
                    _ => &mut p.p95_seconds,
                };
                *slot = Some(slot.map_or(v, |old| old.max(v)));
            }
        }
    }
    out.samples = points.into_values().collect();
    let max = |f: fn(&ServiceSample) -> Option<f64>| {
        out.samples
            .iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    out.max_error_ratio = max(|s| s.error_ratio);
    out.max_p95_seconds = max(|s| s.p95_seconds);
    if !errors.is_empty() {
        out.error = Some(errors.join("; "));
    } else if out.samples.is_empty() {
        out.error = Some(format!(
            "Prometheus at {url} has no request metrics for {}/{} in {}",
            target.kind.singular(),
            target.name,
            target.namespace
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_gives_about_sixty_points_and_at_least_a_second() {
        let t0 = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        assert_eq!(
            step_for(t0, t0 + chrono::Duration::seconds(20)),
            Duration::from_secs(1)
        );
        assert_eq!(
            step_for(t0, t0 + chrono::Duration::minutes(10)),
            Duration::from_secs(10)
        );
        assert_eq!(step_for(t0, t0), Duration::from_secs(1));
    }

    #[test]
    fn queries_use_a_short_rate_window_and_escape_the_name() {
        let target = WorkloadRef::deployment("shop", "web\"}) or vector(1) #");
        let [(m1, errors), (m2, p95)] =
            queries(&Queries::default(), &target, Duration::from_secs(1));
        assert_eq!((m1, m2), (Metric::ErrorRatio, Metric::P95Latency));
        assert!(
            errors.contains("[1m]") && !errors.contains("[5m]"),
            "{errors}"
        );
        assert!(p95.starts_with("histogram_quantile(0.95"), "{p95}");
        // The hostile name stays inside its string.
        assert!(!errors.contains("web\"})"), "{errors}");
        assert!(errors.contains(r#"namespace="shop""#), "{errors}");
    }

    #[test]
    fn the_summary_reads_as_percent_and_milliseconds() {
        let m = ServiceMetrics {
            source: "http://127.0.0.1:9090".into(),
            step_ms: 1000,
            samples: Vec::new(),
            max_error_ratio: Some(0.0412),
            max_p95_seconds: Some(0.2345),
            error: None,
        };
        assert_eq!(
            m.summary(),
            "during the test: peak 5xx ratio 4.12%, peak p95 latency 234 ms (0 samples from http://127.0.0.1:9090)"
        );
    }
}
