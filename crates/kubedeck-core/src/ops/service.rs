//! The service's health during a recovery test, from Prometheus: the
//! workload's 5xx ratio and p95 latency over the test's span, using the
//! same PromQL templates as the console's sparklines (`[metrics.queries]`).
//! The rate window and step follow from the test's length and the scrape
//! interval, and every point's window lies within the test; a test shorter
//! than two scrapes is "not measurable at this resolution", not a number
//! about the minutes around it. Prometheus is optional: without one, or
//! when it fails, the report says so and the test's verdict (from the
//! endpoint count) is unaffected.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actions::{WorkloadKind, WorkloadRef};
use crate::metrics::promql::{Bindings, render_with_rate};
use crate::metrics::source::connect;
use crate::metrics::{Metric, ObjectKind, PrometheusConfig, Queries};
use crate::redact::mask_passwords;
use kubedeck_kube::duration::human;

/// About this many points over the test, whatever its length.
const POINTS: u64 = 60;

/// Longer than this, Prometheus has not answered.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Prometheus' own default `scrape_interval`, assumed when the targets API
/// does not say.
const DEFAULT_SCRAPE: Duration = Duration::from_secs(60);

/// The longest wait for Prometheus to scrape past the end of the test.
const MAX_INGEST_WAIT: Duration = Duration::from_secs(120);

/// How Prometheus can see a test: a rate needs two scrapes in its window,
/// and a point speaks of the test only when its window lies within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub scrape: Duration,
    /// The `rate()` range.
    pub window: Duration,
    pub step: Duration,
    /// The first and last evaluation times: each window `(t - window, t]`
    /// lies within the test.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The window and step for a test over `[start, end]` scraped every
/// `scrape`; the error says why it is too short to measure.
pub fn resolution(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    scrape: Duration,
) -> Result<Resolution, String> {
    let lasted = (end - start).to_std().unwrap_or(Duration::ZERO);
    // Whole milliseconds inside the test: query times are written so.
    let first = start.timestamp_millis()
        + i64::from(!start.timestamp_subsec_nanos().is_multiple_of(1_000_000));
    let last = end.timestamp_millis();
    let span = Duration::from_millis(u64::try_from(last - first).unwrap_or(0));
    let scrape = scrape.max(Duration::from_millis(1));
    let need = scrape * 2;
    if span < need {
        return Err(format!(
            "not measurable at this resolution: the test lasted {} and Prometheus scrapes every {}, so no rate window within the test holds the two scrapes a rate needs ({} or more)",
            human(lasted),
            human(scrape),
            human(need)
        ));
    }
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let window = millis((scrape * 4).min(span));
    let step = millis(scrape.max(span / u32::try_from(POINTS).unwrap_or(1)));
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or(end);
    Ok(Resolution {
        scrape,
        window: Duration::from_millis(window),
        step: Duration::from_millis(step),
        from: at((first + i64::try_from(window).unwrap_or(i64::MAX)).min(last)),
        to: at(last),
    })
}

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
    /// The `rate()` range the samples were computed over.
    #[serde(default)]
    pub window_ms: u64,
    /// Prometheus' scrape interval, as its targets API gave it.
    #[serde(default)]
    pub scrape_interval_ms: Option<u64>,
    pub samples: Vec<ServiceSample>,
    pub max_error_ratio: Option<f64>,
    pub max_p95_seconds: Option<f64>,
    /// Why the test is too short for Prometheus to measure: then there are
    /// no samples, and no number stands for the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measurable: Option<String>,
    /// Why the samples are missing or partial.
    pub error: Option<String>,
}

impl ServiceMetrics {
    /// One line for the terminal and the report's summary.
    pub fn summary(&self) -> String {
        let pct = |v: f64| format!("{:.2}%", v * 100.0);
        let lat = |v: f64| format!("{:.0} ms", v * 1000.0);
        if let Some(why) = &self.not_measurable {
            return format!("service 5xx ratio and p95 latency: {why}");
        }
        match (&self.error, self.max_error_ratio, self.max_p95_seconds) {
            (Some(e), None, None) => format!("service metrics unavailable: {e}"),
            (_, e, p) => format!(
                "during the test: peak 5xx ratio {}, peak p95 latency {} ({} samples, {} rate every {}, from {})",
                e.map_or_else(|| "n/a".to_string(), pct),
                p.map_or_else(|| "n/a".to_string(), lat),
                self.samples.len(),
                human(Duration::from_millis(self.window_ms)),
                human(Duration::from_millis(self.step_ms)),
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

fn object_kind(kind: WorkloadKind) -> ObjectKind {
    match kind {
        WorkloadKind::Deployment => ObjectKind::Deployment,
        WorkloadKind::StatefulSet => ObjectKind::StatefulSet,
    }
}

/// The two queries for `target`, with the resolution's rate window.
pub fn queries(
    queries: &Queries,
    target: &WorkloadRef,
    resolution: &Resolution,
) -> [(Metric, String); 2] {
    let names = [target.name.clone()];
    let kind = object_kind(target.kind);
    let b = Bindings {
        kind,
        namespace: &target.namespace,
        names: &names,
        step: resolution.step,
    };
    let rate = format!("{}ms", resolution.window.as_millis());
    [Metric::ErrorRatio, Metric::P95Latency].map(|m| {
        let template = queries.template(kind, m).unwrap_or_default();
        (m, render_with_rate(template, &b, &rate))
    })
}

/// The scrape interval of the targets Prometheus scrapes (those labelled
/// with `namespace` when there are any, else all), the longest of them:
/// a window that holds two of its scrapes holds two of any.
async fn scrape_interval(
    client: &prometheus_http_query::Client,
    authorization: Option<&http::HeaderValue>,
    namespace: &str,
) -> Result<Duration, String> {
    let url = client
        .base_url()
        .join("api/v1/targets?state=active")
        .map_err(|e| e.to_string())?;
    let mut ask = client.inner().get(url);
    if let Some(h) = authorization {
        ask = ask.header(http::header::AUTHORIZATION, h.clone());
    }
    let body = tokio::time::timeout(TIMEOUT, async {
        ask.send().await?.error_for_status()?.bytes().await
    })
    .await
    .map_err(|_| "the targets API did not answer".to_string())?
    .map_err(|e| format!("the targets API: {e}"))?;
    let json: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let targets = json["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let interval = |t: &Value| {
        t["scrapeInterval"]
            .as_str()
            .and_then(|s| kubedeck_kube::duration::parse(s).ok())
    };
    let in_namespace: Vec<Duration> = targets
        .iter()
        .filter(|t| t["labels"]["namespace"] == namespace)
        .filter_map(interval)
        .collect();
    let all: Vec<Duration> = targets.iter().filter_map(interval).collect();
    let chosen = if in_namespace.is_empty() {
        all
    } else {
        in_namespace
    };
    chosen
        .into_iter()
        .max()
        .ok_or_else(|| "Prometheus lists no active target with a scrape interval".to_string())
}

/// Samples the service over `[start, end]`. Never fails: problems land in
/// `error`, a test too short to see in `not_measurable`. What it says goes
/// into reports and onto screens, so the URL's password is masked.
pub async fn sample(
    prometheus: &PrometheusConfig,
    templates: &Queries,
    target: &WorkloadRef,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ServiceMetrics {
    let mut out = sample_unmasked(prometheus, templates, target, start, end).await;
    let mask = |s: &mut Option<String>| {
        if let Some(text) = s {
            *text = mask_passwords(text).into_owned();
        }
    };
    out.source = mask_passwords(&out.source).into_owned();
    mask(&mut out.error);
    mask(&mut out.not_measurable);
    out
}

async fn sample_unmasked(
    prometheus: &PrometheusConfig,
    templates: &Queries,
    target: &WorkloadRef,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ServiceMetrics {
    let url = prometheus.url.as_str();
    let mut out = ServiceMetrics {
        source: url.to_string(),
        step_ms: 0,
        window_ms: 0,
        scrape_interval_ms: None,
        samples: Vec::new(),
        max_error_ratio: None,
        max_p95_seconds: None,
        not_measurable: None,
        error: None,
    };
    let (client, authorization) = match connect(prometheus) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    let (scrape, assumed) =
        match scrape_interval(&client, authorization.as_ref(), &target.namespace).await {
            Ok(d) => (d, None),
            Err(e) => (DEFAULT_SCRAPE, Some(e)),
        };
    out.scrape_interval_ms = assumed
        .is_none()
        .then(|| u64::try_from(scrape.as_millis()).unwrap_or(u64::MAX));
    let unknown = |e: &str| {
        format!(
            "the scrape interval is unknown ({e}), so Prometheus' default of {} is assumed",
            human(DEFAULT_SCRAPE)
        )
    };
    let res = match resolution(start, end, scrape) {
        Ok(r) => r,
        Err(why) => {
            out.not_measurable = Some(match &assumed {
                Some(e) => format!("{why}; {}", unknown(e)),
                None => why,
            });
            return out;
        }
    };
    out.step_ms = u64::try_from(res.step.as_millis()).unwrap_or(u64::MAX);
    out.window_ms = u64::try_from(res.window.as_millis()).unwrap_or(u64::MAX);
    wait_for_scrape_after(end, scrape).await;
    let mut points: std::collections::BTreeMap<i64, ServiceSample> = Default::default();
    let mut errors: Vec<String> = assumed.iter().map(|e| unknown(e)).collect();
    let mut failed = 0;
    let timeout = prometheus.timeout.min(TIMEOUT);
    for (metric, q) in queries(templates, target, &res) {
        let answer = match query_range(&client, authorization.as_ref(), &q, &res, timeout).await {
            Ok(samples) => samples,
            Err(e) => {
                failed += 1;
                errors.push(format!("{url}: {e}"));
                continue;
            }
        };
        // The templates aggregate by the workload, so one series is expected;
        // should there be more, the worst value at each time counts.
        for (t, v) in answer {
            let Some(at) = Utc.timestamp_millis_opt(t).single() else {
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
    out.samples = points.into_values().collect();
    let max = |f: fn(&ServiceSample) -> Option<f64>| {
        out.samples
            .iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
    };
    out.max_error_ratio = max(|s| s.error_ratio);
    out.max_p95_seconds = max(|s| s.p95_seconds);
    if out.samples.is_empty() && failed == 0 {
        errors.push(format!(
            "Prometheus at {url} has no request metrics for {}/{} in {} during the test",
            target.kind.singular(),
            target.name,
            target.namespace
        ));
    }
    if !errors.is_empty() {
        out.error = Some(errors.join("; "));
    }
    out
}

/// `/api/v1/query_range` over the resolution's times, to the millisecond
/// (the client crate's takes whole seconds, which would cut a seconds-long
/// test short): every finite sample of every series, as (ms, value).
async fn query_range(
    client: &prometheus_http_query::Client,
    authorization: Option<&http::HeaderValue>,
    query: &str,
    res: &Resolution,
    timeout: Duration,
) -> Result<Vec<(i64, f64)>, String> {
    let seconds = |t: DateTime<Utc>| format!("{:.3}", t.timestamp_millis() as f64 / 1000.0);
    let mut url = client
        .base_url()
        .join("api/v1/query_range")
        .map_err(|e| e.to_string())?;
    url.query_pairs_mut()
        .append_pair("query", query)
        .append_pair("start", &seconds(res.from))
        .append_pair("end", &seconds(res.to))
        .append_pair("step", &format!("{:.3}", res.step.as_secs_f64()));
    let mut ask = client.inner().get(url);
    if let Some(h) = authorization {
        ask = ask.header(http::header::AUTHORIZATION, h.clone());
    }
    let body = tokio::time::timeout(timeout, async { ask.send().await?.bytes().await })
        .await
        .map_err(|_| format!("no answer within {}s", timeout.as_secs_f64()))?
        .map_err(|e| e.to_string())?;
    let json: Value =
        serde_json::from_slice(&body).map_err(|e| format!("not a Prometheus answer ({e})"))?;
    if json["status"] != "success" {
        return Err(json["error"]
            .as_str()
            .unwrap_or("the query failed")
            .to_string());
    }
    let mut out = Vec::new();
    for series in json["data"]["result"].as_array().into_iter().flatten() {
        for pair in series["values"].as_array().into_iter().flatten() {
            let t = pair[0].as_f64().map(|t| (t * 1000.0).round() as i64);
            let v = pair[1].as_str().and_then(|v| v.parse::<f64>().ok());
            if let (Some(t), Some(v)) = (t, v)
                && v.is_finite()
            {
                out.push((t, v));
            }
        }
    }
    Ok(out)
}

/// Prometheus answers for the test's last seconds only once it has
/// scraped after them: wait until a scrape interval (and a second) has
/// passed since the end.
async fn wait_for_scrape_after(end: DateTime<Utc>, scrape: Duration) {
    let ready = end
        + chrono::Duration::from_std(scrape + Duration::from_secs(1))
            .unwrap_or(chrono::Duration::zero());
    let wait = (ready - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::sleep(wait.min(MAX_INGEST_WAIT)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0).unwrap() + chrono::Duration::milliseconds(ms)
    }

    #[test]
    fn a_test_shorter_than_two_scrapes_is_not_measurable() {
        // The issue's case: 3.17 s at zero endpoints in a test of seconds.
        let why = resolution(at(0), at(4_300), Duration::from_secs(15)).unwrap_err();
        assert!(
            why.starts_with("not measurable at this resolution"),
            "{why}"
        );
        assert!(why.contains("4.30s") && why.contains("15.00s"), "{why}");
        let m = ServiceMetrics {
            source: "http://p".into(),
            step_ms: 0,
            window_ms: 0,
            scrape_interval_ms: Some(15_000),
            samples: Vec::new(),
            max_error_ratio: None,
            max_p95_seconds: None,
            not_measurable: Some(why),
            error: None,
        };
        assert!(!m.summary().contains('%'), "{}", m.summary());
        assert!(m.summary().contains("not measurable at this resolution"));
    }

    #[test]
    fn windows_hold_two_scrapes_and_lie_within_the_test() {
        // 2.22 s scraped every second: one point, at the end, over it all.
        let r = resolution(at(500), at(2_720), Duration::from_secs(1)).unwrap();
        assert_eq!(r.window, Duration::from_millis(2_220));
        assert_eq!((r.from, r.to), (at(2_720), at(2_720)));
        // Ten minutes at 15 s: a 1 m window, a point every 15 s (not 10 s:
        // a step under the scrape interval repeats the same samples).
        let r = resolution(at(0), at(600_000), Duration::from_secs(15)).unwrap();
        assert_eq!(r.window, Duration::from_secs(60));
        assert_eq!(r.step, Duration::from_secs(15));
        assert_eq!(r.from, at(60_000));
        // An hour at 15 s: 60 points.
        let r = resolution(at(0), at(3_600_000), Duration::from_secs(15)).unwrap();
        assert_eq!(r.step, Duration::from_secs(60));
        for s in [1, 5, 15, 30, 60] {
            let scrape = Duration::from_secs(s);
            for len in [1_000, 2_500, 10_000, 45_000, 200_000] {
                match resolution(at(0), at(len), scrape) {
                    Ok(r) => {
                        assert!(r.window >= scrape * 2, "{s}s {len}ms: {r:?}");
                        assert!(r.from <= r.to);
                        let window = chrono::Duration::from_std(r.window).unwrap();
                        assert!(r.from - window >= at(0), "{s}s {len}ms: {r:?}");
                    }
                    Err(_) => assert!(len < 2_000 * i64::try_from(s).unwrap()),
                }
            }
        }
    }

    #[test]
    fn queries_use_a_short_rate_window_and_escape_the_name() {
        let target = WorkloadRef::deployment("shop", "web\"}) or vector(1) #");
        let r = resolution(at(0), at(10_000), Duration::from_secs(1)).unwrap();
        let [(m1, errors), (m2, p95)] = queries(&Queries::default(), &target, &r);
        assert_eq!((m1, m2), (Metric::ErrorRatio, Metric::P95Latency));
        assert!(
            errors.contains("[4000ms]") && !errors.contains("[5m]"),
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
            window_ms: 4000,
            scrape_interval_ms: Some(1000),
            samples: Vec::new(),
            max_error_ratio: Some(0.0412),
            max_p95_seconds: Some(0.2345),
            not_measurable: None,
            error: None,
        };
        assert_eq!(
            m.summary(),
            "during the test: peak 5xx ratio 4.12%, peak p95 latency 234 ms (0 samples, 4.00s rate every 1.00s, from http://127.0.0.1:9090)"
        );
    }
}
