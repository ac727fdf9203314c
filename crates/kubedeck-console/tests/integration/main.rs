//! The console's acceptance tests: its views and metrics over a simulator.
//! One test binary of modules, so the crate's acceptance tests link once.

// A failed step in a test is the test's failure: unwrap, expect and panic say why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kubedeck_sim::testing as common;

mod console_metrics_prometheus;
mod console_seed_views;
