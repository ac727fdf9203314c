//! The data behind the console's metrics sparklines (issue 7), independent
//! of the console: PromQL templates with escaping (`promql`), and the
//! sources that answer them without ever blocking the caller (`source`):
//! Prometheus when one is configured, otherwise metrics.k8s.io sampled into
//! ring buffers.

mod health;
mod history;
mod prometheus;
pub(crate) mod promql;
mod series;
pub mod source;

pub use promql::{Metric, ObjectKind, Queries};
pub use source::{
    Backoff, Feed, Health, MetricsMsg, MetricsSource, ObjectSeries, Origin, Point,
    PrometheusConfig, SamplerOptions, SourceStatus, Ticket, ViewRequest, ViewSeries, Window,
};
