//! The runtime's port-forwards: started from `OpsEffect`s after the same
//! checks as the headless command (read-only, RBAC, audit), owned here so
//! they outlive every screen, and reported to `:pf` when their traffic or
//! state changes. Dropping this (the console exits) stops them all.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::OpsMsg;
use super::portforward::ForwardRow;
use super::tasks::{Deps, Reply};
use crate::update::Msg;
use kubedeck_core::actions::Rbac;
use kubedeck_core::portforward::{self, Forward, Forwards, PortSpec, Target};

/// How often `:pf`'s traffic counts are brought up to date.
const REFRESH: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct PfTasks {
    forwards: Arc<Mutex<Forwards>>,
    ticker: Option<JoinHandle<()>>,
}

impl Drop for PfTasks {
    fn drop(&mut self) {
        if let Some(t) = &self.ticker {
            t.abort();
        }
    }
}

fn rows(forwards: &Forwards) -> Vec<ForwardRow> {
    forwards
        .iter()
        .map(|(id, f)| {
            let traffic = f.traffic();
            let status = f.status();
            ForwardRow {
                id,
                target: f.target.object(),
                namespace: f.target.namespace.clone(),
                local: f.local.to_string(),
                remote: f.remote.to_string(),
                pod: status
                    .backend
                    .map_or_else(|| "-".into(), |b| format!("{}:{}", b.pod, b.port)),
                sent: traffic.sent,
                received: traffic.received,
                connections: traffic.connections,
                active: traffic.active,
                problem: status.problem,
            }
        })
        .collect()
}

fn lock(forwards: &Mutex<Forwards>) -> std::sync::MutexGuard<'_, Forwards> {
    forwards.lock().unwrap_or_else(|e| e.into_inner())
}

fn note(send: &Reply, note: Result<String, String>) {
    send(Msg::Ops(OpsMsg::PortForwardNote(note)));
}

impl PfTasks {
    pub(crate) fn inspect(&self, id: u64, target: Target, deps: &Deps, send: Reply) {
        let client = deps.client.clone();
        tokio::spawn(async move {
            let result = portforward::offered_ports(&client, &target).await;
            send(Msg::Ops(OpsMsg::PortForwardPorts { id, result }));
        });
    }

    pub(crate) fn start(&mut self, target: Target, spec: PortSpec, deps: &Deps, send: Reply) {
        self.watch_traffic(send.clone());
        let forwards = self.forwards.clone();
        let deps = deps.clone();
        tokio::spawn(async move {
            let executor = deps.executor();
            let rbac = Rbac::new(deps.client.clone(), Rbac::DEFAULT_TTL);
            if let Err(refusal) = portforward::authorize(&executor, &rbac, &target).await {
                return note(&send, Err(refusal));
            }
            let forward =
                match Forward::start(deps.client.clone(), target.clone(), &spec, None).await {
                    Ok(f) => f,
                    Err(e) => {
                        return note(
                            &send,
                            Err(format!("port-forward to {} failed: {e}", target.object())),
                        );
                    }
                };
            if let Some(problem) = portforward::audit_started(&executor, &forward).await {
                tracing::warn!("{problem}");
            }
            let text = format!(
                "forwarding {} to {} in {} (:pf lists the forwards)",
                forward.describe(),
                target.object(),
                target.namespace
            );
            tracing::info!("{text}");
            let rows = {
                let mut all = lock(&forwards);
                all.add(forward);
                rows(&all)
            };
            send(Msg::Ops(OpsMsg::Forwards(rows)));
            note(&send, Ok(text));
        });
    }

    pub(crate) fn stop(&mut self, id: u64, send: Reply) {
        let (stopped, rows) = {
            let mut all = lock(&self.forwards);
            let stopped = all.stop(id);
            (stopped, rows(&all))
        };
        send(Msg::Ops(OpsMsg::Forwards(rows)));
        if let Some(f) = stopped {
            let text = format!(
                "stopped forwarding {} to {}",
                f.describe(),
                f.target.object()
            );
            tracing::info!("{text}");
            note(&send, Ok(text));
        }
    }

    /// Sends the rows whenever they change, checked every `REFRESH`, for as
    /// long as the forwards exist.
    fn watch_traffic(&mut self, send: Reply) {
        if self.ticker.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let forwards: Weak<Mutex<Forwards>> = Arc::downgrade(&self.forwards);
        self.ticker = Some(tokio::spawn(async move {
            let mut last = Vec::new();
            let mut tick = tokio::time::interval(REFRESH);
            loop {
                tick.tick().await;
                let Some(all) = forwards.upgrade() else {
                    return;
                };
                let now = rows(&lock(&all));
                if now != last {
                    send(Msg::Ops(OpsMsg::Forwards(now.clone())));
                    last = now;
                }
            }
        }));
    }
}
