//! Widgets: draw a `ScreenVm` with a `Theme`. They read, never change, and
//! know nothing of the cluster.

mod screen;

pub use screen::draw;
pub(crate) use screen::{styled_lines, titled_block};

#[cfg(test)]
mod tests;
