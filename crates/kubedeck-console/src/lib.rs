//! The terminal console.

pub mod act;
pub mod charts;
pub mod cluster;
pub mod commands;
pub mod dialog;
pub mod filter;
pub mod full_yaml;
pub mod input;
pub mod logview;
pub mod oncall;
pub mod panels;
pub mod rollout;
pub mod run;
pub mod state;
#[cfg(test)]
pub mod test_support;
pub mod theme;
pub mod update;
pub mod view_model;
pub mod views;
pub mod widgets;
