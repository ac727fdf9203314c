//! One module per subcommand: each turns parsed arguments into a run.

pub mod audit;
pub mod console;
pub mod demo;
pub mod sim;
