//! Workload logs, console-independent: streaming from pods, containers or
//! whole workloads ([`stream`]), and the bounded buffer a view keeps them in
//! ([`buffer`]).

pub mod buffer;
mod container_state;
pub mod stream;

pub use buffer::{Bound, LineKind, LogBuffer, LogLine, StatusKind, sanitize};
pub use stream::{Containers, LogSource, LogStream, Since, StreamOptions, follow};
