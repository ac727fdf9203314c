//! Headless on-call operations: the pod-kill recovery test (a stopwatch on
//! the watch streams) and database backup CronJobs (freshness, run now and
//! follow). Every change goes through the action core, so read-only mode,
//! RBAC and the audit log apply as they do to manual actions.

pub mod backups;
pub mod recovery;
mod recovery_target;
pub mod report;
pub mod service;
pub mod timeline;
