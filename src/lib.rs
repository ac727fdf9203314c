//! kubedeck: a terminal operations console for Kubernetes, and the simulated
//! cluster it is tested, benchmarked and demoed against.

pub mod actions;
pub mod cli;
pub mod commands;
pub mod console;
pub mod logs;
pub mod metrics;
pub mod ops;
pub mod runbooks;
pub mod sim;
