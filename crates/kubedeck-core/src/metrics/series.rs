//! What a metrics request asks for and what its answer carries: windows and
//! steps, tickets, per-object series, and the ring buffer samples live in.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::promql::{Metric, ObjectKind};

/// The chart windows the console offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Window {
    #[default]
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "15m")]
    M15,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "6h")]
    H6,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::M5, Window::M15, Window::H1, Window::H6];

    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Window::M5 => 300,
            Window::M15 => 900,
            Window::H1 => 3600,
            Window::H6 => 6 * 3600,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::M5 => "5m",
            Window::M15 => "15m",
            Window::H1 => "1h",
            Window::H6 => "6h",
        }
    }

    /// The next wider window, wrapping to the narrowest.
    pub fn next(self) -> Window {
        let i = Window::ALL.iter().position(|w| *w == self).unwrap_or(0);
        Window::ALL[(i + 1) % Window::ALL.len()]
    }
}

/// The step of a range query over `window` drawn `width` columns wide: one
/// point per column, in whole seconds (Prometheus' resolution that matters
/// here), never below 1 s.
pub fn step_for(window: Duration, width: u16) -> Duration {
    let secs = window.as_secs().div_ceil(u64::from(width.max(1))).max(1);
    Duration::from_secs(secs)
}

/// The range `[start, end]` (unix seconds) of a query at `now`: the end
/// aligned down to the step, so that every request within one step asks
/// the same question (and hits the cache), and at most `window / step`
/// points.
pub fn query_range(now: i64, window: Duration, step: Duration) -> (i64, i64) {
    let step_s = step.as_secs().max(1) as i64;
    let end = now.div_euclid(step_s) * step_s;
    let points = (window.as_secs() as i64 / step_s).max(1);
    (end - (points - 1) * step_s, end)
}

/// One value at one time (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t: i64,
    pub v: f64,
}

/// The series of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectSeries {
    pub series: BTreeMap<Metric, Vec<Point>>,
}

impl ObjectSeries {
    pub fn get(&self, m: Metric) -> &[Point] {
        self.series.get(&m).map_or(&[], Vec::as_slice)
    }

    pub fn latest(&self, m: Metric) -> Option<f64> {
        self.get(m).last().map(|p| p.v)
    }

    pub fn min_max(&self, m: Metric) -> Option<(f64, f64)> {
        self.get(m).iter().fold(None, |acc, p| match acc {
            None => Some((p.v, p.v)),
            Some((lo, hi)) => Some((lo.min(p.v), hi.max(p.v))),
        })
    }

    /// The HPA's CPU utilization target (percent), drawn as a line.
    pub fn target(&self) -> Option<f64> {
        self.latest(Metric::HpaTarget)
    }
}

/// Which kind of source produced a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Prometheus,
    MetricsServer,
}

/// The answer to one view's request.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSeries {
    pub kind: ObjectKind,
    pub namespace: String,
    pub window: Window,
    pub step: Duration,
    pub start: i64,
    pub end: i64,
    /// By object name; objects without data are absent.
    pub objects: BTreeMap<String, ObjectSeries>,
    pub origin: Origin,
    /// For metrics-server: there is no history before this (the sampler's
    /// start), which the chart must say.
    pub history_since: Option<DateTime<Utc>>,
}

impl ViewSeries {
    pub fn object(&self, name: &str) -> Option<&ObjectSeries> {
        self.objects.get(name)
    }
}

/// What one view wants drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewRequest {
    /// Identifies the view: a newer request for the same view supersedes
    /// older ones.
    pub view: String,
    pub kind: ObjectKind,
    pub namespace: String,
    /// The visible objects.
    pub names: Vec<String>,
    /// Empty for all of the kind's metrics.
    pub metrics: Vec<Metric>,
    pub window: Window,
    /// The chart's width in columns.
    pub width: u16,
}

impl ViewRequest {
    pub(super) fn metrics(&self) -> Vec<Metric> {
        if self.metrics.is_empty() {
            Metric::for_kind(self.kind).to_vec()
        } else {
            self.metrics.clone()
        }
    }
}

/// Names one request; results carry it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub view: Arc<str>,
    pub generation: u64,
}
