//! The console's picture of the cluster: one reflector store per kind, fed
//! by kube-runtime watchers. The stores are the only thing network tasks
//! write; they tell the UI loop what changed through coalesced messages.

pub mod cache;
pub mod connect;
pub mod metrics;
pub mod slim_event;
pub mod slim_pod;
pub mod watch;

pub use cache::{Cache, Kind};
pub use slim_event::SlimEvent;
pub use slim_pod::SlimPod;
