//! The terminal console.

pub mod config;
pub mod config_file;
pub mod input;
pub mod theme;
