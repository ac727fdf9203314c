//! kubedeck's headless engine: the configuration and paths, the connection
//! to a cluster, actions (command, plan, executor, RBAC, audit), on-call
//! operations (recovery tests, backups), runbooks, log streams and metrics.
//! The console and the headless commands both drive it; it draws nothing.

pub mod actions;
pub mod config;
pub mod config_file;
pub mod connect;
pub mod exec;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod logs;
pub mod metrics;
pub mod ops;
pub mod portforward;
pub mod private_file;
pub mod redact;
pub mod reveal;
pub mod runbooks;
pub mod terminal;
