//! One module per subcommand: each turns parsed arguments into a run.
//! They print with `say!`/`say_err!`, never `println!`: what they print
//! carries cluster text (names, log lines, event messages, API errors), and
//! that must not drive the terminal.

/// `println!`, with escape sequences and control characters removed.
macro_rules! say {
    () => {
        println!()
    };
    ($($arg:tt)*) => {
        println!("{}", kubedeck_core::terminal::safe(&format!($($arg)*)))
    };
}

/// `eprintln!`, with escape sequences and control characters removed.
macro_rules! say_err {
    ($($arg:tt)*) => {
        eprintln!("{}", kubedeck_core::terminal::safe(&format!($($arg)*)))
    };
}

pub mod audit;
pub mod backup;
pub mod chaos;
pub mod console;
pub mod demo;
pub mod exec;
pub mod node;
pub mod port_forward;
pub mod runbook;
mod session;
pub mod sim;

use crate::cli::exit;
use kubedeck_core::actions::ActionError;

/// kubedeck could not tell: the answer is neither a pass nor a failure.
#[derive(Debug)]
pub struct Inconclusive(pub String);

impl std::fmt::Display for Inconclusive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Inconclusive {}

/// A change was sent, its answer lost, and it could not be read back: it
/// may or may not have been made (a runbook step's, a recovery test's
/// kill; the executor's own error is `ActionError::OutcomeUnknown`).
#[derive(Debug)]
pub struct OutcomeUnknown(pub String);

impl std::fmt::Display for OutcomeUnknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OutcomeUnknown {}

/// The process's exit code for a command's error (see `cli::exit`).
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(remote) = e.downcast_ref::<exec::RemoteExit>() {
        // `exec` passes the remote command's code through.
        u8::try_from(remote.0).unwrap_or(exit::FAILURE)
    } else if e
        .downcast_ref::<kubedeck_core::ops::recovery::NotSteady>()
        .is_some()
    {
        exit::NOT_STEADY
    } else if e.downcast_ref::<Inconclusive>().is_some() {
        exit::INCONCLUSIVE
    } else if e.downcast_ref::<OutcomeUnknown>().is_some()
        || matches!(
            e.downcast_ref::<ActionError>(),
            Some(ActionError::OutcomeUnknown { .. })
        )
    {
        exit::OUTCOME_UNKNOWN
    } else {
        exit::FAILURE
    }
}
