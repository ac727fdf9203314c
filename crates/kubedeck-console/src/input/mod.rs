//! Keys to actions: the only way input reaches the console's state.

pub(crate) mod action;
pub(crate) mod key;
pub mod keymap;
