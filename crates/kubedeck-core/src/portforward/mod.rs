//! Port-forwarding: a local port on 127.0.0.1 to a container port,
//! through the pods/portforward subresource, for the console and for
//! `kubedeck port-forward`.
//!
//! It changes nothing in the cluster, but it opens a connection into a
//! pod, which RBAC grants as `create` on pods/portforward: so it is
//! refused in read-only mode (as exec is), checked against RBAC before it
//! starts, and audited (who, which target, which ports).

mod forward;
mod target;

use std::time::Duration;

use crate::actions::command::Access;
use crate::actions::{ActionError, AuditResult, Executor, Permission, Rbac};

pub use forward::{Event, Forward, Status, Traffic};
pub use target::{
    Backend, Offer, PortSpec, RemotePort, Target, TargetKind, container_port, offered_ports,
};

/// The audit log's name for the action.
pub const ACTION: &str = "port-forward";

fn access(target: &Target) -> Access {
    Access {
        verb: "create",
        group: "".into(),
        resource: "pods".into(),
        subresource: "portforward",
        namespace: target.namespace.clone(),
        name: String::new(),
    }
}

/// Whether this session may forward to `target`: not in read-only mode,
/// not without an audit log, not without RBAC's `create` on
/// pods/portforward. Every refusal is audited.
pub async fn authorize(executor: &Executor, rbac: &Rbac, target: &Target) -> Result<(), String> {
    let (ns, object) = (target.namespace.as_str(), target.object());
    if let Some(refusal) = executor.refusal() {
        if let Some(problem) = executor.record_readonly_refusal(ns, &object, ACTION).await {
            tracing::warn!("{problem}");
        }
        return Err(match refusal {
            ActionError::ReadOnly { context } => format!(
                "refused: context {context} is read-only, and a port-forward opens a connection into a pod; nothing was started"
            ),
            other => other.to_string(),
        });
    }
    executor.check_audit().await.map_err(|e| e.to_string())?;
    let access = access(target);
    match rbac.can_access(&access).await {
        Permission::Allowed => Ok(()),
        Permission::Denied(reason) => {
            let message = format!("refused: {reason}; nothing was started");
            let result = AuditResult::Denied {
                message: message.clone(),
            };
            let none = (String::new(), String::new());
            if let Some(problem) = executor
                .record_decision(ns, &object, ACTION, none, result, Duration::ZERO)
                .await
            {
                tracing::warn!("{problem}");
            }
            Err(message)
        }
    }
}

/// Records a forward that started: the target, the ports and the pod.
pub async fn audit_started(executor: &Executor, forward: &Forward) -> Option<String> {
    let pod = forward
        .status()
        .backend
        .map(|b| format!(" (pod {}, port {})", b.pod, b.port))
        .unwrap_or_default();
    executor
        .record_decision(
            &forward.target.namespace,
            &forward.target.object(),
            ACTION,
            (String::new(), format!("{}{pod}", forward.describe())),
            AuditResult::Ok,
            Duration::ZERO,
        )
        .await
}

/// The console's forwards, each with an id that stays while it runs.
#[derive(Default)]
pub struct Forwards {
    next: u64,
    items: Vec<(u64, Forward)>,
}

impl Forwards {
    pub fn add(&mut self, forward: Forward) -> u64 {
        self.next += 1;
        self.items.push((self.next, forward));
        self.next
    }

    /// Stops and forgets a forward.
    pub fn stop(&mut self, id: u64) -> Option<Forward> {
        let i = self.items.iter().position(|(i, _)| *i == id)?;
        let (_, f) = self.items.remove(i);
        f.stop();
        Some(f)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &Forward)> {
        self.items.iter().map(|(i, f)| (*i, f))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether a forward already listens on this local port.
    pub fn uses_local_port(&self, port: u16) -> bool {
        self.items.iter().any(|(_, f)| f.local.port() == port)
    }
}
