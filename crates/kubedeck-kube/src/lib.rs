//! The Kubernetes vocabulary kubedeck's simulator and console share, with no
//! I/O: label selectors, names and their validation, resource quantities,
//! ages and durations as people read and type them, and cron schedules.

pub mod age;
pub mod cron;
pub mod duration;
pub mod names;
pub mod quantity;
pub mod selector;
