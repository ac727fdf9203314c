//! The simulated cluster's load and resource-usage model, and the ways it is
//! exposed: metrics.k8s.io and the Prometheus text format.
//!
//! Nothing ticks in the background: every number is computed from the store
//! and the time asked about, with noise from a PRNG seeded by the cluster
//! seed, the pod's uid and a 15-second bucket, so runs repeat.
//!
//! # Load annotations
//! Every Deployment and StatefulSet receives traffic, set by an annotation
//! on the workload:
//!
//! | `kubedeck.io/load` | traffic |
//! |---|---|
//! | `steady 120rps` (or `120rps`, `120`) | a constant 120 requests per second |
//! | `wave 50-400rps` | a daily sine: 50 rps at 00:00 UTC, 400 rps at 12:00 UTC |
//! | `wave 50-400rps 10m` | the same wave with a 10-minute period |
//! | `spike 100rps 900rps 10m` | 900 rps for 10 minutes from now, 100 rps after |
//! | `spike 100rps 900rps 10m at 2026-05-01T12:00:00Z` | a spike at a fixed time |
//! | `off` | no traffic |
//!
//! A spike without `at` starts when the simulator first sees the value: the
//! `kubedeck-load-stamper` controller appends `at <that time>` to the
//! annotation at once, so the start is recorded in the object itself and
//! every reader agrees on it. Setting the annotation again (for example
//! `kubectl annotate --overwrite deploy/web kubedeck.io/load='spike 100rps
//! 900rps 10m'`) starts a new spike. A missing or malformed value gives a
//! steady rate between 5 and 50 rps chosen by the workload's name.
//!
//! Tuning, also on the workload:
//! - `kubedeck.io/load-cpu-per-request: "1m"`: CPU per request per second
//!   (default 1m: 200 rps on a pod cost 200m on top of 3m idle).
//! - `kubedeck.io/load-memory-per-request: "256Ki"`: working set per
//!   request per second (default 256Ki; the base is half the memory request,
//!   48Mi without one). A container over its memory limit is OOM-killed.
//! - `kubedeck.io/load-capacity: "250rps"`: what one pod serves before it
//!   saturates (default: the rate at which it reaches its CPU limit, 300 rps
//!   without a limit). Beyond it the excess is answered 503 and latency
//!   climbs.
//! - `kubedeck.io/load-latency: "20ms"`: the latency of an idle pod.
//!
//! # The model
//! Each Ready pod of a workload takes rate / ready pods; unready pods take
//! none. The first container's CPU is 3m + rps × cost, capped at its CPU
//! limit; its memory is the base + rps × per-request memory. 1% of requests
//! are 404; 500s are 0.2%, rising toward saturation, plus 50% for a
//! `crashloop*` image and a share for pods missing from the workload's
//! endpoints; load beyond capacity is shed as 503. Latency is a floor plus
//! an exponential whose mean grows as 1 / (1 − utilisation).

pub(crate) mod exposition;
pub(crate) mod load;
mod metrics_api;
pub(crate) mod usage;

pub(crate) use exposition::{CONTENT_TYPE, exposition};
pub(crate) use metrics_api::{node_metrics, pod_metrics};
pub(crate) use usage::oom_at;
