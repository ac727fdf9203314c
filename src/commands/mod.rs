//! One module per subcommand: each turns parsed arguments into a run.

pub mod console;
pub mod demo;
pub mod sim;
