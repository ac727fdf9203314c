//! Keys to actions: the only way input reaches the console's state.

pub mod action;
pub mod key;
pub mod keymap;
