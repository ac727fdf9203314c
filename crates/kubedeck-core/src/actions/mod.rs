//! The action core: commands as data, confirmations that carry them, an
//! executor that enforces read-only mode and audits every attempt, and RBAC
//! checks to offer only what the user may do. The console calls this; it
//! never talks to the API for a change by itself.

pub mod audit;
pub mod command;
pub mod delete;
pub mod drain;
pub mod edit;
pub mod error;
pub mod executor;
pub mod plan;
pub mod rbac;
mod readback;
mod replace;

pub use audit::{AuditLog, AuditResult, Record};
pub use command::{
    Access, AnnotatableKind, Command, ObjectRef, Propagation, ResourceRef, WorkloadKind,
    WorkloadRef,
};
pub use drain::{DrainEvent, DrainOptions, DrainOutcome, DrainReport, DrainUpdate};
pub use error::ActionError;
pub use executor::{Applied, Executor, kubeconfig_user};
pub use plan::{ConfirmError, Confirmation, Confirmed, Snapshot, plan};
pub use rbac::{Permission, Rbac};
pub use readback::ReadBackPolicy;
