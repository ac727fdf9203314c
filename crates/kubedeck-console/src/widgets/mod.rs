//! Widgets: draw a `ScreenVm` with a `Theme`. They read, never change, and
//! know nothing of the cluster.

pub(crate) mod layout;
mod screen;

pub use screen::draw;
pub(crate) use screen::{styled_lines, titled_block};

#[cfg(test)]
mod generic_snap_tests;
#[cfg(test)]
mod seed_tests;
#[cfg(test)]
mod tests;
