//! The headless engine's acceptance tests, each against a simulator of its own.
//! One test binary of modules, so the crate's acceptance tests link once.

// A failed step in a test is the test's failure: unwrap, expect and panic say why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kubedeck_sim::testing as common;

mod actions_edit;
mod actions_exec;
mod drain;
mod exec_session;
mod logs_stream;
mod metrics_fallback;
mod metrics_prometheus;
mod reveal;
mod seed_backups;
