//! The terminal console. The binary starts it with `run::run`; the public
//! modules besides `run` are what the console's own integration tests and
//! benchmarks drive: the cache, `update`, the view model and the widgets.

mod act;
pub mod charts;
pub mod cluster;
mod commands;
mod dialog;
pub mod edit;
mod filter;
mod full_yaml;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod help;
pub mod input;
mod layers;
pub mod logview;
mod oncall;
mod panels;
mod reveal;
mod rollout;
pub mod run;
#[cfg(test)]
mod seed_fixture;
mod shell;
pub mod state;
#[cfg(test)]
mod test_support;
pub mod theme;
pub mod update;
pub mod view_model;
mod views;
pub mod widgets;
mod xray;
