//! One module per subcommand: each turns parsed arguments into a run.

pub mod audit;
pub mod backup;
pub mod chaos;
pub mod console;
pub mod demo;
pub mod runbook;
mod session;
pub mod sim;
