//! Runbooks: YAML procedures (notes, checks, views, actions, waits, human
//! gates and branches) that kubedeck runs step by step and records.
//!
//! - `format`: the file format as serde reads it; `validate`: reading and
//!   checking a file, every error with its line; `model`: the typed plan.
//! - `runner`: the state machine that runs a plan (headless or from the
//!   console); `conditions` and `act`: what checks and actions do.
//! - `record`: the Markdown incident log and the audit record of a run.
//! - `library`: shipped runbooks and the user's.

pub mod act;
pub mod conditions;
pub mod format;
pub mod library;
pub mod model;
pub mod record;
pub mod runner;
pub mod validate;

pub use act::Env;
pub use runner::{Input, Progress, Prompt, Run, RunOutcome, Status};
pub use validate::{Diagnostic, Runbook, check, parse};
