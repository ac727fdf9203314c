//! The simulator's acceptance tests: kube-rs and the real kubectl against it.
//! One test binary of modules, so the crate's acceptance tests link once.

// A failed step in a test is the test's failure: unwrap, expect and panic say why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kubedeck_sim::testing as common;

mod auth;
mod bad_input;
mod crds;
mod impersonation;
mod kube_client;
mod kubectl_get;
mod kubectl_nodes;
mod kubectl_seed_kinds;
mod kubectl_workloads;
mod portforward;
mod resource_versions;
mod sim_backups;
mod sim_exec;
mod sim_hpa;
mod sim_metrics;
mod sim_nodes;
mod sim_oom;
